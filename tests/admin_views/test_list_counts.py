"""A list page counts its rows exactly up to a limit; past it, on PostgreSQL, it shows the planner's "about N"."""

from __future__ import annotations

import re

import pytest

from admin_views.list_counts import AboutCount, BoundedCountQuery
from billing.core.db import db
from billing.people.models import Role
from tests.worlds import factories as f


def _tab(client, url: str = "/admin/client/") -> str:
    page = client.get(url).get_data(as_text=True)
    match = re.search(r"List \(([^)]*)\)", page)
    assert match, "the list tab shows no count"
    return match.group(1)


def test_up_to_the_limit_the_count_is_exact(client, login, monkeypatch):
    monkeypatch.setattr(BoundedCountQuery, "exact_limit", 5)
    location = f.LocationFactory()
    f.ClientFactory.create_batch(5, location=location)
    login(Role.ADMIN)
    assert _tab(client) == "5"


def test_past_the_limit_postgresql_shows_an_estimate_and_sqlite_the_exact_count(client, login, monkeypatch):
    monkeypatch.setattr(BoundedCountQuery, "exact_limit", 2)
    location = f.LocationFactory()
    f.ClientFactory.create_batch(7, location=location)
    login(Role.ADMIN)
    shown = _tab(client)
    assert _tab(client) == shown  # a second page view reuses what SQLAlchemy compiled for the first
    if db.engine.dialect.name == "postgresql":
        # The planner's estimate, never below what was counted (limit + 1).
        assert re.fullmatch(r"about [\d,]+", shown), shown
        assert int(shown[6:].replace(",", "")) >= 3, shown
    else:
        assert shown == "7"


def test_a_filtered_list_counts_only_its_rows(client, login, monkeypatch):
    monkeypatch.setattr(BoundedCountQuery, "exact_limit", 5)
    location = f.LocationFactory()
    f.ClientFactory.create_batch(3, location=location, last_name="Fewer")
    f.ClientFactory.create_batch(4, location=location)
    login(Role.ADMIN)
    assert _tab(client, "/admin/client/?search=Fewer") == "3"


@pytest.mark.parametrize(("value", "text"), [(12_345, "about 12,345"), (10_001, "about 10,001")])
def test_an_estimate_reads_about_n_and_pages_like_a_number(value, text):
    estimate = AboutCount(value)
    assert str(estimate) == text
    assert estimate.__html__() == text
    assert estimate // 20 == value // 20
