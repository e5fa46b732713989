"""Two-factor pages: the code asked for after the password, and enrolment with a QR code.

The QR code is an inline SVG drawn here by segno: the secret never leaves the server for a chart or
QR service. The secret waits in the (signed) session until the user proves their app has it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import segno
from flask import Blueprint, current_app, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired

from admin_views.login_state import complete_login, now, throttled
from billing.core.audit import Actor
from billing.core.db import db
from billing.core.errors import BillingError
from billing.core.unit_of_work import unit_of_work
from billing.people.logins import count_failure, is_locked
from billing.people.mfa import MFA_ROLES, check_second_factor, enrol, new_secret, provisioning_uri
from billing.people.models import User

bp = Blueprint("mfa", __name__)
PENDING_KEY = "mfa_pending"  # who typed a right password and now owes a code
ENROL_KEY = "mfa_enrol_secret"
#: Time to type the code after the password; after that, start again with the password.
CODE_WINDOW = timedelta(minutes=5)


class CodeForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired()])


def must_enrol(user: Any) -> bool:
    """An admin or biller without two-factor, where CLAIMDESK_MFA_REQUIRED says they need it."""
    return bool(current_app.config["CLAIMDESK_MFA_REQUIRED"]) and user.role in MFA_ROLES and not user.mfa_enrolled


def ask_for_code(user: User, target: str | None) -> Response:
    """The password was right; the login finishes once the code is."""
    session[PENDING_KEY] = {"user": user.id, "version": user.session_version,
                            "at": int(now().timestamp()), "next": target}
    return redirect(url_for("mfa.verify"))


@bp.route("/login/code", methods=["GET", "POST"])
@throttled
def verify() -> Response | str:
    user, pending = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash("Log in with your email and password first.", "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        with unit_of_work():
            good = check_second_factor(user, form.code.data or "", now=now())
            if not good:
                count_failure(user, now=now())
        if good:
            session.pop(PENDING_KEY, None)
            return complete_login(user, pending.get("next"))
        flash("That code does not match. Type the current code from your app, or one of your recovery codes.",
              "error")
    return render_template("auth/mfa_code.html", form=form)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def setup() -> Response | str:
    user: User = current_user._get_current_object()
    if user.mfa_enrolled:
        return render_template("auth/mfa_enrolled.html", user=user)
    secret = session.get(ENROL_KEY) or new_secret()
    session[ENROL_KEY] = secret
    form = CodeForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                codes = enrol(user, secret, form.code.data or "", now=now(), actor=Actor.user(user))
        except BillingError as exc:
            flash(exc.message, "error")
        else:
            session.pop(ENROL_KEY, None)
            return render_template("auth/recovery_codes.html", codes=codes)
    uri = provisioning_uri(secret, user)
    qr = Markup(segno.make(uri, error="m").svg_inline(scale=5, title="Scan with your authenticator app"))  # noqa: S704 - our own SVG
    return render_template("auth/mfa_setup.html", form=form, qr=qr, secret=secret, required=must_enrol(user))


def _pending_user() -> tuple[User | None, dict[str, Any]]:
    """The user owed a code, unless the wait ran out, the account changed or locked since the password."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None, {}
    user = db.session.get(User, pending.get("user")) if isinstance(pending.get("user"), int) else None
    moment = now()
    fresh = isinstance(pending.get("at"), int) and moment.timestamp() - pending["at"] <= CODE_WINDOW.total_seconds()
    if (user is None or not fresh or not user.active or user.session_version != pending.get("version")
            or is_locked(user, moment) or not user.mfa_enrolled):
        return None, {}
    return user, pending
