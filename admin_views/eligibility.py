"""Eligibility pages: the worklist of upcoming sessions whose coverage a payer did not confirm, "Check eligibility"
for one policy (a 270 on demand), and what the client and policy pages show of the 271 answers.

Everyone who reads clients reads this (Area.CLINICAL); office managers, billers and admins may send a 270.
Each POST is one service call from billing.submissions.eligibility.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, flash, redirect, request
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from admin_views.auth import current_actor
from admin_views.base import AreaPage
from admin_views.permissions import Area, may_edit, may_read
from admin_views.redirects import safe_next
from admin_views.scope import current_scope
from billing.core.checks import parse_id
from billing.core.db import db
from billing.core.errors import BillingError, NotFound
from billing.core.time import practice_today
from billing.coverage.eligibility import PolicyEligibility, check_history, client_eligibility
from billing.coverage.models import InsurancePolicy
from billing.people.queries import by_client
from billing.submissions.eligibility import (
    MAX_UPCOMING_DAYS,
    eligibility_worklist,
    policy_requests,
    request_checks,
)

DEFAULT_DAYS = 7


def may_check_eligibility() -> bool:
    """Sending a 270 asks a payer about a client: the people who keep policies or send claims."""
    role = getattr(current_user, "role", None)
    return may_edit(role, Area.CLINICAL) or may_edit(role, Area.SUBMISSIONS)


def eligibility_of_client(client_id: int) -> list[PolicyEligibility]:
    """For the client page's include (claimdesk/clients/_eligibility.html); the page has checked role and scope."""
    if not may_read(getattr(current_user, "role", None), Area.CLINICAL):
        return []
    return client_eligibility(client_id)


def eligibility_of_policy(policy_id: int) -> list[Any]:
    return check_history(policy_id, limit=50)


def register_globals(app: Flask) -> None:
    app.jinja_env.globals["eligibility_of_client"] = eligibility_of_client
    app.jinja_env.globals["eligibility_of_policy"] = eligibility_of_policy
    app.jinja_env.globals["may_check_eligibility"] = may_check_eligibility


class EligibilityView(AreaPage):
    """Upcoming sessions (next N days) whose client's policy the payer last called inactive, unknown, or whose
    inquiry failed; a Check again button per policy."""

    area = Area.CLINICAL

    @expose("/")
    def index(self) -> Any:
        typed = (request.args.get("days") or "").strip()
        days = int(typed) if typed.isascii() and typed.isdigit() and len(typed) <= 3 else DEFAULT_DAYS
        if days > MAX_UPCOMING_DAYS or (typed and not typed.isdigit()):
            flash(f"Days: give 0 to {MAX_UPCOMING_DAYS}; showing {DEFAULT_DAYS}.", "error")
            days = DEFAULT_DAYS
        rows = eligibility_worklist(current_scope(), today=practice_today(), days=days)
        return self.render("claimdesk/coverage/eligibility.html", rows=rows, days=days,
                           may_check=may_check_eligibility())  # fmt: skip

    @expose("/check/", methods=("POST",))
    def check_view(self) -> Response:
        back = safe_next(request.form.get("next")) or self.get_url(".index")
        if not may_check_eligibility():
            flash(f"Your role ({current_user.role.label}) cannot send eligibility inquiries.", "error")
            return redirect(back)
        try:
            policy = self._in_scope(request.form.get("policy_id", ""))
            report = request_checks(policy_requests([policy.id], practice_today()), actor=current_actor())
        except BillingError as exc:
            db.session.rollback()
            flash(f"No inquiry was sent: {exc.message}", "error")
            return redirect(back)
        if report.failed:
            flash(f"The 270 could not be sent: {report.failed[0]}", "error")
        elif report.skipped:
            flash(f"No inquiry was sent: {report.skipped[0]}", "error")
        else:
            flash("Eligibility inquiry (270) sent; the answer appears here when the clearinghouse returns the 271.",
                  "success")  # fmt: skip
        return redirect(back)

    def _in_scope(self, raw: str) -> InsurancePolicy:
        policy_id = parse_id(raw)
        visible = policy_id and db.session.scalar(select(InsurancePolicy.id).where(
            InsurancePolicy.id == policy_id, by_client(InsurancePolicy.client_id, current_scope())))  # fmt: skip
        if not visible:
            raise NotFound("No such policy.")
        return db.session.get(InsurancePolicy, policy_id)
