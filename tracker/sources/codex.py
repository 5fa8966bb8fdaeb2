"""Codex CLI usage source: rollout JSONL files under ``$CODEX_HOME`` (local-logs spec §2).

A rollout holds one thread. Its ``event_msg``/``token_count`` events carry ``total_token_usage``
(cumulative for the thread) and ``last_token_usage`` (the last API call). Three traps make naive sums
wrong, and this module follows the spec's recommended algorithm against all of them:

* re-emitted snapshots (rate-limit and UI refreshes) repeat the previous ``total_token_usage``: skipped;
* forks, branches and ``thread_spawn`` sub-agents copy the parent's token rows into their own file: a
  ``(total, last)`` snapshot already counted in *any* file (the importer's persisted ``seen`` set) is skipped,
  but still moves the file's cumulative baseline;
* older builds log only ``total_token_usage``: usage is the componentwise increase over the previous total.

Files are parsed parents first (sorted by the timestamp in the file name), so copied rows are attributed to
the thread that made the calls. Saved ``codex exec --json`` output (``turn.completed`` usage, and
``result`` wrappers with OpenAI-style ``prompt_tokens``) is read too. Lines of unknown shape carry no usage;
only lines that are not JSON objects count as malformed.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from tracker.domain import ParseResult, SourceKind
from tracker.sources.lines import LineScanner
from tracker.sources.walk import codex_files, codex_roots, with_stats

FALLBACK_MODEL = "gpt-5"  # what ccusage assumes for early builds that logged no model at all

# Only lines containing one of these are parsed: the big response_item lines (prompts, tool output,
# encrypted reasoning) never are. A marker inside a JSON string is escaped (\"token_count\") and so
# does not match; a false hit is merely parsed and ignored. Each marker costs one more pass over the
# bytes, so a rollout is scanned for only what it can contain (see _markers).
ROLLOUT_MARKERS = (b'"token_count"', b'"turn_context"')
META_MARKER = b'"session_meta"'
EXEC_MARKERS = (b'"turn.completed"', b'"thread.started"', b'"prompt_tokens"')
MARKERS = (*ROLLOUT_MARKERS, META_MARKER, *EXEC_MARKERS)
MAX_EXAMPLES = 5

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_NAME_TS = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2})")
_NAME_UUID = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", re.IGNORECASE)
_LOG_SUFFIXES = (".jsonl", ".jsonl.zst")
_SOURCE = SourceKind.CODEX.value

# A usage vector: (input, cached, output, reasoning, total, cache_write), as logged by Codex.
# input includes cached and cache_write; output includes reasoning; total is the logged total_tokens.
Vec = tuple[int, int, int, int, int, int]
_COMPONENTS = (0, 1, 2, 3, 5)  # every field but the logged total_tokens, which legacy builds leave at 0


class CodexSource:
    """The Codex CLI source (see the module docstring)."""

    name = SourceKind.CODEX.value
    label = "Codex CLI"

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """``$CODEX_HOME`` (a comma list is accepted, as by ccusage), else ``~/.codex``."""
        return [Path(p) for p in codex_roots(env, str(home))]

    def discover(self, roots: list[Path]) -> list[Path]:
        """Rollouts under ``sessions/**`` and ``archived_sessions/*``, by real path, parents first."""
        return [Path(p) for p, _st in self.discover_stats(roots)]

    def discover_stats(self, roots: list[Path]) -> list[tuple[str, os.stat_result | OSError]]:
        """:meth:`discover` with each file's ``stat`` (one system call per file instead of two; no Paths)."""
        found = codex_files([str(r) for r in roots])  # the rules live in walk.py, shared with the fast path
        return with_stats([found[p] for p in sorted(found, key=_order_key)])

    def parse(
        self, path: Path, offset: int, state: dict[str, object] | None, first_line_no: int, seen: set[str]
    ) -> ParseResult:
        """Parse complete lines of ``path`` from ``offset`` (see :class:`~tracker.sources.LogSource`)."""
        return _FileParser(path, _State.load(state), seen).run(offset, first_line_no)


SOURCE = CodexSource()


# ----------------------------------------------------------------------------------------------- discovery


def _base_name(name: str) -> str:
    """The rollout's name without ``.zst``: a compressed and a plain copy are the same rollout."""
    return name[:-4] if name.endswith(".zst") else name


def _order_key(p: str) -> tuple[str, str]:
    """Parents before children: forks and sub-agents are created after the thread they copy."""
    m = _NAME_TS.search(os.path.basename(p))
    return (m.group(1) if m else "9999", p)


# ----------------------------------------------------------------------------------------------- parsing


@dataclass(slots=True)
class _State:
    """Per-file parser state, persisted by the importer (JSON) so that parsing can resume mid-file."""

    prev: list[int] | None = None  # the last total_token_usage vector seen in this file
    own: bool = False  # this file has counted a cumulative counter of its own (not only copied rows)
    model: str | None = None  # from the latest turn_context (authoritative, as in CodexBar)
    info_model: str | None = None  # the latest model named by a usage event itself (info.model, exec json)
    session: str | None = None  # thread id from the first session_meta (or exec thread.started)
    meta: bool = False  # the first session_meta was read (later ones are copied parent metadata)
    cwd: str | None = None
    version: str | None = None
    sub: bool = False  # a thread_spawn sub-agent
    ts: int | None = None  # last timestamp read, for events that carry none
    reemits: int = 0
    copied: int = 0
    fallback_model: int = 0  # records whose model is FALLBACK_MODEL because the log named none

    @classmethod
    def load(cls, raw: Mapping[str, object] | None) -> _State:
        st = cls()
        if not raw:
            return st
        prev = raw.get("prev")
        if isinstance(prev, list) and len(prev) == 6 and all(type(x) is int for x in prev):
            st.prev = list(prev)
        for name in ("own", "meta", "sub"):
            if isinstance(raw.get(name), bool):
                setattr(st, name, raw[name])
        for name in ("model", "info_model", "session", "cwd", "version"):
            if isinstance(raw.get(name), str):
                setattr(st, name, raw[name])
        for name in ("ts", "reemits", "copied", "fallback_model"):
            if type(raw.get(name)) is int:
                setattr(st, name, raw[name])
        return st


@dataclass(slots=True)
class _FileParser:
    path: Path
    st: _State
    seen: set[str]
    res: ParseResult = field(default_factory=ParseResult)
    _mtime_ms: int | None = None

    def run(self, offset: int, first_line_no: int) -> ParseResult:
        scanner = LineScanner(self.path, offset, markers=self._markers(), first_line_no=first_line_no)
        for line in scanner:
            self._line(scanner, line)
        res = self.res
        res.new_offset = scanner.end_offset
        res.lines = scanner.lines
        res.bytes_read = scanner.bytes_read
        res.state = asdict(self.st)
        return res

    def _markers(self) -> tuple[bytes, ...]:
        """Rollouts hold no exec-json events; after the first session_meta, later ones are only copies."""
        markers = ROLLOUT_MARKERS if self.st.meta else (*ROLLOUT_MARKERS, META_MARKER)
        return markers if self.path.name.startswith("rollout-") else (*markers, *EXEC_MARKERS)

    def _line(self, scanner: LineScanner, line: bytes) -> None:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            self._malformed(scanner, "not valid JSON")
            return
        if type(obj) is not dict:
            self._malformed(scanner, "not a JSON object")
            return
        try:
            self._dispatch(obj)
        except _BadLine as e:
            self._malformed(scanner, str(e))

    def _malformed(self, scanner: LineScanner, reason: str) -> None:
        self.res.malformed += 1
        if len(self.res.malformed_examples) < MAX_EXAMPLES:
            self.res.malformed_examples.append(f"{self.path}:{scanner.line_no()}: {reason}")

    def _dispatch(self, obj: dict[str, Any]) -> None:
        kind = obj.get("type")
        payload = obj.get("payload")
        if kind == "event_msg":
            if type(payload) is dict and payload.get("type") == "token_count":
                self._token_count(payload.get("info"), obj.get("timestamp"))
        elif kind == "turn_context":
            if type(payload) is dict:
                self._turn_context(payload)
        elif kind == "session_meta":
            if type(payload) is dict and not self.st.meta:
                self._session_meta(payload)
        elif kind == "turn.completed":
            self._exec_usage(obj.get("usage"), obj)
        elif kind == "result":
            data = obj.get("data")
            if type(data) is dict:
                self._exec_usage(data.get("usage"), data)
        elif kind == "thread.started":
            tid = obj.get("thread_id")
            if isinstance(tid, str) and self.st.session is None:
                self.st.session = tid

    # -- context lines

    def _turn_context(self, p: dict[str, Any]) -> None:
        model, cwd = p.get("model"), p.get("cwd")
        if isinstance(model, str) and model:
            self.st.model = model
        if isinstance(cwd, str) and cwd:
            self.st.cwd = cwd

    def _session_meta(self, p: dict[str, Any]) -> None:
        # Only the first session_meta names this file's thread: forks and sub-agents copy the parent's.
        st = self.st
        st.meta = True
        tid = p.get("id") or p.get("session_id")
        if isinstance(tid, str) and tid:
            st.session = tid
        if isinstance(p.get("cwd"), str) and st.cwd is None:
            st.cwd = p["cwd"]
        if isinstance(p.get("cli_version"), str):
            st.version = p["cli_version"]
        src = p.get("source")
        st.sub = type(src) is dict and "subagent" in src

    # -- usage lines

    def _token_count(self, info: object, raw_ts: object) -> None:
        if info is None:
            return  # a rate-limit-only snapshot
        if type(info) is not dict:
            raise _BadLine("token_count info is not an object")
        total = _vec(info.get("total_token_usage"))
        last = _vec(info.get("last_token_usage"))
        if last is not None and not _billable_or_reasoning(last):
            last = None  # {} or all-zero components (total_tokens alone is not usage)
        if total is not None and not any(total):
            total = None
        if total is None:
            if last is not None:
                self._emit_untracked(last, raw_ts, _info_model(info))
            return
        self._snapshot(total, last, raw_ts, info)

    def _snapshot(self, total: Vec, last: Vec | None, raw_ts: object, info: dict[str, Any]) -> None:
        st = self.st
        prev = st.prev
        if prev is not None and list(total) == prev:
            st.reemits += 1
            return
        key = _snapshot_key(total, last)
        if key in self.seen:
            st.prev = list(total)  # copied history: not ours to count, but our baseline moves on
            st.copied += 1
            return
        usage = last if last is not None else self._delta(total, prev)
        st.prev = list(total)
        st.own = True
        self.seen.add(key)
        self.res.seen_keys.append(key)
        if usage is not None:
            self._emit(key, usage, raw_ts, _info_model(info))

    def _delta(self, total: Vec, prev: list[int] | None) -> Vec | None:
        """Usage of a totals-only event: the increase over the previous total (spec §2.4)."""
        if prev is None:
            return total
        if any(total[i] < prev[i] for i in _COMPONENTS):
            # The counter went back (a reset, or another lane's counter) and there is no `last` to trust:
            # the event is a new baseline. It is counted whole only when this file has no counter of its
            # own yet, i.e. the previous total was copied from the parent and this thread starts from 0.
            return None if self.st.own else total
        d = tuple(max(t - p, 0) for t, p in zip(total, prev, strict=True))
        return (d[0], d[1], d[2], d[3], d[4], d[5])

    def _exec_usage(self, usage: object, holder: dict[str, Any]) -> None:
        """A saved ``codex exec --json`` usage: one turn's usage, not cumulative across turns."""
        vec = _vec(usage)
        if vec is None or not _billable_or_reasoning(vec):
            return
        model = holder.get("model")
        if not isinstance(model, str) or not model:
            model = holder.get("model_name")
        self._emit_untracked(vec, holder.get("timestamp"), model if isinstance(model, str) else None)

    def _emit_untracked(self, usage: Vec, raw_ts: object, model: str | None) -> None:
        """Usage with no cumulative vector to dedupe on: keyed by thread, time and the vector itself."""
        ts_ms = self._ts(raw_ts)
        who = self.st.session or _name_id(self.path)
        key = _hash(f"x|{who}|{ts_ms}|{','.join(map(str, usage))}")
        self._emit(key, usage, raw_ts, model, ts_ms)

    def _emit(
        self, key: str, usage: Vec, raw_ts: object, info_model: str | None, ts_ms: int | None = None
    ) -> None:
        counts = _counts(usage)
        if not (counts[0] or counts[1] or counts[2] or counts[3]):
            return
        st = self.st
        if info_model:
            st.info_model = info_model
        model = st.model or st.info_model
        if not model:
            model = FALLBACK_MODEL
            st.fallback_model += 1
        self.res.rows.append((
            _SOURCE, key, self._ts(raw_ts) if ts_ms is None else ts_ms, model, st.session or _name_id(self.path),
            st.cwd, counts[0], counts[1], 0, counts[2], counts[3], counts[4], int(st.sub), None, None,
            st.version, None, 0,
        ))

    def _ts(self, raw: object) -> int:
        ts = _parse_ts(raw)
        if ts is None:
            ts = self.st.ts if self.st.ts is not None else self._mtime()
        self.st.ts = ts
        return ts

    def _mtime(self) -> int:
        if self._mtime_ms is None:
            try:
                self._mtime_ms = self.path.stat().st_mtime_ns // 1_000_000
            except OSError:
                self._mtime_ms = 0
        return self._mtime_ms


class _BadLine(Exception):
    """A line that is JSON but whose usage part has an impossible shape."""


# ----------------------------------------------------------------------------------------------- helpers


def _n(v: object) -> int:
    """A token count: non-negative int; anything else (null, strings, bools) is 0."""
    if type(v) is int:
        return v if v > 0 else 0
    if type(v) is float and v > 0:
        return int(v)
    return 0


def _nested(u: dict[str, Any], outer: str, inner: str) -> int:
    d = u.get(outer)
    return _n(d.get(inner)) if type(d) is dict else 0


def _vec(u: object) -> Vec | None:
    """A usage object as a vector; None when missing or ``{}``. Accepts the legacy and OpenAI aliases."""
    if type(u) is not dict or not u:
        return None
    g = u.get
    inp = _n(g("input_tokens")) or _n(g("prompt_tokens"))
    cached = (
        _n(g("cached_input_tokens"))
        or _n(g("cached_tokens"))
        or _n(g("cache_read_input_tokens"))
        or _nested(u, "input_tokens_details", "cached_tokens")
        or _nested(u, "prompt_tokens_details", "cached_tokens")
    )
    out = _n(g("output_tokens")) or _n(g("completion_tokens"))
    reasoning = (
        _n(g("reasoning_output_tokens"))
        or _nested(u, "output_tokens_details", "reasoning_tokens")
        or _nested(u, "completion_tokens_details", "reasoning_tokens")
    )
    return (inp, cached, out, reasoning, _n(g("total_tokens")), _n(g("cache_write_input_tokens")))


def _billable_or_reasoning(v: Vec) -> bool:
    """True when a component other than the logged total_tokens is non-zero."""
    return bool(v[0] or v[1] or v[2] or v[3] or v[5])


def _counts(v: Vec) -> tuple[int, int, int, int, int]:
    """Codex semantics -> the ledger's disjoint fields: (input, cache writes, cache reads, output, reasoning).

    Codex's input includes cached input and cache writes; its output already includes reasoning (so
    reasoning must never be added again).
    """
    inp, cached, out, reasoning, _total, write = v
    cached = min(cached, inp)
    write = min(write, inp - cached)
    return (inp - cached - write, write, cached, out, reasoning)


def _info_model(info: Mapping[str, Any]) -> str | None:
    for k in ("model", "model_name"):
        v = info.get(k)
        if isinstance(v, str) and v:
            return v
    meta = info.get("metadata")
    if type(meta) is dict and isinstance(meta.get("model"), str) and meta["model"]:
        return str(meta["model"])
    return None


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _snapshot_key(total: Vec, last: Vec | None) -> str:
    """The global dedup key of a cumulative snapshot: the same in a parent and in every copy of it."""
    t = ",".join(map(str, total))
    return _hash(f"s|{t}|{','.join(map(str, last)) if last is not None else '-'}")


def _name_id(path: Path) -> str:
    """A session id from the file name: the thread uuid of ``rollout-<ts>-<uuid>.jsonl``, else the stem."""
    name = _base_name(path.name)
    m = _NAME_UUID.search(name)
    return m.group(1) if m else name.removesuffix(".jsonl")


def _parse_ts(raw: object) -> int | None:
    """UTC milliseconds from an RFC 3339 string (``Z`` or an offset) or from epoch seconds/milliseconds."""
    if isinstance(raw, str):
        try:
            dt = datetime.fromisoformat(raw)
        except ValueError:
            dt2 = _parse_ts_slow(raw)
            if dt2 is None:
                return None
            dt = dt2
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return (dt - _EPOCH) // _MS
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw > 0:
        n = int(raw)
        return n if n > 100_000_000_000 else n * 1000  # milliseconds, else seconds
    return None


_FRACTION = re.compile(r"(\.\d{6})\d+")


def _parse_ts_slow(raw: str) -> datetime | None:
    """Nanosecond fractions and other forms Python 3.11's ``fromisoformat`` refuses."""
    try:
        return datetime.fromisoformat(_FRACTION.sub(r"\1", raw.strip()))
    except ValueError:
        return None
