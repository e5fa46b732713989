"""999 and 277CA files answering the test's own batches: statuses, history, the trail, worklists, batch counts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from billing.claims.models import Claim
from billing.claims.operations import LineChange, edit_claim, hold_claim, resend_claim, resubmit_claim, void_claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.core.errors import BillingError, NotAllowed
from billing.ledger.balances import claim_balance
from billing.ledger.models import EntryKind, LedgerEntry
from billing.org.queries import Scope
from billing.payments.invariants import check_ledger
from billing.submissions.ack_queries import batch_ack_counts, claim_trail, rejection_reasons
from billing.submissions.acknowledgments import import_ack
from billing.submissions.inbound import NotImported, import_x12
from billing.submissions.models import Acknowledgment, AckOutcome, ClaimAcknowledgment
from billing.submissions.operations import create_batches, mark_batch_sent
from billing.worklist import billing_work
from demo.ack_writer import Answer, ClaimAnswer, Error, write_277ca, write_999
from tests.worlds.claims import history
from tests.worlds.practice import SYSTEM

SAMPLES = Path(__file__).resolve().parents[3] / ".." / "shared" / "x12-samples"


def _sent_batch(world, days=(date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4))):
    claims = [world.ready_claim(day=day) for day in days]
    batch = create_batches(actor=SYSTEM)[0]
    mark_batch_sent(batch.id, actor=SYSTEM)
    return batch, claims


def _control(batch) -> str:
    return f"{batch.control_number:04d}"


def _charges(claim) -> list:
    return list(db.session.scalars(select(LedgerEntry.amount).where(
        LedgerEntry.claim_id == claim.id, LedgerEntry.kind == EntryKind.CHARGE).order_by(LedgerEntry.id)))


def test_the_batch_keeps_a_segment_map_counted_from_st(world):
    batch, _claims = _sent_batch(world)
    segments = batch.content.split("~")
    st = next(i for i, s in enumerate(segments) if s.startswith("ST*"))
    for entry in batch.entries:
        assert entry.transaction_control == _control(batch)
        first = segments[st + entry.first_segment - 1]
        last_next = segments[st + entry.last_segment]
        assert first.startswith("HL*")
        assert first.split("*")[3] == "22"
        assert last_next.startswith(("HL*", "SE*"))  # and the next claim (or the trailer) follows its last


def test_an_accepted_999_records_every_claim_and_changes_no_status(world):
    batch, claims = _sent_batch(world)
    result = import_ack(write_999(batch), filename="ok.999", actor=SYSTEM)
    assert (result.matched, result.accepted, result.rejected, result.verdict) == (True, 3, 0, "A")
    assert {c.status for c in claims} == {ClaimStatus.SUBMITTED}
    assert batch.ack_code == "A"
    assert batch_ack_counts(batch.id) == {"accepted": 3, "rejected": 0, "information": 0}
    assert [a.outcome for a in claim_trail(claims[0].id)] == [AckOutcome.ACCEPTED]


def test_a_rejected_transaction_rejects_its_claims_and_traces_the_error_to_one(world):
    batch, claims = _sent_batch(world)
    faulty = batch.entries[1]
    position = faulty.first_segment + 2  # the subscriber's NM1*IL
    answer = Answer("R", [Error("NM1", position, "8", [("9", "67", "7", "BADID")])], ["5"])
    result = import_ack(write_999(batch, {_control(batch): answer}), filename="no.999", actor=SYSTEM)
    assert result.rejected == 3
    assert sorted(result.rejected_claims) == sorted(c.number for c in claims)
    assert {c.status for c in claims} == {ClaimStatus.REJECTED}
    assert batch_ack_counts(batch.id)["rejected"] == 3
    row = history(claims[1])[-1]
    assert (row.action, row.from_status, row.to_status) == (AuditAction.CLAIM_REJECTED, "submitted", "rejected")
    assert "NM109" in row.reason
    traced = claim_trail(faulty.claim_id)[-1]
    assert traced.errors
    assert traced.errors[0]["elements"][0]["element"] == "NM109"
    assert traced.errors[0]["ours"].startswith("NM1*IL")
    assert "not a valid code" in traced.message
    assert "BADID" in traced.message
    other = claim_trail(claims[0].id)[-1]
    assert other.errors is None  # the error lies in another claim's segments
    reasons = rejection_reasons(c.id for c in claims)
    assert set(reasons) == {c.id for c in claims}
    work = billing_work(Scope())
    assert work.rejected == 3


def test_an_error_outside_every_claim_applies_to_the_whole_transaction(world):
    batch, claims = _sent_batch(world)
    answer = Answer("E", [Error("PER", 4, "8", [("4", "364", "4", "")])])  # the submitter's contact
    result = import_ack(write_999(batch, {_control(batch): answer}), filename="warn.999", actor=SYSTEM)
    assert result.accepted == 3
    assert result.rejected == 0
    assert {c.status for c in claims} == {ClaimStatus.SUBMITTED}
    for claim in claims:
        outcome = claim_trail(claim.id)[-1]
        assert outcome.outcome is AckOutcome.ACCEPTED_WITH_ERRORS
        assert "PER04" in outcome.message


def test_a_partially_accepted_999_rejects_only_the_rejected_transaction(world):
    claims = [world.ready_claim(day=date(2026, 3, 2)), world.ready_claim(day=date(2026, 3, 3))]
    batch = create_batches(actor=SYSTEM)[0]
    mark_batch_sent(batch.id, actor=SYSTEM)
    # Two transactions in one batch: a hand-split file, the way a 5,000+ claim batch splits.
    first, second = batch.entries
    second.transaction_control = f"{batch.control_number + 1:04d}"
    batch.transaction_count = 2
    data = write_999(batch, {second.transaction_control: Answer("R", codes=["5"])})
    result = import_ack(data, filename="partial.999", actor=SYSTEM)
    assert result.verdict == "P"
    statuses = {c.id: c.status for c in claims}
    assert statuses[first.claim_id] is ClaimStatus.SUBMITTED
    assert statuses[second.claim_id] is ClaimStatus.REJECTED
    assert batch_ack_counts(batch.id) == {"accepted": 1, "rejected": 1, "information": 0}


def test_a_277ca_accepts_stores_the_payer_number_and_rejects_a3_and_a7(world):
    batch, (accepted, a3, a7) = _sent_batch(world)
    data = write_277ca(batch, [ClaimAnswer(accepted.number, "A2", "20", "", "PCN-100"),
                               ClaimAnswer(a3.number, "A3", "21", "IL"),
                               ClaimAnswer(a7.number, "A7", "562", "85", "PCN-REJ")])
    result = import_ack(data, filename="claims.277", actor=SYSTEM)
    assert (result.accepted, result.rejected) == (1, 2)
    assert accepted.status is ClaimStatus.SUBMITTED
    assert accepted.payer_claim_number == "PCN-100"
    assert a3.status is ClaimStatus.REJECTED
    assert a7.status is ClaimStatus.REJECTED
    assert a7.payer_claim_number is None  # a rejected claim's number is kept on the trail only
    trail = claim_trail(a7.id)[-1]
    assert trail.payer_claim_number == "PCN-REJ"
    assert "National Provider Identifier" in trail.message
    assert "billing provider" in trail.message
    assert "STC A7:562:85" in trail.codes
    assert "rejected because information is invalid" in history(a7)[-1].reason
    assert history(accepted)[-1].action is AuditAction.CLAIM_ACKNOWLEDGED


def test_an_unknown_status_code_still_reads_as_a_code(world):
    batch, (claim, *_) = _sent_batch(world)
    import_ack(write_277ca(batch, [ClaimAnswer(claim.number, "A6", "9999", "ZZ")]), filename="x.277", actor=SYSTEM)
    message = claim_trail(claim.id)[-1].message
    assert "status code 9999" in message
    assert "entity ZZ" in message


def test_the_same_file_twice_records_nothing_the_second_time(world):
    batch, claims = _sent_batch(world)
    data = write_999(batch, {_control(batch): Answer("R", codes=["5"])})
    import_ack(data, filename="a.999", actor=SYSTEM)
    counts = (db.session.scalar(select(func.count()).select_from(ClaimAcknowledgment)),
              len(history(claims[0])))
    again = import_ack(data, filename="renamed.999", actor=SYSTEM)
    assert again.duplicate
    assert "already imported" in again.summary()
    assert (db.session.scalar(select(func.count()).select_from(ClaimAcknowledgment)), len(history(claims[0]))) == counts
    assert db.session.scalar(select(func.count()).select_from(Acknowledgment)) == 1


def test_an_ack_for_a_claim_no_longer_submitted_is_recorded_not_applied(world):
    batch, (claim, *_) = _sent_batch(world)
    void_claim(claim, reason="sent in error", actor=SYSTEM)
    result = import_ack(write_277ca(batch, [ClaimAnswer(claim.number, "A7", "21")]), filename="late.277",
                        actor=SYSTEM)
    assert result.not_applied == 1
    assert claim.status is ClaimStatus.VOIDED
    outcome = claim_trail(claim.id)[-1]
    assert not outcome.applied
    assert "Voided, not Submitted" in outcome.note


def test_a_999_for_another_senders_batch_is_kept_unmatched(world):
    batch, claims = _sent_batch(world)
    other = import_ack(write_999(batch, receiver="SOMEONEELSE"), filename="theirs.999", actor=SYSTEM)
    assert not other.matched
    assert "another sender" in other.unmatched_reason
    unknown = import_ack(write_999(batch, group_control=987654), filename="unknown.999", actor=SYSTEM)
    assert not unknown.matched
    assert "987654" in unknown.unmatched_reason
    stored = db.session.scalars(select(Acknowledgment).order_by(Acknowledgment.id)).all()
    assert [a.matched for a in stored] == [False, False]
    assert all(a.unmatched_reason for a in stored)
    assert {c.status for c in claims} == {ClaimStatus.SUBMITTED}


def test_a_rejected_claim_is_fixed_and_resent_as_a_new_original_with_money_consistent(world):
    batch, (claim, *_) = _sent_batch(world)
    charged = _charges(claim)
    import_ack(write_277ca(batch, [ClaimAnswer(claim.number, "A7", "33", "IL")]), filename="r.277", actor=SYSTEM)
    assert claim.status is ClaimStatus.REJECTED
    assert _charges(claim) == charged  # the charge stays in A/R: the practice is still owed for the service
    line = claim.lines[0]
    edit_claim(claim, actor=SYSTEM, lines=[LineChange(line.line_number, units=line.units - 1)])
    resend_claim(claim, actor=SYSTEM)
    assert claim.status is ClaimStatus.READY
    assert history(claim)[-1].action is AuditAction.CLAIM_RESENT
    again = create_batches(actor=SYSTEM)[0]
    assert [e.frequency_code for e in again.entries] == ["1"]
    assert "REF*F8" not in again.content
    mark_batch_sent(again.id, actor=SYSTEM)
    assert claim.status is ClaimStatus.SUBMITTED
    assert claim_balance(claim.id).insurance == claim.total_charge  # the edited price, once
    assert check_ledger() == []


def test_rejected_claims_move_only_where_the_table_allows(world):
    batch, (claim, held, voided) = _sent_batch(world)
    import_ack(write_999(batch, {_control(batch): Answer("R", codes=["5"])}), filename="r.999", actor=SYSTEM)
    with db.session.begin_nested(), pytest.raises(NotAllowed):
        resubmit_claim(claim, actor=SYSTEM)  # resubmit is for denials; a rejection is resent
    hold_claim(held, reason="member id to check", actor=SYSTEM)
    assert held.status is ClaimStatus.HELD
    void_claim(voided, reason="duplicate of another claim", actor=SYSTEM)
    assert voided.status is ClaimStatus.VOIDED
    assert not voided.void_to_send
    assert claim_balance(voided.id).insurance == 0
    assert check_ledger() == []


def test_edi_import_routes_by_kind_and_refuses_other_kinds(world):
    batch, _ = _sent_batch(world)
    assert import_x12(write_999(batch), filename="a.999", actor=SYSTEM).kind == "999"
    assert import_x12(write_277ca(batch, []), filename="b.277", actor=SYSTEM).kind == "277CA"
    with pytest.raises(NotImported, match="837P"):
        import_x12(batch.content.encode(), filename="ours.837", actor=SYSTEM)
    with pytest.raises(NotImported, match=r"not an X12 file|PDF"):
        import_x12(b"%PDF-1.4", filename="eob.pdf", actor=SYSTEM)


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/x12-samples is absent (CI always has it)")
@pytest.mark.parametrize("name", ["999/x12_999_accepted.txt", "999/x12_999_rejected.txt",
                                  "999/tc_parse_999.rb__msg2_34accepted.x12", "277ca/x12_277CA_accepted.txt",
                                  "277ca/x12_277CA_rejected.txt"])
def test_the_public_samples_answer_other_senders_and_are_kept_unmatched(world, name):
    _sent_batch(world)
    imported = import_x12((SAMPLES / name).read_bytes(), filename=Path(name).name, actor=SYSTEM)
    assert imported.kind in ("999", "277CA")
    assert not imported.result.matched
    assert imported.result.unmatched_reason
    assert db.session.scalar(select(func.count()).select_from(Claim_status_rejected())) == 0


def Claim_status_rejected():

    return select(Claim.id).where(Claim.status == ClaimStatus.REJECTED).subquery()


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/x12-samples is absent (CI always has it)")
def test_an_835_sample_goes_to_the_835_import_and_an_837_is_refused_naming_it(world):
    with pytest.raises(BillingError, match="837P"):
        import_x12((SAMPLES / "837p" / "X222-chiropractic.edi").read_bytes(), filename="x.837", actor=SYSTEM)
