"""The receivables the database keeps per service day, location and payer equal the claims' balances worked out
here from the posting rules' signs, whatever entries are posted (one statement or many) and if a claim moves to
another day, location or payer afterwards; claims are counted as owing exactly while their balance is not zero.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, update

from billing.claims.models import Claim
from billing.core.db import db
from billing.ledger.models import ArDayTotal, EntryKind, EntrySource, LedgerEntry
from billing.payments.invariants import ar_day_totals_kept
from tests.worlds.practice import DAY
from tests.worlds.summaries import summary_setting

D = Decimal
#: kind -> (insurance sign, patient sign), from DOMAIN.md's posting rules (as in test_claim_balances.py).
SIGNS = {
    "charge": (1, 0), "insurance_payment": (-1, 0), "contractual": (-1, 0), "patient_responsibility": (-1, 1),
    "patient_payment": (0, -1), "write_off": (-1, 0), "insurance_refund": (1, 0), "patient_refund": (0, 1),
}
CLAIM = Claim.__table__
def _setting(world) -> tuple[list[int], list[int], list[int]]:
    s = summary_setting(world)
    return s.claims, s.locations, s.payers


def _kept() -> dict[tuple, tuple]:
    rows = db.session.execute(select(ArDayTotal).execution_options(populate_existing=True)).scalars()
    cents = D("0.01")
    return {(r.service_date, r.location_id, r.payer_id): (D(str(r.insurance)).quantize(cents),
                                                          D(str(r.patient)).quantize(cents),
                                                          r.insurance_claims, r.patient_claims)
            for r in rows if r.insurance or r.patient or r.insurance_claims or r.patient_claims}


def _expected(entries: list[tuple[int, str, Decimal]]) -> dict[tuple, tuple]:
    balances: dict[int, list[Decimal]] = {}
    for claim_id, kind, amount in entries:
        ins, pat = SIGNS[kind]
        owed = balances.setdefault(claim_id, [D("0"), D("0")])
        owed[0] += ins * amount
        owed[1] += pat * amount
    totals: dict[tuple, list] = {}
    for claim in db.session.execute(select(Claim).execution_options(populate_existing=True)).scalars():
        if claim.id not in balances:
            continue
        ins, pat = balances[claim.id]
        row = totals.setdefault((claim.service_date, claim.location_id, claim.payer_id or 0),
                                [D("0"), D("0"), 0, 0])
        row[0] += ins
        row[1] += pat
        row[2] += ins != 0
        row[3] += pat != 0
    return {key: tuple(row) for key, row in totals.items() if any(row)}


amounts = st.decimals(min_value=D("0.01"), max_value=D("500.00"), places=2)
entry = st.tuples(st.integers(0, 2), st.sampled_from(sorted(SIGNS)), amounts)
move = st.tuples(st.integers(0, 2), st.sampled_from(["service_date", "location_id", "payer_id"]), st.integers(0, 2))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(st.lists(entry, min_size=1, max_size=5), move), min_size=1, max_size=6))
def test_entries_and_moved_claims_leave_the_receivables_equal_to_the_balances(world, steps):
    claims, locations, payers = _setting(world)
    posted: list[tuple[int, str, Decimal]] = []
    with db.session.begin_nested() as savepoint:
        for step in steps:
            if isinstance(step, list):  # one INSERT statement of one to five entries
                db.session.execute(insert(LedgerEntry), [
                    {"claim_id": claims[i], "kind": EntryKind(kind), "amount": amount, "posted_on": DAY,
                     "actor": "test", "source": EntrySource.SYSTEM} for i, kind, amount in step])
                posted += [(claims[i], kind, amount) for i, kind, amount in step]
            else:
                which, field, choice = step
                value = {"service_date": DAY + timedelta(days=choice), "location_id": locations[choice % 2],
                         "payer_id": payers[choice] if choice < 2 else None}[field]
                db.session.execute(update(CLAIM).where(CLAIM.c.id == claims[which]).values({field: value}))
        assert _kept() == _expected(posted)
        assert ar_day_totals_kept() == []
        savepoint.rollback()


def test_a_balance_paid_to_zero_stops_counting_its_claim(world):
    claims, _, _ = _setting(world)
    charge = {"claim_id": claims[0], "kind": EntryKind.CHARGE, "amount": D("80.00"), "posted_on": DAY,
              "actor": "test", "source": EntrySource.SYSTEM}
    db.session.execute(insert(LedgerEntry), [charge])
    key = (DAY, world.location.id, world.payer.id)
    assert _kept()[key] == (D("80.00"), D("0.00"), 1, 0)
    db.session.execute(insert(LedgerEntry), [{**charge, "kind": EntryKind.INSURANCE_PAYMENT, "amount": D("80.00")}])
    assert key not in _kept()


def test_ledger_check_names_receivables_edited_by_hand(world):
    claims, _, _ = _setting(world)
    db.session.execute(insert(LedgerEntry), [{"claim_id": claims[1], "kind": EntryKind.CHARGE, "amount": D("5.00"),
                                              "posted_on": DAY, "actor": "t", "source": EntrySource.SYSTEM}])
    db.session.connection().execute(ArDayTotal.__table__.update().values(insurance_claims=7))
    (violation,) = ar_day_totals_kept()
    assert violation.check == "ar-day"
    assert "on 7" in violation.message
