"""Plain value types shared by every layer of Token Ledger.

This module imports nothing from the package, so every other module may import it. Token fields have the
same meaning for every source (see docs/cli.md):

* ``input_tokens``: input that was neither read from nor written to a prompt cache;
* ``cache_creation_tokens``: all cache writes (5-minute and 1-hour TTL together);
* ``cache_creation_1h_tokens``: the part of ``cache_creation_tokens`` written with a 1-hour TTL;
* ``cache_read_tokens``: cache hits;
* ``output_tokens``: all output, reasoning included;
* ``reasoning_tokens``: informational, already inside ``output_tokens``.

Money is never a float here: estimated costs are whole pico-dollars (1e-12 USD) so that sums are exact.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Final

PICO_PER_USD = 10**12


class CostKind(enum.StrEnum):
    """Where a cost figure comes from. Kinds are never summed together silently."""

    ESTIMATED = "estimated"  # computed from tokens and a dated price table (or logged by the agent)
    REPORTED = "reported"  # reported by the provider's own usage/cost API
    UNPRICED = "unpriced"  # the model has no known price: tokens are kept, the cost is unknown (not $0)


class SourceKind(enum.StrEnum):
    """Local usage sources. Provider APIs are added as accounts, not here."""

    CLAUDE_CODE = "claude_code"
    CODEX = "codex"


@dataclass(slots=True)  # not frozen: frozen __init__ costs ~1 µs per field, and millions are built
class TokenCounts:
    """Token counts of one API request (or of one aggregate)."""

    input_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_creation_1h_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total(self) -> int:
        """Billable total: the four disjoint fields (reasoning is inside output)."""
        return self.input_tokens + self.cache_creation_tokens + self.cache_read_tokens + self.output_tokens

    @property
    def prompt_tokens(self) -> int:
        """The whole prompt of the request: what long-context price tiers are measured on."""
        return self.input_tokens + self.cache_creation_tokens + self.cache_read_tokens

    def is_zero(self) -> bool:
        return self.total == 0 and self.reasoning_tokens == 0


@dataclass(slots=True)  # not frozen, for speed (see TokenCounts); treat as immutable
class UsageRecord:
    """One deduplicated unit of usage (normally one API request) read from a local agent log.

    ``dedup_key`` is unique within ``source`` across all files and all syncs; the store keeps one row per
    key. When a key is seen again, ``rank`` decides which copy is kept (higher wins; see each source).
    """

    source: str
    dedup_key: str
    ts_ms: int  # UTC, milliseconds since the epoch
    model: str | None
    tokens: TokenCounts
    session_id: str | None = None
    project_path: str | None = None  # the agent's working directory, when the log names it
    is_sidechain: bool = False
    speed: str | None = None  # e.g. "fast"/"standard" (Claude) or a service tier (Codex)
    request_id: str | None = None
    agent_version: str | None = None
    logged_cost_usd: str | None = None  # a cost the agent itself wrote (Claude Code <= 1.0.8), as a decimal
    rank: int = 0  # copy preference when the same dedup_key is seen twice; higher wins


@dataclass(slots=True)
class FileCursor:
    """How far a log file has been read. Committed in the same transaction as the rows it produced."""

    path: str
    source: str
    dev: int
    inode: int
    size: int
    mtime_ns: int
    offset: int  # byte offset just past the last complete (LF-terminated) line consumed
    lines: int = 0  # complete lines consumed so far (for line numbers in messages)
    state: dict[str, Any] | None = None  # parser state to resume from ``offset`` (JSON-serialisable)
    file_id: int | None = None


# The flat form of a UsageRecord, in the column order of the ``usage`` table (file and cost left out):
# source, dedup_key, ts_ms, model, session_id, project_path, input_tokens, cache_creation_tokens,
# cache_creation_1h_tokens, cache_read_tokens, output_tokens, reasoning_tokens, is_sidechain (0/1), speed,
# request_id, agent_version, logged_cost_usd, rank. Parsers produce rows, not objects: a tuple is several
# times cheaper to build and to pickle (parsing runs in worker processes), and rows go to SQLite as they are.
UsageRow = tuple[
    str, str, int, str | None, str | None, str | None, int, int, int, int, int, int, int,
    str | None, str | None, str | None, str | None, int,
]
# The estimated cost of a row: pico-USD or None (unpriced), cost kind, what priced it (see Costing.price).
RowCost = tuple[int | None, str, str | None]
# Indexes used outside the parsers (Final, so that mypy knows each field's type).
ROW_KEY: Final = 1
ROW_TS: Final = 2
ROW_PROJECT: Final = 5
ROW_RANK: Final = 17


def record_to_row(r: UsageRecord) -> UsageRow:
    t = r.tokens
    return (
        r.source, r.dedup_key, r.ts_ms, r.model, r.session_id, r.project_path,
        t.input_tokens, t.cache_creation_tokens, t.cache_creation_1h_tokens, t.cache_read_tokens,
        t.output_tokens, t.reasoning_tokens, int(r.is_sidechain), r.speed, r.request_id, r.agent_version,
        r.logged_cost_usd, r.rank,
    )


def row_to_record(row: UsageRow) -> UsageRecord:
    (source, key, ts_ms, model, session, project, i, cc, cc1h, cr, o, rs, side, speed, req, version, logged,
     rank) = row
    return UsageRecord(
        source=source, dedup_key=key, ts_ms=ts_ms, model=model, tokens=TokenCounts(i, cc, cc1h, cr, o, rs),
        session_id=session, project_path=project, is_sidechain=bool(side), speed=speed, request_id=req,
        agent_version=version, logged_cost_usd=logged, rank=rank,
    )


@dataclass(slots=True)
class ParseResult:
    """What a source produced from one file, from a cursor's offset up to the last complete line."""

    rows: list[UsageRow] = field(default_factory=list)  # the usage found, as flat rows (see UsageRow)
    new_offset: int = 0
    state: dict[str, Any] | None = None
    lines: int = 0  # complete lines consumed
    malformed: int = 0  # complete lines that could not be understood and were skipped
    malformed_examples: list[str] = field(default_factory=list)  # "path:line: reason", a few at most
    bytes_read: int = 0
    seen_keys: list[str] = field(default_factory=list)  # source-specific dedup context to persist
    usage_lines: int = 0  # usage-bearing lines read, before any dedup (set by the parse driver, for summaries)

    @property
    def records(self) -> list[UsageRecord]:
        """The rows as :class:`UsageRecord` objects (built on each call: for tests and small callers)."""
        return [row_to_record(r) for r in self.rows]


@dataclass(frozen=True, slots=True)
class Rates:
    """Prices of one model at one moment, in whole pico-dollars per token.

    ``tiers`` holds (threshold, Rates) pairs: when a request's prompt exceeds the threshold, every token of
    that request is billed at the tier's rates (Anthropic and OpenAI long-context pricing).
    """

    input: int
    output: int
    cache_read: int
    cache_write_5m: int
    cache_write_1h: int
    tiers: tuple[tuple[int, Rates], ...] = ()
