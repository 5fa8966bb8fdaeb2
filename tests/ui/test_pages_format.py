"""Money and sizes as the window writes them, and the overview's key figures (budget, over budget)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tracker.ui.widgets.format import size, usd, when


@pytest.mark.parametrize(("pico", "text"), [
    (None, "unpriced"), (0, "$0.00"), (4_999_999_999, "<$0.01"), (5_000_000_000, "$0.01"),
    (1_234_565_000_000_000, "$1,234.57"), (1_234_564_999_999_999, "$1,234.56"), (-2_500_000_000_000, "-$2.50"),
])
def test_usd_rounds_half_up_to_cents(pico: int | None, text: str) -> None:
    assert usd(pico) == text


def test_size_and_when() -> None:
    assert [size(n) for n in (0, 1023, 2048, 3 * 1024**2)] == ["0 B", "1023 B", "2.0 KB", "3.0 MB"]
    assert when(None, ZoneInfo("UTC")) == "never"
    assert when(1_700_000_000_000, ZoneInfo("Europe/Paris"), seconds=True) == "2023-11-14 23:13:20"


def test_budget_card(qtbot: Any, tmp_path: Any) -> None:
    from tracker.analytics.spend import SpendSummary
    from tracker.paths import AppPaths
    from tracker.settings import Settings
    from tracker.sync.services import AppServices
    from tracker.ui.pages.overview import OverviewPage, budget_pico

    services = AppServices(AppPaths(tmp_path), Settings(monthly_budget_usd=Decimal("10")))
    try:
        page = OverviewPage(services)
        qtbot.addWidget(page)
        assert budget_pico(Decimal("10.005")) == 10_005_000_000_000
        page.set_summary(SpendSummary(1, 0, 2, 8 * 10**12, 4 * 10**12, 3, 30 * 10**12, 10 * 10**12))
        assert page.card_budget.value.text() == "$10.00"
        assert page.card_budget.detail.text() == "120% used · $2.00 over"
        assert "b3261e" in page.card_budget.value.styleSheet()
        assert page.card_month.caption.text() == "This month (estimated + reported)"
        assert page.card_month.detail.text() == "estimated $8.00 · reported $4.00 · 3 unpriced records"
        assert page.card_today.caption.text() == "Today (estimated)"
        assert page.card_today.value.text() == "<$0.01"
    finally:
        services.close(wait=True)
