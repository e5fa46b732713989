"""Generations too large for a web request, built by a background job with progress.

Over `LARGE_BUILD` chosen claims the Submissions page queues a `BatchBuild` instead of generating (a web
request must not run the rules over, and write and validate files of, tens of thousands of claims). The
`batch-builds` job picks it up: the rules' run and the plan in one unit of work, then each planned batch in
its own, counting the claims done as it goes, so the page shows "done of total". Each batch's claims are
checked again when it is built; a failure stops the build with its reason, and the batches built before
it stay (each a valid, unsent file a biller can send, or take claims out of).

    queue_build(actor=..., payer_id=..., claim_ids=...)  flush-only, like every operation
    run_build(build_id)                                  commits in steps (called by the job, never a request)
    generate_in_steps(actor=..., each=...)               the per-batch path both share with `flask submissions
                                                         create` and the nightly job: commits in steps
    fail_abandoned(build, reason=...)                    a build whose process died (billing.jobs.recovery)

Why a transaction per batch: one transaction for every batch keeps every file, entry and history row of the
generation in memory until its commit (492 MB for 85k claims), and a failure in the last batch threw away all
the others. Batch by batch, memory is one batch's, and a failure in batch k leaves batches 1..k-1 saved (each a
complete, validated, unsent file: nothing about a batch depends on the batches after it).

Why the next batch is read during this one: pyx12 takes about four fifths of a generation's CPU, in worker
processes. Batch k's transaction starts its file's validation, then reads the claims of batch k+1 and writes their
transactions (`prepare_part`: no lock, no row) before it awaits the verdict, so on two cores the main process builds
while the workers validate. Batch k+1's own transaction then only locks its claims, checks each one's version
against the one read (a claim changed since is read again, under the lock), and adds the envelope and the rows.
At most one file is validating and one batch read ahead: memory stays about two batches'.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db, utcnow
from billing.core.errors import BillingError, Failed, Invalid
from billing.core.unit_of_work import unit_of_work
from billing.submissions.models import BatchBuild, BuildStatus, SubmissionBatch
from billing.submissions.operations import Plan, Prepared, build_part, plan_batches, prepare_part
from rules.eligibility import RuleStop

logger = logging.getLogger(__name__)

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


#: Called inside each batch's transaction with the batch (None when none of its claims could go any more) and the
#: number of claims planned for it: the caller keeps what it needs (the batch leaves memory after the commit).
EachBatch = Callable[[SubmissionBatch | None, int], None]


@dataclass
class Stepped:
    """What a generation built batch by batch did: what the rules held, and the batches saved (ids, numbers)."""

    held: list[RuleStop] = field(default_factory=list)
    run_number: int | None = None
    batch_ids: list[int] = field(default_factory=list)
    batch_numbers: list[str] = field(default_factory=list)
    claims: int = 0


class StoppedPartWay(Failed):
    """Batch k of a stepped generation failed: it was rolled back, the batches before it are saved."""

    def __init__(self, failed_at: int, of: int, saved: Stepped, cause: BillingError) -> None:
        if saved.batch_numbers:
            kept = (f"The {len(saved.batch_numbers)} batch(es) built before it are saved, {saved.claims:,} claims "
                    f"({_names(saved.batch_numbers)}), each a validated file not yet sent")
        else:
            kept = "No batch was saved"
        super().__init__(f"Stopped at batch {failed_at} of {of}: {cause.message} {kept}; the claims of batch "
                         f"{failed_at} and after stay Ready.")  # fmt: skip
        self.saved, self.cause = saved, cause


def _names(numbers: list[str]) -> str:
    return ", ".join(numbers) if len(numbers) <= 4 else f"{numbers[0]} to {numbers[-1]}"


def generate_in_steps(
    *, actor: Actor, each: EachBatch | None = None, payer_id: int | None = None,
    claim_ids: Collection[int] | None = None, clearinghouse_id: int | None = None, today: date | None = None,
    planned: Callable[[Plan], None] | None = None,
) -> Stepped:
    """`generate_batches` in steps, each its own transaction: the rules' run and the plan, then each batch.

    Each batch's claims are checked again as it is built (`build_part`), so a claim held or edited since the
    plan stays out. Batch k+1 is read and written while batch k's file validates (see the module's docstring).
    Nothing is kept from one batch to the next but its id, number and count (and the one batch read ahead): what a
    batch loaded leaves memory before the next one. A refusal before any batch (nothing eligible, a chosen claim
    that cannot go) is raised as it is; one at batch k raises `StoppedPartWay`, which names the batches saved
    before it.

    Args:
        each: called in each batch's transaction (progress, a summary of the batch).
        planned: called in the plan's transaction (a build records its total there).
    """
    with unit_of_work():
        plan = plan_batches(actor=actor, payer_id=payer_id, claim_ids=claim_ids, today=today,
                            clearinghouse_id=clearinghouse_id)  # fmt: skip
        if planned is not None:
            planned(plan)
    parts, done = plan.parts, Stepped(held=plan.held, run_number=plan.run_number)
    ahead = _ReadAhead(parts, payer_id)
    for index, (house_id, ids) in enumerate(parts, start=1):
        saved: tuple[int, str, int] | None = None
        try:
            with unit_of_work():
                # While pyx12 validates this batch's file (in worker processes), the next batch is read and
                # written here: on two cores the build of one overlaps the validation of the other.
                batch = build_part(house_id, ids, payer_id, actor, prepared=ahead.take(index),
                                   meanwhile=lambda k=index: ahead.prepare(k + 1))  # fmt: skip
                if each is not None:
                    each(batch, len(ids))
                if batch is not None:
                    saved = (batch.id, batch.number, batch.claim_count)
                del batch
        except BillingError as exc:
            raise StoppedPartWay(index, len(parts), done, exc) from None
        # Nothing here keeps the batch, its entries, claims or file: the commit expired them and the session
        # holds loaded objects weakly, so they leave memory before the next batch. (Not expunge_all: that
        # would also detach what the caller holds.)
        if saved is not None:
            done.batch_ids.append(saved[0])
            done.batch_numbers.append(saved[1])
            done.claims += saved[2]
    return done


class _ReadAhead:
    """The next part of a stepped generation, read and written (`prepare_part`) during the batch before it.

    At most one part is held ahead, so memory is two batches' (the one validating, the next one): never more.
    Reading it changes nothing, so its transaction (the batch before) commits or rolls back as if it had not
    run; what it saw is checked again under the claims' locks when its own batch is built."""

    def __init__(self, parts: list[tuple[int, Sequence[int]]], payer_id: int | None) -> None:
        self.parts, self.payer_id = parts, payer_id
        self.index: int | None = None
        self.prepared: Prepared | None = None

    def prepare(self, index: int) -> None:
        self.index, self.prepared = None, None
        if index > len(self.parts):
            return
        house_id, ids = self.parts[index - 1]
        try:
            # In a savepoint: a statement that fails (on PostgreSQL, one that aborts the transaction) is undone
            # alone, and the batch being validated still commits.
            with db.session.begin_nested():
                self.prepared, self.index = prepare_part(house_id, ids, self.payer_id), index
        except (BillingError, SQLAlchemyError) as exc:
            # Not this batch's problem: the part is prepared again in its own transaction, where the error is
            # raised as that batch's, after this one is saved.
            logger.warning("Reading batch %s ahead failed (%s); it is read again in its own transaction", index,
                           type(exc).__name__)  # fmt: skip

    def take(self, index: int) -> Prepared | None:
        prepared = self.prepared if self.index == index else None
        self.index, self.prepared = None, None
        return prepared


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

    def planned(plan: Plan) -> None:
        _locked(build_id).total = plan.claim_count

    def each(batch: SubmissionBatch | None, claims: int) -> None:
        build = _locked(build_id)
        build.done += claims  # a claim that could no longer go counts as done: it was looked at
        if batch is not None:
            build.batch_ids = [*build.batch_ids, batch.id]

    try:
        generate_in_steps(actor=actor, each=each, planned=planned, payer_id=payer_id, claim_ids=claim_ids)
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


def fail_abandoned(build: BatchBuild, *, reason: str, actor: Actor) -> None:
    """A running build whose process is gone (billing.jobs.recovery decides): failed, never run again by itself.

    Failed rather than queued again: each batch committed with the build's progress, so the batches it lists
    are complete files and the one it was building died with its transaction (its claims are still Ready, in
    no batch). Queuing it again would run the rules and the plan again on claims the biller may be handling
    by now, and a generation that kills its process every time would loop; the biller asks again instead.
    """
    message = (f"Interrupted: {reason} It stopped after {len(build.batch_ids)} batch(es), {build.done:,} of "
               f"{build.total if build.total is not None else '?'} claims; those batches are saved (each a "
               "validated file, not yet sent) and the other claims are still Ready. Generate again for them.")
    build.status, build.finished_at, build.error = BuildStatus.FAILED, utcnow(), message[:2000]
    build.summary = f"{len(build.batch_ids)} batch(es), {build.done} of {build.total or 0} claims"
    record_change("batch_build", build.id, AuditAction.BATCH_BUILD_FAILED, actor=actor, before="running",
                  after="failed", reason=message[:500], data={"batches": build.batch_ids, "interrupted": True})
