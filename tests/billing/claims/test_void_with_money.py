"""Voiding a claim with money on it: confirmed first, the bill withdrawn, the payment kept as a flagged credit
until the payer's recoupment nets it, and never shown as owed on AR Aging."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from billing.claims.operations import void_claim
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.errors import NotAllowed
from billing.ledger.balances import claim_balance
from billing.payments.operations import EntrySource
from billing.payments.posting import post_adjudication
from billing.people.models import Role
from exports.filters import ReportFilters
from exports.reports.aging import open_claims
from tests.billing.payments.test_families import reversal_svc
from tests.billing.payments.test_posting_cases import import_clp
from tests.conftest import csrf_token
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import Clp, full_payment
from tests.worlds.practice import SYSTEM

D = Decimal
#: tests/worlds: one line charged 73.48, paid 80% (58.78), the rest CO-45 (14.70).
CHARGE, PAID, CO45 = D("73.48"), D("58.78"), D("14.70")


@pytest.fixture
def paid(world):
    claim = submitted_claim(world)
    post_adjudication(claim, full_payment(claim), actor=SYSTEM, source=EntrySource.MANUAL)
    db.session.flush()
    return claim


def test_a_paid_claim_is_not_voided_without_confirming_the_money(paid):
    with pytest.raises(NotAllowed, match=r"the payer paid \$58.78.*Confirm the void"):
        void_claim(paid, reason="wrong client", actor=SYSTEM)
    assert paid.status is ClaimStatus.PAID


def test_a_confirmed_void_keeps_the_payment_as_a_flagged_credit(paid):
    void_claim(paid, reason="wrong client", actor=SYSTEM, money_confirmed=True)
    db.session.flush()
    sums = claim_balance(paid.id)
    assert paid.status is ClaimStatus.VOIDED
    assert paid.needs_review
    # charge 73.48 withdrawn, CO-45 14.70 withdrawn: what is left is the 58.78 the payer paid, as a credit.
    assert (sums.insurance, sums.patient) == (-PAID, D("0.00"))


def test_the_payers_recoupment_posts_on_the_voided_claim_and_nets_it(world, paid):
    void_claim(paid, reason="wrong client", actor=SYSTEM, money_confirmed=True)
    line = paid.lines[0]
    import_clp(world, Clp(paid.number, "22", -CHARGE, -PAID, payer_claim_number=f"ICN{paid.id:08d}",
                          services=[reversal_svc(line, str(PAID), ("CO", "45", str(CO45)))]), check="RECOUP")
    sums = claim_balance(paid.id)
    assert (sums.insurance, sums.patient) == (D("0.00"), D("0.00"))


def test_aging_never_shows_a_voided_paid_claim_as_owed(paid):
    void_claim(paid, reason="wrong client", actor=SYSTEM, money_confirmed=True)
    db.session.flush()
    rows = [c for c in open_claims(ReportFilters()) if c.claim_id == paid.id]
    assert all(c.balance <= 0 for c in rows)


def test_a_claim_without_money_voids_without_confirming(world):
    claim = submitted_claim(world)
    void_claim(claim, reason="duplicate", actor=SYSTEM)
    assert claim.status is ClaimStatus.VOIDED
    assert claim_balance(claim.id).balance == D("0.00")


def test_the_cli_asks_for_confirm_money(app, paid):
    db.session.commit()  # the refusal's rollback must not take the test's claim with it
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["claims", "void", paid.number, "--reason", "wrong client", "--json"])
    assert refused.exit_code != 0
    assert "Confirm the void" in json.loads(refused.output)["error"]
    done = runner.invoke(args=["claims", "void", paid.number, "--reason", "wrong client", "--confirm-money"])
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert paid.status is ClaimStatus.VOIDED


def test_the_void_page_shows_the_money_and_needs_the_confirmation(client, login, paid):
    login(Role.BILLER)
    claim_page = client.get(f"/admin/claim/details/?id={paid.id}").get_data(as_text=True)
    assert "data-void-link" in claim_page
    page = client.get(f"/admin/claim/reason/?operation=void&ids={paid.id}").get_data(as_text=True)
    assert "data-money-consequences" in page
    assert "the payer paid $58.78" in page
    form = {"csrf_token": csrf_token(client, "/admin/claim/"), "operation": "void", "ids": str(paid.id),
            "reason": "wrong client"}
    refused = client.post("/admin/claim/reason/", data=form, follow_redirects=True).get_data(as_text=True)
    assert "Confirm the void" in refused
    db.session.expire_all()
    assert paid.status is ClaimStatus.PAID
    client.post("/admin/claim/reason/", data={**form, "confirm_money": "1"})
    db.session.expire_all()
    assert paid.status is ClaimStatus.VOIDED
    assert paid.needs_review


def test_next_never_leads_off_site(client, login, world):
    claim = submitted_claim(world)
    login(Role.BILLER)
    response = client.post("/admin/claim/reason/", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "operation": "hold", "ids": str(claim.id),
        "reason": "check", "next": "https://evil.example/phish"})
    assert "evil.example" not in response.headers.get("Location", "")
