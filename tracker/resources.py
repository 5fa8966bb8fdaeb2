"""Where the app's bundled files (icons, the desktop entry, AppStream metadata) are found.

One helper for the three ways the app runs, tried in this order:

* a PyInstaller bundle (``sys.frozen`` and ``sys._MEIPASS``): ``<_MEIPASS>/tracker/_resources``;
* an installed wheel: ``<tracker package>/_resources`` (pyproject force-includes ``resources/`` there);
* a source checkout: ``<repo>/resources``.

Qt-free and cheap to import (only ``os``, ``sys`` and ``pathlib``): the CLI and the app both use it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tracker.paths import APP_ID

_PACKAGE_DIR = Path(__file__).resolve().parent

# PNG sizes rendered from the SVGs by packaging/icons/render_icons.py (the hicolor sizes desktops ask for, and the
# sizes trays draw at: 16-24 px panels, 32-64 px on high-DPI screens).
APP_ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)
TRAY_ICON_SIZES = (16, 22, 24, 32, 48, 64)
# The tray glyph in two colours: dark bars for a light panel ("on-light"), light bars for a dark one ("on-dark").
TRAY_VARIANTS = ("on-light", "on-dark")


def app_icon_name() -> str:
    return APP_ID


def tray_icon_name(variant: str) -> str:
    """``{APP_ID}-tray-on-light`` or ``{APP_ID}-tray-on-dark``."""
    if variant not in TRAY_VARIANTS:
        raise ValueError(f"unknown tray icon variant {variant!r}; expected one of {TRAY_VARIANTS}")
    return f"{APP_ID}-tray-{variant}"


def svg_parts(name: str) -> tuple[str, str]:
    """Where the SVG of icon ``name`` lives, relative to the resources folder."""
    return ("icons", f"{name}.svg")


def png_parts(name: str, size: int) -> tuple[str, str, str, str]:
    """Where the ``size`` px PNG of icon ``name`` lives, relative to the resources folder."""
    return ("icons", "png", f"{size}x{size}", f"{name}.png")


def candidate_roots() -> list[Path]:
    """The folders that may hold the resources, most specific first."""
    roots: list[Path] = []
    meipass = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and meipass:
        roots.append(Path(meipass) / "tracker" / "_resources")
    roots.append(_PACKAGE_DIR / "_resources")
    roots.append(_PACKAGE_DIR.parent / "resources")
    return roots


def resources_root() -> Path:
    """The first folder of :func:`candidate_roots` that exists; FileNotFoundError names every place tried."""
    roots = candidate_roots()
    for root in roots:
        if root.is_dir():
            return root
    tried = ", ".join(os.fspath(r) for r in roots)
    raise FileNotFoundError(f"Token Ledger's resources folder was not found (looked in: {tried}); reinstall the app.")


def resource_path(*parts: str) -> Path:
    """A file under the resources folder, e.g. ``resource_path("icons", "x.svg")``; it must exist."""
    root = resources_root()
    path = root.joinpath(*parts)
    if not path.exists():
        missing = '/'.join(parts)
        raise FileNotFoundError(f"Token Ledger's resource {missing} was not found in {root}; reinstall the app.")
    return path
