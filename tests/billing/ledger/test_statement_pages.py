"""The Statements page's cycle, a page at a time: every page together is build_cycle's whole cycle (the same
statements in the same order, the same count, total and skipped parties), and a page costs the same number of
queries however many parties the cycle holds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from billing.claims.models import Claim
from billing.core.db import db
from billing.ledger.models import ClientBalance
from billing.ledger.statement_pages import cycle_outline
from billing.ledger.statements import build_cycle
from billing.org.queries import Scope, by_location
from billing.payments.operations import record_patient_payment
from billing.people.models import Client
from tests.worlds import factories as f
from tests.worlds.practice import DAY, SYSTEM
from tests.worlds.statements import CLAIM_CHARGE, STATEMENT_DAY, family_member, owed_claim, patient_pays

D = Decimal
TODAY = STATEMENT_DAY


def _owes(member, *, days: int = 10, leaves: str | None = None):
    claim = owed_claim(member, billed_on=DAY + timedelta(days=days))
    if leaves is not None:
        patient_pays(claim, CLAIM_CHARGE - D(leaves), on=DAY + timedelta(days=days + 1))
    return member


@pytest.fixture
def parties(world):
    """Siblings under one parent at one address and the same parent name at another; adults on their own; a
    flagged sibling; a flagged adult; a party below the minimum; one in credit; names that sort apart from their
    account numbers."""
    made = [
        _owes(family_member(world, parent="Dana Rivera", first="Ana")),
        _owes(family_member(world, parent="Dana Rivera", first="Ben"), days=40),
        _owes(family_member(world, parent="Dana Rivera", first="Cy", street="99 Oak Ave"), days=70),
        _owes(family_member(world, parent="Zed Adams", first="Dee", street="1 Ash St")),
        _owes(family_member(world, parent=None, first="Eve", street="2 Ash St"), leaves="3.00"),
        _owes(family_member(world, parent=None, first="Flo", street="3 Ash St"), leaves="0.00"),
        _owes(family_member(world, parent="aaron Young", first="Gus", street="4 Ash St"), days=100),
        _owes(family_member(world, parent="Mia Stone", first="Hal", street="5 Ash St")),
        _owes(family_member(world, parent="Mia Stone", first="Ivy", street="5 Ash St"), days=20),
        _owes(family_member(world, parent=None, first="Jo", street="6 Ash St")),
        _owes(family_member(world, parent="Lee Park", first="Lu", street="8 Ash St")),
        _owes(family_member(world, parent="Lee Park", first="Mo", street="9 Ash St")),
        _owes(family_member(world, parent="Lee Park", first="Ned", street="8 Ash St")),
    ]
    made[8].client.no_statements = True  # Ivy: her sister's statement goes out without her
    made[9].client.no_statements = True  # Jo: no statement at all
    # Lu: her brother Ned's statement goes out without her, so it sorts after Mo's (the same name elsewhere), whose
    # account comes after hers but before Ned's.
    made[10].client.no_statements = True
    credit = family_member(world, parent=None, first="Kim", street="7 Ash St")
    record_patient_payment(owed_claim(credit, billed_on=DAY + timedelta(days=5)), CLAIM_CHARGE + D("20.00"),
                           actor=SYSTEM, posted_on=DAY + timedelta(days=6), overpayment=True)
    db.session.flush()
    return made


@pytest.mark.parametrize("size", [1, 2, 3, 7, 100])
@pytest.mark.parametrize("minimum", [D("0.00"), D("5.00")])
def test_the_pages_together_are_the_whole_cycle(parties, size, minimum):
    whole = build_cycle(today=TODAY, minimum=minimum, activity=False)
    outline = cycle_outline(today=TODAY, minimum=minimum)
    paged = [s for first in range(0, outline.count + size, size) for s in outline.statements(first, size)]
    assert [s.as_dict() for s in paged] == [s.as_dict() for s in whole.statements]
    assert (outline.count, outline.total_due) == (len(whole.statements), whole.total_due)
    assert [s.as_dict() for s in outline.skipped(100)] == [s.as_dict() for s in whole.skipped]
    assert outline.skipped(1) == outline.skipped(100)[:1]
    assert len(whole.statements) >= 5  # the fixture really gives pages to turn
    assert {s.reason.split(" ")[0] for s in whole.skipped} >= {"no", *(["below"] if minimum else [])}


def test_a_scope_narrows_the_outline_as_it_narrows_the_cycle(parties, world):
    chosen = [member.client.id for member in parties[:4]]
    whole = build_cycle(today=TODAY, minimum=D("0.00"), where=[Client.id.in_(chosen)], activity=False)
    outline = cycle_outline(today=TODAY, minimum=D("0.00"), where=[ClientBalance.client_id.in_(chosen)])
    assert [s.as_dict() for s in outline.statements(0, 100)] == [s.as_dict() for s in whole.statements]
    assert outline.count == len(whole.statements) == 3  # the Riveras at two addresses, and the Adamses


def test_clients_changed_after_they_owe_are_outlined_as_the_cycle_sees_them(parties, world):
    """The outline reads the balance rows' copies of the clients' columns: a client moved to another location,
    flagged, unflagged or renumbered after the balance was made is where the cycle puts it."""
    elsewhere = f.LocationFactory(practice=world.location.practice)
    parties[0].client.location = elsewhere  # Ana leaves her brother's location
    parties[9].client.no_statements = False  # Jo is sent statements again
    parties[3].client.no_statements = True  # Dee is not
    parties[12].client.account_number = "0" + parties[12].client.account_number  # Ned now sorts first
    parties[4].client.address_line1 = "1 Ash St"  # Eve moves in with the Adamses (a new party key)
    db.session.flush()
    for location in (world.location, elsewhere):
        scope = Scope(location.practice.company_id, location.practice_id, location.id)
        whole = build_cycle(today=TODAY, minimum=D("0.00"), where=[by_location(Client.location_id, scope)],
                            activity=False)
        outline = cycle_outline(today=TODAY, minimum=D("0.00"), where=[by_location(ClientBalance.location_id, scope)])
        assert [s.as_dict() for s in outline.statements(0, 100)] == [s.as_dict() for s in whole.statements]
        assert (outline.count, outline.total_due) == (len(whole.statements), whole.total_due)
        assert [s.as_dict() for s in outline.skipped(100)] == [s.as_dict() for s in whole.skipped]
    assert len(cycle_outline(today=TODAY, minimum=D("0.00"),
                             where=[ClientBalance.location_id == elsewhere.id]).statements(0, 100)) == 1


def test_a_page_costs_the_same_queries_for_few_parties_or_many(world, count_queries):
    def page_queries(families: int) -> int:
        for n in range(families):
            _owes(family_member(world, parent=None, first=f"P{families}{n}", street=f"{families}{n} Elm St"))
        db.session.flush()
        counter = count_queries()
        outline = cycle_outline(today=TODAY, minimum=D("0.00"))
        assert len(outline.statements(0, 2)) == 2
        outline.skipped(2)
        return counter.count

    assert page_queries(2) == page_queries(6)


#: Names and accounts whose order differs between Python (code points) and a locale's collation, spelled in
#: several cases and spacings: the page pages in SQL what the cycle sorts in Python.
PARENTS = ["Dean Cruz", "de la Cruz", "De la  Cruz", "Émile Roy", "emile roy", "Zoë Ng", "zoe ng", None, None]
STREETS = ["1 Elm St", "1 ELM  St", "2 Oak Ave"]  # two spellings of one address
ACCOUNTS = ["a-1", "B-2", "b-3", "A-4", "Z-5", "c-6"]
PAID = [None, "3.00", "5.00", "0.00"]  # pays nothing, leaves less than the minimum or just it, pays it all
household = st.tuples(st.sampled_from(PARENTS), st.sampled_from(STREETS), st.booleans(), st.sampled_from(PAID))


@pytest.fixture
def six_owing(world):
    made = [_owes(family_member(world, parent=None, first=f"C{n}", street=f"{n} Pine St")) for n in range(6)]
    db.session.flush()
    return made


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(homes=st.lists(household, min_size=6, max_size=6), order=st.permutations(ACCOUNTS),
       size=st.sampled_from([1, 2, 4]))
def test_any_households_page_as_the_cycle_sorts_them(six_owing, homes, order, size):
    with db.session.begin_nested() as savepoint:
        for member, (parent, street, flagged, leaves), account in zip(six_owing, homes, order, strict=True):
            client = member.client
            client.responsible_party_name, client.address_line1 = parent, street
            client.no_statements, client.account_number = flagged and parent is not None, account
            if leaves is not None:
                claim = db.session.scalars(select(Claim).where(Claim.client_id == client.id)).one()
                patient_pays(claim, CLAIM_CHARGE - D(leaves), on=DAY + timedelta(days=30))
        db.session.flush()
        whole = build_cycle(today=TODAY, minimum=D("5.00"), activity=False)
        outline = cycle_outline(today=TODAY, minimum=D("5.00"))
        paged = [s for first in range(0, outline.count + size, size) for s in outline.statements(first, size)]
        assert [s.as_dict() for s in paged] == [s.as_dict() for s in whole.statements]
        assert (outline.count, outline.total_due) == (len(whole.statements), whole.total_due)
        assert [s.as_dict() for s in outline.skipped(size)] == [s.as_dict() for s in whole.skipped[:size]]
        savepoint.rollback()
