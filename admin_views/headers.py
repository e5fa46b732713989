"""Security headers on every response, and the theme stylesheet served without its third-party font import.

A small `after_request` rather than flask-talisman: the policy is a handful of fixed headers, HTTPS and HSTS
belong to the reverse proxy (docs/deployment.md), and the one dynamic part, a per-request nonce, must be the
same value Flask-Admin writes into its own `<script>` tags (its `csp_nonce_generator`), which is one function.

- Content-Security-Policy: scripts, styles, fonts, images and requests from this site only; an inline
  `<script>` or `<style>` runs only with the request's nonce, and inline `on...=` handlers and `style=`
  attributes never do. Flask-Admin's templates still write a few `onclick=` attributes, and Chromium reports
  each one as a violation while parsing the page (a console error on every list page), so they leave as
  `data-onclick=` and static/claimdesk/csp.js gives their known forms to listeners instead.
- frame-ancestors 'none' and X-Frame-Options DENY: no page can be framed (clickjacking).
- Referrer-Policy same-origin: a PHI page's address (claim and client ids) never leaves in a Referer.
- X-Content-Type-Options nosniff; Cache-Control no-store on every page but the static files, so a shared or
  a browser's back-button cache keeps no page with PHI.
"""

from __future__ import annotations

import functools
import secrets
from pathlib import Path

import flask_admin
from flask import Blueprint, Flask, Response, g, request

#: The theme CSS of Flask-Admin's flatly swatch, minus the first-line `@import` of fonts.googleapis.com.
_FLATLY = Path(flask_admin.__file__).parent / "static/bootstrap/bootstrap4/swatch/flatly/bootstrap.min.css"
theme = Blueprint("theme", __name__)


def csp_nonce() -> str:
    """This request's nonce, the same in the header and in every inline `<script nonce=...>` of the page."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",  # the theme draws its select arrows and checkboxes as data: SVGs
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def init_headers(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.register_blueprint(theme)

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers["Content-Security-Policy"] = content_security_policy(csp_nonce())
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
        headers["X-Content-Type-Options"] = "nosniff"
        if request.endpoint not in ("static", "admin.static", "theme.stylesheet"):
            headers["Cache-Control"] = "no-store"
        if response.mimetype == "text/html" and not response.direct_passthrough and not response.is_streamed:
            _defuse_inline_handlers(response)
        return response


#: How Flask-Admin's templates write an inline click handler; our own templates write none. Page text never
#: matches it: Jinja escapes a `"` in any value as `&#34;`.
_INLINE_CLICK = b' onclick="'


def _defuse_inline_handlers(response: Response) -> None:
    body = response.get_data()
    if _INLINE_CLICK in body:
        response.set_data(body.replace(_INLINE_CLICK, b' data-onclick="'))


@functools.cache
def _theme_css() -> str:
    text = _FLATLY.read_text(encoding="utf-8")
    # Only the font import goes; the font stack after "Lato" is the system fonts, which the page then uses.
    start = text.find("@import url(")
    if start != -1:
        end = text.index(");", start) + 2
        text = text[:start] + text[end:]
    return text


@theme.route("/theme/bootstrap.min.css")
def stylesheet() -> Response:
    response = Response(_theme_css(), mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
