"""The Filing deadlines and Follow-up pages, the claims list's deadline column and the front page's counts,
through the test client: roles, CSRF, and one service call per form."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from admin_views import paging
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.time import practice_today
from billing.people.models import Role
from billing.submissions.follow_up import add_note
from billing.submissions.follow_up_models import ClaimFollowUp, FollowUpNote
from tests.conftest import csrf_token
from tests.worlds.claims import walk_to
from tests.worlds.practice import DAY, SYSTEM, build_world


def post(client, path, data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/follow-up/"), **data},
                       follow_redirects=True)


def _notes() -> int:
    return db.session.scalar(select(func.count()).select_from(FollowUpNote))


@pytest.fixture
def late_claim():
    """A Ready claim months past its payer's 90-day limit (the world's service date is long before today)."""
    claim = build_world().claim()
    db.session.commit()
    return claim


@pytest.fixture
def due_claim():
    """A Submitted claim whose next follow-up date is today."""
    claim = walk_to(build_world().claim(), ClaimStatus.SUBMITTED)
    add_note(claim, "Sent; call if nothing comes.", next_follow_up_on=practice_today(), actor=SYSTEM,
             today=practice_today())
    db.session.commit()
    return claim


def test_the_deadline_page_lists_a_late_claim_and_the_window_is_chosen_on_the_page(client, login, late_claim):
    login(Role.BILLER)
    late = (practice_today() - (late_claim.service_date + timedelta(days=90))).days
    page = client.get("/admin/filing-deadlines/").get_data(as_text=True)
    assert f'data-deadline-row="{late_claim.number}"' in page
    assert f"{late} days late" in page
    assert "days late" in client.get("/admin/filing-deadlines/?within=0").get_data(as_text=True)
    refused = client.get("/admin/filing-deadlines/?within=lots").get_data(as_text=True)
    assert "showing 14" in refused


def test_the_deadline_page_shows_a_page_of_claims_with_the_count_and_billed_of_all(client, login, monkeypatch):
    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    world = build_world()
    claims = [world.claim(day=DAY + timedelta(days=n)) for n in range(3)]  # deadlines in this order
    db.session.commit()
    billed = sum((c.total_charge for c in claims), Decimal("0"))
    login(Role.BILLER)
    first = client.get("/admin/filing-deadlines/?within=30").get_data(as_text=True)
    assert f"<strong>3</strong> claims, ${billed:,}" in first
    assert [f'data-deadline-row="{c.number}"' in first for c in claims] == [True, True, False]
    nxt = client.get("/admin/filing-deadlines/?within=30&page=2").get_data(as_text=True)
    assert [f'data-deadline-row="{c.number}"' in nxt for c in claims] == [False, False, True]
    assert "Claims 3&ndash;3 of 3" in nxt
    assert "within=30" in nxt.split("data-page-previous")[0].rsplit("href=", 1)[1]  # the window rides along


def test_the_follow_up_page_shows_a_page_of_the_queue_longest_overdue_first(client, login, monkeypatch):
    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    world, today = build_world(), practice_today()
    claims = [walk_to(world.claim(day=DAY + timedelta(days=n)), ClaimStatus.SUBMITTED) for n in range(3)]
    for claim, days_ago in zip(claims, (1, 3, 2), strict=True):  # overdue 1, 3, 2 days: listed 2nd, 3rd, 1st
        add_note(claim, "Called.", next_follow_up_on=today, actor=SYSTEM, today=today)
        db.session.execute(  # the note's next date moved back to the day wanted (a date past is refused)
            ClaimFollowUp.__table__.update().where(ClaimFollowUp.claim_id == claim.id)
            .values(next_follow_up_on=today - timedelta(days=days_ago)))
    db.session.commit()
    login(Role.BILLER)
    first = client.get("/admin/follow-up/").get_data(as_text=True)
    second = client.get("/admin/follow-up/?page=2").get_data(as_text=True)
    shown = [[f'data-follow-up-row="{c.number}"' in page for c in claims] for page in (first, second)]
    assert shown == [[False, True, True], [True, False, False]]
    assert first.index(claims[1].number) < first.index(claims[2].number)  # 3 days overdue before 2
    assert "Claims 3&ndash;3 of 3" in second


def test_the_claims_list_and_claim_page_show_the_deadline(client, login, late_claim):
    login(Role.ACCOUNTANT)
    deadline = (late_claim.service_date + timedelta(days=90)).strftime("%m/%d/%Y")
    listing = client.get("/admin/claim/?status=ready").get_data(as_text=True)
    assert f"{deadline} · " in listing
    assert "days late" in listing
    details = client.get(f"/admin/claim/details/?id={late_claim.id}").get_data(as_text=True)
    assert "data-filing-deadline" in details
    assert deadline in details


def test_the_front_page_counts_both_worklists(client, login, late_claim, due_claim):
    login(Role.BILLER)
    page = client.get("/admin/").get_data(as_text=True)
    assert "Near or past the filing deadline" in page
    assert "Sent claims to follow up" in page
    assert 'href="/admin/follow-up/">1<' in page.replace("http://claimdesk.test", "")


def test_a_biller_notes_and_assigns_and_the_claim_leaves_until_its_date(client, login, due_claim):
    biller = login(Role.BILLER, name="Bea Biller")
    page = client.get("/admin/follow-up/").get_data(as_text=True)
    assert f'data-follow-up-row="{due_claim.number}"' in page
    assert escape("Sent; call if nothing comes.") in page
    assigned = post(client, "/admin/follow-up/assign/", {"claim": due_claim.number, "assignee": str(biller.id)})
    assert "Bea Biller works it." in assigned.get_data(as_text=True)
    tomorrow = practice_today() + timedelta(days=1)
    noted = post(client, "/admin/follow-up/note/", {"claim": due_claim.number, "text": "Payer says in review.",
                                                     "next_follow_up_on": tomorrow.isoformat()})
    text = noted.get_data(as_text=True)
    assert "Note added" in text
    assert f'data-follow-up-row="{due_claim.number}"' not in text
    details = client.get(f"/admin/claim/details/?id={due_claim.id}").get_data(as_text=True)
    assert "Payer says in review." in details
    assert "Bea Biller works it." in details


def test_a_bad_note_is_refused_naming_why_and_nothing_is_written(client, login, due_claim):
    login(Role.BILLER)
    before = _notes()
    refused = post(client, "/admin/follow-up/note/", {"claim": due_claim.number, "text": "x",
                                                      "next_follow_up_on": "someday"})
    assert "Nothing was noted" in refused.get_data(as_text=True)
    assert "The next follow-up date is a date" in refused.get_data(as_text=True)
    assert _notes() == before


def test_an_accountant_reads_the_queue_but_cannot_note_or_assign(client, login, due_claim):
    login(Role.ACCOUNTANT)
    page = client.get("/admin/follow-up/").get_data(as_text=True)
    assert f'data-follow-up-row="{due_claim.number}"' in page
    assert "Add note" not in page
    before = _notes()
    refused = post(client, "/admin/follow-up/note/", {"claim": due_claim.number, "text": "sneaky"})
    assert "cannot work follow-ups" in refused.get_data(as_text=True)
    assert _notes() == before


def test_a_post_without_csrf_is_refused(client, login, due_claim):
    login(Role.BILLER)
    before = _notes()
    response = client.post("/admin/follow-up/note/", data={"claim": due_claim.number, "text": "no token"})
    assert response.status_code == 400
    assert _notes() == before
    assert db.session.get(ClaimFollowUp, due_claim.id).assignee_id is None
