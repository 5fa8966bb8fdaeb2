"""``report reconcile``: per UTC day, Anthropic's bill next to Claude Code estimates and OpenAI's next to Codex CLI.

Uses the ledger of tests/test_report_cost.py (its docstring has the table of figures).
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Home
from test_report_cost import add_account, add_provider_rows, claude_line, ledger, table_lines, write_logs

from tracker.store import open_store

__all__ = ["ledger"]  # the fixture, imported for use here

ROWS = [
    # day, provider, source, status, reported, estimated, kind, unpriced, difference, ratio
    ("2026-11-18", "anthropic", "claude_code", "both", "0.75", "0.60", "estimated", 0, "0.15", "1.25"),
    ("2026-11-18", "openai", "codex", "both", "2.50", "2.25", "estimated", 0, "0.25", "1.11"),
    ("2026-11-19", "anthropic", "claude_code", "both", "0.50", "0.60", "estimated", 0, "-0.10", "0.83"),
    ("2026-11-19", "openai", "codex", "estimated_only", None, "2.25", "estimated", 0, None, None),
    ("2026-11-20", "anthropic", "claude_code", "reported_only", "2.00", "0.00", None, 0, "2.00", None),
    ("2026-11-20", "openai", "codex", "reported_only", "1.00", "0.00", None, 0, "1.00", None),
    # fetched by the Anthropic account's syncs, nothing billed: a real $0, as with a subscription plan
    ("2026-11-21", "anthropic", "claude_code", "both", "0.00", "0.60", "estimated", 0, "-0.60", "0.00"),
]
FIELDS = ("day", "provider", "source", "status", "reported_cost_usd", "estimated_cost_usd", "estimated_cost_kind",
          "unpriced_tokens", "difference_usd", "ratio")


def test_reconcile_json(ledger: Home, cli: Any) -> None:
    r = cli("report", "reconcile", "--format", "json")
    assert r.code == 0, r.err
    d = r.json()
    assert (d["report"], d["timezone"], d["currency"], d["hint"]) == ("reconcile", "UTC", "USD", None)
    assert [tuple(row[f] for f in FIELDS) for row in d["rows"]] == ROWS
    anthropic, openai = d["pairs"]
    assert anthropic == {
        "provider": "anthropic", "source": "claude_code", "accounts": ["work"],
        "fetched": [{"from": "2026-11-17", "to": "2026-11-22"}], "days_compared": 3,
        "reported_cost_usd": "1.25", "estimated_cost_usd": "1.80", "difference_usd": "-0.55", "ratio": "0.69",
        "days_reported_only": 1, "days_estimated_only": 0,
        # Claude Code usage before the reports begin is summed up, not compared
        "outside": {"days": 1, "from": "2026-11-10", "to": "2026-11-10", "estimated_cost_usd": "0.60"},
    }
    assert (openai["fetched"], openai["days_compared"], openai["difference_usd"], openai["ratio"]) == (
        [], 1, "0.25", "1.11")
    assert openai["outside"] == {"days": 1, "from": "2026-11-05", "to": "2026-11-05", "estimated_cost_usd": "2.25"}
    assert any("subscription" in n for n in d["notes"])


def test_reconcile_csv(ledger: Home, cli: Any) -> None:
    r = cli("report", "reconcile", "--format", "csv")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == ",".join(FIELDS)
    assert lines[1:] == [",".join("" if v is None else str(v) for v in row) for row in ROWS]


def test_reconcile_table(ledger: Home, cli: Any) -> None:
    r = cli("report", "reconcile")
    assert r.code == 0, r.err
    assert table_lines(r.out) == [
        ["Day (UTC)", "Provider / logs", "Reported", "Estimated", "Difference", "Ratio", "Note"],
        ["2026-11-18", "Anthropic / Claude Code", "$0.75", "$0.60", "+$0.15", "1.25×", ""],
        ["2026-11-18", "OpenAI / Codex CLI", "$2.50", "$2.25", "+$0.25", "1.11×", ""],
        ["2026-11-19", "Anthropic / Claude Code", "$0.50", "$0.60", "-$0.10", "0.83×", ""],
        ["2026-11-19", "OpenAI / Codex CLI", "—", "$2.25", "—", "—", "not fetched"],
        ["2026-11-20", "Anthropic / Claude Code", "$2.00", "—", "+$2.00", "—", "no log usage"],
        ["2026-11-20", "OpenAI / Codex CLI", "$1.00", "—", "+$1.00", "—", "no log usage"],
        ["2026-11-21", "Anthropic / Claude Code", "$0.00", "$0.60", "-$0.60", "0.00×", "nothing billed"],
    ]
    text = r.out.split("└")[-1]
    assert "Anthropic vs Claude Code (account work; reports fetched for UTC days 2026-11-17 to 2026-11-22):" in text
    assert "  3 days compared: reported $1.25, estimated $1.80, difference -$0.55 (ratio 0.69×)." in text
    assert ("  1 more day of Claude Code usage (2026-11-10, estimated $0.60) outside the days Anthropic reports "
            "cover: not compared.") in text
    assert "OpenAI vs Codex CLI (account org; no completed sync recorded):" in text
    assert "  1 day with log usage but not fetched from the provider (listed above)." in text
    assert "Why the two differ:" in text and "same organisation" in text and "5-minute rate" in text


def test_reconcile_since_until_are_utc_days(ledger: Home, cli: Any) -> None:
    d = cli("report", "reconcile", "--format", "json", "--since", "2026-11-19", "--until", "2026-11-19").json()
    assert [(x["day"], x["provider"], x["status"]) for x in d["rows"]] == [
        ("2026-11-19", "anthropic", "both"), ("2026-11-19", "openai", "estimated_only")]
    assert (d["since"], d["until"]) == ("2026-11-19", "2026-11-19")


def test_unpriced_day_has_no_difference(ledger: Home, cli: Any) -> None:
    ledger.claude_log("-home-u-app/s2.jsonl", claude_line(9, "2026-11-22T12:00:00.000Z", model="claude-mystery-9"))
    assert cli("sync", "--no-accounts").code == 0
    d = cli("report", "reconcile", "--format", "json", "--since", "2026-11-22").json()
    assert [tuple(x[f] for f in FIELDS) for x in d["rows"]] == [
        ("2026-11-22", "anthropic", "claude_code", "both", "0.00", None, "unpriced", 120_000, None, None)]
    r = cli("report", "reconcile", "--since", "2026-11-22")
    assert table_lines(r.out)[1] == ["2026-11-22", "Anthropic / Claude Code", "$0.00", "unpriced", "—", "—",
                                     "nothing billed, unpriced"]


def test_no_accounts_says_how_to_add_one(home: Home, cli: Any) -> None:
    write_logs(home)
    assert cli("sync", "--no-accounts").code == 0
    r = cli("report", "reconcile")
    assert r.code == 0, r.err
    assert "No provider accounts yet, so there is nothing to compare." in r.out
    assert "token-ledger account add anthropic --name work" in r.out
    d = cli("report", "reconcile", "--format", "json").json()
    assert (d["rows"], d["pairs"]) == ([], [])
    assert "token-ledger account add openai --name work" in d["hint"]


def test_accounts_without_reports_or_log_counterpart(home: Home, cli: Any) -> None:
    write_logs(home)
    assert cli("sync", "--no-accounts").code == 0
    with open_store(home.data / "ledger.sqlite3", create=False) as store, store.transaction():
        add_account(store.conn, "openrouter", "personal")
    r = cli("report", "reconcile")
    assert "Your accounts have no local logs to compare with" in r.out
    assert "`token-ledger account add anthropic --name NAME` to compare with Claude Code" in r.out
    with open_store(home.data / "ledger.sqlite3", create=False) as store, store.transaction():
        add_account(store.conn, "anthropic", "work")
    r = cli("report", "reconcile")
    assert "No billed costs reported yet: run `token-ledger sync`" in r.out
    # the logs' days are not dropped silently: with no reports at all they are summed up per pair
    assert "4 more days of Claude Code usage (2026-11-10 to 2026-11-21, estimated $2.40)" in r.out


def test_reconcile_before_any_sync(home: Home, cli: Any) -> None:
    r = cli("report", "reconcile")
    assert r.code == 1
    assert "Run `token-ledger sync` first" in r.err


@pytest.mark.parametrize("option", [("--tz", "Europe/Paris"), ("--source", "codex"), ("--breakdown",),
                                    ("--cost", "both")])
def test_reconcile_refuses_options_that_do_not_apply(ledger: Home, cli: Any, option: tuple[str, ...]) -> None:
    r = cli("report", "reconcile", *option)
    assert r.code == 1
    assert f"report reconcile takes --since, --until and --format only (not {option[0]})" in r.err


def test_reconcile_with_provider_rows_only(home: Home, cli: Any) -> None:
    """Reported days with no logs at all are listed as reported only, not dropped."""
    assert cli("sync", "--no-accounts").code == 0
    with open_store(home.data / "ledger.sqlite3", create=False) as store, store.transaction():
        add_provider_rows(store.conn)
    d = cli("report", "reconcile", "--format", "json").json()
    assert {(x["day"], x["provider"], x["status"]) for x in d["rows"]} == {
        ("2026-11-18", "anthropic", "reported_only"), ("2026-11-19", "anthropic", "reported_only"),
        ("2026-11-20", "anthropic", "reported_only"), ("2026-11-18", "openai", "reported_only"),
        ("2026-11-20", "openai", "reported_only")}
