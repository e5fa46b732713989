"""Claims, their service lines and their diagnoses: a snapshot of what was billed, line by line."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, FetchedValue, ForeignKey, Index, Numeric, String, UniqueConstraint, false
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.claims.line_denials import LineDenialState
from billing.claims.statuses import ClaimStatus
from billing.core.db import db, enum_column, utcnow
from billing.core.money import ZERO
from billing.coverage.models import Authorization, InsurancePolicy, Payer, PolicyRank, ServiceCode
from billing.org.models import Location
from billing.people.models import Client, Provider
from billing.sessions.models import TherapySession

NUMBER_PREFIX = "C-"
_NUMBER = re.compile(r"C-?(\d{1,12})", re.IGNORECASE)


#: REF02 (the payer's claim number in REF*F8) is at most 50 characters in the 837P; the column is as wide.
PAYER_CLAIM_NUMBER_MAX = 50
#: Characters the 837P uses as delimiters (element, component, repetition, segment): never inside a value.
X12_RESERVED = frozenset("*:^~")


def payer_claim_number_problem(value: str | None) -> str | None:
    """Why this payer claim number (ICN) cannot go out in REF*F8, or None. Identifiers are refused, never altered."""
    text = (value or "").strip()
    if not text:
        return "The payer's claim number (ICN) is missing."
    if len(text) > PAYER_CLAIM_NUMBER_MAX:
        return f"The payer's claim number is {len(text)} characters; REF*F8 takes at most {PAYER_CLAIM_NUMBER_MAX}."
    if X12_RESERVED & set(text):
        return f"The payer's claim number {text!r} contains a character X12 reserves (* : ^ ~)."
    if not (text.isascii() and text.isprintable()):
        return f"The payer's claim number {text!r} contains characters outside plain ASCII."
    return None


def claim_number(claim_id: int) -> str:
    """The claim number people see and CLM01 carries: "C-" and the id, six digits at least."""
    return f"{NUMBER_PREFIX}{claim_id:06d}"


#: Claim columns linking it to other claims or to a forwarding payer (each indexed where set, see Claim).
_LINKS = ("original_claim_id", "primary_claim_id", "family_id", "resubmission_of_id", "forwarded_by_payer_id")


class Claim(db.Model):
    """One bill to one payer for one client, rendering provider and service date."""

    __table_args__ = (
        CheckConstraint("frequency_code IN ('1', '7', '8')", "frequency_code_known"),
        CheckConstraint("total_charge >= 0", "total_not_negative"),
        CheckConstraint("frequency_code = '1' OR original_claim_id IS NOT NULL", "correction_has_original"),
        Index("ix_claim_grouping", "client_id", "rendering_provider_id", "service_date", "payer_id"),
        Index("ix_claim_status_date", "status", "service_date"),
        # A status tab newest first reads this index backwards and stops at the page (no scan of other statuses).
        Index("ix_claim_status_id", "status", "id"),
        # The few claims a biller must review, found without reading the others (queries say `needs_review = true`).
        Index("ix_claim_needs_review", "id", postgresql_where=sql_text("needs_review = true"),
              sqlite_where=sql_text("needs_review = 1")),
        # The Dashboard's claim figures read these columns alone for a range of service dates (a covering index).
        Index("ix_claim_dashboard", "service_date", "status", "location_id", "payer_id", "total_charge"),
        # The claims queue: a tab's count, totals and newest page read this index alone (no table lookups, no sort).
        Index("ix_claim_status_self_pay", "status", "self_pay", "id", "total_charge"),
        # The queue's search by ICN reads the few claims that carry one, not every claim.
        Index("ix_claim_payer_claim_number", "payer_claim_number",
              postgresql_where=sql_text("payer_claim_number IS NOT NULL"),
              sqlite_where=sql_text("payer_claim_number IS NOT NULL")),
        # "Due by": the claims of a waiting status whose kept filing deadline falls on or before a day, as a range
        # read from the index alone (the scope's location and the billed amount ride along).
        # (The id rides along too: the live-claim test joins on it, so a count stays an index-only read.)
        Index("ix_claim_status_deadline", "status", "filing_deadline", "location_id", "total_charge", "id"),
        # The live corrections (frequency 7, not voided) that make their original no longer live: a handful among
        # a million claims, which the live-claim test (billing/claims/queries.py) reads instead of every claim.
        Index("ix_claim_live_corrections", "original_claim_id",
              postgresql_where=sql_text("frequency_code = '7' AND status <> 'voided'"),
              sqlite_where=sql_text("frequency_code = '7' AND status <> 'voided'")),
        # The rules' duplicate check finds a client's other claims of the same day. Without this index SQLite
        # picks ix_claim_dashboard (every claim of that day) and the check grows with the whole company's volume.
        Index("ix_claim_client_date", "client_id", "service_date"),
        # Rows that name claims (the open failed charges: thousands at a billing company) join the claim for its
        # location (the scope) and billed total: with both beside the id, each is an index-only probe instead of
        # a read of the claim's row, or of every claim's (the Dashboard's failures by rule: 180 -> 24 ms at 1M).
        Index("ix_claim_id_location_charge", "id", "location_id", "total_charge"),
        # The follow-up queue and the front page's count: the Submitted claims billed to a payer, read from the
        # index alone. Those billed to patients are Submitted too (most of them at the demo's scale) and never read.
        Index("ix_claim_awaiting_payer", "id", "location_id", "payer_id", "created_at",
              postgresql_where=sql_text("status = 'submitted' AND self_pay = false"),
              sqlite_where=sql_text("status = 'submitted' AND self_pay = 0")),
        # The family and crossover links, null on nearly every claim: indexed where set, so writing a claim does
        # not add an entry to each for nothing (a query `column = value` matches set values only).
        *(Index(f"ix_claim_{column}", column, postgresql_where=sql_text(f"{column} IS NOT NULL"),
                sqlite_where=sql_text(f"{column} IS NOT NULL")) for column in _LINKS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[ClaimStatus] = mapped_column(enum_column(ClaimStatus))
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"))
    # Null when the client had no active primary policy on the date: the claim is then Held.
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("insurance_policy.id"), index=True)
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id"), index=True)
    rendering_provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    service_date: Mapped[date]
    place_of_service: Mapped[str] = mapped_column(String(2))
    #: CLM05-3: 1 original, 7 replacement of a prior claim, 8 void of a prior claim.
    frequency_code: Mapped[str] = mapped_column(String(1), default="1")
    original_claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"))
    #: The payer's claim control number (CLP07 / 277CA), sent back in REF*F8 on corrections and voids.
    payer_claim_number: Mapped[str | None] = mapped_column(String(50))
    total_charge: Mapped[Decimal] = mapped_column(default=ZERO)  # sum of lines, kept by recompute_totals
    hold_reason: Mapped[str | None] = mapped_column(String(1000))
    void_reason: Mapped[str | None] = mapped_column(String(500))
    #: Voided after it reached the payer: the next batch must carry a frequency-8 void for it.
    void_to_send: Mapped[bool] = mapped_column(default=False)
    needs_review: Mapped[bool] = mapped_column(default=False)
    #: Billed to the patient, never to a payer (a self-pay payer, or no insurance on the date): its charge goes to
    #: the patient's balance, and it is never batched or sent (billing/claims/patient_billing.py).
    self_pay: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Which of the client's payers this claim bills; secondary claims carry the primary's adjudication (COB).
    payer_rank: Mapped[PolicyRank] = mapped_column(enum_column(PolicyRank), default=PolicyRank.PRIMARY)
    #: For a secondary (or tertiary) claim: the claim the previous payer adjudicated.
    primary_claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"))
    #: The family's root claim (its first original): corrections, voids, secondary, tertiary and crossover claims
    #: and resubmissions of denied lines share it. Null on the root itself (its family id is its own id).
    family_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"))
    #: For a resubmission of denied lines: the claim whose lines it repeats.
    resubmission_of_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"))
    #: A crossover: the payer that forwarded the claim to this claim's payer (CLP02 19/20/21); never sent by us.
    forwarded_by_payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    #: The last day this claim (or its fix) can reach its payer; null when it has none (no payer, self-pay). Kept by
    #: the database (billing/payments/deadline_triggers.py), never written by the application: read it with a query,
    #: as an adjudication posted in this session may have moved it.
    filing_deadline: Mapped[date | None] = mapped_column(server_default=FetchedValue(),
                                                         server_onupdate=FetchedValue())

    __mapper_args__ = {"version_id_col": version}  # a stale edit fails instead of overwriting

    client: Mapped[Client] = relationship()
    policy: Mapped[InsurancePolicy | None] = relationship()
    payer: Mapped[Payer | None] = relationship(foreign_keys=[payer_id])
    forwarded_by_payer: Mapped[Payer | None] = relationship(foreign_keys=[forwarded_by_payer_id])
    rendering_provider: Mapped[Provider] = relationship()
    location: Mapped[Location] = relationship()
    original_claim: Mapped[Claim | None] = relationship(remote_side=[id], foreign_keys=[original_claim_id])
    primary_claim: Mapped[Claim | None] = relationship(remote_side=[id], foreign_keys=[primary_claim_id])
    lines: Mapped[list[ClaimLine]] = relationship(
        back_populates="claim", order_by="ClaimLine.line_number", cascade="all, delete-orphan"
    )
    diagnoses: Mapped[list[ClaimDiagnosis]] = relationship(
        back_populates="claim", order_by="ClaimDiagnosis.position", cascade="all, delete-orphan"
    )

    @property
    def family_root_id(self) -> int:
        """The id every member of this claim's family shares (the root's own id on the root)."""
        return self.family_id or self.id

    @property
    def number(self) -> str:
        """Human claim number, also CLM01 (patient control number)."""
        return claim_number(self.id) if self.id else "(new)"

    @staticmethod
    def id_from_number(number: str) -> int | None:
        match = _NUMBER.fullmatch(number.strip())
        return int(match.group(1)) if match else None

    def __str__(self) -> str:
        return self.number


class ClaimLine(db.Model):
    """One service line (837P loop 2400), usually one finalized session."""

    __table_args__ = (
        UniqueConstraint("claim_id", "line_number"),
        CheckConstraint("units > 0", "units_positive"),
        CheckConstraint("rate >= 0", "rate_not_negative"),
        CheckConstraint("line_number BETWEEN 1 AND 50", "at_most_50_lines"),  # the 837P limit per claim
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"))
    line_number: Mapped[int]
    session_id: Mapped[int | None] = mapped_column(ForeignKey("therapy_session.id"), index=True)
    service_code_id: Mapped[int] = mapped_column(ForeignKey("service_code.id"))
    modifiers: Mapped[str] = mapped_column(String(11), default="")
    service_date: Mapped[date]
    minutes: Mapped[int | None]
    units: Mapped[int]
    rate: Mapped[Decimal]
    charge: Mapped[Decimal]  # units x rate, exact
    place_of_service: Mapped[str] = mapped_column(String(2))
    #: Up to four 1-based positions into the claim's diagnoses, e.g. "1:2" (SV107).
    diagnosis_pointers: Mapped[str] = mapped_column(String(11), default="1")
    authorization_id: Mapped[int | None] = mapped_column(ForeignKey("service_authorization.id"), index=True)
    #: Posting rule 3: None unless the payer denied this line (billing/claims/line_denials.py).
    denial_state: Mapped[LineDenialState | None] = mapped_column(enum_column(LineDenialState), index=True)
    denied_on: Mapped[date | None]  # the payer's date of the denial (the 835's or EOB's paid date)

    claim: Mapped[Claim] = relationship(back_populates="lines")
    session: Mapped[TherapySession | None] = relationship()
    service_code: Mapped[ServiceCode] = relationship()
    authorization: Mapped[Authorization | None] = relationship()


class ClaimDiagnosis(db.Model):
    """The claim's ICD-10 codes in order (HI segment), copied from the client's chart."""

    __table_args__ = (UniqueConstraint("claim_id", "position"), CheckConstraint("position BETWEEN 1 AND 12", "pos"))

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(8))

    claim: Mapped[Claim] = relationship(back_populates="diagnoses")


class ClaimDayCount(db.Model):
    """How many claims, and their billed dollars, per service day, location, payer, status and self-pay: kept by
    database triggers on `claim` (billing/claims/day_counts.py) so the Dashboard and the claims queue's tab counts
    never count the claim table itself.
    Never written by the application; a key whose claims all moved on keeps a row of zeros."""

    service_date: Mapped[date] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(primary_key=True)
    #: 0 for claims without a payer (a key column cannot be null).
    payer_id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[ClaimStatus] = mapped_column(enum_column(ClaimStatus), primary_key=True)
    #: Billed to the patient (Claim.self_pay): the claims queue's payer tabs leave these out.
    self_pay: Mapped[bool] = mapped_column(primary_key=True)
    claims: Mapped[int] = mapped_column(default=0)
    billed: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=ZERO)


class ClaimDeadlineCount(db.Model):
    """How many claims, and their billed dollars, per filing deadline, location and status: kept by database
    triggers on `claim` (billing/claims/deadline_counts.py) so "how many claims are near their deadline" (the front
    page, the Dashboard, the Filing deadlines page) reads a few rows per day, not every claim near it.
    Claims without a deadline are not counted. Never written by the application; a key whose claims all moved on
    keeps a row of zeros."""

    filing_deadline: Mapped[date] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[ClaimStatus] = mapped_column(enum_column(ClaimStatus), primary_key=True)
    claims: Mapped[int] = mapped_column(default=0)
    billed: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=ZERO)
