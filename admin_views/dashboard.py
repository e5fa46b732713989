"""The admin's front page: what needs attention today, within the chosen scope."""

from __future__ import annotations

import functools
from datetime import date, timedelta
from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user
from sqlalchemy import func, select

from admin_views.base import AreaPage
from admin_views.dashboard_filters import URLS, to_finalize
from admin_views.permissions import Area
from admin_views.scope import current_scope
from billing.claims.models import Claim
from billing.core.db import db
from billing.core.errors import Invalid
from billing.core.time import practice_today
from billing.coverage.models import Authorization
from billing.dashboard.conditions import ANY_AGE, BUCKET_LABELS
from billing.dashboard.figures import WEEK, Figures, Slice, dashboard_figures, default_range, following_month
from billing.org.queries import by_location
from billing.people.models import Client
from billing.people.queries import by_client
from billing.sessions.models import TherapySession
from billing.worklist import billing_work
from rules.models import BLOCKING, RuleOutcome


class DashboardView(AdminIndexView):
    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @expose("/")
    def index(self) -> str:
        return self.render(
            "claimdesk/index.html",
            counts=dashboard_counts(),
            work=billing_work(current_scope()),
            links=front_page_links(),
        )


def dashboard_counts() -> dict[str, int]:
    """The front page's counts; each is the row count of the list its link opens (front_page_links)."""
    scope = current_scope()
    today = practice_today()
    first, last = month_of(today)
    in_scope = by_location(TherapySession.location_id, scope)
    sessions = select(func.count()).select_from(TherapySession).where(in_scope)
    return {
        "clients": db.session.scalar(
            select(func.count()).select_from(Client).where(Client.active, by_location(Client.location_id, scope))
        )
        or 0,
        "sessions_this_month": db.session.scalar(sessions.where(TherapySession.service_date.between(first, last))) or 0,
        "draft_notes": db.session.scalar(sessions.where(to_finalize())) or 0,
        "authorizations_ending": db.session.scalar(
            select(func.count())
            .select_from(Authorization)
            .where(
                Authorization.ends_on.between(today, today + timedelta(days=30)),
                by_client(Authorization.client_id, scope),
            )
        )
        or 0,
        # Rows of the Failed Charges list (open, blocking), not claims: the link opens that list.
        "open_failed_charges": db.session.scalar(
            select(func.count())
            .select_from(RuleOutcome)
            .join(Claim, Claim.id == RuleOutcome.claim_id)
            .where(
                RuleOutcome.resolved_at.is_(None), RuleOutcome.kind.in_(BLOCKING), by_location(Claim.location_id, scope)
            )
        )
        or 0,
    }


def month_of(day: date) -> tuple[date, date]:
    return day.replace(day=1), following_month(day) - timedelta(days=1)


def front_page_links() -> dict[str, str]:
    """Where each front-page figure leads: its list, filtered to the rows it counts."""
    today = practice_today()
    first, last = month_of(today)
    claims = functools.partial(url_for, "claim.index_view")
    return {
        "clients": url_for("client.index_view", flt0_active_equals=1),
        "sessions_this_month": url_for("session.index_view", flt0_date_between=f"{first:%Y-%m-%d} to {last:%Y-%m-%d}"),
        "draft_notes": url_for("session.index_view", **{URLS["to_finalize"]: 1}),
        "authorizations_ending": url_for(
            "authorization.index_view",
            flt0_ends_on_between=f"{today:%Y-%m-%d} to {today + timedelta(days=30):%Y-%m-%d}",
        ),
        "ready": claims(status="ready"),
        "held": claims(status="held"),
        "rejected": claims(status="rejected"),
        "denied": claims(status="denied"),
        "near_filing_deadline": url_for("filing_deadlines.index"),
        "follow_up": url_for("follow_up.index"),
        "needs_review": claims(status="all", flt0_needs_review_equals=1),
        "open_failed_charges": url_for("failed_charge.index_view", state="open"),
        "unsent_batches": url_for("submissions.index", status="generated"),
        "unmatched_payments": url_for("unmatched.index_view"),
    }


# --- the KPI dashboard: charts with their tables, each figure linked to the list that counts the same rows -------


class KpiDashboardView(AreaPage):
    """A/R, money by month, acceptance, denials, claims by status, deadlines and failed charges for a date range.

    Every role reads claims and their balances (permissions.READERS[CLAIMS]); the dashboard only reads, so it
    carries no action and no form but the GET range picker."""

    area = Area.CLAIMS

    @expose("/")
    def index(self) -> str:
        today = practice_today()
        date_from, date_to = read_range(today)
        try:
            figures = dashboard_figures(current_scope(), date_from, date_to, today)
        except Invalid as exc:
            flash(f"{exc} Showing the last twelve months.", "error")
            figures = dashboard_figures(current_scope(), *default_range(today), today)
        drill = drill_downs(figures)
        return self.render(
            "claimdesk/dashboard.html", f=figures, drill=drill, charts=chart_data(figures, drill), buckets=BUCKET_LABELS
        )


def read_range(today: date) -> tuple[date, date]:
    """The From/To days of the page's query string; a day that is not YYYY-MM-DD is named and replaced by the
    default."""
    default_from, default_to = default_range(today)
    return (_day(request.args.get("from"), "From", default_from), _day(request.args.get("to"), "To", default_to))


def _day(raw: str | None, field: str, default: date) -> date:
    if not raw:
        return default
    text = raw.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    flash(f"{field}: a day as YYYY-MM-DD; showing {default:%m/%d/%Y}.", "error")
    return default


def _between(first: date, last: date) -> str:
    return f"{first:%Y-%m-%d} to {last:%Y-%m-%d}"


def drill_downs(f: Figures) -> dict[str, Any]:
    """The list each figure opens, filtered so its row count is the figure (admin_views/dashboard_filters.py)."""
    claims = functools.partial(url_for, "claim.index_view", status="all")
    in_range = {URLS["service_date"]: _between(f.date_from, f.date_to)}
    return {
        "ar_total": claims(**{URLS["age"]: ANY_AGE}),
        "ar_by_age": {s.key: claims(**{URLS["age"]: s.key}) for s in f.ar_by_age},
        "ar_by_payer": {s.key: claims(**{URLS["age"]: ANY_AGE, URLS["payer"]: s.key}) for s in f.ar_by_payer if s.key},
        "charges": {m.month: claims(**{URLS["charged"]: _between(m.first, m.last)}) for m in f.months},
        "collections": {m.month: claims(**{URLS["paid"]: _between(m.first, m.last)}) for m in f.months},
        "first_pass": {
            answer: claims(**{URLS["first_answer"]: answer}, **in_range) for answer in ("accepted", "rejected")
        },
        "denials": {
            str(p.payer_id): claims(**{URLS["status"]: "denied", URLS["payer"]: p.payer_id}, **in_range)
            for p in f.denials_by_payer
        },
        "carcs": {s.key: claims(**{URLS["carc"]: s.key}, **in_range) for s in f.top_carcs},
        "by_status": {s.key: claims(**{URLS["status"]: s.key}, **in_range) for s in f.by_status},
        "filing": url_for("filing_deadlines.index", within=WEEK),
        "failed_by_rule": {
            s.key: url_for("failed_charge.index_view", state="open", flt0_rule_equals=s.key) for s in f.failed_by_rule
        },
    }


def chart_data(f: Figures, drill: dict[str, Any]) -> dict[str, Any]:
    """What static/claimdesk/dashboard.js draws: labels, values (money as strings, exact) and each bar's list."""

    def bars(slices: list[Slice], links: dict[str, str], money: bool = True) -> dict[str, Any]:
        return {
            "labels": [s.label for s in slices],
            "values": [str(s.amount) if money else s.count for s in slices],
            "links": [links.get(s.key, "") for s in slices],
            "money": money,
        }

    return {
        "ar-age": bars(f.ar_by_age, drill["ar_by_age"]),
        "ar-payer": bars(f.ar_by_payer, drill["ar_by_payer"]),
        "months": {
            "labels": [m.month for m in f.months],
            "charges": [str(m.charges) for m in f.months],
            "collections": [str(m.collections) for m in f.months],
            "links": [drill["charges"][m.month] for m in f.months],
        },
        "status": bars(f.by_status, drill["by_status"], money=False),
        "denials": {
            "labels": [p.payer for p in f.denials_by_payer],
            "values": [str(p.rate) if p.rate is not None else "0" for p in f.denials_by_payer],
            "links": [drill["denials"][str(p.payer_id)] for p in f.denials_by_payer],
            "percent": True,
        },
        "carcs": bars(f.top_carcs, drill["carcs"], money=False),
        "rules": bars(f.failed_by_rule, drill["failed_by_rule"], money=False),
    }
