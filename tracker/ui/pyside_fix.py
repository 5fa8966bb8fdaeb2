"""A guard against a reference-count bug of PySide6 6.12 on Python 3.11: every call of a Qt method that returns
nothing (``label.setText``, ``item.update``, ``painter.drawLine``…) drops one reference to ``None`` it never took,
and some calls do the same to ``True``/``False``. Python 3.12 made these singletons immortal (PEP 683), so the
wheels' code is harmless there; on 3.11 the counts drift down until Python aborts with "none_dealloc" /
"bool_dealloc: deallocating True or False" — at exit (seen in the end-to-end run), or mid-run in a tray app that
repaints a chart all day.

:func:`pin_singletons` does what 3.12 does: it gives the three singletons a reference count no leak can exhaust
(2**40 extra references; a leak of one per call would need a trillion calls). It only touches ``ob_refcnt``, the
first field of every CPython object, and only on CPython < 3.12; elsewhere it does nothing. Called once, early,
by the modules that start the GUI (idempotent).
"""

from __future__ import annotations

import ctypes
import platform
import sys

_EXTRA = 1 << 40
_done = False


def pin_singletons() -> None:
    global _done  # noqa: PLW0603 (once per process)
    if _done or sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return
    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += _EXTRA
    _done = True
