"""tracker.keychain against a real Secret Service: gnome-keyring-daemon on a private D-Bus session.

``dbus-run-session`` starts a session bus for one shell; in it ``gnome-keyring-daemon --unlock`` creates and
unlocks a 'login' keyring (with a known password, under a temporary HOME) and serves the Secret Service. A Python
child then saves, loads and deletes a key through tracker.keychain with keyring's own backend detection. The key
reaches the child on stdin only, never in argv or the environment. Both tools come from Debian packages
(``dbus-daemon``, ``gnome-keyring``) that ``.ci/run`` installs; without them the test is skipped and says why.
"""

from __future__ import annotations

import sys
from pathlib import Path

from secret_service import UNLOCK, needs_secret_service, run_in_session, run_python, session_env

FAKE_KEY = "sk-or-v1-FAKE-secret-service-7f3a9c"

CHILD = """
import sys
from tracker import keychain

key = sys.stdin.readline().strip()
print("backend:", keychain.backend_name())
keychain.save_key("integration", key)
print("loaded equal:", keychain.load_key("integration") == key)
keychain.delete_key("integration")
try:
    keychain.load_key("integration")
except keychain.KeychainError as e:
    print("after delete:", e.kind, "-", e)
"""



@needs_secret_service
def test_round_trip_through_gnome_keyring(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = run_python(CHILD, FAKE_KEY + "\n", home, tmp_path / "run")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "backend: SecretService Keyring"
    assert lines[1] == "loaded equal: True"
    assert lines[2].startswith("after delete: missing - The key for account 'integration' is not in the OS keychain")
    assert FAKE_KEY not in done.stdout + done.stderr
    # the keyring file exists (the key was really stored by the daemon) and holds no plaintext copy
    stored = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert (home / ".local/share/keyrings/login.keyring").is_file()
    assert FAKE_KEY.encode() not in stored


CLI_SHELL = UNLOCK + (
    'py="$0"; url="$1"; set -e; '
    '"$py" -m tracker account add openrouter --name personal --base-url "$url"; '  # the key: the shell's stdin
    '"$py" -m tracker account test personal; '
    '"$py" -m tracker sync; '
    '"$py" -m tracker account remove personal --yes; '
    '"$py" -c "from tracker import keychain; keychain.load_key(\'personal\')" 2>&1 | tail -n 1'
)


@needs_secret_service
def test_the_command_line_with_gnome_keyring(tmp_path: Path) -> None:
    """``account add`` (key on stdin), ``test``, ``sync`` and ``remove`` as separate processes: the key lives only
    in the Secret Service between them."""
    from test_cli_accounts import OpenRouterStub

    home, data = tmp_path / "home", tmp_path / "data"
    env = session_env(home, tmp_path / "run", TOKEN_LEDGER_DATA_DIR=str(data), CLAUDE_CONFIG_DIR=str(home),
                      CODEX_HOME=str(home))
    stub = OpenRouterStub()
    stub.accepted_key = FAKE_KEY
    try:
        done = run_in_session(CLI_SHELL, [sys.executable, stub.base_url], FAKE_KEY + "\n", env)
    finally:
        stub.close()
    assert done.returncode == 0, done.stderr
    assert "Added OpenRouter account 'personal'. Its key is in the OS keychain (SecretService Keyring)" in done.stdout
    assert "OpenRouter account 'personal': " in done.stdout
    assert "Removed account 'personal': its key from the OS keychain" in done.stdout
    assert "KeychainError: The key for account 'personal' is not in the OS keychain" in done.stdout
    assert FAKE_KEY not in done.stdout + done.stderr
    assert any(p.endswith("/key") for p in stub.paths)
    for path in data.rglob("*"):
        assert not path.is_file() or FAKE_KEY.encode() not in path.read_bytes(), path
