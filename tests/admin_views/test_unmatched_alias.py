"""The Unmatched queue teaches a payer's printed name while matching; the Payer names page lists, adds and
removes taught names with their history. Billers and admins act; the others read or see nothing."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.coverage.models import PayerAlias
from billing.ledger.balances import claim_balance
from billing.payments.models import Remittance, UnmatchedClaim, UnmatchedStatus
from billing.people.models import Role
from tests.conftest import csrf_token
from tests.worlds import factories as f
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import Clp, Payment, Svc, write_835
from tests.worlds.practice import DAY

D = Decimal
PRINTED = "AETNA LIFE INSURANCE COMPANY"
CHARGE, PAID, CO45 = D("73.48"), D("60.00"), D("13.48")


def upload(client, name: str, content: bytes):
    data = {"csrf_token": csrf_token(client, "/admin/remittance/"), "files": [(io.BytesIO(content), name)]}
    return client.post("/admin/remittance/upload/", data=data, content_type="multipart/form-data",
                       follow_redirects=True)


@pytest.fixture
def aetna(world):
    world.payer.name = "Aetna"
    db.session.flush()
    return world.payer


def check(claims: list[Claim], number: str, *, charge: Decimal = CHARGE) -> bytes:
    clps = [Clp(c.number, "1", charge, PAID, services=[
        Svc(c.lines[0].service_code.code, CHARGE, PAID, [("CO", "45", CO45)], None, c.lines[0].service_date)
    ]) for c in claims]
    return write_835([Payment(PAID * len(claims), number, PRINTED, "999999999", clps)]).encode()


def match(client, item: UnmatchedClaim, claim: Claim, **fields: str):
    return client.post(f"/admin/unmatched/match/?id={item.id}", follow_redirects=True, data={
        "csrf_token": csrf_token(client, "/admin/unmatched/"), "claim_number": claim.number, **fields})


def test_case_l_the_biller_teaches_the_name_in_the_unmatched_queue(client, login, world, aetna):
    biller = login(Role.BILLER)
    claims = [submitted_claim(world, day=DAY.replace(day=2 + n)) for n in range(3)]
    upload(client, "l1.835", check(claims, "CHK-1"))
    items = list(db.session.scalars(select(UnmatchedClaim).order_by(UnmatchedClaim.id)))
    assert len(items) == 3
    page = client.get(f"/admin/unmatched/details/?id={items[0].id}").get_data(as_text=True)
    assert "data-remember-as" in page
    assert f"Remember “{PRINTED}” as" in page

    refused = match(client, items[0], claims[0]).get_data(as_text=True)
    assert "not known to be Aetna" in refused
    match(client, items[0], claims[0], remember_as=str(aetna.id), override_reason="the EOB says Aetna")
    db.session.expire_all()
    alias = db.session.scalars(select(PayerAlias)).one()
    assert (alias.name, alias.payer_id, alias.created_by) == (PRINTED, aetna.id, biller.email)
    assert db.session.get(UnmatchedClaim, items[0].id).status is UnmatchedStatus.MATCHED
    assert db.session.get(Claim, claims[0].id).status is ClaimStatus.PAID
    # The name is known now: the next item's form no longer offers to teach it, and it matches as it is.
    assert "data-remember-as" not in client.get(f"/admin/unmatched/details/?id={items[1].id}").get_data(as_text=True)
    match(client, items[1], claims[1])
    db.session.expire_all()
    assert db.session.get(UnmatchedClaim, items[1].id).status is UnmatchedStatus.MATCHED

    later = [submitted_claim(world, day=DAY.replace(day=10 + n)) for n in range(3)]
    upload(client, "l2.835", check(later, "CHK-2"))
    remittance = db.session.scalars(select(Remittance).where(Remittance.check_number == "CHK-2")).one()
    assert remittance.payer_id == aetna.id
    assert [u.id for u in remittance.unmatched] == []
    for claim in later:
        assert claim_balance(claim.id).paid_by_payer == PAID
    names = client.get("/admin/payer-names/").get_data(as_text=True)
    assert PRINTED in names
    assert f"taught “{PRINTED}”" in names


def test_a_different_charge_needs_the_biller_to_confirm(client, login, world, aetna):
    login(Role.BILLER)
    claim = submitted_claim(world)
    upload(client, "c.835", check([claim], "CHK-C", charge=D("90.00")))
    item = db.session.scalars(select(UnmatchedClaim)).one()
    refused = match(client, item, claim, remember_as=str(aetna.id), override_reason="EOB").get_data(as_text=True)
    assert "Confirm the difference" in refused
    db.session.expire_all()
    assert db.session.scalars(select(PayerAlias)).all() == []  # nothing of the refused match was kept
    match(client, item, claim, remember_as=str(aetna.id), confirm_charge="1", override_reason="payer split the claim")
    db.session.expire_all()
    assert db.session.get(UnmatchedClaim, item.id).status is UnmatchedStatus.MATCHED
    assert claim_balance(claim.id).paid_by_payer == PAID


def test_payer_names_page_adds_and_removes_with_history(client, login, world, aetna):
    login(Role.BILLER)
    token = csrf_token(client, "/admin/payer-names/")
    added = client.post("/admin/payer-names/add/", follow_redirects=True,
                        data={"csrf_token": token, "name": "Aetna Life Insurance Co.", "payer_id": str(aetna.id)})
    assert "now means Aetna" in added.get_data(as_text=True)
    alias = db.session.scalars(select(PayerAlias)).one()
    assert alias.name == "AETNA LIFE INSURANCE CO"
    cigna = f.PayerFactory(company=world.company, name="Cigna")
    db.session.flush()
    twice = client.post("/admin/payer-names/add/", follow_redirects=True,
                        data={"csrf_token": token, "name": "AETNA LIFE INSURANCE CO", "payer_id": str(cigna.id)})
    assert "already known as Aetna" in twice.get_data(as_text=True)
    removed = client.post(f"/admin/payer-names/remove/{alias.id}/", follow_redirects=True,
                          data={"csrf_token": token, "reason": "typo"})
    page = removed.get_data(as_text=True)
    assert "no longer means Aetna" in page
    assert "removed “AETNA LIFE INSURANCE CO”" in page
    db.session.expire_all()
    assert db.session.scalars(select(PayerAlias)).all() == []
    actions = db.session.scalars(select(StatusChange.action).where(StatusChange.subject_type == "payer")).all()
    assert actions == [AuditAction.PAYER_ALIAS_ADDED, AuditAction.PAYER_ALIAS_REMOVED]


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.OFFICE_MANAGER])
def test_only_billers_and_admins_teach_names(client, login, world, aetna, role):
    login(role)
    page = client.get("/admin/payer-names/")
    assert page.status_code == 200
    assert "data-add-alias" not in page.get_data(as_text=True)
    refused = client.post("/admin/payer-names/add/", follow_redirects=True,
                          data={"csrf_token": csrf_token(client, "/admin/payer-names/"), "name": PRINTED,
                                "payer_id": str(aetna.id)})
    assert "cannot teach payer names" in refused.get_data(as_text=True)
    assert db.session.scalars(select(PayerAlias)).all() == []
