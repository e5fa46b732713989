"""Each variable reads the right fact from the database, and each action records its outcome."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.coverage.models import PayerType, SubscriberRelationship
from rules.facts import load_facts
from rules.models import OutcomeKind
from rules.variables import VARIABLES, ClaimActions, ClaimVariables, Fired, fired_from_action, rule_schema
from tests.worlds import factories as f
from tests.worlds.claims import walk_to
from tests.worlds.practice import DAY, RATE, build_world

TODAY = DAY + timedelta(days=100)


def _facts(claim):
    db.session.flush()
    return load_facts([claim.id], TODAY)[claim.id]


@pytest.fixture
def world():
    return build_world()


def test_every_declared_variable_is_exported_with_its_type():
    exported = {v["name"]: v["field_type"] for v in rule_schema()["variables"]}
    assert exported == {spec.name: spec.kind for spec in VARIABLES}


def test_a_plain_claim_reads_as_expected(world):
    claim = world.claim(minutes=60)
    facts = _facts(claim)
    assert facts.payer_name == world.payer.name
    assert facts.payer_type == [PayerType.COMMERCIAL.value]
    assert facts.claim_filing_indicator == ["CI"]
    assert facts.payer_requires_authorization is False
    assert facts.service_codes == ["97153"]
    assert facts.modifiers == []
    assert facts.units == 4
    assert facts.billed_amount == RATE * 4
    assert facts.lowest_rate == RATE
    assert facts.place_of_service == ["11"]
    assert facts.rendering_npi_present is True
    assert facts.provider_active is True
    assert facts.client_age == 35  # born 1990-05-17, seen 2026-03-02
    assert (facts.diagnosis_count, facts.diagnosis_codes) == (2, ["F840", "F900"])
    assert facts.authorization_present is False
    assert facts.authorization_expired is False
    assert facts.authorization_units_short is False
    assert facts.days_until_authorization_end is None
    assert facts.authorization_ends_on is None
    assert facts.service_date == DAY
    assert facts.days_since_service == 100
    assert facts.days_to_filing_deadline == world.payer.filing_limit_days - 100
    assert facts.policy_active_on_service_date is True
    assert facts.subscriber_data_complete is True
    assert facts.duplicate_claim is False
    assert facts.note_finalized is True
    assert facts.location_name == world.location.name
    assert facts.practice_name == world.location.practice.name


def test_business_rules_variables_read_the_same_facts(world):
    facts = _facts(world.claim())
    variables = ClaimVariables(facts)
    for spec in VARIABLES:
        assert getattr(variables, spec.name)() == getattr(facts, spec.name)


def test_modifiers_and_provider_state(world):
    world.provider.active = False
    facts = _facts(world.claim(modifiers="HN:95"))
    assert facts.modifiers == ["HN", "95"]
    assert facts.provider_active is False


def test_policy_inactive_and_subscriber_incomplete(world):
    world.policy.effective_on = DAY + timedelta(days=1)
    claim = world.claim()
    world.policy.relationship_to_subscriber = SubscriberRelationship.CHILD
    claim.policy_id = world.policy.id
    facts = _facts(claim)
    assert facts.policy_active_on_service_date is False
    assert facts.subscriber_data_complete is False


def test_authorization_facts(world):
    world.payer.requires_authorization = True
    auth = f.AuthorizationFactory(client=world.client, policy=world.policy, starts_on=date(2026, 1, 1),
                                  ends_on=DAY + timedelta(days=130), units_approved=6, service_codes=[world.code])
    first = world.claim(minutes=60)
    facts = _facts(first)
    assert facts.authorization_present is True
    assert facts.payer_requires_authorization is True
    assert facts.days_until_authorization_end == 30
    assert facts.authorization_ends_on == DAY + timedelta(days=130)
    assert facts.authorization_units_short is False
    auth.units_approved = 3  # fewer left than the claim uses
    auth.ends_on = DAY - timedelta(days=1)  # and no longer covering the date
    facts = _facts(first)
    assert facts.authorization_units_short is True
    assert facts.authorization_expired is True


def test_duplicate_claims_see_each_other_but_not_voided_ones(world):
    first = world.claim(start=time(9, 0))
    other_provider = f.ProviderFactory(company=world.company)
    second = world.claim(start=time(13, 0), provider=other_provider)
    assert _facts(first).duplicate_claim is True
    assert _facts(second).duplicate_claim is True
    walk_to(second, ClaimStatus.VOIDED)
    assert _facts(first).duplicate_claim is False


def test_a_secondary_claim_is_no_duplicate_of_its_primary(world):
    from billing.coverage.models import PolicyRank
    from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
    from billing.payments.operations import EntrySource
    from billing.payments.posting import post_adjudication
    from billing.payments.secondary import generate_secondary_claim
    from tests.worlds.practice import SYSTEM

    primary = world.claim()
    walk_to(primary, ClaimStatus.SUBMITTED)
    f.PolicyFactory(client=world.client, payer=f.PayerFactory(company=world.company), rank=PolicyRank.SECONDARY)
    line = primary.lines[0]
    post_adjudication(primary, ClaimPosting(DAY + timedelta(days=20), (LinePosting(
        line.line_number, line.charge - Decimal("10.00"), (Adjustment("PR", "2", Decimal("10.00")),)),)),
        actor=SYSTEM, source=EntrySource.MANUAL)
    secondary = generate_secondary_claim(primary, actor=SYSTEM, posted_on=DAY + timedelta(days=21))
    db.session.flush()
    assert _facts(secondary).duplicate_claim is False
    assert _facts(primary).duplicate_claim is False


def test_zero_rate_and_missing_diagnosis(world):
    for line in (claim := world.claim()).lines:
        line.rate = Decimal("0.00")
    claim.diagnoses.clear()
    facts = _facts(claim)
    assert facts.lowest_rate == 0
    assert facts.diagnosis_count == 0


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ({"name": "fail_charge", "params": {"reason": "r"}}, Fired(7, OutcomeKind.FAILURE, "r")),
        ({"name": "hold_claim", "params": {"reason": "r"}}, Fired(7, OutcomeKind.HOLD, "r")),
        ({"name": "delay_claim", "params": {"days": 5, "reason": "r"}}, Fired(7, OutcomeKind.DELAY, "r", 5)),
        ({"name": "warn", "params": {"message": "m"}}, Fired(7, OutcomeKind.WARNING, "m")),
    ],
)
def test_each_action_records_its_outcome(action, expected):
    assert fired_from_action(7, action) == expected
    recorder = ClaimActions(7)
    getattr(recorder, action["name"])(**action["params"])
    assert recorder.fired == [expected]
    if expected.days:
        assert expected.delay_until(date(2026, 1, 1)) == date(2026, 1, 6)
