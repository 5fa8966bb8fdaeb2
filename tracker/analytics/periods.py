"""Calendar periods cut in a time zone, as UTC millisecond ranges.

SQLite knows no IANA time zones, so day, week and month boundaries are computed here (DST included) and
joined against the usage table's UTC timestamps in SQL. A day in ``Europe/Paris`` is then exactly the
rows whose instant falls between that day's local midnights.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class BadZoneError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Period:
    label: str  # "2026-11-20", "2026-11-16" (week start, Monday), "2026-11"
    start: date  # first local day (inclusive)
    start_ms: int
    end_ms: int  # exclusive


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
        target = str(Path("/etc/localtime").resolve())
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
