"""A consistent copy of the ledger, safe while the app is running (``token-ledger backup``).

The copy uses SQLite's online backup API from a read-only connection that holds one read transaction for the
whole copy. The ledger is in WAL mode, so that snapshot never blocks the app's writes, and every step copies
from the same snapshot: the copy is the ledger as it was when the backup began. (Without the held transaction
SQLite restarts the copy each time the app commits, which during a sync may never finish.) The copy goes in
pages with a short sleep between them, so a large ledger does not hog the disk.

The copy is written to a hidden temporary file beside the destination (created 0600), switched to a plain
rollback journal (one self-contained file), checked with ``PRAGMA integrity_check``, and only then renamed to
its name: the destination never holds a half-written file. An existing file is replaced only with ``force``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tracker.store.db import StoreError

BACKUP_PREFIX = "token-ledger-backup-"
BACKUP_SUFFIX = ".sqlite3"

Progress = Callable[[int, int, int], object]  # sqlite3's (status, remaining pages, total pages)


class BackupError(StoreError):
    """The backup could not be made; the message says why and what to do. Nothing is left at the destination."""


@dataclass(frozen=True)
class BackupResult:
    """What was written: where, how big, the schema version, and the usage rows per source."""

    path: Path
    size: int
    schema_version: int
    usage_by_source: dict[str, int] = field(default_factory=dict)

    @property
    def usage_rows(self) -> int:
        return sum(self.usage_by_source.values())


def backup_target(dest: Path, now: datetime | None = None) -> Path:
    """``dest`` itself, or inside an existing folder ``token-ledger-backup-YYYYMMDD-HHMMSS.sqlite3``."""
    if dest.is_dir():
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        return dest / f"{BACKUP_PREFIX}{stamp}{BACKUP_SUFFIX}"
    return dest


def backup_ledger(db: Path, dest: Path, *, force: bool = False, pages: int = 256, sleep: float = 0.005,
                  now: datetime | None = None, progress: Progress | None = None) -> BackupResult:
    """Copy the ledger ``db`` to ``dest`` (a file, or a folder for a dated name); see the module docstring.

    ``progress`` is called after each step of ``pages`` pages (tests use it to write during the backup).
    """
    if not db.is_file():
        raise BackupError(f"No ledger at {db} yet, so there is nothing to back up. "
                          "Run `token-ledger sync` (or start the app) to create it.")
    target = backup_target(dest, now)
    _check_target(db, target, force)
    temp = _create_temp(target)
    try:
        _copy(db, temp, pages, sleep, progress)
        result = _check_copy(temp, target)
        _publish(temp, target, force)
    finally:
        for leftover in (temp, *(Path(f"{temp}{end}") for end in ("-journal", "-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
    return result


def _check_target(db: Path, target: Path, force: bool) -> None:
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist. Create it first, or give another path.")
    if target.exists() and target.resolve() == db.resolve():
        raise BackupError(f"{target} is the ledger itself. Give a path outside the data folder, or another name.")
    if target.is_dir():
        raise BackupError(f"{target} is a folder. Give a file name, or a folder that exists.")
    if target.exists() and not force:
        raise BackupError(f"{target} already exists; nothing was written. Add --force to replace it, "
                          "or give another name (or a folder, for a dated file name).")


def _create_temp(target: Path) -> Path:
    """A new private (0600) file beside ``target``, so the final rename stays on one file system."""
    temp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except PermissionError:
        raise BackupError(f"Cannot write to {target.parent} (permission denied). "
                          "Choose a folder you can write to.") from None
    except OSError as e:
        raise BackupError(f"Cannot write to {target.parent} ({e.strerror}). Choose another folder.") from None
    os.close(fd)
    return temp


def _copy(db: Path, temp: Path, pages: int, sleep: float, progress: Progress | None) -> None:
    with _private_umask(), _connect(temp) as copy:
        with _snapshot(db) as source:
            try:
                source.backup(copy, pages=pages, sleep=sleep, progress=progress)
            except sqlite3.Error as e:
                raise BackupError(f"The copy could not be written ({e}). Nothing was written; "
                                  "check the free space of the destination and try again.") from None
        copy.execute("PRAGMA journal_mode = DELETE")  # a single file, openable from read-only media


@contextlib.contextmanager
def _snapshot(db: Path) -> Iterator[sqlite3.Connection]:
    """A connection to the ledger that only reads, inside one read transaction (the snapshot all steps copy).

    Not ``mode=ro``: a read-only connection cannot remove the -wal and -shm files it had to create when the app
    is not running, while a normal one, closed last, tidies them away as the app does. ``query_only`` keeps
    it from writing anything else.
    """
    try:
        source = sqlite3.connect(db, isolation_level=None, timeout=30.0)
    except sqlite3.Error as e:
        raise BackupError(f"Cannot open the ledger at {db} ({e}).") from None
    try:
        source.execute("PRAGMA query_only = ON")
        source.execute("BEGIN")
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts at the first read
    except sqlite3.Error as e:
        source.close()
        raise BackupError(f"Cannot read the ledger at {db} ({e}). Is it an SQLite database?") from None
    try:
        yield source
    finally:
        source.close()


def _check_copy(temp: Path, target: Path) -> BackupResult:
    with _connect(temp) as copy:
        problems = [str(r[0]) for r in copy.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError(f"The copy failed SQLite's integrity check ({'; '.join(problems[:3])}); nothing "
                              "was written. The ledger itself may be damaged: run `token-ledger doctor`.")
        version = int(copy.execute("PRAGMA user_version").fetchone()[0])
        by_source = _usage_by_source(copy)
    return BackupResult(target, temp.stat().st_size, version, by_source)


def _usage_by_source(conn: sqlite3.Connection) -> dict[str, int]:
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'usage'").fetchone() is None:
        return {}
    rows = conn.execute("SELECT source, count(*) FROM usage GROUP BY source ORDER BY source")
    return {str(source): int(n) for source, n in rows}


def _publish(temp: Path, target: Path, force: bool) -> None:
    """Give the checked copy its name. Without ``force`` a hard link refuses a file that appeared meanwhile."""
    if force:
        os.replace(temp, target)
        return
    try:
        os.link(temp, target)
    except FileExistsError:
        raise BackupError(f"{target} appeared while the backup was written; nothing was replaced. "
                          "Add --force to replace it, or give another name.") from None
    except OSError:
        # file systems without hard links (FAT, exFAT on USB drives): the checks above must do
        if target.exists():
            raise BackupError(f"{target} already exists; nothing was written. Add --force to replace it.") from None
        os.replace(temp, target)


@contextlib.contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def _private_umask() -> Iterator[None]:
    """Files SQLite creates meanwhile (the copy's journal, the ledger's -wal/-shm if missing) stay private."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)
