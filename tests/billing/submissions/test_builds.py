"""Large generations: the page queues them, the batch-builds job builds them batch by batch with progress."""

from __future__ import annotations

import json

from sqlalchemy import select

from billing.claims.operations import hold_claim
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.jobs.tasks import build_queued_batches
from billing.people.models import Role
from billing.submissions import builds
from billing.submissions.models import BatchBuild, BatchStatus, BuildStatus, SubmissionBatch
from tests.billing.jobs.conftest import NOW
from tests.conftest import csrf_token
from tests.worlds.bulk_claims import copies_of
from tests.worlds.practice import SYSTEM


def test_a_large_generation_is_queued_by_the_page_and_built_by_the_job_with_progress(world, client, login,
                                                                                   monkeypatch):  # fmt: skip
    monkeypatch.setattr(builds, "LARGE_BUILD", 3)
    world.clearinghouse.max_claims_per_file = 2
    original = world.ready_claim()
    ids = [original.id, *copies_of(original, 4)]
    db.session.commit()
    login(Role.BILLER)
    response = client.post("/admin/submissions/generate/", data={
        "payer": "all", "claim_id": [str(i) for i in ids], "csrf_token": csrf_token(client, "/admin/submissions/new/")})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalars(select(SubmissionBatch)).all() == []  # nothing was built inside the request
    [build] = db.session.scalars(select(BatchBuild)).all()
    assert (build.status, build.total, build.done, sorted(build.claim_ids)) == (BuildStatus.QUEUED, None, 0, ids)
    page = client.get("/admin/submissions/").get_data(as_text=True)
    assert f'data-build="{build.id}" data-build-status="queued"' in page

    build_id = build.id
    summary = build_queued_batches(NOW)

    db.session.expire_all()
    build = db.session.get(BatchBuild, build_id)
    assert "3 batch(es), 5 of 5 claims" in summary
    assert (build.status, build.done, build.total) == (BuildStatus.FINISHED, 5, 5)
    batches = db.session.scalars(select(SubmissionBatch).order_by(SubmissionBatch.id)).all()
    assert [b.claim_count for b in batches] == [2, 2, 1]
    assert build.batch_ids == [b.id for b in batches]
    assert {b.created_by for b in batches} == {build.requested_by}
    assert {b.status for b in batches} == {BatchStatus.GENERATED}
    page = client.get("/admin/submissions/").get_data(as_text=True)
    assert "5 of 5 claims" in page
    assert build_queued_batches(NOW) == "Nothing queued."


def test_a_claim_held_after_the_plan_stays_out_of_its_batch(world, monkeypatch):
    original = world.ready_claim()
    ids = [original.id, *copies_of(original, 2)]
    build = builds.queue_build(actor=SYSTEM, payer_id=None, claim_ids=ids)
    db.session.commit()
    real_plan = builds.plan_batches

    def plan_then_hold(**kwargs):
        plan = real_plan(**kwargs)
        hold_claim(db.session.get(type(original), ids[-1]), reason="payer asked to wait", actor=SYSTEM)
        return plan

    monkeypatch.setattr(builds, "plan_batches", plan_then_hold)
    done = builds.run_build(build.id)
    assert done.status is BuildStatus.FINISHED
    [batch] = db.session.scalars(select(SubmissionBatch)).all()
    assert sorted(e.claim_id for e in batch.entries) == ids[:2]
    assert db.session.get(type(original), ids[-1]).status is ClaimStatus.HELD


def test_flask_submissions_builds_json_shows_the_progress(world, app):
    original = world.ready_claim()
    build = builds.queue_build(actor=SYSTEM, payer_id=None, claim_ids=[original.id])
    db.session.commit()
    queued = app.test_cli_runner().invoke(args=["submissions", "builds", "--json"])
    assert queued.exit_code == 0, queued.output
    [row] = json.loads(queued.output)
    assert (row["id"], row["status"], row["done"], row["total"]) == (build.id, "queued", 0, None)
    build_id = build.id
    builds.run_build(build_id)
    text = app.test_cli_runner().invoke(args=["submissions", "builds"])
    assert f"build {build_id}  finished  1 of 1 claims  1 batch(es)" in text.output
