"""Posting money: an adjudication (835 CLP or typed EOB) becomes ledger entries; reversals, write-offs.

Operations check first, write second, flush, and never commit: callers wrap them in `unit_of_work()`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.claims.line_denials import WORKABLE, LineDenialState, set_line_denial
from billing.claims.models import Claim, ClaimLine
from billing.claims.queries import lock_claim
from billing.claims.statuses import SENT
from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.errors import Invalid, NotAllowed, NothingToDo, Problem, raise_if
from billing.core.money import ZERO, format_money, sum_money, to_money
from billing.ledger.balances import Balances, claim_balance, credit_reason, line_balances
from billing.ledger.models import EntryKind, EntrySource, LedgerEntry
from billing.ledger.operations import post_charges
from billing.ledger.patient_bills import settle_self_pay
from billing.ledger.postings import ClaimPosting, PostingResult
from billing.ledger.rows import entry_values
from billing.payments.dates import money_date_problems
from billing.payments.denials import line_reasons
from billing.payments.posting import flag_for_review, post_adjudication
from billing.payments.reversals import manual_clawback, standing_payments


def _entry(claim: Claim, line: ClaimLine | None, kind: EntryKind, amount: Decimal, *, actor: Actor,
           posted_on: date, source: EntrySource, memo: str | None = None) -> LedgerEntry:
    return LedgerEntry(**entry_values(claim_id=claim.id, line_id=line.id if line is not None else None, kind=kind,
                                      amount=amount, actor=actor, posted_on=posted_on, source=source,
                                      payer_id=claim.payer_id, memo=memo))


def clear_needs_review(claim: Claim, *, actor: Actor, note: str | None = None) -> None:
    """A biller confirmed the balance and responsibility after a reversal."""
    if not claim.needs_review:
        raise NothingToDo(f"Claim {claim.number} is not flagged for review.")
    claim.needs_review = False
    record_change("claim", claim.id, AuditAction.CLAIM_REVIEWED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=note)


# --- write-offs and the patient's part ---------------------------------------------------------------------

def write_off(claim: Claim, *, reason: str, actor: Actor, posted_on: date, patient: bool = False,
              amount: Decimal | None = None) -> list[LedgerEntry]:
    """Write off the insurance (or patient) balance, all of it unless an amount is given; a reason is required."""
    if not reason or not reason.strip():
        raise Invalid("A write-off needs a reason.")
    kind = EntryKind.PATIENT_WRITE_OFF if patient else EntryKind.WRITE_OFF
    entries = _allocate(claim, kind, amount, patient=patient, actor=actor, posted_on=posted_on, memo=reason.strip())
    if not patient:
        _close_settled_lines(claim, entries, LineDenialState.WRITTEN_OFF, actor=actor, reason=reason.strip())
    record_change("claim", claim.id, AuditAction.WRITTEN_OFF, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=reason.strip()[:500],
                  data={"amount": str(sum_money(e.amount for e in entries)), "patient": patient})
    flag_credit(claim, actor=actor)
    settle_self_pay(claim, actor=actor)
    return entries


def record_patient_payment(claim: Claim, amount: Decimal, *, actor: Actor, posted_on: date,
                           memo: str | None = None, overpayment: bool = False) -> list[LedgerEntry]:
    """Money from the patient or responsible party, applied to the lines they owe on, oldest line first.

    More than they owe is taken only as a confirmed `overpayment`: the rest stays on the last line as a patient
    credit (flagged Needs Review) to refund or apply to another claim from Credit Balances.
    """
    entries = _allocate(claim, EntryKind.PATIENT_PAYMENT, amount, patient=True, actor=actor, posted_on=posted_on,
                        memo=memo, excess=overpayment)
    record_change("claim", claim.id, AuditAction.PAYMENT_POSTED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=memo, data={"patient_paid": str(to_money(amount))})
    flag_credit(claim, actor=actor)
    settle_self_pay(claim, actor=actor)  # a self-pay claim is Paid once the patient owes nothing
    return entries


def bill_patient(claim: Claim, *, actor: Actor, posted_on: date, reason: str | None = None) -> list[LedgerEntry]:
    """The insurance balance becomes the patient's (a true denial the practice passes on to the family)."""
    entries = _allocate(claim, EntryKind.PATIENT_RESPONSIBILITY, None, patient=False, actor=actor,
                        posted_on=posted_on, memo=reason or "billed to the patient")
    _close_settled_lines(claim, entries, LineDenialState.BILLED_TO_PATIENT, actor=actor,
                         reason=reason or "claim balance billed to the patient")
    record_change("claim", claim.id, AuditAction.PATIENT_BILLED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=reason, data={"amount": str(sum_money(e.amount for e in entries))})
    flag_credit(claim, actor=actor)
    return entries


def _allocate(claim: Claim, kind: EntryKind, amount: Decimal | None, *, patient: bool, actor: Actor,
              posted_on: date, memo: str | None, excess: bool = False) -> list[LedgerEntry]:
    lock_claim(claim)
    if claim.status not in SENT:
        raise NotAllowed(f"Claim {claim.number} is {claim.status.label}; nothing has been billed to collect on.")
    post_charges(claim, actor=actor, posted_on=posted_on)
    db.session.flush()
    balances = line_balances(claim.id)
    owed = {ln.id: (balances.get(ln.id) or Balances()) for ln in claim.lines}
    side = {lid: (b.patient if patient else b.insurance) for lid, b in owed.items()}
    available = sum_money(v for v in side.values() if v > ZERO)
    wanted = available if amount is None else to_money(amount)
    who = "patient" if patient else "insurance"
    if wanted <= ZERO or (available <= ZERO and not excess):
        raise NothingToDo(f"Claim {claim.number} has no {who} balance to apply this to.")
    if wanted > available and not excess:
        raise_if([Problem("overpayment", f"{format_money(wanted)} is more than the {who} balance of "
                                f"{format_money(available)}; if that much was paid, confirm the overpayment.")])
    entries, left = [], wanted
    for number, line in enumerate(claim.lines, start=1):
        share = min(left, side[line.id]) if side[line.id] > ZERO else ZERO
        if number == len(claim.lines):
            share = left  # a confirmed overpayment: what they owed nowhere stays on the last line, a credit
        if share > ZERO:
            entries.append(_entry(claim, line, kind, share, actor=actor, posted_on=posted_on,
                                  source=EntrySource.MANUAL, memo=memo))
            left -= share
    db.session.add_all(entries)
    db.session.flush()
    return entries


def flag_credit(claim: Claim, *, actor: Actor) -> None:
    """Rule 8 after a biller's own movement of money, as posting does after an adjudication: a claim left owing
    less than nothing on a side is flagged Needs Review (with why), never silent."""
    credit = credit_reason(claim_balance(claim.id))
    if credit:
        flag_for_review(claim, [credit], actor=actor)


# --- one denied line (rule 3): write it off, or bill it to the patient ---------------------------------------

def write_off_denied_line(claim: Claim, line_number: int, *, reason: str, actor: Actor,
                          posted_on: date) -> LedgerEntry:
    """Write off a denied line's open insurance balance; a reason is required, and a second write-off of the
    same line posts nothing (the line is no longer open)."""
    if not reason or not reason.strip():
        raise_if([Problem("reason", "Say why the denied line is written off.")])
    line, amount = _workable_line(claim, line_number)
    entry = _entry(claim, line, EntryKind.WRITE_OFF, amount, actor=actor, posted_on=posted_on,
                   source=EntrySource.MANUAL, memo=reason.strip())
    db.session.add(entry)
    set_line_denial(line, LineDenialState.WRITTEN_OFF, actor=actor, reason=reason.strip(),
                    data={"amount": str(amount)})
    record_change("claim", claim.id, AuditAction.WRITTEN_OFF, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=reason.strip()[:500],
                  data={"amount": str(amount), "patient": False, "line": line_number})
    db.session.flush()
    flag_credit(claim, actor=actor)
    return entry


def bill_patient_for_denied_line(claim: Claim, line_number: int, *, actor: Actor, posted_on: date,
                                 reason: str | None = None, override_reason: str | None = None) -> LedgerEntry:
    """Move a denied line's open insurance balance to the patient. A CO denial is the provider's loss and the
    patient may not be billed for it: refused unless a biller overrides it with a reason (kept in history)."""
    line, amount = _workable_line(claim, line_number)
    carcs, _ = line_reasons([line.id]).get(line.id, ([], []))
    contractual = [str(c) for c in carcs if c.group == "CO"]
    override = (override_reason or "").strip()
    if contractual and not override:
        raise NotAllowed(f"Line {line_number} of {claim.number} is denied as CO ({'; '.join(contractual)}): the "
                         f"patient may not be billed for it. Write it off, resubmit it, or give an override reason.")
    why = override or (reason or "").strip() or "denied line billed to the patient"
    entry = _entry(claim, line, EntryKind.PATIENT_RESPONSIBILITY, amount, actor=actor, posted_on=posted_on,
                   source=EntrySource.MANUAL, memo=why)
    db.session.add(entry)
    data = {"amount": str(amount), **({"override": override, "groups": "CO"} if contractual else {})}
    set_line_denial(line, LineDenialState.BILLED_TO_PATIENT, actor=actor, reason=why, data=data)
    record_change("claim", claim.id, AuditAction.PATIENT_BILLED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=why[:500], data={**data, "line": line_number})
    db.session.flush()
    flag_credit(claim, actor=actor)
    return entry


def appeal_denied_line(claim: Claim, line_number: int, *, actor: Actor, reason: str) -> None:
    """A written appeal went to the payer: the line stays in the Denied work, marked appealed."""
    if not reason or not reason.strip():
        raise_if([Problem("reason", "Say how and when the line was appealed.")])
    line = _denied_line(claim, line_number)
    if line.denial_state is LineDenialState.APPEALED:
        raise NothingToDo(f"Line {line_number} of {claim.number} is already appealed.")
    set_line_denial(line, LineDenialState.APPEALED, actor=actor, reason=reason.strip())


def _denied_line(claim: Claim, line_number: int) -> ClaimLine:
    lock_claim(claim)
    if claim.status not in SENT:
        raise NotAllowed(f"Claim {claim.number} is {claim.status.label}; its lines are not worked.")
    line = next((ln for ln in claim.lines if ln.line_number == line_number), None)
    if line is None:
        raise_if([Problem("line", f"Claim {claim.number} has no line {line_number}.")])
    assert line is not None
    if line.denial_state is None:
        raise NotAllowed(f"Line {line_number} of {claim.number} is not a denied line.")
    if line.denial_state not in WORKABLE:
        raise NothingToDo(f"Line {line_number} of {claim.number} is already {line.denial_state.label.lower()}; "
                          "nothing was posted.")
    return line


def _workable_line(claim: Claim, line_number: int) -> tuple[ClaimLine, Decimal]:
    """The denied line still to be worked and its open insurance balance (refused when nothing is open)."""
    line = _denied_line(claim, line_number)
    db.session.flush()
    owed = line_balances(claim.id).get(line.id) or Balances()
    if owed.insurance <= ZERO:
        raise NothingToDo(f"Line {line_number} of {claim.number} has no insurance balance open.")
    return line, to_money(owed.insurance)


def _close_settled_lines(claim: Claim, entries: list[LedgerEntry], to: LineDenialState, *, actor: Actor,
                         reason: str) -> None:
    """A claim-wide write-off or patient billing that leaves nothing open on a denied line decides it too."""
    touched = {e.claim_line_id for e in entries}
    lines = [ln for ln in claim.lines if ln.id in touched and ln.denial_state in WORKABLE]
    if not lines:
        return
    balances = line_balances(claim.id)
    for line in lines:
        if (balances.get(line.id) or Balances()).insurance <= ZERO:
            set_line_denial(line, to, actor=actor, reason=reason, data={"claim_wide": True})


def record_manual_payment(claim: Claim, posting: ClaimPosting, *, actor: Actor, mode: str = "",
                          overpayment: bool = False) -> PostingResult:
    """Record Payment from a paper EOB. When a payment already stands, the biller must say whether this one
    replaces it ("replace": reversal and new payment in one step, how an entry is "edited") or adds to it.

    A payment above what the payer still owes is posted only when the biller says it is an overpayment
    (`overpayment`); it then leaves a credit, flagged Needs Review (rule 8), for the Credit Balances worklist.
    """
    lock_claim(claim)
    raise_if(money_date_problems(claim, posting.paid_on, "paid_on", "The payment date"))
    standing = standing_payments(claim.id)
    if standing and mode not in ("replace", "add"):
        raise_if([Problem("mode", "A payment is already posted on this claim: choose whether this one replaces "
                                  "it (reversal + new payment) or adds to it.")])
    if not overpayment and mode != "replace":
        raise_if(_overpayment_problems(claim, posting))
    if standing and mode == "replace":
        result = manual_clawback(claim, reason=posting.memo or "payment corrected", posted_on=posting.paid_on,
                                 actor=actor, payments=standing[-1:], corrected=posting).corrected
        assert result is not None
        return result
    return post_adjudication(claim, posting, actor=actor, source=EntrySource.MANUAL)


def _overpayment_problems(claim: Claim, posting: ClaimPosting) -> list[Problem]:
    """What the payer pays beyond its open balance, as a problem to confirm (nothing to say when within it)."""
    db.session.flush()
    sums = claim_balance(claim.id)
    owed = sums.insurance if sums.by_kind else claim.total_charge
    paid = sum_money(lp.paid for lp in posting.lines)
    if paid <= max(owed, ZERO):
        return []
    return [Problem("overpayment", f"Paid {format_money(paid)} is more than the {format_money(max(owed, ZERO))} the "
                                   "payer still owes. If the payer really overpaid, tick “This is an overpayment”: "
                                   "the claim keeps a credit and is flagged Needs Review.")]
