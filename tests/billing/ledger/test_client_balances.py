"""What the database keeps per client on the patient side equals their claims' patient balances worked out here
from the posting rules' signs, whatever entries are posted (one statement or many) and if a claim is given to
another client afterwards; the statements' open balances read it and follow."""

from __future__ import annotations

from decimal import Decimal
from importlib import import_module

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, update

from billing.claims.models import Claim
from billing.core.db import db
from billing.ledger import client_balances
from billing.ledger.models import ClientBalance, EntryKind, EntrySource, LedgerEntry
from billing.ledger.patient_balances import open_patient_balances
from billing.payments.invariants import check_ledger, client_balance_parties_kept, client_balances_kept
from billing.people.models import Client
from tests.worlds import factories as f
from tests.worlds.practice import DAY
from tests.worlds.summaries import summary_setting

D = Decimal
#: kind -> patient sign, from DOMAIN.md's posting rules; kinds without a patient effect count 0.
PATIENT_SIGN = {
    "charge": 0, "insurance_payment": 0, "contractual": 0, "write_off": 0, "insurance_refund": 0,
    "patient_responsibility": 1, "patient_payment": -1, "patient_write_off": -1, "transfer_to_secondary": -1,
    "patient_refund": 1,
}
CLAIM = Claim.__table__
_OTHER: dict[int, int] = {}


def _clients(world) -> list[int]:
    """The world's client and a second one of its location (made once per world: hypothesis reuses the world)."""
    if id(world) not in _OTHER:
        _OTHER.clear()
        other = f.ClientFactory(location=world.location)
        db.session.flush()
        _OTHER[id(world)] = other.id
    return [world.client.id, _OTHER[id(world)]]


def _kept() -> dict[int, Decimal]:
    rows = db.session.execute(select(ClientBalance).execution_options(populate_existing=True)).scalars()
    return {r.client_id: D(str(r.patient)).quantize(D("0.01")) for r in rows if r.patient}


def _expected(entries: list[tuple[int, str, Decimal]]) -> dict[int, Decimal]:
    owed: dict[int, Decimal] = {}
    for claim_id, kind, amount in entries:
        owed[claim_id] = owed.get(claim_id, D("0")) + PATIENT_SIGN[kind] * amount
    by_client: dict[int, Decimal] = {}
    for claim in db.session.execute(select(Claim).execution_options(populate_existing=True)).scalars():
        if claim.id in owed:
            by_client[claim.client_id] = by_client.get(claim.client_id, D("0")) + owed[claim.id]
    return {client_id: amount for client_id, amount in by_client.items() if amount}


amounts = st.decimals(min_value=D("0.01"), max_value=D("500.00"), places=2)
entry = st.tuples(st.integers(0, 2), st.sampled_from(sorted(PATIENT_SIGN)), amounts)
move = st.tuples(st.integers(0, 2), st.integers(0, 1))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(st.lists(entry, min_size=1, max_size=5), move), min_size=1, max_size=6))
def test_entries_and_moved_claims_leave_each_client_owing_their_claims_balances(world, steps):
    claims, clients = summary_setting(world).claims, _clients(world)
    posted: list[tuple[int, str, Decimal]] = []
    with db.session.begin_nested() as savepoint:
        for step in steps:
            if isinstance(step, list):  # one INSERT statement of one to five entries
                db.session.execute(insert(LedgerEntry), [
                    {"claim_id": claims[i], "kind": EntryKind(kind), "amount": amount, "posted_on": DAY,
                     "actor": "test", "source": EntrySource.SYSTEM} for i, kind, amount in step])
                posted += [(claims[i], kind, amount) for i, kind, amount in step]
            else:
                which, client = step
                db.session.execute(update(CLAIM).where(CLAIM.c.id == claims[which])
                                   .values(client_id=clients[client]))
        expected = _expected(posted)
        assert _kept() == expected
        assert open_patient_balances() == expected
        assert client_balances_kept() == []
        assert client_balance_parties_kept() == []
        savepoint.rollback()


def test_open_balances_keep_to_the_clients_asked_for(world):
    claims, clients = summary_setting(world).claims, _clients(world)
    db.session.execute(update(CLAIM).where(CLAIM.c.id == claims[2]).values(client_id=clients[1]))
    db.session.execute(insert(LedgerEntry), [
        {"claim_id": cid, "kind": EntryKind.PATIENT_RESPONSIBILITY, "amount": amount, "posted_on": DAY,
         "actor": "test", "source": EntrySource.SYSTEM}
        for cid, amount in ((claims[0], D("12.50")), (claims[1], D("0.25")), (claims[2], D("40.00")))])
    assert open_patient_balances() == {clients[0]: D("12.75"), clients[1]: D("40.00")}
    assert open_patient_balances([Client.id == clients[1]]) == {clients[1]: D("40.00")}


def test_ledger_check_names_a_client_balance_edited_by_hand(world):
    claims = summary_setting(world).claims
    db.session.execute(insert(LedgerEntry), [{"claim_id": claims[1], "kind": EntryKind.PATIENT_RESPONSIBILITY,
                                              "amount": D("5.00"), "posted_on": DAY, "actor": "t",
                                              "source": EntrySource.SYSTEM}])
    db.session.connection().execute(ClientBalance.__table__.update().values(patient=D("7.00")))
    (violation,) = client_balances_kept()
    assert (violation.check, violation.subject) == ("client-balance", f"client {world.client.id}")
    assert "$5.00" in violation.message
    assert "$7.00" in violation.message
    assert "client-balance" in {v.check for v in check_ledger()}


def test_the_triggers_of_schemas_made_from_the_models_are_the_migrations_own():
    """create_all schemas get their triggers from the module; the migrations froze the same SQL. A change to either
    needs a new migration that replaces the triggers (and this test then compares with that one)."""
    made = import_module("migrations.versions.9e4b7c2d5f18_client_balance")
    replaced = import_module("migrations.versions.c3f7a1e9d5b8_client_balance_party")
    for name in ("sqlite_entry_trigger", "postgresql_entry_function", "sqlite_claim_trigger",
                 "postgresql_claim_function", "sqlite_client_trigger", "postgresql_client_function",
                 "postgresql_client_trigger", "backfill"):
        assert getattr(client_balances, name)() == getattr(replaced, name.upper()), name
    for name in ("postgresql_entry_trigger", "postgresql_claim_trigger"):  # unchanged since: they call by name
        assert getattr(client_balances, name)() == getattr(made, name.upper()), name


def test_ledger_check_names_a_balance_row_whose_copy_of_the_client_was_edited_by_hand(world):
    claims = summary_setting(world).claims
    db.session.execute(insert(LedgerEntry), [{"claim_id": claims[0], "kind": EntryKind.PATIENT_RESPONSIBILITY,
                                              "amount": D("5.00"), "posted_on": DAY, "actor": "t",
                                              "source": EntrySource.SYSTEM}])
    assert client_balance_parties_kept() == []
    db.session.connection().execute(ClientBalance.__table__.update().values(statement_name="Someone Else"))
    (violation,) = client_balance_parties_kept()
    assert (violation.check, violation.subject) == ("client-balance-party", f"client {world.client.id}")
    assert "client-balance-party" in {v.check for v in check_ledger()}


def test_a_client_saved_again_keeps_its_balance_rows_copy(world):
    claims = summary_setting(world).claims
    db.session.execute(insert(LedgerEntry), [{"claim_id": claims[0], "kind": EntryKind.PATIENT_RESPONSIBILITY,
                                              "amount": D("5.00"), "posted_on": DAY, "actor": "t",
                                              "source": EntrySource.SYSTEM}])
    world.client.responsible_party_name = "Pat Example"
    world.client.no_statements = True
    db.session.flush()
    row = db.session.execute(select(ClientBalance).execution_options(populate_existing=True)).scalar_one()
    assert (row.statement_name, row.no_statements, row.statement_party) == (
        "pat example", True, world.client.statement_party)  # the name as the party key normalizes it
    assert client_balance_parties_kept() == []
