"""Opening the ledger database safely.

Order matters and is the point of this module:

1. create the file with mode 0600 (and its folder 0700) before SQLite touches it;
2. check the schema *read-only*: a database written by a newer Token Ledger is refused untouched;
3. copy the file (SQLite online backup) before any migration;
4. migrate with sqlite-utils' ``Migrations`` (imported only when a migration is pending: it is slow to import);
5. switch to WAL with ``synchronous=NORMAL``.

Import-light (no pathlib, contextlib or typing at run time): the CLI's fast path (``tracker.cli.fast``) opens
the ledger with ``open_store(..., migrate=False)``, which refuses a file that needs migrating instead of
importing sqlite-utils, and the full path then takes over. Paths may be ``str`` or ``os.PathLike``.
"""

from __future__ import annotations

import os
import sqlite3
import time

from tracker.store.schema import MIGRATION_NAMES, MIGRATION_SET, SCHEMA_VERSION

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy and ruff know the name)
if TYPE_CHECKING:
    from pathlib import Path

    StrPath = str | os.PathLike[str]


class StoreError(Exception):
    """A problem with the database that the user can act on. The message says what and what to do."""


class NewerDatabaseError(StoreError):
    """The database was written by a newer version of Token Ledger."""


class MigrationNeededError(StoreError):
    """Raised by ``open_store(..., migrate=False)`` when the file's schema is older than this version's."""


class _Transaction:
    """The context manager of :meth:`Store.transaction` (a class: contextlib is not imported on the fast path)."""

    __slots__ = ("conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:
            self.conn.rollback()


class Store:
    """An open ledger database. Use :meth:`transaction` for writes."""

    def __init__(self, conn: sqlite3.Connection, path: StrPath, backup_path: Path | None) -> None:
        self.conn = conn
        self.path = path
        self.backup_path = backup_path  # the copy taken before this open migrated the file, if any

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> _Transaction:
        """One write transaction: everything inside is committed together or not at all."""
        return _Transaction(self.conn)

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def _create_private_file(path: StrPath) -> None:
    parent = os.path.dirname(os.fspath(path))
    if parent:
        os.makedirs(parent, mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)


def _applied_migrations(conn: sqlite3.Connection) -> list[str]:
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'"
    ).fetchone()
    if not has_table:
        return []
    rows = conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid", (MIGRATION_SET,)
    ).fetchall()
    return [str(r[0]) for r in rows]


def _check_version(conn: sqlite3.Connection, path: StrPath) -> list[str]:
    """Return the migrations still to apply; raise if the file is not ours or is from a newer version."""
    try:
        user_version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        applied = _applied_migrations(conn)
    except sqlite3.DatabaseError as e:
        raise StoreError(
            f"{path} is not a Token Ledger database ({e}). Move it away or choose another folder with --data-dir."
        ) from None
    unknown = [name for name in applied if name not in MIGRATION_NAMES]
    if unknown or user_version > SCHEMA_VERSION:
        found = max(user_version, len(applied))
        raise NewerDatabaseError(
            f"{path} was written by a newer version of Token Ledger (schema {found}; this version knows "
            f"up to {SCHEMA_VERSION}). Nothing was changed. Upgrade Token Ledger to open it."
        )
    if applied == [] and user_version == 0:
        tables = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name != '_sqlite_migrations'"
        ).fetchone()[0]
        if tables:
            raise StoreError(
                f"{path} is an SQLite database but not a Token Ledger one. Nothing was changed. "
                "Choose another folder with --data-dir."
            )
    return [name for name in MIGRATION_NAMES if name not in applied]


def backup_to(conn: sqlite3.Connection, dest: StrPath) -> None:
    """A consistent copy of the open database (SQLite online backup), created 0600."""
    _create_private_file(dest)
    target = sqlite3.connect(dest)
    try:
        conn.backup(target)
    finally:
        target.close()


def _migrate(conn: sqlite3.Connection, path: StrPath, pending: list[str], is_new: bool) -> Path | None:
    from pathlib import Path

    backup_path = None
    if not is_new:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        p = Path(path)
        backup_path = p.parent / "backups" / f"{p.stem}-before-{pending[0]}-{stamp}{p.suffix}"
        backup_to(conn, backup_path)
    from tracker.store.migrations import apply_migrations

    apply_migrations(conn)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return backup_path


def open_store(path: StrPath, *, create: bool = True, migrate: bool = True) -> Store:
    """Open (and if needed create and migrate) the ledger at ``path``.

    Raises :class:`StoreError` with a message for people when the file cannot be used; the file is then
    left exactly as it was. With ``migrate=False``, a file that needs migrating raises
    :class:`MigrationNeededError` instead (untouched).
    """
    is_new = not os.path.exists(path)
    if is_new:
        if not create:
            raise StoreError(f"No ledger at {path} yet. Run `token-ledger sync` to create it.")
        try:
            _create_private_file(path)
        except OSError as e:
            raise StoreError(f"Cannot create the ledger at {path}: {e.strerror}.") from None
    old_umask = os.umask(0o077)  # the -wal and -shm files SQLite creates next to it stay private too
    try:
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)
        except sqlite3.Error as e:
            raise StoreError(f"Cannot open the ledger at {path}: {e}.") from None
        try:
            pending = _check_version(conn, path)
            backup_path = None
            conn.execute("PRAGMA busy_timeout = 10000")
            if pending:
                if not migrate:
                    raise MigrationNeededError(f"{path} needs migrating: {', '.join(pending)}")
                backup_path = _migrate(conn, path, pending, is_new)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            conn.close()
            raise
    finally:
        os.umask(old_umask)
    return Store(conn, path, backup_path)
