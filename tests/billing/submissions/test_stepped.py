"""Generations built batch by batch (`flask submissions create`, the nightly job, the batch-builds job): each batch
is saved in its own transaction, so a failure at batch k keeps batches 1..k-1 and leaves the rest Ready."""

from __future__ import annotations

import gc

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine.interfaces import ExecuteStyle

from billing.claims.models import Claim, ClaimLine
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.core.unit_of_work import unit_of_work
from billing.edi.x837p_checks import FileError
from billing.ledger.models import EntryKind, LedgerEntry
from billing.payments.invariants import month_totals_kept
from billing.submissions import builds
from billing.submissions.models import BatchClaim, BatchStatus, SubmissionBatch
from billing.submissions.operations import BatchRefused, mark_batch_sent
from tests.worlds.bulk_claims import copies_of
from tests.worlds.practice import SYSTEM


def _batched(ids: list[int]) -> dict[int, list[int]]:
    """Claim id -> the batches holding it."""
    rows = db.session.execute(select(BatchClaim.claim_id, BatchClaim.batch_id).where(any_of(BatchClaim.claim_id, ids)))
    found: dict[int, list[int]] = {}
    for claim_id, batch_id in rows:
        found.setdefault(claim_id, []).append(batch_id)
    return found


def _refuse_call(monkeypatch: pytest.MonkeyPatch, number: int) -> None:
    """The `number`th batch is built (its rows written) and then refused, as a file pyx12 rejects would be."""
    real, calls = builds.build_part, []

    def build_part(*args, **kwargs):
        batch = real(*args, **kwargs)
        calls.append(batch)
        if len(calls) == number:
            raise BatchRefused([FileError(7, "CLM*X", "CLM02 is not the sum of the lines", "C-000001")])
        return batch

    monkeypatch.setattr(builds, "build_part", build_part)


def test_each_batch_is_saved_in_its_own_transaction_and_reported(world):
    world.clearinghouse.max_claims_per_file = 2
    original = world.ready_claim()
    ids = [original.id, *copies_of(original, 4)]
    db.session.commit()
    seen: list[tuple[int, int]] = []
    done = builds.generate_in_steps(actor=SYSTEM, each=lambda batch, n: seen.append((batch.claim_count, n)))
    assert seen == [(2, 2), (2, 2), (1, 1)]
    assert (done.claims, len(done.batch_ids), done.run_number is not None) == (5, 3, True)
    gc.collect()
    kept = [o for o in db.session.identity_map.values() if isinstance(o, SubmissionBatch | BatchClaim)]
    assert kept == []  # nothing a batch loaded is kept after its commit
    db.session.rollback()  # a commit is not undone by a rollback: every batch stays
    batches = db.session.scalars(select(SubmissionBatch).order_by(SubmissionBatch.id)).all()
    assert [b.id for b in batches] == done.batch_ids
    assert done.batch_numbers == [b.number for b in batches]
    assert {b.status for b in batches} == {BatchStatus.GENERATED}
    assert all(len(batch_ids) == 1 for batch_ids in _batched(ids).values())
    assert sorted(_batched(ids)) == sorted(ids)


def test_a_failure_at_batch_k_keeps_the_batches_before_it_and_leaves_the_rest_ready(world, monkeypatch):
    world.clearinghouse.max_claims_per_file = 2
    original = world.ready_claim()
    ids = [original.id, *copies_of(original, 4)]
    db.session.commit()
    _refuse_call(monkeypatch, 2)
    with pytest.raises(builds.StoppedPartWay) as stopped:
        builds.generate_in_steps(actor=SYSTEM)
    error = stopped.value
    assert error.message.startswith("Stopped at batch 2 of 3: The 837P was refused")
    [saved] = db.session.scalars(select(SubmissionBatch)).all()
    assert error.saved.batch_ids == [saved.id]
    assert f"The 1 batch(es) built before it are saved, 2 claims ({saved.number})" in error.message
    assert "the claims of batch 2 and after stay Ready" in error.message
    in_batches = _batched(ids)
    assert sorted(in_batches) == sorted(e.claim_id for e in saved.entries)  # batch 2's rows were rolled back
    statuses = set(db.session.scalars(select(Claim.status).where(any_of(Claim.id, ids))))
    assert statuses == {ClaimStatus.READY}  # a batch holds its claims in Ready: none moved


def test_a_failure_at_the_first_batch_saves_nothing_and_says_so(world, monkeypatch):
    claim_id = world.ready_claim().id
    db.session.commit()
    _refuse_call(monkeypatch, 1)
    with pytest.raises(builds.StoppedPartWay) as stopped:
        builds.generate_in_steps(actor=SYSTEM)
    assert "No batch was saved" in stopped.value.message
    assert db.session.scalars(select(SubmissionBatch)).all() == []
    assert _batched([claim_id]) == {}


def test_marking_a_large_batch_sent_writes_its_charges_in_a_few_statements(world):
    """Set-based both ways: the entries go in with the batch, and marking it sent posts every line's charge in a
    single COPY on PostgreSQL (each statement runs the ledger's statement-level summary triggers once), with
    the kept month totals and balances still equal to the ledger."""
    original = world.ready_claim()
    ids = [original.id, *copies_of(original, 29)]
    db.session.commit()
    done = builds.generate_in_steps(actor=SYSTEM)
    assert done.claims == 30
    assert len(done.batch_ids) == 1
    entries = db.session.execute(select(BatchClaim.claim_id, BatchClaim.position, BatchClaim.claim_version,
                                        BatchClaim.first_segment, BatchClaim.pending)
                                 .where(BatchClaim.batch_id == done.batch_ids[0]).order_by(BatchClaim.position)).all()
    assert [e.claim_id for e in entries] == sorted(ids)
    assert [e.position for e in entries] == list(range(1, 31))
    assert all(e.pending and e.first_segment is not None for e in entries)
    inserts: list[int] = []

    def count(_conn, _cursor, statement, parameters, context, _executemany):
        if statement.startswith("INSERT INTO ledger_entry"):  # a driver's executemany runs one INSERT per row
            inserts.append(len(parameters) if context.execute_style is ExecuteStyle.EXECUTEMANY else 1)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        with unit_of_work():
            mark_batch_sent(done.batch_ids[0], actor=SYSTEM)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    lines = db.session.execute(select(func.count(), func.sum(ClaimLine.charge)).where(any_of(ClaimLine.claim_id, ids))
                               ).one()  # fmt: skip
    charges = db.session.execute(select(func.count(), func.sum(LedgerEntry.amount)).where(
        any_of(LedgerEntry.claim_id, ids), LedgerEntry.kind == EntryKind.CHARGE)).one()  # fmt: skip
    assert (charges[0], charges[1]) == (lines[0], lines[1])  # one charge per line, to the cent
    if engine.dialect.name == "postgresql":
        assert sum(inserts) <= 1  # a COPY (or one multi-row INSERT) for every line, never one INSERT a row
    assert month_totals_kept() == []
    statuses = set(db.session.scalars(select(Claim.status).where(any_of(Claim.id, ids))))
    assert statuses == {ClaimStatus.SUBMITTED}


def test_marking_a_batch_sent_moves_its_claims_and_writes_their_history_in_one_statement_each(world):
    """Set-based: one UPDATE moves every claim (and bumps its version), one INSERT writes their history rows, one
    UPDATE marks the entries sent, whatever the batch's size."""
    original = world.ready_claim()
    ids = [original.id, *copies_of(original, 29)]
    db.session.commit()
    [batch_id] = builds.generate_in_steps(actor=SYSTEM).batch_ids
    versions = dict(db.session.execute(select(Claim.id, Claim.version).where(any_of(Claim.id, ids))).all())
    statements: list[tuple[str, int]] = []

    def count(_conn, _cursor, statement, parameters, context, executemany):
        rows = len(parameters) if executemany else 1
        statements.append((" ".join(statement.split()[:3]), rows))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        with unit_of_work():
            mark_batch_sent(batch_id, actor=SYSTEM)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [s for s in statements if s[0] == "UPDATE claim SET"] == [("UPDATE claim SET", 1)]
    assert [s for s in statements if s[0] == "UPDATE batch_claim SET"] == [("UPDATE batch_claim SET", 1)]
    history = [rows for text, rows in statements if text == "INSERT INTO status_change"]
    assert sorted(history) == [1, 30]  # the batch's own row, and the 30 claims' rows in one executemany
    after = dict(db.session.execute(select(Claim.id, Claim.version).where(any_of(Claim.id, ids))).all())
    assert after == {i: v + 1 for i, v in versions.items()}
