"""The rule editor, dry run, versions, Failed Charges and Reprocess through the Flask test client."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from billing.core.db import db
from billing.people.models import Role
from rules.models import Rule, RuleOutcome
from rules.runs import run_rules
from tests.conftest import csrf_token
from tests.worlds.practice import DAY, SYSTEM, build_world
from tests.worlds.rules import fail, leaf, make_rule

UNITS_RULE = {"conditions": leaf("units", "greater_than", 2), "actions": fail("too many units")}


def _rules() -> int:
    return db.session.scalar(select(func.count()).select_from(Rule))


def _form(client, path, **fields):
    data = {"name": "Many units", "description": "", "position": "10", "enabled": "y", "scope": "",
            "rule_json": json.dumps(UNITS_RULE), "do": "save", "csrf_token": csrf_token(client, path)}
    data.update(fields)
    return client.post(path, data=data)


@pytest.fixture
def world():
    return build_world()


def test_a_biller_dry_runs_then_saves_a_rule_through_the_form(client, login, world):
    claim = world.claim()
    login(Role.BILLER)
    page = _form(client, "/admin/rule/new/", do="dry-run")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "data-dry-run" in html
    assert claim.number in html
    assert "too many units" in html
    assert _rules() == 0  # a dry run saves nothing
    saved = _form(client, "/admin/rule/new/")
    assert saved.status_code == 302
    rule = db.session.scalar(select(Rule))
    assert rule.name == "Many units"
    assert rule.conditions == UNITS_RULE["conditions"]
    assert rule.version == 1
    details = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "data-versions" in details
    assert "too many units" in details


def test_the_editor_offers_the_schema_and_every_variable(client, login):
    login(Role.ADMIN)
    html = client.get("/admin/rule/new/").get_data(as_text=True)
    assert 'id="rule-schema"' in html
    assert "days_since_service" in html
    assert "delay_claim" in html


def test_an_invalid_rule_is_refused_with_the_faulty_part_and_nothing_saved(client, login):
    login(Role.BILLER)
    bad = {"conditions": leaf("units", "not_equal_to", 2), "actions": fail()}
    html = _form(client, "/admin/rule/new/", rule_json=json.dumps(bad)).get_data(as_text=True)
    assert "conditions.all[0].operator" in html
    assert _rules() == 0
    html = _form(client, "/admin/rule/new/", rule_json="{not json").get_data(as_text=True)
    assert "does not parse" in html
    assert _rules() == 0


def test_editing_a_rule_keeps_the_old_version(client, login):
    rule = make_rule("Few units", conditions=leaf("units", "less_than", 3))
    login(Role.BILLER)
    response = _form(client, f"/admin/rule/edit/?id={rule.id}", name="Few units", version="1")
    assert response.status_code == 302
    db.session.expire_all()
    assert rule.version == 2
    assert [v.version for v in rule.versions] == [2, 1]


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.OFFICE_MANAGER])
def test_readers_see_rules_but_cannot_save_them(client, login, role):
    make_rule("Existing")
    login(role)
    assert client.get("/admin/rule/").status_code == 200
    assert client.get("/admin/failed_charge/").status_code == 200
    response = client.post("/admin/rule/new/", data={"name": "Sneaky", "rule_json": json.dumps(UNITS_RULE),
                                                     "csrf_token": csrf_token(client, "/admin/rule/")})
    assert response.status_code == 302
    assert _rules() == 1


def test_a_post_without_csrf_saves_nothing(client, login):
    login(Role.BILLER)
    response = client.post("/admin/rule/new/", data={"name": "No token", "rule_json": json.dumps(UNITS_RULE)})
    assert response.status_code == 400
    assert _rules() == 0


def test_failed_charges_list_and_reprocess(client, login, world):
    claim = world.claim()
    rule = make_rule("Many units", **UNITS_RULE)
    run_rules(actor=SYSTEM, today=DAY + timedelta(days=5))
    [outcome] = db.session.scalars(select(RuleOutcome))
    login(Role.BILLER)
    html = client.get("/admin/failed_charge/").get_data(as_text=True)
    assert claim.number in html
    assert "too many units" in html
    assert world.client.full_name in html
    filtered = client.get(f"/admin/failed_charge/?flt0_run_number_equals={outcome.last_run_id + 1}")
    assert claim.number not in filtered.get_data(as_text=True)
    rule.enabled = False
    db.session.flush()
    response = client.post("/admin/failed_charge/action/", data={
        "action": "reprocess", "rowid": [str(outcome.id)], "csrf_token": csrf_token(client, "/admin/failed_charge/")},
        follow_redirects=True)
    assert "cleared" in response.get_data(as_text=True)
    db.session.expire_all()
    assert outcome.resolved_at is not None


def test_readers_cannot_reprocess_or_run(client, login, world):
    world.claim()
    make_rule("Many units", **UNITS_RULE)
    run_rules(actor=SYSTEM, today=DAY + timedelta(days=5))
    [outcome] = db.session.scalars(select(RuleOutcome))
    login(Role.ACCOUNTANT)
    token = csrf_token(client, "/admin/failed_charge/")
    client.post("/admin/failed_charge/action/", data={"action": "reprocess", "rowid": [str(outcome.id)],
                                                      "csrf_token": token})
    client.post("/admin/failed_charge/run/", data={"csrf_token": token})
    assert db.session.scalar(select(func.count()).select_from(RuleOutcome)) == 1
    assert db.session.scalar(select(func.count(func.distinct(RuleOutcome.last_run_id)))) == 1


def test_the_run_rules_button_runs_in_the_chosen_scope(client, login, world):
    world.claim()
    make_rule("Many units", **UNITS_RULE)
    login(Role.BILLER)
    token = csrf_token(client, "/admin/failed_charge/")
    response = client.post("/admin/failed_charge/run/", data={"csrf_token": token}, follow_redirects=True)
    assert "claims checked" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(RuleOutcome)) == 1


def test_a_stale_edit_is_refused(client, login):
    rule = make_rule("Few units", conditions=leaf("units", "less_than", 3))
    login(Role.BILLER)
    html = _form(client, f"/admin/rule/edit/?id={rule.id}", name="Few units", version="0").get_data(as_text=True)
    assert "saved this rule (version 1) after you opened it" in html
    db.session.expire_all()
    assert rule.version == 1
    page = client.get(f"/admin/rule/edit/?id={rule.id}").get_data(as_text=True)
    assert 'name="version" value="1"' in page
