"""The Claim Denials report lists a line denied on a paid claim (posting rule 3), with its CARC and amount."""

from __future__ import annotations

from decimal import Decimal

from billing.core.codes import describe_carc
from exports.filters import ReportFilters
from exports.reports.denials import LINE_DENIAL, all_denials
from tests.billing.payments.test_denials import case_d, hundred_dollar_claim, import_clp, svc
from tests.worlds.payments import PAID_ON, Clp

D = Decimal


def test_a_co16_line_on_a_paid_claim_is_a_line_denial_row(world):
    claim = case_d(world)
    [row] = [d for d in all_denials(ReportFilters()) if d.claim_id == claim.id]
    assert (row.category, row.group, row.code, row.description) == (LINE_DENIAL, "CO", "16", describe_carc("16"))
    assert (row.on, row.billed, row.denied, row.status) == (PAID_ON, D("100.00"), D("100.00"), "Paid")


def test_a_line_wholly_to_the_patient_is_not_in_the_report(world):
    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    import_clp(world, Clp(claim.number, "1", D("200.00"), D("80.00"), D("100.00"), services=[
        svc(one, "80.00", ("CO", "45", "20.00")), svc(two, "0.00", ("PR", "1", "100.00"))]))
    assert [d for d in all_denials(ReportFilters()) if d.claim_id == claim.id] == []
