"""The fast import paths give exactly what the simple ones give.

* Parsing in worker processes (cold imports of large log trees) stores the same rows, cursors and seen keys as
  parsing inline.
* :func:`keep_best` (dedup before the store) keeps the row the store's upsert would keep, and copies that
  reach one batch from different tasks are merged by the upsert as in file order.
* The SQLite settings of a large import are restored; a batch's cursors get the right file ids.
* Tasks are submitted in order, big ones further ahead, and consumed in order.
* Lazy line numbers in :class:`LineScanner` equal a plain count, across chunk boundaries.
"""

from __future__ import annotations

import json
import os
import sqlite3
from concurrent.futures import Future
from pathlib import Path
from typing import Any, cast

import pytest
from conftest import FIXTURES, Home

from tracker.domain import ParseResult, UsageRow
from tracker.ledger import importer, parsing
from tracker.ledger.importer import Importer, SyncSummary
from tracker.ledger.parsing import keep_best
from tracker.sources.lines import LineScanner


def _populate(h: Home) -> None:
    claude = sorted((FIXTURES / "claude").rglob("*.jsonl"))
    for i, src in enumerate(claude):
        # Every transcript twice, in two projects: copies of one response in different files and tasks.
        for project in ("-home-u-a", "-home-u-b"):
            h.copy_fixture(str(src.relative_to(FIXTURES)), h.claude / "projects" / project / f"{i:02d}-{src.name}")
    codex = sorted((FIXTURES / "codex").glob("*.jsonl"))
    for i, src in enumerate(codex):
        name = f"sessions/2026/01/01/rollout-2026-01-01T00-00-{i:02d}-{src.stem}.jsonl"
        h.copy_fixture(str(src.relative_to(FIXTURES)), h.codex / name)


def _sync(h: Home, db: Path, parallel_min_bytes: int) -> SyncSummary:
    from tracker.ledger.costing import Costing
    from tracker.pricing.catalog import PriceCatalog
    from tracker.sources import all_sources
    from tracker.store import open_store

    with open_store(db) as store:
        importer = Importer(
            store, Costing(PriceCatalog(None)), all_sources(), env=os.environ, home=h.root,
            parallel_min_bytes=parallel_min_bytes,
        )
        return importer.run()


def _dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(db)
    try:
        return {
            "usage": conn.execute("SELECT * FROM usage ORDER BY source, dedup_key").fetchall(),
            "files": conn.execute(
                "SELECT id, source, path, offset, lines, state, malformed FROM files ORDER BY id"
            ).fetchall(),
            "seen": conn.execute("SELECT * FROM seen_keys ORDER BY source, key").fetchall(),
        }
    finally:
        conn.close()


def test_parsing_in_workers_stores_what_inline_parsing_stores(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(home)
    monkeypatch.setattr(parsing, "TASK_FILES", 3)  # many small tasks, consumed in order
    monkeypatch.setattr(parsing, "TASKS_AHEAD", 2)
    inline = _sync(home, tmp_path / "inline.sqlite3", parallel_min_bytes=1 << 60)
    workers = _sync(home, tmp_path / "workers.sqlite3", parallel_min_bytes=0)
    a, b = _dump(tmp_path / "inline.sqlite3"), _dump(tmp_path / "workers.sqlite3")
    assert a["usage"] and a["seen"]
    # Row ids may differ (rows are inserted in key order per batch); everything else must not.
    assert [r[1:] for r in a["usage"]] == [r[1:] for r in b["usage"]]
    assert a["files"] == b["files"]
    assert a["seen"] == b["seen"]
    for x, y in zip(inline.sources, workers.sources, strict=True):
        assert (x.files_read, x.bytes_read, x.malformed, x.new_records, x.malformed_examples) == (
            y.files_read, y.bytes_read, y.malformed, y.new_records, y.malformed_examples
        )


def _row(key: str, rank: int, project: str | None, ts: int = 0) -> UsageRow:
    return ("claude_code", key, ts, "m", "s", project, 1, 0, 0, 0, 1, 0, 0, None, None, None, None, rank)


def test_keep_best_keeps_what_the_upsert_keeps() -> None:
    first = ParseResult(rows=[_row("a", 5, "/p1", ts=1), _row("b", 2, "/p1"), _row("c", 1, None)])
    second = ParseResult(rows=[_row("a", 5, "/p2", ts=2), _row("b", 3, None), _row("d", 0, None)])
    keep_best([first, second])
    # a: equal ranks, the first copy stays; b: the higher rank wins and keeps the loser's project
    # (the upsert's coalesce); c and d: unique.
    assert first.rows == [_row("a", 5, "/p1", ts=1), _row("c", 1, None)]
    assert second.rows == [_row("b", 3, "/p1"), _row("d", 0, None)]


def test_lazy_line_numbers_match_a_plain_count(tmp_path: Path) -> None:
    lines = []
    for n in range(1, 200):
        if n % 17 == 0:
            lines.append(b"garbage line %d" % n)  # structurally broken: reported, with its number
        elif n % 5 == 0:
            lines.append(b'{"usage":{"n":%d}}' % n)
        elif n % 23 == 0:
            lines.append(b"")
        else:
            lines.append(b'{"other":"%s"}' % (b"x" * (n % 40)))
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n{\"usage\":{\"n\":0}")  # an incomplete last line
    expected = [
        (i, line) for i, line in enumerate(lines, start=7) if b"usage" in line or line.startswith(b"garbage")
    ]
    for chunk_size in (16, 64, 333, 1 << 20):
        scanner = LineScanner(path, 0, markers=(b'"usage":{',), first_line_no=7, chunk_size=chunk_size)
        got = [(scanner.line_no(), line) for line in scanner]
        assert got == expected, chunk_size
        assert scanner.lines == len(lines)
        assert scanner.end_offset == len(b"\n".join(lines)) + 1


def _claude_line(msg_id: str, cwd: str | None, input_tokens: int) -> str:
    line: dict[str, object] = {
        "type": "assistant", "timestamp": "2026-01-01T00:00:00.000Z", "sessionId": "s",
        "message": {"id": msg_id, "model": "claude-sonnet-4-5", "usage": {"input_tokens": input_tokens,
                                                                          "output_tokens": 5}},
    }
    if cwd is not None:
        line["cwd"] = cwd
    return json.dumps(line, separators=(",", ":")) + "\n"


def test_copies_in_different_tasks_of_one_batch_merge_like_in_file_order(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Copies that reach one batch from different tasks are merged by the upsert alone, in file order."""
    monkeypatch.setattr(parsing, "TASK_FILES", 1)  # one file per task: the tasks' own merging sees one copy
    home.claude_log("p/a.jsonl", _claude_line("msg_1", "/p1", 10))
    home.claude_log("p/b.jsonl", _claude_line("msg_1", "/p2", 10))  # equal rank: the first copy stays
    home.claude_log("p/c.jsonl", _claude_line("msg_2", "/p1", 10))
    home.claude_log("p/d.jsonl", _claude_line("msg_2", None, 20))  # higher rank wins, keeps the project
    for min_bytes in (1 << 60, 0):  # inline, then in workers
        db = tmp_path / f"ledger-{min_bytes}.sqlite3"
        _sync(home, db, parallel_min_bytes=min_bytes)
        conn = sqlite3.connect(db)
        try:
            rows = conn.execute(
                "SELECT u.dedup_key, u.project_path, u.input_tokens, f.path FROM usage u "
                "JOIN files f ON f.id = u.file_id ORDER BY u.dedup_key"
            ).fetchall()
        finally:
            conn.close()
        assert [(k, p, n, Path(f).name) for k, p, n, f in rows] == [
            ("msg_1", "/p1", 10, "a.jsonl"),
            ("msg_2", "/p1", 20, "d.jsonl"),
        ]


def test_bulk_settings_are_restored_after_an_import_in_workers(home: Home, tmp_path: Path) -> None:
    from tracker.ledger.costing import Costing
    from tracker.pricing.catalog import PriceCatalog
    from tracker.sources import all_sources
    from tracker.store import open_store

    _populate(home)
    with open_store(tmp_path / "ledger.sqlite3") as store:
        before = [store.conn.execute(f"PRAGMA {name}").fetchone()[0] for name in importer.BULK_PRAGMAS]
        Importer(
            store, Costing(PriceCatalog(None)), all_sources(), env=os.environ, home=home.root, parallel_min_bytes=0
        ).run()
        after = [store.conn.execute(f"PRAGMA {name}").fetchone()[0] for name in importer.BULK_PRAGMAS]
        assert after == before
        assert store.conn.execute("SELECT count(*) FROM usage").fetchone()[0] > 0


def test_file_ids_of_a_batch_with_new_and_known_paths(tmp_path: Path) -> None:
    """Cursors saved together get their own ids: new paths, and a path another source had stored."""
    from tracker.domain import FileCursor
    from tracker.ledger.costing import Costing
    from tracker.pricing.catalog import PriceCatalog
    from tracker.store import open_store

    with open_store(tmp_path / "ledger.sqlite3") as store:
        store.conn.execute(
            "INSERT INTO files (id, source, path, dev, inode, size, mtime_ns, first_seen_ms) "
            "VALUES (7, 'codex', '/x/old.jsonl', 1, 1, 1, 1, 0), (9, 'codex', '/x/other.jsonl', 1, 2, 1, 1, 0)"
        )
        st = os.stat(tmp_path)
        files = [
            (FileCursor("/x/new1.jsonl", "claude_code", 1, 3, 0, 0, 0), st, ParseResult(new_offset=5)),
            (FileCursor("/x/old.jsonl", "claude_code", 1, 1, 0, 0, 0), st, ParseResult(new_offset=6)),
            (FileCursor("/x/new2.jsonl", "claude_code", 1, 4, 0, 0, 0), st, ParseResult(new_offset=7)),
        ]
        imp = Importer(store, Costing(PriceCatalog(None)), [], env={}, home=tmp_path)
        with store.transaction() as conn:
            ids = imp._save_cursors(conn, files)
        stored = dict(store.conn.execute("SELECT path, id FROM files").fetchall())
        assert ids == [stored["/x/new1.jsonl"], 7, stored["/x/new2.jsonl"]]
        assert len(set(ids)) == 3 and min(ids[0], ids[2]) > 9
        assert store.conn.execute("SELECT source, offset FROM files WHERE id = 7").fetchone() == ("claude_code", 6)


class _FakePool:
    """Runs each submitted task at once and records the order of submission."""

    def __init__(self) -> None:
        self.submitted: list[Any] = []

    def submit(self, fn: Any, source: str, task: list[Any], seen: set[str]) -> Future[Any]:
        self.submitted.append(task[0])
        future: Future[Any] = Future()
        future.set_result(fn(source, task, seen))
        return future


def test_window_submits_in_order_and_big_tasks_early(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "TASKS_AHEAD", 2)
    monkeypatch.setattr(parsing, "BIG_TASKS_AHEAD", 6)
    monkeypatch.setattr(parsing, "BIG_TASKS_EARLY", 1)
    monkeypatch.setattr(parsing, "parse_jobs", lambda source, task, seen: [task[0]])
    big = parsing.BIG_TASK_BYTES
    sizes = [1, 1, 1, big, 1, big, 1, 1, 1, big]
    tasks: Any = [([i], size) for i, size in enumerate(sizes)]
    pool = _FakePool()
    window = parsing._Window(cast(Any, pool), "x", set(), tasks)
    window.top_up(0)
    # the next two in order, and one big task further ahead (task 5 is big too, but one is the limit)
    assert pool.submitted == [0, 1, 3]
    assert list(cast(Any, window.outcomes())) == list(range(len(sizes)))  # consumed in order all the same
    assert sorted(pool.submitted) == list(range(len(sizes)))  # each task submitted once
    assert pool.submitted.index(5) < pool.submitted.index(4)  # big task 5 went ahead of task 4
