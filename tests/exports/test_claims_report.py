"""The Claims report: rows, filters and a billed total equal to the claims table's own sum."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.errors import ValidationFailed
from billing.core.money import to_money
from exports.build import build_report
from exports.filters import ReportFilters
from exports.reports import UnknownReport
from exports.workbook import ACCOUNTING
from tests.worlds import factories as f
from tests.worlds.claims import walk_to
from tests.worlds.practice import DAY
from tests.worlds.sheets import as_money, sheet


@pytest.fixture
def claims(world):
    """Four claims: two Ready, one Held, one Submitted, over three days; plus one in another company."""
    made = [world.claim(day=DAY + timedelta(days=i), minutes=45 + 15 * i) for i in range(4)]
    walk_to(made[2], ClaimStatus.HELD)
    walk_to(made[3], ClaimStatus.SUBMITTED)
    from tests.worlds.practice import build_world

    build_world().claim()
    return made


def billed_sum(*where) -> Decimal:
    return to_money(db.session.scalar(select(func.coalesce(func.sum(Claim.total_charge), 0)).where(*where)))


def test_claims_sheet_lists_each_claim_with_header_and_formats(world, claims, export):
    read = sheet(export("claims", company_id=world.company.id), "Claims")
    assert read.header[:4] == ["Claim", "Status", "Service date", "Client"]
    assert read.column("Claim") == [c.number for c in claims]
    assert read.column("Status") == ["Ready", "Ready", "Held", "Submitted"]
    assert read.cell(0, "Billed").number_format == ACCOUNTING
    assert read.cell(0, "Service date").is_date
    assert read.title_lines[1] == f"Company: {world.company.legal_name}"


def test_billed_total_equals_the_claims_table(world, claims, export):
    read = sheet(export("claims", company_id=world.company.id), "Claims")
    in_company = Claim.location_id == world.location.id
    assert as_money(read.totals()[read.header.index("Billed")]) == billed_sum(in_company)
    assert read.totals()[read.header.index("Units")] == sum(c.lines[0].units for c in claims)


def test_status_summary_sheet_counts_and_totals_by_status(world, claims, export):
    read = sheet(export("claims", company_id=world.company.id), "By status")
    rows = {row[0]: (row[1], as_money(row[2])) for row in read.data_rows()}
    assert rows["Ready"][0] == 2
    assert rows["Held"] == (1, to_money(claims[2].total_charge))
    assert as_money(read.totals()[2]) == billed_sum(Claim.location_id == world.location.id)


def test_filters_by_status_date_window_and_payer(world, claims, export):
    held = sheet(export("claims", company_id=world.company.id, status="held"), "Claims")
    assert held.column("Claim") == [claims[2].number]
    window = sheet(export("claims", company_id=world.company.id, date_from=DAY + timedelta(days=1),
                         date_to=DAY + timedelta(days=2)), "Claims")
    assert window.column("Claim") == [claims[1].number, claims[2].number]
    other_payer = f.PayerFactory(company=world.company)
    assert sheet(export("claims", payer_id=other_payer.id), "Claims").data_rows() == []
    assert "Dates: 2026-03-03 to 2026-03-04" in window.title_lines[2]


def test_without_a_company_every_company_is_included(claims, export):
    read = sheet(export("claims"), "Claims")
    assert len(read.data_rows()) == db.session.scalar(select(func.count()).select_from(Claim))
    assert read.title_lines[1] == "Company: All companies"


def test_formula_like_client_names_are_kept_as_text(world, export):
    world.client.last_name = "=cmd|' /C calc'!A0"
    world.claim()
    cell = sheet(export("claims", company_id=world.company.id), "Claims").cell(0, "Client")
    assert cell.value.startswith("=cmd")
    assert cell.data_type == "s"


def test_an_inverted_window_and_an_unknown_report_are_refused_before_writing(tmp_path):
    target = tmp_path / "out.xlsx"
    with pytest.raises(ValidationFailed, match="before the start"):
        build_report("claims", ReportFilters(date_from=date(2026, 3, 5), date_to=date(2026, 3, 1)), target,
                     generated_by="test")
    with pytest.raises(UnknownReport):
        build_report("nope", ReportFilters(), target, generated_by="test")
    assert not target.exists()
