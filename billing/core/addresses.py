"""The postal address columns shared by companies, locations, clients and payers."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column


class AddressMixin:
    """Street address as the 837P N3/N4 segments carry it (ZIP stored as digits only)."""

    address_line1: Mapped[str | None] = mapped_column(String(55))
    address_line2: Mapped[str | None] = mapped_column(String(55))
    city: Mapped[str | None] = mapped_column(String(30))
    state: Mapped[str | None] = mapped_column(String(2))
    zip_code: Mapped[str | None] = mapped_column(String(9))

    @property
    def address_text(self) -> str:
        street = ", ".join(p for p in (self.address_line1, self.address_line2) if p)
        town = town_line(self.city, self.state, self.zip_code)
        return " · ".join(p for p in (street, town) if p)


def zip_text(digits: str | None) -> str:
    """A ZIP as printed: five digits, or ZIP+4 with its hyphen."""
    return f"{digits[:5]}-{digits[5:]}" if digits and len(digits) == 9 else digits or ""


def town_line(city: str | None, state: str | None, zip_digits: str | None) -> str:
    """"City, ST 12345-6789", leaving out what is missing."""
    return " ".join(p for p in (f"{city}," if city else "", state or "", zip_text(zip_digits)) if p)


def envelope_lines(line1: str | None, line2: str | None, city: str | None, state: str | None,
                   zip_digits: str | None) -> tuple[str, ...]:
    """An address as an envelope window shows it: the street lines, then the town line (empty ones left out)."""
    return tuple(p for p in (line1, line2, town_line(city, state, zip_digits)) if p)
