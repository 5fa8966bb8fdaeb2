"""The overview's chart: spend per day as two bars side by side, the left stacked by source (estimated, from
local logs) and the right stacked by provider (reported, what providers billed), cumulative lines on a second
axis, dates along the bottom, a legend above the plot and the day's figures next to the mouse.

The two kinds get two bars, never one: they can describe the same requests (Claude Code on an API key also shows
on the Anthropic bill), so one bar of estimated + reported would count money twice.

Bars are placed at each local date's midnight *as if it were UTC* and the date axis runs in UTC, so the axis
shows the dashboard zone's dates whatever the machine's own zone. Dollars become floats only here, to draw;
the figures in the hover text are formatted from the exact integers.

Outcomes, once logged, are small markers above the bars on their local day (labelled with a short title while
few are in range); the hover of a day lists its outcomes with their value. :class:`ValueCharts` (the Outcomes
page) draws spend against outcome value per month, value per dollar by month, cost per outcome by kind, and each
outcome as its attributed cost against its value (hover: the outcome).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from tracker.analytics.dashboard import (
    OUTCOME_KIND_LABELS,
    SOURCE_LABELS,
    KindCost,
    OutcomeMarker,
    OutcomePoint,
    SpendPart,
    SpendSeries,
    ValueSeries,
)
from tracker.analytics.reported import PROVIDER_LABELS
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


def day_x(d: date) -> float:
    """The x of a local date: its midnight as a UTC timestamp in seconds (see the module docstring)."""
    return float((d - _EPOCH).days * _DAY_S)


def _x_date(x: float) -> date:
    return _EPOCH + timedelta(days=int(x // _DAY_S))


def dollar_decimals(step: float) -> int:
    """Decimals for ticks ``step`` dollars apart: none from $1, cents from 1¢, more below (a cheap day is $0.004)."""
    if step >= 1:
        return 0
    if step >= 0.01:
        return 2
    return min(6, math.ceil(-math.log10(step)))


class DollarAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph ships no type hints
    """Tick labels in dollars: "$0", "$2.50", "$1,200", "$0.004"; never pyqtgraph's SI scaling, whose
    "$100 (x0.001)" reads as a hundred dollars."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        decimals = dollar_decimals(spacing * scale)
        return [f"${v * scale:,.{decimals}f}" for v in values]


# Tick steps, finest first.
STEPS = ("day", "2days", "week", "2weeks", "month", "quarter", "year")
_TICK_GAP_PX = 14.0  # at least this much space between two labels


def tick_days(first: date, last: date, step: str) -> list[date]:
    """The labelled dates from ``first`` to ``last`` for ``step``: every day, every other day, Mondays, every
    other Monday, the 1st of each month, of each quarter, or January 1st."""
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    if step == "day":
        return days
    if step == "2days":
        return days[::2]
    if step in ("week", "2weeks"):
        mondays = [d for d in days if d.weekday() == 0]
        return mondays if step == "week" else mondays[::2]
    if step == "month":
        return [d for d in days if d.day == 1]
    if step == "quarter":
        return [d for d in days if d.day == 1 and d.month in (1, 4, 7, 10)]
    return [d for d in days if d.day == 1 and d.month == 1]


def tick_label(d: date, step: str) -> str:
    if step in ("month", "quarter"):
        return f"{d:%b %Y}" if d.month == 1 else f"{d:%b}"
    if step == "year":
        return f"{d:%Y}"
    return f"{d:%b} {d.day}"


def labels_fit(ticks: list[date], step: str, px_per_day: float, width: Callable[[str], float]) -> bool:
    """Whether the labels of ``ticks`` (each centred under its day) leave a gap between every two neighbours."""
    widths = [width(tick_label(d, step)) for d in ticks]
    return all((ticks[i + 1] - ticks[i]).days * px_per_day >= (widths[i] + widths[i + 1]) / 2 + _TICK_GAP_PX
               for i in range(len(ticks) - 1))


def choose_step(first: date, last: date, pixels: float, width: Callable[[str], float]) -> str:
    """The finest step whose labels fit in an axis ``pixels`` wide without overlapping; the coarsest else."""
    px_per_day = pixels / ((last - first).days + 1)
    for step in STEPS:
        if labels_fit(tick_days(first, last, step), step, px_per_day, width):
            return step
    return STEPS[-1]


class DayAxis(pg.AxisItem):  # type: ignore[misc]
    """Dates under the bars, one level of ticks only, spaced by the range and the axis' width so labels never
    overlap: days for a week, Mondays ("Sep 1") for a month or a quarter, months for a year."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.step = "day"

    def _label_width(self, text: str) -> float:
        return float(QFontMetrics(self.style.get("tickFont") or QFont()).horizontalAdvance(text))

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        first, last = _x_date(minVal + _DAY_S / 2), _x_date(maxVal - _DAY_S / 2)
        if last < first or size <= 0:
            return []
        self.step = choose_step(first, last, size, self._label_width)
        # A label sits under the middle of its day, between the day's two bars.
        return [(float(_DAY_S), [day_x(d) + _DAY_S / 2 for d in tick_days(first, last, self.step)])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [tick_label(_x_date(v), self.step) for v in values]


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
            axis.setPen(pg.mkPen(_AXIS))
            axis.setTextPen(pg.mkPen(_AXIS))
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
        mids = [day_x(d) + _DAY_S / 2 for d in series.days]
        tops = [0.0] * len(mids)
        for kind in self.kinds():
            offset = self.bar_offset(kind) * _DAY_S
            xs = [m + offset for m in mids]
            bottom = [0.0] * len(xs)
            for k, part in enumerate(p for p in series.parts if p.kind == kind):
                heights = [v / 1e12 for v in part.values]
                colour = _colour(part, k)
                # An outline only while bars are wide enough: on a year's hair-thin bars it would hide the colours.
                pen = pg.mkPen(QColor(colour).darker(115)) if len(mids) <= 62 else pg.mkPen(None)
                bar = pg.BarGraphItem(x=xs, height=heights, y0=list(bottom), width=_DAY_S * self.bar_width(),
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
        lo, hi = day_x(series.first), day_x(series.last) + _DAY_S
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
        xs = [day_x(m.day) + _DAY_S / 2 for m in self.markers]
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
        return [(_x_date(float(x)), float(x)) for x in xs]

    # -- hover ---------------------------------------------------------------------------------------------------

    def day_index_at(self, x: float) -> int | None:
        if self.series is None or not self.series.days:
            return None
        k = int((x - day_x(self.series.first)) // _DAY_S)
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


class MonthAxis(pg.AxisItem):  # type: ignore[misc]
    """Month names under month indexes 0, 1, 2…; every other (or fewer) label when they would crowd."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.months: list[date] = []

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        n = len(self.months)
        if n == 0 or size <= 0:
            return []
        every = max(1, int(n * 70 // size) + 1)  # about 70 px per label
        return [(1.0, [float(i) for i in range(0, n, every)])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        out = []
        for v in values:
            i = round(v)
            m = self.months[i] if 0 <= i < len(self.months) else None
            out.append("" if m is None else (f"{m:%b %Y}" if m.month == 1 or i == 0 else f"{m:%b}"))
        return out


_SPEND_LINE = "#6d4c41"
_VALUE_LINE = "#2e7d32"


def _value_plot(name: str, left: str, axis: MonthAxis) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w", axisItems={"bottom": axis, "left": DollarAxis("left")})
    plot.setObjectName(name)
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    plot.showGrid(x=False, y=True, alpha=0.08)
    item = plot.getPlotItem()
    item.setLabel("left", left)
    for side in ("left", "bottom"):
        item.getAxis(side).setPen(pg.mkPen(_AXIS))
        item.getAxis(side).setTextPen(pg.mkPen(_AXIS))
    return plot


class KindAxis(pg.AxisItem):  # type: ignore[misc]
    """Outcome kinds in words at rows 0, 1, 2… (the cost-per-outcome bars run horizontally)."""

    def __init__(self) -> None:
        super().__init__("left")
        self.kinds: list[str] = []

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        return [(1.0, [float(i) for i in range(len(self.kinds))])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        out = []
        for v in values:
            i = round(v)
            out.append(OUTCOME_KIND_LABELS.get(self.kinds[i], self.kinds[i]) if 0 <= i < len(self.kinds) else "")
        return out


_COST_BAR = "#8d6e63"
_OTHER_STATUS = "#9e9e9e"


def point_text(p: OutcomePoint) -> str:
    """The hover of an outcome's point: "#12 Webhooks, with retries (PR merged, kept) — cost $41.20, value
    $500.00"."""
    kind = OUTCOME_KIND_LABELS.get(p.kind, p.kind)
    value = usd(p.value_pusd) + (f" + {p.unvalued_hours} h not valued" if p.unvalued_hours else "")
    return f"#{p.id} {p.title} ({kind}, {p.status}) — cost {usd(p.cost_pusd)}, value {value}"


def _plain_plot(name: str, bottom: pg.AxisItem, left: pg.AxisItem) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w", axisItems={"bottom": bottom, "left": left})
    plot.setObjectName(name)
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    item = plot.getPlotItem()
    for side in ("left", "bottom"):
        item.getAxis(side).setPen(pg.mkPen(_AXIS))
        item.getAxis(side).setTextPen(pg.mkPen(_AXIS))
    return plot


class ValueCharts(QWidget):
    """Four charts in a grid. By month (``report value --by month``'s figures): cumulative spend against cumulative
    outcome value, and value per dollar (bars, with the $1-per-$1 break-even line). By outcome (the Outcomes
    table's attributed spend): cost per outcome by kind (bars), and each outcome as attributed cost (x) against
    value (y) with the break-even diagonal, the outcome named on hover."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("value_charts")
        self.series: ValueSeries | None = None
        self.kind_costs: list[KindCost] = []
        self.points: list[OutcomePoint] = []
        self.cum_axis, self.vpd_axis = MonthAxis(), MonthAxis()
        self.kind_axis = KindAxis()
        self.cumulative_plot = _value_plot("value_cumulative_plot", "Cumulative (USD)", self.cum_axis)
        self.per_dollar_plot = _value_plot("value_per_dollar_plot", "Value per $1 of spend", self.vpd_axis)
        self.kind_plot = _plain_plot("cost_per_kind_plot", DollarAxis("bottom"), self.kind_axis)
        self.kind_plot.showGrid(x=True, y=False, alpha=0.08)
        self.scatter_plot = _plain_plot("cost_value_plot", DollarAxis("bottom"), DollarAxis("left"))
        self.scatter_plot.showGrid(x=True, y=True, alpha=0.08)
        self.scatter_plot.getPlotItem().setLabel("bottom", "Attributed spend (USD)")
        self.scatter_plot.getPlotItem().setLabel("left", "Value (USD)")
        self.cum_title = self._title("Cumulative spend and outcome value")
        self.vpd_title = self._title("Value per dollar, by month (dashed line: break-even, $1 of value per $1 spent)")
        self.kind_title = self._title("Cost per outcome, by kind (attributed spend ÷ outcomes of every status; ×N: "
                                      "how many)")
        self.scatter_title = self._title("Outcomes: attributed spend against value (dashed: break-even; grey: "
                                         "redone or abandoned)")
        self.legend = QLabel("", self)
        self.legend.setObjectName("value_legend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.empty = QLabel("", self)
        self.empty.setObjectName("value_charts_empty")
        self.empty.setStyleSheet("color: #666666;")
        self.hover = QLabel("", self)
        self.hover.setObjectName("cost_value_hover")
        self.hover.setStyleSheet("color: #333333;")
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(4)
        grid.addWidget(self.cum_title, 0, 0)
        grid.addWidget(self.legend, 1, 0)
        grid.addWidget(self.cumulative_plot, 2, 0)
        grid.addWidget(self.vpd_title, 0, 1)
        grid.addWidget(self.per_dollar_plot, 1, 1, 2, 1)
        grid.addWidget(self.kind_title, 3, 0)
        grid.addWidget(self.kind_plot, 4, 0)
        grid.addWidget(self.scatter_title, 3, 1)
        grid.addWidget(self.scatter_plot, 4, 1)
        grid.addWidget(self.hover, 5, 1)
        grid.setRowStretch(2, 1)
        grid.setRowStretch(4, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.empty)
        layout.addLayout(grid, 1)
        self.scatter_plot.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def _title(self, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setWordWrap(True)
        label.setStyleSheet("color: #333333; font-weight: bold;")
        return label

    def set_series(self, series: ValueSeries) -> None:
        self.series = series
        months = [m.month for m in series.months]
        self.cum_axis.months = self.vpd_axis.months = months
        for plot in (self.cumulative_plot, self.per_dollar_plot):
            plot.getPlotItem().clear()
        self.empty.setText("" if series.months else "No spend or outcomes yet.")
        if not series.months:
            return
        xs = [float(i) for i in range(len(months))]
        spend = [v / 1e12 for v in series.cumulative_spend()]
        value = [v / 1e12 for v in series.cumulative_value()]
        cum = self.cumulative_plot.getPlotItem()
        cum.addItem(pg.PlotDataItem(xs, spend, pen=pg.mkPen(_SPEND_LINE, width=2), symbol="o", symbolSize=5,
                                    symbolBrush=_SPEND_LINE, symbolPen=None, name="spend"))
        cum.addItem(pg.PlotDataItem(xs, value, pen=pg.mkPen(_VALUE_LINE, width=2), symbol="o", symbolSize=5,
                                    symbolBrush=_VALUE_LINE, symbolPen=None, name="value"))
        cum.vb.setXRange(-0.5, len(xs) - 0.5, padding=0)
        cum.vb.setYRange(0, max([*spend, *value, 1.0]) * 1.08, padding=0)
        spend_name = "spend (estimated + reported" + (" + subscriptions)" if series.subscriptions else ")")
        self.legend.setText(
            f"<span style='color:{_SPEND_LINE}'>&#9644;</span> Cumulative {spend_name} &nbsp;&nbsp; "
            f"<span style='color:{_VALUE_LINE}'>&#9644;</span> Cumulative outcome value (kept outcomes)")
        self._per_dollar(series, xs)

    def _per_dollar(self, series: ValueSeries, xs: list[float]) -> None:
        item = self.per_dollar_plot.getPlotItem()
        bars = [(x, float(m.value_per_dollar)) for x, m in zip(xs, series.months, strict=True)
                if m.value_per_dollar is not None]
        if bars:
            bar = pg.BarGraphItem(x=[b[0] for b in bars], height=[b[1] for b in bars], width=0.6,
                                  brush=pg.mkBrush(_VALUE_LINE), pen=pg.mkPen(QColor(_VALUE_LINE).darker(120)))
            bar.setObjectName("value_per_dollar_bars")
            item.addItem(bar)
        even = pg.InfiniteLine(pos=1.0, angle=0, pen=pg.mkPen("#757575", width=1, style=Qt.PenStyle.DashLine))
        item.addItem(even)
        item.vb.setXRange(-0.5, len(xs) - 0.5, padding=0)
        item.vb.setYRange(0, max([b[1] for b in bars] + [1.0]) * 1.15, padding=0)

    def bars(self) -> list[tuple[date, float]]:
        """The value-per-dollar bars drawn, (month, value per dollar) — for tests."""
        if self.series is None:
            return []
        return [(m.month, float(m.value_per_dollar)) for m in self.series.months if m.value_per_dollar is not None]

    # -- by outcome ---------------------------------------------------------------------------------------------

    def set_outcomes(self, kind_costs: list[KindCost], points: list[OutcomePoint]) -> None:
        """Cost per outcome by kind, and the outcomes as (attributed spend, value) points."""
        self.kind_costs, self.points = kind_costs, points
        self._kind_bars()
        self._scatter()

    def _kind_bars(self) -> None:
        item = self.kind_plot.getPlotItem()
        item.clear()
        self.kind_axis.kinds = [k.kind for k in self.kind_costs]
        rows = [(i, k.cost_per_outcome_pusd / 1e12) for i, k in enumerate(self.kind_costs)
                if k.cost_per_outcome_pusd is not None]
        if rows:
            bar = pg.BarGraphItem(x0=0, y=[r[0] for r in rows], height=0.6, width=[r[1] for r in rows],
                                  brush=pg.mkBrush(_COST_BAR), pen=pg.mkPen(QColor(_COST_BAR).darker(120)))
            item.addItem(bar)
            for i, k in enumerate(self.kind_costs):
                if k.cost_per_outcome_pusd is None:
                    continue
                label = pg.TextItem(f"{usd(k.cost_per_outcome_pusd)} (×{k.outcomes})", color="#333333",
                                    anchor=(0, 0.5))
                label.setPos(k.cost_per_outcome_pusd / 1e12, i)
                item.addItem(label)
        top = max([r[1] for r in rows] + [1.0])
        item.vb.setXRange(0, top * 1.5, padding=0)  # room for the labels right of the bars
        item.vb.setYRange(-0.6, max(len(self.kind_costs), 1) - 0.4, padding=0)
        item.vb.invertY(True)  # the first kind on top

    def _scatter(self) -> None:
        item = self.scatter_plot.getPlotItem()
        item.clear()
        self.hover.setText("Hover a point for its outcome." if self.points else "No valued outcomes yet.")
        if not self.points:
            return
        xs = [p.cost_pusd / 1e12 for p in self.points]
        ys = [p.value_pusd / 1e12 for p in self.points]
        top = max([*xs, *ys, 1.0]) * 1.08
        even = pg.PlotDataItem([0.0, top], [0.0, top], pen=pg.mkPen("#757575", width=1, style=Qt.PenStyle.DashLine))
        item.addItem(even)
        brushes = [pg.mkBrush(_VALUE_LINE if p.status == "kept" else _OTHER_STATUS) for p in self.points]
        scatter = pg.ScatterPlotItem(x=xs, y=ys, size=9, brush=brushes, pen=pg.mkPen("w", width=1),
                                     data=list(range(len(self.points))), hoverable=True,
                                     tip=lambda x, y, data: point_text(self.points[data]))
        item.addItem(scatter)
        item.vb.setXRange(0, max([*xs, 1.0]) * 1.08, padding=0)
        item.vb.setYRange(0, max([*ys, 1.0]) * 1.08, padding=0)

    def point_at(self, x: float, y: float) -> OutcomePoint | None:
        """The outcome drawn nearest (x, y) in data units, if within about 8 pixels."""
        if not self.points:
            return None
        vb = self.scatter_plot.getPlotItem().vb
        px, py = vb.viewPixelSize()
        if px <= 0 or py <= 0:
            return None
        best, best_d = None, 64.0
        for p in self.points:
            dx, dy = (p.cost_pusd / 1e12 - x) / px, (p.value_pusd / 1e12 - y) / py
            if dx * dx + dy * dy <= best_d:
                best, best_d = p, dx * dx + dy * dy
        return best

    def _on_mouse_moved(self, pos: QPointF) -> None:
        vb = self.scatter_plot.getPlotItem().vb
        if not self.points or not vb.sceneBoundingRect().contains(pos):
            return
        point = vb.mapSceneToView(pos)
        found = self.point_at(point.x(), point.y())
        self.hover.setText(point_text(found) if found is not None else "Hover a point for its outcome.")
