"""Issue 18 item 6: every moment a page shows is on the practice's clock and says which zone it is in.

History showed UTC without a label while Jobs showed CST. Now one function (admin_views.formatters.local_time) turns
a stored timestamp into text, and every page goes through it. The expected text is computed here with zoneinfo
directly, not with the code under test; no test reads the clock to decide what is right.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from admin_views.formatters import local_time
from billing.claims.models import Claim
from billing.core.access_log import AccessEntry
from billing.core.audit import StatusChange
from billing.core.db import db
from billing.people.models import Role
from billing.submissions.operations import create_batches
from tests.worlds.practice import SYSTEM
from tests.worlds.submissions import build_submission_world

#: A date and time of day with nothing after it but a tag's end: a moment shown without its zone.
UNLABELLED = re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}(?![:\d]| ?[A-Z]{2,5}\b| ?[+-]\d{2})")


def expected(moment: datetime, zone: str = "America/Chicago") -> str:
    shown = moment.astimezone(ZoneInfo(zone))
    return f"{shown:%m/%d/%Y %H:%M} {shown.tzname()}"


@pytest.mark.parametrize(
    ("moment", "zone", "text"),
    [
        (datetime(2026, 12, 4, 15, 15, tzinfo=UTC), "America/Chicago", "12/04/2026 09:15 CST"),
        (datetime(2026, 7, 4, 15, 15, tzinfo=UTC), "America/Chicago", "07/04/2026 10:15 CDT"),
        # After 6 p.m. in Chicago the server's UTC day is already tomorrow; the page shows the office's day.
        (datetime(2026, 12, 5, 1, 30, tzinfo=UTC), "America/Chicago", "12/04/2026 19:30 CST"),
        (datetime(2026, 12, 4, 15, 15, tzinfo=UTC), "America/New_York", "12/04/2026 10:15 EST"),
    ],
)
def test_a_moment_is_shown_on_the_practice_clock_with_its_zone(app, monkeypatch, moment, zone, text):
    monkeypatch.setitem(app.config, "CLAIMDESK_TIMEZONE", zone)
    assert local_time(moment) == text
    assert local_time(moment, weekday=True) == f"{moment.astimezone(ZoneInfo(zone)):%a} {text}"
    assert local_time(None) == ""


def test_the_filter_and_the_grids_use_the_one_function(app):
    from admin_views.formatters import TYPE_FORMATTERS

    moment = datetime(2026, 12, 4, 15, 15, tzinfo=UTC)
    assert app.jinja_env.filters["local_time"](moment) == "12/04/2026 09:15 CST"
    assert TYPE_FORMATTERS[datetime](None, moment) == "12/04/2026 09:15 CST"


@pytest.fixture
def batch_world():
    world = build_submission_world()
    claim = world.ready_claim()
    batch = create_batches(actor=SYSTEM)[0]
    db.session.commit()
    return claim, batch


def pages(claim: Claim, batch_id: int) -> list[str]:
    return [
        "/admin/submissions/",
        f"/admin/submissions/batch/{batch_id}/",
        f"/admin/claim/details/?id={claim.id}",
        "/admin/access_log/",
        "/admin/billing_run/",
        "/admin/jobs/",
        "/admin/reports/",
        "/admin/user/",
    ]


def test_history_batches_and_the_access_log_show_labelled_practice_time(client, login, batch_world):
    claim, batch = batch_world
    login(Role.ADMIN)
    batch_page = client.get(f"/admin/submissions/batch/{batch.id}/").get_data(as_text=True)
    assert expected(batch.created_at) in batch_page
    history = db.session.scalars(
        select(StatusChange).where(StatusChange.subject_type == "claim", StatusChange.subject_id == claim.id)
    ).all()
    assert history
    claim_page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    for change in history:
        assert expected(change.at) in claim_page
    assert expected(batch.created_at) in client.get("/admin/submissions/").get_data(as_text=True)
    viewed = db.session.scalars(select(AccessEntry).order_by(AccessEntry.id.desc())).first()
    assert viewed is not None  # opening the claim page was logged
    assert expected(viewed.at) in client.get("/admin/access_log/").get_data(as_text=True)


def test_no_page_shows_a_moment_without_its_zone_or_in_utc(client, login, batch_world):
    claim, batch = batch_world
    login(Role.ADMIN)
    for url in pages(claim, batch.id):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert not UNLABELLED.findall(html), url
        assert " UTC" not in html, url


def test_the_unlabelled_pattern_finds_what_it_should():
    """A guard on the guard: the pattern flags the old output and passes the new."""
    assert UNLABELLED.search("<td>12/04/2026 15:15</td>")
    assert UNLABELLED.search("12/04/2026 15:15 by dana")
    assert not UNLABELLED.search("<td>12/04/2026 09:15 CST</td>")
    assert not UNLABELLED.search("Fri 12/04/2026 09:15 CST")


TEMPLATES = Path(__file__).resolve().parents[2] / "admin_views" / "templates"
#: A stored timestamp (`…_at`, `.at`, `…_until`) formatted by hand in a template, or any zone conversion there.
BY_HAND = re.compile(r"(_at|\.at|_until)\.strftime\(|astimezone\(")


def test_no_template_formats_a_timestamp_by_hand():
    """Every template leaves timestamps to the `local_time` filter (a new page that calls strftime on one shows UTC
    without a label again)."""
    files = sorted(TEMPLATES.rglob("*.html"))
    assert len(files) > 30
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {line.strip()[:80]}"
        for path in files
        for line in path.read_text().splitlines()
        if BY_HAND.search(line)
    ]
    assert offenders == []
    assert BY_HAND.search("{{ h.at.strftime('%m/%d/%Y %H:%M') }}")
    assert BY_HAND.search("{{ batch.created_at.strftime('%m/%d/%Y') }}")
    assert not BY_HAND.search("{{ claim.service_date.strftime('%m/%d/%Y') }}")
