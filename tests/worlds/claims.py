"""Claims at the status a test needs: moved through allowed transitions, submitted with their charges, or
bulk-inserted Ready claims for the large-batch tests."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

from billing.claims.models import Claim, ClaimDiagnosis, ClaimLine
from billing.claims.queries import claim_history
from billing.claims.sessions import finalize_sessions
from billing.claims.statuses import ClaimStatus, transition
from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.core.money import sum_money, to_money
from billing.ledger.charges import post_submission_charges
from tests.worlds.practice import DAY, RATE, SYSTEM, World

#: The action a test passes when it moves a claim straight through `transition()`.
ACTION_TO = {
    ClaimStatus.READY: AuditAction.CLAIM_RELEASED,
    ClaimStatus.HELD: AuditAction.CLAIM_HELD,
    ClaimStatus.SUBMITTED: AuditAction.CLAIM_SUBMITTED,
    ClaimStatus.REJECTED: AuditAction.CLAIM_REJECTED,
    ClaimStatus.PAID: AuditAction.CLAIM_PAID,
    ClaimStatus.DENIED: AuditAction.CLAIM_DENIED,
    ClaimStatus.VOIDED: AuditAction.CLAIM_VOIDED,
}
#: How a new (Ready) claim reaches each status through allowed transitions only.
PATH_TO = {
    ClaimStatus.READY: [],
    ClaimStatus.HELD: [ClaimStatus.HELD],
    ClaimStatus.SUBMITTED: [ClaimStatus.SUBMITTED],
    ClaimStatus.REJECTED: [ClaimStatus.SUBMITTED, ClaimStatus.REJECTED],
    ClaimStatus.PAID: [ClaimStatus.SUBMITTED, ClaimStatus.PAID],
    ClaimStatus.DENIED: [ClaimStatus.SUBMITTED, ClaimStatus.DENIED],
    ClaimStatus.VOIDED: [ClaimStatus.VOIDED],
}


def walk_to(claim: Claim, status: ClaimStatus) -> Claim:
    """Move a new claim to `status` through allowed transitions (submission and payments come later)."""
    for step in PATH_TO[status]:
        transition(claim, step, action=ACTION_TO[step], actor=SYSTEM, reason=f"test: {step.value}")
    db.session.flush()
    return claim


def history(claim: Claim) -> list[StatusChange]:
    return claim_history(claim.id)


def submitted_claim(world: World, *, lines: int = 1, day: date = DAY, charged: bool = True) -> Claim:
    """A Submitted claim with `lines` one-hour sessions on one day (4 units x 18.37 = 73.48 each).

    Its charges are in the ledger, dated the day after the service, as a batch send leaves them; `charged=False`
    gives a claim marked Submitted without them (one billed before charges posted at submission).
    """
    visits = [world.visit(day=day, start=time(8 + 2 * n, 0)) for n in range(lines)]
    result = finalize_sessions(visits, actor=SYSTEM)
    assert len(result.created) == 1, result
    claim = walk_to(result.created[0], ClaimStatus.SUBMITTED)
    if charged:
        post_submission_charges([claim], actor=SYSTEM, posted_on=day + timedelta(days=1))
    return claim


def bulk_ready_claims(world: World, count: int, *, lines_per_claim: int = 1) -> list[int]:
    """`count` Ready claims for the world's client, added straight to the session (fast enough for 10,000)."""
    claims = []
    for i in range(count):
        day = date(2026, 1, 5) + timedelta(days=i % 150)
        lines = [
            ClaimLine(line_number=n, service_code_id=world.code.id, modifiers="HN" if n % 2 else "", service_date=day,
                      minutes=60, units=4, rate=RATE, charge=to_money(RATE * 4), place_of_service="11",
                      diagnosis_pointers="1:2")
            for n in range(1, lines_per_claim + 1)
        ]  # fmt: skip
        claims.append(Claim(
            status=ClaimStatus.READY, client_id=world.client.id, policy_id=world.policy.id, payer_id=world.payer.id,
            rendering_provider_id=world.provider.id, location_id=world.location.id, service_date=day,
            place_of_service="11", total_charge=sum_money(ln.charge for ln in lines), lines=lines,
            diagnoses=[ClaimDiagnosis(position=1, code="F840"), ClaimDiagnosis(position=2, code="F900")],
        ))  # fmt: skip
    db.session.add_all(claims)
    db.session.flush()
    return [c.id for c in claims]


def hundred_dollar_claim(world: World, lines: int = 2) -> Claim:
    """A Submitted claim whose lines are charged $100.00 each (charges enter the ledger when it is posted)."""
    claim = submitted_claim(world, lines=lines, charged=False)
    for line in claim.lines:
        line.charge = Decimal("100.00")
    claim.total_charge = Decimal("100.00") * lines
    db.session.flush()
    return claim
