"""The overview's chart: spend per day as two bars side by side, the left stacked by source (estimated, from
local logs) and the right stacked by provider (reported, what providers billed), cumulative lines on a second
axis, dates along the bottom, a legend above the plot and the day's figures next to the mouse.

The two kinds get two bars, never one: they can describe the same requests (Claude Code on an API key also shows
on the Anthropic bill), so one bar of estimated + reported would count money twice.

Bars are placed at each local date's midnight *as if it were UTC* and the date axis runs in UTC, so the axis
shows the dashboard zone's dates whatever the machine's own zone. Dollars become floats only here, to draw;
the figures in the hover text are formatted from the exact integers.

Outcomes, once logged, are small markers above the bars on their local day (labelled with a short title while
few are in range); the hover of a day lists its outcomes with their value. The Outcomes page's
charts are in :mod:`tracker.ui.widgets.value_charts`, the shared axes in :mod:`tracker.ui.widgets.axes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from tracker.analytics.dashboard import (
    SOURCE_LABELS,
    OutcomeMarker,
    SpendPart,
    SpendSeries,
)
from tracker.analytics.reported import PROVIDER_LABELS
from tracker.ui.widgets.axes import AXIS_COLOUR, DAY_S, DayAxis, DollarAxis, day_x, x_date
from tracker.ui.widgets.format import usd

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
KINDS = ("estimated", "reported")
BAR_WIDTH = 0.4  # of a day, each bar when a day has two; one kind alone gets one wider bar
_SINGLE_WIDTH = 0.78
SIDE = {"estimated": "left", "reported": "right"}
_MARKER = QColor("#2e7d32")  # outcomes: green, apart from every spend colour
_MAX_MARKER_LABELS = 10


def short_title(title: str, limit: int = 18) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def marker_text(m: OutcomeMarker) -> str:
    """"Shipped CSV export — $250.00 value, kept" (hours saved as hours: their dollar value needs the rate)."""
    worth = [usd(m.value_pusd) + " value"] if m.value_pusd is not None else []
    if m.hours_saved:
        worth.append(f"{m.hours_saved} h saved")
    tail = ", ".join([*worth, m.status])
    return f"{m.title} — {tail}"


@dataclass(frozen=True)
class LegendEntry:
    kind: str
    text: str
    colour: str
    line: bool = False  # a dashed cumulative line rather than a bar


def legend_entries(series: SpendSeries) -> list[LegendEntry]:
    """What the legend row names, per kind: its parts, then its cumulative line."""
    out = []
    for kind in KINDS:
        parts = [p for p in series.parts if p.kind == kind]
        for k, p in enumerate(parts):
            out.append(LegendEntry(kind, _name(p), _colour(p, k)))
        if parts:
            out.append(LegendEntry(kind, "cumulative", _CUMULATIVE[kind], line=True))
    return out


def _name(part: SpendPart) -> str:
    """A part's name without its kind ("Claude Code", "OpenAI"): it is shown under its kind."""
    return (SOURCE_LABELS if part.kind == "estimated" else PROVIDER_LABELS).get(part.name, part.name)


def _colour(part: SpendPart, k: int) -> str:
    return COLOURS.get((part.kind, part.name), _FALLBACK[k % len(_FALLBACK)])


class ChartLegend(QWidget):
    """The legend, as rows above the plot (never over the bars): one row per kind, saying which bar it is."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chart_legend")
        # Never wider than the chart: with many providers in a narrow window the row is cut, not the window.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(4, 0, 4, 0)
        self._layout.setSpacing(2)
        self.rows: list[QWidget] = []

    def set_entries(self, entries: list[LegendEntry], both: bool) -> None:
        for row in self.rows:
            row.deleteLater()
        self.rows = []
        for kind in KINDS:
            mine = [e for e in entries if e.kind == kind]
            if not mine:
                continue
            row = QWidget(self)
            row.setObjectName(f"legend_{kind}")
            layout = QHBoxLayout(row)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.setSpacing(6)
            head = f"{kind.capitalize()} ({SIDE[kind]} bar):" if both else f"{kind.capitalize()}:"
            title = QLabel(head, row)
            title.setStyleSheet("color: #333333; font-weight: bold;")
            layout.addWidget(title)
            for e in mine:
                layout.addWidget(_swatch(e, row))
                text = QLabel(e.text, row)
                text.setStyleSheet("color: #333333;")
                layout.addWidget(text)
                layout.addSpacing(6)
            layout.addStretch(1)
            self._layout.addWidget(row)
            self.rows.append(row)

    def texts(self) -> list[str]:
        """Every label of the legend, in order (for tests)."""
        return [w.text() for row in self.rows for w in row.findChildren(QLabel) if w.text()]


def _swatch(e: LegendEntry, parent: QWidget) -> QLabel:
    """A small picture of a bar (a filled square) or of a cumulative line (a dashed stroke)."""
    box = QLabel(parent)
    pixmap = QPixmap(22 if e.line else 12, 12)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    colour = QColor(e.colour)
    if e.line:
        painter.setPen(QPen(colour, 2, Qt.PenStyle.DashLine))
        painter.drawLine(0, 6, 22, 6)
    else:
        painter.setPen(QPen(colour.darker(115), 1))
        painter.setBrush(colour)
        painter.drawRect(0, 0, 11, 11)
    painter.end()
    box.setPixmap(pixmap)
    box.setFixedSize(pixmap.size())
    return box


class SpendChart(QWidget):
    """Daily spend, estimated and reported as two stacked bars per day, with cumulative lines; ``set_series``
    replaces what is drawn."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("spend_chart")
        self.series: SpendSeries | None = None
        self.legend = ChartLegend(self)
        self.plot = pg.PlotWidget(background="w", axisItems={
            "bottom": DayAxis(), "left": DollarAxis("left"), "right": DollarAxis("right")})
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
            axis.setPen(pg.mkPen(AXIS_COLOUR))
            axis.setTextPen(pg.mkPen(AXIS_COLOUR))
        self._cum_view = pg.ViewBox()
        item.scene().addItem(self._cum_view)
        item.getAxis("right").linkToView(self._cum_view)
        self._cum_view.setXLink(item.vb)
        item.vb.sigResized.connect(self._sync_views)
        self._bars: list[pg.BarGraphItem] = []
        self._lines: list[pg.PlotDataItem] = []
        self.markers: list[OutcomeMarker] = []
        self._marker_items: list[pg.GraphicsObject] = []
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
        layout.setSpacing(4)
        layout.addWidget(self.legend)
        layout.addWidget(self.plot, 1)

    def _sync_views(self) -> None:
        self._cum_view.setGeometry(self.plot.getPlotItem().vb.sceneBoundingRect())
        self._cum_view.linkedViewChanged(self.plot.getPlotItem().vb, self._cum_view.XAxis)

    # -- data ----------------------------------------------------------------------------------------------------

    def kinds(self) -> list[str]:
        """The kinds drawn ('estimated', 'reported'), in bar order (left, right)."""
        s = self.series
        return [] if s is None else [k for k in KINDS if any(p.kind == k for p in s.parts)]

    def bar_offset(self, kind: str) -> float:
        """Where ``kind``'s bar centre sits, in days from the middle of its day."""
        if len(self.kinds()) < 2:
            return 0.0
        return -0.21 if kind == "estimated" else 0.21

    def bar_width(self) -> float:
        return BAR_WIDTH if len(self.kinds()) == 2 else _SINGLE_WIDTH

    def set_series(self, series: SpendSeries, markers: Sequence[OutcomeMarker] = ()) -> None:
        """Draw ``series`` and the outcome ``markers`` in its range (the previous drawing stays until this is
        called, so a range switch never blanks)."""
        self.series = series
        self.markers = [m for m in markers if series.first <= m.day <= series.last]
        item = self.plot.getPlotItem()
        for marker in self._marker_items:
            item.removeItem(marker)
        self._marker_items = []
        for bar in self._bars:
            item.removeItem(bar)
        for line in self._lines:
            self._cum_view.removeItem(line)
        self._bars, self._lines = [], []
        self.hover.hide()
        mids = [day_x(d) + DAY_S / 2 for d in series.days]
        tops = [0.0] * len(mids)
        for kind in self.kinds():
            offset = self.bar_offset(kind) * DAY_S
            xs = [m + offset for m in mids]
            bottom = [0.0] * len(xs)
            for k, part in enumerate(p for p in series.parts if p.kind == kind):
                heights = [v / 1e12 for v in part.values]
                colour = _colour(part, k)
                # An outline only while bars are wide enough: on a year's hair-thin bars it would hide the colours.
                pen = pg.mkPen(QColor(colour).darker(115)) if len(mids) <= 62 else pg.mkPen(None)
                bar = pg.BarGraphItem(x=xs, height=heights, y0=list(bottom), width=DAY_S * self.bar_width(),
                                      brush=pg.mkBrush(colour), pen=pen)
                bar.setObjectName(f"bar {part.kind} {part.name}")
                item.addItem(bar)
                self._bars.append(bar)
                bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
            tops = [max(t, b) for t, b in zip(tops, bottom, strict=True)]
        self.legend.set_entries(legend_entries(series), len(self.kinds()) == 2)
        cumulative = {kind: [v / 1e12 for v in series.cumulative(kind)] for kind in self.kinds()}
        self._add_cumulative(cumulative, mids)
        self._set_ranges(series, tops, cumulative)
        self._add_markers(max(tops, default=0.0))

    def bar_stacks(self) -> dict[str, list[tuple[float, float, float, float]]]:
        """What is drawn, per bar item name: (x centre, width, bottom, top) of each bar in dollars and seconds."""
        out = {}
        for bar in self._bars:
            opts = bar.opts
            out[bar.objectName()] = [(float(x), float(opts["width"]), float(y0), float(y0) + float(h))
                                     for x, y0, h in zip(opts["x"], opts["y0"], opts["height"], strict=True)]
        return out

    def _add_cumulative(self, cumulative: dict[str, list[float]], xs: list[float]) -> None:
        for kind, ys in cumulative.items():
            line = pg.PlotDataItem(xs, ys, pen=pg.mkPen(_CUMULATIVE[kind], width=2, style=Qt.PenStyle.DashLine),
                                   name=f"Cumulative {kind}")
            self._cum_view.addItem(line)
            self._lines.append(line)

    def _set_ranges(self, series: SpendSeries, tops: list[float], cumulative: dict[str, list[float]]) -> None:
        item = self.plot.getPlotItem()
        lo, hi = day_x(series.first), day_x(series.last) + DAY_S
        pad = (hi - lo) * 0.01
        item.vb.setXRange(lo - pad, hi + pad, padding=0)
        top = max(tops, default=0.0)
        headroom = self._marker_headroom()
        item.vb.setYRange(0, top * headroom if top > 0 else 1.0, padding=0)
        cum_top = max((max(ys, default=0.0) for ys in cumulative.values()), default=0.0)
        self._cum_view.setYRange(0, cum_top * 1.08 if cum_top > 0 else 1.0, padding=0)
        self.empty_text.setVisible(series.empty)
        self.empty_text.setPos((lo + hi) / 2, (top * 1.08 if top > 0 else 1.0) / 2)
        self._sync_views()

    def _marker_headroom(self) -> float:
        """How far above the highest bar the plot goes: room for the markers and two rows of their labels."""
        if not self.markers:
            return 1.08
        return 1.38 if len(self.markers) <= _MAX_MARKER_LABELS else 1.16

    def _add_markers(self, top: float) -> None:
        """A diamond above the bars on each outcome's day; a short title over it while few are in range."""
        if not self.markers:
            return
        item = self.plot.getPlotItem()
        y = (top if top > 0 else 1.0 / self._marker_headroom()) * 1.07
        xs = [day_x(m.day) + DAY_S / 2 for m in self.markers]
        spots = pg.ScatterPlotItem(x=xs, y=[y] * len(xs), symbol="d", size=11, pen=pg.mkPen(_MARKER.darker(130)),
                                   brush=pg.mkBrush(_MARKER))
        spots.setObjectName("outcome_markers")
        spots.setZValue(50)
        item.addItem(spots, ignoreBounds=True)
        self._marker_items.append(spots)
        if len(self.markers) > _MAX_MARKER_LABELS:
            return
        for k, (m, x) in enumerate(zip(self.markers, xs, strict=True)):
            label = pg.TextItem(short_title(m.title), color=_MARKER.darker(160), fill=pg.mkBrush(255, 255, 255, 210),
                                anchor=(0.5, 1.25 + 1.05 * (k % 2)))
            label.setObjectName("outcome_marker_label")
            label.setPos(x, y)
            label.setZValue(51)
            item.addItem(label, ignoreBounds=True)
            self._marker_items.append(label)

    def marker_positions(self) -> list[tuple[date, float]]:
        """Where each outcome marker is drawn: (its day, x of the marker) — for tests."""
        spots = next((i for i in self._marker_items if isinstance(i, pg.ScatterPlotItem)), None)
        if spots is None:
            return []
        xs, _ys = spots.getData()
        return [(x_date(float(x)), float(x)) for x in xs]

    # -- hover ---------------------------------------------------------------------------------------------------

    def day_index_at(self, x: float) -> int | None:
        if self.series is None or not self.series.days:
            return None
        k = int((x - day_x(self.series.first)) // DAY_S)
        return k if 0 <= k < len(self.series.days) else None

    def hover_text(self, k: int) -> str:
        """The figures of day ``k``: the date, then each kind with its own total and its parts (never a sum of
        the two kinds), then unpriced records."""
        s = self.series
        assert s is not None
        lines = [s.days[k].strftime("%a %d %b %Y")]
        kinds = self.kinds()
        for kind in kinds:
            where = f", {SIDE[kind]} bar" if len(kinds) == 2 else ""
            lines.append(f"{kind.capitalize()}{where}: {usd(s.total(kind, k))}")
            lines += [f"  {_name(p)}: {usd(p.values[k])}" for p in s.parts if p.kind == kind and p.values[k]]
        if s.unpriced_records[k]:
            n = s.unpriced_records[k]
            lines.append(f"Unpriced: {n} record{'s' if n != 1 else ''}")
        if len(lines) == 1:
            lines.append("No spend")
        lines += [f"Outcome: {marker_text(m)}" for m in self.markers if m.day == s.days[k]]
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

