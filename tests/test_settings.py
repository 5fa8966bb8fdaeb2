"""Settings: defaults, round trip, corrupt files kept aside, atomic writes."""

from __future__ import annotations

import json
import stat
from decimal import Decimal
from pathlib import Path

from tracker.settings import SETTINGS_FILENAME, Settings, load_settings, save_settings


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    s = load_settings(tmp_path)
    assert s == Settings()
    assert (s.sync_interval_min, s.backfill_days, s.time_zone, s.monthly_budget_usd) == (15, 90, None, None)
    assert (s.launch_at_login, s.paused_until_ms) == (False, None)


def test_round_trip_keeps_exact_budget(tmp_path: Path) -> None:
    s = Settings(sync_interval_min=5, backfill_days=30, time_zone="Europe/Paris",
                 monthly_budget_usd=Decimal("123.45"), launch_at_login=True, paused_until_ms=1_700_000_000_000)
    save_settings(tmp_path / "data", s)
    assert load_settings(tmp_path / "data") == s
    raw = json.loads((tmp_path / "data" / SETTINGS_FILENAME).read_text())
    assert raw["monthly_budget_usd"] == "123.45"  # a decimal string, never a float
    assert [p.name for p in (tmp_path / "data").iterdir()] == [SETTINGS_FILENAME]  # no temporary file left


def test_file_is_private(tmp_path: Path) -> None:
    save_settings(tmp_path, Settings())
    assert stat.S_IMODE((tmp_path / SETTINGS_FILENAME).stat().st_mode) == 0o600


def test_corrupt_file_gives_defaults_and_is_kept(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILENAME).write_text("{not json")
    assert load_settings(tmp_path) == Settings()
    assert (tmp_path / (SETTINGS_FILENAME + ".bad")).read_text() == "{not json"
    assert not (tmp_path / SETTINGS_FILENAME).exists()


def test_bad_values_are_corrupt(tmp_path: Path) -> None:
    for bad in ({"sync_interval_min": 0}, {"monthly_budget_usd": "lots"}, {"backfill_days": True}, []):
        (tmp_path / SETTINGS_FILENAME).write_text(json.dumps(bad))
        assert load_settings(tmp_path) == Settings()


def test_unknown_keys_are_ignored(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILENAME).write_text(json.dumps({"sync_interval_min": 30, "from_the_future": 1}))
    assert load_settings(tmp_path) == Settings(sync_interval_min=30)


def test_round_trip_keeps_exact_rate_and_compensation(tmp_path: Path) -> None:
    s = Settings(hourly_rate_usd=Decimal("87.125"), annual_compensation_usd=Decimal("185000.000001"))
    save_settings(tmp_path, s)
    assert load_settings(tmp_path) == s
    raw = json.loads((tmp_path / SETTINGS_FILENAME).read_text())
    assert (raw["hourly_rate_usd"], raw["annual_compensation_usd"]) == ("87.125", "185000.000001")
    assert Settings().annual_compensation_usd is None
    (tmp_path / SETTINGS_FILENAME).write_text(json.dumps({"annual_compensation_usd": "-1"}))
    assert load_settings(tmp_path) == Settings()  # negative pay is corrupt, never half-read
