"""Generations too large for a web request, built by a background job with progress.

Over `LARGE_BUILD` chosen claims the Submissions page queues a `BatchBuild` instead of generating (a web
request must not run the rules over, and write and validate files of, tens of thousands of claims). The
`batch-builds` job picks it up: the rules' run and the plan in one unit of work, then each planned batch in
its own, counting the claims done as it goes, so the page shows "done of total". Each batch's claims are
checked again when it is built; a failure stops the build with its reason, and the batches built before
it stay (each a valid, unsent file a biller can send, or take claims out of).

    queue_build(actor=..., payer_id=..., claim_ids=...)  flush-only, like every operation
    run_build(build_id)                                  commits in steps (called by the job, never a request)
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db, utcnow
from billing.core.errors import BillingError, Invalid
from billing.core.unit_of_work import unit_of_work
from billing.submissions.models import BatchBuild, BuildStatus
from billing.submissions.operations import build_part, plan_batches

#: From this many chosen claims a generation is left to the background job.
LARGE_BUILD = 1000


def is_large(claim_ids: Collection[int]) -> bool:
    return len(claim_ids) > LARGE_BUILD


def queue_build(*, actor: Actor, payer_id: int | None, claim_ids: Collection[int]) -> BatchBuild:
    """Leave a generation of the chosen claims to the `batch-builds` job."""
    if not claim_ids:
        raise Invalid("Select at least one claim to put in the batch.")
    build = BatchBuild(payer_id=payer_id, claim_ids=sorted(claim_ids), requested_by=actor.name, user_id=actor.user_id,
                       batch_ids=[])  # fmt: skip
    db.session.add(build)
    db.session.flush()
    record_change("batch_build", build.id, AuditAction.BATCH_BUILD_QUEUED, actor=actor, after="queued",
                  data={"claims": len(claim_ids)})  # fmt: skip
    return build


def has_queued() -> bool:
    return db.session.scalar(select(BatchBuild.id).where(BatchBuild.status == BuildStatus.QUEUED).limit(1)) is not None


def queued_build_ids() -> list[int]:
    query = select(BatchBuild.id).where(BatchBuild.status == BuildStatus.QUEUED).order_by(BatchBuild.id)
    return list(db.session.scalars(query))


def recent_builds(limit: int = 5) -> list[BatchBuild]:
    """What the Submissions page shows: builds queued or running, and the last few finished or failed."""
    return list(db.session.scalars(select(BatchBuild).order_by(BatchBuild.id.desc()).limit(limit)))


def run_build(build_id: int) -> BatchBuild:
    """Build a queued generation batch by batch, each in its own transaction, recording progress as it goes.

    The batches and their history name the biller who asked for them, as a generation on the page would.
    """
    with unit_of_work():
        build = _locked(build_id)
        if build.status is not BuildStatus.QUEUED:
            return build  # another process took it
        build.status, build.started_at = BuildStatus.RUNNING, utcnow()
        payer_id, claim_ids = build.payer_id, list(build.claim_ids)
        actor = Actor(name=build.requested_by, user_id=build.user_id)
    try:
        with unit_of_work():
            plan = plan_batches(actor=actor, payer_id=payer_id, claim_ids=claim_ids)
            parts = [(house_id, [c.claim_id for c in part]) for house_id, part in plan.parts]
            _locked(build_id).total = plan.claim_count
        for house_id, ids in parts:
            with unit_of_work():
                batch = build_part(house_id, ids, payer_id, actor)
                build = _locked(build_id)
                build.done += len(ids)  # a claim that could no longer go counts as done: it was looked at
                if batch is not None:
                    build.batch_ids = [*build.batch_ids, batch.id]
            db.session.expunge_all()  # the batch's claims and file leave memory before the next one
    except BillingError as exc:
        db.session.rollback()
        return _end(build_id, actor, BuildStatus.FAILED, exc.message)
    return _end(build_id, actor, BuildStatus.FINISHED, None)


def _locked(build_id: int) -> BatchBuild:
    return db.session.scalars(select(BatchBuild).where(BatchBuild.id == build_id).with_for_update()).one()


def _end(build_id: int, actor: Actor, status: BuildStatus, error: str | None) -> BatchBuild:
    with unit_of_work():
        build = _locked(build_id)
        build.status, build.finished_at, build.error = status, utcnow(), (error or None) and error[:2000]
        build.summary = f"{len(build.batch_ids)} batch(es), {build.done} of {build.total or 0} claims"
        action = AuditAction.BATCH_BUILD_FINISHED if status is BuildStatus.FINISHED else AuditAction.BATCH_BUILD_FAILED
        record_change("batch_build", build.id, action, actor=actor, before="running", after=status.value,
                      reason=error[:500] if error else None, data={"batches": build.batch_ids})  # fmt: skip
    return build
