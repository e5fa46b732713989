"""Three months of demo appointments and the authorizations that cover them (no database here).

Each client gets standing weekly appointments with providers of the right discipline, booked so
that no provider (and no client) is in two places at once; each week an appointment happens,
is skipped (vacation, illness called in ahead) or is cancelled with a session class.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from billing.coverage.models import RoundingRule
from billing.coverage.units import units_for
from billing.sessions.models import NoteStatus
from demo import catalog
from demo.catalog import SessionClassSpec, VisitSpec
from demo.charts import Chart

ATTENDANCE = 0.85  # share of weeks a standing appointment takes place
CANCEL_RATE = 0.03  # of the sessions that were on the books
DRAFT_DAYS = 3  # notes of the last three working days (today included) are still drafts
DRAFT_WITH_NOTE = 0.6  # drafts from before today whose note is written but not yet finalized
# The practice is in Illinois. A fixed offset is enough for plausible timestamps (DST is ignored).
PRACTICE_TZ = timezone(timedelta(hours=-6), "CST")
ABA_STARTS = (8 * 60 + 30, 12 * 60, 15 * 60)  # ABA comes in 2-3 hour blocks
HOURLY_STARTS = tuple(range(8 * 60, 17 * 60, 60))
CLOSING = 18 * 60
#: Authorizations run six months; the payer approved about twice what a quarter uses.
AUTHORIZATION_DAYS = 181
AUTHORIZATION_HEADROOM = 2.2
#: Some PT visits end with 15 minutes of manual therapy after the main treatment: one visit, two codes on one
#: claim (so the payers' 835s can pay one line and deny the other), and the CMS 8-minute rule over the day.
MANUAL_THERAPY = ("97140", 15)
MANUAL_THERAPY_EVERY = 3  # of a PT client's weeks, by a fixed rule (client index + week), never a random draw


@dataclass(frozen=True)
class CodeRef:
    id: int
    default_modifiers: str
    minutes_per_unit: int
    rounding: RoundingRule


@dataclass(frozen=True)
class Refs:
    """Ids of the fixed records the sessions point at, and the dates that frame the window."""

    today: date
    window_start: date
    location_ids: Mapping[str, int]
    places: Mapping[str, str]  # location key -> default place of service
    codes: Mapping[str, CodeRef]
    session_classes: tuple[tuple[int, SessionClassSpec], ...]

    @property
    def drafts_from(self) -> date:
        """The first of the last DRAFT_DAYS working days: notes since then are not finalized yet."""
        day, working = self.today, 0
        while True:
            working += day.weekday() < 5
            if working >= DRAFT_DAYS:
                return day
            day -= timedelta(days=1)


@dataclass(frozen=True)
class Appointment:
    provider_id: int
    weekday: int  # 0 = Monday
    start: int  # minutes after midnight
    options: tuple[tuple[str, tuple[int, ...]], ...]  # (code, minutes) to draw from at each visit
    every_weeks: int
    first_week: int
    once: bool


@dataclass
class Calendar:
    """Standing weekly bookings per provider id and per client account."""

    booked: dict[int | str, list[tuple[int, int, int]]] = field(default_factory=dict)

    def is_free(self, who: int | str, weekday: int, start: int, end: int) -> bool:
        return all(d != weekday or end <= s or e <= start for d, s, e in self.booked.get(who, []))

    def book(self, who: int | str, weekday: int, start: int, end: int) -> None:
        self.booked.setdefault(who, []).append((weekday, start, end))


def book_appointments(
    rng: random.Random, chart: Chart, staff: Mapping[str, list[int]], calendar: Calendar
) -> list[Appointment]:
    """The client's standing appointments, one program visit kind at a time."""
    appointments = []
    for visit in chart.program.visits:
        if rng.random() >= visit.share:
            continue
        options = visit.options if visit.per_visit_code else (rng.choice(visit.options),)
        count = 1 if visit.once else rng.choice(visit.per_week)
        days: set[int] = set()  # two 97153 blocks of one client fall on different days
        for _ in range(count):
            provider, weekday, start = _free_slot(rng, visit, options, staff, calendar, chart, days)
            days.add(weekday)
            first_week = rng.randint(0, 3) if visit.once else rng.randrange(visit.every_weeks)
            appointments.append(
                Appointment(provider, weekday, start, options, visit.every_weeks, first_week, visit.once)
            )
    return appointments


def _free_slot(
    rng: random.Random,
    visit: VisitSpec,
    options: tuple[tuple[str, tuple[int, ...]], ...],
    staff: Mapping[str, list[int]],
    calendar: Calendar,
    chart: Chart,
    days: set[int],
) -> tuple[int, int, int]:
    longest = max(m for _, minutes in options for m in minutes)
    starts = ABA_STARTS if visit.discipline == "rbt" else HOURLY_STARTS
    client = chart.row["account_number"]
    slots = [
        (p, d, s)
        for p in staff[visit.discipline]
        for d in range(5)
        if d not in days
        for s in starts
        if s + longest <= CLOSING
    ]
    rng.shuffle(slots)
    # A full calendar double-books rather than failing: the demo only has to be believable.
    provider, weekday, start = next(
        (slot for slot in slots if _both_free(calendar, slot, client, longest)), slots[0]
    )
    calendar.book(provider, weekday, start, start + longest)
    calendar.book(client, weekday, start, start + longest)
    return provider, weekday, start


def _both_free(calendar: Calendar, slot: tuple[int, int, int], client: str, minutes: int) -> bool:
    provider, weekday, start = slot
    end = start + minutes
    return calendar.is_free(provider, weekday, start, end) and calendar.is_free(client, weekday, start, end)


def session_rows(
    rng: random.Random, chart: Chart, appointments: Iterable[Appointment], refs: Refs
) -> list[dict[str, Any]]:
    """Every session of the window for one client, as rows for a bulk insert."""
    first_monday = refs.window_start - timedelta(days=refs.window_start.weekday())
    weeks = (refs.today - first_monday).days // 7 + 1
    rows = []
    for appt in appointments:
        for week in [appt.first_week] if appt.once else range(appt.first_week, weeks, appt.every_weeks):
            day = first_monday + timedelta(weeks=week, days=appt.weekday)
            if not refs.window_start <= day <= refs.today or is_holiday(day):
                continue
            if not appt.once and rng.random() >= ATTENDANCE:
                continue
            row = _session(rng, chart, appt, day, refs)
            rows.append(row)
            if _ends_with_manual_therapy(chart, appt, row, week):
                rows.append(_manual_therapy(chart, row, refs))
    rows.sort(key=lambda r: (r["service_date"], r["start_time"]))
    return rows


def _session(rng: random.Random, chart: Chart, appt: Appointment, day: date, refs: Refs) -> dict[str, Any]:
    code, minutes = rng.choice(appt.options)
    length = rng.choice(minutes)
    ref = refs.codes[code]
    # A video visit is billed with modifier 95 at place of service 10 (the patient's home).
    modifiers = "95" if chart.telehealth else chart.program.modifiers or ref.default_modifiers
    row: dict[str, Any] = {
        "client_id": chart.client_id,
        "provider_id": appt.provider_id,
        "location_id": refs.location_ids[chart.location],
        "service_code_id": ref.id,
        "modifiers": modifiers,
        "service_date": day,
        "start_time": _clock(appt.start),
        "end_time": _clock(appt.start + length),
        "place_of_service": "10" if chart.telehealth else refs.places[chart.location],
        "authorization_id": None,
        "minutes": length,  # used for authorization units; dropped before the insert
        "code": code,
    }
    return row | _note_state(rng, chart, code, day, (appt.start, appt.start + length), refs)


def _ends_with_manual_therapy(chart: Chart, appt: Appointment, row: dict[str, Any], week: int) -> bool:
    """A PT treatment visit short enough that 15 more minutes stay inside its hour (so no booking is overlapped),
    held (not cancelled), in a fixed share of weeks. Drawing nothing from `rng` keeps the rest of the demo as it was.
    """
    code, minutes = MANUAL_THERAPY
    return (chart.program.key == "pt" and not appt.once and row["code"] != code and row["session_class_id"] is None
            and row["minutes"] + minutes <= 60 and (chart.index + week) % MANUAL_THERAPY_EVERY == 0)


def _manual_therapy(chart: Chart, row: dict[str, Any], refs: Refs) -> dict[str, Any]:
    """The visit's second session: same provider and note state, starting when the first one ends."""
    code, minutes = MANUAL_THERAPY
    start = row["end_time"].hour * 60 + row["end_time"].minute
    note = catalog.NOTES[code][0].format(first=chart.row["first_name"], p=80, n=10)
    return row | {
        "service_code_id": refs.codes[code].id, "start_time": _clock(start), "end_time": _clock(start + minutes),
        "minutes": minutes, "code": code, "note_text": note if row["note_text"] else None,
    }


def _note_state(
    rng: random.Random, chart: Chart, code: str, day: date, span: tuple[int, int], refs: Refs
) -> dict[str, Any]:
    """Finalized, draft or cancelled, with the timestamps the CHECK constraints demand."""
    state: dict[str, Any] = {"note_status": NoteStatus.DRAFT, "finalized_at": None, "session_class_id": None,
                             "cancelled_at": None, "note_text": None}
    if day < refs.today and rng.random() < CANCEL_RATE:
        class_id, spec = rng.choices(refs.session_classes, weights=[s.weight for _, s in refs.session_classes])[0]
        start = _at(day, span[0])
        return state | {"session_class_id": class_id, "cancelled_at": _cancelled_at(rng, spec, day, start),
                        "note_text": spec.note}
    if day >= refs.drafts_from:
        written = day < refs.today and rng.random() < DRAFT_WITH_NOTE
        return state | {"note_text": _note(rng, chart, code) if written else None}
    finalized = _at(day, span[1]) + timedelta(hours=rng.randint(1, 40))
    note = _note(rng, chart, code)
    return state | {"note_status": NoteStatus.FINALIZED, "finalized_at": finalized, "note_text": note}


def _cancelled_at(rng: random.Random, spec: SessionClassSpec, day: date, start: datetime) -> datetime:
    if spec.name == "No-show":
        return start + timedelta(minutes=15)
    if spec.name == "Weather closure":
        return _at(day, 6 * 60)
    return start - timedelta(hours=rng.randint(1, 20))


def _note(rng: random.Random, chart: Chart, code: str) -> str:
    text = rng.choice(catalog.NOTES[code]).format(
        first=chart.row["first_name"], p=rng.randint(55, 95), n=rng.randint(8, 40)
    )
    return f"{text} {rng.choice(catalog.NOTE_ENDINGS)}"


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def _at(day: date, minutes: int) -> datetime:
    return datetime.combine(day, _clock(minutes), PRACTICE_TZ).astimezone(UTC)


def is_holiday(day: date) -> bool:
    """Days the practice is closed: the fixed-date holidays and the three Monday/Thursday ones."""
    if (day.month, day.day) in {(1, 1), (7, 4), (12, 24), (12, 25), (12, 31)}:
        return True
    nth = (day.day - 1) // 7 + 1
    last_monday_of_may = day.month == 5 and day.weekday() == 0 and day.day > 24
    labor_day = day.month == 9 and day.weekday() == 0 and nth == 1
    thanksgiving = day.month == 11 and day.weekday() == 3 and nth == 4
    return last_monday_of_may or labor_day or thanksgiving


def authorization_row(chart: Chart, sessions: list[dict[str, Any]], refs: Refs) -> dict[str, Any] | None:
    """A six-month approval covering the window for the codes the client is seen for, or None."""
    if not sessions:
        return None
    used = sum(
        units_for(s["minutes"], minutes_per_unit=refs.codes[s["code"]].minutes_per_unit,
                  rule=refs.codes[s["code"]].rounding)
        for s in sessions
        if s["session_class_id"] is None
    )
    policy_start: date = chart.primary.row["effective_on"]
    # Start a little before the window (a random-looking but fixed offset), never before the policy.
    starts = max(policy_start, refs.window_start - timedelta(days=chart.index * 7 % 60))
    return {
        "client_id": chart.client_id,
        "number": f"{chart.primary.payer.upper()[:3]}{starts:%y%m}-{chart.index + 1:06d}",
        "starts_on": starts,
        "ends_on": starts + timedelta(days=AUTHORIZATION_DAYS),
        "units_approved": max(4, math.ceil(used * AUTHORIZATION_HEADROOM / 4) * 4),
        "notes": "Approved for the current plan of care; re-request two weeks before it ends.",
    }
