"""Qt tests run offscreen: set before any QApplication exists (pytest-qt creates it lazily)."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
