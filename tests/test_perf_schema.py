"""Schema changes made for import speed keep the data and the behaviour (m004: the ``cost_kind`` check).

m004 rebuilds the ``usage`` table; these tests check, on a ledger of the previous schema version, that the
rows (with their ids), the index, the views and the triggers survive, and that the check still refuses an
unknown cost kind.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tracker.store import open_store
from tracker.store.schema import SCHEMA_VERSION

FIXTURES = Path(__file__).parent / "fixtures" / "schema"


def _v3_ledger(tmp_path: Path) -> Path:
    db = tmp_path / "ledger.sqlite3"
    conn = sqlite3.connect(db)
    conn.executescript((FIXTURES / "v3.sql").read_text())
    conn.execute("PRAGMA user_version = 3")
    conn.close()
    return db


def test_v3_ledger_keeps_rows_views_and_triggers(tmp_path: Path) -> None:
    db = _v3_ledger(tmp_path)
    with open_store(db) as store:
        conn = store.conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT id, dedup_key, file_id, cost_kind FROM usage ORDER BY id").fetchall() == [
            (1, "msg_01", 1, "estimated"),
            (2, "msg_02", 1, "unpriced"),
        ]
        names = {(r[0], r[1]) for r in conn.execute("SELECT type, name FROM sqlite_master")}
        assert {("index", "usage_ts"), ("view", "usage_readable"), ("view", "daily_usage_by_model"),
                ("view", "sessions"), ("trigger", "usage_ts_moved"), ("trigger", "usage_deleted")} <= names
        assert conn.execute("SELECT file_path FROM usage_readable WHERE id = 1").fetchone()[0].endswith("s1.jsonl")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # the triggers still mark moved rows for the rollup
        with store.transaction():
            conn.execute("UPDATE usage SET ts_ms = ts_ms + 1000 WHERE id = 1")
        assert store.get_meta("usage_dirty_lo_ms") == "1763600000000"
        assert store.get_meta("usage_dirty_hi_ms") == "1763600001000"


def test_cost_kind_check_still_refuses_unknown_kinds(tmp_path: Path) -> None:
    with open_store(tmp_path / "ledger.sqlite3") as store:
        sql = store.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'usage'").fetchone()[0]
        assert " IN (" not in sql  # the slow form (see m004's docstring)
        insert = "INSERT INTO usage (source, dedup_key, ts_ms, cost_kind) VALUES ('x', ?, 0, ?)"
        for n, kind in enumerate(("estimated", "reported", "unpriced")):
            store.conn.execute(insert, (f"k{n}", kind))
        with pytest.raises(sqlite3.IntegrityError):
            store.conn.execute(insert, ("bad", "free"))


def test_migrations_import_sqlite_utils_without_numpy_and_leave_numpy_importable() -> None:
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("numpy") is None:
        pytest.skip("numpy is not installed")
    code = (
        "import sys, tracker.store.migrations as m; "
        "assert 'numpy' not in sys.modules and sys.modules.get('numpy', 0) is not None; "
        "import numpy; print(numpy.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "numpy"
