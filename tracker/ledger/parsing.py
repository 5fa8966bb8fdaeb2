"""Parsing log files for the importer: in worker processes when there is much to read, inline otherwise.

Parsing is CPU-bound (scanning bytes, decoding JSON) while the importer's own work (pricing, SQLite) runs in
its process, so a cold import of a large log tree spreads parsing over worker processes. Workers never touch
the database: they get plain jobs (path, offset, parser state, first line number) and send back
:class:`~tracker.domain.ParseResult` objects holding flat rows, cheap to pickle. Results are consumed in
submission order, so the importer commits files in the same order as when parsing inline.

Two kinds of sources:

* *independent* files (Claude Code) can be parsed in any order and apart: they are cut into tasks of a few
  megabytes, any worker takes any task;
* *ordered* sources (Codex) keep a global ``seen`` set and need parents before children: all their files go
  into one task, parsed in order by one worker, while the other workers parse independent files.

Workers are started with ``spawn`` on every platform: a forked child would inherit the importer's open SQLite
connection, which SQLite forbids.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

from tracker.domain import ROW_KEY, ROW_PROJECT, ROW_RANK, ParseResult, SourceKind, UsageRow

# A file to parse: path, byte offset, parser state, number of the line at the offset.
ParseJob = tuple[str, int, dict[str, Any] | None, int]
# What parsing one file gave: its result, None if the file vanished, or a message if it could not be read.
Outcome = ParseResult | str | None

INDEPENDENT_SOURCES = frozenset({SourceKind.CLAUDE_CODE.value})  # files parse apart and in any order
TASK_BYTES = 8 << 20  # an independent task: about this many bytes to read...
TASK_FILES = 400  # ...or this many files, whichever comes first
PARALLEL_MIN_BYTES = 16 << 20  # below this much to read, workers cost more (start-up) than they save
MAX_WORKERS = 4
# Tasks of one source submitted but not yet consumed: bounds memory if writing lags (about 1 MB of rows per
# task). Enough that workers keep parsing while this process writes, instead of waiting for it (measured:
# 6 left each worker idle about 1.5 s of a cold import of the benchmark corpus).
TASKS_AHEAD = 20
BIG_TASK_BYTES = 4 * TASK_BYTES  # a task this large (one big file) is submitted further ahead...
BIG_TASKS_AHEAD = 3 * TASKS_AHEAD  # ...up to this many tasks ahead of the one consumed (see _Window)...
BIG_TASKS_EARLY = 2  # ...and at most this many at a time beyond TASKS_AHEAD (their rows wait in memory)


def parse_jobs(source_name: str, jobs: list[ParseJob], seen: set[str]) -> list[Outcome]:
    """Parse ``jobs`` in order with the source called ``source_name``; one outcome per job.

    ``seen`` is the source's dedup context; it is updated in place (in a worker, the worker's copy).
    Duplicates within the jobs are dropped (see :func:`keep_best`), which shrinks what goes back.
    """
    from tracker.sources import get_source

    source = get_source(source_name)
    out: list[Outcome] = []
    for path, offset, state, first_line_no in jobs:
        try:
            out.append(source.parse(Path(path), offset, state, first_line_no, seen))
        except FileNotFoundError:
            out.append(None)  # vanished between listing and reading
        except OSError as e:
            out.append(f"cannot read {path}: {e.strerror or e}")
    results = [r for r in out if isinstance(r, ParseResult)]
    for r in results:
        r.usage_lines = len(r.rows)  # before keep_best: the summary reports how many copies were merged
    keep_best(results)
    return out


def keep_best(results: list[ParseResult]) -> None:
    """Drop rows that lose, within ``results``, to another row with the same dedup key (in place).

    The same rule as the store's upsert: the higher rank wins, and of equal ranks the first one (in file
    order, then line order). A winner without a project path takes the one of the copy it replaced, as the
    upsert's ``coalesce`` does. This only saves work: the upsert gives the same rows without it.
    """
    best: dict[str, tuple[list[UsageRow], int]] = {}  # key -> (row list, index) of the current winner
    drop: set[tuple[int, int]] = set()  # (id of row list, index) of losers
    for result in results:
        rows = result.rows
        for i, row in enumerate(rows):
            key = row[ROW_KEY]
            hit = best.get(key)
            if hit is None:
                best[key] = (rows, i)
                continue
            old_rows, j = hit
            old = old_rows[j]
            if row[ROW_RANK] > old[ROW_RANK]:
                if row[ROW_PROJECT] is None and old[ROW_PROJECT] is not None:
                    rows[i] = (*row[:ROW_PROJECT], old[ROW_PROJECT], *row[ROW_PROJECT + 1 :])  # type: ignore[assignment]
                best[key] = (rows, i)
                drop.add((id(old_rows), j))
            else:
                drop.add((id(rows), i))
    if not drop:
        return
    for result in results:
        rid = id(result.rows)
        result.rows = [row for i, row in enumerate(result.rows) if (rid, i) not in drop]


class Parser:
    """Hands out parse outcomes in order, from worker processes or (``workers == 0``) computed inline.

    Rows are priced by the importer, not here: pricing in the workers was measured slower (each worker
    imports the price tables, and the first results come later).
    """

    def __init__(self, workers: int) -> None:
        self._pool: ProcessPoolExecutor | None = None
        if workers > 0:
            import multiprocessing  # here: a sync with little to read never pays for importing these
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(
                workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_setup
            )

    @property
    def parallel(self) -> bool:
        return self._pool is not None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Parser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, source_name: str, jobs: list[tuple[ParseJob, int]], seen: set[str]) -> Iterator[Outcome]:
        """Begin parsing ``jobs`` (each with its byte count); the outcomes come from the returned iterator.

        With workers, the first tasks are submitted now, so that several sources parse at the same time.
        """
        sized = _tasks(source_name, jobs)
        if self._pool is None:
            return _inline(source_name, [task for task, _size in sized], seen)
        window = _Window(self._pool, source_name, seen, sized)
        window.top_up(0)
        return window.outcomes()


class _Window:
    """Tasks of one source submitted ahead of the one being consumed, in order, plus big ones further ahead.

    The next TASKS_AHEAD tasks are always submitted. A big task (one large file) takes a worker long enough
    that, submitted only TASKS_AHEAD tasks ahead, it would still be parsing when the importer reaches it,
    which then waits: big tasks are submitted up to BIG_TASKS_AHEAD tasks ahead instead, at most
    BIG_TASKS_EARLY of them at a time (memory stays bounded however many big files there are).
    """

    def __init__(
        self, pool: ProcessPoolExecutor, source_name: str, seen: set[str], tasks: list[tuple[list[ParseJob], int]]
    ) -> None:
        self.pool, self.source_name, self.seen, self.tasks = pool, source_name, seen, tasks
        self.futures: dict[int, Future[list[Outcome]]] = {}
        self.checked = 0  # tasks before this index are submitted or were looked at as not big

    def top_up(self, consumed: int) -> None:
        """Submit what should be in flight once ``consumed`` tasks have been consumed."""
        for i in range(consumed, min(consumed + TASKS_AHEAD, len(self.tasks))):
            self._submit(i)
        early = sum(1 for i in self.futures if i >= consumed + TASKS_AHEAD)
        for i in range(max(self.checked, consumed + TASKS_AHEAD), min(consumed + BIG_TASKS_AHEAD, len(self.tasks))):
            if self.tasks[i][1] >= BIG_TASK_BYTES:
                if early >= BIG_TASKS_EARLY:
                    return  # enough held ahead: look again after the next task is consumed
                self._submit(i)
                early += 1
            self.checked = i + 1

    def _submit(self, i: int) -> None:
        if i not in self.futures:
            self.futures[i] = self.pool.submit(parse_jobs, self.source_name, self.tasks[i][0], self.seen)

    def outcomes(self) -> Iterator[Outcome]:
        for i in range(len(self.tasks)):
            self._submit(i)  # already submitted, unless the caller skipped top_up
            outcomes = self.futures.pop(i).result()
            self.top_up(i + 1)
            yield from outcomes


def _worker_setup() -> None:
    """Worker start-up: Ctrl-C (sent to the whole process group) just stops a worker.

    No traceback of its own: the importer's process gets the same signal, reports the interruption and keeps
    what it committed.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _tasks(source_name: str, jobs: list[tuple[ParseJob, int]]) -> list[tuple[list[ParseJob], int]]:
    """The jobs cut into tasks, each with its byte count (see the module docstring)."""
    if source_name not in INDEPENDENT_SOURCES:
        return [([job for job, _size in jobs], sum(size for _job, size in jobs))] if jobs else []
    tasks: list[tuple[list[ParseJob], int]] = []
    task: list[ParseJob] = []
    size = 0
    for job, nbytes in jobs:
        task.append(job)
        size += nbytes
        if size >= TASK_BYTES or len(task) >= TASK_FILES:
            tasks.append((task, size))
            task, size = [], 0
    if task:
        tasks.append((task, size))
    return tasks


def _inline(source_name: str, tasks: list[list[ParseJob]], seen: set[str]) -> Iterator[Outcome]:
    for task in tasks:
        yield from parse_jobs(source_name, task, seen)


def worker_count(bytes_to_read: int, min_bytes: int = PARALLEL_MIN_BYTES) -> int:
    """How many worker processes a sync reading ``bytes_to_read`` should use (0: parse inline)."""
    if bytes_to_read < min_bytes:
        return 0
    return max(min(os.cpu_count() or 1, MAX_WORKERS), 2)
