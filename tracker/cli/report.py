"""``token-ledger report``: usage and estimated cost per day, week, month, session, project or model.

``--cost reported|both`` adds what provider accounts billed (``tracker.analytics.reported``), beside the estimate and
never added to it, and ``report reconcile`` compares the two per UTC day (:mod:`tracker.cli.report_reconcile`).
``report value --by month|project|client`` sets spend against the outcomes it bought (:mod:`tracker.cli.report_value`).

JSON and CSV shapes are documented in docs/cli.md. Tables are drawn with rich (imported only for tables);
csv, decimal and the domain types are imported only where used, as ``--format json`` is the scripted path
that must start fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tracker.analytics.reports import REPORT_KINDS
from tracker.cli.context import CliContext, UserError
from tracker.cli.output import SOURCE_NAMES, TOKEN_FIELDS, BadDateError, dumps, parse_date, report_json, usd

if TYPE_CHECKING:
    import sqlite3
    from datetime import date, tzinfo

    from rich.table import Table

    from tracker.analytics.reported import ReportedReport, ReportedRow
    from tracker.analytics.reports import Report, ReportRow, Totals

__all__ = ["TOKEN_FIELDS", "report", "report_csv", "report_json", "usd"]

COST_CHOICES = ("estimated", "reported", "both")
VALUE_GROUPINGS = ("month", "project", "client")


def _parse_date(value: str | None, option: str) -> date | None:
    try:
        return parse_date(value, option)
    except BadDateError as e:
        raise UserError(str(e)) from None


class _ReportCommand(click.Command):
    """``report client NAME ...`` is its own command (``tracker.cli.client_report``); other kinds are parsed here."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        if args[:1] == ["client"]:
            from tracker.cli.client_report import client_report

            return client_report.make_context(f"{info_name} client", args[1:], parent=parent, **extra)
        return super().make_context(info_name, args, parent=parent, **extra)


@click.command(cls=_ReportCommand)
@click.argument("kind", type=click.Choice((*REPORT_KINDS, "reconcile", "value")), default="daily")
@click.option("--since", help="First day to include (YYYY-MM-DD, inclusive, in --tz).")
@click.option("--until", help="Last day to include (YYYY-MM-DD, inclusive, in --tz).")
@click.option("--tz", "tz_name", help="IANA time zone that cuts days, e.g. Europe/Paris (default: this machine's).")
@click.option(
    "--source", "sources", multiple=True, type=click.Choice(SOURCE_NAMES), help="Only this source (repeatable)."
)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--breakdown", is_flag=True, help="Table: one line per model (or billed line item) under each row.")
@click.option(
    "--cost", type=click.Choice(COST_CHOICES),
    help="estimated (default): from local logs; reported: what provider accounts billed; both: side by side.",
)
@click.option("--by", type=click.Choice(VALUE_GROUPINGS), help="report value: one row per month (default), project "
              "or client.")
@click.pass_obj
def report(  # noqa: PLR0917 (click passes options by keyword)
    ctx: CliContext, kind: str, since: str | None, until: str | None, tz_name: str | None,
    sources: tuple[str, ...], fmt: str, breakdown: bool, cost: str | None, by: str | None,
) -> None:
    """Show usage and cost, grouped by KIND (daily, weekly, monthly, session, project, model), or
    `reconcile`: what providers billed next to the log estimates, per UTC day, or `value`: spend against
    the outcomes it bought, --by month, project or client.

    Costs are estimates from dated price tables (labelled "est."). Models without a known price are
    shown as unpriced, with their tokens, never as $0. --cost reported shows what provider accounts
    billed (per UTC day), and --cost both shows the two side by side, never added together.
    """
    import contextlib
    import sqlite3

    from tracker.analytics.periods import BadZoneError, zone
    from tracker.analytics.reports import ReportQuery, build_report
    from tracker.ledger.rollup import refresh as refresh_rollup

    first, last = _parse_date(since, "--since"), _parse_date(until, "--until")
    if first and last and first > last:
        raise UserError(f"--since {first} is after --until {last}")
    if kind == "value":
        from tracker.cli.report_value import check_value_options, value_report

        check_value_options(sources, breakdown, cost)
        return value_report(ctx, by or "month", tz_name, (first, last), fmt)
    if by is not None:
        raise UserError("--by works with `report value` only")
    if kind == "reconcile":
        from tracker.cli.report_reconcile import check_reconcile_options, reconcile

        check_reconcile_options(tz_name, sources, breakdown, cost)
        return reconcile(ctx, first, last, fmt)
    if cost not in (None, "estimated"):
        _check_cost_options(kind, cost, sources)
    try:
        tz = zone(tz_name)
    except BadZoneError as e:
        raise UserError(f"--tz: {e}") from None
    if not ctx.paths.db.exists():
        raise UserError(f"No ledger at {ctx.paths.db} yet. Run `token-ledger sync` first.")
    with ctx.store(create=False) as store:
        # a no-op read unless rows changed since the last sync or report; if the file is read-only or busy,
        # the report sums the rows themselves instead, slower but just as right
        with contextlib.suppress(sqlite3.OperationalError):
            refresh_rollup(store.conn)
        if cost in ("reported", "both"):
            return cost_report(store.conn, CostQuery(kind, cost, tz, first, last, sources), fmt, breakdown)
        rep = build_report(store.conn, ReportQuery(kind, tz, first, last, sources))
    if fmt == "json":
        sys.stdout.write(dumps(report_json(rep)) + "\n")
    elif fmt == "csv":
        sys.stdout.write(report_csv(rep))
    else:
        print_table(rep, breakdown)


def report_csv(rep: Report) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    key = {"session": "session_id", "project": "project", "model": "model"}.get(rep.kind, "period")
    extra = ["source", "project"] if rep.kind == "session" else []
    w.writerow([key, *extra, "models", *TOKEN_FIELDS, "total_tokens", "cost_usd", "cost_kind", "unpriced_tokens",
                "records"])
    for r in rep.rows:
        t = r.totals
        extras = [r.source, r.project or ""] if rep.kind == "session" else []
        cost = f"{usd(t.cost_pusd):.6f}" if t.cost_known else ""
        w.writerow([r.key, *extras, ";".join(r.models), *(getattr(t, f) for f in TOKEN_FIELDS), t.total_tokens,
                    cost, t.cost_kind, t.unpriced_tokens, t.records])
    return buf.getvalue()


def money(t: Totals) -> str:
    from tracker.analytics.reported import usd_cell

    if not t.cost_known:
        return "unpriced"
    text = usd_cell(t.cost_pusd)
    return text + " + unpriced" if t.unpriced_records else text


def compact(n: int) -> str:
    """13,398,113 -> 13.4M (for narrow terminals only; JSON and CSV are always exact)."""
    for limit, suffix in ((10**9, "B"), (10**6, "M"), (10**3, "k")):
        if n >= limit:
            return f"{n / limit:.1f}{suffix}"
    return str(n)


def print_table(rep: Report, breakdown: bool) -> None:
    from rich.console import Console

    console = Console()
    if not rep.rows:
        if rep.since or rep.until:
            span = f"from {rep.since or 'the start'} to {rep.until or 'now'}"
            console.print(f"No usage {span} ({rep.timezone}).")
        else:
            console.print("No usage yet. Run [bold]token-ledger sync[/] to import new logs.")
        return
    table = _table(rep, breakdown, show_models=True, fmt=lambda n: f"{n:,}")
    needed = natural_width(table)
    if needed > console.width:
        if not console.is_terminal:
            console = Console(width=needed)  # piped: never cut, whatever the width
        else:
            table = _table(rep, breakdown, show_models=False, fmt=lambda n: f"{n:,}")
            if natural_width(table) > console.width:
                table = _table(rep, breakdown, show_models=False, fmt=compact)
                table.caption = "Compact figures; widen the terminal or use --format csv/json for exact counts."
    console.print(table)
    if rep.totals.unpriced_records:
        console.print(
            f"[yellow]{rep.totals.unpriced_tokens:,} tokens ({rep.totals.unpriced_records:,} requests) are from models "
            "with no known price and are not in the cost.[/] See `token-ledger prices show MODEL`."
        )


def natural_width(table: Table) -> int:
    """Width the table takes when nothing limits it."""
    import io

    from rich.console import Console

    probe = Console(width=2000, file=io.StringIO(), color_system=None)
    with probe.capture() as cap:
        probe.print(table)
    return max((len(line.rstrip()) for line in cap.get().splitlines()), default=0)


def _table(rep: Report, breakdown: bool, show_models: bool, fmt: Callable[[int], str]) -> Table:
    from rich.table import Table

    show_models = show_models and rep.kind != "model"
    table = Table(title=f"Token usage, {rep.kind} ({rep.timezone})", title_justify="left", show_footer=True,
                  header_style="bold", caption_justify="left")
    key_label = {"session": "Session", "project": "Project", "model": "Model"}.get(rep.kind, "Period")
    is_time = rep.kind in ("daily", "weekly", "monthly")
    table.add_column(key_label, footer="Total", overflow="fold", no_wrap=is_time, min_width=10 if is_time else 16)
    if show_models:
        table.add_column("Models", overflow="fold", max_width=34)
    short = fmt is compact
    for name, attr in (("Input", "input_tokens"), ("Cache write", "cache_creation_tokens"),
                       ("Cache read", "cache_read_tokens"), ("Output", "output_tokens"),
                       ("Total tokens", "total_tokens")):
        label = name.replace("Cache ", "C.").replace(" tokens", "") if short else name
        table.add_column(label, justify="right", no_wrap=True, footer=fmt(getattr(rep.totals, attr)))
    table.add_column("Cost (est.)", justify="right", no_wrap=True, footer=money(rep.totals))
    for r in rep.rows:
        cells = [_key_cell(rep, r)] + ([", ".join(_short(m) for m in r.models)] if show_models else [])
        table.add_row(*cells, *_number_cells(r.totals, "", fmt))
        if breakdown and rep.kind != "model":
            for m in r.by_model:
                sub = [f"[dim] └ {_short(m.model or '(unknown)')}[/]"] + ([""] if show_models else [])
                table.add_row(*sub, *_number_cells(m.totals, "[dim]", fmt))
    return table


def _key_cell(rep: Report, r: ReportRow) -> str:
    if rep.kind != "session":
        return r.key
    sid = r.key if len(r.key) <= 12 else r.key[:8] + "…"
    where = Path(r.project).name if r.project else ""
    return f"{sid}\n[dim]{r.source}{' · ' + where if where else ''}[/]"


def _number_cells(t: Totals, style: str, fmt: Callable[[int], str]) -> list[str]:
    return [f"{style}{fmt(v)}" for v in (t.input_tokens, t.cache_creation_tokens, t.cache_read_tokens,
                                          t.output_tokens, t.total_tokens)] + [f"{style}{money(t)}"]


def _short(model: str) -> str:
    return model.removeprefix("claude-")


# --- reported and estimated side by side: --cost reported|both -------------------------------------------

UTC_NAMES = ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT")
_ADD_ACCOUNT = (
    "No provider accounts yet: add one with `token-ledger account add anthropic --name work` (or openai, openrouter; "
    "an Admin or management key), then run `token-ledger sync`."
)


def _check_cost_options(kind: str, cost: str, sources: tuple[str, ...]) -> None:
    from tracker.analytics.reports import TIME_KINDS

    if kind not in TIME_KINDS:
        raise UserError(
            f"--cost {cost} works with daily, weekly and monthly reports: providers report per day, "
            f"not per {kind}"
        )
    if cost == "reported" and sources:
        raise UserError("--source picks local logs, which --cost reported does not show; use --cost both")


class CostQuery:
    """What ``report --cost reported|both`` is asked for."""

    def __init__(  # noqa: PLR0917
        self, kind: str, cost: str, tz: tzinfo, since: date | None, until: date | None, sources: tuple[str, ...]
    ) -> None:
        self.kind, self.cost, self.tz = kind, cost, tz
        self.since, self.until, self.sources = since, until, sources


class CostView:
    """Estimated (from logs, ``--cost both`` only) and reported (billed by providers) figures per period."""

    def __init__(self, q: CostQuery, estimated: Report | None, reported: ReportedReport) -> None:
        from tracker.analytics.periods import zone_name

        self.kind, self.cost, self.timezone = q.kind, q.cost, zone_name(q.tz)
        self.since, self.until, self.sources = q.since, q.until, q.sources
        self.estimated = estimated
        self.reported = reported

    def periods(self) -> list[tuple[str, ReportRow | None]]:
        """Every period with usage or reported cost, in order, with its estimated row (None: no usage)."""
        est = {r.key: r for r in self.estimated.rows} if self.estimated else {}
        keys = sorted(set(est) | {r.key for r in self.reported.rows})
        return [(k, est.get(k)) for k in keys]

    @property
    def utc(self) -> bool:
        return self.timezone in UTC_NAMES


def cost_report(conn: sqlite3.Connection, q: CostQuery, fmt: str, breakdown: bool) -> None:
    from tracker.analytics.reported import build_reported
    from tracker.analytics.reports import ReportQuery, build_report
    from tracker.cli.output import cost_report_csv, cost_report_json

    estimated = build_report(conn, ReportQuery(q.kind, q.tz, q.since, q.until, q.sources)) if q.cost == "both" else None
    view = CostView(q, estimated, build_reported(conn, q.kind, q.since, q.until))
    if fmt == "json":
        sys.stdout.write(dumps(cost_report_json(view)) + "\n")
    elif fmt == "csv":
        sys.stdout.write(cost_report_csv(view))
    else:
        print_cost_table(view, breakdown)


def reported_money(pico: int | None) -> str:
    """Exact pico-dollars as a table cell: "$1,234.57", "<$0.01", "-$3.00"; "—" when nothing was reported."""
    from tracker.analytics.reported import usd_cell

    return usd_cell(pico)


def print_cost_table(view: CostView, breakdown: bool) -> None:
    from rich.console import Console

    console = Console()
    rows = view.periods()
    if not rows:
        span = f" from {view.since or 'the start'} to {view.until or 'now'}" if view.since or view.until else ""
        what = "reported cost" if view.cost == "reported" else "usage or reported cost"
        console.print(f"No {what}{span} ({view.timezone}).")
    else:
        table = _cost_table(view, rows, breakdown, show_models=True)
        needed = natural_width(table)
        if needed > console.width:
            if not console.is_terminal:
                console = Console(width=needed)  # piped: never cut
            else:
                table = _cost_table(view, rows, breakdown, show_models=False)
        console.print(table)
    for line in cost_notes(view):
        console.print(line, highlight=False, soft_wrap=True)


def _cost_table(view: CostView, rows: list[tuple[str, ReportRow | None]], breakdown: bool, show_models: bool
                ) -> Table:
    from rich.table import Table

    from tracker.analytics.reported import PROVIDER_LABELS

    both = view.cost == "both"
    title = ("Token usage, estimated and reported cost" if both else "Reported cost (billed by providers)")
    table = Table(title=f"{title}, {view.kind} ({view.timezone})", title_justify="left", show_footer=True,
                  header_style="bold", caption_justify="left")
    table.add_column("Period", footer="Total", no_wrap=True, min_width=10)
    est_total = view.estimated.totals if view.estimated else None
    if both and est_total is not None:
        if show_models:
            table.add_column("Models", overflow="fold", max_width=34)
        table.add_column("Total tokens", justify="right", no_wrap=True, footer=f"{est_total.total_tokens:,}")
        table.add_column("Estimated (logs)", justify="right", no_wrap=True, footer=money(est_total))
    providers = view.reported.providers
    for p in providers:
        table.add_column(f"Reported: {PROVIDER_LABELS.get(p, p)}", justify="right", no_wrap=True,
                         footer=reported_money(view.reported.totals.by_provider.get(p)))
    if len(providers) != 1:
        table.add_column("Reported total" if providers else "Reported", justify="right", no_wrap=True,
                         footer=reported_money(view.reported.totals.total_pico if providers else None))
    by_key = {r.key: r for r in view.reported.rows}
    for key, est in rows:
        _add_cost_rows(table, view, key, est, by_key.get(key), breakdown, show_models)
    return table


def _add_cost_rows(  # noqa: PLR0917
    table: Table, view: CostView, key: str, est: ReportRow | None, rep: ReportedRow | None, breakdown: bool,
    show_models: bool,
) -> None:
    both = view.cost == "both"
    providers = view.reported.providers
    extra = len(providers) != 1
    est_cells: list[str] = []
    if both:
        models = ", ".join(_short(m) for m in est.models) if est else ""
        est_cells = ([models] if show_models else []) + (
            [f"{est.totals.total_tokens:,}", money(est.totals)] if est else ["—", "—"])
    rep_cells = [reported_money(rep.by_provider.get(p)) if rep else "—" for p in providers]
    rep_cells += [reported_money(rep.total_pico if rep and providers else None)] if extra else []
    table.add_row(key, *est_cells, *rep_cells)
    if not breakdown:
        return
    blank_est = [""] * len(est_cells)
    if both and est:
        for m in est.by_model:
            sub = ([""] if show_models else []) + [f"[dim]{m.totals.total_tokens:,}", f"[dim]{money(m.totals)}"]
            table.add_row(f"[dim] └ {_short(m.model or '(unknown)')}[/]", *sub, *[""] * len(rep_cells))
    if rep:
        for (prov, model, item), pico in sorted(rep.lines.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0])):
            cells = [f"[dim]{reported_money(pico)}" if p == prov else "" for p in providers]
            label = item or model or "(no line item)"
            table.add_row(f"[dim] └ {label}[/]", *blank_est, *cells, *([""] if extra else []))


def cost_notes(view: CostView) -> list[str]:
    """Plain lines under the table: where reported days fall, what was left apart, what to do next."""
    from tracker.cli.output import other_currencies_json

    out: list[str] = []
    rp = view.reported
    if not view.utc:
        out.append(
            f"Reported costs come per UTC day and count in the period holding that UTC date; {view.timezone} days "
            "cut the estimates, so around midnight the two sides cover different hours." if view.cost == "both" else
            f"Reported costs come per UTC day and count in the period holding that UTC date ({view.timezone} does "
            "not shift them: a UTC day cannot be cut into local hours)."
        )
    if view.cost == "both" and view.estimated and view.estimated.totals.unpriced_records:
        t = view.estimated.totals
        out.append(
            f"{t.unpriced_tokens:,} tokens ({t.unpriced_records:,} requests) are from models with no known price and "
            "are not in the estimate. See `token-ledger prices show MODEL`."
        )
    others = other_currencies_json(rp)
    if others:
        listed = ", ".join(f"{o['provider']} {o['amount']} {o['currency']}" for o in others)
        out.append(f"Also billed in other currencies, not added to USD: {listed}.")
    if not rp.accounts:
        out.append(_ADD_ACCOUNT)
    elif not rp.rows:
        out.append("No billed costs reported for these dates. Run `token-ledger sync` to poll your accounts "
                   "(DeepSeek and Moonshot report balances only: `token-ledger account list`).")
    elif view.cost == "both":
        out.append("Estimated and reported are different measures and are never added; "
                   "`token-ledger report reconcile` compares them day by day.")
    return out


# --- report reconcile ------------------------------------------------------------------------------------
