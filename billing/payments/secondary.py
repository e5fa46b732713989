"""Secondary claims (COB) and denial work: the next payer's claim, resubmitting only the denied lines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from billing.claims.family import billed_again, join_family, superseded_reason
from billing.claims.line_denials import WORKABLE, LineDenialState, set_line_denial
from billing.claims.models import Claim, ClaimDiagnosis, ClaimLine
from billing.claims.operations import hold_claim, recompute_totals
from billing.claims.queries import lock_claim
from billing.claims.statuses import ClaimStatus, open_claim, record_opening, transition
from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.errors import Invalid, NotAllowed, NothingToDo
from billing.core.money import ZERO, format_money, sum_money
from billing.coverage.models import InsurancePolicy, PolicyRank
from billing.ledger.balances import Balances, line_balances, reversed_entry_ids, standing_adjudication
from billing.ledger.charges import withdraw_superseded
from billing.ledger.models import Adjudication, EntryKind, EntrySource, LedgerEntry
from billing.ledger.operations import reverse_entry
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
    balances = line_balances(claim.id)
    if not any(insurance + patient > ZERO for insurance, patient in _passed_on(claim, balances).values()):
        if withheld := _withheld(claim, balances):
            return (f"{withheld}; the next payer is billed for a line once the primary has settled it (resolve the "
                    f"denial, post or write off what the payer still owes, or take back its credit)")
        return "nothing is left for the next payer (no patient responsibility remains)"
    return None


def _passed_on(claim: Claim, balances: dict[int | None, Balances]) -> dict[int, tuple[Decimal, Decimal]]:
    """Per line, what the next payer is billed: (the open payer balance of a denied claim, the patient's part).

    After a denial the primary will not pay, so its open balance goes to the secondary too (as a Medicare
    denial goes to the supplemental plan); after a payment only the patient's part does, of the lines the
    primary has settled (`_withholding`).
    """
    held = _withholding(claim, balances)
    denied = claim.status is ClaimStatus.DENIED
    passed = {}
    for line in claim.lines:
        owed = balances.get(line.id)
        if owed is not None and line.id not in held:
            insurance = owed.insurance if denied and owed.insurance > ZERO else ZERO
            passed[line.id] = (insurance, max(owed.patient, ZERO))
    return passed


def _withholding(claim: Claim, balances: dict[int | None, Balances]) -> dict[int, str]:
    """Lines the next payer is not billed for yet, each with why: lines a later live claim bills again (a
    resubmission: the service is billed there), and on a claim not denied as a whole, the lines the primary
    has not settled: it still owes on them (a denied line's payer part, an underpayment, a recoupment), so it
    may yet pay them and billing their patient part meanwhile would leave the service owed on two claims
    (Posting rule 6); or it owes money back on them (a credit, flagged: rule 8), so what the patient owes there
    is not settled either."""
    again = billed_again(claim)
    payer = claim.payer.name if claim.payer else "the payer"
    held = {}
    for line in claim.lines:
        owed = (balances.get(line.id) or Balances()).insurance
        if line.id in again:
            held[line.id] = f"line {line.line_number} is billed again on {again[line.id].number}"
        elif owed == ZERO or claim.status is ClaimStatus.DENIED:
            continue
        elif owed < ZERO:
            held[line.id] = f"line {line.line_number} has a credit of {format_money(-owed)} with {payer}"
        else:
            held[line.id] = (f"line {line.line_number} is denied by {payer} and still to be worked"
                             if line.denial_state in WORKABLE else
                             f"line {line.line_number} is still owed {format_money(owed)} by {payer}")
    return held


def _withheld(claim: Claim, balances: dict[int | None, Balances]) -> str:
    """Why lines are withheld from the next payer, in line order ("" when none is)."""
    held = _withholding(claim, balances)
    return "; ".join(held[ln.id] for ln in sorted(claim.lines, key=lambda ln: ln.line_number) if ln.id in held)


def next_payer_waits(claim: Claim) -> bool:
    """True when a next payer exists, has no claim yet, and lines are withheld from it until the primary settles
    them: a refused crossover then leaves work for the biller, unlike one refused because nothing is left."""
    if next_policy(claim) is None or live_secondary(claim) is not None:
        return False
    return bool(_withheld(claim, line_balances(claim.id)))


def generate_secondary_claim(claim: Claim, *, actor: Actor, posted_on: date) -> Claim:
    """A Ready claim to the next payer for what the primary left to the patient; lines inherited, COB kept."""
    lock_claim(claim)
    refusal = secondary_refusal(claim)
    if refusal:
        raise NotAllowed(f"No secondary claim: {refusal}.")
    policy = next_policy(claim)
    assert policy is not None
    balances = line_balances(claim.id)
    passed, withheld = _passed_on(claim, balances), _withheld(claim, balances)
    secondary = _copy(claim, claim.lines, policy=policy, rank=NEXT_RANK[claim.payer_rank])
    secondary.primary_claim_id = claim.id
    join_family(secondary, claim)
    open_claim(secondary, ClaimStatus.READY)
    db.session.flush()
    record_opening(secondary, actor=actor, reason=f"Secondary to {claim.number}" + (
        f"; withheld until {claim.number} has settled them: {withheld}" if withheld else ""))
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


def withdraw_next_claim(claim: Claim, *, actor: Actor, reason: str, posted_on: date,
                        line_ids: set[int] | None = None, how: str = "reversed") -> Claim | None:
    """The payer took back the payment (of `line_ids`, when given) the next payer's claim was billed on: that
    balance no longer stands, so the next payer's claim stops billing it (Posting rule 6). `how` the payment
    was taken back ("reversed", "recouped by a PLB offset") goes into the history.

    The transfer to it (and a denied balance made the patient's on the way) is reversed on this claim, and the
    next claim's lines leave A/R as a replaced claim's do (`withdraw_superseded`: charge and payer adjustments
    reversed; a payment it made stays as a credit). The next claim is flagged Needs Review; one still unsent
    is held so it never goes out. Its own next claim (a tertiary) goes the same way first. Returns it, or None.
    """
    why = f"{claim.number}'s payment was {how} ({reason})"
    return _withdraw_next(claim, line_ids, why=why, actor=actor, posted_on=posted_on)


def _withdraw_next(claim: Claim, line_ids: set[int] | None, *, why: str, actor: Actor,
                   posted_on: date) -> Claim | None:
    nxt = live_secondary(claim)
    if nxt is None:
        return None
    numbers = {ln.line_number for ln in claim.lines if line_ids is None or ln.id in line_ids}
    theirs = {ln.id for ln in nxt.lines if ln.line_number in numbers}
    _withdraw_next(nxt, theirs, why=why, actor=actor, posted_on=posted_on)
    taken = _take_back_transfers(claim, nxt, line_ids, actor=actor, posted_on=posted_on, reason=why)
    withdrawn = withdraw_superseded(nxt, actor=actor, posted_on=posted_on, only=theirs, reason=why)
    if taken or withdrawn:  # else an earlier reversal withdrew it already
        _flag_withdrawn(nxt, claim, why, actor=actor)
    return nxt


def hand_back_to_previous_payer(claim: Claim, actor: Actor, posted_on: date, reason: str) -> None:
    """A next payer's claim voided or retracted no longer bills what the claim before it passed on: the transfers
    (and a denied balance made the patient's on the way) are reversed there, so that balance is owed again where
    it was (the patient, or the previous payer) and can be billed anew. The claims hook `bill_withdrawn` asks.
    """
    if claim.primary_claim_id is None:
        return
    previous = db.session.get(Claim, claim.primary_claim_id)
    if previous is not None:
        _take_back_transfers(previous, claim, None, actor=actor, posted_on=posted_on,
                             reason=f"{claim.number} was withdrawn ({reason})")


def _take_back_transfers(claim: Claim, nxt: Claim, line_ids: set[int] | None, *, actor: Actor, posted_on: date,
                         reason: str) -> list[LedgerEntry]:
    """Reverse what `generate_secondary_claim` moved on this claim's lines: the transfers, and the denied
    balances it made the patient's (the only patient responsibility posted by the system, not a payer)."""
    done = reversed_entry_ids(claim.id)
    moved = [e for e in db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.claim_id == claim.id, LedgerEntry.reverses_id.is_(None), LedgerEntry.adjudication_id.is_(None),
        LedgerEntry.source == EntrySource.SYSTEM,
        LedgerEntry.kind.in_([EntryKind.TRANSFER_TO_SECONDARY, EntryKind.PATIENT_RESPONSIBILITY])))
        if e.id not in done and (line_ids is None or e.claim_line_id in line_ids)]
    for entry in moved:
        reverse_entry(entry, actor=actor, reason=reason, posted_on=posted_on, source=EntrySource.SYSTEM)
    db.session.flush()
    taken = sum_money(e.amount for e in moved if e.kind is EntryKind.TRANSFER_TO_SECONDARY)
    if taken != ZERO:
        record_change("claim", claim.id, AuditAction.CHARGES_WITHDRAWN, actor=actor, before=claim.status.value,
                      after=claim.status.value, data={"amount": str(taken), "secondary": nxt.number},
                      reason=f"{format_money(taken)} billed to {nxt.number} taken back: {reason}"[:500])
    return moved


def _flag_withdrawn(nxt: Claim, claim: Claim, why: str, *, actor: Actor) -> None:
    """Needs Review on the next payer's claim, saying what to do; held when it has not gone out yet."""
    payer = nxt.payer.name if nxt.payer else "the payer"
    todo = (f"void {nxt.number} if {payer} has not paid it (any money it sends posts here, flagged), and bill "
            f"the next payer again once {claim.number}'s payment is settled")
    note = f"{why}; the balance billed here was withdrawn: {todo}"
    nxt.needs_review = True
    record_change("claim", nxt.id, AuditAction.CLAIM_FLAGGED, actor=actor, before=nxt.status.value,
                  after=nxt.status.value, reason=note[:500], data={"reasons": [note]})
    if nxt.status is ClaimStatus.READY:
        hold_claim(nxt, reason=f"{why}; {todo}", actor=actor)


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


#: Denial states a resubmission takes up: still to be worked, or resubmitted on a claim no longer standing.
RESUBMITTABLE = WORKABLE | {LineDenialState.RESUBMITTED}


def denied_lines(adjudication: Adjudication) -> list[ClaimLine]:
    """The lines of this adjudication still to be worked: denied by posting's rule 3 test (all lines when the
    whole claim was denied), less those a biller already decided (written off, billed, corrected...) and those
    a later live claim bills again, a standing resubmission say: the service is open there (Posting rule 6).
    A line whose resubmission was voided is resubmitted again."""
    again = billed_again(adjudication.claim)
    return [ln for ln in denied_by(adjudication) if ln.id not in again
            and (ln.denial_state is None or ln.denial_state in RESUBMITTABLE)]


def resubmit_denied_lines(claim: Claim, *, actor: Actor, reason: str) -> Claim:
    """A new Ready claim with only the denied lines; the paid lines stay where they are."""
    lock_claim(claim)
    if not reason or not reason.strip():
        raise Invalid("Say what was fixed before resubmitting the denied lines.")
    adjudication = standing_adjudication(claim.id)
    lines = denied_lines(adjudication) if adjudication is not None else []
    if not lines:
        if adjudication is not None:
            _refuse_billed_again(claim, adjudication)
        raise NothingToDo(f"Claim {claim.number} has no denied lines to resubmit.")
    if len(lines) == len(claim.lines):
        raise NotAllowed(f"Every line of claim {claim.number} was denied; resubmit the whole claim instead.")
    _refuse_billed_to_next_payer(claim, lines)
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


def _refuse_billed_to_next_payer(claim: Claim, lines: list[ClaimLine]) -> None:
    """Rule 6: a line whose balance the next payer's claim bills is not resubmitted while that claim bills it
    (the service would be owed on both); as a corrected claim, the next payer's claim goes first."""
    nxt = live_secondary(claim)
    if nxt is None:
        return
    charged = line_balances(nxt.id)
    theirs = {ln.line_number: ln.id for ln in nxt.lines}
    billed = [ln.line_number for ln in lines if (charged.get(theirs.get(ln.line_number)) or Balances()).charges > ZERO]
    if billed:
        numbers = ", ".join(str(n) for n in sorted(billed))
        raise NotAllowed(f"Line {numbers} of claim {claim.number} is billed to the next payer on {nxt.number}; "
                         f"void {nxt.number} first, then resubmit the denied lines.")


def _refuse_billed_again(claim: Claim, adjudication: Adjudication) -> None:
    """Refuse a second resubmission of denied lines whose first one stands, naming the lines and the claim (nothing
    is open on this claim to resubmit: the service is open there)."""
    again = billed_again(claim)
    where = [f"line {ln.line_number} is billed on {again[ln.id].number} ({again[ln.id].status.label})"
             for ln in sorted(denied_by(adjudication), key=lambda ln: ln.line_number) if ln.id in again]
    if where:
        raise NothingToDo(f"Claim {claim.number}: {'; '.join(where)}, which still stands. Work that claim (or "
                          f"void it first) rather than resubmitting the same service again.")
