"""HTTP manners (base URLs, Retry-After, User-Agent, the network log) and the key never leaking anywhere."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

import tracker
from providers.provider_mock import FAST, NOW_MS, MockServer, Reply, add_account
from providers.test_provider_openai import ADMIN, OpenAIMock
from tracker.providers import PROVIDERS, check_base_url, probe_key, sync_account
from tracker.providers.base import redact
from tracker.providers.http import error_message, retry_after_seconds
from tracker.store.db import Store


@pytest.mark.parametrize(("url", "normalised"), [
    ("https://API.OpenAI.com/v1/", "https://api.openai.com/v1"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("http://localhost:4000/api/", "http://localhost:4000/api"),
    ("http://[::1]:9000", "http://[::1]:9000"),
])
def test_allowed_base_urls(url: str, normalised: str) -> None:
    assert check_base_url(url) == normalised


@pytest.mark.parametrize(("url", "words"), [
    ("http://api.openai.com/v1", "plain http"),
    ("http://192.168.1.5:8080", "plain http"),
    ("ftp://example.com", "not a valid base URL"),
    ("https://user:secret@example.com", "must not contain a user name or password"),
    ("https://example.com/v1?key=abc", "must not contain a query"),
    ("api.openai.com", "not a valid base URL"),
])
def test_refused_base_urls(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        check_base_url(url)


def test_every_default_base_url_is_https() -> None:
    assert all(check_base_url(p.default_base_url).startswith("https://") for p in PROVIDERS.values())


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert retry_after_seconds("12", now.timestamp()) == 12.0
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds(later, now.timestamp()) == 30.0
    assert retry_after_seconds("soon", now.timestamp()) is None
    assert retry_after_seconds(None, now.timestamp()) is None


def test_error_bodies_of_every_shape() -> None:
    assert error_message(b'{"error": "Missing scopes: api.usage.read."}') == "Missing scopes: api.usage.read."
    assert error_message(b'{"type":"error","error":{"type":"permission_error","message":"no"}}') == \
        "no (permission_error)"
    assert error_message(b'{"error":{"code":403,"message":"Only management keys"}}') == "Only management keys"
    assert error_message(b"<html>502</html>") == ""


def test_redact_removes_keys_and_masked_keys() -> None:
    assert redact("Incorrect API key provided: sk-proj-****abcd.") == "Incorrect API key provided: [key]."
    assert redact("Your api key: ****here is invalid") == "Your api key: [key] is invalid"
    assert redact("token xyz-123 leaked", key="xyz-123") == "token [key] leaked"


def test_importing_the_package_does_not_import_httpx() -> None:
    code = "import sys, tracker.providers; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_requests_name_the_app_and_the_log_has_no_query(store: Store, serve: Callable[[Any], MockServer]) -> None:
    mock = OpenAIMock()
    server = serve(mock.route)
    account = add_account(store, "openai", server.url + "/v1", backfill_days=2)
    assert sync_account(store, account, ADMIN, now_ms=NOW_MS, settings=FAST).ok
    assert {r.headers["user-agent"] for r in server.requests} == {f"token-ledger/{tracker.__version__}"}
    rows = store.conn.execute("SELECT host, path, status, bytes_received, account_id FROM network_log").fetchall()
    assert len(rows) == len(server.requests)
    assert all(r[0] == "127.0.0.1" and "?" not in r[1] and r[2] == 200 and r[3] > 0 and r[4] == account
               for r in rows)


def test_the_key_never_reaches_disk_output_or_messages(
    store: Store, serve: Callable[[Any], MockServer], sleeps: Any,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    mock = OpenAIMock()
    server = serve(mock.route)
    texts: list[str] = []
    probe = probe_key(store, "openai", ADMIN, server.url + "/v1", now_ms=NOW_MS, settings=FAST)
    texts.append(repr(probe))
    account = add_account(store, "openai", server.url + "/v1", backfill_days=20)
    echo = {"error": {"message": f"Incorrect API key provided: {ADMIN}.", "type": "invalid_request_error"}}
    faults = [("/costs", Reply(401, echo), 1), ("/costs", Reply(500, echo), 3),
              ("/usage/completions", Reply(200, {"data": []}, stall_s=1.0), 3),
              ("/costs", Reply(200, {"data": [], "has_more": True}, truncate=True), 1)]
    for path, reply, times in faults:
        server.fault(path, reply, times=times)
        result = sync_account(store, account, ADMIN, now_ms=NOW_MS, settings=FAST, sleep=sleeps)
        assert not result.ok
        texts.append(repr(result))
    result = sync_account(store, account, ADMIN, now_ms=NOW_MS, settings=FAST, sleep=sleeps)
    assert result.ok
    texts.append(repr(result))
    probe = probe_key(store, "openai", ADMIN + "x", server.url + "/v1", settings=FAST)  # a wrong key, echoed back
    texts.append(repr(probe))
    store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    out = capsys.readouterr()
    texts += [out.out, out.err, caplog.text]
    secret = ADMIN.encode()
    files = [p for p in Path(store.path).parent.rglob("*") if p.is_file()]
    assert any(p.name.endswith("-wal") for p in files)
    for path in files:
        assert secret not in path.read_bytes(), path
    for text in texts:
        assert ADMIN not in text
    assert "Incorrect API key provided: [key]." in texts[2]  # the provider's message is kept, scrubbed
