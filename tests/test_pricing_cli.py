"""``token-ledger prices``: the command group on its own, with the overrides path in the context object."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from click.testing import CliRunner, Result

from tracker.cli.prices import prices


def run(tmp_path: Path, *args: str) -> Result:
    obj = SimpleNamespace(prices_path=tmp_path / "prices.toml")
    return CliRunner().invoke(prices, list(args), obj=obj)


def test_path(tmp_path: Path) -> None:
    result = run(tmp_path, "path")
    assert result.exit_code == 0
    assert result.output == f"{tmp_path / 'prices.toml'}\n"


def test_show_a_tiered_model(tmp_path: Path) -> None:
    result = run(
        tmp_path, "show", "claude-sonnet-4-5-20250929", "--date", "2025-10-01", "--source", "claude_code"
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "claude-sonnet-4-5-20250929 on 2025-10-01 UTC, source claude_code"
    assert lines[1] == "price:  anthropic:claude-sonnet-4-5 (genai-prices)"
    assert "starts_with 'claude-sonnet-4-5'" in lines[2]
    assert lines[4].split() == ["USD", "per", "million", "tokens", "3", "15", "0.3", "3.75", "6"]
    assert lines[5].split() == ["prompt", ">", "200,000", "tokens", "6", "22.5", "0.6", "7.5", "12"]


def test_show_a_dated_change_and_fast_mode(tmp_path: Path) -> None:
    after = run(tmp_path, "show", "claude-opus-4-6", "--date", "2026-03-13", "--speed", "fast")
    assert after.exit_code == 0, after.output
    assert "price since 2026-03-13" in after.output
    rates = next(line for line in after.output.splitlines() if line.startswith("USD per million tokens"))
    assert rates.split()[4:] == ["30", "150", "3", "37.5", "60"]
    assert "prompt >" not in after.output


def test_show_unpriced(tmp_path: Path) -> None:
    result = run(tmp_path, "show", "kimi-for-coding", "--date", "2026-01-01")
    assert result.exit_code == 0
    assert (
        result.output
        == f"unpriced: no price known for kimi-for-coding; add one to {tmp_path / 'prices.toml'}\n"
    )


def test_show_an_override(tmp_path: Path) -> None:
    (tmp_path / "prices.toml").write_text('[[price]]\nmodel = "gw"\ninput_mtok = 0.5\noutput_mtok = 1.5\n')
    result = run(tmp_path, "show", "gw")
    assert result.exit_code == 0, result.output
    assert "price:  override:gw (override)" in result.output
    rates = next(line for line in result.output.splitlines() if line.startswith("USD per million tokens"))
    assert rates.split()[4:] == ["0.5", "1.5", "0.5", "0.5", "0.5"]


def test_malformed_overrides_and_bad_date_are_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "prices.toml").write_text('[[price]]\nmodel = "gw"\n')
    broken = run(tmp_path, "show", "gw")
    assert broken.exit_code == 1
    assert "[[price]] entry 1 (model 'gw'): input_mtok is required" in broken.output
    assert "Traceback" not in broken.output
    bad_date = run(tmp_path, "show", "gpt-5", "--date", "2026-13-01")
    assert bad_date.exit_code == 2
    assert "is not a date like 2026-03-13" in bad_date.output
