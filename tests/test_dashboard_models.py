"""The dashboard's Qt-free read models on a real ledger: real-shaped logs imported by `token-ledger sync`, plus
provider rows written with SQL. ``build_ledger`` is shared with the window tests (tests/ui)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import Home

from tracker.analytics import dashboard as dash

PICO = 10**12
CLAUDE_LINE = (
    '{{"type":"assistant","timestamp":"{ts}","sessionId":"s{s}","cwd":"/home/u/{project}",'
    '"version":"2.1.72","requestId":"req_{n}","message":{{"id":"msg_{n}","model":"{model}",'
    '"usage":{{"input_tokens":{i},"cache_creation_input_tokens":10000,"cache_read_input_tokens":200000,'
    '"output_tokens":{o}}}}}}}\n'
)
SONNET = "claude-sonnet-4-5-20250929"
UNKNOWN = "claude-imaginary-9"  # no price: its rows are unpriced


def today_utc() -> date:
    return datetime.now(UTC).date()


def claude_day(days_ago: int, n: int, start: int, model: str = SONNET, project: str = "app") -> str:
    d = today_utc() - timedelta(days=days_ago)
    return "".join(
        CLAUDE_LINE.format(ts=f"{d.isoformat()}T00:{k % 60:02d}:00.000Z", s=days_ago % 3, project=project,
                           n=start + k, model=model, i=2000 + 100 * k, o=1500 + 10 * k)
        for k in range(n)
    )


def build_ledger(home: Home, cli: Any, *, provider_rows: bool = True) -> Path:
    """A ledger with Claude Code usage today, 3, 20 and 60 days ago (one unpriced row 3 days ago), a Codex
    rollout (May 2026), an OpenAI account with two billed days and three network-log rows."""
    home.claude_log("-home-u-app/a.jsonl", claude_day(0, 3, 0) + claude_day(3, 2, 10) + claude_day(20, 1, 20))
    home.claude_log("-home-u-web/b.jsonl", claude_day(60, 2, 30, project="web") + claude_day(3, 1, 40, model=UNKNOWN))
    home.copy_fixture("codex/codex__edge_reemit-and-null-info__constructed.jsonl",
                      home.codex / "sessions/2026/05/01/rollout-2026-05-01T10-00-00-x.jsonl")
    r = cli("sync", "--no-accounts")
    assert r.code == 0, r.err
    db = home.data / "ledger.sqlite3"
    if provider_rows:
        insert_provider_rows(db)
    return db


def insert_provider_rows(db: Path) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("INSERT INTO accounts (id, provider, label, created_ms, last_sync_ms, last_status, last_message)"
                     " VALUES (1, 'openai', 'work', 0, ?, 'ok', 'fetched 2 days')",
                     (int(datetime.now(UTC).timestamp() * 1000) - 600_000,))
        for days_ago, pico in ((1, 2_500_000_000_000), (40, 1_000_000_000_000)):
            start = (today_utc() - timedelta(days=days_ago) - date(1970, 1, 1)).days * 86_400_000
            conn.execute(
                "INSERT INTO provider_usage (account_id, provider, kind, bucket_start_ms, bucket_width, bucket_end_ms,"
                " model, cost_pico, currency, amount_raw, billed, fetched_ms)"
                " VALUES (1, 'openai', 'openai.costs', ?, '1d', ?, 'gpt-5', ?, 'USD', '2.5', 1, 0)",
                (start, start + 86_400_000, pico),
            )
        for k, (provider, status, err) in enumerate((("openai", 200, None), ("openai", None, "timed out"),
                                                     ("anthropic", 401, "the key was refused"))):
            conn.execute(
                "INSERT INTO network_log (ts_ms, provider, method, host, path, status, bytes_sent, bytes_received,"
                " duration_ms, error) VALUES (?, ?, 'GET', 'api.example.com', '/v1/costs', ?, 10, 2048, 120, ?)",
                (1_700_000_000_000 + k * 1000, provider, status, err),
            )
    conn.close()


@pytest.fixture
def ledger(home: Home, cli: Any) -> sqlite3.Connection:
    db = build_ledger(home, cli)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    yield conn
    conn.close()


UTC_ZONE = ZoneInfo("UTC")


def test_spend_series_keeps_estimated_and_reported_apart(ledger: sqlite3.Connection) -> None:
    last = today_utc()
    s = dash.spend_series(ledger, last - timedelta(days=6), last, UTC_ZONE)
    assert len(s.days) == 7 and s.days[-1] == last
    assert [(p.kind, p.name) for p in s.parts] == [("estimated", "claude_code"), ("reported", "openai")]
    est = s.parts[0].values
    assert est[-1] > 0 and est[-4] > 0 and est[0] == 0  # today and 3 days ago
    assert s.parts[1].values[-2] == 2_500_000_000_000  # reported, yesterday, exact pico
    assert s.unpriced_records[-4] == 1  # the unknown model 3 days ago
    assert s.parts[1].label == "OpenAI (reported)"
    assert s.cumulative("estimated")[-1] == sum(est) == s.sum("estimated")
    assert s.cumulative("reported") == (0, 0, 0, 0, 0, 2_500_000_000_000, 2_500_000_000_000)
    # the estimated sums agree with the usage rows, to the pico
    lo = int(datetime.combine(last - timedelta(days=6), datetime.min.time(), UTC).timestamp() * 1000)
    (rows_sum,) = ledger.execute("SELECT sum(cost_pusd) FROM usage WHERE ts_ms >= ?", (lo,)).fetchone()
    assert s.sum("estimated") == rows_sum


def test_spend_series_range_changes_the_data(ledger: sqlite3.Connection) -> None:
    last = today_utc()
    week = dash.spend_series(ledger, last - timedelta(days=6), last, UTC_ZONE)
    quarter = dash.spend_series(ledger, last - timedelta(days=89), last, UTC_ZONE)
    assert len(quarter.days) == 90
    assert quarter.sum("estimated") > week.sum("estimated")
    assert quarter.sum("reported") == 3_500_000_000_000


def test_spend_series_empty_range(ledger: sqlite3.Connection) -> None:
    s = dash.spend_series(ledger, date(2001, 1, 1), date(2001, 1, 7), UTC_ZONE)
    assert s.empty and s.parts == ()


def _filter(**kw: Any) -> dash.UsageFilter:
    last = today_utc()
    return dash.UsageFilter(since=kw.pop("since", last - timedelta(days=364)), until=last, **kw)


def test_usage_lines_group_by_model_kinds(ledger: sqlite3.Connection) -> None:
    lines = dash.usage_lines(ledger, _filter(group_by="model"), UTC_ZONE)
    by = {(x.group, x.kind): x for x in lines}
    assert by[(UNKNOWN, "unpriced")].cost_pico is None and by[(UNKNOWN, "unpriced")].records == 1
    assert by[(SONNET, "estimated")].records == 8
    assert by[("gpt-5", "reported")].cost_pico == 3_500_000_000_000
    assert by[("gpt-5", "reported")].origin == "OpenAI"
    assert {x.kind for x in lines} == {"estimated", "reported", "unpriced"}


def test_usage_filters_change_the_rows_exactly(ledger: sqlite3.Connection) -> None:
    def rows(**kw: Any) -> int:
        return sum(x.records for x in dash.usage_lines(ledger, _filter(**kw), UTC_ZONE) if x.kind != "reported")

    everything = rows()
    assert everything == 9 + rows(source="codex")
    assert rows(source="claude_code") == 9
    assert rows(source="reported") == 0
    assert rows(model=UNKNOWN) == 1
    assert rows(project="/home/u/web") == 2
    assert rows(provider="anthropic") == 9
    assert rows(since=today_utc() - timedelta(days=6)) == 6
    reported = dash.usage_lines(ledger, _filter(source="reported"), UTC_ZONE)
    assert [x.cost_pico for x in reported] == [1_000_000_000_000, 2_500_000_000_000]


@pytest.mark.parametrize("group_by", dash.GROUPINGS)
def test_every_grouping_adds_up_to_the_same_totals(ledger: sqlite3.Connection, group_by: str) -> None:
    lines = dash.usage_lines(ledger, _filter(group_by=group_by), UTC_ZONE)
    assert sum(x.records for x in lines if x.kind != "reported") == ledger.execute(
        "SELECT count(*) FROM usage").fetchone()[0]
    assert sum(x.cost_pico or 0 for x in lines if x.kind == "estimated") == ledger.execute(
        "SELECT sum(cost_pusd) FROM usage").fetchone()[0]


def test_sort_lines_puts_unpriced_below_priced(ledger: sqlite3.Connection) -> None:
    lines = dash.usage_lines(ledger, _filter(group_by="model"), UTC_ZONE)
    desc = dash.sort_lines(lines, "cost_pico", descending=True)
    assert desc[0].cost_pico == max(x.cost_pico or 0 for x in lines)
    assert desc[-1].kind == "unpriced"
    asc = dash.sort_lines(lines, "records")
    assert [x.records for x in asc] == sorted(x.records for x in lines)
    with pytest.raises(ValueError, match="unknown column"):
        dash.sort_lines(lines, "nope")


def test_csv_is_exact(tmp_path: Path) -> None:
    lines = [dash.UsageLine("2026-11-20", "Claude Code", "anthropic", "estimated", 2, 10, 20, 30, 40,
                            1_234_567_890_123, None),
             dash.UsageLine("2026-11-20", "Codex", "openai", "unpriced", 1, 1, 2, 0, 0, None, None)]
    path = tmp_path / "out.csv"
    assert dash.write_csv(path, lines) == 2
    assert path.read_text().splitlines() == [
        "group,origin,provider,kind,records,input_tokens,output_tokens,cache_creation_tokens,cache_read_tokens,"
        "cost_usd",
        "2026-11-20,Claude Code,anthropic,estimated,2,10,20,30,40,1.234567890123",
        "2026-11-20,Codex,openai,unpriced,1,1,2,0,0,",
    ]


def test_filter_choices(ledger: sqlite3.Connection) -> None:
    c = dash.filter_choices(ledger)
    assert c.providers == ("anthropic", "openai")
    assert SONNET in c.models and "gpt-5" in c.models and UNKNOWN in c.models
    assert "/home/u/web" in c.projects


def test_network_rows_newest_first_and_filtered(ledger: sqlite3.Connection) -> None:
    rows = dash.network_rows(ledger)
    assert [r.provider for r in rows] == ["anthropic", "openai", "openai"]
    assert rows[1].status is None and rows[1].error == "timed out"
    assert len(dash.network_rows(ledger, "openai")) == 2
    assert dash.network_count(ledger) == 3 and dash.network_count(ledger, "openai") == 2
    assert [r.ts_ms for r in dash.network_rows(ledger, limit=2)] == [r.ts_ms for r in rows[:2]]
    assert dash.network_providers(ledger) == ["anthropic", "openai"]


def test_local_sources_and_ledger_state(ledger: sqlite3.Connection, home: Home) -> None:
    env = {"CLAUDE_CONFIG_DIR": str(home.claude), "CODEX_HOME": str(home.codex)}
    state = dash.ledger_state(ledger, env, home.root)
    assert not state.empty and state.accounts == 1
    claude, codex = state.sources
    assert claude.label == "Claude Code" and claude.files == 2 and claude.records == 9 and claude.found
    assert codex.files == 1 and codex.last_read_ms is not None and codex.last_sync_status == "ok"


def test_empty_ledger_state(home: Home, cli: Any) -> None:
    assert cli("sync", "--no-accounts").code == 0
    conn = sqlite3.connect(home.data / "ledger.sqlite3")
    try:
        state = dash.ledger_state(conn, {"CLAUDE_CONFIG_DIR": str(home.claude), "CODEX_HOME": str(home.root / "no")},
                                  home.root)
        assert state.empty
        assert [s.found for s in state.sources] == [True, False]
    finally:
        conn.close()


ZONES = ("UTC", "Europe/Paris", "America/St_Johns", "Asia/Kathmandu", "Pacific/Chatham", "Australia/Lord_Howe",
         "America/Los_Angeles")


@pytest.fixture
def synthetic(tmp_path: Path) -> sqlite3.Connection:
    """5,000 usage rows at random instants of 2025-2026 (DST changes included; some exactly at a UTC or local
    midnight), some unpriced, with the rollup built."""
    import random

    from tracker.ledger.rollup import refresh
    from tracker.store import open_store

    rnd = random.Random(4)
    lo = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)
    hi = int(datetime(2026, 12, 31, tzinfo=UTC).timestamp() * 1000)
    stamps = [rnd.randrange(lo, hi) for _ in range(4_950)]
    stamps += [lo + k * 86_400_000 for k in range(25)]  # UTC midnights
    stamps += [int(datetime(2026, 3, 29, tzinfo=ZoneInfo("Europe/Paris")).timestamp() * 1000) + k for k in range(25)]
    store = open_store(tmp_path / "ledger.sqlite3")
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO usage (source, dedup_key, ts_ms, model, input_tokens, cost_pusd, cost_kind)"
            " VALUES (?, ?, ?, 'm', 1, ?, ?)",
            [(SOURCES_CYCLE[k % 2], f"k{k}", ts, None if k % 17 == 0 else rnd.randrange(1, 10**12),
              "unpriced" if k % 17 == 0 else "estimated") for k, ts in enumerate(stamps)],
        )
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('usage_dirty_lo_ms', ?), ('usage_dirty_hi_ms', ?)",
                     (str(lo - 1), str(hi + 86_400_000)))
    refresh(store.conn)
    store.close()
    conn = sqlite3.connect(f"file:{tmp_path / 'ledger.sqlite3'}?mode=ro", uri=True)
    yield conn
    conn.close()


SOURCES_CYCLE = ("claude_code", "codex")


@pytest.mark.parametrize("zone", ZONES)
def test_day_sums_from_the_rollup_equal_the_rows(synthetic: sqlite3.Connection, zone: str) -> None:
    tz = ZoneInfo(zone)
    for first, last in ((date(2025, 1, 1), date(2025, 12, 31)), (date(2026, 3, 20), date(2026, 4, 10)),
                        (date(2026, 10, 20), date(2026, 11, 5)), (date(2024, 12, 30), date(2025, 1, 2))):
        fast = dash.spend_series(synthetic, first, last, tz)
        rows = dash.spend_series(synthetic, first, last, tz, use_rollup=False)
        assert fast == rows
        assert fast.sum("estimated") > 0 and sum(fast.unpriced_records) > 0


def test_month_run_rates_per_kind() -> None:
    from zoneinfo import ZoneInfo

    from tracker.analytics.spend import run_rate

    utc = ZoneInfo("UTC")
    # 10 days into a 30-day month (Nov 11 00:00 UTC): each kind is projected apart, three times what it is so far
    now = int(datetime(2026, 11, 11, tzinfo=utc).timestamp() * 1000)
    assert dash.month_run_rates(5 * 10**12, 7 * 10**12, utc, now) == (15 * 10**12, 21 * 10**12)
    lo = int(datetime(2026, 11, 1, tzinfo=utc).timestamp() * 1000)
    hi = int(datetime(2026, 12, 1, tzinfo=utc).timestamp() * 1000)
    assert sum(dash.month_run_rates(5, 7, utc, now)) == run_rate(12, lo, hi, now)
    # December rolls over to January
    dec = int(datetime(2026, 12, 16, 12, tzinfo=utc).timestamp() * 1000)
    assert dash.month_run_rates(10**12, 0, utc, dec) == (2 * 10**12, 0)


# --- outcomes: the Outcomes page's rows, filters and figures; the overview's markers; the value charts ---------

_D1 = datetime(2026, 11, 1, tzinfo=UTC)


def _ms(days: int, hour: int) -> int:
    return int((_D1 + timedelta(days=days, hours=hour)).timestamp() * 1000)


@pytest.fixture
def outcome_ledger(tmp_path: Path) -> Path:
    """alpha: $2 on day 0, $3 on day 1; beta: $5 on day 1. Outcomes: A1 (alpha, day 0 12:00, $10, kept),
    A2 (alpha, day 2, $4 + 2 h, redone), B1 (beta, day 2, 1.5 h, kept)."""
    from tracker.outcomes import OutcomeFields, add_outcome
    from tracker.store import open_store

    db = tmp_path / "ledger.sqlite"
    with open_store(db) as store, store.transaction() as conn:
        for n, (path, ts, usd) in enumerate((("/w/alpha", _ms(0, 10), 2), ("/w/alpha", _ms(1, 10), 3),
                                             ("/w/beta", _ms(1, 12), 5))):
            conn.execute("INSERT INTO usage (source, dedup_key, ts_ms, model, cost_pusd, cost_kind, project_path) "
                         "VALUES ('codex', ?, ?, 'm', ?, 'estimated', ?)", (f"k{n}", ts, usd * 10**12, path))
        add_outcome(conn, OutcomeFields(title="A1", at_ms=_ms(0, 12), project="alpha", value_pusd=10 * 10**12))
        add_outcome(conn, OutcomeFields(title="A2", at_ms=_ms(2, 9), project="alpha", value_pusd=4 * 10**12,
                                        hours_saved="2", status="redone", kind="bug_fix"))
        add_outcome(conn, OutcomeFields(title="B1", at_ms=_ms(2, 15), project="beta", hours_saved="1.5"))
    return db


def test_outcome_rows_carry_their_attributed_spend_and_filter(outcome_ledger: Path) -> None:
    from decimal import Decimal

    with closing(sqlite3.connect(outcome_ledger)) as conn:
        data = dash.outcome_data(conn, UTC)
    assert [o.title for o in data.lines] == ["B1", "A2", "A1"]  # newest first
    assert {o.title: o.attributed_pusd // 10**12 for o in data.lines} == {"A1": 2, "A2": 3, "B1": 5}
    assert data.projects == ["alpha", "beta"] and data.guessed_project == "beta"
    f = dash.filter_outcomes
    assert [o.title for o in f(data.lines, dash.OutcomeFilter(project="alpha"))] == ["A2", "A1"]
    assert [o.title for o in f(data.lines, dash.OutcomeFilter(status="kept"))] == ["B1", "A1"]
    assert [o.title for o in f(data.lines, dash.OutcomeFilter(kind="bug_fix"))] == ["A2"]
    assert [o.title for o in f(data.lines, dash.OutcomeFilter(since=date(2026, 11, 2)))] == ["B1", "A2"]
    # By hand: kept value $10 + 1.5 h x $100 = $160 over $2 + $3 + $5 attributed = 16.00 per dollar.
    fig = dash.outcome_figures(data.lines, Decimal(100))
    assert (fig.outcomes, fig.kept_outcomes, fig.value_pusd, fig.spend_pusd) == (3, 2, 160 * 10**12, 10 * 10**12)
    assert fig.value_per_dollar() == Decimal("16.00")
    no_rate = dash.outcome_figures(data.lines, None)
    assert (no_rate.value_pusd, no_rate.unvalued_hours, no_rate.value_per_dollar()) == (
        10 * 10**12, Decimal("1.5"), Decimal("1.00"))


def test_outcome_markers_are_the_outcomes_of_the_range_on_their_local_day(outcome_ledger: Path) -> None:
    with closing(sqlite3.connect(outcome_ledger)) as conn:
        markers = dash.outcome_markers(conn, date(2026, 11, 2), date(2026, 11, 3), UTC)
        tokyo = dash.outcome_markers(conn, date(2026, 11, 1), date(2026, 11, 1), ZoneInfo("Asia/Tokyo"))
    assert [(m.title, m.day, m.status, m.hours_saved) for m in markers] == [
        ("A2", date(2026, 11, 3), "redone", "2"), ("B1", date(2026, 11, 3), "kept", "1.5")]
    assert [m.title for m in tokyo] == ["A1"]  # 12:00 UTC is 21:00 in Tokyo, still Nov 1


def test_value_series_is_report_values_by_month_with_gaps_filled(outcome_ledger: Path) -> None:
    from decimal import Decimal

    now = int(datetime(2027, 1, 10, tzinfo=UTC).timestamp() * 1000)
    with closing(sqlite3.connect(outcome_ledger)) as conn:
        v = dash.value_series(conn, UTC, now, Decimal(100))
    assert [m.month for m in v.months] == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]
    nov = v.months[0]
    assert (nov.spend_pusd, nov.outcomes, nov.value_pusd, nov.value_per_dollar) == (
        10 * 10**12, 3, 160 * 10**12, Decimal("16.00"))
    assert v.months[1].spend_pusd == 0 and v.months[1].value_per_dollar is None
    assert v.cumulative_spend() == (10 * 10**12,) * 3 and v.cumulative_value() == (160 * 10**12,) * 3


def test_cost_per_outcome_by_kind_and_cost_value_points_by_hand(outcome_ledger: Path) -> None:
    from decimal import Decimal

    with closing(sqlite3.connect(outcome_ledger)) as conn:
        data = dash.outcome_data(conn, UTC)
    default_kind = next(o.kind for o in data.lines if o.title == "A1")
    # A1 ($2) and B1 ($5) share the default kind: ($2 + $5) / 2 = $3.50; A2 (bug fix, redone) $3 / 1.
    kinds = {k.kind: (k.outcomes, k.spend_pusd, k.cost_per_outcome_pusd) for k in dash.cost_by_kind(data.lines)}
    assert kinds == {default_kind: (2, 7 * PICO, 3 * PICO + PICO // 2), "bug_fix": (1, 3 * PICO, 3 * PICO)}
    # Points: attributed spend against value (dollars + hours at $100), every status, oldest first.
    points, left_out = dash.outcome_points(data.lines, Decimal(100))
    assert [(p.title, p.status, p.cost_pusd, p.value_pusd) for p in points] == [
        ("A1", "kept", 2 * PICO, 10 * PICO), ("A2", "redone", 3 * PICO, 204 * PICO),
        ("B1", "kept", 5 * PICO, 150 * PICO)]
    assert left_out == 0
    # No rate: B1 (hours only) has no known value and is left out; A2 keeps its dollars, its hours unvalued.
    points, left_out = dash.outcome_points(data.lines, None)
    assert [(p.title, p.value_pusd, p.unvalued_hours) for p in points] == [
        ("A1", 10 * PICO, Decimal(0)), ("A2", 4 * PICO, Decimal(2))]
    assert left_out == 1


def test_pay_share_is_the_annual_run_rate_over_compensation_exactly(outcome_ledger: Path) -> None:
    from decimal import Decimal

    now = int(datetime(2026, 11, 15, tzinfo=UTC).timestamp() * 1000)  # 14 of November's 30 days elapsed
    with closing(sqlite3.connect(outcome_ledger)) as conn:
        v = dash.value_series(conn, UTC, now, Decimal(100))
    assert v.run_rate_pusd == 10 * PICO * 30 // 14  # $10 so far, projected to the month's end (floor)
    assert v.value_per_dollar == Decimal("16.00")
    share = dash.pay_share(v.run_rate_pusd, Decimal(500))
    assert share.annual_run_rate_pusd == 12 * (300 * PICO // 14)
    assert share.percent == Decimal("51.4") and share.above_benchmark  # $257.14 of $500
    # the benchmark itself: $250k of tokens for a $500k engineer is 50.0%, not above it
    bench = dash.pay_share(250_000 * PICO // 12, Decimal(500_000))
    assert (bench.percent, bench.above_benchmark) == (Decimal("50.0"), False)
    assert dash.pay_share(PICO, Decimal(0)).percent is None
    assert "$250k of tokens for a $500k engineer" in dash.PAY_SHARE_BENCHMARK
