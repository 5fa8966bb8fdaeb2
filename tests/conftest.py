"""Shared helpers: an isolated home (no real agent logs), and running the CLI in-process."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Home:
    """A fake user home with Claude Code and Codex folders and a data dir, wired through the environment."""

    root: Path
    claude: Path  # CLAUDE_CONFIG_DIR
    codex: Path  # CODEX_HOME
    data: Path

    def claude_log(self, rel: str, content: bytes | str) -> Path:
        p = self.claude / "projects" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode() if isinstance(content, str) else content)
        return p

    def codex_log(self, rel: str, content: bytes | str) -> Path:
        p = self.codex / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode() if isinstance(content, str) else content)
        return p

    def copy_fixture(self, fixture: str, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / fixture, dest)
        return dest


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Home]:
    h = Home(
        tmp_path / "home", tmp_path / "home" / ".claude", tmp_path / "home" / ".codex", tmp_path / "data"
    )
    for d in (h.root, h.claude / "projects", h.codex / "sessions"):
        d.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HOME", str(h.root))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(h.claude))
    monkeypatch.setenv("CODEX_HOME", str(h.codex))
    monkeypatch.setenv("TOKEN_LEDGER_DATA_DIR", str(h.data))
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("TOKEN_LEDGER_DEBUG", raising=False)
    yield h


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """Run ``token-ledger ARGS`` in-process; returns exit code, stdout and stderr."""
    from tracker.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            rc = main(list(args))
            code = 0 if rc is None else int(rc)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
