"""Budgets: periods, spend so far (estimated + reported + subscription) per total, provider and project, % used and
thresholds, the value alert, the notices decided for the tray (once per threshold per period), and the ``budget``
commands.

The ledger is :func:`test_subscriptions.build_ledger` ("today" 2026-11-18, Wednesday; week 2026-W47 = 11-16..11-22)
plus an anthropic bill of $100 on 2026-11-17 (UTC date). By hand, November so far: Claude Code $500 (11-03 $300,
11-17 $200, both /work/app), Codex $12 (11-10, /work/site), anthropic reported $100. This week: Claude Code $200,
anthropic reported $100.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import Home
from test_attribution import add_account, add_billed
from test_subscriptions import NOW, UTC_ZONE, build_ledger

from tracker import plans
from tracker.analytics.budgets import budget_status, budget_statuses, period_bounds, value_alerts
from tracker.domain import PICO_PER_USD
from tracker.outcomes import OutcomeFields, add_outcome, add_rule, parse_when
from tracker.plans import add_budget, add_subscription, list_budgets
from tracker.sync import budget as notices

USD = PICO_PER_USD
WEEK = 7 * 86_400_000


def ledger_at(path: Path) -> sqlite3.Connection:
    conn = build_ledger(path)
    add_billed(conn, add_account(conn, "anthropic", "work"), "anthropic", "2026-11-17", "100")
    add_rule(conn, "app", "path_prefix", "/work/app")
    add_rule(conn, "site", "path_prefix", "/work/site")
    return conn


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    return ledger_at(tmp_path / "ledger.sqlite3")


def _status(conn: sqlite3.Connection, bid: int, now: int = NOW) -> Any:
    b = next(x for x in list_budgets(conn) if x.id == bid)
    return budget_status(conn, b, UTC_ZONE, now)


def test_periods() -> None:
    assert period_bounds("monthly", date(2026, 11, 18)) == ("2026-11", date(2026, 11, 1), date(2026, 11, 30))
    assert period_bounds("monthly", date(2027, 2, 3)) == ("2027-02", date(2027, 2, 1), date(2027, 2, 28))
    assert period_bounds("weekly", date(2026, 11, 18)) == ("2026-W47", date(2026, 11, 16), date(2026, 11, 22))
    assert period_bounds("weekly", date(2027, 1, 1)) == ("2026-W53", date(2026, 12, 28), date(2027, 1, 3))


def test_total_provider_project_spend_and_percent(conn: sqlite3.Connection) -> None:
    total = add_budget(conn, "monthly", "1000")
    anthropic = add_budget(conn, "monthly", "800", provider="anthropic")
    codex = add_budget(conn, "weekly", "10", provider="codex")
    app = add_budget(conn, "weekly", "250", project="app")
    st = _status(conn, total)
    assert (st.estimated_pusd, st.reported_pusd, st.subscription_pusd) == (512 * USD, 100 * USD, 0)
    assert (st.spend_pusd, st.percent, st.crossed()) == (612 * USD, 61, [50])
    st = _status(conn, anthropic)  # Claude Code is priced at anthropic's models, plus the anthropic bill
    assert (st.estimated_pusd, st.reported_pusd, st.percent, st.crossed()) == (500 * USD, 100 * USD, 75, [50])
    st = _status(conn, codex)  # this week: no Codex usage (11-10 was last week)
    assert (st.period_key, st.first, st.last, st.spend_pusd, st.percent) == (
        "2026-W47", date(2026, 11, 16), date(2026, 11, 22), 0, 0)
    st = _status(conn, app)  # this week in app: Claude Code $200 on 11-17 (the bill has no rule: unattributed)
    assert (st.spend_pusd, st.percent, st.crossed()) == (200 * USD, 80, [50, 80])
    # a plan adds its fee spread so far ($200 from 11-01 -> 18/30 = $120) and takes the usage it covered (all of
    # Claude Code's $500) out of estimated: it was paid by the fee, not at API prices
    add_subscription(conn, "max", "claude_code", "200", date(2026, 11, 1))
    st = _status(conn, total)
    assert (st.estimated_pusd, st.reported_pusd, st.subscription_pusd, st.covered_pusd) == (
        12 * USD, 100 * USD, 120 * USD, 500 * USD)
    assert (st.spend_pusd, st.percent) == (232 * USD, 23)
    st = _status(conn, anthropic)  # Claude Code 500 - 500 covered, the bill, the fee
    assert (st.estimated_pusd, st.spend_pusd, st.crossed()) == (0, 220 * USD, [])
    # app had the only covered usage of 11-17, so it carries that day's fee share (11-16 and 11-18: no project)
    share_17 = 200 * USD * 17 // 30 - 200 * USD * 16 // 30
    assert share_17 == 6_666_666_666_667
    st = _status(conn, app)
    assert (st.estimated_pusd, st.subscription_pusd, st.covered_pusd) == (0, share_17, 200 * USD)
    assert _status(conn, codex).subscription_pusd == 0
    # exactly 100%: reached (the threshold is "at or above")
    # this week: the bill $100 + the fee of 11-16..11-18 = floor(F*18/30) - floor(F*15/30) = $20
    hundred = add_budget(conn, "weekly", "120", provider="anthropic")
    assert (_status(conn, hundred).spend_pusd, _status(conn, hundred).percent) == (120 * USD, 100)
    assert _status(conn, hundred).crossed() == [50, 80, 100]
    just_under = add_budget(conn, "weekly", "20.000000000001", provider="claude_code")  # Claude Code alone: the fee
    assert (_status(conn, just_under).spend_pusd, _status(conn, just_under).percent) == (20 * USD, 99)


def test_value_alert(conn: sqlite3.Connection) -> None:
    # this week, app spent $200 (11-17) with no outcome; site spent nothing this week
    assert [(a.project, a.week_key, a.without_outcome_pusd) for a in value_alerts(conn, UTC_ZONE, NOW)] == [
        ("app", "2026-W47", 200 * USD)]
    assert value_alerts(conn, UTC_ZONE, NOW, min_pusd=201 * USD) == []
    # an outcome after the spend covers it: no alert
    add_outcome(conn, OutcomeFields(title="shipped", at_ms=parse_when("2026-11-17 12:00", UTC_ZONE), project="app"))
    assert value_alerts(conn, UTC_ZONE, NOW) == []


def test_notices_once_per_threshold_per_period(conn: sqlite3.Connection, tmp_path: Path) -> None:
    data = tmp_path / "state"
    add_budget(conn, "weekly", "250", project="app")  # 80% this week
    add_budget(conn, "monthly", "1000")  # 61%
    first = notices.check_stored(conn, UTC_ZONE, NOW, data)
    assert [(n.percent, n.title, n.text) for n in first] == [
        (50, "50% of the monthly budget spent", "This month: $612.00 of $1,000.00 (estimated + reported)."),
        (80, "80% of the weekly budget of project app spent", "This week: $200.00 of $250.00 (estimated + reported)."),
        (0, "Spend with no outcome", "Project app spent $200.00 this week with no outcome logged."),
    ]
    assert notices.check_stored(conn, UTC_ZONE, NOW, data) == []  # remembered in app-state.json
    state = json.loads((data / "app-state.json").read_text())["stored_alerts_sent"]
    assert state["2026-W47"] == ["budget:1:2026-W47:50", "budget:1:2026-W47:80", "value:2026-W47:app"]
    # more spend: the weekly budget reaches 100% and speaks once more; the monthly one stays under 80%
    from test_subscriptions import add_usage

    add_usage(conn, "claude_code", "2026-11-18T09:00:00", 60, "/work/app")
    again = notices.check_stored(conn, UTC_ZONE, NOW, data)
    assert [(n.percent, n.title) for n in again] == [(100, "Weekly budget of project app reached")]
    # next week: a new period; no spend yet, so nothing to say; then spend with no outcome speaks again, and
    # periods no longer current are forgotten
    assert notices.check_stored(conn, UTC_ZONE, NOW + WEEK, data) == []
    add_usage(conn, "claude_code", "2026-11-24T09:00:00", 30, "/work/app")
    assert [n.text for n in notices.check_stored(conn, UTC_ZONE, NOW + WEEK, data)] == [
        "Project app spent $30.00 this week with no outcome logged."]
    assert "2026-W47" not in json.loads((data / "app-state.json").read_text())["stored_alerts_sent"]


def test_settings_budget_state_survives(conn: sqlite3.Connection, tmp_path: Path) -> None:
    data = tmp_path / "state"
    notices.mark_sent(data, "2026-11", [80])
    add_budget(conn, "monthly", "1000")
    notices.check_stored(conn, UTC_ZONE, NOW, data)
    assert notices.load_sent(data, "2026-11") == [50, 80]  # the Settings budget's record is left alone
    notices.mark_sent(data, "2026-11", [100])
    assert "stored_alerts_sent" in json.loads((data / "app-state.json").read_text())


def test_statuses_on_empty_ledger(tmp_path: Path) -> None:
    from tracker.store import open_store

    open_store(tmp_path / "l.sqlite3").close()
    assert budget_statuses(sqlite3.connect(tmp_path / "l.sqlite3"), UTC_ZONE, NOW) == []


# ---- CLI ------------------------------------------------------------------------------------------------------------


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def cli_ledger(home: Home, monkeypatch: pytest.MonkeyPatch) -> Home:
    ledger_at(home.data / "ledger.sqlite3").close()
    monkeypatch.setattr(plans, "now_ms", lambda: NOW)
    return home


def test_cli_round_trip(cli_ledger: Home, cli: Any) -> None:
    r = cli("budget", "list")
    assert r.code == 0 and r.out.startswith("No budgets.")
    r = cli("budget", "add", "--monthly", "1,000")
    assert r.code == 0, r.err
    assert r.out.startswith("Added budget #1: $1,000.00 monthly total.")
    assert cli("budget", "add", "--weekly", "250", "--project", "app").code == 0
    assert cli("budget", "add", "--monthly", "800", "--provider", "Anthropic").code == 0
    listed = cli("budget", "list", "--format", "json").json()
    assert [(b["id"], b["period"], b["scope"], b["target"], b["amount_usd"], b["period_key"], b["spend_usd"],
             b["percent_used"]) for b in listed] == [
        (1, "monthly", "total", None, 1000.0, "2026-11", 612.0, 61),
        (3, "monthly", "provider", "anthropic", 800.0, "2026-11", 600.0, 75),
        (2, "weekly", "project", "app", 250.0, "2026-W47", 200.0, 80),
    ]
    table = cli("budget", "list").out
    assert "80%" in table and "Spend = estimated + reported + subscription" in table
    r = cli("budget", "remove", "2")
    assert r.code == 0 and r.out.startswith("Removed budget #2 ($250.00 weekly project app).")
    assert [b["id"] for b in cli("budget", "list", "--format", "json").json()] == [1, 3]


@pytest.mark.parametrize(("args", "message"), [
    (("add",), "token-ledger: give one of --monthly AMOUNT or --weekly AMOUNT"),
    (("add", "--monthly", "5", "--weekly", "5"), "token-ledger: give one of --monthly AMOUNT or --weekly AMOUNT"),
    (("add", "--monthly", "0"), "token-ledger: --monthly '0' is zero; give a budget of more than $0"),
    (("add", "--weekly", "lots"), "token-ledger: --weekly 'lots' is not an amount of dollars"),
    (("add", "--monthly", "5", "--provider", "acme"), "token-ledger: unknown source 'acme'"),
    (("add", "--monthly", "5", "--provider", "openai", "--project", "app"),
     "token-ledger: give --provider or --project, not both"),
    (("remove", "9"), "token-ledger: no budget #9; see `token-ledger budget list`"),
])
def test_cli_errors_are_one_line(cli_ledger: Home, cli: Any, args: tuple[str, ...], message: str) -> None:
    r = cli("budget", *args)
    assert r.code == 1
    assert _one_line(r.err).startswith(message), r.err


def test_cli_duplicate_budget(cli_ledger: Home, cli: Any) -> None:
    assert cli("budget", "add", "--weekly", "50", "--project", "app").code == 0
    r = cli("budget", "add", "--weekly", "60", "--project", "app")
    assert r.code == 1
    assert _one_line(r.err) == ("token-ledger: a weekly project 'app' budget already exists (#1); remove it first "
                                "with `token-ledger budget remove 1`")
