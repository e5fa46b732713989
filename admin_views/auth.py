"""Logging in and out (Flask-Login), and the current user as the actor of every change."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from billing.core.audit import Actor
from billing.core.checks import parse_id
from billing.core.db import db
from billing.people.models import User
from billing.people.operations import authenticate

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


def init_auth(app: Flask) -> None:
    login_manager.init_app(app)
    app.register_blueprint(bp)


@login_manager.user_loader
def load_user(user_id: str) -> object | None:
    user = db.session.get(User, number) if (number := parse_id(user_id)) else None
    return user if user is not None and user.active else None


@bp.route("/")
def home() -> Response:
    return redirect(url_for("admin.index"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(_safe_next() or url_for("admin.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is None:
            flash("That email and password do not match an active account.", "error")
        else:
            db.session.commit()  # authenticate() stamped last_login_at
            login_user(user)
            return redirect(_safe_next() or url_for("admin.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


def _safe_next() -> str | None:
    """Only follow `next` to a path on this site, never to another host (open redirect)."""
    target = request.args.get("next", "")
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc and not parts.scheme:
        return target
    return None


def current_actor() -> Actor:
    """Who the history names for what the logged-in user does (every view asks here)."""
    return Actor.user(current_user)
