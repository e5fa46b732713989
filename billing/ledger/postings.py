"""An adjudication as plain data: what a payer (an 835 CLP loop or a typed EOB) decided for a claim and its lines.

The 835 reader produces these and the payment operations post them; nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property

from billing.claims.statuses import ClaimStatus
from billing.core.codes import is_denial
from billing.core.db import db
from billing.core.money import ZERO, sum_money
from billing.ledger.balances import Balances
from billing.ledger.models import Adjudication, EntryKind

KIND_OF_GROUP = {
    "CO": EntryKind.CONTRACTUAL,
    "PR": EntryKind.PATIENT_RESPONSIBILITY,
    "OA": EntryKind.OTHER_ADJUSTMENT,
    "PI": EntryKind.OTHER_ADJUSTMENT,
    "CR": EntryKind.OTHER_ADJUSTMENT,
}


DENIED_CODE = "4"


REVERSAL_CODE = "22"


@dataclass(frozen=True)
class Adjustment:
    """One CAS reason: group code, CARC, amount (and the quantity some payers send)."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True)
class LinePosting:
    """What the payer decided for one of our claim lines."""

    line_number: int
    paid: Decimal
    adjustments: tuple[Adjustment, ...] = ()
    allowed: Decimal | None = None
    remarks: tuple[str, ...] = ()
    #: The biller accepts that charge != paid + adjustments; the difference stays on the balance.
    leave_open: bool = False
    charge: Decimal | None = None  # SVC02 as the payer repeats it; our line's charge when absent
    procedure_code: str | None = None
    modifiers: str | None = None
    units: Decimal | None = None

    @cached_property
    def patient_responsibility(self) -> Decimal:
        return sum_money(a.amount for a in self.adjustments if a.group == "PR")


@dataclass(frozen=True)
class ClaimPosting:
    """One adjudication of a claim: from a CLP loop or from the Record Payment form."""

    paid_on: date
    lines: tuple[LinePosting, ...]
    status_code: str = "1"
    claim_adjustments: tuple[Adjustment, ...] = ()
    payer_claim_number: str | None = None
    memo: str | None = None

    # Cached: the posting is frozen, and an 835 import asks these once per line and adjustment.
    @cached_property
    def paid(self) -> Decimal:
        return sum_money(ln.paid for ln in self.lines)

    @cached_property
    def all_adjustments(self) -> tuple[Adjustment, ...]:
        return (*self.claim_adjustments, *(a for ln in self.lines for a in ln.adjustments))

    @cached_property
    def is_denial(self) -> bool:
        """CLP02 = 4, or nothing paid with a denial reason (a typed EOB has no CLP02)."""
        if self.status_code == DENIED_CODE:
            return True
        return self.paid == ZERO and any(is_denial(a.group, a.reason) for a in self.all_adjustments)


@dataclass
class PostingResult:
    adjudication_id: int
    balances: Balances
    status: ClaimStatus
    notes: list[str] = field(default_factory=list)

    @property
    def adjudication(self) -> Adjudication:
        adjudication = db.session.get(Adjudication, self.adjudication_id)
        assert adjudication is not None
        return adjudication
