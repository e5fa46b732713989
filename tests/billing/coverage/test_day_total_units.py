"""Case M: the CMS 8-minute rule over the day's total timed minutes, and how payer and code rules combine."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.coverage.models import PayerRoundingRule, RoundingRule
from billing.coverage.units import TimedService, day_total_units, pools_day_total, session_units

T = TimedService


def test_case_m_two_codes_of_ten_minutes_are_one_unit_in_all():
    units = day_total_units([T("a", "97110", 10), T("b", "97140", 10)])
    assert sum(units.values()) == 1
    assert units == {"a": 1, "b": 0}  # a tie on minutes and rate: code order, 97110 first


def test_case_m_three_sessions_of_seven_minutes_are_one_unit():
    assert sum(day_total_units([T(i, "97110", 7) for i in range(3)]).values()) == 1
    assert sum(day_total_units([T(1, "97110", 7), T(2, "97140", 7), T(3, "97530", 7)]).values()) == 1


def test_cms_example_remaining_unit_goes_to_the_most_remaining_minutes():
    # 33 + 7 = 40 minutes = 3 units: 97110 has 2 full units (3 left over), 97140's 7 minutes take the third.
    assert day_total_units([T("a", "97110", 33), T("b", "97140", 7)]) == {"a": 2, "b": 1}


def test_a_tie_goes_to_the_higher_rate_then_code_order():
    tie = [T("a", "97110", 10, Decimal("40")), T("b", "97140", 10, Decimal("45"))]
    assert day_total_units(tie) == {"a": 0, "b": 1}
    assert day_total_units([T("b", "97140", 10), T("a", "97110", 10)]) == {"a": 1, "b": 0}


def test_full_units_first_then_remaining_minutes():
    # 24 + 24 + 12 = 60 min = 4 units: a full unit each for 97110 and 97140, then 97530's 12 minutes,
    # then 9 left on 97110 and on 97140: the tie goes by code order.
    units = day_total_units([T("a", "97110", 24), T("b", "97140", 24), T("c", "97530", 12)])
    assert units == {"a": 2, "b": 1, "c": 1}


def test_one_code_over_several_sessions_counts_its_total_minutes():
    # 97110 8 + 8 = 16 min: one full unit of the code, on the session with more... both 8: the earlier one.
    assert day_total_units([T("a", "97110", 8), T("b", "97110", 8)]) == {"a": 1, "b": 0}
    assert day_total_units([T("a", "97110", 20), T("b", "97110", 20)]) == {"a": 2, "b": 1}  # 40 min = 3


def test_nothing_and_under_eight_minutes_bill_nothing():
    assert day_total_units([]) == {}
    assert day_total_units([T("a", "97110", 7)]) == {"a": 0}


# How the payer's rule and the code's rule combine (a session counted on its own)

CMS, WHOLE, VISIT = RoundingRule.CMS_8_MINUTE, RoundingRule.WHOLE_UNITS, RoundingRule.PER_VISIT


@pytest.mark.parametrize(
    ("code_rule", "payer_rule", "minutes", "units"),
    [
        (CMS, PayerRoundingRule.PER_CODE, 10, 1),  # the midpoint, per session
        (CMS, PayerRoundingRule.PER_CODE, 7, 0),
        (CMS, PayerRoundingRule.WHOLE_UNITS, 29, 1),  # the payer pays completed units only
        (WHOLE, PayerRoundingRule.PER_CODE, 29, 1),  # a whole-units code is never rounded up
        (WHOLE, PayerRoundingRule.CMS_DAY_TOTAL, 29, 1),
        (VISIT, PayerRoundingRule.PER_CODE, 53, 1),  # untimed: one unit per session under every payer rule
        (VISIT, PayerRoundingRule.CMS_DAY_TOTAL, 5, 1),
        (VISIT, PayerRoundingRule.WHOLE_UNITS, 5, 1),
    ],
)  # fmt: skip
def test_payer_and_code_rules_combine(code_rule, payer_rule, minutes, units):
    assert session_units(minutes, minutes_per_unit=15, code_rule=code_rule, payer_rule=payer_rule) == units


def test_only_timed_fifteen_minute_cms_codes_join_the_day_total():
    assert pools_day_total(CMS, 15)
    assert not pools_day_total(CMS, 30)
    assert not pools_day_total(WHOLE, 15)
    assert not pools_day_total(VISIT, 15)


# Property: the assignment against an independent brute computation


def _table(minutes: int) -> int:
    """The CMS 8-minute table written out: under 8 nothing, then a unit per 15 minutes from 8-22."""
    if minutes < 8:
        return 0
    units, low = 1, 8
    while minutes > low + 14:
        units, low = units + 1, low + 15
    return units


services = st.lists(
    st.tuples(st.sampled_from(["97110", "97112", "97140", "97530"]), st.integers(0, 75),
              st.sampled_from([Decimal("40"), Decimal("45"), Decimal("48")])),
    max_size=8,
)


@given(services)
def test_day_total_assignment_matches_a_brute_computation(rows):
    day = [T(i, code, minutes, rate) for i, (code, minutes, rate) in enumerate(rows)]
    units = day_total_units(day)
    assert set(units) == {s.key for s in day}
    assert all(u >= 0 for u in units.values())
    total_minutes = sum(s.minutes for s in day)
    assert sum(units.values()) == _table(total_minutes)
    for code in {s.code for s in day}:
        minutes = sum(s.minutes for s in day if s.code == code)
        got = sum(units[s.key] for s in day if s.code == code)
        assert minutes // 15 <= got <= math.ceil(minutes / 15)  # full units at least, never past the minutes
    for s in day:
        assert units[s.key] <= math.ceil(s.minutes / 15)


@given(services)
def test_day_total_is_the_whole_units_of_the_day_or_one_more(rows):
    day = [T(i, code, minutes, rate) for i, (code, minutes, rate) in enumerate(rows)]
    total_minutes = sum(s.minutes for s in day)
    assert total_minutes // 15 <= sum(day_total_units(day).values()) <= total_minutes // 15 + 1
