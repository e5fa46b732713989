"""The filing deadline the database keeps on each claim equals the rule, whatever writes the claims, adjudications
and payers, in whichever statements.

The expected deadlines come from this file's own record of what it wrote, through filing.filing_deadline (the
rule in Python), not from the triggers' SQL nor filing.last_adjudicated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, text, update

from billing.claims.models import Claim
from billing.core.db import db
from billing.core.derived import INDEX_LOOKUPS_ONLY
from billing.coverage.models import Payer, PayerType
from billing.ledger.models import Adjudication, EntrySource
from billing.payments import deadline_triggers
from billing.payments.deadline_triggers import FilingDeadlineIsDerived
from billing.payments.filing import filing_deadline
from billing.payments.invariants import filing_deadlines_kept
from tests.worlds import factories as f
from tests.worlds.practice import DAY

VERSIONS = Path(__file__).resolve().parents[3] / "migrations/versions"
MIGRATION = VERSIONS / "f6b45570d331_claim_filing_deadline.py"
#: Gave the adjudication trigger's function its planner settings (the body stayed f6b45570d331's).
INDEX_LOOKUPS = VERSIONS / "4c7f10ee4647_trigger_plans_that_stay_cheap.py"


@dataclass
class Record:
    """What the test wrote: per claim (service date, payer id, self-pay, fixes: the claims it corrects/resubmits),
    per payer (original days, corrected days, self-pay type), and the standing adjudications' (claim, day)."""

    claims: dict[int, tuple[date, int | None, bool, tuple[int, ...]]] = field(default_factory=dict)
    payers: dict[int, tuple[int, int, bool]] = field(default_factory=dict)
    answers: list[tuple[int, date]] = field(default_factory=list)
    reversible: list[int] = field(default_factory=list)

    def expected(self, claim_id: int) -> date | None:
        service, payer_id, self_pay, fixes = self.claims[claim_id]
        if payer_id is None or self_pay or self.payers[payer_id][2]:
            return None
        limit, corrected, _ = self.payers[payer_id]
        days = [day for cid, day in self.answers if cid in (claim_id, *fixes)]
        return filing_deadline(service, limit, corrected, max(days) if days else None)


_BASES: dict[int, tuple[Claim, Payer]] = {}


def _base(world) -> tuple[Claim, Payer]:
    """A claim to copy columns from and a second payer, made once per test (each example rolls back)."""
    if id(world) not in _BASES:
        _BASES.clear()
        _BASES[id(world)] = (world.claim(day=DAY), f.PayerFactory(company=world.company, filing_limit_days=365))
    return _BASES[id(world)]


def _claim_row(base: Claim, service: date, payer_id: int | None, self_pay: bool, fixes: int | None,
               resubmits: int | None) -> dict:
    return {"status": base.status, "client_id": base.client_id, "rendering_provider_id": base.rendering_provider_id,
            "location_id": base.location_id, "service_date": service, "place_of_service": base.place_of_service,
            "payer_id": payer_id, "self_pay": self_pay, "total_charge": Decimal("10.00"),
            "frequency_code": "7" if fixes else "1", "original_claim_id": fixes, "resubmission_of_id": resubmits}


def _answer_row(claim_id: int, day: date, reverses: int | None = None) -> dict:
    return {"claim_id": claim_id, "source": EntrySource.MANUAL, "status_code": "22" if reverses else "1",
            "charge": Decimal("10.00"), "paid": Decimal(0), "patient_responsibility": Decimal(0), "paid_on": day,
            "reverses_id": reverses}


offsets = st.integers(-200, 400)
steps = st.one_of(
    st.tuples(st.just("claim"), offsets, st.integers(0, 2), st.booleans(), st.integers(0, 30), st.integers(0, 2)),
    st.tuples(st.just("answer"), st.lists(st.tuples(st.integers(0, 30), offsets), min_size=1, max_size=4)),
    st.tuples(st.just("reverse"), st.integers(0, 30), offsets),
    st.tuples(st.just("payer"), st.integers(0, 1), st.integers(1, 400), st.integers(1, 400), st.booleans()),
    st.tuples(st.just("move"), st.integers(0, 30), offsets, st.integers(0, 2), st.booleans()),
)


def _apply(step: tuple, record: Record, base: Claim, payers: list[int]) -> None:
    ids = sorted(record.claims)

    def pick(i: int) -> int:
        return ids[i % len(ids)]

    kind = step[0]
    if kind == "claim":
        _, offset, payer_pick, self_pay, target, how = step
        payer_id = (None, *payers)[payer_pick]
        fixes = pick(target) if how == 1 else None
        resubmits = pick(target) if how == 2 else None
        new_id = db.session.execute(insert(Claim).returning(Claim.id), [_claim_row(
            base, DAY + timedelta(days=offset), payer_id, self_pay, fixes, resubmits)]).scalar_one()
        record.claims[new_id] = (DAY + timedelta(days=offset), payer_id, self_pay,
                                 tuple(x for x in (fixes, resubmits) if x))
    elif kind == "answer":  # several adjudications in one INSERT: one statement trigger on PostgreSQL
        rows = [_answer_row(pick(i), DAY + timedelta(days=offset)) for i, offset in step[1]]
        made = db.session.execute(insert(Adjudication).returning(Adjudication.id, Adjudication.claim_id,
                                                                  Adjudication.paid_on, sort_by_parameter_order=True),
                                  rows).all()
        record.answers.extend((cid, day) for _, cid, day in made)
        record.reversible.extend(aid for aid, _, _ in made)
    elif kind == "reverse" and record.reversible:  # a clawback, dated later: it starts no new window
        reverses = record.reversible.pop(step[1] % len(record.reversible))
        claim_id = db.session.scalar(select(Adjudication.claim_id).where(Adjudication.id == reverses))
        db.session.execute(insert(Adjudication), [_answer_row(claim_id, DAY + timedelta(days=step[2]), reverses)])
    elif kind == "payer":
        _, which, limit, corrected, self_pay_type = step
        payer_type = PayerType.SELF_PAY if self_pay_type else PayerType.COMMERCIAL
        db.session.execute(update(Payer).where(Payer.id == payers[which])
                           .values(filing_limit_days=limit, corrected_filing_days=corrected, payer_type=payer_type))
        record.payers[payers[which]] = (limit, corrected, self_pay_type)
    elif kind == "move":
        _, target, offset, payer_pick, self_pay = step
        claim_id, payer_id = pick(target), (None, *payers)[payer_pick]
        db.session.execute(update(Claim).where(Claim.id == claim_id).values(
            service_date=DAY + timedelta(days=offset), payer_id=payer_id, self_pay=self_pay))
        _, _, _, fixes = record.claims[claim_id]
        record.claims[claim_id] = (DAY + timedelta(days=offset), payer_id, self_pay, fixes)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(steps, min_size=1, max_size=25))
def test_any_claims_adjudications_and_payer_changes_leave_the_kept_deadlines_equal_to_the_rule(world, plan):
    base, other = _base(world)
    payers = [world.payer.id, other.id]
    with db.session.begin_nested() as savepoint:
        db.session.flush()
        record = Record()
        for payer_id in payers:
            payer = db.session.get(Payer, payer_id)
            record.payers[payer_id] = (payer.filing_limit_days, payer.corrected_filing_days,
                                       payer.payer_type is PayerType.SELF_PAY)
        for cid, service, payer_id, self_pay in db.session.execute(
                select(Claim.id, Claim.service_date, Claim.payer_id, Claim.self_pay)):
            record.claims[cid] = (service, payer_id, self_pay, ())
        for step in plan:
            _apply(step, record, base, payers)
        kept = {cid: day for cid, day in db.session.execute(select(Claim.id, Claim.filing_deadline))}
        assert kept == {cid: record.expected(cid) for cid in record.claims}
        assert filing_deadlines_kept() == []
        savepoint.rollback()


def test_ledger_check_names_a_deadline_edited_behind_the_triggers_back(world):
    claim = world.claim()
    db.session.execute(Claim.__table__.update().where(Claim.id == claim.id).values(filing_deadline=date(2001, 1, 1)))
    (violation,) = filing_deadlines_kept()
    assert violation.check == "filing-deadline"
    assert violation.subject == claim.number
    assert "01/01/2001" in violation.message


def test_the_application_cannot_write_a_deadline(world):
    claim = world.claim()
    claim.filing_deadline = DAY
    with pytest.raises(FilingDeadlineIsDerived):
        db.session.flush()


def _migration(path: Path) -> dict:
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102 - our own migration file
    return namespace


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_migrations_make_the_triggers_the_models_make(dialect):
    """The migrations freeze the triggers' SQL; schemas made from the models get the module's. They must agree."""
    first = _migration(MIGRATION)
    frozen = first["_postgresql"]() if dialect == "postgresql" else first["_sqlite"]()
    if dialect == "postgresql":  # 4c7f10ee4647 gave the adjudication function its settings (ALTER FUNCTION ... SET)
        settings = " ".join(f"SET {name} = {value}" for name, value in _migration(INDEX_LOOKUPS)["SETTINGS"].items())
        head = "CREATE OR REPLACE FUNCTION adjudication_filing_deadlines() RETURNS trigger LANGUAGE plpgsql"
        frozen = [f"{head} {settings}{s.removeprefix(head)}" if s.startswith(head) else s for s in frozen]
    built = (deadline_triggers.postgresql_statements() if dialect == "postgresql"
             else deadline_triggers.sqlite_statements())
    assert frozen == [statement for _, statement in built]


@pytest.mark.postgresql
def test_the_migrated_adjudication_function_plans_with_index_lookups_only():
    """The settings reach the function the migrations made (the database this suite runs on)."""
    config = db.session.scalar(text("SELECT proconfig FROM pg_proc WHERE proname = 'adjudication_filing_deadlines'"))
    assert sorted(config) == sorted(f"{name}={value}" for name, value in INDEX_LOOKUPS_ONLY.items())


def test_one_insert_of_adjudications_moves_the_answered_claims_and_their_corrections_and_nothing_else(world):
    """A chunk of an 835 written as one multi-row INSERT: every claim it answers, and each claim correcting or
    resubmitting one of them, gets the corrected window from its answer; a reversal in the same INSERT moves
    nothing; claims it does not touch keep theirs. Expected dates are worked out here from the payer's days."""
    base, _ = _base(world)
    limit, corrected = 30, 200
    db.session.execute(update(Payer).where(Payer.id == world.payer.id)
                       .values(filing_limit_days=limit, corrected_filing_days=corrected))

    def claim(offset: int, fixes: int | None = None, resubmits: int | None = None) -> int:
        return db.session.execute(insert(Claim).returning(Claim.id), [_claim_row(
            base, DAY + timedelta(days=offset), world.payer.id, False, fixes, resubmits)]).scalar_one()

    first, second, untouched, earlier = claim(0), claim(5), claim(10), claim(15)
    correction, resubmission = claim(40, fixes=first), claim(50, resubmits=second)
    earlier_answer = db.session.execute(insert(Adjudication).returning(Adjudication.id),
                                        [_answer_row(earlier, DAY + timedelta(days=20))]).scalar_one()
    answered = {first: DAY + timedelta(days=60), second: DAY + timedelta(days=90)}
    db.session.execute(insert(Adjudication), [
        _answer_row(first, answered[first]), _answer_row(second, answered[second]),
        _answer_row(earlier, DAY + timedelta(days=300), reverses=earlier_answer)])
    services = {cid: DAY + timedelta(days=d) for cid, d in ((first, 0), (second, 5), (untouched, 10), (earlier, 15),
                                                             (correction, 40), (resubmission, 50))}
    answers = {**answered, correction: answered[first], resubmission: answered[second],
               earlier: DAY + timedelta(days=20)}
    expected = {cid: service + timedelta(days=limit) for cid, service in services.items()}
    for cid, day in answers.items():
        expected[cid] = max(expected[cid], day + timedelta(days=corrected))
    kept = dict(db.session.execute(select(Claim.id, Claim.filing_deadline).where(Claim.id.in_(services))).all())
    assert kept == expected
    assert kept[first] == DAY + timedelta(days=260)  # the corrected window, not the 30-day one
    assert kept[untouched] == DAY + timedelta(days=40)
    assert filing_deadlines_kept() == []
