"""``report value``: spend against outcomes, checked against figures computed by hand on a small fixed ledger.

The ledger: real-shaped Claude Code lines imported by ``sync`` (claude-sonnet-4-5, 100k input + 20k output =
$0.30 + $0.30 = **$0.60 a request**; one request of a model with no price), provider rows and the m006 tables
(clients, projects, rules, outcomes) written with SQL.

Projects (``/nonexistent-tl/...`` folders do not exist, so a folder's default project is its last component):

| cwd                          | project                          | client |
|------------------------------|----------------------------------|--------|
| /nonexistent-tl/u/app        | app (default name, stored)       | Acme   |
| /nonexistent-tl/u/site/www   | website (path_prefix rule)       | Beta   |
| /nonexistent-tl/u/scratch    | scratch (default, not stored)    | —      |
| account "work" (Anthropic)   | app (account rule)               | Acme   |
| account "org" (OpenAI)       | no rule: (no project)            | —      |

Spend (UTC instants):

| id | when (UTC)           | project      | spend                        |
|----|----------------------|--------------|------------------------------|
| A1 | 2026-10-20 10:00     | app          | 0.60 est.                    |
| A2 | 2026-11-01 03:00     | app          | 0.60 est. (Oct 31 22:00 in New York) |
| R1 | 2026-11-10 (UTC day) | app          | 0.50 reported (Anthropic)    |
| A3 | 2026-11-10 10:00     | app          | 0.60 est.                    |
| A4 | 2026-11-20 10:00     | app          | 0.60 est.                    |
| W1 | 2026-11-05 10:00     | website      | 0.60 est.                    |
| W2 | 2026-11-06 10:00     | website      | unpriced (1 record)          |
| S1 | 2026-11-12 10:00     | scratch      | 0.60 est.                    |
| R2 | 2026-11-15 (UTC day) | (no project) | 1.00 reported (OpenAI)       |

Outcomes (value counts kept outcomes only):

| id | when (UTC)        | project | value        | status  | attribution window (since the previous one) |
|----|-------------------|---------|--------------|---------|---------------------------------------------|
| O1 | 2026-11-01 12:00  | app     | $5           | kept    | [A1, O1): A1 + A2 = 1.20                    |
| O2 | 2026-11-15 12:00  | app     | 2 h          | kept    | [O1, O2): R1 + A3 = 1.10                    |
| O3 | 2026-11-07 09:00  | website | $3           | redone  | [W1, O3): W1 (+ W2 unpriced) = 0.60         |
| O4 | 2026-11-08 09:00  | website | $2 + 1.5 h   | kept    | [O3, O4): nothing                           |

Spend with no outcome (after the project's last outcome, or in a project with none): app A4 0.60, scratch S1 0.60,
(no project) R2 1.00 = 2.20. "Now" is frozen at 2026-11-21 00:00 UTC: 20 of November's 30 days have passed, so
the UTC run-rate is November so far x 30/20.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import Home

from tracker.analytics import value
from tracker.analytics.attribution import attribute_outcomes, spend_by_project
from tracker.store import open_store

SONNET = "claude-sonnet-4-5-20250929"
ROOT = "/nonexistent-tl/u"
NOW = "2026-11-21T00:00:00"
PICO = 10**12

# --- the figures by hand (dollars) --------------------------------------------------------------------------
# app:      est. A1..A4 = 4 x 0.60 = 2.40; reported R1 0.50; spend 2.90; outcomes O1, O2 (both kept)
#           value $5 + 2 h; no rate: 5.00 (+ 2 h unvalued), 5.00 / 2.90 = 1.7241 -> "1.72"; at $50/h: 105.00,
#           105 / 2.90 = 36.2069 -> "36.21"; cost per outcome = per kept = 2.90 / 2 = 1.45; no outcome: A4 0.60
#           November so far (UTC): A2 + A3 + A4 + R1 = 2.30 -> run-rate 2.30 x 30/20 = 3.45
# website:  est. W1 0.60, 1 unpriced (W2); outcomes O3 (redone), O4 (kept): 2; kept 1; value (kept) $2 + 1.5 h;
#           no rate: 2.00 / 0.60 = 3.33; at $50/h: 77.00 / 0.60 = 128.33; per outcome 0.30, per kept 0.60;
#           no outcome 0; run-rate 0.60 x 1.5 = 0.90
# scratch:  est. S1 0.60, no outcome: 0.60; value 0.00 / 0.60 = "0.00"; no cost per outcome; run-rate 0.90
# (no project): reported R2 1.00, no outcome 1.00; run-rate 1.50
# total:    est. 3.60, reported 1.50, spend 5.10, 1 unpriced; outcomes 4, kept 3; value 7.00 + 3.5 h;
#           7.00 / 5.10 = 1.3725 -> "1.37"; at $50/h 7 + 175 = 182.00, 182 / 5.10 = 35.686 -> "35.69";
#           per outcome 5.10 / 4 = 1.275; per kept 5.10 / 3 = 1.70; no outcome 2.20;
#           run-rate: November so far 4.50 (A1 is October) x 1.5 = 6.75
APP = {"project": "app", "client": "Acme", "spend_usd": "2.90", "estimated_usd": "2.40", "reported_usd": "0.50",
       "unpriced_records": 0, "outcomes": 2, "kept_outcomes": 2, "outcome_value_usd": "5.00", "hours_saved": "2",
       "unvalued_hours": "2", "value_per_dollar": "1.72", "cost_per_outcome": "1.45",
       "cost_per_kept_outcome": "1.45", "spend_without_outcome_usd": "0.60", "run_rate_usd": "3.45"}
WEBSITE = {"project": "website", "client": "Beta", "spend_usd": "0.60", "estimated_usd": "0.60",
           "reported_usd": "0.00", "unpriced_records": 1, "outcomes": 2, "kept_outcomes": 1,
           "outcome_value_usd": "2.00", "hours_saved": "1.5", "unvalued_hours": "1.5", "value_per_dollar": "3.33",
           "cost_per_outcome": "0.30", "cost_per_kept_outcome": "0.60", "spend_without_outcome_usd": "0.00",
           "run_rate_usd": "0.90"}
SCRATCH = {"project": "scratch", "client": None, "spend_usd": "0.60", "estimated_usd": "0.60",
           "reported_usd": "0.00", "unpriced_records": 0, "outcomes": 0, "kept_outcomes": 0,
           "outcome_value_usd": "0.00", "hours_saved": "0", "unvalued_hours": "0", "value_per_dollar": "0.00",
           "cost_per_outcome": None, "cost_per_kept_outcome": None, "spend_without_outcome_usd": "0.60",
           "run_rate_usd": "0.90"}
NO_PROJECT = {"project": "(no project)", "client": None, "spend_usd": "1.00", "estimated_usd": "0.00",
              "reported_usd": "1.00", "unpriced_records": 0, "outcomes": 0, "kept_outcomes": 0,
              "outcome_value_usd": "0.00", "hours_saved": "0", "unvalued_hours": "0", "value_per_dollar": "0.00",
              "cost_per_outcome": None, "cost_per_kept_outcome": None, "spend_without_outcome_usd": "1.00",
              "run_rate_usd": "1.50"}
TOTALS = {"spend_usd": "5.10", "estimated_usd": "3.60", "reported_usd": "1.50", "unpriced_records": 1,
          "outcomes": 4, "kept_outcomes": 3, "outcome_value_usd": "7.00", "hours_saved": "3.5",
          "unvalued_hours": "3.5", "value_per_dollar": "1.37", "cost_per_outcome": "1.275",
          "cost_per_kept_outcome": "1.70", "spend_without_outcome_usd": "2.20", "run_rate_usd": "6.75"}
NO_OUTCOME = [{"project": "(no project)", "spend_without_outcome_usd": "1.00"},
              {"project": "app", "spend_without_outcome_usd": "0.60"},
              {"project": "scratch", "spend_without_outcome_usd": "0.60"}]


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def claude_line(n: int, ts: str, cwd: str, model: str = SONNET) -> str:
    return json.dumps({
        "type": "assistant", "timestamp": ts, "sessionId": f"s{n}", "cwd": cwd, "version": "2.1.72",
        "requestId": f"req_{n}",
        "message": {"id": f"msg_{n}", "model": model, "type": "message", "role": "assistant",
                    "usage": {"input_tokens": 100_000, "cache_creation_input_tokens": 0,
                              "cache_read_input_tokens": 0, "output_tokens": 20_000}},
    }, separators=(",", ":")) + "\n"


def write_logs(home: Home) -> None:
    app, www, scratch = f"{ROOT}/app", f"{ROOT}/site/www", f"{ROOT}/scratch"
    home.claude_log("-u-app/a.jsonl", "".join([
        claude_line(1, "2026-10-20T10:00:00.000Z", app),  # A1
        claude_line(2, "2026-11-01T03:00:00.000Z", app),  # A2
        claude_line(3, "2026-11-10T10:00:00.000Z", app),  # A3
        claude_line(4, "2026-11-20T10:00:00.000Z", app),  # A4
    ]))
    home.claude_log("-u-site-www/w.jsonl", "".join([
        claude_line(5, "2026-11-05T10:00:00.000Z", www),  # W1
        claude_line(6, "2026-11-06T10:00:00.000Z", www, model="mystery-model-1"),  # W2, unpriced
    ]))
    home.claude_log("-u-scratch/s.jsonl", claude_line(7, "2026-11-12T10:00:00.000Z", scratch))  # S1


def _insert(conn: sqlite3.Connection, table: str, **cols: Any) -> int:
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    return int(conn.execute(sql, list(cols.values())).lastrowid or 0)


def _billed(conn: sqlite3.Connection, account: int, provider: str, day: str, usd: str) -> None:
    start = _ms(f"{day}T00:00:00")
    _insert(conn, "provider_usage", account_id=account, provider=provider, kind=f"{provider}.costs",
            bucket_start_ms=start, bucket_width="1d", bucket_end_ms=start + 86_400_000, fetched_ms=start, billed=1,
            cost_pico=int(Decimal(usd) * PICO), currency="USD", amount_raw=usd, amount_unit="unit")


def add_rows(conn: sqlite3.Connection) -> None:
    t = _ms("2026-10-01T00:00:00")
    work = _insert(conn, "accounts", provider="anthropic", label="work", created_ms=t)
    org = _insert(conn, "accounts", provider="openai", label="org", created_ms=t)
    _billed(conn, work, "anthropic", "2026-11-10", "0.50")  # R1
    _billed(conn, org, "openai", "2026-11-15", "1.00")  # R2
    acme = _insert(conn, "clients", name="Acme", created_ms=t)
    beta = _insert(conn, "clients", name="Beta", created_ms=t)
    app = _insert(conn, "projects", name="app", client_id=acme, created_ms=t)
    web = _insert(conn, "projects", name="website", client_id=beta, created_ms=t)
    _insert(conn, "project_rules", project_id=web, kind="path_prefix", pattern=f"{ROOT}/site", created_ms=t)
    _insert(conn, "project_rules", project_id=app, kind="account", pattern="work", created_ms=t)
    for title, at, project, value_usd, hours, status in (
        ("Ship login", "2026-11-01T12:00:00", app, "5", None, "kept"),  # O1
        ("Fix bug", "2026-11-15T12:00:00", app, None, "2", "kept"),  # O2
        ("Landing page", "2026-11-07T09:00:00", web, "3", None, "redone"),  # O3
        ("Spike", "2026-11-08T09:00:00", web, "2", "1.5", "kept"),  # O4
    ):
        _insert(conn, "outcomes", title=title, kind="shipped_feature", at_ms=_ms(at), project_id=project,
                value_pusd=None if value_usd is None else int(Decimal(value_usd) * PICO), hours_saved=hours,
                status=status, created_ms=t, updated_ms=t)


@pytest.fixture
def ledger(home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch) -> Home:
    write_logs(home)
    r = cli("sync", "--no-accounts")
    assert r.code == 0, r.err
    with open_store(home.data / "ledger.sqlite3", create=False) as store, store.transaction():
        add_rows(store.conn)
    monkeypatch.setattr(value, "now_ms", lambda: _ms(NOW))
    return home


def set_rate(home: Home, rate: str) -> None:
    (home.data / "settings.json").write_text(json.dumps({"hourly_rate_usd": rate}))


def table_lines(out: str) -> list[list[str]]:
    return [[c.strip() for c in line.replace("┃", "│").strip("│").split("│")] for line in out.splitlines()
            if line[:1] in ("│", "┃")]


# --- JSON ------------------------------------------------------------------------------------------------


def test_by_project_json_matches_the_hand_figures(ledger: Home, cli: Any) -> None:
    r = cli("report", "value", "--by", "project", "--format", "json", "--tz", "UTC")
    assert r.code == 0, r.err
    d = r.json()
    assert (d["report"], d["by"], d["timezone"], d["currency"]) == ("value", "project", "UTC", "USD")
    assert (d["since"], d["until"], d["hourly_rate_usd"], d["current_month"]) == (None, None, None, "2026-11")
    assert d["spend"].startswith("estimated (local logs) + reported (billed by provider accounts)")
    assert d["rows"] == [APP, SCRATCH, WEBSITE, NO_PROJECT]  # by spend (then name), (no project) last
    assert d["totals"] == TOTALS
    assert d["no_outcome"] == NO_OUTCOME
    assert any("No flat plan is stored" in n for n in d["notes"])


def test_by_client_json(ledger: Home, cli: Any) -> None:
    d = cli("report", "value", "--by", "client", "--format", "json", "--tz", "UTC").json()
    strip = {"project", "client"}
    acme = {"client": "Acme", **{k: v for k, v in APP.items() if k not in strip}}
    beta = {"client": "Beta", **{k: v for k, v in WEBSITE.items() if k not in strip}}
    # (no client) = scratch + (no project): est. 0.60, reported 1.00, both with no outcome; run-rate 0.90 + 1.50
    none = {"client": "(no client)", "spend_usd": "1.60", "estimated_usd": "0.60", "reported_usd": "1.00",
            "unpriced_records": 0, "outcomes": 0, "kept_outcomes": 0, "outcome_value_usd": "0.00",
            "hours_saved": "0", "unvalued_hours": "0", "value_per_dollar": "0.00", "cost_per_outcome": None,
            "cost_per_kept_outcome": None, "spend_without_outcome_usd": "1.60", "run_rate_usd": "2.40"}
    assert d["rows"] == [acme, beta, none]
    assert d["totals"] == TOTALS


def test_by_month_json_utc(ledger: Home, cli: Any) -> None:
    d = cli("report", "value", "--format", "json", "--tz", "UTC").json()  # --by month is the default
    assert d["by"] == "month"
    # October: A1 0.60 only, inside O1's window; November: everything else; run-rate on the current month only
    october = {"month": "2026-10", "spend_usd": "0.60", "estimated_usd": "0.60", "reported_usd": "0.00",
               "unpriced_records": 0, "outcomes": 0, "kept_outcomes": 0, "outcome_value_usd": "0.00",
               "hours_saved": "0", "unvalued_hours": "0", "value_per_dollar": "0.00", "cost_per_outcome": None,
               "cost_per_kept_outcome": None, "spend_without_outcome_usd": "0.00", "run_rate_usd": None}
    # November: est. 3.00, reported 1.50 -> 4.50; value 7.00 / 4.50 = 1.5556 -> "1.56"; 4.50 / 4 = 1.125;
    # 4.50 / 3 = 1.50; run-rate 4.50 x 30/20 = 6.75
    november = {"month": "2026-11", "spend_usd": "4.50", "estimated_usd": "3.00", "reported_usd": "1.50",
                "unpriced_records": 1, "outcomes": 4, "kept_outcomes": 3, "outcome_value_usd": "7.00",
                "hours_saved": "3.5", "unvalued_hours": "3.5", "value_per_dollar": "1.56",
                "cost_per_outcome": "1.125", "cost_per_kept_outcome": "1.50",
                "spend_without_outcome_usd": "2.20", "run_rate_usd": "6.75"}
    assert d["rows"] == [october, november]
    assert d["totals"] == TOTALS


def test_by_month_in_new_york_moves_a2_into_october(ledger: Home, cli: Any) -> None:
    d = cli("report", "value", "--by", "month", "--format", "json", "--tz", "America/New_York").json()
    assert d["timezone"] == "America/New_York"
    rows = {r["month"]: r for r in d["rows"]}
    # A2 (2026-11-01 03:00 UTC) is 2026-10-31 22:00 in New York; reported buckets stay on their UTC date
    assert (rows["2026-10"]["spend_usd"], rows["2026-11"]["spend_usd"]) == ("1.20", "3.90")
    assert (rows["2026-11"]["estimated_usd"], rows["2026-11"]["reported_usd"]) == ("2.40", "1.50")
    assert rows["2026-10"]["run_rate_usd"] is None
    # November in New York starts 2026-11-01 00:00 EDT (04:00 UTC; DST ends at 02:00 that day) and ends
    # 2026-12-01 00:00 EST (05:00 UTC): 721 h, of which 476 h have passed at "now" (2026-11-21 00:00 UTC):
    # 3.90 x 721 / 476 = 5.9073529411764..., rounded down to the pico-dollar
    assert rows["2026-11"]["run_rate_usd"] == "5.907352941176"
    assert 3_900_000_000_000 * 721 // 476 == 5_907_352_941_176
    assert d["totals"]["spend_usd"] == "5.10" and d["totals"]["spend_without_outcome_usd"] == "2.20"


def test_hours_are_valued_at_the_hourly_rate_when_set(ledger: Home, cli: Any) -> None:
    set_rate(ledger, "50")
    d = cli("report", "value", "--by", "project", "--format", "json", "--tz", "UTC").json()
    assert d["hourly_rate_usd"] == "50"
    app, website = d["rows"][0], d["rows"][2]
    # app: 5 + 2 h x 50 = 105.00, / 2.90 = 36.21; website: 2 + 1.5 h x 50 = 77.00, / 0.60 = 128.33
    assert (app["outcome_value_usd"], app["unvalued_hours"], app["value_per_dollar"]) == ("105.00", "0", "36.21")
    assert (website["outcome_value_usd"], website["hours_saved"], website["value_per_dollar"]) == (
        "77.00", "1.5", "128.33")
    # total: 7 + 3.5 h x 50 = 182.00, / 5.10 = 35.69
    assert (d["totals"]["outcome_value_usd"], d["totals"]["value_per_dollar"]) == ("182.00", "35.69")


def test_since_until_cut_spend_and_outcomes(ledger: Home, cli: Any) -> None:
    d = cli("report", "value", "--by", "project", "--format", "json", "--tz", "UTC",
            "--since", "2026-11-02", "--until", "2026-11-12").json()
    rows = {r["project"]: r for r in d["rows"]}
    # app: R1 0.50 + A3 0.60 = 1.10, outcome none (O1 on the 1st, O2 on the 15th); website: W1, W2, O3, O4;
    # scratch: S1; R2 (15th) is out
    assert set(rows) == {"app", "website", "scratch"}
    assert (rows["app"]["spend_usd"], rows["app"]["outcomes"], rows["app"]["spend_without_outcome_usd"]) == (
        "1.10", 0, "0.00")  # inside O2's window, which ends after the period
    assert rows["app"]["cost_per_outcome"] is None and rows["app"]["value_per_dollar"] == "0.00"
    assert rows["website"]["outcomes"] == 2
    assert d["totals"]["spend_usd"] == "2.30"
    assert d["totals"]["run_rate_usd"] == "6.75"  # the current month's, whatever the period


def test_value_equals_attribution(ledger: Home) -> None:
    """Spend per project is attribution's; spend with no outcome + spend attributed to outcomes = all spend."""
    with open_store(ledger.data / "ledger.sqlite3", create=False) as store:
        rep = value.build_value_report(store.conn, value.ValueQuery("project", ZoneInfo("UTC"), now_ms=_ms(NOW)))
        by_project = spend_by_project(store.conn, ZoneInfo("UTC"))
        attributed = sum(o.attributed_pusd for o in attribute_outcomes(store.conn, ZoneInfo("UTC")))
    assert {r.key: r.spend_pusd for r in rep.rows} == {
        value.NO_PROJECT if p is None else p: s.total_pusd for p, s in by_project.items()}
    assert attributed == 2_900_000_000_000  # O1 1.20 + O2 1.10 + O3 0.60 + O4 0
    assert rep.totals.without_outcome_pusd + attributed == rep.totals.spend_pusd


def test_only_unpriced_spend_is_unknown_not_zero() -> None:
    f = value.ValueFigures("x", unpriced_records=3, outcomes=1, kept_outcomes=1, value_pusd=PICO)
    assert not f.spend_known
    assert f.value_per_dollar() is None and f.cost_per(1) is None
    hours_only = value.ValueFigures("y", estimated_pusd=PICO, outcomes=1, kept_outcomes=1,
                                    hours_saved=Decimal(2), unvalued_hours=Decimal(2))
    assert not hours_only.value_known and hours_only.value_per_dollar() is None  # unknown, never $0 of value


def test_rounding_is_exact() -> None:
    assert value.hours_pusd(Decimal("1.333"), Decimal("75.5")) == 100_641_500_000_000  # 100.6415 exactly
    assert value.ValueFigures("z", estimated_pusd=PICO).cost_per(3) == 333_333_333_333  # 0.333333333333(3)
    assert value.ValueFigures("z", estimated_pusd=5).cost_per(2) == 2  # 2.5 -> 2 (half-even)
    assert value.ratio(1, 8) == Decimal("0.12")  # 0.125 -> 0.12 (half-even)


# --- CSV and table ---------------------------------------------------------------------------------------


def test_by_project_csv(ledger: Home, cli: Any) -> None:
    r = cli("report", "value", "--by", "project", "--format", "csv", "--tz", "UTC")
    assert r.code == 0, r.err
    assert r.out == (
        "project,client,spend_usd,estimated_usd,reported_usd,unpriced_records,outcomes,kept_outcomes,"
        "outcome_value_usd,hours_saved,unvalued_hours,value_per_dollar,cost_per_outcome,cost_per_kept_outcome,"
        "spend_without_outcome_usd,run_rate_usd\n"
        "app,Acme,2.90,2.40,0.50,0,2,2,5.00,2,2,1.72,1.45,1.45,0.60,3.45\n"
        "scratch,,0.60,0.60,0.00,0,0,0,0.00,0,0,0.00,,,0.60,0.90\n"
        "website,Beta,0.60,0.60,0.00,1,2,1,2.00,1.5,1.5,3.33,0.30,0.60,0.00,0.90\n"
        "(no project),,1.00,0.00,1.00,0,0,0,0.00,0,0,0.00,,,1.00,1.50\n"
    )


def test_by_month_csv_in_new_york(ledger: Home, cli: Any) -> None:
    lines = cli("report", "value", "--format", "csv", "--tz", "America/New_York").out.splitlines()
    assert lines[0].startswith("month,spend_usd,estimated_usd,")
    assert [line.split(",")[:4] for line in lines[1:]] == [["2026-10", "1.20", "1.20", "0.00"],
                                                           ["2026-11", "3.90", "2.40", "1.50"]]


def test_by_project_table_labels_spend_and_warns(ledger: Home, cli: Any) -> None:
    r = cli("report", "value", "--by", "project", "--tz", "UTC")
    assert r.code == 0, r.err
    assert "Value per token dollar, by project (UTC)" in r.out
    lines = table_lines(r.out)
    assert lines[0][:4] == ["Project", "Client", "Estimated", "Reported"]
    assert "Spend (est. + rep.)" in lines[0] and "No outcome" in lines[0]
    assert lines[1:] == [
        ["app", "Acme", "$2.40", "$0.50", "$2.90", "—", "2", "2", "$5.00 + 2 h", "1.72×", "$1.45",
         "$1.45", "$0.60", "$3.45"],
        ["scratch", "—", "$0.60", "$0.00", "$0.60", "—", "0", "0", "$0.00", "0.00×", "—", "—", "$0.60", "$0.90"],
        ["website", "Beta", "$0.60", "$0.00", "$0.60", "1", "2", "1", "$2.00 + 1.5 h", "3.33×", "$0.30", "$0.60",
         "—", "$0.90"],
        ["(no project)", "—", "$0.00", "$1.00", "$1.00", "—", "0", "0", "$0.00", "0.00×", "—", "—", "$1.00",
         "$1.50"],
        ["Total", "", "$3.60", "$1.50", "$5.10", "1", "4", "3", "$7.00 + 3.5 h", "1.37×", "$1.28", "$1.70",
         "$2.20", "$6.75"],
    ]
    assert "Spend = estimated (local logs) + reported (billed by provider accounts), added" in r.out
    assert "Warning: spend in no project $1.00 with no outcome logged." in r.out
    assert "Warning: project app spent $0.60 with no outcome logged." in r.out
    assert "Warning: project scratch spent $0.60 with no outcome logged." in r.out
    assert "3.5 hours saved are not valued: set hourly_rate_usd" in r.out
    assert "1 request is from models with no known price" in r.out
    assert "Run-rate 2026-11" in lines[0]


def test_table_with_a_rate_and_by_client(ledger: Home, cli: Any) -> None:
    set_rate(ledger, "50")
    r = cli("report", "value", "--by", "client", "--tz", "Europe/Paris")
    assert r.code == 0, r.err
    lines = table_lines(r.out)
    assert [line[0] for line in lines] == ["Client", "Acme", "Beta", "(no client)", "Total"]
    assert lines[1][7] == "$105.00" and lines[-1][7] == "$182.00"
    assert "Hours saved are valued at $50.00 an hour." in r.out
    assert "not valued" not in r.out
    assert "count on that UTC date (Europe/Paris does not shift them)" in r.out


def test_no_outcome_warning_goes_once_an_outcome_is_logged(ledger: Home, cli: Any) -> None:
    with open_store(ledger.data / "ledger.sqlite3", create=False) as store, store.transaction():
        pid = store.conn.execute("SELECT id FROM projects WHERE name = 'app'").fetchone()[0]
        t = _ms("2026-11-20T12:00:00")  # after A4: A4 is now attributed to this outcome
        _insert(store.conn, "outcomes", title="Release", kind="pr_merged", at_ms=t, project_id=pid, created_ms=t,
                updated_ms=t)
    r = cli("report", "value", "--by", "project", "--tz", "UTC")
    assert "project app spent" not in r.out
    assert "Warning: project scratch spent $0.60 with no outcome logged." in r.out
    d = cli("report", "value", "--by", "project", "--format", "json", "--tz", "UTC").json()
    assert d["totals"]["spend_without_outcome_usd"] == "1.60"
    assert d["rows"][0]["outcomes"] == 3 and d["rows"][0]["cost_per_outcome"] == "0.966666666667"  # 2.90 / 3


# --- options ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (("report", "value", "--source", "codex"), "report value takes --by, --since, --until, --tz and --format only"),
    (("report", "value", "--cost", "both"), "(not --cost)"),
    (("report", "daily", "--by", "project"), "--by works with `report value` only"),
    (("report", "value", "--tz", "Mars/Olympus"), "--tz: unknown time zone"),
])
def test_bad_options_are_one_line_errors(ledger: Home, cli: Any, args: tuple[str, ...], message: str) -> None:
    r = cli(*args)
    assert r.code == 1
    assert message in r.err
    assert "Traceback" not in r.err


def test_without_a_ledger(home: Home, cli: Any) -> None:
    r = cli("report", "value")
    assert r.code == 1 and "No ledger" in r.err


def test_an_empty_ledger(home: Home, cli: Any) -> None:
    assert cli("sync", "--no-accounts").code == 0
    r = cli("report", "value", "--by", "project")
    assert r.code == 0, r.err
    assert "No spend or outcomes" in r.out
    d = cli("report", "value", "--format", "json").json()
    assert d["rows"] == [] and d["totals"]["spend_usd"] == "0.00" and d["totals"]["value_per_dollar"] is None


def test_value_never_takes_the_fast_path() -> None:
    from tracker.cli.fast import match

    assert match(["report", "value", "--format", "json"]) is None
    assert match(["report", "value", "--by", "month", "--format", "json"]) is None


def _windows_by_attribution(conn: sqlite3.Connection, tz: Any, now_ms: int) -> Any:
    """The reference: every outcome's attribution window, as ``attribute_outcomes`` gives them, merged."""
    from bisect import bisect_right

    spans: dict[str | None, list[tuple[int, int]]] = {}
    for o in attribute_outcomes(conn, tz, now_ms=now_ms):
        spans.setdefault(o.project, []).append(o.window)

    def covers(project: str | None, at_ms: int) -> bool:
        windows = sorted(spans.get(project, []))
        i = bisect_right([s for s, _ in windows], at_ms) - 1
        return any(s <= at_ms < e for s, e in windows[: i + 1])

    return covers


@pytest.mark.parametrize("with_plan", [False, True])
def test_spend_without_outcome_agrees_with_every_outcome_window(tmp_path: Any, with_plan: bool) -> None:
    """``value._Windows`` answers "covered?" from each project's last outcome alone; on a realistic ledger (the
    demo: months of usage, bills, outcomes across projects; and with a flat plan) every piece agrees with the
    merged windows of all outcomes."""
    from tracker.demo import DemoSpec, create_demo
    from tracker.paths import AppPaths

    now = _ms("2026-11-20T12:00:00")
    create_demo(AppPaths(tmp_path), DemoSpec(months=4, seed=3, rows=20_000, now_ms=now))
    tz = ZoneInfo("Europe/Paris")
    with open_store(tmp_path / "ledger.sqlite3", create=False) as store:
        conn = store.conn
        if with_plan:
            from tracker.plans import add_subscription

            add_subscription(conn, "Max", "claude_code", "200", date(2026, 9, 1))
        rules = value.load_rules(conn)
        fast, reference = value._Windows(conn), _windows_by_attribution(conn, tz, now)
        today = datetime.fromtimestamp(now / 1000, tz).date() if with_plan else None
        pieces = list(value._pieces(conn, rules, tz, (None, None), today))
        assert len(pieces) > 1_000
        assert {p.project for p in pieces if fast.covers(p.project, p.at_ms)}  # some covered, some not
        for p in pieces:
            assert fast.covers(p.project, p.at_ms) == reference(p.project, p.at_ms), p


@pytest.mark.parametrize("with_plan", [False, True])
def test_summed_usage_pieces_give_the_same_report(tmp_path: Any, with_plan: bool,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Usage summed per (cwd, 15 minutes, side of the project's last outcome) gives exactly the report that one
    piece per request gives: every grouping, two zones, with and without a flat plan."""
    from tracker.demo import DemoSpec, create_demo
    from tracker.paths import AppPaths

    now = _ms("2026-11-20T12:00:00")
    create_demo(AppPaths(tmp_path), DemoSpec(months=4, seed=5, rows=20_000, now_ms=now))
    with open_store(tmp_path / "ledger.sqlite3", create=False) as store:
        conn = store.conn
        if with_plan:
            from tracker.plans import add_subscription

            add_subscription(conn, "Max", "claude_code", "200", date(2026, 9, 1))
        queries = [value.ValueQuery(by, ZoneInfo(zone), now_ms=now, hourly_rate_usd=Decimal("80"))
                   for by in ("month", "project", "client") for zone in ("UTC", "America/New_York")]
        summed = [value.build_value_report(conn, q) for q in queries]
        one_per_request = value._usage_pieces

        def without_cuts(*args: Any, cuts: Any = None) -> Any:
            return one_per_request(*args)  # ignores the cuts: one piece per request

        monkeypatch.setattr(value, "_usage_pieces", without_cuts)
        assert [value.build_value_report(conn, q) for q in queries] == summed


def test_an_outcome_inside_a_quarter_hour_splits_its_usage(tmp_path: Any) -> None:
    """Requests at 10:01 and 10:10 (one 15-minute slot) with an outcome at 10:05: the first is attributed to it,
    the second is spend with no outcome, by hand."""
    from test_subscriptions import add_usage

    from tracker.domain import PICO_PER_USD
    from tracker.outcomes import OutcomeFields, add_outcome, add_rule

    open_store(tmp_path / "ledger.sqlite3").close()
    conn = sqlite3.connect(tmp_path / "ledger.sqlite3", isolation_level=None)
    add_rule(conn, "app", "path_prefix", "/work/app")
    add_usage(conn, "claude_code", "2026-11-18T10:01:00", 3, "/work/app")
    add_usage(conn, "claude_code", "2026-11-18T10:10:00", 5, "/work/app")
    add_outcome(conn, OutcomeFields(title="Fix", at_ms=_ms("2026-11-18T10:05:00"), project="app"))
    add_usage(conn, "claude_code", "2026-11-18T11:01:00", 7, None)  # no working folder: no project
    add_usage(conn, "claude_code", "2026-11-18T11:10:00", 11, None)
    add_outcome(conn, OutcomeFields(title="Note", at_ms=_ms("2026-11-18T11:05:00")))
    q = value.ValueQuery("project", ZoneInfo("UTC"), now_ms=_ms("2026-11-20T12:00:00"))
    rep = value.build_value_report(conn, q)
    conn.close()
    got = {r.key: (r.spend_pusd, r.without_outcome_pusd) for r in rep.rows}
    usd = PICO_PER_USD
    assert got == {"app": (8 * usd, 5 * usd), value.NO_PROJECT: (18 * usd, 11 * usd)}
