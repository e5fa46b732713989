"""Company, practice and location: every other record hangs off one of them."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.core.addresses import AddressMixin
from billing.core.db import db


class Company(AddressMixin, db.Model):
    """The billing entity: its tax id and group NPI go on every claim (837P loop 2010AA)."""

    __table_args__ = (
        CheckConstraint("length(tax_id) = 9", "tax_id_9_digits"),
        CheckConstraint("length(group_npi) = 10", "group_npi_10_digits"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(60), unique=True)
    tax_id: Mapped[str] = mapped_column(String(9))  # EIN, digits only
    group_npi: Mapped[str] = mapped_column(String(10), unique=True)
    taxonomy_code: Mapped[str | None] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(10))
    # Pay-to address (loop 2010AB) only when payments go somewhere other than the billing address.
    pay_to_address_line1: Mapped[str | None] = mapped_column(String(55))
    pay_to_address_line2: Mapped[str | None] = mapped_column(String(55))
    pay_to_city: Mapped[str | None] = mapped_column(String(30))
    pay_to_state: Mapped[str | None] = mapped_column(String(2))
    pay_to_zip_code: Mapped[str | None] = mapped_column(String(9))

    practices: Mapped[list[Practice]] = relationship(back_populates="company", order_by="Practice.name")

    def __str__(self) -> str:
        return self.legal_name


class Practice(db.Model):
    """A clinical line of business inside a company (e.g. ABA, or PT/OT/Speech)."""

    __table_args__ = (UniqueConstraint("company_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))

    company: Mapped[Company] = relationship(back_populates="practices")
    locations: Mapped[list[Location]] = relationship(back_populates="practice", order_by="Location.name")

    def __str__(self) -> str:
        return self.name


class Location(AddressMixin, db.Model):
    """A place where sessions happen; its facility NPI and POS default onto sessions and claims."""

    __table_args__ = (
        UniqueConstraint("practice_id", "name"),
        CheckConstraint("length(place_of_service) = 2", "pos_2_chars"),
        CheckConstraint("facility_npi IS NULL OR length(facility_npi) = 10", "facility_npi_10_digits"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    place_of_service: Mapped[str] = mapped_column(String(2), default="11")
    facility_npi: Mapped[str | None] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(10))

    practice: Mapped[Practice] = relationship(back_populates="locations")

    def __str__(self) -> str:
        return self.name
