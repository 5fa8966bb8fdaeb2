"""The overview's chart: spend per day as stacked bars (one colour per source or provider), cumulative lines on a
second axis, dates along the bottom, and the day's figures next to the mouse.

Bars are placed at each local date's midnight *as if it were UTC* and the date axis runs in UTC, so the axis
shows the dashboard zone's dates whatever the machine's own zone. Dollars become floats only here, to draw;
the figures in the hover text are formatted from the exact integers.
"""

from __future__ import annotations

from datetime import date

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QVBoxLayout, QWidget

from tracker.analytics.dashboard import SpendSeries
from tracker.ui.widgets.format import usd

_DAY_S = 86_400
_EPOCH = date(1970, 1, 1)
# Estimated parts in warm/green tones, reported (billed) parts in blues/purples: the two kinds read apart.
COLOURS = {
    ("estimated", "claude_code"): "#d97757",
    ("estimated", "codex"): "#10a37f",
    ("reported", "openai"): "#3b6fd4",
    ("reported", "anthropic"): "#8e5bd6",
    ("reported", "openrouter"): "#2a9bb5",
    ("reported", "deepseek"): "#4d6bfe",
    ("reported", "moonshot"): "#6c7a89",
}
_FALLBACK = ("#c2185b", "#7cb342", "#f9a825", "#5d4037")
_CUMULATIVE = {"estimated": "#6d4c41", "reported": "#1a3e8a"}
_AXIS = "#444444"


def day_x(d: date) -> float:
    """The x of a local date: its midnight as a UTC timestamp in seconds (see the module docstring)."""
    return float((d - _EPOCH).days * _DAY_S)


class DollarAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph ships no type hints
    """Tick labels in dollars: "$0", "$2.50", "$1,200"."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        cents = spacing * scale < 1
        return [f"${v * scale:,.2f}" if cents else f"${v * scale:,.0f}" for v in values]


class SpendChart(QWidget):
    """Stacked daily spend with cumulative lines; ``set_series`` replaces what is drawn."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("spend_chart")
        self.series: SpendSeries | None = None
        self.plot = pg.PlotWidget(background="w", axisItems={
            "bottom": pg.DateAxisItem(utcOffset=0), "left": DollarAxis("left"), "right": DollarAxis("right")})
        self.plot.setObjectName("spend_plot")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.showGrid(x=False, y=True, alpha=0.08)
        item = self.plot.getPlotItem()
        item.setLabel("left", "Spend per day (USD)")
        item.showAxis("right")
        item.setLabel("right", "Cumulative (USD)")
        for name in ("left", "bottom", "right"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(_AXIS))
            axis.setTextPen(pg.mkPen(_AXIS))
        self.legend = item.addLegend(offset=(8, 8), labelTextColor=_AXIS, brush=pg.mkBrush(255, 255, 255, 210))
        self._cum_view = pg.ViewBox()
        item.scene().addItem(self._cum_view)
        item.getAxis("right").linkToView(self._cum_view)
        self._cum_view.setXLink(item.vb)
        item.vb.sigResized.connect(self._sync_views)
        self._bars: list[pg.BarGraphItem] = []
        self._lines: list[pg.PlotDataItem] = []
        self.hover = pg.TextItem(color="#222222", fill=pg.mkBrush(255, 255, 255, 235), border=pg.mkPen("#999999"),
                                 anchor=(0, 1))
        self.hover.setZValue(100)
        self.hover.hide()
        item.addItem(self.hover, ignoreBounds=True)
        self.empty_text = pg.TextItem("No spend in this range", color="#777777", anchor=(0.5, 0.5))
        font = QFont()
        font.setPointSize(12)
        self.empty_text.setFont(font)
        item.addItem(self.empty_text, ignoreBounds=True)
        self.empty_text.hide()
        self._mouse = pg.SignalProxy(item.scene().sigMouseMoved, rateLimit=60, slot=self._on_mouse_moved)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

    def _sync_views(self) -> None:
        self._cum_view.setGeometry(self.plot.getPlotItem().vb.sceneBoundingRect())
        self._cum_view.linkedViewChanged(self.plot.getPlotItem().vb, self._cum_view.XAxis)

    # -- data ----------------------------------------------------------------------------------------------------

    def set_series(self, series: SpendSeries) -> None:
        """Draw ``series`` (the previous drawing stays until this is called, so a range switch never blanks)."""
        self.series = series
        item = self.plot.getPlotItem()
        for bar in self._bars:
            item.removeItem(bar)
        for line in self._lines:
            self._cum_view.removeItem(line)
        self._bars, self._lines = [], []
        self.legend.clear()
        self.hover.hide()
        xs = [day_x(d) + _DAY_S / 2 for d in series.days]
        bottom = [0.0] * len(xs)
        for k, part in enumerate(series.parts):
            heights = [v / 1e12 for v in part.values]
            colour = COLOURS.get((part.kind, part.name), _FALLBACK[k % len(_FALLBACK)])
            bar = pg.BarGraphItem(x=xs, height=heights, y0=list(bottom), width=_DAY_S * 0.78,
                                  brush=pg.mkBrush(colour), pen=pg.mkPen(QColor(colour).darker(115)))
            item.addItem(bar)
            self.legend.addItem(bar, part.label)
            self._bars.append(bar)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        self._add_cumulative(series, xs)
        self._set_ranges(series, bottom)

    def _add_cumulative(self, series: SpendSeries, xs: list[float]) -> None:
        for kind in ("estimated", "reported"):
            if not any(p.kind == kind for p in series.parts):
                continue
            ys = [v / 1e12 for v in series.cumulative(kind)]
            line = pg.PlotDataItem(xs, ys, pen=pg.mkPen(_CUMULATIVE[kind], width=2, style=Qt.PenStyle.DashLine),
                                   name=f"Cumulative {kind}")
            self._cum_view.addItem(line)
            self.legend.addItem(line, f"Cumulative {kind} (right axis)")
            self._lines.append(line)

    def _set_ranges(self, series: SpendSeries, tops: list[float]) -> None:
        item = self.plot.getPlotItem()
        lo, hi = day_x(series.first), day_x(series.last) + _DAY_S
        pad = (hi - lo) * 0.01
        item.vb.setXRange(lo - pad, hi + pad, padding=0)
        top = max(tops, default=0.0)
        item.vb.setYRange(0, top * 1.15 if top > 0 else 1.0, padding=0)
        cum_top = max((max((v / 1e12 for v in series.cumulative(k)), default=0.0) for k in ("estimated", "reported")),
                      default=0.0)
        self._cum_view.setYRange(0, cum_top * 1.1 if cum_top > 0 else 1.0, padding=0)
        self.empty_text.setVisible(series.empty)
        self.empty_text.setPos((lo + hi) / 2, (top * 1.15 if top > 0 else 1.0) / 2)
        self._sync_views()

    # -- hover ---------------------------------------------------------------------------------------------------

    def day_index_at(self, x: float) -> int | None:
        if self.series is None or not self.series.days:
            return None
        k = int((x - day_x(self.series.first)) // _DAY_S)
        return k if 0 <= k < len(self.series.days) else None

    def hover_text(self, k: int) -> str:
        """The figures of day ``k``: the date, each part, the totals of each kind, unpriced records."""
        s = self.series
        assert s is not None
        lines = [s.days[k].strftime("%a %d %b %Y")]
        lines += [f"{p.label}: {usd(p.values[k])}" for p in s.parts if p.values[k]]
        kinds = [kind for kind in ("estimated", "reported") if any(p.kind == kind for p in s.parts)]
        for kind in kinds:
            lines.append(f"Total {kind}: {usd(s.total(kind, k))}")
        if len(kinds) == 2:
            both = s.total("estimated", k) + s.total("reported", k)
            lines.append(f"Total (estimated + reported): {usd(both)}")
        if s.unpriced_records[k]:
            n = s.unpriced_records[k]
            lines.append(f"Unpriced: {n} record{'s' if n != 1 else ''}")
        if len(lines) == 1:
            lines.append("No spend")
        return "\n".join(lines)

    def show_hover_at(self, x: float, y: float) -> bool:
        """Show the figures of the day under view point (x, y); False (hidden) when outside the days."""
        k = self.day_index_at(x)
        if k is None:
            self.hover.hide()
            return False
        self.hover.setText(self.hover_text(k))
        vb = self.plot.getPlotItem().vb
        (x_lo, x_hi), _ = vb.viewRange()
        # Keep the box inside the plot: anchor it to the left of the mouse on the right half.
        self.hover.setAnchor((1, 1) if x > (x_lo + x_hi) / 2 else (0, 1))
        self.hover.setPos(x, y)
        self.hover.show()
        return True

    def _on_mouse_moved(self, event: tuple[QPointF]) -> None:
        pos = event[0]
        vb = self.plot.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(pos):
            self.hover.hide()
            return
        point = vb.mapSceneToView(pos)
        self.show_hover_at(point.x(), point.y())
