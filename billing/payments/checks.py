"""Post a check: one payer's paper check (or EFT) posted across the claims its EOB pays, in one transaction.

Each claim's part goes through `record_manual_payment`, the same posting as the Record Payment form, so there
is one posting path. The check is saved only when its lines add up to its amount, or with the difference kept
as an explicit unapplied remainder that stays on the check (and on the Post a check list) until it is applied.
The same payer and check number posts once (posting rule 8): a second submit posts nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError

from billing.claims.models import Claim
from billing.claims.queries import ClaimNotFound, claim_by_number, lock_claim
from billing.claims.statuses import SENT
from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.errors import BillingError, Conflict, NotFound, Problem, ValidationFailed, raise_if
from billing.core.money import ZERO, format_money, sum_money, to_money
from billing.coverage.models import Payer
from billing.ledger.models import PaymentMethod
from billing.ledger.postings import ClaimPosting, PostingResult
from billing.payments.models import PostedCheck
from billing.payments.operations import record_manual_payment
from billing.people.models import Client


@dataclass(frozen=True)
class CheckHeader:
    """The check as printed: who paid, its number and date, how much, and how it arrived."""

    payer_id: int
    check_number: str
    check_date: date
    amount: Decimal
    method: PaymentMethod = PaymentMethod.CHECK


@dataclass(frozen=True)
class CheckLine:
    """One claim the check pays: what its EOB says (a Record Payment posting), and how it meets earlier payments."""

    claim_number: str
    posting: ClaimPosting
    mode: str = ""  # "add" or "replace" when a payment already stands on the claim, as on Record Payment
    overpayment: bool = False


@dataclass
class CheckPosted:
    check: PostedCheck
    results: list[tuple[Claim, PostingResult]] = field(default_factory=list)
    already_posted: bool = False

    def summary(self) -> str:
        check = self.check
        if self.already_posted:
            return (
                f"Check {check.check_number} of {check.payer.name} was posted before "
                f"({check.posted_at:%m/%d/%Y} by {check.actor}); nothing was posted again."
            )
        remainder = f"; {format_money(check.unapplied)} unapplied" if check.unapplied else ""
        return (
            f"Check {check.check_number} ({format_money(check.amount)}) posted on {len(self.results)} "
            f"claim(s): {format_money(check.applied)} applied{remainder}."
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": True,
            "check": check_document(self.check),
            "already_posted": self.already_posted,
            "claims": [
                {
                    "claim": claim.number,
                    "status": result.status.value,
                    "adjudication": result.adjudication_id,
                    "insurance_balance": str(result.balances.insurance),
                    "patient_balance": str(result.balances.patient),
                    "notes": result.notes,
                }
                for claim, result in self.results
            ],
        }


def check_document(check: PostedCheck) -> dict[str, object]:
    return {
        "id": check.id,
        "payer": check.payer.name,
        "check_number": check.check_number,
        "check_date": check.check_date.isoformat(),
        "method": check.method.value,
        "amount": str(check.amount),
        "applied": str(check.applied),
        "unapplied": str(check.unapplied),
        "note": check.note,
    }


def lines_total(lines: Sequence[CheckLine]) -> Decimal:
    """What the lines pay: the sum of each claim posting's payment, to the cent."""
    return sum_money(to_money(line.posting.paid) for line in lines)


def total_problems(amount: Decimal, lines: Sequence[CheckLine], *, keep_unapplied: bool) -> list[Problem]:
    """The running total against the check: equal, or less with the remainder kept unapplied on purpose."""
    applied = lines_total(lines)
    if applied > amount:
        return [
            Problem(
                "amount",
                f"The lines pay {format_money(applied)}, more than the check's "
                f"{format_money(amount)}; correct a line or the check amount.",
            )
        ]
    if applied < amount and not keep_unapplied:
        return [
            Problem(
                "unapplied",
                f"The lines pay {format_money(applied)} of the check's {format_money(amount)}: "
                f"{format_money(amount - applied)} is not applied. Add the missing claims, or "
                "keep the remainder unapplied (it stays listed on the check until applied).",
            )
        ]
    return []


def post_check(
    header: CheckHeader,
    lines: Sequence[CheckLine],
    *,
    actor: Actor,
    keep_unapplied: bool = False,
    note: str | None = None,
    may_see: Callable[[Claim], bool] | None = None,
) -> CheckPosted:
    """Post the whole check or nothing; a check already posted (same payer and number) posts nothing again.

    Args:
        may_see: the person's scope: a claim outside it is refused as if it did not exist.
    """
    payer = db.session.get(Payer, header.payer_id)
    if payer is None:
        raise NotFound("The payer chosen for the check no longer exists.")
    number = header.check_number.strip()
    if (existing := _posted(payer.id, number)) is not None:
        return CheckPosted(existing, already_posted=True)
    raise_if(
        _header_problems(header, number) + total_problems(to_money(header.amount), lines, keep_unapplied=keep_unapplied)
    )
    claims = _lock(_claims(lines, payer, may_see))
    if (existing := _posted(payer.id, number)) is not None:  # posted by a submit this one waited for
        return CheckPosted(existing, already_posted=True)
    check = PostedCheck(
        payer_id=payer.id,
        check_number=number,
        check_date=header.check_date,
        method=header.method,
        amount=to_money(header.amount),
        applied=ZERO,
        unapplied=to_money(header.amount),
        note=(note or "").strip()[:300] or None,
        actor=actor.name,
    )
    try:
        with db.session.begin_nested():  # a concurrent post of the same check loses here, whole
            db.session.add(check)
    except IntegrityError:
        raise Conflict(
            f"Check {number} of {payer.name} was just posted by someone else; nothing was posted twice."
        ) from None
    results = _post_lines(check, lines, claims, actor=actor)
    record_change(
        "posted_check",
        check.id,
        AuditAction.CHECK_POSTED,
        actor=actor,
        reason=check.note,
        data={
            "payer": payer.name,
            "check_number": number,
            "amount": str(check.amount),
            "applied": str(check.applied),
            "unapplied": str(check.unapplied),
            "claims": [c.number for c, _ in results],
        },
    )
    return CheckPosted(check, results)


def apply_unapplied(
    check: PostedCheck, lines: Sequence[CheckLine], *, actor: Actor, may_see: Callable[[Claim], bool] | None = None
) -> CheckPosted:
    """Post more claims from a check's unapplied remainder (they may use part of it; the rest stays unapplied)."""
    db.session.refresh(check, with_for_update=True)  # two billers applying one remainder: one after the other
    if check.unapplied <= ZERO:
        raise NotFound(f"Check {check.check_number} has nothing unapplied.")
    if not lines:
        raise_if([Problem("lines", "Add at least one claim to apply the remainder to.")])
    applied = lines_total(lines)
    if applied > check.unapplied:
        raise_if(
            [
                Problem(
                    "amount",
                    f"The lines pay {format_money(applied)}, more than the "
                    f"{format_money(check.unapplied)} unapplied on check {check.check_number}.",
                )
            ]
        )
    claims = _lock(_claims(lines, check.payer, may_see))
    results = _post_lines(check, lines, claims, actor=actor)
    record_change(
        "posted_check",
        check.id,
        AuditAction.CHECK_APPLIED,
        actor=actor,
        data={"applied": str(applied), "unapplied": str(check.unapplied), "claims": [c.number for c, _ in results]},
    )
    return CheckPosted(check, results)


def checks_with_unapplied() -> list[PostedCheck]:
    """Money received and not yet on any claim: the remainders a biller still has to apply."""
    return list(
        db.session.scalars(
            select(PostedCheck).where(PostedCheck.unapplied > 0).order_by(PostedCheck.check_date, PostedCheck.id)
        )
    )


def _posted(payer_id: int, number: str) -> PostedCheck | None:
    return db.session.scalar(
        select(PostedCheck).where(PostedCheck.payer_id == payer_id, PostedCheck.check_number == number)
    )


def _header_problems(header: CheckHeader, number: str) -> list[Problem]:
    problems = []
    if not number:
        problems.append(Problem("check_number", "Enter the check (or EFT trace) number."))
    elif len(number) > 50:
        problems.append(Problem("check_number", "A check number has at most 50 characters."))
    if to_money(header.amount) < ZERO:
        problems.append(Problem("amount", "A check amount is not negative."))
    return problems


def _claims(lines: Sequence[CheckLine], payer: Payer, may_see: Callable[[Claim], bool] | None) -> list[Claim]:
    """Each line's claim, checked to be the check payer's and listed once; every problem named by its line."""
    problems: list[Problem] = []
    claims: list[Claim] = []
    seen: dict[int, int] = {}
    if not lines:
        problems.append(Problem("lines", "Add at least one claim the check pays."))
    for n, line in enumerate(lines, start=1):
        try:
            claim = claim_by_number(line.claim_number)
        except ClaimNotFound as exc:
            problems.append(Problem(f"lines[{n}].claim", f"Check line {n}: {exc.message}"))
            continue
        if may_see is not None and not may_see(claim):
            problems.append(
                Problem(f"lines[{n}].claim", f"Check line {n}: no claim {line.claim_number!r} in the chosen scope.")
            )
            continue
        if claim.payer_id != payer.id:
            billed_to = claim.payer.name if claim.payer else "no payer"
            problems.append(
                Problem(
                    f"lines[{n}].claim", f"Check line {n}: {claim.number} is billed to {billed_to}, not {payer.name}."
                )
            )
        if claim.id in seen:
            problems.append(
                Problem(
                    f"lines[{n}].claim",
                    f"Check line {n}: {claim.number} is already on check line "
                    f"{seen[claim.id]}; put all of its lines in one.",
                )
            )
        seen.setdefault(claim.id, n)
        claims.append(claim)
    raise_if(problems)
    return claims


def _lock(claims: list[Claim]) -> list[Claim]:
    """Lock every claim before anything is written, in id order so two checks sharing claims cannot deadlock;
    a check posted meanwhile by a submit this one waited for is then seen."""
    for claim in sorted(claims, key=lambda c: c.id):
        lock_claim(claim)
    return claims


def _post_lines(
    check: PostedCheck, lines: Sequence[CheckLine], claims: list[Claim], *, actor: Actor
) -> list[tuple[Claim, PostingResult]]:
    """Post each line with the Record Payment service; any refusal refuses the whole check, naming each bad line."""
    problems: list[Problem] = []
    results = []
    for n, (line, claim) in enumerate(zip(lines, claims, strict=True), start=1):
        posting = replace(
            line.posting,
            paid_on=check.check_date,
            check_number=check.check_number,
            check_date=check.check_date,
            payment_method=check.method,
            posted_check_id=check.id,
            memo=line.posting.memo or f"check {check.check_number}",
        )
        try:
            result = record_manual_payment(claim, posting, actor=actor, mode=line.mode, overpayment=line.overpayment)
        except BillingError as exc:  # keep going: the person sees every bad line at once; all of it rolls back
            found = exc.problems if isinstance(exc, ValidationFailed) else [Problem("", exc.message)]
            problems += [
                Problem(
                    f"lines[{n}].{p.field}" if p.field else f"lines[{n}]",
                    f"Check line {n} ({claim.number}): {p.message}",
                )
                for p in found
            ]
            continue
        results.append((claim, result))
    raise_if(problems)
    applied = lines_total(lines)
    check.applied = to_money(check.applied + applied)
    check.unapplied = to_money(check.amount - check.applied)
    db.session.flush()
    return results


def claims_to_add(payer_id: int | None, text: str, where: ColumnElement[bool], *, limit: int = 20) -> list[Claim]:
    """Claims a check may pay, found by number ("C-000123" or "123") or by the client's name, within `where`."""
    text = text.strip()
    if not text:
        return []
    query = select(Claim).join(Client, Client.id == Claim.client_id).where(Claim.status.in_(SENT), where)
    if payer_id:
        query = query.where(Claim.payer_id == payer_id)
    claim_id = Claim.id_from_number(text) or (int(text) if text.isdigit() and len(text) < 10 else None)
    named = or_(Client.last_name.ilike(f"%{text}%"), Client.first_name.ilike(f"%{text}%"))
    query = query.where(or_(Claim.id == claim_id, named) if claim_id else named)
    return list(db.session.scalars(query.order_by(Claim.service_date.desc(), Claim.id.desc()).limit(limit)))
