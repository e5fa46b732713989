"""Two claim worklists: claims near their timely filing deadline, and sent claims the payer has not answered.

Everyone who reads claims sees them; billers and admins note, assign and ask the payer (276) (Area.CLAIMS). Each
POST is one service call from billing.submissions.follow_up or billing.submissions.claim_status.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, redirect, request
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from admin_views.auth import current_actor
from admin_views.base import AreaPage
from admin_views.operations import run_operation
from admin_views.paging import requested_page
from admin_views.permissions import Area
from admin_views.redirects import safe_next
from admin_views.scope import current_scope
from billing.claims.models import Claim
from billing.claims.queries import claim_by_number
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.errors import NotFound, Problem, ValidationFailed
from billing.core.time import practice_today
from billing.org.queries import by_location
from billing.payments.filing import (
    DEFAULT_WITHIN_DAYS,
    NOT_WITH_PAYER,
    FilingDeadline,
    near_deadline,
    near_deadline_totals,
    within_days_problem,
)
from billing.people.models import User
from billing.submissions.claim_status import ask_payers
from billing.submissions.follow_up import add_note, assign, assignable_users, due_for_follow_up


def deadline_cell(found: FilingDeadline | None, status: ClaimStatus) -> str:
    """A claim's filing deadline in words; the days left only while the claim still has to reach the payer."""
    if found is None:
        return ""
    text = found.deadline.strftime("%m/%d/%Y")
    if status in NOT_WITH_PAYER or status is ClaimStatus.DENIED:
        left = found.days_left
        text += f" · {-left} days late" if left < 0 else f" · {left} days left"
    return text


def _whole(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None


class FilingDeadlinesView(AreaPage):
    """Claims not yet with the payer whose filing deadline is within N days (N chosen on the page), late ones too."""

    area = Area.CLAIMS

    @expose("/")
    def index(self) -> Any:
        typed = request.args.get("within")
        within = _whole(typed) if typed else DEFAULT_WITHIN_DAYS
        if within is None or within_days_problem(within):
            flash(f"Days: {within_days_problem(0 if within is None else within) or 'a whole number'}; "
                  f"showing {DEFAULT_WITHIN_DAYS}.", "error")
            within = DEFAULT_WITHIN_DAYS
        scope, today = current_scope(), practice_today()
        count, billed = near_deadline_totals(scope, within_days=within, today=today)
        paging = requested_page(count)
        rows = near_deadline(scope, within_days=within, today=today, limit=paging.size, offset=paging.first)
        return self.render("claimdesk/claims/filing_deadlines.html", rows=rows, within=within, count=count,
                           billed=billed, **paging.template_args())


class FollowUpView(AreaPage):
    """Submitted claims due for follow-up, with the last note and who works each; note and assign forms."""

    area = Area.CLAIMS

    @expose("/")
    def index(self) -> Any:
        mine = request.args.get("mine") == "1"
        queue = due_for_follow_up(current_scope(), today=practice_today(),
                                  assignee_id=current_user.id if mine else None)
        paging = requested_page(len(queue))
        return self.render("claimdesk/claims/follow_up.html", rows=queue.rows(paging.first, paging.size),
                           count=len(queue), mine=mine, can_edit=self.can_edit,
                           users=assignable_users() if self.can_edit else [], today=practice_today(),
                           **paging.template_args())

    def _refused_role(self) -> Response | None:
        if self.can_edit:
            return None
        flash(f"Your role ({current_user.role.label}) cannot work follow-ups.", "error")
        return redirect(self.get_url(".index"))

    def _in_scope(self, number: str) -> Claim:
        claim = claim_by_number(number)
        visible = db.session.scalar(select(Claim.id).where(Claim.id == claim.id,
                                                           by_location(Claim.location_id, current_scope())))
        if visible is None:
            raise NotFound(f"No claim has the number {number[:20]!r}.")
        return claim

    @expose("/note/", methods=("POST",))
    def note_view(self) -> Response:
        refused = self._refused_role()
        if refused is not None:
            return refused
        form = request.form

        def note() -> Any:
            next_on = _next_date(form.get("next_follow_up_on", ""))
            return add_note(self._in_scope(form.get("claim", "")), form.get("text", ""), next_follow_up_on=next_on,
                            actor=current_actor(), today=practice_today())

        return run_operation(note, back=self.get_url(".index"),
                             success=lambda n: f"Note added to {form.get('claim', '')[:20]}." + (
                                 f" Next follow-up {n.next_follow_up_on:%m/%d/%Y}." if n.next_follow_up_on else ""),
                             refusal=lambda exc: f"Nothing was noted: {exc.message}")

    @expose("/assign/", methods=("POST",))
    def assign_view(self) -> Response:
        refused = self._refused_role()
        if refused is not None:
            return refused
        form = request.form

        def give() -> Any:
            user_id = _whole(form.get("assignee"))
            user = db.session.get(User, user_id) if user_id else None
            if form.get("assignee") and user is None:
                raise ValidationFailed([Problem("assignee", "Choose a person from the list.")])
            return assign(self._in_scope(form.get("claim", "")), user, actor=current_actor())

        return run_operation(give, back=self.get_url(".index"),
                             success=lambda s: f"{form.get('claim', '')[:20]}: "
                             + (f"{s.assignee.name} works it." if s.assignee else "nobody assigned."),
                             refusal=lambda exc: f"Nothing was changed: {exc.message}")


    @expose("/ask/", methods=("POST",))
    def ask_view(self) -> Response:
        """Ask the payers about the chosen claims (the queue's checkboxes, or one claim from its page): a 276."""
        refused = self._refused_role()
        if refused is not None:
            return refused
        numbers = request.form.getlist("claims")[:MAX_ASKED]
        back = safe_next(request.form.get("back")) or self.get_url(".index")
        return run_operation(
            lambda: ask_payers([self._in_scope(n).id for n in numbers], actor=current_actor()),
            back=back, success=lambda asked: f"Asked the payer: {asked.summary()}.",
            refusal=lambda exc: f"Nobody was asked: {exc.message}",
        )


#: A page never posts more claims than the queue shows; this caps a hand-made request.
MAX_ASKED = 1000


def _next_date(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed([Problem("next_follow_up_on", "The next follow-up date is a date (YYYY-MM-DD).")]) \
            from None

