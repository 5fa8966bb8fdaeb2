"""Usage reports: totals per day, week, month, session, project or model.

All sums are done by SQLite over the stored rows (never over pre-added totals), so a later change in
dedup or prices is reflected everywhere. Costs stay in integer pico-dollars until formatting. Priced and
unpriced usage are kept apart: a group whose models are all unknown has no cost (not $0), and a group
with some unknown models says so.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, tzinfo
from typing import Literal

from tracker.analytics.periods import Period, local_date, local_midnight_ms, periods, zone_name

ReportKind = Literal["daily", "weekly", "monthly", "session", "project", "model"]
TIME_KINDS = ("daily", "weekly", "monthly")
REPORT_KINDS: tuple[str, ...] = ("daily", "weekly", "monthly", "session", "project", "model")

_SUMS = """
    count(*),
    sum(u.input_tokens), sum(u.cache_creation_tokens), sum(u.cache_read_tokens), sum(u.output_tokens),
    sum(u.reasoning_tokens),
    sum(u.cost_pusd),
    sum(CASE WHEN u.cost_kind = 'unpriced'
             THEN u.input_tokens + u.cache_creation_tokens + u.cache_read_tokens + u.output_tokens ELSE 0 END),
    sum(CASE WHEN u.cost_kind = 'unpriced' THEN 1 ELSE 0 END),
    min(u.ts_ms), max(u.ts_ms)
"""


@dataclass
class Totals:
    """Sums over a group of usage rows."""

    records: int = 0
    input_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cost_pusd: int = 0  # estimated cost of the priced rows
    unpriced_tokens: int = 0
    unpriced_records: int = 0
    first_ms: int | None = None
    last_ms: int | None = None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.cache_creation_tokens + self.cache_read_tokens + self.output_tokens

    @property
    def cost_kind(self) -> str:
        """``estimated``; ``unpriced`` (no cost known at all); or ``estimated_partial`` (some rows unpriced)."""
        if self.unpriced_records == 0:
            return "estimated"
        if self.unpriced_records == self.records:
            return "unpriced"
        return "estimated_partial"

    @property
    def cost_known(self) -> bool:
        return self.records == 0 or self.unpriced_records < self.records

    def add(self, other: Totals) -> None:
        self.records += other.records
        self.input_tokens += other.input_tokens
        self.cache_creation_tokens += other.cache_creation_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.output_tokens += other.output_tokens
        self.reasoning_tokens += other.reasoning_tokens
        self.cost_pusd += other.cost_pusd
        self.unpriced_tokens += other.unpriced_tokens
        self.unpriced_records += other.unpriced_records
        for attr, pick in (("first_ms", min), ("last_ms", max)):
            mine, theirs = getattr(self, attr), getattr(other, attr)
            if theirs is not None:
                setattr(self, attr, theirs if mine is None else pick(mine, theirs))


def _totals(row: tuple[object, ...]) -> Totals:
    n, i, cc, cr, o, rs, cost, ut, ur, first, last = row
    return Totals(
        int(n or 0), int(i or 0), int(cc or 0), int(cr or 0), int(o or 0), int(rs or 0),  # type: ignore[call-overload]
        int(cost or 0), int(ut or 0), int(ur or 0),  # type: ignore[call-overload]
        None if first is None else int(first), None if last is None else int(last),  # type: ignore[call-overload]
    )


@dataclass
class ModelLine:
    model: str | None
    totals: Totals


@dataclass
class ReportRow:
    key: str  # period label, session id, project path or model
    totals: Totals = field(default_factory=Totals)
    by_model: list[ModelLine] = field(default_factory=list)
    source: str | None = None  # session rows: which agent
    project: str | None = None  # session rows: the session's project

    @property
    def models(self) -> list[str]:
        return [m.model or "(unknown)" for m in self.by_model]


@dataclass
class Report:
    kind: str
    timezone: str
    since: date | None
    until: date | None
    sources: tuple[str, ...]
    rows: list[ReportRow]
    totals: Totals


@dataclass(frozen=True)
class ReportQuery:
    kind: str
    tz: tzinfo
    since: date | None = None
    until: date | None = None
    sources: tuple[str, ...] = ()


def _where(q: ReportQuery) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if q.sources:
        clauses.append(f"u.source IN ({','.join('?' * len(q.sources))})")
        params.extend(q.sources)
    if q.since is not None:
        clauses.append("u.ts_ms >= ?")
        params.append(local_midnight_ms(q.since, q.tz))
    if q.until is not None:
        from datetime import timedelta

        clauses.append("u.ts_ms < ?")
        params.append(local_midnight_ms(q.until + timedelta(days=1), q.tz))
    return (" AND ".join(clauses) or "1"), params


def _data_range(conn: sqlite3.Connection, q: ReportQuery) -> tuple[date, date] | None:
    where, params = _where(q)
    lo, hi = conn.execute(f"SELECT min(u.ts_ms), max(u.ts_ms) FROM usage u WHERE {where}", params).fetchone()
    if lo is None:
        return None
    first = q.since or local_date(int(lo), q.tz)
    last = q.until or local_date(int(hi), q.tz)
    return first, last


def _time_rows(conn: sqlite3.Connection, q: ReportQuery) -> list[ReportRow]:
    rng = _data_range(conn, q)
    if rng is None:
        return []
    plist: list[Period] = periods(q.kind, rng[0], rng[1], q.tz)
    where, params = _where(q)
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS _periods (label TEXT, start_ms INTEGER, end_ms INTEGER)")
    conn.execute("DELETE FROM _periods")
    conn.executemany("INSERT INTO _periods VALUES (?, ?, ?)", [(p.label, p.start_ms, p.end_ms) for p in plist])
    sql = f"""
        SELECT p.label, u.model, {_SUMS}
        FROM _periods p JOIN usage u ON u.ts_ms >= p.start_ms AND u.ts_ms < p.end_ms
        WHERE {where}
        GROUP BY p.label, u.model
        ORDER BY p.label, u.model"""
    return _collect(conn.execute(sql, params).fetchall())


def _collect(rows: list[tuple[object, ...]]) -> list[ReportRow]:
    out: dict[str, ReportRow] = {}
    for row in rows:
        key, model = str(row[0]), row[1]
        t = _totals(row[2:])
        rr = out.get(key)
        if rr is None:
            rr = out[key] = ReportRow(key)
        rr.by_model.append(ModelLine(None if model is None else str(model), t))
        rr.totals.add(t)
    for rr in out.values():
        rr.by_model.sort(key=lambda m: -m.totals.cost_pusd)
    return list(out.values())


def _group_rows(conn: sqlite3.Connection, q: ReportQuery) -> list[ReportRow]:
    where, params = _where(q)
    if q.kind == "model":
        sql = f"SELECT u.model, u.model, {_SUMS} FROM usage u WHERE {where} GROUP BY u.model"
        rows = _collect(conn.execute(sql, params).fetchall())
        for r in rows:
            r.key = r.key if r.key != "None" else "(unknown)"
    elif q.kind == "project":
        sql = f"""SELECT coalesce(u.project_path, '(unknown)'), u.model, {_SUMS} FROM usage u WHERE {where}
                  GROUP BY coalesce(u.project_path, '(unknown)'), u.model"""
        rows = _collect(conn.execute(sql, params).fetchall())
    else:  # session
        sql = f"""SELECT u.source || '|' || coalesce(u.session_id, '(unknown)'), u.model, {_SUMS}
                  FROM usage u WHERE {where} GROUP BY u.source, u.session_id, u.model"""
        rows = _collect(conn.execute(sql, params).fetchall())
        projects = dict(
            conn.execute(
                f"""SELECT u.source || '|' || coalesce(u.session_id, '(unknown)'), max(u.project_path)
                    FROM usage u WHERE {where} GROUP BY u.source, u.session_id""",
                params,
            ).fetchall()
        )
        for r in rows:
            r.project = projects.get(r.key)
            r.source, r.key = r.key.split("|", 1)
    rows.sort(key=lambda r: (r.totals.last_ms or 0) if q.kind == "session" else -r.totals.cost_pusd)
    return rows


def build_report(conn: sqlite3.Connection, q: ReportQuery) -> Report:
    rows = _time_rows(conn, q) if q.kind in TIME_KINDS else _group_rows(conn, q)
    totals = Totals()
    for r in rows:
        totals.add(r.totals)
    return Report(q.kind, zone_name(q.tz), q.since, q.until, q.sources, rows, totals)
