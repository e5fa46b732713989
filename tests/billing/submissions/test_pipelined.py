"""A stepped generation reads and writes batch k+1 while pyx12 validates batch k: the batches still come out in the
plan's order, each saved or rolled back on its own, with at most one file validating and one batch read ahead."""

from __future__ import annotations

import gc
from decimal import Decimal

import pytest
from sqlalchemy import select, text, update

from billing.claims.models import Claim, ClaimLine
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.errors import Failed
from billing.core.id_lists import any_of
from billing.edi.x837p_checks import FileError
from billing.submissions import builds, operations
from billing.submissions.models import BatchClaim, SubmissionBatch
from billing.submissions.operations import BatchRefused, Prepared
from tests.worlds.bulk_claims import copies_of
from tests.worlds.practice import SYSTEM


def _five_claims(world) -> list[int]:
    """Five Ready claims of one payer, two per file: the plan is three batches, [a, b], [c, d], [e]."""
    world.clearinghouse.max_claims_per_file = 2
    original = world.ready_claim()
    ids = sorted([original.id, *copies_of(original, 4)])
    db.session.commit()
    return ids


def _log_steps(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object]]:
    """What happens, in order: a part read ahead ("read", its first claim) and a verdict awaited ("verdict", the
    batch's first claim). Each verdict also notes the files open and the parts held at that moment."""
    steps: list[tuple[str, object]] = []
    real_prepare, real_verdict = builds.prepare_part, operations._refuse_if_invalid
    open_checks: list[object] = []
    real_checking = operations.Checking

    class Counted(real_checking):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            open_checks.append(self)

        def close(self):
            if self in open_checks:
                open_checks.remove(self)
            super().close()

    def prepare(house_id, ids, payer_id):
        steps.append(("read", min(ids)))
        return real_prepare(house_id, ids, payer_id)

    def verdict(batch, check):
        gc.collect()
        held = [o for o in gc.get_objects() if isinstance(o, Prepared)]
        steps.append(("verdict", min(e.claim_id for e in batch.entries)))
        steps.append(("in flight", (len(open_checks), len(held))))
        return real_verdict(batch, check)

    monkeypatch.setattr(builds, "prepare_part", prepare)
    monkeypatch.setattr(operations, "_refuse_if_invalid", verdict)
    monkeypatch.setattr(operations, "Checking", Counted)
    return steps


def _batches() -> list[list[int]]:
    """The claims of each saved batch, batches in id order."""
    batches = db.session.scalars(select(SubmissionBatch.id).order_by(SubmissionBatch.id)).all()
    return [list(db.session.scalars(select(BatchClaim.claim_id).where(BatchClaim.batch_id == b)
                                    .order_by(BatchClaim.position))) for b in batches]  # fmt: skip


def test_the_next_batch_is_read_while_this_one_validates_and_the_batches_keep_the_plans_order(world, monkeypatch):
    a, b, c, d, e = _five_claims(world)
    steps = _log_steps(monkeypatch)
    done = builds.generate_in_steps(actor=SYSTEM)
    events = [step for step in steps if step[0] != "in flight"]
    # Batch 1 is read in its own transaction; every later one while the batch before it validates.
    assert events == [("read", c), ("verdict", a), ("read", e), ("verdict", c), ("verdict", e)]
    assert _batches() == [[a, b], [c, d], [e]]
    assert done.batch_ids == sorted(done.batch_ids)
    assert done.claims == 5
    # One file validating at a time, and while it does, one part held: the next one, read ahead (none at the last).
    in_flight = [value for kind, value in steps if kind == "in flight"]
    assert in_flight == [(1, 1), (1, 1), (1, 0)]


def test_a_refused_batch_keeps_the_ones_before_it_and_the_batch_read_ahead_is_not_saved(world, monkeypatch):
    a, b, c, d, e = _five_claims(world)
    real, verdicts = operations._refuse_if_invalid, []

    def second_refused(batch, check):
        verdicts.append(batch.id)
        real(batch, check)
        if len(verdicts) == 2:
            raise BatchRefused([FileError(9, "NM1*85", "bad NPI", "C-000002")])

    monkeypatch.setattr(operations, "_refuse_if_invalid", second_refused)
    with pytest.raises(builds.StoppedPartWay) as stopped:
        builds.generate_in_steps(actor=SYSTEM)
    assert stopped.value.message.startswith("Stopped at batch 2 of 3: The 837P was refused")
    assert _batches() == [[a, b]]  # batch 2 rolled back; batch 3 was only read, never written
    statuses = set(db.session.scalars(select(Claim.status).where(any_of(Claim.id, [a, b, c, d, e]))))
    assert statuses == {ClaimStatus.READY}
    monkeypatch.undo()
    again = builds.generate_in_steps(actor=SYSTEM)  # the claims left go now, in the plan's order
    assert _batches() == [[a, b], [c, d], [e]]
    assert again.claims == 3


def _refused_by_the_database() -> None:
    db.session.execute(text("SELECT * FROM no_such_table"))  # on PostgreSQL, this aborts the transaction


def _failed() -> None:
    raise Failed("the clearinghouse settings could not be read")


@pytest.mark.parametrize("failure", [_failed, _refused_by_the_database])
def test_a_failure_while_reading_ahead_does_not_undo_the_batch_being_validated(world, monkeypatch, failure):
    a, b, c, d, e = _five_claims(world)
    real, reads = builds.prepare_part, []

    def second_read_fails(house_id, ids, payer_id):
        reads.append(min(ids))
        if len(reads) == 1:  # part 2, read during batch 1
            failure()
        return real(house_id, ids, payer_id)

    monkeypatch.setattr(builds, "prepare_part", second_read_fails)
    done = builds.generate_in_steps(actor=SYSTEM)
    assert _batches() == [[a, b], [c, d], [e]]  # part 2 was read again in its own transaction
    assert done.claims == 5


def test_a_claim_changed_after_it_was_read_ahead_goes_as_it_is_now_and_a_held_one_stays_out(world, monkeypatch):
    a, b, c, d, e = _five_claims(world)
    real = builds.prepare_part
    line_id = db.session.scalars(select(ClaimLine.id).where(ClaimLine.claim_id == c)).first()
    before = db.session.scalar(select(Claim.total_charge).where(Claim.id == c))

    def then_edited(house_id, ids, payer_id):
        prepared = real(house_id, ids, payer_id)
        if c in ids:  # as another biller's edits would, committed between the read and the batch's lock
            db.session.execute(update(ClaimLine).where(ClaimLine.id == line_id)
                               .values(charge=ClaimLine.charge + Decimal("10.00")))  # fmt: skip
            db.session.execute(update(Claim).where(Claim.id == c).values(
                total_charge=Claim.total_charge + Decimal("10.00"), version=Claim.version + 1))  # fmt: skip
            db.session.execute(update(Claim).where(Claim.id == d).values(status=ClaimStatus.HELD,
                                                                          version=Claim.version + 1))  # fmt: skip
        return prepared

    monkeypatch.setattr(builds, "prepare_part", then_edited)
    builds.generate_in_steps(actor=SYSTEM)
    assert _batches() == [[a, b], [c], [e]]
    entry = db.session.scalars(select(BatchClaim).where(BatchClaim.claim_id == c)).one()
    claim = db.session.get(Claim, c)
    assert (entry.claim_version, entry.charge) == (claim.version, before + Decimal("10.00"))
    content = db.session.scalars(select(SubmissionBatch.content).where(SubmissionBatch.id == entry.batch_id)).one()
    assert f"*{before + Decimal('10.00')}*" in content  # CLM02: the file was written from the claim as it is now
