"""The shared check helpers behind every admin form, called directly with form data (no HTTP).

Each area's own checks are tested beside it (tests/billing/org, people, coverage; session checks in claims)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from billing.core.checks import date_order_problem, field_problem, optional_field_problem, ranges_overlap, required
from billing.core.errors import Problem
from billing.core.identifiers import npi_problem

JAN_1, MAR_1, JUN_30 = date(2026, 1, 1), date(2026, 3, 1), date(2026, 6, 30)


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
