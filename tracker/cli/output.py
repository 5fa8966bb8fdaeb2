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

    from tracker.analytics.reconcile import PairResult, Reconciliation, ReconRow
    from tracker.analytics.reported import ReportedReport, ReportedRow
    from tracker.analytics.reports import Report, ReportRow, Totals
    from tracker.analytics.value import ValueFigures, ValueReport

    class CostView(Protocol):
        """What ``report --cost reported|both`` shows (``tracker.cli.report.CostView``)."""

        kind: str
        cost: str
        timezone: str
        since: date | None
        until: date | None
        sources: tuple[str, ...]
        estimated: Report | None
        reported: ReportedReport

        def periods(self) -> list[tuple[str, ReportRow | None]]: ...

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


# --- reported and estimated side by side (report --cost reported|both, report reconcile) -------------------
# Not on the fast path (it declines --cost and reconcile): money here is an exact decimal string of dollars
# (``tracker.analytics.reported.usd_text``), and estimated and reported figures have names of their own, so no
# reader can add them up by mistake.

REPORTED_BUCKETS = "UTC days, each counted in the period that holds its UTC date"


def _usd_or_none(pico: int | None) -> str | None:
    from tracker.analytics.reported import usd_text

    return None if pico is None else usd_text(pico)


def _estimated_json(t: Totals) -> dict[str, Any]:
    d: dict[str, Any] = {f: getattr(t, f) for f in TOKEN_FIELDS}
    d["total_tokens"] = t.total_tokens
    d["estimated_cost_usd"] = _usd_or_none(t.cost_pusd if t.cost_known else None)
    d["estimated_cost_kind"] = t.cost_kind
    d["unpriced_tokens"] = t.unpriced_tokens
    d["records"] = t.records
    return d


def _by_provider_json(row: ReportedRow, providers: list[str], lines: bool) -> list[dict[str, Any]]:
    out = []
    for p in providers:
        if p not in row.by_provider:
            continue
        d: dict[str, Any] = {"provider": p, "reported_cost_usd": _usd_or_none(row.by_provider[p])}
        if lines:
            d["line_items"] = [
                {"model": m or None, "line_item": li or None, "reported_cost_usd": _usd_or_none(v)}
                for (prov, m, li), v in sorted(row.lines.items(), key=lambda kv: (-kv[1], kv[0]))
                if prov == p
            ]
        out.append(d)
    return out


def _reported_json(row: ReportedRow | None, providers: list[str], lines: bool = True) -> dict[str, Any]:
    if row is None or not row.by_provider:
        return {"reported_cost_usd": None, "by_provider": []}
    return {"reported_cost_usd": _usd_or_none(row.total_pico), "by_provider": _by_provider_json(row, providers, lines)}


def cost_report_json(view: CostView) -> dict[str, Any]:
    """``report --cost reported|both --format json`` (shape in docs/cli.md)."""
    rp = view.reported
    providers = rp.providers
    d: dict[str, Any] = {
        "report": view.kind, "cost": view.cost, "timezone": view.timezone,
        "since": view.since.isoformat() if view.since else None,
        "until": view.until.isoformat() if view.until else None,
    }
    if view.cost == "both":
        d["sources"] = list(view.sources) or list(SOURCE_NAMES)
    d.update({"currency": "USD", "reported_buckets": REPORTED_BUCKETS, "providers": providers, "rows": []})
    by_key = {r.key: r for r in rp.rows}
    for key, est in view.periods():
        row: dict[str, Any] = {"period": key}
        if view.cost == "both":
            row.update(_estimated_json(est.totals if est else _empty_totals()))
            row["models"] = est.models if est else []
        row.update(_reported_json(by_key.get(key), providers))
        d["rows"].append(row)
    totals: dict[str, Any] = {}
    if view.cost == "both" and view.estimated is not None:
        totals.update(_estimated_json(view.estimated.totals))
    totals.update(_reported_json(rp.totals, providers, lines=False))
    d["totals"] = totals
    d["other_currencies"] = other_currencies_json(rp)
    d["accounts"] = [{"label": label, "provider": p} for label, p in rp.accounts]
    return d


def _empty_totals() -> Totals:
    from tracker.analytics.reports import Totals

    return Totals()


def other_currencies_json(rp: ReportedReport) -> list[dict[str, Any]]:
    """Billed amounts in currencies other than USD, per provider and currency: shown, never converted or added."""
    from tracker.analytics.reported import usd_text  # the same exact decimal text, in that currency's units

    sums: dict[tuple[str, str], int] = {}
    for line in rp.other_currencies:
        sums[(line.provider, line.currency)] = sums.get((line.provider, line.currency), 0) + line.amount_pico
    return [{"provider": p, "currency": c, "amount": usd_text(v)} for (p, c), v in sorted(sums.items())]


def csv_provider_columns(rp: ReportedReport) -> list[str]:
    """Billed providers always (a stable header), then any other provider that reported USD."""
    from tracker.analytics.reported import BILLED_PROVIDERS

    return [*BILLED_PROVIDERS, *(p for p in rp.providers if p not in BILLED_PROVIDERS)]


def cost_report_csv(view: CostView) -> str:
    """``report --cost reported|both --format csv``: one line per period; an empty cell is "nothing reported"."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = csv_provider_columns(view.reported)
    est_head = ["models", *TOKEN_FIELDS, "total_tokens", "estimated_cost_usd", "estimated_cost_kind",
                "unpriced_tokens", "records"] if view.cost == "both" else []
    w.writerow(["period", *est_head, "reported_cost_usd", *(f"reported_{p}_usd" for p in cols)])
    by_key = {r.key: r for r in view.reported.rows}
    for key, est in view.periods():
        cells: list[object] = [key]
        if view.cost == "both":
            t = est.totals if est else _empty_totals()
            cells += [";".join(est.models if est else []), *(getattr(t, f) for f in TOKEN_FIELDS), t.total_tokens,
                      _usd_or_none(t.cost_pusd) if t.cost_known else "", t.cost_kind, t.unpriced_tokens, t.records]
        rep = by_key.get(key)
        cells.append(_usd_or_none(rep.total_pico) if rep else "")
        cells += [_usd_or_none(rep.by_provider[p]) if rep and p in rep.by_provider else "" for p in cols]
        w.writerow(cells)
    return buf.getvalue()


def reconcile_json(rec: Reconciliation, notes: list[str], hint: str | None) -> dict[str, Any]:
    """``report reconcile --format json`` (shape in docs/cli.md)."""
    return {
        "report": "reconcile",
        "timezone": "UTC",
        "since": rec.since.isoformat() if rec.since else None,
        "until": rec.until.isoformat() if rec.until else None,
        "currency": "USD",
        "accounts": [{"label": label, "provider": p} for label, p in rec.accounts],
        "pairs": [_pair_json(p) for p in rec.pairs],
        "rows": [_recon_row_json(r) for r in rec.rows],
        "notes": notes,
        "hint": hint,
    }


def _pair_json(p: PairResult) -> dict[str, Any]:
    from tracker.analytics.reconcile import ratio

    reported, estimated = p.compared()
    days = sum(1 for r in p.rows if r.status == "both")
    diff = reported - estimated.cost_pusd if days and estimated.cost_known else None
    r = ratio(reported, estimated) if days else None
    return {
        "provider": p.provider, "source": p.source, "accounts": p.account_labels,
        "fetched": [{"from": lo.isoformat(), "to": hi.isoformat()} for lo, hi in p.covered],
        "days_compared": days,
        "reported_cost_usd": _usd_or_none(reported) if days else None,
        "estimated_cost_usd": _usd_or_none(estimated.cost_pusd if estimated.cost_known else None) if days else None,
        "difference_usd": _usd_or_none(diff),
        "ratio": None if r is None else str(r),
        "days_reported_only": sum(1 for x in p.rows if x.status == "reported_only"),
        "days_estimated_only": sum(1 for x in p.rows if x.status == "estimated_only"),
        "outside": {
            "days": p.outside_days,
            "from": p.outside_first.isoformat() if p.outside_first else None,
            "to": p.outside_last.isoformat() if p.outside_last else None,
            "estimated_cost_usd": _usd_or_none(
                p.outside_estimated.cost_pusd if p.outside_estimated.cost_known else None),
        },
    }


def _recon_row_json(r: ReconRow) -> dict[str, Any]:
    t = r.estimated
    return {
        "day": r.day.isoformat(), "provider": r.provider, "source": r.source, "status": r.status,
        "reported_cost_usd": _usd_or_none(r.reported_pico),
        "estimated_cost_usd": "0.00" if t is None else _usd_or_none(t.cost_pusd if t.cost_known else None),
        "estimated_cost_kind": None if t is None else t.cost_kind,
        "unpriced_tokens": 0 if t is None else t.unpriced_tokens,
        "difference_usd": _usd_or_none(r.difference_pico),
        "ratio": None if r.ratio is None else str(r.ratio),
    }


RECONCILE_CSV_FIELDS = ("day", "provider", "source", "status", "reported_cost_usd", "estimated_cost_usd",
                        "estimated_cost_kind", "unpriced_tokens", "difference_usd", "ratio")


def reconcile_csv(rec: Reconciliation) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(RECONCILE_CSV_FIELDS)
    for r in rec.rows:
        d = _recon_row_json(r)
        w.writerow(["" if d[f] is None else d[f] for f in RECONCILE_CSV_FIELDS])
    return buf.getvalue()


# --- value per token dollar (report value) ------------------------------------------------------------------
# Not on the fast path (it declines ``report value``). Money is an exact decimal string of dollars (``usd_text``),
# ratios have two places, and a figure that cannot be known (unpriced spend, hours with no rate, nothing to divide
# by) is null, never 0.

VALUE_SPEND = "estimated (local logs) + reported (billed by provider accounts); unpriced requests are not in it"
VALUE_SPEND_SUBSCRIPTION = ("estimated (local logs, less the usage flat plans covered) + reported (billed by provider "
                            "accounts) + subscription (flat plans' fees spread per day, split between projects by "
                            "covered usage); covered_usd (the API-equivalent cost of the usage plans covered) is not "
                            "spend; unpriced requests are not in it")
VALUE_NOTES = ("No flat plan is stored (token-ledger subscription add): spend_usd has no subscription part.",)
VALUE_FIELDS = ("spend_usd", "estimated_usd", "reported_usd", "unpriced_records", "outcomes", "kept_outcomes",
                "outcome_value_usd", "hours_saved", "unvalued_hours", "value_per_dollar", "cost_per_outcome",
                "cost_per_kept_outcome", "spend_without_outcome_usd", "run_rate_usd")


def value_figures_json(f: ValueFigures) -> dict[str, Any]:
    from tracker.analytics.value import figures_json

    return figures_json(f)


def _value_row_json(rep: ValueReport, f: ValueFigures) -> dict[str, Any]:
    d: dict[str, Any] = {rep.by: f.key}
    if rep.by == "project":
        d["client"] = f.client
    d.update(_with_subscription(rep, f))
    return d


def _with_subscription(rep: ValueReport, f: ValueFigures) -> dict[str, Any]:
    """The figures, plus ``subscription_usd`` and ``covered_usd`` after ``reported_usd`` once a plan exists (else
    unchanged)."""
    from tracker.analytics.reported import usd_text

    d = value_figures_json(f)
    if not rep.subscriptions:
        return d
    out: dict[str, Any] = {}
    for k, v in d.items():
        out[k] = v
        if k == "reported_usd":
            out["subscription_usd"] = usd_text(f.subscription_pusd)
            out["covered_usd"] = usd_text(f.covered_pusd)
    return out


def _value_fields(rep: ValueReport) -> tuple[str, ...]:
    if not rep.subscriptions:
        return VALUE_FIELDS
    i = VALUE_FIELDS.index("reported_usd") + 1
    return (*VALUE_FIELDS[:i], "subscription_usd", "covered_usd", *VALUE_FIELDS[i:])


def value_json(rep: ValueReport) -> dict[str, Any]:
    """``report value --format json`` (shape in docs/cli.md)."""
    from tracker.analytics.reported import usd_text

    return {
        "report": "value",
        "by": rep.by,
        "timezone": rep.timezone,
        "since": rep.since.isoformat() if rep.since else None,
        "until": rep.until.isoformat() if rep.until else None,
        "currency": "USD",
        "spend": VALUE_SPEND_SUBSCRIPTION if rep.subscriptions else VALUE_SPEND,
        "hourly_rate_usd": None if rep.hourly_rate_usd is None else format(rep.hourly_rate_usd, "f"),
        "current_month": rep.current_month,
        "rows": [_value_row_json(rep, f) for f in rep.rows],
        "totals": _with_subscription(rep, rep.totals),
        "no_outcome": [{"project": p, "spend_without_outcome_usd": usd_text(v)} for p, v in rep.no_outcome],
        "notes": [] if rep.subscriptions else list(VALUE_NOTES),
    }


def value_csv(rep: ValueReport) -> str:
    """``report value --format csv``: one line per group; an empty cell is null in JSON."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    extra = ["client"] if rep.by == "project" else []
    fields = _value_fields(rep)
    w.writerow([rep.by, *extra, *fields])
    for f in rep.rows:
        d = _value_row_json(rep, f)
        w.writerow(["" if d[k] is None else d[k] for k in (rep.by, *extra, *fields)])
    return buf.getvalue()


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
