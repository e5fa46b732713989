"""Finalized sessions become claim lines: grouped, unitized, priced, diagnosed and authorized.

Sessions of one client, payer, rendering provider and service date share a claim. A claim that
cannot be completed is still created, Held, with a reason naming every missing piece; releasing
it later re-runs `refresh_claim` once the data is fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select, tuple_
from sqlalchemy.orm import selectinload

from billing.audit import Actor, AuditAction
from billing.claims.models import Claim, ClaimDiagnosis, ClaimLine
from billing.claims.statuses import ClaimStatus, open_claim, record_opening, transition
from billing.coverage.models import InsurancePolicy, ServiceCode
from billing.coverage.queries import CoverageBook, load_coverage
from billing.coverage.units import units_for
from billing.db import db
from billing.money import ZERO, sum_money, to_money
from billing.org.models import Location, Practice
from billing.sessions.models import TherapySession

MAX_LINES = 50  # 837P: at most 50 service lines per claim
MAX_DIAGNOSES = 12
MAX_POINTERS = 4

ClaimKey = tuple[int, int | None, int, date]  # client, payer, rendering provider, service date


@dataclass
class BillingResult:
    created: list[Claim] = field(default_factory=list)
    extended: list[Claim] = field(default_factory=list)
    lines: int = 0
    #: Sessions that produced no line, with why (e.g. under 8 minutes of a timed code).
    unbilled: list[tuple[TherapySession, str]] = field(default_factory=list)

    def merge(self, other: BillingResult) -> None:
        self.created += other.created
        self.extended += other.extended
        self.lines += other.lines
        self.unbilled += other.unbilled


@dataclass
class _Context:
    """Lookups shared by every session of a batch, so the batch costs a handful of queries."""

    book: CoverageBook
    codes: dict[int, ServiceCode]
    company_of_location: dict[int, int]
    open_claims: dict[ClaimKey, Claim]
    problems: dict[int, list[str]] = field(default_factory=dict)  # id(claim) -> new problems


def bill_sessions(sessions: Sequence[TherapySession], *, actor: Actor) -> BillingResult:
    """Put each session on an open claim for its key, or on a new one. Flushes; never commits."""
    result = BillingResult()
    if not sessions:
        return result
    ctx = _context_for(sessions)
    with db.session.no_autoflush:  # new claims have no status until _settle_statuses
        for visit in sessions:
            _bill_one(visit, ctx, result)
    _settle_statuses(ctx, result, actor)
    return result


def _context_for(sessions: Sequence[TherapySession]) -> _Context:
    company_of_location: dict[int, int] = {
        location_id: company_id
        for location_id, company_id in db.session.execute(
            select(Location.id, Practice.company_id).join(Practice, Location.practice_id == Practice.id)
        )
    }
    client_ids = {s.client_id for s in sessions}
    book = load_coverage(client_ids, set(company_of_location.values()))
    codes = {c.id: c for c in db.session.scalars(select(ServiceCode))}
    return _Context(book, codes, company_of_location, _open_claims(sessions))


def _open_claims(sessions: Sequence[TherapySession]) -> dict[ClaimKey, Claim]:
    """Ready or Held original claims that new lines for the same key should join."""
    pairs = {(s.client_id, s.service_date) for s in sessions}
    claims = db.session.scalars(
        select(Claim)
        .where(
            Claim.status.in_([ClaimStatus.READY, ClaimStatus.HELD]),
            Claim.frequency_code == "1",
            tuple_(Claim.client_id, Claim.service_date).in_(list(pairs)),
        )
        .options(selectinload(Claim.lines))
    )
    return {(c.client_id, c.payer_id, c.rendering_provider_id, c.service_date): c for c in claims}


def _bill_one(visit: TherapySession, ctx: _Context, result: BillingResult) -> None:
    code = ctx.codes[visit.service_code_id]
    units = units_for(visit.minutes, minutes_per_unit=code.minutes_per_unit, rule=code.rounding_rule)
    if units == 0:
        result.unbilled.append((visit, f"{visit.minutes} minutes of {code.code} is less than one billable unit"))
        return
    policy = ctx.book.primary_policy(visit.client_id, visit.service_date)
    key: ClaimKey = (visit.client_id, policy.payer_id if policy else None, visit.provider_id, visit.service_date)
    claim = ctx.open_claims.get(key)
    if claim is None or len(claim.lines) >= MAX_LINES:
        claim = _new_claim(visit, policy, ctx)
        ctx.open_claims[key] = claim
        result.created.append(claim)
    elif claim not in result.extended and claim not in result.created:
        result.extended.append(claim)
    line, problems = _line_for(visit, code, units, policy, claim, ctx)
    claim.lines.append(line)
    claim.total_charge = sum_money(ln.charge for ln in claim.lines)
    ctx.problems.setdefault(id(claim), []).extend(problems)
    result.lines += 1


def _new_claim(visit: TherapySession, policy: InsurancePolicy | None, ctx: _Context) -> Claim:
    codes = ctx.book.diagnoses.get(visit.client_id, [])[:MAX_DIAGNOSES]
    claim = Claim(
        client_id=visit.client_id,
        policy_id=policy.id if policy else None,
        payer_id=policy.payer_id if policy else None,
        rendering_provider_id=visit.provider_id,
        location_id=visit.location_id,
        service_date=visit.service_date,
        place_of_service=visit.place_of_service,
        frequency_code="1",
        total_charge=ZERO,
        diagnoses=[ClaimDiagnosis(position=i, code=c) for i, c in enumerate(codes, start=1)],
    )
    db.session.add(claim)
    problems = []
    if policy is None:
        problems.append(f"no active primary policy on {visit.service_date:%m/%d/%Y}")
    if not codes:
        problems.append("the client has no diagnosis on file")
    ctx.problems[id(claim)] = problems
    return claim


def _line_for(
    visit: TherapySession, code: ServiceCode, units: int, policy: InsurancePolicy | None, claim: Claim, ctx: _Context
) -> tuple[ClaimLine, list[str]]:
    problems: list[str] = []
    company_id = ctx.company_of_location[visit.location_id]
    priced = ctx.book.rate(company_id, claim.payer_id, code.id, visit.modifiers, visit.service_date)
    label = f"{code.code}{':' + visit.modifiers if visit.modifiers else ''}"
    if priced is None:
        problems.append(f"no fee-schedule rate for {label} on {visit.service_date:%m/%d/%Y}")
    rate = to_money(priced.rate) if priced else ZERO
    auth_id = _authorization_for(visit, code, units, policy, ctx, problems)
    line = ClaimLine(
        line_number=len(claim.lines) + 1,
        session_id=visit.id,
        service_code_id=code.id,
        modifiers=visit.modifiers,
        service_date=visit.service_date,
        minutes=visit.minutes,
        units=units,
        rate=rate,
        charge=to_money(rate * units),
        place_of_service=visit.place_of_service,
        diagnosis_pointers=":".join(str(p) for p in range(1, min(len(claim.diagnoses), MAX_POINTERS) + 1)) or "1",
        authorization_id=auth_id,
    )
    return line, problems


def _authorization_for(
    visit: TherapySession,
    code: ServiceCode,
    units: int,
    policy: InsurancePolicy | None,
    ctx: _Context,
    problems: list[str],
) -> int | None:
    if policy is None:
        return None
    book = ctx.book
    chosen = next((a for a in book.authorizations.get(visit.client_id, []) if a.id == visit.authorization_id), None)
    fits = chosen is not None and chosen.covers(visit.service_date) and book.remaining_units(chosen) >= units
    auth = chosen if fits else book.authorization(visit.client_id, policy.id, code.id, visit.service_date, units)
    if auth is not None:
        book.use_units(auth.id, units)
        return auth.id
    if policy.payer.requires_authorization:
        problems.append(
            f"{policy.payer.name} requires an authorization: none covers {code.code} on "
            f"{visit.service_date:%m/%d/%Y} with {units} units left"
        )
    return None


def _settle_statuses(ctx: _Context, result: BillingResult, actor: Actor) -> None:
    """New claims open Ready or Held; a Ready claim that gained an incomplete line is held."""
    for claim in result.created:
        problems = ctx.problems.get(id(claim), [])
        if problems:
            claim.hold_reason = _reason(problems)
        open_claim(claim, ClaimStatus.HELD if problems else ClaimStatus.READY)
    db.session.flush()
    for claim in result.created:
        record_opening(claim, actor=actor, reason=claim.hold_reason)
    for claim in result.extended:
        problems = ctx.problems.get(id(claim), [])
        if not problems:
            continue
        if claim.status is ClaimStatus.READY:
            claim.hold_reason = _reason(problems)
            transition(claim, ClaimStatus.HELD, action=AuditAction.CLAIM_HELD, actor=actor, reason=claim.hold_reason)
        else:
            claim.hold_reason = _reason([claim.hold_reason or "", *problems])


def _reason(problems: list[str]) -> str:
    text = "; ".join(dict.fromkeys(p for p in problems if p))
    return (text[:1].upper() + text[1:])[:1000]
