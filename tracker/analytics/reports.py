"""Usage reports: totals per day, week, month, session, project or model.

All sums are done by SQLite. Time and model reports add up the usage rollup (sums per UTC slot of a
quarter hour, hour or day, source and model; see ``tracker.ledger.rollup``) when it is current, else the
usage rows themselves; the two give identical numbers (tests/test_rollup.py compares them), so a later
change in dedup or prices is reflected everywhere once the rollup is refreshed. Costs stay in integer
pico-dollars until formatting. Priced and unpriced usage are kept apart: a group whose models are all
unknown has no cost (not $0), and a group with some unknown models says so.

Import-light on purpose: ``report --format json`` runs this module on its fast path (``tracker.cli.fast``), so
it imports no dataclasses or typing at run time (each costs milliseconds of a run that takes tens).
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta, tzinfo

from tracker.analytics.periods import local_date, local_midnight_ms, periods, zone_name
from tracker.ledger.rollup import WIDTHS, dirty_range

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy and ruff know the name)
if TYPE_CHECKING:
    from typing import Literal

    from tracker.analytics.periods import Period

    ReportKind = Literal["daily", "weekly", "monthly", "session", "project", "model"]

TIME_KINDS = ("daily", "weekly", "monthly")
REPORT_KINDS: tuple[str, ...] = ("daily", "weekly", "monthly", "session", "project", "model")

_ROLLUP_SUMS = """
    sum(r.records),
    sum(r.input_tokens), sum(r.cache_creation_tokens), sum(r.cache_read_tokens), sum(r.output_tokens),
    sum(r.reasoning_tokens), sum(r.cost_pusd), sum(r.unpriced_tokens), sum(r.unpriced_records),
    min(r.first_ms), max(r.last_ms)
"""

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


class _Record:
    """Equality and repr over ``__slots__``: what ``@dataclass`` gave these classes, without importing it."""

    __slots__: tuple[str, ...] = ()
    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass with eq

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._values() == other._values()

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Totals(_Record):
    """Sums over a group of usage rows."""

    __slots__ = (
        "cache_creation_tokens",
        "cache_read_tokens",
        "cost_pusd",
        "first_ms",
        "input_tokens",
        "last_ms",
        "output_tokens",
        "reasoning_tokens",
        "records",
        "unpriced_records",
        "unpriced_tokens",
    )

    def __init__(  # noqa: PLR0917 (one argument per summed column, as the SQL gives them)
        self, records: int = 0, input_tokens: int = 0, cache_creation_tokens: int = 0, cache_read_tokens: int = 0,
        output_tokens: int = 0, reasoning_tokens: int = 0, cost_pusd: int = 0, unpriced_tokens: int = 0,
        unpriced_records: int = 0, first_ms: int | None = None, last_ms: int | None = None,
    ) -> None:
        self.records = records
        self.input_tokens = input_tokens
        self.cache_creation_tokens = cache_creation_tokens
        self.cache_read_tokens = cache_read_tokens
        self.output_tokens = output_tokens
        self.reasoning_tokens = reasoning_tokens
        self.cost_pusd = cost_pusd  # estimated cost of the priced rows
        self.unpriced_tokens = unpriced_tokens
        self.unpriced_records = unpriced_records
        self.first_ms = first_ms
        self.last_ms = last_ms

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
        if other.first_ms is not None:
            self.first_ms = other.first_ms if self.first_ms is None else min(self.first_ms, other.first_ms)
        if other.last_ms is not None:
            self.last_ms = other.last_ms if self.last_ms is None else max(self.last_ms, other.last_ms)


def _totals(row: tuple[object, ...]) -> Totals:
    n, i, cc, cr, o, rs, cost, ut, ur, first, last = row
    return Totals(
        int(n or 0), int(i or 0), int(cc or 0), int(cr or 0), int(o or 0), int(rs or 0),  # type: ignore[call-overload]
        int(cost or 0), int(ut or 0), int(ur or 0),  # type: ignore[call-overload]
        None if first is None else int(first), None if last is None else int(last),  # type: ignore[call-overload]
    )


class ModelLine(_Record):
    __slots__ = ("model", "totals")

    def __init__(self, model: str | None, totals: Totals) -> None:
        self.model = model
        self.totals = totals


class ReportRow(_Record):
    __slots__ = ("by_model", "key", "project", "source", "totals")

    def __init__(
        self, key: str, totals: Totals | None = None, by_model: list[ModelLine] | None = None,
        source: str | None = None, project: str | None = None,
    ) -> None:
        self.key = key  # period label, session id, project path or model
        self.totals = Totals() if totals is None else totals
        self.by_model: list[ModelLine] = [] if by_model is None else by_model
        self.source = source  # session rows: which agent
        self.project = project  # session rows: the session's project

    @property
    def models(self) -> list[str]:
        return [m.model or "(unknown)" for m in self.by_model]


class Report(_Record):
    __slots__ = ("kind", "rows", "since", "sources", "timezone", "totals", "until")

    def __init__(  # noqa: PLR0917
        self, kind: str, timezone: str, since: date | None, until: date | None, sources: tuple[str, ...],
        rows: list[ReportRow], totals: Totals,
    ) -> None:
        self.kind = kind
        self.timezone = timezone
        self.since = since
        self.until = until
        self.sources = sources
        self.rows = rows
        self.totals = totals


class ReportQuery(_Record):
    """What to report (immutable by convention)."""

    __slots__ = ("kind", "since", "sources", "tz", "until")

    def __init__(
        self, kind: str, tz: tzinfo, since: date | None = None, until: date | None = None,
        sources: tuple[str, ...] = (),
    ) -> None:
        self.kind = kind
        self.tz = tz
        self.since = since
        self.until = until
        self.sources = sources

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._values())


def _bounds_ms(q: ReportQuery) -> tuple[int | None, int | None]:
    """The UTC millisecond range [since, until) the query's local dates cover (None: open)."""
    lo = None if q.since is None else local_midnight_ms(q.since, q.tz)
    hi = None if q.until is None else local_midnight_ms(q.until + timedelta(days=1), q.tz)
    return lo, hi


def _where(q: ReportQuery) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if q.sources:
        # The unary + keeps SQLite from scanning all of a source through the unique (source, key) index
        # when a time range is also given: usage_ts is the better index for every report query.
        clauses.append(f"+u.source IN ({','.join('?' * len(q.sources))})")
        params.extend(q.sources)
    lo, hi = _bounds_ms(q)
    if lo is not None:
        clauses.append("u.ts_ms >= ?")
        params.append(lo)
    if hi is not None:
        clauses.append("u.ts_ms < ?")
        params.append(hi)
    return (" AND ".join(clauses) or "1"), params


def _where_rollup(q: ReportQuery, width: int) -> tuple[str, list[object]]:
    """The same filter over rollup slots of ``width`` (the bounds fall on slot edges: see ``_width``)."""
    clauses = ["r.width_ms = ?"]
    params: list[object] = [width]
    if q.sources:
        clauses.append(f"r.source IN ({','.join('?' * len(q.sources))})")
        params.extend(q.sources)
    lo, hi = _bounds_ms(q)
    if lo is not None:
        clauses.append("r.slot_ms >= ?")
        params.append(lo)
    if hi is not None:
        clauses.append("r.slot_ms < ?")
        params.append(hi)
    return " AND ".join(clauses), params


def _width(*edges: int | None) -> int | None:
    """The widest rollup slot that every edge falls on, or None (some 19th-century local mean times)."""
    for width in reversed(WIDTHS):
        if all(m is None or m % width == 0 for m in edges):
            return width
    return None


def _data_range(conn: sqlite3.Connection, q: ReportQuery, width: int | None) -> tuple[date, date] | None:
    if width is not None:
        where, params = _where_rollup(q, width)
        sql = f"SELECT min(r.first_ms), max(r.last_ms) FROM usage_rollup r WHERE {where}"
    else:
        where, params = _where(q)
        sql = f"SELECT min(u.ts_ms), max(u.ts_ms) FROM usage u WHERE {where}"
    lo, hi = conn.execute(sql, params).fetchone()
    if lo is None:
        return None
    first = q.since or local_date(int(lo), q.tz)
    last = q.until or local_date(int(hi), q.tz)
    return first, last


def _fill_periods(conn: sqlite3.Connection, plist: list[Period]) -> None:
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS _periods (label TEXT, start_ms INTEGER, end_ms INTEGER)")
    conn.execute("DELETE FROM _periods")
    conn.executemany("INSERT INTO _periods VALUES (?, ?, ?)", [(p.label, p.start_ms, p.end_ms) for p in plist])


def _time_rows(conn: sqlite3.Connection, q: ReportQuery, width: int | None) -> list[ReportRow]:
    """Rows per period; from rollup slots of ``width`` (narrowed to what the periods' edges allow) or, with
    None, from the usage rows."""
    rng = _data_range(conn, q, width)
    if rng is None:
        return []
    plist: list[Period] = periods(q.kind, rng[0], rng[1], q.tz)
    if width is not None:
        width = _width(*(p.start_ms for p in plist), *(p.end_ms for p in plist))  # includes the bounds
    _fill_periods(conn, plist)
    if width is not None:
        where, params = _where_rollup(q, width)
        sql = f"""
            SELECT p.label, r.model, {_ROLLUP_SUMS}
            FROM _periods p JOIN usage_rollup r ON r.slot_ms >= p.start_ms AND r.slot_ms < p.end_ms
            WHERE {where}
            GROUP BY p.label, r.model
            ORDER BY p.label, r.model"""
    else:
        where, params = _where(q)
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
        sql = f"SELECT u.model, u.model, {_SUMS} FROM usage u WHERE {where} GROUP BY u.model ORDER BY u.model"
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


def _in_snapshot(conn: sqlite3.Connection, q: ReportQuery, use_rollup: bool) -> list[ReportRow]:
    """:func:`_rows` in one read transaction, so the freshness check and the sums see the same state of the file."""
    if conn.in_transaction:
        return _rows(conn, q, use_rollup)
    conn.execute("BEGIN")
    try:
        return _rows(conn, q, use_rollup)
    finally:
        conn.execute("COMMIT")


def _model_rows_rollup(conn: sqlite3.Connection, q: ReportQuery, width: int) -> list[ReportRow]:
    where, params = _where_rollup(q, width)
    sql = f"SELECT r.model, r.model, {_ROLLUP_SUMS} FROM usage_rollup r WHERE {where} GROUP BY r.model ORDER BY r.model"
    rows = _collect(conn.execute(sql, params).fetchall())
    for r in rows:
        r.key = r.key if r.key != "None" else "(unknown)"
    rows.sort(key=lambda r: -r.totals.cost_pusd)
    return rows


def _rows(conn: sqlite3.Connection, q: ReportQuery, use_rollup: bool) -> list[ReportRow]:
    width = _width(*_bounds_ms(q)) if use_rollup and q.kind in (*TIME_KINDS, "model") else None
    if width is not None and dirty_range(conn) is not None:
        width = None  # rows changed since the rollup was built and nobody refreshed it: read the rows
    if q.kind in TIME_KINDS:
        return _time_rows(conn, q, width)
    if width is not None:
        return _model_rows_rollup(conn, q, width)
    return _group_rows(conn, q)


def build_report(conn: sqlite3.Connection, q: ReportQuery, *, use_rollup: bool = True) -> Report:
    """The report for ``q``. Time and model reports add up the rollup when it is current (call
    ``tracker.ledger.rollup.refresh`` first), else the usage rows; both give the same numbers."""
    rows = _in_snapshot(conn, q, use_rollup)
    totals = Totals()
    for r in rows:
        totals.add(r.totals)
    return Report(q.kind, zone_name(q.tz), q.since, q.until, q.sources, rows, totals)
