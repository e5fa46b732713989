"""The Dashboard costs the same few queries however many claims, payers, months, CARCs and rules it shows: every
figure is one grouped query (no query per claim, payer or month)."""

from __future__ import annotations

from billing.people.models import Role
from tests.admin_views.test_query_counts import queries_for
from tests.billing.dashboard.worlds import FROM, TO, dashboard_world
from tests.worlds.practice import build_world

URL = f"/admin/dashboard/?from={FROM:%Y-%m-%d}&to={TO:%Y-%m-%d}"
MAX_DASHBOARD_QUERIES = 20


def test_dashboard_query_count_does_not_grow_with_claims_payers_or_rules(client, login, count_queries):
    dashboard_world(build_world())
    login(Role.BILLER)
    small = queries_for(client, count_queries, URL)
    for _ in range(3):  # three more practices, each with its own payer, rule, claims, money and answers
        dashboard_world(build_world())
    large = queries_for(client, count_queries, URL)
    page = client.get(URL).get_data(as_text=True)
    assert page.count('data-figure="ar-payer"') == 1
    assert len(page.split('data-figure="ar-payer"')[1].split("</table>")[0].split("data-row=")) - 1 == 4
    assert small == large
    assert small <= MAX_DASHBOARD_QUERIES
