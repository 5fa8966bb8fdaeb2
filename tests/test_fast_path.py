"""The CLI's fast path (tracker.cli.fast): same bytes and exit codes as the click path, or no answer at all.

Every test runs a command line twice in-process, once through ``tracker.cli.main`` (fast path first) and once
with ``fast=False`` (click only), and compares stdout, stderr and the exit code. ``fast.run`` is also called on
its own to check whether the fast path answered or fell back, as each case expects.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import Home
from hypothesis import given
from hypothesis import strategies as st

from tracker.cli import fast, main
from tracker.cli.output import dumps

CLAUDE = "claude/claude_code__real_v2.1.72__hallucination-detector.jsonl"
CLAUDE_OLD = "claude/claude_code__real_v1.0.9__ccusage-issue-4.jsonl"
CODEX = "codex/codex__fixture__ccusage-session-alpha.jsonl"
UNPRICED_LINE = (
    '{"type":"assistant","timestamp":"2026-11-20T23:50:00.000Z","sessionId":"s-unpriced","requestId":"r1",'
    '"uuid":"u1","message":{"id":"m-unpriced","model":"mystery-model-x","usage":{"input_tokens":1000,'
    '"output_tokens":50,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}\n'
)


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def normalised(self) -> tuple[int, str, str]:
        def clock(s: str) -> str:
            return re.sub(r"Done in \d+\.\d\d s\.", "Done in X s.", s)

        return self.code, clock(self.out), clock(self.err)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Any:
    """run(*args, mode) with mode "main" (fast path first), "click" (fast=False) or "fast" (fast.run only)."""

    def go(*args: str, mode: str = "main") -> Run | None:
        capsys.readouterr()
        try:
            if mode == "fast":
                rc = fast.run(list(args))
                if rc is None:
                    cap = capsys.readouterr()
                    assert (cap.out, cap.err) == ("", ""), "a fallback must print nothing"
                    return None
            else:
                rc = main(list(args), fast=mode == "main")
            code = 0 if rc is None else int(rc)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        cap = capsys.readouterr()
        return Run(code, cap.out, cap.err)

    return go


def _same(run: Any, *args: str, fast_expected: bool) -> Run:
    """Run ``args`` both ways; both must agree; the fast path must answer (or not) as expected."""
    answered = run(*args, mode="fast")
    assert (answered is not None) == fast_expected, args
    slow = run(*args, mode="click")
    both = run(*args, mode="main")
    assert both.normalised() == slow.normalised(), args
    if answered is not None:
        assert answered.normalised() == slow.normalised(), args
    return slow


def _logs(home: Home, *, unpriced: bool = False) -> None:
    home.copy_fixture(CLAUDE, home.claude / "projects" / "-home-u-app" / "a.jsonl")
    home.copy_fixture(CLAUDE_OLD, home.claude / "projects" / "-home-u-old" / "b.jsonl")
    home.copy_fixture(CODEX, home.codex / "sessions" / "2026" / "11" / "20" / "rollout-a.jsonl")
    if unpriced:
        home.claude_log("-home-u-x/c.jsonl", UNPRICED_LINE)


# --- report --------------------------------------------------------------------------------------------


REPORT_ARGS = [
    ("report", "--format", "json"),
    ("report", "daily", "--format", "json", "--tz", "UTC"),
    ("report", "weekly", "--format=json", "--tz", "Europe/Paris"),
    ("report", "--tz", "Asia/Kathmandu", "monthly", "--format", "json"),
    ("report", "daily", "--format", "json", "--tz", "Europe/Paris", "--since", "2025-06-01", "--until", "20261231"),
    ("report", "daily", "--format", "json", "--tz", "UTC", "--source", "codex"),
    ("report", "weekly", "--format", "json", "--source", "claude_code", "--source=codex", "--tz", "America/New_York"),
    ("report", "daily", "--format", "table", "--format", "json", "--breakdown"),
    ("report", "monthly", "--format", "json", "--since", "2030-01-01"),
]


@pytest.mark.parametrize("args", REPORT_ARGS)
@pytest.mark.parametrize("unpriced", [False, True])
def test_report_json_fast_equals_click(home: Home, run: Any, args: tuple[str, ...], unpriced: bool) -> None:
    _logs(home, unpriced=unpriced)
    assert run("sync", mode="click").code == 0
    rep = _same(run, *args, fast_expected=True)
    assert rep.code == 0 and rep.out.startswith("{\n")
    if unpriced and "codex" not in args and "2030-01-01" not in args:
        assert '"cost_kind": "estimated_partial"' in rep.out


def test_report_on_an_empty_ledger(home: Home, run: Any) -> None:
    assert run("sync", mode="click").code == 0  # no logs: the ledger exists and is empty
    rep = _same(run, "report", "--format", "json", fast_expected=True)
    assert '"rows": []' in rep.out


def test_report_with_data_dir_option(home: Home, run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _logs(home)
    assert run("sync", mode="click").code == 0
    monkeypatch.delenv("TOKEN_LEDGER_DATA_DIR")
    _same(run, "--data-dir", str(home.data), "report", "--format", "json", fast_expected=True)
    _same(run, f"--data-dir={home.data}", "report", "weekly", "--format", "json", fast_expected=True)


@pytest.mark.parametrize(
    "args",
    [
        ("report", "--format", "json", "--tz", "Mars/Olympus"),
        ("report", "--format", "json", "--since", "yesterday"),
        ("report", "--format", "json", "--since", "2026-02-01", "--until", "2026-01-01"),
        ("report", "--format", "json", "--source", "cursor"),
        ("report", "session", "--format", "json"),
        ("report", "model", "--format", "json"),
        ("report", "daily", "weekly", "--format", "json"),
        ("report", "--format", "json", "--tz"),
        ("report", "--format", "json", "--nope"),
        ("report", "--format", "json", "--help"),
        ("report", "--format", "csv"),
        ("report", "daily"),
        ("report", "--format", "json", "--", "daily"),
        ("--version",),
        ("sync", "--source", "codex"),
        ("status",),
    ],
)
def test_anything_else_is_left_to_click(home: Home, run: Any, args: tuple[str, ...]) -> None:
    _logs(home)
    assert run("sync", mode="click").code == 0
    _same(run, *args, fast_expected=False)


def test_report_without_a_ledger(home: Home, run: Any) -> None:
    r = _same(run, "report", "--format", "json", fast_expected=False)
    assert r.code == 1 and "No ledger" in r.err


def test_report_with_dirty_rollup_marks_falls_back(home: Home, run: Any) -> None:
    _logs(home)
    assert run("sync", mode="click").code == 0
    with sqlite3.connect(home.data / "ledger.sqlite3") as conn:
        conn.execute("UPDATE usage SET ts_ms = ts_ms + 86400000 * 3 WHERE id = (SELECT max(id) FROM usage)")
    conn.close()
    assert run("report", "--format", "json", mode="fast") is None
    click_first = run("report", "--format", "json", mode="click")  # refreshes the rollup
    assert click_first.code == 0
    _same(run, "report", "--format", "json", fast_expected=True)


def test_newer_database_same_error(home: Home, run: Any) -> None:
    _logs(home)
    assert run("sync", mode="click").code == 0
    with sqlite3.connect(home.data / "ledger.sqlite3") as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    for args in (("report", "--format", "json"), ("sync",)):
        r = _same(run, *args, fast_expected=False)
        assert r.code == 2 and "newer version" in r.err


def test_old_schema_is_migrated_by_the_full_path(home: Home, run: Any) -> None:
    _logs(home)
    assert run("sync", mode="click").code == 0
    with sqlite3.connect(home.data / "ledger.sqlite3") as conn:
        last = conn.execute("SELECT max(rowid) FROM _sqlite_migrations").fetchone()[0]
        conn.execute("DELETE FROM _sqlite_migrations WHERE rowid = ?", (last,))  # pretend the last is pending
        conn.execute("PRAGMA user_version = 0")
    conn.close()
    assert run("report", "--format", "json", mode="fast") is None
    assert run("sync", mode="fast") is None


# --- sync ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [("sync",), ("sync", "-q"), ("sync", "--quiet", "-q")])
def test_warm_sync_fast_equals_click(home: Home, run: Any, args: tuple[str, ...]) -> None:
    _logs(home)
    assert run("sync", mode="click").code == 0
    r = _same(run, *args, fast_expected=True)
    assert r.code == 0
    assert ("0 of 2 files read" in r.out) == ("-q" not in args and "--quiet" not in args)


def test_warm_sync_records_its_run(home: Home, run: Any) -> None:
    _logs(home)
    assert run("sync", mode="click").code == 0
    assert run("sync", mode="fast") is not None
    with sqlite3.connect(home.data / "ledger.sqlite3") as conn:
        rows = conn.execute(
            "SELECT status, files_seen, files_read, finished_ms >= started_ms FROM sync_runs"
        ).fetchall()
    conn.close()
    assert rows[-1] == ("ok", 3, 0, 1)


def _touch_append(path: Path) -> None:
    with path.open("ab") as f:
        f.write(b"\n")


@pytest.mark.parametrize("change", ["append", "new_file_old_dir", "new_dir", "vanished", "prices", "dirty", "rollup"])
def test_sync_falls_back_when_anything_changed(home: Home, run: Any, change: str) -> None:
    _logs(home)
    assert run("sync", mode="click").code == 0
    a = home.claude / "projects" / "-home-u-app" / "a.jsonl"
    if change == "append":
        _touch_append(a)
    elif change == "new_file_old_dir":
        home.claude_log("-home-u-app/new.jsonl", UNPRICED_LINE)
    elif change == "new_dir":
        home.codex_log("sessions/2026/11/21/rollout-b.jsonl", "")
    elif change == "vanished":
        a.unlink()
    elif change == "prices":
        (home.data / "prices.toml").write_text("# no overrides yet\n")
    else:
        with sqlite3.connect(home.data / "ledger.sqlite3") as conn:
            conn.execute("UPDATE usage SET ts_ms = ts_ms + 1 WHERE id = (SELECT max(id) FROM usage)")
        conn.close()
    assert run("sync", mode="fast") is None
    assert run("sync", mode="click").code == 0
    _same(run, "sync", fast_expected=True)  # and once the full path has caught up, the fast path answers


def test_vanished_file_already_marked_missing_keeps_the_fast_path(home: Home, run: Any) -> None:
    _logs(home)
    assert run("sync", mode="click").code == 0
    (home.claude / "projects" / "-home-u-app" / "a.jsonl").unlink()
    assert run("sync", mode="click").code == 0  # marks it missing
    _same(run, "sync", fast_expected=True)


def test_sync_problems_are_left_to_click(home: Home, run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _logs(home)
    assert run("sync", mode="click").code == 0
    monkeypatch.setenv("CODEX_HOME", str(home.root / "typo"))
    r = _same(run, "sync", fast_expected=False)
    assert r.code == 1 and "CODEX_HOME names" in r.err


def test_sync_without_a_ledger_creates_it_on_the_full_path(home: Home, run: Any) -> None:
    _logs(home)
    assert run("sync", mode="fast") is None
    assert not (home.data / "ledger.sqlite3").exists()


def test_sync_with_default_roots_partly_missing(home: Home, run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No CLAUDE_CONFIG_DIR: ~/.claude exists, ~/.config/claude does not; Codex is not installed."""
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    monkeypatch.delenv("CODEX_HOME")
    home.copy_fixture(CLAUDE, home.root / ".claude" / "projects" / "-p" / "a.jsonl")
    (home.codex / "sessions").rmdir()
    home.codex.rmdir()
    assert run("sync", mode="click").code == 0
    r = _same(run, "sync", fast_expected=True)
    assert "Codex CLI: no logs found" in r.out


def test_the_constants_the_fast_path_repeats() -> None:
    from tracker.ledger.costing import FINGERPRINT_KEY
    from tracker.sources import get_source

    assert fast.FINGERPRINT_KEY == FINGERPRINT_KEY
    for name, label in fast.SOURCE_LABELS.items():
        assert get_source(name).label == label


def test_walk_discovery_agrees_with_the_sources(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.sources import get_source, walk

    _logs(home)
    home.codex_log("archived_sessions/rollout-2026-01-01T00-00-00-x.jsonl", "")
    home.codex_log("sessions/2026/11/20/rollout-a.jsonl.zst", "")
    home.codex_log("archived_sessions/rollout-a.jsonl", "")
    env = {"CLAUDE_CONFIG_DIR": f" {home.claude}/ , {home.claude}/projects", "CODEX_HOME": f"{home.codex},~/nope"}
    for name, roots_fn, files_fn in (
        ("claude_code", walk.claude_roots, walk.claude_files),
        ("codex", walk.codex_roots, lambda r: list(walk.codex_files(r).values())),
    ):
        for e in (env, {}, {"XDG_CONFIG_HOME": "relative"}, {"XDG_CONFIG_HOME": str(home.root / "xdg")}):
            source = get_source(name)
            roots = source.roots(e, home.root)
            assert [str(r) for r in roots] == roots_fn(e, str(home.root))
            found = [r for r in roots if r.is_dir()]
            expected = {p for p, _st in source.discover_stats(found)}  # type: ignore[attr-defined]
            assert {p for p, _entry in files_fn([str(r) for r in found])} == expected


def test_default_data_dir_agrees_with_platformdirs(monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    from tracker.paths import APP_NAME, default_data_dir

    for xdg in ("", "/x/data", "  "):
        monkeypatch.setenv("XDG_DATA_HOME", xdg)
        assert default_data_dir() == platformdirs.user_data_dir(APP_NAME, appauthor=False)


# --- JSON ----------------------------------------------------------------------------------------------


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_json_values)
def test_dumps_is_orjson_indent_2(value: object) -> None:
    assert dumps(value) == orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


@given(st.integers(0, 10**15))
def test_dumps_costs_like_orjson(pico: int) -> None:
    from tracker.cli.output import usd

    assert dumps({"cost_usd": usd(pico)}) == orjson.dumps({"cost_usd": usd(pico)}, option=orjson.OPT_INDENT_2).decode()


# --- imports -------------------------------------------------------------------------------------------

HEAVY = ("click", "rich", "orjson", "dataclasses", "typing", "enum", "pathlib", "sqlite_utils", "genai_prices",
         "tracker.ledger.importer", "tracker.pricing.catalog", "tracker.domain", "tracker.cli.app")


def _loaded_after(args: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from tracker.cli import main\n"
        f"rc = main({args!r})\n"
        "assert rc == 0, rc\n"
        "sys.stdout.flush()\n"
        "sys.stderr.write('\\n'.join(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return set(out.stderr.split())


def test_fast_report_imports_nothing_heavy(home: Home, run: Any) -> None:
    _logs(home)
    assert run("sync", mode="click").code == 0
    loaded = _loaded_after(["report", "weekly", "--format", "json", "--tz", "Europe/Paris", "--source", "codex"])
    assert "tracker.cli.fast" in loaded
    assert not loaded & set(HEAVY)


def _sources_package_is_light() -> bool:
    code = "import sys, tracker.sources; sys.exit(bool({'typing', 'pathlib', 'tracker.domain'} & set(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run([sys.executable, "-c", code], env=env, check=False).returncode == 0


@pytest.mark.xfail(
    not _sources_package_is_light(), strict=True,
    reason="tracker/sources/__init__.py imports pathlib, typing and tracker.domain at run time (not this module's)",
)
def test_fast_sync_imports_nothing_heavy(home: Home, run: Any) -> None:
    _logs(home)
    assert run("sync", mode="click").code == 0
    loaded = _loaded_after(["sync", "-q"])
    assert "tracker.cli.fast" in loaded
    assert not loaded & set(HEAVY)


def test_fast_sync_imports_nothing_heavy_of_its_own(home: Home, run: Any) -> None:
    """What the fast sync imports beyond what ``import tracker.sources`` itself brings in."""
    _logs(home)
    assert run("sync", mode="click").code == 0
    code = "import sys, tracker.sources; sys.stdout.write('\\n'.join(sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    package = set(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                 check=True).stdout.split())
    loaded = _loaded_after(["sync", "-q"]) - package
    assert "tracker.cli.fast" in loaded
    assert not loaded & set(HEAVY)


# --- folder cache --------------------------------------------------------------------------------------


def _later(monkeypatch: pytest.MonkeyPatch, seconds: int = 10) -> None:
    """Pretend listings happen ``seconds`` after now, so freshly made test folders count as settled."""
    from tracker.sources import walk

    real = walk.time.time_ns
    monkeypatch.setattr(walk.time, "time_ns", lambda: real() + seconds * 10**9)


def _bump(folder: Path) -> None:
    """Give ``folder`` a later mtime, as a change made after the settle window would have."""
    st = folder.stat()
    os.utime(folder, ns=(st.st_atime_ns, st.st_mtime_ns + 5 * 10**9))


def test_cached_walk_equals_full_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.sources.walk import DirCache, walk_files

    _later(monkeypatch)
    top = tmp_path / "projects"
    for rel in ("a/1.jsonl", "a/2.jsonl", "a/notes.txt", "b/c/3.jsonl", "b/4.jsonl"):
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_text("x")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "5.jsonl").write_text("x")
    (top / "link").symlink_to(tmp_path / "elsewhere")
    cache_file = str(tmp_path / "cache.bin")

    def both() -> tuple[set[str], set[str]]:
        cache = DirCache.load(cache_file)
        cached = {p for p, _e in walk_files(str(top), (".jsonl",), cache=cache)}
        cache.save(cache_file)
        return cached, {p for p, _e in walk_files(str(top), (".jsonl",))}

    cached, full = both()
    assert cached == full and len(full) == 5
    folders = (top / "a", top / "b", top / "b/c", tmp_path / "elsewhere")  # not top: it holds a link
    assert set(DirCache.load(cache_file).entries) == {(str(d), (".jsonl",)) for d in folders}
    for change in ("add", "remove", "new_dir", "rename"):
        if change == "add":
            (top / "a" / "6.jsonl").write_text("x")
            _bump(top / "a")
        elif change == "remove":
            (top / "b" / "c" / "3.jsonl").unlink()
            _bump(top / "b" / "c")
        elif change == "new_dir":
            (top / "a" / "d").mkdir()
            (top / "a" / "d" / "7.jsonl").write_text("x")
            _bump(top / "a")
        else:
            (top / "a" / "1.jsonl").rename(top / "a" / "1b.jsonl")
            _bump(top / "a")
        cached, full = both()
        assert cached == full, change


def test_recently_changed_folders_are_not_cached(tmp_path: Path) -> None:
    from tracker.sources.walk import DirCache, walk_files

    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "1.jsonl").write_text("x")
    cache = DirCache()
    walk_files(str(tmp_path / "p"), (".jsonl",), cache=cache)
    assert cache.used == {}  # changed a moment ago: a change in the same timestamp tick could go unseen


def test_a_damaged_cache_file_is_ignored(tmp_path: Path) -> None:
    from tracker.sources.walk import DirCache

    bad = tmp_path / "cache.bin"
    bad.write_bytes(b"\x00garbage")
    assert DirCache.load(str(bad)).entries == {}
    assert DirCache.load(str(tmp_path / "none.bin")).entries == {}


def test_fast_sync_uses_the_folder_cache(home: Home, run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.sources import walk

    _logs(home)
    _later(monkeypatch)
    assert run("sync", mode="click").code == 0
    _same(run, "sync", fast_expected=True)  # lists everything, saves the cache
    assert (home.data / "folder-cache.bin").stat().st_mode & 0o777 == 0o600  # it names the projects
    listed: list[str] = []
    real_scandir = os.scandir

    def counting(path: Any) -> Any:
        listed.append(str(path))
        return real_scandir(path)

    monkeypatch.setattr(walk.os, "scandir", counting)
    assert run("sync", mode="fast") is not None
    monkeypatch.setattr(walk.os, "scandir", real_scandir)
    assert listed == []  # every folder came from the cache (the flat archive folder does not exist here)
    # a new file in a cached folder changes the folder: found, so the full path runs
    home.claude_log("-home-u-app/new.jsonl", UNPRICED_LINE)
    _bump(home.claude / "projects" / "-home-u-app")
    assert run("sync", mode="fast") is None
    assert run("sync", mode="click").code == 0
    _same(run, "sync", fast_expected=True)


# --- the change rule -----------------------------------------------------------------------------------


def test_change_rule(tmp_path: Path) -> None:
    from tracker.ledger.changes import GREW, NEW, RESET, UNCHANGED, classify, nothing_to_read, same_as_cursors

    f = tmp_path / "a.jsonl"
    f.write_text("x\n")
    st = f.stat()
    ident = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    assert classify(str(f), st, None) == NEW
    assert classify(str(f), st, (*ident, 2)) == UNCHANGED
    assert classify(str(f), st, (st.st_dev, st.st_ino, 1, st.st_mtime_ns, 1)) == GREW
    assert classify(str(f), st, (st.st_dev, st.st_ino, 9, st.st_mtime_ns, 9)) == RESET  # shrank
    assert classify(str(f), st, (st.st_dev, st.st_ino + 1, *ident[2:], 2)) == RESET  # replaced
    assert classify(str(f) + ".zst", st, (st.st_dev, st.st_ino, 1, st.st_mtime_ns, 1)) == RESET
    listed: list[tuple[str, os.stat_result | OSError]] = [(str(f), st)]
    row = (str(f), *ident)
    gone = (str(tmp_path / "gone.jsonl"), 1, 2, 3, 4)
    cases = [
        ([row], True),
        ([], False),  # new
        ([row, gone], False),  # vanished and not yet marked
        ([(str(f), st.st_dev, st.st_ino, 1, st.st_mtime_ns)], False),  # grew
    ]
    for stored, expected in cases:
        assert same_as_cursors(listed, sorted(stored)) == expected
        cursors = {r[0]: (*r[1:], r[3]) for r in stored}
        assert nothing_to_read(listed, cursors, set()) == expected  # the strict form agrees here
    assert not same_as_cursors([(str(f), OSError("denied"))], [row])
