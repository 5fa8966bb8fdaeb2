"""Shared pieces of the corpus generator: the profile, timestamps, the truth ledger, buffered output, text."""

from __future__ import annotations

import base64
import math
import random
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

# ----------------------------------------------------------------------------------------------------
# Profile (scale 1.0). Everything else is derived from these numbers.

GIB = 1 << 30
CLAUDE_BYTES = int(1.2 * GIB)
CLAUDE_SESSIONS = 3600
BIG_FILE_BYTES = 160_000_000
CODEX_BYTES = 200_000_000
CODEX_SESSIONS = 700
PROJECTS = 40

END_MS = int(datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC).timestamp() * 1000)
SPAN_MS = 90 * 86_400_000
START_MS = END_MS - SPAN_MS
DAY_MS = 86_400_000

CLAUDE_MAIN_MODELS = (
    ("claude-opus-4-6", 0.5),
    ("claude-sonnet-4-5-20250929", 0.4),
    ("claude-haiku-4-5-20251001", 0.1),
)
CLAUDE_SUB_MODELS = ("claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929")
LONG_CONTEXT_MODEL = "claude-sonnet-4-5-20250929"
CODEX_MODELS = ("gpt-5-codex", "gpt-5.1-codex")
# Versions before 2.1.97 wrote streaming placeholders (partial usage) on the first block lines of a message.
PLACEHOLDER_VERSIONS = ("2.1.72", "2.1.88", "2.1.90")
MODERN_VERSIONS = ("2.1.98", "2.1.104", "2.1.112", "2.1.120")
CONTEXT_CAP = (
    175_000  # Claude prompts stay under 200k in the main mass (see the module docstring of compare.py)
)

FIELDS = (
    "input_tokens",
    "cache_creation_tokens",
    "cache_creation_1h_tokens",
    "cache_read_tokens",
    "output_tokens",
    "reasoning_tokens",
)

_dumps = orjson.dumps


def iso(ms: int) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, the shape both agents write."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def day_of(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


# ----------------------------------------------------------------------------------------------------
# Truth and output plumbing


class Ledger:
    """Deduplicated totals of one source, per UTC day and model, plus record counts."""

    def __init__(self) -> None:
        self.cells: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0] * 7))

    def add(self, ts_ms: int, model: str, vec: tuple[int, int, int, int, int, int]) -> None:
        cell = self.cells[day_of(ts_ms)][model]
        for i, v in enumerate(vec):
            cell[i] += v
        cell[6] += 1

    @staticmethod
    def _fields(cell: list[int]) -> dict[str, int]:
        out = dict(zip(FIELDS, cell[:6], strict=True))
        out["total_tokens"] = (
            out["input_tokens"]
            + out["cache_creation_tokens"]
            + out["cache_read_tokens"]
            + out["output_tokens"]
        )
        out["records"] = cell[6]
        return out

    def to_json(self) -> dict[str, Any]:
        totals = [0] * 7
        by_day: dict[str, Any] = {}
        for day in sorted(self.cells):
            day_cell = [0] * 7
            by_model = {}
            for model in sorted(self.cells[day]):
                cell = self.cells[day][model]
                by_model[model] = self._fields(cell)
                day_cell = [a + b for a, b in zip(day_cell, cell, strict=True)]
            by_day[day] = {**self._fields(day_cell), "by_model": by_model}
            totals = [a + b for a, b in zip(totals, day_cell, strict=True)]
        return {"totals": self._fields(totals), "by_day": by_day}


class Out:
    """An output file written in big buffered chunks."""

    FLUSH_AT = 8 << 20

    def __init__(self, path: Path, stats: Stats) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.f = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.buf: list[bytes] = []
        self.pending = 0
        self.size = 0
        self.stats = stats

    def add(self, line: bytes) -> None:
        self.buf.append(line)
        self.buf.append(b"\n")
        n = len(line) + 1
        self.pending += n
        self.size += n
        if self.pending >= self.FLUSH_AT:
            self.flush()

    def obj(self, obj: Any) -> None:
        self.add(_dumps(obj))

    def flush(self) -> None:
        self.f.write(b"".join(self.buf))
        self.buf.clear()
        self.pending = 0

    def close(self) -> None:
        self.flush()
        self.f.close()
        self.stats.files += 1
        self.stats.bytes += self.size
        self.stats.largest = max(self.stats.largest, self.size)


@dataclass
class Stats:
    files: int = 0
    bytes: int = 0
    largest: int = 0
    raw_usage_lines: int = 0


class Random2(random.Random):
    """``random.Random`` with the helpers the generators need."""

    def lognorm_int(self, median: float, sigma: float, lo: int, hi: int) -> int:
        return max(lo, min(hi, int(self.lognormvariate(math.log(median), sigma))))

    def hexid(self, n: int) -> str:
        return f"{self.getrandbits(4 * n):0{n}x}"

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.getrandbits(128), version=4))

    def uuid7(self, ms: int) -> str:
        """A UUID v7 (time-ordered), the shape of Codex thread ids."""
        raw = (ms << 80) | (7 << 76) | (self.getrandbits(12) << 64) | (2 << 62) | self.getrandbits(62)
        return str(uuid.UUID(int=raw))

    def b62(self, n: int) -> str:
        alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        return "".join(self.choices(alphabet, k=n))


class TextPool:
    """Cheap realistic text: slices of one big pre-generated pool (prose, code, quotes, newlines, UTF-8)."""

    SIZE = 4 << 20

    def __init__(self, rng: Random2) -> None:
        syllables = ["ka", "lo", "ver", "tin", "ex", "po", "ra", "mon", "dis", "qu", "ent", "al", "ist"]
        words = ["".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(4000)]
        words += [
            "def",
            "return",
            "self",
            "import",
            "None",
            "{",
            "}",
            "=>",
            "const",
            "\n",
            "\n    ",
            '"',
            "—",
            "é",
        ]
        parts: list[str] = []
        size = 0
        while size < self.SIZE:
            chunk = " ".join(rng.choices(words, k=2000))
            parts.append(chunk)
            size += len(chunk) + 1
        self.text = "\n".join(parts)
        self.b64 = base64.b64encode(rng.randbytes(self.SIZE // 2)).decode()
        self.rng = rng

    def take(self, n: int) -> str:
        return self._slice(self.text, n)

    def take_b64(self, n: int) -> str:
        return self._slice(self.b64, n)

    def _slice(self, pool: str, n: int) -> str:
        if n >= len(pool):
            return (pool * (n // len(pool) + 1))[:n]
        start = self.rng.randrange(0, len(pool) - n)
        return pool[start : start + n]


def lognormal_weights(rng: Random2, n: int, sigma: float) -> Iterator[float]:
    raw = [rng.lognormvariate(0, sigma) for _ in range(n)]
    mean = sum(raw) / n
    return (r / mean for r in raw)
