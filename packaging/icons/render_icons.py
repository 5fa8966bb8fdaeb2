"""Render the PNG icons in resources/icons/png/ from their SVGs (run after changing an SVG, then commit both).

    uv run python packaging/icons/render_icons.py [--check]

The PNGs are committed (the hicolor theme, the bundle builders and trays that take pixmaps need raster files,
and building them must not need Qt); tests/packaging/test_icons.py renders again and fails when a PNG no longer
matches its SVG. ``--check`` does the same comparison here and writes nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tracker.resources import (  # noqa: E402 (after the path set-up above)
    APP_ICON_SIZES,
    TRAY_ICON_SIZES,
    TRAY_VARIANTS,
    app_icon_name,
    png_parts,
    svg_parts,
    tray_icon_name,
)

RESOURCES = REPO / "resources"
# Channels may differ by this much between a committed PNG and a fresh render (antialiasing rounding on another
# CPU or Qt patch release); a changed SVG moves far more than this.
TOLERANCE = 3


def targets() -> Iterator[tuple[Path, Path, int]]:
    """(svg, png, size) for every PNG that ships."""
    jobs = [(app_icon_name(), APP_ICON_SIZES)] + [(tray_icon_name(v), TRAY_ICON_SIZES) for v in TRAY_VARIANTS]
    for name, sizes in jobs:
        for size in sizes:
            yield RESOURCES.joinpath(*svg_parts(name)), RESOURCES.joinpath(*png_parts(name, size)), size


def render(svg: Path, size: int) -> QImage:
    """The SVG drawn into a transparent ``size`` x ``size`` image (straight alpha, as PNG stores it)."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
    finally:
        painter.end()
    return image.convertToFormat(QImage.Format.Format_ARGB32)


def max_difference(a: QImage, b: QImage) -> int:
    """The largest difference of any channel of any pixel (a size mismatch counts as 255)."""
    if a.size() != b.size():
        return 255
    a = a.convertToFormat(QImage.Format.Format_ARGB32)
    b = b.convertToFormat(QImage.Format.Format_ARGB32)
    # ARGB32 rows have no padding (4 bytes a pixel), so the raw bytes compare channel by channel
    return max(map(_distance, bytes(a.constBits()), bytes(b.constBits())), default=0)


def _distance(x: int, y: int) -> int:
    return abs(x - y)


def stale() -> list[str]:
    """PNGs that are missing or differ from a fresh render of their SVG, as lines for people."""
    problems = []
    for svg, png, size in targets():
        if not png.exists():
            problems.append(f"{png.relative_to(REPO)} is missing")
            continue
        diff = max_difference(render(svg, size), QImage(str(png)))
        if diff > TOLERANCE:
            problems.append(f"{png.relative_to(REPO)} differs from {svg.name} (by up to {diff}/255)")
    return problems


def write_all() -> int:
    count = 0
    for svg, png, size in targets():
        png.parent.mkdir(parents=True, exist_ok=True)
        if not render(svg, size).save(str(png), "PNG"):
            raise OSError(f"could not write {png}")
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when a PNG is stale")
    args = parser.parse_args(argv)
    _app = QGuiApplication.instance() or QGuiApplication([])  # QPainter on QImage needs fonts/platform set up
    if args.check:
        problems = stale()
        for line in problems:
            print(line)
        print("icons are up to date" if not problems else "run: uv run python packaging/icons/render_icons.py")
        return 1 if problems else 0
    print(f"rendered {write_all()} PNGs into {RESOURCES / 'icons' / 'png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
