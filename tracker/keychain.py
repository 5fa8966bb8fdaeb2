"""Provider API keys in the OS keychain (macOS Keychain, Windows Credential Manager, Secret Service), via keyring.

Each account's key is one entry: service ``io.github.tokenledger.TokenLedger`` (the app id, ``APP_ID``), username
``account:<label>``; in a keychain app, search for the app id. Versions before the app id used the service
``token-ledger``: such an entry is moved to the new service the first time it is read (saved under the new name,
checked, then the old one deleted; if the new one cannot be saved the old one is kept and still used), and
saving or deleting a key clears the old entry too. The database never holds a key.

When there is no usable keychain, or it is locked, or an entry is missing, :class:`KeychainError`
says which, and how to fix it. There is no plaintext fallback: a backend that is not an OS keychain (keyring's
``fail`` and ``null`` backends, an empty chain, the file stores of ``keyrings.alt``) is refused.

Call these functions on the main thread (Secret Service over D-Bus is not safe to share between threads) and hand
the key to workers as a plain string. No message built here contains a key.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING, Literal, NoReturn

from tracker.paths import APP_ID

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

KEYRING_SERVICE = APP_ID
LEGACY_SERVICES = ("token-ledger",)  # where earlier versions kept keys; read once, then moved

ErrorKind = Literal["no_backend", "locked", "missing", "failed"]

_LIST_BACKENDS = "`python -m keyring --list-backends` shows the backends keyring can see"


class KeychainError(Exception):
    """A keychain problem, with a message that says what happened and how to fix it (never the key).

    ``kind`` is ``no_backend`` (no OS keychain), ``locked`` (locked or not answering), ``missing`` (no entry
    for the account) or ``failed`` (anything else the keychain refused).
    """

    def __init__(self, message: str, kind: ErrorKind) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind


def entry_username(label: str) -> str:
    """The keychain entry's user name for the account ``label``."""
    return f"account:{label}"


def backend_name(backend: KeyringBackend | None = None) -> str:
    """A short name of the keyring backend in use, e.g. ``SecretService Keyring`` (for status lines)."""
    kr = _current(backend)
    name = getattr(kr, "name", None)
    return name if isinstance(name, str) and name else type(kr).__name__


def check_backend(backend: KeyringBackend | None = None) -> KeyringBackend:
    """The keyring backend, if it is a real OS keychain; else :class:`KeychainError` (``no_backend``)."""
    kr = _current(backend)
    reason = _not_a_keychain(kr)
    if reason is not None:
        raise KeychainError(_no_backend_message(reason), "no_backend")
    return kr


def save_key(label: str, key: str, backend: KeyringBackend | None = None) -> None:
    """Store ``key`` for account ``label`` (replacing any earlier one), and check that the keychain kept it."""
    kr = check_backend(backend)
    user = entry_username(label)
    try:
        kr.set_password(KEYRING_SERVICE, user, key)
        kept = kr.get_password(KEYRING_SERVICE, user)
    except Exception as e:
        _raise_for(e, label, "save the key for")
    if kept != key:
        # a backend that accepts writes and forgets them must not look like success
        raise KeychainError(
            f"The OS keychain ({backend_name(kr)}) did not keep the key for account {label!r}; nothing was "
            f"saved. Check the keychain is unlocked and writable; {_LIST_BACKENDS}.",
            "failed",
        )
    _forget_legacy(kr, user)  # an older copy must not outlive the key that replaced it


def load_key(label: str, backend: KeyringBackend | None = None) -> str:
    """The key of account ``label``; :class:`KeychainError` (``missing``) if the keychain has no entry."""
    kr = check_backend(backend)
    user = entry_username(label)
    try:
        key = kr.get_password(KEYRING_SERVICE, user)
        if key is None:
            key = _migrate_legacy(kr, user)
    except Exception as e:
        _raise_for(e, label, "read the key of")
    if key is None:
        raise KeychainError(_missing_message(label), "missing")
    return key


def delete_key(label: str, backend: KeyringBackend | None = None) -> None:
    """Delete the key of account ``label``; :class:`KeychainError` (``missing``) if there was none."""
    from keyring.errors import PasswordDeleteError

    kr = check_backend(backend)
    user = entry_username(label)
    deleted = False
    for service in (KEYRING_SERVICE, *LEGACY_SERVICES):
        try:
            if kr.get_password(service, user) is not None:
                kr.delete_password(service, user)
                deleted = True
        except PasswordDeleteError:
            pass  # gone between the read and the delete: nothing left to delete
        except Exception as e:
            _raise_for(e, label, "delete the key of")
    if not deleted:
        raise KeychainError(_missing_message(label), "missing")


# --- keys saved by earlier versions under the old service name ------------------------------------------------


def _migrate_legacy(kr: KeyringBackend, user: str) -> str | None:
    """The key under an old service name, moved to :data:`KEYRING_SERVICE`; None if there is none.

    The old entry is deleted only once the new one reads back equal, so a failing save loses nothing: the key
    is returned all the same, and the move is tried again next time.
    """
    for service in LEGACY_SERVICES:
        key = kr.get_password(service, user)
        if key is None:
            continue
        try:
            kr.set_password(KEYRING_SERVICE, user, key)
            moved = kr.get_password(KEYRING_SERVICE, user) == key
        except Exception:
            moved = False  # the old entry stays; reading it worked, so this read succeeds
        if moved:
            _forget(kr, service, user)
        return key
    return None


def _forget_legacy(kr: KeyringBackend, user: str) -> None:
    for service in LEGACY_SERVICES:
        # a leftover old entry is harmless (the new service is read first), so a failure here is no error
        with contextlib.suppress(Exception):
            if kr.get_password(service, user) is not None:
                _forget(kr, service, user)


def _forget(kr: KeyringBackend, service: str, user: str) -> None:
    """Delete one entry, tolerating failure (missing, locked): the key is safe under the new service by now."""
    with contextlib.suppress(Exception):
        kr.delete_password(service, user)


# --- what went wrong, in words -----------------------------------------------------------------------------


def _current(backend: KeyringBackend | None) -> KeyringBackend:
    if backend is not None:
        return backend
    import keyring

    return keyring.get_keyring()


def _not_a_keychain(kr: KeyringBackend) -> str | None:
    """Why ``kr`` cannot hold keys for us, or None if it is an OS keychain."""
    from keyring.backends import chainer, fail, null

    if isinstance(kr, fail.Keyring):
        return "keyring found no backend"
    if isinstance(kr, null.Keyring):
        return "keyring is set to its null backend, which stores nothing"
    if isinstance(kr, chainer.ChainerBackend) and not kr.backends:
        return "keyring found no backend"
    if type(kr).__module__.startswith("keyrings.alt"):
        return f"keyring is set to {type(kr).__name__}, a file store rather than an OS keychain"
    return None


def _no_backend_message(reason: str) -> str:
    where = ""
    if sys.platform.startswith("linux"):
        where = (
            " On Linux, run a Secret Service such as gnome-keyring or KWallet in your desktop session"
            + ("" if os.environ.get("DBUS_SESSION_BUS_ADDRESS") else " (this session has no D-Bus session bus)")
            + "."
        )
    return (
        f"No OS keychain was found ({reason}). Token Ledger keeps API keys only in the OS keychain, never in a "
        f"plain file.{where} Then try again; {_LIST_BACKENDS}."
    )


def _missing_message(label: str) -> str:
    return (
        f"The key for account {label!r} is not in the OS keychain. Run `token-ledger account add PROVIDER --name "
        f"{label}` again to store it, or `token-ledger account remove {label}`."
    )


def _locked_message(label: str, verb: str) -> str:
    return (
        f"Could not {verb} account {label!r}: the OS keychain is locked (or its service is not answering). "
        "Unlock it (e.g. log in to your desktop session, or unlock the 'login' keyring in your keychain app) and "
        "run the command again."
    )


def _raise_for(error: Exception, label: str, verb: str) -> NoReturn:
    """Turn a backend's exception into a :class:`KeychainError`. The backend's own text is left out: it is
    not written for people, and a D-Bus error may echo what it was sent."""
    from keyring.errors import InitError, KeyringLocked, NoKeyringError

    if isinstance(error, NoKeyringError):
        raise KeychainError(_no_backend_message("keyring found no backend"), "no_backend") from None
    if isinstance(error, (KeyringLocked, InitError)) or _is_dbus_error(error):
        raise KeychainError(_locked_message(label, verb), "locked") from None
    raise KeychainError(
        f"Could not {verb} account {label!r}: the OS keychain refused ({type(error).__name__}). Check that it "
        f"is unlocked and working; {_LIST_BACKENDS}.",
        "failed",
    ) from None


def _is_dbus_error(error: Exception) -> bool:
    """An error of the Secret Service client libraries, or the D-Bus socket (locked, prompt dismissed, gone)."""
    root = type(error).__module__.split(".")[0]
    return root in ("secretstorage", "jeepney", "dbus") or isinstance(error, ConnectionError)
