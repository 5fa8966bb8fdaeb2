"""``report --cost reported|both``: what providers billed, next to (never added to) what the logs estimate.

The ledger here has both sides: real-shaped Claude Code and Codex logs imported by ``sync``, and provider rows
written with SQL into the tables the provider sync fills (``accounts``, ``provider_usage``, ``provider_sync_state``,
``provider_balances``); tests/test_reconcile.py uses the same ledger.

Estimated (claude-sonnet-4-5: 100k input + 20k output = $0.60 a request; gpt-5 in Codex: 1M input + 100k output
= $2.25 a turn) and reported (billed rows) figures are round, so the tests can check exact amounts:

| UTC day    | Claude Code (est.)   | Anthropic cost_report | Codex (est.) | OpenAI costs | OpenRouter |
|------------|----------------------|-----------------------|--------------|--------------|------------|
| 2026-11-05 |                      |                       | 2.25         |              |            |
| 2026-11-10 | 0.60                 |                       |              |              |            |
| 2026-11-18 | 0.60 (10:00)         | 0.30 + 0.45           | 2.25         | 1.25 + 1.25  |            |
| 2026-11-19 | 0.60 (23:30 UTC)     | 0.50                  | 2.25         |              | 0.40       |
| 2026-11-20 |                      | 2.00                  |              | 1.00         |            |
| 2026-11-21 | 0.60                 | (fetched, nothing)    |              |              |            |

The Anthropic account's syncs fetched UTC days 2026-11-17 to 2026-11-22; the OpenAI account has no sync state.
Rows that must never count as billed spend are there too: Claude Code analytics estimates, an OpenAI usage row,
and DeepSeek/Moonshot balances (Moonshot in CNY).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import Home

from tracker.store import open_store

CLAUDE_MODEL = "claude-sonnet-4-5-20250929"


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def claude_line(n: int, ts: str, model: str = CLAUDE_MODEL) -> str:
    return json.dumps({
        "type": "assistant", "timestamp": ts, "sessionId": "s1", "cwd": "/home/u/app", "version": "2.1.72",
        "requestId": f"req_{n}",
        "message": {"id": f"msg_{n}", "model": model, "type": "message", "role": "assistant",
                    "usage": {"input_tokens": 100_000, "cache_creation_input_tokens": 0,
                              "cache_read_input_tokens": 0, "output_tokens": 20_000}},
    }, separators=(",", ":")) + "\n"


def codex_turn(ts: str, total_input: int) -> str:
    """One Codex turn of 1M input and 100k output; ``total_input`` is the running total Codex logs alongside."""
    last = {"input_tokens": 1_000_000, "cached_input_tokens": 0, "output_tokens": 100_000,
            "reasoning_output_tokens": 0, "total_tokens": 1_100_000}
    total = {**last, "input_tokens": total_input, "total_tokens": total_input + 100_000}
    info = {"model": "gpt-5", "last_token_usage": last, "total_token_usage": total}
    line = {"timestamp": ts, "type": "event_msg", "payload": {"type": "token_count", "info": info}}
    return json.dumps(line, separators=(",", ":")) + "\n"


def write_logs(home: Home) -> None:
    home.claude_log("-home-u-app/s1.jsonl", "".join([
        claude_line(1, "2026-11-10T10:00:00.000Z"),
        claude_line(2, "2026-11-18T10:00:00.000Z"),
        claude_line(3, "2026-11-19T23:30:00.000Z"),
        claude_line(4, "2026-11-21T10:00:00.000Z"),
    ]))
    context = json.dumps({"timestamp": "2026-11-05T09:00:00.000Z", "type": "turn_context",
                          "payload": {"model": "gpt-5"}}) + "\n"
    home.codex_log("sessions/2026/11/05/rollout-a.jsonl", context + "".join([
        codex_turn("2026-11-05T10:00:00.000Z", 1_000_000),
        codex_turn("2026-11-18T10:00:00.000Z", 2_000_000),
        codex_turn("2026-11-19T10:00:00.000Z", 3_000_000),
    ]))


def add_account(conn: sqlite3.Connection, provider: str, label: str) -> int:
    cur = conn.execute("INSERT INTO accounts (provider, label, created_ms, last_status) VALUES (?, ?, ?, 'ok')",
                       (provider, label, _ms("2026-11-17T08:00:00")))
    return int(cur.lastrowid or 0)


def add_usage(conn: sqlite3.Connection, account: int, provider: str, kind: str, day: str, **cols: Any) -> None:
    start = _ms(f"{day}T00:00:00")
    row = {"account_id": account, "provider": provider, "kind": kind, "bucket_start_ms": start,
           "bucket_width": "1d", "bucket_end_ms": start + 86_400_000, "fetched_ms": start, **cols}
    names = ", ".join(row)
    conn.execute(f"INSERT INTO provider_usage ({names}) VALUES ({', '.join('?' * len(row))})", list(row.values()))


def _cents(cents: str) -> dict[str, Any]:
    from decimal import Decimal

    return {"cost_pico": int(Decimal(cents) * 10**10), "currency": "USD", "amount_raw": cents, "amount_unit": "cents"}


def _usd(value: str) -> dict[str, Any]:
    from decimal import Decimal

    return {"cost_pico": int(Decimal(value) * 10**12), "currency": "USD", "amount_raw": value, "amount_unit": "unit"}


def add_provider_rows(conn: sqlite3.Connection) -> None:
    anthropic = add_account(conn, "anthropic", "work")
    openai = add_account(conn, "openai", "org")
    openrouter = add_account(conn, "openrouter", "personal")
    moonshot = add_account(conn, "moonshot", "kimi")
    deepseek = add_account(conn, "deepseek", "ds")
    cost = "anthropic.cost_report"
    for day, item, cents in (("2026-11-18", "Claude Sonnet 4.5 Usage - Input Tokens", "30"),
                             ("2026-11-18", "Claude Sonnet 4.5 Usage - Output Tokens", "45.0"),
                             ("2026-11-19", "Claude Sonnet 4.5 Usage - Input Tokens", "50"),
                             ("2026-11-20", "Claude Sonnet 4.5 Usage - Input Tokens", "200")):
        add_usage(conn, anthropic, "anthropic", cost, day, model=CLAUDE_MODEL, project="wrkspc_1",
                  line_item=item, billed=1, **_cents(cents))
    # Anthropic's own estimate for Claude Code: informational, never billed spend
    add_usage(conn, anthropic, "anthropic", "anthropic.claude_code", "2026-11-18", model=CLAUDE_MODEL,
              line_item="me@example.com", billed=0, input_tokens=100_000, **_cents("55"))
    conn.execute("INSERT INTO provider_sync_state VALUES (?, ?, ?, ?)",
                 (anthropic, _ms("2026-11-17T09:00:00"), _ms("2026-11-22T12:00:00"), _ms("2026-11-17T00:00:00")))
    for day, item, value in (("2026-11-18", "gpt-5-2025-08-07, input", "1.25"),
                             ("2026-11-18", "gpt-5-2025-08-07, output", "1.25"),
                             ("2026-11-20", "gpt-5-2025-08-07, input", "1")):
        add_usage(conn, openai, "openai", "openai.costs", day, project="proj_abc", line_item=item, billed=1,
                  **_usd(value))
    add_usage(conn, openai, "openai", "openai.usage.completions", "2026-11-18", model="gpt-5-2025-08-07",
              input_tokens=1_000_000, output_tokens=100_000, requests=1)
    add_usage(conn, openrouter, "openrouter", "openrouter.activity", "2026-11-19", model="openai/gpt-4o",
              dims='{"endpoint_id":"e1"}', billed=1, **_usd("0.4"))
    for account, provider, field, currency, value in ((moonshot, "moonshot", "available", "CNY", "49.58894"),
                                                      (deepseek, "deepseek", "total", "USD", "110.00")):
        conn.execute(
            "INSERT INTO provider_balances (account_id, provider, ts_ms, field, currency, amount_pico, amount_raw)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (account, provider, _ms("2026-11-22T12:00:00"), field, currency,
             _usd(value)["cost_pico"], value))


# --- the ledger ------------------------------------------------------------------------------------------


@pytest.fixture
def ledger(home: Home, cli: Any) -> Home:
    """Logs imported by ``sync`` (accounts added afterwards, so no sync polls the network), then provider rows."""
    write_logs(home)
    r = cli("sync", "--no-accounts")
    assert r.code == 0, r.err
    with open_store(home.data / "ledger.sqlite3", create=False) as store, store.transaction():
        add_provider_rows(store.conn)
    return home


def table_lines(out: str) -> list[list[str]]:
    """The table's header, rows and footer, cells stripped: ``["2026-11-18", "$0.75", ...]`` per line."""
    return [[c.strip() for c in line.replace("┃", "│").strip("│").split("│")] for line in out.splitlines()
            if line[:1] in ("│", "┃")]


# --- estimated (the default) is unchanged ----------------------------------------------------------------


@pytest.mark.parametrize("args", [("daily", "--format", "json"), ("weekly", "--format", "csv"),
                                  ("daily", "--breakdown"), ("model", "--format", "json"),
                                  ("monthly", "--tz", "Asia/Kathmandu", "--format", "json")])
def test_cost_estimated_is_the_default_and_ignores_provider_rows(home: Home, cli: Any, args: tuple[str, ...]
                                                                   ) -> None:
    write_logs(home)
    assert cli("sync", "--no-accounts").code == 0
    before = cli("report", *args)
    with open_store(home.data / "ledger.sqlite3", create=False) as store, store.transaction():
        add_provider_rows(store.conn)
    after, explicit = cli("report", *args), cli("report", *args, "--cost", "estimated")
    assert before.code == after.code == explicit.code == 0
    assert before.out == after.out == explicit.out


def test_cost_options_go_to_the_full_path() -> None:
    from tracker.cli.fast import match

    assert match(["report", "daily", "--format", "json"]) is not None
    assert match(["report", "daily", "--format", "json", "--cost", "both"]) is None
    assert match(["report", "daily", "--format", "json", "--cost=estimated"]) is None
    assert match(["report", "reconcile", "--format", "json"]) is None


# --- reported --------------------------------------------------------------------------------------------


def test_reported_daily_json_sums_billed_usd_only(ledger: Home, cli: Any) -> None:
    r = cli("report", "daily", "--cost", "reported", "--format", "json", "--tz", "UTC")
    assert r.code == 0, r.err
    d = r.json()
    assert (d["report"], d["cost"], d["timezone"], d["currency"]) == ("daily", "reported", "UTC", "USD")
    assert "sources" not in d  # local logs play no part
    assert d["providers"] == ["anthropic", "openai", "openrouter"]
    assert [(row["period"], row["reported_cost_usd"]) for row in d["rows"]] == [
        ("2026-11-18", "3.25"), ("2026-11-19", "0.90"), ("2026-11-20", "3.00")]
    sonnet = "Claude Sonnet 4.5 Usage"
    assert d["rows"][0]["by_provider"] == [
        {"provider": "anthropic", "reported_cost_usd": "0.75", "line_items": [
            {"model": CLAUDE_MODEL, "line_item": f"{sonnet} - Output Tokens", "reported_cost_usd": "0.45"},
            {"model": CLAUDE_MODEL, "line_item": f"{sonnet} - Input Tokens", "reported_cost_usd": "0.30"},
        ]},
        {"provider": "openai", "reported_cost_usd": "2.50", "line_items": [
            {"model": None, "line_item": "gpt-5-2025-08-07, input", "reported_cost_usd": "1.25"},
            {"model": None, "line_item": "gpt-5-2025-08-07, output", "reported_cost_usd": "1.25"},
        ]},
    ]
    # Claude Code analytics ($0.55, Anthropic's estimate) and balances are not billed spend
    assert d["totals"] == {"reported_cost_usd": "7.15", "by_provider": [
        {"provider": "anthropic", "reported_cost_usd": "3.25"}, {"provider": "openai", "reported_cost_usd": "3.50"},
        {"provider": "openrouter", "reported_cost_usd": "0.40"}]}
    assert d["other_currencies"] == []
    assert {a["label"] for a in d["accounts"]} == {"work", "org", "personal", "kimi", "ds"}


def test_reported_csv_has_a_stable_column_per_provider(ledger: Home, cli: Any) -> None:
    r = cli("report", "daily", "--cost", "reported", "--format", "csv")
    assert r.code == 0, r.err
    assert r.out == (
        "period,reported_cost_usd,reported_anthropic_usd,reported_openai_usd,reported_openrouter_usd\n"
        "2026-11-18,3.25,0.75,2.50,\n"
        "2026-11-19,0.90,0.50,,0.40\n"
        "2026-11-20,3.00,2.00,1.00,\n"
    )


def test_reported_weekly_table_with_line_items(ledger: Home, cli: Any) -> None:
    r = cli("report", "weekly", "--cost", "reported", "--breakdown", "--tz", "UTC")
    assert r.code == 0, r.err
    assert "Reported cost (billed by providers), weekly (UTC)" in r.out
    assert table_lines(r.out)[1:] == [
        ["2026-11-16", "$3.25", "$3.50", "$0.40", "$7.15"],
        ["└ Claude Sonnet 4.5 Usage - Input Tokens", "$2.80", "", "", ""],
        ["└ Claude Sonnet 4.5 Usage - Output Tokens", "$0.45", "", "", ""],
        ["└ gpt-5-2025-08-07, input", "", "$2.25", "", ""],
        ["└ gpt-5-2025-08-07, output", "", "$1.25", "", ""],
        ["└ openai/gpt-4o", "", "", "$0.40", ""],
        ["Total", "$3.25", "$3.50", "$0.40", "$7.15"],
    ]
    assert "Reported: Anthropic" in r.out and "Reported total" in r.out
    assert "UTC day" not in r.out  # no placement note in UTC


def test_reported_monthly_by_utc_date_in_another_zone(ledger: Home, cli: Any) -> None:
    r = cli("report", "monthly", "--cost", "reported", "--tz", "Pacific/Kiritimati", "--since", "2026-11-19")
    assert r.code == 0, r.err
    # by UTC date: the 2026-11-18 bucket is left out whatever the zone, the 19th and 20th are in
    assert table_lines(r.out)[1:] == [["2026-11", "$2.50", "$1.00", "$0.40", "$3.90"],
                                      ["Total", "$2.50", "$1.00", "$0.40", "$3.90"]]
    assert "Reported costs come per UTC day and count in the period holding that UTC date" in r.out
    assert "(Pacific/Kiritimati does not shift them: a UTC day cannot be cut into local hours)" in r.out


def test_reported_with_no_accounts_says_how_to_add_one(home: Home, cli: Any) -> None:
    write_logs(home)
    assert cli("sync", "--no-accounts").code == 0
    r = cli("report", "daily", "--cost", "reported")
    assert r.code == 0, r.err
    assert "No reported cost (UTC)." in r.out
    assert "token-ledger account add anthropic --name work" in r.out
    j = cli("report", "daily", "--cost", "reported", "--format", "json").json()
    assert (j["rows"], j["accounts"], j["totals"]["reported_cost_usd"]) == ([], [], None)


def test_other_currencies_are_shown_apart_never_added(ledger: Home, cli: Any) -> None:
    with open_store(ledger.data / "ledger.sqlite3", create=False) as store, store.transaction():
        add_usage(store.conn, 4, "moonshot", "moonshot.bill", "2026-11-19", billed=1, cost_pico=12_300_000_000_000,
                  currency="CNY", amount_raw="12.3", amount_unit="unit")
    j = cli("report", "daily", "--cost", "reported", "--format", "json").json()
    assert j["totals"]["reported_cost_usd"] == "7.15"
    assert j["other_currencies"] == [{"provider": "moonshot", "currency": "CNY", "amount": "12.30"}]
    r = cli("report", "daily", "--cost", "reported")
    assert "Also billed in other currencies, not added to USD: moonshot 12.30 CNY." in r.out


# --- both ------------------------------------------------------------------------------------------------


def test_both_json_in_paris_keeps_the_two_apart(ledger: Home, cli: Any) -> None:
    r = cli("report", "daily", "--cost", "both", "--format", "json", "--tz", "Europe/Paris",
            "--since", "2026-11-19", "--until", "2026-11-20")
    assert r.code == 0, r.err
    d = r.json()
    assert d["reported_buckets"] == "UTC days, each counted in the period that holds its UTC date"
    got = [(x["period"], x["estimated_cost_usd"], x["estimated_cost_kind"], x["records"], x["reported_cost_usd"])
           for x in d["rows"]]
    # the Claude request at 23:30 UTC on the 19th is on the 20th in Paris; reported buckets stay on their UTC date
    assert got == [("2026-11-19", "2.25", "estimated", 1, "0.90"), ("2026-11-20", "0.60", "estimated", 1, "3.00")]
    assert "cost_usd" not in d["rows"][0]  # explicit names only: estimated_cost_usd, reported_cost_usd
    t = d["totals"]
    assert (t["estimated_cost_usd"], t["reported_cost_usd"], t["total_tokens"]) == ("2.85", "3.90", 1_220_000)


def test_both_table_in_paris(ledger: Home, cli: Any) -> None:
    r = cli("report", "daily", "--cost", "both", "--tz", "Europe/Paris")
    assert r.code == 0, r.err
    rows = table_lines(r.out)
    assert rows[0] == ["Period", "Models", "Total tokens", "Estimated (logs)", "Reported: Anthropic",
                       "Reported: OpenAI", "Reported: OpenRouter", "Reported total"]
    assert [row[:1] + row[2:] for row in rows[1:]] == [
        ["2026-11-05", "1,100,000", "$2.25", "—", "—", "—", "—"],
        ["2026-11-10", "120,000", "$0.60", "—", "—", "—", "—"],
        ["2026-11-18", "1,220,000", "$2.85", "$0.75", "$2.50", "—", "$3.25"],
        ["2026-11-19", "1,100,000", "$2.25", "$0.50", "—", "$0.40", "$0.90"],
        ["2026-11-20", "120,000", "$0.60", "$2.00", "$1.00", "—", "$3.00"],
        ["2026-11-21", "120,000", "$0.60", "—", "—", "—", "—"],
        ["Total", "3,780,000", "$9.15", "$3.25", "$3.50", "$0.40", "$7.15"],
    ]
    assert "Europe/Paris days cut the estimates" in r.out
    assert "never added" in r.out


def test_both_csv_in_utc_lists_periods_with_either_side(ledger: Home, cli: Any) -> None:
    r = cli("report", "daily", "--cost", "both", "--format", "csv", "--tz", "UTC", "--since", "2026-11-19")
    assert r.code == 0, r.err
    assert r.out.splitlines() == [
        "period,models,input_tokens,cache_creation_tokens,cache_read_tokens,output_tokens,reasoning_tokens,"
        "total_tokens,estimated_cost_usd,estimated_cost_kind,unpriced_tokens,records,reported_cost_usd,"
        "reported_anthropic_usd,reported_openai_usd,reported_openrouter_usd",
        f"2026-11-19,gpt-5;{CLAUDE_MODEL},1100000,0,0,120000,0,1220000,2.85,estimated,0,2,0.90,0.50,,0.40",
        "2026-11-20,,0,0,0,0,0,0,0.00,estimated,0,0,3.00,2.00,1.00,",
        f"2026-11-21,{CLAUDE_MODEL},100000,0,0,20000,0,120000,0.60,estimated,0,1,,,,",
    ]


def test_both_with_source_filters_the_estimate_only(ledger: Home, cli: Any) -> None:
    d = cli("report", "monthly", "--cost", "both", "--format", "json", "--source", "codex").json()
    assert d["sources"] == ["codex"]
    assert (d["totals"]["estimated_cost_usd"], d["totals"]["reported_cost_usd"]) == ("6.75", "7.15")


def test_unpriced_usage_stays_unpriced_next_to_reported(ledger: Home, cli: Any) -> None:
    ledger.claude_log("-home-u-app/s2.jsonl", claude_line(9, "2026-11-20T12:00:00.000Z", model="claude-mystery-9"))
    assert cli("sync", "--no-accounts").code == 0
    d = cli("report", "daily", "--cost", "both", "--format", "json", "--since", "2026-11-20",
            "--until", "2026-11-20").json()
    row = d["rows"][0]
    estimated = (row["estimated_cost_usd"], row["estimated_cost_kind"], row["unpriced_tokens"])
    assert estimated == (None, "unpriced", 120_000)
    assert row["reported_cost_usd"] == "3.00"
    r = cli("report", "daily", "--cost", "both", "--since", "2026-11-20", "--until", "2026-11-20")
    assert table_lines(r.out)[1][3] == "unpriced"
    assert "120,000 tokens (1 requests) are from models with no known price" in r.out


def test_an_empty_range_says_so(ledger: Home, cli: Any) -> None:
    r = cli("report", "daily", "--cost", "both", "--since", "2027-01-01", "--until", "2027-01-31")
    assert r.code == 0, r.err
    assert "No usage or reported cost from 2027-01-01 to 2027-01-31 (UTC)." in r.out
    assert "No billed costs reported for these dates" in r.out
    assert cli("report", "daily", "--cost", "reported", "--format", "json", "--since", "2027-01-01"
               ).json()["rows"] == []


@pytest.mark.parametrize(("args", "message"), [
    (("session", "--cost", "both"), "--cost both works with daily, weekly and monthly reports"),
    (("model", "--cost", "reported"), "not per model"),
    (("daily", "--cost", "reported", "--source", "codex"), "use --cost both"),
    (("daily", "--cost", "cheap"), "Invalid value for '--cost'"),
])
def test_cost_option_errors(ledger: Home, cli: Any, args: tuple[str, ...], message: str) -> None:
    r = cli("report", *args)
    assert r.code in (1, 2)
    assert message in r.err
    assert "Traceback" not in r.err
