"""Coordination of benefits: what the previous payer decided, for the 837's loops 2320/2330 and 2430."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billing.claims.models import Claim
from billing.core.money import sum_money
from billing.coverage.models import InsurancePolicy, Payer
from billing.ledger.balances import standing_adjudication
from billing.ledger.models import Adjudication, AdjudicationAdjustment


@dataclass(frozen=True)
class CasAdjustment:
    """One CAS triple as the prior payer sent it (2320 / 2430 CAS)."""

    group: str
    reason: str
    amount: Decimal


@dataclass(frozen=True)
class PriorLine:
    """The prior payer's decision on one line (2430: SVD, CAS, DTP*573)."""

    line_number: int  # our line number, the same on the secondary claim
    procedure_code: str
    modifiers: tuple[str, ...]
    units: Decimal
    paid: Decimal
    adjustments: tuple[CasAdjustment, ...]
    paid_on: date


@dataclass(frozen=True)
class PriorAdjudication:
    """The primary's adjudication a secondary claim carries (2320 AMT*D, CAS; 2330B payer; 2430 per line)."""

    payer: Payer
    policy: InsurancePolicy | None
    paid_on: date
    paid: Decimal
    adjustments: tuple[CasAdjustment, ...]  # claim-level CAS
    patient_responsibility: Decimal
    payer_claim_number: str | None
    lines: tuple[PriorLine, ...]


def _cas(rows: list[AdjudicationAdjustment]) -> tuple[CasAdjustment, ...]:
    return tuple(CasAdjustment(r.group_code, r.reason_code, r.amount) for r in rows)


def prior_adjudication(claim: Claim) -> PriorAdjudication | None:
    """The standing adjudication of the claim this secondary claim comes from; None for a primary claim."""
    primary = claim.primary_claim
    if primary is None:
        return None
    adjudication: Adjudication | None = standing_adjudication(primary.id, primary.payer_id)
    if adjudication is None or primary.payer is None:
        return None
    claim_level = [a for a in adjudication.adjustments if a.adjudication_line_id is None]
    lines = tuple(
        PriorLine(
            line_number=ln.claim_line.line_number,
            procedure_code=ln.procedure_code,
            modifiers=tuple(m for m in ln.modifiers.split(":") if m),
            units=ln.units,
            paid=ln.paid,
            adjustments=_cas([a for a in adjudication.adjustments if a.adjudication_line_id == ln.id]),
            paid_on=ln.paid_on,
        )
        for ln in adjudication.lines
    )
    return PriorAdjudication(
        payer=primary.payer,
        policy=primary.policy,
        paid_on=adjudication.paid_on,
        paid=adjudication.paid,
        adjustments=_cas(claim_level),
        patient_responsibility=sum_money(a.amount for a in adjudication.adjustments if a.group_code == "PR"),
        payer_claim_number=adjudication.payer_claim_number,
        lines=lines,
    )
