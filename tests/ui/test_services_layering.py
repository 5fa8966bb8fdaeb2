"""The CLI and the core never import PySide6 (start-up speed, and the core stays testable without Qt)."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "tracker.cli", "tracker.cli.app", "tracker.domain", "tracker.settings", "tracker.paths", "tracker.store",
    "tracker.ledger.importer", "tracker.pricing.catalog", "tracker.sources.claude_code", "tracker.sources.codex",
    "tracker.providers", "tracker.analytics.reports", "tracker.analytics.spend", "tracker.sync.job",
    "tracker.sync.budget", "tracker.sync.watch",
]


def test_cli_and_core_do_not_import_qt() -> None:
    code = (
        "import importlib, sys\n"
        f"for m in {CORE!r}: importlib.import_module(m)\n"
        "print(sorted(n for n in sys.modules if n.startswith(('PySide6', 'shiboken6', 'pyqtgraph', 'tracker.ui'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
