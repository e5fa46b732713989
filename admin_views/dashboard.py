"""The admin's front page: what needs attention today, within the chosen scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user
from sqlalchemy import func, select

from admin_views.scope import current_scope
from billing.core.db import db
from billing.core.time import practice_today
from billing.coverage.models import Authorization
from billing.org.queries import by_location
from billing.people.models import Client
from billing.people.queries import by_client
from billing.sessions.models import NoteStatus, TherapySession
from billing.worklist import billing_work


class DashboardView(AdminIndexView):
    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @expose("/")
    def index(self) -> str:
        return self.render("claimdesk/index.html", counts=dashboard_counts(), work=billing_work(current_scope()))


def dashboard_counts() -> dict[str, int]:
    scope = current_scope()
    today = practice_today()
    in_scope = by_location(TherapySession.location_id, scope)
    sessions = select(func.count()).select_from(TherapySession).where(in_scope)
    return {
        "clients": db.session.scalar(
            select(func.count()).select_from(Client).where(Client.active, by_location(Client.location_id, scope))
        )
        or 0,
        "sessions_this_month": db.session.scalar(
            sessions.where(TherapySession.service_date >= today.replace(day=1))
        )
        or 0,
        "draft_notes": db.session.scalar(
            sessions.where(
                TherapySession.note_status == NoteStatus.DRAFT,
                TherapySession.session_class_id.is_(None),
                TherapySession.service_date <= today,
            )
        )
        or 0,
        "authorizations_ending": db.session.scalar(
            select(func.count())
            .select_from(Authorization)
            .where(
                Authorization.ends_on.between(today, today + timedelta(days=30)),
                by_client(Authorization.client_id, scope),
            )
        )
        or 0,
    }
