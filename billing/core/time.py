"""The practice's clock: "today" is the office's calendar day in its time zone, never the server's.

A server in UTC is already in tomorrow from 6 or 7 p.m. Chicago time; a write-off posted then must carry the
office's date. Every "today" in billing, rules, exports and views comes from `practice_today()`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

#: Where a practice is when CLAIMDESK_TIMEZONE does not say.
DEFAULT_TIMEZONE = "America/Chicago"


def practice_timezone() -> ZoneInfo:
    """The practice's time zone (CLAIMDESK_TIMEZONE); schedules and "today" both run on it."""
    name = current_app.config.get("CLAIMDESK_TIMEZONE", DEFAULT_TIMEZONE) if has_app_context() else DEFAULT_TIMEZONE
    return ZoneInfo(name)


def practice_now() -> datetime:
    """The current moment on the practice's wall clock (timezone-aware)."""
    return datetime.now(UTC).astimezone(practice_timezone())


def practice_today() -> date:
    """The practice's calendar day right now."""
    return practice_now().date()


def practice_moment(moment: datetime) -> datetime:
    """`moment` (an aware datetime, e.g. a stored UTC timestamp) on the practice's wall clock."""
    return moment.astimezone(practice_timezone())


def practice_date(moment: datetime) -> date:
    """The practice's calendar day at `moment` (an aware datetime, e.g. a stored UTC timestamp)."""
    return moment.astimezone(practice_timezone()).date()
