"""A small billing world for claim tests: one insured, diagnosed client, priced code and provider."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from billing.claims.models import Claim
from billing.claims.queries import claim_history
from billing.claims.sessions import finalize_session
from billing.claims.statuses import ClaimStatus, transition
from billing.core.audit import Actor, AuditAction, StatusChange
from billing.core.db import db
from billing.coverage.models import FeeSchedule, InsurancePolicy, Payer, RoundingRule, ServiceCode
from billing.org.models import Company, Location
from billing.people.models import Client, Provider
from billing.sessions.models import TherapySession
from tests import factories as f

SYSTEM = Actor.system("test")
DAY = date(2026, 3, 2)  # a Monday, well before "today" so sessions can be finalized
RATE = Decimal("18.37")

#: The action a test passes when it moves a claim straight through `transition()`.
ACTION_TO = {
    ClaimStatus.READY: AuditAction.CLAIM_RELEASED,
    ClaimStatus.HELD: AuditAction.CLAIM_HELD,
    ClaimStatus.SUBMITTED: AuditAction.CLAIM_SUBMITTED,
    ClaimStatus.PAID: AuditAction.CLAIM_PAID,
    ClaimStatus.DENIED: AuditAction.CLAIM_DENIED,
    ClaimStatus.VOIDED: AuditAction.CLAIM_VOIDED,
}
#: How a new (Ready) claim reaches each status through allowed transitions only.
PATH_TO = {
    ClaimStatus.READY: [],
    ClaimStatus.HELD: [ClaimStatus.HELD],
    ClaimStatus.SUBMITTED: [ClaimStatus.SUBMITTED],
    ClaimStatus.PAID: [ClaimStatus.SUBMITTED, ClaimStatus.PAID],
    ClaimStatus.DENIED: [ClaimStatus.SUBMITTED, ClaimStatus.DENIED],
    ClaimStatus.VOIDED: [ClaimStatus.VOIDED],
}


@dataclass
class World:
    company: Company
    location: Location
    code: ServiceCode
    payer: Payer
    client: Client
    policy: InsurancePolicy
    schedule: FeeSchedule
    provider: Provider

    def visit(self, *, minutes: int = 60, day: date = DAY, start: time = time(9, 0), **fields: Any) -> TherapySession:
        """A draft session with a note, ready to finalize."""
        end = (datetime.combine(day, start) + timedelta(minutes=minutes)).time()
        fields = {
            "client": self.client,
            "provider": self.provider,
            "location": self.location,
            "service_code": self.code,
            "note_text": "Worked on manding; 80% independent.",
            **fields,
        }
        return f.TherapySessionFactory(service_date=day, start_time=start, end_time=end, **fields)

    def claim(self, **visit_fields: Any) -> Claim:
        """A Ready claim for one new session."""
        result = finalize_session(self.visit(**visit_fields), actor=SYSTEM)
        assert len(result.created) == 1, result
        return result.created[0]

    def code_with(self, code: str, rule: RoundingRule, rate: Decimal | None = RATE) -> ServiceCode:
        service_code = f.ServiceCodeFactory(company=self.company, code=code, rounding_rule=rule)
        if rate is not None:
            f.RateFactory(fee_schedule=self.schedule, service_code=service_code, rate=rate)
        return service_code


def build_world(*, requires_authorization: bool = False) -> World:
    company = f.CompanyFactory()
    location = f.LocationFactory(practice=f.PracticeFactory(company=company))
    code = f.ServiceCodeFactory(company=company, code="97153")
    payer = f.PayerFactory(company=company, requires_authorization=requires_authorization)
    client = f.ClientFactory(location=location)
    f.DiagnosisFactory(client=client, position=1, code="F840")
    f.DiagnosisFactory(client=client, position=2, code="F900")
    policy = f.PolicyFactory(client=client, payer=payer)
    schedule = f.FeeScheduleFactory(company=company, payer=payer, name="Payer 2026")
    f.RateFactory(fee_schedule=schedule, service_code=code, rate=RATE)
    provider = f.ProviderFactory(company=company)
    return World(company, location, code, payer, client, policy, schedule, provider)


def walk_to(claim: Claim, status: ClaimStatus) -> Claim:
    """Move a new claim to `status` through allowed transitions (submission and payments come later)."""
    for step in PATH_TO[status]:
        transition(claim, step, action=ACTION_TO[step], actor=SYSTEM, reason=f"test: {step.value}")
    db.session.flush()
    return claim


def history(claim: Claim) -> list[StatusChange]:
    return claim_history(claim.id)
