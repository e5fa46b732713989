"""Logging in and out (Flask-Login), the checks every request passes, and the current user as actor.

Each request: the cookie's session version must match the user's (a logout, a new password, a role or
activity change or a two-factor reset ends every older cookie), the user must have done something in
the last CLAIMDESK_IDLE_MINUTES (45 CFR 164.312(a)(2)(iii) automatic logoff), and an admin or biller
must have enrolled in two-factor when CLAIMDESK_MFA_REQUIRED is on.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_required, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from admin_views import mfa
from admin_views.login_state import SEEN_KEY, complete_login, limiter, now, throttled
from admin_views.redirects import safe_next
from billing.core.audit import Actor
from billing.core.checks import parse_id, parse_int
from billing.core.db import db
from billing.core.unit_of_work import unit_of_work
from billing.people.logins import authenticate, end_sessions
from billing.people.models import User

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"

#: One answer for every refusal: which emails exist, or are locked, is nobody's business before login.
REFUSED = ("That email and password do not match an active account. After {attempts} failed logins in a row "
           "an account is locked for {minutes} minutes.")
#: Pages a logged-in user may open whatever their session's state (idle, two-factor still to enrol).
UNGUARDED = frozenset({"static", "auth.login", "auth.logout", "mfa.verify"})


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


def init_auth(app: Flask) -> None:
    login_manager.init_app(app)
    limiter.init_app(app)
    app.register_blueprint(bp)
    app.register_blueprint(mfa.bp)
    app.before_request(_guard_session)
    app.context_processor(_idle_settings)


@login_manager.user_loader
def load_user(cookie_id: str) -> object | None:
    """The user the cookie names, if still active and the cookie is not from before their session version."""
    number, _, version = cookie_id.partition(":")
    user_id, session_version = parse_id(number), parse_int(version, low=0, high=2**31 - 1)
    user = db.session.get(User, user_id) if user_id and session_version is not None else None
    return user if user is not None and user.active and user.session_version == session_version else None


@bp.route("/")
def home() -> Response:
    return redirect(url_for("admin.index"))


@bp.route("/login", methods=["GET", "POST"])
@throttled
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("admin.index"))
    form = LoginForm()
    if form.validate_on_submit():
        with unit_of_work():  # a refusal is committed too: it counts towards the lockout
            user = authenticate(form.email.data or "", form.password.data or "", now=now())
        if user is None:
            flash(refused_message(), "error")
        elif user.mfa_enrolled:
            return mfa.ask_for_code(user, request.args.get("next"))
        else:
            return complete_login(user, request.args.get("next"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    with unit_of_work():
        end_sessions(current_user._get_current_object())  # a copy of this cookie must not work either
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/keepalive", methods=["POST"])
@login_required
def keepalive() -> tuple[str, int]:
    """The idle warning's "Stay logged in" button: any request counts as activity, this one does nothing else."""
    return "", 204


def refused_message() -> str:
    config = current_app.config
    return REFUSED.format(attempts=config["CLAIMDESK_LOCKOUT_ATTEMPTS"], minutes=config["CLAIMDESK_LOCKOUT_MINUTES"])


def _guard_session() -> Response | None:
    if request.endpoint in UNGUARDED or not current_user.is_authenticated:
        return None
    moment = int(now().timestamp())
    seen = session.get(SEEN_KEY)
    if isinstance(seen, int) and moment - seen > _idle_seconds():
        logout_user()
        session.clear()
        flash(f"You were logged off after {current_app.config['CLAIMDESK_IDLE_MINUTES']} minutes without "
              "activity. Log in again to continue.", "info")
        back = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.login", next=back))
    session[SEEN_KEY] = moment
    if mfa.must_enrol(current_user) and request.endpoint != "mfa.setup":
        return redirect(url_for("mfa.setup"))
    return None


def _idle_seconds() -> int:
    return int(float(current_app.config["CLAIMDESK_IDLE_MINUTES"]) * 60)


def _idle_settings() -> dict[str, object]:
    """What the idle warning script (static/claimdesk/idle.js) needs to know."""
    config = current_app.config
    idle = _idle_seconds()
    return {"idle_seconds": idle, "idle_warning_seconds": min(idle, int(config["CLAIMDESK_IDLE_WARNING_MINUTES"] * 60))}


def current_actor() -> Actor:
    """Who the history names for what the logged-in user does (every view asks here)."""
    return Actor.user(current_user)
