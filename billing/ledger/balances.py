"""Reads of the ledger: balances are sums of entries, never stored. The Reports work builds on these."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import Row, exists, func, select, true
from sqlalchemy.orm import selectinload

from billing.claims.models import Claim, ClaimLine
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.core.money import ZERO, format_money, to_money
from billing.ledger.models import (
    ADJUSTMENTS,
    EFFECTS,
    REVERSAL_CODE,
    Adjudication,
    AdjudicationLine,
    EntryKind,
    LedgerEntry,
)


@dataclass
class Balances:
    """Totals of one claim or line. `balance` = charges - payments - adjustments - transfers out."""

    by_kind: dict[EntryKind, Decimal] = field(default_factory=dict)
    insurance: Decimal = ZERO  # still owed by the payer
    patient: Decimal = ZERO  # owed by the patient / responsible party

    def add(self, kind: EntryKind, amount: Decimal) -> None:
        amount = to_money(amount)
        self.by_kind[kind] = self.by_kind.get(kind, ZERO) + amount
        to_insurance, to_patient = EFFECTS[kind]
        self.insurance += to_insurance * amount
        self.patient += to_patient * amount

    def of(self, *kinds: EntryKind) -> Decimal:
        return to_money(sum((self.by_kind.get(k, ZERO) for k in kinds), ZERO))

    @property
    def balance(self) -> Decimal:
        return to_money(self.insurance + self.patient)

    @property
    def charges(self) -> Decimal:
        return self.of(EntryKind.CHARGE)

    @property
    def paid_by_payer(self) -> Decimal:
        return self.of(EntryKind.INSURANCE_PAYMENT)

    @property
    def paid_by_patient(self) -> Decimal:
        return self.of(EntryKind.PATIENT_PAYMENT)

    @property
    def adjustments(self) -> Decimal:
        return self.of(*ADJUSTMENTS)


def _sums(query: Sequence[tuple[int | None, EntryKind, Decimal]]) -> dict[int | None, Balances]:
    result: dict[int | None, Balances] = defaultdict(Balances)
    for key, kind, amount in query:
        result[key].add(kind, amount)
    return dict(result)


def claim_balances(claim_ids: Iterable[int]) -> dict[int, Balances]:
    """Balances per claim, one query for many claims (a claim with no entries is absent)."""
    ids = list(claim_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(LedgerEntry.claim_id, LedgerEntry.kind, func.sum(LedgerEntry.amount))
        .where(any_of(LedgerEntry.claim_id, ids))
        .group_by(LedgerEntry.claim_id, LedgerEntry.kind)
    ).all()
    return _sums(rows)  # type: ignore[return-value]


def claim_balance(claim_id: int) -> Balances:
    return claim_balances([claim_id]).get(claim_id, Balances())


def line_balances(claim_id: int) -> dict[int | None, Balances]:
    """Per line of one claim; key None holds claim-level adjustments."""
    rows = db.session.execute(
        select(LedgerEntry.claim_line_id, LedgerEntry.kind, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.claim_id == claim_id)
        .group_by(LedgerEntry.claim_line_id, LedgerEntry.kind)
    ).all()
    return _sums(rows)  # type: ignore[arg-type]


def lines_with_charges(claim_ids: Iterable[int]) -> set[int]:
    return set(
        db.session.scalars(
            select(LedgerEntry.claim_line_id).where(
                any_of(LedgerEntry.claim_id, claim_ids), LedgerEntry.kind == EntryKind.CHARGE,
                LedgerEntry.reverses_id.is_(None),
            )
        )
    )


def line_charges(claim_ids: Iterable[int]) -> list[Row[tuple[int, int, Decimal]]]:
    """(line id, claim id, charge) of every line of these claims, in claim and line order: what a bill posts."""
    return list(db.session.execute(
        select(ClaimLine.id, ClaimLine.claim_id, ClaimLine.charge)
        .where(any_of(ClaimLine.claim_id, claim_ids)).order_by(ClaimLine.claim_id, ClaimLine.line_number)
    ))


def entries_for_claim(claim_id: int) -> list[LedgerEntry]:
    return list(
        db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.claim_id == claim_id).order_by(LedgerEntry.id)
            .options(selectinload(LedgerEntry.claim_line))
        )
    )


def reversed_entry_ids(claim_id: int) -> set[int]:
    """Entries of the claim that a later entry reverses ("marked reversed" is derived, never written)."""
    return set(
        db.session.scalars(
            select(LedgerEntry.reverses_id).where(
                LedgerEntry.claim_id == claim_id, LedgerEntry.reverses_id.is_not(None)
            )
        )
    )


def is_reversed(entry: LedgerEntry) -> bool:
    return db.session.scalar(select(exists().where(LedgerEntry.reverses_id == entry.id))) or False


def entries_between(start: date, end: date, kinds: Iterable[EntryKind] | None = None) -> list[LedgerEntry]:
    """Entries posted in [start, end], oldest first; reversals are rows of their own (`reverses_id` set)."""
    query = select(LedgerEntry).where(LedgerEntry.posted_on.between(start, end))
    if kinds is not None:
        query = query.where(LedgerEntry.kind.in_(list(kinds)))
    return list(db.session.scalars(query.order_by(LedgerEntry.posted_on, LedgerEntry.id)))


def totals_between(start: date, end: date) -> dict[tuple[EntryKind, bool], Decimal]:
    """Sum per (kind, is reversal) of entries posted in [start, end]: revenue reports show reversals apart."""
    is_reversal = LedgerEntry.reverses_id.is_not(None)
    rows = db.session.execute(
        select(LedgerEntry.kind, is_reversal, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.posted_on.between(start, end))
        .group_by(LedgerEntry.kind, is_reversal)
    ).all()
    return {(kind, bool(rev)): to_money(total) for kind, rev, total in rows}


def adjudications_for(claim_id: int) -> list[Adjudication]:
    return list(
        db.session.scalars(
            select(Adjudication).where(Adjudication.claim_id == claim_id).order_by(Adjudication.id)
            .options(selectinload(Adjudication.lines), selectinload(Adjudication.adjustments))
        )
    )


def standing_adjudication(claim_id: int, payer_id: int | None = None) -> Adjudication | None:
    """The latest adjudication of the claim that is neither a reversal (of it all or of lines) nor reversed."""
    reversed_ids = select(Adjudication.reverses_id).where(Adjudication.reverses_id.is_not(None))
    query = select(Adjudication).where(
        Adjudication.claim_id == claim_id, Adjudication.reverses_id.is_(None), Adjudication.id.not_in(reversed_ids),
        Adjudication.status_code != REVERSAL_CODE,
    )
    if payer_id is not None:
        query = query.where(Adjudication.payer_id == payer_id)
    return db.session.scalar(query.order_by(Adjudication.id.desc()).limit(1))


def allowed_total(claim_id: int) -> Decimal:
    """Allowed amounts (AMT*B6 or typed) of the adjudications still standing."""
    reversed_ids = select(Adjudication.reverses_id).where(Adjudication.reverses_id.is_not(None))
    total = db.session.scalar(
        select(func.sum(AdjudicationLine.allowed))
        .join(Adjudication, Adjudication.id == AdjudicationLine.adjudication_id)
        .where(Adjudication.claim_id == claim_id, Adjudication.reverses_id.is_(None),
               Adjudication.id.not_in(reversed_ids))
    )
    return to_money(total or 0)


def credit_reason(balances: Balances) -> str | None:
    """Rule 8: a claim owing less than nothing on a side (the same money twice, a payment after a write-off) is a
    biller's to look at, never silent. Says which side and how much; None when neither side is a credit."""
    sides = [f"{side} {format_money(amount)}" for side, amount in (("insurance", balances.insurance),
                                                                   ("patient", balances.patient)) if amount < ZERO]
    if not sides:
        return None
    return (f"credit balance ({', '.join(sides)}): more was paid or adjusted than was owed; find what was posted "
            f"twice, or what is owed back")


def money_received(claim_id: int) -> str | None:
    """What a void does with the money already received on a claim, in words; None when nothing was received."""
    sums = claim_balance(claim_id)
    payer, family = sums.paid_by_payer, sums.paid_by_patient
    if payer == ZERO and family == ZERO:
        return None
    said = []
    if payer != ZERO:
        said.append(f"the payer paid {format_money(payer)}: it stays on the claim as a credit until the payer's "
                    "recoupment (its reversal) takes it back")
    if family != ZERO:
        said.append(f"the patient paid {format_money(family)}: it becomes a patient credit to refund or apply "
                    "elsewhere")
    return "; ".join(said)


def has_money(session_id: int) -> bool:
    """Whether any claim line of this session carries a payment or an adjustment (not just its charge)."""
    return db.session.scalar(
        select(exists().where(
            LedgerEntry.claim_line_id == ClaimLine.id, ClaimLine.session_id == session_id,
            LedgerEntry.kind != EntryKind.CHARGE,
        ))
    ) or False


def session_money_refusal(session_id: int) -> str | None:
    """Why a session may not be deleted because of its claims' money (the claims layer asks through a hook)."""
    if has_money(session_id):
        return "it has payments or adjustments; cancel it with a session class instead"
    return None


def open_balances(claim_ids: Iterable[int] | None = None) -> dict[int, Balances]:
    """Claims whose balance is not zero (A/R), optionally among `claim_ids`."""
    ids = list(claim_ids) if claim_ids is not None else list(db.session.scalars(
        select(LedgerEntry.claim_id).distinct()))
    return {cid: b for cid, b in claim_balances(ids).items() if b.balance != ZERO}


def claims_needing_review() -> list[Claim]:
    return list(db.session.scalars(select(Claim).where(Claim.needs_review == true()).order_by(Claim.id)))


def billing_summary(claim: Claim) -> dict[str, Decimal]:
    """Billed, allowed, adjustments, payments and balances: sums of the claim's ledger entries."""
    sums = claim_balance(claim.id) if claim.id else None
    if sums is None or not sums.by_kind:  # nothing billed into the ledger yet
        billed = to_money(claim.total_charge)
        return {"billed": billed, "allowed": ZERO, "adjustments": ZERO, "paid_by_payer": ZERO,
                "paid_by_patient": ZERO, "patient_responsibility": ZERO, "insurance_balance": billed,
                "patient_balance": ZERO, "balance": billed}
    return {
        "billed": sums.charges,
        "allowed": allowed_total(claim.id),
        "adjustments": sums.adjustments,
        "paid_by_payer": sums.paid_by_payer,
        "paid_by_patient": sums.paid_by_patient,
        "patient_responsibility": to_money(sums.patient),
        "insurance_balance": to_money(sums.insurance),
        "patient_balance": to_money(sums.patient),
        "balance": sums.balance,
    }
