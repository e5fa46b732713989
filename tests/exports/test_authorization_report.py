"""Authorization Utilization: approved, used (submitted), unsent and remaining units, and what ends soon."""

from __future__ import annotations

from datetime import date

from billing.claims.queries import authorization_units_used
from billing.claims.statuses import ClaimStatus
from billing.submissions.queries import authorization_units_submitted
from tests.worlds import factories as f
from tests.worlds.claims import walk_to
from tests.worlds.sheets import sheet

AS_OF = date(2026, 6, 10)


def authorized(world, *, number: str, ends_on: date, units: int = 100):
    auth = f.AuthorizationFactory(client=world.client, policy=world.policy, number=number, starts_on=date(2026, 1, 1),
                                  ends_on=ends_on, units_approved=units)
    auth.service_codes.append(world.code)
    return auth


def test_used_units_are_the_submitted_ones_and_unsent_ones_stand_beside_them(world, export):
    auth = authorized(world, number="A-LONG", ends_on=date(2026, 12, 31))
    walk_to(world.claim(minutes=60), ClaimStatus.SUBMITTED)  # 4 units the payer has
    world.claim(minutes=30, day=date(2026, 3, 3))  # 2 units on a Ready claim
    read = sheet(export("authorization-utilization", company_id=world.company.id, as_of=AS_OF), "Utilization")
    row = dict(zip(read.header, read.data_rows()[0], strict=True))
    assert row["Authorization"] == "A-LONG"
    assert (row["Approved"], row["Used"], row["On unsent claims"]) == (100, 4, 2)
    assert (row["Remaining"], row["Remaining after unsent"]) == (96, 94)
    assert row["Used"] == authorization_units_submitted([auth.id])[auth.id]
    assert row["Used"] + row["On unsent claims"] == authorization_units_used([auth.id])[auth.id]
    assert row["Service codes"] == world.code.code


def test_authorizations_ending_in_30_days_get_their_own_sheet(world, export):
    authorized(world, number="A-SOON", ends_on=date(2026, 7, 1))
    authorized(world, number="A-LATER", ends_on=date(2026, 9, 30))
    authorized(world, number="A-OVER", ends_on=date(2026, 5, 31))
    book = export("authorization-utilization", company_id=world.company.id, as_of=AS_OF)
    assert sheet(book, "Utilization").column("Authorization") == ["A-OVER", "A-SOON", "A-LATER"]
    soon = sheet(book, "Ending in 30 days")
    assert soon.column("Authorization") == ["A-SOON"]
    assert soon.column("Days left") == [21]
    assert soon.totals()[soon.header.index("Approved")] == 100


def test_totals_add_up_every_authorization(world, export):
    authorized(world, number="A1", ends_on=date(2026, 12, 31), units=40)
    authorized(world, number="A2", ends_on=date(2026, 12, 31), units=60)
    read = sheet(export("authorization-utilization", company_id=world.company.id, as_of=AS_OF), "Utilization")
    totals = dict(zip(read.header, read.totals(), strict=True))
    assert (totals["Approved"], totals["Used"], totals["Remaining"]) == (100, 0, 100)
