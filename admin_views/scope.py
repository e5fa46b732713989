"""The scope picker: each user's chosen company / practice / location, kept in their session."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, request, session, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from admin_views.redirects import safe_next
from billing.core.checks import parse_id
from billing.org.queries import Scope, describe_scope, organisation_tree, resolve_scope

bp = Blueprint("scope", __name__)
SESSION_KEY = "scope"


def current_scope() -> Scope:
    stored = session.get(SESSION_KEY) or {}
    return Scope(stored.get("company_id"), stored.get("practice_id"), stored.get("location_id"))


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
