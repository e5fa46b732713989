"""How values look in grids: US dates, money with cents, check marks, enum labels."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any

from flask import has_request_context
from flask_admin.model import typefmt
from markupsafe import Markup

from billing.core.money import format_money
from billing.core.time import practice_timezone


def _date(view: Any, value: date, name: str | None = None) -> str:
    return value.strftime("%m/%d/%Y")


def _datetime(view: Any, value: datetime, name: str | None = None) -> str:
    return value.astimezone().strftime("%m/%d/%Y %H:%M")


def _time(view: Any, value: time, name: str | None = None) -> str:
    return value.strftime("%H:%M")


def _bool(view: Any, value: bool, name: str | None = None) -> Markup:
    if value:
        return Markup('<span class="text-success" title="yes">&#10003;</span>')
    return Markup('<span class="text-muted" title="no">&mdash;</span>')


def _enum(view: Any, value: StrEnum, name: str | None = None) -> str:
    return enum_label(value)


def _money(view: Any, value: Decimal, name: str | None = None) -> str:
    return format_money(value)


def enum_label(value: StrEnum) -> str:
    return getattr(value, "label", None) or value.value.replace("_", " ").capitalize()


# Order matters: Flask-Admin takes the first isinstance match, and datetime is a date, bool an int.
TYPE_FORMATTERS = {
    type(None): typefmt.empty_formatter,
    bool: _bool,
    StrEnum: _enum,
    datetime: _datetime,
    date: _date,
    time: _time,
    Decimal: _money,
    list: typefmt.list_formatter,
}


def enum_choices(enum_cls: type[StrEnum]) -> list[tuple[str, str]]:
    return [(m.value, enum_label(m)) for m in enum_cls]


def code_choices(codes: dict[str, str]) -> list[tuple[str, str]]:
    return [(code, f"{code} – {label}") for code, label in codes.items()]


def lazy_options(fetch: Callable[[], list[tuple[Any, str]]]) -> Callable[[], list[tuple[Any, str]]]:
    """Filter options read from the database per request (Flask-Admin also calls this at start-up)."""

    def options() -> list[tuple[Any, str]]:
        return fetch() if has_request_context() else []

    return options


def words_upto(text: str | None, width: int) -> str:
    """`text` cut to at most `width` characters at a word boundary, with an ellipsis when cut (never mid-word)."""
    text = " ".join((text or "").split())
    if len(text) <= width:
        return text
    cut = text[: width + 1].rsplit(" ", 1)[0] if " " in text[: width + 1] else text[:width]
    return cut.rstrip(" ,;:.-") + "…"


def practice_datetime(value: datetime | None) -> str:
    """A stored (UTC) moment on the practice's clock, its time zone labelled: 12/04/2026 09:15 CST."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(practice_timezone()).strftime("%m/%d/%Y %H:%M %Z")
