"""Minutes to billed units, by the service code's rounding rule."""

from __future__ import annotations

from billing.coverage.models import RoundingRule


def units_for(minutes: int, *, minutes_per_unit: int, rule: RoundingRule) -> int:
    """Billable units for one session; 0 means nothing to bill.

    CMS 8-minute rule (for 15-minute units): 8-22 min = 1, 23-37 = 2, 38-52 = 3, ...; under 8 = 0.
    In general a unit counts once more than half of it is delivered.
    """
    if minutes <= 0:
        return 0
    if rule is RoundingRule.PER_VISIT:
        return 1
    if rule is RoundingRule.CMS_8_MINUTE:
        half = minutes_per_unit // 2 + 1  # first minute past the mid-point: 8 of 15, 16 of 30, 31 of 60
        return (minutes + minutes_per_unit - half) // minutes_per_unit
    return minutes // minutes_per_unit
