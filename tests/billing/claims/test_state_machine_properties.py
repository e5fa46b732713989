"""Random sequences of claim operations over a small world, checking the money-path invariants after each step.

Submission and payments arrive in later issues, so submit, pay and deny go straight through `transition()`;
that makes correct and resubmit reachable. Each hypothesis example runs in its own savepoint, rolled back at
teardown, so examples never see each other's claims.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from billing.claims.models import Claim, ClaimLine
from billing.claims.operations import (
    LineChange,
    correct_claim,
    edit_claim,
    hold_claim,
    release_claim,
    resubmit_claim,
    retract_claim,
    void_claim,
)
from billing.claims.queries import claim_history, live_claim_filter
from billing.claims.sessions import finalize_session, generate_claims
from billing.claims.statuses import ALLOWED_TRANSITIONS, EDITABLE, LIVE, ClaimStatus, transition
from billing.core.audit import Actor, AuditAction
from billing.core.db import db
from billing.core.errors import BillingError
from billing.core.money import sum_money, to_money
from billing.coverage.models import FeeSchedule, RoundingRule
from billing.sessions.models import TherapySession
from tests.worlds import factories as f
from tests.worlds.practice import SYSTEM, World, build_world

DAY_1, DAY_2 = date(2026, 3, 2), date(2026, 3, 3)
#: The sessions: (day, start, minutes, code, other provider?). Two days, two providers, a timed code, an
#: unpriced code (its claim is held until `price_the_missing_code`) and one session too short to bill.
PLAN = [
    (DAY_1, time(9, 0), 60, "97153", False),
    (DAY_1, time(11, 0), 23, "97110", False),
    (DAY_1, time(9, 0), 45, "97153", True),
    (DAY_1, time(14, 0), 30, "97155", False),
    (DAY_2, time(9, 0), 7, "97110", False),
    (DAY_2, time(10, 0), 90, "97153", False),
    (DAY_2, time(9, 0), 30, "97153", True),
]
UNPRICED = 3  # the session whose code has no rate until `price_the_missing_code`
PAYER_ACTIONS = {
    ClaimStatus.SUBMITTED: AuditAction.CLAIM_SUBMITTED,
    ClaimStatus.DENIED: AuditAction.CLAIM_DENIED,
    ClaimStatus.PAID: AuditAction.CLAIM_PAID,
}
SENT = frozenset({ClaimStatus.SUBMITTED, ClaimStatus.DENIED, ClaimStatus.PAID})
#: (an index into the claims, modulo how many there are; whether to aim at claims the operation suits,
#: which it does three times in four so that deep states such as a denied, corrected claim are reached)
PICK = st.tuples(st.integers(min_value=0, max_value=50), st.sampled_from([True, True, True, False]))


def _payer_moves(*statuses: ClaimStatus | None) -> Callable[..., None]:
    def move(claim: Claim, actor: Actor) -> None:
        for status in filter(None, statuses):
            transition(claim, status, action=PAYER_ACTIONS[status], actor=actor, reason=None)

    return move


def _sessions(world: World) -> list[int]:
    other = f.ProviderFactory(company=world.company)
    codes = {
        "97153": world.code,
        "97110": world.code_with("97110", RoundingRule.CMS_8_MINUTE, rate=Decimal("41.25")),
        "97155": world.code_with("97155", RoundingRule.WHOLE_UNITS, rate=None),
    }
    return [
        world.visit(
            day=day, start=start, minutes=minutes, service_code=codes[code], provider=other if away else world.provider
        ).id
        for day, start, minutes, code, away in PLAN
    ]


class ClaimMachine(RuleBasedStateMachine):
    """Set `session_ids` and `schedule_id` on a subclass: the world is built once per test, outside the examples."""

    schedule_id: int
    session_ids: list[int]

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = db.session.begin_nested()
        self.rate_added = False

    def teardown(self) -> None:
        self.savepoint.rollback()
        db.session.expire_all()

    # Helpers

    def _claims(self, statuses: frozenset[ClaimStatus] | None = None) -> list[Claim]:
        query = select(Claim).order_by(Claim.id).options(selectinload(Claim.lines))
        if statuses is not None:
            query = query.where(Claim.status.in_(statuses))
        return list(db.session.scalars(query))

    def _pick(self, pick: tuple[int, bool], statuses: frozenset[ClaimStatus]) -> Claim | None:
        """Mostly a claim the operation suits (to reach deep states), sometimes any claim (to meet refusals)."""
        k, aimed = pick
        claims = self._claims(statuses if aimed else None)
        return claims[k % len(claims)] if claims else None

    def _exists(self, statuses: set[ClaimStatus] | frozenset[ClaimStatus]) -> bool:
        return db.session.scalar(select(exists().where(Claim.status.in_(statuses))))

    def _attempt(self, operation: Callable[..., object], *args: Any, **kwargs: Any) -> bool:
        """Run one operation as its own unit of work (like `unit_of_work()`): a refusal rolls back what it touched."""
        try:
            with db.session.begin_nested():
                operation(*args, **kwargs)
                db.session.flush()
        except BillingError:
            db.session.expire_all()
            return False
        return True

    def _on_claim(
        self, pick: tuple[int, bool], statuses: set[ClaimStatus], operation: Callable[..., object], **kwargs: Any
    ) -> None:
        claim = self._pick(pick, frozenset(statuses))
        if claim is not None:
            self._attempt(operation, claim, actor=SYSTEM, **kwargs)

    # Rules

    @initialize()
    def finalize_two_days(self) -> None:
        for i in (0, 5):
            self._attempt(finalize_session, db.session.get(TherapySession, self.session_ids[i]), actor=SYSTEM)

    @rule(i=st.integers(min_value=0, max_value=len(PLAN) - 1))
    def finalize(self, i: int) -> None:
        self._attempt(finalize_session, db.session.get(TherapySession, self.session_ids[i]), actor=SYSTEM)

    @rule()
    def generate(self) -> None:
        self._attempt(generate_claims, actor=SYSTEM)
        again = generate_claims(actor=SYSTEM)
        assert (again.created, again.extended, again.lines) == ([], [], 0), "generate must be idempotent"

    @rule(pick=PICK, units=st.integers(min_value=1, max_value=9), line=st.integers(min_value=0, max_value=3))
    def edit(self, pick: tuple[int, bool], units: int, line: int) -> None:
        claim = self._pick(pick, EDITABLE)
        if claim is not None:
            change = LineChange(line_number=line % len(claim.lines) + 1, units=units)
            self._attempt(edit_claim, claim, actor=SYSTEM, lines=[change])

    @rule(pick=PICK, reason=st.sampled_from(["", "check the authorization"]))
    def hold(self, pick: tuple[int, bool], reason: str) -> None:
        self._on_claim(pick, {ClaimStatus.READY}, hold_claim, reason=reason)

    @precondition(lambda self: self._exists({ClaimStatus.HELD}))
    @rule(pick=PICK)
    def release(self, pick: tuple[int, bool]) -> None:
        self._on_claim(pick, {ClaimStatus.HELD}, release_claim)

    @rule(pick=PICK, reason=st.sampled_from(["", "billed in error"]))
    def void(self, pick: tuple[int, bool], reason: str) -> None:
        self._on_claim(pick, set(LIVE), void_claim, reason=reason)

    @rule(pick=PICK)
    def retract(self, pick: tuple[int, bool]) -> None:
        self._on_claim(pick, set(EDITABLE), retract_claim)

    @precondition(lambda self: self._exists(SENT))
    @rule(pick=PICK)
    def correct(self, pick: tuple[int, bool]) -> None:
        self._on_claim(pick, set(SENT), correct_claim, reason="wrong units", payer_claim_number="PCN-0001")

    @precondition(lambda self: self._exists({ClaimStatus.DENIED}))
    @rule(pick=PICK)
    def resubmit(self, pick: tuple[int, bool]) -> None:
        self._on_claim(pick, {ClaimStatus.DENIED}, resubmit_claim)

    @rule(pick=PICK, answer=st.sampled_from([None, ClaimStatus.DENIED, ClaimStatus.PAID]))
    def submit(self, pick: tuple[int, bool], answer: ClaimStatus | None) -> None:
        """What a batch will do, and maybe the payer's answer right away (later issues)."""
        self._on_claim(pick, {ClaimStatus.READY}, _payer_moves(ClaimStatus.SUBMITTED, answer))

    @precondition(lambda self: self._exists({ClaimStatus.SUBMITTED}))
    @rule(pick=PICK, answer=st.sampled_from([ClaimStatus.DENIED, ClaimStatus.PAID]))
    def payer_answers(self, pick: tuple[int, bool], answer: ClaimStatus) -> None:
        """What an 835 will do (a later issue)."""
        self._on_claim(pick, {ClaimStatus.SUBMITTED}, _payer_moves(answer))

    @precondition(lambda self: not self.rate_added)
    @rule()
    def price_the_missing_code(self) -> None:
        """Fixing the data lets a claim held for a missing rate be released."""
        unpriced = db.session.get(TherapySession, self.session_ids[UNPRICED]).service_code
        schedule = db.session.get(FeeSchedule, self.schedule_id)  # by id: generate_claims expunges the session
        f.RateFactory(fee_schedule=schedule, service_code=unpriced, rate=Decimal("12.34"))
        self.rate_added = True

    # Invariants

    @invariant()
    def no_session_is_billed_twice_on_live_claims(self) -> None:
        twice = db.session.execute(
            select(ClaimLine.session_id, func.count(ClaimLine.id))
            .join(Claim, Claim.id == ClaimLine.claim_id)
            .where(live_claim_filter(), ClaimLine.session_id.is_not(None))
            .group_by(ClaimLine.session_id)
            .having(func.count(ClaimLine.id) > 1)
        ).all()
        assert twice == []

    @invariant()
    def history_replays_to_the_current_status(self) -> None:
        for claim in self._claims():
            state = None
            for row in claim_history(claim.id):
                assert row.from_status == state, (claim.number, row.action, row.from_status, state)
                if row.from_status is not None and row.from_status != row.to_status:
                    assert ClaimStatus(row.to_status) in ALLOWED_TRANSITIONS[ClaimStatus(row.from_status)]
                state = row.to_status
            assert state == claim.status.value, (claim.number, state, claim.status)

    @invariant()
    def totals_equal_the_sum_of_lines(self) -> None:
        for claim in self._claims():
            assert claim.lines, claim.number
            for line in claim.lines:
                assert line.charge == to_money(line.rate * line.units)
            assert claim.total_charge == sum_money(ln.charge for ln in claim.lines)

    @invariant()
    def claims_that_can_still_be_sent_are_live(self) -> None:
        """A Ready or Held claim replaced by a live correction would reach the payer beside its replacement."""
        live = set(db.session.scalars(select(Claim.id).where(live_claim_filter())))
        for claim in self._claims():
            if claim.status in EDITABLE:
                assert claim.id in live, claim.number


@pytest.mark.slow
def test_random_claim_operations_keep_the_invariants():
    world = build_world()
    machine = type(
        "ClaimMachineOverWorld", (ClaimMachine,), {"session_ids": _sessions(world), "schedule_id": world.schedule.id}
    )
    db.session.flush()
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=40,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
