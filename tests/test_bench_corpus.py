"""The benchmark corpus generator (bench/generate_corpus.py) tells the truth about the corpus it writes.

A tiny corpus is generated, then recounted here, independently of the generator's bookkeeping, by reading the
files back with the dedup rules of local-logs.md §1.4 (Claude Code) and §2.4 (Codex). The recount must equal
``truth.json`` exactly, and every trap of issue 2 §3 must be present in the files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "bench" / "generate_corpus.py"
SCALE = "0.0005"
FIELDS = (
    "input_tokens",
    "cache_creation_tokens",
    "cache_creation_1h_tokens",
    "cache_read_tokens",
    "output_tokens",
    "reasoning_tokens",
)


def generate(out: Path, seed: int = 7) -> dict[str, Any]:
    subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(out), "--scale", SCALE, "--seed", str(seed)],
        check=True,
        capture_output=True,
    )
    return json.loads((out / "truth.json").read_text())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench") / "corpus"
    return out, generate(out)


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


class Tally:
    """Totals per UTC day and model, in the shape of truth.json."""

    def __init__(self) -> None:
        self.cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 7)

    def add(self, ts: str, model: str, vec: tuple[int, ...]) -> None:
        cell = self.cells[(ts[:10], model)]
        for i, v in enumerate(vec):
            cell[i] += v
        cell[6] += 1

    def by_day(self) -> dict[str, dict[str, list[int]]]:
        out: dict[str, dict[str, list[int]]] = defaultdict(dict)
        for (day, model), cell in self.cells.items():
            out[day][model] = cell
        return out


def truth_cells(source: dict[str, Any]) -> dict[str, dict[str, list[int]]]:
    return {
        day: {model: [m[f] for f in FIELDS] + [m["records"]] for model, m in entry["by_model"].items()}
        for day, entry in source["by_day"].items()
    }


# -- Claude Code: dedupe globally by message.id, keep the largest-total copy, prefer a non-sidechain one


def claude_candidates(root: Path) -> list[dict[str, Any]]:
    """Every usage-bearing copy: assistant lines, and the assistant lines nested in progress lines."""
    found = []
    for path in sorted((root / "projects").rglob("*.jsonl")):
        for raw in jsonl(path):
            line = raw
            if raw.get("type") == "progress" and isinstance(raw.get("data", {}).get("message"), dict):
                line = raw["data"]["message"]  # a sub-agent response nested in the parent's file
            if line.get("type") == "assistant" and "usage" in line.get("message", {}):
                found.append(line)
    return found


def claude_recount(root: Path) -> Tally:
    best: dict[str, tuple[tuple[bool, int], dict[str, Any]]] = {}
    for line in claude_candidates(root):
        msg = line["message"]
        if msg["model"] == "<synthetic>":
            continue
        u = msg["usage"]
        total = (
            u["input_tokens"]
            + u["cache_creation_input_tokens"]
            + u["cache_read_input_tokens"]
            + u["output_tokens"]
        )
        rank = (not line.get("isSidechain", False), total)
        if msg["id"] not in best or rank > best[msg["id"]][0]:
            best[msg["id"]] = (rank, line)
    tally = Tally()
    for _, line in best.values():
        u = line["message"]["usage"]
        vec = (
            u["input_tokens"],
            u["cache_creation_input_tokens"],
            u["cache_creation"]["ephemeral_1h_input_tokens"],
            u["cache_read_input_tokens"],
            u["output_tokens"],
            0,
        )
        tally.add(line["timestamp"], line["message"]["model"], vec)
    return tally


# -- Codex: skip re-emits and already-seen (total, last) snapshots; usage = last, else the total's delta

VEC = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens")


def vec(usage: dict[str, int] | None) -> tuple[int, ...] | None:
    if not usage:
        return None
    v = tuple(usage.get(k, 0) for k in VEC)
    return v if any(v[:4]) else None


def codex_files(root: Path) -> list[Path]:
    files = [*root.glob("sessions/**/*.jsonl"), *root.glob("archived_sessions/*.jsonl")]
    stamp = re.compile(r"rollout-(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d)")
    return sorted(files, key=lambda p: (stamp.search(p.name).group(1), p.name))  # type: ignore[union-attr]


def codex_recount(root: Path) -> Tally:
    tally = Tally()
    seen: set[tuple[Any, Any]] = set()
    for path in codex_files(root):
        prev: tuple[int, ...] | None = None
        model = None
        for line in jsonl(path):
            payload = line["payload"]
            if line["type"] == "turn_context":
                model = payload["model"]
            if line["type"] != "event_msg" or payload.get("type") != "token_count" or not payload.get("info"):
                continue
            total = vec(payload["info"].get("total_token_usage"))
            last = vec(payload["info"].get("last_token_usage"))
            if total is not None and total == prev:
                continue
            if total is not None and (total, last) in seen:
                prev = total
                continue
            usage = last or tuple(max(a - b, 0) for a, b in zip(total or (), prev or (0,) * 5, strict=True))
            if total is not None:
                prev = total
                seen.add((total, last))
            if any(usage[:4]):
                assert model is not None
                tally.add(line["timestamp"], model, (usage[0] - usage[1], 0, 0, usage[1], usage[2], usage[3]))
    return tally


# -- tests ------------------------------------------------------------------------------------------


def test_claude_truth_equals_independent_recount(corpus: tuple[Path, dict[str, Any]]) -> None:
    out, truth = corpus
    assert claude_recount(out / "claude").by_day() == truth_cells(truth["sources"]["claude_code"])


def test_codex_truth_equals_independent_recount(corpus: tuple[Path, dict[str, Any]]) -> None:
    out, truth = corpus
    assert codex_recount(out / "codex").by_day() == truth_cells(truth["sources"]["codex"])


def test_totals_are_the_sum_of_days(corpus: tuple[Path, dict[str, Any]]) -> None:
    _, truth = corpus
    for source in truth["sources"].values():
        for f in (*FIELDS, "total_tokens", "records"):
            assert source["totals"][f] == sum(day[f] for day in source["by_day"].values())
        assert source["totals"]["records"] > 0


def test_every_trap_is_present(corpus: tuple[Path, dict[str, Any]]) -> None:
    out, truth = corpus
    traps = truth["traps"]
    for name in (
        "claude_multiline_messages",
        "claude_placeholder_lines",
        "claude_resume_files",
        "claude_fork_files",
        "claude_subagent_files",
        "claude_aside_files",
        "claude_synthetic_rows",
        "claude_copies_without_request_id",
        "codex_reemitted_events",
        "codex_info_null_events",
        "codex_fork_files",
        "codex_thread_spawn_files",
        "codex_totals_only_files",
        "codex_zero_component_rows",
        "codex_archived_files",
    ):
        assert traps.get(name, 0) > 0, name
    assert truth["long_context"]["requests"] > 0
    claude = (out / "claude" / "projects").rglob
    assert any(claude("subagents/agent-aside_question-*.jsonl"))
    assert any(p for p in claude("subagents/agent-*.jsonl") if "aside" not in p.name)
    codex = b"".join(p.read_bytes() for p in codex_files(out / "codex"))
    for marker in (b'"forked_from_id"', b'"thread_spawn"', b'"info":null', b'"model":"gpt-5.1-codex"'):
        assert marker in codex, marker
    assert any(out.joinpath("codex", "archived_sessions").iterdir())


def test_copies_really_duplicate(corpus: tuple[Path, dict[str, Any]]) -> None:
    """The naive sums are larger than the truth: the traps are not decorative."""
    out, truth = corpus
    raw_output = sum(line["message"]["usage"]["output_tokens"] for line in claude_candidates(out / "claude"))
    assert raw_output > 1.5 * truth["sources"]["claude_code"]["totals"]["output_tokens"]
    for source in truth["sources"].values():
        assert source["raw_usage_lines"] > source["totals"]["records"]


def test_claude_ccusage_deviation_is_recorded(corpus: tuple[Path, dict[str, Any]]) -> None:
    out, truth = corpus
    deviation = truth["ccusage_known_deviations"]["claude_code"]
    no_request_id = [
        line
        for line in claude_candidates(out / "claude")
        if "requestId" not in line and line["message"]["model"] != "<synthetic>"
    ]
    assert len(no_request_id) == truth["traps"]["claude_copies_without_request_id"]
    assert deviation["output_tokens"] == sum(
        line["message"]["usage"]["output_tokens"] for line in no_request_id
    )


def test_same_seed_same_bytes(tmp_path: Path, corpus: tuple[Path, dict[str, Any]]) -> None:
    out, _ = corpus
    again = tmp_path / "again"
    generate(again)

    def digest(root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*.jsonl")
        }

    assert digest(again) == digest(out)
    first, second = (json.loads((d / "truth.json").read_text()) for d in (out, again))
    first["generator"].pop("seconds")
    second["generator"].pop("seconds")
    assert first == second


def test_scale_one_profile() -> None:
    """At scale 1 the plan matches issue 2 §7: ~1.2 GiB of Claude logs with one file of at least 150 MB."""
    sys.path.insert(0, str(GENERATOR.parent))
    try:
        import generate_corpus as gen
    finally:
        sys.path.remove(str(GENERATOR.parent))
    plans = gen.claude_plans(gen.Random2(1), 1.0)
    assert 3000 <= len(plans) <= 10_000
    assert max(p.budget for p in plans) >= 150_000_000
    assert gen.CODEX_BYTES == 200_000_000


def test_token_ledger_imports_the_corpus_exactly(corpus: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """End to end: ``token-ledger sync`` and ``report daily`` on the tiny corpus give the truth."""
    out, truth = corpus
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),  # no real ~/.claude or ~/.codex may leak in
        "XDG_CONFIG_HOME": str(home / ".config"),
        "CLAUDE_CONFIG_DIR": str(out / "claude"),
        "CODEX_HOME": str(out / "codex"),
        "TZ": "UTC",
    }
    cli = [sys.executable, "-m", "tracker", "--data-dir", str(tmp_path / "ledger")]
    subprocess.run([*cli, "sync"], env=env, check=True, capture_output=True)
    for source, expected in truth["sources"].items():
        argv = [*cli, "report", "daily", "--format", "json", "--tz", "UTC", "--source", source]
        report = json.loads(subprocess.run(argv, env=env, check=True, capture_output=True).stdout)
        fields = (
            "input_tokens",
            "cache_creation_tokens",
            "cache_read_tokens",
            "output_tokens",
            "reasoning_tokens",
        )
        got = {row["period"]: {f: row[f] for f in (*fields, "records")} for row in report["rows"]}
        want = {day: {f: e[f] for f in (*fields, "records")} for day, e in expected["by_day"].items()}
        assert got == want, source
