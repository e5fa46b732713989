"""A client at a glance: policies, authorizations with the units left, recent sessions and claims with their balances,
and what the client's claims still owe on each side. The client page (admin_views/people.py) shows it.

Set-based: a fixed number of queries whatever the number of policies, authorizations, sessions or claims. Balances are
sums of ledger entries, grouped by claim in one query (as billing.ledger.balances does for any set of claims).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import joinedload, selectinload

from billing.claims.models import Claim
from billing.claims.queries import authorization_units_used
from billing.core.db import db
from billing.core.errors import NotFound
from billing.core.money import ZERO, to_money
from billing.coverage.models import Authorization, InsurancePolicy
from billing.ledger.balances import Balances, claim_balances
from billing.people.models import Client
from billing.sessions.models import TherapySession

#: How many of the latest sessions and claims the page lists (the grids, filtered to the client, have the rest).
RECENT = 20


@dataclass(frozen=True)
class AuthorizationUse:
    authorization: Authorization
    used: int

    @property
    def remaining(self) -> int:
        return self.authorization.units_approved - self.used


@dataclass(frozen=True)
class ClaimRow:
    claim: Claim
    balances: Balances

    @property
    def balance(self) -> Decimal:
        return self.balances.balance


@dataclass
class ClientTotals:
    """What the client's claims owe: insurance A/R and patient balance (claims owing), and credit (claims owed back,
    either side). A claim's credit on one side is not netted against another claim's debt."""

    insurance_ar: Decimal = ZERO
    patient_balance: Decimal = ZERO
    credit: Decimal = ZERO

    def add(self, balances: Balances) -> None:
        for side in (balances.insurance, balances.patient):
            if side < ZERO:
                self.credit = to_money(self.credit - side)
        self.insurance_ar = to_money(self.insurance_ar + max(balances.insurance, ZERO))
        self.patient_balance = to_money(self.patient_balance + max(balances.patient, ZERO))


@dataclass
class ClientHub:
    client: Client
    policies: list[InsurancePolicy]
    authorizations: list[AuthorizationUse]
    sessions: list[TherapySession]
    session_count: int
    claims: list[ClaimRow]
    claim_count: int
    totals: ClientTotals = field(default_factory=ClientTotals)

    def as_dict(self, today: date) -> dict[str, Any]:
        """For `flask ledger client-summary --json`: money as strings with cents, dates as ISO text."""
        return {
            "client": {"id": self.client.id, "account": self.client.account_number, "name": self.client.full_name},
            "totals": {
                "insurance_ar": str(self.totals.insurance_ar),
                "patient_balance": str(self.totals.patient_balance),
                "credit": str(self.totals.credit),
            },
            "policies": [
                {
                    "rank": p.rank.value,
                    "payer": p.payer.name,
                    "member_id": p.member_id,
                    "group": p.group_number,
                    "effective_on": p.effective_on.isoformat(),
                    "ends_on": p.ends_on.isoformat() if p.ends_on else None,
                    "active": p.is_active_on(today),
                }
                for p in self.policies
            ],
            "authorizations": [
                {
                    "number": a.authorization.number,
                    "payer": a.authorization.policy.payer.name,
                    "starts_on": a.authorization.starts_on.isoformat(),
                    "ends_on": a.authorization.ends_on.isoformat(),
                    "codes": [c.code for c in a.authorization.service_codes],
                    "approved": a.authorization.units_approved,
                    "used": a.used,
                    "remaining": a.remaining,
                }
                for a in self.authorizations
            ],
            "claims": [
                {
                    "number": r.claim.number,
                    "service_date": r.claim.service_date.isoformat(),
                    "payer": r.claim.payer.name if r.claim.payer else None,
                    "status": r.claim.status.value,
                    "billed": str(r.claim.total_charge),
                    "insurance": str(r.balances.insurance),
                    "patient": str(r.balances.patient),
                    "balance": str(r.balance),
                }
                for r in self.claims
            ],
            "claim_count": self.claim_count,
            "sessions": [
                {
                    "id": v.id,
                    "service_date": v.service_date.isoformat(),
                    "start": v.start_time.strftime("%H:%M"),
                    "end": v.end_time.strftime("%H:%M"),
                    "provider": v.provider.last_name,
                    "code": v.service_code.code,
                    "note": v.note_status.value,
                    "cancelled_as": v.session_class.name if v.session_class else None,
                }
                for v in self.sessions
            ],
            "session_count": self.session_count,
        }


def client_hub(
    client_id: int,
    *,
    claims_where: ColumnElement[bool] | None = None,
    sessions_where: ColumnElement[bool] | None = None,
) -> ClientHub:
    """Everything the client page shows beside the client's own fields. `claims_where` / `sessions_where` narrow the
    claims and sessions (and so the balances) to the chosen scope."""
    client = db.session.get(Client, client_id)
    if client is None:
        raise NotFound(f"There is no client {client_id}.")
    claim_rule = claims_where if claims_where is not None else true()
    session_rule = sessions_where if sessions_where is not None else true()
    policies = list(
        db.session.scalars(
            select(InsurancePolicy)
            .options(joinedload(InsurancePolicy.payer))
            .where(InsurancePolicy.client_id == client_id)
            .order_by(InsurancePolicy.rank, InsurancePolicy.effective_on.desc())  # primary first
        )
    )
    authorizations = list(
        db.session.scalars(
            select(Authorization)
            .options(
                joinedload(Authorization.policy).joinedload(InsurancePolicy.payer),
                selectinload(Authorization.service_codes),
            )
            .where(Authorization.client_id == client_id)
            .order_by(Authorization.ends_on.desc(), Authorization.id.desc())
        ).unique()
    )
    used = authorization_units_used([a.id for a in authorizations]) if authorizations else {}
    sessions = list(
        db.session.scalars(
            select(TherapySession)
            .options(
                joinedload(TherapySession.service_code),
                joinedload(TherapySession.provider),
                joinedload(TherapySession.session_class),
            )
            .where(TherapySession.client_id == client_id, session_rule)
            .order_by(TherapySession.service_date.desc(), TherapySession.start_time.desc(), TherapySession.id.desc())
            .limit(RECENT)
        )
    )
    session_count = (
        db.session.scalar(
            select(func.count()).select_from(TherapySession).where(TherapySession.client_id == client_id, session_rule)
        )
        or 0
    )
    claims = list(
        db.session.scalars(
            select(Claim)
            .options(joinedload(Claim.payer))
            .where(Claim.client_id == client_id, claim_rule)
            .order_by(Claim.service_date.desc(), Claim.id.desc())
            .limit(RECENT)
        )
    )
    every_claim = db.session.scalars(select(Claim.id).where(Claim.client_id == client_id, claim_rule)).all()
    by_claim = claim_balances(every_claim)
    totals = ClientTotals()
    for balances in by_claim.values():
        totals.add(balances)
    return ClientHub(
        client=client,
        policies=policies,
        authorizations=[AuthorizationUse(a, used.get(a.id, 0)) for a in authorizations],
        sessions=sessions,
        session_count=session_count,
        claims=[ClaimRow(c, by_claim.get(c.id, Balances())) for c in claims],
        claim_count=len(every_claim),
        totals=totals,
    )
