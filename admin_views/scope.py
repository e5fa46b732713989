"""The scope picker: each user's chosen company / practice / location, kept in their session."""

from __future__ import annotations

from collections.abc import Collection

from flask import Blueprint, Flask, redirect, request, session, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from admin_views.redirects import safe_next
from billing.claims.models import Claim
from billing.core.checks import parse_id
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.org.queries import Scope, by_location, describe_scope, organisation_tree, resolve_scope
from billing.submissions.models import BatchClaim

bp = Blueprint("scope", __name__)
SESSION_KEY = "scope"


def current_scope() -> Scope:
    stored = session.get(SESSION_KEY) or {}
    return Scope(stored.get("company_id"), stored.get("practice_id"), stored.get("location_id"))


def claims_outside_scope(ids: Collection[int]) -> set[int]:
    """Of these claim ids, the existing claims the chosen scope does not show (a crafted id from elsewhere)."""
    scope = current_scope()
    if scope.is_everything or not ids:
        return set()
    existing = set(db.session.scalars(select(Claim.id).where(any_of(Claim.id, set(ids)))))
    shown = select(Claim.id).where(any_of(Claim.id, existing), by_location(Claim.location_id, scope))
    return existing - set(db.session.scalars(shown))


def batch_in_scope(batch_id: int) -> bool:
    """A batch (its page, file and buttons) within the chosen scope: every claim in it is one the scope shows.
    The file holds them all, so a batch reaching past the scope is opened from a wider one."""
    scope = current_scope()
    if scope.is_everything:
        return True
    outside = (select(BatchClaim.id).join(Claim, Claim.id == BatchClaim.claim_id)
               .where(BatchClaim.batch_id == batch_id, ~by_location(Claim.location_id, scope)).limit(1))
    return db.session.scalar(outside) is None


@bp.route("/scope", methods=["POST"])
@login_required
def choose_scope() -> Response:
    """The picker posts one value: 'all', 'company:ID', 'practice:ID' or 'location:ID'."""
    level, _, raw_id = request.form.get("scope", "all").partition(":")
    ident = parse_id(raw_id)
    scope = resolve_scope(
        ident if level == "company" else None,
        ident if level == "practice" else None,
        ident if level == "location" else None,
    )
    session[SESSION_KEY] = {
        "company_id": scope.company_id,
        "practice_id": scope.practice_id,
        "location_id": scope.location_id,
    }
    return redirect(_back_to())


def _back_to() -> str:
    return safe_next(request.form.get("next")) or url_for("admin.index")


def init_scope(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def scope_context() -> dict[str, object]:
        return {
            "current_scope": current_scope,
            "describe_scope": lambda: describe_scope(current_scope()),
            "organisation_tree": organisation_tree,
        }
