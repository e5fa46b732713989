"""Money on the claim page, through the test client: Record Payment, clawbacks, denial work, secondary claims."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.coverage.models import PolicyRank
from billing.ledger.balances import claim_balance
from billing.ledger.models import Adjudication, EntryKind, LedgerEntry
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.operations import EntrySource
from billing.payments.posting import post_adjudication
from billing.people.models import Role
from tests.conftest import csrf_token
from tests.worlds import factories as f
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import PAID_ON, full_payment
from tests.worlds.practice import SYSTEM

D = Decimal


def entries() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


def post_form(client, path, data):
    data = {"csrf_token": csrf_token(client, "/admin/claim/"), **data}
    return client.post(path, data=data, follow_redirects=True)


def payment_fields(line=1, *, paid="", allowed="", copay="", adjustments=(), remarks="", leave_open=False):
    p = f"line-{line}-"
    data = {p + "paid": paid, p + "allowed": allowed, p + "copay": copay, p + "remarks": remarks}
    for k, (group, reason, amount) in enumerate(adjustments):
        data |= {f"{p}adj-{k}-group": group, f"{p}adj-{k}-reason": reason, f"{p}adj-{k}-amount": amount}
    if leave_open:
        data[p + "open"] = "1"
    return data


@pytest.fixture
def claim(world):
    return submitted_claim(world)  # one line, 73.48


def test_claim_page_shows_the_summary_and_the_money_actions_to_billers(client, login, claim):
    login(Role.BILLER)
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "data-billing-summary" in page
    assert "Paid by patient" in page
    assert "Record payment" in page
    assert f"owed by {claim.client.full_name}" in page


def test_accountants_read_the_claim_but_cannot_post_money(client, login, claim):
    login(Role.ACCOUNTANT)
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "Record payment" not in page
    before = entries()
    response = post_form(client, f"/admin/claim/payment/?id={claim.id}",
                         {"do": "save", **payment_fields(paid="73.48")})
    assert "cannot post payments" in response.get_data(as_text=True)
    assert entries() == before
    response = client.get(f"/admin/claim/payment/?id={claim.id}", follow_redirects=True)
    assert "cannot post payments" in response.get_data(as_text=True)


def test_preview_shows_balances_and_writes_nothing(client, login, claim):
    login(Role.BILLER)
    response = post_form(client, f"/admin/claim/payment/?id={claim.id}", {
        "do": "preview", **payment_fields(paid="50.00", allowed="60.00", copay="10.00",
                                          adjustments=[("CO", "45", "13.48")])})
    page = response.get_data(as_text=True)
    assert "data-preview" in page
    assert "adds up" in page
    assert 'data-preview-insurance>$0.00' in page
    assert 'data-preview-patient>$10.00' in page
    assert "data-preview-status>Paid" in page
    assert entries() == len(claim.lines)  # only the charges its send posted
    assert claim.status is ClaimStatus.SUBMITTED


def test_a_line_that_does_not_add_up_is_refused_unless_left_open(client, login, claim):
    login(Role.BILLER)
    fields = payment_fields(paid="50.00", adjustments=[("CO", "45", "13.48")])
    page = post_form(client, f"/admin/claim/payment/?id={claim.id}", {"do": "save", **fields}).get_data(as_text=True)
    assert "Nothing was saved" in page
    assert "is not paid + adjustments + patient responsibility" in page
    assert entries() == len(claim.lines)  # only the charges its send posted
    fields = payment_fields(paid="50.00", adjustments=[("CO", "45", "13.48")], leave_open=True)
    post_form(client, f"/admin/claim/payment/?id={claim.id}", {"do": "save", **fields})
    db.session.expire_all()
    assert claim_balance(claim.id).insurance == D("10.00")
    assert db.session.get(Claim, claim.id).status is ClaimStatus.SUBMITTED  # the payer still owes 10.00


def test_bad_amounts_are_named_and_nothing_is_written(client, login, claim):
    login(Role.BILLER)
    fields = payment_fields(paid="fifty", adjustments=[("CO", "", "3")])
    page = post_form(client, f"/admin/claim/payment/?id={claim.id}", {"do": "save", **fields}).get_data(as_text=True)
    assert "&#39;fifty&#39; is not an amount" in page
    assert "enter the reason code (CARC)" in page
    assert entries() == len(claim.lines)  # only the charges its send posted


def test_paid_in_full_becomes_paid_and_the_patient_owes_the_copay(client, login, claim):
    login(Role.BILLER)
    fields = payment_fields(paid="50.00", allowed="60.00", copay="10.00", adjustments=[("CO", "45", "13.48")],
                            remarks="N130")
    page = post_form(client, f"/admin/claim/payment/?id={claim.id}", {"do": "save", "payer_claim_number": "ICN77",
                                                                        **fields}).get_data(as_text=True)
    db.session.expire_all()
    claim = db.session.get(Claim, claim.id)
    assert claim.status is ClaimStatus.PAID
    assert claim.payer_claim_number == "ICN77"
    assert f"$10.00 is owed by {claim.client.full_name}" in page
    sums = claim_balance(claim.id)
    assert (sums.insurance, sums.patient, sums.paid_by_payer) == (D("0.00"), D("10.00"), D("50.00"))
    assert 'data-patient-balance>$10.00' in page
    assert db.session.scalars(select(Adjudication)).one().lines[0].remarks == "N130"


def test_paid_nothing_with_a_denial_carc_is_denied_and_the_denied_tab_shows_why(client, login, claim):
    login(Role.BILLER)
    post_form(client, f"/admin/claim/payment/?id={claim.id}",
              {"do": "save", **payment_fields(paid="0", adjustments=[("CO", "50", "73.48")])})
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status is ClaimStatus.DENIED
    tab = client.get("/admin/claim/?status=denied").get_data(as_text=True)
    assert claim.number in tab
    assert "CO-50" in tab
    assert "medical necessity" in tab
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "data-denial-reasons" in page
    assert "CO-50" in page


def test_a_second_payment_asks_whether_it_replaces_the_first(client, login, claim):
    post_adjudication(claim, full_payment(claim), actor=SYSTEM, source=EntrySource.MANUAL)
    db.session.flush()
    login(Role.BILLER)
    fields = payment_fields(paid="40.00", copay="10.00", adjustments=[("CO", "45", "23.48")])
    page = post_form(client, f"/admin/claim/payment/?id={claim.id}", {"do": "save", **fields}).get_data(as_text=True)
    assert "choose whether this one replaces it" in page
    post_form(client, f"/admin/claim/payment/?id={claim.id}", {"do": "save", "mode": "replace", **fields})
    db.session.expire_all()
    sums = claim_balance(claim.id)
    assert (sums.paid_by_payer, sums.insurance, sums.patient) == (D("40.00"), D("0.00"), D("10.00"))
    claim = db.session.get(Claim, claim.id)
    assert claim.status is ClaimStatus.PAID
    assert claim.needs_review  # a payment was taken back: someone confirms the balance
    reversals = db.session.scalar(select(func.count()).where(LedgerEntry.reverses_id.is_not(None)))
    assert reversals == 2  # the first payment and its CO-45, each reversed once


def test_reverse_prior_entry_reopens_the_claim_and_flags_review_then_clear(client, login, claim):
    post_adjudication(claim, full_payment(claim), actor=SYSTEM, source=EntrySource.MANUAL)
    db.session.flush()
    assert claim.status is ClaimStatus.PAID
    payment = db.session.scalars(select(Adjudication)).one()
    login(Role.BILLER)
    page = post_form(client, f"/admin/claim/reverse/?id={claim.id}", {f"payment-{payment.id}": "1", "reason": ""})
    assert "Say where the clawback came from" in page.get_data(as_text=True)
    post_form(client, f"/admin/claim/reverse/?id={claim.id}",
              {f"payment-{payment.id}": "1", "reason": "payer letter of 04/03"})
    db.session.expire_all()
    claim = db.session.get(Claim, claim.id)
    assert (claim.status, claim.needs_review) == (ClaimStatus.SUBMITTED, True)
    assert claim_balance(claim.id).insurance == claim.total_charge
    queue = client.get("/admin/claim/?status=all&flt0_needs_review_equals=1").get_data(as_text=True)
    assert claim.number in queue
    assert 'Needs review <span class="badge badge-warning">1</span>' in queue
    post_form(client, f"/admin/claim/money/clear-review/?id={claim.id}", {"reason": "checked with the payer"})
    db.session.expire_all()
    assert not db.session.get(Claim, claim.id).needs_review
    queue = client.get("/admin/claim/?status=all&flt0_needs_review_equals=1").get_data(as_text=True)
    assert claim.number not in queue


def test_reverse_with_the_corrected_payment_in_the_same_step(client, login, claim):
    post_adjudication(claim, full_payment(claim), actor=SYSTEM, source=EntrySource.MANUAL)
    db.session.flush()
    payment = db.session.scalars(select(Adjudication)).one()
    login(Role.BILLER)
    fields = payment_fields(paid="30.00", copay="20.00", adjustments=[("CO", "45", "23.48")])
    post_form(client, f"/admin/claim/reverse/?id={claim.id}", {
        f"payment-{payment.id}": "1", "reason": "portal recoupment", "with_correction": "1", **fields})
    db.session.expire_all()
    sums = claim_balance(claim.id)
    assert (sums.paid_by_payer, sums.patient, sums.insurance) == (D("30.00"), D("20.00"), D("0.00"))
    claim = db.session.get(Claim, claim.id)
    assert claim.status is ClaimStatus.PAID
    assert claim.needs_review


def test_single_entries_can_be_reversed_and_never_twice(client, login, claim):
    post_adjudication(claim, full_payment(claim), actor=SYSTEM, source=EntrySource.MANUAL)
    db.session.flush()
    paid = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.INSURANCE_PAYMENT)).one()
    login(Role.BILLER)
    post_form(client, f"/admin/claim/reverse/?id={claim.id}", {f"entry-{paid.id}": "1", "reason": "phone call"})
    db.session.expire_all()
    assert claim_balance(claim.id).insurance == paid.amount
    page = client.get(f"/admin/claim/reverse/?id={claim.id}").get_data(as_text=True)
    assert f'name="entry-{paid.id}"' not in page  # already reversed: not offered again


def test_write_off_needs_a_reason_and_bill_the_patient(client, login, world):
    claim = submitted_claim(world)
    post_adjudication(claim, ClaimPosting(PAID_ON, (LinePosting(1, D("0"), (Adjustment("CO", "96", D("73.48")),)),)),
                      actor=SYSTEM, source=EntrySource.MANUAL)
    other = submitted_claim(world, day=PAID_ON.replace(day=2, month=3))
    post_adjudication(other, ClaimPosting(PAID_ON, (LinePosting(1, D("0"), (Adjustment("CO", "96", D("73.48")),)),)),
                      actor=SYSTEM, source=EntrySource.MANUAL)
    db.session.flush()
    assert claim.status is ClaimStatus.DENIED
    login(Role.BILLER)
    page = post_form(client, f"/admin/claim/money/write-off/?id={claim.id}", {"reason": " "}).get_data(as_text=True)
    assert "A write-off needs a reason" in page
    post_form(client, f"/admin/claim/money/write-off/?id={claim.id}", {"reason": "not covered, practice policy"})
    db.session.expire_all()
    assert claim_balance(claim.id).balance == D("0.00")
    post_form(client, f"/admin/claim/money/bill-patient/?id={other.id}", {})
    db.session.expire_all()
    assert claim_balance(other.id).patient == D("73.48")
    post_form(client, f"/admin/claim/money/patient-payment/?id={other.id}", {"amount": "73.48", "reason": "card"})
    db.session.expire_all()
    assert (claim_balance(other.id).paid_by_patient, claim_balance(other.id).balance) == (D("73.48"), D("0.00"))


def test_bulk_write_off_from_the_denied_tab_asks_for_a_reason(client, login, world):
    claim = submitted_claim(world)
    post_adjudication(claim, ClaimPosting(PAID_ON, (LinePosting(1, D("0"), (Adjustment("CO", "96", D("73.48")),)),)),
                      actor=SYSTEM, source=EntrySource.MANUAL)
    db.session.flush()
    login(Role.BILLER)
    response = post_form(client, "/admin/claim/action/", {"action": "write_off", "rowid": str(claim.id)})
    assert "Reason (required" in response.get_data(as_text=True)
    post_form(client, "/admin/claim/reason/", {"operation": "write_off", "ids": str(claim.id),
                                               "reason": "timely filing missed"})
    db.session.expire_all()
    assert claim_balance(claim.id).balance == D("0.00")


def test_resubmit_only_the_denied_lines(client, login, world):
    claim = submitted_claim(world, lines=2)
    paid = full_payment(claim).lines[0]
    denied = LinePosting(2, D("0"), (Adjustment("CO", "16", D("73.48")),), remarks=("N290",))
    post_adjudication(claim, ClaimPosting(PAID_ON, (paid, denied)), actor=SYSTEM, source=EntrySource.MANUAL)
    db.session.flush()
    login(Role.BILLER)
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "Resubmit only the denied lines (2)" in page
    post_form(client, f"/admin/claim/money/resubmit-lines/?id={claim.id}", {"reason": "added the rendering NPI"})
    copy = db.session.scalars(select(Claim).where(Claim.id != claim.id).order_by(Claim.id.desc())).first()
    assert copy.status is ClaimStatus.READY
    assert [ln.session_id for ln in copy.lines] == [claim.lines[1].session_id]


def test_generate_secondary_claim_is_offered_when_a_balance_and_a_secondary_policy_exist(client, login, world):
    claim = submitted_claim(world)
    post_adjudication(claim, full_payment(claim, copay=D("10.00")), actor=SYSTEM, source=EntrySource.MANUAL)
    db.session.flush()
    login(Role.BILLER)
    assert "Generate Secondary Claim" not in client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    second = f.PayerFactory(company=world.company)
    f.PolicyFactory(client=world.client, payer=second, rank=PolicyRank.SECONDARY)
    assert "Generate Secondary Claim" in client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    page = post_form(client, f"/admin/claim/money/secondary/?id={claim.id}", {}).get_data(as_text=True)
    secondary = db.session.scalars(select(Claim).where(Claim.primary_claim_id == claim.id)).one()
    assert f"Secondary claim {secondary.number} created" in page
    assert (secondary.status, secondary.payer_id) == (ClaimStatus.READY, second.id)
    assert claim_balance(secondary.id).insurance == D("10.00")


def test_money_posts_need_the_csrf_token(client, login, claim):
    login(Role.BILLER)
    response = client.post(f"/admin/claim/payment/?id={claim.id}", data={"do": "save", **payment_fields(paid="1")})
    assert response.status_code == 400
    response = client.post(f"/admin/claim/money/clear-review/?id={claim.id}", data={})
    assert response.status_code == 400
    assert entries() == len(claim.lines)  # only the charges its send posted


def test_correct_a_payment_starts_from_it_and_replaces_it(client, login, claim):
    """Editing a manual remittance entry: the form is filled from it; saving reverses it and posts the new one."""
    post_adjudication(claim, full_payment(claim, copay=D("5.00")), actor=SYSTEM, source=EntrySource.MANUAL)
    db.session.flush()
    payment = db.session.scalars(select(Adjudication)).one()
    login(Role.BILLER)
    assert "data-correct-payment" in client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    page = client.get(f"/admin/claim/payment/?id={claim.id}&correct={payment.id}").get_data(as_text=True)
    assert 'name="line-1-paid" size="7" value="58.78"' in page
    assert 'name="line-1-copay" size="6" value="5.00"' in page
    assert 'id="mode-replace" name="mode" value="replace" checked' in page
    fields = payment_fields(paid="48.78", copay="15.00", adjustments=[("CO", "45", "9.70")])
    post_form(client, f"/admin/claim/payment/?id={claim.id}", {"do": "save", "mode": "replace", **fields})
    db.session.expire_all()
    sums = claim_balance(claim.id)
    assert (sums.paid_by_payer, sums.patient) == (D("48.78"), D("15.00"))
    reversed_kinds = db.session.scalars(select(LedgerEntry.kind).where(LedgerEntry.reverses_id.is_not(None))).all()
    assert sorted(k.value for k in reversed_kinds) == ["contractual", "insurance_payment", "patient_responsibility"]


def test_a_paid_claim_shows_no_denial_box_but_a_partial_denial_names_its_reason(client, login, world):
    paid = submitted_claim(world)
    post_adjudication(paid, full_payment(paid), actor=SYSTEM, source=EntrySource.MANUAL)
    partly = submitted_claim(world, lines=2, day=PAID_ON.replace(month=3, day=3))
    denied = LinePosting(2, D("0"), (Adjustment("CO", "16", D("73.48")),))
    post_adjudication(partly, ClaimPosting(PAID_ON, (full_payment(partly).lines[0], denied)), actor=SYSTEM,
                      source=EntrySource.MANUAL)
    db.session.flush()
    login(Role.BILLER)
    assert "data-denial-reasons" not in client.get(f"/admin/claim/details/?id={paid.id}").get_data(as_text=True)
    page = client.get(f"/admin/claim/details/?id={partly.id}").get_data(as_text=True)
    assert "Lines denied by the payer:" in page
    box = page.split("data-denial-reasons", 1)[1].split("</div>", 1)[0]
    assert "CO-16" in box
    assert "CO-45" not in box  # the contractual reason of the paid line is not a denial (it shows with the payment)


@pytest.mark.parametrize("typed", ["1e10", "1,2,3", "\uff11\uff12", "12.345", "99999999999.99", "NaN", "-5"])
def test_money_forms_refuse_what_is_not_an_amount_and_post_nothing(client, login, world, typed):
    # Issue 14: "1e10" posted $10,000,000,000, "1,2,3" became 123, full-width digits became 12, 12.345 became
    # 12.35 and 99999999999.99 was a 500 on PostgreSQL. Each is refused, naming the field, and nothing posts.
    other = submitted_claim(world)
    post_adjudication(other, ClaimPosting(PAID_ON, (LinePosting(1, D("0"), (Adjustment("PR", "1", D("73.48")),)),)),
                      actor=SYSTEM, source=EntrySource.MANUAL)
    db.session.flush()
    login(Role.BILLER)
    before = db.session.scalar(select(func.count(LedgerEntry.id)))
    for operation in ("patient-payment", "write-off"):
        page = post_form(client, f"/admin/claim/money/{operation}/?id={other.id}",
                         {"amount": typed, "reason": "typed", "side": "patient"}).get_data(as_text=True)
        assert "Amount:" in page
        assert "Traceback" not in page
    db.session.expire_all()
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == before
    assert claim_balance(other.id).patient == D("73.48")
