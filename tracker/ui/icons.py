"""The tray and window icons, from the PNGs in resources/icons (found through :mod:`tracker.resources`).

The window icon is the app icon: a rounded dark tile with three rising bars (spend over time). The tray shows the
bars alone as a one-colour glyph, dark on light panels and light on dark ones, like the other status icons. A
dot in the lower right corner shows the app's state, so the state reads at 16 px without relying on the symbol
alone. Icons are built once per (kind, state) and cached: the tray asks again at every state change.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPixmap

from tracker import resources

# State -> dot colour (None: no dot). Colours chosen to stay distinct for red-green colour blindness too:
# error is red *and* the only state with a ring.
STATE_COLOURS: dict[str, str | None] = {
    "idle": None,
    "syncing": "#2f80ed",
    "error": "#d92d20",
    "over_budget": "#f79009",
    "paused": "#98a2b3",
}
_TILE = "#1d2939"
_ERROR_RING_ON_TILE = "#ffffff"
# The error ring on the tray glyph takes the glyph's own colour: it contrasts with the panel either way.
_GLYPH = {"on-light": "#1d2939", "on-dark": "#f2f4f7"}
APP = "app"  # the kind of icon for the full-colour app icon; the tray kinds are resources.TRAY_VARIANTS


def app_icon(state: str = "idle") -> QIcon:
    """The app icon (window, dialogs) with the dot for ``state``: 'idle', 'syncing', 'error', 'over_budget',
    'paused'. The sizes go up to 256 px so window switchers and docks have a sharp one."""
    return _icon(APP, state)


def tray_icon(state: str = "idle", kind: str | None = None) -> QIcon:
    """The tray icon for ``state``; ``kind`` is 'on-light', 'on-dark' or 'app' (default: :func:`tray_kind`)."""
    return _icon(tray_kind() if kind is None else kind, state)


def tray_kind(platform: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Which icon suits the tray here: the one-colour glyph for the panel's shade where that shade is known; the
    full-colour tile everywhere else (Windows, macOS, and desktops that do not say), since the tile shows on any
    background while a glyph of the wrong shade disappears."""
    platform = sys.platform if platform is None else platform
    env = os.environ if env is None else env
    if platform in ("win32", "darwin"):
        return APP
    if "GNOME" in env.get("XDG_CURRENT_DESKTOP", "").upper().split(":"):
        return "on-dark"  # GNOME Shell's top bar is dark in the light style too
    dark = dark_scheme()
    if dark is None:
        return APP
    return "on-dark" if dark else "on-light"


def dark_scheme() -> bool | None:
    """Is the desktop dark? Qt's colour scheme when the platform reports one; None when it does not. The
    application palette is no guide: a light window theme often sits beside a dark panel (Xfce, Cinnamon, trayer)."""
    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return None


@functools.cache
def _icon(kind: str, state: str) -> QIcon:
    if state not in STATE_COLOURS:
        raise ValueError(f"unknown icon state {state!r}; expected one of {', '.join(STATE_COLOURS)}")
    icon = QIcon()
    for size in resources.APP_ICON_SIZES if kind == APP else resources.TRAY_ICON_SIZES:
        if STATE_COLOURS[state] is None:
            icon.addFile(str(_png(kind, size)), QSize(size, size))  # read when first drawn at that size
        else:
            icon.addPixmap(_with_dot(_image(kind, size), kind, state))
    return icon


def _png(kind: str, size: int) -> Path:
    name = resources.app_icon_name() if kind == APP else resources.tray_icon_name(kind)
    return resources.resource_path(*resources.png_parts(name, size))


@functools.cache
def _image(kind: str, size: int) -> QImage:
    path = _png(kind, size)
    image = QImage(str(path))
    if image.isNull():
        raise FileNotFoundError(f"Token Ledger's icon {path} could not be read; reinstall the app.")
    return image


def _with_dot(image: QImage, kind: str, state: str) -> QPixmap:
    pm = QPixmap.fromImage(image)
    colour = STATE_COLOURS[state]
    if colour is None:
        return pm
    p = QPainter(pm)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        if kind == APP:
            _dot_on_tile(p, float(pm.width()), state, colour)
        else:
            _dot_on_glyph(p, float(pm.width()), state, colour, _GLYPH[kind])
    finally:
        p.end()
    return pm


def _dot_on_tile(p: QPainter, s: float, state: str, colour: str) -> None:
    d = s * 0.46
    ring = max(1.0, s * 0.07)
    p.setBrush(QColor(_ERROR_RING_ON_TILE if state == "error" else _TILE))
    p.drawEllipse(QRectF(s - d, s - d, d, d))
    p.setBrush(QColor(colour))
    p.drawEllipse(QRectF(s - d + ring, s - d + ring, d - 2 * ring, d - 2 * ring))


def _dot_on_glyph(p: QPainter, s: float, state: str, colour: str, glyph: str) -> None:
    d = s * 0.5
    gap = max(1.0, s * 0.07)
    # Cut the bars away around the dot: a transparent gap keeps them apart whatever the panel's colour.
    p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
    p.setBrush(QColor("black"))
    p.drawEllipse(QRectF(s - d - gap, s - d - gap, d + 2 * gap, d + 2 * gap))
    p.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
    if state == "error":
        p.setBrush(QColor(glyph))
        p.drawEllipse(QRectF(s - d, s - d, d, d))
        d, inset = d - 2 * gap, gap
    else:
        inset = 0.0
    p.setBrush(QColor(colour))
    p.drawEllipse(QRectF(s - d - inset, s - d - inset, d, d))
