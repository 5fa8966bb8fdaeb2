"""Subscriptions: exact spreading of a monthly fee per day, API-equivalent value against the fee, the subscription
column of ``report value``, and the ``subscription`` commands (round trips and one-line errors).

Hand-computed figures (UTC; "today" is 2026-11-18, a Wednesday):

* $200 a month over 28/30/31-day months: every full month sums to exactly 200_000_000_000_000 pico. Day k of a
  D-day month gets floor(F*k/D) - floor(F*(k-1)/D).
* Plan "max" ($200, claude_code, since 2026-09-15): September counts days 15..30 = F - floor(F*14/30)
  = 200e12 - 93_333_333_333_333 = 106_666_666_666_667 pico ($106.666666666667). With --until 2026-12-10,
  December counts floor(F*10/31) = 64_516_129_032_258.
* The ledger of :func:`build_ledger`: November to date, Claude Code usage $500 and Codex usage $12; October
  Codex $5. Plan "max" ($200, claude_code, since 2026-11-01) is charged 18/30 of $200 = $120 to date and covered
  $500: 500/120 = 4.1666.. -> "paid for itself 4.2× over". Plan "plus" ($20, codex, since 2026-10-01): October
  fee $20 against $5 -> "below break-even (25% of the fee)"; November to date 18/30 of $20 = $12 against $12 ->
  "break-even".
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import Home

from tracker import plans
from tracker.analytics.subscriptions import day_share, fee_between, plan_months, subscription_by_day
from tracker.analytics.value import ValueQuery, build_value_report
from tracker.domain import PICO_PER_USD
from tracker.plans import Subscription, add_subscription, list_subscriptions
from tracker.store import open_store

UTC_ZONE = ZoneInfo("UTC")
NOW = 1_795_000_000_000  # 2026-11-18 11:06:40 UTC, a Wednesday
TODAY = date(2026, 11, 18)
FEE = 200 * PICO_PER_USD


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def add_usage(conn: sqlite3.Connection, source: str, at: str, dollars: int | None, path: str | None = None) -> None:
    n = conn.execute("SELECT count(*) FROM usage").fetchone()[0]
    conn.execute(
        "INSERT INTO usage (source, dedup_key, ts_ms, model, cost_pusd, cost_kind, project_path) "
        "VALUES (?, ?, ?, 'm', ?, ?, ?)",
        (source, f"k{n}", ms(at), None if dollars is None else dollars * PICO_PER_USD,
         "unpriced" if dollars is None else "estimated", path),
    )


def build_ledger(db: Path) -> sqlite3.Connection:
    """The ledger of the module docstring (no plans yet)."""
    open_store(db).close()
    conn = sqlite3.connect(db, isolation_level=None)
    add_usage(conn, "claude_code", "2026-11-03T10:00:00", 300, "/work/app")
    add_usage(conn, "claude_code", "2026-11-17T10:00:00", 200, "/work/app")
    add_usage(conn, "codex", "2026-11-10T10:00:00", 12, "/work/site")
    add_usage(conn, "codex", "2026-10-20T10:00:00", 5, "/work/site")
    return conn


def plan(fee: int = FEE, start: date = date(2026, 9, 15), end: date | None = None) -> Subscription:
    return Subscription(1, "p", "claude_code", fee, start, end, 0)


# ---- spreading -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("year", "month", "days"), [(2027, 2, 28), (2026, 11, 30), (2026, 12, 31), (2028, 2, 29)])
def test_full_month_sums_to_the_fee_exactly(year: int, month: int, days: int) -> None:
    shares = [day_share(FEE, date(year, month, d)) for d in range(1, days + 1)]
    assert sum(shares) == FEE == 200_000_000_000_000
    assert max(shares) - min(shares) <= 1  # the remainder is spread one pico at a time
    first, last = date(year, month, 1), date(year, month, days)
    assert fee_between(plan(start=date(2020, 1, 1)), first, last, today=date(2030, 1, 1)) == FEE


def test_odd_fee_and_a_year_sum_exactly() -> None:
    fee = 19_990_000_000_001  # $19.990000000001: not divisible by any month length
    sub = plan(fee, start=date(2026, 1, 1))
    assert fee_between(sub, date(2026, 1, 1), date(2026, 12, 31), today=date(2030, 1, 1)) == 12 * fee


def test_partial_first_and_last_month() -> None:
    sub = plan(start=date(2026, 9, 15), end=date(2026, 12, 10))
    far = date(2030, 1, 1)
    assert fee_between(sub, date(2026, 9, 1), date(2026, 9, 30), far) == 106_666_666_666_667
    assert fee_between(sub, date(2026, 10, 1), date(2026, 10, 31), far) == FEE
    assert fee_between(sub, date(2026, 12, 1), date(2026, 12, 31), far) == 64_516_129_032_258
    assert fee_between(sub, date(2026, 12, 11), date(2027, 3, 1), far) == 0  # after --until
    # nothing after today: the current month counts to date
    assert fee_between(plan(start=date(2026, 11, 1)), date(2026, 11, 1), date(2026, 11, 30), TODAY) == 120 * 10**12
    by_day = subscription_by_day(sqlite3.connect(":memory:"), date(2026, 12, 9), date(2026, 12, 12), far, [sub])
    assert sorted(by_day) == [date(2026, 12, 9), date(2026, 12, 10)]
    assert sum(by_day[date(2026, 12, 9)].values()) == day_share(FEE, date(2026, 12, 9))


# ---- value against the fee ---------------------------------------------------------------------------------------


def test_break_even_figures_by_hand(tmp_path: Path) -> None:
    conn = build_ledger(tmp_path / "ledger.sqlite3")
    add_subscription(conn, "max", "claude_code", "200", date(2026, 11, 1))
    add_subscription(conn, "plus", "codex", "$20", date(2026, 10, 1))
    subs = {s.name: s for s in list_subscriptions(conn)}
    (nov,) = plan_months(conn, subs["max"], UTC_ZONE, TODAY)
    assert (nov.month, nov.first, nov.last, nov.to_date) == ("2026-11", date(2026, 11, 1), TODAY, True)
    assert (nov.fee_pusd, nov.value_pusd) == (120 * PICO_PER_USD, 500 * PICO_PER_USD)
    assert str(nov.times()) == "4.2"
    assert nov.verdict() == "paid for itself 4.2× over"
    octo, nov2 = plan_months(conn, subs["plus"], UTC_ZONE, TODAY)
    assert (octo.fee_pusd, octo.value_pusd, octo.to_date) == (20 * PICO_PER_USD, 5 * PICO_PER_USD, False)
    assert octo.verdict() == "below break-even (25% of the fee)"
    assert (nov2.fee_pusd, nov2.value_pusd) == (12 * PICO_PER_USD, 12 * PICO_PER_USD)
    assert nov2.verdict() == "break-even"


def test_provider_plan_counts_its_agents_and_unpriced_apart(tmp_path: Path) -> None:
    conn = build_ledger(tmp_path / "ledger.sqlite3")
    add_usage(conn, "claude_code", "2026-11-05T10:00:00", None)
    add_subscription(conn, "team", "anthropic", "100", date(2026, 11, 1), end=date(2026, 11, 15))
    (nov,) = plan_months(conn, list_subscriptions(conn)[0], UTC_ZONE, TODAY)
    # Nov 1..15: 15/30 of $100 = $50; covered: Claude Code's $300 on 11-03 (11-17 is after --until), 1 unpriced
    assert (nov.last, nov.to_date, nov.fee_pusd, nov.value_pusd, nov.unpriced_records) == (
        date(2026, 11, 15), False, 50 * PICO_PER_USD, 300 * PICO_PER_USD, 1)
    assert nov.verdict() == "paid for itself 6.0× over"


# ---- report value -------------------------------------------------------------------------------------------------


def test_value_report_gets_a_subscription_part_only_with_plans(tmp_path: Path) -> None:
    conn = build_ledger(tmp_path / "ledger.sqlite3")
    q = ValueQuery("month", UTC_ZONE, None, None, NOW)
    before = build_value_report(conn, q)
    assert before.subscriptions is False
    assert [(r.key, r.subscription_pusd) for r in before.rows] == [("2026-10", 0), ("2026-11", 0)]
    add_subscription(conn, "max", "claude_code", "200", date(2026, 10, 15))
    rep = build_value_report(conn, q)
    assert rep.subscriptions is True
    oct_fee = FEE - FEE * 14 // 31  # Oct 15..31
    rows = {r.key: r for r in rep.rows}
    assert rows["2026-10"].subscription_pusd == oct_fee
    assert rows["2026-11"].subscription_pusd == 120 * PICO_PER_USD
    # the plan paid for Claude Code's $500: that is covered (API-equivalent), not spend; the fee is
    assert (rows["2026-11"].covered_pusd, rows["2026-11"].estimated_pusd) == (500 * PICO_PER_USD, 12 * PICO_PER_USD)
    assert rows["2026-11"].spend_pusd == (12 + 120) * PICO_PER_USD
    # no outcome is logged: all of it, the fee included, is spend with no outcome
    assert rows["2026-11"].without_outcome_pusd == 132 * PICO_PER_USD
    assert rep.totals.subscription_pusd == oct_fee + 120 * PICO_PER_USD
    by_project = build_value_report(conn, ValueQuery("project", UTC_ZONE, date(2026, 11, 1), date(2026, 11, 30), NOW))
    subs = {r.key: r.subscription_pusd for r in by_project.rows}
    # the days with covered usage (11-03 and 11-17, both in app) give app their whole share; the rest has no project
    app_fee = day_share(FEE, date(2026, 11, 3)) + day_share(FEE, date(2026, 11, 17))
    assert subs == {"app": app_fee, "site": 0, "(no project)": 120 * PICO_PER_USD - app_fee}
    # the run-rate of November projects the spend so far, the fee included and the covered usage not
    from tracker.analytics.spend import run_rate

    nov = (ms("2026-11-01T00:00:00"), ms("2026-12-01T00:00:00"))
    assert before.totals.run_rate_pusd == run_rate(512 * PICO_PER_USD, *nov, NOW)
    assert rep.totals.run_rate_pusd == run_rate(132 * PICO_PER_USD, *nov, NOW)


# ---- CLI ------------------------------------------------------------------------------------------------------------


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def ledger(home: Home, monkeypatch: pytest.MonkeyPatch) -> Home:
    build_ledger(home.data / "ledger.sqlite3").close()
    monkeypatch.setattr(plans, "now_ms", lambda: NOW)
    return home


def test_cli_round_trip(ledger: Home, cli: Any) -> None:
    r = cli("subscription", "list")
    assert r.code == 0 and r.out.startswith("No subscriptions.")
    r = cli("subscription", "add", "Claude Max", "--covers", "claude_code", "--fee", "200", "--since", "2026-11-01")
    assert r.code == 0, r.err
    assert r.out.startswith("Added subscription #1 'Claude Max': $200.00 a month covering claude_code, from 2026-11-01")
    r = cli("subscription", "add", "plus", "--covers", "codex", "--fee", "20", "--since", "2026-10-01",
            "--until", "2026-12-31")
    assert r.code == 0, r.err
    listed = r = cli("subscription", "list", "--format", "json")
    assert r.code == 0, r.err
    data = listed.json()
    assert [(p["name"], p["covers"], p["fee_usd"], p["since"], p["until"]) for p in data] == [
        ("plus", "codex", 20.0, "2026-10-01", "2026-12-31"), ("Claude Max", "claude_code", 200.0, "2026-11-01", None)]
    assert [(m["month"], m["fee_usd"], m["api_value_usd"], m["times"], m["verdict"]) for m in data[1]["months"]] == [
        ("2026-11", 120.0, 500.0, 4.2, "paid for itself 4.2× over")]
    assert [m["verdict"] for m in data[0]["months"]] == ["below break-even (25% of the fee)", "break-even"]
    table = cli("subscription", "list").out
    assert "paid for itself 4.2× over" in table and "2026-11 (to date)" in table
    csv_out = cli("subscription", "list", "--format", "csv").out
    assert csv_out.splitlines()[0] == ("plan,covers,month,first,last,to_date,fee_usd,api_value_usd,unpriced_records,"
                                       "times,verdict")
    r = cli("subscription", "remove", "plus")
    assert r.code == 0 and r.out.startswith("Removed subscription #2 'plus' (codex).")
    assert [p["name"] for p in cli("subscription", "list", "--format", "json").json()] == ["Claude Max"]


def test_cli_report_value_json_includes_the_fee(ledger: Home, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.analytics import value

    monkeypatch.setattr(value, "now_ms", lambda: NOW)
    before = cli("report", "value", "--format", "json").json()
    assert cli("subscription", "add", "max", "--covers", "claude", "--fee", "200", "--since", "2026-11-01").code == 0
    after = cli("report", "value", "--format", "json").json()
    # the fee ($120 to date) replaces the API-equivalent cost of the Claude Code usage it covered ($500)
    assert Decimal(after["totals"]["spend_usd"]) == Decimal(before["totals"]["spend_usd"]) + 120 - 500
    assert Decimal(after["totals"]["covered_usd"]) == 500


@pytest.mark.parametrize(("args", "message"), [
    (("--covers", "gemini", "--fee", "20", "--since", "2026-11-01"),
     "token-ledger: unknown source 'gemini' for --covers; use one of: claude_code, codex, "),
    (("--covers", "codex", "--fee", "twenty", "--since", "2026-11-01"),
     "token-ledger: --fee 'twenty' is not an amount of dollars"),
    (("--covers", "codex", "--fee", "-5", "--since", "2026-11-01"), "token-ledger: --fee '-5' is negative"),
    (("--covers", "codex", "--fee", "20", "--since", "2026-13-01"), "token-ledger: --since '2026-13-01' is not a date"),
    (("--covers", "codex", "--fee", "20", "--since", "2026-11-01", "--until", "2026-10-01"),
     "token-ledger: --until 2026-10-01 is before --since 2026-11-01"),
])
def test_cli_add_errors_are_one_line(ledger: Home, cli: Any, args: tuple[str, ...], message: str) -> None:
    r = cli("subscription", "add", "x", *args)
    assert r.code == 1
    assert _one_line(r.err).startswith(message), r.err


def test_cli_duplicate_and_unknown_remove(ledger: Home, cli: Any) -> None:
    assert cli("subscription", "add", "x", "--covers", "codex", "--fee", "20", "--since", "2026-11-01").code == 0
    r = cli("subscription", "add", "x", "--covers", "codex", "--fee", "20", "--since", "2026-11-01")
    assert r.code == 1
    assert _one_line(r.err) == ("token-ledger: a subscription named 'x' already exists; remove it first with "
                                "`token-ledger subscription remove 'x'`")
    r = cli("subscription", "remove", "y")
    assert r.code == 1
    assert _one_line(r.err) == "token-ledger: no subscription named 'y'; known: x"


def test_no_ledger_lists_nothing(home: Home, cli: Any) -> None:
    r = cli("subscription", "list")
    assert r.code == 0 and r.out.startswith("No subscriptions.")
    assert not (home.data / "ledger.sqlite3").exists()
