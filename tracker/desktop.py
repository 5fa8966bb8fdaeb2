"""The app in the user's applications menu on Linux desktops (``token-ledger install-desktop-entry``).

Installs, under ``$XDG_DATA_HOME`` (default ``~/.local/share``): the desktop entry with an ``Exec=`` line that
starts this installation (:mod:`tracker.launch`), the app icon in the hicolor theme (every PNG size and the SVG),
and the AppStream metadata. Removing takes away exactly those files. The desktop's caches are refreshed with
``update-desktop-database`` and ``gtk-update-icon-cache`` when they are installed; without them menus still find
the entry (they watch the folders), so their absence is never an error.

Qt-free and import-light: only the standard library, :mod:`tracker.paths` and :mod:`tracker.resources`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tracker import resources
from tracker.paths import APP_ID

DESKTOP_FILE = f"{APP_ID}.desktop"
METAINFO_FILE = f"{APP_ID}.metainfo.xml"
_TOOL_TIMEOUT_S = 30


def data_home(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME`` when it is an absolute path (the spec says to ignore a relative one), else
    ``~/.local/share``."""
    env = os.environ if env is None else env
    value = env.get("XDG_DATA_HOME", "").strip()
    if value and os.path.isabs(value):
        return Path(value)
    home = env.get("HOME", "").strip() or os.path.expanduser("~")
    return Path(home) / ".local" / "share"


@dataclass(frozen=True)
class EntryFile:
    """One installed file: where it goes and where its content comes from (None: the generated entry)."""

    target: Path
    source: Path | None


def entry_files(base: Path) -> list[EntryFile]:
    """Every file the install writes under ``base`` (the data home), in the order it writes them."""
    icon = resources.app_icon_name()
    sources: list[Path | None] = [
        None,
        *(resources.resource_path(*resources.png_parts(icon, n)) for n in resources.APP_ICON_SIZES),
        resources.resource_path(*resources.svg_parts(icon)),
        resources.resource_path("linux", METAINFO_FILE),
    ]
    return [EntryFile(t, s) for t, s in zip(target_paths(base), sources, strict=True)]


def target_paths(base: Path) -> list[Path]:
    """Where the installed files are, without needing the resources (uninstall works on a broken install too)."""
    icon = resources.app_icon_name()
    hicolor = base / "icons" / "hicolor"
    return [
        base / "applications" / DESKTOP_FILE,
        *(hicolor / f"{n}x{n}" / "apps" / f"{icon}.png" for n in resources.APP_ICON_SIZES),
        hicolor / "scalable" / "apps" / f"{icon}.svg",
        base / "metainfo" / METAINFO_FILE,
    ]


def desktop_entry(exec_line: str) -> str:
    """The shipped desktop entry with its ``Exec=`` line replaced (``exec_line`` is already quoted per the spec)."""
    template = resources.resource_path("linux", DESKTOP_FILE).read_text(encoding="utf-8")
    lines = [f"Exec={exec_line}" if line.startswith("Exec=") else line for line in template.splitlines()]
    if f"Exec={exec_line}" not in lines:
        raise ValueError(f"{DESKTOP_FILE} in the resources has no Exec= line to fill in")
    return "\n".join(lines) + "\n"


@dataclass
class InstallResult:
    """What an install or uninstall did: the files written or removed, and notes for people (cache tools)."""

    files: list[Path]
    notes: list[str] = field(default_factory=list)


Runner = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


def install(base: Path, exec_line: str, *, which: Callable[[str], str | None] = shutil.which,
            run: Runner | None = None) -> InstallResult:
    """Write the entry, icons and metainfo under ``base``; refresh the desktop's caches when the tools exist."""
    files = entry_files(base)
    entry = desktop_entry(exec_line).encode("utf-8")
    for f in files:
        _write(f.target, entry if f.source is None else f.source.read_bytes())
    notes = refresh_caches(base, which=which, run=run)
    return InstallResult([f.target for f in files], notes)


def uninstall(base: Path, *, which: Callable[[str], str | None] = shutil.which,
              run: Runner | None = None) -> InstallResult:
    """Remove exactly the files :func:`install` writes (those that exist); folders stay (they are shared)."""
    removed = []
    for path in target_paths(base):
        if path.is_file() or path.is_symlink():
            path.unlink()
            removed.append(path)
    notes = refresh_caches(base, which=which, run=run) if removed else []
    return InstallResult(removed, notes)


def _write(path: Path, content: bytes) -> None:
    """Write through a temporary file and a rename: a menu watching the folder never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content)
    tmp.chmod(0o644)
    os.replace(tmp, path)


def refresh_caches(base: Path, *, which: Callable[[str], str | None] = shutil.which,
                   run: Runner | None = None) -> list[str]:
    """Run the cache tools that are installed; a note for each one that failed (never an exception)."""
    run = _run if run is None else run
    notes = []
    apps = base / "applications"
    tool = which("update-desktop-database")
    if tool and apps.is_dir():
        notes += _try(run, [tool, "--quiet", str(apps)])
    hicolor = base / "icons" / "hicolor"
    tool = which("gtk-update-icon-cache")
    # Only an existing cache needs refreshing; without one, desktops read the icon folders directly (and a new
    # cache would go stale when another app adds icons without running the tool).
    if tool and (hicolor / "icon-theme.cache").is_file():
        notes += _try(run, [tool, "--quiet", "--force", "--ignore-theme-index", str(hicolor)])
    elif hicolor.is_dir():
        os.utime(hicolor)  # the icon theme spec: a newer folder time tells icon loaders to look again
    return notes


def _try(run: Runner, argv: list[str]) -> list[str]:
    name = os.path.basename(argv[0])
    try:
        done = run(argv)
    except (OSError, subprocess.SubprocessError) as e:
        return [f"{name} could not run ({e}); the menu may show the change after you log in again."]
    if done.returncode != 0:
        detail = (done.stderr or done.stdout or "").strip().splitlines()
        why = f": {detail[-1]}" if detail else ""
        return [f"{name} failed (exit {done.returncode}{why}); the menu may show the change after you log in again."]
    return []


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=_TOOL_TIMEOUT_S, check=False)
