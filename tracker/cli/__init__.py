"""The ``token-ledger`` command line.

:func:`main` first offers the command line to the fast path (``tracker.cli.fast``: a warm ``sync`` and
``report ... --format json`` without importing click), and otherwise runs the click application in
``tracker.cli.app``. Commands are in sibling modules, named in ``COMMANDS`` and imported only when used.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy and ruff know the name)
if TYPE_CHECKING:
    from typing import Any

COMMANDS = {
    "sync": "tracker.cli.sync:sync",
    "report": "tracker.cli.report:report",
    "status": "tracker.cli.status:status",
    "prices": "tracker.cli.prices:prices",
    "account": "tracker.cli.account:account",
    "network-log": "tracker.cli.network_log:network_log",
    "demo": "tracker.cli.demo:demo",
    "outcome": "tracker.cli.outcome:outcome",
    "project": "tracker.cli.project:project",
    "rule": "tracker.cli.rule:rule",
    "subscription": "tracker.cli.subscription:subscription",
    "budget": "tracker.cli.budget:budget",
    "install-desktop-entry": "tracker.cli.desktop:install_desktop_entry",
    "backup": "tracker.cli.backup:backup",
    "doctor": "tracker.cli.doctor:doctor",
}


def main(argv: list[str] | None = None, *, fast: bool = True) -> Any:
    """Console-script entry point. ``fast=False`` (or ``TOKEN_LEDGER_NO_FAST_PATH=1``) skips the fast path."""
    if fast and not os.environ.get("TOKEN_LEDGER_NO_FAST_PATH"):
        from tracker.cli import fast as fast_path

        try:
            code = fast_path.run(sys.argv[1:] if argv is None else list(argv))
        except BrokenPipeError:
            # e.g. `token-ledger report daily --format json | head`: not an error for the user
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        if code is not None:
            return code
    from tracker.cli.app import main as click_main

    return click_main(argv)


def __getattr__(name: str) -> Any:
    """``cli`` and ``LazyGroup`` live in ``tracker.cli.app`` (importing click); loaded when first asked for."""
    if name in ("cli", "LazyGroup"):
        from tracker.cli import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
