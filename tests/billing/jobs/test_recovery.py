"""Runs and exports left "running" by a dead process are closed as interrupted; a live process's are left alone.

Alive means "holds the job's lock" (billing/jobs/recovery.py explains why not host + pid): these tests hold
a job's lock as another process would (tests/billing/jobs/test_runs.py `lock_held_elsewhere`).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.core.unit_of_work import unit_of_work
from billing.jobs.export_runs import exports_dir
from billing.jobs.models import ExportRun, ExportStatus, JobRun, JobRunStatus
from billing.jobs.recovery import MAX_EXPORT_ATTEMPTS, recover_interrupted
from billing.submissions import builds
from billing.submissions.models import BatchBuild, BatchClaim, BuildStatus, SubmissionBatch
from tests.billing.jobs.conftest import NOW
from tests.billing.jobs.test_runs import lock_held_elsewhere
from tests.worlds.bulk_claims import copies_of
from tests.worlds.practice import SYSTEM
from tests.worlds.submissions import build_submission_world

DEAD = "gone-host:4242"
ALIVE = "busy-host:777"


def _run(job_id: str, status: JobRunStatus = JobRunStatus.RUNNING, *, host: str = DEAD, minutes: int = 60) -> JobRun:
    run = JobRun(job_id=job_id, trigger="schedule", status=status, host=host,
                 started_at=NOW - timedelta(minutes=minutes))  # fmt: skip
    db.session.add(run)
    return run


def _export(*, host: str | None = DEAD, attempt: int = 1) -> ExportRun:
    export = ExportRun(report="claims", filters={"date_from": "2026-03-01"}, status=ExportStatus.RUNNING,
                       requested_by="ann@example.com", started_at=NOW - timedelta(minutes=5), rows_expected=900_000,
                       host=host, attempt=attempt)  # fmt: skip
    db.session.add(export)
    return export


def _committed(*rows):
    with unit_of_work():
        pass
    return rows


def _history(subject_type: str, subject_id: int) -> list[StatusChange]:
    query = select(StatusChange).where(StatusChange.subject_type == subject_type,
                                       StatusChange.subject_id == subject_id)  # fmt: skip
    return list(db.session.scalars(query))


def test_runs_of_a_job_nobody_holds_are_closed_as_interrupted_with_a_message_and_history():
    stale, older = _run("collect-responses"), _run("collect-responses", minutes=300)
    finished = _run("nightly-rules", JobRunStatus.SUCCEEDED)
    _committed()
    recovered = recover_interrupted(now=NOW)
    assert sorted(recovered.runs) == sorted([stale.id, older.id])
    for run in (stale, older):
        assert run.status is JobRunStatus.INTERRUPTED
        assert DEAD in run.summary
        assert run.summary.startswith("Interrupted")
        assert run.finished_at is not None
        assert [h.action for h in _history("job_run", run.id)] == [AuditAction.JOB_RUN_INTERRUPTED]
    assert finished.status is JobRunStatus.SUCCEEDED


def test_the_run_of_a_process_that_still_holds_the_jobs_lock_is_left_running():
    older, live = _run("collect-responses", minutes=300), _run("collect-responses", host=ALIVE, minutes=1)
    _committed()
    with lock_held_elsewhere("job-collect-responses"):
        recovered = recover_interrupted(now=NOW)
    assert recovered.runs == [older.id]  # one run at a time: only the newest can be the holder's
    assert live.status is JobRunStatus.RUNNING
    assert older.status is JobRunStatus.INTERRUPTED


def test_an_export_of_a_dead_process_is_interrupted_and_queued_again_as_a_new_export(app):
    export = _export()
    _committed()
    half_written = exports_dir() / f"claims-{export.id:06d}-20260318-200000.xlsx"
    half_written.write_bytes(b"PK")
    recovered = recover_interrupted(now=NOW)
    assert recovered.exports == [export.id]
    assert export.status is ExportStatus.INTERRUPTED
    retry = db.session.get(ExportRun, recovered.queued[0])
    assert (retry.status, retry.attempt, retry.retry_of_id) == (ExportStatus.QUEUED, 2, export.id)
    assert (retry.report, retry.filters, retry.requested_by) == (export.report, export.filters, export.requested_by)
    assert f"queued again as export #{retry.id}" in export.error
    assert [h.action for h in _history("export_run", export.id)] == [AuditAction.EXPORT_INTERRUPTED]
    assert not half_written.exists()


def test_an_export_built_by_a_process_with_a_live_run_is_left_alone():
    _run("export-queue", host=ALIVE)
    export = _export(host=ALIVE)
    _committed()
    with lock_held_elsewhere("job-export-queue"):
        recovered = recover_interrupted(now=NOW)
    assert (recovered.runs, recovered.exports) == ([], [])
    assert export.status is ExportStatus.RUNNING


def test_an_export_whose_run_died_with_it_is_recovered_in_the_same_pass():
    run = _run("export-queue", host=DEAD)
    export = _export(host=DEAD)
    _committed()
    recovered = recover_interrupted(now=NOW)
    assert (recovered.runs, recovered.exports) == ([run.id], [export.id])


def test_an_export_interrupted_on_its_last_attempt_is_not_queued_again():
    export = _export(attempt=MAX_EXPORT_ATTEMPTS)
    _committed()
    recovered = recover_interrupted(now=NOW)
    assert (recovered.exports, recovered.queued) == ([export.id], [])
    assert "not queued again" in export.error
    queued = db.session.scalars(select(ExportRun).where(ExportRun.status == ExportStatus.QUEUED)).all()
    assert queued == []


def test_nothing_running_means_nothing_to_do():
    _run("nightly-rules", JobRunStatus.FAILED)
    _committed()
    assert recover_interrupted(now=NOW).summary() == "No interrupted runs, exports or builds."


def test_a_running_scheduler_closes_a_dead_run_at_its_next_recovery_pass_not_only_at_start(monkeypatch):
    from billing.jobs import scheduler

    monkeypatch.setattr(scheduler, "_last_recovery", 0.0)
    assert scheduler.recover_when_due(now=scheduler.RECOVER_SECONDS + 1.0, force=True)  # the pass at start
    stale = _run("collect-responses")  # a `flask jobs run` killed after the pass
    _committed()
    assert not scheduler.recover_when_due(now=scheduler.RECOVER_SECONDS + 2.0)  # too soon: left for the next pass
    assert stale.status is JobRunStatus.RUNNING
    assert scheduler.recover_when_due(now=2 * scheduler.RECOVER_SECONDS + 2.0)
    db.session.refresh(stale)
    assert stale.status is JobRunStatus.INTERRUPTED


def _running_build(claims: int = 3) -> BatchBuild:
    build = BatchBuild(status=BuildStatus.RUNNING, claim_ids=list(range(1, claims + 1)), requested_by="ann@example.com",
                       batch_ids=[], started_at=NOW - timedelta(minutes=5))  # fmt: skip
    db.session.add(build)
    return build


class _Killed(BaseException):
    """What a process dying mid-build looks like from here: nothing after it runs, nothing catches it."""


def test_a_build_whose_process_died_is_failed_its_saved_batches_kept_and_its_other_claims_ready(monkeypatch):
    world = build_submission_world()
    world.clearinghouse.max_claims_per_file = 2
    original = world.ready_claim()
    ids = [original.id, *copies_of(original, 4)]
    build_id = builds.queue_build(actor=SYSTEM, payer_id=None, claim_ids=ids).id
    db.session.commit()
    real, calls = builds.build_part, []

    def dies_in_the_second_batch(*args, **kwargs):
        calls.append(real(*args, **kwargs))  # the batch's rows are written, then the process goes
        if len(calls) == 2:
            raise _Killed
        return calls[-1]

    monkeypatch.setattr(builds, "build_part", dies_in_the_second_batch)
    with pytest.raises(_Killed):
        builds.run_build(build_id)
    monkeypatch.undo()
    build = db.session.get(BatchBuild, build_id)
    assert (build.status, build.done, len(build.batch_ids)) == (BuildStatus.RUNNING, 2, 1)

    recovered = recover_interrupted(now=NOW)

    assert recovered.builds == [build_id]
    assert "1 submission build(s)" in recovered.summary()
    build = db.session.get(BatchBuild, build_id)
    assert build.status is BuildStatus.FAILED
    assert build.finished_at is not None
    assert build.error.startswith("Interrupted: the process building it stopped")
    assert "after 1 batch(es), 2 of 5 claims" in build.error
    queued, history = _history("batch_build", build_id)
    assert queued.action is AuditAction.BATCH_BUILD_QUEUED
    moved = (history.action, history.from_status, history.to_status)
    assert moved == (AuditAction.BATCH_BUILD_FAILED, "running", "failed")
    assert history.reason.startswith("Interrupted")
    [saved] = db.session.scalars(select(SubmissionBatch)).all()
    assert build.batch_ids == [saved.id]
    in_saved = {e.claim_id for e in saved.entries}
    rest = [i for i in ids if i not in in_saved]
    assert (len(in_saved), len(rest)) == (2, 3)
    statuses = set(db.session.scalars(select(Claim.status).where(any_of(Claim.id, ids))))
    assert statuses == {ClaimStatus.READY}
    assert db.session.scalars(select(BatchClaim).where(any_of(BatchClaim.claim_id, rest))).all() == []
    # Generating again takes only the claims left: no claim ends up in two batches.
    builds.generate_in_steps(actor=SYSTEM)
    rows = db.session.execute(select(BatchClaim.claim_id).where(any_of(BatchClaim.claim_id, ids))).scalars().all()
    assert sorted(rows) == sorted(ids)
    assert recover_interrupted(now=NOW).builds == []  # failed once, never again


def test_the_build_of_a_process_that_holds_the_build_jobs_lock_is_left_running():
    older, live = _running_build(), _running_build()
    _committed()
    with lock_held_elsewhere("job-batch-builds"):
        recovered = recover_interrupted(now=NOW)
    assert recovered.builds == [older.id]  # one build at a time, in id order: only the newest can be the holder's
    assert live.status is BuildStatus.RUNNING
    assert older.status is BuildStatus.FAILED
    assert _history("batch_build", live.id) == []
