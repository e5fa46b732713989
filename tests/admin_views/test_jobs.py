"""The Jobs page: admins act, billers read, others are refused; schedules are validated and previewed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.jobs.models import JobRun, JobRunStatus, JobSchedule
from billing.people.models import Role
from tests.conftest import csrf_token

pytestmark = pytest.mark.usefixtures("instance_in_tmp")  # exports and locks go to instance/

PAGE = "/admin/jobs/"
RULES = f"{PAGE}nightly-rules/"
GOOD = {"minute": "45", "hour": "5", "day": "*", "month": "*", "day_of_week": "mon-fri"}


@pytest.fixture
def quick_login(login):
    """The admin views' quick password hash keeps the role matrix fast."""
    from tests.admin_views.conftest import QUICK_HASH

    return lambda role: login(role, password_hash=QUICK_HASH)


def schedule() -> JobSchedule:
    return db.session.scalars(select(JobSchedule).where(JobSchedule.job_id == "nightly-rules")).one()


def post(client, path, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, PAGE), **data})


@pytest.mark.parametrize("role", [Role.ADMIN, Role.BILLER])
def test_admins_and_billers_see_every_job_with_its_schedule_and_last_run(client, quick_login, role):
    db.session.add(JobRun(job_id="nightly-rules", trigger="schedule", status=JobRunStatus.FAILED,
                          summary="The rules engine refused rule 4.", error="Traceback: boom", host="box:1"))
    db.session.commit()
    quick_login(role)
    html = client.get(PAGE).get_data(as_text=True)
    assert "Run the validation rules" in html
    assert "Every day at 04:30" in html
    assert "The rules engine refused rule 4." in html
    assert "Traceback: boom" in html
    assert "No scheduler process is running" in html
    assert ("Run now" in html) is (role is Role.ADMIN)
    details = client.get(RULES).get_data(as_text=True)
    assert "Run history" in details
    assert ("Preview the next 5 runs" in details) is (role is Role.ADMIN)


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.OFFICE_MANAGER])
def test_other_roles_are_refused(client, quick_login, role):
    quick_login(role)
    assert client.get(PAGE).status_code == 403
    assert client.get(RULES).status_code == 403


def test_anonymous_visitors_go_to_the_login_page(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_billers_cannot_pause_run_or_reschedule(client, quick_login):
    quick_login(Role.BILLER)
    assert post(client, f"{RULES}pause").status_code == 403
    assert post(client, f"{RULES}run").status_code == 403
    assert post(client, f"{RULES}schedule", action="save", **GOOD).status_code == 403
    assert db.session.scalars(select(StatusChange).where(StatusChange.subject_type == "job_schedule")).all() == []


def test_an_admin_pauses_resumes_and_asks_for_a_run(client, quick_login):
    quick_login(Role.ADMIN)
    assert post(client, f"{RULES}pause").status_code == 302
    assert schedule().paused
    assert "paused" in client.get(PAGE).get_data(as_text=True)
    post(client, f"{RULES}resume", back="details")
    assert not schedule().paused
    post(client, f"{RULES}run")
    assert schedule().run_requested_at is not None
    actions = db.session.scalars(select(StatusChange.action).where(StatusChange.subject_type == "job_schedule")
                                 .order_by(StatusChange.id)).all()
    assert actions == [AuditAction.JOB_PAUSED, AuditAction.JOB_RESUMED, AuditAction.JOB_RUN_REQUESTED]


def test_a_posted_action_without_csrf_is_refused(client, quick_login):
    quick_login(Role.ADMIN)
    assert client.post(f"{RULES}pause").status_code == 400
    assert client.post(f"{RULES}schedule", data={"action": "save", **GOOD}).status_code == 400
    assert db.session.scalars(select(StatusChange).where(StatusChange.subject_type == "job_schedule")).all() == []


def test_preview_shows_the_next_five_runs_without_saving(client, quick_login):
    quick_login(Role.ADMIN)
    html = post(client, f"{RULES}schedule", action="preview", **GOOD).get_data(as_text=True)
    assert "Next 5 runs (not saved yet)" in html
    assert html.count(" 05:45 ") == 5
    assert "Sat " not in html.split("Next 5 runs")[1]
    assert (schedule().minute, schedule().hour) == ("30", "4")


def test_saving_a_schedule_stores_it_and_writes_history(client, quick_login):
    quick_login(Role.ADMIN)
    response = post(client, f"{RULES}schedule", action="save", **GOOD)
    assert response.status_code == 302
    row = schedule()
    assert (row.minute, row.hour, row.day_of_week) == ("45", "5", "mon-fri")
    change = db.session.scalars(select(StatusChange).where(StatusChange.subject_type == "job_schedule")).one()
    assert (change.from_status, change.to_status) == ("30 4 * * *", "45 5 * * mon-fri")
    assert "Monday to Friday at 05:45" in client.get(PAGE).get_data(as_text=True)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("day_of_week", "1-5", "Use day names"),
    ("hour", "25", "Not a valid cron value"),
    ("minute", "", "This field is required"),
])
def test_an_invalid_schedule_names_the_field_and_changes_nothing(client, quick_login, field, value, message):
    quick_login(Role.ADMIN)
    response = post(client, f"{RULES}schedule", action="save", **{**GOOD, field: value})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert (schedule().minute, schedule().hour, schedule().day_of_week) == ("30", "4", "*")


def test_an_unknown_job_is_not_found(client, quick_login):
    quick_login(Role.ADMIN)
    assert client.get(f"{PAGE}no-such-job/").status_code == 404
    assert post(client, f"{PAGE}no-such-job/pause").status_code == 404


def test_sending_claims_is_paused_until_an_admin_turns_it_on_and_the_job_page_shows_who_did(client, quick_login):
    submit = f"{PAGE}submit-claims/"
    quick_login(Role.BILLER)
    html = client.get(submit).get_data(as_text=True)
    assert "badge-warning\">paused" in html
    assert "data-paused-at-install" in html
    assert post(client, f"{submit}resume").status_code == 403  # a biller cannot turn it on
    client.post("/logout", data={"csrf_token": csrf_token(client, PAGE)})
    admin = quick_login(Role.ADMIN)
    assert post(client, f"{submit}resume", back="details").status_code == 302
    db.session.expire_all()
    row = db.session.scalars(select(JobSchedule).where(JobSchedule.job_id == "submit-claims")).one()
    assert not row.paused
    html = client.get(submit).get_data(as_text=True)
    assert 'data-change="job.resumed"' in html
    assert "resumed (turned on)" in html
    assert admin.email in html
    assert "data-paused-at-install" not in html
