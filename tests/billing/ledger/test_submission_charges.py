"""Charges enter A/R when a claim is sent and leave it when the bill is withdrawn (void, correction, retraction)."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select

from billing.claims.models import Claim
from billing.claims.operations import correct_claim, resubmit_claim, retract_claim, void_claim
from billing.claims.sessions import finalize_sessions
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.core.errors import ValidationFailed
from billing.core.time import practice_today
from billing.ledger import rows
from billing.ledger.balances import claim_balance, line_balances, totals_between
from billing.ledger.models import EntryKind, EntrySource, LedgerEntry
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.org.queries import resolve_scope
from billing.payments.posting import post_adjudication
from billing.payments.remittances import import_835
from billing.submissions.operations import create_batches, mark_batch_sent, send_batch
from billing.worklist import billing_work
from exports.filters import ReportFilters
from exports.reports.aging import open_claims
from tests.worlds.claims import bulk_ready_claims, history
from tests.worlds.payments import PAID_ON, Payment, clp_for, full_payment, write_835
from tests.worlds.practice import DAY, SYSTEM
from tests.worlds.submissions import SubmissionWorld, build_submission_world

D = Decimal
SENT_ON = DAY + timedelta(days=7)


@pytest.fixture
def sw() -> SubmissionWorld:
    return build_submission_world()


def ready(sw: SubmissionWorld, *, lines: int = 1, day: date = DAY) -> Claim:
    """A Ready claim with `lines` one-hour sessions on one day (73.48 a line)."""
    visits = [sw.base.visit(day=day, start=time(8 + 2 * n)) for n in range(lines)]
    return finalize_sessions(visits, actor=SYSTEM).created[0]


def send(*claims: Claim, sent_on: date = SENT_ON) -> None:
    for batch in create_batches(actor=SYSTEM, claim_ids=[c.id for c in claims]):
        mark_batch_sent(batch.id, actor=SYSTEM, sent_on=sent_on)


def entries(claim: Claim, kind: EntryKind = EntryKind.CHARGE) -> list[LedgerEntry]:
    return list(db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.claim_id == claim.id, LedgerEntry.kind == kind).order_by(LedgerEntry.id)))


def deny(claim: Claim) -> None:
    lines = tuple(LinePosting(ln.line_number, D(0), (Adjustment("CO", "197", ln.charge),)) for ln in claim.lines)
    post_adjudication(claim, ClaimPosting(PAID_ON, lines, status_code="4", payer_claim_number="ICN-DENIED"),
                      actor=SYSTEM, source=EntrySource.MANUAL)


def pay_line_one(claim: Claim) -> None:
    """The payer pays line 1 in full (80% + CO-45) and says nothing yet about the others."""
    line = claim.lines[0]
    paid = (line.charge * D("0.8")).quantize(D("0.01"))
    posting = LinePosting(1, paid, (Adjustment("CO", "45", line.charge - paid),))
    post_adjudication(claim, ClaimPosting(PAID_ON, (posting,), payer_claim_number="ICN-1"), actor=SYSTEM,
                      source=EntrySource.MANUAL)


def test_sending_posts_exactly_one_charge_per_line_dated_the_send(sw):
    two, one = ready(sw, lines=2), ready(sw, day=DAY + timedelta(days=1))
    assert claim_balance(two.id).charges == D(0)  # Ready: not billed yet
    send(two, one)
    for claim in (two, one):
        charges = entries(claim)
        assert [(e.claim_line_id, e.amount) for e in charges] == [(ln.id, ln.charge) for ln in claim.lines]
        assert {(e.posted_on, e.source, e.payer_id) for e in charges} == {(SENT_ON, EntrySource.SYSTEM, claim.payer_id)}
        assert claim_balance(claim.id).insurance == claim.total_charge
        assert claim.status is ClaimStatus.SUBMITTED


def test_an_sftp_send_dates_the_charges_today(sw):
    sw.clearinghouse.sftp_host = "sftp.example.test"
    claim = ready(sw)
    batch = create_batches(actor=SYSTEM, claim_ids=[claim.id])[0]
    send_batch(batch.id, actor=SYSTEM, uploader=lambda *_: None)
    assert [(e.posted_on, e.amount) for e in entries(claim)] == [(practice_today(), claim.total_charge)]


def test_an_upload_date_in_the_future_is_refused_and_changes_nothing(sw):
    claim = ready(sw)
    batch = create_batches(actor=SYSTEM, claim_ids=[claim.id])[0]
    with pytest.raises(ValidationFailed, match="in the future"):
        mark_batch_sent(batch.id, actor=SYSTEM, sent_on=practice_today() + timedelta(days=1))
    assert claim.status is ClaimStatus.READY
    assert entries(claim) == []


def test_a_later_835_paying_in_full_posts_no_second_charge(sw):
    claim = ready(sw, lines=2)
    send(claim)
    charges = entries(claim)
    posting = full_payment(claim)
    payment = Payment(posting.paid, "CHK1", payer_name=sw.base.payer.name, payer_id=sw.base.payer.edi_payer_id,
                      claims=[clp_for(claim, posting)])
    result = import_835(write_835([payment]).encode(), filename="paid.835", actor=SYSTEM)
    assert result.matched == 1
    assert entries(claim) == charges
    assert claim.status is ClaimStatus.PAID
    balance = claim_balance(claim.id)
    assert (balance.charges, balance.insurance, balance.balance) == (claim.total_charge, D(0), D(0))


def test_a_resubmitted_denied_claim_is_not_charged_again(sw):
    claim = ready(sw)
    send(claim)
    deny(claim)
    assert claim_balance(claim.id).insurance == claim.total_charge  # a denial stays open, to be worked
    resubmit_claim(claim, actor=SYSTEM, reason="auth number added")
    send(claim, sent_on=SENT_ON + timedelta(days=30))
    assert [e.posted_on for e in entries(claim)] == [SENT_ON]
    assert claim_balance(claim.id).insurance == claim.total_charge


def test_ar_aging_revenue_and_the_front_page_include_a_submitted_unanswered_claim(sw):
    claim = ready(sw, lines=2)
    send(claim)
    aging = {c.claim_id: c for c in open_claims(ReportFilters(as_of=SENT_ON + timedelta(days=40)))}
    assert (aging[claim.id].insurance, aging[claim.id].patient) == (claim.total_charge, D(0))
    assert aging[claim.id].status == "Submitted"
    # As of the day before it went out, nobody owed anything on it yet.
    assert claim.id not in {c.claim_id for c in open_claims(ReportFilters(as_of=SENT_ON - timedelta(days=1)))}
    assert totals_between(SENT_ON, SENT_ON)[(EntryKind.CHARGE, False)] == claim.total_charge
    assert billing_work(resolve_scope(None, None, None)).insurance_ar == claim.total_charge


def test_voiding_a_sent_unpaid_claim_withdraws_its_charges_with_linked_reversals(sw):
    claim = ready(sw, lines=2)
    send(claim)
    charges = entries(claim)
    void_claim(claim, reason="billed to the wrong payer", actor=SYSTEM)
    db.session.flush()
    reversals = [e for e in entries(claim) if e.reverses_id is not None]
    assert sorted((r.reverses_id, r.amount) for r in reversals) == sorted((c.id, -c.amount) for c in charges)
    assert {r.posted_on for r in reversals} == {practice_today()}
    assert claim_balance(claim.id).balance == D(0)
    assert claim.void_to_send  # the payer still gets the frequency-8 void
    withdrawn = [h for h in history(claim) if h.action is AuditAction.CHARGES_WITHDRAWN]
    assert len(withdrawn) == 1
    assert "wrong payer" in withdrawn[0].reason
    assert claim.id not in {c.claim_id for c in open_claims(ReportFilters(as_of=practice_today()))}
    assert totals_between(practice_today(), practice_today())[(EntryKind.CHARGE, True)] == -claim.total_charge
    # Sending the void itself (with the payer's claim number from the acknowledgement) bills nothing.
    claim.payer_claim_number = "ICN-77"
    count = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    send(claim, sent_on=practice_today())
    assert claim.void_to_send is False
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == count


def test_a_void_after_the_payer_answered_withdraws_the_whole_bill_and_keeps_the_payment(sw):
    claim = ready(sw, lines=2)
    send(claim)
    pay_line_one(claim)
    assert claim.status is ClaimStatus.SUBMITTED  # line 2 still owed
    void_claim(claim, reason="sent in error", actor=SYSTEM, money_confirmed=True)
    db.session.flush()
    first, second = claim.lines
    by_line = line_balances(claim.id)
    paid = by_line[first.id].paid_by_payer
    assert paid > 0
    # Nothing is billed any more on either line; line 1 keeps what the payer paid, a credit until its recoupment.
    assert (by_line[first.id].charges, by_line[first.id].balance) == (D(0), -paid)
    assert (by_line[second.id].charges, by_line[second.id].balance) == (D(0), D(0))
    assert claim.needs_review


def test_a_payment_taken_back_in_full_leaves_the_line_to_withdraw(sw):
    from billing.payments.reversals import manual_clawback, standing_payments

    claim = ready(sw)
    send(claim)
    pay_line_one(claim)
    manual_clawback(claim, reason="payer letter", posted_on=PAID_ON, actor=SYSTEM,
                    payments=standing_payments(claim.id))
    void_claim(claim, reason="sent in error", actor=SYSTEM)
    db.session.flush()
    assert claim_balance(claim.id).balance == D(0)
    assert [e.amount for e in entries(claim)] == [claim.total_charge, -claim.total_charge]


def test_sending_a_corrected_claim_withdraws_every_line_of_the_original(sw):
    """Posting rule 6: the paid line leaves A/R too (charge and CO-45 reversed); its payment stays as a credit
    the payer must take back, and the original is flagged until the payer's reversal arrives."""
    original = ready(sw, lines=2)
    send(original)
    pay_line_one(original)
    corrected = correct_claim(original, actor=SYSTEM, reason="wrong modifier on line 2")
    db.session.flush()
    assert not [e for e in entries(original) if e.reverses_id]  # nothing leaves A/R until the correction goes out
    send(corrected, sent_on=SENT_ON + timedelta(days=35))
    first, second = original.lines
    paid = (first.charge * D("0.8")).quantize(D("0.01"))
    assert [e.claim_line_id for e in entries(original) if e.reverses_id] == [first.id, second.id]
    assert [e.claim_line_id for e in entries(original, EntryKind.CONTRACTUAL) if e.reverses_id] == [first.id]
    assert claim_balance(original.id).insurance == -paid
    assert original.needs_review
    assert [e.amount for e in entries(corrected)] == [ln.charge for ln in corrected.lines]
    assert claim_balance(corrected.id).insurance == corrected.total_charge
    withdrawn = [h for h in history(original) if h.action is AuditAction.CHARGES_WITHDRAWN]
    assert len(withdrawn) == 1
    assert corrected.number in withdrawn[0].reason


def test_a_denied_claim_corrected_leaves_ar_entirely(sw):
    original = ready(sw)
    send(original)
    deny(original)
    corrected = correct_claim(original, actor=SYSTEM, reason="right payer id")
    db.session.flush()
    send(corrected, sent_on=SENT_ON + timedelta(days=35))
    assert claim_balance(original.id).balance == D(0)
    assert claim_balance(corrected.id).insurance == corrected.total_charge


def test_retracting_a_resubmitted_claim_withdraws_its_earlier_bill(sw):
    claim = ready(sw)
    send(claim)
    deny(claim)
    resubmit_claim(claim, actor=SYSTEM, reason="retry")
    retract_claim(claim, actor=SYSTEM)
    db.session.flush()
    assert claim_balance(claim.id).balance == D(0)


def test_a_large_batch_writes_its_charges_in_one_insert(sw, monkeypatch):
    ids = bulk_ready_claims(sw.base, 300, lines_per_claim=2)
    inserts: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("INSERT INTO LEDGER_ENTRY"):
            inserts.append(statement)

    real_copy = rows.copy_rows  # PostgreSQL writes ledger rows with one COPY, which SQLAlchemy's events do not see

    def copy(connection, table, written):
        if table.name == "ledger_entry":  # as the SQL listener above: other tables' COPYs are not charges
            inserts.append(f"COPY {table.name}")
        real_copy(connection, table, written)

    monkeypatch.setattr(rows, "copy_rows", copy)
    batch = create_batches(actor=SYSTEM, claim_ids=ids)[0]
    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        mark_batch_sent(batch.id, actor=SYSTEM, sent_on=SENT_ON)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    charged = db.session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.claim_id.in_(ids)))
    assert charged == 600
    assert len(inserts) == 1


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.integers(min_value=1, max_value=3), paid=st.sets(st.integers(min_value=1, max_value=3)),
       cents=st.integers(min_value=0, max_value=7348))
def test_a_void_reverses_exactly_the_lines_nobody_paid(sw, lines, paid, cents):
    nested = db.session.begin_nested()
    try:
        claim = ready(sw, lines=lines)
        send(claim)
        paid = {n for n in paid if n <= lines}
        amount = D(cents) / 100
        postings = tuple(LinePosting(ln.line_number, amount, (Adjustment("CO", "45", ln.charge - amount),))
                         for ln in claim.lines if ln.line_number in paid)
        if postings:
            post_adjudication(claim, ClaimPosting(PAID_ON, postings), actor=SYSTEM, source=EntrySource.MANUAL)
        void_claim(claim, reason="prop", actor=SYSTEM, money_confirmed=True)
        db.session.flush()
        sums = claim_balance(claim.id)
        # Every line's charge is withdrawn (with the payer's adjustments, once it answered): nothing stays owed;
        # what the payer paid on the paid lines stays, a credit its recoupment will take back.
        assert sums.charges == D(0)
        assert sums.balance == -(amount * len(paid))
    finally:
        nested.rollback()
