"""What an 837P says about a claim, as plain frozen data: the writer never touches the ORM.

Keeping the writer pure makes it fast (no lazy loads while 5,000 claims are written) and lets tests
build a claim exactly as a scenario needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple


@dataclass(frozen=True)
class Address:
    line1: str
    line2: str | None
    city: str
    state: str
    zip_code: str


@dataclass(frozen=True)
class BillingProvider:
    """Loop 2010AA (and 2010AB when payments go elsewhere)."""

    key: int
    name: str
    npi: str
    tax_id: str
    taxonomy: str | None
    address: Address | None
    pay_to: Address | None = None


@dataclass(frozen=True)
class Person:
    last_name: str
    first_name: str
    date_of_birth: date | None = None
    sex: str | None = None
    address: Address | None = None


@dataclass(frozen=True)
class Coverage:
    """One policy as loop 2000B/2010BA/2010BB (or 2320/2330A/2330B for the other payer) carries it."""

    responsibility: str  # SBR01: P, S, T
    relationship_code: str  # 18 self, 01 spouse, 19 child, G8 other
    group_number: str | None
    filing_indicator: str  # SBR09
    member_id: str
    subscriber: Person
    payer_name: str
    payer_id: str
    payer_address: Address | None = None
    medicare_secondary: bool = False  # SBR05 is required then

    @property
    def patient_is_subscriber(self) -> bool:
        return self.relationship_code == "18"


@dataclass(frozen=True)
class Adjustment:
    group: str  # CO, PR, OA, PI, CR
    reason: str  # CARC
    amount: Decimal


@dataclass(frozen=True)
class LineAdjudication:
    """Loop 2430: what the prior payer did with one line."""

    payer_id: str
    paid: Decimal
    procedure_code: str
    modifiers: tuple[str, ...]
    units: int
    paid_on: date
    adjustments: tuple[Adjustment, ...] = ()


@dataclass(frozen=True)
class PriorPayer:
    """Loops 2320/2330A/2330B: the other policy and what its payer paid at claim level."""

    coverage: Coverage
    paid: Decimal
    paid_on: date | None
    adjustments: tuple[Adjustment, ...] = ()
    patient_responsibility: Decimal | None = None


class Line(NamedTuple):
    """One service line (2400). A named tuple rather than a frozen dataclass: a 5,000-claim batch builds
    10,000 of them, and a tuple is built several times faster while staying just as immutable."""

    procedure_code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: int
    pointers: tuple[int, ...]
    service_date: date
    place_of_service: str
    authorization: str | None = None
    prior: LineAdjudication | None = None


@dataclass(frozen=True)
class ClaimFacts:
    number: str  # CLM01
    total: Decimal  # CLM02
    place_of_service: str
    frequency_code: str  # as sent: 1, 7 or 8
    billing: BillingProvider
    coverage: Coverage
    patient: Person
    diagnoses: tuple[str, ...]
    lines: tuple[Line, ...]
    rendering: Person | None = None
    rendering_npi: str | None = None
    rendering_taxonomy: str | None = None
    facility_name: str | None = None
    facility_npi: str | None = None
    facility_address: Address | None = None
    payer_claim_number: str | None = None  # REF*F8
    prior_authorization: str | None = None  # REF*G1 at claim level
    prior_payers: tuple[PriorPayer, ...] = field(default=())
