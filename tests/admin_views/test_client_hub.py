"""Issue 18 item 6: the client page is a hub (it showed no policies, authorizations, claims or balance).

Policies, authorizations with the units left, recent sessions and claims with status and balance, the client's
insurance A/R, patient balance and credit, and the client ledger link; at a fixed query count. The expected money is
worked out here from what each world posted (the domain's arithmetic), not read back through the balance code.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from jinja2 import ChoiceLoader, DictLoader

from billing.claims.models import ClaimLine
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.coverage.models import PolicyRank
from billing.people.models import Role
from tests.worlds import factories as f
from tests.worlds.claims import submitted_claim
from tests.worlds.credits import insurance_credit_claim, patient_owing_claim

D = Decimal
PAGE = "/admin/client/details/?id={}"


def cell(html: str, marker: str) -> str:
    """The text of the element carrying `marker` (a data- attribute)."""
    match = re.search(rf"{marker}[^>]*>([^<]*)<", html)
    assert match, marker
    return match.group(1).strip()


@pytest.fixture
def hub_world(world):
    """The world's client with a secondary policy, an authorization, three claims (one owed by the payer, one with the
    patient's $15.00 copay owing, one the payer overpaid by $80.00) and a draft session."""
    secondary = f.PolicyFactory(
        client=world.client,
        payer=f.PayerFactory(company=world.company),
        rank=PolicyRank.SECONDARY,
        member_id="SEC-4242",
    )
    auth = f.AuthorizationFactory(
        client=world.client, policy=world.policy, number="AUTH-HUB-1", units_approved=40, service_codes=[world.code]
    )
    owed = submitted_claim(world, day=date(2026, 3, 16))
    copay = patient_owing_claim(world, day=date(2026, 3, 9))
    credit = insurance_credit_claim(world)
    draft = world.visit(day=date(2026, 3, 23))
    db.session.commit()
    return {"secondary": secondary, "auth": auth, "owed": owed, "copay": copay, "credit": credit, "draft": draft}


def test_the_client_page_shows_coverage_work_and_balances(client, login, world, hub_world):
    login(Role.BILLER)
    html = client.get(PAGE.format(world.client.id)).get_data(as_text=True)
    # policies, both ranks
    assert world.policy.member_id in html
    assert "SEC-4242" in html
    # the authorization and the units left: approved less the units on its live claim lines
    auth = hub_world["auth"]
    used = sum(
        line.units
        for line in db.session.query(ClaimLine).filter(ClaimLine.authorization_id == auth.id)
        if line.claim.status is not ClaimStatus.VOIDED
    )
    row = re.search(rf'data-authorization="{auth.id}".*?data-remaining>(\d+)<', html, re.S)
    assert row, "authorization row"
    assert int(row.group(1)) == 40 - used
    # every claim, with its status
    for name in ("owed", "copay", "credit"):
        claim = hub_world[name]
        assert f'data-claim="{claim.number}"' in html
    assert f'data-session="{hub_world["draft"].id}"' in html
    # the money: the payer owes the unpaid claim's charge; the patient the $15.00 copay; the payer overpaid $80.00
    assert cell(html, "data-insurance-ar") == f"${hub_world['owed'].total_charge:,.2f}"
    assert cell(html, "data-patient-balance") == "$15.00"
    assert cell(html, "data-credit") == "$80.00"
    assert f'href="/admin/client-ledger/?client_id={world.client.id}"' in html


def test_office_managers_see_coverage_and_claims_but_no_money(client, login, world, hub_world):
    login(Role.OFFICE_MANAGER)
    html = client.get(PAGE.format(world.client.id)).get_data(as_text=True)
    assert "SEC-4242" in html
    assert f'data-claim="{hub_world["owed"].number}"' in html
    assert "data-client-balances" not in html
    assert "data-claim-balance" not in html
    assert "data-client-ledger-link" not in html


def test_the_page_costs_the_same_queries_with_more_claims_sessions_and_authorizations(
    client, login, world, count_queries
):
    submitted_claim(world, day=date(2026, 3, 2))  # one of each to start: then only the number of rows grows
    f.AuthorizationFactory(client=world.client, policy=world.policy, service_codes=[world.code])
    db.session.commit()
    login(Role.ADMIN)
    url = PAGE.format(world.client.id)
    client.get(url)  # warm: the first page of a login loads the menu's scope tree once

    def queries() -> int:
        counter = count_queries()
        assert client.get(url).status_code == 200
        return counter.count

    small = queries()
    for week in range(1, 6):
        submitted_claim(world, day=date(2026, 4, 6 + week))
        world.visit(day=date(2026, 5, week))
        f.AuthorizationFactory(client=world.client, policy=world.policy, service_codes=[world.code])
    f.PolicyFactory(client=world.client, payer=f.PayerFactory(company=world.company), rank=PolicyRank.SECONDARY)
    db.session.commit()
    assert queries() == small


def test_the_eligibility_slot_renders_when_its_template_exists(app, client, login, world):
    login(Role.BILLER)
    html = client.get(PAGE.format(world.client.id)).get_data(as_text=True)
    assert "data-eligibility-slot" not in html  # no such template yet: nothing, and no error
    original = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader(
        [
            DictLoader({"claimdesk/clients/_eligibility.html": '<p data-eligibility-slot="{{ model.id }}"></p>'}),
            original,
        ]
    )
    try:
        html = client.get(PAGE.format(world.client.id)).get_data(as_text=True)
    finally:
        app.jinja_env.loader = original
    assert f'data-eligibility-slot="{world.client.id}"' in html
