"""Claim status: 276 inquiries for Submitted claims, 277 answers on the status trail and the follow-up queue.

Days are counted from the practice's today as the code reads it, never asserted against the clock; money and the
claim itself are compared before and after, field by field.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from billing.claims.statuses import ClaimStatus, transition
from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.core.errors import Failed, NothingToDo, ValidationFailed
from billing.core.time import practice_today
from billing.core.unit_of_work import unit_of_work
from billing.coverage.models import SubscriberRelationship
from billing.edi.claim_status import ClaimStatusUnreadable, inquiry_claim, read_277
from billing.edi.segments import split_segments
from billing.edi.x12sdk_io import transaction_problems
from billing.ledger.models import LedgerEntry
from billing.org.queries import Scope
from billing.submissions import claim_status as cs
from billing.submissions.claim_status_models import (
    ClaimStatusResponse,
    InquiryStatus,
    StatusInquiry,
    StatusOutcome,
    StatusResponsesAreAppendOnly,
)
from billing.submissions.claim_status_queries import status_trail
from billing.submissions.follow_up import follow_up_queue, last_heard_from_payer, last_sent
from billing.submissions.follow_up_models import ClaimFollowUp
from billing.submissions.inbound import import_x12
from billing.submissions.loading import claim_facts
from billing.submissions.operations import create_batches, mark_batch_sent
from demo.status_writer import StatusReply, write_277
from tests.worlds.practice import SYSTEM


class Uploads:
    """Stands in for the SFTP upload: what would have been sent, by file name."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def __call__(self, settings, name, content) -> None:
        self.files[name] = content


def _submitted(world, count=1):
    claims = [world.ready_claim(day=date(2026, 3, 2) + timedelta(days=i)) for i in range(count)]
    for batch in create_batches(actor=SYSTEM):
        mark_batch_sent(batch.id, actor=SYSTEM)
    assert {c.status for c in claims} == {ClaimStatus.SUBMITTED}
    return claims


def _ask(claims):
    uploads = Uploads()
    asked = cs.ask_payers([c.id for c in claims], actor=SYSTEM, uploader=uploads)
    return asked.inquiries[0], uploads


def _reply(claim, **fields):
    return StatusReply(claim.number, claim.total_charge, claim.service_date, **fields)


def _import(data, name="answer.277"):
    return import_x12(data, filename=name, actor=SYSTEM).result


def _money_and_claim(claim):
    """Everything money or status about a claim, to compare before and after an inquiry and its answer."""
    db.session.refresh(claim)
    entries = db.session.execute(
        select(LedgerEntry.id, LedgerEntry.amount).where(LedgerEntry.claim_id == claim.id).order_by(LedgerEntry.id)
    ).all()
    return (
        claim.status,
        claim.version,
        claim.total_charge,
        claim.payer_claim_number,
        tuple(entries),
        db.session.scalar(select(func.count()).select_from(LedgerEntry)),
    )


# --- the 276 ------------------------------------------------------------------------------------------------------


def test_a_276_asks_about_each_claim_once_and_passes_the_library_and_the_house_checks(world):
    claims = _submitted(world, 2)
    inquiry, uploads = _ask(claims)
    assert inquiry.status is InquiryStatus.SENT
    assert uploads.files == {inquiry.file_name: inquiry.content.encode()}
    assert transaction_problems(inquiry.content, "276") == []
    _, segments = split_segments(inquiry.content)
    assert [s[2] for s in segments if s[0] == "TRN"] == [c.number for c in claims]
    assert [s[1:] for s in segments if s[0] == "AMT"] == [["T3", f"{c.total_charge.normalize():f}"] for c in claims]
    assert sorted(e.claim_id for e in inquiry.entries) == sorted(c.id for c in claims)
    assert segments[1][:2] == ["GS", "HR"]
    assert segments[2] == ["ST", "276", "0001", "005010X212"]


def test_a_dependent_patient_is_asked_about_under_the_subscriber_with_a_birth_date(world):
    world.policy.relationship_to_subscriber = SubscriberRelationship.CHILD
    world.policy.subscriber_first_name, world.policy.subscriber_last_name = "Pat", "Parent"
    world.policy.subscriber_date_of_birth = date(1980, 1, 1)
    [claim] = _submitted(world)
    inquiry, _ = _ask([claim])
    _, segments = split_segments(inquiry.content)
    levels = [s[3] for s in segments if s[0] == "HL"]
    assert levels == ["20", "21", "19", "22", "23"]
    assert next(s for s in segments if s[0] == "DMG")[2] == f"{world.client.date_of_birth:%Y%m%d}"
    assert transaction_problems(inquiry.content, "276") == []


def test_the_house_checks_catch_a_broken_276(world):
    [claim] = _submitted(world)
    inquiry, _ = _ask([claim])
    claims = [inquiry_claim(f) for f in claim_facts({claim.id: "1"}).facts]
    broken = inquiry.content.replace("SE*", "SE*9", 1)
    assert any(p.field.startswith("SE") for p in cs.check_276(broken, claims))
    twice = inquiry.content.replace(f"REF*EJ*{claim.number}", f"REF*EJ*{claim.number}~TRN*1*{claim.number}")
    assert cs.check_276(twice, claims) != []


def test_only_submitted_insured_claims_are_asked_about_and_a_person_is_told_which_and_why(world):
    [sent] = _submitted(world)
    ready = world.ready_claim(day=date(2026, 4, 1))
    with pytest.raises(ValidationFailed) as refused:
        cs.ask_payers([sent.id, ready.id], actor=SYSTEM, uploader=Uploads())
    assert [p.message for p in refused.value.problems] == [
        f"{ready.number}: it is Ready; only a Submitted claim is asked about"
    ]
    asked = cs.ask_payers([sent.id, ready.id], actor=SYSTEM, uploader=Uploads(), strict=False)
    assert [e.claim_id for e in asked.inquiries[0].entries] == [sent.id]
    assert asked.left_out == [f"{ready.number}: it is Ready; only a Submitted claim is asked about"]


def test_without_sftp_settings_the_276_is_kept_for_download(world):
    [claim] = _submitted(world)
    world.clearinghouse.sftp_host = None
    uploads = Uploads()
    inquiry = cs.ask_payers([claim.id], actor=SYSTEM, uploader=uploads).inquiries[0]
    assert inquiry.status is InquiryStatus.GENERATED
    assert inquiry.sent_at is None
    assert uploads.files == {}


def test_the_due_claims_are_asked_about_once_a_week_not_every_day(world):
    world.payer.follow_up_days = 20
    [claim] = _submitted(world)
    sent_on = _sent_on(claim)
    later = sent_on + timedelta(days=20)
    assert cs.due_for_asking(Scope(), today=sent_on + timedelta(days=19)) == []
    assert cs.due_for_asking(Scope(), today=later) == [claim.id]
    inquiry = cs.ask_due(Scope(), actor=SYSTEM, today=later, uploader=Uploads()).inquiries[0]
    inquiry.created_at = datetime.combine(later, time(18, 0), tzinfo=UTC)  # asked on that (practice) day
    db.session.flush()
    assert cs.last_asked([claim.id]) == {claim.id: later}
    assert cs.due_for_asking(Scope(), today=later + timedelta(days=cs.RECENT_DAYS - 1)) == []
    with pytest.raises(NothingToDo):
        cs.ask_due(Scope(), actor=SYSTEM, today=later + timedelta(days=1), uploader=Uploads())
    assert cs.due_for_asking(Scope(), today=later + timedelta(days=cs.RECENT_DAYS + 1)) == [claim.id]


def _sent_on(claim):
    return last_sent([claim.id])[claim.id]


# --- the 277 ------------------------------------------------------------------------------------------------------


def test_a_pending_answer_is_on_the_trail_sets_the_expected_date_and_changes_no_money_nor_the_claim(world):
    [claim] = _submitted(world)
    before = _money_and_claim(claim)
    inquiry, _ = _ask([claim])
    result = _import(write_277(inquiry, [_reply(claim, category="P1", status="20")], on=date(2026, 4, 1)))
    assert result.counts == {"pending": 1}
    assert not result.duplicate
    [row] = status_trail(claim)
    today = practice_today()
    assert (row.outcome, row.codes, row.inquiry_id, row.applied) == (
        StatusOutcome.PENDING,
        "STC P1:20",
        inquiry.id,
        True,
    )
    assert row.message.startswith("Pending: in process (Accepted for processing)")
    assert row.next_follow_up_on == today + timedelta(days=cs.PENDING_RECHECK_DAYS)
    assert db.session.get(ClaimFollowUp, claim.id).next_follow_up_on == row.next_follow_up_on
    assert last_heard_from_payer([claim.id])[claim.id] == today
    assert _money_and_claim(claim) == before
    actions = [
        c.action
        for c in db.session.scalars(
            select(StatusChange).where(StatusChange.subject_id == claim.id, StatusChange.subject_type == "claim")
        )
    ]
    assert AuditAction.CLAIM_STATUS_ASKED in actions
    assert AuditAction.CLAIM_STATUS_ANSWERED in actions


def test_finalized_paid_points_to_the_835_and_denied_says_why_in_words(world):
    paid, denied = _submitted(world, 2)
    inquiry, _ = _ask([paid, denied])
    before = [_money_and_claim(paid), _money_and_claim(denied)]
    check_on = practice_today() - timedelta(days=3)
    data = write_277(
        inquiry,
        [
            _reply(
                paid,
                category="F1",
                status="65",
                paid=Decimal("12.34"),
                finalized_on=check_on,
                check_on=check_on,
                check_number="CHK778",
            ),
            _reply(denied, category="F2", status="88", entity="IL", finalized_on=check_on),
        ],
        on=date(2026, 4, 1),
    )
    result = _import(data)
    assert result.counts == {"paid": 1, "denied": 1}
    [paid_row], [denied_row] = status_trail(paid), status_trail(denied)
    assert (paid_row.outcome, paid_row.paid, paid_row.charge) == (
        StatusOutcome.PAID,
        Decimal("12.34"),
        paid.total_charge,
    )
    assert (paid_row.check_number, paid_row.check_issued_on, paid_row.finalized_on) == ("CHK778", check_on, check_on)
    assert "Finalized: the claim is being paid (Paid in full)" in paid_row.message
    assert "CHK778" in paid_row.message
    assert paid_row.next_follow_up_on == max(practice_today(), check_on + timedelta(days=cs.REMITTANCE_WAIT_DAYS))
    assert denied_row.outcome is StatusOutcome.DENIED
    assert denied_row.message.startswith(
        "Finalized: the claim was denied (The entity is not eligible for benefits on the dates of service; about: "
    )
    assert [_money_and_claim(paid), _money_and_claim(denied)] == before


def test_a_claim_the_payer_never_heard_of_is_due_now_and_is_not_the_payers_word(world):
    world.payer.follow_up_days = 30
    [claim] = _submitted(world)
    inquiry, _ = _ask([claim])
    today = practice_today()
    assert claim.id not in [r.claim_id for r in follow_up_queue(Scope(), today=today)]
    _import(write_277(inquiry, [_reply(claim, category="A4", status="35")], on=date(2026, 4, 1)))
    [row] = status_trail(claim)
    assert row.outcome is StatusOutcome.NOT_FOUND
    assert row.next_follow_up_on == today
    assert "The claim was not found" in row.message
    assert claim.id not in last_heard_from_payer([claim.id])
    [queued] = [r for r in follow_up_queue(Scope(), today=today) if r.claim_id == claim.id]
    assert queued.due_on == today
    assert queued.payer_says.startswith("Not found")
    assert claim.status is ClaimStatus.SUBMITTED


def test_the_same_bytes_twice_record_nothing_the_second_time(world):
    [claim] = _submitted(world)
    inquiry, _ = _ask([claim])
    data = write_277(inquiry, [_reply(claim)], on=date(2026, 4, 1))
    first = _import(data, "a.277")
    history = db.session.scalar(select(func.count()).select_from(StatusChange))
    again = _import(data, "copy-of-a.277")
    assert again.duplicate
    assert again.file_id == first.file_id
    assert "already imported" in again.summary()
    assert len(status_trail(claim)) == 1
    assert db.session.scalar(select(func.count()).select_from(StatusChange)) == history


def test_an_unknown_claim_number_is_kept_and_a_claim_no_longer_submitted_is_recorded_only(world):
    [claim] = _submitted(world)
    inquiry, _ = _ask([claim])
    transition(claim, ClaimStatus.PAID, action=AuditAction.CLAIM_PAID, actor=SYSTEM, reason="paid by 835")
    stranger = StatusReply("C-999999", Decimal("10"), date(2026, 3, 2), category="A4", status="35")
    result = _import(write_277(inquiry, [stranger, _reply(claim, category="F1", status="65")], on=date(2026, 4, 1)))
    assert result.unknown_claims == ["C-999999"]
    assert result.not_applied == 1
    unknown = db.session.scalar(select(ClaimStatusResponse).where(ClaimStatusResponse.claim_id.is_(None)))
    assert unknown.claim_reference == "C-999999"
    assert unknown.note == "No claim of ours has this number."
    [row] = status_trail(claim)
    assert not row.applied
    assert row.next_follow_up_on is None
    assert "Paid now" in row.note
    assert claim.status is ClaimStatus.PAID


def test_answers_are_history_and_cannot_be_edited(world):
    [claim] = _submitted(world)
    inquiry, _ = _ask([claim])
    _import(write_277(inquiry, [_reply(claim)], on=date(2026, 4, 1)))
    [row] = status_trail(claim)
    row.message = "changed"
    with pytest.raises(StatusResponsesAreAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_a_277_the_library_writes_is_read_claim_by_claim():
    """x12sdk's own generator is an independent writer: every claim, both subscriber and dependent branches."""
    from x12sdk.generate import generate_277

    from billing.edi.x12sdk_io import read_transactions  # noqa: F401 - the wrapper imports x12sdk safely first

    text = generate_277(seed=7, patients=6, dependent_rate=0.5)
    parsed = read_277(text)
    _, segments = split_segments(text)
    traces = [s[2] for s in segments if s[0] == "TRN" and s[1] == "2"]
    assert [c.trace for c in parsed.claims] == traces
    assert len(traces) == 6
    stcs = [s for s in segments if s[0] == "STC"]
    assert [(a.category, a.charge, a.paid) for c in parsed.claims for a in c.statuses] == [
        (s[1].split(":")[0], Decimal(s[4]).quantize(Decimal("0.01")), Decimal(s[5]).quantize(Decimal("0.01")))
        for s in stcs
    ]


def test_a_277ca_still_goes_to_the_acknowledgments_and_a_broken_277_writes_nothing(world):
    [claim] = _submitted(world)
    inquiry, _ = _ask([claim])
    data = write_277(inquiry, [_reply(claim)], on=date(2026, 4, 1)).replace(b"TRN*2*", b"TRN*9*")
    files = db.session.scalar(select(func.count()).select_from(ClaimStatusResponse))
    with pytest.raises(ClaimStatusUnreadable):
        _import(data)
    assert db.session.scalar(select(func.count()).select_from(ClaimStatusResponse)) == files


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    charge=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2),
    share=st.integers(min_value=0, max_value=100),
)
def test_277_amounts_are_read_to_the_cent(world, charge, share):
    paid = (charge * share / 100).quantize(Decimal("0.01"))
    house = world.clearinghouse

    class Inquiry:  # only what the writer reads
        id, number, clearinghouse = 1, "SI-000001", house

    data = write_277(
        Inquiry,
        [StatusReply("C-000001", charge, date(2026, 3, 2), category="F1", status="65", paid=paid)],
        on=date(2026, 4, 1),
    )
    [report] = read_277(data).claims
    assert (report.statuses[0].charge, report.statuses[0].paid) == (charge, paid)


def test_an_upload_that_fails_records_nothing_and_says_so(world):
    [claim] = _submitted(world)
    db.session.commit()

    def broken(settings, name, content):
        raise OSError("connection reset")

    with pytest.raises(Failed, match=r"stopped \(OSError\); nobody was asked"), unit_of_work():
        cs.ask_payers([claim.id], actor=SYSTEM, uploader=broken)
    assert db.session.scalar(select(func.count()).select_from(StatusInquiry)) == 0
    assert claim.status is ClaimStatus.SUBMITTED  # the world is still there: only the inquiry was rolled back
