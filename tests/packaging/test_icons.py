"""The icons: committed PNGs match their SVGs, the tray glyph contrasts with its panel, the state dot reads at
16 px, and the tray picks the variant for the panel's shade."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Any

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before pytest-qt makes the QApplication (as tests/ui/conftest.py)

import pytest
from PySide6.QtGui import QColor, QImage

from tracker import resources
from tracker.ui import icons
from tracker.ui.pyside_fix import pin_singletons

pin_singletons()  # PySide6 6.12 on Python 3.11 (see tracker/ui/pyside_fix.py)

REPO = Path(__file__).resolve().parents[2]
LIGHT_PANEL, DARK_PANEL = QColor("#f0f0f0"), QColor("#202020")


def _render_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_icons", REPO / "packaging" / "icons" / "render_icons.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_pngs_match_their_svgs(qapp: Any) -> None:
    """Change an SVG, then run `uv run python packaging/icons/render_icons.py` and commit the PNGs too."""
    script = _render_script()
    assert len(list(script.targets())) == 8 + 2 * 6
    assert script.stale() == []


def test_a_changed_svg_is_caught(qapp: Any, tmp_path: Path) -> None:
    script = _render_script()
    svg = resources.resource_path(*resources.svg_parts(resources.app_icon_name()))
    changed = tmp_path / "changed.svg"
    changed.write_text(svg.read_text(encoding="utf-8").replace("#f2f4f7", "#ff0000").replace("#ffffff", "#ff0000"),
                       encoding="utf-8")
    png = QImage(str(resources.resource_path(*resources.png_parts(resources.app_icon_name(), 64))))
    assert script.max_difference(script.render(svg, 64), png) <= script.TOLERANCE
    assert script.max_difference(script.render(changed, 64), png) > 100


def test_pngs_have_the_size_their_folder_says(qapp: Any) -> None:
    for _svg, png, size in _render_script().targets():
        image = QImage(str(png))
        assert (image.width(), image.height()) == (size, size), png
        assert image.hasAlphaChannel(), png


def _mean_opaque(image: QImage) -> tuple[float, float]:
    """Mean lightness of the glyph's opaque pixels, and the share of the image they cover."""
    values = [image.pixelColor(x, y) for y in range(image.height()) for x in range(image.width())]
    opaque = [c.lightnessF() for c in values if c.alphaF() > 0.9]
    return sum(opaque) / len(opaque), len(opaque) / len(values)


@pytest.mark.parametrize("size", resources.TRAY_ICON_SIZES)
def test_tray_glyphs_contrast_with_their_panel(qapp: Any, size: int) -> None:
    on_light = QImage(str(resources.resource_path(*resources.png_parts(resources.tray_icon_name("on-light"), size))))
    on_dark = QImage(str(resources.resource_path(*resources.png_parts(resources.tray_icon_name("on-dark"), size))))
    dark_glyph, cover = _mean_opaque(on_light)
    light_glyph, _ = _mean_opaque(on_dark)
    assert LIGHT_PANEL.lightnessF() - dark_glyph > 0.6
    assert light_glyph - DARK_PANEL.lightnessF() > 0.6
    assert 0.2 < cover < 0.75  # a glyph with room around its bars, neither a speck nor a block


def _pixel(icon: Any, size: int, x: float, y: float) -> QColor:
    image = icon.pixmap(size, size).toImage()
    assert image.width() == size
    return image.pixelColor(int(x * size), int(y * size))


@pytest.mark.parametrize("kind", ["app", "on-light", "on-dark"])
def test_the_state_dot_shows_at_16_px(qapp: Any, kind: str) -> None:
    for state, colour in icons.STATE_COLOURS.items():
        centre = _pixel(icons._icon(kind, state), 16, 0.78, 0.78)
        if colour is None:
            assert centre.name() != QColor("#2f80ed").name()
            continue
        assert abs(centre.red() - QColor(colour).red()) < 40, (kind, state, centre.name())
        assert abs(centre.blue() - QColor(colour).blue()) < 40, (kind, state, centre.name())


@pytest.mark.parametrize("kind", ["on-light", "on-dark"])
def test_the_error_dot_alone_has_a_ring(qapp: Any, kind: str) -> None:
    glyph = QColor(icons._GLYPH[kind])
    ring = _pixel(icons._icon(kind, "error"), 64, 0.505, 0.75)  # the dot's left edge, inside the cut-out gap
    plain = _pixel(icons._icon(kind, "over_budget"), 64, 0.505, 0.75)
    assert ring.alphaF() > 0.9 and abs(ring.lightnessF() - glyph.lightnessF()) < 0.1
    assert plain.name() == QColor(icons.STATE_COLOURS["over_budget"]).name()


def test_app_icon_keeps_its_signature_and_is_cached(qapp: Any) -> None:
    assert icons.app_icon() is icons.app_icon("idle")
    sizes = {s.width() for s in icons.app_icon("syncing").availableSizes()}
    assert sizes == set(resources.APP_ICON_SIZES)
    assert not icons.app_icon().pixmap(256, 256).isNull()
    with pytest.raises(ValueError, match="unknown icon state"):
        icons.app_icon("sleepy")


def test_tray_kind_follows_platform_desktop_and_scheme(qapp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert icons.tray_kind("win32", {}) == "app"
    assert icons.tray_kind("darwin", {}) == "app"
    assert icons.tray_kind("linux", {"XDG_CURRENT_DESKTOP": "ubuntu:GNOME"}) == "on-dark"
    monkeypatch.setattr(icons, "dark_scheme", lambda: True)
    assert icons.tray_kind("linux", {"XDG_CURRENT_DESKTOP": "KDE"}) == "on-dark"
    monkeypatch.setattr(icons, "dark_scheme", lambda: False)
    assert icons.tray_kind("linux", {"XDG_CURRENT_DESKTOP": "KDE"}) == "on-light"
    assert icons.tray_icon("paused", "on-light") is icons._icon("on-light", "paused")


def test_an_unknown_panel_shade_gets_the_coloured_tile(qapp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(icons, "dark_scheme", lambda: None)  # e.g. Xfce, or Xvfb with trayer: the shade is unknown
    assert icons.tray_kind("linux", {"XDG_CURRENT_DESKTOP": "XFCE"}) == "app"
    assert icons.tray_kind("linux", {}) == "app"
