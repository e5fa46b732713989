"""factory_boy factories: valid records with sensible defaults, flushed (never committed)."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import factory
from factory.alchemy import SQLAlchemyModelFactory

from billing.core.db import db
from billing.core.identifiers import npi_check_digit
from billing.coverage.models import (
    Authorization,
    FeeSchedule,
    FeeScheduleRate,
    InsurancePolicy,
    Payer,
    PayerType,
    PolicyRank,
    RoundingRule,
    ServiceCode,
)
from billing.org.models import Company, Location, Practice
from billing.people.models import Client, ClientDiagnosis, Provider, Role, Sex, User
from billing.sessions.models import NoteStatus, SessionClass, TherapySession
from billing.submissions.models import Clearinghouse

TEST_PASSWORD = "correct horse battery"


def valid_npi(n: int) -> str:
    base = f"{100_000_000 + n:09d}"[-9:]
    return f"{base}{npi_check_digit(base)}"


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731 - the current scoped session
        sqlalchemy_session_persistence = "flush"


class CompanyFactory(Base):
    class Meta:
        model = Company

    legal_name = factory.Sequence(lambda n: f"Test Therapy Group {n} LLC")
    tax_id = factory.Sequence(lambda n: f"{100000000 + n:09d}")
    group_npi = factory.Sequence(lambda n: valid_npi(500_000 + n))
    taxonomy_code = "103K00000X"
    address_line1 = "100 Main St"
    city = "Springfield"
    state = "IL"
    zip_code = "627011234"


class PracticeFactory(Base):
    class Meta:
        model = Practice

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Practice {n}")


class LocationFactory(Base):
    class Meta:
        model = Location

    practice = factory.SubFactory(PracticeFactory)
    name = factory.Sequence(lambda n: f"Clinic {n}")
    place_of_service = "11"
    address_line1 = "200 Oak Ave"
    city = "Springfield"
    state = "IL"
    zip_code = "62702"


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    name = factory.Sequence(lambda n: f"User {n}")
    role = Role.ADMIN
    active = True
    password_hash = factory.LazyFunction(lambda: _hash(TEST_PASSWORD))


_HASHES: dict[str, str] = {}


def _hash(password: str) -> str:
    """scrypt is slow on purpose; hash the shared test password once per run."""
    from werkzeug.security import generate_password_hash

    if password not in _HASHES:
        _HASHES[password] = generate_password_hash(password)
    return _HASHES[password]


class ProviderFactory(Base):
    class Meta:
        model = Provider

    company = factory.SubFactory(CompanyFactory)
    first_name = factory.Sequence(lambda n: f"Pat{n}")
    last_name = factory.Sequence(lambda n: f"Provider{n:05d}")
    credentials = "BCBA"
    npi = factory.Sequence(lambda n: valid_npi(n))
    taxonomy_code = "103K00000X"
    active = True


class ClientFactory(Base):
    class Meta:
        model = Client

    location = factory.SubFactory(LocationFactory)
    account_number = factory.Sequence(lambda n: f"T-{n:06d}")
    first_name = factory.Sequence(lambda n: f"Sam{n}")
    last_name = factory.Sequence(lambda n: f"Client{n:05d}")
    date_of_birth = date(1990, 5, 17)
    sex = Sex.FEMALE
    active = True


class DiagnosisFactory(Base):
    class Meta:
        model = ClientDiagnosis

    client = factory.SubFactory(ClientFactory)
    position = 1
    code = "F840"


class PayerFactory(Base):
    class Meta:
        model = Payer

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Payer {n}")
    payer_type = PayerType.COMMERCIAL
    edi_payer_id = factory.Sequence(lambda n: f"P{n:05d}")
    claim_filing_indicator = "CI"
    edi_enabled = True


class PolicyFactory(Base):
    class Meta:
        model = InsurancePolicy

    client = factory.SubFactory(ClientFactory)
    payer = factory.SubFactory(PayerFactory)
    rank = PolicyRank.PRIMARY
    member_id = factory.Sequence(lambda n: f"M{n:08d}")
    effective_on = date(2026, 1, 1)


class ServiceCodeFactory(Base):
    class Meta:
        model = ServiceCode

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"{97100 + n % 900:05d}")
    description = "Therapeutic procedure"
    minutes_per_unit = 15
    rounding_rule = RoundingRule.WHOLE_UNITS


class FeeScheduleFactory(Base):
    class Meta:
        model = FeeSchedule

    company = factory.SubFactory(CompanyFactory)
    payer = None
    name = factory.Sequence(lambda n: f"Schedule {n}")
    effective_on = date(2026, 1, 1)


class RateFactory(Base):
    class Meta:
        model = FeeScheduleRate

    fee_schedule = factory.SubFactory(FeeScheduleFactory)
    service_code = factory.SubFactory(ServiceCodeFactory)
    modifiers = ""
    rate = Decimal("25.00")


class AuthorizationFactory(Base):
    class Meta:
        model = Authorization

    client = factory.SubFactory(ClientFactory)
    policy = factory.SubFactory(PolicyFactory, client=factory.SelfAttribute("..client"))
    number = factory.Sequence(lambda n: f"AUTH{n:06d}")
    starts_on = date(2026, 1, 1)
    ends_on = date(2026, 6, 30)
    units_approved = 400


class SessionClassFactory(Base):
    class Meta:
        model = SessionClass

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Class {n}")
    billable = False


class TherapySessionFactory(Base):
    class Meta:
        model = TherapySession

    client = factory.SubFactory(ClientFactory)
    provider = factory.SubFactory(ProviderFactory)
    location = factory.SelfAttribute("client.location")
    service_code = factory.SubFactory(ServiceCodeFactory)
    service_date = factory.Sequence(lambda n: date(2026, 3, 2) + timedelta(days=n % 60))
    start_time = time(9, 0)
    end_time = time(10, 0)
    place_of_service = "11"
    note_status = NoteStatus.DRAFT


class ClearinghouseFactory(Base):
    class Meta:
        model = Clearinghouse

    name = factory.Sequence(lambda n: f"Clearinghouse {n}")
    isa_sender_qualifier = "ZZ"
    isa_sender_id = "CLAIMDESK"
    isa_receiver_qualifier = "ZZ"
    isa_receiver_id = "OFFALLY"
    gs_sender_code = "CLAIMDESK"
    gs_receiver_code = "OFFALLY"
    submitter_name = "Test Therapy Group"
    submitter_etin = "ETIN0001"
    submitter_contact_name = "Ann Biller"
    submitter_contact_phone = "2175550100"
    receiver_name = "Office Ally"
    receiver_id = "330897513"
    usage_indicator = "T"
    sftp_host = "127.0.0.1"
    sftp_port = 22
    sftp_username = "claimdesk"
    sftp_password = "s3cret-password"
    # Some server's key; tests that talk to the loopback server store that server's key instead.
    sftp_host_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG5ScX3+fdaUsBPBnHHAs70QrUJojoHJ8rEy9FZuuIXg"
    inbound_folder = "inbound"
    outbound_folder = "outbound"
