"""Calendar periods cut in a time zone, as UTC millisecond ranges.

SQLite knows no IANA time zones, so day, week and month boundaries are computed here (DST included) and
joined against the usage table's UTC timestamps in SQL. A day in ``Europe/Paris`` is then exactly the
rows whose instant falls between that day's local midnights.

Import-light on purpose (no dataclasses, pathlib or typing at run time): ``report --format json`` loads this
module on its fast path (see ``tracker.cli.fast``).
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy and ruff know the name)
if TYPE_CHECKING:
    from collections.abc import Iterator


class BadZoneError(ValueError):
    pass


class Period:
    """One period of a report, clipped to the report's range."""

    __slots__ = ("end_ms", "label", "start", "start_ms")

    def __init__(self, label: str, start: date, start_ms: int, end_ms: int) -> None:
        self.label = label  # "2026-11-20", "2026-11-16" (week start, Monday), "2026-11"
        self.start = start  # first local day (inclusive)
        self.start_ms = start_ms
        self.end_ms = end_ms  # exclusive

    def _key(self) -> tuple[str, date, int, int]:
        return (self.label, self.start, self.start_ms, self.end_ms)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Period) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Period{self._key()!r}"


def zone(name: str | None) -> tzinfo:
    """The named IANA zone, or the local one when ``name`` is None."""
    if name is None:
        return local_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadZoneError(f"unknown time zone {name!r}; use an IANA name such as Europe/Paris or UTC") from None


def local_zone() -> tzinfo:
    """This machine's zone: $TZ, then /etc/localtime, then the current fixed offset."""
    tz_env = os.environ.get("TZ", "").lstrip(":")
    if tz_env:
        try:
            return ZoneInfo(tz_env)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            return ZoneInfo(target.split("zoneinfo/", 1)[1])
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    fallback = datetime.now().astimezone().tzinfo
    return fallback if fallback is not None else ZoneInfo("UTC")


def zone_name(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or str(tz)


def local_midnight_ms(d: date, tz: tzinfo) -> int:
    return int(datetime.combine(d, time(0), tzinfo=tz).timestamp() * 1000)


def local_date(ts_ms: int, tz: tzinfo) -> date:
    return datetime.fromtimestamp(ts_ms / 1000, tz).date()


def _starts(kind: str, first: date, last: date) -> Iterator[tuple[str, date, date]]:
    """(label, first day, first day of the next period) for each period touching [first, last]."""
    if kind == "daily":
        d = first
        while d <= last:
            yield d.isoformat(), d, d + timedelta(days=1)
            d += timedelta(days=1)
    elif kind == "weekly":
        d = first - timedelta(days=first.weekday())
        while d <= last:
            yield d.isoformat(), d, d + timedelta(days=7)
            d += timedelta(days=7)
    elif kind == "monthly":
        d = first.replace(day=1)
        while d <= last:
            nxt = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
            yield d.strftime("%Y-%m"), d, nxt
            d = nxt
    else:
        raise ValueError(kind)


def periods(kind: str, first: date, last: date, tz: tzinfo) -> list[Period]:
    """Periods of ``kind`` covering local dates ``first``..``last`` (inclusive), clipped to that range."""
    out = []
    lo_ms = local_midnight_ms(first, tz)
    hi_ms = local_midnight_ms(last + timedelta(days=1), tz)
    for label, start, nxt in _starts(kind, first, last):
        s = max(local_midnight_ms(start, tz), lo_ms)
        e = min(local_midnight_ms(nxt, tz), hi_ms)
        out.append(Period(label, start, s, e))
    return out
