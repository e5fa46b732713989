"""Ledger entries are never edited or deleted: the ORM refuses, bulk statements are refused, the database refuses."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from billing.core.db import db
from billing.ledger.guards import LedgerIsAppendOnly
from billing.ledger.models import EntryKind, EntrySource, LedgerEntry
from billing.ledger.operations import reverse_entry
from billing.payments.posting import post_adjudication
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import full_payment
from tests.worlds.practice import SYSTEM


@pytest.fixture
def entry(world) -> LedgerEntry:
    claim = submitted_claim(world)
    post_adjudication(claim, full_payment(claim), actor=SYSTEM, source=EntrySource.MANUAL)
    db.session.flush()
    return db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.INSURANCE_PAYMENT)).one()


def test_orm_edit_is_refused(entry):
    entry.amount = entry.amount + 1
    with pytest.raises(LedgerIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_orm_delete_is_refused(entry):
    db.session.delete(entry)
    with pytest.raises(LedgerIsAppendOnly):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", ["update", "delete"])
def test_bulk_statements_are_refused(entry, statement):
    query = (update(LedgerEntry).values(amount=1) if statement == "update" else delete(LedgerEntry))
    with pytest.raises(LedgerIsAppendOnly):
        db.session.execute(query.where(LedgerEntry.id == entry.id))


@pytest.mark.parametrize("sql", ["UPDATE ledger_entry SET amount = 1 WHERE id = :id",
                                 "DELETE FROM ledger_entry WHERE id = :id"])
def test_database_refuses_raw_sql(entry, sql):
    nested = db.session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(sql), {"id": entry.id})
    nested.rollback()
    assert db.session.get(LedgerEntry, entry.id) is not None


def test_an_entry_is_reversed_once(entry):
    reverse_entry(entry, actor=SYSTEM, reason="clawback letter", posted_on=date(2026, 4, 2))
    db.session.flush()
    from billing.core.errors import BillingError

    with pytest.raises(BillingError, match="already reversed"):
        reverse_entry(entry, actor=SYSTEM, reason="again", posted_on=date(2026, 4, 2))


def test_database_refuses_a_second_reversal(entry):
    """Even bypassing the operation, the unique constraint on reverses_id holds."""
    reverse_entry(entry, actor=SYSTEM, reason="first", posted_on=date(2026, 4, 2))
    db.session.flush()
    nested = db.session.begin_nested()
    db.session.add(LedgerEntry(claim_id=entry.claim_id, claim_line_id=entry.claim_line_id, kind=entry.kind,
                               amount=-entry.amount, posted_on=date(2026, 4, 3), actor="x",
                               source=EntrySource.MANUAL, reverses_id=entry.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    nested.rollback()


def test_zero_amounts_are_refused_by_the_database(entry):
    nested = db.session.begin_nested()
    db.session.add(LedgerEntry(claim_id=entry.claim_id, kind=EntryKind.WRITE_OFF, amount=0,
                               posted_on=date(2026, 4, 3), actor="x", source=EntrySource.MANUAL))
    with pytest.raises(IntegrityError):
        db.session.flush()
    nested.rollback()
