"""How values look in grids and pages: US dates, moments on the practice's clock with its zone, money with cents,
check marks, enum labels."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any

from flask import g, has_request_context
from flask_admin.model import typefmt
from markupsafe import Markup

from billing.core.money import format_money
from billing.core.time import practice_moment, practice_timezone

#: A moment as every page shows it: the practice's wall clock, labelled with the zone's abbreviation.
MOMENT_FORMAT = "%m/%d/%Y %H:%M %Z"


def _date(view: Any, value: date, name: str | None = None) -> str:
    return value.strftime("%m/%d/%Y")


def local_time(moment: datetime | None, weekday: bool = False) -> str:
    """A stored moment (aware, UTC) on the practice's clock, with its zone: "12/04/2026 09:15 CST". The one place a
    page turns a timestamp into text (the `local_time` template filter, the grids, the jobs page); "" for None."""
    if moment is None:
        return ""
    shown = practice_moment(moment)
    return shown.strftime(f"%a {MOMENT_FORMAT}" if weekday else MOMENT_FORMAT)


def _datetime(view: Any, value: datetime, name: str | None = None) -> str:
    return local_time(value)


def _time(view: Any, value: time, name: str | None = None) -> str:
    return value.strftime("%H:%M")


#: The app's icons, drawn as inline SVG (no emoji: a lock emoji rendered as an empty box where the font lacks it;
#: no icon font or file to fetch). Paths on a 16 x 16 grid, filled or stroked in the text's colour.
ICONS: dict[str, Markup] = {
    "lock": Markup('<rect x="3" y="7" width="10" height="8" rx="1.5" fill="currentColor"/>'
                   '<path d="M5 7V5a3 3 0 0 1 6 0v2" fill="none" stroke="currentColor" stroke-width="1.6"/>'),
    "check": Markup('<path d="M2.5 8.5l3.5 3.5 7.5-8" fill="none" stroke="currentColor" stroke-width="2" '
                    'stroke-linecap="round" stroke-linejoin="round"/>'),
}


def icon(name: str, title: str = "") -> Markup:
    """An inline SVG icon (ICONS) sized to the text; `title` is what a screen reader says (none: decorative)."""
    label = Markup(' role="img" aria-label="{}"').format(title) if title else Markup(' aria-hidden="true"')
    return Markup('<svg class="cd-icon" data-icon="{}" viewBox="0 0 16 16" focusable="false"{}>{}</svg>').format(
        name, label, ICONS[name])


def _bool(view: Any, value: bool, name: str | None = None) -> Markup:
    if value:
        return Markup('<span class="text-success" title="yes">{}</span>').format(icon("check", "yes"))
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
    """Filter options read from the database once per request (Flask-Admin also calls this at start-up, and once
    per operation of a filter: equals, not equal, in list... share one read)."""

    def options() -> list[tuple[Any, str]]:
        if not has_request_context():
            return []
        read = g.setdefault("filter_options", {})
        if fetch not in read:
            read[fetch] = fetch()
        return read[fetch]

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
