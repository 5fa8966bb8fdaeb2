"""A flat plan's fee is spend; the API-equivalent cost of the usage it covered is not (no double counting).

Hand-computed ledger (UTC; "today" is 2026-11-18). Plan "Claude Max" covers ``claude_code`` for $120 a month
from 2026-11-10: November has 30 days, so every day's share is exactly $4, and 11-10..11-18 is 9 days = $36.

| when             | usage                          | project | plan?                                     |
|------------------|--------------------------------|---------|-------------------------------------------|
| 2026-11-05 10:00 | Claude Code $10                | app     | before the plan: estimated spend          |
| 2026-11-12 10:00 | Claude Code $3                 | app     | covered; day 12 fee $4 split 3:1 -> $3    |
| 2026-11-12 14:00 | Claude Code $1                 | site    | covered;                            -> $1 |
| 2026-11-14 10:00 | Codex $2                       | app     | not covered: estimated spend              |
| 2026-11-15 10:00 | Claude Code $8                 | app     | covered; day 15 fee $4 -> app             |
| 2026-11-15 (UTC) | Anthropic bill $5 (acct. work) | app     | reported: always spend                    |

Days 10, 11, 13, 14, 16, 17, 18 have a fee but no covered usage: 7 x $4 = $28 to "(no project)".

By project: app estimated 10 + 2 = $12, covered 3 + 8 = $11, reported $5, subscription 3 + 4 = $7, spend
12 + 5 + 7 = **$24**; site estimated $0, covered $1, subscription $1, spend **$1**; (no project) subscription
**$28**. Total spend 12 + 5 + 36 = **$53** (not 53 + 12 covered), covered $12.

Outcome "Ship" (app, 2026-11-13 12:00) is attributed app's spend before it: $10 (11-05) + the $3 fee share of
11-12 = **$13** (covered $3 apart); app's spend after it, 2 + 4 + 5 = **$11**, is spend without outcome;
13 + 11 = 24.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import Home
from test_attribution import add_account, add_billed
from test_subscriptions import NOW, UTC_ZONE, add_usage

from tracker import plans
from tracker.analytics import value
from tracker.analytics.attribution import attribute_outcomes
from tracker.analytics.budgets import budget_status
from tracker.analytics.client_report import ClientQuery, build_client_report, client_report_json
from tracker.analytics.subscriptions import day_share, largest_remainder, plan_spend
from tracker.analytics.value import ValueQuery, build_value_report
from tracker.domain import PICO_PER_USD
from tracker.outcomes import OutcomeFields, add_outcome, add_rule, parse_when, set_client
from tracker.plans import add_budget, add_subscription, list_budgets
from tracker.store import open_store

USD = PICO_PER_USD
NOV = (date(2026, 11, 1), date(2026, 11, 30))


def ledger_at(db: Path, *, plan: bool = True) -> sqlite3.Connection:
    open_store(db).close()
    conn = sqlite3.connect(db, isolation_level=None)
    add_usage(conn, "claude_code", "2026-11-05T10:00:00", 10, "/work/app")
    add_usage(conn, "claude_code", "2026-11-12T10:00:00", 3, "/work/app")
    add_usage(conn, "claude_code", "2026-11-12T14:00:00", 1, "/work/site")
    add_usage(conn, "codex", "2026-11-14T10:00:00", 2, "/work/app")
    add_usage(conn, "claude_code", "2026-11-15T10:00:00", 8, "/work/app")
    add_billed(conn, add_account(conn, "anthropic", "work"), "anthropic", "2026-11-15", "5")
    add_rule(conn, "app", "path_prefix", "/work/app")
    add_rule(conn, "site", "path_prefix", "/work/site")
    add_rule(conn, "app", "account", "work")
    add_outcome(conn, OutcomeFields(title="Ship", at_ms=parse_when("2026-11-13 12:00", UTC_ZONE), project="app"))
    if plan:
        add_subscription(conn, "Claude Max", "claude_code", "120", date(2026, 11, 10))
    return conn


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    return ledger_at(tmp_path / "ledger.sqlite3")


def _by_project(conn: sqlite3.Connection) -> value.ValueReport:
    return build_value_report(conn, ValueQuery("project", UTC_ZONE, *NOV, NOW))


def test_largest_remainder_sums_exactly() -> None:
    assert largest_remainder(4, [3, 1]) == [3, 1]
    # 3_333_333_333_334 split 3:1: 2_500_000_000_000.5 and 833_333_333_333.5; the one unit left goes to the
    # larger weight (equal remainders)
    assert largest_remainder(3_333_333_333_334, [3, 1]) == [2_500_000_000_001, 833_333_333_333]
    assert largest_remainder(10, [1, 1, 1]) == [4, 3, 3]
    assert largest_remainder(7, [0, 5]) == [0, 7]
    parts = largest_remainder(day_share(100 * USD, date(2026, 11, 12)), [3_000, 1_000, 7])
    assert sum(parts) == day_share(100 * USD, date(2026, 11, 12))


def test_fee_shares_by_hand(conn: sqlite3.Connection) -> None:
    assert day_share(120 * USD, date(2026, 11, 12)) == 4 * USD
    ps = plan_spend(conn, UTC_ZONE, date(2026, 11, 18))
    fees: dict[tuple[str | None, date], int] = {}
    for f in ps.fees:
        fees[(f.project, f.day)] = fees.get((f.project, f.day), 0) + f.pusd
    assert fees[("app", date(2026, 11, 12))] == 3 * USD  # 3:1, exactly
    assert fees[("site", date(2026, 11, 12))] == 1 * USD
    assert fees[("app", date(2026, 11, 15))] == 4 * USD
    assert fees[(None, date(2026, 11, 13))] == 4 * USD  # a fee with no covered usage: no project
    assert fees[(None, date(2026, 11, 14))] == 4 * USD  # Codex usage is not this plan's
    assert sum(fees.values()) == 36 * USD
    assert {(u.project, u.source, u.cost_pusd) for u in ps.covered} == {
        ("app", "claude_code", 3 * USD), ("site", "claude_code", 1 * USD), ("app", "claude_code", 8 * USD)}


def test_report_value_counts_the_fee_not_the_covered_estimate(conn: sqlite3.Connection) -> None:
    rep = _by_project(conn)
    rows = {r.key: r for r in rep.rows}
    app, site, none = rows["app"], rows["site"], rows["(no project)"]
    assert (app.estimated_pusd, app.covered_pusd, app.reported_pusd, app.subscription_pusd, app.spend_pusd) == (
        12 * USD, 11 * USD, 5 * USD, 7 * USD, 24 * USD)
    assert (site.estimated_pusd, site.covered_pusd, site.subscription_pusd, site.spend_pusd) == (
        0, 1 * USD, 1 * USD, 1 * USD)
    assert (none.subscription_pusd, none.spend_pusd) == (28 * USD, 28 * USD)
    t = rep.totals
    assert (t.estimated_pusd, t.reported_pusd, t.subscription_pusd, t.covered_pusd, t.spend_pusd) == (
        12 * USD, 5 * USD, 36 * USD, 12 * USD, 53 * USD)
    assert app.without_outcome_pusd == 11 * USD  # 2 + 4 + 5 after the outcome
    assert app.cost_per(app.outcomes) == 24 * USD
    by_month = build_value_report(conn, ValueQuery("month", UTC_ZONE, None, None, NOW))
    assert by_month.totals.spend_pusd == 53 * USD and by_month.totals.covered_pusd == 12 * USD


def test_outcome_is_attributed_its_projects_fee_share(conn: sqlite3.Connection) -> None:
    (o,) = attribute_outcomes(conn, UTC_ZONE, now_ms=NOW)
    assert (o.project, o.attributed_pusd, o.estimated_pusd, o.subscription_pusd, o.covered_pusd) == (
        "app", 13 * USD, 10 * USD, 3 * USD, 3 * USD)
    app = {r.key: r for r in _by_project(conn).rows}["app"]
    assert o.attributed_pusd + app.without_outcome_pusd == app.spend_pusd  # attribution and value agree


def test_without_a_plan_nothing_changes(tmp_path: Path) -> None:
    conn = ledger_at(tmp_path / "ledger.sqlite3", plan=False)
    rows = {r.key: r for r in _by_project(conn).rows}
    assert (rows["app"].estimated_pusd, rows["app"].covered_pusd, rows["app"].subscription_pusd) == (
        23 * USD, 0, 0)
    assert "(no project)" not in rows
    (o,) = attribute_outcomes(conn, UTC_ZONE, now_ms=NOW)
    assert (o.attributed_pusd, o.subscription_pusd, o.covered_pusd) == (13 * USD, 0, 0)  # 10 + 3 at API prices


def test_budgets_count_the_fee_not_the_covered_estimate(conn: sqlite3.Connection) -> None:
    ids = {
        "total": add_budget(conn, "monthly", "100"),
        "app": add_budget(conn, "monthly", "100", project="app"),
        "anthropic": add_budget(conn, "monthly", "100", provider="anthropic"),
        "claude_code": add_budget(conn, "monthly", "100", provider="claude_code"),
        "codex": add_budget(conn, "monthly", "100", provider="codex"),
    }
    got = {}
    for name, bid in ids.items():
        st = budget_status(conn, next(b for b in list_budgets(conn) if b.id == bid), UTC_ZONE, NOW)
        got[name] = (st.estimated_pusd // USD, st.reported_pusd // USD, st.subscription_pusd // USD,
                     st.covered_pusd // USD, st.spend_pusd // USD)
    assert got == {
        "total": (12, 5, 36, 12, 53),
        "app": (12, 5, 7, 11, 24),
        # Claude Code in November: 10 + 3 + 1 + 8 = 22, less the 12 covered; the anthropic bill; the plan's fee
        "anthropic": (10, 5, 36, 12, 51),
        "claude_code": (10, 0, 36, 12, 46),
        "codex": (2, 0, 0, 0, 2),
    }


def test_client_report_agrees_with_report_value(conn: sqlite3.Connection) -> None:
    set_client(conn, "app", "Acme")
    rep = build_client_report(conn, ClientQuery("Acme", date(2026, 11, 1), UTC_ZONE, None, NOW))
    t = rep.totals
    assert (t.estimated_pusd, t.reported_pusd, t.subscription_pusd, t.covered_pusd, t.spend_pusd) == (
        12 * USD, 5 * USD, 7 * USD, 11 * USD, 24 * USD)
    assert sum(x.spend_pusd for x in rep.by_provider) == 24 * USD
    assert sum(x.spend_pusd for x in rep.by_model) == 24 * USD
    assert sum(x.covered_pusd for x in rep.by_model) == 11 * USD
    anthropic = next(x for x in rep.by_provider if x.name == "Anthropic")
    assert (anthropic.estimated_pusd, anthropic.covered_pusd, anthropic.subscription_pusd) == (
        10 * USD, 11 * USD, 7 * USD)
    assert sum(d.estimated_pusd + d.reported_pusd + d.subscription_pusd for d in rep.days) == 24 * USD
    assert [o.attributed_pusd for o in rep.outcomes] == [13 * USD]
    d = client_report_json(rep)
    assert (d["summary"]["spend_usd"], d["summary"]["subscription_usd"], d["summary"]["covered_usd"]) == (
        "24.00", "7.00", "11.00")
    assert {"model": "Claude Max (flat plan)", "provider": "Anthropic", "estimated_usd": "0.00",
            "reported_usd": "0.00", "unpriced_records": 0, "subscription_usd": "7.00",
            "covered_usd": "0.00"} in d["by_model"]


# ---- CLI ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def cli_ledger(home: Home, monkeypatch: pytest.MonkeyPatch) -> Home:
    ledger_at(home.data / "ledger.sqlite3").close()
    monkeypatch.setattr(value, "now_ms", lambda: NOW)
    monkeypatch.setattr(plans, "now_ms", lambda: NOW)
    return home


def test_cli_report_value_shows_covered_apart(cli_ledger: Home, cli: Any) -> None:
    d = cli("report", "value", "--by", "project", "--since", "2026-11-01", "--tz", "UTC", "--format", "json").json()
    app = next(r for r in d["rows"] if r["project"] == "app")
    assert (app["estimated_usd"], app["subscription_usd"], app["covered_usd"], app["spend_usd"]) == (
        "12.00", "7.00", "11.00", "24.00")
    assert (d["totals"]["spend_usd"], d["totals"]["covered_usd"]) == ("53.00", "12.00")
    assert "covered_usd" in d["spend"] and "not spend" in d["spend"]
    header = cli("report", "value", "--by", "project", "--tz", "UTC", "--format", "csv").out.splitlines()[0]
    assert "reported_usd,subscription_usd,covered_usd,unpriced_records" in header
    table = cli("report", "value", "--by", "project", "--tz", "UTC").out
    assert "Covered by plans" in table
    budgets = cli("budget", "add", "--monthly", "100")
    assert budgets.code == 0, budgets.err
    (b,) = cli("budget", "list", "--format", "json").json()
    assert (b["spend_usd"], b["subscription_usd"], b["covered_usd"]) == (53.0, 36.0, 12.0)
