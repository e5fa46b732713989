"""Import every model once, so metadata (Alembic, create_all) sees the whole schema."""

from __future__ import annotations

from billing.audit import AuditAction, StatusChange
from billing.claims.models import Claim, ClaimDiagnosis, ClaimLine
from billing.claims.statuses import ClaimStatus
from billing.coverage.models import (
    Authorization,
    FeeSchedule,
    FeeScheduleRate,
    InsurancePolicy,
    Payer,
    PayerType,
    PolicyRank,
    RoundingRule,
    ServiceCode,
    SubscriberRelationship,
    authorization_service_code,
)
from billing.org.models import Company, Location, Practice
from billing.people.models import Client, ClientDiagnosis, Provider, Role, Sex, User
from billing.sessions.models import NoteStatus, SessionClass, TherapySession

__all__ = [
    "AuditAction",
    "Authorization",
    "Claim",
    "ClaimDiagnosis",
    "ClaimLine",
    "ClaimStatus",
    "Client",
    "ClientDiagnosis",
    "Company",
    "FeeSchedule",
    "FeeScheduleRate",
    "InsurancePolicy",
    "Location",
    "NoteStatus",
    "Payer",
    "PayerType",
    "PolicyRank",
    "Practice",
    "Provider",
    "Role",
    "RoundingRule",
    "ServiceCode",
    "SessionClass",
    "Sex",
    "StatusChange",
    "SubscriberRelationship",
    "TherapySession",
    "User",
    "authorization_service_code",
]
