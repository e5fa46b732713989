"""Reads about sessions shared by grids, rules and reports."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, or_

from billing.coverage.models import InsurancePolicy, PolicyRank
from billing.sessions.models import TherapySession


def billed_to_payer(payer_id: int) -> ColumnElement[bool]:
    """Sessions whose client had a primary policy with this payer on the service date."""
    return exists().where(
        InsurancePolicy.client_id == TherapySession.client_id,
        InsurancePolicy.payer_id == payer_id,
        InsurancePolicy.rank == PolicyRank.PRIMARY,
        InsurancePolicy.effective_on <= TherapySession.service_date,
        or_(InsurancePolicy.ends_on.is_(None), InsurancePolicy.ends_on >= TherapySession.service_date),
    )
