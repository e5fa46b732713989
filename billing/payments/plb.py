"""Provider-level adjustments (PLB) are money too (posting rule 7): each gets a disposition on import.

PLB signs follow the TR3: a positive amount takes money from the check (an offset, a recoupment), a negative
one adds to it. So the remittance always balances as sum of CLP04 posted - sum of PLB = BPR02; what changes
is where each PLB's money lands:

- **income**: interest (L6, whatever it names) and money added that names none of our claims. Nothing is
  posted on a claim; Revenue shows it as its own line (by remittance date).
- **applied**: PLB03-2 names one of our claims ("C-000123", also with a prefix or suffix the payer adds,
  "C-000123 ICN..."), billed to this payer. An offset is posted on it as negative insurance payments, spread
  over the lines the payer paid, largest payment first, each line giving back at most what it was paid; the
  claim is flagged Needs Review with the PLB's reason and reopens when the payer owes again. Money added for a
  named claim is posted as a payment on it, flagged too.
- **open**: an offset naming no claim (or a claim that is not ours), and whatever part of a named offset was
  more than the claim's payments: an open provider-level item, in A/R (it lowers it: the payer kept that money
  from us) until a biller applies it to a claim or marks it settled with a reason.

The entries an applied PLB posted are linked to it (ProviderAdjustmentEntry); `flask ledger check` checks
that they add up to what it says was applied.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import selectinload

from billing.claims.models import Claim, ClaimLine
from billing.claims.queries import lock_claim
from billing.claims.statuses import ClaimStatus, transition
from billing.core.audit import Actor, AuditAction, record_change
from billing.core.codes import plb_reasons
from billing.core.db import db, utcnow
from billing.core.errors import Conflict, Invalid, NotFound
from billing.core.money import ZERO, format_money, sum_money, to_money
from billing.ledger.balances import Balances, claim_balance, line_balances
from billing.ledger.models import EntryKind, EntrySource, LedgerEntry
from billing.ledger.rows import entry_values
from billing.payments.models import (
    PlbDisposition,
    ProviderAdjustment,
    ProviderAdjustmentEntry,
    Remittance,
)
from billing.payments.secondary import withdraw_next_claim

INTEREST = "L6"
#: PLB03-1 reasons an office meets most, for the flags and pages that name them.
PLB_REASONS = {code: c.description[0].lower() + c.description[1:] for code, c in plb_reasons().items()}
#: One of our claim numbers inside PLB03-2, with or without the hyphen, not inside a longer word or number.
_CLAIM_IN_REFERENCE = re.compile(r"(?<![A-Z0-9])C-?(\d{6,12})(?!\d)", re.IGNORECASE)


@dataclass
class PlbOutcome:
    """What applying (or importing) one PLB did: the money posted on the claim this time, in the PLB's sign."""

    item: ProviderAdjustment
    claim: Claim | None
    posted: Decimal = ZERO
    already: bool = False  # it had been applied to that claim before: nothing posted

    def as_dict(self) -> dict[str, Any]:
        return {**plb_document(self.item), "posted": str(self.posted), "already_applied": self.already}

    def summary(self) -> str:
        if self.already:
            return f"PLB {self.item.id} was already applied to {self.claim}; nothing posted."
        rest = self.item.open_amount
        tail = f"; {format_money(rest)} stays open on the remittance" if rest != ZERO else ""
        return f"PLB {self.item.id}: {format_money(self.posted)} posted on {self.claim}{tail}."


def plb_document(item: ProviderAdjustment) -> dict[str, Any]:
    return {
        "id": item.id, "remittance_id": item.remittance_id, "reason_code": item.reason_code,
        "reference": item.reference, "amount": str(to_money(item.amount)), "disposition": item.disposition.value,
        "applied_amount": str(to_money(item.applied_amount)), "open_amount": str(to_money(item.open_amount)),
        "claim": item.claim.number if item.claim is not None else None, "note": item.note,
    }


def describe(item: ProviderAdjustment) -> str:
    """"PLB WO (overpayment recovery) 50.00 on check 123, reference C-000123" in a flag or a history row."""
    why = PLB_REASONS.get(item.reason_code.upper())
    reason = f"{item.reason_code} ({why})" if why else item.reason_code
    ref = f", reference {item.reference}" if item.reference else ""
    return f"PLB {reason} {format_money(to_money(item.amount))} on check {item.remittance.check_number}{ref}"


def claim_id_in(reference: str | None) -> int | None:
    """The claim id PLB03-2 names, when it holds one of our claim numbers anywhere in it."""
    match = _CLAIM_IN_REFERENCE.search(reference or "")
    return int(match.group(1)) if match else None


# --- on import ----------------------------------------------------------------------------------------------

def dispose_imported(items: Iterable[ProviderAdjustment], *, actor: Actor, flags: list[str]) -> None:
    """Give each PLB of a freshly imported remittance its disposition, posting what names a claim.

    Runs after the remittance's claims are posted and flushed, so an offset can take back a payment that
    arrived in the same file. What needs a biller (an offset applied or left open) is added to `flags`.
    """
    for item in items:
        claim, why_not = _named_claim(item)
        if item.reason_code.upper() == INTEREST or (item.amount < ZERO and claim is None):
            item.disposition = PlbDisposition.INCOME
        elif claim is None:
            item.disposition, item.note = PlbDisposition.OPEN, why_not
            flags.append(f"{describe(item)}: open provider-level item ({why_not})")
        else:
            posted = _post_on_claim(item, claim, item.amount, actor=actor, source=EntrySource.ERA)
            _after_posting(item, claim)
            flags.append(f"{describe(item)}: {format_money(posted)} posted on claim {claim.number}"
                         + (f"; {item.note}" if item.note else ""))
        item.disposed_at, item.disposed_by = utcnow(), actor.name
        record_change("provider_adjustment", item.id, AuditAction.PLB_DISPOSED, actor=actor,
                      after=item.disposition.value, reason=item.note, data=plb_document(item))


def _named_claim(item: ProviderAdjustment) -> tuple[Claim | None, str]:
    """The claim PLB03-2 names when it is ours and billed to this payer, else None and why not."""
    claim_id = claim_id_in(item.reference)
    if claim_id is None:
        return None, "it names none of our claims"
    claim = db.session.scalar(select(Claim).where(Claim.id == claim_id).options(selectinload(Claim.lines)))
    if claim is None:
        return None, f"{item.reference} is not one of our claims"
    payer_id = item.remittance.payer_id
    if payer_id is not None and claim.payer_id != payer_id:
        return None, f"claim {claim.number} is billed to {claim.payer or 'no payer'}, not to this payer"
    return claim, ""


# --- a biller's decisions -----------------------------------------------------------------------------------

def apply_plb(item: ProviderAdjustment, claim: Claim, *, actor: Actor) -> PlbOutcome:
    """Post an open provider-level item on a claim the biller names; applying it again posts nothing."""
    lock_claim(claim)
    db.session.refresh(item, with_for_update=True)  # as committed now: a concurrent apply may have taken it
    if item.disposition is PlbDisposition.APPLIED and item.claim_id == claim.id:
        return PlbOutcome(item, claim, already=True)
    if item.disposition is not PlbDisposition.OPEN:
        raise Conflict(f"PLB {item.id} is {item.disposition.value}"
                       + (f" (on {item.claim.number})" if item.claim is not None else "")
                       + "; only an open provider-level item can be applied.")
    payer_id = item.remittance.payer_id
    if payer_id is not None and claim.payer_id != payer_id:
        raise Invalid(f"Claim {claim.number} is billed to {claim.payer or 'no payer'}, not to "
                      f"{item.remittance.payer_name}, who sent this PLB.")
    if item.open_amount > ZERO and _paid_lines(claim) == []:
        raise Invalid(f"Claim {claim.number} has no insurance payment for this offset to take back.")
    posted = _post_on_claim(item, claim, item.open_amount, actor=actor, source=EntrySource.MANUAL)
    _after_posting(item, claim)
    item.disposed_at, item.disposed_by = utcnow(), actor.name
    record_change("provider_adjustment", item.id, AuditAction.PLB_APPLIED, actor=actor, before="open",
                  after=item.disposition.value, reason=f"applied to {claim.number}",
                  data={**plb_document(item), "posted": str(posted)})
    return PlbOutcome(item, claim, posted)


def settle_plb(item: ProviderAdjustment, *, reason: str, actor: Actor) -> ProviderAdjustment:
    """Close an open provider-level item without posting it (netted against another remittance, ...)."""
    db.session.refresh(item, with_for_update=True)
    if item.disposition is not PlbDisposition.OPEN:
        raise Conflict(f"PLB {item.id} is {item.disposition.value}; only an open provider-level item is settled.")
    if not reason or not reason.strip():
        raise Invalid("Say why this provider-level item is settled (e.g. netted against another remittance).")
    item.disposition, item.note = PlbDisposition.SETTLED, reason.strip()[:300]
    item.disposed_at, item.disposed_by = utcnow(), actor.name
    record_change("provider_adjustment", item.id, AuditAction.PLB_SETTLED, actor=actor, before="open",
                  after="settled", reason=item.note, data=plb_document(item))
    return item


def plb_on(remittance_id: int, plb_id: int) -> ProviderAdjustment:
    item = db.session.get(ProviderAdjustment, plb_id)
    if item is None or item.remittance_id != remittance_id:
        raise NotFound(f"Remittance {remittance_id} has no PLB {plb_id}.")
    return item


def open_items(*where: ColumnElement[bool], as_of: date | None = None) -> list[ProviderAdjustment]:
    """Open provider-level items (oldest check first), of remittances paid on or before `as_of`."""
    query = (select(ProviderAdjustment).join(Remittance, Remittance.id == ProviderAdjustment.remittance_id)
             .where(ProviderAdjustment.disposition == PlbDisposition.OPEN, *where)
             .options(selectinload(ProviderAdjustment.remittance))
             .order_by(Remittance.paid_on, ProviderAdjustment.id))
    if as_of is not None:
        query = query.where(Remittance.paid_on <= as_of)
    return [item for item in db.session.scalars(query) if item.open_amount != ZERO]


# --- posting ------------------------------------------------------------------------------------------------

def _paid_lines(claim: Claim) -> list[tuple[ClaimLine, Decimal]]:
    """The claim's lines the payer has paid (net of earlier offsets), largest payment first."""
    balances = line_balances(claim.id)
    paid = [(line, (balances.get(line.id) or Balances()).paid_by_payer) for line in claim.lines]
    return sorted([(line, amount) for line, amount in paid if amount > ZERO],
                  key=lambda pair: (-pair[1], pair[0].line_number))


def offset_shares(claim: Claim, amount: Decimal) -> list[tuple[ClaimLine, Decimal]]:
    """An offset spread over the lines the payer paid, largest payment first, to the cent: each line gives
    back at most what it was paid, so what the claim's payments cannot cover is left out (it stays open)."""
    shares, left = [], to_money(amount)
    for line, paid in _paid_lines(claim):
        if left <= ZERO:
            break
        share = min(left, paid)
        shares.append((line, share))
        left -= share
    return shares


def _post_on_claim(item: ProviderAdjustment, claim: Claim, amount: Decimal, *, actor: Actor,
                   source: EntrySource) -> Decimal:
    """Post `amount` of the PLB on the claim; returns what was posted, in the PLB's sign."""
    if amount > ZERO:
        shares = [(line, -share) for line, share in offset_shares(claim, amount)]
    else:
        shares = [(_line_for_added_money(claim), -to_money(amount))]
    memo = describe(item)[:500]
    entries = [LedgerEntry(**entry_values(claim_id=claim.id, line_id=line.id, kind=EntryKind.INSURANCE_PAYMENT,
                                          amount=value, actor=actor, posted_on=item.remittance.paid_on,
                                          source=source, payer_id=claim.payer_id, memo=memo))
               for line, value in shares if value != ZERO]
    db.session.add_all(entries)
    db.session.flush()
    db.session.add_all([ProviderAdjustmentEntry(provider_adjustment_id=item.id, ledger_entry_id=e.id)
                        for e in entries])
    posted = -sum_money(e.amount for e in entries)
    item.applied_amount = to_money(item.applied_amount) + posted
    item.claim = claim
    if posted != ZERO:
        _flag(claim, item, posted, actor=actor)
    if posted > ZERO:  # rule 6: the payment a next payer's claim was billed on is smaller now
        withdraw_next_claim(claim, actor=actor, reason=memo, posted_on=item.remittance.paid_on,
                            line_ids={e.claim_line_id for e in entries if e.claim_line_id is not None},
                            how="recouped by a PLB offset")
    return posted


def _line_for_added_money(claim: Claim) -> ClaimLine:
    """Money the payer adds for a claim goes on the line it owes most on (the first line when it owes none)."""
    balances = line_balances(claim.id)
    return max(claim.lines, key=lambda ln: ((balances.get(ln.id) or Balances()).insurance, -ln.line_number))


def _after_posting(item: ProviderAdjustment, claim: Claim) -> None:
    rest = to_money(item.amount) - to_money(item.applied_amount)
    if rest == ZERO:
        item.disposition, item.note = PlbDisposition.APPLIED, None
    else:
        item.disposition = PlbDisposition.OPEN
        item.note = (f"claim {claim.number}'s payments covered {format_money(to_money(item.applied_amount))}; "
                     f"{format_money(rest)} stays open on the remittance")


def _flag(claim: Claim, item: ProviderAdjustment, posted: Decimal, *, actor: Actor) -> None:
    """Needs Review with the PLB's reason; a Paid claim the payer now owes on again reopens."""
    db.session.flush()
    claim.needs_review = True
    why = f"{describe(item)}: {format_money(posted)} {'taken back' if posted > ZERO else 'added'}"
    record_change("claim", claim.id, AuditAction.CLAIM_FLAGGED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=why[:500], data={"plb_id": item.id, "posted": str(posted)})
    owed = claim_balance(claim.id).insurance
    if owed > ZERO and claim.status is ClaimStatus.PAID:
        transition(claim, ClaimStatus.SUBMITTED, action=AuditAction.CLAIM_REOPENED, actor=actor,
                   reason=f"{describe(item)} left {format_money(owed)} owed by the payer"[:500])
