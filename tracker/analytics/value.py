"""Value per token dollar: spend and outcomes side by side, per month, project or client (``report value``).

For each group and in total: spend (estimated from local logs, reported by provider accounts, and the number of
unpriced records, which are never counted as $0), the outcomes logged and their value, value per dollar, cost
per outcome and per kept outcome, spend with no outcome, and the month-end run-rate of the current month.

**Spend** is ``estimated + reported`` (``+ subscription`` once a flat plan is stored: then the usage a plan
covered leaves estimated for ``covered`` (its API-equivalent cost, shown apart, never spend) and the plan's daily
fee shares are spend of the projects whose usage it covered, at that usage's instants; see
``tracker.analytics.subscriptions.plan_spend``), labelled so everywhere, with the parts kept: the same figure
``tracker.analytics.attribution`` attributes to outcomes and ``tracker.analytics.spend`` projects, so spend with
no outcome and spend attributed to outcomes add up. The two parts can overlap when an agent's API calls are both
logged locally and billed to a polled account (``report reconcile`` shows it).

**Outcome value** counts outcomes whose status is ``kept`` (a redone or abandoned outcome did not deliver its
value; the redo is an outcome of its own): the dollar value, plus hours saved times the hourly rate from Settings.
Without a rate, hours are carried as hours (``unvalued_hours``), never as $0.

**Spend with no outcome** is spend outside every outcome's attribution window (``attribute_outcomes``: a
project's spend before its last outcome belongs to an outcome; after it, or in a project with no outcome, it
does not). Each piece of spend is placed at the same instant attribution uses (a usage row's time, a provider
bucket's start), so the two agree to the millisecond.

Groups: months are local months in ``tz`` (provider buckets, whole UTC days, count on their UTC date, as in every
report); projects are attribution's projects (``(no project)``: spend no rule or folder names, and outcomes
logged without a project); clients are the projects' clients (``(no client)`` otherwise).

Money stays in integer pico-USD; Decimal appears only for hours and the hourly rate, and when formatting.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from tracker.analytics.attribution import (
    Rules,
    load_rules,
    project_for_path,
    reported_buckets,
)
from tracker.analytics.periods import local_midnight_ms, zone_name
from tracker.analytics.reported import usd_text
from tracker.analytics.spend import run_rate
from tracker.domain import PICO_PER_USD
from tracker.plans import has_subscriptions

GROUPINGS = ("month", "project", "client")
NO_PROJECT = "(no project)"
NO_CLIENT = "(no client)"
_SLOT_MS = 900_000  # every zone offset in use is a multiple of 15 minutes: a slot never straddles local midnight
_DAY_MS = 86_400_000
_EPOCH = date(1970, 1, 1)


@dataclass
class ValueFigures:
    """The figures of one group (or of the total). Money in pico-USD; hours as exact decimals."""

    key: str
    estimated_pusd: int = 0
    reported_pusd: int = 0
    unpriced_records: int = 0
    subscription_pusd: int = 0  # flat plans' fee shares (tracker.analytics.subscriptions.plan_spend)
    covered_pusd: int = 0  # API-equivalent cost of the usage plans covered: shown apart, never spend
    outcomes: int = 0
    kept_outcomes: int = 0
    value_pusd: int = 0  # kept outcomes: dollar value + hours valued at the rate
    hours_saved: Decimal = field(default_factory=Decimal)  # kept outcomes' hours, valued or not
    unvalued_hours: Decimal = field(default_factory=Decimal)  # hours with no rate to value them
    without_outcome_pusd: int = 0
    run_rate_pusd: int | None = None  # month-end projection of the current month; None: not this row's to say
    client: str | None = None  # project rows: the project's client

    @property
    def spend_pusd(self) -> int:
        """Estimated + reported (+ subscription, when plans exist; the label says so wherever it is shown)."""
        return self.estimated_pusd + self.reported_pusd + self.subscription_pusd

    @property
    def spend_known(self) -> bool:
        """False when the only spend is unpriced records: the spend is unknown, not $0."""
        return self.spend_pusd != 0 or self.unpriced_records == 0

    @property
    def value_known(self) -> bool:
        """False when the only value is hours with no rate: the value is unknown, not $0."""
        return self.value_pusd != 0 or self.unvalued_hours == 0

    def value_per_dollar(self) -> Decimal | None:
        """Outcome value / spend, to 2 places (half-even); None when either is unknown or spend is 0."""
        if not (self.spend_known and self.value_known) or self.spend_pusd <= 0:
            return None
        return ratio(self.value_pusd, self.spend_pusd)

    def cost_per(self, count: int) -> int | None:
        """Spend / ``count`` in pico-USD (half-even); None when there is nothing to divide or divide by."""
        if count <= 0 or not self.spend_known:
            return None
        return _div_half_even(self.spend_pusd, count)

    def add(self, other: ValueFigures) -> None:
        self.estimated_pusd += other.estimated_pusd
        self.reported_pusd += other.reported_pusd
        self.unpriced_records += other.unpriced_records
        self.subscription_pusd += other.subscription_pusd
        self.covered_pusd += other.covered_pusd
        self.outcomes += other.outcomes
        self.kept_outcomes += other.kept_outcomes
        self.value_pusd += other.value_pusd
        self.hours_saved += other.hours_saved
        self.unvalued_hours += other.unvalued_hours
        self.without_outcome_pusd += other.without_outcome_pusd


@dataclass(frozen=True)
class ValueQuery:
    by: str  # month | project | client
    tz: tzinfo
    since: date | None = None
    until: date | None = None
    now_ms: int = 0
    hourly_rate_usd: Decimal | None = None
    run_rates: bool = True  # False: skip the month-end run-rates (0 in the rows; the tray's value alert)


@dataclass
class ValueReport:
    by: str
    timezone: str
    since: date | None
    until: date | None
    hourly_rate_usd: Decimal | None
    current_month: str
    rows: list[ValueFigures]
    totals: ValueFigures
    no_outcome: list[tuple[str, int]]  # (project, spend with no outcome, pico), largest first: the warnings
    subscriptions: bool = False  # any plan stored: show the subscription column (else outputs stay as they were)


@dataclass(frozen=True)
class _Piece:
    """Spend at one instant in one project, with the local date it counts on."""

    project: str | None
    day: date
    at_ms: int
    estimated_pusd: int
    reported_pusd: int
    unpriced_records: int
    subscription_pusd: int = 0
    covered_pusd: int = 0

    @property
    def spend_pusd(self) -> int:
        return self.estimated_pusd + self.reported_pusd + self.subscription_pusd


@dataclass(frozen=True)
class _Outcome:
    project: str | None
    at_ms: int
    kept: bool
    value_pusd: int | None
    hours: Decimal | None


def ratio(num: int, den: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        return (Decimal(num) / Decimal(den)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def _div_half_even(num: int, den: int) -> int:
    q, r = divmod(num, den)
    twice = 2 * r
    if twice > den or (twice == den and q % 2 == 1):
        q += 1
    return q


def hours_pusd(hours: Decimal, rate_usd: Decimal) -> int:
    """Hours times a dollar rate, in whole pico-USD (half-even)."""
    with localcontext() as ctx:
        ctx.prec = 80
        return int((hours * rate_usd * PICO_PER_USD).to_integral_value(rounding=ROUND_HALF_EVEN))


def hours_text(hours: Decimal) -> str:
    """An exact decimal string of hours, without exponent or trailing zeros ("2.5", "10", "0")."""
    text = format(hours.normalize(), "f")
    return "0" if text in ("-0", "") else text


def figures_json(f: ValueFigures) -> dict[str, Any]:
    """The figures as JSON fields (exact decimal strings; None where unknown), in the order docs/cli.md lists them:
    ``report value`` prints them all, the client report's summary the first twelve."""
    vpd = f.value_per_dollar()
    per, per_kept = f.cost_per(f.outcomes), f.cost_per(f.kept_outcomes)
    return {
        "spend_usd": usd_text(f.spend_pusd) if f.spend_known else None,
        "estimated_usd": usd_text(f.estimated_pusd),
        "reported_usd": usd_text(f.reported_pusd),
        "unpriced_records": f.unpriced_records,
        "outcomes": f.outcomes,
        "kept_outcomes": f.kept_outcomes,
        "outcome_value_usd": usd_text(f.value_pusd) if f.value_known else None,
        "hours_saved": hours_text(f.hours_saved),
        "unvalued_hours": hours_text(f.unvalued_hours),
        "value_per_dollar": None if vpd is None else str(vpd),
        "cost_per_outcome": None if per is None else usd_text(per),
        "cost_per_kept_outcome": None if per_kept is None else usd_text(per_kept),
        "spend_without_outcome_usd": usd_text(f.without_outcome_pusd),
        "run_rate_usd": None if f.run_rate_pusd is None else usd_text(f.run_rate_pusd),
    }


def now_ms() -> int:
    """The current time (tests replace this to freeze the clock)."""
    return int(datetime.now().timestamp() * 1000)


# ---- reading ---------------------------------------------------------------------------------------------


def _local_bounds(first: date | None, last: date | None, tz: tzinfo) -> tuple[int | None, int | None]:
    lo = None if first is None else local_midnight_ms(first, tz)
    hi = None if last is None else local_midnight_ms(last + timedelta(days=1), tz)
    return lo, hi


def _utc_bounds(first: date | None, last: date | None) -> tuple[int | None, int | None]:
    lo = None if first is None else (first - _EPOCH).days * _DAY_MS
    hi = None if last is None else (last + timedelta(days=1) - _EPOCH).days * _DAY_MS
    return lo, hi


def _usage_pieces(
    conn: sqlite3.Connection, rules: Rules, tz: tzinfo, first: date | None, last: date | None, *,
    cuts: Mapping[str | None, int] | None = None,
) -> Iterator[_Piece]:
    """Local usage placed on its local date, as pieces whose instants attribution's windows can be cut on.

    Without ``cuts``: one piece per (cwd, instant). With ``cuts`` (per project, the instant of its last outcome:
    :class:`_Windows`), one piece per (cwd, 15-minute slot, before or from the cut), at its first row's instant:
    every row of a piece lies on the same side of its project's cut as that instant, so "covered?" is answered
    the same, from some thousands of pieces instead of one per request (a million-row ledger: ~1M pieces).
    """
    lo, hi = _local_bounds(first, last, tz)
    clauses, params = [], []
    if lo is not None:
        clauses.append("u.ts_ms >= ?")
        params.append(lo)
    if hi is not None:
        clauses.append("u.ts_ms < ?")
        params.append(hi)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    names: dict[str | None, str | None] = {}
    if cuts is None:
        sql = f"""SELECT u.project_path, u.ts_ms, coalesce(sum(u.cost_pusd), 0),
                         sum(CASE WHEN u.cost_kind = 'unpriced' THEN 1 ELSE 0 END)
                  FROM usage u {where} GROUP BY u.project_path, u.ts_ms"""
        rows = conn.execute(sql, params)
    else:
        by_path = _cuts_by_path(conn, rules, cuts, names)
        sql = f"""WITH cut(path, at) AS MATERIALIZED (
                      SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))
                  SELECT u.project_path, min(u.ts_ms), coalesce(sum(u.cost_pusd), 0),
                         sum(CASE WHEN u.cost_kind = 'unpriced' THEN 1 ELSE 0 END)
                  FROM usage u LEFT JOIN cut c ON c.path = u.project_path {where}
                  GROUP BY u.project_path, u.ts_ms / {_SLOT_MS},
                           u.ts_ms < coalesce(CASE WHEN u.project_path IS NULL THEN ? ELSE c.at END, -1)"""
        null_cut = by_path.pop(None, None)
        pairs = json.dumps([[path, at] for path, at in by_path.items()])
        rows = conn.execute(sql, [pairs, *params, null_cut])  # in the order of the placeholders
    days: dict[int, date] = {}
    for path, ts_raw, cost, unpriced in rows:
        if path not in names:
            names[path] = project_for_path(path, rules)
        ts = int(ts_raw)
        slot = ts - ts % _SLOT_MS
        day = days.get(slot)
        if day is None:
            day = days[slot] = datetime.fromtimestamp(slot / 1000, tz).date()
        yield _Piece(names[path], day, ts, int(cost), 0, int(unpriced))


def _cuts_by_path(conn: sqlite3.Connection, rules: Rules, cuts: Mapping[str | None, int],
                  names: dict[str | None, str | None]) -> dict[str | None, int]:
    """Each working folder's cut: its project's (rules applied). Folders of projects with no outcome have none."""
    out: dict[str | None, int] = {}
    for (path,) in conn.execute("SELECT DISTINCT project_path FROM usage"):
        project = names[path] = project_for_path(path, rules)
        if project in cuts:
            out[path] = cuts[project]
    return out


def _reported_pieces(conn: sqlite3.Connection, rules: Rules, first: date | None, last: date | None) -> Iterator[_Piece]:
    """Billed USD per provider bucket, at the bucket's start, placed on its UTC date (as every report does)."""
    lo, hi = _utc_bounds(first, last)
    for project, start, cost in reported_buckets(conn, rules, lo, hi):
        yield _Piece(project, _EPOCH + timedelta(days=start // _DAY_MS), start, 0, cost, 0)


def _plan_pieces(conn: sqlite3.Connection, rules: Rules, tz: tzinfo, span: tuple[date | None, date | None],
                 today: date) -> Iterator[_Piece]:
    """The plans' corrections (``subscriptions.plan_spend``), at the instants attribution uses: covered usage
    leaves estimated for covered, fee shares are subscription spend of their project."""
    from tracker.analytics.subscriptions import plan_spend

    ps = plan_spend(conn, tz, today, span[0], span[1], rules=rules)
    for u in ps.covered:
        yield _Piece(u.project, u.day, u.at_ms, -u.cost_pusd, 0, 0, 0, u.cost_pusd)
    for f in ps.fees:
        yield _Piece(f.project, f.day, f.at_ms, 0, 0, 0, f.pusd)


def _pieces(conn: sqlite3.Connection, rules: Rules, tz: tzinfo, span: tuple[date | None, date | None],
            today: date | None = None, *, cuts: Mapping[str | None, int] | None = None) -> Iterator[_Piece]:
    """Every piece of spend on local days ``span``; with ``today`` (plans stored), the plans' pieces too; usage
    summed up to ``cuts`` (see :func:`_usage_pieces`)."""
    yield from _usage_pieces(conn, rules, tz, *span, cuts=cuts)
    yield from _reported_pieces(conn, rules, *span)
    if today is not None:
        yield from _plan_pieces(conn, rules, tz, span, today)


def _outcomes(conn: sqlite3.Connection, q: ValueQuery) -> list[_Outcome]:
    lo, hi = _local_bounds(q.since, q.until, q.tz)
    sql = """SELECT p.name, o.at_ms, o.status, o.value_pusd, o.hours_saved
             FROM outcomes o LEFT JOIN projects p ON p.id = o.project_id
             WHERE o.at_ms >= ? AND o.at_ms < ? ORDER BY o.at_ms, o.id"""
    rows = conn.execute(sql, (-(2**62) if lo is None else lo, 2**62 if hi is None else hi)).fetchall()
    return [
        _Outcome(None if name is None else str(name), int(at), status == "kept",
                 None if value is None else int(value), None if hours in (None, "") else Decimal(str(hours)))
        for name, at, status, value, hours in rows
    ]


class _Windows:
    """Is an instant of a project's spend inside some outcome's attribution window?

    By the default method (``attribution.attribute_outcomes``) a project's windows are chained: each outcome's runs
    from the project's previous outcome (the first from the project's first spend) to the outcome itself. Merged,
    they are one span from the project's first spend to its last outcome, and every piece of the project's spend
    lies at or after its first spend, so "covered" is "before the project's last outcome". One query, instead of
    attributing every outcome (seconds on a million rows; tests/test_report_value.py checks the two agree).
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.last: dict[str | None, int] = {
            None if name is None else str(name): int(at)
            for name, at in conn.execute("SELECT p.name, max(o.at_ms) FROM outcomes o "
                                         "LEFT JOIN projects p ON p.id = o.project_id GROUP BY p.name")
        }

    def covers(self, project: str | None, at_ms: int) -> bool:
        last = self.last.get(project)
        return last is not None and at_ms < last


# ---- grouping ----------------------------------------------------------------------------------------------


def _group_key(by: str, project: str | None, day: date, rules: Rules) -> str:
    if by == "month":
        return day.strftime("%Y-%m")
    if by == "project":
        return NO_PROJECT if project is None else project
    client = rules.client_of(project)
    return NO_CLIENT if client is None else client


def _row(rows: dict[str, ValueFigures], key: str) -> ValueFigures:
    r = rows.get(key)
    if r is None:
        r = rows[key] = ValueFigures(key)
    return r


def _add_spend(rows: dict[str, ValueFigures], q: ValueQuery, rules: Rules, pieces: Iterable[_Piece],
               windows: _Windows) -> dict[str | None, int]:
    """Spend into ``rows``; returns spend with no outcome per project (for the warnings)."""
    no_outcome: dict[str | None, int] = {}
    for p in pieces:
        r = _row(rows, _group_key(q.by, p.project, p.day, rules))
        r.estimated_pusd += p.estimated_pusd
        r.reported_pusd += p.reported_pusd
        r.unpriced_records += p.unpriced_records
        r.subscription_pusd += p.subscription_pusd
        r.covered_pusd += p.covered_pusd
        if not windows.covers(p.project, p.at_ms):
            r.without_outcome_pusd += p.spend_pusd
            no_outcome[p.project] = no_outcome.get(p.project, 0) + p.spend_pusd
    return no_outcome


def _add_outcomes(rows: dict[str, ValueFigures], q: ValueQuery, rules: Rules, outcomes: list[_Outcome]) -> None:
    for o in outcomes:
        day = datetime.fromtimestamp(o.at_ms / 1000, q.tz).date()
        r = _row(rows, _group_key(q.by, o.project, day, rules))
        r.outcomes += 1
        if not o.kept:
            continue
        r.kept_outcomes += 1
        r.value_pusd += o.value_pusd or 0
        if o.hours is not None:
            r.hours_saved += o.hours
            if q.hourly_rate_usd is None:
                r.unvalued_hours += o.hours
            else:
                r.value_pusd += hours_pusd(o.hours, q.hourly_rate_usd)


def _month_bounds(now: int, tz: tzinfo) -> tuple[str, date, date, int, int]:
    today = datetime.fromtimestamp(now / 1000, tz).date()
    first = today.replace(day=1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first.strftime("%Y-%m"), first, nxt, local_midnight_ms(first, tz), local_midnight_ms(nxt, tz)


def _run_rates(conn: sqlite3.Connection, q: ValueQuery, rules: Rules, rows: dict[str, ValueFigures],
               totals: ValueFigures, *, today: date | None, cuts: Mapping[str | None, int] | None = None) -> str:
    """Month-end run-rate of the current month (whatever --since/--until say), per group and in total."""
    label, first, nxt, lo_ms, hi_ms = _month_bounds(q.now_ms, q.tz)
    so_far: dict[str, int] = {}
    total = 0
    for p in _pieces(conn, rules, q.tz, (first, nxt - timedelta(days=1)), today, cuts=cuts):
        key = _group_key(q.by, p.project, p.day, rules)
        so_far[key] = so_far.get(key, 0) + p.spend_pusd
        total += p.spend_pusd
    for key, r in rows.items():
        if q.by != "month" or key == label:
            r.run_rate_pusd = run_rate(so_far.get(key, 0), lo_ms, hi_ms, q.now_ms)
    totals.run_rate_pusd = run_rate(total, lo_ms, hi_ms, q.now_ms)
    return label


def _order(by: str, rows: dict[str, ValueFigures]) -> list[ValueFigures]:
    if by == "month":
        return [rows[k] for k in sorted(rows)]
    last = (NO_PROJECT, NO_CLIENT)
    return sorted(rows.values(), key=lambda r: (r.key in last, -r.spend_pusd, r.key))


def build_value_report(conn: sqlite3.Connection, q: ValueQuery) -> ValueReport:
    """The figures of ``q``, one row per group with spend or outcomes, and the totals (the sum of the rows)."""
    if q.by not in GROUPINGS:
        raise ValueError(f"unknown grouping {q.by!r}")
    rules = load_rules(conn)
    rows: dict[str, ValueFigures] = {}
    subscriptions = has_subscriptions(conn)
    today = datetime.fromtimestamp(q.now_ms / 1000, q.tz).date() if subscriptions else None
    windows = _Windows(conn)
    pieces = _pieces(conn, rules, q.tz, (q.since, q.until), today, cuts=windows.last)
    no_outcome = _add_spend(rows, q, rules, pieces, windows)
    _add_outcomes(rows, q, rules, _outcomes(conn, q))
    if q.by == "project":
        for r in rows.values():
            r.client = rules.client_of(None if r.key == NO_PROJECT else r.key)
    totals = ValueFigures("total")
    for r in rows.values():
        totals.add(r)
    label = (_run_rates(conn, q, rules, rows, totals, today=today, cuts=windows.last) if q.run_rates
             else _month_bounds(q.now_ms, q.tz)[0])
    warnings = sorted(((NO_PROJECT if p is None else p, v) for p, v in no_outcome.items() if v > 0),
                      key=lambda kv: (-kv[1], kv[0]))
    return ValueReport(q.by, zone_name(q.tz), q.since, q.until, q.hourly_rate_usd, label, _order(q.by, rows),
                       totals, warnings, subscriptions)
