"""Reads for the payments pages: denial reasons per claim, remittance counts, candidates for manual matching."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import selectinload

from billing.claims.models import Claim, ClaimLine
from billing.claims.queries import claim_history
from billing.claims.statuses import SENT
from billing.core.codes import describe_carc, describe_rarc
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.coverage.models import Payer
from billing.ledger.balances import billing_summary
from billing.ledger.models import Adjudication, AdjudicationAdjustment, AdjudicationLine
from billing.org.queries import Scope, by_company, by_location
from billing.payments.models import Remittance, UnmatchedClaim, UnmatchedStatus
from billing.people.models import Client


@dataclass(frozen=True)
class Reason:
    group: str
    code: str
    description: str

    def __str__(self) -> str:
        return f"{self.group}-{self.code} {self.description}"


def denial_reasons(claim_ids: Iterable[int]) -> dict[int, list[Reason]]:
    """The non-PR CARCs of each claim's latest adjudication (one query for a page of claims)."""
    ids = list(claim_ids)
    if not ids:
        return {}
    latest = (select(func.max(Adjudication.id))
              .where(any_of(Adjudication.claim_id, ids), Adjudication.reverses_id.is_(None))
              .group_by(Adjudication.claim_id))
    rows = db.session.execute(
        select(Adjudication.claim_id, AdjudicationAdjustment.group_code, AdjudicationAdjustment.reason_code)
        .join(AdjudicationAdjustment, AdjudicationAdjustment.adjudication_id == Adjudication.id)
        .where(any_of(Adjudication.id, latest), AdjudicationAdjustment.group_code != "PR")
        .order_by(Adjudication.claim_id, AdjudicationAdjustment.id)
    ).all()
    found: dict[int, list[Reason]] = defaultdict(list)
    for claim_id, group, code in rows:
        reason = Reason(group, code, describe_carc(code))
        if reason not in found[claim_id]:
            found[claim_id].append(reason)
    return dict(found)


def remark_descriptions(remarks: str) -> list[tuple[str, str]]:
    return [(code, describe_rarc(code)) for code in (r.strip() for r in remarks.split(",")) if code]


def open_unmatched_counts(remittance_ids: Iterable[int]) -> dict[int, int]:
    ids = list(remittance_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(UnmatchedClaim.remittance_id, func.count())
        .where(any_of(UnmatchedClaim.remittance_id, ids), UnmatchedClaim.status == UnmatchedStatus.OPEN)
        .group_by(UnmatchedClaim.remittance_id)
    ).all()
    return {rid: n for rid, n in rows}


def remittance_adjudications(remittance_id: int) -> list[Adjudication]:
    """Each claim payment of a remittance with its lines and CAS reasons, for the drill-down."""
    return list(db.session.scalars(
        select(Adjudication).where(Adjudication.remittance_id == remittance_id).order_by(Adjudication.id)
        .options(selectinload(Adjudication.claim).selectinload(Claim.client),
                 selectinload(Adjudication.lines).selectinload(AdjudicationLine.claim_line),
                 selectinload(Adjudication.adjustments))
    ))


def match_candidates(item: UnmatchedClaim, *, limit: int = 10) -> list[Claim]:
    """Claims a biller is likely to pick: postable, and the same charge, or the patient's last name near the date."""
    last_name = item.patient_name.split(" ")[-1].strip() if item.patient_name else ""
    dates = sorted({s["service_date"] for s in item.data.get("services", []) if s.get("service_date")})
    conditions = [Claim.total_charge == item.charge]
    if last_name:
        name_match = func.upper(Client.last_name) == last_name.upper()
        if dates:
            first, last = date.fromisoformat(dates[0]), date.fromisoformat(dates[-1])
            window = ClaimLine.service_date.between(first - timedelta(days=3), last + timedelta(days=3))
            conditions.append(name_match & any_of(Claim.id, select(ClaimLine.claim_id).where(window)))
        else:
            conditions.append(name_match)
    return list(db.session.scalars(
        select(Claim).join(Client, Client.id == Claim.client_id)
        .where(Claim.status.in_(list(SENT)), or_(*conditions))
        .order_by(Claim.id.desc()).limit(limit).options(selectinload(Claim.client), selectinload(Claim.payer))
    ))


def remittance_in_scope(scope: Scope) -> ColumnElement[bool]:
    """A check is not split by location: it shows in a scope when its payer is the scope company's, when it
    pays a claim of the scope, or when its payer is not one of ours (someone must see those to match them)."""
    company_payers = select(Payer.id).where(by_company(Payer.company_id, scope))
    paying_here = (select(Adjudication.remittance_id).join(Claim, Claim.id == Adjudication.claim_id)
                   .where(by_location(Claim.location_id, scope)))
    return or_(Remittance.payer_id.is_(None), Remittance.payer_id.in_(company_payers), Remittance.id.in_(paying_here))


def unmatched_in_scope(scope: Scope) -> ColumnElement[bool]:
    return any_of(UnmatchedClaim.remittance_id, select(Remittance.id).where(remittance_in_scope(scope)))


def claim_document(claim: Claim) -> dict[str, Any]:
    """Everything a person or a script needs to know about one claim, as plain JSON-able data."""
    summary = billing_summary(claim)
    return {
        "number": claim.number,
        "status": claim.status.value,
        "frequency_code": claim.frequency_code,
        "original_claim": claim.original_claim.number if claim.original_claim else None,
        "payer_claim_number": claim.payer_claim_number,
        "client": {"id": claim.client_id, "name": claim.client.full_name, "account": claim.client.account_number},
        "payer": {"id": claim.payer_id, "name": claim.payer.name} if claim.payer else None,
        "rendering_provider": {
            "id": claim.rendering_provider_id,
            "name": claim.rendering_provider.full_name,
            "npi": claim.rendering_provider.npi,
        },
        "service_dates": sorted({ln.service_date.isoformat() for ln in claim.lines})
        or [claim.service_date.isoformat()],
        "place_of_service": claim.place_of_service,
        "diagnoses": [d.code for d in claim.diagnoses],
        "billed": str(summary["billed"]),
        "paid": str(summary["paid_by_payer"] + summary["paid_by_patient"]),
        "balance": str(summary["balance"]),
        "hold_reason": claim.hold_reason,
        "void_reason": claim.void_reason,
        "void_to_send": claim.void_to_send,
        "needs_review": claim.needs_review,
        "lines": [
            {
                "line": ln.line_number,
                "session_id": ln.session_id,
                "service_date": ln.service_date.isoformat(),
                "code": ln.service_code.code,
                "modifiers": ln.modifiers,
                "minutes": ln.minutes,
                "units": ln.units,
                "rate": str(ln.rate),
                "charge": str(ln.charge),
                "diagnosis_pointers": ln.diagnosis_pointers,
                "authorization": ln.authorization.number if ln.authorization else None,
            }
            for ln in claim.lines
        ],
        "history": [
            {
                "at": h.at.isoformat(),
                "who": h.actor,
                "action": h.action.value,
                "from": h.from_status,
                "to": h.to_status,
                "reason": h.reason,
            }
            for h in claim_history(claim.id)
        ],
    }


def remittances_between(start: date, end: date) -> list[Remittance]:
    """Remittances paid in [start, end] with their adjudications (claims), PLBs and unmatched claims loaded."""
    return list(
        db.session.scalars(
            select(Remittance).where(Remittance.paid_on.between(start, end)).order_by(Remittance.paid_on, Remittance.id)
            .options(selectinload(Remittance.adjudications).selectinload(Adjudication.claim),
                     selectinload(Remittance.provider_adjustments), selectinload(Remittance.unmatched))
        )
    )
