"""Fee-schedule precedence on the service date, and line charge = units x rate, exactly."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest

from billing.claims.models import Claim
from billing.claims.queries import authorization_units_used
from billing.claims.sessions import finalize_session, finalize_sessions
from billing.core.db import db
from billing.coverage.models import RoundingRule
from billing.coverage.queries import load_coverage
from tests.worlds import factories as f
from tests.worlds.practice import DAY, SYSTEM


def _rate_billed(world, **visit_fields) -> Decimal:
    """The rate on the line that finalizing one new session produced (on a new or an extended claim)."""
    visit = world.visit(**visit_fields)
    result = finalize_session(visit, actor=SYSTEM)
    [line] = [ln for claim in result.created + result.extended for ln in claim.lines if ln.session_id == visit.id]
    return line.rate


@pytest.fixture
def default_schedule(world):
    """The practice default (no payer): cheaper, and with its own modifier rate."""
    schedule = f.FeeScheduleFactory(company=world.company, payer=None, name="Practice default")
    f.RateFactory(fee_schedule=schedule, service_code=world.code, rate=Decimal("15.00"))
    f.RateFactory(fee_schedule=schedule, service_code=world.code, modifiers="HN", rate=Decimal("16.00"))
    return schedule


def test_payer_rate_with_matching_modifiers_comes_first(world, default_schedule):
    f.RateFactory(fee_schedule=world.schedule, service_code=world.code, modifiers="HN", rate=Decimal("20.00"))
    assert _rate_billed(world, modifiers="HN") == Decimal("20.00")


def test_then_the_payer_rate_for_the_code_without_modifiers(world, default_schedule):
    f.RateFactory(fee_schedule=world.schedule, service_code=world.code, modifiers="HN", rate=Decimal("20.00"))
    assert _rate_billed(world) == Decimal("18.37")
    # A modifier the payer has no rate for falls back to the payer's plain code, not to the default's HN rate.
    assert _rate_billed(world, modifiers="HO") == Decimal("18.37")


def test_payer_plain_code_beats_the_default_schedule_even_with_matching_modifiers(world, default_schedule):
    assert _rate_billed(world, modifiers="HN") == Decimal("18.37")


def test_then_the_practice_default_when_the_payer_schedule_lacks_the_code(world, default_schedule):
    other = world.code_with("97155", RoundingRule.WHOLE_UNITS, rate=None)
    f.RateFactory(fee_schedule=default_schedule, service_code=other, rate=Decimal("15.50"))
    f.RateFactory(fee_schedule=default_schedule, service_code=other, modifiers="HN", rate=Decimal("16.50"))
    book = load_coverage([world.client.id], [world.company.id], units_used=authorization_units_used)
    assert book.rate(world.company.id, world.payer.id, other.id, "HN", DAY).rate == Decimal("16.50")
    assert book.rate(world.company.id, world.payer.id, other.id, "", DAY).rate == Decimal("15.50")
    assert book.rate(world.company.id, world.payer.id, other.id, "HO", DAY).rate == Decimal("15.50")
    assert _rate_billed(world, service_code=other) == Decimal("15.50")


def test_a_client_without_a_payer_is_priced_from_the_default(world, default_schedule):
    book = load_coverage([world.client.id], [world.company.id], units_used=authorization_units_used)
    assert book.rate(world.company.id, None, world.code.id, "", DAY).rate == Decimal("15.00")
    assert book.rate(world.company.id, None, world.code.id, "HN", DAY).schedule_name == "Practice default"


def test_another_payers_schedule_is_never_used(world):
    stranger = f.PayerFactory(company=world.company)
    schedule = f.FeeScheduleFactory(company=world.company, payer=stranger)
    f.RateFactory(fee_schedule=schedule, service_code=world.code, rate=Decimal("99.00"))
    assert _rate_billed(world) == Decimal("18.37")


def test_the_schedule_effective_on_the_service_date_prices_the_line(world):
    world.schedule.ends_on = date(2026, 3, 9)
    newer = f.FeeScheduleFactory(company=world.company, payer=world.payer, effective_on=date(2026, 3, 10))
    f.RateFactory(fee_schedule=newer, service_code=world.code, rate=Decimal("19.00"))
    future = f.FeeScheduleFactory(company=world.company, payer=world.payer, effective_on=date(2026, 4, 1))
    f.RateFactory(fee_schedule=future, service_code=world.code, rate=Decimal("25.00"))
    db.session.flush()

    assert _rate_billed(world, day=date(2026, 3, 9)) == Decimal("18.37")  # the old schedule's last day
    assert _rate_billed(world, day=date(2026, 3, 10)) == Decimal("19.00")  # the newer one from its first day
    assert _rate_billed(world, day=date(2026, 3, 31)) == Decimal("19.00")
    assert _rate_billed(world, day=date(2026, 4, 1)) == Decimal("25.00")


def test_a_schedule_that_ended_yesterday_is_not_used(world, default_schedule):
    world.schedule.ends_on = date(2026, 3, 9)
    db.session.flush()
    assert _rate_billed(world, day=date(2026, 3, 10)) == Decimal("15.00")  # the default, not the ended payer rate


def test_no_schedule_in_effect_means_no_rate(world):
    world.schedule.effective_on = date(2026, 3, 10)
    db.session.flush()
    book = load_coverage([world.client.id], [world.company.id], units_used=authorization_units_used)
    assert book.rate(world.company.id, world.payer.id, world.code.id, "", date(2026, 3, 9)) is None


def test_line_charge_is_units_times_rate_exactly(world):
    """105 minutes in whole 15-minute units is 7 units; 7 x 18.37 = 128.59."""
    seven = world.visit(minutes=105)
    eight = world.visit(minutes=120, start=time(13, 0))
    [claim] = finalize_sessions([seven, eight], actor=SYSTEM).created
    assert [(ln.units, ln.rate, ln.charge) for ln in claim.lines] == [
        (7, Decimal("18.37"), Decimal("128.59")),
        (8, Decimal("18.37"), Decimal("146.96")),
    ]
    assert claim.total_charge == Decimal("275.55")

    db.session.expire_all()  # the same figures come back from the database
    stored = db.session.get(Claim, claim.id)
    assert [ln.charge for ln in stored.lines] == [Decimal("128.59"), Decimal("146.96")]
    assert stored.total_charge == Decimal("275.55")


def test_cms_units_are_priced_the_same_way(world):
    code = world.code_with("97110", RoundingRule.CMS_8_MINUTE, rate=Decimal("41.25"))
    claim = finalize_session(world.visit(minutes=53, service_code=code), actor=SYSTEM).created[0]
    assert (claim.lines[0].units, claim.lines[0].charge) == (4, Decimal("165.00"))
    assert claim.total_charge == Decimal("165.00")


# --- case N: the newest schedule in force wins; modifiers are a set -----------------------------------------

def test_case_n_an_older_open_ended_schedule_does_not_beat_a_newer_one(world):
    """The 2026 payer schedule (open-ended, with an HN rate) is superseded by a March schedule that prices
    the code alone: from March 10 every HN session is priced from the newer schedule."""
    f.RateFactory(fee_schedule=world.schedule, service_code=world.code, modifiers="HN", rate=Decimal("20.00"))
    newer = f.FeeScheduleFactory(company=world.company, payer=world.payer, effective_on=date(2026, 3, 10))
    f.RateFactory(fee_schedule=newer, service_code=world.code, rate=Decimal("19.50"))
    db.session.flush()
    assert _rate_billed(world, modifiers="HN", day=date(2026, 3, 9)) == Decimal("20.00")
    assert _rate_billed(world, modifiers="HN", day=date(2026, 3, 10)) == Decimal("19.50")


def test_case_n_a_payer_schedule_still_beats_a_newer_practice_default(world):
    default = f.FeeScheduleFactory(company=world.company, payer=None, effective_on=date(2026, 3, 1))
    f.RateFactory(fee_schedule=default, service_code=world.code, rate=Decimal("15.00"))
    db.session.flush()
    assert _rate_billed(world, day=date(2026, 3, 10)) == Decimal("18.37")


@pytest.mark.parametrize("billed", ["59:GO", "GO:59", "go, 59"])
def test_case_n_modifiers_match_as_a_set(world, billed):
    f.RateFactory(fee_schedule=world.schedule, service_code=world.code, modifiers="59:GO", rate=Decimal("21.00"))
    db.session.flush()
    assert _rate_billed(world, modifiers=billed) == Decimal("21.00")
