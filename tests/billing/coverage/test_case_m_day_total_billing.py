"""Case M: finalizing sessions under a payer that counts the day's total timed minutes (CMS 8-minute rule)."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest
from sqlalchemy import select

from billing.claims.models import ClaimLine
from billing.claims.sessions import finalize_session, finalize_sessions
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.coverage.models import PayerRoundingRule, RoundingRule
from tests.worlds.claims import history, walk_to
from tests.worlds.practice import SYSTEM

CMS = RoundingRule.CMS_8_MINUTE


@pytest.fixture
def pt(world):
    """97110 at 40.00 and 97140 at 45.00, both CMS 8-minute codes."""
    world.payer.rounding_rule = PayerRoundingRule.CMS_DAY_TOTAL
    ex = world.code_with("97110", CMS, rate=Decimal("40.00"))
    return world, ex, world.code_with("97140", CMS, rate=Decimal("45.00"))


def _live_units(world) -> dict[int, int]:
    rows = db.session.execute(select(ClaimLine.session_id, ClaimLine.units).where(
        ClaimLine.claim.has(client_id=world.client.id), ClaimLine.claim.has(status=ClaimStatus.READY)))
    return dict(rows.all())


def test_case_m_97110_10_min_and_97140_10_min_are_one_unit_in_all(pt):
    world, ex, manual = pt
    a = world.visit(minutes=10, service_code=ex)
    b = world.visit(minutes=10, service_code=manual, start=time(10, 0))
    result = finalize_sessions([a, b], actor=SYSTEM)
    [claim] = result.created
    # A tie on the 10 remaining minutes: the higher rate (97140 at 45.00) takes the unit.
    assert [(ln.session_id, ln.units, ln.charge) for ln in claim.lines] == [(b.id, 1, Decimal("45.00"))]
    assert claim.total_charge == Decimal("45.00")
    assert [visit for visit, _ in result.unbilled] == [a]


def test_case_m_under_the_midpoint_rule_each_code_is_counted_per_session(pt):
    world, ex, manual = pt
    world.payer.rounding_rule = PayerRoundingRule.PER_CODE
    result = finalize_sessions([world.visit(minutes=10, service_code=ex),
                                world.visit(minutes=10, service_code=manual, start=time(10, 0))], actor=SYSTEM)
    [claim] = result.created
    assert [ln.units for ln in claim.lines] == [1, 1]


def test_case_m_three_sessions_of_7_minutes_are_one_unit(pt):
    world, ex, _ = pt
    visits = [world.visit(minutes=7, service_code=ex, start=time(9 + i, 0)) for i in range(3)]
    result = finalize_sessions(visits, actor=SYSTEM)
    [claim] = result.created
    assert [(ln.session_id, ln.units) for ln in claim.lines] == [(visits[0].id, 1)]


def test_case_m_three_sessions_of_7_minutes_under_the_midpoint_rule_bill_nothing(pt):
    world, ex, _ = pt
    world.payer.rounding_rule = PayerRoundingRule.PER_CODE
    result = finalize_sessions([world.visit(minutes=7, service_code=ex, start=time(9 + i, 0)) for i in range(3)],
                               actor=SYSTEM)
    assert (result.created, len(result.unbilled)) == ([], 3)


def test_case_m_whole_units_payer_counts_completed_units_only(pt):
    world, ex, _ = pt
    world.payer.rounding_rule = PayerRoundingRule.WHOLE_UNITS
    claim = world.claim(minutes=29, service_code=ex)
    assert claim.lines[0].units == 1


def test_case_m_sessions_finalized_one_by_one_reach_the_days_total(pt):
    world, ex, _ = pt
    visits = [world.visit(minutes=7, service_code=ex, start=time(9 + i, 0)) for i in range(3)]
    first = finalize_session(visits[0], actor=SYSTEM)
    assert first.lines == 0
    second = finalize_session(visits[1], actor=SYSTEM)  # 14 minutes: the earlier session gets the unit
    [claim] = second.created
    assert [(ln.session_id, ln.units) for ln in claim.lines] == [(visits[0].id, 1)]
    finalize_session(visits[2], actor=SYSTEM)  # 21 minutes: still one unit
    assert _live_units(world) == {visits[0].id: 1}


def test_case_m_a_later_session_re_unitizes_the_days_unsent_line_with_history(pt):
    world, ex, manual = pt
    first = world.visit(minutes=10, service_code=ex)
    claim = finalize_session(first, actor=SYSTEM).created[0]
    assert [ln.units for ln in claim.lines] == [1]
    later = world.visit(minutes=12, service_code=manual, start=time(11, 0))
    result = finalize_session(later, actor=SYSTEM)  # 22 minutes = 1 unit: 97140's 12 beat 97110's 10
    assert result.extended == [claim]
    assert [(ln.line_number, ln.session_id, ln.units) for ln in claim.lines] == [(1, later.id, 1)]
    assert claim.total_charge == Decimal("45.00")
    edited = [h for h in history(claim) if h.action is AuditAction.CLAIM_EDITED]
    assert len(edited) == 1
    assert edited[0].data["lines"] == [{"line_number": 1, "session_id": first.id, "units": [1, 0],
                                        "charge": ["40.00", "0.00"]}]
    assert edited[0].reason.startswith("Units recomputed")


def test_case_m_a_later_session_raises_the_units_of_an_unsent_line(pt):
    world, ex, _ = pt
    first = world.visit(minutes=20, service_code=ex)
    claim = finalize_session(first, actor=SYSTEM).created[0]
    assert claim.lines[0].units == 1  # 20 minutes alone: 1 unit
    finalize_session(world.visit(minutes=20, service_code=ex, start=time(11, 0)), actor=SYSTEM)
    # 40 minutes of 97110 = 3 units: a full unit each, the third to the earlier session.
    assert [ln.units for ln in claim.lines] == [2, 1]
    assert claim.total_charge == Decimal("120.00")


def test_case_m_sent_lines_are_never_changed(pt):
    world, ex, manual = pt
    claim = walk_to(finalize_session(world.visit(minutes=10, service_code=ex), actor=SYSTEM).created[0],
                    ClaimStatus.SUBMITTED)
    finalize_session(world.visit(minutes=12, service_code=manual, start=time(11, 0)), actor=SYSTEM)
    assert [(ln.units, ln.charge) for ln in claim.lines] == [(1, Decimal("40.00"))]
    assert not [h for h in history(claim) if h.action is AuditAction.CLAIM_EDITED]
