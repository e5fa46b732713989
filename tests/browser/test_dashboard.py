"""The Dashboard as a biller reads it: every chart drawn by the vendored Chart.js (under the page's CSP), and a
figure that opens its claims list with exactly that many claims."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.ui import Browse

pytestmark = pytest.mark.browser


def test_dashboard_draws_its_charts_and_a_figure_opens_its_list(browse: Callable[[str], Browse]) -> None:
    me = browse("biller")
    me.step("Menu › Dashboard", lambda: me.menu("Dashboard"))
    charts = me.page.locator("canvas[data-chart]")
    expect(charts.first).to_be_visible()
    # Chart.js keeps a chart per canvas it drew on; a canvas the script never reached has none.
    drawn = charts.evaluate_all("els => els.map(e => [e.dataset.chart, !!window.Chart?.getChart(e)])")
    assert len(drawn) >= 5, drawn
    assert all(ok for _name, ok in drawn), drawn
    status_row = me.page.locator("table[data-figure='status'] tr[data-row]").first
    figure = int(status_row.locator("a[data-count]").inner_text().replace(",", ""))
    label = status_row.locator("td").first.inner_text().strip()
    me.step(f"Dashboard › claims {label}", lambda: status_row.locator("a[data-count]").click())
    totals = me.page.locator("[data-queue-totals]")
    expect(totals).to_contain_text(re.compile(rf"(?<![\d,]){figure:,} claims? in this list"))
