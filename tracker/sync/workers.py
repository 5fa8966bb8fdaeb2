"""Run blocking work on Python worker threads; deliver results to the GUI thread through a queued signal.

Picard's pattern ("run in a worker, call back on the main thread"): a :class:`Relay` lives in the GUI thread and
its signal carries a ready-to-call closure. Emitting it from a worker thread queues the call into the GUI
thread's event loop, so callbacks never run on a worker and never touch widgets from the wrong thread.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal, Slot

from tracker.store import StoreError

T = TypeVar("T")
log = logging.getLogger(__name__)


class Relay(QObject):
    """Carries closures from worker threads to the thread this object lives in.

    Signals: call(object) — a zero-argument callable, run in this object's thread.
    """

    call = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.closed = False
        self.call.connect(self._run)

    @Slot(object)
    def _run(self, fn: Callable[[], None]) -> None:
        if not self.closed:
            fn()


def plain_error(e: BaseException) -> str:
    """One line for people: our errors carry a message already; anything else gets its type named."""
    if isinstance(e, StoreError | OSError | ValueError):
        return str(e) or type(e).__name__
    if isinstance(e, sqlite3.Error):
        return f"The ledger could not be read: {e}."
    return f"{type(e).__name__}: {e}"


class Workers:
    """A named thread pool whose results come back through a :class:`Relay`."""

    def __init__(self, relay: Relay, max_workers: int, name: str) -> None:
        self._relay = relay
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)

    def submit(
        self, fn: Callable[[], T], on_done: Callable[[T], None], on_error: Callable[[str], None] | None = None
    ) -> Future[Any]:
        return self._pool.submit(self._call, fn, on_done, on_error)

    def _call(self, fn: Callable[[], T], on_done: Callable[[T], None], on_error: Callable[[str], None] | None) -> None:
        try:
            result = fn()
        except Exception as e:  # a worker never dies with an exception: it becomes a message
            expected = isinstance(e, StoreError | OSError | ValueError)  # plain-worded: no traceback needed
            log.log(logging.INFO if expected else logging.WARNING, "background task failed: %s", e,
                    exc_info=not expected)
            message = plain_error(e)
            if on_error is not None:
                self._relay.call.emit(lambda: on_error(message))
            return
        self._relay.call.emit(lambda: on_done(result))

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)
