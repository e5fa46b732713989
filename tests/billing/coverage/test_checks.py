"""Coverage checks behind the admin forms (payer, policy, code, fee schedule, authorization), with form data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.core.errors import Problem
from billing.coverage.checks import (
    authorization_problems,
    fee_schedule_problems,
    payer_problems,
    policy_problems,
    service_code_problems,
)
from billing.coverage.models import PolicyRank
from tests.worlds import factories as f

JAN_1, MAR_1, JUN_30 = date(2026, 1, 1), date(2026, 3, 1), date(2026, 6, 30)


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
