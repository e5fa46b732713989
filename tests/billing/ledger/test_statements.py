"""Patient statements: amount due and aging against a hand computation from the raw ledger, the minimum balance
and no-statement flag, dunning by the age of the balance, one statement per responsible party, and history."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from billing.claims.models import Claim
from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.core.errors import Invalid
from billing.ledger.models import LedgerEntry
from billing.ledger.patient_balances import open_patient_balances, patient_balance
from billing.ledger.statement_models import DunningLevel, StatementRecord
from billing.ledger.statements import build_cycle, run_cycle, statement_for, statement_history
from billing.payments.operations import record_patient_payment
from tests.worlds.practice import DAY, SYSTEM
from tests.worlds.statements import CLAIM_CHARGE, STATEMENT_DAY, family_member, owed_claim, patient_pays

D = Decimal
ZERO = D("0.00")
TODAY = STATEMENT_DAY
#: Written out here: the patient-side sign of each entry kind, as a biller's hand ledger has them.
PATIENT_SIGN = {"patient_responsibility": 1, "patient_payment": -1, "patient_write_off": -1,
                "transfer_to_secondary": -1, "patient_refund": 1, "patient_credit_out": 1, "patient_credit_in": -1}


def _hand_aging(client_ids: list[int], today: date) -> tuple[D, list[D]]:
    """Independent: from the raw entries, each claim's patient balance in the bucket of the day the claim was
    first billed to the patient; (total owed, [current, 31-60, 61-90, 90+])."""
    entries = db.session.scalars(select(LedgerEntry).join(Claim, Claim.id == LedgerEntry.claim_id)
                                 .where(Claim.client_id.in_(client_ids)))
    owed: dict[int, D] = {}
    first_billed: dict[int, date] = {}
    for e in entries:
        owed[e.claim_id] = owed.get(e.claim_id, ZERO) + PATIENT_SIGN.get(e.kind.value, 0) * D(e.amount)
        if e.kind.value == "patient_responsibility":
            first_billed[e.claim_id] = min(first_billed.get(e.claim_id, e.posted_on), e.posted_on)
    buckets = [ZERO] * 4
    for claim_id, amount in owed.items():
        age = (today - first_billed[claim_id]).days
        buckets[0 if age <= 30 else 1 if age <= 60 else 2 if age <= 90 else 3] += amount
    return sum(owed.values(), ZERO), buckets


def _the_statement(client_id: int):
    return statement_for(client_id, today=TODAY)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(claims=st.lists(st.tuples(st.integers(min_value=1, max_value=170), st.integers(min_value=0, max_value=7348)),
                       min_size=1, max_size=4))
def test_aging_and_amount_due_equal_the_ledger_patient_balance_to_the_cent(world, claims):
    """Claims billed to the patient 1..170 days after DAY+1, each partly paid (0..73.48) a day later."""
    nested = db.session.begin_nested()
    try:
        member = family_member(world, parent=None, first=f"P{len(claims)}")
        for offset, cents in claims:
            billed_on = DAY + timedelta(days=offset)
            claim = owed_claim(member, billed_on=billed_on)
            if cents:
                patient_pays(claim, D(cents) / 100, on=billed_on + timedelta(days=1))
        owed, buckets = _hand_aging([member.client.id], TODAY)
        if owed <= ZERO:
            return
        statement = _the_statement(member.client.id)
        assert statement.amount_due == owed
        assert statement.amount_due == patient_balance(member.client.id)  # the ledger's own figure agrees
        assert list(statement.aging.buckets) == buckets
        assert statement.aging.total == owed
    finally:
        nested.rollback()


def test_each_bucket_takes_its_bounds_and_a_credit_claim_sits_in_its_own(world):
    """Billed 0, 30, 31, 60, 61, 90 and 91 days before the statement day and one day after it; one claim overpaid."""
    member = family_member(world, parent=None, first="Bounds")
    for age in (0, 30, 31, 60, 61, 90, 91, -1):
        owed_claim(member, billed_on=TODAY - timedelta(days=age))
    overpaid = owed_claim(member, billed_on=TODAY - timedelta(days=120))
    record_patient_payment(overpaid, CLAIM_CHARGE + D("20.00"), actor=SYSTEM, posted_on=TODAY - timedelta(days=110),
                           overpayment=True)
    owed, buckets = _hand_aging([member.client.id], TODAY)
    statement = _the_statement(member.client.id)
    assert list(statement.aging.buckets) == buckets == [CLAIM_CHARGE * 3, CLAIM_CHARGE * 2, CLAIM_CHARGE * 2,
                                                        CLAIM_CHARGE - D("20.00")]
    assert statement.amount_due == owed
    # From the oldest claim still owing: the overpaid claim, billed earlier and paid later, owes nothing.
    assert statement.age_days == 91


def test_siblings_share_one_statement_addressed_to_their_parent(world):
    older = family_member(world, parent="Dana Rivera", first="Ana")
    younger = family_member(world, parent="Dana  Rivera", first="Ben")  # the same parent, typed with two spaces
    elsewhere = family_member(world, parent="Dana Rivera", first="Cal", street="99 Oak Ave")  # another household
    for member in (older, younger, elsewhere):
        owed_claim(member, billed_on=DAY + timedelta(days=20))
    cycle = build_cycle(today=TODAY, minimum=ZERO)
    family = [s for s in cycle.statements if s.recipient.name.startswith("Dana")]
    assert len(family) == 2
    shared = next(s for s in family if len(s.clients) == 2)
    assert shared.recipient.name == "Dana Rivera"
    assert shared.recipient.lines == ("12 Elm St", "Springfield, IL 62701-1234")
    assert {c.client_id for c in shared.clients} == {older.client.id, younger.client.id}
    assert shared.amount_due == CLAIM_CHARGE * 2
    assert _the_statement(younger.client.id).number == shared.number


def test_an_adult_without_a_responsible_party_gets_their_own_statement(world):
    adult = family_member(world, parent=None, first="Eve")
    owed_claim(adult, billed_on=DAY + timedelta(days=20))
    statement = _the_statement(adult.client.id)
    assert statement.recipient.name == "Eve Rivera"
    assert statement.practice.name == world.company.legal_name
    assert statement.account == adult.client.account_number
    assert statement.due_on > statement.statement_on


def test_the_minimum_balance_and_the_no_statements_flag_are_honoured(world):
    small = family_member(world, parent=None, first="Small")
    claim = owed_claim(small, billed_on=DAY + timedelta(days=10))
    patient_pays(claim, CLAIM_CHARGE - D("4.99"), on=DAY + timedelta(days=11))  # 4.99 left
    flagged = family_member(world, parent=None, first="Flag", street="7 Pine Rd")
    owed_claim(flagged, billed_on=DAY + timedelta(days=10))
    flagged.client.no_statements = True
    due = family_member(world, parent=None, first="Due", street="8 Pine Rd")
    owed_claim(due, billed_on=DAY + timedelta(days=10))
    cycle = build_cycle(today=TODAY, minimum=D("5.00"))
    sent = {c.client_id for s in cycle.statements for c in s.clients}
    assert due.client.id in sent
    assert small.client.id not in sent
    assert flagged.client.id not in sent
    reasons = {s.clients[0]: s.reason for s in cycle.skipped}
    assert reasons[flagged.client.full_name] == "no statements flag"
    assert reasons[small.client.full_name].startswith("below the minimum balance")
    assert small.client.id in {c.client_id for s in build_cycle(today=TODAY, minimum=D("4.99")).statements
                               for c in s.clients}


def test_a_flagged_sibling_is_left_off_the_family_statement(world):
    ana = family_member(world, parent="Dana Rivera", first="Ana")
    ben = family_member(world, parent="Dana Rivera", first="Ben")
    owed_claim(ana, billed_on=DAY + timedelta(days=10))
    owed_claim(ben, billed_on=DAY + timedelta(days=10))
    ben.client.no_statements = True
    statement = _the_statement(ana.client.id)
    assert [c.client_id for c in statement.clients] == [ana.client.id]
    assert statement.amount_due == CLAIM_CHARGE


def _level_on(client_id: int, today: date) -> int | None:
    dunning = statement_for(client_id, today=today).dunning
    return dunning.min_days if dunning else None


def test_the_dunning_level_rises_with_age_and_resets_after_a_payment(world):
    billed_on = DAY + timedelta(days=10)
    member = family_member(world, parent=None)
    claim = owed_claim(member, billed_on=billed_on)
    owed_claim(member, billed_on=billed_on + timedelta(days=5))
    levels = sorted(db.session.scalars(select(DunningLevel.min_days)))
    assert levels == [0, 31, 61, 91]  # the migration's defaults
    ages = [0, 30, 31, 60, 61, 90, 91, 150]
    seen = [_level_on(member.client.id, billed_on + timedelta(days=a)) for a in ages]
    assert seen == [0, 0, 31, 31, 61, 61, 91, 91]
    paid_on = billed_on + timedelta(days=100)
    patient_pays(claim, D("10.00"), on=paid_on)
    assert _level_on(member.client.id, paid_on) == 0
    assert _level_on(member.client.id, paid_on + timedelta(days=40)) == 31
    assert statement_for(member.client.id, today=paid_on + timedelta(days=40)).age_days == 40


def test_an_admin_edited_level_prints_its_message(world):
    db.session.add(DunningLevel(min_days=15, message="A friendly reminder: your balance is due."))
    db.session.flush()
    member = family_member(world, parent=None)
    billed_on = DAY + timedelta(days=10)
    owed_claim(member, billed_on=billed_on)
    dunning = statement_for(member.client.id, today=billed_on + timedelta(days=20)).dunning
    assert dunning is not None
    assert dunning.message == "A friendly reminder: your balance is due."


def test_a_run_records_history_once_a_day_and_a_dry_run_records_nothing(world):
    ana = family_member(world, parent="Dana Rivera", first="Ana")
    ben = family_member(world, parent="Dana Rivera", first="Ben")
    owed_claim(ana, billed_on=DAY + timedelta(days=10))
    owed_claim(ben, billed_on=DAY + timedelta(days=12))
    dry = run_cycle(today=TODAY, actor=SYSTEM, minimum=ZERO, dry_run=True)
    assert dry.recorded == 0
    assert db.session.scalar(select(func.count(StatementRecord.id))) == 0
    first = run_cycle(today=TODAY, actor=SYSTEM, minimum=ZERO)
    again = run_cycle(today=TODAY, actor=SYSTEM, minimum=ZERO)
    assert (first.recorded, again.recorded) == (1, 0)
    [record] = statement_history(ana.client.id)
    assert (record.statement_on, record.client_balance, record.amount_due, record.addressed_to) == (
        TODAY, CLAIM_CHARGE, CLAIM_CHARGE * 2, "Dana Rivera")
    assert statement_history(ben.client.id)[0].number == record.number
    history = db.session.scalars(select(StatusChange).where(StatusChange.subject_type == "client",
                                                            StatusChange.action == AuditAction.STATEMENT_SENT))
    assert {h.subject_id for h in history} == {ana.client.id, ben.client.id}


def test_activity_lists_what_happened_since_the_last_statement(world):
    member = family_member(world, parent=None)
    first = owed_claim(member, billed_on=DAY + timedelta(days=10))
    run_cycle(today=DAY + timedelta(days=30), actor=SYSTEM, minimum=ZERO)
    patient_pays(first, D("20.00"), on=DAY + timedelta(days=40))
    statement = statement_for(member.client.id, today=DAY + timedelta(days=60))
    [part] = statement.clients
    assert part.previous_on == DAY + timedelta(days=30)
    assert [(a.posted_on, a.patient) for a in part.activity] == [(DAY + timedelta(days=40), D("-20.00"))]
    assert statement.amount_due == CLAIM_CHARGE - D("20.00")


def test_a_client_owing_nothing_has_no_statement_to_preview(world):
    member = family_member(world, parent=None)
    with pytest.raises(Invalid):
        statement_for(member.client.id, today=TODAY)
    with pytest.raises(Invalid):
        build_cycle(today=TODAY, minimum=D("-1"))


def test_open_balances_per_client_equal_the_hand_ledger_and_leave_out_the_settled(world):
    """open_patient_balances reads the kept claim balances; the figures are the raw entries' own sums."""
    owes = family_member(world, parent=None, first="Owes")
    for offset in (3, 9):
        owed_claim(owes, billed_on=DAY + timedelta(days=offset))
    patient_pays(db.session.scalars(select(Claim).where(Claim.client_id == owes.client.id)).first(), D("10.01"),
                 on=DAY + timedelta(days=12))
    settled = family_member(world, parent=None, first="Settled", street="5 Ash Ct")
    patient_pays(owed_claim(settled, billed_on=DAY + timedelta(days=4)), CLAIM_CHARGE, on=DAY + timedelta(days=5))
    balances = open_patient_balances()
    assert balances[owes.client.id] == _hand_aging([owes.client.id], TODAY)[0] == CLAIM_CHARGE * 2 - D("10.01")
    assert settled.client.id not in balances


def test_a_cycle_without_activity_reads_no_ledger_per_client(world, count_queries):
    """The Statements page's cycle: the same parties and amounts, and the same statements sent for 1 or 4 parties."""
    def cycle_queries(families: int) -> tuple[int, list[D]]:
        for n in range(families):
            member = family_member(world, parent=None, first=f"Q{families}{n}", street=f"{families}{n} Elm St")
            owed_claim(member, billed_on=DAY + timedelta(days=n + 1))
        counter = count_queries()
        cycle = build_cycle(today=TODAY, minimum=ZERO, activity=False)
        assert all(not part.activity for s in cycle.statements for part in s.clients)
        return counter.count, [s.amount_due for s in cycle.statements]

    one, _ = cycle_queries(1)
    four, amounts = cycle_queries(3)
    assert one == four
    assert amounts == [s.amount_due for s in build_cycle(today=TODAY, minimum=ZERO).statements]
