"""Secondary claims (COB) and denial work: the next payer's claim, resubmitting only the denied lines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from billing.claims.family import join_family, superseded_reason
from billing.claims.line_denials import WORKABLE, LineDenialState, set_line_denial
from billing.claims.models import Claim, ClaimDiagnosis, ClaimLine
from billing.claims.operations import recompute_totals
from billing.claims.statuses import ClaimStatus, open_claim, record_opening, transition
from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.errors import Invalid, NotAllowed, NothingToDo
from billing.core.money import ZERO
from billing.coverage.models import InsurancePolicy, PolicyRank
from billing.ledger.balances import line_balances, standing_adjudication
from billing.ledger.models import Adjudication, EntryKind, EntrySource, LedgerEntry
from billing.ledger.rows import entry_values
from billing.payments.denial_work import denied_by

NEXT_RANK = {PolicyRank.PRIMARY: PolicyRank.SECONDARY, PolicyRank.SECONDARY: PolicyRank.TERTIARY}


def next_policy(claim: Claim) -> InsurancePolicy | None:
    """The client's policy one rank below this claim's, active on the service date."""
    rank = NEXT_RANK.get(claim.payer_rank)
    if rank is None:
        return None
    policies = db.session.scalars(
        select(InsurancePolicy).where(InsurancePolicy.client_id == claim.client_id, InsurancePolicy.rank == rank)
    )
    return next((p for p in policies if p.is_active_on(claim.service_date)), None)


def live_secondary(claim: Claim) -> Claim | None:
    return db.session.scalar(
        select(Claim).where(Claim.primary_claim_id == claim.id, Claim.status != ClaimStatus.VOIDED)
    )


def secondary_refusal(claim: Claim) -> str | None:
    """Why Generate Secondary Claim is not offered for this claim, or None when it is."""
    superseded = superseded_reason(claim)
    if superseded is not None:  # rule 6: the next payer is billed from the member that stands
        return superseded
    if standing_adjudication(claim.id) is None:
        return f"claim {claim.number} has no payment posted yet"
    if next_policy(claim) is None:
        return "the client has no next-rank policy active on the service date"
    if live_secondary(claim) is not None:
        return f"claim {claim.number} already has a secondary claim"
    if not any(insurance + patient > ZERO for insurance, patient in _passed_on(claim).values()):
        return "nothing is left for the next payer (no patient responsibility remains)"
    return None


def _passed_on(claim: Claim) -> dict[int, tuple[Decimal, Decimal]]:
    """Per line, what the next payer is billed: (the open payer balance of a denied claim, the patient's part).

    After a denial the primary will not pay, so its open balance goes to the secondary too (as a Medicare
    denial goes to the supplemental plan); after a payment only the patient's part does.
    """
    balances = line_balances(claim.id)
    denied = claim.status is ClaimStatus.DENIED
    passed = {}
    for line in claim.lines:
        owed = balances.get(line.id)
        if owed is not None:
            insurance = owed.insurance if denied and owed.insurance > ZERO else ZERO
            passed[line.id] = (insurance, max(owed.patient, ZERO))
    return passed


def generate_secondary_claim(claim: Claim, *, actor: Actor, posted_on: date) -> Claim:
    """A Ready claim to the next payer for what the primary left to the patient; lines inherited, COB kept."""
    refusal = secondary_refusal(claim)
    if refusal:
        raise NotAllowed(f"No secondary claim: {refusal}.")
    policy = next_policy(claim)
    assert policy is not None
    passed = _passed_on(claim)
    secondary = _copy(claim, claim.lines, policy=policy, rank=NEXT_RANK[claim.payer_rank])
    secondary.primary_claim_id = claim.id
    join_family(secondary, claim)
    open_claim(secondary, ClaimStatus.READY)
    db.session.flush()
    record_opening(secondary, actor=actor, reason=f"Secondary to {claim.number}")
    by_number = {ln.line_number: ln for ln in secondary.lines}
    common = {"posted_on": posted_on, "actor": actor, "source": EntrySource.SYSTEM}
    for line in claim.lines:
        insurance, patient = passed.get(line.id, (ZERO, ZERO))
        if insurance > ZERO:  # the denied amount becomes the patient's, then goes on with it
            db.session.add(LedgerEntry(**entry_values(
                claim_id=claim.id, line_id=line.id, payer_id=claim.payer_id, kind=EntryKind.PATIENT_RESPONSIBILITY,
                amount=insurance, memo=f"denied by {claim.payer.name if claim.payer else 'the payer'}; "
                                       f"billed to {policy.payer.name}", **common)))
        if insurance + patient <= ZERO:
            continue
        db.session.add(LedgerEntry(**entry_values(
            claim_id=claim.id, line_id=line.id, payer_id=None, kind=EntryKind.TRANSFER_TO_SECONDARY,
            amount=insurance + patient, memo=f"billed to {policy.payer.name} on {secondary.number}", **common)))
        db.session.add(LedgerEntry(**entry_values(
            claim_id=secondary.id, line_id=by_number[line.line_number].id, kind=EntryKind.CHARGE,
            amount=insurance + patient, payer_id=policy.payer_id, memo=f"balance of {claim.number}", **common)))
    record_change("claim", claim.id, AuditAction.SECONDARY_CREATED, actor=actor, before=claim.status.value,
                  after=claim.status.value, data={"secondary": secondary.number})
    return secondary


#: CLP02: processed as primary / secondary / tertiary and forwarded to the next payer (a crossover).
FORWARDED_CODES = frozenset({"19", "20", "21"})


def forward_crossover(claim: Claim, *, forwarded_by: str, check: str, actor: Actor,
                      posted_on: date) -> tuple[Claim | None, str | None]:
    """The payer forwarded the claim to the next payer (Posting rule 4): the next payer's claim, as
    `generate_secondary_claim` makes it, already Submitted and marked as sent by the payer (no 837 is ever made
    for it). Returns (the crossover claim, None), or (None, why none was made)."""
    refusal = secondary_refusal(claim)
    if refusal:
        return None, refusal
    crossover = generate_secondary_claim(claim, actor=actor, posted_on=posted_on)
    crossover.forwarded_by_payer_id = claim.payer_id
    transition(crossover, ClaimStatus.SUBMITTED, action=AuditAction.CLAIM_SUBMITTED, actor=actor,
               reason=f"crossover: forwarded by {forwarded_by} on check {check}")
    return crossover, None


def _copy(claim: Claim, lines: Iterable[ClaimLine], *, policy: InsurancePolicy | None, rank: PolicyRank) -> Claim:
    copy = Claim(
        client_id=claim.client_id, policy_id=policy.id if policy else claim.policy_id,
        payer_id=policy.payer_id if policy else claim.payer_id, payer_rank=rank,
        rendering_provider_id=claim.rendering_provider_id, location_id=claim.location_id,
        service_date=claim.service_date, place_of_service=claim.place_of_service, frequency_code="1",
        diagnoses=[ClaimDiagnosis(position=d.position, code=d.code) for d in claim.diagnoses],
        lines=[
            ClaimLine(
                line_number=n, session_id=ln.session_id, service_code_id=ln.service_code_id, modifiers=ln.modifiers,
                service_date=ln.service_date, minutes=ln.minutes, units=ln.units, rate=ln.rate, charge=ln.charge,
                place_of_service=ln.place_of_service, diagnosis_pointers=ln.diagnosis_pointers,
                # An authorization belongs to the policy that issued it.
                authorization_id=ln.authorization_id if policy is None else None,
            )
            for n, ln in enumerate(lines, start=1)
        ],
    )
    recompute_totals(copy)
    db.session.add(copy)
    return copy


def denied_lines(adjudication: Adjudication) -> list[ClaimLine]:
    """The lines of this adjudication still to be worked: denied by posting's rule 3 test (all lines when the
    whole claim was denied), less those a biller already decided (written off, billed, resubmitted...)."""
    return [ln for ln in denied_by(adjudication) if ln.denial_state is None or ln.denial_state in WORKABLE]


def resubmit_denied_lines(claim: Claim, *, actor: Actor, reason: str) -> Claim:
    """A new Ready claim with only the denied lines; the paid lines stay where they are."""
    if not reason or not reason.strip():
        raise Invalid("Say what was fixed before resubmitting the denied lines.")
    adjudication = standing_adjudication(claim.id)
    lines = denied_lines(adjudication) if adjudication is not None else []
    if not lines:
        raise NothingToDo(f"Claim {claim.number} has no denied lines to resubmit.")
    if len(lines) == len(claim.lines):
        raise NotAllowed(f"Every line of claim {claim.number} was denied; resubmit the whole claim instead.")
    copy = _copy(claim, sorted(lines, key=lambda ln: ln.line_number), policy=None, rank=claim.payer_rank)
    copy.primary_claim_id = claim.primary_claim_id
    copy.resubmission_of_id = claim.id
    join_family(copy, claim)
    open_claim(copy, ClaimStatus.READY)
    db.session.flush()
    numbers = ", ".join(str(ln.line_number) for ln in lines)
    record_opening(copy, actor=actor, reason=f"Denied lines {numbers} of {claim.number}: {reason.strip()}")
    for line in lines:
        if line.denial_state is not None:
            set_line_denial(line, LineDenialState.RESUBMITTED, actor=actor, reason=reason.strip(),
                            data={"claim": copy.number})
    record_change("claim", claim.id, AuditAction.CLAIM_RESUBMITTED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=reason.strip()[:500], data={"denied_lines_on": copy.number})
    return copy
