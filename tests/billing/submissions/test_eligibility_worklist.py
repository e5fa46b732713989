"""The Eligibility worklist against an independent reading of the checks, and the kept latest answer per policy
(eligibility_latest) that it starts from: moved by every answer, never by a pending inquiry, and checked by
`flask ledger check`."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import insert, select, text

from billing.core.db import db
from billing.core.time import practice_today
from billing.coverage.eligibility import EligibilityCheck, EligibilityLatest, EligibilityStatus
from billing.org.queries import Scope
from billing.payments.invariants import eligibility_latest_kept
from billing.submissions.eligibility import eligibility_worklist
from demo.eligibility import PayerSays
from tests.worlds.eligibility import answer, ask
from tests.worlds.submissions import build_submission_world

ATTENTION = {"inactive", "unknown", "failed"}


def _day(value):
    return date.fromisoformat(value) if isinstance(value, str) else value


def _expected(scope_location_ids: set[int] | None, today, days: int) -> set[int]:
    """Policies to list, from the raw rows: the policy's newest answered check needs attention, and its client has
    an uncancelled session in the window on whose first day the policy is in force."""
    newest: dict[int, tuple[int, str]] = {}
    for check_id, policy_id, status in db.session.execute(text("SELECT id, policy_id, status FROM eligibility_check")):
        if status != "pending" and check_id > newest.get(policy_id, (0, ""))[0]:
            newest[policy_id] = (check_id, status)
    first: dict[int, date] = {}
    for client_id, day in db.session.execute(text("SELECT client_id, service_date FROM therapy_session "
                                                  "WHERE cancelled_at IS NULL")):
        day = _day(day)
        if today <= day <= today + timedelta(days=days):
            first[client_id] = min(first.get(client_id, day), day)
    listed = set()
    rows = db.session.execute(text("SELECT p.id, p.client_id, p.effective_on, p.ends_on, c.location_id "
                                   "FROM insurance_policy p JOIN client c ON c.id = p.client_id")).all()
    for policy_id, client_id, starts, ends, location_id in rows:
        starts, ends = _day(starts), _day(ends)
        if scope_location_ids is not None and location_id not in scope_location_ids:
            continue
        status = newest.get(policy_id, (0, "none"))[1]
        day = first.get(client_id)
        if status in ATTENTION and day and starts <= day and (ends is None or ends >= day):
            listed.add(policy_id)
    return listed


def test_the_worklist_is_the_newest_answer_of_each_policy_with_a_session_in_the_window():
    today = practice_today()
    soon = today + timedelta(days=2)
    worlds = {name: build_submission_world() for name in
              ("inactive", "unknown", "then_active", "then_pending", "active_then_inactive", "ended", "late")}
    for name, world in worlds.items():
        day = today + timedelta(days=20) if name == "late" else soon
        world.visit(day=day)
        if name == "ended":
            world.policy.ends_on = today
    answer(worlds["inactive"].policy, soon, PayerSays(status="inactive"))
    answer(worlds["unknown"].policy, soon, PayerSays(status="75"))
    answer(worlds["then_active"].policy, soon, PayerSays(status="inactive"))
    answer(worlds["then_active"].policy, soon, PayerSays())
    answer(worlds["then_pending"].policy, soon, PayerSays(status="inactive"))
    ask(worlds["then_pending"].policy, soon)  # asked again, not answered yet: the inactive answer stands
    answer(worlds["active_then_inactive"].policy, soon, PayerSays())
    answer(worlds["active_then_inactive"].policy, soon, PayerSays(status="inactive"))
    for name in ("ended", "late"):
        answer(worlds[name].policy, soon, PayerSays(status="inactive"))
    db.session.flush()

    listed = {row.policy_id for row in eligibility_worklist(Scope(), today=today)}
    assert listed == _expected(None, today, 7)
    assert listed == {worlds[n].policy.id for n in ("inactive", "unknown", "then_pending", "active_then_inactive")}
    assert {row.policy_id for row in eligibility_worklist(Scope(), today=today, days=30)} == _expected(None, today, 30)
    here = worlds["inactive"].base.location
    scoped = eligibility_worklist(Scope(here.practice.company_id, here.practice_id, here.id), today=today)
    assert {row.policy_id for row in scoped} == _expected({here.id}, today, 7) == {worlds["inactive"].policy.id}
    assert eligibility_latest_kept() == []


def test_the_kept_latest_answer_follows_a_bulk_insert_and_a_hand_edit_is_reported():
    world = build_submission_world()
    first = answer(world.policy, practice_today(), PayerSays(status="inactive"))
    base = {c: getattr(first, c) for c in ("policy_id", "service_date", "trace_number", "requested_by")}
    statuses = [EligibilityStatus.ACTIVE, EligibilityStatus.FAILED, EligibilityStatus.PENDING]
    db.session.execute(insert(EligibilityCheck.__table__), [{**base, "status": s} for s in statuses])
    newest_answer = max(db.session.scalars(select(EligibilityCheck.id).where(
        EligibilityCheck.status == EligibilityStatus.FAILED)))
    kept = db.session.get(EligibilityLatest, world.policy.id)
    db.session.refresh(kept)
    assert (kept.check_id, kept.needs_attention) == (newest_answer, True)  # FAILED, the last answer; PENDING skipped
    assert eligibility_latest_kept() == []
    db.session.execute(text("UPDATE eligibility_latest SET needs_attention = :no"), {"no": False})
    [violation] = eligibility_latest_kept()
    assert (violation.check, violation.subject) == ("eligibility-latest", f"policy {world.policy.id}")
