"""``token-ledger report client NAME --month YYYY-MM --format pdf|html|csv|json --output FILE``.

A month's report for one client, to send them: AI spend by provider, model and project (estimated and reported
apart), the outcomes delivered with their value, value per dollar, cost per outcome and a chart. The figures are
``tracker.analytics.client_report``'s; PDF and HTML are rendered by ``tracker.ui.client_report`` with Qt on the
``offscreen`` platform (no display, no browser). ``report`` hands ``report client ...`` to this command.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tracker.cli.context import CliContext, UserError

if TYPE_CHECKING:
    from tracker.analytics.client_report import ClientReport

FORMATS = ("pdf", "html", "csv", "json")
_SUFFIXES = {".pdf": "pdf", ".html": "html", ".htm": "html", ".csv": "csv", ".json": "json"}


@click.command("client")
@click.argument("name")
@click.option("--month", required=True, help="The month to report (YYYY-MM), cut in --tz.")
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="pdf, html, csv or json (default: from the --output file's extension).")
@click.option("--output", "-o", "output", help="File to write (csv and json: standard output when left out or -).")
@click.option("--tz", "tz_name", help="IANA time zone that cuts days, e.g. Europe/Paris (default: this machine's).")
@click.option("--paper", type=click.Choice(("a4", "letter")), help="PDF paper size (default: by locale, else A4).")
@click.pass_obj
def client_report(  # noqa: PLR0917 (click passes options by keyword)
    ctx: CliContext, name: str, month: str, fmt: str | None, output: str | None, tz_name: str | None,
    paper: str | None,
) -> None:
    """Write the month's report for client NAME (see `token-ledger project set-client`): AI spend by provider,
    model and project, the outcomes delivered and their value, value per dollar, cost per outcome, a chart.

    Estimated spend (from local agent logs) and reported spend (billed by provider accounts) are labelled
    apart. The report names projects, models and providers only: no keys, prompts, file paths or session ids.
    """
    fmt = _format(fmt, output)
    target = None if output in (None, "-") else Path(output)
    if target is None and fmt in ("pdf", "html"):
        raise UserError(f"--format {fmt} needs --output FILE")
    if target is not None and not target.parent.is_dir():
        raise UserError(f"--output: the folder {target.parent} does not exist")
    rep = _build(ctx, name, month, tz_name)
    if fmt == "json":
        from tracker.analytics.client_report import client_report_json
        from tracker.cli.output import dumps

        _emit(dumps(client_report_json(rep)) + "\n", target)
    elif fmt == "csv":
        from tracker.analytics.client_report import client_report_csv

        _emit(client_report_csv(rep), target)
    else:
        assert target is not None
        _render(rep, fmt, target, paper)


def _format(fmt: str | None, output: str | None) -> str:
    if fmt is not None:
        return fmt
    guessed = _SUFFIXES.get(Path(output).suffix.lower()) if output not in (None, "-") else None
    if guessed is None:
        raise UserError("give --format pdf, html, csv or json (or an --output file ending in one of them)")
    return guessed


def _build(ctx: CliContext, name: str, month: str, tz_name: str | None) -> ClientReport:
    from tracker.analytics import client_report as cr
    from tracker.analytics import value
    from tracker.analytics.periods import BadZoneError, zone
    from tracker.settings import load_settings

    try:
        first = cr.parse_month(month)
        tz = zone(tz_name)
    except BadZoneError as e:
        raise UserError(f"--tz: {e}") from None
    except ValueError as e:
        raise UserError(str(e)) from None
    if not ctx.paths.db.exists():
        raise UserError(f"No ledger at {ctx.paths.db} yet. Run `token-ledger sync` first.")
    rate = load_settings(ctx.paths.data_dir).hourly_rate_usd
    with ctx.store(create=False) as store:
        try:
            return cr.build_client_report(store.conn, cr.ClientQuery(name, first, tz, rate, value.now_ms()))
        except cr.UnknownClientError as e:
            raise UserError(str(e)) from None


def _emit(text: str, target: Path | None) -> None:
    if target is None:
        sys.stdout.write(text)
        return
    _write(target, text.encode("utf-8"))
    click.echo(f"Wrote {target}")


def _write(target: Path, data: bytes) -> None:
    try:
        target.write_bytes(data)
    except OSError as e:
        raise UserError(f"--output: cannot write {target}: {e.strerror or e}") from None


def _render(rep: ClientReport, fmt: str, target: Path, paper: str | None) -> None:
    _write(target, b"")  # a folder we cannot write to is a plain error here, not a Qt warning later
    app = _qt_app()  # kept referenced while rendering
    from tracker.ui import client_report as ui

    try:
        if fmt == "html":
            ui.write_html(rep, target)
            click.echo(f"Wrote {target}")
        else:
            pages = ui.write_pdf(rep, target, paper)
            click.echo(f"Wrote {target} ({pages} page{'s' if pages != 1 else ''})")
    except OSError as e:
        raise UserError(f"--output: cannot write {target}: {e.strerror or e}") from None
    del app


def _qt_app() -> Any:
    """The running Qt application, or a new QGuiApplication on the offscreen platform (no display needed)."""
    from PySide6.QtGui import QGuiApplication

    from tracker.ui.pyside_fix import pin_singletons

    pin_singletons()  # PySide6 6.12 on Python 3.11 leaks references to None/True/False (see the module)
    app = QGuiApplication.instance()
    if app is None:
        app = QGuiApplication(["token-ledger", "-platform", "offscreen"])
    return app
