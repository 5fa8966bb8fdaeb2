"""The demo ledger: deterministic for a seed, consistent with the real pricing, never mixed into a real ledger."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import Home

from tracker.demo import UNPRICED_MODEL, DemoSpec, create_demo, is_demo
from tracker.paths import AppPaths

NOW_MS = 1_763_900_000_000  # 2025-11-23T12:13:20Z, a Sunday
SPEC = DemoSpec(months=2, seed=3, now_ms=NOW_MS)


def _counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        tables = ("usage", "files", "accounts", "provider_usage", "provider_balances", "network_log", "sync_runs",
                  "provider_sync_state")
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        conn.close()


def test_exact_rows_for_a_seed(tmp_path: Path) -> None:
    summary = create_demo(AppPaths(tmp_path), SPEC)
    assert _counts(tmp_path / "ledger.sqlite3") == {
        "usage": 7926, "files": 131, "accounts": 3, "provider_usage": 610, "provider_balances": 93,
        "network_log": 2574, "sync_runs": 61, "provider_sync_state": 3,
    }
    assert summary.usage_rows == 7926
    assert summary.counts_by_source == {"claude_code": 5967, "codex": 1959}
    assert summary.unpriced_rows == 95
    assert summary.last_ms < NOW_MS


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    def fingerprint(d: Path, seed: int) -> list[Any]:
        create_demo(AppPaths(d), DemoSpec(months=1, seed=seed, now_ms=NOW_MS))
        conn = sqlite3.connect(d / "ledger.sqlite3")
        try:
            return conn.execute("SELECT count(*), sum(ts_ms), sum(cost_pusd), sum(output_tokens) FROM usage").fetchall()
        finally:
            conn.close()

    first = fingerprint(tmp_path / "a", 1)
    assert fingerprint(tmp_path / "b", 1) == first
    assert fingerprint(tmp_path / "c", 2) != first


def test_marked_priced_and_rolled_up(tmp_path: Path) -> None:
    create_demo(AppPaths(tmp_path), SPEC)
    conn = sqlite3.connect(tmp_path / "ledger.sqlite3")
    try:
        assert is_demo(conn)
        kinds = dict(conn.execute("SELECT cost_kind, count(*) FROM usage GROUP BY cost_kind").fetchall())
        assert set(kinds) == {"estimated", "unpriced"}
        unpriced_models = {r[0] for r in conn.execute("SELECT DISTINCT model FROM usage WHERE cost_kind = 'unpriced'")}
        assert unpriced_models == {UNPRICED_MODEL}
        assert conn.execute("SELECT count(*) FROM usage WHERE cost_kind = 'estimated' AND cost_pusd IS NULL"
                            ).fetchone()[0] == 0
        # the rollup is current (no dirty marks) and sums to the rows
        assert conn.execute("SELECT count(*) FROM meta WHERE key LIKE 'usage_dirty%'").fetchone()[0] == 0
        rows = conn.execute("SELECT sum(cost_pusd), count(*) FROM usage").fetchone()
        rolled = conn.execute(
            "SELECT sum(cost_pusd), sum(records) FROM usage_rollup WHERE width_ms = 86400000").fetchone()
        assert rows == rolled
        assert conn.execute("SELECT count(*) FROM provider_usage WHERE billed = 1 AND cost_pico > 0").fetchone()[0]
        labels = [r[0] for r in conn.execute("SELECT label FROM accounts ORDER BY id")]
        assert all(label.startswith("Demo ") for label in labels)
        # weekends are quieter than weekdays
        per_weekday = dict(conn.execute(
            "SELECT strftime('%w', ts_ms / 1000, 'unixepoch') AS wd, count(*) FROM usage GROUP BY wd").fetchall())
        assert per_weekday["0"] + per_weekday["6"] < (per_weekday["2"] + per_weekday["3"]) / 2
    finally:
        conn.close()


def test_rows_option_gives_exactly_that_many(tmp_path: Path) -> None:
    summary = create_demo(AppPaths(tmp_path), DemoSpec(months=1, seed=1, rows=12_345, now_ms=NOW_MS))
    assert summary.usage_rows == 12_345 == _counts(tmp_path / "ledger.sqlite3")["usage"]


def test_cli_demo_then_reports(home: Home, cli: Any, tmp_path: Path) -> None:
    demo_dir = tmp_path / "demo"
    r = cli("demo", "--data-dir", str(demo_dir), "--months", "2", "--seed", "3", "--now-ms", str(NOW_MS))
    assert r.code == 0, r.err
    assert "7,926 usage rows" in r.out
    assert not (home.data / "ledger.sqlite3").exists()  # TOKEN_LEDGER_DATA_DIR was not touched
    r = cli("--data-dir", str(demo_dir), "report", "monthly", "--format", "json")
    assert r.code == 0, r.err
    assert "2025-10" in r.out and "2025-11" in r.out
    r = cli("--data-dir", str(demo_dir), "report", "monthly")
    assert r.code == 0, r.err
    assert "unpriced" in r.out


def test_group_data_dir_is_accepted_but_env_alone_is_not(home: Home, cli: Any, tmp_path: Path) -> None:
    r = cli("demo", "--months", "1")
    assert r.code == 1
    assert "--data-dir" in r.err
    assert not (home.data / "ledger.sqlite3").exists()
    r = cli("--data-dir", str(tmp_path / "d"), "demo", "--months", "1", "--now-ms", str(NOW_MS))
    assert r.code == 0, r.err
    assert (tmp_path / "d" / "ledger.sqlite3").exists()


def test_refuses_a_real_ledger(home: Home, cli: Any) -> None:
    assert cli("sync").code == 0  # a real (empty) ledger in the data dir
    before = (home.data / "ledger.sqlite3").read_bytes()
    r = cli("demo", "--data-dir", str(home.data), "--months", "1")
    assert r.code == 1
    lines = [line for line in r.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "not a demo" in lines[0]
    assert (home.data / "ledger.sqlite3").read_bytes() == before


def test_refuses_a_file_that_is_not_sqlite(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "ledger.sqlite3").write_text("my notes")
    r = cli("demo", "--data-dir", str(tmp_path), "--months", "1")
    assert r.code == 1 and "not a demo" in r.err
    assert (tmp_path / "ledger.sqlite3").read_text() == "my notes"


def test_replaces_an_earlier_demo(tmp_path: Path) -> None:
    create_demo(AppPaths(tmp_path), DemoSpec(months=1, seed=1, rows=500, now_ms=NOW_MS))
    create_demo(AppPaths(tmp_path), DemoSpec(months=1, seed=1, rows=700, now_ms=NOW_MS))
    assert _counts(tmp_path / "ledger.sqlite3")["usage"] == 700


@pytest.mark.parametrize("months", [1, 3])
def test_every_day_of_the_range_and_nothing_in_the_future(tmp_path: Path, months: int) -> None:
    create_demo(AppPaths(tmp_path), DemoSpec(months=months, seed=5, now_ms=NOW_MS))
    conn = sqlite3.connect(tmp_path / "ledger.sqlite3")
    try:
        lo, hi = conn.execute("SELECT min(ts_ms), max(ts_ms) FROM usage").fetchone()
    finally:
        conn.close()
    assert hi < NOW_MS
    assert NOW_MS - lo > (months * 30 - 2) * 86_400_000
