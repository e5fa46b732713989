"""The Post a check page and the Posted checks list, through the test client: roles, CSRF, one post per form,
a refused check naming its line, the remainder kept visible, and check details on Record Payment."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.core.db import db
from billing.core.operation_keys import new_operation_key
from billing.ledger.models import Adjudication, EntryKind, LedgerEntry, PaymentMethod
from billing.payments.models import PostedCheck
from billing.people.models import Role
from tests.conftest import csrf_token
from tests.worlds import factories as f
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import PAID_ON

D = Decimal
PAGE = "/admin/post-check/"


@pytest.fixture
def claims(world):
    claims = [submitted_claim(world) for _ in range(3)]
    db.session.flush()
    return claims


def check_form(client, world, claims, paid: list[str], *, amount: str, **extra) -> dict[str, str]:
    """The page's fields for a check paying each claim's one line `paid`, the rest contractual CO-45."""
    data = {
        "csrf_token": csrf_token(client, PAGE),
        "op_key": new_operation_key(),
        "payer_id": str(world.payer.id),
        "check_number": "88001",
        "check_date": PAID_ON.isoformat(),
        "amount": amount,
        "payment_method": "check",
        "claims": ",".join(str(c.id) for c in claims),
        "do": "post",
    }
    for claim, value in zip(claims, paid, strict=True):
        p = f"c{claim.id}-line-1-"
        rest = claim.lines[0].charge - D(value)
        data |= {p + "paid": value, p + "adj-0-group": "CO", p + "adj-0-reason": "45", p + "adj-0-amount": str(rest)}
    return {**data, **extra}


def insurance_paid(claims) -> Decimal:
    rows = db.session.scalars(
        select(LedgerEntry.amount).where(
            LedgerEntry.claim_id.in_([c.id for c in claims]), LedgerEntry.kind == EntryKind.INSURANCE_PAYMENT
        )
    )
    return sum(rows, D("0"))


def checks() -> int:
    return db.session.scalar(select(func.count()).select_from(PostedCheck))


def test_a_biller_posts_a_check_across_three_claims_once(client, login, world, claims):
    login(Role.BILLER)
    data = check_form(client, world, claims, ["58.78", "40.00", "10.00"], amount="108.78")
    first = client.post(PAGE, data=data, follow_redirects=True).get_data(as_text=True)
    assert "Check 88001 ($108.78) posted on 3 claim(s)" in first
    second = client.post(PAGE, data=data, follow_redirects=True).get_data(as_text=True)
    assert "already" in second.lower() or "posted on 3 claim(s)" in second
    db.session.expire_all()
    assert checks() == 1
    assert insurance_paid(claims) == D("58.78") + D("40.00") + D("10.00")


def test_a_mismatched_total_is_refused_and_the_form_kept(client, login, world, claims):
    login(Role.BILLER)
    data = check_form(client, world, claims, ["58.78", "40.00", "10.00"], amount="120.00")
    page = client.post(PAGE, data=data).get_data(as_text=True)
    assert "Nothing was saved" in page
    assert "$11.22 is not applied" in page
    assert 'value="58.78"' in page  # what was typed is shown again
    db.session.expire_all()
    assert checks() == 0
    assert insurance_paid(claims) == D("0")


def test_the_remainder_kept_unapplied_is_listed_until_applied(client, login, world, claims):
    login(Role.BILLER)
    data = check_form(
        client,
        world,
        claims[:2],
        ["58.78", "40.00"],
        amount="120.00",
        keep_unapplied="1",
        note="page 2 of the EOB is missing",
    )
    client.post(PAGE, data=data)
    listing = client.get("/admin/posted-check/?flt0_has_unapplied_money_equals=1").get_data(as_text=True)
    assert "88001" in listing
    assert "$21.22" in listing
    check = db.session.scalar(select(PostedCheck))
    apply = f"/admin/post-check/apply/{check.id}/"
    more = {
        "csrf_token": csrf_token(client, apply),
        "op_key": new_operation_key(),
        "claims": str(claims[2].id),
        "do": "post",
        f"c{claims[2].id}-line-1-paid": "21.22",
        f"c{claims[2].id}-line-1-open": "1",
    }
    page = client.post(apply, data=more, follow_redirects=True).get_data(as_text=True)
    assert "fully applied" in page
    db.session.expire_all()
    assert insurance_paid(claims) == D("120.00")


def test_a_bad_line_refuses_the_whole_check_naming_it(client, login, world, claims):
    login(Role.BILLER)
    data = check_form(client, world, claims, ["58.78", "40.00", "10.00"], amount="108.78")
    data[f"c{claims[1].id}-line-1-adj-0-amount"] = "1.00"
    page = client.post(PAGE, data=data).get_data(as_text=True)
    assert f"Check line 2 ({claims[1].number})" in page
    db.session.expire_all()
    assert checks() == 0
    assert insurance_paid(claims) == D("0")


def test_adding_a_claim_by_number_puts_it_on_the_check(client, login, world, claims):
    login(Role.BILLER)
    data = {
        "csrf_token": csrf_token(client, PAGE),
        "payer_id": str(world.payer.id),
        "find": claims[0].number,
        "do": "find",
    }
    page = client.post(PAGE, data=data).get_data(as_text=True)
    assert f"Check line 1 · {claims[0].number}" in page
    assert f'aria-label="{claims[0].number} line 1 paid"' in page


@pytest.mark.parametrize("role", [Role.ACCOUNTANT])
def test_a_reader_cannot_post(client, login, world, claims, role):
    login(role)
    data = check_form(client, world, claims, ["58.78", "40.00", "10.00"], amount="108.78")
    client.post(PAGE, data=data)
    db.session.expire_all()
    assert checks() == 0


def test_a_post_without_csrf_is_refused(client, login, world, claims):
    login(Role.BILLER)
    data = check_form(client, world, claims, ["58.78", "40.00", "10.00"], amount="108.78")
    del data["csrf_token"]
    response = client.post(PAGE, data=data)
    assert response.status_code in (400, 302)
    db.session.expire_all()
    assert checks() == 0


def test_record_payment_keeps_the_check_details(client, login, world, claims):
    login(Role.BILLER)
    claim = claims[0]
    form = {
        "csrf_token": csrf_token(client, "/admin/claim/"),
        "op_key": new_operation_key(),
        "do": "save",
        "paid_on": PAID_ON.isoformat(),
        "line-1-paid": "58.78",
        "line-1-adj-0-group": "CO",
        "line-1-adj-0-reason": "45",
        "line-1-adj-0-amount": "14.70",
        "check_number": "CHK-5521",
        "check_date": PAID_ON.isoformat(),
        "payment_method": "eft",
    }
    client.post(f"/admin/claim/payment/?id={claim.id}", data=form)
    db.session.expire_all()
    payment = db.session.scalar(select(Adjudication).where(Adjudication.claim_id == claim.id))
    assert (payment.check_number, payment.check_date, payment.payment_method) == (
        "CHK-5521",
        PAID_ON,
        PaymentMethod.EFT,
    )
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "EFT CHK-5521 of 04/01/2026" in page


def test_an_out_of_scope_claim_is_never_posted_or_shown(client, login, world, claims):
    elsewhere = f.LocationFactory(practice=world.location.practice)
    login(Role.BILLER)
    client.post(
        "/scope",
        data={"scope": f"location:{elsewhere.id}", "next": "/admin/", "csrf_token": csrf_token(client, "/admin/")},
    )
    data = check_form(client, world, claims, ["58.78", "40.00", "10.00"], amount="108.78")
    page = client.post(PAGE, data=data).get_data(as_text=True)
    assert all(c.number not in page for c in claims)
    assert "Add at least one claim the check pays" in page
    found = client.post(
        PAGE,
        data={
            "csrf_token": csrf_token(client, PAGE),
            "payer_id": str(world.payer.id),
            "find": claims[0].number,
            "do": "find",
        },
    ).get_data(as_text=True)
    assert f"Check line 1 · {claims[0].number}" not in found
    db.session.expire_all()
    assert checks() == 0
    assert insurance_paid(claims) == D("0")
