#!/usr/bin/env python3
"""Generate a synthetic Claude Code + Codex CLI log corpus with known true totals (issue 2 §7).

The corpus follows the real-world profile of ccusage's own benchmark: at ``--scale 1`` about 1.2 GiB of Claude
Code transcripts in several thousand files (one of them over 150 MB) and about 200 MB of Codex rollouts. Lines
have the real shapes (see ``/work/shared/specs/log-samples/``): big user/tool-result lines, assistant lines
with content text and full modern ``usage`` objects, Codex ``session_meta``/``turn_context``/``response_item``
lines and cumulative ``token_count`` events.

Every dedup trap of issue 2 §3 is present, and the generator knows the truth because it decides which copies
are duplicates as it writes them:

* Claude Code: one message on several lines (one per content block); streaming placeholder copies with
  smaller usage (the largest copy wins); the same message in other files (resume and fork copies, sub-agent
  ``progress`` copies in the parent, ``/btw`` side-question replays with a new ``requestId``); ``<synthetic>``
  rows.
* Codex: re-emitted identical snapshots; ``info: null`` events; zero-component ``last_token_usage`` rows;
  forked children (``forked_from_id``) that replay the parent's rows then continue; ``thread_spawn``
  sub-agents that replay the parent's rows; the older totals-only format (no ``last_token_usage``).

Layout of ``--out``: ``claude/projects/<encoded-cwd>/<session>.jsonl`` (+ ``<session>/subagents/*.jsonl``), so
``CLAUDE_CONFIG_DIR=<out>/claude``; ``codex/sessions/YYYY/MM/DD/rollout-*.jsonl`` and
``codex/archived_sessions/*.jsonl``, so ``CODEX_HOME=<out>/codex``; ``truth.json`` with the deduplicated
totals per source, per UTC day and per model.

Only the standard library and orjson are used. The output depends only on ``--seed`` and ``--scale``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import orjson

# run as a script: the corpus package sits next to it
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus.claude import ClaudeGen, claude_plans
from corpus.codex import CodexGen, codex_kinds
from corpus.common import (
    CODEX_BYTES,
    CODEX_SESSIONS,
    DAY_MS,
    END_MS,
    FIELDS,
    PROJECTS,
    START_MS,
    Ledger,
    Random2,
    Stats,
    TextPool,
    iso,
    lognormal_weights,
)


def generate(out: Path, seed: int, scale: float) -> dict[str, Any]:
    rng = Random2(seed)
    text = TextPool(rng)
    projects = [
        f"/home/dev/code/{rng.choice(('api', 'web', 'infra', 'ml', 'tools'))}-{i}"
        for i in range(max(3, round(PROJECTS * min(1.0, scale * 20))))
    ]
    started = time.monotonic()

    claude_ledger, claude_stats = Ledger(), Stats()
    claude = ClaudeGen(rng, text, out / "claude", claude_ledger, claude_stats)
    for plan in claude_plans(rng, scale):
        claude.run(plan, rng.choice(projects))

    codex_ledger, codex_stats = Ledger(), Stats()
    codex = CodexGen(rng, text, out / "codex", codex_ledger, codex_stats)
    n = max(6, round(CODEX_SESSIONS * scale))
    per = max(6_000, int(CODEX_BYTES * scale / 1.25 / n))
    for kind, weight in zip(codex_kinds(rng, n), lognormal_weights(rng, n, 0.9), strict=True):
        start = rng.randint(START_MS, END_MS - 3 * DAY_MS)
        codex.session(start, rng.choice(projects), max(3_000, int(per * weight)), kind)

    truth = {
        "generator": {
            "seed": seed,
            "scale": scale,
            "end": iso(END_MS),
            "seconds": round(time.monotonic() - started, 1),
        },
        "token_fields": "input_tokens: non-cached input; output_tokens: with reasoning (tracker/domain.py)",
        "sources": {
            "claude_code": {**claude_ledger.to_json(), **source_stats(claude_stats)},
            "codex": {**codex_ledger.to_json(), **source_stats(codex_stats)},
        },
        "traps": {**dict(sorted(claude.traps.items())), **dict(sorted(codex.traps.items()))},
        "long_context": {**claude.long_context, "days": sorted(set(claude.long_context["days"]))},
        "ccusage_known_deviations": {
            "claude_code": {
                **dict(zip(FIELDS, claude.deviation, strict=True)),
                "why": "copies without requestId: ccusage keys message.id:requestId and counts them twice",
                "cells": claude.deviation_cells,
            }
        },
    }
    (out / "truth.json").write_bytes(orjson.dumps(truth, option=orjson.OPT_INDENT_2) + b"\n")
    return truth


def source_stats(stats: Stats) -> dict[str, int]:
    return {
        "files": stats.files,
        "bytes": stats.bytes,
        "largest_file_bytes": stats.largest,
        "raw_usage_lines": stats.raw_usage_lines,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / ".cache" / "corpus")
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1.0 = the real-world profile; 0.0005 = tiny"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing corpus")
    args = parser.parse_args(argv)
    if args.out.exists():
        if not args.force:
            print(f"{args.out} exists; use --force to replace it", file=sys.stderr)
            return 1
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    truth = generate(args.out, args.seed, args.scale)
    for name, src in truth["sources"].items():
        print(
            f"{name}: {src['files']} files, {src['bytes'] / 1e6:.1f} MB "
            f"(largest {src['largest_file_bytes'] / 1e6:.1f} MB), "
            f"{src['raw_usage_lines']} raw usage lines -> {src['totals']['records']} records"
        )
    print(f"generated in {truth['generator']['seconds']} s into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
