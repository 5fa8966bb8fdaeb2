"""The light fingerprint agrees with the catalog's and changes with what it covers."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from tracker.pricing.catalog import PriceCatalog
from tracker.pricing.fingerprint import fingerprint_of_file, genai_prices_version

PRICES = '[[price]]\nmodel = "my-model"\ninput_mtok = 1\noutput_mtok = 2\n'


def test_version_read_without_importing_matches_metadata() -> None:
    assert genai_prices_version() == version("genai-prices")


def test_file_fingerprint_equals_catalog_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    assert fingerprint_of_file(path) == PriceCatalog(None).fingerprint() == fingerprint_of_file(None)
    path.write_text(PRICES)
    assert fingerprint_of_file(path) == PriceCatalog(path).fingerprint()
    assert fingerprint_of_file(path) != fingerprint_of_file(None)
    path.write_text(PRICES.replace("2", "3"))
    assert fingerprint_of_file(path) == PriceCatalog(path).fingerprint()
