"""The checks behind every admin form, called directly with form data (no HTTP)."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from billing.claims.sessions import finalize_session, session_problems
from billing.core.audit import Actor
from billing.core.checks import date_order_problem, field_problem, optional_field_problem, ranges_overlap, required
from billing.core.errors import Problem
from billing.core.identifiers import npi_problem
from billing.core.time import practice_today
from billing.coverage.checks import (
    authorization_problems,
    fee_schedule_problems,
    payer_problems,
    policy_problems,
    service_code_problems,
)
from billing.coverage.models import PolicyRank
from billing.org.checks import company_problems, location_problems
from billing.people.checks import client_problems, diagnosis_problems, provider_problems
from billing.sessions.models import NoteStatus
from tests import factories as f

JAN_1, MAR_1, JUN_30 = date(2026, 1, 1), date(2026, 3, 1), date(2026, 6, 30)


# --- shared helpers -----------------------------------------------------------------------------
def test_field_problem_runs_only_for_fields_on_the_form():
    assert field_problem({}, "npi", npi_problem) == []
    assert field_problem({"npi": ""}, "npi", npi_problem) == [Problem("npi", "An NPI is exactly 10 digits.")]
    assert optional_field_problem({"npi": ""}, "npi", npi_problem) == []


def test_date_order_problem():
    assert date_order_problem({"a": MAR_1, "b": JAN_1}, "a", "b") == [
        Problem("b", "The end date (01/01/2026) is before the start (03/01/2026).")
    ]
    assert date_order_problem({"a": MAR_1, "b": MAR_1}, "a", "b") == []
    assert date_order_problem({"a": MAR_1, "b": None}, "a", "b") == []


def test_required_flags_blank_values_of_fields_on_the_form():
    data = {"a": None, "b": "  ", "c": "x", "d": 0}
    assert required(data, "a", "b", "c", "d", "missing") == [
        Problem("a", "This field is required."), Problem("b", "This field is required.")
    ]


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ((JAN_1, MAR_1), (MAR_1, JUN_30), True),  # touching on one day counts
        ((JAN_1, MAR_1), (MAR_1 + timedelta(days=1), JUN_30), False),
        ((JAN_1, None), (JUN_30, None), True),  # open-ended ranges run forever
        ((MAR_1, JUN_30), (JAN_1, None), True),
        ((MAR_1, JUN_30), (JAN_1, date(2026, 2, 28)), False),
    ],
)
def test_ranges_overlap(a, b, overlap):
    assert ranges_overlap(*a, *b) is overlap
    assert ranges_overlap(*b, *a) is overlap


# --- organisation -------------------------------------------------------------------------------
def _company(**changes):
    return {"tax_id": "123456789", "group_npi": "1234567893", "taxonomy_code": "103K00000X", "phone": "",
            "zip_code": "627011234", "pay_to_zip_code": "", **changes}


def test_a_valid_company_has_no_problems():
    assert company_problems(_company()) == []


def test_company_billing_zip_needs_plus4_and_npi_its_check_digit():
    assert company_problems(_company(zip_code="62701", group_npi="1234567890")) == [
        Problem("group_npi", "1234567890 fails the NPI check digit; check for a typo."),
        Problem("zip_code", "The billing provider's ZIP must be the full 9-digit ZIP+4 (837P loop 2010AA)."),
    ]


def test_company_pay_to_address_is_all_or_nothing():
    assert company_problems(_company(pay_to_address_line1="PO Box 9", pay_to_city="Springfield")) == [
        Problem("pay_to_address_line1", "A pay-to address needs street, city, state and ZIP.")
    ]
    complete = {"pay_to_address_line1": "PO Box 9", "pay_to_city": "Springfield", "pay_to_state": "IL",
                "pay_to_zip_code": "62705"}
    assert company_problems(_company(**complete)) == []


def test_location_checks():
    assert location_problems({"place_of_service": "11", "facility_npi": "", "zip_code": "62701"}) == []
    assert location_problems({"place_of_service": "XX", "facility_npi": "1234567890", "phone": "555"}) == [
        Problem("facility_npi", "1234567890 fails the NPI check digit; check for a typo."),
        Problem("phone", "A phone number is 10 digits, e.g. (555) 123-4567."),
        Problem("place_of_service", "Choose a place of service from the list."),
    ]


# --- people -------------------------------------------------------------------------------------
def test_provider_checks():
    assert provider_problems({"npi": "1234567893", "taxonomy_code": "103K00000X"}) == []
    assert provider_problems({"npi": "1234567890", "taxonomy_code": "103K"}) == [
        Problem("npi", "1234567890 fails the NPI check digit; check for a typo."),
        Problem("taxonomy_code",
                "'103K' is not a provider taxonomy code (10 characters ending in X, e.g. 103K00000X)."),
    ]


def test_a_minor_client_needs_a_responsible_party():
    child = practice_today().replace(year=practice_today().year - 8)
    message = "A minor needs a responsible party (who receives statements)."
    assert client_problems({"date_of_birth": child, "responsible_party_name": "",
                            "responsible_party_relationship": None}) == [
        Problem("responsible_party_name", message), Problem("responsible_party_relationship", message)
    ]
    assert client_problems({"date_of_birth": child, "responsible_party_name": "Jo Parent",
                            "responsible_party_relationship": "mother"}) == []


def test_client_born_in_the_future_is_refused():
    tomorrow = practice_today() + timedelta(days=1)
    assert Problem("date_of_birth", "The date of birth is in the future.") in client_problems(
        {"date_of_birth": tomorrow, "responsible_party_name": "x", "responsible_party_relationship": "x"}
    )


def test_diagnosis_rows():
    assert diagnosis_problems([{"position": 1, "code": "F840"}, {"position": 2, "code": "R48.8"}]) == []
    assert diagnosis_problems([{"position": 1, "code": ""}]) == []  # an empty inline row is ignored
    assert diagnosis_problems([{"position": 1, "code": "F840"}, {"position": 1, "code": "F84.0"}]) == [
        Problem("diagnoses", "A diagnosis code is listed twice."),
        Problem("diagnoses", "Two diagnoses share a position; number them 1, 2, 3..."),
    ]
    thirteen = [{"position": i, "code": f"F8{i % 10}.{i}"} for i in range(1, 14)]
    assert diagnosis_problems(thirteen) == [Problem("diagnoses", "A claim carries at most 12 diagnoses.")]


# --- coverage -----------------------------------------------------------------------------------
def test_payer_checks():
    assert payer_problems({"edi_enabled": True, "edi_payer_id": "BCBS1", "claim_filing_indicator": "BL"}) == []
    assert payer_problems({"edi_enabled": False, "edi_payer_id": None, "claim_filing_indicator": "CI"}) == []
    assert payer_problems({"edi_enabled": True, "edi_payer_id": "  ", "claim_filing_indicator": "QQ"}) == [
        Problem("edi_payer_id", "An EDI payer needs its payer id (837P loop 2010BB)."),
        Problem("claim_filing_indicator", "Choose a claim filing indicator from the list."),
    ]


def _policy_data(client, **changes):
    return {"client": client, "rank": PolicyRank.PRIMARY.value, "member_id": "W1", "effective_on": MAR_1,
            "ends_on": None, "relationship_to_subscriber": "self", "subscriber_first_name": None,
            "subscriber_last_name": None, "subscriber_date_of_birth": None, **changes}


def test_policy_for_a_spouse_needs_the_subscriber_named():
    needed = "Needed when the client is not the subscriber (837P loop 2010BA)."
    data = _policy_data(f.ClientFactory(), relationship_to_subscriber="spouse", subscriber_first_name="Lee")
    assert policy_problems(data) == [
        Problem("subscriber_last_name", needed), Problem("subscriber_date_of_birth", needed)
    ]


def test_policy_ranks_may_not_overlap_for_one_client():
    existing = f.PolicyFactory(effective_on=JAN_1, ends_on=JUN_30)
    message = f"Overlaps the client's other primary policy: {existing}."
    assert policy_problems(_policy_data(existing.client)) == [Problem("effective_on", message)]
    assert policy_problems(_policy_data(existing.client, effective_on=date(2026, 7, 1))) == []
    assert policy_problems(_policy_data(existing.client, rank=PolicyRank.SECONDARY.value)) == []
    assert policy_problems(_policy_data(f.ClientFactory())) == []  # another client's primary
    assert policy_problems(_policy_data(existing.client, effective_on=JAN_1), existing) == []  # itself


def test_service_code_checks():
    good = {"code": "97153", "default_modifiers": "HN:95", "minutes_per_unit": 15}
    assert service_code_problems(good) == []
    assert service_code_problems({"code": "9715", "default_modifiers": "H", "minutes_per_unit": 0}) == [
        Problem("code", "'9715' is not a CPT or HCPCS code (e.g. 97153, 92507, H2019)."),
        Problem("default_modifiers", "Modifiers are two letters or digits each; not H."),
        Problem("minutes_per_unit", "Minutes per unit must be a positive number, e.g. 15."),
    ]


def test_fee_schedule_rates_and_overlap():
    existing = f.FeeScheduleFactory(effective_on=JAN_1, ends_on=None)
    data = {"company": existing.company, "payer": None, "effective_on": date(2027, 1, 1), "ends_on": None,
            "rates": [{"modifiers": "HN:HN", "rate": Decimal("10.00")}, {"modifiers": "", "rate": Decimal("-1")}]}
    assert fee_schedule_problems(data) == [
        Problem("rates", "A modifier is listed twice."), Problem("rates", "A rate cannot be negative.")
    ]
    data["rates"] = [{"modifiers": "HN", "rate": Decimal("10.00")}]
    assert fee_schedule_problems(data) == [
        Problem("effective_on", f"Overlaps the schedule {existing.name!r} for the same payer.")
    ]
    payer = f.PayerFactory(company=existing.company)
    assert fee_schedule_problems({**data, "payer": payer}) == []  # a payer's own schedule beside the default


def _authorization_data(policy, **changes):
    return {"client": policy.client, "policy": policy, "number": "A1", "starts_on": JAN_1, "ends_on": MAR_1,
            "units_approved": 10, "service_codes": [f.ServiceCodeFactory()], **changes}


def test_authorization_checks():
    policy = f.PolicyFactory(effective_on=JAN_1, ends_on=JUN_30)
    assert authorization_problems(_authorization_data(policy)) == []
    assert authorization_problems(_authorization_data(policy, number=" ", units_approved=0, service_codes=[])) == [
        Problem("number", "This field is required."),
        Problem("units_approved", "Units approved must be a positive whole number."),
        Problem("service_codes", "Choose at least one service code the payer approved."),
    ]
    assert authorization_problems(_authorization_data(policy, client=f.ClientFactory())) == [
        Problem("policy", "This policy belongs to another client.")
    ]
    assert authorization_problems(_authorization_data(policy, starts_on=date(2025, 12, 1), ends_on=date(2026, 7, 1))
                                  ) == [
        Problem("starts_on", "Starts before the policy does (01/01/2026)."),
        Problem("ends_on", "Ends after the policy does (06/30/2026)."),
    ]


# --- sessions -----------------------------------------------------------------------------------
def _session_data(visit, **changes):
    return {"client": visit.client, "provider": visit.provider, "service_code": visit.service_code,
            "service_date": visit.service_date, "start_time": visit.start_time, "end_time": visit.end_time,
            "modifiers": visit.modifiers, "place_of_service": "11", "authorization": None,
            "note_text": visit.note_text, **changes}


def test_session_times_place_and_modifiers():
    visit = f.TherapySessionFactory()
    assert session_problems(_session_data(visit)) == []
    assert session_problems(_session_data(visit, start_time=time(10), end_time=time(10), place_of_service="XX",
                                          modifiers="GP:GP")) == [
        Problem("modifiers", "A modifier is listed twice."),
        Problem("end_time", "The session ends (10:00) before it starts (10:00)."),
        Problem("place_of_service", "Choose a place of service from the list."),
    ]


def test_session_with_inactive_provider_or_code():
    visit = f.TherapySessionFactory()
    provider = f.ProviderFactory(active=False)
    code = f.ServiceCodeFactory(active=False, code="97155")
    assert session_problems(_session_data(visit, provider=provider, service_code=code)) == [
        Problem("provider", f"{provider} is inactive; choose an active rendering provider."),
        Problem("service_code", "97155 is inactive."),
    ]


def test_session_authorization_must_fit():
    visit = f.TherapySessionFactory(service_date=date(2026, 3, 10))
    auth = f.AuthorizationFactory(client=visit.client, starts_on=JAN_1, ends_on=JUN_30)
    auth.service_codes.append(visit.service_code)
    assert session_problems(_session_data(visit, authorization=auth)) == []
    late = _session_data(visit, authorization=auth, service_date=date(2026, 7, 1))
    assert session_problems(late) == [
        Problem("authorization", f"Authorization {auth.number} does not cover 07/01/2026.")
    ]
    other_code = f.ServiceCodeFactory(code="97156")
    assert session_problems(_session_data(visit, authorization=auth, service_code=other_code)) == [
        Problem("authorization", f"Authorization {auth.number} does not cover 97156.")
    ]
    assert session_problems(_session_data(visit, authorization=auth, client=f.ClientFactory())) == [
        Problem("authorization", "This authorization belongs to another client.")
    ]


def test_a_billed_session_keeps_what_was_billed_and_its_final_note():
    visit = f.TherapySessionFactory(note_text="Mand training.")
    f.DiagnosisFactory(client=visit.client)
    f.PolicyFactory(client=visit.client, payer=f.PayerFactory(company=visit.provider.company))
    claim = finalize_session(visit, actor=Actor.system("test")).created[0]
    assert visit.note_status is NoteStatus.FINALIZED
    assert session_problems(_session_data(visit), visit) == []
    changed = _session_data(visit, end_time=time(11), note_text="Rewritten.")
    assert session_problems(changed, visit) == [
        Problem("end_time", f"Locked by claim {claim.number} ({claim.status.label}): the end time cannot change. "
                "Retract the claim first (or correct it if it was sent)."),
        Problem("note_text", "The note is finalized and can no longer be edited."),
    ]
