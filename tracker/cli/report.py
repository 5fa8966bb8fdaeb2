"""``token-ledger report``: usage and estimated cost per day, week, month, session, project or model.

JSON and CSV shapes are documented in docs/cli.md. Tables are drawn with rich (imported only for tables).
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import click
import orjson

from tracker.analytics.reports import REPORT_KINDS
from tracker.cli.context import CliContext, UserError
from tracker.cli.sync import SOURCE_NAMES
from tracker.domain import PICO_PER_USD

if TYPE_CHECKING:
    from tracker.analytics.reports import Report, ReportRow, Totals

TOKEN_FIELDS = ("input_tokens", "cache_creation_tokens", "cache_read_tokens", "output_tokens", "reasoning_tokens")


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise UserError(f"{option} {value!r} is not a date; use YYYY-MM-DD, e.g. {option} 2026-11-01")


@click.command()
@click.argument("kind", type=click.Choice(REPORT_KINDS), default="daily")
@click.option("--since", help="First day to include (YYYY-MM-DD, inclusive, in --tz).")
@click.option("--until", help="Last day to include (YYYY-MM-DD, inclusive, in --tz).")
@click.option("--tz", "tz_name", help="IANA time zone that cuts days, e.g. Europe/Paris (default: this machine's).")
@click.option("--source", "sources", multiple=True, type=click.Choice(SOURCE_NAMES), help="Only this source (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--breakdown", is_flag=True, help="Table: one line per model under each row.")
@click.pass_obj
def report(
    ctx: CliContext, kind: str, since: str | None, until: str | None, tz_name: str | None,
    sources: tuple[str, ...], fmt: str, breakdown: bool,
) -> None:
    """Show usage and estimated cost, grouped by KIND (daily, weekly, monthly, session, project, model).

    Costs are estimates from dated price tables (labelled "est."). Models without a known price are
    shown as unpriced, with their tokens, never as $0.
    """
    from tracker.analytics.periods import BadZoneError, zone
    from tracker.analytics.reports import ReportQuery, build_report

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
        rep = build_report(store.conn, ReportQuery(kind, tz, first, last, sources))
    if fmt == "json":
        sys.stdout.write(orjson.dumps(report_json(rep), option=orjson.OPT_INDENT_2).decode() + "\n")
    elif fmt == "csv":
        sys.stdout.write(report_csv(rep))
    else:
        print_table(rep, breakdown)


def usd(pico: int) -> float:
    """Dollars rounded to 6 decimals (a micro-dollar) for JSON; exact sums stay in the database."""
    return float((Decimal(pico) / PICO_PER_USD).quantize(Decimal("0.000001")))


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


def report_csv(rep: Report) -> str:
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
    if not t.cost_known:
        return "unpriced"
    text = f"${Decimal(t.cost_pusd) / PICO_PER_USD:,.2f}"
    return text + " + unpriced" if t.unpriced_records else text


def print_table(rep: Report, breakdown: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not rep.rows:
        console.print("No usage in this range. Run [bold]token-ledger sync[/] to import new logs.")
        return
    title = f"Token usage, {rep.kind} ({rep.timezone})"
    table = Table(title=title, title_justify="left", show_footer=True, header_style="bold")
    key_label = {"session": "Session", "project": "Project", "model": "Model"}.get(rep.kind, "Period")
    table.add_column(key_label, footer="Total", overflow="fold")
    if rep.kind != "model":
        table.add_column("Models", overflow="fold")
    for label, attr in (("Input", "input_tokens"), ("Cache write", "cache_creation_tokens"),
                        ("Cache read", "cache_read_tokens"), ("Output", "output_tokens"),
                        ("Total tokens", "total_tokens")):
        table.add_column(label, justify="right", footer=f"{getattr(rep.totals, attr):,}")
    table.add_column("Cost (est.)", justify="right", footer=money(rep.totals))
    for r in rep.rows:
        key = r.key if rep.kind != "session" else f"{r.key[:18]}\n[dim]{r.source}[/]"
        cells = [key] if rep.kind == "model" else [key, "\n".join(_short(m) for m in r.models)]
        t = r.totals
        cells += [f"{t.input_tokens:,}", f"{t.cache_creation_tokens:,}", f"{t.cache_read_tokens:,}",
                  f"{t.output_tokens:,}", f"{t.total_tokens:,}", money(t)]
        table.add_row(*cells)
        if breakdown and rep.kind != "model":
            for m in r.by_model:
                mt = m.totals
                table.add_row(f"  [dim]└ {_short(m.model or '(unknown)')}[/]", "", f"[dim]{mt.input_tokens:,}",
                              f"[dim]{mt.cache_creation_tokens:,}", f"[dim]{mt.cache_read_tokens:,}",
                              f"[dim]{mt.output_tokens:,}", f"[dim]{mt.total_tokens:,}", f"[dim]{money(mt)}")
    console.print(table)
    if rep.totals.unpriced_records:
        console.print(
            f"[yellow]{rep.totals.unpriced_tokens:,} tokens ({rep.totals.unpriced_records:,} requests) are from models "
            "with no known price and are not in the cost.[/] See `token-ledger prices show MODEL`."
        )


def _short(model: str) -> str:
    return model.removeprefix("claude-")
