"""tracker.keychain against in-memory keyring backends: the round trip, and every failure said plainly.

``MemoryKeyring`` and the ``memory_keyring`` fixture are also used by the CLI tests (tests/test_cli_accounts*.py).
The real Secret Service is exercised in tests/test_keychain_secret_service.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.errors import KeyringLocked, PasswordDeleteError

from tracker import keychain
from tracker.keychain import KEYRING_SERVICE, KeychainError

FAKE_KEY = "sk-test-FAKE-0123456789abcdef"


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps entries in a dict (``priority`` is only read when keyring auto-detects)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise PasswordDeleteError("No such password!")
        del self.entries[(service, username)]


class LockedKeyring(KeyringBackend):
    """A Secret Service whose collection stays locked (the user dismissed the unlock prompt)."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


class ForgetfulKeyring(MemoryKeyring):
    """Accepts writes and keeps nothing."""

    def set_password(self, service: str, username: str, password: str) -> None:
        pass


class DBusError(Exception):
    """Stands in for jeepney's DBusErrorResponse (the check is by the error's module)."""


DBusError.__module__ = "jeepney.wrappers"


class DBusFailingKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise DBusError(f"org.freedesktop.DBus.Error.NoReply echoing {FAKE_KEY}")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise DBusError(f"org.freedesktop.DBus.Error.NoReply echoing {password}")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """keyring's process-wide backend set to a fresh MemoryKeyring; the previous backend is restored after."""
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    try:
        yield kr
    finally:
        keyring.set_keyring(previous)


def test_round_trip_through_the_process_keyring(memory_keyring: MemoryKeyring) -> None:
    keychain.save_key("work", FAKE_KEY)
    assert memory_keyring.entries == {(KEYRING_SERVICE, "account:work"): FAKE_KEY}
    assert keychain.load_key("work") == FAKE_KEY
    keychain.delete_key("work")
    assert memory_keyring.entries == {}


def test_save_replaces_the_earlier_key(memory_keyring: MemoryKeyring) -> None:
    keychain.save_key("work", "old-key")
    keychain.save_key("work", FAKE_KEY)
    assert keychain.load_key("work") == FAKE_KEY
    assert len(memory_keyring.entries) == 1


def test_missing_entry(memory_keyring: MemoryKeyring) -> None:
    for call in (keychain.load_key, keychain.delete_key):
        with pytest.raises(KeychainError) as info:
            call("personal")
        assert info.value.kind == "missing"
        message = str(info.value)
        assert "The key for account 'personal' is not in the OS keychain" in message
        assert "token-ledger account add PROVIDER --name personal" in message
        assert "token-ledger account remove personal" in message


@pytest.mark.parametrize(
    "backend", [fail.Keyring(), null.Keyring(), chainer.ChainerBackend()], ids=["fail", "null", "empty-chain"]
)
def test_no_backend_is_refused_never_plaintext(backend: KeyringBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    for call in (lambda: keychain.save_key("w", FAKE_KEY, backend), lambda: keychain.load_key("w", backend)):
        with pytest.raises(KeychainError) as info:
            call()
        assert info.value.kind == "no_backend"
        message = str(info.value)
        assert message.startswith("No OS keychain was found")
        assert "never in a plain file" in message
        assert "gnome-keyring or KWallet" in message
        assert "no D-Bus session bus" in message
        assert "--list-backends" in message
        assert FAKE_KEY not in message


def test_a_file_store_is_not_a_keychain() -> None:
    class PlaintextKeyring(MemoryKeyring):
        pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    with pytest.raises(KeychainError) as info:
        keychain.save_key("w", FAKE_KEY, PlaintextKeyring())
    assert info.value.kind == "no_backend"
    assert "PlaintextKeyring, a file store rather than an OS keychain" in str(info.value)


def test_locked_keychain() -> None:
    for call in (
        lambda: keychain.save_key("w", FAKE_KEY, LockedKeyring()),
        lambda: keychain.load_key("w", LockedKeyring()),
        lambda: keychain.delete_key("w", LockedKeyring()),
    ):
        with pytest.raises(KeychainError) as info:
            call()
        assert info.value.kind == "locked"
        assert "the OS keychain is locked" in str(info.value)
        assert "Unlock it" in str(info.value)
        assert info.value.__cause__ is None and info.value.__suppress_context__


def test_dbus_errors_read_as_locked_and_never_echo_the_key() -> None:
    for call in (
        lambda: keychain.save_key("w", FAKE_KEY, DBusFailingKeyring()),
        lambda: keychain.load_key("w", DBusFailingKeyring()),
    ):
        with pytest.raises(KeychainError) as info:
            call()
        assert info.value.kind == "locked"
        assert FAKE_KEY not in str(info.value)
        assert info.value.__suppress_context__  # the backend's text (which echoes the key) is not chained


def test_a_keychain_that_forgets_is_an_error() -> None:
    with pytest.raises(KeychainError) as info:
        keychain.save_key("w", FAKE_KEY, ForgetfulKeyring())
    assert info.value.kind == "failed"
    assert "did not keep the key for account 'w'" in str(info.value)


def test_other_backend_errors() -> None:
    class Broken(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise OSError(f"disk full {FAKE_KEY}")

    with pytest.raises(KeychainError) as info:
        keychain.load_key("w", Broken())
    assert info.value.kind == "failed"
    assert "the OS keychain refused (OSError)" in str(info.value)
    assert FAKE_KEY not in str(info.value)


def test_backend_name(memory_keyring: MemoryKeyring) -> None:
    assert keychain.backend_name() == MemoryKeyring.name
