"""The Eligibility worklist, "Check eligibility" on demand, the policy page's history and the client page's slot,
through the test client: roles, scope, CSRF, the access log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import render_template
from sqlalchemy import func, select

import billing.submissions.eligibility as eligibility
from billing.core.access_log import AccessEntry
from billing.core.db import db
from billing.core.time import practice_today
from billing.coverage.eligibility import EligibilityCheck, EligibilityStatus, latest_check
from billing.people.models import Role
from demo.eligibility import PayerSays, write_271
from tests.conftest import csrf_token
from tests.worlds.eligibility import answer
from tests.worlds.submissions import build_submission_world

WORKLIST = "/admin/eligibility/"


@pytest.fixture
def outbox(monkeypatch):
    """The 270s the pages send, kept instead of uploaded."""
    sent: list[str] = []
    monkeypatch.setattr(eligibility, "sftp_sender", lambda house, name, content: sent.append(content.decode()))
    return sent


@pytest.fixture
def lapsed():
    """A client seen in two days whose payer said the policy is inactive, and one whose payer said active."""
    soon = practice_today() + timedelta(days=2)
    bad, good = build_submission_world(), build_submission_world()
    for world in (bad, good):
        world.visit(day=soon)
    answer(bad.policy, soon, PayerSays(status="inactive"))
    answer(good.policy, soon, PayerSays())
    db.session.commit()
    return bad, good


def _checks() -> int:
    return db.session.scalar(select(func.count()).select_from(EligibilityCheck))


def test_the_worklist_lists_the_inactive_policy_only(client, login, lapsed):
    bad, good = lapsed
    login(Role.OFFICE_MANAGER)
    page = client.get(WORKLIST).get_data(as_text=True)
    assert f'data-eligibility-row="{bad.policy.id}"' in page
    assert f'data-eligibility-row="{good.policy.id}"' not in page
    assert "data-eligibility-check-form" in page
    later = client.get(f"{WORKLIST}?days=1").get_data(as_text=True)  # the session is in two days
    assert "data-no-eligibility-problems" in later
    assert "showing 7" in client.get(f"{WORKLIST}?days=lots").get_data(as_text=True)


def test_the_worklist_is_logged_as_a_list_of_policies(client, login, lapsed):
    login(Role.BILLER)
    client.get(WORKLIST)
    entry = db.session.scalars(select(AccessEntry).order_by(AccessEntry.id.desc())).first()
    assert (entry.subject_type, entry.kind) == ("policy", "listed")


def test_an_accountant_sees_the_list_without_the_button_and_cannot_post(client, login, lapsed, outbox):
    bad, _ = lapsed
    login(Role.ACCOUNTANT)
    page = client.get(WORKLIST).get_data(as_text=True)
    assert f'data-eligibility-row="{bad.policy.id}"' in page
    assert "data-eligibility-check-form" not in page
    before = _checks()
    refused = client.post(f"{WORKLIST}check/", data={"csrf_token": csrf_token(client, WORKLIST),
                                                    "policy_id": bad.policy.id}, follow_redirects=True)  # fmt: skip
    assert "cannot send eligibility inquiries" in refused.get_data(as_text=True)
    assert (_checks(), outbox) == (before, [])


def test_check_eligibility_sends_a_270_for_the_policy(client, login, lapsed, outbox):
    bad, _ = lapsed
    login(Role.OFFICE_MANAGER)
    done = client.post(f"{WORKLIST}check/", data={"csrf_token": csrf_token(client, WORKLIST),
                                                 "policy_id": bad.policy.id, "next": "https://evil.example/"},
                       follow_redirects=True)  # fmt: skip
    assert "Eligibility inquiry (270) sent" in done.get_data(as_text=True)
    assert done.request.path == WORKLIST  # never off the site
    assert len(outbox) == 1
    assert bad.policy.member_id in outbox[0]
    assert latest_check(bad.policy.id).status is EligibilityStatus.PENDING


def test_check_eligibility_needs_the_csrf_token(client, login, lapsed, outbox):
    bad, _ = lapsed
    login(Role.ADMIN)
    response = client.post(f"{WORKLIST}check/", data={"policy_id": bad.policy.id})
    assert response.status_code == 400
    assert outbox == []


def test_a_policy_outside_the_scope_is_not_asked_about(client, login, lapsed, outbox):
    bad, good = lapsed
    login(Role.ADMIN)
    with client.session_transaction() as session:
        session["scope"] = {"company_id": good.company.id}
    done = client.post(f"{WORKLIST}check/", data={"csrf_token": csrf_token(client, WORKLIST),
                                                 "policy_id": bad.policy.id}, follow_redirects=True)  # fmt: skip
    assert "No such policy" in done.get_data(as_text=True)
    assert outbox == []


def test_the_policy_page_shows_the_history_and_benefits(client, login, lapsed):
    _, good = lapsed
    login(Role.BILLER)
    page = client.get(f"/admin/policy/details/?id={good.policy.id}").get_data(as_text=True)
    assert page.count("data-eligibility-check=") == 2  # the question and its answer
    assert 'data-eligibility-status="active"' in page
    assert 'data-eligibility-benefit="PT"' in page
    assert "copay $25.00" in page
    assert "visits 12 used of 30, 18 left" in page


def test_the_client_slot_shows_the_latest_answer_per_policy(app, client, login, lapsed):
    bad, _ = lapsed
    login(Role.BILLER)
    with app.test_request_context("/admin/client/details/"):
        from flask_login import login_user

        from billing.people.models import User

        login_user(db.session.scalars(select(User).order_by(User.id.desc())).first())
        html = render_template("claimdesk/clients/_eligibility.html", model=bad.client)
    assert f'data-eligibility-policy="{bad.policy.id}"' in html
    assert 'data-eligibility-latest="inactive"' in html


def test_the_upload_page_records_a_271(client, login):
    import io

    from tests.worlds.eligibility import ask

    world = build_submission_world()
    text = write_271(ask(world.policy, practice_today()))
    db.session.commit()
    login(Role.BILLER)
    data = {"csrf_token": csrf_token(client, "/admin/remittance/"), "files": [(io.BytesIO(text.encode()), "a.271")]}
    page = client.post("/admin/remittance/upload/", data=data, content_type="multipart/form-data",
                       follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert 'data-kind="271"' in page
    assert "1 eligibility answer(s) recorded" in page
    assert latest_check(world.policy.id).status is EligibilityStatus.ACTIVE
