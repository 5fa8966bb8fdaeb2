"""A real `token-ledger sync`, worker processes and all, killed with SIGKILL at several moments.

Syncing again must end with exactly the generator's truth: nothing lost, nothing counted twice. The corpus is
large enough (> 16 MB) for the import to run in worker processes, which the whole process group loses.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
FIELDS = ("input_tokens", "cache_creation_tokens", "cache_read_tokens", "output_tokens", "reasoning_tokens")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("kill-corpus")
    gen = [sys.executable, str(REPO / "bench" / "generate_corpus.py"), "--out", str(out), "--scale", "0.02"]
    subprocess.run([*gen, "--seed", "11", "--force"], check=True, capture_output=True)
    return out, json.loads((out / "truth.json").read_text())


def _env(corpus: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "CODEX_", "TOKEN_LEDGER_"))}
    env.update(
        HOME=str(home), CLAUDE_CONFIG_DIR=str(corpus / "claude"), CODEX_HOME=str(corpus / "codex"), TZ="UTC"
    )
    return env


def _argv(data: Path) -> list[str]:
    return [sys.executable, "-m", "tracker", "--data-dir", str(data), "sync", "-q"]


def _sync_to_end(data: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        _argv(data), env=env, cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr


def _totals(data: Path) -> dict[str, dict[str, int]]:
    conn = sqlite3.connect(data / "ledger.sqlite3")
    sums = ", ".join(f"sum({f})" for f in FIELDS)
    rows = conn.execute(f"SELECT source, count(*), {sums} FROM usage GROUP BY source").fetchall()
    conn.close()
    return {src: dict(zip(("records", *FIELDS), map(int, vals), strict=True)) for src, *vals in rows}


def _truth(truth: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {src: {k: t["totals"][k] for k in ("records", *FIELDS)} for src, t in truth["sources"].items()}


def test_sigkill_at_any_moment_then_resync_gives_the_truth(
    corpus: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    root, truth = corpus
    env = _env(root, tmp_path / "home")
    (tmp_path / "home").mkdir()

    started = time.monotonic()
    _sync_to_end(tmp_path / "clean", env)
    duration = time.monotonic() - started
    assert _totals(tmp_path / "clean") == _truth(truth)

    killed = 0
    for i, fraction in enumerate((0.15, 0.35, 0.55, 0.75, 0.9)):
        data = tmp_path / f"killed-{i}"
        proc = subprocess.Popen(
            _argv(data),
            env=env,
            cwd=REPO,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(duration * fraction)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its workers, mid-import
            killed += 1
        proc.wait(timeout=60)
        _sync_to_end(data, env)
        assert _totals(data) == _truth(truth), f"killed at {fraction:.0%} of a clean sync"
    assert killed >= 3, "the syncs finished before they could be killed: the corpus is too small"
