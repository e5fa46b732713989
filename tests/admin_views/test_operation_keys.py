"""Money forms post once: a second submit of the same form (same one-time key) shows the first result and posts nothing.

The test client gives every POST a fresh key unless the test sends one (tests/conftest.py): these tests send
one key twice, as a double click or the back button would.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.core.db import db
from billing.core.operation_keys import OperationKey, new_operation_key
from billing.ledger.balances import claim_balance
from billing.ledger.models import Adjudication, EntryKind, LedgerEntry
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.operations import EntrySource
from billing.payments.posting import post_adjudication
from billing.people.models import Role
from tests.conftest import csrf_token
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import PAID_ON
from tests.worlds.practice import SYSTEM

D = Decimal
REPEAT = "This form was already submitted; nothing was posted again."


def posted(kind: EntryKind, claim) -> Decimal:
    """The sum of one kind of entry on the claim, read straight from the ledger table."""
    total = db.session.scalar(select(func.sum(LedgerEntry.amount))
                              .where(LedgerEntry.claim_id == claim.id, LedgerEntry.kind == kind))
    return D(str(total or 0)).quantize(D("0.01"))


def send_twice(client, path, data):
    data = {"csrf_token": csrf_token(client, "/admin/claim/"), "op_key": new_operation_key(), **data}
    first = client.post(path, data=data, follow_redirects=True).get_data(as_text=True)
    second = client.post(path, data=data, follow_redirects=True).get_data(as_text=True)
    db.session.expire_all()
    return first, second


@pytest.fixture
def denied(world):
    """A one-line claim ($73.48) the payer denied, so its whole balance is open to bill or write off."""
    claim = submitted_claim(world)
    post_adjudication(claim, ClaimPosting(PAID_ON, (LinePosting(1, D("0"), (Adjustment("PR", "96", D("73.48")),)),)),
                      actor=SYSTEM, source=EntrySource.MANUAL)
    db.session.flush()
    return claim


def test_a_patient_payment_sent_twice_records_once(client, login, denied):
    login(Role.BILLER)
    first, second = send_twice(client, f"/admin/claim/money/patient-payment/?id={denied.id}",
                               {"amount": "20.00", "reason": "card"})
    assert "Patient payment of $20.00 recorded." in first
    assert REPEAT in second
    assert "Patient payment of $20.00 recorded." in second
    assert posted(EntryKind.PATIENT_PAYMENT, denied) == D("20.00")
    assert claim_balance(denied.id).patient == D("53.48")


def test_a_write_off_sent_twice_writes_off_once(client, login, denied):
    login(Role.BILLER)
    _first, second = send_twice(client, f"/admin/claim/money/write-off/?id={denied.id}",
                               {"amount": "5.00", "side": "patient", "reason": "courtesy"})
    assert REPEAT in second
    assert posted(EntryKind.PATIENT_WRITE_OFF, denied) == D("5.00")


def test_two_forms_loaded_separately_both_post(client, login, denied):
    """A key guards one form; two payments typed on two loads of the page are two payments."""
    login(Role.BILLER)
    for _ in range(2):
        send_twice(client, f"/admin/claim/money/patient-payment/?id={denied.id}", {"amount": "10.00"})
    assert posted(EntryKind.PATIENT_PAYMENT, denied) == D("20.00")


def test_record_payment_sent_twice_posts_one_adjudication(client, login, world):
    claim = submitted_claim(world)
    login(Role.BILLER)
    form = {"do": "save", "paid_on": "2026-04-01", "line-1-paid": "50.00", "line-1-allowed": "60.00",
            "line-1-adj-0-group": "CO", "line-1-adj-0-reason": "45", "line-1-adj-0-amount": "13.48",
            "line-1-copay": "10.00"}
    first, second = send_twice(client, f"/admin/claim/payment/?id={claim.id}", form)
    assert "Payment posted on" in first, first
    assert REPEAT in second
    assert db.session.scalar(select(func.count()).select_from(Adjudication)
                             .where(Adjudication.claim_id == claim.id)) == 1
    assert posted(EntryKind.INSURANCE_PAYMENT, claim) == D("50.00")


def test_a_bulk_write_off_sent_twice_writes_each_claim_off_once(client, login, world):
    claims = [submitted_claim(world), submitted_claim(world, day=PAID_ON.replace(month=3, day=3))]
    for claim in claims:
        post_adjudication(claim, ClaimPosting(PAID_ON, (LinePosting(1, D("0"), (Adjustment("CO", "96", D("73.48")),)),
                                                        )), actor=SYSTEM, source=EntrySource.MANUAL)
    db.session.flush()
    login(Role.BILLER)
    ids = ",".join(str(c.id) for c in claims)
    _first, second = send_twice(client, "/admin/claim/reason/", {"operation": "write_off", "ids": ids,
                                                                 "reason": "timely filing missed"})
    assert "already done by this form" in second
    for claim in claims:
        assert posted(EntryKind.WRITE_OFF, claim) == D("73.48")


def test_a_money_form_without_its_key_posts_nothing(client, login, denied):
    login(Role.BILLER)
    page = client.post(f"/admin/claim/money/patient-payment/?id={denied.id}", follow_redirects=True,
                       data={"csrf_token": csrf_token(client, "/admin/claim/"), "op_key": "", "amount": "20.00"})
    assert "one-time key" in page.get_data(as_text=True)
    assert posted(EntryKind.PATIENT_PAYMENT, denied) == D("0.00")


def test_a_key_used_for_one_operation_is_refused_for_another(client, login, denied):
    login(Role.BILLER)
    key = new_operation_key()
    base = {"csrf_token": csrf_token(client, "/admin/claim/"), "op_key": key}
    client.post(f"/admin/claim/money/patient-payment/?id={denied.id}", data={**base, "amount": "20.00"})
    page = client.post(f"/admin/claim/money/write-off/?id={denied.id}", follow_redirects=True,
                       data={**base, "amount": "5.00", "side": "patient", "reason": "x"}).get_data(as_text=True)
    assert "already used for another operation" in page
    db.session.expire_all()
    assert posted(EntryKind.PATIENT_WRITE_OFF, denied) == D("0.00")


def test_a_refused_submit_leaves_its_key_for_the_corrected_one(client, login, denied):
    login(Role.BILLER)
    data = {"csrf_token": csrf_token(client, "/admin/claim/"), "op_key": new_operation_key()}
    refused = client.post(f"/admin/claim/money/patient-payment/?id={denied.id}", follow_redirects=True,
                          data={**data, "amount": "999.00"}).get_data(as_text=True)
    assert "more than the patient balance" in refused
    client.post(f"/admin/claim/money/patient-payment/?id={denied.id}", data={**data, "amount": "20.00"})
    db.session.expire_all()
    assert posted(EntryKind.PATIENT_PAYMENT, denied) == D("20.00")
    assert db.session.get(OperationKey, data["op_key"]).operation == "claim.patient-payment"


def test_every_money_form_on_the_claim_page_carries_its_own_key(client, login, denied):
    login(Role.BILLER)
    page = client.get(f"/admin/claim/details/?id={denied.id}").get_data(as_text=True)
    keys = [part.split('"', 1)[0] for part in page.split('name="op_key" value="')[1:]]
    assert len(keys) >= 3
    assert len(set(keys)) == len(keys)


def test_a_refused_record_payment_is_shown_again_with_the_same_key(client, login, world):
    claim = submitted_claim(world)
    login(Role.BILLER)
    key = new_operation_key()
    page = client.post(f"/admin/claim/payment/?id={claim.id}", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "op_key": key, "do": "save", "paid_on": "2026-04-01",
        "line-1-paid": "1e10"}).get_data(as_text=True)
    assert "is not an amount" in page
    assert f'name="op_key" value="{key}"' in page
