"""Users (staff logins), providers (who render care) and clients (who receive it)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, event, false, inspect, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from billing.core.addresses import AddressMixin
from billing.core.db import db, enum_column, utcnow
from billing.core.secrets import EncryptedText
from billing.org.models import Company, Location
from billing.people.statement_parties import PARTY_COLUMNS, party_key, statement_name


class Role(StrEnum):
    ADMIN = "admin"
    OFFICE_MANAGER = "office_manager"
    BILLER = "biller"
    ACCOUNTANT = "accountant"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class User(db.Model):
    """A staff login. The role decides every page and action (admin_views.permissions)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Part of the login cookie's id: raising it ends every session the user has open (logout, password,
    #: role or activity change, two-factor reset), since the cookie itself cannot be recalled.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    #: Wrong passwords (or codes) since the last good login or lockout; the lockout starts at the limit.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    #: Base32 TOTP secret, set once the user has confirmed a code from their app; None = not enrolled.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)  # a Fernet token in the database
    #: The last 30-second step a code was accepted for: the same code cannot log in twice.
    totp_last_step: Mapped[int | None]
    mfa_enrolled_at: Mapped[datetime | None]

    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="RecoveryCode.id"
    )

    @property
    def mfa_enrolled(self) -> bool:
        return self.totp_secret is not None

    # Flask-Login protocol.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # The session version rides in the id, so the user loader refuses a cookie from before a bump.
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator app; only its SHA-256 is kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="recovery_codes")


#: Changing one of these ends the user's open sessions (45 CFR 164.312(d): a changed credential or a
#: narrowed access must take effect now, not when an old cookie happens to expire).
SESSION_ENDING_CHANGES = ("password_hash", "role", "active")


@event.listens_for(Session, "before_flush")
def _end_sessions_on_access_change(session: Session, flush_context: Any, instances: Any) -> None:
    for user in session.dirty:
        if isinstance(user, User) and user.id is not None and _access_changed(user):
            user.session_version = (user.session_version or 0) + 1


def _access_changed(user: User) -> bool:
    state = inspect(user)
    return any(state.attrs[name].history.has_changes() for name in SESSION_ENDING_CHANGES)


class Sex(StrEnum):
    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"


class Provider(db.Model):
    """A rendering provider (BCBA, RBT, PT, SLP...); their NPI goes to 837P loop 2310B."""

    __table_args__ = (CheckConstraint("length(npi) = 10", "npi_10_digits"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(35))
    last_name: Mapped[str] = mapped_column(String(60))
    credentials: Mapped[str | None] = mapped_column(String(30))  # e.g. BCBA, PT, CCC-SLP
    npi: Mapped[str] = mapped_column(String(10), unique=True)
    taxonomy_code: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True)

    company: Mapped[Company] = relationship()

    @property
    def full_name(self) -> str:
        suffix = f", {self.credentials}" if self.credentials else ""
        return f"{self.first_name} {self.last_name}{suffix}"

    def __str__(self) -> str:
        return self.full_name


class Client(AddressMixin, db.Model):
    """A person receiving therapy; minors carry a responsible party who receives patient statements."""

    # The Clients list sorts by name: one index in that order lets a page read 20 rows, not every client.
    __table_args__ = (
        Index("ix_client_last_name_first_name", "last_name", "first_name"),
        # The front page counts active clients (per location in a scope) from this index alone, not the table.
        Index("ix_client_active_location", "location_id", postgresql_where=text("active"),
              sqlite_where=text("active")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    account_number: Mapped[str] = mapped_column(String(20), unique=True)  # printed on statements
    first_name: Mapped[str] = mapped_column(String(35))
    last_name: Mapped[str] = mapped_column(String(60), index=True)
    date_of_birth: Mapped[date]
    sex: Mapped[Sex] = mapped_column(enum_column(Sex))
    phone: Mapped[str | None] = mapped_column(String(10))
    responsible_party_name: Mapped[str | None] = mapped_column(String(120))
    responsible_party_relationship: Mapped[str | None] = mapped_column(String(30))
    responsible_party_phone: Mapped[str | None] = mapped_column(String(10))
    #: Stops patient statements for this client (a family on a payment plan, a dispute, a collections account).
    no_statements: Mapped[bool] = mapped_column(default=False, server_default=false())
    active: Mapped[bool] = mapped_column(default=True)
    #: Who shares this client's statement and where it sorts (billing/people/statement_parties.py): worked out
    #: from the name and address columns on every save, never entered. The defaults cover Core inserts (the
    #: demo seed, bulk imports); the listeners below cover the ORM's inserts and updates.
    statement_party: Mapped[str | None] = mapped_column(
        String(400), default=lambda context: party_key(_inserted(context)))
    statement_name: Mapped[str] = mapped_column(
        String(120), default=lambda context: statement_name(_inserted(context)), server_default="")

    location: Mapped[Location] = relationship()
    diagnoses: Mapped[list[ClientDiagnosis]] = relationship(
        back_populates="client", order_by="ClientDiagnosis.position", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def __str__(self) -> str:
        return f"{self.full_name} ({self.account_number})"


def _inserted(context: Any) -> dict[str, Any]:
    return context.get_current_parameters()


@event.listens_for(Client, "before_insert")
@event.listens_for(Client, "before_update")
def _keep_statement_party(mapper: Any, connection: Any, client: Client) -> None:
    values = {name: getattr(client, name) for name in PARTY_COLUMNS}
    client.statement_party = party_key(values)
    client.statement_name = statement_name(values)


class ClientDiagnosis(db.Model):
    """An ICD-10-CM code on the client's chart; `position` 1 is the primary diagnosis (HI01)."""

    __table_args__ = (
        UniqueConstraint("client_id", "position"),
        UniqueConstraint("client_id", "code"),
        CheckConstraint("position BETWEEN 1 AND 12", "position_1_to_12"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(8))  # without the dot, as in the 837 HI segment
    description: Mapped[str | None] = mapped_column(String(120))

    client: Mapped[Client] = relationship(back_populates="diagnoses")

    @property
    def display_code(self) -> str:
        return f"{self.code[:3]}.{self.code[3:]}" if len(self.code) > 3 else self.code

    def __str__(self) -> str:
        return self.display_code
