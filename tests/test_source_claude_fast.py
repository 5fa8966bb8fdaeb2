"""The typed fast decoder of Claude Code lines gives exactly what the general (decode-everything) path gives.

``_FileContext.row`` tries ``_fast_row`` first and falls back to ``general_row`` when the fast decoder cannot
take a line as is. Whenever the fast path answers, its answer (row, or no row, and the ``cwd`` it remembers)
must be the general path's: checked on every real and constructed sample line, on a generated corpus, and on
lines built by Hypothesis with odd types in every field the rules read.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.sources.claude_code import (
    USAGE_MARKER,
    _decode_line,
    _Fallback,
    _fast_row,
    _FileContext,
    _Malformed,
)

FIXTURES = Path(__file__).parent / "fixtures" / "claude"
ROOT = Path(__file__).resolve().parents[1]


def _outcome(fn: Any, line: bytes) -> tuple[str, object, object]:
    ctx = _FileContext("path-session", {"cwd": "/before"})
    try:
        return "row", fn(ctx, line), ctx.cwd
    except _Malformed as exc:
        return "malformed", str(exc), ctx.cwd


def _general(ctx: _FileContext, line: bytes) -> object:
    return ctx.general_row(line)


def _fast(ctx: _FileContext, line: bytes) -> object:
    return _fast_row(ctx, line, _decode_line(line))


def check_line(line: bytes) -> bool:
    """Assert the fast path agrees with the general one; True if the fast path answered."""
    try:
        fast = _outcome(_fast, line)
    except (msgspec.ValidationError, msgspec.DecodeError, _Fallback):
        return False
    assert fast == _outcome(_general, line), line[:300]
    return True


def _marked_lines(paths: list[Path]) -> list[bytes]:
    out = []
    for path in paths:
        out += [ln for ln in path.read_bytes().split(b"\n") if USAGE_MARKER in ln]
    return out


def test_every_sample_line_agrees() -> None:
    lines = _marked_lines(sorted(FIXTURES.rglob("*.jsonl")))
    assert len(lines) > 30
    answered = sum(check_line(line) for line in lines)
    assert answered >= len(lines) * 0.8  # the fast path takes the usual lines itself


def test_generated_corpus_agrees(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate_corpus.py"), "--out", str(out), "--scale", "0.0003"],
        check=True, capture_output=True,
    )
    lines = _marked_lines(sorted((out / "claude").rglob("*.jsonl")))
    assert len(lines) > 50
    assert all(check_line(line) for line in lines)  # every generated line is a usual one


def test_row_uses_the_general_path_for_what_the_fast_one_refuses() -> None:
    ctx = _FileContext(None, None)
    with pytest.raises(_Malformed, match=r"message\.usage is not an object"):
        ctx.row(b'{"timestamp":"2026-01-01T00:00:00Z","message":{"id":"msg_1","usage":null},"x":{"usage":{}}}')
    with pytest.raises(_Malformed, match="not valid JSON"):
        ctx.row(b'{"message":{"usage":{"input_tokens":1}')
    big = b'{"timestamp":"2026-01-01T00:00:00Z","message":{"id":"msg_1","usage":{"input_tokens":%d}}}' % 2**70
    row = ctx.row(big)
    assert row is not None and row[6] == 0  # as orjson reads it: a float, which is not a count


# --- Hypothesis: odd values in every field the rules read ------------------------------------------------

_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 2**66), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8), st.sampled_from(["", "msg_01abc", "chatcmpl-9", "<synthetic>", "2.0.1", "fast"]),
)
_timestamp = st.one_of(
    _scalar, st.sampled_from(["2026-03-11T15:52:12.033Z", "2026-03-11T15:52:12", "2026-03-11 bad", ""])
)
_count = st.one_of(st.integers(0, 10**6), _scalar)


def _maybe(d: dict[str, Any], key: str, value: Any, present: bool) -> None:
    if present:
        d[key] = value


@st.composite
def _usage(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.one_of(st.none(), st.integers(), st.text(max_size=3), st.lists(st.integers(), max_size=2)))
    u: dict[str, Any] = {}
    for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens", "speed"):
        _maybe(u, key, draw(_count), draw(st.booleans()))
    if draw(st.booleans()):
        cc: Any = {}
        for key in ("ephemeral_1h_input_tokens", "ephemeral_5m_input_tokens"):
            _maybe(cc, key, draw(_count), draw(st.booleans()))
        if draw(st.integers(0, 5)) == 0:
            cc = draw(_scalar)
        u["cache_creation"] = cc
    return u


@st.composite
def _message(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.one_of(_scalar, st.lists(st.integers(), max_size=2)))
    m: dict[str, Any] = {"content": [{"type": "text", "text": "hello"}]}
    _maybe(m, "id", draw(_scalar), draw(st.booleans()))
    _maybe(m, "model", draw(st.one_of(_scalar, st.just("claude-sonnet-4-5"))), draw(st.booleans()))
    _maybe(m, "usage", draw(_usage()), draw(st.integers(0, 4)) > 0)
    return m


@st.composite
def _envelope(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    e: dict[str, Any] = {"type": "assistant"}
    _maybe(e, "message", draw(_message()), draw(st.integers(0, 4)) > 0)
    _maybe(e, "timestamp", draw(_timestamp), draw(st.integers(0, 5)) > 0)
    for key in ("cwd", "sessionId", "isSidechain", "requestId", "version", "uuid", "costUSD"):
        _maybe(e, key, draw(_scalar), draw(st.booleans()))
    if depth == 0 and draw(st.integers(0, 3)) == 0:
        kind = draw(st.integers(0, 4))
        if kind == 0:
            e["data"] = draw(_scalar)
        else:
            e["data"] = {"message": draw(_envelope(depth=1)) if kind > 1 else draw(_scalar), "type": "agent_progress"}
    if draw(st.integers(0, 6)) == 0:
        e["toolUseResult"] = {"usage": {"input_tokens": 5}}  # a marker that is not a request's usage
    return e


@settings(max_examples=600, deadline=None)
@given(_envelope())
def test_odd_lines_agree(obj: dict[str, Any]) -> None:
    line = json.dumps(obj, separators=(",", ":")).encode()  # compact, as Claude Code writes; any int size
    if USAGE_MARKER not in line:
        line = line[:-1] + b',"zz":{"usage":{}}}'  # the scanner only hands over marked lines
    check_line(line)
