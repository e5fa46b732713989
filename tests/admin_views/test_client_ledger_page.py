"""The client ledger page through the test client: who may see it, scope, the date filter, downloads, the invoice,
and the patient payment form (posted once per one-time key) with its receipt."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.core.db import db
from billing.core.operation_keys import new_operation_key
from billing.ledger.models import EntryKind, LedgerEntry
from billing.payments.patient_payment_models import PatientPayment
from billing.people.models import Role
from tests.conftest import csrf_token
from tests.worlds import factories as f
from tests.worlds.patient_billing import self_pay_visits
from tests.worlds.pdfs import pdf_text

D = Decimal
PAGE = "/admin/client-ledger/"


@pytest.fixture
def visits(world):
    claims = self_pay_visits(world, 2)
    db.session.commit()  # a refused POST rolls back its own work only
    return claims


def _patient_paid() -> Decimal:
    amounts = db.session.scalars(select(LedgerEntry.amount).where(LedgerEntry.kind == EntryKind.PATIENT_PAYMENT))
    return sum(amounts, D("0.00"))


@pytest.mark.parametrize("role", [Role.BILLER, Role.ACCOUNTANT, Role.ADMIN])
def test_readers_of_payments_see_every_entry_and_the_links(client, login, world, visits, role):
    login(role)
    page = client.get(f"{PAGE}?client_id={world.client.id}").get_data(as_text=True)
    for claim in visits:
        assert claim.number in page
    assert page.count("data-entry=") == db.session.scalar(select(func.count()).select_from(LedgerEntry))
    assert "data-closing-patient>$200.00" in page
    assert ("data-patient-payment-form" in page) is (role is not Role.ACCOUNTANT)
    claim_page = client.get(f"/admin/claim/details/?id={visits[0].id}").get_data(as_text=True)
    assert "data-client-ledger-link" in claim_page
    assert "data-client-ledger-link" in client.get("/admin/client/").get_data(as_text=True)


def test_an_office_manager_is_refused_and_sees_no_link(client, login, world, visits):
    login(Role.OFFICE_MANAGER)
    assert client.get(f"{PAGE}?client_id={world.client.id}").status_code == 403
    assert "data-client-ledger-link" not in client.get("/admin/client/").get_data(as_text=True)


def test_a_client_outside_the_scope_is_not_found(client, login, world, visits):
    login(Role.BILLER)
    other = f.LocationFactory(practice=f.PracticeFactory(company=f.CompanyFactory()))
    db.session.commit()
    client.post("/scope", data={"scope": f"location:{other.id}", "csrf_token": csrf_token(client, "/admin/claim/")})
    page = client.get(f"{PAGE}?client_id={world.client.id}", follow_redirects=True).get_data(as_text=True)
    assert "No such client in the chosen scope" in page
    assert visits[0].number not in page
    assert client.get(f"{PAGE}download/pdf?client_id={world.client.id}").status_code == 302


def test_downloads_and_a_bad_date_named(client, login, world, visits):
    login(Role.ACCOUNTANT)
    pdf = client.get(f"{PAGE}download/pdf?client_id={world.client.id}")
    assert pdf.mimetype == "application/pdf"
    assert "Patient owes $200.00" in pdf_text(pdf.data)
    xlsx = client.get(f"{PAGE}download/xlsx?client_id={world.client.id}&from=2026-01-01")
    assert xlsx.data[:2] == b"PK"
    invoice = client.get(f"{PAGE}invoice?client_id={world.client.id}")
    assert "Amount due $200.00" in pdf_text(invoice.data)
    bad = client.get(f"{PAGE}?client_id={world.client.id}&from=soon", follow_redirects=True).get_data(as_text=True)
    assert "from" in bad
    assert "is not a date" in bad


def test_the_payment_form_posts_once_and_links_its_receipt(client, login, world, visits):
    login(Role.BILLER)
    data = {"csrf_token": csrf_token(client, "/admin/claim/"), "op_key": new_operation_key(), "amount": "150.00",
            "memo": "card"}
    first = client.post(f"{PAGE}payment?client_id={world.client.id}", data=data, follow_redirects=True)
    second = client.post(f"{PAGE}payment?client_id={world.client.id}", data=data, follow_redirects=True)
    assert "already recorded" in second.get_data(as_text=True)
    db.session.expire_all()
    assert _patient_paid() == D("150.00")
    payment = db.session.scalars(select(PatientPayment)).one()
    assert f"receipt/{payment.id}" in first.get_data(as_text=True)
    receipt = client.get(f"{PAGE}receipt/{payment.id}")
    assert "Total received $150.00" in pdf_text(receipt.data)


def test_an_accountant_may_not_post(client, login, world, visits):
    login(Role.ACCOUNTANT)
    data = {"csrf_token": csrf_token(client, "/admin/claim/"), "op_key": new_operation_key(), "amount": "10.00"}
    page = client.post(f"{PAGE}payment?client_id={world.client.id}", data=data, follow_redirects=True)
    assert "may not record payments" in page.get_data(as_text=True)
    db.session.expire_all()
    assert _patient_paid() == D("0.00")


@pytest.mark.parametrize(("amount", "claim", "said"), [("1e3", "", "not an amount"), ("300.00", "", "overpayment"),
                                                       ("10.00", "C-999999", "C-999999")])
def test_bad_input_is_named_and_changes_nothing(client, login, world, visits, amount, claim, said):
    login(Role.BILLER)
    data = {"csrf_token": csrf_token(client, "/admin/claim/"), "op_key": new_operation_key(), "amount": amount,
            "claim": claim}
    page = client.post(f"{PAGE}payment?client_id={world.client.id}", data=data, follow_redirects=True)
    assert said in page.get_data(as_text=True)
    db.session.expire_all()
    assert _patient_paid() == D("0.00")
    assert db.session.scalar(select(func.count()).select_from(PatientPayment)) == 0
