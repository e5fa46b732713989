"""Bad input is refused with a message under the faulty field, and nothing is written."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from billing.core.db import db
from billing.coverage.models import (
    Authorization,
    ClaimChannel,
    InsurancePolicy,
    Payer,
    PayerRoundingRule,
    ServiceCode,
)
from billing.people.models import Client, ClientDiagnosis, Provider, Role, User
from billing.sessions.models import TherapySession
from tests.admin_views.grids import count, form_errors, post, row
from tests.worlds import factories as f


@pytest.fixture
def admin(login):
    return login(Role.ADMIN)


def refused(client: Any, url: str, data: dict[str, Any]) -> dict[str, list[str]]:
    """POST the form; it must come back (200, not a redirect) with its field errors."""
    response = post(client, url, data)
    assert response.status_code == 200
    return form_errors(response.get_data(as_text=True))


def session_form(**changes: Any) -> dict[str, Any]:
    visit_client = f.ClientFactory()
    company = visit_client.location.practice.company
    return {
        "client": visit_client.id, "provider": f.ProviderFactory(company=company).id,
        "location": visit_client.location_id, "service_code": f.ServiceCodeFactory(company=company).id,
        "modifiers": "", "service_date": "2026-03-03", "start_time": "09:00", "end_time": "10:00",
        "place_of_service": "11", **changes,
    }


def policy_form(policy_client: Client, **changes: Any) -> dict[str, Any]:
    payer = f.PayerFactory(company=policy_client.location.practice.company)
    return {
        "client": policy_client.id, "payer": payer.id, "rank": "primary", "member_id": "W123456789",
        "relationship_to_subscriber": "self", "effective_on": "2026-03-01", **changes,
    }


def authorization_form(policy: InsurancePolicy, **changes: Any) -> dict[str, Any]:
    code = f.ServiceCodeFactory(company=policy.payer.company)
    return {
        "client": policy.client_id, "policy": policy.id, "number": "AUTH-9", "service_codes": [str(code.id)],
        "starts_on": "2026-02-01", "ends_on": "2026-03-31", "units_approved": "40", **changes,
    }


# --- providers and clients ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("npi", "message"),
    [
        ("1234567890", "1234567890 fails the NPI check digit; check for a typo."),
        ("1234567", "An NPI is exactly 10 digits."),
    ],
)
def test_provider_with_a_bad_npi_is_refused(client, admin, npi, message):
    form = {"company": f.CompanyFactory().id, "first_name": "Pat", "last_name": "Lane", "npi": npi}
    before = count(Provider)
    assert refused(client, "/admin/provider/new/", form) == {"npi": [message]}
    assert count(Provider) == before


def test_client_with_a_malformed_icd10_code_is_refused(client, admin):
    form = {
        "location": f.LocationFactory().id, "account_number": "A-1", "first_name": "Ann", "last_name": "Lee",
        "date_of_birth": "1980-01-02", "sex": "F", "diagnoses-0-position": "1", "diagnoses-0-code": "8F4.0",
    }
    before = count(Client), count(ClientDiagnosis)
    assert refused(client, "/admin/client/new/", form) == {
        "diagnoses": ["'8F40' is not an ICD-10-CM code (a letter, two characters, then up to four more, e.g. F84.0)."]
    }
    assert (count(Client), count(ClientDiagnosis)) == before


# --- sessions -----------------------------------------------------------------------------------
def test_session_ending_before_it_starts_is_refused(client, admin):
    form = session_form(start_time="10:00", end_time="09:00")
    before = count(TherapySession)
    assert refused(client, "/admin/session/new/", form) == {
        "end_time": ["The session ends (09:00) before it starts (10:00)."]
    }
    assert count(TherapySession) == before


def test_valid_session_edit_is_saved_with_modifiers_normalised(client, admin):
    visit = f.TherapySessionFactory()
    form = {
        "client": visit.client_id, "provider": visit.provider_id, "location": visit.location_id,
        "service_code": visit.service_code_id, "modifiers": "gp, 59", "service_date": "2026-03-04",
        "start_time": "13:00", "end_time": "13:45", "place_of_service": "02", "note_text": "Telehealth visit.",
    }
    response = post(client, f"/admin/session/edit/?id={visit.id}", form, follow_redirects=True)
    assert "Record was successfully saved." in response.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(TherapySession, visit.id)
    assert saved.modifiers == "GP:59"
    assert (saved.service_date.isoformat(), saved.minutes, saved.place_of_service) == ("2026-03-04", 45, "02")
    assert saved.note_text == "Telehealth visit."


# --- authorizations -----------------------------------------------------------------------------
def test_authorization_ending_before_it_starts_is_refused(client, admin):
    form = authorization_form(f.PolicyFactory(), starts_on="2026-03-01", ends_on="2026-01-31")
    before = count(Authorization)
    assert refused(client, "/admin/authorization/new/", form) == {
        "ends_on": ["The end date (01/31/2026) is before the start (03/01/2026)."]
    }
    assert count(Authorization) == before


def test_authorization_outside_its_policy_dates_is_refused(client, admin):
    policy = f.PolicyFactory(effective_on=date(2026, 1, 1), ends_on=date(2026, 6, 30))
    form = authorization_form(policy, starts_on="2025-12-01", ends_on="2026-07-31")
    before = count(Authorization)
    assert refused(client, "/admin/authorization/new/", form) == {
        "starts_on": ["Starts before the policy does (01/01/2026)."],
        "ends_on": ["Ends after the policy does (06/30/2026)."],
    }
    assert count(Authorization) == before


# --- policies -----------------------------------------------------------------------------------
def test_policy_without_a_member_id_is_refused(client, admin):
    form = policy_form(f.ClientFactory(), member_id="")
    before = count(InsurancePolicy)
    assert refused(client, "/admin/policy/new/", form) == {"member_id": ["This field is required."]}
    assert count(InsurancePolicy) == before


def test_policy_for_a_child_needs_the_subscriber(client, admin):
    form = policy_form(f.ClientFactory(), relationship_to_subscriber="child")
    before = count(InsurancePolicy)
    needed = ["Needed when the client is not the subscriber (837P loop 2010BA)."]
    assert refused(client, "/admin/policy/new/", form) == {
        "subscriber_first_name": needed, "subscriber_last_name": needed, "subscriber_date_of_birth": needed,
    }
    assert count(InsurancePolicy) == before


def test_overlapping_primary_policy_is_refused(client, admin):
    existing = f.PolicyFactory(effective_on=date(2026, 1, 1), ends_on=None)
    form = policy_form(existing.client, effective_on="2026-03-01", ends_on="2026-12-31")
    before = count(InsurancePolicy)
    assert refused(client, "/admin/policy/new/", form) == {
        "effective_on": [f"Overlaps the client's other primary policy: {existing}."]
    }
    assert count(InsurancePolicy) == before


def test_secondary_policy_beside_the_primary_is_accepted(client, admin):
    existing = f.PolicyFactory(effective_on=date(2026, 1, 1), ends_on=None)
    form = policy_form(existing.client, rank="secondary")
    before = count(InsurancePolicy)
    response = post(client, "/admin/policy/new/", form)
    assert response.status_code == 302
    assert count(InsurancePolicy) == before + 1


# --- billing setup ------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["9715", "ABCDE", "97153X"])
def test_service_code_with_a_malformed_code_is_refused(client, admin, code):
    form = {"company": f.CompanyFactory().id, "code": code, "description": "ABA", "minutes_per_unit": "15",
            "rounding_rule": "whole_units"}
    before = count(ServiceCode)
    errors = refused(client, "/admin/service_code/new/", form)
    if len(code) > 5:  # the column holds five characters; the length check answers first
        assert errors == {"code": ["Field cannot be longer than 5 characters."]}
    else:
        assert errors == {"code": [f"'{code}' is not a CPT or HCPCS code (e.g. 97153, 92507, H2019)."]}
    assert count(ServiceCode) == before


def test_service_code_default_modifiers_are_normalised(client, admin):
    form = {"company": f.CompanyFactory().id, "code": "h2019", "description": "Behavioral therapy",
            "default_modifiers": "hn , 95", "minutes_per_unit": "15", "rounding_rule": "cms_8_minute"}
    post(client, "/admin/service_code/new/", form)
    saved = db.session.scalar(db.select(ServiceCode).where(ServiceCode.code == "H2019"))
    assert (saved.default_modifiers, saved.minutes_per_unit) == ("HN:95", 15)


def test_edi_payer_without_a_payer_id_is_refused(client, admin):
    form = {"company": f.CompanyFactory().id, "name": "Blue Plan", "payer_type": "commercial",
            "claim_filing_indicator": "BL", "edi_payer_id": " ", "edi_enabled": "y"}
    before = count(Payer)
    assert refused(client, "/admin/payer/new/", form) == {
        "edi_payer_id": ["An EDI payer needs its payer id (837P loop 2010BB)."]
    }
    assert count(Payer) == before


def test_payer_form_saves_the_timed_minutes_rule(client, admin):
    form = {"company": f.CompanyFactory().id, "name": "Medicare Part B", "payer_type": "medicare",
            "claim_filing_indicator": "MB", "edi_payer_id": "MCR01", "edi_enabled": "y",
            "rounding_rule": "cms_day_total"}
    post(client, "/admin/payer/new/", form)
    saved = db.session.scalar(db.select(Payer).where(Payer.name == "Medicare Part B"))
    assert saved.rounding_rule is PayerRoundingRule.CMS_DAY_TOTAL


def test_payer_form_saves_the_filing_windows_and_defaults_a_missing_one(client, admin):
    form = {"company": f.CompanyFactory().id, "name": "Tricare", "payer_type": "commercial",
            "claim_filing_indicator": "CH", "filing_limit_days": "365", "corrected_filing_days": "120"}
    post(client, "/admin/payer/new/", form)
    saved = db.session.scalar(db.select(Payer).where(Payer.name == "Tricare"))
    assert (saved.filing_limit_days, saved.corrected_filing_days, saved.follow_up_days) == (365, 120, 30)


@pytest.mark.parametrize(("field", "value"), [("filing_limit_days", "0"), ("corrected_filing_days", "5000"),
                                              ("follow_up_days", "-3")])
def test_payer_form_refuses_a_window_out_of_range_naming_the_field(client, admin, field, value):
    form = {"company": f.CompanyFactory().id, "name": "Odd Plan", "payer_type": "commercial",
            "claim_filing_indicator": "CI", field: value}
    before = count(Payer)
    problems = refused(client, "/admin/payer/new/", form)
    assert list(problems) == [field]
    assert "whole number of days from 1 to 1830" in problems[field][0]
    assert count(Payer) == before


# --- users --------------------------------------------------------------------------------------
def test_user_with_a_taken_email_is_refused(client, admin):
    f.UserFactory(email="dana@example.test")
    form = {"email": " Dana@Example.test", "name": "Dana Again", "role": "biller", "active": "y",
            "new_password": "a long enough password"}
    before = count(User)
    # Emails are stored lower-case, so a different spelling of a taken address is caught too
    # (by Flask-Admin's unique-column check, which answers before billing's own).
    assert refused(client, "/admin/user/new/", form) == {"email": ["Already exists."]}
    assert count(User) == before


def test_new_user_without_a_password_is_refused(client, admin):
    form = {"email": "kim@example.test", "name": "Kim", "role": "accountant", "active": "y", "new_password": ""}
    before = count(User)
    assert refused(client, "/admin/user/new/", form) == {"new_password": ["A new account needs a password."]}
    assert count(User) == before


def test_admin_cannot_remove_their_own_admin_role_or_deactivate_themselves(client, admin):
    form = {"email": admin.email, "name": admin.name, "role": "biller", "new_password": ""}
    before = row(admin)
    assert refused(client, f"/admin/user/edit/?id={admin.id}", form) == {
        "role": ["You cannot remove your own admin role; ask another admin."],
        "active": ["You cannot deactivate your own account."],
    }
    assert row(admin) == before


def test_admin_may_change_another_admins_role(client, admin):
    other = f.UserFactory(role=Role.ADMIN)
    form = {"email": other.email, "name": other.name, "role": "biller", "active": "y", "new_password": ""}
    post(client, f"/admin/user/edit/?id={other.id}", form)
    db.session.expire_all()
    assert db.session.get(User, other.id).role is Role.BILLER


def test_payer_form_saves_paper_as_how_the_payer_takes_claims(client, admin):
    form = {"company": f.CompanyFactory().id, "name": "Rural Mutual", "payer_type": "commercial",
            "claim_filing_indicator": "CI", "claim_channel": "paper"}
    post(client, "/admin/payer/new/", form)
    saved = db.session.scalar(db.select(Payer).where(Payer.name == "Rural Mutual"))
    assert saved.claim_channel is ClaimChannel.PAPER
