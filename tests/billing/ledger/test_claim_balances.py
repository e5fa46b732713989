"""The per-claim balances the database keeps beside the ledger equal the ledger, whatever inserts the entries.

The expected figures come from this file's own table of signs (the posting rules: which balance each kind of entry
moves), not from billing.ledger.models.EFFECTS nor the trigger's SQL.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from billing.core.db import db
from billing.core.derived import DerivedTable
from billing.ledger.models import ClaimBalance, EntryKind, EntrySource, LedgerEntry
from billing.org.queries import resolve_scope
from billing.payments.invariants import claim_balances_kept
from billing.people.models import Role
from billing.worklist import billing_work
from tests.worlds.claims import submitted_claim
from tests.worlds.practice import DAY

D = Decimal
#: kind -> (insurance sign, patient sign), from DOMAIN.md's posting rules.
SIGNS = {
    "charge": (1, 0), "insurance_payment": (-1, 0), "contractual": (-1, 0), "other_adjustment": (-1, 0),
    "patient_responsibility": (-1, 1), "patient_payment": (0, -1), "write_off": (-1, 0),
    "patient_write_off": (0, -1), "transfer_to_secondary": (0, -1), "insurance_refund": (1, 0),
    "patient_refund": (0, 1), "patient_credit_out": (0, 1), "patient_credit_in": (0, -1),
}


def _row(claim_id: int, kind: str, amount: Decimal) -> dict:
    return {"claim_id": claim_id, "kind": EntryKind(kind), "amount": amount, "posted_on": DAY,
            "actor": "test", "source": EntrySource.SYSTEM}


def _kept(claim_id: int) -> tuple[Decimal, Decimal]:
    kept = db.session.get(ClaimBalance, claim_id, populate_existing=True)
    return (D(str(kept.insurance)).quantize(D("0.01")), D(str(kept.patient)).quantize(D("0.01")))


def test_every_kind_moves_the_kept_balance_as_the_posting_rules_say(world):
    claim = submitted_claim(world)  # its charge of 73.48 is already posted
    expected = [D("73.48"), D("0")]
    for kind, (ins, pat) in SIGNS.items():
        if kind == "charge":
            continue
        db.session.execute(insert(LedgerEntry), [_row(claim.id, kind, D("1.25"))])
        expected = [expected[0] + ins * D("1.25"), expected[1] + pat * D("1.25")]
        assert _kept(claim.id) == tuple(expected), kind
    assert claim_balances_kept() == []


_CLAIMS: dict[int, list[int]] = {}


def _three_claims(world) -> list[int]:
    """Made once per test (hypothesis runs the body many times with one world); each example's entries roll back."""
    if id(world) not in _CLAIMS:
        _CLAIMS.clear()
        _CLAIMS[id(world)] = [world.claim(day=DAY + timedelta(days=i)).id for i in range(3)]
    return _CLAIMS[id(world)]


amounts = st.decimals(min_value=D("-999.99"), max_value=D("999.99"), places=2).filter(lambda d: d != 0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.tuples(st.sampled_from(sorted(SIGNS)), amounts, st.integers(0, 2)), min_size=1,
                        max_size=30),
       one_statement=st.booleans())
def test_any_entries_in_any_statements_leave_the_kept_balances_equal_to_the_ledger(world, entries, one_statement):
    claims = _three_claims(world)
    rows = [_row(claims[i], kind, amount) for kind, amount, i in entries]
    with db.session.begin_nested() as savepoint:
        if one_statement:
            db.session.execute(insert(LedgerEntry), rows)
        else:
            for row in rows:
                db.session.execute(insert(LedgerEntry), [row])
        for claim_id in claims:
            ins = sum((SIGNS[k][0] * a for k, a, i in entries if claims[i] == claim_id), D("0"))
            pat = sum((SIGNS[k][1] * a for k, a, i in entries if claims[i] == claim_id), D("0"))
            if db.session.get(ClaimBalance, claim_id) is not None or ins or pat:
                assert _kept(claim_id) == (ins, pat)
        assert claim_balances_kept() == []
        savepoint.rollback()


def test_the_application_cannot_write_a_balance(world):
    claim = submitted_claim(world)
    with db.session.begin_nested() as savepoint:
        db.session.get(ClaimBalance, claim.id).insurance = D("0")
        with pytest.raises(DerivedTable):
            db.session.flush()
        savepoint.rollback()
    with pytest.raises(DerivedTable):
        db.session.execute(insert(ClaimBalance).values(claim_id=claim.id, insurance=0, patient=0))


def test_ledger_check_names_a_balance_edited_behind_the_ledgers_back(world):
    claim = submitted_claim(world)
    db.session.connection().execute(ClaimBalance.__table__.update().where(ClaimBalance.claim_id == claim.id)
                                    .values(insurance=D("1.00")))
    (violation,) = claim_balances_kept()
    assert violation.check == "claim-balance"
    assert violation.subject == claim.number
    assert "$73.48" in violation.message


def test_front_page_receivables_read_the_kept_balances(world, client, login):
    claim = submitted_claim(world)
    other = submitted_claim(world, day=claim.service_date.replace(day=1))
    work = billing_work(resolve_scope(world.company.id, None, None))
    assert work.insurance_ar == D("73.48") * 2
    assert db.session.scalar(select(ClaimBalance.insurance).where(ClaimBalance.claim_id == other.id)) is not None
    login(Role.BILLER)
    assert client.get("/admin/").status_code == 200
