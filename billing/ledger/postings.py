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
from billing.core.money import ZERO, sum_money, to_money
from billing.ledger.balances import Balances
from billing.ledger.models import REVERSAL_CODE as REVERSAL_CODE  # where posting code has always found it
from billing.ledger.models import Adjudication, EntryKind, PaymentMethod

KIND_OF_GROUP = {
    "CO": EntryKind.CONTRACTUAL,
    "PR": EntryKind.PATIENT_RESPONSIBILITY,
    "OA": EntryKind.OTHER_ADJUSTMENT,
    "PI": EntryKind.OTHER_ADJUSTMENT,
    "CR": EntryKind.OTHER_ADJUSTMENT,
}


DENIED_CODE = "4"


#: CLP02: the role the payer says it played (processed as, or processed as and forwarded to the next payer).
RANK_OF_STATUS = {"1": "primary", "19": "primary", "2": "secondary", "20": "secondary",
                  "3": "tertiary", "21": "tertiary"}


@dataclass(frozen=True, slots=True)
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
    #: CLP03 and CLP04 when the posting is a payer's 835 (a typed EOB has neither): the claim's charge and the
    #: payment posted on it, which is CLP04 exactly even when claim-level CAS make it differ from the lines' sum.
    claim_charge: Decimal | None = None
    claim_paid: Decimal | None = None
    #: How a typed EOB was paid: the check (or EFT trace) number, its date and the method, kept with the payment.
    check_number: str | None = None
    check_date: date | None = None
    payment_method: PaymentMethod | None = None
    posted_check_id: int | None = None

    @property
    def is_remittance(self) -> bool:
        """The payer's own statement (an 835 CLP): its levels must balance, and its CLP02 names its role."""
        return self.claim_paid is not None

    @cached_property
    def lines_paid(self) -> Decimal:
        """The sum of the lines' payments (SVC03)."""
        return sum_money(ln.paid for ln in self.lines)

    @property
    def adjudicated_as(self) -> str | None:
        """"primary", "secondary" or "tertiary" as the payer's CLP02 says; None for a typed EOB or another code."""
        return RANK_OF_STATUS.get(self.status_code) if self.is_remittance else None

    # Cached: the posting is frozen, and an 835 import asks these once per line and adjustment.
    @cached_property
    def paid(self) -> Decimal:
        """What the payer paid on the claim: CLP04 when given, else the lines' payments."""
        return to_money(self.claim_paid) if self.claim_paid is not None else self.lines_paid

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
