"""Garbage cycles are collected on the GUI thread only (tracker.ui.gc_guard)."""

from __future__ import annotations

import gc
import threading
from typing import Any

from tracker.ui.gc_guard import MainThreadCollector


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_collection_runs_on_the_gui_thread_by_pythons_rule(qtbot: Any) -> None:
    collector = MainThreadCollector(interval_ms=10)
    try:
        assert not gc.isenabled()
        threads: list[str] = []

        def seen(phase: str, _info: object) -> None:
            if phase == "start":
                threads.append(threading.current_thread().name)

        gc.callbacks.append(seen)
        worker = threading.Thread(target=lambda: [Node() for _ in range(5 * collector.threshold[0])], name="worker")
        worker.start()
        worker.join()  # thousands of cycles allocated on a worker: no collection starts there
        assert "worker" not in threads
        qtbot.waitUntil(lambda: collector.collections > 0, timeout=5000)
        assert set(threads) == {threading.main_thread().name}
        assert collector.check() is None or gc.get_count()[0] <= collector.threshold[0]
    finally:
        gc.callbacks.remove(seen)
        collector.stop()
    assert gc.isenabled() is False  # the session's collector (tests/ui/conftest.py) is still on


def test_checks_slow_down_while_idle_and_speed_up_with_garbage(qtbot: Any) -> None:
    from tracker.ui import gc_guard

    collector = MainThreadCollector(interval_ms=10)
    try:
        collector._timer.stop()  # driven by hand here
        gc.collect()
        collector._tick()
        collector._tick()
        assert collector._timer.interval() == 40  # nothing to collect: half the pace each time
        for _ in range(12):
            collector._tick()
        assert collector._timer.interval() == gc_guard.MAX_INTERVAL_MS
        garbage = [Node() for _ in range(2 * collector.threshold[0])]
        del garbage
        collector._tick()
        assert collector._timer.interval() == 10  # garbage again: back to the full pace
    finally:
        collector.stop()
