"""Load every variable's value for a chunk of claims in a handful of set-based queries (never per claim).

A run over 100,000 claims reads them in chunks; each chunk costs the same handful of statements
whatever its size, so the database work grows with the data, not with rules times claims.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import aliased

from billing.claims.models import Claim, ClaimDiagnosis, ClaimLine
from billing.claims.queries import live_claim_filter
from billing.core.db import db
from billing.core.id_lists import any_of, in_named_list, named_list_value
from billing.coverage.eligibility import eligibility_facts
from billing.coverage.models import (
    Authorization,
    InsurancePolicy,
    Payer,
    PayerType,
    ServiceCode,
    SubscriberRelationship,
)
from billing.org.models import Location, Practice
from billing.payments.filing import deadlines
from billing.people.models import Client, Provider
from billing.sessions.models import NoteStatus, TherapySession
from rules.variables import ClaimFacts

CHUNK = 2000  # well under SQLite's bound-parameter limit, large enough that statements stay few

#: The variables each optional loading step provides. The claim row (payer, provider, client, policy, place,
#: dates, amounts, scope) is always read; a step no enabled rule needs is skipped, so a run of a few rules on
#: claim-level facts reads one statement a chunk instead of eight.
AUTHORIZATION_VARIABLES = frozenset({"authorization_expired", "authorization_units_short", "authorization_ends_on",
                                     "days_until_authorization_end"})
LINE_VARIABLES = frozenset({"service_codes", "modifiers", "units", "lowest_rate", "note_finalized",
                            "authorization_present"}) | AUTHORIZATION_VARIABLES
DIAGNOSIS_VARIABLES = frozenset({"diagnosis_count", "diagnosis_codes"})
ELIGIBILITY_VARIABLES = frozenset({"eligibility_status", "eligibility_active_on_service_date",
                                   "days_since_eligibility_check", "visits_remaining"})


def _core(statement: Any) -> list[Any]:
    """Run a column-only select on the session's connection: same transaction, none of the ORM's row machinery.

    The ORM's result machinery adds a few µs a row, more than SQLite takes to produce it. The rows are fetched
    at once (a chunk's worth): iterating a result fetches them one by one, a third of the cost of reading them.
    """
    return db.session.connection().execute(statement).all()


def load_facts(
    claim_ids: Sequence[int], today: date, variables: Collection[str] | None = None
) -> dict[int, ClaimFacts]:
    """Facts for these claims (one chunk), keyed by claim id.

    With `variables` (the names the enabled rules read), only the steps that provide them run; the other
    facts keep their defaults, which no rule then reads. Without, every fact is loaded (dry runs, pages, tests).
    """
    ids = list(claim_ids)
    wanted = set(variables) if variables is not None else None

    def needs(group: frozenset[str] | str) -> bool:
        return wanted is None or bool(wanted & ({group} if isinstance(group, str) else group))

    facts = _claim_rows(ids, today)
    if needs(DIAGNOSIS_VARIABLES):
        for claim_id, code in _core(
            select(ClaimDiagnosis.claim_id, ClaimDiagnosis.code)
            .where(any_of(ClaimDiagnosis.claim_id, ids))
            .order_by(ClaimDiagnosis.claim_id, ClaimDiagnosis.position)
        ):
            facts[claim_id].diagnosis_codes.append(code)
        for claim_facts in facts.values():
            claim_facts.diagnosis_count = len(claim_facts.diagnosis_codes)
    if needs("duplicate_claim"):
        for claim_id in _duplicates(ids):
            facts[claim_id].duplicate_claim = True
    if needs("days_to_filing_deadline"):
        for claim_id, filing in deadlines(ids, today).items():
            facts[claim_id].days_to_filing_deadline = filing.days_left
    if needs(ELIGIBILITY_VARIABLES):
        _apply_eligibility(facts, ids, today)
    if needs(LINE_VARIABLES):
        lines = _line_rows(ids)
        auths = (_authorizations({row.authorization_id for rows in lines.values() for row in rows
                                  if row.authorization_id}) if needs(AUTHORIZATION_VARIABLES) else {})
        for claim_id, claim_facts in facts.items():
            _apply_lines(claim_facts, lines.get(claim_id, []), auths, today)
    return facts


def _apply_eligibility(facts: dict[int, ClaimFacts], ids: list[int], today: date) -> None:
    """What the latest 271 answer of each claim's policy says (billing.coverage.eligibility)."""
    rows = _core(select(Claim.id, Claim.policy_id).where(any_of(Claim.id, ids), Claim.policy_id.is_not(None)))
    policy_of = {claim_id: policy_id for claim_id, policy_id in rows}
    known = eligibility_facts(set(policy_of.values()), today)
    for claim_id, policy_id in policy_of.items():
        answer = known.get(policy_id)
        if answer is None:
            continue
        claim_facts = facts[claim_id]
        claim_facts.eligibility_status = [answer.status]
        claim_facts.eligibility_active_on_service_date = answer.active_on(claim_facts.service_date)
        claim_facts.days_since_eligibility_check = answer.days_since
        claim_facts.visits_remaining = answer.visits_remaining


def _claim_rows(ids: list[int], today: date) -> dict[int, ClaimFacts]:
    policy = InsurancePolicy
    # Yes/no facts are computed by the database: fewer dates to parse per row (SQLite returns dates as text).
    policy_active = and_(policy.effective_on <= Claim.service_date,
                         or_(policy.ends_on.is_(None), Claim.service_date <= policy.ends_on))
    subscriber_complete = and_(policy.id.is_not(None), or_(
        policy.relationship_to_subscriber == SubscriberRelationship.SELF,
        and_(func.coalesce(policy.subscriber_first_name, "") != "",
             func.coalesce(policy.subscriber_last_name, "") != "",
             policy.subscriber_date_of_birth.is_not(None), policy.subscriber_sex.is_not(None)),
    ))
    query = (
        select(
            Claim.id, Claim.location_id, Claim.payer_id, Claim.service_date, Claim.place_of_service,
            Claim.total_charge, Location.name, Location.practice_id, Practice.name, Practice.company_id, Payer.name,
            Payer.payer_type, Payer.claim_filing_indicator, Payer.requires_authorization, Provider.npi,
            Provider.active, Client.date_of_birth, policy_active, subscriber_complete,
        )
        .join(Location, Location.id == Claim.location_id)
        .join(Practice, Practice.id == Location.practice_id)
        .join(Provider, Provider.id == Claim.rendering_provider_id)
        .join(Client, Client.id == Claim.client_id)
        .outerjoin(Payer, Payer.id == Claim.payer_id)
        .outerjoin(policy, policy.id == Claim.policy_id)
        .where(any_of(Claim.id, ids))
    )
    return {row[0]: _claim_facts(*row, today=today) for row in _core(query)}


# One parameter per selected column, in order: unpacking a row positionally is the fast path at 100,000 claims.
def _claim_facts(
    claim_id: int, location_id: int, payer_id: int | None, day: date, place_of_service: str, total_charge: Decimal,
    location_name: str, practice_id: int, practice_name: str, company_id: int, payer_name: str | None,
    payer_type: PayerType | None, claim_filing_indicator: str | None, requires_authorization: bool | None,
    npi: str | None, provider_active: bool, born: date, policy_active: bool | None, subscriber_complete: bool | None,
    *, today: date,
) -> ClaimFacts:
    return ClaimFacts(
        claim_id=claim_id,
        company_id=company_id,
        practice_id=practice_id,
        location_id=location_id,
        payer_id=payer_id,
        payer_name=payer_name or "",
        payer_type=[payer_type.value] if payer_type else [],
        claim_filing_indicator=[claim_filing_indicator] if claim_filing_indicator else [],
        payer_requires_authorization=bool(requires_authorization),
        billed_amount=Decimal(total_charge),
        place_of_service=[place_of_service],
        rendering_npi_present=bool(npi and len(npi) == 10),
        provider_active=bool(provider_active),
        client_age=day.year - born.year - ((day.month, day.day) < (born.month, born.day)),
        days_since_service=(today - day).days,
        policy_active_on_service_date=bool(policy_active),  # NULL without a policy
        subscriber_data_complete=bool(subscriber_complete),
        location_name=location_name,
        practice_name=practice_name,
        service_date=day,
    )


def _line_rows(ids: list[int]) -> dict[int, list[Any]]:
    query = (
        select(
            ClaimLine.claim_id, ServiceCode.code, ClaimLine.modifiers, ClaimLine.units, ClaimLine.rate,
            ClaimLine.authorization_id, ClaimLine.service_date, TherapySession.note_status,
        )
        .join(ServiceCode, ServiceCode.id == ClaimLine.service_code_id)
        .outerjoin(TherapySession, TherapySession.id == ClaimLine.session_id)
        .where(any_of(ClaimLine.claim_id, ids))
        .order_by(ClaimLine.claim_id, ClaimLine.line_number)
    )
    lines: dict[int, list[Any]] = defaultdict(list)
    for row in _core(query):
        lines[row.claim_id].append(row)
    return lines


def _authorizations(auth_ids: set[int]) -> AuthFacts:
    """Per authorization: starts, ends, units approved, units on live claims (this one included)."""
    if not auth_ids:
        return {}
    used = {
        auth_id: total
        for auth_id, total in _core(
            select(ClaimLine.authorization_id, func.sum(ClaimLine.units))
            .join(Claim, Claim.id == ClaimLine.claim_id)
            .where(any_of(ClaimLine.authorization_id, auth_ids), live_claim_filter())
            .group_by(ClaimLine.authorization_id)
        )
    }
    rows = _core(
        select(Authorization.id, Authorization.starts_on, Authorization.ends_on, Authorization.units_approved)
        .where(any_of(Authorization.id, auth_ids))
    )
    return {row.id: (row.starts_on, row.ends_on, row.units_approved, int(used.get(row.id) or 0)) for row in rows}


AuthFacts = dict[int, tuple[date, date, int, int]]


def _apply_lines(facts: ClaimFacts, lines: list[Any], auths: AuthFacts, today: date) -> None:
    codes: list[str] = []
    modifiers: list[str] = []
    for line in lines:
        if line.code not in codes:
            codes.append(line.code)
        modifiers += [m for m in line.modifiers.split(":") if m and m not in modifiers]
    facts.service_codes, facts.modifiers = codes, modifiers
    facts.units = sum(line.units for line in lines)
    facts.lowest_rate = min((Decimal(line.rate) for line in lines), default=Decimal(0))
    facts.note_finalized = bool(lines) and all(line.note_status is NoteStatus.FINALIZED for line in lines)
    facts.authorization_present = bool(lines) and all(line.authorization_id for line in lines)
    used = [(line, auths[line.authorization_id]) for line in lines if line.authorization_id in auths]
    facts.authorization_expired = any(not starts <= line.service_date <= ends for line, (starts, ends, _, _) in used)
    # Units on live claims include this claim's, so "fewer left than the claim needs" is "used > approved".
    facts.authorization_units_short = any(total > approved for _, (_, _, approved, total) in used)
    facts.authorization_ends_on = min((ends for _, (_, ends, _, _) in used), default=None)
    facts.days_until_authorization_end = (
        (facts.authorization_ends_on - today).days if facts.authorization_ends_on is not None else None)


def _duplicates(ids: list[int]) -> list[int]:
    """Claims with a line whose client, code and date also appear on another live claim to a payer of the same
    rank (primary, secondary...) outside the claim's own family (billing/claims/family.py)."""
    dialect = db.session.get_bind().dialect.name
    query = _duplicates_query(dialect)
    return list(db.session.connection().execute(query, {"ids": named_list_value(ids, dialect)}).scalars())


@cache
def _duplicates_query(dialect: str) -> Select[Any]:
    # Built once: its four aliases cost more to construct than the query takes to run on a small chunk.
    mine, other = aliased(Claim), aliased(Claim)
    my_line, other_line = aliased(ClaimLine), aliased(ClaimLine)
    return (
        select(mine.id)
        .distinct()
        # Claims are per client and date, so matching claims first keeps the line join tiny.
        # Same payer rank: a secondary claim bills its primary's services on purpose, it is no duplicate.
        # Another family: a correction, a resubmission of denied lines or a claim billing a voided claim's
        # sessions again repeats its family's services on purpose too (Posting rule 6 keeps one open).
        .join(other, and_(other.client_id == mine.client_id, other.service_date == mine.service_date,
                          other.id != mine.id, other.payer_rank == mine.payer_rank,
                          func.coalesce(other.family_id, other.id) != func.coalesce(mine.family_id, mine.id)))
        .join(my_line, my_line.claim_id == mine.id)
        .join(other_line, and_(other_line.claim_id == other.id, other_line.service_code_id == my_line.service_code_id,
                               other_line.service_date == my_line.service_date))
        .where(in_named_list(mine.id, "ids", dialect), live_claim_filter(other))
    )
