"""The tray and window icons, drawn with QPainter: no image files to find in a wheel or a bundle.

The symbol is a rounded tile with three rising bars (spend over time); a dot in the lower right corner shows the
app's state, so the state reads at 16 px without relying on the symbol alone.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

# State -> dot colour (None: no dot). Colours chosen to stay distinct for red-green colour blindness too:
# error is red *and* the only state with a white ring.
STATE_COLOURS: dict[str, str | None] = {
    "idle": None,
    "syncing": "#2f80ed",
    "error": "#d92d20",
    "over_budget": "#f79009",
    "paused": "#98a2b3",
}
_TILE = "#1d2939"
_BARS = "#f2f4f7"
_SIZES = (16, 22, 24, 32, 48, 64)


def _draw(size: int, state: str) -> QPixmap:
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = float(size)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(_TILE))
        p.drawRoundedRect(QRectF(0, 0, s, s), s * 0.2, s * 0.2)
        p.setBrush(QColor(_BARS))
        bar_w = s * 0.16
        for i, height in enumerate((0.3, 0.5, 0.7)):
            x = s * 0.17 + i * s * 0.23
            p.drawRect(QRectF(x, s * 0.85 - s * height, bar_w, s * height))
        _draw_dot(p, s, state)
    finally:
        p.end()
    return pm


def _draw_dot(p: QPainter, s: float, state: str) -> None:
    colour = STATE_COLOURS.get(state)
    if colour is None:
        return
    d = s * 0.46
    ring = max(1.0, s * 0.07)
    p.setBrush(QColor("#ffffff" if state == "error" else _TILE))
    p.drawEllipse(QRectF(s - d, s - d, d, d))
    p.setBrush(QColor(colour))
    p.drawEllipse(QRectF(s - d + ring, s - d + ring, d - 2 * ring, d - 2 * ring))


def app_icon(state: str = "idle") -> QIcon:
    """The icon for ``state`` ('idle', 'syncing', 'error', 'over_budget', 'paused') at the usual tray sizes."""
    icon = QIcon()
    for size in _SIZES:
        icon.addPixmap(_draw(size, state))
    return icon
