"""Calendar periods in a time zone: DST days, half-hour zones, clipping."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tracker.analytics.periods import BadZoneError, local_date, periods, zone

HOUR_MS = 3_600_000


def test_dst_days_are_23_and_25_hours() -> None:
    paris = ZoneInfo("Europe/Paris")
    days = periods("daily", date(2026, 3, 28), date(2026, 3, 30), paris)
    assert [p.label for p in days] == ["2026-03-28", "2026-03-29", "2026-03-30"]
    assert [(p.end_ms - p.start_ms) // HOUR_MS for p in days] == [24, 23, 24]
    autumn = periods("daily", date(2026, 10, 25), date(2026, 10, 25), paris)[0]
    assert (autumn.end_ms - autumn.start_ms) // HOUR_MS == 25


def test_periods_tile_the_range_without_gaps() -> None:
    tz = ZoneInfo("Asia/Kathmandu")  # +05:45
    for kind in ("daily", "weekly", "monthly"):
        ps = periods(kind, date(2026, 1, 15), date(2026, 4, 2), tz)
        assert all(a.end_ms == b.start_ms for a, b in itertools.pairwise(ps))
        assert ps[0].start_ms == int(datetime(2026, 1, 15, tzinfo=tz).timestamp() * 1000)
        assert ps[-1].end_ms == int(datetime(2026, 4, 3, tzinfo=tz).timestamp() * 1000)


def test_weeks_start_on_monday_and_months_are_labelled() -> None:
    utc = ZoneInfo("UTC")
    weeks = periods("weekly", date(2026, 11, 18), date(2026, 11, 30), utc)
    assert [p.label for p in weeks] == ["2026-11-16", "2026-11-23", "2026-11-30"]
    months = periods("monthly", date(2026, 11, 18), date(2027, 1, 2), utc)
    assert [p.label for p in months] == ["2026-11", "2026-12", "2027-01"]


def test_local_date_uses_the_zone() -> None:
    ts = int(datetime(2026, 11, 20, 23, 30, tzinfo=ZoneInfo("UTC")).timestamp() * 1000)
    assert local_date(ts, ZoneInfo("UTC")) == date(2026, 11, 20)
    assert local_date(ts, ZoneInfo("Europe/Paris")) == date(2026, 11, 21)
    assert local_date(
        ts - int(timedelta(hours=1).total_seconds() * 1000), ZoneInfo("America/New_York")
    ) == date(2026, 11, 20)


def test_unknown_zone_is_a_clear_error() -> None:
    with pytest.raises(BadZoneError, match="IANA"):
        zone("Mars/Olympus")
