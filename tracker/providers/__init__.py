"""Provider accounts: probing a key and syncing what OpenAI, Anthropic, OpenRouter, DeepSeek and Moonshot report.

Importing this package does not import httpx (the CLI's start-up stays fast): :func:`probe_key` and
:func:`sync_account` import the HTTP side when first called. Keys are plain strings handed in by the caller
(read from the keychain on the main thread); they are never stored, logged or put in a message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracker.providers.base import AccountSyncResult, KeyProbe, ProviderError, ProviderInfo
from tracker.providers.info import PROVIDERS
from tracker.providers.urls import check_base_url

if TYPE_CHECKING:
    from tracker.store.db import Store

__all__ = [
    "PROVIDERS",
    "AccountSyncResult",
    "KeyProbe",
    "ProviderError",
    "ProviderInfo",
    "check_base_url",
    "probe_key",
    "sync_account",
]


def probe_key(store: Store, provider: str, key: str, base_url: str | None, account_id: int | None = None,
              **kwargs: Any) -> KeyProbe:
    """One cheap call per capability: what the key can and cannot read, in plain words (network-logged)."""
    from tracker.providers.sync import probe_key as probe

    return probe(store, provider, key, base_url, account_id, **kwargs)


def sync_account(store: Store, account_id: int, key: str, *, now_ms: int | None = None,
                 **kwargs: Any) -> AccountSyncResult:
    """Fetch and store one account's reported usage, costs and balances in one transaction.

    Provider and network failures do not raise: they give ``ok=False`` and a one-line ``message``, and the
    stored data stays exactly as it was. Updates the account's last_sync_ms/last_status/last_message.
    """
    from tracker.providers.sync import sync_account as sync

    return sync(store, account_id, key, now_ms=now_ms, **kwargs)
