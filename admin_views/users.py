"""Staff accounts: only admins see or change them. Passwords are set, never shown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_login import current_user
from wtforms import PasswordField

from admin_views.base import RoleModelView
from admin_views.formatters import enum_choices
from admin_views.permissions import Area
from billing.core.errors import Problem
from billing.people.models import Role, User
from billing.people.operations import normalize_email, user_problems


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


class UserView(RoleModelView):
    area = Area.USERS
    name = "Users"
    form_checks = staticmethod(account_problems)
    column_list = ["email", "name", "role", "active", "last_login_at", "created_at"]
    column_searchable_list = ["email", "name"]
    column_sortable_list = ["email", "name", "role", "active", "last_login_at"]
    column_filters = ["role", "active"]
    column_labels = {"last_login_at": "Last login", "created_at": "Created"}
    column_details_exclude_list = ["password_hash"]
    form_columns = ["email", "name", "role", "active", "new_password"]
    form_extra_fields = {"new_password": PasswordField("New password")}
    form_choices = {"role": enum_choices(Role)}
    form_args = {"email": {"filters": [lambda v: normalize_email(v) if v else v]}}
    column_descriptions = {"new_password": "Leave empty to keep the current password. At least 8 characters."}

    def on_model_change(self, form: Any, model: User, is_created: bool) -> None:
        if form.new_password.data:
            model.set_password(form.new_password.data)
