"""What the CLI prints for the scripted paths, import-light: report JSON and the sync summary.

``token-ledger report ... --format json`` and ``token-ledger sync`` print through these functions both on the
click path and on the fast path (``tracker.cli.fast``), so both print the same bytes. Nothing here imports
click, orjson, dataclasses or typing at run time. :func:`dumps` writes JSON exactly as
``orjson.dumps(value, option=orjson.OPT_INDENT_2)`` did before this module existed (tests compare them), with
the standard library only: orjson's import alone costs ~20 ms of a run that must take tens.
"""

from __future__ import annotations

from datetime import date, datetime

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy and ruff know the name)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, Protocol

    from tracker.analytics.reports import Report, ReportRow, Totals

    class SourceSummaryLike(Protocol):
        name: str
        label: str
        roots: list[str]
        roots_found: list[str]
        files_seen: int
        files_read: int
        files_reset: int
        bytes_read: int
        records_parsed: int
        new_records: int
        malformed: int
        malformed_examples: list[str]
        errors: list[str]

    class SyncSummaryLike(Protocol):
        @property
        def sources(self) -> Sequence[SourceSummaryLike]: ...
        @property
        def duration_s(self) -> float: ...
        @property
        def repriced(self) -> int: ...


SOURCE_NAMES = ("claude_code", "codex")
# The variable that names each source's folders. Folders named there must exist: a typo must not look like
# "no usage". Default folders that are absent just mean the agent is not installed.
SOURCE_ENV = {"claude_code": "CLAUDE_CONFIG_DIR", "codex": "CODEX_HOME"}
TOKEN_FIELDS = ("input_tokens", "cache_creation_tokens", "cache_read_tokens", "output_tokens", "reasoning_tokens")


# --- report options --------------------------------------------------------------------------------------


class BadDateError(ValueError):
    """A --since/--until value that is not a date; the message is for people."""


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise BadDateError(f"{option} {value!r} is not a date; use YYYY-MM-DD, e.g. {option} 2026-11-01")


# --- report JSON -----------------------------------------------------------------------------------------

_PICO_PER_MICRO = 10**6


def usd(pico: int) -> float:
    """Dollars rounded half-to-even to 6 decimals (a micro-dollar) for JSON; exact sums stay in the database.

    Integer arithmetic, then one division: the float is the one nearest the rounded decimal, exactly as
    ``float(Decimal(...).quantize(...))`` gives, without importing decimal on the JSON path.
    """
    micro, rest = divmod(pico, _PICO_PER_MICRO)
    half = _PICO_PER_MICRO // 2
    if rest > half or (rest == half and micro % 2):
        micro += 1
    return micro / 1_000_000


def _totals_json(t: Totals) -> dict[str, Any]:
    d: dict[str, Any] = {f: getattr(t, f) for f in TOKEN_FIELDS}
    d["total_tokens"] = t.total_tokens
    d["cost_usd"] = usd(t.cost_pusd) if t.cost_known else None
    d["cost_kind"] = t.cost_kind
    d["unpriced_tokens"] = t.unpriced_tokens
    d["records"] = t.records
    return d


def _row_json(rep: Report, r: ReportRow) -> dict[str, Any]:
    key_name = {"session": "session_id", "project": "project", "model": "model"}.get(rep.kind, "period")
    d: dict[str, Any] = {key_name: r.key}
    if rep.kind == "session":
        d["source"] = r.source
        d["project"] = r.project
    if rep.kind in ("session", "project", "model"):
        d["first_ts"] = _iso(r.totals.first_ms)
        d["last_ts"] = _iso(r.totals.last_ms)
    d.update(_totals_json(r.totals))
    d["models"] = r.models
    d["by_model"] = [{"model": m.model, **_totals_json(m.totals)} for m in r.by_model]
    return d


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000).astimezone().isoformat(timespec="seconds")


def report_json(rep: Report) -> dict[str, Any]:
    return {
        "report": rep.kind,
        "timezone": rep.timezone,
        "since": rep.since.isoformat() if rep.since else None,
        "until": rep.until.isoformat() if rep.until else None,
        "sources": list(rep.sources) or list(SOURCE_NAMES),
        "currency": "USD",
        "rows": [_row_json(rep, r) for r in rep.rows],
        "totals": _totals_json(rep.totals),
    }


# --- JSON text -------------------------------------------------------------------------------------------

_ESCAPES = {i: f"\\u{i:04x}" for i in range(0x20)}
_ESCAPES.update({ord("\b"): "\\b", ord("\t"): "\\t", ord("\n"): "\\n", ord("\f"): "\\f", ord("\r"): "\\r"})
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\"})


def _json_float(v: float) -> str:
    """A float as orjson writes it: Python's shortest repr, but 1e-5 <= |v| < 1e-4 in full and ``1e-6``
    (not ``1e-06``) below; NaN and infinities as null."""
    if v - v != 0.0:  # NaN or an infinity (math is not imported for isfinite)
        return "null"
    text = repr(v)
    if "e-" not in text:
        return text
    mantissa, exponent = text.split("e")
    exp = int(exponent)
    if exp == -5:
        sign, digits = ("-", mantissa[1:]) if mantissa.startswith("-") else ("", mantissa)
        return f"{sign}0.0000{digits.replace('.', '')}"
    return f"{mantissa}e{exp}"


def _json_str(value: str) -> str:
    if '"' in value or "\\" in value or not value.isprintable():  # the rare string that may need escapes
        return '"' + value.translate(_ESCAPES) + '"'
    return '"' + value + '"'


def _json(value: object, indent: str) -> str:
    # exact types first (``type(v) is``, not isinstance: booleans are ints): this runs for every value
    if type(value) is str:
        return _json_str(value)
    if type(value) is int:
        return str(value)
    if type(value) is float:
        return _json_float(value)
    if value is None:
        return "null"
    if type(value) is dict:
        if not value:
            return "{}"
        inner = indent + "  "
        items = [f"{inner}{_json_str(str(k))}: {_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if type(value) is list or type(value) is tuple:
        if not value:
            return "[]"
        inner = indent + "  "
        return "[\n" + ",\n".join([inner + _json(v, inner) for v in value]) + "\n" + indent + "]"
    return _json_other(value, indent)


def _json_other(value: object, indent: str) -> str:
    """Booleans, and subclasses of the JSON types (as their base type)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _json(str(value), indent)
    if isinstance(value, int):
        return _json(int(value), indent)
    if isinstance(value, float):
        return _json(float(value), indent)
    if isinstance(value, dict):
        return _json(dict(value), indent)
    if isinstance(value, (list, tuple)):
        return _json(list(value), indent)
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def dumps(value: object) -> str:
    """``value`` (None, bool, int, float, str, list, tuple, dict with str keys) as JSON indented by two spaces,
    byte for byte what ``orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()`` returns."""
    return _json(value, "")


# --- sync summary ----------------------------------------------------------------------------------------


def summary_lines(summary: SyncSummaryLike) -> list[str]:
    """What ``sync`` prints about a finished sync, one string per line."""
    out: list[str] = []
    for s in summary.sources:
        if not s.roots_found:
            out.append(f"{s.label}: no logs found")
            continue
        line = (
            f"{s.label}: {s.files_read:,} of {s.files_seen:,} files read ({_size(s.bytes_read)}), "
            f"{s.new_records:,} new records"
        )
        merged = s.records_parsed - s.new_records
        if merged > 0:
            line += f" ({merged:,} duplicate copies merged)"
        if s.files_reset:
            line += f", {s.files_reset:,} files re-read from the start (shrunk or replaced)"
        out.append(line)
        if s.malformed:
            out.append(f"  {s.malformed:,} malformed lines skipped, e.g.:")
            out.extend(f"    {ex}" for ex in s.malformed_examples[:3])
        out.extend(f"  error: {err}" for err in s.errors[:5])
        if len(s.errors) > 5:
            out.append(f"  … and {len(s.errors) - 5} more errors")
    if summary.repriced:
        out.append(f"Prices changed: {summary.repriced:,} records re-priced.")
    out.append(f"Done in {summary.duration_s:.2f} s.")
    return out


def configured_but_missing(summary: SyncSummaryLike, env: dict[str, str] | None = None) -> list[str]:
    """Problems: folders named by CLAUDE_CONFIG_DIR/CODEX_HOME that are not folders."""
    import os

    environ = os.environ if env is None else env
    out = []
    for s in summary.sources:
        var = SOURCE_ENV.get(s.name)
        if var and environ.get(var, "").strip():
            for root in s.roots:
                if root not in s.roots_found:
                    out.append(f"{var} names {root}, which is not a folder. Fix the variable or create the folder.")
    return out


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"
