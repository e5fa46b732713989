"""`flask seed-demo`: a believable practice that passes the project's own checks, built exactly once."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.claims.models import Claim, ClaimLine
from billing.claims.queries import claim_history, live_claim_filter
from billing.claims.sessions import generate_claims, session_problems
from billing.claims.statuses import ClaimStatus
from billing.core.audit import Actor, AuditAction
from billing.core.db import db
from billing.core.identifiers import icd10_problem, normalize_icd10, npi_problem
from billing.coverage.checks import authorization_problems, payer_problems, policy_problems, service_code_problems
from billing.coverage.models import (
    Authorization,
    FeeSchedule,
    FeeScheduleRate,
    InsurancePolicy,
    Payer,
    PayerType,
    PolicyRank,
    ServiceCode,
    SubscriberRelationship,
)
from billing.models import __all__ as model_names
from billing.org.checks import company_problems, location_problems
from billing.org.models import Company, Location, Practice
from billing.people.checks import client_problems, provider_problems
from billing.people.models import Client, ClientDiagnosis, Provider, Role, User
from billing.sessions.models import NoteStatus, TherapySession
from demo.catalog import DEMO_LOGINS, LEGAL_NAME
from demo.seed import WINDOW_DAYS, SeedResult, seed_demo
from tests.conftest import csrf_token

TODAY = date(2026, 3, 18)  # a Wednesday; the demo is relative to the date it is built on


@pytest.fixture
def demo(app) -> SeedResult:
    result = seed_demo(today=TODAY, billing_history=False)
    db.session.flush()
    return result


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _row_counts() -> dict[str, int]:
    import billing.models as models

    return {name: _count(getattr(models, name)) for name in model_names if hasattr(getattr(models, name), "id")}


def test_scale_1_builds_one_cohort(demo):
    assert demo.created
    assert not demo.scale_mismatch
    assert (_count(Company), _count(Practice), _count(Location)) == (1, 2, 3)
    assert (_count(Provider), _count(Client), _count(Payer)) == (8, 60, 6)
    assert 900 <= _count(TherapySession) <= 1150  # about 1,000 at scale 1
    assert demo.counts["sessions"] == _count(TherapySession)
    assert demo.counts["clients"] == 60


def test_one_login_per_role_with_the_demo_password(demo):
    users = list(db.session.scalars(select(User).order_by(User.email)))
    assert sorted(u.role for u in users) == sorted(Role)
    assert {u.email for u in users} == {email for email, _, _ in DEMO_LOGINS}
    assert users[0].check_password("demo")


def test_the_admin_logs_in_and_sees_the_sessions(demo, client):
    response = client.post(
        "/login", data={"email": "admin@example.com", "password": "demo", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302
    assert client.get("/admin/session/").status_code == 200


def test_payers_cover_each_kind(demo):
    payers = {p.name: p for p in db.session.scalars(select(Payer))}
    kinds = Counter(p.payer_type for p in payers.values())
    assert kinds[PayerType.COMMERCIAL] >= 2
    assert kinds[PayerType.MEDICAID] == kinds[PayerType.MEDICARE] == kinds[PayerType.SELF_PAY] == 1
    by_type = {p.payer_type: p for p in payers.values()}
    assert by_type[PayerType.MEDICAID].claim_filing_indicator == "MC"
    assert by_type[PayerType.MEDICAID].requires_authorization
    assert by_type[PayerType.MEDICARE].claim_filing_indicator == "MB"
    self_pay = by_type[PayerType.SELF_PAY]
    assert (self_pay.claim_filing_indicator, self_pay.edi_enabled, self_pay.edi_payer_id) == ("09", False, None)
    assert any(p.requires_authorization for p in payers.values() if p.payer_type is PayerType.COMMERCIAL)


def test_every_npi_is_valid_and_unique(demo):
    npis = [
        *db.session.scalars(select(Provider.npi)),
        *db.session.scalars(select(Company.group_npi)),
        *db.session.scalars(select(Location.facility_npi).where(Location.facility_npi.is_not(None))),
    ]
    assert len(npis) == 8 + 1 + 2
    assert [n for n in npis if npi_problem(n)] == []
    assert len(set(npis)) == len(npis)


def test_organisation_and_coverage_pass_the_project_checks(demo):
    company = db.session.scalar(select(Company))
    assert company_problems(_fields(company)) == []
    for location in db.session.scalars(select(Location)):
        assert location_problems(_fields(location)) == [], location.name
    for provider in db.session.scalars(select(Provider)):
        assert provider_problems(_fields(provider)) == [], provider.npi
    for payer in db.session.scalars(select(Payer)):
        assert payer_problems(_fields(payer)) == [], payer.name
    for code in db.session.scalars(select(ServiceCode)):
        assert service_code_problems(_fields(code)) == [], code.code


def test_clients_policies_and_authorizations_pass_the_project_checks(demo):
    for client in db.session.scalars(select(Client)):
        rows = [{"code": d.code, "position": d.position} for d in client.diagnoses]
        assert client_problems(_fields(client) | {"diagnoses": rows}) == [], client.account_number
    for policy in db.session.scalars(select(InsurancePolicy)):
        data = _fields(policy) | {"client": policy.client}
        assert policy_problems(data, policy) == [], policy.member_id
    for auth in db.session.scalars(select(Authorization)):
        data = _fields(auth) | {"policy": auth.policy, "client": auth.client, "service_codes": auth.service_codes}
        assert authorization_problems(data) == [], auth.number


def test_a_sample_of_sessions_passes_the_session_checks(demo):
    visits = db.session.scalars(select(TherapySession).order_by(TherapySession.id)).all()
    for visit in visits[::10]:
        data = _fields(visit) | {
            "client": visit.client, "provider": visit.provider, "service_code": visit.service_code,
            "authorization": visit.authorization,
        }
        assert session_problems(data) == [], visit.id


def test_every_minor_has_a_responsible_party_and_an_insured_parent_is_named(demo):
    minors = [c for c in db.session.scalars(select(Client)) if c.age_on(TODAY) < 18]
    assert 30 <= len(minors) < 60
    assert all(c.responsible_party_name and c.responsible_party_relationship for c in minors)
    for policy in db.session.scalars(
        select(InsurancePolicy).where(InsurancePolicy.relationship_to_subscriber != SubscriberRelationship.SELF)
    ):
        assert policy.subscriber_first_name
        assert policy.subscriber_last_name
        assert policy.subscriber_date_of_birth


def test_diagnoses_are_stored_without_the_dot_in_order(demo):
    for client in db.session.scalars(select(Client)):
        codes = [d.code for d in client.diagnoses]
        assert 1 <= len(codes) <= 3
        assert [d.position for d in client.diagnoses] == list(range(1, len(codes) + 1))
        assert all(normalize_icd10(c) == c and icd10_problem(c) is None for c in codes)
    assert "F840" in set(db.session.scalars(select(ClientDiagnosis.code)))


def test_each_client_has_one_primary_policy_covering_the_window_and_some_a_secondary(demo):
    window_start = TODAY - timedelta(days=WINDOW_DAYS)
    ranks = Counter(db.session.scalars(select(InsurancePolicy.rank)))
    assert ranks[PolicyRank.PRIMARY] == 60
    assert 8 <= ranks[PolicyRank.SECONDARY] <= 25  # about a quarter
    assert db.session.scalar(select(func.max(InsurancePolicy.effective_on))) <= window_start


def test_session_states_follow_the_constraints_and_the_calendar(demo):
    visits = db.session.scalars(select(TherapySession)).all()
    window_start = TODAY - timedelta(days=WINDOW_DAYS)
    assert all(window_start <= v.service_date <= TODAY and v.service_date.weekday() < 5 for v in visits)
    finalized = [v for v in visits if v.note_status is NoteStatus.FINALIZED]
    cancelled = [v for v in visits if v.is_cancelled]
    drafts = [v for v in visits if v.note_status is NoteStatus.DRAFT and not v.is_cancelled]
    assert all(v.finalized_at is not None and v.note_text for v in finalized)
    assert all(v.cancelled_at is not None and v.note_status is NoteStatus.DRAFT for v in cancelled)
    assert 0.01 <= len(cancelled) / len(visits) <= 0.06
    assert drafts
    assert all(v.service_date >= TODAY - timedelta(days=5) for v in drafts)
    assert len(finalized) > 0.85 * len(visits)


def test_authorized_sessions_point_at_an_authorization_that_covers_them(demo):
    visits = db.session.scalars(select(TherapySession).where(TherapySession.authorization_id.is_not(None))).all()
    assert visits
    for visit in visits:
        auth = visit.authorization
        assert auth.client_id == visit.client_id
        assert auth.covers(visit.service_date)
        assert visit.service_code in auth.service_codes


def test_fee_schedules_have_a_practice_default_and_modifier_rates(demo):
    schedules = db.session.scalars(select(FeeSchedule)).all()
    assert [s.name for s in schedules if s.payer_id is None] == ["Standard charges 2025"]
    assert len(schedules) == 6  # the default and one per insurer (self-pay pays standard charges)
    rates = db.session.scalars(select(FeeScheduleRate)).all()
    assert any(r.modifiers for r in rates)
    medicaid_97153 = {
        r.modifiers: r.rate for r in rates if r.service_code.code == "97153" and r.fee_schedule.payer_id is not None
        and r.fee_schedule.payer.payer_type is PayerType.MEDICAID
    }
    assert medicaid_97153 == {"": Decimal("16.50"), "HM": Decimal("14.50"), "HN": Decimal("16.75")}


def test_every_finalized_demo_session_is_on_one_live_claim(demo):
    finalized = set(db.session.scalars(
        select(TherapySession.id).where(TherapySession.note_status == NoteStatus.FINALIZED)))
    billed = db.session.execute(
        select(ClaimLine.session_id, func.count()).join(Claim).where(live_claim_filter())
        .group_by(ClaimLine.session_id)).all()
    assert {session_id for session_id, _ in billed} == finalized
    assert all(n == 1 for _, n in billed)
    assert not generate_claims(actor=Actor.system("test")).created  # nothing left to bill


def test_the_demo_has_claims_in_every_status_reachable_without_a_payer(demo):
    counts = dict(db.session.execute(select(Claim.status, func.count()).group_by(Claim.status)).all())
    assert {ClaimStatus.READY, ClaimStatus.HELD, ClaimStatus.VOIDED} <= set(counts)
    self_pay = db.session.scalar(select(func.count()).select_from(Claim).where(Claim.self_pay.is_(True)))
    assert counts[ClaimStatus.READY] > 0.9 * (sum(counts.values()) - self_pay)  # self-pay claims bill the patient
    voided = db.session.scalars(select(Claim).where(Claim.status == ClaimStatus.VOIDED)).all()
    assert {c.void_reason for c in voided} >= {"retracted"}
    # Each claim's history was written by the operations: it opens, then moves through allowed steps.
    for claim in voided:
        history = claim_history(claim.id)
        assert history[0].action is AuditAction.CLAIM_CREATED
        assert history[-1].to_status == ClaimStatus.VOIDED.value


def test_the_same_day_gives_the_same_practice(app):
    def fingerprint() -> list[tuple]:
        nested = db.session.begin_nested()
        seed_demo(today=TODAY, billing_history=False)
        rows = db.session.execute(
            select(Client.account_number, Client.last_name, TherapySession.service_date, TherapySession.start_time,
                   TherapySession.end_time, ServiceCode.code, TherapySession.note_status)
            .join(Client).join(ServiceCode).order_by(Client.account_number, TherapySession.service_date,
                                                     TherapySession.start_time, ServiceCode.code)
        ).all()
        nested.rollback()
        return rows

    assert fingerprint() == fingerprint()


def test_a_second_run_changes_nothing(demo):
    before = _row_counts()
    again = seed_demo(today=TODAY)
    db.session.flush()
    assert (again.created, again.users_created, again.changed) == (False, 0, False)
    assert "nothing changed" in again.summary(0)
    assert _row_counts() == before


def test_a_demo_login_an_admin_deleted_stays_deleted(demo):
    """`make run` seeds every time: it must not bring back a login (password `demo`) someone removed."""
    db.session.delete(db.session.scalar(select(User).where(User.email == "biller@example.com")))
    db.session.flush()
    before = _row_counts()
    again = seed_demo(today=TODAY)
    assert (again.created, again.users_created, again.changed) == (False, 0, False)
    assert _row_counts() == before
    assert db.session.scalar(select(User).where(User.email == "biller@example.com")) is None


def test_another_scale_is_refused_without_changes(demo):
    before = _row_counts()
    refused = seed_demo(2, today=TODAY)
    assert refused.scale_mismatch
    assert not refused.changed
    assert "already exists at scale 1, not 2" in refused.summary(0)
    assert _row_counts() == before


@pytest.mark.slow
def test_the_command_builds_the_demo_once_and_prints_the_logins(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Built the demo practice at scale 1" in first.output
    for email, role, _name in DEMO_LOGINS:
        assert email in first.output
        assert role in first.output
    assert "password: demo" in first.output
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "nothing changed" in second.output
    assert "admin@example.com" in second.output
    refused = runner.invoke(args=["seed-demo", "--scale", "3"])
    assert refused.exit_code == 1
    assert "already exists at scale 1, not 3; nothing changed" in refused.output
    assert db.session.scalar(select(func.count(Company.id)).where(Company.legal_name == LEGAL_NAME)) == 1


def _fields(record: object) -> dict[str, object]:
    """A record's column values as a form would hand them to a checks function."""
    table = record.__table__  # type: ignore[attr-defined]
    return {column.key: getattr(record, column.key) for column in table.columns if column.key != "id"}
