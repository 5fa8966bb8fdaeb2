"""Where Token Ledger keeps its files.

One place decides the data folder, so the CLI, the app and the tests agree: ``--data-dir`` wins, then the
``TOKEN_LEDGER_DATA_DIR`` environment variable, then the platform's per-user data folder.

Import-light (no pathlib, dataclasses or platformdirs at import time; platformdirs alone takes ~40 ms to
import): the CLI's fast path (``tracker.cli.fast``) resolves the data folder with :func:`resolve_data_dir`.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy and ruff know the name)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

APP_NAME = "token-ledger"
APP_ID = "io.github.tokenledger.TokenLedger"
DATA_DIR_ENV = "TOKEN_LEDGER_DATA_DIR"
DB_FILENAME = "ledger.sqlite3"
PRICES_FILENAME = "prices.toml"
FOLDER_CACHE_FILENAME = "folder-cache.bin"  # tracker.sources.walk.DirCache; disposable


class AppPaths:
    """The files of one ledger. Everything lives under ``data_dir`` so a copy of it is a full backup."""

    __slots__ = ("data_dir",)

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AppPaths) and other.data_dir == self.data_dir

    def __hash__(self) -> int:
        return hash(self.data_dir)

    def __repr__(self) -> str:
        return f"AppPaths(data_dir={self.data_dir!r})"

    @property
    def db(self) -> Path:
        return self.data_dir / DB_FILENAME

    @property
    def prices(self) -> Path:
        """User price overrides (TOML), optional."""
        return self.data_dir / PRICES_FILENAME

    @property
    def backups(self) -> Path:
        return self.data_dir / "backups"


def default_data_dir() -> str:
    """The platform's per-user data folder for the app.

    On Linux this is what platformdirs computes (``$XDG_DATA_HOME`` if set, else ``~/.local/share``, then
    the app name: tests/test_fast_path.py checks they agree), done here without importing platformdirs.
    """
    if sys.platform == "linux":
        base = os.environ.get("XDG_DATA_HOME", "")
        if not base.strip():
            base = os.path.expanduser("~/.local/share")
        return os.path.join(base, APP_NAME)
    import platformdirs

    return platformdirs.user_data_dir(APP_NAME, appauthor=False)


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> str:
    """The data folder as a string: explicit argument, then the environment, then the platform default."""
    env = os.environ if env is None else env
    if data_dir:
        chosen = os.fspath(data_dir)
    elif env.get(DATA_DIR_ENV):
        chosen = env[DATA_DIR_ENV]
    else:
        chosen = default_data_dir()
    return os.path.expanduser(chosen)


def resolve_paths(data_dir: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> AppPaths:
    """:func:`resolve_data_dir` as :class:`AppPaths`."""
    from pathlib import Path

    return AppPaths(Path(resolve_data_dir(data_dir, env)))
