"""``token-ledger project list|rename|set-client``: the projects spend is attributed to, and their clients.

Projects are the stored ones plus the default ones seen in usage (a repository folder name); see
:mod:`tracker.analytics.attribution` for how spend finds its project.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from tracker.cli.context import CliContext, UserError
from tracker.cli.outcome import FORMATS, local_tz, print_rows, read_conn, usd_cell, usd_json, write_conn

if TYPE_CHECKING:
    from tracker.outcomes import ProjectSummary

_FIELDS = ("name", "client", "stored", "rules", "estimated_usd", "reported_usd", "unpriced_records", "outcomes")


@click.group()
def project() -> None:
    """Projects: where spend is attributed (rules, else the repository folder name), and their clients."""


@project.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.pass_obj
def list_(ctx: CliContext, fmt: str) -> None:
    """List projects with their client, all-time estimated and reported spend, and number of outcomes."""
    from tracker.outcomes import project_summaries

    tz = local_tz()
    with read_conn(ctx) as conn:
        summaries = [] if conn is None else project_summaries(conn, tz)
    if not summaries and fmt == "table":
        click.echo("No projects yet: run `token-ledger sync` to import agent usage, or add a rule with "
                   "`token-ledger rule add PROJECT --path-prefix DIR`.")
        return
    records = [_json(s) for s in summaries]
    rows = [
        [s.name, s.client or "", "yes" if s.stored else "", str(s.rules) if s.rules else "",
         usd_cell(s.spend.estimated_pusd), usd_cell(s.spend.reported_pusd),
         str(s.spend.unpriced_records) if s.spend.unpriced_records else "", str(s.outcomes)]
        for s in summaries
    ]
    header = ["Project", "Client", "Stored", "Rules", "Estimated", "Reported", "Unpriced", "Outcomes"]
    print_rows(fmt, "Projects (all time)", header, rows, records=records, fields=_FIELDS)


def _json(s: ProjectSummary) -> dict[str, Any]:
    return {
        "name": s.name, "client": s.client, "stored": s.stored, "rules": s.rules,
        "estimated_usd": usd_json(s.spend.estimated_pusd), "reported_usd": usd_json(s.spend.reported_pusd),
        "unpriced_records": s.spend.unpriced_records, "outcomes": s.outcomes,
    }


@project.command()
@click.argument("old")
@click.argument("new")
@click.pass_obj
def rename(ctx: CliContext, old: str, new: str) -> None:
    """Rename project OLD to NEW (its past usage, rules and outcomes follow)."""
    from tracker.outcomes import rename_project

    with write_conn(ctx) as conn:
        added = rename_project(conn, old, new)
    extra = f" ({added} path rule{'s' if added != 1 else ''} added for its folders)" if added else ""
    click.echo(f"Renamed project {old!r} to {new!r}{extra}.")


@project.command("set-client")
@click.argument("project_name", metavar="PROJECT")
@click.argument("client", required=False)
@click.option("--none", "clear", is_flag=True, help="Remove the project's client.")
@click.pass_obj
def set_client(ctx: CliContext, project_name: str, client: str | None, clear: bool) -> None:
    """Make CLIENT (created if new) the client of PROJECT, or remove its client with --none."""
    from tracker.outcomes import set_client as store_client

    if clear == (client is not None):
        raise UserError("give a CLIENT, or --none to remove the project's client")
    with write_conn(ctx) as conn:
        store_client(conn, project_name, client)
    click.echo(f"Project {project_name!r} now has no client." if client is None
               else f"Project {project_name!r} now belongs to client {' '.join(client.split())!r}.")
