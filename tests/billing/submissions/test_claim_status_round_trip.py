"""276 out and 277 back through the loopback SFTP server, exactly once; the CLI and the job around the same calls."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.jobs.definitions import job_definition
from billing.jobs.models import ResponseImport, ResponseImportStatus
from billing.jobs.tasks import ask_claim_status, collect_responses
from billing.submissions.claim_status_models import ClaimStatusResponse, InquiryStatus, StatusInquiry, StatusOutcome
from billing.submissions.follow_up import add_note
from demo.status_writer import StatusReply, write_277
from tests.worlds.claims import walk_to
from tests.worlds.practice import SYSTEM
from tests.worlds.sftp_server import sftp_server
from tests.worlds.submissions import build_submission_world

NOW = datetime(2026, 3, 18, 20, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _instance_in_tmp(instance_in_tmp):
    """Job run records and lock files go to instance/; keep each test's in its own folder."""


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def due():
    """Two Submitted claims due for follow-up today."""
    world = build_submission_world()
    claims = [walk_to(world.ready_claim(day=date(2026, 3, 2 + i)), ClaimStatus.SUBMITTED) for i in range(2)]
    for claim in claims:
        add_note(claim, "Nothing yet.", next_follow_up_on=NOW.date(), actor=SYSTEM, today=NOW.date())
    db.session.commit()
    return world, claims


def _point_at(house, server):
    house.sftp_host, house.sftp_port, house.sftp_host_key = server.host, server.port, server.host_key_line


def test_276_out_and_277_back_through_sftp_exactly_once(due, tmp_path):
    world, claims = due
    root = tmp_path / "sftp"
    root.mkdir()
    with sftp_server(root) as server:
        _point_at(world.clearinghouse, server)
        db.session.commit()
        summary = ask_claim_status(NOW)
        inquiry = db.session.scalars(select(StatusInquiry)).one()
        assert summary.startswith(f"{inquiry.number}: 2 claim(s) to {world.clearinghouse.name}, sent")
        assert inquiry.status is InquiryStatus.SENT
        assert (root / "inbound" / inquiry.file_name).read_bytes() == inquiry.content.encode("ascii")
        assert ask_claim_status(NOW + timedelta(hours=1)).startswith("No claim due for follow-up needs")
        replies = [
            StatusReply(claims[0].number, claims[0].total_charge, claims[0].service_date, category="P1", status="20"),
            StatusReply(claims[1].number, claims[1].total_charge, claims[1].service_date, category="A4", status="35"),
        ]
        (root / "outbound" / "status-0318.277").write_bytes(write_277(inquiry, replies, on=NOW.date()))
        first = collect_responses(NOW + timedelta(hours=2))
        second = collect_responses(NOW + timedelta(hours=3))
    assert "1 new file(s)" in first
    assert "277 claim status: 1 not found, 1 pending" in first
    assert "0 new file(s)" in second
    assert "nothing new to import" in second
    rows = db.session.scalars(select(ClaimStatusResponse).order_by(ClaimStatusResponse.id)).all()
    assert [(r.claim_id, r.outcome, r.inquiry_id) for r in rows] == [
        (claims[0].id, StatusOutcome.PENDING, inquiry.id),
        (claims[1].id, StatusOutcome.NOT_FOUND, inquiry.id),
    ]
    assert db.session.scalars(select(ResponseImport.status)).all() == [ResponseImportStatus.IMPORTED]
    assert {c.status for c in claims} == {ClaimStatus.SUBMITTED}


def test_the_job_starts_paused_and_nothing_due_is_not_a_failure(due):
    assert job_definition("ask-claim-status").paused_at_first
    assert ask_claim_status(NOW - timedelta(days=400)).startswith("No claim due for follow-up")


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_flask_follow_up_ask_by_claim_and_due_as_json(cli, due):
    world, claims = due
    world.clearinghouse.sftp_host = None  # by hand: the 276 is kept for download
    db.session.commit()
    asked = cli("follow-up", "ask", "--claims", claims[0].number, "--json")
    assert asked.exit_code == 0, asked.output
    [inquiry] = json.loads(asked.output)["inquiries"]
    assert (inquiry["status"], inquiry["claim_numbers"]) == ("generated", [claims[0].number])
    refused = cli("follow-up", "ask", "--claims", claims[0].number, "--due")
    assert refused.exit_code != 0
    assert "either --claims or --due" in refused.output
    due_run = cli("follow-up", "ask", "--due", "--json")
    assert due_run.exit_code == 0, due_run.output
    [second] = json.loads(due_run.output)["inquiries"]
    assert second["claim_numbers"] == [claims[1].number]  # the first was asked about today
    assert _count(StatusInquiry) == 2


def test_flask_follow_up_ask_names_a_claim_that_cannot_be_asked_about(cli, due):
    world, claims = due
    ready = world.ready_claim(day=date(2026, 3, 20))
    db.session.commit()
    result = cli("follow-up", "ask", "--claims", f"{claims[0].number},{ready.number}", "--json")
    assert result.exit_code == 1
    error = json.loads(result.output)
    assert error["ok"] is False
    assert f"{ready.number}: it is Ready" in json.dumps(error)
    assert _count(StatusInquiry) == 0
