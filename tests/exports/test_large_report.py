"""The Claims report with 100,000 claims: every row streamed out, the totals exact, the file readable."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import insert, select

from billing.claims.models import Claim, ClaimLine
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from exports.build import build_report
from exports.filters import ReportFilters
from tests.worlds.sheets import HEADER_ROW, as_money

ROWS = 100_000
CHARGES = (Decimal("73.48"), Decimal("18.37"), Decimal("110.22"))


def bulk_claims(world, count: int) -> None:
    """`count` one-line claims written in bulk: the report is what this test exercises."""
    common = {"client_id": world.client.id, "policy_id": world.policy.id, "payer_id": world.payer.id,
              "rendering_provider_id": world.provider.id, "location_id": world.location.id,
              "place_of_service": "11", "frequency_code": "1", "needs_review": False, "void_to_send": False,
              "version": 1, "status": ClaimStatus.READY}
    first = date(2025, 1, 6)
    db.session.execute(insert(Claim), [
        {**common, "service_date": first + timedelta(days=n % 365), "total_charge": CHARGES[n % 3]}
        for n in range(count)])
    ids = db.session.scalars(select(Claim.id).where(Claim.location_id == world.location.id).order_by(Claim.id)).all()
    db.session.execute(insert(ClaimLine), [
        {"claim_id": cid, "line_number": 1, "service_code_id": world.code.id, "modifiers": "",
         "service_date": first + timedelta(days=i % 365), "minutes": 60, "units": 4, "rate": Decimal("18.37"),
         "charge": CHARGES[i % 3], "place_of_service": "11", "diagnosis_pointers": "1"}
        for i, cid in enumerate(ids)])


@pytest.mark.slow
def test_a_100000_row_claims_report_streams_every_row_with_exact_totals(world, tmp_path):
    bulk_claims(world, ROWS)
    target = tmp_path / "claims.xlsx"
    progress: list[int] = []
    built = build_report("claims", ReportFilters(company_id=world.company.id), target, generated_by="test",
                         now=datetime(2026, 1, 1, tzinfo=UTC), progress=progress.append)
    assert built.rows == ROWS
    assert progress[-1] == ROWS
    book = openpyxl.load_workbook(target, read_only=True)
    ws = book["Claims"]
    rows = ws.iter_rows(min_row=HEADER_ROW, values_only=True)
    header = next(rows)
    billed_at, units_at = header.index("Billed"), header.index("Units")
    count, billed = 0, Decimal("0.00")
    last = None
    for row in rows:
        if row[0] == "Total":
            last = row
            break
        count += 1
        billed += as_money(row[billed_at])
    assert count == ROWS
    expected = sum(CHARGES[n % 3] for n in range(ROWS))
    assert billed == expected
    assert as_money(last[billed_at]) == expected
    assert last[units_at] == 4 * ROWS
    book.close()
