"""What billers do to claims: hold, release, void, retract, resubmit, edit, correct.

Each operation checks first, writes second, flushes, and never commits: the caller wraps it in
`unit_of_work()`. Status changes go through `statuses.transition`, which writes the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from billing.claims import hooks
from billing.claims.building import MAX_POINTERS, _reason
from billing.claims.line_denials import LineDenialState, close_workable
from billing.claims.models import Claim, ClaimDiagnosis, ClaimLine, payer_claim_number_problem
from billing.claims.queries import authorization_units_used, lock_claim
from billing.claims.refresh import refresh
from billing.claims.self_pay import bill_self_pay_claims
from billing.claims.statuses import EDITABLE, SENT, ClaimStatus, open_claim, record_opening, transition
from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.errors import Conflict, NotAllowed, Problem, ValidationFailed, raise_if
from billing.core.identifiers import modifiers_problem, normalize_modifiers
from billing.core.money import sum_money, to_money
from billing.core.reference import PLACES_OF_SERVICE
from billing.core.time import practice_today
from billing.coverage.queries import load_coverage


def _need_reason(reason: str | None, what: str) -> str:
    if not reason or not reason.strip():
        raise ValidationFailed([Problem("reason", f"A {what} needs a reason.")])
    return reason.strip()


def hold_claim(claim: Claim, *, reason: str, actor: Actor, data: dict[str, Any] | None = None) -> None:
    """Put a claim on hold; held claims are never batched. `data` is kept on the history row."""
    reason = _need_reason(reason, "hold")
    transition(claim, ClaimStatus.HELD, action=AuditAction.CLAIM_HELD, actor=actor, reason=reason, data=data)
    claim.hold_reason = reason


def release_claim(claim: Claim, *, actor: Actor) -> None:
    """Back to Ready, once nothing is missing any more (pricing and coverage are looked up again)."""
    if claim.status is not ClaimStatus.HELD:
        raise NotAllowed(f"Claim {claim.number} is {claim.status.label}, not Held; there is nothing to release.")
    problems = refresh_claim(claim)
    if problems:
        raise NotAllowed(f"Claim {claim.number} is still incomplete: {_reason(problems)}.")
    transition(claim, ClaimStatus.READY, action=AuditAction.CLAIM_RELEASED, actor=actor, reason=claim.hold_reason)
    claim.hold_reason = None
    bill_self_pay_claims([claim], actor=actor)  # a complete self-pay claim goes on to the patient


def void_claim(claim: Claim, *, reason: str, actor: Actor, money_confirmed: bool = False) -> None:
    """Void a claim; one the payer already has is sent again as a frequency-8 void.

    A claim with money received on it is voided only when the person confirmed what happens to that money
    (`money_confirmed`): the void cannot be one careless click on a paid claim.
    """
    lock_claim(claim)
    reason = _need_reason(reason, "void")
    if claim.status is not ClaimStatus.VOIDED and not money_confirmed \
            and (money := hooks.money_received.first(claim.id)) is not None:
        raise NotAllowed(f"Claim {claim.number} has money on it ({money}). Confirm the void to go ahead.")
    if claim.status is not ClaimStatus.VOIDED and (correction := _live_correction(claim)) is not None:
        # The payer files the correction under the same claim number: voiding the replaced claim would revive
        # the claim it replaced in turn and bill its sessions twice. The live claim is the one to void.
        raise NotAllowed(f"Claim {claim.number} was replaced by corrected claim {correction.number}; "
                         f"void {correction.number} instead.")
    was_sent = claim.status in SENT
    transition(claim, ClaimStatus.VOIDED, action=AuditAction.CLAIM_VOIDED, actor=actor, reason=reason)
    claim.void_reason = reason
    # We never send a crossover's 837, and a self-pay claim was billed to the patient, never to a payer.
    claim.void_to_send = was_sent and claim.forwarded_by_payer_id is None and not claim.self_pay
    _withdraw_bill(claim, actor=actor, why=f"voided: {reason}")


def _waiting_void(claim: Claim, doing: str) -> None:
    """Only a void still to be sent (frequency 8, not in an unsent batch) takes a payer claim number or a waiver."""
    if claim.status is not ClaimStatus.VOIDED or not claim.void_to_send:
        raise NotAllowed(f"Claim {claim.number} is {claim.status.label}, not a void waiting to be sent; "
                         f"there is no void to {doing}.")  # fmt: skip
    if (batch := hooks.unsent_batch_of.first(claim.id)) is not None:
        raise NotAllowed(f"Claim {claim.number} is in unsent submission batch {batch}; take it out of the batch first.")


def set_payer_claim_number(claim: Claim, number: str, *, actor: Actor, reason: str | None = None) -> None:
    """Enter the payer's claim number (ICN) a void must carry in REF*F8; the next batch can then send the void.

    History keeps who, when, the number before and after, and why.
    """
    _waiting_void(claim, "fill in")
    if problem := payer_claim_number_problem(number):
        raise ValidationFailed([Problem("payer_claim_number", f"{problem} Copy it from the payer's EOB, 835 or "
                                                               "acknowledgement.")])  # fmt: skip
    new, old = number.strip(), claim.payer_claim_number
    if new == old:
        raise Conflict(f"Claim {claim.number} already carries payer claim number {new}.")
    why = (reason or "").strip()
    claim.payer_claim_number = new
    record_change(
        "claim", claim.id, AuditAction.CLAIM_PAYER_NUMBER_SET, actor=actor, before=claim.status.value,
        after=claim.status.value, reason=f"Payer claim number {old or '(none)'} -> {new}" + (f": {why}" if why else ""),
        data={"field": "payer_claim_number", "from": old, "to": new, "why": why or None},
    )  # fmt: skip


def void_not_needed(claim: Claim, *, reason: str, actor: Actor) -> None:
    """The payer needs no frequency-8 void (the claim never reached it, or it has no record): stop waiting to send."""
    reason = _need_reason(reason, "void marked not needed")
    _waiting_void(claim, "mark not needed")
    claim.void_to_send = False
    record_change("claim", claim.id, AuditAction.CLAIM_VOID_NOT_NEEDED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=reason, data={"void_to_send": {"from": True, "to": False}})


def _withdraw_bill(claim: Claim, *, actor: Actor, why: str) -> None:
    """A withdrawn bill leaves A/R: the ledger reverses the charges of lines the payer never acted on."""
    hooks.bill_withdrawn.ask(claim, actor, practice_today(), why)


def retract_claim(claim: Claim, *, actor: Actor, reason: str = "retracted") -> None:
    """Take a not-yet-sent claim out of billing: it is voided as "retracted" and its sessions unlock.

    `reason` goes on the history row (a cancelled session's claim says why); the void reason stays "retracted".
    """
    if claim.status in SENT:
        raise NotAllowed(
            f"Claim {claim.number} was sent to the payer and cannot be retracted; void it or create a corrected claim."
        )
    if claim.status not in EDITABLE:
        raise NotAllowed(f"Claim {claim.number} is {claim.status.label} and cannot be retracted.")
    # A claim waiting in a submission batch comes out of the batch first, then out of billing.
    if (batch := hooks.unsent_batch_of.first(claim.id)) is not None:
        raise NotAllowed(
            f"Claim {claim.number} is in unsent submission batch {batch}; take it out of the batch first."
        )
    transition(claim, ClaimStatus.VOIDED, action=AuditAction.CLAIM_RETRACTED, actor=actor, reason=reason)
    claim.void_reason = "retracted"
    _withdraw_bill(claim, actor=actor, why=reason)  # a denied claim put back to Ready was billed before


def resubmit_claim(claim: Claim, *, actor: Actor, reason: str | None = None) -> None:
    """A denied claim goes back to Ready for the next batch."""
    if claim.status is not ClaimStatus.DENIED:
        raise NotAllowed(f"Only denied claims are resubmitted; claim {claim.number} is {claim.status.label}.")
    if (correction := _live_correction(claim)) is not None:
        raise NotAllowed(
            f"Claim {claim.number} was replaced by corrected claim {correction.number}; "
            "resubmitting it too would bill the same services twice."
        )
    transition(claim, ClaimStatus.READY, action=AuditAction.CLAIM_RESUBMITTED, actor=actor, reason=reason)


def resend_claim(claim: Claim, *, actor: Actor, reason: str | None = None) -> None:
    """A fixed Rejected claim goes back to Ready; the next batch sends it as a new original.

    The payer never adjudicated it, so it goes out exactly as a first send would: frequency 1 for an original (a
    rejected corrected claim stays a 7, since the claim it replaces still stands at the payer) and no REF*F8.
    """
    if claim.status is not ClaimStatus.REJECTED:
        raise NotAllowed(f"Only rejected claims are resent; claim {claim.number} is {claim.status.label}.")
    why = (reason or "").strip() or "fixed after the rejection"
    transition(claim, ClaimStatus.READY, action=AuditAction.CLAIM_RESENT, actor=actor, reason=why[:500])


@dataclass(frozen=True)
class LineChange:
    line_number: int
    units: int | None = None
    modifiers: str | None = None
    authorization_id: int | None = None
    diagnosis_pointers: str | None = None


def edit_claim(
    claim: Claim,
    *,
    actor: Actor,
    lines: list[LineChange] = (),  # type: ignore[assignment]
    rendering_provider_id: int | None = None,
    place_of_service: str | None = None,
) -> None:
    """Change a claim before it is submitted; totals follow the lines."""
    if claim.status not in EDITABLE:
        raise NotAllowed(
            f"Claim {claim.number} is {claim.status.label} and read-only; create a corrected claim to change it."
        )
    raise_if(_edit_problems(claim, lines, place_of_service))
    before = _snapshot(claim)
    if rendering_provider_id is not None:
        claim.rendering_provider_id = rendering_provider_id
    if place_of_service is not None:
        claim.place_of_service = place_of_service
        for line in claim.lines:
            line.place_of_service = place_of_service
    by_number = {ln.line_number: ln for ln in claim.lines}
    for change in lines:
        _apply_line_change(by_number[change.line_number], change)
    recompute_totals(claim)
    # An edit that leaves the total as it was (a modifier, a pointer) still moves the claim's version: a batch
    # built before it and the rules' last check of the claim must both see the claim as changed.
    flag_modified(claim, "total_charge")
    record_change(
        "claim",
        claim.id,
        AuditAction.CLAIM_EDITED,
        actor=actor,
        before=claim.status.value,
        after=claim.status.value,
        data={"before": before, "after": _snapshot(claim)},
    )


def _edit_problems(claim: Claim, lines: list[LineChange], place_of_service: str | None) -> list[Problem]:
    numbers = {ln.line_number for ln in claim.lines}
    problems = []
    if place_of_service is not None and place_of_service not in PLACES_OF_SERVICE:
        problems.append(Problem("place_of_service", f"{place_of_service!r} is not a place-of-service code."))
    for change in lines:
        where = f"line {change.line_number}"
        if change.line_number not in numbers:
            problems.append(Problem("lines", f"Claim {claim.number} has no {where}."))
        if change.units is not None and change.units <= 0:
            problems.append(Problem("units", f"{where}: units must be a positive whole number."))
        if change.modifiers is not None and (message := modifiers_problem(change.modifiers)):
            problems.append(Problem("modifiers", f"{where}: {message}"))
        if change.diagnosis_pointers is not None:
            problems += _pointer_problems(claim, change.diagnosis_pointers, where)
    return problems


def _pointer_problems(claim: Claim, pointers: str, where: str) -> list[Problem]:
    parts = [p for p in pointers.split(":") if p]
    valid = {str(d.position) for d in claim.diagnoses}
    if not parts or len(parts) > MAX_POINTERS or any(p not in valid for p in parts):
        return [
            Problem(
                "diagnosis_pointers",
                f"{where}: point at 1 to {MAX_POINTERS} of the claim's diagnoses (1-{len(valid)}), e.g. 1:2.",
            )
        ]
    return []


def _apply_line_change(line: ClaimLine, change: LineChange) -> None:
    if change.units is not None:
        line.units = change.units
    if change.modifiers is not None:
        line.modifiers = normalize_modifiers(change.modifiers)
    if change.authorization_id is not None:
        line.authorization_id = change.authorization_id or None
    if change.diagnosis_pointers is not None:
        line.diagnosis_pointers = change.diagnosis_pointers
    line.charge = to_money(line.rate * line.units)


def recompute_totals(claim: Claim) -> None:
    claim.total_charge = sum_money(ln.charge for ln in claim.lines)


def _snapshot(claim: Claim) -> dict[str, Any]:
    return {
        "rendering_provider_id": claim.rendering_provider_id,
        "place_of_service": claim.place_of_service,
        "total_charge": str(claim.total_charge),
        "lines": [
            {
                "line": ln.line_number,
                "units": ln.units,
                "modifiers": ln.modifiers,
                "charge": str(ln.charge),
                "authorization_id": ln.authorization_id,
                "pointers": ln.diagnosis_pointers,
            }
            for ln in claim.lines
        ],
    }


def correct_claim(claim: Claim, *, actor: Actor, reason: str, payer_claim_number: str | None = None) -> Claim:
    """A replacement claim (frequency 7) with the original's lines copied for editing."""
    lock_claim(claim)
    reason = _need_reason(reason, "corrected claim")
    payer_number = (payer_claim_number or claim.payer_claim_number or "").strip()
    if claim.self_pay:
        raise NotAllowed(f"Claim {claim.number} is self-pay: it was billed to the patient, and no payer has a claim "
                         "to correct. Void it (the patient's charge is withdrawn) and bill the session again.")
    if claim.status not in SENT or claim.frequency_code == "8":
        raise NotAllowed(f"Claim {claim.number} was not sent to the payer; edit it instead of correcting it.")
    if not payer_number:
        raise ValidationFailed(
            [
                Problem(
                    "payer_claim_number",
                    "Enter the payer's claim number from the EOB or "
                    "acknowledgement; the corrected claim carries it in REF*F8.",
                )
            ]
        )
    if _live_correction(claim) is not None:
        raise Conflict(f"Claim {claim.number} already has a corrected claim in progress.")
    billed_next = _live_next_payer_claim(claim)
    if billed_next is not None:
        # Its lines are billed to the next payer from this claim's payment (rule 6: one open charge per service);
        # the next payer's claim goes first, and is billed again from the corrected claim's payment.
        raise Conflict(f"Claim {claim.number} has the next payer's claim {billed_next.number} billed from its "
                       f"payment; void {billed_next.number} first, then correct {claim.number}.")
    copy = _copy_claim(claim, payer_number)
    open_claim(copy, ClaimStatus.READY)
    db.session.flush()
    record_opening(copy, actor=actor, reason=f"Corrects {claim.number}: {reason}")
    record_change(
        "claim",
        claim.id,
        AuditAction.CLAIM_CORRECTED,
        actor=actor,
        before=claim.status.value,
        after=claim.status.value,
        reason=reason,
        data={"corrected_by": copy.number},
    )
    claim.payer_claim_number = payer_number
    close_workable(claim, LineDenialState.CORRECTED, actor=actor, reason=reason, data={"claim": copy.number})
    return copy


def _live_next_payer_claim(claim: Claim) -> Claim | None:
    """The secondary, tertiary or crossover claim made from this claim, unless voided."""
    return db.session.scalar(select(Claim).where(Claim.primary_claim_id == claim.id,
                                                 Claim.status != ClaimStatus.VOIDED).limit(1))


def _live_correction(claim: Claim) -> Claim | None:
    return db.session.scalar(
        select(Claim).where(
            Claim.original_claim_id == claim.id, Claim.frequency_code == "7", Claim.status != ClaimStatus.VOIDED
        )
    )


def _copy_claim(claim: Claim, payer_number: str) -> Claim:
    copy = Claim(
        client_id=claim.client_id,
        policy_id=claim.policy_id,
        payer_id=claim.payer_id,
        rendering_provider_id=claim.rendering_provider_id,
        location_id=claim.location_id,
        service_date=claim.service_date,
        place_of_service=claim.place_of_service,
        frequency_code="7",
        original_claim_id=claim.id,
        family_id=claim.family_root_id,
        # A secondary claim's correction still bills the secondary payer, with the primary's COB data.
        payer_rank=claim.payer_rank,
        primary_claim_id=claim.primary_claim_id,
        payer_claim_number=payer_number,
        total_charge=claim.total_charge,
        diagnoses=[ClaimDiagnosis(position=d.position, code=d.code) for d in claim.diagnoses],
        lines=[
            ClaimLine(
                line_number=ln.line_number,
                session_id=ln.session_id,
                service_code_id=ln.service_code_id,
                modifiers=ln.modifiers,
                service_date=ln.service_date,
                minutes=ln.minutes,
                units=ln.units,
                rate=ln.rate,
                charge=ln.charge,
                place_of_service=ln.place_of_service,
                diagnosis_pointers=ln.diagnosis_pointers,
                authorization_id=ln.authorization_id,
            )
            for ln in claim.lines
        ],
    )
    db.session.add(copy)
    return copy


def refresh_claim(claim: Claim) -> list[str]:
    """Look coverage up again for a held claim; fill what is now known and return what is still missing."""
    return refresh(claim, load_coverage([claim.client_id], [claim.location.practice.company_id],
                                        units_used=authorization_units_used))
