"""Claim facts built by hand, for writer tests that need what the database cannot give yet (COB)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from billing.edi.claim_facts import (
    Address,
    Adjustment,
    BillingProvider,
    ClaimFacts,
    Coverage,
    Line,
    LineAdjudication,
    Person,
    PriorPayer,
)
from billing.edi.x837p import Envelope
from tests.worlds.factories import valid_npi

ENVELOPE = Envelope(
    sender_qualifier="ZZ", sender_id="CLAIMDESK", receiver_qualifier="ZZ", receiver_id="OFFALLY",
    gs_sender="CLAIMDESK", gs_receiver="OFFALLY", usage_indicator="T", control_number=41,
    created_at=datetime(2026, 3, 9, 14, 5, tzinfo=UTC), submitter_name="Test Therapy Group", submitter_etin="ETIN0001",
    contact_name="Ann Biller", contact_phone="2175550100", contact_email=None, receiver_name="Office Ally",
    receiver_etin="330897513", reference="B-000041",
)  # fmt: skip
HOME = Address("12 Elm St", None, "Springfield", "IL", "62704")
CLINIC = Address("100 Main St", None, "Springfield", "IL", "627011234")
BILLING = BillingProvider(1, "Test Therapy Group LLC", valid_npi(500_001), "123456789", "103K00000X", CLINIC)
PATIENT = Person("Smith", "Ted", date(2016, 5, 1), "M", HOME)
PARENT = Person("Smith", "Jane", date(1984, 2, 3), "F", HOME)
PRIMARY = Coverage("P", "19", "GRP1", "CI", "PRIM0001", PARENT, "Key Insurance", "KEY01")
SECONDARY = Coverage("S", "19", None, "MC", "MCD0002", PARENT, "State Medicaid", "MCD01")


def line(code: str = "97153", charge: str = "73.48", units: int = 4, prior: LineAdjudication | None = None) -> Line:
    return Line(code, ("HN",), Decimal(charge), units, (1,), date(2026, 3, 2), "11", None, prior)


def primary_claim(number: str = "C-000101") -> ClaimFacts:
    return ClaimFacts(
        number=number, total=Decimal("146.96"), place_of_service="11", frequency_code="1", billing=BILLING,
        coverage=PRIMARY, patient=PATIENT, diagnoses=("F840",), lines=(line(), line("97155", "73.48")),
        rendering=Person("Provider", "Pat"), rendering_npi=valid_npi(7), rendering_taxonomy="103K00000X",
    )  # fmt: skip


def secondary_claim() -> ClaimFacts:
    """The primary paid 50.00 of each 73.48 line: CO-45 contractual, PR-2 coinsurance to the patient."""
    adjustments = (Adjustment("CO", "45", Decimal("13.48")), Adjustment("PR", "2", Decimal("10.00")))
    lines = tuple(
        line(code, prior=LineAdjudication("KEY01", Decimal("50.00"), code, ("HN",), 4, date(2026, 3, 20), adjustments))
        for code in ("97153", "97155")
    )
    prior = PriorPayer(PRIMARY, Decimal("100.00"), date(2026, 3, 20), (), Decimal("20.00"))
    return replace(primary_claim("C-000102"), coverage=SECONDARY, lines=lines, prior_payers=(prior,))
