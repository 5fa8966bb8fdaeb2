"""``token-ledger backup``: a consistent, checked, private copy of the ledger, also while another process writes.

The concurrency test runs a real second process that keeps committing to the ledger (opened the way the app
opens it) while the backup copies a few pages at a time; the backup waits between its steps until that process
has committed more, so the writes provably happen during the copy. The copy must then pass SQLite's integrity
check and hold exactly the rows of one moment (every batch whole, and the counter written with them equal).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tracker.store import open_store
from tracker.store.backup import BackupError, backup_ledger, backup_target
from tracker.store.schema import SCHEMA_VERSION

BATCH = 10


def make_ledger(path: Path, rows: int = 200) -> Path:
    with open_store(path) as store, store.transaction() as conn:
        conn.executemany(
            "INSERT INTO usage (source, dedup_key, ts_ms, model, cost_kind) VALUES (?, ?, ?, ?, 'unpriced')",
            [("claude_code" if i % 3 else "codex", f"k{i}", 1_700_000_000_000 + i, "m" * 200) for i in range(rows)],
        )
        store.set_meta("test_written", str(rows))
    return path


def counts(path: Path) -> tuple[int, int, str]:
    conn = sqlite3.connect(path)
    try:
        n = conn.execute("SELECT count(*) FROM usage").fetchone()[0]
        written = conn.execute("SELECT value FROM meta WHERE key = 'test_written'").fetchone()[0]
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    return int(n), int(written), str(check)


def test_a_copy_of_a_quiet_ledger(tmp_path: Path) -> None:
    db = make_ledger(tmp_path / "data" / "ledger.sqlite3")
    result = backup_ledger(db, tmp_path / "copy.sqlite3")
    assert result.path == tmp_path / "copy.sqlite3"
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    assert result.size == result.path.stat().st_size
    assert result.schema_version == SCHEMA_VERSION
    assert result.usage_by_source == {"claude_code": 133, "codex": 67} and result.usage_rows == 200
    assert counts(result.path) == (200, 200, "ok")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.sqlite3", "data"]  # no temporary file left
    assert sorted(p.name for p in db.parent.iterdir()) == ["ledger.sqlite3"]  # the ledger's folder as it was
    conn = sqlite3.connect(result.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    finally:
        conn.close()


def test_a_folder_gets_a_dated_file(tmp_path: Path) -> None:
    db = make_ledger(tmp_path / "ledger.sqlite3")
    folder = tmp_path / "backups"
    folder.mkdir()
    now = datetime(2026, 3, 4, 5, 6, 7)
    assert backup_target(folder, now) == folder / "token-ledger-backup-20260304-050607.sqlite3"
    result = backup_ledger(db, folder, now=now)
    assert result.path == folder / "token-ledger-backup-20260304-050607.sqlite3" and result.path.is_file()
    with pytest.raises(BackupError, match=r"already exists; nothing was written\. Add --force"):
        backup_ledger(db, folder, now=now)


def test_an_existing_file_is_replaced_only_with_force(tmp_path: Path) -> None:
    db = make_ledger(tmp_path / "ledger.sqlite3")
    dest = tmp_path / "copy.sqlite3"
    dest.write_text("precious")
    with pytest.raises(BackupError, match="already exists"):
        backup_ledger(db, dest)
    assert dest.read_text() == "precious"
    assert backup_ledger(db, dest, force=True).usage_rows == 200
    assert counts(dest) == (200, 200, "ok")


def test_clear_errors(tmp_path: Path) -> None:
    db = tmp_path / "data" / "ledger.sqlite3"
    with pytest.raises(BackupError, match=r"No ledger at .* yet, so there is nothing to back up. Run `token-ledger"):
        backup_ledger(db, tmp_path)
    make_ledger(db)
    with pytest.raises(BackupError, match=r"The folder .*nope does not exist"):
        backup_ledger(db, tmp_path / "nope" / "copy.sqlite3")
    with pytest.raises(BackupError, match="is the ledger itself"):
        backup_ledger(db, db, force=True)
    not_sqlite = tmp_path / "notes.sqlite3"
    not_sqlite.write_text("not a database, but long enough to have a header of sorts " * 20)
    with pytest.raises(BackupError, match="Is it an SQLite database"):
        backup_ledger(not_sqlite, tmp_path / "copy.sqlite3")
    assert not (tmp_path / "copy.sqlite3").exists()


def test_an_unwritable_destination(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = make_ledger(tmp_path / "ledger.sqlite3")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # root ignores the mode: refuse the way the OS would
        real_open = os.open

        def refusing_open(path: Any, *args: Any, **kwargs: Any) -> int:
            if str(path).startswith(str(locked)):
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", refusing_open)
    with pytest.raises(BackupError) as info:
        backup_ledger(db, locked)
    assert str(info.value) == f"Cannot write to {locked} (permission denied). Choose a folder you can write to."


def test_a_failure_midway_leaves_nothing(tmp_path: Path) -> None:
    db = make_ledger(tmp_path / "data" / "ledger.sqlite3", rows=2000)

    def fail(status: int, remaining: int, total: int) -> None:
        raise RuntimeError("the disk went away")

    with pytest.raises(RuntimeError):
        backup_ledger(db, tmp_path / "copy.sqlite3", pages=4, progress=fail)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


WRITER = """
import sys
from pathlib import Path
from tracker.store import open_store

db, stop, batch = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
with open_store(db) as store:  # as the app opens it: WAL, synchronous=NORMAL
    i = 0
    while not stop.exists():
        with store.transaction() as conn:
            written = int(store.get_meta("test_written"))
            conn.executemany(
                "INSERT INTO usage (source, dedup_key, ts_ms, model, cost_kind) VALUES ('codex', ?, ?, ?, 'unpriced')",
                [(f"w{written + j}", 1_800_000_000_000 + written + j, "w" * 200) for j in range(batch)],
            )
            store.set_meta("test_written", str(written + batch))
        i += 1
        if i == 1:
            print("writing", flush=True)
"""


def test_a_consistent_copy_while_another_process_writes(tmp_path: Path) -> None:
    db = make_ledger(tmp_path / "ledger.sqlite3", rows=3000)  # several hundred pages: many steps
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(stop), str(BATCH)], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "writing\n"
        written_during: list[int] = []

        def wait_for_more_writes(status: int, remaining: int, total: int) -> None:
            if len(written_during) < 3:  # the first steps: let the writer commit at least once more each time
                before = counts(db)[1]
                deadline = time.monotonic() + 60
                while counts(db)[1] == before and time.monotonic() < deadline:
                    time.sleep(0.01)
                written_during.append(counts(db)[1] - before)

        result = backup_ledger(db, tmp_path / "copy.sqlite3", pages=8, sleep=0, progress=wait_for_more_writes)
    finally:
        stop.touch()
        assert writer.wait(timeout=120) == 0
        assert writer.stdout is not None
        writer.stdout.close()
    assert all(n > 0 for n in written_during) and len(written_during) == 3  # writes happened mid-copy
    rows, written, check = counts(result.path)
    assert check == "ok"
    assert rows == written == result.usage_rows and rows % BATCH == 0  # one moment: whole batches only
    assert counts(db)[0] > rows  # the ledger moved on; the copy is the moment the backup began


# --- the command ----------------------------------------------------------------------------------------------


def test_the_command(tmp_path: Path, cli: Any) -> None:
    data = tmp_path / "data"
    r = cli("--data-dir", str(data), "backup", str(tmp_path))
    assert r.code == 1 and r.err.startswith(f"token-ledger: No ledger at {data / 'ledger.sqlite3'} yet")
    make_ledger(data / "ledger.sqlite3")
    r = cli("--data-dir", str(data), "backup", str(tmp_path / "copy.sqlite3"))
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].startswith(f"Backed up the ledger to {tmp_path / 'copy.sqlite3'} (")
    assert lines[0].endswith(f" KB, schema version {SCHEMA_VERSION}).")
    assert lines[1] == "Usage records: 200 (claude_code 133, codex 67)."
    assert lines[2].startswith("To restore: quit Token Ledger, copy this file over ")
    r = cli("--data-dir", str(data), "backup", str(tmp_path / "copy.sqlite3"))
    assert r.code == 1 and "already exists; nothing was written. Add --force" in r.err
    r = cli("--data-dir", str(data), "backup", "--force", str(tmp_path / "copy.sqlite3"))
    assert r.code == 0, r.err
