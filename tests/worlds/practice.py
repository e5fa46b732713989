"""The practice most tests start from: one insured, diagnosed client, a priced code and a provider."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from billing.claims.models import Claim
from billing.claims.sessions import finalize_session
from billing.core.audit import Actor
from billing.coverage.models import FeeSchedule, InsurancePolicy, Payer, RoundingRule, ServiceCode
from billing.org.models import Company, Location
from billing.people.models import Client, Provider
from billing.sessions.models import TherapySession
from tests.worlds import factories as f

SYSTEM = Actor.system("test")
DAY = date(2026, 3, 2)  # a Monday, well before "today" so sessions can be finalized
RATE = Decimal("18.37")


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
