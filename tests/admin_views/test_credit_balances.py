"""The Credit Balances page through the test client: the list with its totals and scope, the refund and apply forms,
and who may use them (billers and admins act; accountants read)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.core.db import db
from billing.ledger.balances import claim_balance
from billing.ledger.models import EntryKind, LedgerEntry
from billing.people.models import Role
from tests.conftest import csrf_token
from tests.worlds import factories as f
from tests.worlds.credits import CREDIT_ON, insurance_credit_claim, patient_credit_claim, patient_owing_claim

D = Decimal
LIST = "/admin/credit-balances/"


def refunds() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.kind.in_([EntryKind.INSURANCE_REFUND, EntryKind.PATIENT_REFUND])))


def post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, LIST), **data}, follow_redirects=True)


def refund_form(side="insurance", amount="80.00", **fields):
    return {"side": side, "amount": amount, "refunded_on": CREDIT_ON.isoformat(), "reference": "CHK 7",
            "reason": "paid twice", **fields}


@pytest.fixture
def overpaid(world):
    claim = insurance_credit_claim(world)
    db.session.commit()  # a refused POST rolls back its own work only
    return claim


@pytest.mark.parametrize("role", [Role.BILLER, Role.ADMIN, Role.ACCOUNTANT])
def test_the_list_shows_each_credit_with_totals(client, login, world, overpaid, role):
    patient = patient_credit_claim(world)
    db.session.commit()
    login(role)
    page = client.get(LIST).get_data(as_text=True)
    assert f'data-credit-row="{overpaid.number}-insurance"' in page
    assert f'data-credit-row="{patient.number}-patient"' in page
    assert "data-insurance-total>$80.00<" in page
    assert "data-patient-total>$10.00<" in page
    assert "Insurance payment $80.00 posted 04/20/2026" in page
    assert ("Refund</a>" in page) is (role is not Role.ACCOUNTANT)
    only_patient = client.get(LIST + "?side=patient").get_data(as_text=True)
    assert overpaid.number not in only_patient
    assert patient.number in only_patient


def test_the_list_follows_the_chosen_scope(client, login, world, overpaid):
    login(Role.BILLER)
    other = f.LocationFactory(practice=world.location.practice)
    db.session.commit()
    client.post("/scope", data={"scope": f"location:{other.id}", "csrf_token": csrf_token(client, LIST)})
    page = client.get(LIST).get_data(as_text=True)
    assert "data-no-credits" in page
    assert "Credit on" not in client.get(f"{LIST}refund/?claim={overpaid.number}", follow_redirects=True).get_data(
        as_text=True)


@pytest.mark.parametrize("query", ["?page=%C2%B2", "?page=99999999999999999999", "?page=", "?payer_id=-1",
                                   "?side=nobody"])
def test_hostile_list_arguments_are_ignored_not_500(client, login, overpaid, query):
    login(Role.BILLER)
    assert client.get(LIST + query).status_code == 200


def test_a_nul_in_the_arguments_is_a_bad_request(client, login, overpaid):
    login(Role.BILLER)
    assert client.get(LIST + "?payer_id=%00").status_code == 400


def test_a_biller_records_a_refund_and_the_credit_is_gone(client, login, overpaid):
    login(Role.BILLER)
    form = client.get(f"{LIST}refund/?claim={overpaid.number}").get_data(as_text=True)
    assert "data-refund-form" in form
    page = post(client, f"{LIST}refund/?claim={overpaid.number}", refund_form()).get_data(as_text=True)
    assert f"Refund of $80.00 recorded on {overpaid.number}" in page
    assert "stays flagged Needs Review" in page
    assert claim_balance(overpaid.id).insurance == D("0.00")
    assert "data-no-credits" in page


@pytest.mark.parametrize(("fields", "message"), [
    ({"amount": "80.01"}, "more than the insurance credit of $80.00"),
    ({"amount": "1e2"}, "is not an amount"),
    ({"amount": "１０"}, "is not an amount"),
    ({"amount": "12.345"}, "is not an amount"),
    ({"amount": ""}, "The refund amount is missing"),
    ({"side": "patient", "amount": "1"}, "has no patient credit"),
    ({"side": "bogus"}, "Choose whose credit is refunded"),
    ({"reference": ""}, "check number or reference"),
    ({"reason": "xy" * 300}, "longer than 400"),
    ({"refunded_on": "2099-01-01"}, "is in the future"),
])
def test_a_refused_refund_says_why_and_writes_nothing(client, login, overpaid, fields, message):
    login(Role.BILLER)
    response = post(client, f"{LIST}refund/?claim={overpaid.number}", refund_form(**fields))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Nothing was refunded" in page
    assert message.replace("'", "&#39;") in page
    assert refunds() == 0


def test_an_accountant_cannot_refund(client, login, overpaid):
    login(Role.ACCOUNTANT)
    page = post(client, f"{LIST}refund/?claim={overpaid.number}", refund_form()).get_data(as_text=True)
    assert "cannot record refunds" in page
    assert refunds() == 0
    assert "Read-only for your role" in client.get(f"{LIST}refund/?claim={overpaid.number}").get_data(as_text=True)


def test_a_post_without_the_csrf_token_is_refused(client, login, overpaid):
    login(Role.BILLER)
    response = client.post(f"{LIST}refund/?claim={overpaid.number}", data=refund_form())
    assert response.status_code == 400
    assert refunds() == 0


@pytest.mark.parametrize("number", ["C-999999", "²", "", "C-" + "9" * 30])
def test_an_unknown_claim_is_not_found_never_500(client, login, overpaid, number):
    login(Role.BILLER)
    assert client.get(f"{LIST}refund/?claim={number}").status_code == 302
    page = post(client, f"{LIST}refund/?claim={number}", refund_form()).get_data(as_text=True)
    assert "Nothing was refunded" in page
    assert refunds() == 0


def test_a_patient_credit_is_applied_to_another_claim_from_the_page(client, login, world):
    source, target = patient_credit_claim(world), patient_owing_claim(world)
    db.session.commit()
    login(Role.BILLER)
    form = client.get(f"{LIST}refund/?claim={source.number}").get_data(as_text=True)
    assert f'<option value="{target.number}">' in form
    page = post(client, f"{LIST}apply/?claim={source.number}",
                {"target": target.number, "amount": "10.00", "posted_on": CREDIT_ON.isoformat(),
                 "reason": "family asked"}).get_data(as_text=True)
    assert f"$10.00 of {source.number}&#39;s patient credit applied to {target.number}" in page
    assert (claim_balance(source.id).patient, claim_balance(target.id).patient) == (D("0.00"), D("5.00"))
