"""The fast path of the two commands scripts and the tray app run over and over, tried before click loads.

``token-ledger [--data-dir D] sync [-q]`` with nothing new to read, and ``token-ledger [--data-dir D] report
daily|weekly|monthly --format json [--tz Z] [--since D] [--until D] [--source S]...`` on a current rollup,
are answered here without importing click, the importer, the price catalog, orjson, dataclasses or typing:
those imports cost far more than the work itself (a warm sync is a file listing and one query).

The fast path is an optimisation, never a second implementation: it calls the same functions the click
commands use (the discovery rules in ``tracker.sources.walk``, the change rule in ``tracker.ledger.changes``,
the report in ``tracker.analytics.reports``, the output in ``tracker.cli.output``) and prints the same bytes.
Whenever one of its preconditions does not hold (arguments it does not fully understand or that are wrong,
no ledger, a schema to migrate, a file changed, new or vanished, prices changed, rollup marks to clear,
provider accounts to poll, anything unexpected) it returns None, and the full command runs and decides,
including every error message.
Set ``TOKEN_LEDGER_NO_FAST_PATH=1`` to always take the full path.
"""

from __future__ import annotations

import gc
import os
import sqlite3
import sys
import time

from tracker.cli.output import SOURCE_NAMES
from tracker.paths import DB_FILENAME, FOLDER_CACHE_FILENAME, PRICES_FILENAME, resolve_data_dir

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy and ruff know the name)
if TYPE_CHECKING:
    from tracker.sources.walk import DirCache
    from tracker.store.db import Store

NO_FAST_PATH_ENV = "TOKEN_LEDGER_NO_FAST_PATH"
FINGERPRINT_KEY = "pricing_fingerprint"  # tracker.ledger.costing.FINGERPRINT_KEY (a test keeps them equal)
SOURCE_LABELS = {"claude_code": "Claude Code", "codex": "Codex CLI"}  # each source's ``label`` (tested)
TIME_REPORTS = ("daily", "weekly", "monthly")
_REPORT_OPTIONS = ("--since", "--until", "--tz", "--format", "--source")


class Invocation:
    """A command line the fast path understands, with click's defaults filled in."""

    __slots__ = ("command", "data_dir", "fmt", "kind", "quiet", "since", "sources", "tz", "until")

    def __init__(self, command: str, data_dir: str | None) -> None:
        self.command = command
        self.data_dir = data_dir
        self.quiet = False
        self.kind = "daily"
        self.since: str | None = None
        self.until: str | None = None
        self.tz: str | None = None
        self.fmt = "table"
        self.sources: list[str] = []


def match(argv: list[str]) -> Invocation | None:
    """The invocation ``argv`` (without the program name) asks for, or None if it is not one of the two fast
    commands exactly as click would read it (anything unusual is left to click)."""
    i, data_dir = 0, None
    while i < len(argv) and argv[i].startswith("--data-dir"):
        value, i = _option_value(argv, i, "--data-dir")
        if value is None:
            return None
        data_dir = value  # click keeps the last one
    if i >= len(argv):
        return None
    command, rest = argv[i], argv[i + 1 :]
    if command == "sync":
        inv = Invocation("sync", data_dir)
        if any(arg not in ("-q", "--quiet") for arg in rest):
            return None
        inv.quiet = bool(rest)
        return inv
    if command == "report":
        return _match_report(Invocation("report", data_dir), rest)
    return None


def _option_value(argv: list[str], i: int, name: str) -> tuple[str | None, int]:
    """The value of option ``name`` at ``argv[i]`` (``--name value`` or ``--name=value``) and the next index."""
    arg = argv[i]
    if arg == name:
        if i + 1 >= len(argv) or argv[i + 1].startswith("-"):
            return None, i + 1  # missing, or a value click might read otherwise: let click say
        return argv[i + 1], i + 2
    if arg.startswith(name + "="):
        return arg[len(name) + 1 :], i + 1
    return None, i + 1


def _match_report(inv: Invocation, rest: list[str]) -> Invocation | None:
    i, kind = 0, None
    while i < len(rest):
        arg = rest[i]
        if arg == "--breakdown":  # a table option; JSON ignores it
            i += 1
            continue
        if not arg.startswith("-"):
            if kind is not None:
                return None  # an extra argument: click's error
            kind, i = arg, i + 1
            continue
        name = next((o for o in _REPORT_OPTIONS if arg == o or arg.startswith(o + "=")), None)
        if name is None:
            return None
        value, i = _option_value(rest, i, name)
        if value is None:
            return None
        if name == "--source":
            inv.sources.append(value)
        else:
            setattr(inv, {"--since": "since", "--until": "until", "--tz": "tz", "--format": "fmt"}[name], value)
    inv.kind = "daily" if kind is None else kind
    if inv.kind not in TIME_REPORTS or inv.fmt != "json" or any(s not in SOURCE_NAMES for s in inv.sources):
        return None
    return inv


def run(argv: list[str]) -> int | None:
    """Answer ``argv`` here and return the exit code, or None: the full command line must run instead."""
    inv = match(argv)
    if inv is None:
        return None
    # A run of a few tens of milliseconds that makes tens of thousands of small objects and no garbage cycles
    # worth collecting: the collector's passes over them would cost a quarter of the run.
    gc.disable()
    code = None
    try:
        data_dir = resolve_data_dir(inv.data_dir)
        if os.path.isfile(data_dir):
            return None  # click refuses a file for --data-dir
        code = _sync(inv, data_dir) if inv.command == "sync" else _report(inv, data_dir)
    except (OSError, sqlite3.Error, ValueError):
        # e.g. a ledger locked or unreadable, a zone file damaged: the full path knows what to say
        return None
    finally:
        if code is None:
            gc.enable()  # the full path may parse gigabytes
    return code


# --- report ----------------------------------------------------------------------------------------------


def _report(inv: Invocation, data_dir: str) -> int | None:
    from tracker.analytics.periods import BadZoneError, zone
    from tracker.analytics.reports import ReportQuery, build_report
    from tracker.cli.output import BadDateError, dumps, parse_date, report_json
    from tracker.ledger.rollup import dirty_range

    try:
        first, last = parse_date(inv.since, "--since"), parse_date(inv.until, "--until")
        tz = zone(inv.tz)
    except (BadDateError, BadZoneError):
        return None
    if first and last and first > last:
        return None
    store = _open(data_dir)
    if store is None:
        return None
    try:
        if dirty_range(store.conn) is not None:
            return None  # the full path refreshes the rollup (a write) first
        rep = build_report(store.conn, ReportQuery(inv.kind, tz, first, last, tuple(inv.sources)))
    finally:
        store.close()
    _write(dumps(report_json(rep)) + "\n")
    return 0


def _open(data_dir: str) -> Store | None:
    """The ledger, if it exists and needs no migration."""
    from tracker.store.db import StoreError, open_store

    db = os.path.join(data_dir, DB_FILENAME)
    if not os.path.isfile(db):
        return None
    try:
        return open_store(db, create=False, migrate=False)
    except StoreError:
        return None


# --- sync ------------------------------------------------------------------------------------------------


class _Unchanged:
    """A source's part of a sync that read nothing (the fields ``tracker.cli.output.summary_lines`` reads)."""

    __slots__ = ("errors", "files_seen", "label", "malformed_examples", "name", "roots", "roots_found")
    files_read = files_reset = bytes_read = records_parsed = new_records = malformed = 0

    def __init__(self, name: str, roots: list[str], roots_found: list[str], files_seen: int) -> None:
        self.name, self.label = name, SOURCE_LABELS[name]
        self.roots, self.roots_found, self.files_seen = roots, roots_found, files_seen
        self.malformed_examples: list[str] = []
        self.errors: list[str] = []


class _Summary:
    __slots__ = ("duration_s", "sources")
    repriced = 0

    def __init__(self, sources: list[_Unchanged], duration_s: float) -> None:
        self.sources, self.duration_s = sources, duration_s


def _sync(inv: Invocation, data_dir: str) -> int | None:
    from tracker.cli.output import configured_but_missing, summary_lines
    from tracker.ledger.rollup import dirty_range
    from tracker.pricing.fingerprint import fingerprint_of_file
    from tracker.sources.walk import DirCache

    started = time.monotonic()
    store = _open(data_dir)
    if store is None:
        return None
    try:
        conn = store.conn
        if conn.execute("SELECT EXISTS (SELECT 1 FROM accounts WHERE removed_ms IS NULL)").fetchone()[0]:
            return None  # active provider accounts are polled over the network: only the full path does that
        if store.get_meta(FINGERPRINT_KEY) != fingerprint_of_file(os.path.join(data_dir, PRICES_FILENAME)):
            return None  # prices changed (or were never recorded): rows must be re-priced
        if dirty_range(conn) is not None:
            return None
        cache_path = os.path.join(data_dir, FOLDER_CACHE_FILENAME)
        cache = DirCache.load(cache_path)
        sources = [_unchanged_source(conn, name, cache) for name in SOURCE_NAMES]
        cache.save(cache_path)  # even when falling back: the listings are true whatever the ledger holds
        if any(s is None for s in sources):
            return None
        summary = _Summary([s for s in sources if s is not None], 0.0)
        if configured_but_missing(summary) or not any(s.roots_found for s in summary.sources):
            return None  # an error or a hint to print: the full path words it
        _record_run(store, summary, started)
    finally:
        store.close()
    summary.duration_s = time.monotonic() - started
    if not inv.quiet:
        _write("\n".join(summary_lines(summary)) + "\n")
    return 0


def _unchanged_source(conn: sqlite3.Connection, name: str, cache: DirCache) -> _Unchanged | None:
    """The source's summary if a sync would read none of its files, else None."""
    from tracker.ledger.changes import STORED_IDENTITIES_SQL, same_as_cursors
    from tracker.sources import walk

    home = os.path.expanduser("~")
    if name == "claude_code":
        roots = walk.claude_roots(os.environ, home)
        found = [r for r in roots if os.path.isdir(r)]
        listed = walk.with_stats(walk.claude_files(found, cache))
    else:
        roots = walk.codex_roots(os.environ, home)
        found = [r for r in roots if os.path.isdir(r)]
        listed = walk.with_stats(list(walk.codex_files(found, cache).values()))
    if not same_as_cursors(listed, conn.execute(STORED_IDENTITIES_SQL, (name,)).fetchall()):
        return None
    return _Unchanged(name, roots, found, len(listed))


def _record_run(store: Store, summary: _Summary, started: float) -> None:
    """The sync's row in ``sync_runs``, as the importer writes it for a sync that read nothing."""
    now_ms = int(time.time() * 1000)
    started_ms = now_ms - int((time.monotonic() - started) * 1000)
    with store.transaction() as conn:
        conn.execute(
            """INSERT INTO sync_runs (started_ms, finished_ms, sources, files_seen, files_read, bytes_read,
                                      new_records, updated_records, malformed, status, message)
               VALUES (?, ?, ?, ?, 0, 0, 0, 0, 0, 'ok', NULL)""",
            (started_ms, now_ms, ",".join(SOURCE_NAMES), sum(s.files_seen for s in summary.sources)),
        )


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
