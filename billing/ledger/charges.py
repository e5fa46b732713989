"""When a bill enters and leaves A/R: charges post when a claim is sent, and are withdrawn when the bill is.

A claim's line charges enter the ledger the day its batch is sent (or marked uploaded), so the AR Aging and
Revenue reports and the front page count every claim the payers have and have not answered yet. Voiding a
sent claim withdraws its bill: each line the payer never acted on gets a reversing entry linked to its charge
(lines carrying other money keep their charge for the biller to work). Sending the corrected claim that replaces
a claim, or the resubmission of its denied lines, withdraws every line it repeats, worked or not (Posting rule 6:
one service, one open charge): the charge and the payer's adjustments are reversed by linked entries, and what
the payer paid stays as a credit the payer must take back (flagged Needs Review until its reversal arrives).

Operations write and flush, never commit: callers wrap them in `unit_of_work()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from billing.claims.models import Claim, ClaimLine, claim_number
from billing.claims.statuses import ClaimStatus
from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.core.money import ZERO, format_money, sum_money, to_money
from billing.coverage.models import PolicyRank
from billing.ledger.balances import claim_balance, credit_reason, line_charges, lines_with_charges, reversed_entry_ids
from billing.ledger.models import EntryKind, EntrySource, LedgerEntry
from billing.ledger.operations import charge_row, reverse_entry
from billing.ledger.patient_bills import withdraw_patient_bill
from billing.ledger.rows import RowBuffer

#: Claims looked up per query (an IN list well under SQLite's and PostgreSQL's parameter limits).
CHUNK = 2000
VOID_FREQUENCY = "8"
CORRECTED_FREQUENCY = "7"


def post_submission_charges(claims: Sequence[Claim], *, actor: Actor, posted_on: date) -> int:
    """Post the charges of claims going out as originals or corrections, and withdraw the claims corrected.

    Set-based for a batch of thousands: lines are read as rows and the entries written with one executemany,
    never claim by claim. A line already charged (a resubmission, a claim paid before) gets nothing more.
    Returns the number of charge entries posted.
    """
    # A void carries no bill; a secondary claim's charge is the balance transferred to it when it was made.
    billed = [c for c in claims if c.frequency_code != VOID_FREQUENCY and c.payer_rank is PolicyRank.PRIMARY]
    rows = RowBuffer()
    for start in range(0, len(billed), CHUNK):
        chunk = {c.id: c for c in billed[start:start + CHUNK]}
        charged, lines = lines_with_charges(chunk), line_charges(chunk)
        charged -= _reprice_edited(chunk, lines, actor=actor, posted_on=posted_on)
        for line_id, claim_id, charge in lines:
            charge_row(rows, chunk[claim_id], line_id, charge, charged=charged, actor=actor, posted_on=posted_on)
    posted = len(rows.entries)
    rows.flush()
    _withdraw_replaced(billed, actor=actor, posted_on=posted_on)
    _withdraw_resubmitted(billed, actor=actor, posted_on=posted_on)
    return posted


def _reprice_edited(claims: dict[int, Claim], lines: Sequence[Any], *, actor: Actor, posted_on: date) -> set[int]:
    """Lines charged before whose charge was edited since (a Rejected claim fixed before it is sent again): the
    old charge is reversed, when nothing else was posted on the line, and the ids returned so the new one posts.

    One query per chunk; only the rare edited claim is then worked entry by entry.
    """
    standing = dict(db.session.execute(
        select(LedgerEntry.claim_line_id, func.sum(LedgerEntry.amount))
        .where(any_of(LedgerEntry.claim_id, claims), LedgerEntry.kind == EntryKind.CHARGE)
        .group_by(LedgerEntry.claim_line_id)
    ).all())
    edited: dict[int, set[int]] = {}
    for line_id, claim_id, charge in lines:
        amount = standing.get(line_id)
        # A line whose charge was withdrawn (nets to zero) stays withdrawn, as before: only a changed price moves.
        if amount is not None and to_money(amount) not in (ZERO, charge):
            edited.setdefault(claim_id, set()).add(line_id)
    repriced: set[int] = set()
    for claim_id, line_ids in sorted(edited.items()):
        reversals = withdraw_charges(claims[claim_id], actor=actor, posted_on=posted_on, only=line_ids,
                                     reason="charge edited before the claim was sent again")
        repriced |= {r.claim_line_id for r in reversals if r.claim_line_id is not None}
    return repriced


def _withdraw_resubmitted(claims: Sequence[Claim], *, actor: Actor, posted_on: date) -> None:
    """A resubmission of denied lines now carries their charge: the denied lines it repeats (the same session
    and service on an earlier live primary claim) leave A/R by linked reversals of their charges and of the
    adjustments posted on them (a contractual CO-45 or a patient share beside the denial). One open charge per
    service (Posting rule 6). One query per chunk of claims sent."""
    originals = {c.frequency_code for c in claims}  # corrections are withdrawn by _withdraw_replaced
    if not claims or originals <= {CORRECTED_FREQUENCY}:
        return
    new, old, old_claim = aliased(ClaimLine), aliased(ClaimLine), aliased(Claim)
    ids = [c.id for c in claims if c.frequency_code != CORRECTED_FREQUENCY]
    for start in range(0, len(ids), CHUNK):
        earlier = db.session.execute(
            select(old.claim_id, old.id, new.claim_id).distinct().select_from(new)
            .join(old, (old.session_id == new.session_id) & (old.service_code_id == new.service_code_id)
                  & (old.claim_id < new.claim_id))
            .join(old_claim, old_claim.id == old.claim_id)
            .where(any_of(new.claim_id, ids[start:start + CHUNK]), new.session_id.is_not(None),
                   old_claim.status != ClaimStatus.VOIDED, old_claim.payer_rank == PolicyRank.PRIMARY)
        ).all()
        by_claim: dict[int, tuple[set[int], int]] = {}
        for claim_id, line_id, resubmission_id in earlier:
            by_claim.setdefault(claim_id, (set(), resubmission_id))[0].add(line_id)
        for claim_id, (line_ids, resubmission_id) in sorted(by_claim.items()):
            original = db.session.get(Claim, claim_id)
            if original is not None:
                withdraw_superseded(original, actor=actor, posted_on=posted_on, only=line_ids,
                                    reason=f"resubmitted on claim {claim_number(resubmission_id)}")


def _withdraw_replaced(claims: Iterable[Claim], *, actor: Actor, posted_on: date) -> None:
    """The corrected claim now carries the charge: the claim it replaces leaves A/R, every line of it."""
    replaced = {c.original_claim_id: c for c in claims
                if c.frequency_code == CORRECTED_FREQUENCY and c.original_claim_id is not None}
    for original_id, correction in sorted(replaced.items()):
        original = db.session.get(Claim, original_id)
        if original is not None:
            withdraw_superseded(original, actor=actor, posted_on=posted_on,
                                reason=f"replaced by corrected claim {correction.number}")


#: The payer's adjustments a replacement takes back with the charge (the payer adjudicates the new claim afresh).
PAYER_ADJUSTMENTS = frozenset({EntryKind.CONTRACTUAL, EntryKind.OTHER_ADJUSTMENT, EntryKind.PATIENT_RESPONSIBILITY})
#: What the patient did with a share (a credit applied from another claim pays it too): it stays where it is,
#: and so does the share itself.
PATIENT_MOVES = frozenset({EntryKind.PATIENT_PAYMENT, EntryKind.TRANSFER_TO_SECONDARY, EntryKind.PATIENT_WRITE_OFF,
                           EntryKind.PATIENT_CREDIT_IN})


def withdraw_superseded(claim: Claim, *, actor: Actor, posted_on: date, reason: str,
                        only: set[int] | None = None) -> list[LedgerEntry]:
    """Withdraw the lines (of `only`, when given) a corrected claim or a resubmission now bills, worked or not.

    Each standing charge, biller's write-off of the insurance balance and payer adjustment of those lines
    (contractual, other, patient responsibility not yet paid or passed on) gets a linked reversal. What the
    payer paid stays: a credit the payer takes back with its reversal (CLP02 = 22), which then nets the line to
    zero; until then the claim is flagged Needs Review.
    """
    entries = list(db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.claim_id == claim.id).order_by(LedgerEntry.id)))
    done = reversed_entry_ids(claim.id)
    standing = [e for e in entries if e.reverses_id is None and e.id not in done
                and (only is None or e.claim_line_id in only)]
    patient_moved = {e.claim_line_id for e in standing if e.kind in PATIENT_MOVES}
    # A biller's write-off of the insurance balance goes with the charge it wrote off: the replacement bills the
    # service again, so the original must not keep a credit for it.
    taken = [e for e in standing if e.kind in (EntryKind.CHARGE, EntryKind.WRITE_OFF) or (
        e.adjudication_id is not None and e.kind in PAYER_ADJUSTMENTS
        and not (e.kind is EntryKind.PATIENT_RESPONSIBILITY and e.claim_line_id in patient_moved))]
    reversals = [reverse_entry(e, actor=actor, reason=reason, posted_on=posted_on, source=EntrySource.SYSTEM)
                 for e in taken]
    if not reversals:
        return []
    db.session.flush()
    withdrawn = sum_money(-r.amount for r in reversals if r.kind is EntryKind.CHARGE)
    record_change("claim", claim.id, AuditAction.CHARGES_WITHDRAWN, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=f"{reason}: {format_money(withdrawn)} withdrawn"[:500],
                  data={"lines": len({r.claim_line_id for r in reversals}), "amount": str(withdrawn),
                        "entries": len(reversals)})
    paid = sum_money(e.amount for e in standing if e.kind is EntryKind.INSURANCE_PAYMENT)
    left = claim_balance(claim.id)
    credit = credit_reason(left)
    if paid != ZERO or credit:
        # What stays (a payment, or a patient share the patient already paid) is a credit until the payer's
        # reversal nets it: never a credit without Needs Review (rule 8).
        claim.needs_review = True
        why = (f"{reason}; the payer's reversal of the {format_money(paid)} it paid is expected" if paid != ZERO
               else f"{reason}; {credit}, until the payer reverses its answer")
        record_change("claim", claim.id, AuditAction.CLAIM_FLAGGED, actor=actor, before=claim.status.value,
                      after=claim.status.value, reason=why[:500], data={"reasons": [why]})
    return reversals


def withdraw_bill(claim: Claim, actor: Actor, posted_on: date, reason: str) -> None:
    """The ledger's answer to the claims hook `bill_withdrawn` (a void or retraction).

    Once the payer answered, a void withdraws the whole bill as a correction does: the service is no longer
    billed, so nothing on it is owed (A/R and aging drop it); what was paid stays as a credit, flagged, until
    the payer's recoupment nets it. A claim the payer never answered only loses its charges. A self-pay claim's
    bill is the patient's: it is withdrawn from the patient's balance (billing/ledger/patient_bills.py).
    """
    if claim.self_pay:
        withdraw_patient_bill(claim, actor=actor, posted_on=posted_on, reason=reason)
        return
    if db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.claim_id == claim.id,
                                                      LedgerEntry.adjudication_id.is_not(None)).limit(1)):
        withdraw_superseded(claim, actor=actor, posted_on=posted_on, reason=reason)
        return
    withdraw_charges(claim, actor=actor, posted_on=posted_on, reason=reason)


def withdraw_charges(claim: Claim, *, actor: Actor, posted_on: date, reason: str,
                     only: set[int] | None = None) -> list[LedgerEntry]:
    """Reverse the standing charge of every line (of `only`, when given) with no other money on it; returns the
    reversals.

    A claim-level adjustment means the payer acted on the claim as a whole, so nothing is withdrawn then.
    """
    entries = list(db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.claim_id == claim.id).order_by(LedgerEntry.id)))
    if not entries:
        return []
    done = reversed_entry_ids(claim.id)
    worked = _lines_with_other_money(entries)
    if None in worked:
        return []
    charges = [e for e in entries if e.kind is EntryKind.CHARGE and e.reverses_id is None and e.id not in done
               and e.claim_line_id not in worked and (only is None or e.claim_line_id in only)]
    reversals = [reverse_entry(e, actor=actor, reason=reason, posted_on=posted_on, source=EntrySource.SYSTEM)
                 for e in charges]
    if reversals:
        db.session.flush()
        withdrawn = sum_money(-r.amount for r in reversals)
        record_change("claim", claim.id, AuditAction.CHARGES_WITHDRAWN, actor=actor, before=claim.status.value,
                      after=claim.status.value, reason=f"{reason}: {format_money(withdrawn)} withdrawn"[:500],
                      data={"lines": len(reversals), "amount": str(withdrawn),
                            "kept_lines": len(worked)})
    return reversals


def _lines_with_other_money(entries: Iterable[LedgerEntry]) -> set[int | None]:
    """Lines (None: the claim as a whole) where some kind other than the charge still nets to money.

    A payment the payer later took back in full nets to zero, so it leaves the line unworked.
    """
    totals: dict[tuple[int | None, EntryKind], list[LedgerEntry]] = {}
    for entry in entries:
        if entry.kind is not EntryKind.CHARGE:
            totals.setdefault((entry.claim_line_id, entry.kind), []).append(entry)
    return {line_id for (line_id, _), found in totals.items() if sum_money(e.amount for e in found) != ZERO}
