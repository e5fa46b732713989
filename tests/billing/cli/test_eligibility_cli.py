"""`flask eligibility check|history` and `flask edi import` of a 271, through the CLI runner, with --json; and the
nightly check-eligibility job."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

import billing.submissions.eligibility as eligibility
from billing.core.db import db
from billing.core.time import practice_timezone, practice_today
from billing.coverage.eligibility import EligibilityStatus, latest_check
from billing.jobs.tasks import check_upcoming_eligibility
from demo.eligibility import PayerSays, write_271
from tests.worlds.submissions import build_submission_world


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


@pytest.fixture
def outbox(monkeypatch):
    sent: dict[str, str] = {}
    monkeypatch.setattr(eligibility, "sftp_sender", lambda house, name, content: sent.update({name: content.decode()}))
    return sent


def test_check_a_policy_then_import_the_271_and_read_the_history(cli, outbox, tmp_path):
    world = build_submission_world()
    db.session.commit()
    result = cli("eligibility", "check", "--policy", str(world.policy.id), "--date", "2026-12-10", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["asked"] == 1
    assert report["files"] == list(outbox)
    [(name, text)] = outbox.items()
    answer = tmp_path / name.replace(".270", ".271")
    answer.write_text(write_271(text, lambda trace, member: PayerSays(status="inactive")))
    imported = cli("edi", "import", str(answer))
    assert imported.exit_code == 0, imported.output
    assert "1 eligibility answer(s) recorded" in imported.output
    history = json.loads(cli("eligibility", "history", "--policy", str(world.policy.id), "--json").output)
    assert [h["status"] for h in history] == ["inactive", "pending"]
    assert history[0]["service_date"] == "2026-12-10"
    assert "inactive" in cli("eligibility", "history", "--policy", str(world.policy.id)).output


def test_check_refuses_both_or_neither_and_names_an_unknown_policy(cli):
    neither = cli("eligibility", "check", "--json")
    assert neither.exit_code == 1
    assert json.loads(neither.output)["kind"] == "invalid"
    both = cli("eligibility", "check", "--policy", "1", "--upcoming-days", "3")
    assert both.exit_code == 1
    assert "one of them" in both.output
    unknown = cli("eligibility", "history", "--policy", "987654", "--json")
    assert json.loads(unknown.output)["kind"] == "not_found"
    assert cli("eligibility", "check", "--upcoming-days", "999").exit_code != 0


def test_upcoming_days_asks_the_clients_seen_soon(cli, outbox):
    world = build_submission_world()
    world.visit(day=practice_today() + timedelta(days=1))
    db.session.commit()
    result = cli("eligibility", "check", "--upcoming-days", "3", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["asked"] == 1
    assert latest_check(world.policy.id).status is EligibilityStatus.PENDING


def test_the_nightly_job_asks_and_says_so(outbox):
    world = build_submission_world()
    now = datetime.now(practice_timezone())
    world.visit(day=now.date() + timedelta(days=2))
    db.session.commit()
    assert "1 policy check(s) asked in 1 file(s)" in check_upcoming_eligibility(now)
    assert check_upcoming_eligibility(now).startswith("0 policy check(s)")  # asked today already: not again


def test_a_failed_send_exits_1_and_records_a_failed_check(cli, monkeypatch):
    from billing.submissions import sftp

    def refuse(house, name, content):
        raise sftp.SendFailed("Clearinghouse 1: the inbound folder is full.")

    monkeypatch.setattr(eligibility, "sftp_sender", refuse)
    world = build_submission_world()
    db.session.commit()
    result = cli("eligibility", "check", "--policy", str(world.policy.id), "--json")
    assert result.exit_code == 1
    assert "inbound folder is full" in json.loads(result.output)["failed"][0]
    assert latest_check(world.policy.id).status is EligibilityStatus.FAILED
