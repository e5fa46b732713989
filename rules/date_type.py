"""A date type for business-rules, which ships none (upstream issue #96, PR #83 never merged).

Rules such as "service date before 2026-01-01" (a payer's new fee schedule) or "authorization ends
on or before 2026-06-30" then need no code. Values are ISO dates ("2026-01-01") in the rule JSON.
business-rules' `export_rule_data()` only lists types found in its own `operators` module, so the
type is registered there once, at import, and the editor and the validator see it like the others.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import business_rules.operators
from business_rules.operators import BaseType, export_type, type_operator

FIELD_DATE = "date"


def parse_date(value: Any) -> date:
    """A rule's date value: an ISO string or a date; anything else is an AssertionError, as business-rules raises."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise AssertionError(f"{value!r} is not a valid date type.")


@export_type
class DateType(BaseType):
    """Dates compared by calendar day; a missing date (None) cannot be compared and raises."""

    name = "date"

    def _assert_valid_value_and_cast(self, value: Any) -> date:
        return parse_date(value)

    @type_operator(FIELD_DATE, label="On")
    def equal_to(self, other: date) -> bool:
        return self.value == other

    @type_operator(FIELD_DATE, label="Before")
    def before(self, other: date) -> bool:
        return self.value < other

    @type_operator(FIELD_DATE, label="On or before")
    def on_or_before(self, other: date) -> bool:
        return self.value <= other

    @type_operator(FIELD_DATE, label="After")
    def after(self, other: date) -> bool:
        return self.value > other

    @type_operator(FIELD_DATE, label="On or after")
    def on_or_after(self, other: date) -> bool:
        return self.value >= other


business_rules.operators.DateType = DateType  # type: ignore[attr-defined]
