"""Friendly error pages: no traceback ever reaches a user's page."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "The request could not be understood. Go back, reload the page and try again.",
    403: "Your role does not give access to this page. Ask an administrator if you need it.",
    404: "There is nothing at this address. It may have been moved or deleted.",
    405: "This page cannot be used that way.",
    500: "Something went wrong on our side. Nothing was saved; please try again.",
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

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        propagate = app.config.get("PROPAGATE_EXCEPTIONS")
        if propagate or (propagate is None and app.testing):
            raise error  # tests see the real failure unless they ask for the friendly page
        app.logger.exception("Unhandled error")
        return render_template("errors/error.html", code=500, message=MESSAGES[500]), 500
