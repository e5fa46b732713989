"""The two submission services the scheduler runs, each step in its own unit of work.

    submit_ready_claims(actor=...)  finish the sends an earlier attempt left Sending, run the rules on the
                                    Ready claims, then batch every eligible one (one batch per clearinghouse)
                                    and send each batch whose clearinghouse has SFTP settings; a claim the
                                    rules stop, or a void waiting for the payer's claim number, stays out and
                                    is named in the report
    collect_all_responses(actor=...) download new 999/277CA files from every active clearinghouse

A failure in one clearinghouse is reported and the others carry on; nothing half-done is committed. Each takes
`clearinghouse_id` so the scheduler can run (and record) one clearinghouse at a time: `submission_units` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from billing.core.audit import Actor
from billing.core.db import db
from billing.core.errors import BillingError, NothingToDo
from billing.core.unit_of_work import unit_of_work
from billing.submissions.builds import StoppedPartWay, generate_in_steps
from billing.submissions.models import BatchStatus, Clearinghouse, SubmissionBatch
from billing.submissions.operations import send_batch
from billing.submissions.queries import batch_by_id, clearinghouse_by_id, sending_batch_ids, waiting_voids
from billing.submissions.responses import collect_responses


@dataclass
class JobReport:
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    #: Claims left out that wait for a person ("C-000012: void waiting for the payer's claim number ...").
    blocked: list[str] = field(default_factory=list)

    def merge(self, other: JobReport) -> None:
        self.done += other.done
        self.failed += other.failed
        self.blocked += other.blocked

    def summary(self) -> str:
        parts = self.done + [f"FAILED {f}" for f in self.failed] + [f"LEFT OUT {b}" for b in self.blocked]
        return "; ".join(parts) or "Nothing to do."


def submission_units() -> list[tuple[int, str]]:
    """The active clearinghouses, each one unit of the nightly submission (and its id and name)."""
    query = select(Clearinghouse.id, Clearinghouse.name).where(Clearinghouse.active).order_by(Clearinghouse.id)
    return [(house_id, name) for house_id, name in db.session.execute(query)]


def submit_ready_claims(*, actor: Actor, clearinghouse_id: int | None = None) -> JobReport:
    """Batch the eligible Ready claims and send what can be sent; unsendable batches wait for a person.

    Args:
        clearinghouse_id: only this clearinghouse's claims and unfinished sends (one unit of the nightly job).
    """
    report = JobReport()
    with unit_of_work():
        report.blocked = [c.describe() for c in waiting_voids(clearinghouse_id=clearinghouse_id)]
        unfinished = sending_batch_ids(clearinghouse_id)
    for batch_id in unfinished:
        _send(batch_id, report, actor, again=True)
    created: list[tuple[int, str, int, bool]] = []

    def keep(batch: SubmissionBatch | None, _claims: int) -> None:
        if batch is not None:
            created.append((batch.id, batch.number, batch.claim_count, bool(batch.clearinghouse.sftp_host)))

    try:
        # The rules run first; what they stop waits for a person. Each batch is saved as it is built.
        generation = generate_in_steps(actor=actor, clearinghouse_id=clearinghouse_id, each=keep)
        report.blocked += [stop.describe() for stop in generation.held]
    except NothingToDo:
        return report
    except StoppedPartWay as exc:  # the batches saved before the failure are complete files: they go out
        report.blocked += [stop.describe() for stop in exc.saved.held]
        report.failed.append(f"creating batches: {exc.message}")
    except BillingError as exc:
        report.failed.append(f"creating batches: {exc.message}")
        return report
    for batch_id, number, count, sendable in created:
        if not sendable:
            report.done.append(f"{number}: {count} claims generated; download and upload it by hand")
            continue
        _send(batch_id, report, actor)
    return report


def _send(batch_id: int, report: JobReport, actor: Actor, *, again: bool = False) -> None:
    """send_batch commits its own steps; a batch another process finished meanwhile counts as sent."""
    try:
        sent = send_batch(batch_id, actor=actor)
        report.done.append(f"{sent.number}: {sent.claim_count} claims sent" + (" (an unfinished send completed)"
                                                                                 if again else ""))
    except BillingError as exc:
        db.session.rollback()
        batch = batch_by_id(batch_id)
        if batch.status is BatchStatus.SENT:
            report.done.append(f"{batch.number}: already sent by {batch.sent_by}")
        else:
            report.failed.append(f"{batch.number}: {exc.message}")
        db.session.rollback()


def collect_all_responses(*, actor: Actor, clearinghouse_id: int | None = None) -> JobReport:
    report = JobReport()
    with unit_of_work():
        houses = [(h.id, h.name) for h in _sftp_clearinghouses()
                  if clearinghouse_id is None or h.id == clearinghouse_id]  # fmt: skip
    for house_id, name in houses:
        try:
            with unit_of_work():
                files = collect_responses(clearinghouse_by_id(house_id), actor=actor)
                report.done.append(f"{name}: {len(files)} new file(s)")
        except BillingError as exc:
            report.failed.append(f"{name}: {exc.message}")
    return report


def _sftp_clearinghouses() -> list[Clearinghouse]:
    query = select(Clearinghouse).where(Clearinghouse.active, Clearinghouse.sftp_host.is_not(None))
    return list(db.session.scalars(query.order_by(Clearinghouse.id)))
