"""`flask rules ...` through the CLI runner: defaults, list, run, export/import round trip, failures."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from billing.core.db import db
from rules.models import Rule
from tests.worlds.practice import build_world
from tests.worlds.rules import fail, leaf, rule_doc


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["rules", *args])


def _rules() -> int:
    return db.session.scalar(select(func.count()).select_from(Rule))


def test_load_defaults_is_idempotent_and_ships_the_eight_rules(cli):
    first = cli("load-defaults", "--json")
    assert first.exit_code == 0, first.output
    assert len(json.loads(first.output)["created"]) == 8
    again = json.loads(cli("load-defaults", "--json").output)
    assert again["created"] == []
    assert len(again["unchanged"]) == 8
    names = [r["name"] for r in json.loads(cli("list", "--json").output)]
    assert "Past the payer's filing deadline" in names
    assert "Timely filing over 90 days" not in names
    assert "Duplicate claim" in names


def test_run_and_failures(cli):
    world = build_world()
    claim = world.claim()
    assert cli("load-defaults").exit_code == 0
    result = cli("run", "--claims", claim.number, "--json")
    assert result.exit_code == 0, result.output
    run = json.loads(result.output)
    assert run["claims_checked"] == 1
    # The world's service date is months before today, past the payer's 90-day filing limit.
    failures = json.loads(cli("failures", "--run", str(run["run"]), "--open", "--json").output)
    assert [f["rule"] for f in failures] == ["Past the payer's filing deadline"]
    assert failures[0]["claim"] == claim.number
    assert failures[0]["resolved"] is None
    assert "filing deadline" in cli("failures").output


def test_run_refuses_unknown_claims(cli):
    result = cli("run", "--claims", "C-999999")
    assert result.exit_code != 0
    assert "No claim has the number" in result.output


def test_export_import_round_trip_and_all_or_nothing(cli, tmp_path):
    cli("load-defaults")
    path = tmp_path / "rules.json"
    assert cli("export", "-o", str(path)).exit_code == 0
    document = json.loads(path.read_text())
    assert len(document["rules"]) == 8
    unchanged = json.loads(cli("import", str(path), "--json").output)
    assert len(unchanged["unchanged"]) == 8
    document["rules"].append(rule_doc("New one", conditions=leaf("units", "greater_than", 8), actions=fail()))
    document["rules"].append(rule_doc("Broken", conditions=leaf("units", "greater_than", "8")))
    path.write_text(json.dumps(document))
    refused = cli("import", str(path))
    assert refused.exit_code != 0
    assert "rules[9] (Broken).conditions.all[0].value" in refused.output
    assert _rules() == 8
    document["rules"].pop()
    path.write_text(json.dumps(document))
    assert json.loads(cli("import", str(path), "--json").output)["created"] == ["New one"]


def test_import_refuses_a_file_that_is_not_json(cli, tmp_path):
    path = tmp_path / "rules.json"
    path.write_text("{nope")
    result = cli("import", str(path))
    assert result.exit_code != 0
    assert "not readable JSON" in result.output


def test_run_text_output_names_what_changed_and_runs_lists_the_run(cli):
    world = build_world()
    claim = world.claim()
    cli("load-defaults")
    result = cli("run", "--claims", claim.number)
    assert result.exit_code == 0, result.output
    assert f"{claim.number} now failing: Past the payer's filing deadline" in result.output
    runs = json.loads(cli("runs", "--json").output)
    assert runs[0]["claims_checked"] == 1
    assert runs[0]["actor"] == "system:cli"
    assert runs[0]["scope"] == {"claims": [claim.number], "claim_count": 1}
    assert runs[0]["finished"] is not None
    assert f"Run {runs[0]['run']}:" in cli("runs").output


def test_run_options_scope_the_run(cli):
    world, elsewhere = build_world(), build_world()
    world.claim()
    elsewhere.claim()
    practice = world.location.practice
    for option, value in (("--company", world.company.id), ("--practice", practice.id),
                          ("--location", world.location.id)):
        run = json.loads(cli("run", option, str(value), "--json").output)
        assert run["claims_checked"] == 1, option
    assert json.loads(cli("run", "--json").output)["claims_checked"] == 2


def test_run_through_business_rules_gives_the_same_failures(cli):
    world = build_world()
    claim = world.claim()
    cli("load-defaults")
    compiled = json.loads(cli("run", "--claims", claim.number, "--json").output)
    reference = json.loads(cli("run", "--claims", claim.number, "--engine", "business-rules", "--json").output)
    assert compiled["claims_failing"] == reference["claims_failing"] == 1
    assert reference["changes"][0]["still"] == compiled["changes"][0]["added"]


def test_runs_without_any(cli):
    assert "No billing runs yet" in cli("runs").output


def test_failures_lists_resolved_ones_too(cli, tmp_path):
    world = build_world()
    claim = world.claim()
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"format": "claimdesk-rules", "rules": [
        rule_doc("Few units", conditions=leaf("units", "less_than", 100), actions=fail("few"))]}))
    assert cli("import", str(path)).exit_code == 0
    cli("run")
    path.write_text(json.dumps({"format": "claimdesk-rules", "rules": [
        rule_doc("Few units", conditions=leaf("units", "less_than", 1), actions=fail("few"))]}))
    assert json.loads(cli("import", str(path), "--json").output)["updated"] == ["Few units"]
    second = json.loads(cli("run", "--json").output)
    [row] = json.loads(cli("failures", "--json").output)
    assert row["claim"] == claim.number
    assert row["resolved"] is not None
    assert row["last_run"] == second["run"] - 1  # it failed last in the first run
    assert json.loads(cli("failures", "--open", "--json").output) == []
    assert "resolved" in cli("failures").output


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        (lambda w, e: ("--company", "999999"), "No company has the id 999999"),
        (lambda w, e: ("--practice", "999999"), "No practice has the id 999999"),
        (lambda w, e: ("--location", "999999"), "No location has the id 999999"),
        (lambda w, e: ("--company", str(w.company.id), "--practice", str(e.location.practice_id)), "another company"),
        (lambda w, e: ("--practice", str(w.location.practice_id), "--location", str(e.location.id)),
         "another practice"),
        (lambda w, e: ("--company", str(w.company.id), "--location", str(e.location.id)), "another company"),
    ],
)
def test_run_refuses_an_unknown_or_inconsistent_scope_and_runs_nothing(cli, scope, message):
    world, elsewhere = build_world(), build_world()
    world.claim()
    result = cli("run", *scope(world, elsewhere), "--json")
    assert result.exit_code == 1
    assert message in result.output
    assert json.loads(cli("runs", "--json").output) == []
