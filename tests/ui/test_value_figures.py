"""The Outcomes page's value figures (issue 5): the annual token run-rate as a share of pay next to value per
dollar, cost per outcome by kind, and outcomes as attributed cost against value (hover names the outcome). On a
small demo ledger (one month, five outcomes), through the real AppServices."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tracker.analytics import dashboard as dash
from tracker.demo import DemoSpec, create_demo
from tracker.paths import AppPaths
from tracker.settings import Settings
from tracker.ui.widgets.format import usd

pytest.importorskip("pytestqt")

NOW = 1_795_000_000_000  # 2026-11-18 11:06:40 UTC


def _no_key(label: str) -> str:
    raise AssertionError("no key is read in these tests")


@pytest.fixture
def services(tmp_path: Path, qtbot: Any) -> Iterator[Any]:
    from tracker.sync.services import AppServices

    paths = AppPaths(tmp_path / "ledger")
    create_demo(paths, DemoSpec(months=1, seed=3, rows=1500, now_ms=NOW))
    s = AppServices(paths, Settings(time_zone="UTC", hourly_rate_usd=Decimal(100),
                                    annual_compensation_usd=Decimal(120_000)), load_key=_no_key, now_ms=lambda: NOW)
    yield s
    s.close(wait=True)


@pytest.fixture
def page(services: Any, qtbot: Any) -> Iterator[Any]:
    from tracker.ui.pages.outcomes import OutcomesPage

    p = OutcomesPage(services)
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show()
    p.tabs.setCurrentIndex(1)
    p.refresh()
    qtbot.waitUntil(lambda: p.data is not None and p.value is not None, timeout=10_000)
    yield p
    p.hide()


def test_share_of_pay_sits_next_to_value_per_dollar_with_the_benchmark(page: Any, services: Any, qtbot: Any) -> None:
    v = page.value
    share = dash.pay_share(v.run_rate_pusd, Decimal(120_000))
    assert share.annual_run_rate_pusd == v.run_rate_pusd * 12 > 0
    text = page.pay_share.text()
    assert f"Annual token run-rate {usd(share.annual_run_rate_pusd)}" in text
    assert f"{share.percent}% of your $120,000.00 annual compensation" in text
    assert f"${v.value_per_dollar} of value per $1 spent" in text
    assert "50%: $250k of tokens for a $500k engineer" in text
    # without a compensation: how to see it, and value per dollar still shown
    services.update_settings(replace(services.settings, annual_compensation_usd=None))
    page.refresh()
    qtbot.waitUntil(lambda: "Set your annual compensation in Settings" in page.pay_share.text(), timeout=10_000)
    assert "% of your" not in page.pay_share.text() and "Value per dollar (all time)" in page.pay_share.text()


def test_cost_per_outcome_by_kind_and_cost_against_value(page: Any, qtbot: Any) -> None:
    charts = page.charts
    lines = page.data.lines
    assert charts.kind_costs == dash.cost_by_kind(lines)
    assert {k.kind for k in charts.kind_costs} == {o.kind for o in lines}
    assert charts.kind_axis.tickStrings([0.0], 1.0, 1.0)[0] == dash.OUTCOME_KIND_LABELS[charts.kind_costs[0].kind]
    points, left_out = dash.outcome_points(lines, Decimal(100))
    assert charts.points == points and len(points) + left_out == len(lines)
    # the hover names the outcome nearest the mouse
    first = points[0]
    found = charts.point_at(first.cost_pusd / 1e12, first.value_pusd / 1e12)
    assert found == first
    from tracker.ui.widgets.value_charts import point_text

    assert point_text(first).startswith(f"#{first.id} {first.title} (")
    assert f"cost {usd(first.cost_pusd)}, value {usd(first.value_pusd)}" in point_text(first)
    vb = charts.scatter_plot.getPlotItem().vb
    from PySide6.QtCore import QPointF

    scene_pos = vb.mapViewToScene(QPointF(first.cost_pusd / 1e12, first.value_pusd / 1e12))
    charts._on_mouse_moved(scene_pos)
    assert charts.hover.text() == point_text(first)
    assert "attributed spend" in page.charts_note.text()
