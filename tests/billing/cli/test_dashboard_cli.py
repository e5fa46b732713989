"""`flask dashboard` prints the Dashboard page's figures for a practice and a date range, as text or --json."""

from __future__ import annotations

import json

import pytest

from billing.core.time import practice_today
from billing.dashboard.figures import dashboard_figures
from billing.org.queries import Scope
from tests.billing.dashboard.worlds import FROM, TO, dashboard_world
from tests.worlds.practice import build_world


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


@pytest.fixture
def worlds():
    return dashboard_world(build_world()), dashboard_world(build_world())


def test_json_is_the_practices_figures_and_nothing_of_the_other_practice(cli, worlds):
    here, there = worlds
    practice = here.base.location.practice_id
    result = cli(
        "dashboard", "--json", "--from", f"{FROM:%Y-%m-%d}", "--to", f"{TO:%Y-%m-%d}", "--practice", str(practice)
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    expected = dashboard_figures(Scope(here.base.company.id, practice), FROM, TO, practice_today())
    assert shown == json.loads(json.dumps(expected.as_dict()))
    assert shown["ar_total"] == str(expected.ar_total)
    assert [s["key"] for s in shown["ar_by_payer"]] == [str(here.base.payer.id)]
    assert there.base.payer.name not in result.output
    assert shown["first_pass_rate"] == "66.7"


def test_text_names_each_figure(cli, worlds):
    result = cli("dashboard", "--from", "2026-03-01", "--to", "2026-03-31")
    assert result.exit_code == 0, result.output
    for words in (
        "A/R owed by payers",
        "First-pass acceptance",
        "Claims by status",
        "Filing deadlines this week",
        "2026-03",
        "Top CARCs: CO-45",
        "Failed charges by rule",
    ):
        assert words in result.output


def test_a_backwards_range_is_one_line_naming_the_field(cli, worlds):
    result = cli("dashboard", "--json", "--from", "2026-06-30", "--to", "2026-01-01")
    assert result.exit_code == 1
    assert json.loads(result.output)["error"].startswith("From:")
    assert "Traceback" not in result.output
