"""The claim status machine: every pair of statuses, the opening move, and append-only history."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import delete, exc, select, text, update

from billing.claims.models import Claim
from billing.claims.statuses import ALLOWED_TRANSITIONS, ClaimStatus, TransitionNotAllowed, open_claim, transition
from billing.core.audit import AuditAction, HistoryIsAppendOnly, StatusChange
from billing.core.db import db
from billing.core.errors import BillingError
from tests.worlds.claims import ACTION_TO, history, walk_to
from tests.worlds.practice import SYSTEM

PAIRS = list(itertools.product(ClaimStatus, repeat=2))
ALLOWED = [(a, b) for a, b in PAIRS if b in ALLOWED_TRANSITIONS[a]]
REFUSED = [(a, b) for a, b in PAIRS if b not in ALLOWED_TRANSITIONS[a]]


def _ids(pair: tuple[ClaimStatus, ClaimStatus]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


def test_the_table_is_the_one_in_the_issue():
    """Ready, Held, Submitted, Rejected, Paid, Denied, Voided; Voided is final."""
    table = {start: set(targets) for start, targets in ALLOWED_TRANSITIONS.items()}
    assert table == {
        ClaimStatus.READY: {ClaimStatus.HELD, ClaimStatus.SUBMITTED, ClaimStatus.VOIDED},
        ClaimStatus.HELD: {ClaimStatus.READY, ClaimStatus.VOIDED},
        ClaimStatus.SUBMITTED: {ClaimStatus.PAID, ClaimStatus.DENIED, ClaimStatus.REJECTED, ClaimStatus.VOIDED},
        # rejected before adjudication: fixed and resent (Ready), held, or voided with nothing sent to the payer
        ClaimStatus.REJECTED: {ClaimStatus.READY, ClaimStatus.HELD, ClaimStatus.VOIDED},
        ClaimStatus.DENIED: {ClaimStatus.READY, ClaimStatus.VOIDED},
        ClaimStatus.PAID: {ClaimStatus.SUBMITTED, ClaimStatus.VOIDED},  # reopened by a clawback
        ClaimStatus.VOIDED: set(),
    }
    assert len(ALLOWED) == 16
    assert len(REFUSED) == 33


@pytest.mark.parametrize(("start", "target"), ALLOWED, ids=map(_ids, ALLOWED))
def test_allowed_transition_moves_the_claim_and_writes_one_history_row(world, start, target):
    claim = walk_to(world.claim(), start)
    rows_before = history(claim)

    transition(claim, target, action=ACTION_TO[target], actor=SYSTEM, reason="matrix")
    db.session.flush()

    assert claim.status is target
    rows = history(claim)
    assert len(rows) == len(rows_before) + 1
    row = rows[-1]
    assert (row.subject_type, row.subject_id) == ("claim", claim.id)
    assert (row.from_status, row.to_status) == (start.value, target.value)
    assert row.action is ACTION_TO[target]
    assert row.actor == SYSTEM.name
    assert row.reason == "matrix"
    assert row.at is not None
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status is target


@pytest.mark.parametrize(("start", "target"), REFUSED, ids=map(_ids, REFUSED))
def test_refused_transition_names_both_statuses_and_changes_nothing(world, start, target):
    claim = walk_to(world.claim(), start)
    rows_before = history(claim)
    version = claim.version

    with pytest.raises(TransitionNotAllowed) as refused:
        transition(claim, target, action=ACTION_TO[target], actor=SYSTEM, reason="matrix")
    db.session.flush()

    message = refused.value.message
    assert f"is {start.label}; it cannot become {target.label}" in message
    assert claim.number in message
    assert isinstance(refused.value, BillingError)
    assert claim.status is start
    assert claim.version == version
    assert len(history(claim)) == len(rows_before)


def test_a_voided_claim_says_it_can_become_nothing(world):
    claim = walk_to(world.claim(), ClaimStatus.VOIDED)
    with pytest.raises(TransitionNotAllowed, match=r"from Voided it can become: nothing"):
        transition(claim, ClaimStatus.READY, action=AuditAction.CLAIM_RELEASED, actor=SYSTEM, reason=None)


@pytest.mark.parametrize("status", [ClaimStatus.READY, ClaimStatus.HELD])
def test_open_claim_gives_a_new_claim_ready_or_held(status):
    claim = Claim()
    open_claim(claim, status)
    assert claim.status is status


@pytest.mark.parametrize("status", [ClaimStatus.SUBMITTED, ClaimStatus.PAID, ClaimStatus.DENIED, ClaimStatus.VOIDED])
def test_open_claim_refuses_any_other_first_status(status):
    claim = Claim()
    with pytest.raises(BillingError, match="A new claim starts in Ready or Held"):
        open_claim(claim, status)
    assert claim.status is None


def test_open_claim_refuses_a_claim_that_already_has_a_status(world):
    claim = world.claim()
    with pytest.raises(BillingError, match="A new claim starts in Ready or Held"):
        open_claim(claim, ClaimStatus.HELD)
    assert claim.status is ClaimStatus.READY


def test_a_new_claim_history_starts_with_its_creation(world):
    claim = world.claim()
    [row] = history(claim)
    assert row.action is AuditAction.CLAIM_CREATED
    assert (row.from_status, row.to_status) == (None, "ready")


# History is append-only: ORM, bulk ORM statements and raw SQL are each refused.


def test_editing_a_history_row_through_the_orm_is_refused(world):
    row = history(world.claim())[0]
    row.reason = "rewritten"
    with pytest.raises(HistoryIsAppendOnly, match="append-only"):
        db.session.flush()
    db.session.expunge(row)
    assert db.session.scalar(select(StatusChange.reason).where(StatusChange.id == row.id)) is None


def test_deleting_a_history_row_through_the_orm_is_refused(world):
    row = history(world.claim())[0]
    db.session.delete(row)
    with pytest.raises(HistoryIsAppendOnly):
        db.session.flush()
    db.session.expunge(row)
    assert db.session.get(StatusChange, row.id) is not None


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(lambda: update(StatusChange).values(reason="rewritten"), id="update"),
        pytest.param(lambda: delete(StatusChange), id="delete"),
        pytest.param(
            lambda: update(StatusChange).where(StatusChange.subject_type == "claim").values(actor="x"),
            id="update-where",
        ),
    ],
)
def test_bulk_orm_statements_on_history_are_refused(world, statement):
    claim = world.claim()
    rows = len(history(claim))
    with pytest.raises(HistoryIsAppendOnly):
        db.session.execute(statement())
    assert len(history(claim)) == rows
    assert {r.reason for r in history(claim)} == {None}


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE status_change SET reason = 'rewritten' WHERE id = :id",
        "DELETE FROM status_change WHERE id = :id",
    ],
    ids=["update", "delete"],
)
def test_raw_sql_on_history_is_refused_by_the_database(world, sql):
    row = history(world.claim())[0]
    db.session.expunge(row)
    # A failed statement aborts a PostgreSQL transaction; the savepoint keeps the test's own going.
    with pytest.raises(exc.DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(text(sql), {"id": row.id})
    kept = db.session.get(StatusChange, row.id)
    assert kept is not None
    assert kept.reason is None
