"""``token-ledger report value --by month|project|client``: spend against the outcomes it bought
(``tracker.analytics.value``). Shapes in docs/cli.md.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tracker.cli.context import CliContext, UserError
from tracker.cli.output import dumps
from tracker.cli.report import UTC_NAMES, natural_width, reported_money

if TYPE_CHECKING:
    from datetime import date

    from rich.table import Table

    from tracker.analytics.value import ValueFigures, ValueReport


def check_value_options(sources: tuple[str, ...], breakdown: bool, cost: str | None) -> None:
    given = [name for name, used in (("--source", bool(sources)), ("--breakdown", breakdown),
                                     ("--cost", cost is not None)) if used]
    if given:
        raise UserError(
            f"report value takes --by, --since, --until, --tz and --format only (not {', '.join(given)}): "
            "its spend is always estimated + reported, from every source"
        )


def value_report(ctx: CliContext, by: str, tz_name: str | None, span: tuple[date | None, date | None],
                 fmt: str) -> None:
    from tracker.analytics import value
    from tracker.analytics.periods import BadZoneError, zone
    from tracker.cli.output import value_csv, value_json
    from tracker.settings import load_settings

    try:
        tz = zone(tz_name)
    except BadZoneError as e:
        raise UserError(f"--tz: {e}") from None
    if not ctx.paths.db.exists():
        raise UserError(f"No ledger at {ctx.paths.db} yet. Run `token-ledger sync` first.")
    rate = load_settings(ctx.paths.data_dir).hourly_rate_usd
    query = value.ValueQuery(by, tz, span[0], span[1], value.now_ms(), rate)
    with ctx.store(create=False) as store:
        rep = value.build_value_report(store.conn, query)
    if fmt == "json":
        sys.stdout.write(dumps(value_json(rep)) + "\n")
    elif fmt == "csv":
        sys.stdout.write(value_csv(rep))
    else:
        print_value_table(rep)


def _value_money(pico: int | None, known: bool = True) -> str:
    if not known:
        return "unpriced"
    return reported_money(pico)


def _value_cells(f: ValueFigures, subscriptions: bool = False) -> list[str]:
    from tracker.analytics.value import hours_text

    vpd = f.value_per_dollar()
    value = _value_money(f.value_pusd) if f.value_known else ""
    if f.unvalued_hours:
        value = f"{value} + {hours_text(f.unvalued_hours)} h".removeprefix(" + ")
    sub = [reported_money(f.subscription_pusd)] if subscriptions else []
    covered = [reported_money(f.covered_pusd)] if subscriptions else []
    return [
        reported_money(f.estimated_pusd), reported_money(f.reported_pusd), *sub,
        _value_money(f.spend_pusd, f.spend_known), *covered,
        f"{f.unpriced_records:,}" if f.unpriced_records else "—",
        f"{f.outcomes:,}", f"{f.kept_outcomes:,}", value or "—",
        "—" if vpd is None else f"{vpd}×",
        reported_money(f.cost_per(f.outcomes)), reported_money(f.cost_per(f.kept_outcomes)),
        reported_money(f.without_outcome_pusd) if f.without_outcome_pusd else "—",
        reported_money(f.run_rate_pusd),
    ]


_VALUE_COLUMNS = ("Estimated", "Reported", "Spend (est. + rep.)", "Unpriced req.", "Outcomes", "Kept", "Value",
                  "Value / $", "Cost / outcome", "Cost / kept", "No outcome", "Run-rate")


def _value_table(rep: ValueReport) -> Table:
    from rich.table import Table

    table = Table(title=f"Value per token dollar, by {rep.by} ({rep.timezone})", title_justify="left",
                  show_footer=True, header_style="bold")
    table.add_column(rep.by.capitalize(), footer="Total", no_wrap=True)
    if rep.by == "project":
        table.add_column("Client", footer="")
    names: tuple[str, ...] = (*_VALUE_COLUMNS[:-1], f"Run-rate {rep.current_month}")
    if rep.subscriptions:
        names = ("Estimated", "Reported", "Subscription", "Spend (est. + rep. + sub.)",
                 "Covered by plans (API-equiv.)", *names[3:])
    for name, total in zip(names, _value_cells(rep.totals, rep.subscriptions), strict=True):
        table.add_column(name, justify="right", no_wrap=True, footer=total)
    for f in rep.rows:
        client = [f.client or "—"] if rep.by == "project" else []
        table.add_row(f.key, *client, *_value_cells(f, rep.subscriptions))
    return table


def value_notes(rep: ValueReport) -> list[str]:
    """Plain lines under the value table: what spend is, warnings for spend with no outcome, what is missing."""
    from tracker.analytics.value import NO_PROJECT, hours_text

    out = ["Spend = estimated (local logs) + reported (billed by provider accounts), added; the two can overlap "
           "when an account bills calls an agent also logged (`token-ledger report reconcile`). No flat plan is "
           "stored (`token-ledger subscription add`)."]
    if rep.subscriptions:
        out[0] = out[0].replace("No flat plan is stored (`token-ledger subscription add`).",
                                "Subscription = flat plans' fees spread per day (`token-ledger subscription list`), "
                                "split between projects by the usage each plan covered that day.")
        out.insert(1, "Covered by plans = what the usage your plans covered would have cost at API prices; the plan "
                      "paid for it, so it is not in estimated or spend.")
    for project, pico in rep.no_outcome:
        who = "spend in no project" if project == NO_PROJECT else f"project {project} spent"
        out.append(f"Warning: {who} {reported_money(pico)} with no outcome logged.")
    t = rep.totals
    if t.unvalued_hours:
        out.append(f"{hours_text(t.unvalued_hours)} hours saved are not valued: set hourly_rate_usd in the settings "
                   "to count them at your rate.")
    elif rep.hourly_rate_usd is not None and t.hours_saved:
        out.append(f"Hours saved are valued at ${rep.hourly_rate_usd:,.2f} an hour.")
    if t.unpriced_records:
        n = t.unpriced_records
        out.append(f"{n:,} request{'s are' if n != 1 else ' is'} from models with no known price and not in the "
                   "spend. See `token-ledger prices show MODEL`.")
    if rep.timezone not in UTC_NAMES and t.reported_pusd:
        out.append(f"Reported costs come per UTC day and count on that UTC date ({rep.timezone} does not shift them).")
    out.append(f"Value counts kept outcomes. Run-rate: {rep.current_month} so far, projected to the month's end.")
    return out


def print_value_table(rep: ValueReport) -> None:
    from rich.console import Console

    console = Console()
    if not rep.rows:
        span = f" from {rep.since or 'the start'} to {rep.until or 'now'}" if rep.since or rep.until else ""
        console.print(f"No spend or outcomes{span} ({rep.timezone}). Log one with `token-ledger outcome add TITLE`.",
                      highlight=False)
    else:
        table = _value_table(rep)
        if not console.is_terminal:
            console = Console(width=max(console.width, natural_width(table)))  # piped: never cut
        console.print(table)
    for line in value_notes(rep):
        style = "yellow" if line.startswith("Warning:") else None
        console.print(line, highlight=False, soft_wrap=True, markup=False, style=style)
