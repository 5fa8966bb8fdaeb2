"""``token-ledger outcome add|list|edit|delete|suggest``: what the spend bought (issue 5).

The work is in :mod:`tracker.outcomes` (Qt-free); this module parses options, turns its ``ValueError`` into one-line
:class:`UserError` messages and prints tables, JSON or CSV. Helpers shared with ``project`` and ``rule`` are here.
"""

from __future__ import annotations

import contextlib
import csv
import io
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

import click

from tracker.cli.context import CliContext, UserError

if TYPE_CHECKING:
    from tracker.outcomes import Outcome, OutcomeFields

FORMATS = click.Choice(["table", "json", "csv"])
_KIND_HELP = ("shipped_feature, bug_fix, pr_merged, decision, automation, document, research, "
              "client_deliverable or other")


# ---- shared with project.py and rule.py ----------------------------------------------------------------------


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """ValueError from the core (a user mistake, message for people) becomes a one-line UserError."""
    try:
        yield
    except ValueError as e:
        raise UserError(str(e)) from None


@contextlib.contextmanager
def write_conn(ctx: CliContext) -> Iterator[sqlite3.Connection]:
    """The ledger's connection inside one write transaction; user mistakes roll it back."""
    with ctx.store() as store, user_errors(), store.transaction() as conn:
        yield conn


@contextlib.contextmanager
def read_conn(ctx: CliContext) -> Iterator[sqlite3.Connection | None]:
    """The ledger's connection for reading, or None when there is no ledger yet (nothing to list)."""
    if not ctx.paths.db.exists():
        yield None
        return
    with ctx.store(create=False) as store, user_errors():
        yield store.conn


def local_tz() -> tzinfo:
    from tracker.analytics.periods import local_zone

    return local_zone()


def when_text(ms: int, tz: tzinfo) -> str:
    return datetime.fromtimestamp(ms / 1000, tz).strftime("%Y-%m-%d %H:%M")


def iso(ms: int, tz: tzinfo) -> str:
    return datetime.fromtimestamp(ms / 1000, tz).isoformat(timespec="seconds")


def print_rows(fmt: str, title: str, header: Sequence[str], rows: Sequence[Sequence[str]], *,
               records: Sequence[dict[str, Any]], fields: Sequence[str]) -> None:
    """A rich table (``rows`` under ``header``), JSON (``records``) or CSV (the ``fields`` of ``records``)."""
    if fmt == "json":
        from tracker.cli.output import dumps

        click.echo(dumps(list(records)))
        return
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(fields)
        writer.writerows([[_csv(r[f]) for f in fields] for r in records])
        click.echo(buf.getvalue(), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for h in header:
        table.add_column(h, overflow="fold")
    for r in rows:
        table.add_row(*r)
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 160))
    console.print(table)


def usd_text(pico: int | None) -> str:
    from tracker.outcomes import usd_text as exact

    return exact(pico)


def usd_cell(pico: int | None) -> str:
    """Spend as a table cell ("$1,234.57", "<$0.01"); JSON and CSV keep the exact figure."""
    if pico is None:
        return ""
    from tracker.cli.report import reported_money

    return reported_money(pico)


def usd_json(pico: int | None) -> float | None:
    from tracker.cli.output import usd

    return None if pico is None else usd(pico)


# ---- the commands --------------------------------------------------------------------------------------------


@click.group()
def outcome() -> None:
    """Outcomes: what the tokens bought (a shipped feature, a fix, a decision...), with their value.

    Each outcome is attributed its project's spend since the project's previous outcome (docs/outcomes.md).
    """


def _fields_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed((
        click.option("--kind", help=f"What it is: {_KIND_HELP} (default other)."),
        click.option("--at", "at", help="When it happened: YYYY-MM-DD (end of that day), 'YYYY-MM-DD HH:MM' or "
                                          "ISO 8601; local time unless an offset is given (default: now)."),
        click.option("--project", help="Its project (default: the project of the most recent usage)."),
        click.option("--value", help="What it is worth, in dollars, e.g. 250 or 99.50."),
        click.option("--hours", help="Hours it saved, e.g. 1.5 (valued at the hourly rate in Settings)."),
        click.option("--status", help="kept (default), redone or abandoned."),
        click.option("--link", help="A URL: the PR, the document..."),
        click.option("--notes", help="Free text."),
        click.option("--tag", "tags", multiple=True, help="A tag (repeatable, or comma-separated)."),
    )):
        f = decorator(f)
    return f


def _fields(
    tz: tzinfo, *, title: str | None, kind: str | None, at: str | None, project: str | None, value: str | None,
    hours: str | None, status: str | None, link: str | None, notes: str | None, tags: tuple[str, ...],
) -> OutcomeFields:
    """Parsed options. In an edit, an empty string clears --project, --value, --hours, --link or --notes."""
    from tracker.outcomes import OutcomeFields, parse_hours, parse_usd, parse_when

    f = OutcomeFields(title=title, kind=kind, status=status, link=link, notes=notes)
    for name, given in (("project", project), ("value", value), ("hours", hours), ("link", link),
                        ("notes", notes)):
        if given is not None and not given.strip():
            f.clear.add(name)
            if name in ("link", "notes"):
                setattr(f, name, None)
    if at is not None:
        f.at_ms = parse_when(at, tz)
    if project is not None and project.strip():
        f.project = project
    if value is not None and value.strip():
        f.value_pusd = parse_usd(value)
    if hours is not None and hours.strip():
        f.hours_saved = parse_hours(hours)
    if tags:
        f.tags = list(tags)
        if all(not t.strip() for t in tags):
            f.clear.add("tags")
    return f


@outcome.command()
@click.argument("title")
@_fields_options
@click.pass_obj
def add(ctx: CliContext, /, title: str, **opts: Any) -> None:
    """Log an outcome called TITLE, e.g. `token-ledger outcome add "CSV export" --kind shipped_feature --value 300`."""
    from tracker.analytics.attribution import latest_usage_project
    from tracker.outcomes import add_outcome, get_outcome, now_ms

    tz = local_tz()
    with user_errors():
        f = _fields(tz, title=title, **opts)
    f.clear.clear()  # nothing to clear in a new outcome: empty options mean "none"
    if f.at_ms is None:
        f.at_ms = now_ms()
    guessed = None
    with write_conn(ctx) as conn:
        if f.project is None and opts.get("project") is None:
            guessed = f.project = latest_usage_project(conn)
        oid = add_outcome(conn, f)
        saved = get_outcome(conn, oid)
    click.echo(f"Logged outcome #{oid}: {_describe(saved, tz)}")
    if guessed is not None:
        click.echo(f"Project {guessed!r} was guessed from the most recent usage; change it with "
                   f"`token-ledger outcome edit {oid} --project NAME`.")
    elif saved.project is None:
        click.echo("No project: there is no usage to guess it from. Set one with "
                   f"`token-ledger outcome edit {oid} --project NAME`.")


@outcome.command("list")
@click.option("--project", help="Only this project's outcomes.")
@click.option("--since", help="First day (YYYY-MM-DD, inclusive, local time).")
@click.option("--until", help="Last day (YYYY-MM-DD, inclusive, local time).")
@click.option("--status", help="Only kept, redone or abandoned outcomes.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.pass_obj
def list_(  # noqa: PLR0917 (click passes options by keyword)
    ctx: CliContext, project: str | None, since: str | None, until: str | None, status: str | None,
          fmt: str) -> None:
    """List outcomes, oldest first, with the spend attributed to each (its project's since the previous one)."""
    from datetime import timedelta

    from tracker.analytics.attribution import attribute_outcomes
    from tracker.analytics.periods import local_midnight_ms
    from tracker.outcomes import list_outcomes, parse_day

    tz = local_tz()
    with user_errors():
        first, last = parse_day(since, "--since"), parse_day(until, "--until")
        if first is not None and last is not None and first > last:
            raise ValueError(f"--since {since} is after --until {until}")
    with read_conn(ctx) as conn:
        if conn is None:
            outcomes, spend = [], {}
        else:
            outcomes = list_outcomes(
                conn, project=project, status=status,
                since_ms=None if first is None else local_midnight_ms(first, tz),
                until_ms=None if last is None else local_midnight_ms(last + timedelta(days=1), tz))
            spend = {s.outcome_id: s for s in attribute_outcomes(conn, tz)} if outcomes else {}
    if not outcomes and fmt == "table":
        click.echo("No outcomes yet. Log one with `token-ledger outcome add TITLE`." if conn is None or not any(
            (project, since, until, status)) else "No outcomes match.")
        return
    records = [_json(o, spend.get(o.id), tz) for o in outcomes]
    rows = [
        [str(o.id), when_text(o.at_ms, tz), o.title, o.kind, o.project or "", o.status, usd_text(o.value_pusd),
         o.hours_saved or "", usd_cell(spend[o.id].attributed_pusd) if o.id in spend else ""]
        for o in outcomes
    ]
    header = ["Id", "When", "Title", "Kind", "Project", "Status", "Value $", "Hours", "Spend"]
    print_rows(fmt, f"Outcomes ({_zone_name(tz)})", header, rows, records=records, fields=_FIELDS)


@outcome.command()
@click.argument("outcome_id", type=int)
@click.option("--title", help="A new title.")
@_fields_options
@click.pass_obj
def edit(ctx: CliContext, /, outcome_id: int, title: str | None, **opts: Any) -> None:
    """Change outcome OUTCOME_ID. Only the options given change; an empty value ("") clears an optional one."""
    from tracker.outcomes import update_outcome

    tz = local_tz()
    with user_errors():
        f = _fields(tz, title=title, **opts)
    with write_conn(ctx) as conn:
        saved = update_outcome(conn, outcome_id, f)
    click.echo(f"Updated outcome #{outcome_id}: {_describe(saved, tz)}")


@outcome.command()
@click.argument("outcome_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def delete(ctx: CliContext, outcome_id: int, yes: bool) -> None:
    """Delete outcome OUTCOME_ID (asks first unless --yes)."""
    from tracker.outcomes import delete_outcome, get_outcome

    tz = local_tz()
    with write_conn(ctx) as conn:
        found = get_outcome(conn, outcome_id)
        if not yes and not _confirm(f"Delete outcome #{outcome_id}: {_describe(found, tz)}?"):
            raise UserError("Nothing deleted.")
        delete_outcome(conn, outcome_id)
    click.echo(f"Deleted outcome #{outcome_id}: {found.title}")



@outcome.command()
@click.option("--since", help="Merges and tags from this day on (YYYY-MM-DD, local time; default: 90 days ago).")
@click.option("--accept", "accept_ref", metavar="N", help="Log suggestion N (its number in the list) as an outcome.")
@click.option("--dismiss", "dismiss_ref", metavar="N", help="Dismiss suggestion N: it is not suggested again.")
@click.option("--enable", is_flag=True, help="Turn suggestions from local git history on (setting suggest_from_git).")
@click.option("--disable", is_flag=True, help="Turn them off again.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.pass_obj
def suggest(  # noqa: PLR0917 (click passes options by keyword)
    ctx: CliContext, since: str | None, accept_ref: str | None, dismiss_ref: str | None, enable: bool,
    disable: bool, fmt: str,
) -> None:
    """Suggest outcomes from the local git history (merge commits, tags) of the projects in your agent logs.

    Opt-in and local only: nothing is read until `--enable`, and git is never asked to use the network.
    Accept a suggestion with `--accept N` or dismiss it with `--dismiss N` (N: its number in the list).
    """
    from tracker.settings import load_settings, save_settings

    if sum((enable, disable, accept_ref is not None, dismiss_ref is not None)) > 1:
        raise UserError("give at most one of --enable, --disable, --accept, --dismiss")
    data_dir = ctx.paths.data_dir
    settings = load_settings(data_dir)
    if enable or disable:
        settings.suggest_from_git = enable
        save_settings(data_dir, settings)
        click.echo("Suggestions from local git history are on: list them with `token-ledger outcome suggest`."
                   if enable else "Suggestions from local git history are off.")
        return
    if not settings.suggest_from_git:
        click.echo("Suggestions from local git history are off. Turn them on with "
                   "`token-ledger outcome suggest --enable`: it reads the local git repositories of the projects in "
                   "your agent logs (merge commits and tags), never the network.")
        return
    _suggest(ctx, since, accept_ref, dismiss_ref, fmt)


def _suggest(ctx: CliContext, since: str | None, accept_ref: str | None, dismiss_ref: str | None,
             fmt: str) -> None:
    from datetime import timedelta

    from tracker.analytics.periods import local_date, local_midnight_ms
    from tracker.outcomes import get_outcome, now_ms, parse_day
    from tracker.suggestions import accept, dismiss, pick
    from tracker.suggestions import suggest as scan_git

    tz = local_tz()
    with user_errors():
        first = parse_day(since, "--since") or local_date(now_ms(), tz) - timedelta(days=90)
    since_ms = local_midnight_ms(first, tz)
    if accept_ref is not None or dismiss_ref is not None:
        with write_conn(ctx) as conn:
            found = scan_git(conn, ctx.paths.data_dir, tz, since_ms)
            chosen = pick(found.suggestions, accept_ref if accept_ref is not None else str(dismiss_ref))
            if accept_ref is not None:
                oid = accept(conn, chosen)
                saved = get_outcome(conn, oid)
        if accept_ref is not None:
            click.echo(f"Logged outcome #{oid}: {_describe(saved, tz)}")
        else:
            dismiss(ctx.paths.data_dir, chosen)
            click.echo(f"Dismissed: {chosen.title!r} ({chosen.project}); it will not be suggested again.")
        return
    with read_conn(ctx) as conn:
        if conn is None:
            click.echo("No ledger yet: sync first (`token-ledger sync`) so the projects in your agent logs are known.")
            return
        found = scan_git(conn, ctx.paths.data_dir, tz, since_ms)
    for problem in found.problems:
        click.echo(f"Note: {problem}", err=True)
    items = found.suggestions
    if not items and fmt == "table":
        where = (f"{len(found.repos)} repositor{'y' if len(found.repos) == 1 else 'ies'}" if found.repos
                 else "no local git repositories found for the projects in your agent logs")
        click.echo(f"No suggestions since {first.isoformat()} ({where}).")
        return
    records = [{"n": i, "key": s.key, "title": s.title, "kind": s.kind, "at": iso(s.at_ms, tz),
                "project": s.project, "repo": s.repo, "commit": s.commit, "tag": s.tag}
               for i, s in enumerate(items, 1)]
    rows = [[str(i), when_text(s.at_ms, tz), s.title, s.kind, s.project, s.tag or s.commit[:10]]
            for i, s in enumerate(items, 1)]
    print_rows(fmt, f"Suggested outcomes since {first.isoformat()} (from local git history)",
               ["N", "When", "Title", "Kind", "Project", "Tag / commit"], rows, records=records,
               fields=("n", "key", "title", "kind", "at", "project", "repo", "commit", "tag"))
    if fmt == "table":
        click.echo("Log one with `token-ledger outcome suggest --accept N`, or hide it with `--dismiss N`.")

def _confirm(question: str) -> bool:
    try:
        return click.confirm(question, default=False)
    except click.Abort:  # no answer (stdin closed, not a terminal): never delete by default
        raise UserError("Nothing deleted: no answer to the question; add --yes to delete without asking.") from None


def _describe(o: Outcome, tz: tzinfo) -> str:
    parts = [repr(o.title), o.kind, when_text(o.at_ms, tz), f"project {o.project}" if o.project else "no project"]
    if o.value_pusd is not None:
        parts.append(f"value ${usd_text(o.value_pusd)}")
    if o.hours_saved is not None:
        parts.append(f"{o.hours_saved} h saved")
    if o.status != "kept":
        parts.append(o.status)
    return ", ".join(parts)


def _json(o: Outcome, spend: Any, tz: tzinfo) -> dict[str, Any]:
    return {
        "id": o.id, "title": o.title, "kind": o.kind, "at": iso(o.at_ms, tz), "project": o.project,
        "client": o.client, "value_usd": usd_json(o.value_pusd), "hours_saved": o.hours_saved, "status": o.status,
        "link": o.link, "notes": o.notes, "tags": list(o.tags),
        "attributed_spend_usd": None if spend is None else usd_json(spend.attributed_pusd),
        "attributed_estimated_usd": None if spend is None else usd_json(spend.estimated_pusd),
        "attributed_reported_usd": None if spend is None else usd_json(spend.reported_pusd),
        # a flat plan's fee share (spend) and the API-equivalent of the usage it covered (not spend): decision 16
        "attributed_subscription_usd": None if spend is None else usd_json(spend.subscription_pusd),
        "attributed_covered_usd": None if spend is None else usd_json(spend.covered_pusd),
    }


_FIELDS = ("id", "title", "kind", "at", "project", "client", "value_usd", "hours_saved", "status", "link", "notes",
           "tags", "attributed_spend_usd", "attributed_estimated_usd", "attributed_reported_usd",
           "attributed_subscription_usd", "attributed_covered_usd")


def _csv(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, list):
        return ";".join(str(x) for x in v)
    return v


def _zone_name(tz: tzinfo) -> str:
    from tracker.analytics.periods import zone_name

    return zone_name(tz)
