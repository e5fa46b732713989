"""The Failed Charges report's filters, click-through and Reprocess; the billing runs page; rule actions."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from billing.claims.operations import hold_claim
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.people.models import Role
from rules.models import BillingRun, Rule, RuleOutcome
from rules.runs import run_rules
from tests.conftest import csrf_token
from tests.worlds import factories as f
from tests.worlds.claims import walk_to
from tests.worlds.practice import DAY, SYSTEM, build_world
from tests.worlds.rules import fail, leaf, make_rule

TODAY = DAY + timedelta(days=5)
UNITS_RULE = {"conditions": leaf("units", "greater_than", 2), "actions": fail("too many units")}


@pytest.fixture
def two_worlds():
    """Two companies with one failing claim each, after one run."""
    here, there = build_world(), build_world()
    mine, theirs = here.claim(), there.claim(day=DAY + timedelta(days=3))
    rule = make_rule("Many units", **UNITS_RULE)
    run_rules(actor=SYSTEM, today=TODAY)
    return here, there, mine, theirs, rule


def _shown(html: str, *claims) -> set[str]:
    return {claim.number for claim in claims if claim.number in html}


def _page(client, query: str = "") -> str:
    response = client.get(f"/admin/failed_charge/{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_every_filter_narrows_the_report(client, login, two_worlds):
    here, _, mine, theirs, rule = two_worlds
    other_rule = make_rule("Other rule", conditions=leaf("units", "greater_than", 100), actions=fail())
    run = db.session.scalar(select(BillingRun.id))
    login(Role.BILLER)
    assert {mine.number, theirs.number} <= _shown(_page(client), mine, theirs)
    practice = here.location.practice
    narrowing = {
        f"?flt0_company_equals={here.company.id}": True,
        f"?flt0_practice_equals={practice.id}": True,
        f"?flt0_location_equals={here.location.id}": True,
        f"?flt0_payer_equals={here.payer.id}": True,
        f"?flt0_rule_equals={rule.id}": None,  # both claims fail this rule
        f"?flt0_rule_equals={other_rule.id}": False,  # neither fails that one
        f"?flt0_run_number_equals={run}": None,
        f"?flt0_run_number_equals={run + 1}": False,
        f"?flt0_service_date_between={DAY:%Y-%m-%d}+to+{DAY + timedelta(days=1):%Y-%m-%d}": True,
        "?flt0_outcome_equals=failure": None,
        "?flt0_outcome_equals=hold": False,
    }
    for query, only_mine in narrowing.items():
        expected = {None: {mine.number, theirs.number}, True: {mine.number}, False: set()}[only_mine]
        assert _shown(_page(client, query), mine, theirs) == expected, query


def test_the_oldest_failure_filter_and_columns(client, login, two_worlds):
    here, _, mine, _, _ = two_worlds
    [outcome] = db.session.scalars(select(RuleOutcome).where(RuleOutcome.claim_id == mine.id))
    login(Role.ACCOUNTANT)
    day = outcome.first_failed_at.date()
    html = _page(client, f"?flt0_oldest_failure_between={day:%Y-%m-%d}+to+{day:%Y-%m-%d}")
    assert mine.number in html
    html = _page(client, f"?flt0_oldest_failure_between={day - timedelta(days=9):%Y-%m-%d}+to+"
                         f"{day - timedelta(days=8):%Y-%m-%d}")
    assert mine.number not in html
    html = _page(client)
    assert f"/admin/claim/details/?id={mine.id}" in html  # click through to the claim
    assert here.client.full_name in html
    assert here.payer.name in html
    assert "too many units" in html
    assert DAY.strftime("%m/%d/%Y") in html


def test_tabs_show_open_resolved_and_all(client, login, two_worlds):
    _, _, mine, theirs, rule = two_worlds
    rule.enabled = False
    run_rules(actor=SYSTEM, today=TODAY, claim_ids=[mine.id])
    login(Role.BILLER)
    assert _shown(_page(client), mine, theirs) == {theirs.number}
    assert _shown(_page(client, "?state=resolved"), mine, theirs) == {mine.number}
    assert _shown(_page(client, "?state=all"), mine, theirs) == {mine.number, theirs.number}


def test_scope_picker_limits_the_report(client, login, two_worlds):
    here, _, mine, theirs, _ = two_worlds
    login(Role.BILLER)
    response = client.post("/scope", data={"scope": f"company:{here.company.id}",
                                            "csrf_token": csrf_token(client, "/admin/failed_charge/")})
    assert response.status_code == 302
    html = _page(client)
    assert mine.number in html
    assert theirs.number not in html


def test_reprocess_shows_cleared_unchanged_and_skipped_claims(client, login):
    world = build_world()
    fixed, still, voided = world.claim(), world.claim(day=DAY + timedelta(days=1)), world.claim(
        day=DAY + timedelta(days=2))
    make_rule("Few diagnoses", conditions=leaf("diagnosis_count", "less_than", 3), actions=fail("add a diagnosis"))
    run_rules(actor=SYSTEM, today=TODAY)
    fixed.diagnoses.append(type(fixed.diagnoses[0])(position=3, code="F419"))
    walk_to(voided, ClaimStatus.VOIDED)
    ids = [str(i) for i in db.session.scalars(select(RuleOutcome.id).order_by(RuleOutcome.claim_id))]
    login(Role.BILLER)
    response = client.post("/admin/failed_charge/action/", data={
        "action": "reprocess", "rowid": ids, "csrf_token": csrf_token(client, "/admin/failed_charge/")},
        follow_redirects=True)
    html = response.get_data(as_text=True)
    assert f"{fixed.number} cleared" in html
    assert f"{still.number} no change, still failing: Few diagnoses" in html
    assert f"{voided.number} cleared" in html
    assert "(claim is Voided)" in html
    db.session.expire_all()
    assert not db.session.scalars(select(RuleOutcome).where(RuleOutcome.claim_id == voided.id,
                                                            RuleOutcome.resolved_at.is_(None))).all()


def test_billing_runs_page_lists_runs_and_links_to_their_failures(client, login, two_worlds):
    _, _, mine, _, _ = two_worlds
    run = db.session.scalar(select(BillingRun))
    login(Role.ACCOUNTANT)
    html = client.get("/admin/billing_run/").get_data(as_text=True)
    assert f"flt0_run_number_equals={run.id}" in html
    assert "all claims" in html
    assert "data-run-rules" not in html  # accountants may not run the rules
    linked = client.get(f"/admin/failed_charge/?state=all&flt0_run_number_equals={run.id}").get_data(as_text=True)
    assert mine.number in linked


def test_run_rules_button_on_the_runs_page(client, login):
    build_world().claim()
    make_rule("Many units", **UNITS_RULE)
    login(Role.BILLER)
    html = client.get("/admin/billing_run/").get_data(as_text=True)
    assert "data-run-rules" in html
    response = client.post("/admin/failed_charge/run/", data={"csrf_token": csrf_token(client, "/admin/billing_run/")},
                           follow_redirects=True)
    assert "1 claims checked" in response.get_data(as_text=True)
    assert db.session.scalar(select(BillingRun.claims_checked)) == 1


def test_enable_and_disable_rules_from_the_list_keep_versions(client, login):
    rule = make_rule("Many units", **UNITS_RULE)
    login(Role.BILLER)
    token = csrf_token(client, "/admin/rule/")
    html = client.post("/admin/rule/action/", data={"action": "disable", "rowid": [str(rule.id)], "csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "1 rule(s) disabled" in html
    db.session.expire_all()
    assert rule.enabled is False
    assert rule.version == 2
    details = client.get(f"/admin/rule/details/?id={rule.id}").get_data(as_text=True)
    assert "enabled: True → False" in details
    assert "created" in details


def test_readers_cannot_disable_rules(client, login):
    rule = make_rule("Many units", **UNITS_RULE)
    login(Role.OFFICE_MANAGER)
    client.post("/admin/rule/action/", data={"action": "disable", "rowid": [str(rule.id)],
                                             "csrf_token": csrf_token(client, "/admin/rule/")})
    db.session.expire_all()
    assert db.session.get(Rule, rule.id).enabled is True


def test_expired_delays_say_so(client, login):
    world = build_world()
    claim = world.claim()
    make_rule("Wait", conditions=leaf("units", "greater_than", 0),
              actions=[{"name": "delay_claim", "params": {"days": 1, "reason": "wait a day"}}])
    run_rules(actor=SYSTEM, today=DAY)  # delayed until DAY + 1, long past
    login(Role.BILLER)
    html = _page(client)
    assert claim.number in html
    assert "expired: no longer blocks" in html


def test_the_editor_json_view_round_trips_a_rule(client, login):
    rule = make_rule("Many units", **UNITS_RULE)
    f.PayerFactory()
    login(Role.BILLER)
    html = client.get(f"/admin/rule/edit/?id={rule.id}").get_data(as_text=True)
    assert json.dumps(UNITS_RULE["conditions"]["all"][0]["operator"]) in html
    assert "Apply JSON to the form" in html


def test_warnings_have_their_own_tab(client, login):
    claim = build_world().claim()
    make_rule("Heads up", conditions=leaf("units", "greater_than", 0),
              actions=[{"name": "warn", "params": {"message": "look at the units"}}])
    run_rules(actor=SYSTEM, today=TODAY)
    login(Role.BILLER)
    assert claim.number not in _page(client)
    assert claim.number not in _page(client, "?state=all")
    html = _page(client, "?state=warnings")
    assert claim.number in html
    assert "look at the units" in html


def test_a_malformed_filter_value_is_ignored_not_an_error(client, login, two_worlds):
    _, _, mine, _, _ = two_worlds
    login(Role.BILLER)
    for query in ("?flt0_run_number_equals=abc", "?flt0_practice_equals=x", "?flt0_rule_equals=1.5"):
        assert mine.number in _page(client, query)


def test_reprocess_clears_a_fixed_claim_but_a_manual_hold_stays(client, login):
    world = build_world()
    fixed, held = world.claim(), world.claim(day=DAY + timedelta(days=1))
    make_rule("Few diagnoses", conditions=leaf("diagnosis_count", "less_than", 3), actions=fail("add a diagnosis"))
    run_rules(actor=SYSTEM, today=TODAY)
    hold_claim(held, reason="waiting for the parent's call", actor=SYSTEM)  # a person's hold, after the run
    for claim in (fixed, held):
        claim.diagnoses.append(type(claim.diagnoses[0])(position=3, code="F419"))
    db.session.flush()
    ids = [str(i) for i in db.session.scalars(select(RuleOutcome.id))]
    login(Role.BILLER)
    html = client.post("/admin/failed_charge/action/", data={
        "action": "reprocess", "rowid": ids, "csrf_token": csrf_token(client, "/admin/failed_charge/")},
        follow_redirects=True).get_data(as_text=True)
    assert f"{fixed.number} cleared: Few diagnoses" in html
    assert f"{held.number} cleared: Few diagnoses" in html
    db.session.expire_all()
    assert fixed.status is ClaimStatus.READY
    assert held.status is ClaimStatus.HELD
    assert held.hold_reason == "waiting for the parent's call"
    assert db.session.scalars(select(RuleOutcome).where(RuleOutcome.resolved_at.is_(None))).all() == []


def test_the_rules_list_says_what_each_rule_applies_to(client, login):
    payer = build_world().payer
    make_rule("Everyone", **UNITS_RULE)
    make_rule("One payer", **UNITS_RULE, scope={"payer_id": payer.id})
    login(Role.ACCOUNTANT)
    html = client.get("/admin/rule/").get_data(as_text=True)
    assert "All claims" in html
    assert f"Payer: {payer}" in html


def test_reprocess_ignores_rows_outside_the_chosen_scope(client, login, two_worlds):
    here, _, _, theirs, rule = two_worlds
    rule.enabled = False  # a run over their claim would resolve its failure
    db.session.flush()
    [outcome] = db.session.scalars(select(RuleOutcome).where(RuleOutcome.claim_id == theirs.id))
    login(Role.BILLER)
    client.post("/scope", data={"scope": f"company:{here.company.id}",
                                "csrf_token": csrf_token(client, "/admin/failed_charge/")})
    html = client.post("/admin/failed_charge/action/", data={
        "action": "reprocess", "rowid": [str(outcome.id)], "csrf_token": csrf_token(client, "/admin/failed_charge/")},
        follow_redirects=True).get_data(as_text=True)
    # Every grid's list actions refuse a selection reaching outside the scope (admin_views/base.py).
    assert "does not exist in the chosen scope; nothing was changed" in html
    db.session.expire_all()
    assert outcome.resolved_at is None


def test_the_rule_page_links_to_its_failed_charges(client, login, two_worlds):
    _, _, mine, theirs, rule = two_worlds
    other = make_rule("Other", conditions=leaf("units", "greater_than", 100), actions=fail())
    login(Role.BILLER)
    for shown, expected in ((rule, {mine.number, theirs.number}), (other, set())):
        details = client.get(f"/admin/rule/details/?id={shown.id}").get_data(as_text=True)
        link = re.search(r'href="(/admin/failed_charge/\?[^"]+)"', details).group(1).replace("&amp;", "&")
        assert _shown(client.get(link).get_data(as_text=True), mine, theirs) == expected
