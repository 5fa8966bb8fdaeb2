"""What the accounts page does off the GUI thread: add (probe, keychain, row), test and remove an account.

These run inside ``services.run``, each on its own connection to the ledger. They reuse the CLI's pieces
(``tracker.cli.accounts_db`` for the rows, ``tracker.keychain`` for keys, ``tracker.providers.probe_key``), so
the app and ``token-ledger account`` behave the same: the key is saved in the keychain before the row is written,
a removed account keeps its history and comes back with the same name, and no message ever holds a key.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from tracker import keychain, providers
from tracker.cli import accounts_db
from tracker.store import open_store


@dataclass(frozen=True)
class JobResult:
    """How an account action went, in words for people."""

    ok: bool
    message: str
    can_read: list[str] = field(default_factory=list)
    cannot_read: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NewAccount:
    provider: str
    label: str
    base_url: str | None
    backfill_days: int | None = None


def check_new_account(provider: str, label: str, base_url: str) -> NewAccount:
    """The dialog's fields checked (no I/O); ValueError with a plain message when one is not usable."""
    if provider not in providers.PROVIDERS:
        raise ValueError(f"Unknown provider {provider!r}.")
    label = label.strip()
    if not accounts_db_label_ok(label):
        raise ValueError("Give the account a name: up to 64 letters, digits, spaces and . _ @ -, starting with a "
                         "letter or digit.")
    url = base_url.strip() or None
    if url is not None:
        url = providers.check_base_url(url)
    return NewAccount(provider, label, url)


def accounts_db_label_ok(label: str) -> bool:
    from tracker.cli.account import _LABEL  # the CLI's rule for --name, so both accept the same names

    return _LABEL.fullmatch(label) is not None


def add_account(db: Path, new: NewAccount, key: str) -> JobResult:
    """Probe the key, save it in the keychain, then write (or re-activate) the account's row."""
    key = key.strip()
    if not key or any(c.isspace() for c in key) or not key.isprintable():
        return JobResult(False, "Paste the key alone, on one line, without spaces.")
    with open_store(db, create=False, migrate=False) as store:
        previous = accounts_db.find_account(store.conn, new.label)
        problem = _name_taken(previous, new.provider)
        if problem:
            return JobResult(False, problem)
        keychain.check_backend()
        probe = providers.probe_key(store, new.provider, key, new.base_url, None if previous is None else previous.id)
        if not probe.ok:
            return JobResult(False, f"The key was not saved: {probe.summary}", probe.can_read, probe.cannot_read)
        keychain.save_key(new.label, key)
        options = {} if new.backfill_days is None else {"backfill_days": new.backfill_days}
        try:
            with store.transaction() as conn:
                if previous is None:
                    accounts_db.insert_account(conn, new.provider, new.label, new.base_url, options)
                else:
                    accounts_db.reactivate(conn, previous.id, new.provider, new.base_url, options)
        except Exception:
            with contextlib.suppress(keychain.KeychainError):
                keychain.delete_key(new.label)  # no key without its row
            raise
    label = providers.PROVIDERS[new.provider].label
    again = " Its earlier history is kept and continues." if previous is not None else ""
    return JobResult(True, f"Added {label} account {new.label!r}: {probe.summary}.{again} The key is in the OS "
                           "keychain; the next sync fetches its usage.", probe.can_read, probe.cannot_read)


def _name_taken(previous: accounts_db.Account | None, provider: str) -> str | None:
    if previous is None:
        return None
    if not previous.removed:
        return f"An account named {previous.label!r} already exists; choose another name or remove it first."
    if previous.provider != provider:
        return (f"The name {previous.label!r} belongs to a removed {previous.provider} account whose history is "
                "kept; choose another name.")
    return None


def check_account(db: Path, label: str) -> JobResult:
    """Read the account's key from the keychain and make one cheap call per capability with it."""
    with open_store(db, create=False, migrate=False) as store:
        acct = accounts_db.find_account(store.conn, label)
        if acct is None or acct.removed:
            return JobResult(False, f"There is no active account named {label!r}.")
        try:
            key = keychain.load_key(label)
        except keychain.KeychainError as e:
            return JobResult(False, f"{label}: {e}")
        probe = providers.probe_key(store, acct.provider, key, acct.base_url, acct.id)
    return JobResult(probe.ok, f"{label}: {probe.summary}", probe.can_read, probe.cannot_read)


def remove_account(db: Path, label: str) -> JobResult:
    """Delete the key and mark the account removed; what it reported stays (the CLI's ``--purge`` deletes it)."""
    with open_store(db, create=False, migrate=False) as store:
        acct = accounts_db.find_account(store.conn, label)
        if acct is None or acct.removed:
            return JobResult(False, f"There is no active account named {label!r}.")
        try:
            keychain.delete_key(label)
            note = "its key was deleted from the OS keychain"
        except keychain.KeychainError as e:
            if e.kind != "missing":
                return JobResult(False, f"Nothing was removed. {e}")
            note = "no key was in the OS keychain"
        rows = accounts_db.data_rows(store.conn, acct.id)
        with store.transaction() as conn:
            accounts_db.mark_removed(conn, acct.id)
    kept = f"its {rows:,} reported rows stay in reports" if rows else "nothing was reported yet"
    return JobResult(True, f"Removed account {label!r}: {note}; it is no longer synced, and {kept}.")
