"""Finalized sessions become claim lines: grouped, unitized, priced, diagnosed and authorized.

Sessions of one client, payer, rendering provider and service date share a claim. A claim that
cannot be completed is still created, Held, with a reason naming every missing piece; releasing
it later re-runs `refresh_claim` once the data is fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from billing.claims.models import Claim, ClaimDiagnosis, ClaimLine
from billing.claims.queries import authorization_units_used, live_line_filter
from billing.claims.self_pay import bill_self_pay_claims, is_self_pay
from billing.claims.statuses import ClaimStatus, opening_status, transition
from billing.core.audit import Actor, AuditAction, Change, StatusChange, record_change, record_changes
from billing.core.db import db, insert_returning_ids, utcnow
from billing.core.id_lists import any_of
from billing.core.money import ZERO, sum_money, to_money
from billing.coverage.models import InsurancePolicy, PayerRoundingRule, ServiceCode
from billing.coverage.queries import CoverageBook, load_coverage
from billing.coverage.units import TimedService, day_total_units, pools_day_total, session_units
from billing.org.models import Location, Practice
from billing.sessions.models import NoteStatus, TherapySession

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
class _NewClaim:
    """A claim being built in this batch: plain rows until one bulk INSERT writes them all.

    It answers `payer_id`, `diagnoses` and `lines` like a Claim does, so a line is priced the same
    way whether it joins a new claim or an open one.
    """

    fields: dict[str, Any]
    diagnoses: list[str]
    lines: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def payer_id(self) -> int | None:
        return self.fields["payer_id"]


@dataclass
class _Context:
    """Lookups shared by every session of a batch, so the batch costs a handful of queries."""

    book: CoverageBook
    codes: dict[int, ServiceCode]
    company_of_location: dict[int, int]
    open_claims: dict[ClaimKey, Claim | _NewClaim]
    new_claims: list[_NewClaim] = field(default_factory=list)
    problems: dict[int, list[str]] = field(default_factory=dict)  # id(open claim) -> new problems
    #: Units of sessions counted by the day's total (CMS_DAY_TOTAL payers), by session id.
    day_units: dict[int, int] = field(default_factory=dict)


def bill_sessions(sessions: Sequence[TherapySession], *, actor: Actor) -> BillingResult:
    """Put each session on an open claim for its key, or on a new one. Flushes; never commits."""
    result = BillingResult()
    if not sessions:
        return result
    ctx = _context_for(sessions)
    sessions = _count_day_totals(sessions, ctx, actor)
    with db.session.no_autoflush:
        for visit in sessions:
            _bill_one(visit, ctx, result)
    result.created = _insert_new_claims(ctx.new_claims, actor)
    _settle_extended(ctx, result, actor)
    bill_self_pay_claims(result.created, actor=actor)  # a complete self-pay claim goes to the patient, never Ready
    for visit in sessions:  # their claim lines were written behind the ORM's back
        db.session.expire(visit, ["billed_on"])
    return result


def _context_for(sessions: Sequence[TherapySession]) -> _Context:
    company_of_location: dict[int, int] = {
        location_id: company_id
        for location_id, company_id in db.session.execute(
            select(Location.id, Practice.company_id).join(Practice, Location.practice_id == Practice.id)
        )
    }
    client_ids = {s.client_id for s in sessions}
    book = load_coverage(client_ids, set(company_of_location.values()), units_used=authorization_units_used)
    codes = {c.id: c for c in db.session.scalars(select(ServiceCode))}
    return _Context(book, codes, company_of_location, dict(_open_claims(sessions)))


def _open_claims(sessions: Sequence[TherapySession]) -> dict[ClaimKey, Claim]:
    """Ready or Held original claims that new lines for the same key should join."""
    pairs = {(s.client_id, s.service_date) for s in sessions}
    # Clients and a date range select a superset cheaply; a 2,000-pair tuple IN is slow to plan on PostgreSQL.
    dates = [day for _, day in pairs]
    claims = db.session.scalars(
        select(Claim)
        .where(
            Claim.status.in_([ClaimStatus.READY, ClaimStatus.HELD]),
            Claim.frequency_code == "1",
            any_of(Claim.client_id, {client_id for client_id, _ in pairs}),
            Claim.service_date.between(min(dates), max(dates)),
        )
        .options(selectinload(Claim.lines), selectinload(Claim.diagnoses))
    )
    return {
        (c.client_id, c.payer_id, c.rendering_provider_id, c.service_date): c
        for c in claims
        if (c.client_id, c.service_date) in pairs
    }


def _bill_one(visit: TherapySession, ctx: _Context, result: BillingResult) -> None:
    code = ctx.codes[visit.service_code_id]
    policy = ctx.book.primary_policy(visit.client_id, visit.service_date)
    if visit.id in ctx.day_units:
        units = ctx.day_units[visit.id]
        if units == 0:
            result.unbilled.append((visit, f"{visit.minutes} minutes of {code.code} earn no unit of their own: the "
                                    "day's total timed minutes put the units on other services (CMS 8-minute rule)"))
            return
    else:
        payer_rule = policy.payer.rounding_rule if policy else PayerRoundingRule.PER_CODE
        units = session_units(visit.minutes, minutes_per_unit=code.minutes_per_unit, code_rule=code.rounding_rule,
                              payer_rule=payer_rule)
    if units == 0:
        result.unbilled.append((visit, f"{visit.minutes} minutes of {code.code} is less than one billable unit"))
        return
    key: ClaimKey = (visit.client_id, policy.payer_id if policy else None, visit.provider_id, visit.service_date)
    claim = ctx.open_claims.get(key)
    if claim is None or len(claim.lines) >= MAX_LINES:
        claim = _new_claim(visit, policy, ctx)
        ctx.open_claims[key] = claim
    line, problems = _line_for(visit, code, units, policy, claim, ctx)
    if isinstance(claim, _NewClaim):
        claim.lines.append(line)
        claim.problems.extend(problems)
    else:
        if claim not in result.extended:
            result.extended.append(claim)
        claim.lines.append(ClaimLine(**line))
        claim.total_charge = sum_money(ln.charge for ln in claim.lines)
        ctx.problems.setdefault(id(claim), []).extend(problems)
    result.lines += 1


def _count_day_totals(
    sessions: Sequence[TherapySession], ctx: _Context, actor: Actor
) -> Sequence[TherapySession]:
    """Units of the timed 15-minute CMS codes of payers that count the day's total (CMS_DAY_TOTAL).

    Per client, primary policy and service date, the day's finalized billable sessions of those codes are
    counted together (`day_total_units`). The sessions being billed get their share in `ctx.day_units`;
    the day's other sessions on unsent claims (Ready or Held, never submitted) are re-unitized in place
    (units, charge, claim total; a line left with no unit is removed, a claim left with no line is
    voided as retracted), with a history row per changed claim. Lines the payer has are never changed.
    A finalized session of the day that had no unit and now earns one is billed with this batch, so
    the sessions to bill are returned.
    """
    groups: dict[tuple[int, int, date], InsurancePolicy] = {}
    for visit in sessions:
        policy = ctx.book.primary_policy(visit.client_id, visit.service_date)
        if policy is not None and _pooled(visit, policy, ctx):
            groups[(visit.client_id, policy.id, visit.service_date)] = policy
    if not groups:
        return sessions
    batch_ids = {v.id for v in sessions}
    batch: dict[tuple[int, date], list[TherapySession]] = {}
    for visit in sessions:
        batch.setdefault((visit.client_id, visit.service_date), []).append(visit)
    skip: set[int] = set()
    extra: list[TherapySession] = []
    edits: dict[int, tuple[Claim, list[dict[str, Any]]]] = {}
    for (client_id, _, day), policy in groups.items():
        others = db.session.scalars(
            select(TherapySession).where(
                TherapySession.client_id == client_id,
                TherapySession.service_date == day,
                TherapySession.note_status == NoteStatus.FINALIZED,
                ~any_of(TherapySession.id, batch_ids),
            )
        )
        pool = sorted(
            [v for v in batch[(client_id, day)] if _pooled(v, policy, ctx)]
            + [v for v in others if _pooled(v, policy, ctx) and _billable(v)],
            key=lambda v: (v.start_time, v.id),
        )
        lines = {
            ln.session_id: ln
            for ln in db.session.scalars(
                select(ClaimLine).where(any_of(ClaimLine.session_id, [v.id for v in pool]), live_line_filter())
            )
        }
        sent = _ever_sent({ln.claim_id for ln in lines.values()})
        services = [TimedService(v.id, ctx.codes[v.service_code_id].code, v.minutes, _rate(v, policy, ctx))
                    for v in pool]
        units = day_total_units(services)
        for visit in pool:
            line = lines.get(visit.id)
            if line is None:
                ctx.day_units[visit.id] = units[visit.id]
                if visit.id not in batch_ids and units[visit.id] > 0:
                    extra.append(visit)  # finalized earlier with no unit of its own; the day now gives it one
            elif visit.id in batch_ids:
                skip.add(visit.id)  # already billed (a chunk of `generate_claims` billed it with its day)
            elif line.claim_id not in sent and line.claim.status in (ClaimStatus.READY, ClaimStatus.HELD) \
                    and line.units != units[visit.id]:
                claim = line.claim
                edits.setdefault(claim.id, (claim, []))[1].append(_reunit(line, units[visit.id], ctx))
    for claim, changes in edits.values():
        _settle_reunitized(claim, changes, actor)
    return [v for v in sessions if v.id not in skip] + extra


def _pooled(visit: TherapySession, policy: InsurancePolicy, ctx: _Context) -> bool:
    code = ctx.codes[visit.service_code_id]
    return policy.payer.rounding_rule is PayerRoundingRule.CMS_DAY_TOTAL and pools_day_total(
        code.rounding_rule, code.minutes_per_unit
    )


def _billable(visit: TherapySession) -> bool:
    return not visit.is_cancelled or bool(visit.session_class and visit.session_class.billable)


def _rate(visit: TherapySession, policy: InsurancePolicy, ctx: _Context) -> Decimal:
    priced = ctx.book.rate(ctx.company_of_location[visit.location_id], policy.payer_id, visit.service_code_id,
                           visit.modifiers, visit.service_date)
    return to_money(priced.rate) if priced else ZERO


def _ever_sent(claim_ids: set[int]) -> set[int]:
    """Claims that were ever submitted (a denied claim put back to Ready was): their lines never change."""
    if not claim_ids:
        return set()
    return set(db.session.scalars(
        select(StatusChange.subject_id).where(
            StatusChange.subject_type == "claim",
            any_of(StatusChange.subject_id, claim_ids),
            StatusChange.to_status == ClaimStatus.SUBMITTED.value,
        )
    ))


def _reunit(line: ClaimLine, units: int, ctx: _Context) -> dict[str, Any]:
    change = {"line_number": line.line_number, "session_id": line.session_id, "units": [line.units, units],
              "charge": [str(line.charge), str(to_money(line.rate * units))]}
    if line.authorization_id is not None:
        ctx.book.use_units(line.authorization_id, units - line.units)
    if units > 0:
        line.units, line.charge = units, to_money(line.rate * units)
    else:
        line.claim.lines.remove(line)  # delete-orphan: the session's minutes count on other lines of the day
    return change


def _settle_reunitized(claim: Claim, changes: list[dict[str, Any]], actor: Actor) -> None:
    before = str(claim.total_charge)
    db.session.flush()  # removed lines go first, so renumbering never meets a taken number
    for number, line in enumerate(claim.lines, start=1):
        if line.line_number != number:
            line.line_number = number
            db.session.flush()
    claim.total_charge = sum_money(ln.charge for ln in claim.lines)
    reason = "Units recomputed: CMS 8-minute rule over the day's total timed minutes"
    record_change("claim", claim.id, AuditAction.CLAIM_EDITED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=reason,
                  data={"lines": changes, "total_charge": [before, str(claim.total_charge)]})
    if not claim.lines:
        transition(claim, ClaimStatus.VOIDED, action=AuditAction.CLAIM_RETRACTED, actor=actor,
                   reason=f"{reason}: no line of this claim keeps a unit")
        claim.void_reason = "retracted"
    db.session.flush()


def _new_claim(visit: TherapySession, policy: InsurancePolicy | None, ctx: _Context) -> _NewClaim:
    codes = ctx.book.diagnoses.get(visit.client_id, [])[:MAX_DIAGNOSES]
    claim = _NewClaim(
        fields={
            "client_id": visit.client_id,
            "policy_id": policy.id if policy else None,
            "payer_id": policy.payer_id if policy else None,
            "rendering_provider_id": visit.provider_id,
            "location_id": visit.location_id,
            "service_date": visit.service_date,
            "place_of_service": visit.place_of_service,
        },
        diagnoses=list(codes),
    )
    claim.fields["self_pay"] = is_self_pay(policy)
    if policy is None and not claim.fields["self_pay"]:
        claim.problems.append(f"no active primary policy on {visit.service_date:%m/%d/%Y}")
    if not codes and not claim.fields["self_pay"]:  # a patient bill needs a price, not a diagnosis
        claim.problems.append("the client has no diagnosis on file")
    ctx.new_claims.append(claim)
    return claim


def _line_for(
    visit: TherapySession,
    code: ServiceCode,
    units: int,
    policy: InsurancePolicy | None,
    claim: Claim | _NewClaim,
    ctx: _Context,
) -> tuple[dict[str, Any], list[str]]:
    problems: list[str] = []
    company_id = ctx.company_of_location[visit.location_id]
    priced = ctx.book.rate(company_id, claim.payer_id, code.id, visit.modifiers, visit.service_date)
    label = f"{code.code}{':' + visit.modifiers if visit.modifiers else ''}"
    if priced is None:
        problems.append(f"no fee-schedule rate for {label} on {visit.service_date:%m/%d/%Y}")
    rate = to_money(priced.rate) if priced else ZERO
    auth_id = _authorization_for(visit, code, units, policy, ctx, problems)
    line = {
        "line_number": len(claim.lines) + 1,
        "session_id": visit.id,
        "service_code_id": code.id,
        "modifiers": visit.modifiers,
        "service_date": visit.service_date,
        "minutes": visit.minutes,
        "units": units,
        "rate": rate,
        "charge": to_money(rate * units),
        "place_of_service": visit.place_of_service,
        "diagnosis_pointers": ":".join(str(p) for p in range(1, min(len(claim.diagnoses), MAX_POINTERS) + 1)) or "1",
        "authorization_id": auth_id,
    }
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


def _insert_new_claims(new_claims: list[_NewClaim], actor: Actor) -> list[Claim]:
    """Write the batch's new claims, lines, diagnoses and opening history in four INSERTs.

    A new claim opens Ready, or Held with a reason naming every missing piece. The claims are then
    loaded, so callers get real Claims.
    """
    if not new_claims:
        return []
    now = utcnow()
    rows = []
    for claim in new_claims:
        reason = _reason(claim.problems) if claim.problems else None
        status = opening_status(incomplete=reason is not None)
        rows.append(claim.fields | {
            "status": status, "hold_reason": reason, "frequency_code": "1", "created_at": now, "version": 1,
            "total_charge": sum_money(line["charge"] for line in claim.lines),
        })
    # Core INSERTs on the tables: the ORM's bulk path costs as much again in per-row bookkeeping.
    ids = insert_returning_ids(Claim.__table__, rows)
    lines = [line | {"claim_id": cid} for claim, cid in zip(new_claims, ids, strict=True) for line in claim.lines]
    db.session.execute(insert(ClaimLine.__table__), lines)
    diagnoses = [
        {"claim_id": cid, "position": i, "code": code}
        for claim, cid in zip(new_claims, ids, strict=True)
        for i, code in enumerate(claim.diagnoses, start=1)
    ]
    if diagnoses:
        db.session.execute(insert(ClaimDiagnosis.__table__), diagnoses)
    record_changes(
        "claim",
        [Change(cid, AuditAction.CLAIM_CREATED, after=row["status"].value, reason=row["hold_reason"])
         for cid, row in zip(ids, rows, strict=True)],
        actor=actor,
    )
    # The new ids are (nearly) contiguous: a range scan beats an IN list of 2,000 parameters.
    wanted = set(ids)
    loaded = db.session.scalars(select(Claim).where(Claim.id.between(min(ids), max(ids))))
    by_id = {c.id: c for c in loaded if c.id in wanted}
    return [by_id[cid] for cid in ids]


def _settle_extended(ctx: _Context, result: BillingResult, actor: Actor) -> None:
    """A Ready claim that gained an incomplete line is held; a Held one adds the new reasons."""
    for claim in result.extended:
        problems = ctx.problems.get(id(claim), [])
        if not problems:
            continue
        if claim.status is ClaimStatus.READY:
            claim.hold_reason = _reason(problems)
            transition(claim, ClaimStatus.HELD, action=AuditAction.CLAIM_HELD, actor=actor, reason=claim.hold_reason)
        else:
            claim.hold_reason = _reason([claim.hold_reason or "", *problems])
    db.session.flush()


def _reason(problems: list[str]) -> str:
    text = "; ".join(dict.fromkeys(p for p in problems if p))
    return (text[:1].upper() + text[1:])[:1000]
