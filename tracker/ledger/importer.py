"""Importing local agent logs into the ledger, incrementally and crash-safely.

For each source: discover its files, compare each with its stored cursor (device, inode, size, mtime), and
parse only what changed, from where the last sync stopped. Rows, the files' cursors and the sources' dedup
keys are committed in the same transaction, so a sync killed at any point and run again ends with the
same totals as one clean sync. A file that shrank or was replaced is read again from the start; dedup
keys (not per-file bookkeeping) keep its rows from counting twice. Rows are never deleted when a log file
disappears: agents delete old logs, and the ledger is the long-term record.

When there is much to read (a first import), files are parsed in worker processes (see
:mod:`tracker.ledger.parsing`) while this process prices and writes; results arrive in file order, and
batches are committed exactly as when parsing inline. Workers already reduce the copies of one request
within their tasks to the one the store would keep; rows are written in key order (cheaper index updates).
"""

from __future__ import annotations

import contextlib
import operator
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import orjson

from tracker.domain import ROW_KEY, ROW_TS, FileCursor, ParseResult
from tracker.ledger.changes import RESET, UNCHANGED, classify, vanished
from tracker.ledger.costing import Costing
from tracker.ledger.parsing import PARALLEL_MIN_BYTES, Outcome, ParseJob, Parser, worker_count
from tracker.sources import LogSource
from tracker.store import Store

BATCH_RECORDS = 20_000  # commit after this many records (or at the end of the source)
BATCH_FILES = 500
# SQLite settings while a large import (one parsed in workers) writes, restored afterwards. Each batch
# rewrites most pages of the dedup-key index (keys are random), and by default every commit that takes the
# WAL past 4 MB copies it all back into the database file (a checkpoint): checkpointing every 64 MB instead
# saves about a fifth of the write time on the benchmark corpus. The larger page cache (16 MB instead of 2)
# keeps more of that index in memory. Neither changes what a commit guarantees.
BULK_PRAGMAS = {"cache_size": -16 * 1024, "wal_autocheckpoint": 16_384}  # KiB (negative), pages

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
    source, dedup_key, ts_ms, model, session_id, project_path,
    input_tokens, cache_creation_tokens, cache_creation_1h_tokens, cache_read_tokens, output_tokens,
    reasoning_tokens, is_sidechain, speed, request_id, agent_version, logged_cost_usd, rank,
    file_id, cost_pusd, cost_kind, price_model)
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

StatOrError = os.stat_result | OSError


def _listing(source: LogSource, roots: list[Path]) -> list[tuple[str, StatOrError]]:
    """The source's files (see ``LogSource.discover``) as (path, stat), in the order they must be parsed.

    Sources that list with ``os.scandir`` offer ``discover_stats``: the stat of the directory entry, and no
    ``Path`` objects (together most of a warm sync's time with thousands of files).
    """
    fast = getattr(source, "discover_stats", None)
    if fast is not None:
        return cast("list[tuple[str, StatOrError]]", fast(roots))
    out: list[tuple[str, StatOrError]] = []
    for path in source.discover(roots):
        key = str(path)
        try:
            out.append((key, os.stat(key)))
        except OSError as e:
            out.append((key, e))
    return out


_ROW_KEY = operator.itemgetter(ROW_KEY)


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
class _Plan:
    """One source's part of a sync: the files that changed, and what is needed to import them."""

    source: LogSource
    summ: SourceSummary
    todo: list[tuple[FileCursor, os.stat_result]]
    seen: set[str] = field(default_factory=set)
    count_before: int = 0

    @property
    def bytes_total(self) -> int:
        return sum(max(st.st_size - c.offset, 0) for c, st in self.todo)

    def jobs(self) -> list[tuple[ParseJob, int]]:
        return [((c.path, c.offset, c.state, c.lines + 1), max(st.st_size - c.offset, 0)) for c, st in self.todo]


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
        parallel_min_bytes: int = PARALLEL_MIN_BYTES,
    ) -> None:
        self.store = store
        self.costing = costing
        self.sources = list(sources)
        self.env = os.environ if env is None else env
        self.home = Path.home() if home is None else home
        self.progress = progress
        self.parallel_min_bytes = parallel_min_bytes  # parse in worker processes from this much to read

    def run(self) -> SyncSummary:
        started = time.monotonic()
        run_id = self._start_run()
        repriced = self.costing.reprice_if_needed(self.store)
        plans = [self._plan(source) for source in self.sources]
        to_read = sum(p.bytes_total for p in plans)
        workers = worker_count(to_read, self.parallel_min_bytes)
        with Parser(workers) as parser, self._bulk_settings(parser.parallel):
            # Every source's parsing starts before any is written, so workers parse one source while
            # this process writes another.
            feeds = [parser.start(p.source.name, p.jobs(), p.seen) for p in plans]
            if parser.parallel:
                self.costing.warm_up()  # while the workers parse
            for plan, feed in zip(plans, feeds, strict=True):
                self._import(plan, feed)
        summary = SyncSummary([p.summ for p in plans], time.monotonic() - started, repriced)
        self._finish_run(run_id, summary)
        return summary

    # -- bookkeeping -----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _bulk_settings(self, bulk: bool) -> Iterator[None]:
        """:data:`BULK_PRAGMAS` on the store's connection for the duration (when ``bulk``)."""
        if not bulk or not BULK_PRAGMAS:
            yield
            return
        conn = self.store.conn
        saved = {name: conn.execute(f"PRAGMA {name}").fetchone()[0] for name in BULK_PRAGMAS}
        for name, value in BULK_PRAGMAS.items():
            conn.execute(f"PRAGMA {name} = {int(value)}")
        try:
            yield
        finally:
            for name, value in saved.items():
                conn.execute(f"PRAGMA {name} = {int(value)}")
        # The large WAL is copied back now (as the next commit would do) and its file emptied: it would
        # otherwise keep its size on disk for as long as a connection stays open.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

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

    def _plan(self, source: LogSource) -> _Plan:
        """Find what changed for ``source``; nothing is read yet."""
        roots = source.roots(self.env, self.home)
        summ = SourceSummary(source.name, source.label, roots=[str(r) for r in roots])
        summ.roots_found = [str(r) for r in roots if r.is_dir()]
        files = _listing(source, [r for r in roots if r.is_dir()])
        summ.files_seen = len(files)
        cursors = _load_cursors(self.store, source.name)
        self._mark_missing(cursors, files)
        plan = _Plan(source, summ, self._changed_files(files, cursors, summ))
        if plan.todo:
            plan.seen = self._load_seen(source.name)
            plan.count_before = self._count(source.name)
        return plan

    def _import(self, plan: _Plan, outcomes: Iterator[Outcome]) -> None:
        """Store the parse outcomes of ``plan``'s files, one transaction per batch."""
        summ, todo = plan.summ, plan.todo
        if not todo:
            return
        done_bytes = 0
        pending = _Pending()
        for i, ((cursor, st), outcome) in enumerate(zip(todo, outcomes, strict=True)):
            result = self._account(cursor, outcome, summ)
            if result is not None:
                pending.files.append((cursor, st, result))
                pending.records += len(result.rows)
            done_bytes += max(st.st_size - cursor.offset, 0)
            if pending.records >= BATCH_RECORDS or len(pending.files) >= BATCH_FILES:
                self._commit(plan.source.name, pending, summ)
                pending = _Pending()
            if self.progress:
                self.progress(summ.label, i + 1, len(todo), done_bytes, plan.bytes_total)
        self._commit(plan.source.name, pending, summ)
        summ.new_records = self._count(plan.source.name) - plan.count_before
        summ.updated_records = max(summ.updated_records - summ.new_records, 0)

    def _mark_missing(self, cursors: dict[str, FileCursor], files: list[tuple[str, StatOrError]]) -> None:
        gone = vanished(cursors, files)
        if gone:
            with self.store.transaction() as conn:
                conn.executemany("UPDATE files SET missing = 1 WHERE path = ?", [(p,) for p in gone])

    def _changed_files(
        self, files: list[tuple[str, StatOrError]], cursors: dict[str, FileCursor], summ: SourceSummary
    ) -> list[tuple[FileCursor, os.stat_result]]:
        todo: list[tuple[FileCursor, os.stat_result]] = []
        for key, st in files:
            if isinstance(st, OSError):
                summ.errors.append(f"cannot read {key}: {st.strerror or st}")
                continue
            cur = cursors.get(key)
            ident = None if cur is None else (cur.dev, cur.inode, cur.size, cur.mtime_ns, cur.offset)
            change = classify(key, st, ident)  # the one rule, shared with the warm fast path
            if change == UNCHANGED:
                continue  # not a byte is read
            if cur is None:
                cur = FileCursor(key, summ.name, st.st_dev, st.st_ino, 0, 0, 0)
            elif change == RESET:  # replaced, truncated or a rewritten .zst: start again
                cur.dev, cur.inode, cur.offset, cur.lines, cur.state = st.st_dev, st.st_ino, 0, 0, None
                summ.files_reset += 1
            todo.append((cur, st))
        return todo

    def _account(self, cursor: FileCursor, outcome: Outcome, summ: SourceSummary) -> ParseResult | None:
        """Add one file's outcome to the summary; the result to store, if any."""
        if outcome is None:
            return None  # vanished between listing and reading; its rows (if any) stay
        if isinstance(outcome, str):
            summ.errors.append(outcome)
            return None
        result = outcome
        summ.files_read += 1
        summ.bytes_read += result.bytes_read
        summ.records_parsed += result.usage_lines
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
        """Rows, cursors, seen keys and the dirty range of one batch: all in one transaction."""
        if not pending.files:
            return
        price = self.costing.price_row
        with self.store.transaction() as conn:
            file_ids = self._save_cursors(conn, pending.files)
            params: list[tuple[object, ...]] = []
            seen: list[str] = []
            for (_cursor, _st, result), file_id in zip(pending.files, file_ids, strict=True):
                params += [(*row, file_id, *price(row)) for row in result.rows]
                seen += result.seen_keys
            if seen:
                conn.executemany(
                    "INSERT OR IGNORE INTO seen_keys (source, key) VALUES (?, ?)", [(source, k) for k in seen]
                )
            if params:
                self._upsert(conn, params, summ)

    def _upsert(self, conn: sqlite3.Connection, params: list[tuple[object, ...]], summ: SourceSummary) -> None:
        """Store priced rows (row, file id, cost; see ``_UPSERT``) and mark their time range dirty.

        Copies of one request in different files of the batch are left to the upsert (the workers already
        merged the copies within each of their tasks; merging again here cost more than it saved).
        """
        # In key order, each index page is visited once per batch instead of at random: about a third
        # less time in SQLite. The sort is stable: copies of one key stay in file order, so the upsert
        # keeps the same one as in file order.
        params.sort(key=_ROW_KEY)
        before = conn.total_changes
        conn.executemany(_UPSERT, params)
        summ.updated_records += conn.total_changes - before
        stamps = [cast(int, p[ROW_TS]) for p in params]
        mark_dirty(conn, min(stamps), max(stamps))

    def _save_cursors(
        self, conn: sqlite3.Connection, files: list[tuple[FileCursor, os.stat_result, ParseResult]]
    ) -> list[int]:
        """Store the cursors of a batch's files (one statement for all); their ids in ``files``, in order.

        New rows get ids above the largest before (this transaction holds the write lock), so one query
        finds them; a cursor loaded from the table already knows its id.
        """
        now_ms = int(time.time() * 1000)
        top = conn.execute("SELECT coalesce(max(id), 0) FROM files").fetchone()[0]
        conn.executemany(_SAVE_CURSOR, [_cursor_params(c, st, r, now_ms) for c, st, r in files])
        new: dict[str, int] = dict(conn.execute("SELECT path, id FROM files WHERE id > ?", (top,)).fetchall())
        ids: list[int] = []
        for cursor, _st, _r in files:
            file_id = new.get(cursor.path, cursor.file_id)
            if file_id is None:  # a row this source did not load (e.g. the path was another source's)
                file_id = conn.execute("SELECT id FROM files WHERE path = ?", (cursor.path,)).fetchone()[0]
            ids.append(int(file_id))
        return ids


_SAVE_CURSOR = """
INSERT INTO files (source, path, dev, inode, size, mtime_ns, offset, lines, state, malformed,
                   first_seen_ms, last_read_ms, missing)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
ON CONFLICT (path) DO UPDATE SET source = excluded.source, dev = excluded.dev,
    inode = excluded.inode, size = excluded.size, mtime_ns = excluded.mtime_ns,
    offset = excluded.offset, lines = excluded.lines, state = excluded.state,
    malformed = files.malformed + excluded.malformed, last_read_ms = excluded.last_read_ms,
    missing = 0
"""


def _cursor_params(
    cursor: FileCursor, st: os.stat_result, r: ParseResult, now_ms: int
) -> tuple[object, ...]:
    state = orjson.dumps(r.state).decode() if r.state is not None else None
    # The cursor records the size/mtime seen *before* reading: if the file grew while we read it, the
    # next sync sees a difference and continues from r.new_offset.
    return (cursor.source, cursor.path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, r.new_offset,
            cursor.lines + r.lines, state, r.malformed, now_ms, now_ms)
