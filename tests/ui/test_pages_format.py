"""Money and sizes as the window writes them, and the overview's key figures (budget, over budget)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tracker.ui.widgets.format import size, usd, when


@pytest.mark.parametrize(("pico", "text"), [
    (None, "unpriced"), (0, "$0.00"), (4_999_999_999, "<$0.01"), (5_000_000_000, "<$0.01"),
    (9_999_999_999, "<$0.01"), (10_000_000_000, "$0.01"), (15_000_000_000, "$0.02"),
    (1_234_565_000_000_000, "$1,234.56"),
    (1_234_575_000_000_000, "$1,234.58"), (1_234_564_999_999_999, "$1,234.56"), (-2_500_000_000_000, "-$2.50"),
])
def test_usd_rounds_half_even_to_cents(pico: int | None, text: str) -> None:
    assert usd(pico) == text


@example(5_000_000_001)
@example(-7_000_000_000)
@example(25_000_000_000)
@given(st.integers(min_value=-(10**20), max_value=10**20))
def test_usd_agrees_with_the_cli_and_report_money_cell(pico: int) -> None:
    from tracker.analytics.reported import usd_cell

    assert usd(pico) == usd_cell(pico)  # one rounding everywhere: a window and a report never differ by a cent


def test_size_and_when() -> None:
    assert [size(n) for n in (0, 1023, 2048, 3 * 1024**2)] == ["0 B", "1023 B", "2.0 KB", "3.0 MB"]
    assert when(None, ZoneInfo("UTC")) == "never"
    assert when(1_700_000_000_000, ZoneInfo("Europe/Paris"), seconds=True) == "2023-11-14 23:13:20"


def _page(qtbot: Any, tmp_path: Any, budget: Decimal | None) -> Any:
    from tracker.paths import AppPaths
    from tracker.settings import Settings
    from tracker.sync.services import AppServices
    from tracker.ui.pages.overview import OverviewPage

    services = AppServices(AppPaths(tmp_path), Settings(monthly_budget_usd=budget))
    page = OverviewPage(services)
    qtbot.addWidget(page)
    return services, page


def test_cards_show_estimated_and_reported_as_two_figures(qtbot: Any, tmp_path: Any) -> None:
    from tracker.analytics.spend import SpendSummary
    from tracker.ui.pages.overview import budget_pico

    services, page = _page(qtbot, tmp_path, Decimal("10"))
    try:
        assert budget_pico(Decimal("10.005")) == 10_005_000_000_000
        page.set_summary(SpendSummary(1, 0, 2, 8 * 10**12, 4 * 10**12, 3, 30 * 10**12, 10 * 10**12),
                         (20 * 10**12, 10 * 10**12))
        # two labelled figures of the same size, never their sum as a headline
        assert page.card_today.texts() == ["<$0.01 estimated", "$0.00 reported"]
        assert page.card_month.texts() == ["$8.00 estimated", "$4.00 reported"]
        assert page.card_run_rate.texts() == ["$20.00 estimated", "$10.00 reported"]
        assert page.card_month.value.font().pointSizeF() == page.card_month.second.font().pointSizeF()
        assert page.card_month.detail.text() == "3 unpriced records not counted"
        assert page.card_today.detail.text() == "2 unpriced records not counted"
        for card in page.cards:
            assert "$12.00" not in " ".join(card.texts()) and "+" not in card.caption.text()
        # the budget says plainly what it counts
        assert page.card_budget.value.text() == "$10.00"
        assert page.card_budget.detail.text() == "120% used · $2.00 over, counting of estimated + reported spend"
        assert "b3261e" in page.card_budget.value.styleSheet()
        # no reported spend at all: one figure per card, the budget counts estimated spend only
        page.set_summary(SpendSummary(0, 0, 0, 5 * 10**12, 0, 0, 9 * 10**12, 10 * 10**12), (9 * 10**12, 0))
        assert page.card_month.texts() == ["$5.00 estimated"] and page.card_month.detail.text() == ""
        assert page.card_budget.detail.text() == "50% used · $5.00 left, counting of estimated spend"
        assert page.card_budget.value.styleSheet() == ""
    finally:
        services.close(wait=True)


def test_cards_wrap_to_two_rows_in_a_narrow_window(qtbot: Any, tmp_path: Any) -> None:
    from tracker.analytics.spend import SpendSummary

    services, page = _page(qtbot, tmp_path, None)
    try:
        page.set_summary(SpendSummary(5 * 10**12, 9 * 10**12, 0, 162 * 10**12, 174 * 10**12, 0, 0, None),
                         (212 * 10**12, 227 * 10**12))
        assert page.card_budget.texts() == ["not set"]
        page.resize(900, 600)
        page.show()
        qtbot.waitUntil(lambda: page.card_columns == 4)
        page.resize(560, 600)
        qtbot.waitUntil(lambda: page.card_columns == 2)

        def fit() -> bool:  # every figure fits its card
            return all(c.second.sizeHint().width() + c.second_kind.sizeHint().width() + 30 <= c.width()
                       for c in page.cards[:3])

        qtbot.waitUntil(fit)
    finally:
        services.close(wait=True)


def test_range_text() -> None:
    from datetime import date

    from tracker.ui.pages.overview import range_text

    assert range_text(date(2026, 10, 25), date(2026, 11, 23)) == "25 Oct – 23 Nov 2026"
    assert range_text(date(2025, 11, 24), date(2026, 11, 23)) == "24 Nov 2025 – 23 Nov 2026"
