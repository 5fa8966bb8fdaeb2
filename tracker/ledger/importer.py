"""Importing local agent logs into the ledger, incrementally and crash-safely.

For each source: discover its files, compare each with its stored cursor (device, inode, size, mtime), and
parse only what changed, from where the last sync stopped. Rows, the files' cursors and the sources' dedup
keys are committed in the same transaction, so a sync killed at any point and run again ends with the
same totals as one clean sync. A file that shrank or was replaced is read again from the start; dedup
keys (not per-file bookkeeping) keep its rows from counting twice. Rows are never deleted when a log file
disappears: agents delete old logs, and the ledger is the long-term record.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from tracker.domain import FileCursor, ParseResult, UsageRecord
from tracker.ledger.costing import Costing
from tracker.sources import LogSource
from tracker.store import Store

BATCH_RECORDS = 20_000  # commit after this many records (or at the end of the source)
BATCH_FILES = 500

DIRTY_LO, DIRTY_HI = "usage_dirty_lo_ms", "usage_dirty_hi_ms"


def mark_dirty(conn: sqlite3.Connection, lo_ms: int, hi_ms: int) -> None:
    """Record, in the caller's transaction, that usage rows between ``lo_ms`` and ``hi_ms`` changed.

    Anything derived from usage rows (e.g. a report rollup) rebuilds that range and then clears it. Being in
    the same transaction as the rows, the mark survives a crash exactly when the rows do.
    """
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
        "value = CAST(min(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT)",
        (DIRTY_LO, str(lo_ms)),
    )
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
        "value = CAST(max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT)",
        (DIRTY_HI, str(hi_ms)),
    )


ProgressFn = Callable[[str, int, int, int, int], None]  # source label, files done, files total, bytes done, total


@dataclass
class SourceSummary:
    """What one sync did for one source."""

    name: str
    label: str
    roots: list[str] = field(default_factory=list)
    roots_found: list[str] = field(default_factory=list)
    files_seen: int = 0
    files_read: int = 0
    files_reset: int = 0  # shrank or replaced, read again from the start
    bytes_read: int = 0
    records_parsed: int = 0
    new_records: int = 0
    updated_records: int = 0
    malformed: int = 0
    malformed_examples: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class SyncSummary:
    sources: list[SourceSummary]
    duration_s: float
    repriced: int = 0

    @property
    def files_read(self) -> int:
        return sum(s.files_read for s in self.sources)

    @property
    def new_records(self) -> int:
        return sum(s.new_records for s in self.sources)

    @property
    def malformed(self) -> int:
        return sum(s.malformed for s in self.sources)


_UPSERT = """
INSERT INTO usage (
    source, dedup_key, file_id, ts_ms, model, session_id, project_path,
    input_tokens, cache_creation_tokens, cache_creation_1h_tokens, cache_read_tokens, output_tokens,
    reasoning_tokens, is_sidechain, speed, request_id, agent_version, logged_cost_usd, rank,
    cost_pusd, cost_kind, price_model)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (source, dedup_key) DO UPDATE SET
    file_id = excluded.file_id, ts_ms = excluded.ts_ms, model = excluded.model,
    session_id = excluded.session_id, project_path = coalesce(excluded.project_path, usage.project_path),
    input_tokens = excluded.input_tokens, cache_creation_tokens = excluded.cache_creation_tokens,
    cache_creation_1h_tokens = excluded.cache_creation_1h_tokens, cache_read_tokens = excluded.cache_read_tokens,
    output_tokens = excluded.output_tokens, reasoning_tokens = excluded.reasoning_tokens,
    is_sidechain = excluded.is_sidechain, speed = excluded.speed, request_id = excluded.request_id,
    agent_version = excluded.agent_version, logged_cost_usd = excluded.logged_cost_usd, rank = excluded.rank,
    cost_pusd = excluded.cost_pusd, cost_kind = excluded.cost_kind, price_model = excluded.price_model
WHERE excluded.rank > usage.rank
"""

_CURSOR_COLS = "id, source, path, dev, inode, size, mtime_ns, offset, lines, state"


def _load_cursors(store: Store, source: str) -> dict[str, FileCursor]:
    rows = store.conn.execute(f"SELECT {_CURSOR_COLS} FROM files WHERE source = ?", (source,)).fetchall()
    out: dict[str, FileCursor] = {}
    for fid, src, path, dev, ino, size, mtime, off, lines, state in rows:
        out[path] = FileCursor(
            path=path, source=src, dev=dev, inode=ino, size=size, mtime_ns=mtime, offset=off, lines=lines,
            state=orjson.loads(state) if state else None, file_id=fid,
        )
    return out


@dataclass
class _Pending:
    """Work parsed but not yet committed: one batch = one transaction."""

    files: list[tuple[FileCursor, os.stat_result, ParseResult]] = field(default_factory=list)
    records: int = 0


class Importer:
    """Runs one sync of local sources into a store. Only this class writes log usage rows."""

    def __init__(
        self,
        store: Store,
        costing: Costing,
        sources: Sequence[LogSource],
        *,
        env: Mapping[str, str] | None = None,
        home: Path | None = None,
        progress: ProgressFn | None = None,
    ) -> None:
        self.store = store
        self.costing = costing
        self.sources = list(sources)
        self.env = os.environ if env is None else env
        self.home = Path.home() if home is None else home
        self.progress = progress

    def run(self) -> SyncSummary:
        started = time.monotonic()
        run_id = self._start_run()
        summaries: list[SourceSummary] = []
        repriced = self.costing.reprice_if_needed(self.store)
        for source in self.sources:
            summaries.append(self._sync_source(source))
        summary = SyncSummary(summaries, time.monotonic() - started, repriced)
        self._finish_run(run_id, summary)
        return summary

    # -- bookkeeping -----------------------------------------------------------------------------------

    def _start_run(self) -> int:
        with self.store.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO sync_runs (started_ms, sources) VALUES (?, ?)",
                (int(time.time() * 1000), ",".join(s.name for s in self.sources)),
            )
            return int(cur.lastrowid or 0)

    def _finish_run(self, run_id: int, s: SyncSummary) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                """UPDATE sync_runs SET finished_ms = ?, files_seen = ?, files_read = ?, bytes_read = ?,
                   new_records = ?, updated_records = ?, malformed = ?, status = ?, message = ? WHERE id = ?""",
                (
                    int(time.time() * 1000),
                    sum(x.files_seen for x in s.sources),
                    s.files_read,
                    sum(x.bytes_read for x in s.sources),
                    s.new_records,
                    sum(x.updated_records for x in s.sources),
                    s.malformed,
                    "error" if any(x.errors for x in s.sources) else "ok",
                    "; ".join(e for x in s.sources for e in x.errors)[:2000] or None,
                    run_id,
                ),
            )

    # -- one source ------------------------------------------------------------------------------------

    def _sync_source(self, source: LogSource) -> SourceSummary:
        roots = source.roots(self.env, self.home)
        summ = SourceSummary(source.name, source.label, roots=[str(r) for r in roots])
        summ.roots_found = [str(r) for r in roots if r.is_dir()]
        files = source.discover([r for r in roots if r.is_dir()])
        summ.files_seen = len(files)
        cursors = _load_cursors(self.store, source.name)
        self._mark_missing(cursors, files)
        todo = self._changed_files(files, cursors, summ)
        if not todo:
            return summ
        seen = self._load_seen(source.name)
        count_before = self._count(source.name)
        total_bytes = sum(max(st.st_size - c.offset, 0) for c, st in todo)
        done_bytes = 0
        pending = _Pending()
        for i, (cursor, st) in enumerate(todo):
            result = self._parse_one(source, cursor, seen, summ)
            if result is not None:
                pending.files.append((cursor, st, result))
                pending.records += len(result.records)
            done_bytes += max(st.st_size - cursor.offset, 0)
            if pending.records >= BATCH_RECORDS or len(pending.files) >= BATCH_FILES:
                self._commit(source.name, pending, summ)
                pending = _Pending()
            if self.progress:
                self.progress(source.label, i + 1, len(todo), done_bytes, total_bytes)
        self._commit(source.name, pending, summ)
        summ.new_records = self._count(source.name) - count_before
        summ.updated_records = max(summ.updated_records - summ.new_records, 0)
        return summ

    def _mark_missing(self, cursors: dict[str, FileCursor], files: list[Path]) -> None:
        gone = cursors.keys() - {str(p) for p in files}
        if gone:
            with self.store.transaction() as conn:
                conn.executemany("UPDATE files SET missing = 1 WHERE path = ?", [(p,) for p in gone])

    def _changed_files(
        self, files: list[Path], cursors: dict[str, FileCursor], summ: SourceSummary
    ) -> list[tuple[FileCursor, os.stat_result]]:
        todo: list[tuple[FileCursor, os.stat_result]] = []
        for path in files:
            key = str(path)
            try:
                st = path.stat()
            except OSError as e:
                summ.errors.append(f"cannot read {key}: {e.strerror or e}")
                continue
            cur = cursors.get(key)
            if cur is None:
                cur = FileCursor(key, summ.name, st.st_dev, st.st_ino, 0, 0, 0)
            elif (cur.dev, cur.inode, cur.size, cur.mtime_ns) == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns):
                continue  # unchanged: not a byte is read
            elif (cur.dev, cur.inode) != (st.st_dev, st.st_ino) or st.st_size < cur.offset or key.endswith(".zst"):
                # replaced, truncated or rewritten (compressed files are rewritten whole): start again
                cur.dev, cur.inode, cur.offset, cur.lines, cur.state = st.st_dev, st.st_ino, 0, 0, None
                summ.files_reset += 1
            todo.append((cur, st))
        return todo

    def _parse_one(
        self, source: LogSource, cursor: FileCursor, seen: set[str], summ: SourceSummary
    ) -> ParseResult | None:
        try:
            result = source.parse(Path(cursor.path), cursor.offset, cursor.state, cursor.lines + 1, seen)
        except FileNotFoundError:
            return None  # vanished between listing and reading; its rows (if any) stay
        except OSError as e:
            summ.errors.append(f"cannot read {cursor.path}: {e.strerror or e}")
            return None
        summ.files_read += 1
        summ.bytes_read += result.bytes_read
        summ.records_parsed += len(result.records)
        summ.malformed += result.malformed
        room = 10 - len(summ.malformed_examples)
        if room > 0:
            summ.malformed_examples.extend(result.malformed_examples[:room])
        return result

    def _load_seen(self, source: str) -> set[str]:
        rows = self.store.conn.execute("SELECT key FROM seen_keys WHERE source = ?", (source,))
        return {r[0] for r in rows}

    def _count(self, source: str) -> int:
        return int(self.store.conn.execute("SELECT count(*) FROM usage WHERE source = ?", (source,)).fetchone()[0])

    # -- writing ---------------------------------------------------------------------------------------

    def _commit(self, source: str, pending: _Pending, summ: SourceSummary) -> None:
        if not pending.files:
            return
        now_ms = int(time.time() * 1000)
        with self.store.transaction() as conn:
            for cursor, st, result in pending.files:
                file_id = self._save_cursor(conn, cursor, st, result, now_ms)
                if result.records:
                    before = conn.total_changes
                    conn.executemany(_UPSERT, self._rows(result.records, file_id))
                    summ.updated_records += conn.total_changes - before
                    mark_dirty(conn, min(r.ts_ms for r in result.records), max(r.ts_ms for r in result.records))
                if result.seen_keys:
                    conn.executemany(
                        "INSERT OR IGNORE INTO seen_keys (source, key) VALUES (?, ?)",
                        [(source, k) for k in result.seen_keys],
                    )

    def _save_cursor(
        self, conn: sqlite3.Connection, cursor: FileCursor, st: os.stat_result, r: ParseResult, now_ms: int
    ) -> int:
        state = orjson.dumps(r.state).decode() if r.state is not None else None
        lines = cursor.lines + r.lines
        # The cursor records the size/mtime seen *before* reading: if the file grew while we read it, the
        # next sync sees a difference and continues from r.new_offset.
        params = (cursor.source, cursor.path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, r.new_offset,
                  lines, state, r.malformed, now_ms)
        row = conn.execute(
            """INSERT INTO files (source, path, dev, inode, size, mtime_ns, offset, lines, state, malformed,
                                  first_seen_ms, last_read_ms, missing)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
               ON CONFLICT (path) DO UPDATE SET source = excluded.source, dev = excluded.dev,
                   inode = excluded.inode, size = excluded.size, mtime_ns = excluded.mtime_ns,
                   offset = excluded.offset, lines = excluded.lines, state = excluded.state,
                   malformed = files.malformed + excluded.malformed, last_read_ms = excluded.last_read_ms,
                   missing = 0
               RETURNING id""",
            (*params[:10], now_ms, now_ms),
        ).fetchone()
        return int(row[0])

    def _rows(self, records: list[UsageRecord], file_id: int) -> list[tuple[object, ...]]:
        price = self.costing.price
        out: list[tuple[object, ...]] = []
        for r in records:
            t = r.tokens
            cost, kind, price_model = price(r)
            out.append((
                r.source, r.dedup_key, file_id, r.ts_ms, r.model, r.session_id, r.project_path,
                t.input_tokens, t.cache_creation_tokens, t.cache_creation_1h_tokens, t.cache_read_tokens,
                t.output_tokens, t.reasoning_tokens, int(r.is_sidechain), r.speed, r.request_id,
                r.agent_version, r.logged_cost_usd, r.rank, cost, kind, price_model,
            ))
        return out
