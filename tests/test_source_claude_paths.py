"""Where Claude Code transcripts are looked for: roots from the environment, discovery under them."""

from __future__ import annotations

import os
from pathlib import Path

from tracker.sources.claude_code import SOURCE


def test_default_roots_are_home_and_xdg(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert SOURCE.roots({}, home) == [home / ".claude", home / ".config" / "claude"]
    xdg = tmp_path / "xdg"
    assert SOURCE.roots({"XDG_CONFIG_HOME": str(xdg)}, home) == [home / ".claude", xdg / "claude"]
    # A relative XDG_CONFIG_HOME is invalid per the XDG spec and ignored.
    assert SOURCE.roots({"XDG_CONFIG_HOME": "rel/dir"}, home)[1] == home / ".config" / "claude"


def test_claude_config_dir_is_a_trimmed_comma_list_and_exclusive(tmp_path: Path) -> None:
    home = tmp_path / "home"
    projects_only = tmp_path / "c" / "projects"
    projects_only.mkdir(parents=True)
    env = {
        "CLAUDE_CONFIG_DIR": f" {tmp_path / 'a'} , ,~/b,{projects_only},{tmp_path / 'a'},",
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
    }
    # Only the listed dirs (no ~/.claude, no XDG), `~` expanded, the `projects` dir itself accepted,
    # duplicates and empty entries dropped; dirs that do not exist are still returned.
    assert SOURCE.roots(env, home) == [tmp_path / "a", home / "b", tmp_path / "c"]


def test_blank_claude_config_dir_counts_as_unset(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert SOURCE.roots({"CLAUDE_CONFIG_DIR": " , "}, home) == [home / ".claude", home / ".config" / "claude"]


def test_config_dir_named_projects_that_holds_projects_is_kept(tmp_path: Path) -> None:
    cfg = tmp_path / "projects"
    (cfg / "projects").mkdir(parents=True)
    assert SOURCE.roots({"CLAUDE_CONFIG_DIR": str(cfg)}, tmp_path) == [cfg]


def touch(path: Path, text: str = "{}\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_discover_walks_sessions_and_subagents(tmp_path: Path) -> None:
    root = tmp_path / "cfg"
    p = root / "projects" / "-home-dev-app"
    want = [
        touch(p / "5e551011.jsonl"),
        touch(p / "5e551011" / "subagents" / "agent-a1b2.jsonl"),
        touch(p / "5e551011" / "subagents" / "agent-aside_question-x.jsonl"),
        touch(p / "agent-6cce90d0.jsonl"),  # 2.0.24 - 2.0.x flat sub-agent file
        touch(p / "early-session" / "chat.jsonl"),  # May 2025 layout
        touch(root / "projects" / "-other" / "77.jsonl"),
    ]
    touch(p / "5e551011" / "subagents" / "agent-a1b2.meta.json")
    touch(p / "5e551011" / "tool-results" / "out.txt")
    touch(p / "sessions-index.json")
    touch(root / "history.jsonl")  # outside projects/: not a transcript
    found = SOURCE.discover([root])
    assert found == sorted((Path(os.path.realpath(w)) for w in want), key=str)  # sorted as strings


def test_discover_dedupes_symlinked_roots_files_and_loops(tmp_path: Path) -> None:
    real = tmp_path / "real"
    f = touch(real / "projects" / "-p" / "s1.jsonl")
    alias = tmp_path / "alias"
    alias.symlink_to(real, target_is_directory=True)
    other = tmp_path / "other"
    (other / "projects" / "-q").mkdir(parents=True)
    (other / "projects" / "-q" / "link.jsonl").symlink_to(f)  # the same file again
    (other / "projects" / "-q" / "loop").symlink_to(other / "projects", target_is_directory=True)
    (other / "projects" / "-q" / "dangling.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    found = SOURCE.discover([real, alias, other])
    assert found == [Path(os.path.realpath(f))]


def test_discover_skips_missing_and_unusable_roots(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file-root"
    touch(not_a_dir / "projects", "not a directory")  # `projects` is a file here
    ok = touch(tmp_path / "ok" / "projects" / "-p" / "s.jsonl")
    found = SOURCE.discover([tmp_path / "missing", not_a_dir, tmp_path / "ok"])
    assert found == [Path(os.path.realpath(ok))]


def test_discover_survives_an_unreadable_dir(tmp_path: Path) -> None:
    root = tmp_path / "cfg"
    ok = touch(root / "projects" / "-p" / "s.jsonl")
    locked = root / "projects" / "-locked"
    touch(locked / "hidden.jsonl")
    locked.chmod(0)
    try:
        found = SOURCE.discover([root])
    finally:
        locked.chmod(0o755)
    assert Path(os.path.realpath(ok)) in found  # root can read it anyway; others get no error either way
