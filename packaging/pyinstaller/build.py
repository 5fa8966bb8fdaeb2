"""Build the one-folder PyInstaller app of Token Ledger.

    uv run python packaging/pyinstaller/build.py [--dist DIR] [--work DIR] [--clean]

The app lands in ``DIR/token-ledger/`` (``token-ledger`` or ``token-ledger.exe`` inside; on macOS also
``DIR/Token Ledger.app``). By default ``dist/`` and ``build/pyinstaller/`` of the repository, both ignored by
git. The spec (token-ledger.spec) says what goes in; packaging/README.md explains it. Prints the time the
build took and the size of the result.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SPEC = HERE / "token-ledger.spec"
APP_NAME = "token-ledger"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Build the one-folder PyInstaller app of Token Ledger.")
    parser.add_argument(
        "--dist", type=Path, default=REPO / "dist", help="where the app goes (default: dist/)"
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=REPO / "build" / "pyinstaller",
        help="PyInstaller's work folder, reused by the next build (default: build/pyinstaller/)",
    )
    parser.add_argument(
        "--clean", action="store_true", help="empty PyInstaller's cache and work folder first"
    )
    parser.add_argument("--quiet", action="store_true", help="show PyInstaller's warnings and errors only")
    return parser.parse_args(argv)


def pyinstaller_args(args: argparse.Namespace) -> list[str]:
    """The PyInstaller command line for ``args``."""
    cmd = [
        str(SPEC),
        "--noconfirm",
        "--distpath",
        str(args.dist.resolve()),
        "--workpath",
        str(args.work.resolve()),
        "--log-level",
        "WARN" if args.quiet else "INFO",
    ]
    if args.clean:
        cmd.append("--clean")
    return cmd


def folder_size(path: Path) -> int:
    """Bytes in the files under ``path`` (symlinks not followed)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total


def executable(dist: Path) -> Path:
    """The command-line executable of the built app."""
    return dist / APP_NAME / (f"{APP_NAME}.exe" if sys.platform == "win32" else APP_NAME)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import PyInstaller.__main__  # here: `--help` should not wait for it

    started = time.monotonic()
    PyInstaller.__main__.run(pyinstaller_args(args))
    elapsed = time.monotonic() - started
    exe = executable(args.dist.resolve())
    if not exe.is_file():
        print(f"error: the build finished but {exe} is missing", file=sys.stderr)
        return 1
    size = folder_size(exe.parent)
    print(f"Built {exe} in {elapsed:.0f} s; the folder holds {size / 1e6:.0f} MB.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
