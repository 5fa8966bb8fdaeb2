"""Qt tests run offscreen: set before any QApplication exists (pytest-qt creates it lazily)."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from tracker.ui.pyside_fix import pin_singletons

pin_singletons()  # PySide6 6.12 on Python 3.11 leaks references to None/True/False (see the module)
