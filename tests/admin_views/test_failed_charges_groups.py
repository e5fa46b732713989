"""Failed Charges: the billed amount, a link to the record to fix, grouping with counts and dollars that drill
down to the list, and an empty list that names the filter that emptied it."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from admin_views.failed_charges import fix_target, rule_variables
from billing.claims.models import Claim
from billing.core.db import db
from billing.people.models import Role
from rules.models import RuleOutcome
from rules.runs import run_rules
from tests.worlds.practice import DAY, SYSTEM, build_world
from tests.worlds.rules import fail, leaf, make_rule

TODAY = DAY + timedelta(days=5)


@pytest.fixture
def failing():
    """Two companies, three claims (two here), each failing two rules: its dollars count once per payer."""
    here, there = build_world(), build_world()
    claims = [here.claim(), here.claim(day=DAY + timedelta(days=1)), there.claim(day=DAY + timedelta(days=3))]
    units = make_rule("Many units", conditions=leaf("units", "greater_than", 2), actions=fail("too many units"))
    policy = make_rule(
        "Policy check", conditions=leaf("policy_active_on_service_date", "is_true"), actions=fail("check the policy")
    )
    run_rules(actor=SYSTEM, today=TODAY)
    return here, there, claims, units, policy


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return html_lib.unescape(response.get_data(as_text=True))


def test_rule_variables_and_where_they_are_fixed():
    conditions = {
        "all": [
            {"name": "units", "operator": "greater_than", "value": 2},
            {"any": [{"name": "provider_active", "operator": "is_false", "value": True}]},
        ]
    }
    assert rule_variables(conditions) == ["units", "provider_active"]
    assert fix_target(conditions) == "provider"
    assert fix_target(leaf("units", "greater_than", 2)) == "session"
    assert fix_target(leaf("subscriber_data_complete", "is_false")) == "policy"
    assert fix_target(leaf("days_to_filing_deadline", "less_than", 0)) == "claim"


def test_each_row_shows_its_billed_amount_and_a_link_to_fix(client, login, failing):
    _here, _, claims, _, _ = failing
    login(Role.BILLER)
    text = page(client, "/admin/failed_charge/")
    assert f"${claims[0].total_charge:,.2f}" in text
    assert f"/admin/policy/edit/?id={claims[0].policy_id}" in text
    session_id = claims[0].lines[0].session_id
    assert f"/admin/session/edit/?id={session_id}" in text
    assert 'data-fix="policy"' in text
    assert 'data-fix="session"' in text


@pytest.mark.parametrize("by", ["rule", "payer", "provider", "location"])
def test_groups_add_up_to_the_failures_and_drill_down_to_them(client, login, failing, by):
    login(Role.BILLER)
    outcomes = db.session.scalars(select(RuleOutcome).where(RuleOutcome.resolved_at.is_(None))).all()
    key_of = {
        "rule": lambda o: o.rule_id,
        "payer": lambda o: o.claim.payer_id,
        "provider": lambda o: o.claim.rendering_provider_id,
        "location": lambda o: o.claim.location_id,
    }[by]
    expected: dict[int, tuple[int, set[int]]] = {}
    for o in outcomes:
        failures, claim_ids = expected.get(key_of(o), (0, set()))
        expected[key_of(o)] = (failures + 1, claim_ids | {o.claim_id})
    text = page(client, f"/admin/failed_charge/groups/?by={by}")
    for key, (failures, claim_ids) in expected.items():
        dollars = sum((db.session.get(Claim, c).total_charge for c in claim_ids), Decimal(0))
        row = re.search(rf'<tr data-group="{key}">(.*?)</tr>', text, re.S)
        assert row, (by, key)
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
        assert (cells[1].strip(), cells[2].strip(), cells[3].strip()) == (
            str(failures),
            str(len(claim_ids)),
            f"${dollars:,.2f}",
        )
        link = re.search(r'href="([^"]+)">Show these', row.group(1)).group(1)
        drilled = page(client, link)
        shown = {c for c in claim_ids if db.session.get(Claim, c).number in drilled}
        assert shown == claim_ids


def test_practice_and_location_that_do_not_match_say_so(client, login, failing):
    here, there, *_ = failing
    login(Role.BILLER)
    query = f"?flt0_practice_equals={here.location.practice_id}&flt1_location_equals={there.location.id}"
    text = page(client, f"/admin/failed_charge/{query}")
    assert (
        f"No failed charges: no location '{there.location.name}' belongs to practice '{here.location.practice.name}'"
    ) in text


def test_two_filters_that_empty_the_list_name_what_each_leaves(client, login, failing):
    _here, there, _claims, units, _policy = failing
    login(Role.BILLER)
    query = f"?flt0_rule_equals={units.id}&flt1_payer_equals={there.payer.id}&flt2_outcome_equals=hold"
    text = page(client, f"/admin/failed_charge/{query}")
    assert f"No failed charges match Rule = Many units and Payer = {there.payer.name} and Outcome = Held" in text
    assert "without Outcome there are 1" in text


def test_one_filter_that_empties_the_list_is_named(client, login, failing):
    login(Role.BILLER)
    text = page(client, "/admin/failed_charge/?flt0_outcome_equals=hold")
    assert "No failed charges match Outcome = Held." in text
