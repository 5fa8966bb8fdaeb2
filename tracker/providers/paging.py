"""Cursor pagination shared by the OpenAI and Anthropic admin APIs (``has_more`` + ``next_page``).

A cursor that comes back a second time, or ``has_more`` without a cursor, would loop or stop silently with
data missing; both are errors here, so the sync fails (and stores nothing) instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tracker.providers.base import ProviderError
from tracker.providers.http import HttpClient, Params

MAX_PAGES = 500


def pages(client: HttpClient, path: str, params: Params, what: str) -> Iterator[dict[str, Any]]:
    """Each page's decoded body, following ``next_page`` with the same other parameters."""
    seen: set[str] = set()
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        query = dict(params)
        if cursor is not None:
            query["page"] = cursor
        body = client.get_json(path, query)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise ProviderError(f"{what}: the response is not a page of data (unexpected shape)")
        yield body
        if body.get("has_more") is not True:
            return
        cursor = body.get("next_page")
        if not isinstance(cursor, str) or not cursor:
            raise ProviderError(f"{what}: the API said there is more data but sent no next_page cursor")
        if cursor in seen:
            raise ProviderError(f"{what}: the API sent the same next_page cursor twice; stopped to avoid a loop")
        seen.add(cursor)
    raise ProviderError(f"{what}: more than {MAX_PAGES} pages; stopped")


def buckets(body: dict[str, Any], what: str) -> Iterator[dict[str, Any]]:
    for bucket in body["data"]:
        if not isinstance(bucket, dict):
            raise ProviderError(f"{what}: a bucket is not an object")
        yield bucket


def results(bucket: dict[str, Any], what: str) -> list[dict[str, Any]]:
    """A bucket's results; ``result`` is the name older spec versions used for the same array."""
    items = bucket.get("results", bucket.get("result", []))
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ProviderError(f"{what}: a bucket's results are not a list of objects")
    return items
