"""Organisation checks behind the admin forms (company, location), called directly with form data."""

from __future__ import annotations

from billing.core.errors import Problem
from billing.org.checks import company_problems, location_problems


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
