"""Claims from the database as claim facts, in a fixed handful of queries, with their problems.

Every problem that would make a bad file (a missing address, a delimiter inside a member id, a
correction without the payer's claim number) is found here, per claim, before anything is written.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select

from billing.claims.models import Claim, ClaimDiagnosis, ClaimLine, claim_number
from billing.core.addresses import AddressMixin
from billing.core.db import chunked, db
from billing.core.id_lists import any_of
from billing.core.identifiers import npi_problem
from billing.core.money import to_money
from billing.coverage.models import Authorization, InsurancePolicy, Payer, PayerType, PolicyRank, ServiceCode
from billing.edi.claim_facts import (
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
from billing.edi.writing import clean_text, identifier_problem
from billing.org.models import Company, Location, Practice
from billing.payments.cob import prior_adjudication
from billing.people.models import Client, Provider

T = TypeVar("T")
RESPONSIBILITY = {PolicyRank.PRIMARY: "P", PolicyRank.SECONDARY: "S", PolicyRank.TERTIARY: "T"}


@dataclass(frozen=True)
class Loaded:
    """Facts for the claims that can be written, and the reasons for the ones that cannot."""

    facts: list[ClaimFacts]
    problems: dict[int, list[str]]


@dataclass(frozen=True)
class _LineRow:
    line_number: int
    code: str
    modifiers: str
    charge: Decimal
    units: int
    pointers: str
    service_date: date
    place_of_service: str
    authorization: str | None


class _Memo(dict[tuple[Any, ...], Any]):
    """Per-call answers for the people and places many claims share (a client's tenth claim costs nothing)."""

    def get_or(self, key: tuple[Any, ...], build: Any) -> Any:
        if key not in self:
            self[key] = build()
        return self[key]


@dataclass
class _Record:
    """One claim with the records its file needs, resolved from the bulk loads below."""

    claim: Any  # a Core row of claim columns
    client: Client
    policy: InsurancePolicy | None
    payer: Payer | None
    provider: Provider
    location: Location
    company: Company
    lines: list[_LineRow]
    diagnoses: list[str]

    @property
    def number(self) -> str:
        return claim_number(self.claim.id)


def load_claims(claim_ids: Sequence[int]) -> dict[int, Claim]:
    """The claims themselves, without their lines: enough to lock, check versions and record history."""
    if not claim_ids:
        return {}
    claims: dict[int, Claim] = {}
    for chunk in chunked(claim_ids, 2000):
        claims.update((c.id, c) for c in db.session.scalars(select(Claim).where(any_of(Claim.id, chunk))))
    return claims


def claim_facts(frequencies: Mapping[int, str]) -> Loaded:
    """Facts for each claim id (with the frequency it goes out as); a claim with problems is left out, explained.

    Claims, lines and diagnoses come as plain rows and the few people and places they point to as
    objects, so 5,000 claims load in a handful of queries without building 15,000 ORM objects.
    """
    facts, problems = [], {}
    memo = _Memo()
    for record in _records(list(frequencies)):
        frequency = frequencies[record.claim.id]
        found = claim_problems(record, frequency, memo)
        if found:
            problems[record.claim.id] = found
            continue
        built, prior_problem = _facts(record, frequency, memo)
        if prior_problem:
            problems[record.claim.id] = [prior_problem]
        else:
            facts.append(built)
    return Loaded(facts, problems)


def _records(claim_ids: list[int]) -> list[_Record]:
    rows = [row for chunk in chunked(claim_ids, 2000) for row in db.session.execute(
        select(*_CLAIM_COLUMNS).where(any_of(Claim.id, chunk)))]  # fmt: skip
    order = {claim_id: i for i, claim_id in enumerate(claim_ids)}
    rows.sort(key=lambda r: order[r.id])
    lines, diagnoses = _lines(claim_ids), _diagnoses(claim_ids)
    clients = _by_id(Client, {r.client_id for r in rows})
    policies = _by_id(InsurancePolicy, {r.policy_id for r in rows if r.policy_id})
    payers = _by_id(Payer, {r.payer_id for r in rows if r.payer_id} | {p.payer_id for p in policies.values()})
    providers = _by_id(Provider, {r.rendering_provider_id for r in rows})
    locations = _by_id(Location, {r.location_id for r in rows})
    practices = _by_id(Practice, {loc.practice_id for loc in locations.values()})
    companies = _by_id(Company, {p.company_id for p in practices.values()})
    return [
        _Record(row, clients[row.client_id], policies.get(row.policy_id), payers.get(row.payer_id),
                providers[row.rendering_provider_id], locations[row.location_id],
                companies[practices[locations[row.location_id].practice_id].company_id], lines.get(row.id, []),
                diagnoses.get(row.id, []))
        for row in rows
    ]  # fmt: skip


_CLAIM_COLUMNS = (
    Claim.id, Claim.client_id, Claim.policy_id, Claim.payer_id, Claim.rendering_provider_id, Claim.location_id,
    Claim.place_of_service, Claim.total_charge, Claim.payer_claim_number,
)  # fmt: skip


def _by_id(model: type[T], ids: set[int]) -> dict[int, T]:
    found: dict[int, T] = {}
    for chunk in chunked(sorted(ids), 2000):
        found.update((r.id, r) for r in db.session.scalars(select(model).where(any_of(model.id, chunk))))  # type: ignore[attr-defined]
    return found


def _lines(claim_ids: list[int]) -> dict[int, list[_LineRow]]:
    found: dict[int, list[_LineRow]] = {}
    for chunk in chunked(claim_ids, 2000):
        query = (
            select(ClaimLine.claim_id, ClaimLine.line_number, ServiceCode.code, ClaimLine.modifiers, ClaimLine.charge,
                   ClaimLine.units, ClaimLine.diagnosis_pointers, ClaimLine.service_date, ClaimLine.place_of_service,
                   Authorization.number)
            .join(ServiceCode, ServiceCode.id == ClaimLine.service_code_id)
            .outerjoin(Authorization, Authorization.id == ClaimLine.authorization_id)
            .where(any_of(ClaimLine.claim_id, chunk))
            .order_by(ClaimLine.claim_id, ClaimLine.line_number)
        )  # fmt: skip
        for claim_id, *values in db.session.execute(query):
            found.setdefault(claim_id, []).append(_LineRow(*values))
    return found


def _diagnoses(claim_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for chunk in chunked(claim_ids, 2000):
        query = (select(ClaimDiagnosis.claim_id, ClaimDiagnosis.code).where(any_of(ClaimDiagnosis.claim_id, chunk))
                 .order_by(ClaimDiagnosis.claim_id, ClaimDiagnosis.position))  # fmt: skip
        for claim_id, code in db.session.execute(query):
            found.setdefault(claim_id, []).append(code)
    return found


def claim_problems(record: _Record, frequency: str, memo: _Memo | None = None) -> list[str]:
    """What stops this claim from going out in a valid file (empty when nothing does)."""
    memo = memo if memo is not None else _Memo()
    company, provider, policy, payer = record.company, record.provider, record.policy, record.payer
    checks: list[str | None] = [
        "It has no payer or policy." if payer is None or policy is None else None,
        "It has no service lines." if not record.lines else None,
        "It has no diagnosis." if not record.diagnoses else None,
        memo.get_or(("client problem", record.client.id), lambda: _address_problem("The client", record.client)),
        *memo.get_or(("company problems", company.id), lambda: _company_problems(company)),
        memo.get_or(("provider problem", provider.id),
                    lambda: _prefixed("Rendering provider NPI", npi_problem(provider.npi))),
    ]  # fmt: skip
    if policy is not None and payer is not None:
        checks += memo.get_or(("policy problems", policy.id, payer.id), lambda: _policy_problems(policy, payer))
    if frequency in ("7", "8"):
        checks.append(
            identifier_problem("The payer's claim number (REF*F8, needed for corrections and voids)",
                               record.claim.payer_claim_number)
        )  # fmt: skip
    checks += [
        identifier_problem(f"Authorization on line {ln.line_number}", ln.authorization)
        for ln in record.lines
        if ln.authorization is not None
    ]
    checks += [_pointer_problem(ln, len(record.diagnoses)) for ln in record.lines]
    return [c for c in checks if c]


def _pointer_problem(line: _LineRow, diagnoses: int) -> str | None:
    """SV107 holds up to four pointers, each to one of the claim's diagnoses (HI; the database caps those at 12)."""
    pointers = _pointers(line.pointers) if line.pointers.replace(":", "").isdigit() else None
    if not pointers or len(pointers) > 4 or any(not 1 <= p <= diagnoses for p in pointers):
        return (f"Line {line.line_number} points to diagnoses {line.pointers!r}; use one to four of the claim's "
                f"{diagnoses} diagnosis positions.")  # fmt: skip
    return None


def _company_problems(company: Company) -> list[str | None]:
    return [_address_problem(f"Company {company.legal_name}", company),
            _prefixed("Billing NPI", npi_problem(company.group_npi))]  # fmt: skip


def _policy_problems(policy: InsurancePolicy, payer: Payer) -> list[str | None]:
    return [
        identifier_problem("The member id", policy.member_id),
        identifier_problem("The payer id", _payer_id(payer)),
        identifier_problem("The group number", policy.group_number) if policy.group_number else None,
        _subscriber_problem(policy),
    ]


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


@functools.lru_cache(maxsize=1024)
def _modifiers(text: str) -> tuple[str, ...]:
    return tuple(m for m in text.split(":") if m)


@functools.lru_cache(maxsize=1024)
def _pointers(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(":") if p)


def _person(client: Client) -> Person:
    return Person(client.last_name, client.first_name, client.date_of_birth, client.sex.value, _address(client))


def _billing_provider(company: Company) -> BillingProvider:
    pay_to = None
    if company.pay_to_address_line1 and company.pay_to_city and company.pay_to_state and company.pay_to_zip_code:
        pay_to = Address(company.pay_to_address_line1, company.pay_to_address_line2, company.pay_to_city,
                         company.pay_to_state, company.pay_to_zip_code)  # fmt: skip
    return BillingProvider(company.id, company.legal_name, company.group_npi, company.tax_id, company.taxonomy_code,
                           _address(company), pay_to)  # fmt: skip


def coverage_of(policy: InsurancePolicy, client: Any, responsibility: str, payer: Payer | None = None) -> Coverage:
    relationship = policy.relationship_to_subscriber.x12_code
    if relationship == "18":
        subscriber = _person(client)
    else:
        subscriber = Person(
            policy.subscriber_last_name or "", policy.subscriber_first_name or "", policy.subscriber_date_of_birth,
            policy.subscriber_sex.value if policy.subscriber_sex else None,
        )  # fmt: skip
    payer = payer or policy.payer
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


def _facts(record: _Record, frequency: str, memo: _Memo) -> tuple[ClaimFacts, str | None]:
    policy, client, claim = record.policy, record.client, record.claim
    location, provider = record.location, record.provider
    assert policy is not None
    coverage = memo.get_or(("coverage", policy.id, client.id),
                           lambda: coverage_of(policy, client, RESPONSIBILITY[policy.rank], record.payer))  # fmt: skip
    auths = {ln.authorization for ln in record.lines if ln.authorization is not None}
    lines = [
        Line(
            procedure_code=ln.code,
            modifiers=_modifiers(ln.modifiers),
            charge=to_money(ln.charge),
            units=ln.units,
            pointers=_pointers(ln.pointers),
            service_date=ln.service_date,
            place_of_service=ln.place_of_service,
            authorization=ln.authorization,
        )
        for ln in record.lines
    ]
    prior_payers: tuple[PriorPayer, ...] = ()
    if record.policy.rank is not PolicyRank.PRIMARY:
        numbered = [(row.line_number, line) for row, line in zip(record.lines, lines, strict=True)]
        prior, lines, problem = _prior_adjudication(db.session.get(Claim, claim.id), numbered)
        if problem or prior is None:
            return None, problem  # type: ignore[return-value]
        prior_payers = (prior,)
    facts = ClaimFacts(
        number=record.number,
        total=to_money(claim.total_charge),
        place_of_service=claim.place_of_service,
        frequency_code=frequency,
        billing=memo.get_or(("billing", record.company.id), lambda: _billing_provider(record.company)),
        coverage=coverage,
        patient=memo.get_or(("patient", client.id), lambda: _person(client)),
        diagnoses=tuple(record.diagnoses),
        lines=tuple(lines),
        rendering=memo.get_or(("rendering", provider.id), lambda: Person(provider.last_name, provider.first_name)),
        rendering_npi=provider.npi,
        rendering_taxonomy=provider.taxonomy_code,
        facility_name=memo.get_or(("facility", location.id), lambda: clean_text(location.name) or None),
        facility_npi=location.facility_npi,
        facility_address=memo.get_or(("facility address", location.id), lambda: _address(location)),
        payer_claim_number=claim.payer_claim_number if frequency in ("7", "8") else None,
        prior_authorization=next(iter(auths)) if len(auths) == 1 else None,
        prior_payers=prior_payers,
    )
    return facts, None


def _prior_adjudication(
    claim: Claim, lines: list[tuple[int, Line]]
) -> tuple[PriorPayer | None, list[Line], str | None]:
    """Loops 2320/2330/2430 from the primary payer's posted adjudication, line by line number."""
    plain = [line for _number, line in lines]
    prior = prior_adjudication(claim)
    if prior is None:
        return None, plain, "It is a secondary claim, but no payment from the primary payer is posted."
    if prior.policy is None:
        return None, plain, "It is a secondary claim, but the primary claim has no policy to report in loop 2330A."
    coverage = coverage_of(prior.policy, claim.client, RESPONSIBILITY[prior.policy.rank], prior.payer)
    by_number = {source.line_number: source for source in prior.lines}
    adjudicated = []
    for number, line in lines:
        source = by_number.get(number)
        adjudicated.append(line if source is None else line._replace(prior=LineAdjudication(
            payer_id=coverage.payer_id, paid=to_money(source.paid), procedure_code=source.procedure_code,
            modifiers=tuple(source.modifiers), units=source.units, paid_on=source.paid_on,
            adjustments=_adjustments(source.adjustments),
        )))  # fmt: skip
    paid = PriorPayer(coverage, to_money(prior.paid), prior.paid_on, _adjustments(prior.adjustments),
                      prior.patient_responsibility)  # fmt: skip
    return paid, adjudicated, None


def _adjustments(items: Sequence[Any]) -> tuple[Adjustment, ...]:
    return tuple(Adjustment(a.group, a.reason, to_money(a.amount)) for a in items)
