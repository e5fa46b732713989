"""Post a check: one payer's check across several claims, all or nothing, once, and to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from billing.core.db import db
from billing.core.errors import ValidationFailed
from billing.core.money import sum_money
from billing.ledger.models import Adjudication, EntryKind, LedgerEntry, PaymentMethod
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.checks import (
    CheckHeader,
    CheckLine,
    apply_unapplied,
    checks_with_unapplied,
    post_check,
    total_problems,
)
from billing.payments.models import PostedCheck
from tests.worlds import factories as f
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import PAID_ON
from tests.worlds.practice import SYSTEM

D = Decimal
CHARGE = D("73.48")  # one line of a submitted_claim: 4 units x 18.37


def line(claim, paid: str, *, copay: str = "0.00", leave_open: bool = False) -> CheckLine:
    """The claim's one line paid `paid`, a PR-3 copay, the rest contractual CO-45 (unless left open)."""
    rest = CHARGE - D(paid) - D(copay)
    adjustments = () if leave_open else (Adjustment("CO", "45", rest),)
    if D(copay):
        adjustments += (Adjustment("PR", "3", D(copay)),)
    return CheckLine(
        claim.number, ClaimPosting(PAID_ON, (LinePosting(1, D(paid), adjustments, leave_open=leave_open),))
    )


def header(world, amount: str, number: str = "40017") -> CheckHeader:
    return CheckHeader(world.payer.id, number, PAID_ON, D(amount), PaymentMethod.CHECK)


def insurance_paid(claim_ids: list[int]) -> Decimal:
    """Insurance payments in the ledger for these claims, summed here (not through Balances)."""
    entries = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.claim_id.in_(claim_ids), LedgerEntry.kind == EntryKind.INSURANCE_PAYMENT)
    )
    return sum_money(e.amount for e in entries)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def claims(world):
    return [submitted_claim(world) for _ in range(3)]


def test_a_check_posts_on_every_claim_and_the_ledger_holds_its_amount(world, claims):
    lines = [line(claims[0], "58.78"), line(claims[1], "40.00", copay="10.00"), line(claims[2], "0.00")]
    done = post_check(header(world, "98.78"), lines, actor=SYSTEM)
    db.session.flush()
    assert not done.already_posted
    assert len(done.results) == 3
    assert insurance_paid([c.id for c in claims]) == D("58.78") + D("40.00")
    check = done.check
    assert (check.amount, check.applied, check.unapplied) == (D("98.78"), D("98.78"), D("0.00"))
    payments = db.session.scalars(select(Adjudication).where(Adjudication.posted_check_id == check.id)).all()
    assert {(a.check_number, a.check_date, a.payment_method) for a in payments} == {
        ("40017", PAID_ON, PaymentMethod.CHECK)
    }
    assert sorted(a.claim_id for a in payments) == sorted(c.id for c in claims)


def test_the_same_check_posted_twice_posts_once(world, claims):
    lines = [line(claims[0], "58.78"), line(claims[1], "20.00")]
    post_check(header(world, "78.78"), lines, actor=SYSTEM)
    db.session.flush()
    entries, adjudications = count(LedgerEntry), count(Adjudication)
    again = post_check(header(world, "78.78"), lines, actor=SYSTEM)
    db.session.flush()
    assert again.already_posted
    assert "nothing was posted again" in again.summary()
    assert (count(LedgerEntry), count(Adjudication), count(PostedCheck)) == (entries, adjudications, 1)
    assert insurance_paid([claims[0].id, claims[1].id]) == D("78.78")


def test_lines_short_of_the_check_are_refused_unless_the_remainder_is_kept(world, claims):
    lines = [line(claims[0], "58.78")]
    with pytest.raises(ValidationFailed) as refused:
        post_check(header(world, "100.00"), lines, actor=SYSTEM)
    assert refused.value.problems[0].field == "unapplied"
    assert "$41.22 is not applied" in refused.value.message
    assert count(PostedCheck) == 0
    assert insurance_paid([claims[0].id]) == D("0")


def test_lines_above_the_check_are_refused(world, claims):
    with pytest.raises(ValidationFailed, match=r"more than the check's \$50.00") as refused:
        post_check(header(world, "50.00"), [line(claims[0], "58.78")], actor=SYSTEM, keep_unapplied=True)
    assert refused.value.problems[0].field == "amount"
    assert count(PostedCheck) == 0


def test_a_kept_remainder_stays_listed_until_it_is_applied(world, claims):
    done = post_check(
        header(world, "120.00"),
        [line(claims[0], "58.78")],
        actor=SYSTEM,
        keep_unapplied=True,
        note="second page of the EOB missing",
    )
    db.session.flush()
    check = done.check
    assert check.unapplied == D("120.00") - D("58.78")
    assert check in checks_with_unapplied()
    apply_unapplied(check, [line(claims[1], "40.00"), line(claims[2], "21.22")], actor=SYSTEM)
    db.session.flush()
    assert (check.applied, check.unapplied) == (D("120.00"), D("0.00"))
    assert check not in checks_with_unapplied()
    assert insurance_paid([c.id for c in claims]) == D("120.00")


def test_applying_more_than_the_remainder_is_refused(world, claims):
    check = post_check(header(world, "60.00"), [line(claims[0], "58.78")], actor=SYSTEM, keep_unapplied=True).check
    with pytest.raises(ValidationFailed, match=r"more than the \$1.22 unapplied"):
        apply_unapplied(check, [line(claims[1], "1.23")], actor=SYSTEM)


def test_one_bad_line_refuses_the_whole_check_naming_the_line(world, claims):
    bad = CheckLine(claims[1].number, ClaimPosting(PAID_ON, (LinePosting(1, D("40.00"), ()),)))  # 33.48 unexplained
    with pytest.raises(ValidationFailed) as refused:
        post_check(header(world, "98.78"), [line(claims[0], "58.78"), bad], actor=SYSTEM)
    problem = refused.value.problems[0]
    assert problem.field == "lines[2].lines"
    assert f"Check line 2 ({claims[1].number})" in problem.message
    assert "is not paid + adjustments" in problem.message
    assert all(p.field.startswith("lines[2]") for p in refused.value.problems)


def test_a_claim_of_another_payer_or_unknown_is_refused_by_line(world, claims):
    other = f.PayerFactory(company=world.company)
    check = CheckHeader(other.id, "77", PAID_ON, D("58.78"))
    with pytest.raises(ValidationFailed) as refused:
        post_check(check, [line(claims[0], "58.78"), CheckLine("C-999999", line(claims[0], "0").posting)], actor=SYSTEM)
    fields = [p.field for p in refused.value.problems]
    assert fields == ["lines[1].claim", "lines[2].claim"]
    assert f"is billed to {world.payer.name}" in refused.value.message


def test_a_claim_twice_on_one_check_is_refused(world, claims):
    with pytest.raises(ValidationFailed, match="already on check line 1"):
        post_check(
            header(world, "80.00"),
            [line(claims[0], "40.00", leave_open=True), line(claims[0], "40.00", leave_open=True)],
            actor=SYSTEM,
        )


def test_a_claim_outside_the_scope_is_refused_as_unknown(world, claims):
    with pytest.raises(ValidationFailed, match="in the chosen scope"):
        post_check(header(world, "58.78"), [line(claims[0], "58.78")], actor=SYSTEM, may_see=lambda claim: False)


ON_DB = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
cents = st.integers(min_value=0, max_value=7348)


@ON_DB
@given(paid=st.lists(cents, min_size=1, max_size=3), extra=st.integers(min_value=0, max_value=50_000))
def test_applied_plus_unapplied_is_the_check_amount_to_the_cent(world, paid, extra):
    nested = db.session.begin_nested()
    try:
        claims = [submitted_claim(world) for _ in paid]
        amounts = [D(p) / 100 for p in paid]
        check_amount = sum(amounts, D("0")) + D(extra) / 100
        lines = [line(c, str(a), leave_open=True) for c, a in zip(claims, amounts, strict=True)]
        check = post_check(
            header(world, str(check_amount), number=f"P{len(paid)}-{extra}"),
            lines,
            actor=SYSTEM,
            keep_unapplied=extra > 0,
        ).check
        db.session.flush()
        assert check.applied + check.unapplied == check_amount
        assert check.unapplied == D(extra) / 100
        assert insurance_paid([c.id for c in claims]) == check.applied
    finally:
        nested.rollback()


@given(
    paid=st.lists(cents, min_size=1, max_size=6), amount=st.integers(min_value=0, max_value=50_000), keep=st.booleans()
)
def test_the_total_is_refused_exactly_when_the_cents_disagree(paid, amount, keep):
    lines = [
        CheckLine(f"C-{n:06d}", ClaimPosting(PAID_ON, (LinePosting(1, D(p) / 100, ()),)))
        for n, p in enumerate(paid, start=1)
    ]
    problems = total_problems(D(amount) / 100, lines, keep_unapplied=keep)
    applied = sum(paid)  # in cents, independent of the Decimal sum under test
    if applied > amount:
        assert [p.field for p in problems] == ["amount"]
    elif applied < amount and not keep:
        assert [p.field for p in problems] == ["unapplied"]
    else:
        assert problems == []
