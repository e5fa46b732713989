"""Import every model once, so metadata (Alembic, create_all) sees the whole schema."""

from __future__ import annotations

from billing.claims import day_counts as _day_counts  # noqa: F401 - the triggers for schemas made by create_all
from billing.claims import deadline_counts as _deadline_counts  # noqa: F401 - the triggers for create_all
from billing.claims.models import Claim, ClaimDayCount, ClaimDeadlineCount, ClaimDiagnosis, ClaimLine
from billing.claims.statuses import ClaimStatus
from billing.core import column_limits as _column_limits  # noqa: F401 - registers the column-limit guard
from billing.core.access_log import AccessEntry  # the PHI access log (append-only)
from billing.core.audit import AuditAction, StatusChange
from billing.core.operation_keys import OperationKey
from billing.coverage import eligibility_latest as _eligibility_latest  # noqa: F401 - the trigger for create_all
from billing.coverage.models import (
    Authorization,
    FeeSchedule,
    FeeScheduleRate,
    InsurancePolicy,
    Payer,
    PayerAlias,
    PayerRoundingRule,
    PayerType,
    PolicyRank,
    RoundingRule,
    ServiceCode,
    SubscriberRelationship,
    authorization_service_code,
)
from billing.jobs.models import (  # reports and jobs
    ExportRun,
    JobRun,
    JobSchedule,
    ReportDownload,
    ResponseImport,
)
from billing.ledger import ar_days as _ar_days  # noqa: F401 - the triggers for schemas made by create_all
from billing.ledger import carc_days as _carc_days  # noqa: F401 - the triggers for schemas made by create_all
from billing.ledger import claim_balances as _claim_balances  # noqa: F401 - the trigger for schemas made by create_all
from billing.ledger import client_balances as _client_balances  # noqa: F401 - the triggers for schemas made by create_all
from billing.ledger import entry_references as _entry_references  # noqa: F401 - the triggers for create_all
from billing.ledger import guards as _ledger_guards  # noqa: F401 - registers the append-only listeners
from billing.ledger import month_totals as _month_totals  # noqa: F401 - the triggers for schemas made by create_all
from billing.ledger.models import (
    Adjudication,
    AdjudicationAdjustment,
    AdjudicationLine,
    ArDayTotal,
    CarcDayTotal,
    ClaimBalance,
    ClientBalance,
    LedgerEntry,
    LedgerMonthTotal,
)
from billing.ledger.statement_models import DunningLevel, StatementRecord
from billing.org.models import Company, Location, Practice
from billing.payments import deadline_triggers as _deadline_triggers  # noqa: F401 - triggers for create_all
from billing.payments.models import EraFile, ProviderAdjustment, ProviderAdjustmentEntry, Remittance, UnmatchedClaim
from billing.payments.patient_payment_models import PatientPayment, PatientPaymentPart
from billing.people.models import Client, ClientDiagnosis, Provider, Role, Sex, User
from billing.people.saved_filters import SavedFilter
from billing.sessions.models import NoteStatus, SessionClass, TherapySession
from billing.submissions import follow_up_check as _follow_up_check  # noqa: F401 - registers the ledger check
from billing.submissions import follow_up_clock as _follow_up_clock  # noqa: F401 - the triggers for create_all
from billing.submissions.claim_status_models import (
    ClaimStatusResponse,
    StatusInquiry,
    StatusInquiryClaim,
    StatusResponseFile,
)
from billing.submissions.follow_up_models import ClaimFollowUp, ClaimFollowUpClock, FollowUpNote
from billing.submissions.models import BatchClaim, Clearinghouse, ClearinghouseResponse, SubmissionBatch
from rules.models import BillingRun, Rule, RuleOutcome, RulesCheck, RuleVersion  # the rules engine's tables

__all__ = [
    "AccessEntry",
    "Adjudication",
    "AdjudicationAdjustment",
    "AdjudicationLine",
    "ArDayTotal",
    "AuditAction",
    "Authorization",
    "BatchClaim",
    "BillingRun",
    "CarcDayTotal",
    "Claim",
    "ClaimBalance",
    "ClaimDayCount",
    "ClaimDeadlineCount",
    "ClaimDiagnosis",
    "ClaimFollowUp",
    "ClaimFollowUpClock",
    "ClaimLine",
    "ClaimStatus",
    "ClaimStatusResponse",
    "Clearinghouse",
    "ClearinghouseResponse",
    "Client",
    "ClientBalance",
    "ClientDiagnosis",
    "Company",
    "DunningLevel",
    "EraFile",
    "ExportRun",
    "FeeSchedule",
    "FeeScheduleRate",
    "FollowUpNote",
    "InsurancePolicy",
    "JobRun",
    "JobSchedule",
    "LedgerEntry",
    "LedgerMonthTotal",
    "Location",
    "NoteStatus",
    "OperationKey",
    "PatientPayment",
    "PatientPaymentPart",
    "Payer",
    "PayerAlias",
    "PayerRoundingRule",
    "PayerType",
    "PolicyRank",
    "Practice",
    "Provider",
    "ProviderAdjustment",
    "ProviderAdjustmentEntry",
    "Remittance",
    "ReportDownload",
    "ResponseImport",
    "Role",
    "RoundingRule",
    "Rule",
    "RuleOutcome",
    "RuleVersion",
    "RulesCheck",
    "SavedFilter",
    "ServiceCode",
    "SessionClass",
    "Sex",
    "StatementRecord",
    "StatusChange",
    "StatusInquiry",
    "StatusInquiryClaim",
    "StatusResponseFile",
    "SubmissionBatch",
    "SubscriberRelationship",
    "TherapySession",
    "UnmatchedClaim",
    "User",
    "authorization_service_code",
]
