"""Minutes to billed units, by the service code's rounding rule and the payer's.

How the two rules combine (docs/guides/practice.md, "Units"):

- a PER_VISIT code (untimed) is one unit per session under every payer rule;
- a WHOLE_UNITS code bills completed units per session under every payer rule;
- a CMS_8_MINUTE code follows the payer: PER_CODE (the default) counts each session on its own, a unit
  once more than half of it is delivered; WHOLE_UNITS counts completed units only; CMS_DAY_TOTAL adds
  the minutes of the day's CMS 15-minute codes (per client, policy and service date) and spreads the
  units of the 8-minute table over them (`day_total_units`). A CMS code with another unit size is not a
  15-minute code: under CMS_DAY_TOTAL it keeps the per-session mid-point rule.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from billing.coverage.models import PayerRoundingRule, RoundingRule


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


def pools_day_total(rule: RoundingRule, minutes_per_unit: int) -> bool:
    """Whether a code's sessions join the day's total under a CMS day-total payer: timed 15-minute CMS codes."""
    return rule is RoundingRule.CMS_8_MINUTE and minutes_per_unit == DAY_TOTAL_MINUTES_PER_UNIT


def session_units(
    minutes: int, *, minutes_per_unit: int, code_rule: RoundingRule, payer_rule: PayerRoundingRule
) -> int:
    """Units of one session counted on its own: a per-visit code is one unit, a whole-units code completed
    units, and a CMS code follows the payer (whole units, or past the mid-point). Sessions that
    `pools_day_total` under a CMS_DAY_TOTAL payer are counted by `day_total_units` instead."""
    if code_rule is RoundingRule.CMS_8_MINUTE and payer_rule is PayerRoundingRule.WHOLE_UNITS:
        code_rule = RoundingRule.WHOLE_UNITS
    return units_for(minutes, minutes_per_unit=minutes_per_unit, rule=code_rule)


DAY_TOTAL_MINUTES_PER_UNIT = 15


@dataclass(frozen=True)
class TimedService:
    """One session's minutes of a timed 15-minute code on the day (`key` names the session or line)."""

    key: Hashable
    code: str
    minutes: int
    rate: Decimal = Decimal(0)


def day_total_units(services: Sequence[TimedService]) -> dict[Hashable, int]:
    """Units per service under the CMS 8-minute rule applied to the day's total timed minutes.

    The CMS method (Medicare Claims Processing Manual, chapter 5, section 20.2, as CMS describes it):
    add up the minutes of every timed 15-minute code given on the day; the total gives the number of
    units by the 8-minute table (8-22 = 1, 23-37 = 2, ...). Each code is then billed its full 15-minute
    units (the code's own minutes divided by 15), and any units still left go, one each, to the codes
    with the most minutes remaining (CMS's own example: 33 min of 97110 and 7 of 97140 = 40 min = 3 units;
    97110 gets its 2 full units, and the third goes to 97140, whose 7 minutes beat 97110's 3 left over;
    10 + 10 min = 20 min = 1 unit, for one of the two).

    Tie rule (ours; CMS leaves it open): between codes with the same remaining minutes the code with the
    higher rate per unit gets the unit first, then the lower code (string order, "97110" before "97140").
    Within one code billed in several sessions the code's units are spread the same way over its sessions:
    full units first, then the most remaining minutes, then the earlier session (the order given).

    A code never gets more than one unit beyond its full units, so no code bills more units than its
    minutes started (ceil(minutes / 15)); a service may get 0 units when its minutes went to other codes.
    """
    per = DAY_TOTAL_MINUTES_PER_UNIT
    by_code: dict[str, list[TimedService]] = {}
    for service in services:
        by_code.setdefault(service.code, []).append(service)
    minutes = {code: sum(max(s.minutes, 0) for s in group) for code, group in by_code.items()}
    total = units_for(sum(minutes.values()), minutes_per_unit=per, rule=RoundingRule.CMS_8_MINUTE)
    units = {code: m // per for code, m in minutes.items()}
    left = total - sum(units.values())
    rate = {code: max(s.rate for s in group) for code, group in by_code.items()}
    ranked = sorted((c for c in by_code if minutes[c] % per), key=lambda c: (-(minutes[c] % per), -rate[c], c))
    for code in ranked[:left]:
        units[code] += 1
    result: dict[Hashable, int] = {}
    for code, group in by_code.items():
        result.update(_spread(units[code], group))
    return result


def _spread(units: int, group: list[TimedService]) -> dict[Hashable, int]:
    """A code's units over its sessions: full units each, then the most remaining minutes, then the earlier."""
    per = DAY_TOTAL_MINUTES_PER_UNIT
    shares = {s.key: max(s.minutes, 0) // per for s in group}
    left = units - sum(shares.values())
    order = sorted(range(len(group)), key=lambda i: (-(max(group[i].minutes, 0) % per), i))
    for i in order[:left]:
        shares[group[i].key] += 1
    return shares
