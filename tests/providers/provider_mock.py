"""A real HTTP server on 127.0.0.1 for provider tests, with scripted faults.

Each test module gives a ``route(request) -> Reply`` that speaks its provider's wire format; ``fault(...)``
queues replies (errors, 429 with Retry-After, a stall past the client timeout, truncated JSON) that are served
instead of the route's for matching paths. Servers are shut down and joined by the fixture.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tracker.providers.http import HttpSettings
from tracker.store.db import Store

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "api"
NOW_MS = 1_795_435_200_000  # 2026-11-23T12:00:00Z (fixed clock: sync_account(now_ms=...))
DAY_MS = 86_400_000
FAST = HttpSettings(timeout_s=0.2, connect_timeout_s=0.5, max_attempts=3)  # tests never really sleep


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]

    def arg(self, name: str, default: str | None = None) -> str | None:
        """One query value, accepting both ``name`` and ``name[]`` (providers' two array styles)."""
        values = self.query.get(name) or self.query.get(f"{name}[]")
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        return self.query.get(name, []) + self.query.get(f"{name}[]", [])


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    stall_s: float = 0.0  # wait this long before answering (a client timeout is shorter)
    truncate: bool = False  # send only the first half of the JSON body


@dataclass
class Fault:
    path_part: str
    reply: Reply
    skip: int  # let this many matching requests through first


class MockServer:
    def __init__(self, route: Callable[[Request], Reply]) -> None:
        self.route = route
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                mock._handle(self)

            def log_message(self, format: str, *args: object) -> None:  # keep test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fault(self, path_part: str, reply: Reply, *, times: int = 1, skip: int = 0) -> None:
        with self._lock:
            self.faults += [Fault(path_part, reply, skip if i == 0 else 0) for i in range(times)]

    def close(self) -> None:
        self._stop.set()  # wakes stalled handlers so the server's threads can be joined
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def _pick(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            for i, f in enumerate(self.faults):
                if f.path_part in request.path:
                    if f.skip:
                        f.skip -= 1
                        break
                    del self.faults[i]
                    return f.reply
        return self.route(request)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        request = Request(parts.path, parse_qs(parts.query), {k.lower(): v for k, v in h.headers.items()})
        reply = self._pick(request)
        if reply.stall_s and self._stop.wait(reply.stall_s):
            return
        body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        if reply.truncate:
            body = body[: len(body) // 2]
        try:
            h.send_response(reply.status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            for k, v in reply.headers.items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(body)
        except OSError:  # the client gave up (timeout test)
            pass


def cursor(index: int) -> str:
    return "page_" + base64.b64encode(str(index).encode()).decode()


def uncursor(value: str | None) -> int:
    return 0 if not value else int(base64.b64decode(value.removeprefix("page_")))


def paged(items: list[Any], request: Request, page_size: int, *, repeat_cursor: bool = False) -> dict[str, Any]:
    """An OpenAI/Anthropic style page of ``items`` (buckets), with an opaque cursor that round-trips."""
    limit = min(int(request.arg("limit") or 7), page_size)
    start = uncursor(request.arg("page"))
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    nxt = cursor(limit if repeat_cursor else start + limit) if more else None
    return {"data": chunk, "has_more": more, "next_page": nxt}


def days(start_ms: int, end_ms: int) -> Iterator[int]:
    yield from range(start_ms - start_ms % DAY_MS, end_ms, DAY_MS)


def rows_snapshot(conn: Any, tables: Iterable[str] = ("provider_usage", "provider_balances")) -> list[Any]:
    """Everything stored by provider syncs, for exact before/after comparisons."""
    return [list(conn.execute(f"SELECT * FROM {t} ORDER BY id")) for t in tables]


def add_account(store: Store, provider: str, base_url: str, label: str | None = None, **options: Any) -> int:
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO accounts (provider, label, base_url, options, created_ms) VALUES (?, ?, ?, ?, ?)",
            (provider, label or provider, base_url, json.dumps(options), NOW_MS),
        )
    return int(cur.lastrowid or 0)
