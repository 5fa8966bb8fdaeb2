"""The figures of a client report (``token-ledger report client NAME --month YYYY-MM``), Qt-free.

A freelancer sends this report to a client: what the client's projects cost in AI spend during one month, and
what was delivered. Rendering (PDF, HTML) is in ``tracker.ui.client_report``; this module builds the data and
its exact JSON and CSV forms.

The figures are the value report's (``tracker.analytics.value``) and attribution's
(``tracker.analytics.attribution``), never computed another way:

* the totals are ``report value --by client`` for the month (``since``/``until`` = the month's first and last
  local day), and the per-project lines are ``report value --by project`` rows of the client's projects;
* spend per day is ``spend_by_project_day`` of the client's projects (its sum is the total);
* spend by provider and by model splits the same spend: local usage rows are placed exactly as the value report
  places them (``ts_ms`` inside the month's local bounds, project from ``project_for_path``), provider bills
  exactly as ``reported_buckets`` selects them (billed USD rows, bucket start on its UTC date inside the month,
  project from ``project_for_provider_row``);
* an outcome's cost is the spend ``attribute_outcomes`` gives it (its project's spend since the previous outcome).

With a flat plan stored, the usage it covered moves from estimated to ``covered`` (shown apart, not spend) and the
plan's fee shares of the client's projects are ``subscription`` spend: per provider (the plan's), as a by-model
line ``NAME (flat plan)``, per project and per day, exactly as ``report value`` counts them.

Estimated (from local agent logs, priced with public price tables) and reported (billed by a provider account)
are kept apart everywhere; unpriced requests are counted, never valued at $0. Nothing here names a file path,
a session id or a key: projects are shown by name, models and providers by name.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from tracker.analytics.attribution import (
    Rules,
    attribute_outcomes,
    load_rules,
    project_for_path,
    project_for_provider_row,
    spend_by_project_day,
)
from tracker.analytics.periods import local_midnight_ms, zone_name
from tracker.analytics.reconcile import PAIRS
from tracker.analytics.reported import PROVIDER_LABELS, usd_text
from tracker.analytics.subscriptions import plan_days, plan_spend, spend_by_project_day_with_plans
from tracker.analytics.value import (
    ValueFigures,
    ValueQuery,
    build_value_report,
    figures_json,
    hours_pusd,
    hours_text,
    now_ms,
)
from tracker.plans import list_subscriptions

SOURCE_PROVIDER = {source: provider for provider, source in PAIRS}
NOT_ITEMISED = "(not itemised by model)"
ESTIMATED_NOTE = (
    "Estimated: worked out from the coding agents' own usage logs, priced with the providers' public price lists. "
    "Reported: what a provider account billed, as the provider reports it. The two are shown apart and can "
    "overlap. Unpriced: requests to a model with no known price; they are counted, not given a cost."
)
PLANS_NOTE = (
    "Subscription: the share of a flat plan's fee (e.g. a monthly coding plan) for the days of the month, split "
    "between projects by how much of the plan's usage each had that day; it is spend. Covered: what that usage "
    "would have cost at the providers' public API prices; it was paid by the plan, so it is not spend."
)
KIND_LABELS = {
    "shipped_feature": "Shipped feature", "bug_fix": "Bug fix", "pr_merged": "PR merged", "decision": "Decision",
    "automation": "Automation", "document": "Document", "research": "Research",
    "client_deliverable": "Client deliverable", "other": "Other",
}
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_DAY_MS = 86_400_000
_EPOCH = date(1970, 1, 1)


class UnknownClientError(ValueError):
    """The client is not in the ledger; the message lists the known ones."""


@dataclass
class SpendLine:
    """Spend of one provider, model or project in the month, estimated and reported apart."""

    name: str
    estimated_pusd: int = 0
    reported_pusd: int = 0
    unpriced_records: int = 0
    provider: str | None = None  # model lines: whose model
    subscription_pusd: int = 0  # flat plans' fee shares of the client's projects
    covered_pusd: int = 0  # API-equivalent cost of usage a plan covered: not spend, not in estimated_pusd

    @property
    def spend_pusd(self) -> int:
        return self.estimated_pusd + self.reported_pusd + self.subscription_pusd


@dataclass(frozen=True)
class OutcomeLine:
    number: int  # 1, 2, ...: the chart's markers name outcomes by it
    day: date
    title: str
    kind: str
    project: str
    status: str
    value_pusd: int | None  # the dollar value as logged
    hours_saved: Decimal | None
    counted_pusd: int | None  # what the value report counts (kept only); None: hours with no rate
    unvalued_hours: Decimal  # kept hours with no rate to value them
    attributed_pusd: int  # its project's spend since the previous outcome (attribute_outcomes)


@dataclass(frozen=True)
class DaySpend:
    day: date
    estimated_pusd: int
    reported_pusd: int
    subscription_pusd: int = 0
    covered_pusd: int = 0


@dataclass
class ClientReport:
    client: str
    month: str  # YYYY-MM
    first: date
    last: date
    timezone: str
    prepared: date
    hourly_rate_usd: Decimal | None
    totals: ValueFigures
    projects: list[ValueFigures]
    by_provider: list[SpendLine]
    by_model: list[SpendLine]
    outcomes: list[OutcomeLine]
    days: list[DaySpend] = field(default_factory=list)
    subscriptions: bool = False  # a plan is stored: subscription and covered figures are shown (else as before)


@dataclass(frozen=True)
class ClientQuery:
    client: str
    month: date  # its first day
    tz: tzinfo
    hourly_rate_usd: Decimal | None = None
    now_ms: int = 0  # "prepared on" (and the value report's clock)


@dataclass(frozen=True)
class _Scope:
    """What every split reads: the rules, the client's projects, and the month (local days in ``tz``)."""

    rules: Rules
    projects: frozenset[str]
    tz: tzinfo
    first: date
    last: date
    today: date | None = None  # set when a plan is stored: plans apply up to this day


# ---- inputs ------------------------------------------------------------------------------------------------


def parse_month(text: str) -> date:
    """``YYYY-MM`` -> the month's first day; ValueError with a plain message otherwise."""
    m = _MONTH_RE.match(text.strip())
    if m is None or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1970:
        raise ValueError(f"--month {text!r}: use YYYY-MM, e.g. 2026-11")
    return date(int(m.group(1)), int(m.group(2)), 1)


def month_last_day(first: date) -> date:
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def known_clients(conn: sqlite3.Connection) -> list[str]:
    return [str(name) for (name,) in conn.execute("SELECT name FROM clients ORDER BY name COLLATE NOCASE")]


def resolve_client(conn: sqlite3.Connection, name: str) -> str:
    """The stored client called ``name`` (exact, else the one case-insensitive match); UnknownClientError if none."""
    clients = known_clients(conn)
    wanted = " ".join(name.split())
    if wanted in clients:
        return wanted
    folded = [c for c in clients if c.casefold() == wanted.casefold()]
    if len(folded) == 1:
        return folded[0]
    if not clients:
        raise UnknownClientError(
            f"no client {wanted!r}: there are no clients yet; give a project one with "
            "`token-ledger project set-client PROJECT CLIENT`")
    raise UnknownClientError(f"no client {wanted!r}; known clients: {', '.join(clients)}")


# ---- building ----------------------------------------------------------------------------------------------


def build_client_report(conn: sqlite3.Connection, q: ClientQuery) -> ClientReport:
    client = resolve_client(conn, q.client)
    first, last = q.month, month_last_day(q.month)
    rules = load_rules(conn)
    projects = {name for name, p in rules.projects.items() if p.client == client}
    by_client = build_value_report(conn, _value_query(q, "client", first, last))
    by_project = build_value_report(conn, _value_query(q, "project", first, last))
    totals = next((r for r in by_client.rows if r.key == client), ValueFigures(client))
    totals.run_rate_pusd = None  # a month's report, not a projection
    project_rows = [r for r in by_project.rows if r.key in projects]
    for r in project_rows:
        r.run_rate_pusd = None
    now = q.now_ms or now_ms()
    today = datetime.fromtimestamp(now / 1000, q.tz).date() if by_client.subscriptions else None
    scope = _Scope(rules, frozenset(projects), q.tz, first, last, today)
    by_provider, by_model = _provider_and_model_lines(conn, scope)
    return ClientReport(
        client, first.strftime("%Y-%m"), first, last, zone_name(q.tz),
        datetime.fromtimestamp(q.now_ms / 1000, q.tz).date(), q.hourly_rate_usd, totals, project_rows,
        by_provider, by_model, _outcome_lines(conn, q, rules, projects, (first, last)),
        _days(conn, scope), by_client.subscriptions,
    )


def _value_query(q: ClientQuery, by: str, first: date, last: date) -> ValueQuery:
    return ValueQuery(by, q.tz, first, last, q.now_ms or now_ms(), q.hourly_rate_usd)


def _line(lines: dict[tuple[str, str | None], SpendLine], name: str, provider: str | None = None) -> SpendLine:
    line = lines.get((name, provider))
    if line is None:
        line = lines[(name, provider)] = SpendLine(name, provider=provider)
    return line


def _provider_and_model_lines(conn: sqlite3.Connection, scope: _Scope) -> tuple[list[SpendLine], list[SpendLine]]:
    providers: dict[tuple[str, str | None], SpendLine] = {}
    models: dict[tuple[str, str | None], SpendLine] = {}
    for provider, model, cost, unpriced in _estimated_rows(conn, scope):
        for line in (_line(providers, provider), _line(models, model, provider)):
            line.estimated_pusd += cost
            line.unpriced_records += unpriced
    for provider, model, cost in _reported_rows(conn, scope):
        _line(providers, provider).reported_pusd += cost
        _line(models, model, provider).reported_pusd += cost
    if scope.today is not None:
        _add_plans(conn, scope, providers, models)
    return _ordered(providers.values()), _ordered(models.values())


def _add_plans(conn: sqlite3.Connection, scope: _Scope, providers: dict[tuple[str, str | None], SpendLine],
               models: dict[tuple[str, str | None], SpendLine]) -> None:
    """Plans: covered usage moves from estimated to covered (per model), each plan's fee shares of the client's
    projects are subscription spend of its provider and of a line of its own (``NAME (flat plan)``)."""
    assert scope.today is not None
    covered_days, _fees = plan_days(list_subscriptions(conn), scope.first, scope.last, scope.today)
    for provider, model, cost in _covered_rows(conn, scope, covered_days):
        for line in (_line(providers, provider), _line(models, model, provider)):
            line.estimated_pusd -= cost
            line.covered_pusd += cost
    for f in plan_spend(conn, scope.tz, scope.today, scope.first, scope.last, rules=scope.rules).fees:
        if f.project in scope.projects:
            provider = _provider_label(SOURCE_PROVIDER.get(f.covers, f.covers))
            _line(providers, provider).subscription_pusd += f.pusd
            _line(models, f"{f.plan} (flat plan)", provider).subscription_pusd += f.pusd


def _covered_rows(conn: sqlite3.Connection, scope: _Scope, covered: dict[date, set[str]]
                  ) -> Iterable[tuple[str, str, int]]:
    """(provider label, model, pico) of the client's usage that a plan covered (its agent, on a plan day)."""
    if not covered:
        return
    lo = local_midnight_ms(min(covered), scope.tz)
    hi = local_midnight_ms(max(covered) + timedelta(days=1), scope.tz)
    sql = """SELECT project_path, source, coalesce(model, ''), ts_ms, coalesce(sum(cost_pusd), 0)
             FROM usage WHERE ts_ms >= ? AND ts_ms < ? GROUP BY project_path, source, model, ts_ms"""
    names: dict[str | None, str | None] = {}
    for path, source, model, ts, cost in conn.execute(sql, (lo, hi)):
        day = datetime.fromtimestamp(int(ts) / 1000, scope.tz).date()
        if str(source) not in covered.get(day, ()):
            continue
        if path not in names:
            names[path] = project_for_path(path, scope.rules)
        if names[path] in scope.projects:
            provider = _provider_label(SOURCE_PROVIDER.get(str(source), str(source)))
            yield provider, str(model) or "(unknown model)", int(cost)


def _ordered(lines: Iterable[SpendLine]) -> list[SpendLine]:
    return sorted(lines, key=lambda x: (-x.spend_pusd, -x.unpriced_records, x.name == NOT_ITEMISED, x.name))


def _provider_label(provider: str) -> str:
    return PROVIDER_LABELS.get(provider, provider)


def _estimated_rows(conn: sqlite3.Connection, scope: _Scope) -> Iterable[tuple[str, str, int, int]]:
    """(provider label, model, pico, unpriced records) of local usage in the month's local bounds, client only."""
    lo = local_midnight_ms(scope.first, scope.tz)
    hi = local_midnight_ms(scope.last + timedelta(days=1), scope.tz)
    sql = """SELECT project_path, source, coalesce(model, ''), coalesce(sum(cost_pusd), 0),
                    sum(CASE WHEN cost_kind = 'unpriced' THEN 1 ELSE 0 END)
             FROM usage WHERE ts_ms >= ? AND ts_ms < ? GROUP BY project_path, source, model"""
    names: dict[str | None, str | None] = {}
    for path, source, model, cost, unpriced in conn.execute(sql, (lo, hi)):
        if path not in names:
            names[path] = project_for_path(path, scope.rules)
        if names[path] in scope.projects:
            provider = _provider_label(SOURCE_PROVIDER.get(str(source), str(source)))
            yield provider, str(model) or "(unknown model)", int(cost), int(unpriced)


def _reported_rows(conn: sqlite3.Connection, scope: _Scope) -> Iterable[tuple[str, str, int]]:
    """(provider label, model, pico) of billed USD provider rows whose UTC bucket day is in the month, client only.

    The rows and the project are those of ``attribution.reported_buckets``, grouped one level finer (provider and
    model): the same filter, the same ``project_for_provider_row``.
    """
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'provider_usage'").fetchone() is None:
        return
    lo, hi = (scope.first - _EPOCH).days * _DAY_MS, (scope.last + timedelta(days=1) - _EPOCH).days * _DAY_MS
    sql = """
        SELECT a.label, u.provider, u.project, u.dims, u.model, sum(u.cost_pico)
        FROM provider_usage u LEFT JOIN accounts a ON a.id = u.account_id
        WHERE u.billed = 1 AND u.cost_pico IS NOT NULL AND upper(coalesce(u.currency, 'USD')) = 'USD'
          AND u.bucket_start_ms >= ? AND u.bucket_start_ms < ?
        GROUP BY a.label, u.provider, u.project, u.dims, u.model"""
    for label, provider, project, dims, model, cost in conn.execute(sql, (lo, hi)):
        name = project_for_provider_row(
            scope.rules, account=None if label is None else str(label), provider=str(provider), project=str(project),
            dims=str(dims),
        )
        if name in scope.projects:
            yield _provider_label(str(provider)), str(model or "") or NOT_ITEMISED, int(cost)


def _outcome_lines(
    conn: sqlite3.Connection, q: ClientQuery, rules: Rules, projects: set[str], span: tuple[date, date]
) -> list[OutcomeLine]:
    lo, hi = local_midnight_ms(span[0], q.tz), local_midnight_ms(span[1] + timedelta(days=1), q.tz)
    attributed = {o.outcome_id: o.attributed_pusd
                  for o in attribute_outcomes(conn, q.tz, rules, now_ms=q.now_ms or now_ms())}
    sql = """SELECT o.id, o.title, o.kind, o.at_ms, p.name, o.status, o.value_pusd, o.hours_saved
             FROM outcomes o JOIN projects p ON p.id = o.project_id
             WHERE o.at_ms >= ? AND o.at_ms < ? ORDER BY o.at_ms, o.id"""
    out: list[OutcomeLine] = []
    for oid, title, kind, at, project, status, value, hours in conn.execute(sql, (lo, hi)):
        if project not in projects:
            continue
        value_pusd = None if value is None else int(value)
        hrs = None if hours in (None, "") else Decimal(str(hours))
        counted, unvalued = _counted(str(status), value_pusd, hrs, q.hourly_rate_usd)
        out.append(OutcomeLine(
            len(out) + 1, datetime.fromtimestamp(int(at) / 1000, q.tz).date(), str(title), str(kind),
            str(project), str(status), value_pusd, hrs, counted, unvalued, attributed.get(int(oid), 0)))
    return out


def _counted(status: str, value: int | None, hours: Decimal | None, rate: Decimal | None
             ) -> tuple[int | None, Decimal]:
    """The value the value report counts for one outcome (kept only), as ``value._add_outcomes`` counts it."""
    if status != "kept":
        return 0, Decimal(0)
    counted = value or 0
    if hours is None:
        return counted, Decimal(0)
    if rate is None:
        return (counted if value is not None else None), hours
    return counted + hours_pusd(hours, rate), Decimal(0)


def _days(conn: sqlite3.Connection, scope: _Scope) -> list[DaySpend]:
    first, last = scope.first, scope.last
    if scope.today is None:
        spend = spend_by_project_day(conn, scope.tz, first, last, scope.rules)
    else:
        spend = spend_by_project_day_with_plans(conn, scope.tz, (first, last), scope.today, scope.rules)
    sums: dict[date, list[int]] = {}
    for (project, day), s in spend.items():
        if project in scope.projects:
            acc = sums.setdefault(day, [0, 0, 0, 0])
            acc[0] += s.estimated_pusd
            acc[1] += s.reported_pusd
            acc[2] += s.subscription_pusd
            acc[3] += s.covered_pusd
    n = (last - first).days + 1
    days = [first + timedelta(days=i) for i in range(n)]
    return [DaySpend(d, *sums.get(d, [0, 0, 0, 0])) for d in days]


# ---- JSON and CSV ------------------------------------------------------------------------------------------


def _money(pico: int | None) -> str | None:
    return None if pico is None else usd_text(pico)


def summary_json(rep: ClientReport) -> dict[str, Any]:
    fields = figures_json(rep.totals)
    summary = {k: fields[k] for k in list(fields)[:12]}  # spend_usd … cost_per_kept_outcome, as report value
    return summary | _plan_parts(rep.subscriptions, rep.totals.subscription_pusd, rep.totals.covered_pusd)


def _plan_parts(plans: bool, subscription: int, covered: int) -> dict[str, Any]:
    """``subscription_usd`` (spend) and ``covered_usd`` (API-equivalent, not spend), only once a plan exists."""
    return {"subscription_usd": usd_text(subscription), "covered_usd": usd_text(covered)} if plans else {}


def _spend_json(line: SpendLine, plans: bool) -> dict[str, Any]:
    return {"estimated_usd": usd_text(line.estimated_pusd), "reported_usd": usd_text(line.reported_pusd),
            "unpriced_records": line.unpriced_records} | _plan_parts(plans, line.subscription_pusd, line.covered_pusd)


def _project_json(f: ValueFigures, plans: bool) -> dict[str, Any]:
    vpd = f.value_per_dollar()
    return {
        "project": f.key, "estimated_usd": usd_text(f.estimated_pusd), "reported_usd": usd_text(f.reported_pusd),
        "unpriced_records": f.unpriced_records, "outcomes": f.outcomes, "kept_outcomes": f.kept_outcomes,
        "outcome_value_usd": usd_text(f.value_pusd) if f.value_known else None,
        "unvalued_hours": hours_text(f.unvalued_hours),
        "value_per_dollar": None if vpd is None else str(vpd),
    } | _plan_parts(plans, f.subscription_pusd, f.covered_pusd)


def _outcome_json(o: OutcomeLine) -> dict[str, Any]:
    return {
        "number": o.number, "day": o.day.isoformat(), "title": o.title, "kind": o.kind, "project": o.project,
        "status": o.status, "value_usd": _money(o.value_pusd),
        "hours_saved": None if o.hours_saved is None else hours_text(o.hours_saved),
        "counted_value_usd": _money(o.counted_pusd), "unvalued_hours": hours_text(o.unvalued_hours),
        "attributed_spend_usd": usd_text(o.attributed_pusd),
    }


def client_report_json(rep: ClientReport) -> dict[str, Any]:
    plans = rep.subscriptions
    return {
        "report": "client",
        "client": rep.client,
        "month": rep.month,
        "first_day": rep.first.isoformat(),
        "last_day": rep.last.isoformat(),
        "timezone": rep.timezone,
        "prepared": rep.prepared.isoformat(),
        "currency": "USD",
        "hourly_rate_usd": None if rep.hourly_rate_usd is None else format(rep.hourly_rate_usd, "f"),
        "summary": summary_json(rep),
        "by_provider": [{"provider": x.name, **_spend_json(x, plans)} for x in rep.by_provider],
        "by_model": [{"model": x.name, "provider": x.provider, **_spend_json(x, plans)} for x in rep.by_model],
        "by_project": [_project_json(f, plans) for f in rep.projects],
        "outcomes": [_outcome_json(o) for o in rep.outcomes],
        "days": [{"day": d.day.isoformat(), "estimated_usd": usd_text(d.estimated_pusd),
                  "reported_usd": usd_text(d.reported_pusd)}
                 | _plan_parts(plans, d.subscription_pusd, d.covered_pusd) for d in rep.days],
        "notes": [ESTIMATED_NOTE, *([PLANS_NOTE] if plans else [])],
    }


CSV_FIELDS = ("section", "name", "provider", "project", "day", "kind", "status", "estimated_usd", "reported_usd",
              "unpriced_records", "outcomes", "value_usd", "hours_saved", "counted_value_usd", "unvalued_hours",
              "attributed_spend_usd", "value_per_dollar", "cost_per_outcome")


def client_report_csv(rep: ClientReport) -> str:
    """One table, one line per figure group: ``section`` says which (period, summary, provider, model, project,
    outcome, day); a cell that does not apply, or is unknown (null in JSON), is empty."""
    d = client_report_json(rep)
    s = d["summary"]
    fields = CSV_FIELDS if not rep.subscriptions else (
        *CSV_FIELDS[:CSV_FIELDS.index("reported_usd") + 1], "subscription_usd", "covered_usd",
        *CSV_FIELDS[CSV_FIELDS.index("reported_usd") + 1:])
    rows: list[dict[str, Any]] = [
        {"section": "period", "name": rep.month, "day": f"{d['first_day']}..{d['last_day']}"},
        {"section": "summary", "name": rep.client, "estimated_usd": s["estimated_usd"],
         "reported_usd": s["reported_usd"], "unpriced_records": s["unpriced_records"], "outcomes": s["outcomes"],
         "counted_value_usd": s["outcome_value_usd"], "hours_saved": s["hours_saved"],
         "unvalued_hours": s["unvalued_hours"], "value_per_dollar": s["value_per_dollar"],
         "cost_per_outcome": s["cost_per_outcome"],
         **{k: s[k] for k in ("subscription_usd", "covered_usd") if k in s}},
    ]
    rows += [{"section": "provider", "name": x.pop("provider"), **x} for x in d["by_provider"]]
    rows += [{"section": "model", "name": x.pop("model"), **x} for x in d["by_model"]]
    rows += [{"section": "project", "name": x.pop("project"), "counted_value_usd": x.pop("outcome_value_usd"),
              **{k: v for k, v in x.items() if k != "kept_outcomes"}} for x in d["by_project"]]
    rows += [{"section": "outcome", "name": x.pop("title"), **{k: v for k, v in x.items() if k != "number"}}
             for x in d["outcomes"]]
    rows += [{"section": "day", **x} for x in d["days"]]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fields, lineterminator="\n", restval="")
    w.writeheader()
    for row in rows:
        w.writerow({k: "" if v is None else v for k, v in row.items()})
    return buf.getvalue()
