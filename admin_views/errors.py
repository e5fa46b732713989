"""Friendly error pages: no traceback ever reaches a user's page."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from billing.core.db import is_busy

MESSAGES = {
    400: "The request could not be understood. Go back, reload the page and try again.",
    403: "Your role does not give access to this page. Ask an administrator if you need it.",
    404: "There is nothing at this address. It may have been moved or deleted.",
    405: "This page cannot be used that way.",
    500: "Something went wrong on our side. Nothing was saved; please try again.",
    503: "The database is busy with other work right now, so nothing was saved. Please try again in a moment.",
}


def init_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        message = "Your form had expired or was sent from elsewhere, so nothing was saved. Reload and retry."
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        message = MESSAGES.get(code, error.description)
        return render_template("errors/error.html", code=code, message=message), code

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError) -> tuple[str, int, dict[str, str]] | tuple[str, int]:
        if not is_busy(error):
            return unexpected(error)
        # A lock another process held past the busy timeout: the request was rolled back and is safe to repeat.
        app.logger.warning("Database busy (%s) on %s; answered 503", type(error.orig).__name__, request.path)
        return render_template("errors/error.html", code=503, message=MESSAGES[503]), 503, {"Retry-After": "5"}

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        propagate = app.config.get("PROPAGATE_EXCEPTIONS")
        if propagate or (propagate is None and app.testing):
            raise error  # tests see the real failure unless they ask for the friendly page
        app.logger.exception("Unhandled error")
        return render_template("errors/error.html", code=500, message=MESSAGES[500]), 500
