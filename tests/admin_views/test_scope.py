"""The scope picker narrows every grid to a company, practice or location, and hides the rest."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from billing.core.db import db
from billing.org.models import Company, Location, Practice
from billing.people.models import Client, Role
from billing.sessions.models import TherapySession
from tests.admin_views.grids import post, row
from tests.worlds import factories as f

NOT_FOUND = "Record does not exist."


@dataclass
class Site:
    location: Location
    client: Client
    visit: TherapySession


@dataclass
class Organisation:
    lakeside: Company
    lakeside_aba: Practice
    north: Site
    south: Site
    bay: Site  # another company altogether

    @property
    def sites(self) -> list[Site]:
        return [self.north, self.south, self.bay]


def _site(practice: Practice, name: str, last_name: str) -> Site:
    location = f.LocationFactory(practice=practice, name=name)
    client = f.ClientFactory(location=location, last_name=last_name, first_name="Robin")
    visit = f.TherapySessionFactory(client=client, provider=f.ProviderFactory(company=practice.company))
    return Site(location, client, visit)


@pytest.fixture
def organisation() -> Organisation:
    lakeside = f.CompanyFactory(legal_name="Lakeside Therapy LLC")
    aba = f.PracticeFactory(company=lakeside, name="ABA")
    bay_practice = f.PracticeFactory(company=f.CompanyFactory(legal_name="Bay Speech Inc"), name="Speech")
    return Organisation(
        lakeside, aba, _site(aba, "North clinic", "Northfield"), _site(aba, "South clinic", "Southgate"),
        _site(bay_practice, "Bay clinic", "Bayview"),
    )


def choose(client, value: str) -> None:
    response = post(client, "/scope", {"scope": value, "next": "/admin/client/"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/client/"


def clients_listed(client) -> set[str]:
    page = client.get("/admin/client/").get_data(as_text=True)
    return set(re.findall(r"T-\d{6}", page))


def session_clients_listed(client) -> set[str]:
    page = client.get("/admin/session/").get_data(as_text=True)
    return set(re.findall(r'class="col-client">\s*(\w+), Robin', page))


def scope_line(client) -> str:
    page = client.get("/admin/session/").get_data(as_text=True)
    match = re.search(r"Showing sessions in <strong>(.*?)</strong>", page)
    assert match, "no scope line"
    return match.group(1)


@pytest.mark.parametrize(
    ("chosen", "expected", "described"),
    [
        ("location:north", ["north"], "Lakeside Therapy LLC › ABA › North clinic"),
        ("practice:aba", ["north", "south"], "Lakeside Therapy LLC › ABA"),
        ("company:lakeside", ["north", "south"], "Lakeside Therapy LLC"),
        ("company:bay", ["bay"], "Bay Speech Inc"),
        ("all", ["north", "south", "bay"], "All companies"),
    ],
)
def test_lists_show_only_the_chosen_scope(client, login, organisation, chosen, expected, described):
    ids = {
        "north": organisation.north.location.id, "aba": organisation.lakeside_aba.id,
        "lakeside": organisation.lakeside.id, "bay": organisation.bay.client.location.practice.company_id,
    }
    level, _, name = chosen.partition(":")
    login(Role.OFFICE_MANAGER)
    choose(client, f"{level}:{ids[name]}" if name else level)
    sites = [getattr(organisation, key) for key in expected]
    assert clients_listed(client) == {s.client.account_number for s in sites}
    assert session_clients_listed(client) == {s.client.last_name for s in sites}
    assert scope_line(client) == described


def test_unknown_scope_falls_back_to_everything(client, login, organisation):
    login(Role.ACCOUNTANT)
    choose(client, f"location:{organisation.north.location.id}")
    choose(client, "location:999999")
    assert scope_line(client) == "All companies"
    assert clients_listed(client) == {s.client.account_number for s in organisation.sites}


@pytest.mark.parametrize("page", ["details", "edit"])
@pytest.mark.parametrize("grid", ["client", "session"])
def test_a_record_outside_the_scope_does_not_exist(client, login, organisation, page, grid):
    login(Role.ADMIN)
    choose(client, f"location:{organisation.north.location.id}")
    outside = organisation.south.client if grid == "client" else organisation.south.visit
    inside = organisation.north.client if grid == "client" else organisation.north.visit
    response = client.get(f"/admin/{grid}/{page}/?id={outside.id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/admin/{grid}/")
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert NOT_FOUND in shown
    assert "Southgate" not in shown
    assert client.get(f"/admin/{grid}/{page}/?id={inside.id}").status_code == 200


def test_an_edit_posted_for_a_record_outside_the_scope_writes_nothing(client, login, organisation):
    login(Role.OFFICE_MANAGER)
    choose(client, f"location:{organisation.north.location.id}")
    outside = organisation.south.client
    before = row(outside)
    form = {"location": outside.location_id, "account_number": outside.account_number, "first_name": "Changed",
            "last_name": "Changed", "date_of_birth": "1990-05-17", "sex": "F", "active": "y"}
    response = post(client, f"/admin/client/edit/?id={outside.id}", form, follow_redirects=True)
    assert NOT_FOUND in response.get_data(as_text=True)
    db.session.expire_all()
    assert row(outside) == before
