"""Staff accounts: only admins see or change them. Passwords are set, never shown.

Admins also unlock an account locked by failed logins and reset a lost two-factor app here; both are
list actions (tick the users, then Actions), and both write a history row naming the admin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import flash
from flask_admin.actions import action
from flask_login import current_user, login_user
from wtforms import PasswordField

from admin_views.auth import current_actor
from admin_views.base import RoleModelView
from admin_views.formatters import enum_choices, local_time
from admin_views.login_state import now
from admin_views.permissions import Area
from billing.core.audit import AuditAction, record_change
from billing.core.checks import parse_ids
from billing.core.db import db
from billing.core.errors import BillingError, Problem
from billing.core.unit_of_work import unit_of_work
from billing.people.logins import is_locked, unlock_user
from billing.people.mfa import reset_mfa
from billing.people.models import Role, User
from billing.people.operations import normalize_email, user_problems
from billing.people.passwords import MIN_PASSWORD_LENGTH, MIN_PRIVILEGED_LENGTH


def account_problems(data: Mapping[str, Any], record: User | None) -> list[Problem]:
    password = data.get("new_password") or None
    problems = user_problems(
        data.get("email") or "", data.get("name") or "", data.get("role") or "", password,
        user_id=record.id if record else None,
    )
    if record is None and password is None:
        problems.append(Problem("new_password", "A new account needs a password."))
    if record is not None and record.id == current_user.id:
        if data.get("role") != Role.ADMIN:
            problems.append(Problem("role", "You cannot remove your own admin role; ask another admin."))
        if not data.get("active"):
            problems.append(Problem("active", "You cannot deactivate your own account."))
    return problems


def _lock_state(view: Any, context: Any, user: User, name: str) -> str:
    if is_locked(user, now()):
        return f"locked until {local_time(user.locked_until)}" if user.locked_until else "locked"
    return f"{user.failed_logins} failed" if user.failed_logins else ""


def _two_factor(view: Any, context: Any, user: User, name: str) -> str:
    return "on" if user.mfa_enrolled else "off"


class UserView(RoleModelView):
    area = Area.USERS
    name = "Users"
    form_checks = staticmethod(account_problems)
    column_list = ["email", "name", "role", "active", "lockout", "two_factor", "last_login_at", "created_at"]
    column_searchable_list = ["email", "name"]
    column_sortable_list = ["email", "name", "role", "active", "last_login_at"]
    column_filters = ["role", "active"]
    column_labels = {"last_login_at": "Last login", "created_at": "Created", "two_factor": "Two-factor",
                     "lockout": "Lockout"}
    column_formatters = {"lockout": _lock_state, "two_factor": _two_factor}
    column_details_list = ["email", "name", "role", "active", "lockout", "two_factor", "last_login_at", "created_at"]
    form_columns = ["email", "name", "role", "active", "new_password"]
    form_extra_fields = {"new_password": PasswordField("New password")}
    form_choices = {"role": enum_choices(Role)}
    form_args = {"email": {"filters": [lambda v: normalize_email(v) if v else v]}}
    column_descriptions = {
        "new_password": f"Leave empty to keep the current password. At least {MIN_PASSWORD_LENGTH} characters "
                        f"({MIN_PRIVILEGED_LENGTH} for admins and billers), and not a common password. "
                        "A new password, role or deactivation ends the user's open sessions.",
    }

    def on_model_change(self, form: Any, model: User, is_created: bool) -> None:
        if form.new_password.data:
            model.set_password(form.new_password.data)
            if not is_created:
                record_change("user", model.id, AuditAction.PASSWORD_CHANGED, actor=current_actor())

    def after_model_change(self, form: Any, model: User, is_created: bool) -> None:
        # An admin who changed their own password ended their own session too; this one carries on.
        if model.id == current_user.id:
            login_user(model)

    @action("unlock", "Unlock", "Unlock the selected accounts (clear their failed logins)?")
    def action_unlock(self, ids: list[str]) -> None:
        self._each(ids, lambda user: unlock_user(user, actor=current_actor(), now=now()), "unlocked")

    @action("reset_mfa", "Reset two-factor",
            "Reset two-factor for the selected accounts? They set up their app again at their next login.")
    def action_reset_mfa(self, ids: list[str]) -> None:
        self._each(ids, lambda user: reset_mfa(user, actor=current_actor()), "two-factor reset")

    def _each(self, ids: list[str], operation: Callable[[User], object], done: str) -> None:
        """Each account in its own unit of work: one refusal (not locked) does not undo the others."""
        changed: list[str] = []
        for user_id in parse_ids(ids) or []:
            user = db.session.get(User, user_id)
            if user is None:
                continue
            try:
                with unit_of_work():
                    operation(user)
            except BillingError as exc:
                flash(exc.message, "error")
            else:
                changed.append(user.email)
        if changed:
            flash(f"{done.capitalize()}: {', '.join(changed)}.", "success")
