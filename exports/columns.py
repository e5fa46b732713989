"""What a sheet holds: typed columns, the rows, and an optional chart over its data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    TEXT = "text"
    MONEY = "money"
    DATE = "date"
    INTEGER = "integer"


#: Starting widths (characters) before the rows are measured.
MIN_WIDTH = {Kind.TEXT: 8, Kind.MONEY: 14, Kind.DATE: 12, Kind.INTEGER: 8}
MAX_WIDTH = 60


@dataclass(frozen=True)
class Column:
    title: str
    kind: Kind = Kind.TEXT
    #: Summed in the totals row (money and integer columns only).
    total: bool = False


@dataclass(frozen=True)
class Chart:
    """A bar chart over the sheet's own rows: categories from one column, one series per value column."""

    title: str
    category_column: int  # 0-based index into the sheet's columns
    value_columns: tuple[int, ...]
    y_title: str = ""
    stacked: bool = False


@dataclass
class Sheet:
    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    totals: bool = True
    charts: Sequence[Chart] = field(default_factory=tuple)


@dataclass(frozen=True)
class TitleBlock:
    """The lines above the header row: what this is, for whom, with which filters, made when and by whom."""

    report_title: str
    company: str
    filters: Sequence[tuple[str, str]]
    generated_at: datetime
    generated_by: str

    def lines(self) -> list[str]:
        filters = "; ".join(f"{name}: {value}" for name, value in self.filters) or "none"
        return [
            self.report_title,
            f"Company: {self.company}",
            f"Filters: {filters}",
            f"Generated {self.generated_at:%Y-%m-%d %H:%M %Z} by {self.generated_by}".replace("  ", " "),
        ]
