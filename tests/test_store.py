"""The store: creation, permissions, WAL, migrations, and refusing files it must not touch."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from tracker.store import NewerDatabaseError, StoreError, open_store
from tracker.store.schema import MIGRATION_NAMES, SCHEMA_VERSION

FIXTURES = Path(__file__).parent / "fixtures" / "schema"


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_new_store_is_private_wal_and_versioned(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "ledger.sqlite3"
    with open_store(db) as store:
        conn = store.conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        views = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
        assert {"usage_readable", "daily_usage_by_model", "sessions"} <= views
        with store.transaction() as c:
            c.execute("INSERT INTO meta VALUES ('k', 'v')")
        assert store.backup_path is None
    for name in os.listdir(db.parent):
        mode = stat.S_IMODE(os.stat(db.parent / name).st_mode)
        assert mode == 0o600, (name, oct(mode))


def test_migration_names_match_migrations() -> None:
    from tracker.store.migrations import migrations

    assert [m.name for m in migrations._migrations] == list(MIGRATION_NAMES)


def test_reopen_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite3"
    open_store(db).close()
    with open_store(db) as store:
        applied = store.conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
        assert applied == len(MIGRATION_NAMES)
        assert store.backup_path is None


@pytest.mark.parametrize("version_sql", ["v1.sql", "v2.sql", "v3.sql"])
def test_opens_database_of_each_past_schema(tmp_path: Path, version_sql: str) -> None:
    """A ledger made by each past schema version opens, migrates if needed, and keeps its rows."""
    db = tmp_path / "ledger.sqlite3"
    conn = sqlite3.connect(db)
    conn.executescript((FIXTURES / version_sql).read_text())
    conn.execute(f"PRAGMA user_version = {int(version_sql[1:].split('.', maxsplit=1)[0])}")
    conn.close()
    with open_store(db) as store:
        rows = store.conn.execute(
            "SELECT dedup_key, cost_kind, cost_pusd FROM usage ORDER BY dedup_key"
        ).fetchall()
        assert rows == [("msg_01", "estimated", 1425000000), ("msg_02", "unpriced", None)]
        assert store.get_meta("pricing_fingerprint") == "fixture"
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        # m002 filled the rollup from the rows (one 15-minute slot, one line per model)
        rollup = store.conn.execute(
            "SELECT slot_ms, model, records, input_tokens, cost_pusd, unpriced_tokens, unpriced_records "
            "FROM usage_rollup WHERE width_ms = 900000 ORDER BY model"
        ).fetchall()
        slot = 1763600000000 - 1763600000000 % 900_000
        assert rollup == [
            (slot, "claude-sonnet-4-5-20250929", 1, 10, 1425000000, 0, 0),
            (slot, "mystery-model", 1, 7, 0, 10, 1),
        ]
        widths = store.conn.execute("SELECT width_ms, sum(records) FROM usage_rollup GROUP BY 1").fetchall()
        assert widths == [(900_000, 2), (3_600_000, 2), (86_400_000, 2)]
        assert store.get_meta("usage_dirty_lo_ms") is None


def test_rollup_migration_settles_earlier_dirty_marks(tmp_path: Path) -> None:
    """A v1 ledger whose importer left dirty marks: m002 builds everything, so the marks are cleared."""
    db = tmp_path / "ledger.sqlite3"
    conn = sqlite3.connect(db)
    conn.executescript((FIXTURES / "v1.sql").read_text())
    conn.execute(
        "INSERT INTO meta VALUES ('usage_dirty_lo_ms', '1763600000000'), ('usage_dirty_hi_ms', '1763600060000')"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with open_store(db) as store:
        assert store.get_meta("usage_dirty_lo_ms") is None and store.get_meta("usage_dirty_hi_ms") is None
        assert store.conn.execute("SELECT sum(records) FROM usage_rollup").fetchone()[0] == 2 * 3  # 3 widths


def test_copy_is_taken_before_migrating(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE _sqlite_migrations (id INTEGER PRIMARY KEY, migration_set TEXT, name TEXT, applied_at TEXT)"
    )
    conn.commit()
    conn.close()
    with open_store(db) as store:
        assert store.backup_path is not None
        assert store.backup_path.exists()
        assert stat.S_IMODE(os.stat(store.backup_path).st_mode) == 0o600
        copy = sqlite3.connect(store.backup_path)
        assert copy.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == 0
        copy.close()


def test_newer_database_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite3"
    open_store(db).close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('token_ledger', 'm999_future', 'x')"
    )
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = _digest(db)
    with pytest.raises(NewerDatabaseError, match="newer version of Token Ledger"):
        open_store(db)
    assert _digest(db) == before
    assert not (tmp_path / "backups").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"hello, not sqlite" * 100, "not a Token Ledger database"), (None, "not a Token Ledger one")],
)
def test_foreign_files_are_refused_untouched(tmp_path: Path, content: bytes | None, message: str) -> None:
    db = tmp_path / "ledger.sqlite3"
    if content is None:
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE photos (id INTEGER)")
        conn.commit()
        conn.close()
    else:
        db.write_bytes(content)
    before = _digest(db)
    with pytest.raises(StoreError, match=message):
        open_store(db)
    assert _digest(db) == before


def test_missing_store_not_created_when_asked(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="token-ledger sync"):
        open_store(tmp_path / "nope.sqlite3", create=False)
    assert not (tmp_path / "nope.sqlite3").exists()
