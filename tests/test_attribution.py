"""Attribution of spend to projects and outcomes, checked against figures computed by hand.

The ledger: real-shaped Claude Code log lines imported by ``sync --no-accounts`` (claude-sonnet-4-5, 100k input +
20k output = $0.30 + $0.30 = $0.60 a request), and provider rows written with SQL (billed USD), all in UTC:

| UTC time         | cwd / provider row                      | $    | default project   |
|------------------|-----------------------------------------|------|-------------------|
| 2026-11-10 10:00 | /work/app (gone from disk)              | 0.60 | app               |
| 2026-11-12 10:00 | /work/app/src                           | 0.60 | src (path gone)   |
| 2026-11-12 15:30 | /work/site/docs                         | 0.60 | docs              |
| 2026-11-15 10:00 | /work/app                               | 0.60 | app               |
| 2026-11-16 09:00 | /work/site/docs                         | 0.60 | docs              |
| 2026-11-18 10:00 | /work/app                               | 0.60 | app               |
| 2026-11-12 (day) | Anthropic 'work', workspace wrkspc_1    | 0.50 | unattributed      |
| 2026-11-13 (day) | OpenRouter 'personal'                   | 0.40 | unattributed      |
| 2026-11-14 (day) | OpenAI 'org', project proj_abc          | 1.25 | unattributed      |
| 2026-11-16 (day) | Anthropic 'work', workspace wrkspc_1, key apikey_9 | 2.00 | unattributed |

Outcomes: #1 app at 2026-11-12 12:00, #2 app on 2026-11-16 (a date: the end of that day), #3 docs on
2026-11-20, #4 without a project on 2026-11-20.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import Home

from tracker.analytics.attribution import (
    Spend,
    attribute_outcomes,
    default_project,
    load_rules,
    project_for_path,
    spend_by_project,
    spend_by_project_day,
)
from tracker.outcomes import OutcomeFields, add_outcome, add_rule, parse_when
from tracker.store import open_store

MODEL = "claude-sonnet-4-5-20250929"
UTC_ZONE = ZoneInfo("UTC")
P = 10**12  # pico-USD per dollar


def usd(text: str) -> int:
    return int(Decimal(text) * P)


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def claude_line(n: int, ts: str, cwd: str) -> str:
    return json.dumps({
        "type": "assistant", "timestamp": ts, "sessionId": "s1", "cwd": cwd, "version": "2.1.72",
        "requestId": f"req_{n}",
        "message": {"id": f"msg_{n}", "model": MODEL, "type": "message", "role": "assistant",
                    "usage": {"input_tokens": 100_000, "cache_creation_input_tokens": 0,
                              "cache_read_input_tokens": 0, "output_tokens": 20_000}},
    }, separators=(",", ":")) + "\n"


LINES = (
    ("2026-11-10T10:00:00.000Z", "/work/app"),
    ("2026-11-12T10:00:00.000Z", "/work/app/src"),
    ("2026-11-12T15:30:00.000Z", "/work/site/docs"),
    ("2026-11-15T10:00:00.000Z", "/work/app"),
    ("2026-11-16T09:00:00.000Z", "/work/site/docs"),
    ("2026-11-18T10:00:00.000Z", "/work/app"),
)


def add_account(conn: sqlite3.Connection, provider: str, label: str) -> int:
    cur = conn.execute("INSERT INTO accounts (provider, label, created_ms, last_status) VALUES (?, ?, ?, 'ok')",
                       (provider, label, _ms("2026-11-01T08:00:00")))
    return int(cur.lastrowid or 0)


def add_billed(conn: sqlite3.Connection, account: int, provider: str, day: str, dollars: str, **cols: Any) -> None:
    start = _ms(f"{day}T00:00:00")
    row = {"account_id": account, "provider": provider, "kind": f"{provider}.costs", "bucket_start_ms": start,
           "bucket_width": "1d", "bucket_end_ms": start + 86_400_000, "fetched_ms": start, "billed": 1,
           "cost_pico": usd(dollars), "currency": "USD", "amount_raw": dollars, **cols}
    conn.execute(f"INSERT INTO provider_usage ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                 list(row.values()))


def build(home: Home, cli: Any) -> sqlite3.Connection:
    home.claude_log("-work-app/s1.jsonl", "".join(claude_line(i, ts, cwd) for i, (ts, cwd) in enumerate(LINES)))
    r = cli("sync", "--no-accounts")
    assert r.code == 0, r.err
    conn = sqlite3.connect(home.data / "ledger.sqlite3", isolation_level=None)
    work = add_account(conn, "anthropic", "work")
    org = add_account(conn, "openai", "org")
    personal = add_account(conn, "openrouter", "personal")
    add_billed(conn, work, "anthropic", "2026-11-12", "0.50", project="wrkspc_1", line_item="input")
    add_billed(conn, personal, "openrouter", "2026-11-13", "0.40", model="openai/gpt-4o")
    add_billed(conn, org, "openai", "2026-11-14", "1.25", project="proj_abc")
    add_billed(conn, work, "anthropic", "2026-11-16", "2.00", project="wrkspc_1", dims='{"api_key_id":"apikey_9"}')
    # never spend: a usage row and a bill in another currency
    add_billed(conn, org, "openai", "2026-11-16", "9.00", kind="openai.usage.completions", billed=0)
    add_billed(conn, work, "anthropic", "2026-11-17", "7.00", currency="EUR", line_item="eur")
    return conn


@pytest.fixture
def ledger(home: Home, cli: Any) -> Any:
    conn = build(home, cli)
    yield conn
    conn.close()


def _outcome(conn: sqlite3.Connection, title: str, at: str, project: str | None) -> int:
    return add_outcome(conn, OutcomeFields(title=title, at_ms=parse_when(at, UTC_ZONE), project=project))


def _outcomes(conn: sqlite3.Connection) -> None:
    _outcome(conn, "one", "2026-11-12 12:00", "app")
    _outcome(conn, "two", "2026-11-16", "app")
    _outcome(conn, "three", "2026-11-20", "docs")
    _outcome(conn, "four", "2026-11-20", None)


def _by_id(conn: sqlite3.Connection) -> dict[int, tuple[str | None, int, int, int]]:
    return {o.outcome_id: (o.project, o.attributed_pusd, o.estimated_pusd, o.reported_pusd)
            for o in attribute_outcomes(conn, UTC_ZONE)}


def test_spend_by_project_default_projects(ledger: sqlite3.Connection) -> None:
    spend = spend_by_project(ledger, UTC_ZONE)
    assert spend == {
        "app": Spend(usd("1.80"), 0, 0),
        "src": Spend(usd("0.60"), 0, 0),  # a path gone from disk: its last component
        "docs": Spend(usd("1.20"), 0, 0),
        None: Spend(0, usd("4.15"), 0),  # 0.50 + 0.40 + 1.25 + 2.00; the EUR bill and usage rows never
    }


def test_spend_by_project_day(ledger: sqlite3.Connection) -> None:
    days = spend_by_project_day(ledger, UTC_ZONE, date(2026, 11, 12), date(2026, 11, 15))
    assert days == {
        ("src", date(2026, 11, 12)): Spend(usd("0.60"), 0, 0),
        ("docs", date(2026, 11, 12)): Spend(usd("0.60"), 0, 0),
        (None, date(2026, 11, 12)): Spend(0, usd("0.50"), 0),
        (None, date(2026, 11, 13)): Spend(0, usd("0.40"), 0),
        (None, date(2026, 11, 14)): Spend(0, usd("1.25"), 0),
        ("app", date(2026, 11, 15)): Spend(usd("0.60"), 0, 0),
    }
    # 2026-11-12 15:30 UTC is 2026-11-13 00:30 in Tokyo (UTC+9): local usage moves, UTC-day buckets do not
    tokyo = spend_by_project_day(ledger, ZoneInfo("Asia/Tokyo"), date(2026, 11, 13), date(2026, 11, 13))
    assert tokyo == {("docs", date(2026, 11, 13)): Spend(usd("0.60"), 0, 0),
                     (None, date(2026, 11, 13)): Spend(0, usd("0.40"), 0)}


def test_outcome_spend_is_project_spend_since_previous_outcome(ledger: sqlite3.Connection) -> None:
    _outcomes(ledger)
    assert _by_id(ledger) == {
        1: ("app", usd("0.60"), usd("0.60"), 0),  # 11-10 only: the 11-12 request ran in /work/app/src
        2: ("app", usd("0.60"), usd("0.60"), 0),  # 11-15 (11-18 comes after it)
        3: ("docs", usd("1.20"), usd("1.20"), 0),  # 11-12 and 11-16
        4: (None, usd("4.15"), 0, usd("4.15")),  # no project: the unattributed spend before it
    }
    windows = {o.outcome_id: o.window for o in attribute_outcomes(ledger, UTC_ZONE)}
    assert windows[1] == (_ms("2026-11-10T10:00:00"), _ms("2026-11-12T12:00:00"))
    assert windows[2] == (_ms("2026-11-12T12:00:00"), _ms("2026-11-17T00:00:00") - 1)


def test_rules_apply_to_past_spend(ledger: sqlite3.Connection) -> None:
    _outcomes(ledger)
    add_rule(ledger, "app", "path_prefix", "/work/app")  # claims /work/app/src too
    add_rule(ledger, "app", "anthropic_workspace", "wrkspc_1")
    add_rule(ledger, "infra", "openai_project", "proj_abc")
    add_rule(ledger, "site", "path_glob", "/work/site/*")
    assert spend_by_project(ledger, UTC_ZONE) == {
        "app": Spend(usd("2.40"), usd("2.50"), 0),
        "infra": Spend(0, usd("1.25"), 0),
        "site": Spend(usd("1.20"), 0, 0),
        None: Spend(0, usd("0.40"), 0),
    }
    assert _by_id(ledger) == {
        1: ("app", usd("1.70"), usd("1.20"), usd("0.50")),  # 11-10, 11-12 (src) and the 11-12 bucket
        2: ("app", usd("2.60"), usd("0.60"), usd("2.00")),
        3: ("docs", 0, 0, 0),  # docs' usage now belongs to site
        4: (None, usd("0.40"), 0, usd("0.40")),
    }
    # the most specific provider rule wins: an API key id over the workspace
    add_rule(ledger, "keyed", "api_key_id", "apikey_9")
    add_rule(ledger, "orgwide", "account", "org")
    spend = spend_by_project(ledger, UTC_ZONE)
    assert spend["keyed"] == Spend(0, usd("2.00"), 0)
    assert spend["app"] == Spend(usd("2.40"), usd("0.50"), 0)
    assert spend["infra"] == Spend(0, usd("1.25"), 0)  # the project rule beats the account rule
    assert "orgwide" not in spend


def test_longest_prefix_wins_then_globs() -> None:
    from tracker.analytics.attribution import Rule, Rules

    rules = Rules((Rule(1, "broad", "path_prefix", "/work"), Rule(2, "narrow", "path_prefix", "/work/app"),
                   Rule(3, "globbed", "path_glob", "/srv/*/code")))
    assert project_for_path("/work/app/x", rules) == "narrow"
    assert project_for_path("/work/apple", rules) == "broad"  # a prefix matches whole path components only
    assert project_for_path("/srv/a/code", rules) == "globbed"
    assert project_for_path("/elsewhere/gone", rules) == "gone"
    assert project_for_path(None, rules) is None
    assert project_for_path("", rules) is None


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main",
                    *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="the git command is not installed")
def test_default_project_is_the_repository_folder_and_worktrees_count_as_it(tmp_path: Path) -> None:
    repo = tmp_path / "shop"
    (repo / "src" / "deep").mkdir(parents=True)
    _git("init", "-q", cwd=repo)
    (repo / "README").write_text("x")
    _git("add", "README", cwd=repo)
    _git("commit", "-q", "-m", "first", cwd=repo)
    _git("worktree", "add", "-q", str(tmp_path / "shop-feature"), "-b", "feature", cwd=repo)
    (tmp_path / "shop-feature" / "lib").mkdir()
    plain = tmp_path / "notes" / "inbox"
    plain.mkdir(parents=True)
    assert default_project(str(repo)) == "shop"
    assert default_project(str(repo / "src" / "deep")) == "shop"
    assert default_project(str(tmp_path / "shop-feature")) == "shop"  # a worktree counts as its repository
    assert default_project(str(tmp_path / "shop-feature" / "lib")) == "shop"
    assert default_project(str(plain)) == "inbox"  # not in a repository: the folder itself
    assert default_project(str(tmp_path / "gone" / "away")) == "away"


def test_no_outcomes_no_rules(ledger: sqlite3.Connection) -> None:
    assert attribute_outcomes(ledger, UTC_ZONE) == []
    assert load_rules(ledger).rules == ()


def test_empty_ledger(tmp_path: Path) -> None:
    with open_store(tmp_path / "l.sqlite3") as store:
        assert spend_by_project_day(store.conn, UTC_ZONE, None, None) == {}
        assert attribute_outcomes(store.conn, UTC_ZONE) == []
