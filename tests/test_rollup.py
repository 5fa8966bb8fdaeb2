"""The usage rollup: reports built from it equal reports built from the rows, and it stays fresh.

Rows are written straight into the store (not through log files) so that timestamps can sit exactly on
the edges that matter: local midnights in DST zones, quarter-hour zones and slot boundaries.
"""

from __future__ import annotations

import random
import re
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.analytics.reports import Report, ReportQuery, build_report
from tracker.ledger.importer import mark_dirty
from tracker.ledger.rollup import DAY_MS, DIRTY_HI, DIRTY_LO, HOUR_MS, QUARTER_MS, dirty_range, refresh
from tracker.store import Store, open_store

# zone -> the widest slot its local midnights fall on
ZONES = {
    "UTC": DAY_MS, "Europe/Paris": HOUR_MS, "America/New_York": HOUR_MS, "Asia/Kathmandu": QUARTER_MS,
    "Australia/Lord_Howe": QUARTER_MS, "Pacific/Chatham": QUARTER_MS, "America/St_Johns": QUARTER_MS,
    "Asia/Kolkata": QUARTER_MS,
}
KINDS = ("daily", "weekly", "monthly", "model")
MODELS = ("claude-sonnet-4-5", "gpt-5-codex", "mystery-model", None)
MIN_MS = 60_000


def _ms(zone: str, *args: int) -> int:
    return int(datetime(*args, tzinfo=ZoneInfo(zone)).timestamp() * 1000)  # type: ignore[misc]


# instants on edges: local midnights around DST changes and month ends, in several zones
EDGES = [
    _ms("Europe/Paris", 2026, 3, 29), _ms("Europe/Paris", 2026, 3, 30), _ms("Europe/Paris", 2026, 10, 25),
    _ms("Europe/Paris", 2026, 10, 26), _ms("America/New_York", 2026, 3, 8), _ms("America/New_York", 2026, 11, 1),
    _ms("America/New_York", 2026, 11, 2), _ms("Asia/Kathmandu", 2026, 4, 1), _ms("Asia/Kathmandu", 2026, 3, 31),
    _ms("Australia/Lord_Howe", 2026, 4, 5), _ms("Australia/Lord_Howe", 2026, 10, 4),
    _ms("Pacific/Chatham", 2026, 4, 5), _ms("America/St_Johns", 2026, 11, 1), _ms("UTC", 2026, 11, 30),
    _ms("UTC", 2026, 12, 1),
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "ledger.sqlite3") as s:
        yield s


def _insert(store: Store, rows: list[tuple[str, int, str | None, int, bool]]) -> None:
    """Rows of (source, ts_ms, model, size, priced); marks their range dirty like the importer does."""
    with store.transaction() as conn:
        n = conn.execute("SELECT count(*) FROM usage").fetchone()[0]
        for i, (source, ts, model, size, priced) in enumerate(rows, start=n):
            conn.execute(
                """INSERT INTO usage (source, dedup_key, ts_ms, model, input_tokens, cache_creation_tokens,
                       cache_read_tokens, output_tokens, reasoning_tokens, cost_pusd, cost_kind)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (source, f"k{i}", ts, model, size, size * 2, size * 3, size + 1, size // 2,
                 size * 1_000_003 if priced else None, "estimated" if priced else "unpriced"),
            )
        if rows:
            mark_dirty(conn, min(r[1] for r in rows), max(r[1] for r in rows))


def _random_rows(rng: random.Random, n: int) -> list[tuple[str, int, str | None, int, bool]]:
    out = []
    for _ in range(n):
        base = rng.choice(EDGES)
        ts = base + rng.choice((-1, 0, 1, 59_999, -MIN_MS)) + rng.choice((0, 0, 15, 45, 60, -60, -15)) * MIN_MS
        ts += rng.randrange(-3, 4) * 86_400_000
        model = rng.choice(MODELS)
        out.append((rng.choice(("claude_code", "codex")), ts, model, rng.randrange(0, 5000), model != "mystery-model"))
    return out


def _widths(conn: sqlite3.Connection, q: ReportQuery) -> tuple[Report, set[int]]:
    """The report, and the rollup slot widths its queries read (none: it read the usage rows)."""
    used: list[str] = []
    conn.set_trace_callback(used.append)  # statements arrive with their parameters filled in
    try:
        rep = build_report(conn, q)
    finally:
        conn.set_trace_callback(None)
    return rep, {int(w) for sql in used for w in re.findall(r"r\.width_ms = (\d+)", sql)}


def _both(conn: sqlite3.Connection, q: ReportQuery) -> tuple[Report, Report]:
    fast, widths = _widths(conn, q)
    assert widths, "the rollup was not used"
    return fast, build_report(conn, q, use_rollup=False)


@pytest.fixture
def filled(store: Store) -> Store:
    _insert(store, _random_rows(random.Random(7), 600))
    assert refresh(store.conn)
    return store


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("kind", KINDS)
def test_rollup_reports_equal_row_reports(filled: Store, zone: str, kind: str) -> None:
    q = ReportQuery(kind, ZoneInfo(zone))
    fast, widths = _widths(filled.conn, q)
    assert fast == build_report(filled.conn, q, use_rollup=False)
    assert fast.rows and fast.totals.unpriced_records and fast.totals.cost_pusd
    # the sums read the widest slot that fits (the data range may read wider ones): day slots for a model
    # report over all time or for UTC days, hours for Paris, quarters for Kathmandu
    assert min(widths) == (DAY_MS if kind == "model" else ZONES[zone])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    zone=st.sampled_from(sorted(ZONES)),
    kind=st.sampled_from(KINDS),
    since=st.none() | st.dates(date(2026, 3, 20), date(2026, 12, 5)),
    days=st.none() | st.integers(0, 60),
    sources=st.sampled_from(((), ("codex",), ("claude_code",), ("claude_code", "codex"))),
)
def test_filtered_rollup_reports_equal_row_reports(  # noqa: PLR0917 (hypothesis passes by keyword)
    filled: Store, zone: str, kind: str, since: date | None, days: int | None, sources: tuple[str, ...]
) -> None:
    until = None if days is None else (since or date(2026, 3, 20)) + timedelta(days=days)
    fast, slow = _both(filled.conn, ReportQuery(kind, ZoneInfo(zone), since, until, sources))
    assert fast == slow


def test_period_edges_off_the_quarter_hour_fall_back_to_rows(filled: Store) -> None:
    # Paris kept local mean time (+00:09:21) until 1911: that midnight is not on a slot edge
    q = ReportQuery("daily", ZoneInfo("Europe/Paris"), since=date(1900, 1, 1))
    rep, widths = _widths(filled.conn, q)
    assert widths == set()
    assert rep == build_report(filled.conn, q, use_rollup=False)


def test_refresh_without_marks_touches_nothing(filled: Store) -> None:
    conn = filled.conn
    with filled.transaction():
        conn.execute("UPDATE usage_rollup SET records = records + 1000 WHERE rowid = 1")  # a visible sentinel
    changes = conn.total_changes
    assert dirty_range(conn) is None
    assert refresh(conn) is False
    assert conn.total_changes == changes
    assert conn.execute("SELECT records FROM usage_rollup WHERE rowid = 1").fetchone()[0] >= 1000


def test_new_rows_are_added_and_marks_cleared(filled: Store) -> None:
    conn = filled.conn
    before = build_report(conn, ReportQuery("daily", ZoneInfo("UTC")))
    ts = _ms("UTC", 2026, 11, 30, 23, 59)
    _insert(filled, [("codex", ts, "gpt-5-codex", 10, True)])
    assert dirty_range(conn) == (ts, ts)
    assert refresh(conn) is True
    assert dirty_range(conn) is None
    after, slow = _both(conn, ReportQuery("daily", ZoneInfo("UTC")))
    assert after == slow
    assert after.totals.records == before.totals.records + 1


def test_stale_rollup_is_not_read(filled: Store) -> None:
    """Marks left (rows written, no refresh yet): the report reads the rows and is still right."""
    _insert(filled, [("codex", _ms("UTC", 2026, 6, 1, 12), "gpt-5-codex", 10, True)])
    q = ReportQuery("monthly", ZoneInfo("UTC"))
    rep, widths = _widths(filled.conn, q)
    assert widths == set()
    assert rep == build_report(filled.conn, q, use_rollup=False)


def test_row_moved_in_time_or_deleted_is_caught_by_triggers(filled: Store) -> None:
    conn = filled.conn
    old_ts, new_ts = conn.execute("SELECT min(ts_ms), max(ts_ms) FROM usage").fetchone()
    with filled.transaction():
        # what an upsert of a better copy may do: the row moves to another slot
        conn.execute("UPDATE usage SET ts_ms = ? WHERE ts_ms = ?", (new_ts, old_ts))
    assert dirty_range(conn) == (old_ts, new_ts)
    refresh(conn)
    fast, slow = _both(conn, ReportQuery("daily", ZoneInfo("Asia/Kathmandu")))
    assert fast == slow
    with filled.transaction():
        conn.execute("DELETE FROM usage WHERE ts_ms = ?", (new_ts,))
    refresh(conn)
    fast, slow = _both(conn, ReportQuery("weekly", ZoneInfo("America/New_York")))
    assert fast == slow


def test_reprice_marks_everything_and_refresh_rebuilds_all(filled: Store) -> None:
    conn = filled.conn
    with filled.transaction():
        conn.execute("UPDATE usage SET cost_pusd = 1, cost_kind = 'estimated'")
        mark_dirty(conn, 0, 2**62)  # as Costing._reprice_all does
    refresh(conn)
    fast, slow = _both(conn, ReportQuery("daily", ZoneInfo("Europe/Paris")))
    assert fast == slow
    assert fast.totals.cost_pusd == fast.totals.records
    assert conn.execute("SELECT count(*) FROM meta WHERE key IN (?, ?)", (DIRTY_LO, DIRTY_HI)).fetchone()[0] == 0


def test_slots_before_1970_use_floor(store: Store) -> None:
    _insert(store, [("codex", -1, "m", 5, True), ("codex", -QUARTER_MS, "m", 5, True), ("codex", 0, "m", 5, True)])
    refresh(store.conn)
    slots = store.conn.execute("SELECT width_ms, slot_ms, records FROM usage_rollup ORDER BY 1, 2").fetchall()
    assert slots == [
        (QUARTER_MS, -QUARTER_MS, 2), (QUARTER_MS, 0, 1), (HOUR_MS, -HOUR_MS, 2), (HOUR_MS, 0, 1),
        (DAY_MS, -DAY_MS, 2), (DAY_MS, 0, 1),
    ]
    fast, slow = _both(store.conn, ReportQuery("daily", ZoneInfo("Asia/Kathmandu")))
    assert fast == slow


def test_empty_ledger(store: Store) -> None:
    assert refresh(store.conn) is False
    rep = build_report(store.conn, ReportQuery("daily", ZoneInfo("UTC")))
    assert rep.rows == [] and rep.totals.records == 0


@pytest.mark.parametrize("share", [0, 10**9])  # 0: always through the ts_ms index; huge: always a table scan
def test_index_and_scan_give_the_same_rollup(filled: Store, share: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.ledger import rollup

    conn = filled.conn
    before = conn.execute("SELECT * FROM usage_rollup ORDER BY width_ms, slot_ms, source, model").fetchall()
    monkeypatch.setattr(rollup, "_SCAN_SHARE", share)
    lo, hi = conn.execute("SELECT min(ts_ms), max(ts_ms) FROM usage").fetchone()
    for a, b in ((lo, hi), (lo + (hi - lo) // 3, lo + (hi - lo) // 2)):  # everything, and a middle stretch
        with filled.transaction():
            rollup.rebuild(conn, a, b)
        after = conn.execute("SELECT * FROM usage_rollup ORDER BY width_ms, slot_ms, source, model").fetchall()
        assert after == before
