"""Every dashboard figure equals a query written here from the tables themselves (raw SQL and a sign table of our
own, not the service's conditions), on two practices' springs in the ledger; the other practice never leaks in."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from billing.core.db import db
from billing.core.errors import Invalid
from billing.dashboard.figures import dashboard_figures
from billing.org.queries import Scope
from billing.payments.filing import near_deadline
from tests.billing.dashboard.worlds import FROM, TO, TODAY, dashboard_world
from tests.worlds.practice import build_world

D = Decimal
#: What each ledger kind does to what the payer owes, written out here independently of billing.ledger.models.
PAYER_SIGN = {
    "charge": 1,
    "insurance_payment": -1,
    "contractual": -1,
    "other_adjustment": -1,
    "patient_responsibility": -1,
    "write_off": -1,
    "insurance_refund": 1,
}


def _rows(sql: str, **params):
    return db.session.execute(text(sql), params).all()


def _money(value) -> Decimal:
    return D(str(value)).quantize(D("0.01"))


def _claims_of(practice_id: int) -> set[int]:
    return {
        r[0]
        for r in _rows(
            "SELECT c.id FROM claim c JOIN location l ON l.id = c.location_id WHERE l.practice_id = :p", p=practice_id
        )
    }


def _payer_owes(claims: set[int]) -> dict[int, Decimal]:
    owed: dict[int, Decimal] = defaultdict(lambda: D(0))
    for claim_id, kind, amount in _rows("SELECT claim_id, kind, amount FROM ledger_entry"):
        if claim_id in claims:
            owed[claim_id] += PAYER_SIGN.get(kind, 0) * _money(amount)
    return {c: v for c, v in owed.items() if v != 0}


def _age_label(service: date) -> str:
    age = (TODAY - service).days
    return (
        "0-30" if age <= 30 else "31-60" if age <= 60 else "61-90" if age <= 90 else "91-120" if age <= 120 else "120+"
    )


@pytest.fixture
def worlds():
    here, there = dashboard_world(build_world()), dashboard_world(build_world())
    return here, there


def _scope(world) -> Scope:
    location = world.base.location
    return Scope(location.practice.company_id, location.practice_id, None)


def test_receivables_by_age_and_payer_equal_the_ledger(worlds):
    here, _ = worlds
    claims = _claims_of(here.base.location.practice_id)
    owed = _payer_owes(claims)
    dates = dict(_rows("SELECT id, service_date FROM claim"))
    figures = dashboard_figures(_scope(here), FROM, TO, TODAY)

    expected_ages: dict[str, list] = defaultdict(lambda: [0, D(0)])
    for claim_id, amount in owed.items():
        service = dates[claim_id] if isinstance(dates[claim_id], date) else date.fromisoformat(dates[claim_id])
        expected_ages[_age_label(service)][0] += 1
        expected_ages[_age_label(service)][1] += amount
    got = {s.label: [s.count, s.amount] for s in figures.ar_by_age if s.count}
    assert got == {k: v for k, v in expected_ages.items()}
    assert figures.ar_total == sum(owed.values(), D(0))
    assert figures.ar_claims == len(owed) > 0
    assert {s.key: s.amount for s in figures.ar_by_payer} == {str(here.base.payer.id): figures.ar_total}


def _posted_by_month(claims: set[int], first: date, last: date):
    """Charges and collections per month posted between two days, and the claims behind each, from the rows."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(lambda: D(0))
    counted: dict[tuple[str, str], set[int]] = defaultdict(set)
    for claim_id, kind, amount, posted in _rows("SELECT claim_id, kind, amount, posted_on FROM ledger_entry"):
        posted = posted if isinstance(posted, date) else date.fromisoformat(posted)
        if claim_id not in claims or not first <= posted <= last:
            continue
        side = (
            "charges"
            if kind == "charge"
            else "collections"
            if kind in ("insurance_payment", "patient_payment")
            else None
        )
        if side:
            sums[(f"{posted:%Y-%m}", side)] += _money(amount)
            counted[(f"{posted:%Y-%m}", side)].add(claim_id)
    return sums, counted


def test_money_by_month_equals_the_ledger_posted_in_the_range(worlds):
    here, _ = worlds
    sums, counted = _posted_by_month(_claims_of(here.base.location.practice_id), FROM, TO)
    figures = dashboard_figures(_scope(here), FROM, TO, TODAY)
    assert [m.month for m in figures.months] == [f"2026-{n:02d}" for n in range(1, 7)]
    for month in figures.months:
        assert month.charges == sums[(month.month, "charges")]
        assert month.collections == sums[(month.month, "collections")]
        assert month.charged_claims == len(counted[(month.month, "charges")])
        assert month.paid_claims == len(counted[(month.month, "collections")])
    assert sum(m.charges for m in figures.months) > 0
    assert sum(m.collections for m in figures.months) > 0
    charges = sum((m.charges for m in figures.months), D(0))
    assert figures.days_in_ar == (figures.ar_total / (charges / ((TO - FROM).days + 1))).quantize(D("0.1"))


def test_a_partly_covered_month_counts_only_its_days_whether_or_not_entries_lie_outside(worlds):
    """A month the range covers in part is read from the month's kept total only when nothing was posted in it
    outside the range; each cut below is checked against the rows, both when entries lie outside it and not."""
    here, _ = worlds
    claims = _claims_of(here.base.location.practice_id)
    posted = sorted({p if isinstance(p, date) else date.fromisoformat(p)
                     for (p,) in _rows("SELECT posted_on FROM ledger_entry")})
    cuts = {(FROM, day) for day in posted} | {(day, TO) for day in posted}
    cuts |= {(day, day) for day in posted} | {(day + timedelta(days=1), TO) for day in posted}
    cuts |= {(FROM, day - timedelta(days=1)) for day in posted}
    assert any(a.month == b.month and not (a.day == 1 and (b + timedelta(days=1)).day == 1) for a, b in cuts)
    for first, last in sorted(cuts):
        if first > last:
            continue
        sums, counted = _posted_by_month(claims, first, last)
        for month in dashboard_figures(_scope(here), first, last, TODAY).months:
            assert (month.charges, month.collections) == (sums[(month.month, "charges")],
                                                          sums[(month.month, "collections")]), (first, last)
            assert (month.charged_claims, month.paid_claims) == (len(counted[(month.month, "charges")]),
                                                                 len(counted[(month.month, "collections")]))


def test_claim_figures_equal_the_claims_in_the_range(worlds):
    here, _ = worlds
    practice = here.base.location.practice_id
    figures = dashboard_figures(_scope(here), FROM, TO, TODAY)
    in_range = (
        "FROM claim c JOIN location l ON l.id = c.location_id WHERE l.practice_id = :p "
        "AND c.service_date BETWEEN :a AND :b"
    )
    by_status = {
        s: (n, _money(t))
        for s, n, t in _rows(
            f"SELECT c.status, COUNT(*), SUM(c.total_charge) {in_range} GROUP BY c.status", p=practice, a=FROM, b=TO
        )
    }
    assert {s.key: (s.count, s.amount) for s in figures.by_status if s.count} == by_status
    assert {"paid", "denied", "held"} <= set(by_status)

    [(adjudicated, denied)] = _rows(
        f"SELECT COUNT(*), SUM(CASE WHEN c.status = 'denied' THEN 1 ELSE 0 END) {in_range} "
        "AND c.status IN ('paid', 'denied')",
        p=practice,
        a=FROM,
        b=TO,
    )
    [row] = figures.denials_by_payer
    assert (row.adjudicated, row.denied) == (adjudicated, denied)
    assert denied >= 1
    assert row.rate == (D(100) * denied / adjudicated).quantize(D("0.1"))

    carcs = _rows(
        f"SELECT e.group_code || '-' || e.reason_code, COUNT(DISTINCT e.claim_id), SUM(e.amount) "  # noqa: S608 - fixed SQL, bound values
        f"FROM ledger_entry e WHERE e.group_code IS NOT NULL AND e.reason_code IS NOT NULL AND e.claim_id IN "
        f"(SELECT c.id {in_range}) GROUP BY e.group_code, e.reason_code",
        p=practice,
        a=FROM,
        b=TO,
    )
    assert {s.label: (s.count, s.amount) for s in figures.top_carcs} == {c: (n, _money(t)) for c, n, t in carcs}
    assert "CO-45" in {s.label for s in figures.top_carcs}


def test_first_pass_acceptance_reads_each_claims_first_answer(worlds):
    here, _ = worlds
    figures = dashboard_figures(_scope(here), FROM, TO, TODAY)
    firsts = _rows(
        "SELECT a.claim_id, a.outcome FROM claim_acknowledgment a WHERE a.id IN "
        "(SELECT MIN(id) FROM claim_acknowledgment WHERE claim_id IS NOT NULL "
        "AND outcome IN ('accepted', 'accepted_errors', 'rejected') GROUP BY claim_id)"
    )
    mine = _claims_of(here.base.location.practice_id)
    outcomes = [outcome for claim_id, outcome in firsts if claim_id in mine]
    accepted = sum(1 for o in outcomes if o != "rejected")
    assert (figures.first_pass_sent, figures.first_pass_accepted) == (len(outcomes), accepted) == (3, 2)
    assert figures.first_pass_rate == D("66.7")


def test_failed_charges_and_filing_deadlines(worlds):
    here, _ = worlds
    figures = dashboard_figures(_scope(here), FROM, TO, TODAY)
    mine = _claims_of(here.base.location.practice_id)
    open_rows = [
        (rule, claim)
        for rule, claim in _rows(
            "SELECT rule_id, claim_id FROM failed_charge WHERE resolved_at IS NULL "
            "AND kind IN ('failure', 'error', 'hold', 'delay')"
        )
        if claim in mine
    ]
    by_rule: dict[str, int] = defaultdict(int)
    for rule, _claim in open_rows:
        by_rule[str(rule)] += 1
    assert {s.key: s.count for s in figures.failed_by_rule} == by_rule
    assert by_rule
    # "This week" is the Filing deadlines page at 7 days (its own tests cover the deadlines themselves).
    week = near_deadline(_scope(here), within_days=7, today=TODAY)
    assert figures.filing_this_week.count == len(week) > 0
    assert figures.filing_this_week.amount == sum((r.total_charge for r in week), D(0))
    early = dashboard_figures(_scope(here), FROM, TO, here.held.service_date)
    assert early.filing_this_week.count == 0  # on the day of service every deadline is months away


def test_the_date_range_narrows_claim_figures_and_months(worlds):
    here, _ = worlds
    march = dashboard_figures(_scope(here), date(2026, 3, 1), date(2026, 3, 31), TODAY)
    april = dashboard_figures(_scope(here), date(2026, 4, 1), date(2026, 4, 30), TODAY)
    assert sum(s.count for s in march.by_status) == 5  # every claim of the world was served in March
    assert sum(s.count for s in april.by_status) == 0
    assert april.first_pass_sent == 0
    assert not april.top_carcs
    assert [m.month for m in april.months] == ["2026-04"]
    assert april.months[0].collections > 0
    assert march.months[0].collections == 0
    assert march.ar_total == april.ar_total  # A/R is as it stands today, whatever the range


def test_one_practice_never_sees_anothers_figures(worlds):
    here, there = worlds
    mine, theirs = dashboard_figures(_scope(here), FROM, TO, TODAY), dashboard_figures(_scope(there), FROM, TO, TODAY)
    everything = dashboard_figures(Scope(), FROM, TO, TODAY)
    assert everything.ar_total == mine.ar_total + theirs.ar_total
    assert sum(s.count for s in everything.by_status) == sum(s.count for s in mine.by_status) * 2
    assert {s.key for s in mine.ar_by_payer} == {str(here.base.payer.id)}
    assert everything.first_pass_sent == mine.first_pass_sent + theirs.first_pass_sent


def test_a_backwards_or_huge_range_is_refused_naming_the_field(worlds):
    here, _ = worlds
    with pytest.raises(Invalid, match="From"):
        dashboard_figures(_scope(here), TO, FROM, TODAY)
    with pytest.raises(Invalid, match="To"):
        dashboard_figures(_scope(here), date(2000, 1, 1), TO, TODAY)


def test_deadlines_this_week_match_the_filing_page_on_every_day_of_a_year(worlds):
    """The SQL count equals filing.near_deadline's rows (its own tests cover the rule) whichever day is today:
    before, at and after each claim's original and corrected windows."""
    here, _ = worlds
    for offset in range(0, 400, 6):
        today = here.held.service_date + timedelta(days=offset)
        week = near_deadline(_scope(here), within_days=7, today=today)
        figure = dashboard_figures(_scope(here), FROM, TO, today).filing_this_week
        assert (figure.count, figure.amount) == (len(week), sum((r.total_charge for r in week), D(0))), today
