"""Jobs per company and clearinghouse: each unit is committed and recorded on its own row, so one that fails
(an SFTP server refusing the upload, a server that is down) never keeps the others from sending or collecting."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.errors import BillingError
from billing.jobs.models import JobRun, JobRunStatus
from billing.jobs.runs import last_runs
from billing.jobs.tasks import collect_responses, run_rules, submit_ready_claims
from billing.submissions.models import BatchStatus, SubmissionBatch
from tests.billing.jobs.conftest import NOW
from tests.worlds.sftp_server import sftp_server
from tests.worlds.submissions import build_submission_world


@pytest.fixture
def two(tmp_path):
    """Two companies, each with its own clearinghouse, payer and one Ready claim."""
    for name in ("good", "bad"):
        (tmp_path / name).mkdir()
    first, second = build_submission_world(), build_submission_world()
    return first, second, first.ready_claim(), second.ready_claim()


def point_at(house, server):
    house.sftp_host, house.sftp_port, house.sftp_host_key = server.host, server.port, server.host_key_line


def unit_runs(job_id: str) -> dict[str, JobRunStatus]:
    query = select(JobRun.unit, JobRun.status).where(JobRun.job_id == job_id, JobRun.unit.is_not(None))
    return {unit: status for unit, status in db.session.execute(query)}


def test_one_clearinghouse_failing_to_upload_still_sends_the_other(two, tmp_path):
    good, bad, sent_claim, kept_claim = two
    with sftp_server(tmp_path / "good") as up, sftp_server(tmp_path / "bad", disk_full=True) as full:
        point_at(good.clearinghouse, up)
        point_at(bad.clearinghouse, full)
        with pytest.raises(BillingError, match="FAILED") as failed:
            submit_ready_claims(NOW)
        uploaded = list((tmp_path / "good" / "inbound").iterdir())
    assert len(uploaded) == 1
    assert sent_claim.status is ClaimStatus.SUBMITTED
    assert kept_claim.status is ClaimStatus.READY
    assert "1 claims sent" in failed.value.message
    assert unit_runs("submit-claims") == {good.clearinghouse.name: JobRunStatus.SUCCEEDED,
                                          bad.clearinghouse.name: JobRunStatus.FAILED}  # fmt: skip
    statuses = {b.clearinghouse_id: b.status for b in db.session.scalars(select(SubmissionBatch))}
    assert statuses == {good.clearinghouse.id: BatchStatus.SENT, bad.clearinghouse.id: BatchStatus.GENERATED}


def test_one_clearinghouse_down_still_collects_from_the_other(two, tmp_path):
    good, bad, _, _ = two
    (tmp_path / "good" / "outbound").mkdir()
    (tmp_path / "good" / "outbound" / "ack.999").write_text("not yet read")
    with sftp_server(tmp_path / "good") as up:
        point_at(good.clearinghouse, up)
        bad.clearinghouse.sftp_port = 1  # nobody listens there
        with pytest.raises(BillingError, match="FAILED"):
            collect_responses(NOW)
    assert unit_runs("collect-responses") == {good.clearinghouse.name: JobRunStatus.SUCCEEDED,
                                              bad.clearinghouse.name: JobRunStatus.FAILED}  # fmt: skip


def test_the_nightly_rules_run_once_per_company_each_on_its_own_row(two):
    good, bad, _, _ = two
    summary = run_rules(NOW)
    assert unit_runs("nightly-rules") == {good.company.legal_name: JobRunStatus.SUCCEEDED,
                                          bad.company.legal_name: JobRunStatus.SUCCEEDED}  # fmt: skip
    assert summary.count("claims checked") == 2
    assert last_runs(["nightly-rules"]) == {}  # the job's own row is the last run, never one of its units
