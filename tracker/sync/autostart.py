"""Launch at login: an XDG autostart entry on Linux (no Qt; run on a worker when the setting changes).

Other platforms (a LaunchAgent on macOS, the Run registry key on Windows) belong to the packaging work; there
:func:`apply_autostart` says so instead of pretending.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from tracker.paths import APP_ID

ENTRY = """[Desktop Entry]
Type=Application
Name=Token Ledger
Comment=What did my tokens buy? A tray app that tracks AI token spend.
Exec={exec}
Icon=token-ledger
Terminal=false
X-GNOME-Autostart-enabled=true
"""


def autostart_file(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME", "").strip() or os.path.expanduser("~/.config")
    return Path(base) / "autostart" / f"{APP_ID}.desktop"


def launch_command(data_dir: Path | None = None) -> str:
    """How the entry starts the app: this interpreter running ``tracker``, with the data folder if not default."""
    args = [sys.executable, "-m", "tracker"]
    if data_dir is not None:
        args += ["--data-dir", str(data_dir)]
    return " ".join(shlex.quote(a) for a in args)


def apply_autostart(enabled: bool, data_dir: Path | None = None, env: Mapping[str, str] | None = None,
                    platform: str | None = None) -> str | None:
    """Create or remove the autostart entry; a message for people when this platform is not supported yet."""
    platform = sys.platform if platform is None else platform
    if platform in ("darwin", "win32"):
        return "Launch at login is not available on this system yet." if enabled else None
    path = autostart_file(env)
    if not enabled:
        path.unlink(missing_ok=True)
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ENTRY.format(exec=launch_command(data_dir)), encoding="utf-8")
    return None
