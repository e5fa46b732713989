"""Who pays, for what, at what rate, and with whose approval."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.core.addresses import AddressMixin
from billing.core.db import db, enum_column, utcnow
from billing.org.models import Company
from billing.people.models import Client, Sex

if TYPE_CHECKING:
    from billing.submissions.models import Clearinghouse


class PayerType(StrEnum):
    COMMERCIAL = "commercial"
    MEDICAID = "medicaid"
    MEDICARE = "medicare"
    SELF_PAY = "self_pay"


class ClaimChannel(StrEnum):
    """How a payer receives claims: 837P files through its clearinghouse, or a printed CMS-1500 by mail."""

    EDI = "edi"
    PAPER = "paper"

    @property
    def label(self) -> str:
        return {"edi": "EDI (837P)", "paper": "Paper (CMS-1500)"}[self.value]


class PayerRoundingRule(StrEnum):
    """How a payer turns the minutes of timed codes into units (see billing/coverage/units.py).

    It combines with each service code's own rule: a PER_VISIT code is always one unit per session, a
    WHOLE_UNITS code always bills completed units per session; the payer's rule decides only how the
    minutes of CMS_8_MINUTE codes count.
    """

    PER_CODE = "per_code"  # per session, each code by its own rule: a CMS code's unit counts past half
    CMS_DAY_TOTAL = "cms_day_total"  # CMS: the day's total timed minutes by the 8-minute table, then per code
    WHOLE_UNITS = "whole_units"  # only completed units, per session, whatever the code's rule

    @property
    def label(self) -> str:
        return {
            "per_code": "Per session, each code by its own rule (midpoint)",
            "cms_day_total": "CMS 8-minute rule over the day's total timed minutes",
            "whole_units": "Whole units only",
        }[self.value]


#: Defaults for a new payer: the common commercial limit, and a month without an answer before a call.
DEFAULT_FILING_LIMIT_DAYS = 90
DEFAULT_CORRECTED_FILING_DAYS = 90
DEFAULT_FOLLOW_UP_DAYS = 30
#: Payer windows are at most this long (Medicare allows one year; nothing real needs five).
MAX_PAYER_DAYS = 1830


class Payer(AddressMixin, db.Model):
    """An insurer (or the client, for self-pay); EDI payers receive 837P files."""

    __table_args__ = (
        UniqueConstraint("company_id", "name"),
        CheckConstraint("NOT edi_enabled OR edi_payer_id IS NOT NULL", "edi_needs_payer_id"),
        CheckConstraint(f"filing_limit_days BETWEEN 1 AND {MAX_PAYER_DAYS}", "filing_limit_range"),
        CheckConstraint(f"corrected_filing_days BETWEEN 1 AND {MAX_PAYER_DAYS}", "corrected_filing_range"),
        CheckConstraint(f"follow_up_days BETWEEN 1 AND {MAX_PAYER_DAYS}", "follow_up_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    payer_type: Mapped[PayerType] = mapped_column(enum_column(PayerType))
    edi_payer_id: Mapped[str | None] = mapped_column(String(80))  # 2010BB NM109
    claim_filing_indicator: Mapped[str] = mapped_column(String(2))  # SBR09, see reference.py
    edi_enabled: Mapped[bool] = mapped_column(default=False)
    requires_authorization: Mapped[bool] = mapped_column(default=False)
    #: How this payer counts timed minutes; each code's own rule still says whether it is timed.
    rounding_rule: Mapped[PayerRoundingRule] = mapped_column(
        enum_column(PayerRoundingRule),
        default=PayerRoundingRule.PER_CODE,
        server_default=PayerRoundingRule.PER_CODE.value,
    )
    active: Mapped[bool] = mapped_column(default=True)
    #: Paper payers get their Ready claims on the Print claims page, never in an 837P batch.
    claim_channel: Mapped[ClaimChannel] = mapped_column(
        enum_column(ClaimChannel), default=ClaimChannel.EDI, server_default=ClaimChannel.EDI.value
    )
    #: Where this payer's 837P files go, and the id that clearinghouse knows the payer by (2010BB NM109).
    clearinghouse_id: Mapped[int | None] = mapped_column(ForeignKey("clearinghouse.id"), index=True)
    clearinghouse_payer_id: Mapped[str | None] = mapped_column(String(80))
    #: Timely filing: days from the service date an original claim has to reach this payer.
    filing_limit_days: Mapped[int] = mapped_column(default=DEFAULT_FILING_LIMIT_DAYS,
                                                   server_default=str(DEFAULT_FILING_LIMIT_DAYS))
    #: Days a corrected claim (or the fix of a denied one) has, counted from the payer's last adjudication of the
    #: claim it fixes; never ending before the original deadline (billing/payments/filing.py).
    corrected_filing_days: Mapped[int] = mapped_column(default=DEFAULT_CORRECTED_FILING_DAYS,
                                                       server_default=str(DEFAULT_CORRECTED_FILING_DAYS))
    #: A sent claim the payer has not answered for this many days joins the follow-up queue.
    follow_up_days: Mapped[int] = mapped_column(default=DEFAULT_FOLLOW_UP_DAYS,
                                                server_default=str(DEFAULT_FOLLOW_UP_DAYS))

    company: Mapped[Company] = relationship()
    clearinghouse: Mapped[Clearinghouse | None] = relationship(back_populates="payers")

    def __str__(self) -> str:
        return self.name


class PayerAlias(db.Model):
    """A name a payer prints on its 835s (N1*PR) that a biller taught us means one of our payers.

    `name` is kept normalised (see billing/coverage/payer_names.py) and is unique: one name, one payer.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("payer.id"), index=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    payer: Mapped[Payer] = relationship()


class PolicyRank(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    TERTIARY = "tertiary"


class SubscriberRelationship(StrEnum):
    """The patient's relationship to the subscriber, with its X12 individual relationship code."""

    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    OTHER = "other"

    @property
    def x12_code(self) -> str:
        return {"self": "18", "spouse": "01", "child": "19", "other": "G8"}[self.value]


class InsurancePolicy(db.Model):
    """A client's coverage with one payer, in a rank, between two dates."""

    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= effective_on", "ends_after_start"),
        CheckConstraint("length(member_id) > 0", "member_id_present"),
        Index("ix_insurance_policy_client_rank", "client_id", "rank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"))
    payer_id: Mapped[int] = mapped_column(ForeignKey("payer.id"), index=True)
    rank: Mapped[PolicyRank] = mapped_column(enum_column(PolicyRank))
    member_id: Mapped[str] = mapped_column(String(80))
    group_number: Mapped[str | None] = mapped_column(String(50))
    relationship_to_subscriber: Mapped[SubscriberRelationship] = mapped_column(
        enum_column(SubscriberRelationship), default=SubscriberRelationship.SELF
    )
    # Subscriber fields stay empty when the client is the subscriber (relationship "self").
    subscriber_first_name: Mapped[str | None] = mapped_column(String(35))
    subscriber_last_name: Mapped[str | None] = mapped_column(String(60))
    subscriber_date_of_birth: Mapped[date | None]
    subscriber_sex: Mapped[Sex | None] = mapped_column(enum_column(Sex))
    effective_on: Mapped[date]
    ends_on: Mapped[date | None]

    client: Mapped[Client] = relationship()
    payer: Mapped[Payer] = relationship()

    def is_active_on(self, day: date) -> bool:
        return self.effective_on <= day and (self.ends_on is None or day <= self.ends_on)

    def __str__(self) -> str:
        return f"{self.payer} {self.rank.value} #{self.member_id}"


class RoundingRule(StrEnum):
    """How session minutes become billed units."""

    WHOLE_UNITS = "whole_units"  # only completed units count (15-minute units: 29 min -> 1)
    CMS_8_MINUTE = "cms_8_minute"  # CMS timed-code rule: 8-22 min -> 1, 23-37 -> 2, ...
    PER_VISIT = "per_visit"  # untimed codes (e.g. 92507, 90837): one unit per session

    @property
    def label(self) -> str:
        return {
            "whole_units": "Whole units only",
            "cms_8_minute": "CMS 8-minute rule",
            "per_visit": "One unit per visit",
        }[self.value]


class ServiceCode(db.Model):
    """A billable CPT/HCPCS code as this company uses it."""

    __table_args__ = (
        UniqueConstraint("company_id", "code"),
        CheckConstraint("minutes_per_unit > 0", "minutes_per_unit_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    code: Mapped[str] = mapped_column(String(5))
    description: Mapped[str] = mapped_column(String(120))
    default_modifiers: Mapped[str] = mapped_column(String(11), default="")  # "HN:95"
    minutes_per_unit: Mapped[int] = mapped_column(default=15)
    rounding_rule: Mapped[RoundingRule] = mapped_column(
        enum_column(RoundingRule), default=RoundingRule.WHOLE_UNITS
    )
    active: Mapped[bool] = mapped_column(default=True)

    company: Mapped[Company] = relationship()

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class FeeSchedule(db.Model):
    """Rates per unit for a payer (or the practice default when no payer) over a period."""

    __table_args__ = (
        UniqueConstraint("company_id", "name"),
        CheckConstraint("ends_on IS NULL OR ends_on >= effective_on", "ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id"), index=True)  # None: default
    name: Mapped[str] = mapped_column(String(80))
    effective_on: Mapped[date]
    ends_on: Mapped[date | None]

    company: Mapped[Company] = relationship()
    payer: Mapped[Payer | None] = relationship()
    rates: Mapped[list[FeeScheduleRate]] = relationship(
        back_populates="fee_schedule", cascade="all, delete-orphan", order_by="FeeScheduleRate.id"
    )

    def __str__(self) -> str:
        return self.name


class FeeScheduleRate(db.Model):
    """The rate per unit for one code and modifier combination ('' = no modifiers)."""

    __table_args__ = (
        UniqueConstraint("fee_schedule_id", "service_code_id", "modifiers"),
        CheckConstraint("rate >= 0", "rate_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fee_schedule_id: Mapped[int] = mapped_column(ForeignKey("fee_schedule.id", ondelete="CASCADE"))
    service_code_id: Mapped[int] = mapped_column(ForeignKey("service_code.id"), index=True)
    modifiers: Mapped[str] = mapped_column(String(11), default="")
    rate: Mapped[Decimal]

    fee_schedule: Mapped[FeeSchedule] = relationship(back_populates="rates")
    service_code: Mapped[ServiceCode] = relationship()

    def __str__(self) -> str:
        mods = f":{self.modifiers}" if self.modifiers else ""
        return f"{self.service_code.code}{mods} @ {self.rate}"


# "authorization" is a reserved word in PostgreSQL, hence the longer table names.
authorization_service_code = Table(
    "service_authorization_code",
    db.metadata,
    Column("authorization_id", ForeignKey("service_authorization.id", ondelete="CASCADE"), primary_key=True),
    Column("service_code_id", ForeignKey("service_code.id"), primary_key=True),
)


class Authorization(db.Model):
    """Payer approval for units of some services in a date range; units used are derived, not typed."""

    __tablename__ = "service_authorization"
    __table_args__ = (
        CheckConstraint("units_approved > 0", "units_positive"),
        CheckConstraint("ends_on >= starts_on", "ends_after_start"),
        UniqueConstraint("policy_id", "number"),
        # The front page counts authorizations ending within 30 days: a range of this index, not every one.
        Index("ix_service_authorization_ends_on", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("insurance_policy.id"), index=True)
    number: Mapped[str] = mapped_column(String(50))  # as printed on the payer letter; 837 REF*G1
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    units_approved: Mapped[int]
    notes: Mapped[str | None] = mapped_column(String(500))

    client: Mapped[Client] = relationship()
    policy: Mapped[InsurancePolicy] = relationship()
    service_codes: Mapped[list[ServiceCode]] = relationship(
        secondary=authorization_service_code, order_by="ServiceCode.code"
    )

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on

    def __str__(self) -> str:
        return f"{self.number} ({self.starts_on:%m/%d/%Y}-{self.ends_on:%m/%d/%Y})"
