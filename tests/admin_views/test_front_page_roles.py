"""The front page offers each role only the lists it may open, and money figures only to roles that read money."""

from __future__ import annotations

import re

import pytest

from billing.people.models import Role

LINKED = re.compile(r'<a data-front="(\w+)"')
UNLINKED = re.compile(r'<span data-front="(\w+)"')


@pytest.mark.parametrize(("role", "hidden"), [
    (Role.OFFICE_MANAGER, {"unsent_batches", "unmatched_payments"}),
    (Role.BILLER, set()),
])
def test_front_page_links_only_to_pages_the_role_opens(client, login, world, role, hidden):
    login(role)
    page = client.get("/admin/").get_data(as_text=True)
    linked, unlinked = set(LINKED.findall(page)), set(UNLINKED.findall(page))
    assert hidden <= unlinked
    assert not hidden & linked
    for key in linked:  # every link the page does offer opens
        href = re.search(rf'<a data-front="{key}" href="([^"]+)"', page).group(1).replace("&amp;", "&")
        assert client.get(href).status_code == 200, (key, href)


@pytest.mark.parametrize(("role", "shown"),
                         [(Role.OFFICE_MANAGER, False), (Role.ACCOUNTANT, True), (Role.BILLER, True)])
def test_receivables_only_for_roles_that_read_money(client, login, world, role, shown):
    login(role)
    assert ("Owed by payers" in client.get("/admin/").get_data(as_text=True)) is shown
