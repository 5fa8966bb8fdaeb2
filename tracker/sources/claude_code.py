"""Claude Code transcripts (``projects/**/*.jsonl``) as a usage source.

Claude Code writes one JSONL transcript per session (and one per sub-agent) under ``<config>/projects/``.
Only lines whose ``message.usage`` is an object carry usage: assistant lines, and ``progress`` lines that
nest a sub-agent's assistant message at ``data.message``. One API response is usually written several
times (one line per content block, streaming placeholders, resumed/forked/sub-agent copies), so every
record carries a ``dedup_key`` (the response's ``message.id``) and a ``rank``; the store keeps the
highest-ranked copy per key (spec ``local-logs.md`` §1.4). This module never touches the database.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import orjson
from msgspec import UNSET, UnsetType

from tracker.domain import ParseResult, SourceKind, UsageRow
from tracker.sources import LogSource, walk
from tracker.sources.lines import LineScanner
from tracker.sources.walk import Found, with_stats

# ccusage's pre-filter: every usage-bearing line contains this exact byte sequence (Claude Code writes compact
# JSON, and inside JSON strings the quotes would be escaped), so lines without it are never parsed.
USAGE_MARKER = b'"usage":{'
SYNTHETIC_MODEL = "<synthetic>"
MAX_EXAMPLES = 5

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_RANK_TOTAL_CAP = 2**60
_SOURCE = SourceKind.CLAUDE_CODE.value


class _Malformed(Exception):
    """A complete line that cannot be understood; the message is the reason shown to people."""


class ClaudeCodeSource:
    """Reads Claude Code transcripts. Stateless: everything a parse needs comes in through its arguments."""

    name: str = SourceKind.CLAUDE_CODE.value
    label: str = "Claude Code"

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return claude_roots(env, home)

    def discover(self, roots: list[Path]) -> list[Path]:
        return [Path(p) for p, _st in self.discover_stats(roots)]

    def discover_stats(self, roots: list[Path]) -> list[tuple[str, os.stat_result | OSError]]:
        """:meth:`discover` with each file's ``stat`` (one system call per file instead of two; no Paths)."""
        return with_stats(discover_transcripts(roots))

    def parse(
        self, path: Path, offset: int, state: dict[str, object] | None, first_line_no: int, seen: set[str]
    ) -> ParseResult:
        return parse_transcript(path, offset, state, first_line_no)


SOURCE: LogSource = ClaudeCodeSource()


# --- where the files are ------------------------------------------------------------------------------


def claude_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    """Config dirs to read: ``CLAUDE_CONFIG_DIR`` entries only when set, else ``~/.claude`` and XDG's.

    The rules live in :mod:`tracker.sources.walk`, shared with the CLI's fast path.
    """
    return [Path(p) for p in walk.claude_roots(env, str(home))]


def discover_transcripts(roots: list[Path]) -> list[Found]:
    """Every ``projects/**/*.jsonl`` under ``roots`` (sub-agent files included), by real path, sorted."""
    return walk.claude_files([str(r) for r in roots])


def session_from_path(path: Path) -> str | None:
    """The session id implied by a transcript's place under ``projects/`` (spec §1.1, three layouts)."""
    parts = path.parts
    stem = path.name[:-6] if path.name.endswith(".jsonl") else path.stem
    if "projects" not in parts:  # reached through an odd symlink: judge by the nearest names only
        return parts[-3] if len(parts) >= 3 and parts[-2] == "subagents" else stem or None
    rel = parts[len(parts) - parts[::-1].index("projects") :]
    if len(rel) >= 4 and rel[-2] == "subagents":
        return rel[-3]  # projects/<p>/<session>/subagents/<agent>.jsonl
    if len(rel) >= 3 and rel[-2] != "subagents":
        return rel[-2]  # very early layout: projects/<p>/<session>/<file>.jsonl
    return stem or None  # projects/<p>/<session>.jsonl (and flat agent-*.jsonl)


# --- parsing ------------------------------------------------------------------------------------------


def parse_transcript(
    path: Path, offset: int, state: dict[str, Any] | None, first_line_no: int
) -> ParseResult:
    """Usage rows of the complete lines of ``path`` from byte ``offset`` (see :class:`LogSource`).

    Malformed lines are counted and skipped, never raised. ``OSError`` (a file that vanished or cannot be
    read) propagates, so that the importer can report the file.
    """
    scanner = LineScanner(path, offset, markers=(USAGE_MARKER,), first_line_no=first_line_no)
    result = ParseResult()
    rows = result.rows
    ctx = _FileContext(session_from_path(path), state)
    row_of = ctx.row
    for line in scanner:
        try:
            row = row_of(line)
        except _Malformed as exc:
            result.malformed += 1
            if len(result.malformed_examples) < MAX_EXAMPLES:
                result.malformed_examples.append(f"{path}:{scanner.line_no()}: {exc}")
            continue
        if row is not None:
            rows.append(row)
    result.new_offset = scanner.end_offset
    result.lines = scanner.lines
    result.bytes_read = scanner.bytes_read
    result.state = ctx.state()
    return result


class _FileContext:
    """What the lines of one file share: the path-derived session and the last ``cwd`` seen."""

    __slots__ = ("cwd", "path_session", "same")

    def __init__(self, path_session: str | None, state: Mapping[str, Any] | None) -> None:
        self.path_session = path_session
        cwd = state.get("cwd") if state else None
        self.cwd: str | None = cwd if isinstance(cwd, str) else None
        # One object per distinct string of the file (model, session, cwd, version, speed): rows then share
        # them, and pickling a worker's rows writes each once (half the bytes, half the time to send them).
        self.same: dict[str, str] = {}

    def state(self) -> dict[str, Any] | None:
        return {"cwd": self.cwd} if self.cwd is not None else None

    def row(self, line: bytes) -> UsageRow | None:
        """The usage row of one line, None for a line without usage (or a skipped one).

        The typed decoder (:func:`_fast_row`) reads only the fields a row needs and skips the rest (message
        content, tool results: most of the bytes) without building objects, about three times faster than
        decoding everything. Any line it cannot take as is (invalid JSON, an unexpected type anywhere in the
        fields it reads, a count too large for 64 bits) goes through the general path below, which decides
        and words every problem.
        """
        try:
            return _fast_row(self, line, _decode_line(line))
        except (msgspec.ValidationError, msgspec.DecodeError, _Fallback):
            return self.general_row(line)

    def general_row(self, line: bytes) -> UsageRow | None:
        """:meth:`row` for any line: decodes all of it and words every problem (raises ``_Malformed``)."""
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            if not line.strip():
                return None  # whitespace only: as blank as an empty line
            raise _Malformed(f"not valid JSON ({str(exc).split(':', 1)[0]})") from None
        if type(obj) is not dict:
            raise _Malformed("not a JSON object")
        env, msg = _usage_envelope(obj)
        if msg is None:
            # The marker matched something else, e.g. a Task tool result's own "usage" object.
            return None
        usage = msg["usage"]
        if type(usage) is not dict:
            raise _Malformed("message.usage is not an object")
        model = msg.get("model")
        if model == SYNTHETIC_MODEL:
            return None  # locally generated (API errors, notices): no real API request behind it
        return self._build(line, obj, env, msg, model if type(model) is str and model else None)

    def _build(
        self, line: bytes, obj: dict[str, Any], env: dict[str, Any], msg: dict[str, Any], model: str | None
    ) -> UsageRow:
        usage: dict[str, Any] = msg["usage"]  # checked to be a dict by row()
        get = env.get
        ts_ms = _ts_ms(get("timestamp", obj.get("timestamp")))
        cwd = get("cwd") or obj.get("cwd")
        if type(cwd) is str:
            self.cwd = cwd
        session = get("sessionId") or obj.get("sessionId")
        if not session or type(session) is not str:
            session = self.path_session
        inp, creation, one_hour, read, out = _tokens(usage)
        sidechain = get("isSidechain") is True
        speed = usage.get("speed")
        has_speed = type(speed) is str
        # Spec §1.4 winner order: a non-sidechain copy, then the larger total (streaming placeholders carry
        # partial counts), then a copy that has `usage.speed`. One int, so the store compares it in SQL.
        total = inp + creation + read + out
        rank = ((not sidechain) << 62) | (min(total, _RANK_TOTAL_CAP) << 1) | has_speed
        request_id = get("requestId")
        # `version` that is not semver: ccusage drops such rows; we keep them because they are real usage
        # (the only known case is a test fixture, and dropping a paid request would undercount).
        version = get("version") or obj.get("version")
        cost = get("costUSD")
        return (
            _SOURCE, _dedup_key(msg.get("id"), session, get("uuid"), line), ts_ms, model, session, self.cwd,
            inp, creation, one_hour, read, out, 0, int(sidechain), speed if has_speed else None,
            request_id if type(request_id) is str and request_id else None,
            version if type(version) is str else None,
            None if cost is None else _decimal_text(cost), rank,
        )


# --- the typed fast path ------------------------------------------------------------------------------
#
# Scalar fields are typed ``Any``, so any JSON value decodes as orjson would decode it. The objects the rules
# walk through are typed: one holding something else (a rare shape) raises ``ValidationError`` and the line
# takes the general path. ``UNSET`` marks an absent key where the rules tell it apart from ``null``
# (``env.get("timestamp", obj.get("timestamp"))``, and ``"usage" in message``).


class _Fallback(Exception):
    """The fast path cannot decide this line exactly as the general path would: let the general path do it."""


class _Breakdown(msgspec.Struct):
    ephemeral_1h_input_tokens: Any = UNSET
    ephemeral_5m_input_tokens: Any = UNSET


class _Usage(msgspec.Struct):
    input_tokens: Any = None
    cache_creation_input_tokens: Any = None
    cache_read_input_tokens: Any = None
    output_tokens: Any = None
    cache_creation: _Breakdown | None = None
    speed: Any = None


class _Message(msgspec.Struct):
    id: Any = None
    model: Any = None
    usage: _Usage | UnsetType | None = UNSET


class _Envelope(msgspec.Struct):
    message: _Message | None = None
    data: _Data | None = None
    timestamp: Any = UNSET
    cwd: Any = None
    sessionId: Any = None  # the JSON keys, hence camelCase
    isSidechain: Any = None
    requestId: Any = None
    version: Any = None
    uuid: Any = None
    costUSD: Any = None


class _Data(msgspec.Struct):
    message: _Envelope | None = None


_decode_line = msgspec.json.Decoder(_Envelope).decode
_MAX_COUNT = 2**64 - 1  # orjson decodes larger integers as floats (which count as 0): the general path decides


def _fast_row(ctx: _FileContext, line: bytes, obj: _Envelope) -> UsageRow | None:
    """:meth:`_FileContext.row` of a decoded line: the same rules (see :func:`_usage_envelope`, ``_build``)."""
    env, msg = obj, obj.message
    if msg is None or msg.usage is UNSET:
        msg = None
        data = obj.data
        if data is not None:
            nested = data.message
            if nested is not None and nested.message is not None and nested.message.usage is not UNSET:
                env, msg = nested, nested.message
        if msg is None:
            return None  # the marker matched something else, e.g. a Task tool result's own "usage" object
    usage = msg.usage
    if type(usage) is not _Usage:
        raise _Fallback  # null: the general path words it
    model = msg.model
    if model == SYNTHETIC_MODEL:
        return None
    same = ctx.same.setdefault
    ts = env.timestamp
    if ts is UNSET:
        ts = obj.timestamp
    ts_ms = _ts_ms(None if ts is UNSET else ts)
    cwd = env.cwd or obj.cwd
    if type(cwd) is str:
        ctx.cwd = same(cwd, cwd)
    session = env.sessionId or obj.sessionId
    session = same(session, session) if session and type(session) is str else ctx.path_session
    inp, creation, one_hour, read, out = _fast_tokens(usage)
    sidechain = env.isSidechain is True
    speed = usage.speed
    has_speed = type(speed) is str
    total = inp + creation + read + out
    rank = ((not sidechain) << 62) | (min(total, _RANK_TOTAL_CAP) << 1) | has_speed
    request_id = env.requestId
    version = env.version or obj.version
    cost = env.costUSD
    return (
        _SOURCE, _dedup_key(msg.id, session, env.uuid, line), ts_ms,
        same(model, model) if type(model) is str and model else None, session, ctx.cwd,
        inp, creation, one_hour, read, out, 0, int(sidechain), same(speed, speed) if has_speed else None,
        request_id if type(request_id) is str and request_id else None,
        same(version, version) if type(version) is str else None,
        None if cost is None else _decimal_text(cost), rank,
    )


def _fast_count(value: object) -> int:
    if type(value) is int:
        if value > _MAX_COUNT:
            raise _Fallback
        return value if value > 0 else 0
    return 0


def _fast_tokens(usage: _Usage) -> tuple[int, int, int, int, int]:
    """:func:`_tokens` of a typed ``usage``."""
    breakdown = usage.cache_creation
    if type(breakdown) is _Breakdown and (
        breakdown.ephemeral_1h_input_tokens is not UNSET or breakdown.ephemeral_5m_input_tokens is not UNSET
    ):
        one_hour = _fast_count(breakdown.ephemeral_1h_input_tokens)
        creation = _fast_count(breakdown.ephemeral_5m_input_tokens) + one_hour
    else:
        one_hour = 0
        creation = _fast_count(usage.cache_creation_input_tokens)
    return (
        _fast_count(usage.input_tokens), creation, one_hour,
        _fast_count(usage.cache_read_input_tokens), _fast_count(usage.output_tokens),
    )


def _dedup_key(message_id: object, session: str | None, uuid: object, line: bytes) -> str:
    """One key per API response (spec §1.4): ``message.id``, session-scoped for non-Anthropic ids."""
    if type(message_id) is str and message_id:
        if message_id.startswith("msg_"):
            return message_id  # Anthropic (and Vertex/Bedrock msg_vrtx_/msg_bdrk_) ids are global
        # Gateway ids (chatcmpl-…, or anything else) need not be unique across sessions. Scoping by the
        # sessionId *field* still collapses resumed copies, which keep their original sessionId.
        return f"{session}:{message_id}"
    if type(uuid) is str and uuid:
        return f"uuid:{uuid}"  # VSCode reopen replays identical lines with the same uuid
    # Nothing identifies the request: only a byte-identical replay of the line collapses with it.
    return "line:" + hashlib.blake2b(line, digest_size=16).hexdigest()


def _usage_envelope(obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(envelope, message) of a line: itself, or the assistant message a progress line nests.

    The nested envelope is used for timestamp, requestId, isSidechain and costUSD (as ccusage does).
    """
    msg = obj.get("message")
    if type(msg) is dict and "usage" in msg:
        return obj, msg
    data = obj.get("data")
    if type(data) is dict:
        nested = data.get("message")
        if type(nested) is dict:
            inner = nested.get("message")
            if type(inner) is dict and "usage" in inner:
                return nested, inner
    return obj, None


def _count(value: object) -> int:
    return value if type(value) is int and value > 0 else 0


def _tokens(usage: dict[str, Any]) -> tuple[int, int, int, int, int]:
    """(input, cache writes, of which 1-hour writes, cache reads, output) of a ``message.usage``."""
    breakdown = usage.get("cache_creation")
    if type(breakdown) is dict and (
        "ephemeral_1h_input_tokens" in breakdown or "ephemeral_5m_input_tokens" in breakdown
    ):
        # With a TTL breakdown, writes are its sum (what ccusage counts; equal to the flat field in every
        # real log seen), so totals stay identical to ccusage's even if the two ever disagree.
        one_hour = _count(breakdown.get("ephemeral_1h_input_tokens"))
        creation = _count(breakdown.get("ephemeral_5m_input_tokens")) + one_hour
    else:
        one_hour = 0  # no breakdown (before ~2.0): every write was a 5-minute write
        creation = _count(usage.get("cache_creation_input_tokens"))
    # `iterations` is ignored: its meaning is undocumented and the top-level counts are the totals.
    return (
        _count(usage.get("input_tokens")), creation, one_hour,
        _count(usage.get("cache_read_input_tokens")), _count(usage.get("output_tokens")),
    )


def _ts_ms(value: object) -> int:
    """Milliseconds since the epoch of an ISO-8601 timestamp; naive times are UTC."""
    if type(value) is not str:
        raise _Malformed("no timestamp")
    try:
        # Python 3.11's fromisoformat takes Claude's `2026-03-11T15:52:12.033Z` directly, in C.
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise _Malformed(f"bad timestamp {value[:40]!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    # Integer arithmetic on the timedelta: float seconds * 1000 can land 1 ms low.
    return (dt - _EPOCH) // _ONE_MS


def _decimal_text(value: object) -> str | None:
    """``costUSD`` as a plain decimal string (the shortest repr of the JSON number), None when absent."""
    if type(value) is int:
        return str(value) if value >= 0 else None
    if type(value) is float and value >= 0:
        return format(Decimal(repr(value)), "f")
    return None
