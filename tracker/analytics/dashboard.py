"""Read models for the dashboard window: daily spend series, usage table rows, the network log, local sources.

Qt-free and exact: money stays integer pico-USD (1e-12 USD) here, formatting is the UI's job. Estimated spend
(priced from local agent logs, table ``usage``) and reported spend (what a provider billed, ``provider_usage``
rows with ``billed = 1``, USD only) are always kept in separate series and rows, each labelled: they may describe
the same requests (Claude Code on an API key also shows on the Anthropic bill), so adding them silently would
count money twice. Unpriced records are counted, never shown as $0.

Local rows are cut into days of the chosen zone (the estimated day sums add up the usage rollup when it is
current, else the rows through ``tracker.analytics.reports.build_report``: both give the same integers);
provider buckets are UTC days and are placed on their UTC date, as ``tracker.analytics.reported`` does.
"""

from __future__ import annotations

import csv
import io
import os
import sqlite3
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta, tzinfo
from decimal import Decimal
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.analytics.periods import local_date, local_midnight_ms, periods
from tracker.analytics.reported import PROVIDER_LABELS, day_ms, usd_text
from tracker.analytics.reports import ReportQuery, build_report
from tracker.ledger.rollup import WIDTHS, dirty_range

if TYPE_CHECKING:
    from tracker.analytics.value import ValueFigures

SOURCES = ("claude_code", "codex")
SOURCE_LABELS = {"claude_code": "Claude Code", "codex": "Codex"}
# The provider a local agent's requests go to when the price entry does not say (it names it: "anthropic:...").
SOURCE_PROVIDER = {"claude_code": "anthropic", "codex": "openai"}
KINDS = ("estimated", "reported", "unpriced")
GROUPINGS = ("day", "model", "project", "session", "source")
_DAY_MS = 86_400_000


# --- key figures ---------------------------------------------------------------------------------------------


def month_run_rates(estimated_pico: int, reported_pico: int, tz: tzinfo, now_ms: int) -> tuple[int, int]:
    """The month-end run-rate of each kind apart, (estimated, reported): this month so far of that kind over the
    elapsed fraction of the month in ``tz`` (as ``tracker.analytics.spend.run_rate`` does for their sum)."""
    from tracker.analytics.spend import run_rate

    today = local_date(now_ms, tz)
    month = today.replace(day=1)
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    lo, hi = local_midnight_ms(month, tz), local_midnight_ms(following, tz)
    return run_rate(estimated_pico, lo, hi, now_ms), run_rate(reported_pico, lo, hi, now_ms)


# --- spend per day -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpendPart:
    """One stacked part of the chart: a source's estimated spend or a provider's reported (billed) spend."""

    kind: str  # "estimated" | "reported"
    name: str  # source ("claude_code") or provider ("openai")
    values: tuple[int, ...]  # pico-USD per day

    @property
    def label(self) -> str:
        names = SOURCE_LABELS if self.kind == "estimated" else PROVIDER_LABELS
        return f"{names.get(self.name, self.name)} ({self.kind})"


@dataclass(frozen=True)
class SpendSeries:
    """Spend per local day from ``first`` to ``last`` inclusive, estimated and reported apart."""

    first: date
    last: date
    days: tuple[date, ...]
    parts: tuple[SpendPart, ...]  # estimated parts first (in SOURCES order), then reported ones
    unpriced_records: tuple[int, ...]  # per day, all sources
    other_currency_lines: int = 0  # billed lines not in USD: never converted, counted so the UI can say so

    def total(self, kind: str, i: int) -> int:
        return sum(p.values[i] for p in self.parts if p.kind == kind)

    def cumulative(self, kind: str) -> tuple[int, ...]:
        out, run = [], 0
        for i in range(len(self.days)):
            run += self.total(kind, i)
            out.append(run)
        return tuple(out)

    def sum(self, kind: str) -> int:
        return sum(sum(p.values) for p in self.parts if p.kind == kind)

    @property
    def empty(self) -> bool:
        return not any(any(p.values) for p in self.parts) and not any(self.unpriced_records)


def spend_series(conn: sqlite3.Connection, first: date, last: date, tz: tzinfo, *,
                 use_rollup: bool = True) -> SpendSeries:
    """Daily spend for local dates ``first``..``last`` in ``tz``: one part per source with estimated spend and
    one per provider with reported (billed USD) spend; parts that are zero throughout are left out."""
    days = tuple(first + timedelta(days=k) for k in range((last - first).days + 1))
    index = {d.isoformat(): k for k, d in enumerate(days)}
    estimated, unpriced = _estimated_by_day(conn, first, last, tz, use_rollup)
    parts = [SpendPart("estimated", src, tuple(estimated[src])) for src in SOURCES if any(estimated.get(src, ()))]
    reported, other = _reported_by_day(conn, first, last, index)
    parts.extend(SpendPart("reported", p, tuple(v)) for p, v in sorted(reported.items()) if any(v))
    return SpendSeries(first, last, days, tuple(parts), tuple(unpriced), other)


def _estimated_by_day(
    conn: sqlite3.Connection, first: date, last: date, tz: tzinfo, use_rollup: bool
) -> tuple[dict[str, list[int]], list[int]]:
    """Estimated pico-USD per source and unpriced records, per local day, in one read snapshot.

    From the rollup when it is current: its slots of the widest width on which every local midnight falls are
    summed per slot and source in SQL and placed in their day here (a year in Europe/Paris is ~17k hour rows,
    where joining the rollup against 365 day ranges in SQL took over a second). Otherwise (marks left by
    another writer, or a zone whose midnights fit no slot) ``build_report`` adds up the usage rows.
    """
    plist = periods("daily", first, last, tz)
    edges = [p.start_ms for p in plist] + [plist[-1].end_ms]
    started = not conn.in_transaction
    if started:
        conn.execute("BEGIN")
    try:
        width = _slot_width(edges) if use_rollup and dirty_range(conn) is None else None
        if width is None:
            return _estimated_from_reports(conn, first, last, tz, len(plist))
        return _estimated_from_rollup(conn, edges, width)
    finally:
        if started:
            conn.execute("COMMIT")


def _slot_width(edges: Sequence[int]) -> int | None:
    for width in reversed(WIDTHS):
        if all(e % width == 0 for e in edges):
            return width
    return None


def _estimated_from_rollup(
    conn: sqlite3.Connection, edges: list[int], width: int
) -> tuple[dict[str, list[int]], list[int]]:
    """Each local day as F(its end) - F(its start), where F(t) is the running total before instant t: whole UTC
    days from the day-wide rollup, corrected by the ``width`` slots between t and the nearer UTC midnight. A year
    in Europe/Paris then reads ~730 day rows and ~730 hour rows instead of ~17,000 hour rows."""
    days = _rollup_sums(conn, _DAY_MS, _floor_day(edges[0]), _floor_day(edges[-1]) + _DAY_MS, by_slot=True)
    by_day: dict[int, dict[str, int]] = {}
    for (slot, key), value in days.items():
        by_day.setdefault(slot, {})[key] = value
    starts = sorted(by_day)
    keys = {key for _slot, key in days}
    # running[key][k]: the sum of days starts[0]..starts[k]
    running = {key: list(accumulate(by_day[d].get(key, 0) for d in starts)) for key in keys}
    totals = [_running_total(conn, e, width, starts, running) for e in edges]
    n = len(edges) - 1
    out: dict[str, list[int]] = {}
    for source in SOURCES:
        values = [totals[k + 1].get(f"cost:{source}", 0) - totals[k].get(f"cost:{source}", 0) for k in range(n)]
        if any(values):
            out[source] = values
    unpriced = [totals[k + 1].get("unpriced", 0) - totals[k].get("unpriced", 0) for k in range(n)]
    return out, unpriced


def _floor_day(ms: int) -> int:
    return ms - ms % _DAY_MS


def _running_total(
    conn: sqlite3.Connection, t: int, width: int, starts: list[int], running: dict[str, list[int]]
) -> dict[str, int]:
    """F(t): every sum before instant ``t`` (from the first day in ``starts``)."""
    floor = _floor_day(t)
    near_floor = t - floor <= _DAY_MS // 2
    midnight = floor if near_floor or t == floor else floor + _DAY_MS
    k = bisect_left(starts, midnight)  # whole days before that midnight
    out = {key: values[k - 1] for key, values in running.items()} if k else {}
    if t == midnight:
        return out
    lo, hi, sign = (midnight, t, 1) if near_floor else (t, midnight, -1)
    for (_slot, key), value in _rollup_sums(conn, width, lo, hi, by_slot=False).items():
        out[key] = out.get(key, 0) + sign * value
    return out


def _rollup_sums(
    conn: sqlite3.Connection, width: int, lo: int, hi: int, *, by_slot: bool
) -> dict[tuple[int, str], int]:
    """Rollup sums of ``width`` slots in [lo, hi): {(slot or 0, "cost:<source>" | "unpriced"): value}."""
    slot = "slot_ms" if by_slot else "0"
    sql = f"""SELECT {slot}, source, sum(cost_pusd), sum(unpriced_records) FROM usage_rollup
              WHERE width_ms = ? AND slot_ms >= ? AND slot_ms < ? GROUP BY 1, source"""
    out: dict[tuple[int, str], int] = {}
    for s, source, cost, unpriced in conn.execute(sql, (width, lo, hi)):
        out[(s, f"cost:{source}")] = out.get((s, f"cost:{source}"), 0) + int(cost or 0)
        out[(s, "unpriced")] = out.get((s, "unpriced"), 0) + int(unpriced or 0)
    return out


def _estimated_from_reports(
    conn: sqlite3.Connection, first: date, last: date, tz: tzinfo, n: int
) -> tuple[dict[str, list[int]], list[int]]:
    index = {(first + timedelta(days=k)).isoformat(): k for k in range(n)}
    out: dict[str, list[int]] = {}
    unpriced = [0] * n
    for source in SOURCES:
        values = out[source] = [0] * n
        report = build_report(conn, ReportQuery("daily", tz, first, last, (source,)), use_rollup=False)
        for row in report.rows:
            k = index.get(row.key)
            if k is not None:
                values[k] = row.totals.cost_pusd
                unpriced[k] += row.totals.unpriced_records
    return out, unpriced


def _reported_by_day(
    conn: sqlite3.Connection, first: date, last: date, index: Mapping[str, int]
) -> tuple[dict[str, list[int]], int]:
    """Billed USD per provider and UTC day (decision 14), summed in SQL; and how many billed lines (day, provider,
    model, line item) are in another currency and left out, as ``billed_lines`` counts them."""
    if not _has_table(conn, "provider_usage"):
        return {}, 0
    lo, hi = day_ms(first), day_ms(last + timedelta(days=1))
    base = ("FROM provider_usage WHERE billed = 1 AND cost_pico IS NOT NULL AND bucket_start_ms >= ? "
            "AND bucket_start_ms < ?")
    out: dict[str, list[int]] = {}
    offset = lo // _DAY_MS
    sql = f"""SELECT bucket_start_ms / {_DAY_MS}, provider, sum(cost_pico) {base}
              AND upper(coalesce(currency, 'USD')) = 'USD' GROUP BY 1, 2"""
    for d, provider, amount in conn.execute(sql, (lo, hi)):
        k = int(d) - offset
        if 0 <= k < len(index):
            out.setdefault(str(provider), [0] * len(index))[k] += int(amount)
    other = conn.execute(f"""SELECT count(*) FROM (SELECT 1 {base} AND upper(coalesce(currency, 'USD')) != 'USD'
                             GROUP BY bucket_start_ms / {_DAY_MS}, provider, model, line_item,
                             upper(currency))""", (lo, hi)).fetchone()[0]
    return out, int(other)


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", (name,))
    return row.fetchone() is not None


# --- the usage table -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageFilter:
    """What the usage table shows: local dates ``since``..``until`` (inclusive) and optional exact filters."""

    since: date
    until: date
    source: str | None = None  # "claude_code" | "codex" | "reported" (provider bills)
    provider: str | None = None
    model: str | None = None
    project: str | None = None
    group_by: str = "day"  # one of GROUPINGS


@dataclass(frozen=True)
class UsageLine:
    """One row of the usage table: a group (a day, model, ...) of one origin and one kind of cost."""

    group: str
    origin: str  # "Claude Code", "Codex", or a provider's name for reported rows
    provider: str
    kind: str  # "estimated" | "reported" | "unpriced"
    records: int
    input_tokens: int
    output_tokens: int
    cache_creation_tokens: int
    cache_read_tokens: int
    cost_pico: int | None  # None when unpriced
    last_ms: int | None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_creation_tokens + self.cache_read_tokens


# Columns of the usage table (attribute, heading); the UI shows them in this order.
USAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("group", "Group"),
    ("origin", "Origin"),
    ("kind", "Kind"),
    ("records", "Records"),
    ("input_tokens", "Input"),
    ("output_tokens", "Output"),
    ("cache_creation_tokens", "Cache write"),
    ("cache_read_tokens", "Cache read"),
    ("cost_pico", "Cost (USD)"),
)

_PROVIDER_SQL = (
    "CASE WHEN u.price_model LIKE 'anthropic:%' THEN 'anthropic' WHEN u.price_model LIKE 'openai:%' THEN 'openai' "
    "WHEN u.source = 'claude_code' THEN 'anthropic' WHEN u.source = 'codex' THEN 'openai' ELSE '' END"
)
_LOCAL_GROUP = {
    "day": "d.label",
    "model": "coalesce(u.model, '(unknown)')",
    "project": "coalesce(u.project_path, '(unknown)')",
    "session": "coalesce(u.session_id, '(unknown)')",
    "source": "u.source",
}
_REPORTED_GROUP = {
    "day": "date(p.bucket_start_ms / 1000, 'unixepoch')",
    "model": "CASE WHEN p.model = '' THEN '(unknown)' ELSE p.model END",
    "project": "CASE WHEN p.project = '' THEN '(unknown)' ELSE p.project END",
    "session": "'(provider report)'",
    "source": "p.provider",
}


def usage_lines(conn: sqlite3.Connection, f: UsageFilter, tz: tzinfo) -> list[UsageLine]:
    """The usage table for ``f``: local rows per group, source and kind, then reported rows per group and
    provider; sorted by group, then origin."""
    if f.group_by not in GROUPINGS:
        raise ValueError(f"unknown grouping {f.group_by!r}")
    lines: list[UsageLine] = []
    if f.source != "reported":
        lines.extend(_local_lines(conn, f, tz))
    if f.source in (None, "reported") and _has_table(conn, "provider_usage"):
        lines.extend(_reported_lines(conn, f))
    return sort_lines(lines, "group")


def _local_lines(conn: sqlite3.Connection, f: UsageFilter, tz: tzinfo) -> list[UsageLine]:
    clauses = ["u.ts_ms >= ?", "u.ts_ms < ?"]
    params: list[object] = [local_midnight_ms(f.since, tz), local_midnight_ms(f.until + timedelta(days=1), tz)]
    for column, value in (("u.source", f.source), (_PROVIDER_SQL, f.provider), ("u.model", f.model),
                          ("u.project_path", f.project)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    tables = "usage u"
    if f.group_by == "day":
        if not _fill_days(conn, f, tz):
            return []
        # Days outside, rows inside through the usage_ts index: one range lookup per day (the other order
        # compares every row with every day).
        tables = "_dashboard_days d CROSS JOIN usage u ON u.ts_ms >= d.start_ms AND u.ts_ms < d.end_ms"
        # The days are the range: constant bounds here would make SQLite scan the whole range once per day.
        clauses, params = clauses[2:] or ["1"], params[2:]
    group = _LOCAL_GROUP[f.group_by]
    sql = f"""
        SELECT {group}, u.source, {_PROVIDER_SQL},
               CASE WHEN u.cost_kind = 'unpriced' THEN 'unpriced' ELSE 'estimated' END AS kind,
               count(*), sum(u.input_tokens), sum(u.output_tokens), sum(u.cache_creation_tokens),
               sum(u.cache_read_tokens), sum(u.cost_pusd), max(u.ts_ms)
        FROM {tables} WHERE {" AND ".join(clauses)}
        GROUP BY 1, 2, 3, 4"""
    out = []
    for g, source, provider, kind, n, i, o, cw, cr, cost, last in conn.execute(sql, params):
        group = SOURCE_LABELS.get(g, g) if f.group_by == "source" else str(g)
        out.append(UsageLine(group, SOURCE_LABELS.get(source, source), provider, kind, n, i, o, cw, cr,
                             None if kind == "unpriced" else int(cost or 0), last))
    return _merge_providers(out) if f.provider is None else out


def _merge_providers(lines: list[UsageLine]) -> list[UsageLine]:
    """One row per group, origin and kind: rows split only by the inferred provider are added together."""
    merged: dict[tuple[str, str, str], UsageLine] = {}
    for line in lines:
        key = (line.group, line.origin, line.kind)
        prev = merged.get(key)
        if prev is None:
            merged[key] = line
            continue
        merged[key] = UsageLine(
            line.group, line.origin, prev.provider if prev.provider == line.provider else "", line.kind,
            prev.records + line.records, prev.input_tokens + line.input_tokens,
            prev.output_tokens + line.output_tokens, prev.cache_creation_tokens + line.cache_creation_tokens,
            prev.cache_read_tokens + line.cache_read_tokens,
            None if line.kind == "unpriced" else (prev.cost_pico or 0) + (line.cost_pico or 0),
            max(prev.last_ms or 0, line.last_ms or 0) or None,
        )
    return list(merged.values())


def _reported_lines(conn: sqlite3.Connection, f: UsageFilter) -> list[UsageLine]:
    clauses = ["p.billed = 1", "p.cost_pico IS NOT NULL", "upper(coalesce(p.currency, 'USD')) = 'USD'",
               "p.bucket_start_ms >= ?", "p.bucket_start_ms < ?"]
    params: list[object] = [day_ms(f.since), day_ms(f.until + timedelta(days=1))]
    for column, value in (("p.provider", f.provider), ("p.model", f.model), ("p.project", f.project)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    group = _REPORTED_GROUP[f.group_by]
    sql = f"""
        SELECT {group}, p.provider, count(*), sum(p.input_tokens), sum(p.output_tokens),
               sum(p.cache_creation_tokens), sum(p.cache_read_tokens), sum(p.cost_pico), max(p.bucket_end_ms)
        FROM provider_usage p WHERE {" AND ".join(clauses)}
        GROUP BY 1, 2"""
    out = []
    for g, provider, n, i, o, cw, cr, cost, last in conn.execute(sql, params):
        label = PROVIDER_LABELS.get(provider, provider)
        group = label if f.group_by == "source" else str(g)
        out.append(UsageLine(group, label, provider, "reported", n, i, o, cw, cr, int(cost), last))
    return out


def _fill_days(conn: sqlite3.Connection, f: UsageFilter, tz: tzinfo) -> bool:
    """The temp table of local days ``first``..``last``, narrowed to the days holding usage; False when none do
    (an "all time" range starts in 1970: only the days from the first row on are listed)."""
    bounds = (local_midnight_ms(f.since, tz), local_midnight_ms(f.until + timedelta(days=1), tz))
    lo, hi = conn.execute("SELECT min(ts_ms), max(ts_ms) FROM usage WHERE ts_ms >= ? AND ts_ms < ?", bounds).fetchone()
    if lo is None:
        return False
    first, last = max(f.since, local_date(int(lo), tz)), min(f.until, local_date(int(hi), tz))
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS _dashboard_days (label TEXT, start_ms INTEGER, end_ms INTEGER)")
    conn.execute("DELETE FROM _dashboard_days")
    conn.executemany("INSERT INTO _dashboard_days VALUES (?, ?, ?)",
                     [(p.label, p.start_ms, p.end_ms) for p in periods("daily", first, last, tz)])
    return True


def _sort_key(column: str) -> Callable[[UsageLine], tuple[object, ...]]:
    names = {f.name for f in fields(UsageLine)}
    if column not in names:
        raise ValueError(f"unknown column {column!r}")

    def key(line: UsageLine) -> tuple[object, ...]:
        value = getattr(line, column)
        # Unpriced rows have no cost: they sort below every priced row, never as $0.
        return (value is not None, value if value is not None else 0, line.group, line.origin, line.kind)

    return key


def sort_lines(lines: Iterable[UsageLine], column: str, descending: bool = False) -> list[UsageLine]:
    """``lines`` sorted by one of UsageLine's fields (ties by group, origin and kind)."""
    return sorted(lines, key=_sort_key(column), reverse=descending)


def usage_csv(lines: Sequence[UsageLine]) -> str:
    """CSV of usage lines: tokens as integers, cost as an exact decimal string of dollars (blank when unpriced)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["group", "origin", "provider", "kind", "records", "input_tokens", "output_tokens",
                "cache_creation_tokens", "cache_read_tokens", "cost_usd"])
    for x in lines:
        w.writerow([x.group, x.origin, x.provider, x.kind, x.records, x.input_tokens, x.output_tokens,
                    x.cache_creation_tokens, x.cache_read_tokens, "" if x.cost_pico is None else usd_text(x.cost_pico)])
    return buf.getvalue()


def write_csv(path: Path, lines: Sequence[UsageLine]) -> int:
    """Write :func:`usage_csv` to ``path`` (atomically: a partial file never has the final name); rows written."""
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(usage_csv(lines), encoding="utf-8")
    os.replace(tmp, path)
    return len(lines)


@dataclass(frozen=True)
class FilterChoices:
    """Values the usage filters offer."""

    providers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()


def filter_choices(conn: sqlite3.Connection) -> FilterChoices:
    models = {m for (m,) in conn.execute("SELECT DISTINCT model FROM usage WHERE model IS NOT NULL")}
    projects = {p for (p,) in conn.execute("SELECT DISTINCT project_path FROM usage WHERE project_path IS NOT NULL")}
    providers = {p for (p,) in conn.execute(f"SELECT DISTINCT {_PROVIDER_SQL} FROM usage u") if p}
    if _has_table(conn, "provider_usage"):
        for p, m, j in conn.execute("SELECT DISTINCT provider, model, project FROM provider_usage WHERE billed = 1"):
            providers.add(p)
            if m:
                models.add(m)
            if j:
                projects.add(j)
    return FilterChoices(tuple(sorted(providers)), tuple(sorted(models)), tuple(sorted(projects)))


# --- network log, local sources, first run --------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkRow:
    ts_ms: int
    provider: str
    method: str
    host: str
    path: str
    status: int | None
    bytes_sent: int
    bytes_received: int
    duration_ms: int
    error: str | None


def network_rows(conn: sqlite3.Connection, provider: str | None = None, limit: int = 2000) -> list[NetworkRow]:
    """The newest ``limit`` requests of the network log, newest first, optionally of one provider."""
    if not _has_table(conn, "network_log"):
        return []
    where, params = ("WHERE provider = ?", [provider]) if provider else ("", [])
    sql = f"""SELECT ts_ms, provider, method, host, path, status, bytes_sent, bytes_received, duration_ms, error
              FROM network_log {where} ORDER BY ts_ms DESC, id DESC LIMIT ?"""
    return [NetworkRow(*r) for r in conn.execute(sql, [*params, limit])]


def network_count(conn: sqlite3.Connection, provider: str | None = None) -> int:
    """How many requests the network log holds (of one provider): the page shows the newest few of them."""
    if not _has_table(conn, "network_log"):
        return 0
    where, params = ("WHERE provider = ?", [provider]) if provider else ("", [])
    return int(conn.execute(f"SELECT count(*) FROM network_log {where}", params).fetchone()[0])


def network_providers(conn: sqlite3.Connection) -> list[str]:
    if not _has_table(conn, "network_log"):
        return []
    return [p for (p,) in conn.execute("SELECT DISTINCT provider FROM network_log ORDER BY provider")]


@dataclass(frozen=True)
class LocalSource:
    """A local agent whose logs are imported: where it looks and what was found there."""

    name: str
    label: str
    roots: tuple[str, ...]
    roots_found: tuple[str, ...]  # the roots that exist on disk
    files: int  # log files known (not missing)
    records: int
    last_read_ms: int | None  # the last time one of its files was read
    last_sync_ms: int | None = None  # the end of the last finished sync of any source
    last_sync_status: str | None = None

    @property
    def found(self) -> bool:
        return bool(self.roots_found)


def local_sources(conn: sqlite3.Connection, env: Mapping[str, str], home: Path) -> list[LocalSource]:
    """Each local source: its folders (from the environment or the defaults), which exist, what was imported.

    Touches the file system (``isdir`` on each root): call it off the GUI thread.
    """
    from tracker.sources import all_sources

    last = conn.execute(
        "SELECT finished_ms, status FROM sync_runs WHERE finished_ms IS NOT NULL ORDER BY finished_ms DESC LIMIT 1"
    ).fetchone()
    out = []
    for src in all_sources():
        roots = tuple(str(r) for r in src.roots(env, home))
        files, last_read = conn.execute(
            "SELECT count(*), max(last_read_ms) FROM files WHERE source = ? AND missing = 0", (src.name,)
        ).fetchone()
        (records,) = conn.execute("SELECT count(*) FROM usage WHERE source = ?", (src.name,)).fetchone()
        out.append(LocalSource(
            src.name, src.label, roots, tuple(r for r in roots if os.path.isdir(r)), int(files), int(records),
            last_read, None if last is None else last[0], None if last is None else last[1],
        ))
    return out


@dataclass(frozen=True)
class LedgerState:
    """Whether the ledger is still empty (the first-run panel) and what it holds."""

    usage_rows: int
    accounts: int
    reported_rows: int
    sources: list[LocalSource] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.usage_rows == 0 and self.accounts == 0 and self.reported_rows == 0


def ledger_state(conn: sqlite3.Connection, env: Mapping[str, str], home: Path) -> LedgerState:
    (usage,) = conn.execute("SELECT count(*) FROM (SELECT 1 FROM usage LIMIT 1)").fetchone()
    accounts = reported = 0
    if _has_table(conn, "accounts"):
        (accounts,) = conn.execute("SELECT count(*) FROM accounts WHERE removed_ms IS NULL").fetchone()
    if _has_table(conn, "provider_usage"):
        (reported,) = conn.execute("SELECT count(*) FROM (SELECT 1 FROM provider_usage LIMIT 1)").fetchone()
    return LedgerState(int(usage), int(accounts), int(reported), local_sources(conn, env, home))


# --- outcomes (issue 5): the Outcomes page, the overview's markers, the value charts --------------------------

OUTCOME_KIND_LABELS = {
    "shipped_feature": "Shipped feature", "bug_fix": "Bug fix", "pr_merged": "PR merged", "decision": "Decision",
    "automation": "Automation", "document": "Document", "research": "Research",
    "client_deliverable": "Client deliverable", "other": "Other",
}
OUTCOME_STATUS_LABELS = {"kept": "Kept", "redone": "Redone", "abandoned": "Abandoned"}


@dataclass(frozen=True)
class OutcomeMarker:
    """An outcome on the overview chart's time axis: its local day and what the hover says."""

    id: int
    day: date
    at_ms: int
    title: str
    kind: str
    status: str
    project: str | None
    value_pusd: int | None
    hours_saved: str | None


def outcome_markers(conn: sqlite3.Connection, first: date, last: date, tz: tzinfo) -> list[OutcomeMarker]:
    """The outcomes logged on local dates ``first``..``last`` in ``tz``, oldest first."""
    from tracker.outcomes import list_outcomes

    if not _has_table(conn, "outcomes"):
        return []
    rows = list_outcomes(conn, since_ms=local_midnight_ms(first, tz),
                         until_ms=local_midnight_ms(last + timedelta(days=1), tz))
    return [OutcomeMarker(o.id, local_date(o.at_ms, tz), o.at_ms, o.title, o.kind, o.status, o.project,
                          o.value_pusd, o.hours_saved) for o in rows]


@dataclass(frozen=True)
class OutcomeLine:
    """One row of the Outcomes page: the outcome as stored and the spend attributed to it (the default method,
    ``tracker.analytics.attribution.attribute_outcomes``: its project's spend since the previous outcome)."""

    id: int
    day: date
    at_ms: int
    title: str
    kind: str
    project: str | None
    status: str
    value_pusd: int | None
    hours_saved: str | None
    link: str | None
    notes: str | None
    tags: tuple[str, ...]
    estimated_pusd: int = 0
    reported_pusd: int = 0
    unpriced_records: int = 0

    @property
    def attributed_pusd(self) -> int:
        return self.estimated_pusd + self.reported_pusd


@dataclass(frozen=True)
class OutcomeData:
    lines: list[OutcomeLine]  # newest first
    projects: list[str]  # every known project (stored, or seen in usage), for filters and the dialog
    guessed_project: str | None  # the project of the most recent usage (`outcome add` guesses the same)


def outcome_data(conn: sqlite3.Connection, tz: tzinfo) -> OutcomeData:
    """Every outcome with its attributed spend, the known projects and the guess for a new outcome's project."""
    from tracker.analytics.attribution import (
        all_projects,
        attribute_outcomes,
        latest_usage_project,
        load_rules,
    )
    from tracker.outcomes import list_outcomes

    if not _has_table(conn, "outcomes"):
        return OutcomeData([], [], None)
    rules = load_rules(conn)
    outcomes = list_outcomes(conn)
    spend = {s.outcome_id: s for s in attribute_outcomes(conn, tz, rules)} if outcomes else {}
    lines = []
    for o in reversed(outcomes):
        s = spend.get(o.id)
        lines.append(OutcomeLine(
            o.id, local_date(o.at_ms, tz), o.at_ms, o.title, o.kind, o.project, o.status, o.value_pusd,
            o.hours_saved, o.link, o.notes, tuple(o.tags),
            s.estimated_pusd if s else 0, s.reported_pusd if s else 0, s.unpriced_records if s else 0))
    projects = sorted(all_projects(conn, rules), key=str.casefold)
    return OutcomeData(lines, projects, latest_usage_project(conn, rules))


@dataclass(frozen=True)
class OutcomeFilter:
    project: str | None = None  # None: any; NO_PROJECT_FILTER: outcomes without a project
    kind: str | None = None
    status: str | None = None
    since: date | None = None  # local dates, inclusive
    until: date | None = None


NO_PROJECT_FILTER = "(no project)"


def filter_outcomes(lines: Iterable[OutcomeLine], f: OutcomeFilter) -> list[OutcomeLine]:
    def keep(o: OutcomeLine) -> bool:
        if f.project is not None and (o.project or NO_PROJECT_FILTER) != f.project:
            return False
        if (f.kind is not None and o.kind != f.kind) or (f.status is not None and o.status != f.status):
            return False
        return (f.since is None or o.day >= f.since) and (f.until is None or o.day <= f.until)

    return [o for o in lines if keep(o)]


def outcome_figures(lines: Iterable[OutcomeLine], hourly_rate_usd: Decimal | None) -> ValueFigures:
    """The figures of a set of outcomes, as ``report value`` counts them: value from kept outcomes (dollars plus
    hours at the rate; hours without a rate stay hours), spend = the spend attributed to these outcomes."""
    from tracker.analytics.value import ValueFigures, hours_pusd

    fig = ValueFigures("selection")
    for o in lines:
        fig.estimated_pusd += o.estimated_pusd
        fig.reported_pusd += o.reported_pusd
        fig.unpriced_records += o.unpriced_records
        fig.outcomes += 1
        if o.status != "kept":
            continue
        fig.kept_outcomes += 1
        fig.value_pusd += o.value_pusd or 0
        if o.hours_saved:
            hours = Decimal(o.hours_saved)
            fig.hours_saved += hours
            if hourly_rate_usd is None:
                fig.unvalued_hours += hours
            else:
                fig.value_pusd += hours_pusd(hours, hourly_rate_usd)
    return fig


@dataclass(frozen=True)
class ValueMonth:
    """One month of ``report value --by month``: spend (estimated + reported, + subscription once plans exist),
    the value of kept outcomes, and value per dollar (None when either side is unknown or spend is 0)."""

    month: date  # its first day
    estimated_pusd: int
    reported_pusd: int
    subscription_pusd: int
    unpriced_records: int
    outcomes: int
    value_pusd: int
    unvalued_hours: Decimal
    value_per_dollar: Decimal | None

    @property
    def spend_pusd(self) -> int:
        return self.estimated_pusd + self.reported_pusd + self.subscription_pusd


@dataclass(frozen=True)
class ValueSeries:
    months: tuple[ValueMonth, ...]  # consecutive, oldest first (months without spend or outcomes are zeros)
    hourly_rate_usd: Decimal | None
    subscriptions: bool
    run_rate_pusd: int = 0  # this month's month-end run-rate (report value's totals), the spend above
    value_per_dollar: Decimal | None = None  # all time (report value's totals); None when unknown

    def cumulative_spend(self) -> tuple[int, ...]:
        return tuple(accumulate(m.spend_pusd for m in self.months))

    def cumulative_value(self) -> tuple[int, ...]:
        return tuple(accumulate(m.value_pusd for m in self.months))

    @property
    def unvalued_hours(self) -> Decimal:
        return sum((m.unvalued_hours for m in self.months), Decimal(0))

    @property
    def has_outcomes(self) -> bool:
        return any(m.outcomes for m in self.months)


def value_series(conn: sqlite3.Connection, tz: tzinfo, now_ms: int, hourly_rate_usd: Decimal | None) -> ValueSeries:
    """Spend and outcome value per local month, from ``tracker.analytics.value.build_value_report`` (the same
    figures as ``token-ledger report value --by month``), with the months between filled with zeros."""
    from tracker.analytics.value import ValueQuery, build_value_report

    report = build_value_report(conn, ValueQuery("month", tz, now_ms=now_ms, hourly_rate_usd=hourly_rate_usd))
    by_month = {r.key: r for r in report.rows}
    run_rate, vpd = report.totals.run_rate_pusd or 0, report.totals.value_per_dollar()
    if not by_month:
        return ValueSeries((), hourly_rate_usd, report.subscriptions, run_rate, vpd)
    first = date.fromisoformat(min(by_month) + "-01")
    last = date.fromisoformat(max(*by_month, report.current_month) + "-01")
    months: list[ValueMonth] = []
    m = first
    while m <= last:
        r = by_month.get(m.strftime("%Y-%m"))
        months.append(ValueMonth(m, 0, 0, 0, 0, 0, 0, Decimal(0), None) if r is None else ValueMonth(
            m, r.estimated_pusd, r.reported_pusd, r.subscription_pusd, r.unpriced_records, r.outcomes,
            r.value_pusd, r.unvalued_hours, r.value_per_dollar()))
        m = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    return ValueSeries(tuple(months), hourly_rate_usd, report.subscriptions, run_rate, vpd)


# Issue 5, "share of pay": the public benchmark a token run-rate is set against.
PAY_SHARE_BENCHMARK = "50%: $250k of tokens for a $500k engineer"
PAY_SHARE_BENCHMARK_PERCENT = Decimal(50)


@dataclass(frozen=True)
class PayShare:
    """The annual token run-rate (this month's month-end run-rate × 12) as a share of the user's annual pay."""

    annual_run_rate_pusd: int
    compensation_pusd: int
    percent: Decimal | None  # to 0.1 (half-even); None when the compensation is 0

    @property
    def above_benchmark(self) -> bool:
        return self.percent is not None and self.percent > PAY_SHARE_BENCHMARK_PERCENT


def pay_share(month_run_rate_pusd: int, annual_compensation_usd: Decimal) -> PayShare:
    """Exact: pico-USD integers, the percent rounded once (half-even) to one decimal place."""
    from decimal import ROUND_HALF_EVEN

    from tracker.domain import PICO_PER_USD

    annual = month_run_rate_pusd * 12
    comp = int((annual_compensation_usd * PICO_PER_USD).to_integral_value(ROUND_HALF_EVEN))
    if comp <= 0:
        return PayShare(annual, comp, None)
    percent = (Decimal(annual) * 100 / Decimal(comp)).quantize(Decimal("0.1"), ROUND_HALF_EVEN)
    return PayShare(annual, comp, percent)


@dataclass(frozen=True)
class KindCost:
    """Cost per outcome for one kind: the spend attributed to its outcomes (estimated + reported, as the Outcomes
    table shows it) over their number, half-even to the pico-USD; None when that spend is only unpriced."""

    kind: str
    outcomes: int
    spend_pusd: int
    cost_per_outcome_pusd: int | None


def cost_by_kind(lines: Iterable[OutcomeLine]) -> list[KindCost]:
    """One row per kind that has outcomes (every status: each consumed its window), in the kinds' order."""
    from tracker.outcomes import KINDS as OUTCOME_KINDS

    groups: dict[str, list[OutcomeLine]] = {}
    for o in lines:
        groups.setdefault(o.kind, []).append(o)
    order = {k: i for i, k in enumerate(OUTCOME_KINDS)}
    out = []
    for kind in sorted(groups, key=lambda k: (order.get(k, len(order)), k)):
        fig = outcome_figures(groups[kind], None)
        out.append(KindCost(kind, fig.outcomes, fig.spend_pusd, fig.cost_per(fig.outcomes)))
    return out


@dataclass(frozen=True)
class OutcomePoint:
    """An outcome as a point: attributed spend (x) against its value (y): dollars plus hours at the rate."""

    id: int
    title: str
    kind: str
    status: str
    cost_pusd: int
    value_pusd: int
    unvalued_hours: Decimal  # hours with no rate to value them (not in value_pusd)


def outcome_points(lines: Iterable[OutcomeLine], hourly_rate_usd: Decimal | None) -> tuple[list[OutcomePoint], int]:
    """The outcomes with a known value (dollars, or hours with a rate) as points, oldest first, and how many were
    left out (no value logged, or hours only and no rate). Every status is drawn (the chart marks which)."""
    from tracker.analytics.value import hours_pusd

    points, left_out = [], 0
    for o in sorted(lines, key=lambda o: (o.at_ms, o.id)):
        hours = Decimal(o.hours_saved) if o.hours_saved else Decimal(0)
        hours_value = hours_pusd(hours, hourly_rate_usd) if hours and hourly_rate_usd is not None else None
        if o.value_pusd is None and hours_value is None:
            left_out += 1
            continue
        unvalued = hours if hours_value is None else Decimal(0)
        value = (o.value_pusd or 0) + (hours_value or 0)
        points.append(OutcomePoint(o.id, o.title, o.kind, o.status, o.attributed_pusd, value, unvalued))
    return points, left_out
