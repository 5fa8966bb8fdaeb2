"""Fixtures for provider tests: a fresh ledger, mock servers that are always shut down, no real sleeping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from providers.provider_mock import MockServer, Reply, Request
from tracker.store.db import Store, open_store


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    s = open_store(data_dir / "ledger.db")
    yield s
    s.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[Request], Reply]], MockServer]]:
    servers: list[MockServer] = []

    def start(route: Callable[[Request], Reply]) -> MockServer:
        servers.append(MockServer(route))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


class Sleeps(list[float]):
    """Records the delays the client would have slept."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
