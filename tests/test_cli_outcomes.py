"""``token-ledger outcome|project|rule``: round trips through the command line, and one-line errors.

The ledger is the one of tests/test_attribution.py (hand-computed figures are in its docstring).
"""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import Home
from test_attribution import _git, build, claude_line


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _projects(cli: Any) -> dict[str, dict[str, Any]]:
    r = cli("project", "list", "--format", "json")
    assert r.code == 0, r.err
    return {p["name"]: p for p in r.json()}


@pytest.fixture
def ledger(home: Home, cli: Any) -> Any:
    conn = build(home, cli)
    conn.close()
    return home


def test_outcome_add_edit_delete_list(ledger: Home, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    r = cli("outcome", "add", "CSV export", "--kind", "shipped_feature", "--at", "2026-11-12 12:00",
            "--project", "app", "--value", "300.10", "--hours", "1.5", "--link", "https://example.com/pr/7",
            "--notes", "first cut", "--tag", "billing", "--tag", "export")
    assert r.code == 0, r.err
    assert r.out.startswith("Logged outcome #1: 'CSV export', shipped_feature, 2026-11-12 12:00, project app, "
                            "value $300.10, 1.5 h saved")
    # no --project: the project of the most recent usage (2026-11-18 in /work/app), said so
    r = cli("outcome", "add", "Fix login", "--kind", "bug_fix", "--at", "2026-11-16")
    assert r.code == 0, r.err
    assert "Project 'app' was guessed from the most recent usage" in r.out
    listed = cli("outcome", "list", "--format", "json").json()
    assert [(o["id"], o["title"], o["project"], o["value_usd"], o["hours_saved"], o["tags"]) for o in listed] == [
        (1, "CSV export", "app", 300.1, "1.5", ["billing", "export"]),
        (2, "Fix login", "app", None, None, []),
    ]
    assert [o["attributed_spend_usd"] for o in listed] == [0.6, 0.6]  # see test_attribution
    assert listed[0]["at"] == "2026-11-12T12:00:00+00:00"

    r = cli("outcome", "edit", "1", "--title", "CSV export v2", "--status", "redone", "--value", "", "--tag", "")
    assert r.code == 0, r.err
    one = cli("outcome", "list", "--format", "json").json()[0]
    assert (one["title"], one["status"], one["value_usd"], one["hours_saved"], one["tags"], one["link"]) == (
        "CSV export v2", "redone", None, "1.5", [], "https://example.com/pr/7")

    r = cli("outcome", "list", "--status", "kept", "--format", "csv")
    assert r.out.splitlines()[0].startswith("id,title,kind,at,project,client,value_usd,hours_saved,status")
    assert [line.split(",")[1] for line in r.out.splitlines()[1:]] == ["Fix login"]
    r = cli("outcome", "list", "--since", "2026-11-13", "--until", "2026-11-30")
    assert "Fix login" in r.out and "CSV export" not in r.out

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    r = cli("outcome", "delete", "2")  # no --yes and no answer on stdin: nothing is deleted
    assert r.code == 1 and "Nothing deleted: no answer" in _one_line(r.err)
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    r = cli("outcome", "delete", "2")
    assert r.code == 1 and _one_line(r.err) == "token-ledger: Nothing deleted."
    r = cli("outcome", "delete", "2", "--yes")
    assert r.code == 0 and "Deleted outcome #2: Fix login" in r.out
    assert [o["id"] for o in cli("outcome", "list", "--format", "json").json()] == [1]
    assert _projects(cli)["app"]["outcomes"] == 1


def test_rule_changes_project_spend(ledger: Home, cli: Any) -> None:
    before = _projects(cli)
    assert (before["app"]["estimated_usd"], before["src"]["estimated_usd"]) == (1.8, 0.6)
    assert before["(unattributed)"]["reported_usd"] == 4.15
    r = cli("rule", "add", "app", "--path-prefix", "/work/app")
    assert r.code == 0, r.err
    assert "Added rule #1: --path-prefix /work/app -> project 'app'" in r.out
    assert cli("rule", "add", "app", "--anthropic-workspace", "wrkspc_1").code == 0
    after = _projects(cli)
    assert "src" not in after
    assert (after["app"]["estimated_usd"], after["app"]["reported_usd"], after["app"]["rules"]) == (2.4, 2.5, 2)
    assert after["(unattributed)"]["reported_usd"] == 1.65
    rules = cli("rule", "list", "--format", "json").json()
    assert rules == [{"id": 1, "project": "app", "kind": "path_prefix", "pattern": "/work/app"},
                     {"id": 2, "project": "app", "kind": "anthropic_workspace", "pattern": "wrkspc_1"}]
    assert cli("rule", "remove", "1").code == 0
    assert _projects(cli)["src"]["estimated_usd"] == 0.6


def test_project_client_and_rename(ledger: Home, cli: Any) -> None:
    r = cli("project", "set-client", "docs", "ACME")
    assert r.code == 0 and "now belongs to client 'ACME'" in r.out
    assert _projects(cli)["docs"]["client"] == "ACME"
    r = cli("project", "rename", "docs", "website")
    assert r.code == 0 and "1 path rule added" in r.out  # the default project's folder now maps to the new name
    projects = _projects(cli)
    assert "docs" not in projects
    assert (projects["website"]["client"], projects["website"]["estimated_usd"]) == ("ACME", 1.2)
    assert cli("project", "set-client", "website", "--none").code == 0
    assert _projects(cli)["website"]["client"] is None
    table = cli("project", "list").out
    assert "website" in table and "Estimated" in table


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("outcome", "add", "x", "--kind", "feature"), "unknown kind 'feature'; use one of: shipped_feature"),
        (("outcome", "add", "x", "--value", "-5"), "--value '-5' is negative"),
        (("outcome", "add", "x", "--value", "ten"), "--value 'ten' is not an amount of dollars"),
        (("outcome", "add", "x", "--at", "next week"), "--at 'next week' is not a date or time"),
        (("outcome", "add", "x", "--status", "done"), "unknown status 'done'"),
        (("outcome", "add", "x", "--project", "ap"), "unknown project 'ap': did you mean 'app'"),
        (("outcome", "add", "x", "--hours", "-1"), "--hours '-1' is negative"),
        (("outcome", "edit", "42", "--title", "y"), "no outcome #42"),
        (("outcome", "delete", "42", "--yes"), "no outcome #42"),
        (("outcome", "list", "--since", "yesterday"), "--since 'yesterday' is not a date"),
        (("rule", "add", "app"), "give exactly one of --path-prefix"),
        (("rule", "add", "app", "--path-prefix", "rel/dir"), "is not an absolute path"),
        (("rule", "remove", "7"), "no rule #7"),
        (("project", "rename", "nope", "x"), "unknown project 'nope'"),
        (("project", "rename", "app", "docs"), "project 'docs' already exists"),
        (("project", "set-client", "app"), "give a CLIENT, or --none"),
    ],
)
def test_mistakes_are_one_line(ledger: Home, cli: Any, args: tuple[str, ...], needle: str) -> None:
    r = cli(*args)
    assert r.code == 1
    assert needle in _one_line(r.err)


def test_duplicate_rule(ledger: Home, cli: Any) -> None:
    assert cli("rule", "add", "app", "--account", "work").code == 0
    r = cli("rule", "add", "other", "--account", "work")
    assert r.code == 1
    assert "a rule for account 'work' already exists (#1, project 'app'); remove it first" in _one_line(r.err)


def test_nothing_yet(home: Home, cli: Any) -> None:
    assert "No outcomes yet" in cli("outcome", "list").out
    assert "No projects yet" in cli("project", "list").out
    assert "No rules" in cli("rule", "list").out
    assert cli("outcome", "list", "--format", "json").json() == []
    assert not (home.data / "ledger.sqlite3").exists()  # listing creates no ledger
    r = cli("outcome", "add", "Wrote the plan", "--kind", "decision")
    assert r.code == 0 and "No project: there is no usage to guess it from" in r.out


@pytest.mark.skipif(shutil.which("git") is None, reason="the git command is not installed")
def test_default_project_from_a_real_worktree(home: Home, cli: Any, tmp_path: Path) -> None:
    repo = tmp_path / "repos" / "shop"
    repo.mkdir(parents=True)
    _git("init", "-q", cwd=repo)
    (repo / "f").write_text("x")
    _git("add", "f", cwd=repo)
    _git("commit", "-q", "-m", "c", cwd=repo)
    worktree = tmp_path / "repos" / "shop-wt"
    _git("worktree", "add", "-q", str(worktree), cwd=repo)
    home.claude_log("p/s.jsonl", claude_line(1, "2026-11-10T10:00:00.000Z", str(repo))
                    + claude_line(2, "2026-11-11T10:00:00.000Z", str(worktree)))
    assert cli("sync", "--no-accounts").code == 0
    projects = _projects(cli)
    assert list(projects) == ["shop"]
    assert projects["shop"]["estimated_usd"] == 1.2
    r = cli("outcome", "add", "Shipped")
    assert "Project 'shop' was guessed" in r.out
    assert subprocess.run(["git", "worktree", "list"], cwd=repo, capture_output=True, check=True).stdout.count(
        b"\n") == 2
    conn = sqlite3.connect(home.data / "ledger.sqlite3")
    try:
        assert conn.execute("SELECT count(*) FROM projects").fetchone()[0] == 1  # stored when first used
    finally:
        conn.close()
