"""Rule JSON beyond the size and nesting limits is refused with a message, wherever it comes from; nothing crashes."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from billing.core.db import db
from billing.core.errors import ValidationFailed
from billing.people.models import Role
from rules.engine import BUSINESS_RULES, COMPILED
from rules.models import OutcomeKind, Rule, RuleOutcome, RuleVersion
from rules.operations import FILE_FORMAT, document_problems, import_rules, save_rule
from rules.rule_json import MAX_NESTING, MAX_RULE_CHARS, load_json, nesting
from rules.runs import run_rules
from rules.validation import MAX_CONDITIONS, MAX_DEPTH
from tests.conftest import csrf_token
from tests.worlds.practice import SYSTEM, build_world
from tests.worlds.rules import fail, rule_doc

LEAF = {"name": "units", "operator": "greater_than", "value": 1}
ON_DB = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def nested_text(depth: int) -> str:
    """Conditions nested `depth` groups deep, written as text (json.dumps itself would overflow far down)."""
    return '{"all": [' * depth + json.dumps(LEAF) + "]}" * depth


def rule_text(depth: int) -> str:
    return '{"conditions": ' + nested_text(depth) + ', "actions": ' + json.dumps(fail()) + "}"


def nested(depth: int) -> dict:
    node = LEAF
    for _ in range(depth):
        node = {"all": [node]}
    return node


def _saved() -> tuple[int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in (Rule, RuleVersion))


def test_nesting_counts_brackets_outside_strings():
    assert nesting('{"a": [1, "[[[{", {"b\\"[": []}]}') == 4
    assert nesting("[]") == 1
    assert nesting('"no brackets"') == 0
    assert nesting(nested_text(500)) == 1 + 2 * 500


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (rule_text(500), "nests 1002 levels deep"),
        ("[" * 100_000, "nests 100000 levels deep"),
        (" " * (MAX_RULE_CHARS + 1), "at most 100,000"),
        ("{nope", "does not parse"),
        ("1" * 5000, "does not parse"),  # Python refuses integers over 4,300 digits with a ValueError
    ],
)
def test_text_over_the_limits_is_refused_before_it_is_parsed(text, message):
    with pytest.raises(ValidationFailed) as refused:
        load_json(text, field="rule_json", max_chars=MAX_RULE_CHARS)
    [problem] = refused.value.problems
    assert problem.field == "rule_json"
    assert message in problem.message


def test_text_within_the_limits_parses():
    assert load_json(rule_text(MAX_DEPTH), field="rule_json", max_chars=MAX_RULE_CHARS)["actions"] == fail()


def test_objects_nested_500_deep_are_refused_at_the_sixth_group():
    with pytest.raises(ValidationFailed) as refused:
        save_rule(rule_doc("Deep", conditions=nested(500)), actor=SYSTEM)
    [problem] = refused.value.problems
    assert problem.field == "conditions" + ".all[0]" * MAX_DEPTH
    assert f"at most {MAX_DEPTH} deep" in problem.message
    assert _saved() == (0, 0)


def test_a_rule_with_too_many_conditions_is_refused():
    wide = {"any": [LEAF] * (MAX_CONDITIONS * 100)}
    problems = document_problems(rule_doc("Wide", conditions=wide))
    assert [(p.field, f"at most {MAX_CONDITIONS}" in p.message) for p in problems] == [("conditions", True)]


def test_an_import_with_names_that_are_not_text_is_refused_not_crashed():
    file = {
        "format": FILE_FORMAT,
        "version": 1,
        "rules": [rule_doc(["a", "list"]), rule_doc({"an": "object"}), rule_doc(nested(2000))],
    }
    with pytest.raises(ValidationFailed) as refused:
        import_rules(file, actor=SYSTEM)
    assert [p.field for p in refused.value.problems] == ["rules[0].name", "rules[1].name", "rules[2].name"]
    assert _saved() == (0, 0)


def _post(client, **fields):
    path = "/admin/rule/new/"
    data = {
        "name": "Deep",
        "description": "",
        "position": "10",
        "enabled": "y",
        "scope": "",
        "rule_json": rule_text(1),
        "do": "save",
        "csrf_token": csrf_token(client, path),
    }
    return client.post(path, data={**data, **fields})


@pytest.mark.parametrize("action", ["save", "dry-run"])
def test_the_editor_refuses_500_deep_json_with_a_message(client, login, action):
    login(Role.BILLER)
    page = _post(client, rule_json=rule_text(500), do=action)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "nests 1002 levels deep" in html
    assert f"at most {MAX_NESTING}" in html
    assert _saved() == (0, 0)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("position", "²", "whole number"),
        ("position", "9" * 5000, "whole number"),
        ("scope", "company_id:²", "from the list"),
        ("scope", "company_id:" + "9" * 5000, "from the list"),
        ("scope", "company_id:99999999", "No company has the id 99999999"),
    ],
)
def test_the_editor_refuses_odd_numbers_with_a_message(client, login, field, value, message):
    login(Role.BILLER)
    page = _post(client, **{field: value})
    assert page.status_code == 200
    assert message in page.get_data(as_text=True)
    assert _saved() == (0, 0)


def test_the_cli_refuses_a_500_deep_file_in_one_line(app, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text(
        '{"format": "claimdesk-rules", "version": 1, "rules": [{"name": "Deep", "conditions": '
        + nested_text(500)
        + ', "actions": '
        + json.dumps(fail())
        + "}]}"
    )
    runner = app.test_cli_runner()
    text = runner.invoke(args=["rules", "import", str(path)])
    assert text.exit_code == 1
    assert "Traceback" not in text.output
    assert text.output.strip().count("\n") == 0
    assert "deep.json is not readable JSON. The JSON nests 1004 levels deep" in text.output
    as_json = runner.invoke(args=["rules", "import", str(path), "--json"])
    assert as_json.exit_code == 1
    document = json.loads(as_json.output)
    assert document["ok"] is False
    assert "nests 1004 levels deep" in document["error"]
    assert _saved() == (0, 0)


# --- anything at all ---------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["all", "any", "units", "payer_name", "matches_regex", "fail_charge", "(a)\\1", "\x00"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["all", "any", "name", "operator", "value", "params", "reason", "format", "rules"])
            | st.text(max_size=8),
            inner,
            max_size=4,
        )
    ),
    max_leaves=40,
)


@st.composite
def deep_values(draw):
    """A chain of groups, lists or objects up to 3,000 deep, with a hostile leaf at the bottom."""
    node = draw(json_values)
    for _ in range(draw(st.integers(0, 3000))):
        node = draw(st.sampled_from([lambda n: {"all": [n]}, lambda n: [n], lambda n: {"any": n}, lambda n: {"x": n}]))(
            node
        )
    return node


def _refusal(work) -> ValidationFailed | None:
    """The refusal the work raised, or None when it succeeded; any other exception fails the test."""
    try:
        work()
    except ValidationFailed as exc:
        return exc
    return None


def _refused_or_saved(work) -> None:
    """The work succeeds, or is refused with short problems and writes nothing."""
    before = _saved()
    refusal = _refusal(work)
    if refusal is not None:
        assert refusal.problems
        assert all(len(p.message) < 1000 for p in refusal.problems)
        assert _saved() == before


@ON_DB
@given(conditions=json_values | deep_values(), actions=json_values, name=json_values | st.text(max_size=10))
def test_any_rule_document_is_refused_cleanly(conditions, actions, name):
    doc = {"name": name, "conditions": conditions, "actions": actions}
    assert isinstance(document_problems(doc), list)
    _refused_or_saved(lambda: save_rule(doc, actor=SYSTEM))


@ON_DB
@given(document=json_values | deep_values())
def test_any_rules_file_is_refused_cleanly(document):
    _refused_or_saved(lambda: import_rules(document, actor=SYSTEM))
    _refused_or_saved(lambda: import_rules({"format": FILE_FORMAT, "rules": [document]}, actor=SYSTEM))


JSON_CHARACTERS = st.sampled_from(list('[]{}",:\\ 0123456789.e-truefalsnu\n\x00'))
deep_text = st.builds(
    lambda depth, opener, inner: opener * depth + inner + {"[": "]", '{"a":': "}"}[opener] * depth,
    st.integers(0, 5000),
    st.sampled_from(["[", '{"a":']),
    st.text(JSON_CHARACTERS, max_size=20),
)


@settings(max_examples=200, deadline=None)
@given(text=st.text(JSON_CHARACTERS, max_size=3000) | deep_text)
def test_any_text_parses_or_is_refused_with_a_problem(text):
    refusal = _refusal(lambda: load_json(text, field="rule_json", max_chars=MAX_RULE_CHARS))
    assert refusal is None or [p.field for p in refusal.problems] == ["rule_json"]


@pytest.mark.parametrize("engine", [COMPILED, BUSINESS_RULES])
def test_a_stored_rule_nested_450_deep_fails_its_claims_closed_in_either_engine(engine):
    """A rule edited in the database past the limits is never walked: every claim it applies to gets a rule error."""
    claim = build_world().claim()
    rule = save_rule(rule_doc("Edited in the database"), actor=SYSTEM)
    db.session.execute(update(Rule).where(Rule.id == rule.id).values(conditions=nested(450)))
    db.session.expire_all()
    result = run_rules(actor=SYSTEM, claim_ids=[claim.id], engine=engine)
    assert result.rule_errors == 1
    [outcome] = db.session.scalars(select(RuleOutcome).where(RuleOutcome.claim_id == claim.id))
    assert outcome.kind is OutcomeKind.ERROR
    assert "rule is invalid" in outcome.reason
