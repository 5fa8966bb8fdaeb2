"""Where Token Ledger keeps its files.

One place decides the data folder, so the CLI, the app and the tests agree: ``--data-dir`` wins, then the
``TOKEN_LEDGER_DATA_DIR`` environment variable, then the platform's per-user data folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "token-ledger"
APP_ID = "io.github.tokenledger.TokenLedger"
DATA_DIR_ENV = "TOKEN_LEDGER_DATA_DIR"
DB_FILENAME = "ledger.sqlite3"
PRICES_FILENAME = "prices.toml"


@dataclass(frozen=True)
class AppPaths:
    """The files of one ledger. Everything lives under ``data_dir`` so a copy of it is a full backup."""

    data_dir: Path

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


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def resolve_paths(data_dir: str | Path | None = None, env: Mapping[str, str] | None = None) -> AppPaths:
    """Pick the data folder: explicit argument, then the environment, then the platform default."""
    env = os.environ if env is None else env
    if data_dir:
        chosen = Path(data_dir)
    elif env.get(DATA_DIR_ENV):
        chosen = Path(env[DATA_DIR_ENV])
    else:
        chosen = default_data_dir()
    return AppPaths(chosen.expanduser())
