"""Friendly error pages: no traceback, SQL or parameter ever reaches a user's page or the log."""

from __future__ import annotations

from flask import Flask, abort, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from billing.core.db import is_busy
from billing.core.errors import BillingError, withheld_summary

MESSAGES = {
    400: "The request could not be understood. Go back, reload the page and try again.",
    403: "Your role does not give access to this page. Ask an administrator if you need it.",
    404: "There is nothing at this address. It may have been moved or deleted.",
    405: "This page cannot be used that way.",
    500: "Something went wrong on our side. Nothing was saved; please try again.",
    503: "The database is busy with other work right now, so nothing was saved. Please try again in a moment.",
}
#: The HTTP status of a refusal that escaped its view (a view normally flashes it and redirects).
REFUSAL_CODES = {"not_found": 404, "not_allowed": 403, "conflict": 409, "invalid": 400}


def propagates() -> bool:
    """Tests see the real failure unless they ask for the friendly page (Flask's own rule for re-raising)."""
    propagate = current_app.config.get("PROPAGATE_EXCEPTIONS")
    return bool(propagate or (propagate is None and current_app.testing))


def log_unexpected(error: BaseException) -> None:
    """One line: what failed and on which request, without the message (it may hold SQL and patient data)."""
    current_app.logger.error("Unexpected error on %s %s: %s", request.method, request.path, withheld_summary(error))


def _control_characters(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def init_error_pages(app: Flask) -> None:
    @app.before_request
    def refuse_unusable_input() -> tuple[str, int] | None:
        # Flask-Admin and our forms redirect to the "url" or "next" they were given; a line break in one is a
        # header injection that werkzeug refuses with an exception (a 500). Refuse the request cleanly instead.
        if any(_control_characters(request.values.get(name, "")) for name in ("url", "next")):
            abort(400)
        # No field of ours means a NUL byte, and PostgreSQL refuses one in any text, even in a lookup
        # (SQLite takes it): one answer for both, before any query. Uploaded files are not form values.
        named = next((k for k, values in request.values.lists() if any("\x00" in v for v in values)), None)
        if named is not None:
            message = f"The field {named[:40]!r} contains a NUL character (\\0); nothing was done. Remove it and retry."
            return render_template("errors/error.html", code=400, message=message), 400
        return None

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        message = "Your form had expired or was sent from elsewhere, so nothing was saved. Reload and retry."
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        message = MESSAGES.get(code, error.description)
        return render_template("errors/error.html", code=code, message=message), code

    @app.errorhandler(BillingError)
    def refusal(error: BillingError) -> tuple[str, int]:
        code = REFUSAL_CODES.get(error.kind, 400)
        return render_template("errors/error.html", code=code, message=error.message), code

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError) -> tuple[str, int, dict[str, str]] | tuple[str, int]:
        if not is_busy(error):
            return unexpected(error)
        # A lock another process held past the busy timeout: the request was rolled back and is safe to repeat.
        app.logger.warning("Database busy (%s) on %s; answered 503", type(error.orig).__name__, request.path)
        return render_template("errors/error.html", code=503, message=MESSAGES[503]), 503, {"Retry-After": "5"}

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        if propagates():
            raise error
        log_unexpected(error)
        return render_template("errors/error.html", code=500, message=MESSAGES[500]), 500
