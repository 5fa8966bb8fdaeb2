"""``token-ledger report``: usage and estimated cost per day, week, month, session, project or model.

JSON and CSV shapes are documented in docs/cli.md. Tables are drawn with rich (imported only for tables);
csv, decimal and the domain types are imported only where used, as ``--format json`` is the scripted path
that must start fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tracker.analytics.reports import REPORT_KINDS
from tracker.cli.context import CliContext, UserError
from tracker.cli.output import SOURCE_NAMES, TOKEN_FIELDS, BadDateError, dumps, parse_date, report_json, usd

if TYPE_CHECKING:
    from datetime import date

    from rich.table import Table

    from tracker.analytics.reports import Report, ReportRow, Totals

__all__ = ["TOKEN_FIELDS", "report", "report_csv", "report_json", "usd"]


def _parse_date(value: str | None, option: str) -> date | None:
    try:
        return parse_date(value, option)
    except BadDateError as e:
        raise UserError(str(e)) from None


@click.command()
@click.argument("kind", type=click.Choice(REPORT_KINDS), default="daily")
@click.option("--since", help="First day to include (YYYY-MM-DD, inclusive, in --tz).")
@click.option("--until", help="Last day to include (YYYY-MM-DD, inclusive, in --tz).")
@click.option("--tz", "tz_name", help="IANA time zone that cuts days, e.g. Europe/Paris (default: this machine's).")
@click.option(
    "--source", "sources", multiple=True, type=click.Choice(SOURCE_NAMES), help="Only this source (repeatable)."
)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--breakdown", is_flag=True, help="Table: one line per model under each row.")
@click.pass_obj
def report(  # noqa: PLR0917 (click passes options by keyword)
    ctx: CliContext, kind: str, since: str | None, until: str | None, tz_name: str | None,
    sources: tuple[str, ...], fmt: str, breakdown: bool,
) -> None:
    """Show usage and estimated cost, grouped by KIND (daily, weekly, monthly, session, project, model).

    Costs are estimates from dated price tables (labelled "est."). Models without a known price are
    shown as unpriced, with their tokens, never as $0.
    """
    import contextlib
    import sqlite3

    from tracker.analytics.periods import BadZoneError, zone
    from tracker.analytics.reports import ReportQuery, build_report
    from tracker.ledger.rollup import refresh as refresh_rollup

    first, last = _parse_date(since, "--since"), _parse_date(until, "--until")
    if first and last and first > last:
        raise UserError(f"--since {first} is after --until {last}")
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
    from decimal import Decimal

    from tracker.domain import PICO_PER_USD

    if not t.cost_known:
        return "unpriced"
    dollars = Decimal(t.cost_pusd) / PICO_PER_USD
    text = "<$0.01" if 0 < dollars < Decimal("0.01") else f"${dollars:,.2f}"
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
    needed = _natural_width(table)
    if needed > console.width:
        if not console.is_terminal:
            console = Console(width=needed)  # piped: never cut, whatever the width
        else:
            table = _table(rep, breakdown, show_models=False, fmt=lambda n: f"{n:,}")
            if _natural_width(table) > console.width:
                table = _table(rep, breakdown, show_models=False, fmt=compact)
                table.caption = "Compact figures; widen the terminal or use --format csv/json for exact counts."
    console.print(table)
    if rep.totals.unpriced_records:
        console.print(
            f"[yellow]{rep.totals.unpriced_tokens:,} tokens ({rep.totals.unpriced_records:,} requests) are from models "
            "with no known price and are not in the cost.[/] See `token-ledger prices show MODEL`."
        )


def _natural_width(table: Table) -> int:
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
