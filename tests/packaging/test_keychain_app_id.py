"""Keys under the app id: entries saved by earlier versions (service ``token-ledger``) move over, and are never lost.

In-memory backends for every path (tests/test_keychain.py has them), and once for real: gnome-keyring on a
private D-Bus session, as in tests/test_keychain_secret_service.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from keyring.errors import KeyringLocked
from secret_service import needs_secret_service, run_python
from test_keychain import FAKE_KEY, ForgetfulKeyring, MemoryKeyring, memory_keyring

from tracker import keychain
from tracker.keychain import KEYRING_SERVICE, LEGACY_SERVICES, KeychainError
from tracker.paths import APP_ID

__all__ = ["memory_keyring"]  # the fixture, imported for use here

OLD = ("token-ledger", "account:work")
NEW = (APP_ID, "account:work")


def test_the_service_is_the_app_id() -> None:
    assert KEYRING_SERVICE == APP_ID == "io.github.tokenledger.TokenLedger"
    assert LEGACY_SERVICES == ("token-ledger",)


def test_an_old_entry_moves_on_first_read(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.entries[OLD] = FAKE_KEY
    assert keychain.load_key("work") == FAKE_KEY
    assert memory_keyring.entries == {NEW: FAKE_KEY}
    assert keychain.load_key("work") == FAKE_KEY  # and from then on from the new place


def test_the_new_entry_wins_over_an_old_one(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.entries.update({OLD: "stale-key", NEW: FAKE_KEY})
    assert keychain.load_key("work") == FAKE_KEY
    assert memory_keyring.entries[OLD] == "stale-key"  # reading never deletes what it did not move


def test_saving_a_key_clears_an_old_entry(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.entries[OLD] = "stale-key"
    keychain.save_key("work", FAKE_KEY)
    assert memory_keyring.entries == {NEW: FAKE_KEY}


@pytest.mark.parametrize("entries", [{OLD: FAKE_KEY}, {OLD: FAKE_KEY, NEW: FAKE_KEY}, {NEW: FAKE_KEY}],
                         ids=["old", "both", "new"])
def test_delete_removes_both(memory_keyring: MemoryKeyring, entries: dict[tuple[str, str], str]) -> None:
    memory_keyring.entries.update(entries)
    keychain.delete_key("work")
    assert memory_keyring.entries == {}
    with pytest.raises(KeychainError) as info:
        keychain.delete_key("work")
    assert info.value.kind == "missing"


class NewServiceRefused(MemoryKeyring):
    """Reads work, and writes under the new service fail (a locked collection, a policy, a full disk)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        if service == APP_ID:
            raise KeyringLocked("Failed to unlock the collection!")
        super().set_password(service, username, password)


class OldDeleteRefused(MemoryKeyring):
    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


def test_a_failed_move_keeps_the_old_entry_and_still_reads_it() -> None:
    for kr in (NewServiceRefused(), ForgetfulKeyring()):
        kr.entries[OLD] = FAKE_KEY
        assert keychain.load_key("work", kr) == FAKE_KEY
        assert kr.entries == {OLD: FAKE_KEY}  # nothing lost; the move is tried again next time


def test_an_old_entry_that_cannot_be_deleted_is_left_harmlessly() -> None:
    kr = OldDeleteRefused()
    kr.entries[OLD] = FAKE_KEY
    assert keychain.load_key("work", kr) == FAKE_KEY
    assert kr.entries == {OLD: FAKE_KEY, NEW: FAKE_KEY}
    assert keychain.load_key("work", kr) == FAKE_KEY


CHILD = """
import sys
import keyring
from tracker import keychain

key = sys.stdin.readline().strip()
keyring.set_password("token-ledger", "account:old", key)  # as an earlier version saved it
print("loaded equal:", keychain.load_key("old") == key)
print("old entry:", keyring.get_password("token-ledger", "account:old"))
print("new entry equal:", keyring.get_password(keychain.KEYRING_SERVICE, "account:old") == key)
keychain.delete_key("old")
print("after delete:", keyring.get_password(keychain.KEYRING_SERVICE, "account:old"))
"""



@needs_secret_service
def test_an_old_entry_moves_in_gnome_keyring(tmp_path: Path) -> None:
    done = run_python(CHILD, FAKE_KEY + "\n", tmp_path / "home", tmp_path / "run")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "loaded equal: True", "old entry: None", "new entry equal: True", "after delete: None",
    ]
    assert FAKE_KEY not in done.stdout + done.stderr
