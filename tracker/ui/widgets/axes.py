"""Axes shared by the dashboard's charts: dates placed as if each local midnight were UTC (so the axis shows the
dashboard zone's dates whatever the machine's zone), date ticks that never overlap, and dollars written plainly.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from datetime import date, timedelta

import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetrics

DAY_S = 86_400
EPOCH = date(1970, 1, 1)
AXIS_COLOUR = "#444444"


def day_x(d: date) -> float:
    """The x of a local date: its midnight as a UTC timestamp in seconds (see the module docstring)."""
    return float((d - EPOCH).days * DAY_S)


def x_date(x: float) -> date:
    return EPOCH + timedelta(days=int(x // DAY_S))


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
    """Whether the labels of ``ticks`` (each centred under its day) leave a gap between every two neighbours.

    Stops at the first pair that overlaps, measuring each label once: a too-fine step (365 daily labels on a year)
    is refused after one pair, not after measuring every label (this runs on every paint of the axis)."""
    if len(ticks) < 2:
        return True
    left = width(tick_label(ticks[0], step))
    for a, b in itertools.pairwise(ticks):
        right = width(tick_label(b, step))
        if (b - a).days * px_per_day < (left + right) / 2 + _TICK_GAP_PX:
            return False
        left = right
    return True


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
        self._widths: dict[str, float] = {}  # label -> pixels, for the axis' font (the same at every paint)
        self._chosen: tuple[tuple[date, date, float], str] | None = None  # the last (range, width) -> step

    def _label_width(self, text: str) -> float:
        w = self._widths.get(text)
        if w is None:
            w = self._widths[text] = float(QFontMetrics(self.style.get("tickFont") or QFont()).horizontalAdvance(text))
        return w

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        first, last = x_date(minVal + DAY_S / 2), x_date(maxVal - DAY_S / 2)
        if last < first or size <= 0:
            return []
        key = (first, last, size)
        if self._chosen is None or self._chosen[0] != key:
            self._chosen = (key, choose_step(first, last, size, self._label_width))
        self.step = self._chosen[1]
        # A label sits under the middle of its day, between the day's two bars.
        return [(float(DAY_S), [day_x(d) + DAY_S / 2 for d in tick_days(first, last, self.step)])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [tick_label(x_date(v), self.step) for v in values]
