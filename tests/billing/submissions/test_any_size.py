"""Submissions of any size: over a thousand claims go through generation, the rules, sending and posting without
any statement binding more than a thousand parameters, in files no larger than the clearinghouse takes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.ledger.models import EntryKind, LedgerEntry
from billing.submissions import operations
from billing.submissions.models import BatchStatus
from billing.submissions.operations import create_batches, mark_batch_sent
from billing.submissions.settings import clearinghouse_problems
from tests.worlds.bulk_claims import copies_of
from tests.worlds.parameter_guard import parameter_guard
from tests.worlds.practice import SYSTEM

COPIES = 1_100


def _charges(ids: list[int]) -> tuple[int, object]:
    return db.session.execute(
        select(func.count(), func.sum(LedgerEntry.amount))
        .where(any_of(LedgerEntry.claim_id, ids), LedgerEntry.kind == EntryKind.CHARGE)
    ).one()  # fmt: skip


def test_over_a_thousand_claims_are_batched_within_the_file_limit_and_sent_set_based(world, monkeypatch):
    monkeypatch.setattr(operations, "PARALLEL_FROM_CLAIMS", 300)  # each file validated by a worker process
    world.clearinghouse.max_claims_per_file = 400
    original = world.ready_claim()
    ids = [original.id, *copies_of(original, COPIES)]
    versions = dict(db.session.execute(select(Claim.id, Claim.version).where(any_of(Claim.id, ids))).all())
    with parameter_guard() as bound:
        batches = create_batches(actor=SYSTEM)
    statements = []
    for batch in batches:
        with parameter_guard() as sent:
            mark_batch_sent(batch.id, actor=SYSTEM)
            db.session.flush()
        statements.append(sent.statements)
    assert bound.statements > 0
    assert statements[0] == statements[-1] < 100  # marking sent: as many statements for 400 claims as for 301
    assert [b.claim_count for b in batches] == [400, 400, 301]
    assert sorted(e.claim_id for b in batches for e in b.entries) == sorted(ids)
    assert {b.status for b in batches} == {BatchStatus.SENT}
    db.session.expire_all()
    rows = db.session.execute(select(Claim.id, Claim.status, Claim.version).where(any_of(Claim.id, ids))).all()
    assert {status for _, status, _ in rows} == {ClaimStatus.SUBMITTED}
    assert all(version > versions[claim_id] for claim_id, _, version in rows)
    submitted = db.session.scalar(
        select(func.count()).select_from(StatusChange)
        .where(StatusChange.subject_type == "claim", StatusChange.action == AuditAction.CLAIM_SUBMITTED,
               any_of(StatusChange.subject_id, ids))
    )  # fmt: skip
    assert submitted == len(ids)
    count, total = _charges(ids)
    lines = len(original.lines)
    assert count == lines * len(ids)
    assert total == original.total_charge * len(ids)


def test_the_guard_fails_a_statement_binding_too_many_parameters(world):
    original = world.ready_claim()
    ids = [original.id, *range(10**9, 10**9 + 1_200)]
    with pytest.raises(AssertionError, match="1201 parameters"), parameter_guard():
        db.session.execute(select(Claim.id).where(Claim.id.in_(ids))).all()
    with parameter_guard() as bound:
        found = db.session.scalars(select(Claim.id).where(any_of(Claim.id, ids))).all()
    assert found == [original.id]
    assert bound.largest == 1
    others = db.session.scalars(select(Claim.id).where(~any_of(Claim.id, ids))).all()
    assert original.id not in others


@pytest.mark.parametrize(("limit", "refused"), [(0, True), (1, False), (5000, False), (50_000, False), (50_001, True)])
def test_a_clearinghouse_file_cap_is_a_whole_number_from_one(limit, refused):
    fields = {p.field for p in clearinghouse_problems({"max_claims_per_file": limit})}
    assert ("max_claims_per_file" in fields) is refused
