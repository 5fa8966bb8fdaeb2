"""The one HTTP client every provider module uses: timeouts, TLS, retries, and the network log.

Manners (see docs/providers.md): explicit timeouts, TLS verification on, proxies from the environment, a
User-Agent naming the app; 429/5xx/timeouts retried a bounded number of times with exponential backoff and
full jitter, honouring ``Retry-After`` (seconds or an HTTP date). Every attempt, failed or not, is handed to
``log`` as a :class:`NetworkLogEntry` (host and path, never the query string or a header).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

import tracker
from tracker.providers.base import AuthError, BadRequestError, NotAvailableError, ProviderError, redact

USER_AGENT = f"token-ledger/{tracker.__version__}"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 524, 529})
MAX_RETRY_AFTER_S = 120.0  # a longer wait is reported instead of slept through

Params = Mapping[str, str | int | Sequence[str]]


@dataclass(frozen=True, slots=True)
class NetworkLogEntry:
    ts_ms: int
    method: str
    host: str
    path: str
    status: int | None
    bytes_sent: int
    bytes_received: int
    duration_ms: int
    error: str | None


@dataclass(frozen=True, slots=True)
class HttpSettings:
    timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    max_attempts: int = 4
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 30.0


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from now: an integer of seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class HttpClient:
    """Requests to one provider for one account. Not thread-safe: one sync uses one client."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        key: str,
        log: Callable[[NetworkLogEntry], None],
        *,
        settings: HttpSettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings or HttpSettings()
        self._key = key  # only used to scrub messages; the headers carry it to the server
        self._log = log
        self._sleep = sleep
        self._rng = rng
        s = self.settings
        self._client = httpx.Client(
            base_url=base_url,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **headers},
            timeout=httpx.Timeout(s.timeout_s, connect=s.connect_timeout_s),
            verify=True,
            trust_env=True,  # HTTPS_PROXY / NO_PROXY from the environment
            follow_redirects=False,  # a redirect could carry the key's header to another host
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_json(self, path: str, params: Params | None = None) -> Any:
        """GET and decode JSON, retrying what is worth retrying; raises :class:`ProviderError` subclasses."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send(path, params)
            except httpx.TimeoutException:
                if attempt < self.settings.max_attempts:
                    self._sleep(self._backoff(attempt))
                    continue
                raise ProviderError(
                    f"{self._where(path)} did not answer within {self.settings.timeout_s:g} s "
                    f"({attempt} attempts)"
                ) from None
            except httpx.TransportError as e:
                if attempt < self.settings.max_attempts:
                    self._sleep(self._backoff(attempt))
                    continue
                raise ProviderError(f"cannot reach {self._where(path)}: {self._short(e)}") from None
            if response.status_code in RETRY_STATUSES and attempt < self.settings.max_attempts:
                wait = retry_after_seconds(response.headers.get("retry-after"), time.time())
                if wait is not None and wait > MAX_RETRY_AFTER_S:
                    raise ProviderError(
                        f"{self._where(path)} is rate limiting; it asks to wait {wait:.0f} s, try again later"
                    )
                self._sleep(wait if wait is not None else self._backoff(attempt))
                continue
            return self._decode(path, response)

    def _send(self, path: str, params: Params | None) -> httpx.Response:
        request = self._client.build_request("GET", path, params=params)
        started = time.monotonic()
        ts_ms = int(time.time() * 1000)
        status: int | None = None
        received = 0
        error: str | None = None
        try:
            response = self._client.send(request)
            status = response.status_code
            received = len(response.content)
            return response
        except httpx.HTTPError as e:
            error = self._short(e)
            raise
        finally:
            self._log(
                NetworkLogEntry(
                    ts_ms=ts_ms, method="GET", host=request.url.host, path=request.url.path, status=status,
                    bytes_sent=len(request.content) + len(request.url.raw_path), bytes_received=received,
                    duration_ms=int((time.monotonic() - started) * 1000), error=error,
                )
            )

    def _backoff(self, attempt: int) -> float:
        s = self.settings
        return float(self._rng()) * min(s.backoff_cap_s, s.backoff_base_s * float(2 ** (attempt - 1)))  # full jitter

    def _decode(self, path: str, response: httpx.Response) -> Any:
        status = response.status_code
        if status >= 400:
            raise self._error(path, response)
        try:
            return json.loads(response.content)
        except ValueError:
            raise ProviderError(
                f"{self._where(path)} sent a response that is not valid JSON (cut short?); nothing was stored"
            ) from None

    def _error(self, path: str, response: httpx.Response) -> ProviderError:
        status = response.status_code
        detail = redact(error_message(response.content), self._key)
        text = f"{self._where(path)} answered HTTP {status}" + (f": {detail}" if detail else "")
        if status in (401, 403):
            return AuthError(text)
        if status == 404:
            return NotAvailableError(text)
        if status == 400:
            return BadRequestError(text)
        return ProviderError(text)

    def _where(self, path: str) -> str:
        url = self._client.base_url
        return f"{url.host}{url.path.rstrip('/')}/{path.lstrip('/')}"

    def _short(self, e: Exception) -> str:
        return redact(f"{type(e).__name__}: {e}" if str(e) else type(e).__name__, self._key)[:120]


def error_message(body: bytes) -> str:
    """The human part of a provider's error body, whatever its shape (string or object ``error``)."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, str):
            return err
        if isinstance(err, dict):
            message = err.get("message")
            if isinstance(message, str):
                kind = err.get("type")
                return f"{message} ({kind})" if isinstance(kind, str) and kind not in message else message
    return ""
