"""The ledger's references checked by triggers (billing/ledger/entry_references.py), as foreign keys would: an entry
naming a claim, claim line, adjudication or payer that is not there is refused, alone or among good rows of one
statement, and nothing of the statement is written; a claim, line or payer that an entry names cannot be deleted,
one that no entry names can; `flask ledger check` names an entry whose row went missing behind the triggers' back;
the migration froze the module's SQL."""

from __future__ import annotations

from decimal import Decimal
from importlib import import_module

import psycopg
import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError

from billing.claims.models import Claim, ClaimLine
from billing.core.audit import Actor
from billing.core.db import db
from billing.coverage.models import Payer
from billing.ledger import entry_references
from billing.ledger.models import ClaimBalance, EntryKind, EntrySource, LedgerEntry
from billing.ledger.rows import entry_values, write_rows
from billing.payments.invariants import check_ledger, ledger_references_kept
from tests.worlds import factories as f
from tests.worlds.practice import DAY
from tests.worlds.summaries import summary_setting

MISSING = 999_999_999
#: An 835's COPY goes through the driver itself on PostgreSQL, so its refusal is psycopg's own integrity error.
REFUSALS = (IntegrityError, psycopg.IntegrityError)


def _entry(claim_id: int, *, line_id: int | None = None, payer_id: int | None = None, **extra: object) -> dict:
    return entry_values(claim_id=claim_id, line_id=line_id, kind=EntryKind.CHARGE, amount=Decimal("5.00"),
                        actor=Actor.system("test"), posted_on=DAY, source=EntrySource.SYSTEM, payer_id=payer_id,
                        **extra)


def _entries() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


def _write(rows: list[dict]) -> None:
    """As an 835 writes them: one COPY on PostgreSQL, one executemany on SQLite."""
    write_rows(db.session.connection(), LedgerEntry.__table__, rows)


@pytest.mark.parametrize("column", ["claim_id", "line_id", "adjudication_id", "payer_id"])
def test_an_entry_naming_a_missing_row_is_refused_with_the_good_rows_of_its_statement(world, column):
    claims = summary_setting(world).claims
    line = db.session.scalars(select(ClaimLine).where(ClaimLine.claim_id == claims[2])).first()
    before = _entries()
    good = [_entry(claims[0], payer_id=world.payer.id), _entry(claims[1])]
    named = {"claim_id": claims[2], "line_id": line.id, "payer_id": world.payer.id} | {column: MISSING}
    with pytest.raises(REFUSALS, match=rf"ledger_entry.*{'claim_line_id' if column == 'line_id' else column}"), \
            db.session.begin_nested():
        _write([*good, _entry(**named)])
    assert _entries() == before
    _write([*good, _entry(claims[2], line_id=line.id, payer_id=world.payer.id)])  # the same rows, all named rows there
    assert _entries() == before + 3


def test_rows_named_by_an_entry_cannot_be_deleted_and_rows_no_entry_names_can(world):
    claims = summary_setting(world).claims
    line = db.session.scalars(select(ClaimLine).where(ClaimLine.claim_id == claims[0])).first()
    named_payer, free_payer = f.PayerFactory(company=world.company), f.PayerFactory(company=world.company)
    db.session.flush()
    _write([_entry(claims[0], line_id=line.id, payer_id=named_payer.id)])
    db.session.execute(text("DELETE FROM claim_balance WHERE claim_id = :id"), {"id": claims[0]})  # its other guard
    for statement in (delete(ClaimLine).where(ClaimLine.id == line.id), delete(Payer).where(Payer.id == named_payer.id),
                      delete(Claim).where(Claim.id == claims[0])):
        with pytest.raises(IntegrityError, match="ledger_entry"), db.session.begin_nested():
            db.session.execute(statement)
    db.session.execute(delete(Payer).where(Payer.id == free_payer.id))
    assert db.session.get(Payer, free_payer.id, populate_existing=True) is None
    assert db.session.get(ClaimLine, line.id) is not None


def test_the_ledger_check_names_an_entry_whose_row_went_missing(world):
    claims = summary_setting(world).claims
    _write([_entry(claims[0], payer_id=world.payer.id)])
    assert ledger_references_kept() == []
    orphan = f.PayerFactory(company=world.company)
    db.session.flush()
    entry = _entry(claims[1], payer_id=orphan.id)
    _write([entry])
    # Behind the triggers' back, as a hand edit would: the payer's row goes with the delete guard switched off.
    _without_delete_guard(lambda: db.session.execute(text("DELETE FROM payer WHERE id = :id"), {"id": orphan.id}))
    (violation,) = ledger_references_kept()
    assert violation.check == "ledger-references"
    assert f"payer_id names {orphan.id}" in violation.message
    assert "ledger-references" in {v.check for v in check_ledger()}


def _without_delete_guard(action) -> None:
    connection = db.session.connection()
    name = "payer_delete_keeps_ledger_payer_id"
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"ALTER TABLE payer DISABLE TRIGGER {name}"))
        action()
        connection.execute(text(f"ALTER TABLE payer ENABLE TRIGGER {name}"))
        return
    (sql,) = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": name}).one()
    connection.execute(text(f"DROP TRIGGER {name}"))
    action()
    connection.execute(text(sql))


def test_the_triggers_of_schemas_made_from_the_models_are_the_migrations_own():
    migration = import_module("migrations.versions.d5b9e3a7c1f2_ledger_references_by_statement_triggers")
    assert [s for _, s in entry_references.sqlite_statements()] == migration.SQLITE_TRIGGERS
    assert [s for _, s in entry_references.postgresql_statements()] == migration.POSTGRESQL_STATEMENTS


def test_the_balance_of_a_claim_follows_entries_written_with_their_references_checked(world):
    """The check runs beside the kept balances' triggers and leaves them their sums."""
    claims = summary_setting(world).claims
    kept = db.session.get(ClaimBalance, claims[0])
    before = kept.insurance if kept else Decimal("0.00")
    _write([_entry(claims[0]), _entry(claims[0])])
    assert db.session.get(ClaimBalance, claims[0], populate_existing=True).insurance == before + Decimal("10.00")
