"""The CLI's report path: lazy command loading, the rollup kept fresh by sync and report, and lean imports."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import Home
from hypothesis import given
from hypothesis import strategies as st

from tracker.analytics.reports import ReportQuery, build_report
from tracker.cli import COMMANDS
from tracker.cli.report import report_json
from tracker.ledger.rollup import dirty_range
from tracker.store import open_store

CLAUDE = "claude/claude_code__real_v2.1.72__hallucination-detector.jsonl"
CODEX = "codex/codex__fixture__ccusage-session-alpha.jsonl"


def _logs(home: Home) -> None:
    home.copy_fixture(CLAUDE, home.claude / "projects" / "-home-u-app" / "a.jsonl")
    home.copy_fixture(CODEX, home.codex / "sessions" / "2026" / "11" / "20" / "rollout-a.jsonl")


def test_help_lists_every_command(cli: Any) -> None:
    r = cli("--help")
    assert r.code == 0
    for name in COMMANDS:
        assert name in r.out


def test_unknown_command_is_a_usage_error(cli: Any) -> None:
    r = cli("nope")
    assert r.code == 2
    assert "No such command" in r.err


@pytest.mark.parametrize("tz", ["UTC", "Asia/Kathmandu", "America/New_York"])
@pytest.mark.parametrize("kind", ["daily", "weekly", "monthly", "model"])
def test_report_json_equals_report_over_rows(home: Home, cli: Any, kind: str, tz: str) -> None:
    _logs(home)
    assert cli("sync").code == 0
    with open_store(home.data / "ledger.sqlite3", create=False) as store:
        assert dirty_range(store.conn) is None  # sync left the rollup current
        slow = report_json(build_report(store.conn, ReportQuery(kind, ZoneInfo(tz)), use_rollup=False))
    r = cli("report", kind, "--format", "json", "--tz", tz)
    assert r.code == 0, r.err
    assert r.json() == json.loads(json.dumps(slow))
    assert r.json()["rows"]


def test_report_refreshes_a_stale_rollup(home: Home, cli: Any) -> None:
    _logs(home)
    assert cli("sync").code == 0
    conn = sqlite3.connect(home.data / "ledger.sqlite3")
    with conn:
        # a row moved in time by a writer that does not refresh: the trigger marks it
        conn.execute("UPDATE usage SET ts_ms = ts_ms + 86400000 * 40 WHERE id = (SELECT min(id) FROM usage)")
    conn.close()
    with open_store(home.data / "ledger.sqlite3", create=False) as store:
        assert dirty_range(store.conn) is not None
        slow = report_json(build_report(store.conn, ReportQuery("daily", ZoneInfo("UTC")), use_rollup=False))
    r = cli("report", "daily", "--format", "json", "--tz", "UTC")
    assert r.code == 0, r.err
    assert r.json() == json.loads(json.dumps(slow))
    with open_store(home.data / "ledger.sqlite3", create=False) as store:
        assert dirty_range(store.conn) is None


def _modules_after(args: list[str], env: dict[str, str]) -> set[str]:
    code = (
        "import sys\n"
        "from tracker.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stdout.flush()\n"
        "sys.stderr.write('\\n'.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return set(out.stderr.split())


def test_json_report_imports_only_what_it_needs(home: Home, cli: Any) -> None:
    _logs(home)
    assert cli("sync").code == 0
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    loaded = _modules_after(["report", "daily", "--format", "json", "--tz", "UTC"], env)
    assert "tracker.analytics.reports" in loaded
    for heavy in ("rich", "sqlite_utils", "genai_prices", "tracker.ledger.importer", "tracker.pricing.catalog",
                  "tracker.cli.status", "tracker.cli.prices", "tracker.sources"):
        assert heavy not in loaded, heavy


@given(st.integers(0, 10**22) | st.sampled_from([500_000, 1_500_000, 2_500_000, 10**12 - 500_000, 10**6 - 1]))
def test_usd_rounds_like_decimal_quantize(pico: int) -> None:
    from decimal import Decimal

    from tracker.cli.report import usd
    from tracker.domain import PICO_PER_USD

    assert usd(pico) == float((Decimal(pico) / PICO_PER_USD).quantize(Decimal("0.000001")))


def test_report_when_the_rollup_cannot_be_refreshed(home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only or busy ledger: the report sums the rows instead, and says nothing went wrong."""
    import tracker.ledger.rollup

    _logs(home)
    assert cli("sync").code == 0
    conn = sqlite3.connect(home.data / "ledger.sqlite3")
    with conn:
        conn.execute("UPDATE usage SET ts_ms = ts_ms + 86400000 * 3 WHERE id = (SELECT max(id) FROM usage)")
    conn.close()

    def refuse(conn: sqlite3.Connection) -> bool:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(tracker.ledger.rollup, "refresh", refuse)
    with open_store(home.data / "ledger.sqlite3", create=False) as store:
        slow = report_json(build_report(store.conn, ReportQuery("weekly", ZoneInfo("UTC")), use_rollup=False))
    r = cli("report", "weekly", "--format", "json", "--tz", "UTC")
    assert r.code == 0, r.err
    assert r.json() == json.loads(json.dumps(slow))
    with open_store(home.data / "ledger.sqlite3", create=False) as store:
        assert dirty_range(store.conn) is not None  # not refreshed: the rows were read
