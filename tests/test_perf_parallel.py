"""The fast import paths give exactly what the simple ones give.

* Parsing in worker processes (cold imports of large log trees) stores the same rows, cursors and seen keys as
  parsing inline.
* :func:`keep_best` (dedup before the store) keeps the row the store's upsert would keep.
* Lazy line numbers in :class:`LineScanner` equal a plain count, across chunk boundaries.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from conftest import FIXTURES, Home

from tracker.domain import ParseResult, UsageRow
from tracker.ledger import parsing
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
