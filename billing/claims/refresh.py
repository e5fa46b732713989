"""Re-check a held claim against today's data: policy, diagnoses, rates and authorizations."""

from __future__ import annotations

from billing.claims.building import MAX_DIAGNOSES, MAX_POINTERS
from billing.claims.models import Claim, ClaimDiagnosis, ClaimLine
from billing.claims.self_pay import is_self_pay
from billing.core.money import sum_money, to_money
from billing.coverage.queries import CoverageBook


def refresh(claim: Claim, book: CoverageBook) -> list[str]:
    """Fill in what the data now supplies; return every piece that is still missing."""
    problems: list[str] = []
    policy = book.primary_policy(claim.client_id, claim.service_date)
    claim.self_pay = is_self_pay(policy)  # no insurance on the date (still): the claim bills the patient
    if policy is not None:
        claim.policy_id, claim.payer_id = policy.id, policy.payer_id
    if not claim.diagnoses:
        codes = book.diagnoses.get(claim.client_id, [])[:MAX_DIAGNOSES]
        claim.diagnoses = [ClaimDiagnosis(position=i, code=c) for i, c in enumerate(codes, start=1)]
        pointers = ":".join(str(p) for p in range(1, min(len(codes), MAX_POINTERS) + 1)) or "1"
        for line in claim.lines:
            line.diagnosis_pointers = pointers
    if not claim.diagnoses and not claim.self_pay:
        problems.append("the client has no diagnosis on file")
    company_id = claim.location.practice.company_id
    for line in claim.lines:
        problems += _reprice(line, claim, company_id, book)
        if policy is not None:
            problems += _reauthorize(line, claim, policy.id, policy.payer, book)
    claim.total_charge = sum_money(ln.charge for ln in claim.lines)
    return problems


def _reprice(line: ClaimLine, claim: Claim, company_id: int, book: CoverageBook) -> list[str]:
    priced = book.rate(company_id, claim.payer_id, line.service_code_id, line.modifiers, line.service_date)
    if priced is None:
        mods = f":{line.modifiers}" if line.modifiers else ""
        return [f"no fee-schedule rate for {line.service_code.code}{mods} on {line.service_date:%m/%d/%Y}"]
    line.rate = to_money(priced.rate)
    line.charge = to_money(line.rate * line.units)
    return []


def _reauthorize(line: ClaimLine, claim: Claim, policy_id: int, payer: object, book: CoverageBook) -> list[str]:
    if line.authorization_id is not None:
        return []
    auth = book.authorization(claim.client_id, policy_id, line.service_code_id, line.service_date, line.units)
    if auth is not None:
        book.use_units(auth.id, line.units)
        line.authorization_id = auth.id
        return []
    if getattr(payer, "requires_authorization", False):
        return [
            f"{payer} requires an authorization: none covers {line.service_code.code} on "
            f"{line.service_date:%m/%d/%Y} with {line.units} units left"
        ]
    return []
