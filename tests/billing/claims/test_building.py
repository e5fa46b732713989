"""Finalizing sessions builds claims: grouping, diagnoses, authorizations, holds, unbilled time, refusals."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.claims.models import Claim, ClaimLine
from billing.claims.operations import release_claim, retract_claim
from billing.claims.sessions import finalize_session, finalize_sessions, generate_claims
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db, utcnow
from billing.core.errors import BillingError
from billing.core.time import practice_today
from billing.coverage.models import RoundingRule
from billing.sessions.models import NoteStatus, TherapySession
from tests.worlds import factories as f
from tests.worlds.claims import history, walk_to
from tests.worlds.practice import DAY, SYSTEM


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# Grouping


def test_same_client_payer_provider_and_day_share_one_claim_with_a_line_per_session(world):
    morning, afternoon = world.visit(), world.visit(start=time(13, 0), minutes=30)
    result = finalize_sessions([morning, afternoon], actor=SYSTEM)

    [claim] = result.created
    assert result.lines == 2
    assert claim.status is ClaimStatus.READY
    assert [(ln.line_number, ln.session_id, ln.units) for ln in claim.lines] == [
        (1, morning.id, 4),
        (2, afternoon.id, 2),
    ]
    assert claim.total_charge == Decimal("110.22")  # 6 x 18.37
    assert (claim.client_id, claim.payer_id, claim.policy_id) == (world.client.id, world.payer.id, world.policy.id)
    assert (claim.rendering_provider_id, claim.service_date, claim.place_of_service) == (world.provider.id, DAY, "11")
    assert claim.frequency_code == "1"
    assert claim.number == f"C-{claim.id:06d}"


def test_a_session_finalized_later_the_same_day_extends_the_open_claim(world):
    claim = world.claim()
    later = world.visit(start=time(15, 0))
    result = finalize_session(later, actor=SYSTEM)
    assert result.created == []
    assert result.extended == [claim]
    assert [ln.session_id for ln in claim.lines][-1] == later.id
    assert claim.lines[-1].line_number == 2
    assert claim.total_charge == Decimal("146.96")


def test_a_held_claim_is_extended_too(world):
    claim = walk_to(world.claim(), ClaimStatus.HELD)
    result = finalize_session(world.visit(start=time(15, 0)), actor=SYSTEM)
    assert result.extended == [claim]
    assert len(claim.lines) == 2


@pytest.mark.parametrize("status", [ClaimStatus.SUBMITTED, ClaimStatus.VOIDED])
def test_a_submitted_or_voided_claim_is_never_extended(world, status):
    first = walk_to(world.claim(), status)
    result = finalize_session(world.visit(start=time(15, 0)), actor=SYSTEM)
    [second] = result.created
    assert second.id != first.id
    assert len(first.lines) == 1


def test_a_different_day_is_a_new_claim(world):
    monday = world.claim()
    result = finalize_session(world.visit(day=DAY + timedelta(days=1)), actor=SYSTEM)
    [tuesday] = result.created
    assert tuesday.id != monday.id
    assert tuesday.service_date == DAY + timedelta(days=1)


def test_a_different_rendering_provider_is_a_new_claim(world):
    other = f.ProviderFactory(company=world.company)
    first, second = world.visit(), world.visit(provider=other)
    claims = finalize_sessions([first, second], actor=SYSTEM).created
    assert len(claims) == 2
    assert {c.rendering_provider_id for c in claims} == {world.provider.id, other.id}
    assert [len(c.lines) for c in claims] == [1, 1]


def test_the_payer_is_the_primary_policy_active_on_the_date(world):
    """The primary policy changes mid-month: sessions before and after bill different payers."""
    world.policy.ends_on = date(2026, 3, 15)
    medicaid = f.PayerFactory(company=world.company, name="State Medicaid")
    new_policy = f.PolicyFactory(client=world.client, payer=medicaid, effective_on=date(2026, 3, 16))
    f.PolicyFactory(client=world.client, payer=f.PayerFactory(company=world.company), rank="secondary")
    before, after = world.visit(day=date(2026, 3, 15)), world.visit(day=date(2026, 3, 16))

    claims = finalize_sessions([before, after], actor=SYSTEM).created

    assert [(c.service_date, c.payer_id, c.policy_id) for c in claims] == [
        (date(2026, 3, 15), world.payer.id, world.policy.id),
        (date(2026, 3, 16), medicaid.id, new_policy.id),
    ]


def test_a_different_payer_on_the_same_day_is_a_new_claim(world):
    first = world.claim()
    world.policy.ends_on = DAY - timedelta(days=1)  # coverage was entered wrong; the new payer starts that day
    other_payer = f.PayerFactory(company=world.company)
    f.PolicyFactory(client=world.client, payer=other_payer, effective_on=DAY)
    f.RateFactory(fee_schedule=f.FeeScheduleFactory(company=world.company, payer=other_payer), service_code=world.code)

    [second] = finalize_session(world.visit(start=time(15, 0)), actor=SYSTEM).created

    assert (first.payer_id, second.payer_id) == (world.payer.id, other_payer.id)
    assert len(first.lines) == 1
    assert second.lines[0].rate == Decimal("25.00")


def test_a_claim_holds_at_most_50_lines(world):
    visits = [world.visit(minutes=15, start=time(0, 0)) for _ in range(51)]
    claims = finalize_sessions(visits, actor=SYSTEM).created
    assert [len(c.lines) for c in claims] == [50, 1]
    assert claims[1].lines[0].line_number == 1


# Diagnoses


def test_diagnoses_are_copied_in_order_and_every_line_points_at_them(world):
    claim = world.claim()
    assert [(d.position, d.code) for d in claim.diagnoses] == [(1, "F840"), (2, "F900")]
    assert claim.lines[0].diagnosis_pointers == "1:2"


def test_lines_point_at_the_first_four_of_up_to_twelve_diagnoses(world):
    client = f.ClientFactory(location=world.location)
    codes = ["F840", "F900", "R480", "F802", "F809"]
    for position in (3, 1, 5, 2, 4):  # entered out of order: the chart's positions decide
        f.DiagnosisFactory(client=client, position=position, code=codes[position - 1])
    f.PolicyFactory(client=client, payer=world.payer)
    claim = world.claim(client=client)
    assert [d.code for d in claim.diagnoses] == codes
    assert claim.lines[0].diagnosis_pointers == "1:2:3:4"


# Authorizations


@pytest.fixture
def authorization(world):
    return f.AuthorizationFactory(
        client=world.client,
        policy=world.policy,
        service_codes=[world.code],
        units_approved=8,
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 3, 31),
    )


def test_the_authorization_covering_date_and_code_is_chosen(world, authorization):
    claim = world.claim()
    assert claim.lines[0].authorization_id == authorization.id


def test_an_authorization_is_not_used_outside_its_dates(world, authorization):
    claim = world.claim(day=date(2026, 4, 1))
    assert claim.lines[0].authorization_id is None
    assert claim.status is ClaimStatus.READY  # this payer does not require one


def test_an_authorization_is_not_used_for_another_code(world, authorization):
    other = world.code_with("97155", RoundingRule.WHOLE_UNITS)
    claim = world.claim(service_code=other)
    assert claim.lines[0].authorization_id is None


def test_an_authorization_without_enough_units_left_is_not_used(world, authorization):
    claim = world.claim(minutes=135)  # 9 units, 8 approved
    assert claim.lines[0].authorization_id is None


def test_remaining_units_go_down_as_lines_use_them(world, authorization):
    """8 units approved: two 4-unit sessions use them up; the third finds nothing left."""
    first = world.claim(day=date(2026, 3, 2))
    second = world.claim(day=date(2026, 3, 3))
    third = world.claim(day=date(2026, 3, 4))
    assert [c.lines[0].authorization_id for c in (first, second, third)] == [authorization.id, authorization.id, None]


def test_remaining_units_go_down_within_one_batch(world, authorization):
    visits = [world.visit(day=date(2026, 3, d)) for d in (2, 3, 4)]
    claims = finalize_sessions(visits, actor=SYSTEM).created
    assert [c.lines[0].authorization_id for c in claims] == [authorization.id, authorization.id, None]


def test_a_retracted_claim_gives_its_units_back(world, authorization):
    world.claim(day=date(2026, 3, 2))
    retract_claim(world.claim(day=date(2026, 3, 3)), actor=SYSTEM)
    assert world.claim(day=date(2026, 3, 4)).lines[0].authorization_id == authorization.id


def test_the_authorization_ending_first_is_used_first(world, authorization):
    longer = f.AuthorizationFactory(
        client=world.client,
        policy=world.policy,
        service_codes=[world.code],
        units_approved=100,
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
    )
    first, second, third = (world.claim(day=date(2026, 3, d)) for d in (2, 3, 4))
    assert [c.lines[0].authorization_id for c in (first, second, third)] == [authorization.id] * 2 + [longer.id]


# Held claims: every missing piece named; released once the data is fixed


def test_a_claim_missing_diagnosis_and_rate_is_held_naming_each(world):
    client = f.ClientFactory(location=world.location)
    f.PolicyFactory(client=client, payer=world.payer)
    unpriced = world.code_with("97155", RoundingRule.WHOLE_UNITS, rate=None)

    [claim] = finalize_session(world.visit(client=client, service_code=unpriced), actor=SYSTEM).created

    assert claim.status is ClaimStatus.HELD
    assert claim.hold_reason == "The client has no diagnosis on file; no fee-schedule rate for 97155 on 03/02/2026"
    assert (claim.payer_id, claim.diagnoses, claim.self_pay) == (world.payer.id, [], False)
    assert (claim.lines[0].rate, claim.lines[0].charge, claim.total_charge) == (Decimal("0.00"),) * 3
    [opened] = history(claim)
    assert (opened.action, opened.to_status, opened.reason) == (AuditAction.CLAIM_CREATED, "held", claim.hold_reason)


def test_a_client_without_insurance_is_self_pay_and_held_only_for_a_missing_price(world):
    """No policy and no diagnosis do not hold a patient bill (billing/claims/self_pay.py); a missing rate does."""
    client = f.ClientFactory(location=world.location)
    unpriced = world.code_with("97155", RoundingRule.WHOLE_UNITS, rate=None)

    [claim] = finalize_session(world.visit(client=client, service_code=unpriced), actor=SYSTEM).created

    assert (claim.status, claim.self_pay) == (ClaimStatus.HELD, True)
    assert claim.hold_reason == "No fee-schedule rate for 97155 on 03/02/2026"
    assert (claim.policy_id, claim.payer_id) == (None, None)


def test_a_payer_that_requires_authorization_holds_a_claim_without_one(world):
    world.payer.requires_authorization = True
    claim = world.claim()
    assert claim.status is ClaimStatus.HELD
    assert claim.hold_reason == (
        f"{world.payer.name} requires an authorization: none covers 97153 on 03/02/2026 with 4 units left"
    )


def test_release_refuses_while_anything_is_missing_and_names_what_is_left(world):
    world.payer.requires_authorization = True
    client = f.ClientFactory(location=world.location)
    unpriced = world.code_with("97155", RoundingRule.WHOLE_UNITS, rate=None)
    claim = finalize_session(world.visit(client=client, service_code=unpriced), actor=SYSTEM).created[0]
    db.session.flush()

    with pytest.raises(BillingError) as refused, db.session.begin_nested():
        release_claim(claim, actor=SYSTEM)
    # No insurance yet: a self-pay claim, missing only its price.
    assert refused.value.message == (
        f"Claim {claim.number} is still incomplete: No fee-schedule rate for 97155 on 03/02/2026."
    )

    policy = f.PolicyFactory(client=client, payer=world.payer)  # insured now: the policy alone is not enough
    with pytest.raises(BillingError) as refused, db.session.begin_nested():
        release_claim(claim, actor=SYSTEM)
    assert refused.value.message == (
        f"Claim {claim.number} is still incomplete: The client has no diagnosis on file; "
        f"no fee-schedule rate for 97155 on 03/02/2026; {world.payer.name} requires an authorization: "
        "none covers 97155 on 03/02/2026 with 4 units left."
    )
    db.session.refresh(claim)
    assert claim.status is ClaimStatus.HELD
    assert [h.action for h in history(claim)] == [AuditAction.CLAIM_CREATED]

    f.DiagnosisFactory(client=client, position=1, code="F840")
    f.RateFactory(fee_schedule=world.schedule, service_code=unpriced, rate=Decimal("12.34"))
    auth = f.AuthorizationFactory(client=client, policy=policy, service_codes=[unpriced], units_approved=40)
    release_claim(claim, actor=SYSTEM)
    db.session.flush()

    assert claim.status is ClaimStatus.READY
    assert claim.hold_reason is None
    assert (claim.policy_id, claim.payer_id) == (policy.id, world.payer.id)
    assert [d.code for d in claim.diagnoses] == ["F840"]
    line = claim.lines[0]
    assert (line.rate, line.charge, line.authorization_id, line.diagnosis_pointers) == (
        Decimal("12.34"),
        Decimal("49.36"),
        auth.id,
        "1",
    )
    assert claim.total_charge == Decimal("49.36")
    released = history(claim)[-1]
    assert (released.action, released.from_status, released.to_status) == (AuditAction.CLAIM_RELEASED, "held", "ready")


def test_an_incomplete_line_added_to_a_ready_claim_holds_it(world):
    claim = world.claim()
    unpriced = world.code_with("97155", RoundingRule.WHOLE_UNITS, rate=None)
    result = finalize_session(world.visit(start=time(13, 0), service_code=unpriced), actor=SYSTEM)
    assert result.extended == [claim]
    assert claim.status is ClaimStatus.HELD
    assert claim.hold_reason == "No fee-schedule rate for 97155 on 03/02/2026"
    held = history(claim)[-1]
    assert (held.action, held.from_status, held.to_status) == (AuditAction.CLAIM_HELD, "ready", "held")


# Time that is not billable


def test_a_session_under_eight_minutes_of_a_cms_code_makes_no_line(world):
    code = world.code_with("97110", RoundingRule.CMS_8_MINUTE)
    short = world.visit(minutes=7, service_code=code)
    result = finalize_session(short, actor=SYSTEM)
    assert (result.created, result.extended, result.lines) == ([], [], 0)
    assert result.unbilled == [(short, "7 minutes of 97110 is less than one billable unit")]
    assert short.note_status is NoteStatus.FINALIZED
    assert _count(Claim) == 0


def test_eight_minutes_of_a_cms_code_is_one_unit(world):
    code = world.code_with("97110", RoundingRule.CMS_8_MINUTE)
    claim = world.claim(minutes=8, service_code=code)
    assert (claim.lines[0].minutes, claim.lines[0].units, claim.lines[0].charge) == (8, 1, Decimal("18.37"))


# Finalize refusals: a clear message and nothing written


def _refusal(visit: TherapySession) -> str:
    claims, changes = _count(Claim), _count(StatusChange)
    status = visit.note_status
    with pytest.raises(BillingError) as refused:
        finalize_session(visit, actor=SYSTEM)
    db.session.flush()
    assert (_count(Claim), _count(StatusChange), visit.note_status) == (claims, changes, status)
    return refused.value.message


def test_finalize_refuses_an_already_finalized_session(world):
    visit = world.visit()
    finalize_session(visit, actor=SYSTEM)
    assert _refusal(visit) == "The session of 03/02/2026 is already finalized."
    assert len(visit.billed_on) == 1


def test_finalize_refuses_a_cancelled_session(world):
    no_show = f.SessionClassFactory(company=world.company, name="No-show")
    visit = world.visit(session_class=no_show, cancelled_at=utcnow())
    assert _refusal(visit) == (
        "The session of 03/02/2026 was cancelled (No-show); a cancelled session is not finalized."
    )


@pytest.mark.parametrize("note", [None, "", "   \n"])
def test_finalize_refuses_a_session_without_a_note(world, note):
    visit = world.visit(note_text=note)
    assert _refusal(visit) == "The session of 03/02/2026 has no note yet; write the note before finalizing it."


def test_finalize_refuses_a_future_session(world):
    tomorrow = practice_today() + timedelta(days=1)
    visit = world.visit(day=tomorrow)
    assert _refusal(visit) == f"The session of {tomorrow:%m/%d/%Y} is in the future; finalize it after it happens."


def test_a_session_today_can_be_finalized(world):
    assert world.claim(day=practice_today()).service_date == practice_today()


def test_one_bad_session_in_a_batch_writes_nothing_for_any(world):
    good, bad = world.visit(), world.visit(note_text=None, start=time(13, 0))
    with pytest.raises(BillingError, match="has no note yet"):
        finalize_sessions([good, bad], actor=SYSTEM)
    assert good.note_status is NoteStatus.DRAFT
    assert (_count(Claim), _count(StatusChange)) == (0, 0)


def test_finalizing_writes_the_session_history(world):
    visit = world.visit()
    finalize_session(visit, actor=SYSTEM)
    row = db.session.scalar(select(StatusChange).where(StatusChange.subject_type == "session"))
    assert (row.subject_id, row.action, row.from_status, row.to_status) == (
        visit.id,
        AuditAction.SESSION_FINALIZED,
        "draft",
        "finalized",
    )
    assert visit.finalized_at is not None


# generate_claims


def _finalized(world, **fields) -> TherapySession:
    """A session finalized elsewhere (an import, an older version) that has no claim yet."""
    return world.visit(note_status=NoteStatus.FINALIZED, finalized_at=utcnow(), **fields)


def test_generate_bills_finalized_sessions_without_a_live_claim_and_is_idempotent(world):
    waiting = [_finalized(world), _finalized(world, start=time(13, 0)), _finalized(world, day=DAY + timedelta(days=1))]
    already = world.visit(day=DAY + timedelta(days=2))
    finalize_session(already, actor=SYSTEM)
    draft = world.visit(day=DAY + timedelta(days=3))
    no_show = f.SessionClassFactory(company=world.company, name="No-show", billable=False)
    late_cancel = f.SessionClassFactory(company=world.company, name="Late cancel", billable=True)
    not_billable = _finalized(world, day=DAY + timedelta(days=4), session_class=no_show, cancelled_at=utcnow())
    billable = _finalized(world, day=DAY + timedelta(days=5), session_class=late_cancel, cancelled_at=utcnow())
    ids = {v.id for v in waiting} | {billable.id}
    never = {already.id, draft.id, not_billable.id}
    lines_before = _count(ClaimLine)

    first = generate_claims(actor=SYSTEM)

    assert (len(first.created), first.lines, first.extended) == (3, 4, [])
    billed = set(db.session.scalars(select(ClaimLine.session_id)))
    assert ids <= billed
    assert _count(ClaimLine) == lines_before + 4
    assert db.session.scalar(select(func.count()).where(ClaimLine.session_id.in_(never))) == 1  # `already`, once

    second = generate_claims(actor=SYSTEM)
    assert (second.created, second.extended, second.lines, second.unbilled) == ([], [], 0, [])
    assert _count(ClaimLine) == lines_before + 4


def test_generate_joins_an_open_claim_for_the_same_key(world):
    claim = world.claim()
    late = _finalized(world, start=time(15, 0))
    result = generate_claims(actor=SYSTEM)
    assert [c.id for c in result.extended] == [claim.id]
    assert db.session.scalars(select(ClaimLine.session_id).where(ClaimLine.claim_id == claim.id)).all()[-1] == late.id
