"""Companies, practices and locations: admins edit them, everyone else reads."""

from __future__ import annotations

from admin_views.base import RoleModelView
from admin_views.formatters import code_choices
from admin_views.permissions import Area
from billing.core.identifiers import digits_only
from billing.core.reference import PLACES_OF_SERVICE, US_STATES
from billing.org.checks import company_problems, location_problems
from billing.org.models import Company, Location, Practice
from billing.org.queries import by_company, by_location, by_practice

STATE_CHOICES = [(s, s) for s in US_STATES]
ADDRESS_FIELDS = ["address_line1", "address_line2", "city", "state", "zip_code"]
DIGITS = {"filters": [lambda v: digits_only(v) if v else v]}
UPPER = {"filters": [lambda v: v.strip().upper() if v else v]}
ADDRESS_LABELS = {"address_line1": "Street", "address_line2": "Suite / unit", "zip_code": "ZIP"}


class CompanyView(RoleModelView):
    """The billing entity; its tax id and group NPI go on every claim."""

    area = Area.ORGANISATION
    scope_rule = staticmethod(lambda scope: by_company(Company.id, scope))
    form_checks = staticmethod(company_problems)
    column_list = ["legal_name", "tax_id", "group_npi", "taxonomy_code", "city", "state"]
    column_searchable_list = ["legal_name", "tax_id", "group_npi"]
    column_sortable_list = ["legal_name", "tax_id", "group_npi", "city", "state"]
    column_labels = {**ADDRESS_LABELS, "group_npi": "Group NPI", "tax_id": "Tax id (EIN)"}
    form_columns = [
        "legal_name", "tax_id", "group_npi", "taxonomy_code", "phone", *ADDRESS_FIELDS,
        "pay_to_address_line1", "pay_to_address_line2", "pay_to_city", "pay_to_state", "pay_to_zip_code",
    ]
    form_choices = {"state": STATE_CHOICES, "pay_to_state": [("", ""), *STATE_CHOICES]}
    form_args = {
        "tax_id": DIGITS, "group_npi": DIGITS, "phone": DIGITS, "zip_code": DIGITS, "pay_to_zip_code": DIGITS,
        "taxonomy_code": UPPER,
    }
    column_descriptions = {"zip_code": "ZIP+4 (nine digits): the 837P billing provider address requires it."}


class PracticeView(RoleModelView):
    area = Area.ORGANISATION
    scope_rule = staticmethod(lambda scope: by_practice(Practice.id, scope))
    column_list = ["name", "company"]
    column_searchable_list = ["name"]
    column_sortable_list = ["name", ("company", "company.legal_name")]
    form_columns = ["company", "name"]


class LocationView(RoleModelView):
    area = Area.ORGANISATION
    scope_rule = staticmethod(lambda scope: by_location(Location.id, scope))
    form_checks = staticmethod(location_problems)
    column_list = ["name", "practice", "place_of_service", "facility_npi", "city", "state"]
    column_searchable_list = ["name", "city"]
    column_sortable_list = ["name", ("practice", "practice.name"), "place_of_service", "city"]
    column_filters = ["place_of_service", "state"]
    column_labels = {**ADDRESS_LABELS, "facility_npi": "Facility NPI", "place_of_service": "Default POS"}
    form_columns = ["practice", "name", "place_of_service", "facility_npi", "phone", *ADDRESS_FIELDS]
    form_choices = {"place_of_service": code_choices(PLACES_OF_SERVICE), "state": STATE_CHOICES}
    form_args = {"facility_npi": DIGITS, "phone": DIGITS, "zip_code": DIGITS}
