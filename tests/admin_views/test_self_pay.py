"""Self-pay through the test client: a finalized session is a patient bill, paid on the claim page, off the payer
worklists and the front page's Ready count, and never batched."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from billing.claims.models import Claim
from billing.claims.sessions import finalize_session
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.errors import BillingError
from billing.coverage.models import PayerType
from billing.ledger.models import EntryKind, LedgerEntry
from billing.org.queries import Scope
from billing.people.models import Role
from billing.submissions.operations import create_batches
from billing.worklist import billing_work
from tests.conftest import csrf_token
from tests.worlds import factories as f
from tests.worlds.practice import SYSTEM


@pytest.fixture
def visit(world):
    """A draft session of a client whose primary policy is self-pay ($25.00 a unit)."""
    payer = f.PayerFactory(company=world.company, name="Self-pay", payer_type=PayerType.SELF_PAY,
                           claim_filing_indicator="09", edi_enabled=False, edi_payer_id=None)
    world.policy.payer = payer
    schedule = f.FeeScheduleFactory(company=world.company, payer=payer, name="Self-pay 2026")
    f.RateFactory(fee_schedule=schedule, service_code=world.code, rate=Decimal("25.00"))
    return world.visit()  # 60 minutes: 4 units, $100.00


def _post(client, path, page, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data}, follow_redirects=True)


def _tab_count(page: str, label: str) -> int:
    found = re.search(rf"{label} <span class=\"badge badge-light\">([\d,]+)</span>", page)
    assert found, label
    return int(found.group(1).replace(",", ""))


def _patient_side(claim_id: int) -> Decimal:
    """Moved to the patient less paid by the patient, summed here from the entries."""
    signs = {EntryKind.PATIENT_RESPONSIBILITY: 1, EntryKind.PATIENT_PAYMENT: -1}
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.claim_id == claim_id))
    return sum((signs.get(e.kind, 0) * e.amount for e in entries), Decimal(0))


def test_a_self_pay_session_is_billed_to_the_patient_and_paid_on_the_claim_page(client, login, world, visit):
    login(Role.OFFICE_MANAGER)
    done = _post(client, "/admin/session/action/", "/admin/session/", action="finalize", rowid=[str(visit.id)])
    assert "1 note(s) finalized" in done.get_data(as_text=True)
    claim = db.session.scalar(select(Claim))
    assert (claim.self_pay, claim.status) == (True, ClaimStatus.SUBMITTED)
    assert _patient_side(claim.id) == Decimal("100.00")

    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    login(Role.BILLER)
    work = billing_work(Scope())
    assert (work.ready, work.patient_ar, work.insurance_ar) == (0, Decimal("100.00"), Decimal("0.00"))
    assert client.get("/admin/").status_code == 200
    listing = client.get("/admin/claim/?status=ready").get_data(as_text=True)
    tabs = (_tab_count(listing, "Ready"), _tab_count(listing, "Submitted"), _tab_count(listing, "Self-pay"))
    assert tabs == (0, 0, 1)
    assert claim.number not in client.get("/admin/claim/?status=submitted").get_data(as_text=True)
    assert claim.number in client.get("/admin/claim/?status=self_pay").get_data(as_text=True)
    details = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "Self-pay: billed to the patient" in details
    assert "Create corrected claim" not in details

    paid = _post(client, f"/admin/claim/money/patient-payment/?id={claim.id}", "/admin/claim/",
                 amount="100.00", reason="card at the front desk")
    assert "Patient payment of $100.00 recorded" in paid.get_data(as_text=True)
    db.session.expire_all()
    assert _patient_side(claim.id) == Decimal("0.00")
    assert db.session.get(Claim, claim.id).status is ClaimStatus.PAID


def test_a_self_pay_claim_is_never_batched(world, visit):
    [claim] = finalize_session(visit, actor=SYSTEM).created
    with pytest.raises(BillingError), db.session.begin_nested():
        create_batches(actor=SYSTEM, claim_ids=[claim.id])
    assert claim.status is ClaimStatus.SUBMITTED


def test_bill_to_insurance_is_refused_with_the_way_forward_then_done(client, login, world, visit):
    [claim] = finalize_session(visit, actor=SYSTEM).created
    login(Role.BILLER)
    refused = _post(client, f"/admin/claim/do/rebill_insurance/?id={claim.id}", "/admin/claim/").get_data(as_text=True)
    assert "has no insurance policy active as primary on" in refused
    world.policy.payer = world.payer
    db.session.flush()
    done = _post(client, f"/admin/claim/do/rebill_insurance/?id={claim.id}", "/admin/claim/").get_data(as_text=True)
    assert "the patient&#39;s charge withdrawn" in done or "the patient's charge withdrawn" in done
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status is ClaimStatus.VOIDED
    assert _patient_side(claim.id) == Decimal("0.00")
