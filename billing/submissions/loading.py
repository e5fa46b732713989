"""Claims from the database as claim facts, in a fixed handful of queries, with their problems.

Every problem that would make a bad file (a missing address, a delimiter inside a member id, a
correction without the payer's claim number) is found here, per claim, before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from billing.addresses import AddressMixin
from billing.claims.models import Claim, ClaimLine
from billing.coverage.models import InsurancePolicy, Payer, PayerType, PolicyRank
from billing.db import db
from billing.identifiers import npi_problem
from billing.money import to_money
from billing.org.models import Company, Location, Practice
from billing.submissions.edi import clean_text, identifier_problem
from billing.submissions.facts import (
    Address,
    Adjustment,
    BillingProvider,
    ClaimFacts,
    Coverage,
    Line,
    LineAdjudication,
    Person,
    PriorPayer,
)

RESPONSIBILITY = {PolicyRank.PRIMARY: "P", PolicyRank.SECONDARY: "S", PolicyRank.TERTIARY: "T"}


@dataclass(frozen=True)
class Loaded:
    """Facts for the claims that can be written, and the reasons for the ones that cannot."""

    facts: list[ClaimFacts]
    problems: dict[int, list[str]]


def load_claims(claim_ids: Sequence[int]) -> dict[int, Claim]:
    """The claims with everything the 837P needs, eagerly loaded (no lazy load while writing)."""
    if not claim_ids:
        return {}
    query = (
        select(Claim)
        .where(Claim.id.in_(list(claim_ids)))
        .options(
            joinedload(Claim.client),
            joinedload(Claim.policy),
            joinedload(Claim.payer),
            joinedload(Claim.rendering_provider),
            joinedload(Claim.location).joinedload(Location.practice).joinedload(Practice.company),
            selectinload(Claim.lines).joinedload(ClaimLine.service_code),
            selectinload(Claim.lines).joinedload(ClaimLine.authorization),
            selectinload(Claim.diagnoses),
        )
    )
    return {claim.id: claim for claim in db.session.scalars(query).unique()}


def claim_facts(claims: Sequence[tuple[Claim, str]]) -> Loaded:
    """Facts for each (claim, frequency as sent); a claim with problems is left out and explained."""
    facts, problems = [], {}
    companies: dict[int, BillingProvider] = {}
    for claim, frequency in claims:
        found = claim_problems(claim, frequency)
        if found:
            problems[claim.id] = found
            continue
        company = claim.location.practice.company
        billing = companies.get(company.id) or companies.setdefault(company.id, _billing_provider(company))
        built, prior_problem = _facts(claim, frequency, billing)
        if prior_problem:
            problems[claim.id] = [prior_problem]
        else:
            facts.append(built)
    return Loaded(facts, problems)


def claim_problems(claim: Claim, frequency: str) -> list[str]:
    """What stops this claim from going out in a valid file (empty when nothing does)."""
    checks: list[str | None] = [
        "It has no payer or policy." if claim.payer is None or claim.policy is None else None,
        "It has no service lines." if not claim.lines else None,
        "It has no diagnosis." if not claim.diagnoses else None,
        _address_problem("The client", claim.client),
        _address_problem(f"Company {claim.location.practice.company.legal_name}", claim.location.practice.company),
        _prefixed("Rendering provider NPI", npi_problem(claim.rendering_provider.npi)),
        _prefixed("Billing NPI", npi_problem(claim.location.practice.company.group_npi)),
    ]
    if claim.policy is not None and claim.payer is not None:
        checks += [
            identifier_problem("The member id", claim.policy.member_id),
            identifier_problem("The payer id", _payer_id(claim.payer)),
            identifier_problem("The group number", claim.policy.group_number) if claim.policy.group_number else None,
            _subscriber_problem(claim.policy),
        ]
    if frequency in ("7", "8"):
        checks.append(
            identifier_problem("The payer's claim number (REF*F8, needed for corrections and voids)",
                               claim.payer_claim_number)
        )
    checks += [
        identifier_problem(f"Authorization on line {ln.line_number}", ln.authorization.number)
        for ln in claim.lines
        if ln.authorization is not None
    ]
    return [c for c in checks if c]


def _prefixed(what: str, problem: str | None) -> str | None:
    return f"{what}: {problem}" if problem else None


def _address_problem(who: str, record: AddressMixin) -> str | None:
    if not (record.address_line1 and record.city and record.state and record.zip_code):
        return f"{who} has no complete street address (line 1, city, state and ZIP are required on the 837P)."
    return None


def _subscriber_problem(policy: InsurancePolicy) -> str | None:
    if policy.relationship_to_subscriber.x12_code == "18":
        return None
    if not (policy.subscriber_last_name and policy.subscriber_first_name):
        return "The policy's subscriber is not the client, but the subscriber's name is missing."
    return None


def _payer_id(payer: Payer) -> str | None:
    return payer.clearinghouse_payer_id or payer.edi_payer_id


def _address(record: Any) -> Address | None:
    if not (record.address_line1 and record.city and record.state and record.zip_code):
        return None
    return Address(record.address_line1, record.address_line2, record.city, record.state, record.zip_code)


def _billing_provider(company: Company) -> BillingProvider:
    pay_to = None
    if company.pay_to_address_line1 and company.pay_to_city and company.pay_to_state and company.pay_to_zip_code:
        pay_to = Address(company.pay_to_address_line1, company.pay_to_address_line2, company.pay_to_city,
                         company.pay_to_state, company.pay_to_zip_code)  # fmt: skip
    return BillingProvider(company.id, company.legal_name, company.group_npi, company.tax_id, company.taxonomy_code,
                           _address(company), pay_to)  # fmt: skip


def coverage_of(policy: InsurancePolicy, client: Any, responsibility: str) -> Coverage:
    relationship = policy.relationship_to_subscriber.x12_code
    if relationship == "18":
        subscriber = Person(client.last_name, client.first_name, client.date_of_birth, client.sex.value,
                            _address(client))  # fmt: skip
    else:
        subscriber = Person(
            policy.subscriber_last_name or "", policy.subscriber_first_name or "", policy.subscriber_date_of_birth,
            policy.subscriber_sex.value if policy.subscriber_sex else None,
        )  # fmt: skip
    payer = policy.payer
    return Coverage(
        responsibility=responsibility,
        relationship_code=relationship,
        group_number=policy.group_number,
        filing_indicator=payer.claim_filing_indicator,
        member_id=policy.member_id,
        subscriber=subscriber,
        payer_name=payer.name,
        payer_id=_payer_id(payer) or "",
        payer_address=_address(payer),
        medicare_secondary=payer.payer_type is PayerType.MEDICARE and responsibility != "P",
    )


def _facts(claim: Claim, frequency: str, billing: BillingProvider) -> tuple[ClaimFacts, str | None]:
    assert claim.policy is not None
    client = claim.client
    coverage = coverage_of(claim.policy, client, RESPONSIBILITY[claim.policy.rank])
    auths = {ln.authorization.number for ln in claim.lines if ln.authorization is not None}
    lines = [
        Line(
            procedure_code=ln.service_code.code,
            modifiers=tuple(m for m in ln.modifiers.split(":") if m),
            charge=to_money(ln.charge),
            units=ln.units,
            pointers=tuple(int(p) for p in ln.diagnosis_pointers.split(":") if p),
            service_date=ln.service_date,
            place_of_service=ln.place_of_service,
            authorization=ln.authorization.number if ln.authorization else None,
        )
        for ln in claim.lines
    ]
    prior_payers: tuple[PriorPayer, ...] = ()
    if claim.policy.rank is not PolicyRank.PRIMARY:
        prior, lines, problem = _prior_adjudication(claim, lines)
        if problem:
            return None, problem  # type: ignore[return-value]
        prior_payers = (prior,)
    location = claim.location
    provider = claim.rendering_provider
    facts = ClaimFacts(
        number=claim.number,
        total=to_money(claim.total_charge),
        place_of_service=claim.place_of_service,
        frequency_code=frequency,
        billing=billing,
        coverage=coverage,
        patient=Person(client.last_name, client.first_name, client.date_of_birth, client.sex.value, _address(client)),
        diagnoses=tuple(d.code for d in claim.diagnoses),
        lines=tuple(lines),
        rendering=Person(provider.last_name, provider.first_name),
        rendering_npi=provider.npi,
        rendering_taxonomy=provider.taxonomy_code,
        facility_name=clean_text(location.name) or None,
        facility_npi=location.facility_npi,
        facility_address=_address(location),
        payer_claim_number=claim.payer_claim_number if frequency in ("7", "8") else None,
        prior_authorization=next(iter(auths)) if len(auths) == 1 else None,
        prior_payers=prior_payers,
    )
    return facts, None


def _prior_adjudication(claim: Claim, lines: list[Line]) -> tuple[PriorPayer, list[Line], str | None]:
    """Loops 2320/2330/2430 from the primary payer's adjudication (billing.payments.cob, issue 6)."""
    try:
        cob = import_module("billing.payments.cob")
    except ImportError:
        return None, lines, "It is a secondary claim, and the primary payer's adjudication is not available yet."  # type: ignore[return-value]
    prior = cob.prior_adjudication(claim)
    if prior is None:
        return None, lines, "It is a secondary claim, but no payment from the primary payer is posted."  # type: ignore[return-value]
    coverage = coverage_of(prior.policy, claim.client, RESPONSIBILITY[prior.policy.rank])
    payer_id = coverage.payer_id
    adjudicated = []
    prior_lines = list(prior.lines)
    for index, line in enumerate(lines):
        source = prior_lines[index] if index < len(prior_lines) else None
        if source is None:
            adjudicated.append(line)
            continue
        adjudicated.append(
            Line(**{**line.__dict__, "prior": LineAdjudication(
                payer_id=payer_id, paid=to_money(source.paid), procedure_code=source.procedure_code,
                modifiers=tuple(source.modifiers), units=source.units, paid_on=source.paid_on,
                adjustments=_adjustments(source.adjustments),
            )})
        )
    return (
        PriorPayer(coverage, to_money(prior.paid), prior.paid_on, _adjustments(prior.adjustments),
                   prior.patient_responsibility),
        adjudicated,
        None,
    )


def _adjustments(items: Sequence[Any]) -> tuple[Adjustment, ...]:
    return tuple(Adjustment(a.group, a.reason, to_money(a.amount)) for a in items)
