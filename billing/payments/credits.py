"""Credit balances: claims where the payer or the patient paid more than was owed, and what the office does about it.

A credit is a side's balance below zero (billing.ledger.balances: insurance or patient). Posting flags such a claim
Needs Review (posting rule 8); this module finds them all, says since when and why, and records what is done:

- a refund to the payer or to the patient / responsible party (a ledger entry of its own kind that raises the
  negative balance back toward zero, never beyond it);
- a patient credit applied to another claim of the same client (one entry out of this claim, one into the other).

The Needs Review flag is left as it is: a biller clears it once the claim is settled (clear-review), because a
credit is often one symptom among others (a payment posted twice, a missing reversal) that the refund does not fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Numeric, Select, and_, case, func, or_, select

from billing.claims.models import Claim, claim_number
from billing.claims.statuses import ClaimStatus
from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.errors import NotAllowed, NothingToDo, Problem, raise_if
from billing.core.id_lists import any_of
from billing.core.money import ZERO, format_money, parse_amount, sum_money, to_money
from billing.core.time import practice_today
from billing.coverage.models import Payer
from billing.ledger.balances import Balances, line_balances
from billing.ledger.models import EFFECTS, Adjudication, ClaimBalance, EntryKind, EntrySource, LedgerEntry
from billing.ledger.patient_bills import settle_self_pay
from billing.ledger.rows import entry_values
from billing.payments.models import Remittance
from billing.people.models import Client

#: The longest check number or reference kept; with the reason it fills the entry's 500-character memo.
REFERENCE_MAX = 50
REASON_MAX = 400


class Side(StrEnum):
    """Whose money a credit is: the payer's or the patient's (and so to whom a refund goes)."""

    INSURANCE = "insurance"
    PATIENT = "patient"

    @property
    def label(self) -> str:
        return "Insurance" if self is Side.INSURANCE else "Patient"


REFUND_KIND = {Side.INSURANCE: EntryKind.INSURANCE_REFUND, Side.PATIENT: EntryKind.PATIENT_REFUND}


def side_amount(side: Side) -> ColumnElement[Decimal]:
    """SQL for one entry's effect on a side's balance, with the signs of ledger.models.EFFECTS."""
    index = 0 if side is Side.INSURANCE else 1
    signs = {kind: effect[index] for kind, effect in EFFECTS.items() if effect[index]}
    return case(*((LedgerEntry.kind == kind, LedgerEntry.amount * sign) for kind, sign in signs.items()), else_=0)


def _rounded(amount: ColumnElement[Any]) -> ColumnElement[Decimal]:
    # SQLite sums NUMERIC as floats: compare sums only once they are rounded to the cent.
    return func.round(amount, 2, type_=Numeric(12, 2))


# --- the worklist -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CreditOrigin:
    """The entry that took a side below zero (the start of the credit still standing) and what it came from."""

    since: date
    kind: EntryKind
    amount: Decimal
    source: EntrySource
    memo: str | None
    check_number: str | None

    def describe(self) -> str:
        what = f"{self.kind.label} {format_money(self.amount)} posted {self.since:%m/%d/%Y}"
        if self.check_number:
            what += f" (835 check {self.check_number})"
        elif self.memo:
            what += f" ({self.memo})"
        return what


@dataclass(frozen=True)
class CreditBalance:
    """One claim with a credit on one side or both. Credits are positive amounts: what is owed back."""

    claim_id: int
    service_date: date
    status: ClaimStatus
    needs_review: bool
    client_id: int
    client: str
    payer: str
    insurance_credit: Decimal
    patient_credit: Decimal
    origins: dict[Side, CreditOrigin] = field(default_factory=dict)

    @property
    def number(self) -> str:
        return claim_number(self.claim_id)

    def credit(self, side: Side) -> Decimal:
        return self.insurance_credit if side is Side.INSURANCE else self.patient_credit

    @property
    def sides(self) -> list[Side]:
        return [side for side in Side if self.credit(side) > ZERO]

    def age(self, side: Side, today: date) -> int | None:
        """Days since the credit on this side arose."""
        origin = self.origins.get(side)
        return (today - origin.since).days if origin else None

    def as_dict(self, today: date) -> dict[str, Any]:
        return {"claim": self.number, "client": self.client, "payer": self.payer,
                "service_date": self.service_date.isoformat(), "status": self.status.value,
                "needs_review": self.needs_review,
                **{f"{side.value}_credit": str(self.credit(side)) for side in Side},
                "credits": [{"side": side.value, "amount": str(self.credit(side)), "age_days": self.age(side, today),
                             "since": self.origins[side].since.isoformat() if side in self.origins else None,
                             "why": self.origins[side].describe() if side in self.origins else None}
                            for side in self.sides]}


@dataclass(frozen=True)
class CreditPage:
    """A page of the worklist, with how many claims and how much credit per side the whole list holds."""

    rows: list[CreditBalance]
    count: int
    insurance_total: Decimal
    patient_total: Decimal


def _credit_sums(where: Sequence[ColumnElement[bool]], side: Side | None) -> Any:
    """Per claim in `where` (conditions on Claim): the two side balances, keeping the claims with a credit.

    Read from `claim_balance` (kept by the ledger's trigger) through its partial indexes, so the list costs the
    claims in credit, not the ledger. `patient <> 0` is spelled beside `patient < 0` so that the planners see the
    partial index's condition in the query (SQLite does not derive one from the other)."""
    b = ClaimBalance
    patient_credit = and_(b.patient != 0, b.patient < 0)
    wanted = {Side.INSURANCE: b.insurance < 0, Side.PATIENT: patient_credit,
              None: or_(b.insurance < 0, patient_credit)}
    return (
        select(b.claim_id, b.insurance.label("insurance"), b.patient.label("patient"))
        .join(Claim, Claim.id == b.claim_id)
        .where(*where, wanted[side])
        .subquery()
    )


def credit_balances(where: Sequence[ColumnElement[bool]] = (), *, side: Side | None = None, limit: int | None = None,
                    offset: int = 0) -> CreditPage:
    """Claims with a credit, oldest service first: sums and totals in SQL, so the list stays fast on a big ledger.

    Args:
        where: conditions on Claim (scope, payer, client).
        side: only claims with a credit on this side (both sides otherwise).
    """
    sums = _credit_sums(where, side)
    count, insurance_total, patient_total = db.session.execute(select(
        func.count(), func.coalesce(func.sum(case((sums.c.insurance < 0, -sums.c.insurance), else_=0)), 0),
        func.coalesce(func.sum(case((sums.c.patient < 0, -sums.c.patient), else_=0)), 0),
    ).select_from(sums)).one()
    query = _listing(sums).offset(offset)
    rows = db.session.execute(query.limit(limit) if limit is not None else query).all()
    origins = credit_origins([r.id for r in rows])
    page = [_credit_balance(r, origins) for r in rows]
    return CreditPage(page, count, to_money(insurance_total), to_money(patient_total))


def iter_credit_balances(where: Sequence[ColumnElement[bool]] = (), *, batch: int = 2000) -> Iterator[CreditBalance]:
    """Every claim in credit, oldest service first, read `batch` claims at a time with their origins: an export of
    all of them never holds the list (credit_balances' pages count and total it first, which an export needs not)."""
    result = db.session.execute(_listing(_credit_sums(where, None)).execution_options(yield_per=batch))
    for rows in result.partitions():
        origins = credit_origins([r.id for r in rows])
        yield from (_credit_balance(r, origins) for r in rows)


def _credit_balance(r: Any, origins: dict[int, dict[Side, CreditOrigin]]) -> CreditBalance:
    return CreditBalance(
        claim_id=r.id, service_date=r.service_date, status=r.status, needs_review=r.needs_review, client_id=r.client_id,
        client=f"{r.last_name}, {r.first_name}", payer=r.payer or "(self-pay)",
        insurance_credit=max(-to_money(r.insurance), ZERO), patient_credit=max(-to_money(r.patient), ZERO),
        origins=origins.get(r.id, {}))


def _listing(sums: Any) -> Select[Any]:
    return (
        select(Claim.id, Claim.service_date, Claim.status, Claim.needs_review, Claim.client_id, Client.last_name,
               Client.first_name, Payer.name.label("payer"), sums.c.insurance, sums.c.patient)
        .join(sums, sums.c.claim_id == Claim.id)
        .join(Client, Client.id == Claim.client_id)
        .outerjoin(Payer, Payer.id == Claim.payer_id)
        .order_by(Claim.service_date, Claim.id)
    )


def credit_origins(claim_ids: Iterable[int]) -> dict[int, dict[Side, CreditOrigin]]:
    """For each claim, per side in credit: the entry whose posting took that side's running balance (in posting
    order) from zero or more to below zero for the last time, i.e. where the credit standing today began.

    One query with window functions over the claims' entries; only the crossing entries come back.
    """
    ids = list(claim_ids)
    if not ids:
        return {}
    order = (LedgerEntry.posted_on, LedgerEntry.id)
    running = {side: func.sum(side_amount(side)).over(partition_by=LedgerEntry.claim_id, order_by=order)
               for side in Side}
    steps = select(
        LedgerEntry.id, LedgerEntry.claim_id, LedgerEntry.posted_on, LedgerEntry.kind, LedgerEntry.amount,
        LedgerEntry.source, LedgerEntry.memo, LedgerEntry.adjudication_id,
        *(_rounded(running[side]).label(f"{side.value}_after") for side in Side),
        *(_rounded(running[side] - side_amount(side)).label(f"{side.value}_before") for side in Side),
    ).where(any_of(LedgerEntry.claim_id, ids)).subquery()
    crossed = {side: (steps.c[f"{side.value}_after"] < 0) & (steps.c[f"{side.value}_before"] >= 0) for side in Side}
    rows = db.session.execute(
        select(steps, Remittance.check_number, *(crossed[side].label(f"{side.value}_crossed") for side in Side))
        .outerjoin(Adjudication, Adjudication.id == steps.c.adjudication_id)
        .outerjoin(Remittance, Remittance.id == Adjudication.remittance_id)
        .where(or_(*crossed.values()))
        .order_by(steps.c.posted_on, steps.c.id)
    ).all()
    found: dict[int, dict[Side, CreditOrigin]] = {}
    for r in rows:  # oldest first, so the last crossing of each side wins
        for side in Side:
            if getattr(r, f"{side.value}_crossed"):
                found.setdefault(r.claim_id, {})[side] = CreditOrigin(
                    r.posted_on, r.kind, to_money(r.amount), r.source, r.memo, r.check_number)
    return found


def credit_of(claim: Claim) -> CreditBalance | None:
    """The claim's credits as the worklist shows them, or None when it has none."""
    page = credit_balances([Claim.id == claim.id])
    return page.rows[0] if page.rows else None


# --- refunds ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Refund:
    """What a biller typed: the side, how much, when it was sent, its check number or reference, and why."""

    side: Side
    amount: Decimal
    refunded_on: date
    reference: str
    reason: str

    @property
    def memo(self) -> str:
        return f"{self.reference}: {self.reason}"


def read_refund(side: str, amount: str, refunded_on: str, reference: str, reason: str) -> Refund:
    """A refund as typed in the form or on the command line, read strictly; every mistake is named at once.

    The amount is positive with at most two decimals (billing.core.money.parse_amount); the date is YYYY-MM-DD or
    MM/DD/YYYY, today when left empty.
    """
    problems: list[Problem] = []
    chosen = Side(side) if side in {s.value for s in Side} else None
    if chosen is None:
        problems.append(Problem("side", "Choose whose credit is refunded: insurance or patient."))
    value = read_amount(amount, "amount", "The refund amount", problems)
    day = read_day(refunded_on, "refunded_on", "The refund date", problems)
    raise_if(problems)
    assert chosen is not None
    assert value is not None
    return Refund(chosen, value, day, reference.strip(), reason.strip())


def read_amount(text: str, field_name: str, label: str, problems: list[Problem]) -> Decimal | None:
    if not (text or "").strip():
        problems.append(Problem(field_name, f"{label} is missing."))
        return None
    try:
        return parse_amount(text.strip().removeprefix("$"))
    except ValueError as exc:
        problems.append(Problem(field_name, f"{label}: {exc}"))
        return None


def read_day(text: str, field_name: str, label: str, problems: list[Problem]) -> date:
    text = (text or "").strip()
    if not text:
        return practice_today()
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    problems.append(Problem(field_name, f"{label}: {text[:40]!r} is not a date (MM/DD/YYYY)."))
    return practice_today()


def refund_problems(claim: Claim, refund: Refund) -> list[Problem]:
    """What is wrong with the refund as typed, before the ledger is read (all of it, at once)."""
    problems = []
    if refund.amount <= ZERO:
        problems.append(Problem("amount", "The refund amount must be more than zero."))
    if not refund.reference.strip():
        problems.append(Problem("reference", "Enter the refund's check number or reference."))
    elif len(refund.reference.strip()) > REFERENCE_MAX:
        problems.append(Problem("reference", f"The reference is longer than {REFERENCE_MAX} characters."))
    if not refund.reason.strip():
        problems.append(Problem("reason", "Say why the money is refunded (e.g. paid twice by the payer)."))
    elif len(refund.reason.strip()) > REASON_MAX:
        problems.append(Problem("reason", f"The reason is longer than {REASON_MAX} characters."))
    problems += date_problems(claim, refund.refunded_on, "refunded_on", "The refund date")
    return problems


def date_problems(claim: Claim, day: date, field_name: str, label: str) -> list[Problem]:
    if day > practice_today():
        return [Problem(field_name, f"{label} {day:%m/%d/%Y} is in the future.")]
    if day < claim.service_date:
        return [Problem(field_name, f"{label} {day:%m/%d/%Y} is before the service on {claim.service_date:%m/%d/%Y}.")]
    return []


def record_refund(claim: Claim, refund: Refund, *, actor: Actor) -> list[LedgerEntry]:
    """Send a credit back: refund entries on the lines in credit on that side, never more than the credit.

    The claim row is locked first, so two refunds of one credit cannot both pass the check. The Needs Review
    flag is not cleared (see the module docstring).
    """
    raise_if(refund_problems(claim, refund))
    lock_claims([claim])
    credits = _line_credits(claim, refund.side)
    _check_within(claim, refund.side, refund.amount, sum_money(credits.values()))
    entries = _spread_entries(claim, credits, refund.amount, REFUND_KIND[refund.side], actor=actor,
                              posted_on=refund.refunded_on, memo=refund.memo)
    record_change("claim", claim.id, AuditAction.CREDIT_REFUNDED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=refund.memo[:500],
                  data={"side": refund.side.value, "amount": str(refund.amount), "reference": refund.reference.strip(),
                        "refunded_on": refund.refunded_on.isoformat()})
    return entries


def lock_claims(claims: Iterable[Claim]) -> None:
    """SELECT ... FOR UPDATE on the claims, in id order (two transfers between the same claims cannot deadlock).

    On SQLite the transaction already holds the database's write lock (billing.core.db), which serialises too.
    """
    ids = sorted({c.id for c in claims})
    db.session.execute(select(Claim.id).where(any_of(Claim.id, ids)).order_by(Claim.id).with_for_update()).all()
    db.session.flush()


def _line_credits(claim: Claim, side: Side) -> dict[int | None, Decimal]:
    """The credit of each line in credit on this side (key None: claim-level entries), in line order."""
    balances = line_balances(claim.id)
    order = [ln.id for ln in claim.lines] + [None]
    credits = {key: -_side_of(balances.get(key) or Balances(), side) for key in order}
    return {key: to_money(amount) for key, amount in credits.items() if amount > ZERO}


def _side_of(balances: Balances, side: Side) -> Decimal:
    return to_money(balances.insurance if side is Side.INSURANCE else balances.patient)


def _check_within(claim: Claim, side: Side, amount: Decimal, line_credit: Decimal) -> None:
    """The claim's own credit on the side (lines owing money elsewhere on it net against the lines in credit)."""
    credit = min(line_credit, max(-_claim_side(claim, side), ZERO))
    if credit == ZERO:
        raise NothingToDo(f"Claim {claim.number} has no {side.value} credit; nothing was refunded.")
    if amount > credit:
        raise_if([Problem("amount", f"{format_money(amount)} is more than the {side.value} credit of "
                                    f"{format_money(credit)} on {claim.number}.")])


def _claim_side(claim: Claim, side: Side) -> Decimal:
    total = db.session.scalar(select(func.coalesce(func.sum(side_amount(side)), 0))
                              .where(LedgerEntry.claim_id == claim.id))
    return to_money(total or 0)


def _spread_entries(claim: Claim, shares_of: dict[int | None, Decimal], amount: Decimal, kind: EntryKind, *,
                    actor: Actor, posted_on: date, memo: str) -> list[LedgerEntry]:
    """Entries of `kind` adding up to `amount`, each line taking at most its share, in line order."""
    entries, left = [], to_money(amount)
    for line_id, share in shares_of.items():
        part = min(left, share)
        if part <= ZERO:
            break
        payer_id = claim.payer_id if kind is EntryKind.INSURANCE_REFUND else None  # the patient's money names no payer
        entries.append(LedgerEntry(**entry_values(
            claim_id=claim.id, line_id=line_id, kind=kind, amount=part, actor=actor, posted_on=posted_on,
            source=EntrySource.MANUAL, payer_id=payer_id, memo=memo)))
        left -= part
    db.session.add_all(entries)
    db.session.flush()
    return entries


# --- a patient credit applied to another claim of the same client --------------------------------------------

@dataclass(frozen=True)
class CreditApplied:
    """What a transfer posted: out of the claim in credit, into the claim the patient owed on."""

    source: Claim
    target: Claim
    amount: Decimal
    entries_out: list[LedgerEntry]
    entries_in: list[LedgerEntry]


def apply_patient_credit(source: Claim, target: Claim, amount: Decimal, *, actor: Actor, posted_on: date,
                         reason: str) -> CreditApplied:
    """Use the patient's credit on `source` to pay what the same client (so the same responsible party) owes on
    `target`: no more than the credit, and no more than is owed there (no credit is made on the other claim)."""
    raise_if(_transfer_problems(source, target, amount, posted_on, reason))
    lock_claims([source, target])
    credits = _line_credits(source, Side.PATIENT)
    _check_within(source, Side.PATIENT, amount, sum_money(credits.values()))
    owed = _patient_owed(target)
    if amount > sum_money(owed.values()):
        raise_if([Problem("amount", f"{format_money(amount)} is more than the {format_money(sum_money(owed.values()))}"
                                    f" the patient owes on {target.number}.")])
    memo = f"to {target.number}: {reason.strip()}"
    out = _spread_entries(source, credits, amount, EntryKind.PATIENT_CREDIT_OUT, actor=actor, posted_on=posted_on,
                          memo=memo)
    into = _spread_entries(target, owed, amount, EntryKind.PATIENT_CREDIT_IN, actor=actor, posted_on=posted_on,
                           memo=f"from {source.number}: {reason.strip()}")
    for claim, other, direction in ((source, target, "to"), (target, source, "from")):
        record_change("claim", claim.id, AuditAction.CREDIT_APPLIED, actor=actor, before=claim.status.value,
                      after=claim.status.value, reason=f"patient credit {format_money(amount)} {direction} "
                      f"{other.number}: {reason.strip()}"[:500],
                      data={"amount": str(amount), direction: other.number, "posted_on": posted_on.isoformat()})
    settle_self_pay(target, actor=actor)  # a credit that pays a self-pay claim off settles it, as a payment does
    return CreditApplied(source, target, to_money(amount), out, into)


def _transfer_problems(source: Claim, target: Claim, amount: Decimal, posted_on: date, reason: str) -> list[Problem]:
    problems = []
    if target.id == source.id:
        problems.append(Problem("target", "Choose another claim than the one in credit."))
    elif target.client_id != source.client_id:
        problems.append(Problem("target", f"{target.number} is another client's claim; a patient credit pays only "
                                          "the same client's (and responsible party's) claims."))
    if amount <= ZERO:
        problems.append(Problem("amount", "The amount to apply must be more than zero."))
    if not reason.strip():
        problems.append(Problem("reason", "Say why the credit is applied (e.g. the family asked to)."))
    elif len(reason.strip()) > REASON_MAX:
        problems.append(Problem("reason", f"The reason is longer than {REASON_MAX} characters."))
    return problems + date_problems(source, posted_on, "posted_on", "The date")


def _patient_owed(claim: Claim) -> dict[int | None, Decimal]:
    """What the patient owes on each line of `claim` (lines owing nothing left out)."""
    if claim.status is ClaimStatus.VOIDED:
        raise NotAllowed(f"Claim {claim.number} is voided; a credit is not applied to it.")
    balances = line_balances(claim.id)
    owed = {ln.id: _side_of(balances.get(ln.id) or Balances(), Side.PATIENT) for ln in claim.lines}
    owed = {line_id: amount for line_id, amount in owed.items() if amount > ZERO}
    if not owed:
        raise NothingToDo(f"The patient owes nothing on {claim.number}; nothing was applied.")
    return dict(owed)


def patient_claims_owing(client_id: int, *, besides: int) -> list[tuple[Claim, Decimal]]:
    """The client's other claims on which the patient owes money, with how much (where a credit can go)."""
    owed = _rounded(func.sum(side_amount(Side.PATIENT)))
    rows = db.session.execute(
        select(Claim, owed.label("owed")).join(LedgerEntry, LedgerEntry.claim_id == Claim.id)
        .where(Claim.client_id == client_id, Claim.id != besides, Claim.status != ClaimStatus.VOIDED)
        .group_by(Claim.id).having(owed > 0).order_by(Claim.service_date, Claim.id)
    ).all()
    return [(claim, to_money(amount)) for claim, amount in rows]
