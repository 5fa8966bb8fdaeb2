"""The user's price overrides file: new models, dated prices, aliases, errors, and the catalog fingerprint."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.domain import Rates, TokenCounts
from tracker.pricing.catalog import PriceCatalog, PriceOverridesError
from tracker.pricing.cost import cost_pico


def ms(when: str) -> int:
    return int(dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC).timestamp() * 1000)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.toml"
    path.write_text(text, encoding="utf-8")
    return path


GATEWAY = """
[[price]]
model = "my-gateway-model"
input_mtok = 1.0
output_mtok = 2.0
cache_read_mtok = 0.1
cache_write_mtok = 1.25
cache_write_1h_mtok = 2.0
"""


def test_new_model(tmp_path: Path) -> None:
    catalog = PriceCatalog(write(tmp_path, GATEWAY))
    lookup = catalog.rates_for("my-gateway-model", ms("2026-02-01"), source="claude_code")
    assert lookup is not None
    assert lookup.origin == "override"
    assert lookup.price_model_id == "override:my-gateway-model"
    assert lookup.rates == Rates(
        input=1_000_000,
        output=2_000_000,
        cache_read=100_000,
        cache_write_5m=1_250_000,
        cache_write_1h=2_000_000,
    )
    tokens = TokenCounts(
        input_tokens=100, cache_creation_tokens=10, cache_creation_1h_tokens=4, output_tokens=50
    )
    # 100*1e6 + 6*1.25e6 + 4*2e6 + 50*2e6
    assert cost_pico(tokens, lookup.rates) == 100_000_000 + 7_500_000 + 8_000_000 + 100_000_000
    assert (
        catalog.rates_for("MY-GATEWAY-MODEL", ms("2026-02-01"), source="codex") is not None
    )  # case-insensitive


def test_defaults_for_missing_cache_prices(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[[price]]\nmodel = "m"\ninput_mtok = "0.3"\noutput_mtok = 1\ncache_write_mtok = 0.5\n'
    )
    lookup = PriceCatalog(path).rates_for("m", ms("2026-01-01"), source="claude_code")
    assert lookup is not None
    assert lookup.rates == Rates(
        input=300_000, output=1_000_000, cache_read=300_000, cache_write_5m=500_000, cache_write_1h=500_000
    )


def test_dated_overrides_and_fallback_before_the_first_date(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[price]]
model = "claude-sonnet-4-5"
since = 2026-03-01
input_mtok = 2
output_mtok = 10

[[price]]
model = "claude-sonnet-4-5"
since = "2026-01-01"
input_mtok = 2.5
output_mtok = 12.5
""",
    )
    catalog = PriceCatalog(path)

    def rates(day: str) -> tuple[int, int, str]:
        lookup = catalog.rates_for("claude-sonnet-4-5", ms(day), source="claude_code")
        assert lookup is not None
        return lookup.rates.input, lookup.rates.output, lookup.origin

    assert rates("2025-12-31") == (3_000_000, 15_000_000, "genai-prices")  # before any override: the data
    assert rates("2026-01-01") == (2_500_000, 12_500_000, "override")
    assert rates("2026-02-28") == (2_500_000, 12_500_000, "override")
    assert rates("2026-03-01") == (2_000_000, 10_000_000, "override")


def test_speed_specific_override(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[price]]\nmodel = "g"\ninput_mtok = 1\noutput_mtok = 2\n\n'
        '[[price]]\nmodel = "g"\nspeed = "fast"\ninput_mtok = 6\noutput_mtok = 12\n',
    )
    catalog = PriceCatalog(path)
    fast = catalog.rates_for("g", ms("2026-01-01"), source="claude_code", speed="fast")
    standard = catalog.rates_for("g", ms("2026-01-01"), source="claude_code", speed="standard")
    assert fast is not None and standard is not None
    assert (fast.rates.input, standard.rates.input) == (6_000_000, 1_000_000)


def test_aliases(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[aliases]
"kimi-for-coding" = "kimi-k2.5"
"glm-coding" = "zai:glm-4.7"
"my-model" = "my-gateway-model"
"nowhere" = "no-such-model"
"""
        + GATEWAY,
    )
    catalog = PriceCatalog(path)
    kimi = catalog.rates_for("kimi-for-coding", ms("2026-03-01"), source="claude_code")
    assert kimi is not None
    assert (kimi.price_model_id, kimi.origin) == ("moonshotai:kimi-k2.5", "override")
    assert (kimi.rates.input, kimi.rates.output, kimi.rates.cache_read) == (600_000, 3_000_000, 100_000)
    assert "'kimi-for-coding' priced as 'kimi-k2.5'" in kimi.note
    glm = catalog.rates_for("glm-coding", ms("2026-03-01"), source="claude_code")
    assert glm is not None
    assert (glm.price_model_id, glm.rates.input) == ("zai:GLM-4.7", 600_000)  # pinned to the zai provider
    own = catalog.rates_for("my-model", ms("2026-03-01"), source="claude_code")
    assert own is not None and own.rates.input == 1_000_000
    assert catalog.rates_for("nowhere", ms("2026-03-01"), source="claude_code") is None


def test_overrides_win_over_genai_prices(tmp_path: Path) -> None:
    path = write(tmp_path, '[[price]]\nmodel = "claude-opus-4-6"\ninput_mtok = 1\noutput_mtok = 1\n')
    lookup = PriceCatalog(path).rates_for("claude-opus-4-6", ms("2026-04-01"), source="claude_code")
    assert lookup is not None and lookup.origin == "override" and lookup.rates.input == 1_000_000


def test_missing_file_means_no_overrides(tmp_path: Path) -> None:
    catalog = PriceCatalog(tmp_path / "absent.toml")
    assert catalog.rates_for("my-gateway-model", ms("2026-01-01"), source="claude_code") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[price]\nmodel = 1", "not valid TOML"),
        ('[[price]]\nmodel = "m"\noutput_mtok = 1\n', "entry 1 (model 'm'): input_mtok is required"),
        (
            '[[price]]\nmodel = "m"\ninput_mtok = -1\noutput_mtok = 1\n',
            "input_mtok must be a number of at least 0",
        ),
        ('[[price]]\nmodel = "m"\ninput_mtok = "cheap"\noutput_mtok = 1\n', "input_mtok must be a number"),
        ('[[price]]\nmodel = "m"\ninput_mtok = 1\noutput_mtok = 1\nouput = 2\n', "unknown key 'ouput'"),
        (
            '[[price]]\nmodel = "m"\ninput_mtok = 1\noutput_mtok = 1\nsince = "March"\n',
            "since must be a date",
        ),
        ("[[price]]\ninput_mtok = 1\noutput_mtok = 1\n", "[[price]] entry 1: needs model ="),
        ('[aliases]\n"a" = 3\n', "alias 'a' must name a model"),
        ("[prices]\n", "unknown section 'prices'"),
        (
            '[[price]]\nmodel = "m"\ninput_mtok = 1\noutput_mtok = 1\n'
            '[[price]]\nmodel = "M"\ninput_mtok = 2\noutput_mtok = 1\n',
            "entry 2 (model 'M'): a second price without a since date",
        ),
    ],
)
def test_malformed_file_is_explained(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PriceOverridesError) as caught:
        PriceCatalog(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "Traceback" not in message


def test_fingerprint_follows_the_overrides_content(tmp_path: Path) -> None:
    none = PriceCatalog(None).fingerprint()
    assert PriceCatalog(tmp_path / "absent.toml").fingerprint() == none
    path = write(tmp_path, GATEWAY)
    first = PriceCatalog(path).fingerprint()
    assert first != none
    assert PriceCatalog(path).fingerprint() == first
    path.write_text(GATEWAY.replace("2.0", "3.0"), encoding="utf-8")
    assert PriceCatalog(path).fingerprint() not in (first, none)


def test_fingerprint_and_import_do_not_load_genai_prices() -> None:
    code = (
        "import sys\n"
        "from tracker.pricing.catalog import PriceCatalog\n"
        "print(PriceCatalog(None).fingerprint())\n"
        "assert 'genai_prices' not in sys.modules and 'pydantic' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == PriceCatalog(None).fingerprint()
