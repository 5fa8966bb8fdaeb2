"""``token-ledger rule add|list|remove``: rules that send spend to a project.

Rules are applied when figures are read, so adding or removing one changes past usage's project too.
"""

from __future__ import annotations

import click

from tracker.cli.context import CliContext, UserError
from tracker.cli.outcome import FORMATS, local_tz, print_rows, read_conn, when_text, write_conn

# option name -> rule kind (the project_rules.kind values of migration m006)
_OPTIONS = {
    "path_prefix": "--path-prefix",
    "path_glob": "--path-glob",
    "account": "--account",
    "api_key_id": "--api-key-id",
    "openai_project": "--openai-project",
    "anthropic_workspace": "--anthropic-workspace",
}


@click.group()
def rule() -> None:
    """Rules mapping usage to projects: an agent's folder (prefix or glob), a provider account, an API key id,
    an OpenAI project id or an Anthropic workspace id. They apply to past usage too."""


@rule.command()
@click.argument("project_name", metavar="PROJECT")
@click.option("--path-prefix", help="Agent working folders under this absolute path.")
@click.option("--path-glob", help="Agent working folders matching this glob, e.g. '/home/me/work/*'.")
@click.option("--account", help="Reported spend of this provider account (its name in `account list`).")
@click.option("--api-key-id", help="Reported spend of this API key id (Anthropic).")
@click.option("--openai-project", help="Reported spend of this OpenAI project id (proj_...).")
@click.option("--anthropic-workspace", help="Reported spend of this Anthropic workspace id (wrkspc_...).")
@click.pass_obj
def add(ctx: CliContext, /, project_name: str, **patterns: str | None) -> None:
    """Send spend matching one option to PROJECT (created if new)."""
    from tracker.outcomes import add_rule

    given = [(kind, value) for kind, value in patterns.items() if value is not None]
    if len(given) != 1:
        raise UserError(f"give exactly one of {', '.join(_OPTIONS.values())}")
    kind, value = given[0]
    with write_conn(ctx) as conn:
        rid = add_rule(conn, project_name, kind, value)
    click.echo(f"Added rule #{rid}: {_OPTIONS[kind]} {value} -> project {' '.join(project_name.split())!r}. "
               "It applies to past usage too.")


@rule.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.pass_obj
def list_(ctx: CliContext, fmt: str) -> None:
    """List rules, in the order they were added."""
    from tracker.outcomes import list_rules

    tz = local_tz()
    with read_conn(ctx) as conn:
        rules = [] if conn is None else list_rules(conn)
    if not rules and fmt == "table":
        click.echo("No rules: spend goes to the repository folder's name. Add one with "
                   "`token-ledger rule add PROJECT --path-prefix DIR`.")
        return
    records = [{"id": r.id, "project": r.project, "kind": r.kind, "pattern": r.pattern} for r in rules]
    rows = [[str(r.id), r.project, _OPTIONS[r.kind], r.pattern, when_text(r.created_ms, tz)] for r in rules]
    print_rows(fmt, "Project rules", ["Id", "Project", "Match", "Pattern", "Added"], rows, records=records,
               fields=("id", "project", "kind", "pattern"))


@rule.command()
@click.argument("rule_id", type=int)
@click.pass_obj
def remove(ctx: CliContext, rule_id: int) -> None:
    """Remove rule RULE_ID (see `rule list`)."""
    from tracker.outcomes import remove_rule

    with write_conn(ctx) as conn:
        r = remove_rule(conn, rule_id)
    click.echo(f"Removed rule #{r.id} ({_OPTIONS[r.kind]} {r.pattern} -> project {r.project!r}).")
