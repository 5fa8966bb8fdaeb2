"""Outcome suggestions from local git history (opt-in): real git repositories made in tmp_path.

The repository ``shop``:

| time (UTC)       | what                                                     | suggested as                  |
|------------------|----------------------------------------------------------|-------------------------------|
| 2026-11-09 09:00 | first commit                                             | nothing                       |
| 2026-11-12 10:00 | merge "Merge pull request #12 from me/csv-export", body  | pr_merged "CSV export (#12)"  |
|                  | "CSV export"; lightweight tag v0.9 on it (its date)      | shipped_feature "Tagged v0.9" |
| 2026-11-14 08:00 | annotated tag v1.0 "First release"                       | shipped_feature "Tagged v1.0: |
|                  |                                                          | First release"                |
| 2026-11-16 12:00 | merge "Merge branch 'fix-login'"                         | pr_merged, same title         |

Usage: agent requests in ``shop/src`` (project ``shop``), in a plain folder (no repository) and in a folder gone
from disk: only ``shop`` is read.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import Home

from tracker.settings import Settings, load_settings, save_settings
from tracker.store import open_store

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="the git command is not installed")
UTC_ZONE = ZoneInfo("UTC")


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def _git(repo: Path, *args: str, when: str = "2026-11-09T09:00:00Z") -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when, "GIT_CONFIG_NOSYSTEM": "1",
           "HOME": str(repo.parent)}
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main",
                    "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", *args],
                   cwd=repo, check=True, capture_output=True, env=env)


def make_repo(root: Path) -> Path:
    repo = root / "shop"
    (repo / "src").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / "README").write_text("x")
    _git(repo, "add", "README")
    _git(repo, "commit", "-q", "-m", "first")
    _git(repo, "checkout", "-q", "-b", "csv-export")
    (repo / "csv.py").write_text("y")
    _git(repo, "add", "csv.py")
    _git(repo, "commit", "-q", "-m", "csv", when="2026-11-11T09:00:00Z")
    _git(repo, "checkout", "-q", "main")
    _git(repo, "merge", "-q", "--no-ff", "csv-export", "-m", "Merge pull request #12 from me/csv-export",
         "-m", "CSV export", when="2026-11-12T10:00:00Z")
    _git(repo, "tag", "v0.9", when="2026-11-13T10:00:00Z")
    _git(repo, "tag", "-a", "v1.0", "-m", "First release", when="2026-11-14T08:00:00Z")
    _git(repo, "checkout", "-q", "-b", "fix-login")
    (repo / "login.py").write_text("z")
    _git(repo, "add", "login.py")
    _git(repo, "commit", "-q", "-m", "fix", when="2026-11-15T09:00:00Z")
    _git(repo, "checkout", "-q", "main")
    _git(repo, "merge", "-q", "--no-ff", "fix-login", when="2026-11-16T12:00:00Z")
    return repo


def make_ledger(db: Path, paths: list[str]) -> None:
    with open_store(db) as store, store.transaction() as conn:
        for i, p in enumerate(paths):
            conn.execute("INSERT INTO usage (source, dedup_key, ts_ms, project_path, cost_kind, cost_pusd) "
                         "VALUES ('claude_code', ?, ?, ?, 'estimated', 1000)", (f"k{i}", _ms("2026-11-10T10:00"), p))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    repo = make_repo(tmp_path / "work")
    plain = tmp_path / "work" / "notes"
    plain.mkdir()
    data = tmp_path / "data"
    make_ledger(data / "ledger.sqlite3", [str(repo / "src"), str(repo), str(plain), str(tmp_path / "gone")])
    yield repo, data


def _scan(data: Path, since: str | None = None) -> Any:
    from tracker.suggestions import suggest

    with open_store(data / "ledger.sqlite3") as store:
        return suggest(store.conn, data, UTC_ZONE, None if since is None else _ms(since))


def test_merges_and_tags_of_the_repositories_in_usage(world: tuple[Path, Path]) -> None:
    repo, data = world
    scan = _scan(data)
    assert scan.repos == [str(repo)]  # the plain folder and the gone one are not read
    assert scan.problems == []
    got = [(s.kind, s.title, s.project, s.at_ms) for s in scan.suggestions]
    assert got == [
        ("pr_merged", "Merge branch 'fix-login'", "shop", _ms("2026-11-16T12:00")),
        ("shipped_feature", "Tagged v1.0: First release", "shop", _ms("2026-11-14T08:00")),
        ("pr_merged", "CSV export (#12)", "shop", _ms("2026-11-12T10:00")),
        ("shipped_feature", "Tagged v0.9", "shop", _ms("2026-11-12T10:00")),
    ]
    keys = {s.key for s in scan.suggestions}
    assert len(keys) == 4 and keys == {s.key for s in _scan(data).suggestions}  # stable
    since = _scan(data, "2026-11-13T00:00")
    assert [s.title for s in since.suggestions] == ["Merge branch 'fix-login'", "Tagged v1.0: First release"]


def test_rules_decide_the_project_and_logged_or_dismissed_ones_are_skipped(world: tuple[Path, Path]) -> None:
    from tracker.outcomes import OutcomeFields, add_outcome, add_rule
    from tracker.suggestions import accept, dismiss, load_dismissed

    repo, data = world
    with open_store(data / "ledger.sqlite3") as store, store.transaction() as conn:
        add_rule(conn, "Shop app", "path_prefix", str(repo))
        # logged by hand the same day with the same title: not suggested again
        add_outcome(conn, OutcomeFields(title="csv  export (#12)", at_ms=_ms("2026-11-12T23:00"),
                                        project="Shop app"))
    scan = _scan(data)
    assert {s.project for s in scan.suggestions} == {"Shop app"}
    assert "CSV export (#12)" not in [s.title for s in scan.suggestions]
    first, second = scan.suggestions[0], scan.suggestions[1]
    dismiss(data, first)
    assert first.key in load_dismissed(data)
    with open_store(data / "ledger.sqlite3") as store, store.transaction() as conn:
        oid = accept(conn, second)
        row = conn.execute("SELECT title, kind, at_ms, status FROM outcomes WHERE id = ?", (oid,)).fetchone()
    assert row == ("Tagged v1.0: First release", "shipped_feature", _ms("2026-11-14T08:00"), "kept")
    assert [s.title for s in _scan(data).suggestions] == ["Tagged v0.9"]
    (data / "suggestions-dismissed.json").write_text("{not json")  # damaged: nothing dismissed, no crash
    assert [s.title for s in _scan(data).suggestions] == ["Merge branch 'fix-login'", "Tagged v0.9"]


def test_a_repository_git_cannot_read_is_a_note_not_a_failure(world: tuple[Path, Path]) -> None:
    repo, data = world
    shutil.rmtree(repo / ".git" / "objects")  # a broken repository
    scan = _scan(data)
    assert scan.suggestions == []
    assert len(scan.problems) == 1 and scan.problems[0].startswith(f"{repo}: git could not read it")


def test_merge_title() -> None:
    from tracker.suggestions import merge_title

    assert merge_title("Merge pull request #7 from a/b", "\n  Fix   the login \nmore\n") == "Fix the login (#7)"
    assert merge_title("Merge pull request #7 from a/b", "") == "Merge pull request #7 from a/b"
    assert merge_title("Merge branch 'x' into main", "") == "Merge branch 'x' into main"


def test_pick() -> None:
    from tracker.suggestions import Suggestion, pick

    items = [Suggestion("abc123", "p", "/r", "c1", "pr_merged", "A", 1),
             Suggestion("def456", "p", "/r", "c2", "pr_merged", "B", 0)]
    assert pick(items, "2").title == "B"
    assert pick(items, "def4").title == "B"
    with pytest.raises(ValueError, match="no suggestion #3; there are 2"):
        pick(items, "3")


def test_the_setting_defaults_off_and_round_trips(tmp_path: Path) -> None:
    assert Settings().suggest_from_git is False
    save_settings(tmp_path, Settings(suggest_from_git=True))
    assert load_settings(tmp_path).suggest_from_git is True
    (tmp_path / "settings.json").write_text(json.dumps({"suggest_from_git": "yes"}))
    assert load_settings(tmp_path).suggest_from_git is False  # only a real true turns it on


# ---- the CLI ---------------------------------------------------------------------------------------------------


def test_cli_off_reads_nothing_then_enable_list_accept_dismiss(home: Home, cli: Any, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker import suggestions

    repo = make_repo(tmp_path / "work")
    make_ledger(home.data / "ledger.sqlite3", [str(repo / "src")])

    def no_git(*_a: object, **_k: object) -> None:
        raise AssertionError("git must not run while suggestions are off")

    with monkeypatch.context() as m:
        m.setattr(suggestions, "_git", no_git)
        r = cli("outcome", "suggest")
    assert r.code == 0
    assert "are off. Turn them on with `token-ledger outcome suggest --enable`" in r.out
    assert not (home.data / "settings.json").exists()

    r = cli("outcome", "suggest", "--enable")
    assert r.code == 0 and load_settings(home.data).suggest_from_git is True
    r = cli("outcome", "suggest", "--since", "2026-11-01", "--format", "json")
    assert r.code == 0, r.err
    listed = r.json()
    assert [(x["n"], x["title"], x["kind"], x["project"]) for x in listed] == [
        (1, "Merge branch 'fix-login'", "pr_merged", "shop"),
        (2, "Tagged v1.0: First release", "shipped_feature", "shop"),
        (3, "CSV export (#12)", "pr_merged", "shop"),
        (4, "Tagged v0.9", "shipped_feature", "shop"),
    ]
    assert listed[0]["at"] == "2026-11-16T12:00:00+00:00"
    r = cli("outcome", "suggest", "--since", "2026-11-01", "--accept", "3")
    assert r.code == 0, r.err
    assert r.out.startswith("Logged outcome #1: 'CSV export (#12)', pr_merged, 2026-11-12 10:00, project shop")
    r = cli("outcome", "suggest", "--since", "2026-11-01", "--dismiss", "1")
    assert r.code == 0 and "Dismissed: \"Merge branch 'fix-login'\" (shop)" in r.out
    r = cli("outcome", "suggest", "--since", "2026-11-01")
    assert r.code == 0
    assert "Tagged v1.0" in r.out and "Tagged v0.9" in r.out and "fix-login" not in r.out and "CSV" not in r.out
    r = cli("outcome", "suggest", "--since", "2026-11-01", "--accept", "9")
    assert (r.code, r.err.strip()) == (1, "token-ledger: no suggestion #9; there are 2 (see `token-ledger outcome "
                                          "suggest`)")
    r = cli("outcome", "suggest", "--accept", "1", "--dismiss", "2")
    assert r.code == 1 and "at most one of" in r.err
    r = cli("outcome", "suggest", "--since", "2026-12-01")
    assert r.code == 0 and r.out.startswith("No suggestions since 2026-12-01 (1 repository)")
    r = cli("outcome", "suggest", "--disable")
    assert r.code == 0 and load_settings(home.data).suggest_from_git is False
