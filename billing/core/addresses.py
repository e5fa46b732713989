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
        zip_code = self.zip_code or ""
        if len(zip_code) == 9:
            zip_code = f"{zip_code[:5]}-{zip_code[5:]}"
        town = " ".join(p for p in (f"{self.city}," if self.city else "", self.state or "", zip_code) if p)
        return " · ".join(p for p in (street, town) if p)
