"""``token-ledger doctor``: check this installation and print what it sees (see :mod:`tracker.doctor`).

Exit status 0 when the ledger opens (or could be created) and the prices load, 1 otherwise, with the reason
on stderr. Runs headless: without a display the tray line says it cannot tell.
"""

from __future__ import annotations

import json

import click

from tracker.cli.context import CliContext
from tracker.doctor import TRAY_PROBE_ARG


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format.")
@click.option(TRAY_PROBE_ARG, "probe_tray", is_flag=True, hidden=True,
              help="Internal: ask Qt whether a system tray is available and print the answer.")
@click.pass_obj
def doctor(ctx: CliContext, fmt: str, probe_tray: bool) -> None:
    """Check this installation: keyring, tray, Qt, ledger, agent logs, prices and logs."""
    from tracker import doctor as checks

    if probe_tray:
        click.echo(checks.probe_tray())
        return
    items = checks.gather(ctx.paths)
    problems = checks.problems(items)
    if fmt == "json":
        report = {"ok": not problems, "problems": problems,
                  "items": [{"key": i.key, "label": i.label, "text": i.text, "ok": i.ok, **i.details} for i in items]}
        click.echo(json.dumps(report, indent=2))
    else:
        for item in items:
            click.echo(item.line())
    if problems:
        click.echo(f"token-ledger doctor: {len(problems)} problem{'s' * (len(problems) > 1)}: "
                   + " | ".join(problems), err=True)
        raise SystemExit(1)
