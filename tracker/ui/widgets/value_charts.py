"""The Outcomes page's charts (:class:`ValueCharts`): cumulative spend against cumulative outcome value, value per
dollar by month, cost per outcome by kind, and each outcome as its attributed cost against its value (hover: the
outcome). Dollars become floats only here, to draw; hover texts are formatted from the exact integers.
"""

from __future__ import annotations

from datetime import date

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from tracker.analytics.dashboard import (
    OUTCOME_KIND_LABELS,
    KindCost,
    OutcomePoint,
    ValueSeries,
)
from tracker.ui.widgets.axes import AXIS_COLOUR, DollarAxis
from tracker.ui.widgets.format import usd


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
        item.getAxis(side).setPen(pg.mkPen(AXIS_COLOUR))
        item.getAxis(side).setTextPen(pg.mkPen(AXIS_COLOUR))
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
        item.getAxis(side).setPen(pg.mkPen(AXIS_COLOUR))
        item.getAxis(side).setTextPen(pg.mkPen(AXIS_COLOUR))
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
