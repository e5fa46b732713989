"""The Dashboard page and the front page: every figure links to a list whose row count is the figure (through the
test client, as a biller would click), the date range narrows, the scope hides the other practice, roles read only.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime

import pytest

from billing.core.db import db
from billing.core.time import practice_today
from billing.dashboard.figures import dashboard_figures
from billing.org.queries import Scope
from billing.people.models import Role
from tests.admin_views.grids import post
from tests.billing.dashboard.worlds import FROM, TO, dashboard_world
from tests.worlds import factories as f
from tests.worlds.practice import build_world

RANGE = f"from={FROM:%Y-%m-%d}&to={TO:%Y-%m-%d}"
COUNT_LINK = re.compile(
    r'<a href="([^"]+)"[^>]*data-count[^>]*>([\d,]+)</a>|<a data-front="[^"]+" href="([^"]+)">([\d,]+)</a>'
)


@pytest.fixture
def worlds():
    return dashboard_world(build_world()), dashboard_world(build_world())


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def rows_listed(client, url: str) -> int:
    """The rows a list shows: the rows of an admin grid's table after its head (but its "no items" row), or the Filing
    deadlines page's rows."""
    text = _page(client, url)
    if "/admin/filing-deadlines/" in url:
        return len(re.findall(r"data-deadline-row=", text))
    body = text[text.index("model-list") :]
    body = body[body.index("</thead>") : body.index("</table>")]
    return len(re.findall(r"<tr\b", body)) - len(re.findall(r'colspan="999"', body))


def figure_links(text: str) -> list[tuple[str, int]]:
    return [
        (html.unescape(url or front), int((n or m).replace(",", ""))) for url, n, front, m in COUNT_LINK.findall(text)
    ]


def test_every_dashboard_figure_opens_a_list_of_exactly_that_many_rows(client, login, worlds):
    login(Role.ADMIN)
    text = _page(client, f"/admin/dashboard/?{RANGE}")
    links = figure_links(text)
    kinds = {re.sub(r"[?&].*", "", url) for url, _ in links}
    assert {"/admin/claim/", "/admin/failed_charge/", "/admin/filing-deadlines/"} <= kinds
    assert sum(n for _, n in links) > 20
    assert len(links) >= 25
    for url, figure in links:
        assert rows_listed(client, url) == figure, url


def test_dashboard_tables_carry_the_services_figures_and_the_chart_data(client, login, worlds):
    login(Role.BILLER)
    text = _page(client, f"/admin/dashboard/?{RANGE}")
    expected = dashboard_figures(Scope(), FROM, TO, practice_today())
    block = re.search(r'<script type="application/json" id="cd-dashboard-data">(.*?)</script>', text, re.S)
    charts = json.loads(html.unescape(block.group(1)))
    assert charts["ar-age"]["values"] == [str(s.amount) for s in expected.ar_by_age]
    assert charts["months"]["charges"] == [str(m.charges) for m in expected.months]
    assert [int(v) for v in charts["status"]["values"]] == [s.count for s in expected.by_status]
    assert f"{expected.first_pass_rate}%" in text
    assert expected.first_pass_rate is not None
    assert "vendor/chartjs/chart.umd.min.js" in text
    assert "claimdesk/dashboard.js" in text
    assert "<script>" not in text  # nothing inline for the CSP to refuse


def test_the_date_range_narrows_the_claim_figures(client, login, worlds):
    login(Role.BILLER)
    march = _page(client, "/admin/dashboard/?from=2026-03-01&to=2026-03-31")
    april = _page(client, "/admin/dashboard/?from=2026-04-01&to=2026-04-30")
    assert _status_count(march, "paid") == 2
    assert _status_count(april, "paid") == 0
    assert 'data-row="2026-04"' in april
    assert 'data-row="2026-03"' not in april


def _status_count(text: str, status: str) -> int:
    table = text[text.index('data-figure="status"') :]
    match = re.search(rf'data-row="{status}">.*?data-count>([\d,]+)<', table, re.S)
    return int(match.group(1).replace(",", ""))


def test_a_bad_or_backwards_range_is_named_and_the_default_shown(client, login, worlds):
    login(Role.BILLER)
    text = _page(client, "/admin/dashboard/?from=yesterday&to=2026-06-30")
    assert "From: a day as YYYY-MM-DD" in text
    text = _page(client, "/admin/dashboard/?from=2026-06-30&to=2026-01-01")
    assert "From: the first day must be on or before the last" in text
    assert "Traceback" not in text


def test_a_practice_scope_never_shows_the_other_practices_figures(client, login, worlds):
    here, there = worlds
    login(Role.BILLER)
    assert post(client, "/scope", {"scope": f"practice:{here.base.location.practice_id}"}).status_code == 302
    text = _page(client, f"/admin/dashboard/?{RANGE}")
    mine = dashboard_figures(Scope(here.base.company.id, here.base.location.practice_id), FROM, TO, practice_today())
    assert f'data-row="{here.base.payer.id}"' in text
    assert f'data-row="{there.base.payer.id}"' not in text
    assert there.base.payer.name not in text
    assert _status_count(text, "paid") == next(s.count for s in mine.by_status if s.key == "paid") == 1
    for url, figure in figure_links(text):
        assert rows_listed(client, url) == figure, url


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_dashboard_and_it_offers_no_action(client, login, worlds, role):
    login(role)
    text = _page(client, f"/admin/dashboard/?{RANGE}")
    assert 'method="post"' not in text.lower().split("data-dashboard-range")[1]


def test_logged_out_the_dashboard_asks_for_a_login(client, worlds):
    response = client.get("/admin/dashboard/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_every_front_page_figure_opens_a_list_of_exactly_that_many_rows(client, login, worlds):
    here, _ = worlds
    today = practice_today()
    f.TherapySessionFactory(
        client=here.base.client,
        provider=here.base.provider,
        location=here.base.location,
        service_code=here.base.code,
        service_date=today,
    )  # a draft note to finalize today
    cancelled = f.SessionClassFactory(company=here.base.company)
    f.TherapySessionFactory(
        client=here.base.client,
        provider=here.base.provider,
        location=here.base.location,
        service_code=here.base.code,
        service_date=date(2026, 2, 2),
        session_class=cancelled,
        cancelled_at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    here.paid.needs_review = True
    db.session.flush()
    login(Role.ADMIN)
    text = _page(client, "/admin/")
    links = figure_links(text)
    assert len(links) == 14
    checked = 0
    for url, figure in links:
        if url.startswith(("/admin/submissions/", "/admin/follow-up/")):
            continue  # batches and follow-up pages are not grids; their own tests cover their counts
        assert rows_listed(client, url) == figure, url
        checked += 1
    assert checked == 12
    assert any("to_finalize" in url and n >= 1 for url, n in links)
    assert any("needs_review" in url and n >= 1 for url, n in links), links
