"""Helpers shared by the Codex source tests (no tests here): build a CODEX_HOME from fixtures and sync it."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from tracker.domain import TokenCounts, UsageRecord
from tracker.sources.codex import SOURCE

FIXTURES = Path(__file__).parent / "fixtures" / "codex"


def sample(name: str) -> Path:
    """A fixture by its short name: ``edge_reemit-and-null-info__constructed`` etc."""
    return FIXTURES / f"codex__{name}.jsonl"


def install(home: Path, rel: str, src: Path | str | bytes) -> Path:
    """Put a copy of ``src`` (a file, or raw content) at ``home/rel``."""
    dest = home / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(src, Path):
        shutil.copyfile(src, dest)
    else:
        dest.write_bytes(src.encode() if isinstance(src, str) else src)
    return dest


def rollout(day: str, time: str, uuid: str) -> str:
    """``sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl`` for a day ``YYYY-MM-DD`` and a time ``hh-mm-ss``."""
    y, m, d = day.split("-")
    return f"sessions/{y}/{m}/{d}/rollout-{day}T{time}-{uuid}.jsonl"


def parse_all(paths: Iterable[Path], seen: set[str] | None = None) -> dict[Path, list[UsageRecord]]:
    """Parse files in order with one shared ``seen`` set, as the importer does."""
    seen = set() if seen is None else seen
    out: dict[Path, list[UsageRecord]] = {}
    for p in paths:
        res = SOURCE.parse(p, 0, None, 1, seen)
        assert res.malformed == 0, res.malformed_examples
        out[p] = res.records
    return out


def sync_home(home: Path, seen: set[str] | None = None) -> dict[Path, list[UsageRecord]]:
    roots = SOURCE.roots({"CODEX_HOME": str(home)}, Path("/nonexistent-home"))
    return parse_all(SOURCE.discover(roots), seen)


def total(records: Iterable[UsageRecord]) -> TokenCounts:
    fields = (
        "input_tokens",
        "cache_creation_tokens",
        "cache_read_tokens",
        "output_tokens",
        "reasoning_tokens",
    )
    sums = dict.fromkeys(fields, 0)
    for r in records:
        for f in fields:
            sums[f] += getattr(r.tokens, f)
    return TokenCounts(**sums)


def raw_input(t: TokenCounts) -> int:
    """Codex's own ``input_tokens``: the whole prompt, cached and written tokens included."""
    return t.input_tokens + t.cache_read_tokens + t.cache_creation_tokens
