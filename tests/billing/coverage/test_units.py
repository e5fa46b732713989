"""Minutes to units: the CMS 8-minute table at every boundary, whole units, per visit, other unit sizes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.coverage.models import RoundingRule
from billing.coverage.units import units_for

CMS = RoundingRule.CMS_8_MINUTE
WHOLE = RoundingRule.WHOLE_UNITS
PER_VISIT = RoundingRule.PER_VISIT

# CMS: under 8 minutes nothing; 8-22 = 1, 23-37 = 2, 38-52 = 3, 53-67 = 4, 68-82 = 5, ...
CMS_TABLE = [
    (0, 0), (1, 0), (7, 0),
    (8, 1), (15, 1), (22, 1),
    (23, 2), (30, 2), (37, 2),
    (38, 3), (52, 3),
    (53, 4), (67, 4),
    (68, 5), (82, 5),
    (83, 6), (97, 6),
    (98, 7), (112, 7),
    (113, 8), (120, 8), (127, 8),
    (128, 9),
]  # fmt: skip


@pytest.mark.parametrize(("minutes", "units"), CMS_TABLE)
def test_cms_eight_minute_rule_at_every_boundary(minutes, units):
    assert units_for(minutes, minutes_per_unit=15, rule=CMS) == units


@pytest.mark.parametrize(
    ("minutes", "units"), [(0, 0), (7, 0), (8, 0), (14, 0), (15, 1), (29, 1), (30, 2), (44, 2), (45, 3), (60, 4)]
)
def test_whole_units_count_only_completed_units(minutes, units):
    assert units_for(minutes, minutes_per_unit=15, rule=WHOLE) == units


@pytest.mark.parametrize(("minutes", "units"), [(0, 0), (1, 1), (7, 1), (53, 1), (240, 1)])
def test_per_visit_is_one_unit_for_any_time_at_all(minutes, units):
    assert units_for(minutes, minutes_per_unit=15, rule=PER_VISIT) == units
    assert units_for(minutes, minutes_per_unit=60, rule=PER_VISIT) == units


@pytest.mark.parametrize("rule", list(RoundingRule))
def test_negative_minutes_bill_nothing(rule):
    assert units_for(-5, minutes_per_unit=15, rule=rule) == 0


@pytest.mark.parametrize(
    ("minutes_per_unit", "minutes", "units"),
    [
        # 30-minute units: a unit counts once more than half (15 minutes) is delivered.
        (30, 15, 0), (30, 16, 1), (30, 45, 1), (30, 46, 2),
        # 60-minute units: the mid-point is 30 minutes.
        (60, 30, 0), (60, 31, 1), (60, 90, 1), (60, 91, 2),
        # 5-minute units: more than 2.5 minutes means 3.
        (5, 2, 0), (5, 3, 1), (5, 7, 1), (5, 8, 2),
        # 1-minute units: every minute is a unit.
        (1, 1, 1), (1, 37, 37),
    ],
)  # fmt: skip
def test_cms_rule_with_other_unit_sizes(minutes_per_unit, minutes, units):
    assert units_for(minutes, minutes_per_unit=minutes_per_unit, rule=CMS) == units


@pytest.mark.parametrize(("minutes_per_unit", "minutes", "units"), [(30, 29, 0), (30, 30, 1), (60, 119, 1), (8, 16, 2)])
def test_whole_units_with_other_unit_sizes(minutes_per_unit, minutes, units):
    assert units_for(minutes, minutes_per_unit=minutes_per_unit, rule=WHOLE) == units


@given(
    minutes=st.integers(min_value=0, max_value=24 * 60),
    extra=st.integers(min_value=0, max_value=120),
    minutes_per_unit=st.integers(min_value=1, max_value=60),
)
def test_cms_units_grow_with_minutes_and_exceed_whole_units_by_at_most_one(minutes, extra, minutes_per_unit):
    cms = units_for(minutes, minutes_per_unit=minutes_per_unit, rule=CMS)
    whole = units_for(minutes, minutes_per_unit=minutes_per_unit, rule=WHOLE)
    assert cms <= units_for(minutes + extra, minutes_per_unit=minutes_per_unit, rule=CMS)
    assert whole <= cms <= whole + 1
    # The extra unit appears exactly when the remainder is more than half a unit.
    assert (cms == whole + 1) == (2 * (minutes % minutes_per_unit) > minutes_per_unit)
