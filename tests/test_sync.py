"""`token-ledger sync` end to end: real sources, real store, the CLI as a user runs it."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, Home
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CLAUDE_LINE = (
    '{{"type":"assistant","timestamp":"2026-11-{day:02d}T10:00:00.000Z","sessionId":"s1","cwd":"/home/u/app",'
    '"version":"2.1.72","requestId":"req_{n}","message":{{"id":"msg_{n}","model":"claude-sonnet-4-5-20250929",'
    '"usage":{{"input_tokens":{i},"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,'
    '"output_tokens":{o}}}}}}}\n'
)


def claude_lines(n: int, start: int = 0, day: int = 20) -> str:
    return "".join(CLAUDE_LINE.format(n=k, i=10 + k, o=50 + k, day=day) for k in range(start, start + n))


def totals(h: Home) -> dict[str, int]:
    conn = sqlite3.connect(h.data / "ledger.sqlite3")
    row = conn.execute(
        "SELECT count(*), sum(input_tokens), sum(cache_creation_tokens), sum(cache_read_tokens), sum(output_tokens),"
        " sum(reasoning_tokens), sum(cost_pusd) FROM usage"
    ).fetchone()
    conn.close()
    keys = ("records", "input", "cache_creation", "cache_read", "output", "reasoning", "cost_pusd")
    return {k: int(v or 0) for k, v in zip(keys, row, strict=True)}


def test_first_sync_imports_and_resync_reads_nothing(home: Home, cli: Any) -> None:
    home.claude_log("-home-u-app/s1.jsonl", claude_lines(5))
    r = cli("sync")
    assert r.code == 0, r.err
    assert "Claude Code: 1 of 1 files read" in r.out
    assert "5 new records" in r.out
    assert totals(home)["records"] == 5
    again = cli("sync")
    assert again.code == 0
    assert "Claude Code: 0 of 1 files read (0 B), 0 new records" in again.out


def test_appended_lines_are_read_once(home: Home, cli: Any) -> None:
    log = home.claude_log("-home-u-app/s1.jsonl", claude_lines(3))
    cli("sync")
    with log.open("a") as f:
        f.write(claude_lines(2, start=3))
    r = cli("sync")
    assert "2 new records" in r.out
    t = totals(home)
    assert t["records"] == 5
    assert t["input"] == sum(10 + k for k in range(5))


def test_unterminated_last_line_waits_until_complete(home: Home, cli: Any) -> None:
    full = claude_lines(2)
    log = home.claude_log("-home-u-app/s1.jsonl", full[:-1])  # last line without its newline
    cli("sync")
    assert totals(home)["records"] == 1
    with log.open("a") as f:
        f.write("\n")
    cli("sync")
    assert totals(home)["records"] == 2


def test_replaced_and_shrunk_files_are_not_double_counted(home: Home, cli: Any) -> None:
    log = home.claude_log("-home-u-app/s1.jsonl", claude_lines(4))
    cli("sync")
    before = totals(home)
    tmp = log.with_suffix(".tmp")
    tmp.write_text(claude_lines(2))  # a new inode with fewer lines (same messages)
    os.replace(tmp, log)
    r = cli("sync")
    assert "re-read from the start" in r.out
    assert totals(home) == before
    log.write_text(claude_lines(4) + claude_lines(1, start=10))  # truncated and rewritten, longer
    cli("sync")
    assert totals(home)["records"] == 5


def test_deleted_logs_keep_their_rows(home: Home, cli: Any) -> None:
    log = home.claude_log("-home-u-app/s1.jsonl", claude_lines(3))
    cli("sync")
    log.unlink()
    cli("sync")
    assert totals(home)["records"] == 3
    assert "since deleted by their agent" in cli("status").out


def test_malformed_lines_are_counted_and_skipped(home: Home, cli: Any) -> None:
    home.copy_fixture("claude/claude_code__malformed__constructed.jsonl", home.claude / "projects/p/m.jsonl")
    r = cli("sync")
    assert r.code == 0
    assert "malformed lines skipped" in r.out
    assert "m.jsonl:" in r.out


def test_same_message_in_two_files_counts_once(home: Home, cli: Any) -> None:
    home.claude_log("-home-u-app/s1.jsonl", claude_lines(3))
    home.claude_log("-home-u-app/s2.jsonl", claude_lines(3))  # a resumed session copies the history
    r = cli("sync")
    assert "3 new records (3 duplicate copies merged)" in r.out
    assert totals(home)["records"] == 3


def test_codex_fork_family_counts_once(home: Home, cli: Any) -> None:
    d = home.codex / "archived_sessions"
    home.copy_fixture(
        "codex/codex__sanitized-real_fork-parent__codexbar-issue2037.jsonl",
        d / "rollout-2026-01-01T00-00-00-parent.jsonl",
    )
    home.copy_fixture(
        "codex/codex__sanitized-real_fork-child__codexbar-issue2037.jsonl",
        d / "rollout-2026-01-01T00-00-01-child.jsonl",
    )
    assert cli("sync").code == 0
    t = totals(home)
    assert t["input"] + t["cache_read"] + t["output"] + t["cache_creation"] == 15_309_178


def _codex_bytes() -> bytes:
    return (FIXTURES / "codex/codex__edge_reemit-and-null-info__constructed.jsonl").read_bytes()


def _claude_bytes() -> bytes:
    parts = [
        (FIXTURES / "claude" / name).read_bytes()
        for name in (
            "claude_code__real_v2.1.72__hallucination-detector.jsonl",
            "claude_code__edge_cases__ccusage-tests.jsonl",
            "claude_code__real_v2.0.26-2.0.28_sidechain__usetig-sage.jsonl",
        )
    ]
    return b"".join(p if p.endswith(b"\n") else p + b"\n" for p in parts)


def _sync_in_process(h: Home) -> None:
    from tracker.ledger.costing import Costing
    from tracker.ledger.importer import Importer
    from tracker.pricing.catalog import PriceCatalog
    from tracker.sources import all_sources
    from tracker.store import open_store

    with open_store(h.data / "ledger.sqlite3") as store:
        Importer(store, Costing(PriceCatalog(None)), all_sources(), env=os.environ, home=h.root).run()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_split_into_appended_chunks_gives_the_same_totals(home: Home, data: st.DataObject) -> None:
    """Property: syncing after each appended chunk equals one sync of the whole file."""
    import shutil

    claude, codex = _claude_bytes(), _codex_bytes()
    results = []
    for chunked in (False, True):
        shutil.rmtree(home.data, ignore_errors=True)
        c_log = home.claude / "projects/p/s.jsonl"
        x_log = home.codex / "sessions/2026/01/01/rollout-2026-01-01T00-00-00-x.jsonl"
        for p in (c_log, x_log):
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(b"")
        if chunked:
            cuts_c = sorted(data.draw(st.lists(st.integers(0, len(claude)), max_size=6), label="claude cuts"))
            cuts_x = sorted(data.draw(st.lists(st.integers(0, len(codex)), max_size=6), label="codex cuts"))
        else:
            cuts_c, cuts_x = [], []
        bounds_c = [0, *cuts_c, len(claude)]
        bounds_x = [0, *cuts_x, len(codex)]
        for k in range(max(len(bounds_c), len(bounds_x)) - 1):
            if k + 1 < len(bounds_c):
                with c_log.open("ab") as f:
                    f.write(claude[bounds_c[k] : bounds_c[k + 1]])
            if k + 1 < len(bounds_x):
                with x_log.open("ab") as f:
                    f.write(codex[bounds_x[k] : bounds_x[k + 1]])
            _sync_in_process(home)
        results.append(totals(home))
    assert results[0] == results[1]
    assert results[0]["records"] > 0


@pytest.mark.parametrize("crash_after", [0, 1, 2, 3])
def test_interrupted_sync_then_resync_equals_clean_sync(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, crash_after: int
) -> None:
    """A sync that dies between (or inside) transactions, run again, ends with the clean totals."""
    from tracker.ledger import importer

    for s in range(4):
        home.claude_log(f"-home-u-app/s{s}.jsonl", claude_lines(30, start=s * 10))  # overlapping copies
    home.copy_fixture(
        "codex/codex__sanitized-real_fork-parent__codexbar-issue2037.jsonl",
        home.codex / "archived_sessions/rollout-2026-01-01T00-00-00-parent.jsonl",
    )
    home.copy_fixture(
        "codex/codex__sanitized-real_fork-child__codexbar-issue2037.jsonl",
        home.codex / "archived_sessions/rollout-2026-01-01T00-00-01-child.jsonl",
    )
    monkeypatch.setattr(importer, "BATCH_FILES", 1)
    real_commit = importer.Importer._commit
    calls = {"n": 0}

    def dying_commit(self: Any, source: str, pending: Any, summ: Any) -> None:
        if calls["n"] == crash_after:
            # die in the middle of the transaction: rows written, cursor not yet
            with self.store.transaction() as conn:
                conn.execute("DELETE FROM meta WHERE key = 'nothing'")
                raise KeyboardInterrupt
        calls["n"] += 1
        real_commit(self, source, pending, summ)

    monkeypatch.setattr(importer.Importer, "_commit", dying_commit)
    r = cli("sync")
    assert r.code == 130 and "Interrupted" in r.err
    monkeypatch.setattr(importer.Importer, "_commit", real_commit)
    assert cli("sync").code == 0
    crashed = totals(home)

    import shutil

    shutil.rmtree(home.data)
    assert cli("sync").code == 0
    assert crashed == totals(home)


def test_unreadable_file_is_reported_not_fatal(home: Home, cli: Any) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can read any file")
    log = home.claude_log("-home-u-app/s1.jsonl", claude_lines(2))
    log.chmod(0)
    r = cli("sync")
    assert r.code == 0
    assert "cannot read" in r.out


def test_no_log_folders_says_where_it_looked(
    home: Home, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No agent installed (default folders absent) is not an error, but says where it looked."""
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    monkeypatch.delenv("CODEX_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))
    r = cli("sync")
    assert r.code == 0
    assert "No agent log folders were found" in r.err
    assert "empty-home" in r.err
