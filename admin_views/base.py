"""The base every grid stands on: role checks, CSRF forms, scope, validation and friendly errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView
from flask_admin.contrib.sqla import ModelView
from flask_admin.model.template import EditRowAction
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from admin_views.auth import current_actor
from admin_views.errors import log_unexpected, propagates
from admin_views.formatters import TYPE_FORMATTERS
from admin_views.list_counts import bounded_count_query
from admin_views.permissions import Area, may_edit, may_read
from admin_views.redirects import safe_next
from admin_views.scope import current_scope
from billing.core.audit import Actor
from billing.core.checks import parse_id, parse_ids
from billing.core.db import db
from billing.core.errors import BillingError, Problem
from billing.org.queries import Scope

# Unique constraints, as PostgreSQL names them (naming convention) and as SQLite reports them
# (table.column), mapped to what a person should read. Forms check most of these before writing;
# this is the backstop for races between two users.
UNIQUE_MESSAGES: tuple[tuple[str, str, str], ...] = (
    ("uq_user_email", "user.email", "That email already has an account."),
    ("uq_provider_npi", "provider.npi", "Another provider already has this NPI."),
    ("uq_company_legal_name", "company.legal_name", "A company with this legal name exists."),
    ("uq_company_group_npi", "company.group_npi", "Another company already uses this group NPI."),
    ("uq_client_account_number", "client.account_number", "Another client already has this account number."),
    ("uq_payer_company_id", "payer.company_id", "This company already has a payer with that name."),
    ("uq_practice_company_id", "practice.company_id", "This company already has a practice with that name."),
    ("uq_location_practice_id", "location.practice_id", "This practice already has a location with that name."),
    ("uq_service_code_company_id", "service_code.company_id", "This company already has that service code."),
    ("uq_fee_schedule_company_id", "fee_schedule.company_id", "A fee schedule with this name exists."),
    ("uq_fee_schedule_rate_fee_schedule_id", "fee_schedule_rate.fee_schedule_id",
     "This schedule already has a rate for that code and modifiers."),
    ("uq_service_authorization_policy_id", "service_authorization.policy_id",
     "This policy already has an authorization with that number."),
    ("uq_session_class_company_id", "session_class.company_id", "A session class with this name exists."),
    ("uq_client_diagnosis_client_id", "client_diagnosis.client_id",
     "A diagnosis is listed twice, or two share a position."),
)
SAVE_FAILED = "The record could not be saved and nothing was changed. Check the fields and try again."
FOREIGN_KEY_MESSAGE = "Other records still refer to this one, so it cannot be deleted. Deactivate it instead."


class AdminForm(FlaskForm):
    """Flask-WTF form for Flask-Admin, so admin forms share the app's CSRF token (CSRFProtect)."""

    def __init__(self, formdata: Any = None, obj: Any = None, prefix: str = "", **kwargs: Any) -> None:
        self._obj = obj
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)


FormChecks = Callable[[Mapping[str, Any], Any], list[Problem]]
ScopeRule = Callable[[Scope], ColumnElement[bool]]


class RoleModelView(ModelView):
    """A grid whose readers and editors come from admin_views.permissions for its `area`."""

    area: ClassVar[Area]
    #: WHERE clause limiting rows to the user's chosen company / practice / location.
    scope_rule: ClassVar[ScopeRule | None] = None
    #: Cross-field checks from billing/*/checks.py: (form data, record being edited or None) -> problems.
    form_checks: ClassVar[FormChecks | None] = None
    allow_create: ClassVar[bool] = True
    allow_delete: ClassVar[bool] = False
    #: False for records the system writes (remittances from 835 files): no generic edit form for anyone.
    allow_edit: ClassVar[bool] = True

    form_base_class = AdminForm
    list_template = "claimdesk/list.html"
    column_type_formatters = TYPE_FORMATTERS
    column_type_formatters_detail = TYPE_FORMATTERS
    page_size = 20
    can_set_page_size = True
    page_size_options = (20, 50, 100)
    can_view_details = True
    can_export = False  # spreadsheets come from exports/, which keeps numbers numeric
    named_filter_urls = True

    def __init__(self, model: type[Any], session: Any, name: str | None = None, **kwargs: Any) -> None:
        # Flask-Admin replaces a class-level `name` with the model's name unless one is passed in.
        super().__init__(model, session, name=name or getattr(type(self), "name", None), **kwargs)

    # --- access -------------------------------------------------------------------------------
    def is_accessible(self) -> bool:
        return current_user.is_authenticated and may_read(current_user.role, self.area)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Response:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(403)

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return current_user.is_authenticated and may_edit(current_user.role, self.area)

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return self.allow_create and self.can_edit

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return self.allow_delete and self.can_edit

    def _handle_view(self, name: str, **kwargs: Any) -> Any:
        refused = super()._handle_view(name, **kwargs)
        if refused is not None:
            return refused
        return self._refuse_change(name)

    def _refuse_change(self, name: str) -> Response | None:
        """A page the role may not open is a 403; a refused POST is a flash, not a silent no-op."""
        allowed = {
            "create_view": self.can_create,
            "edit_view": self.allow_edit and self.can_edit,
            "delete_view": self.can_delete,
            "action_view": self.may_post_action(request.form.get("action", "")),
            "ajax_update": self.allow_edit and self.can_edit,
        }.get(name, True)
        if allowed:
            return None
        if request.method == "GET":
            abort(403)
        flash(f"Your role ({current_user.role.label}) cannot change {self.name.lower()}.", "error")
        return redirect(self.get_url(".index_view"))

    def get_list_row_actions(self) -> Any:
        actions = super().get_list_row_actions()
        if self.allow_edit:
            return actions
        return [a for a in actions if not isinstance(a, EditRowAction)]

    def handle_action(self, return_view: str | None = None) -> Any:
        """Every grid's list actions: the rows posted must all be ids, or nothing is done."""
        ids = parse_ids(request.form.getlist("rowid"))
        if ids is None:
            flash("The selection holds something that is not a record id; nothing was changed.", "error")
            return redirect(self.action_return_url())
        if self.hidden_ids(ids):
            # A crafted id from outside the scope picker's company, practice or location: "not found", as on a
            # details page, and nothing is done to the others either.
            flash("The selection holds a record that does not exist in the chosen scope; nothing was changed.", "error")
            return redirect(self.action_return_url())
        return super().handle_action(return_view)

    def hidden_ids(self, ids: list[int]) -> set[int]:
        """Of `ids`, those that exist but lie outside the chosen scope (a missing id is the action's to report)."""
        rule, scope = type(self).scope_rule, current_scope()
        if rule is None or scope.is_everything or not ids:
            return set()
        pk = getattr(self.model, self._primary_key)
        existing = set(db.session.scalars(select(pk).where(pk.in_(set(ids)))))
        return existing - set(db.session.scalars(select(pk).where(pk.in_(existing), rule(scope))))

    def may_post_action(self, name: str) -> bool:
        """Actions change data, so only editors post them; a view may open one action to another role."""
        return self.can_edit

    def is_action_allowed(self, name: str) -> bool:
        """The "With selected" menu offers only the actions the role may post (the POST is refused all the same)."""
        return self.may_post_action(name) and super().is_action_allowed(name)

    def read_only_for_role(self) -> bool:
        """The "read-only for your role" badge: the role edits nothing in this area and has no list action here.
        A grid nobody edits by hand (failed charges, billing runs) is not read-only for the role that runs it."""
        if current_user.is_authenticated and may_edit(current_user.role, self.area):
            return False
        return not any(self.is_action_allowed(name) for name, _text in self._actions)

    def action_return_url(self) -> str:
        """Where a list action goes back to, as Flask-Admin does it: the page it was posted from, or the list."""
        return safe_next(request.values.get("url")) or self.get_url(".index_view")

    def _get_filter_groups(self) -> Any:
        # Flask-Admin evaluates option lists once at start-up; providers and payers change daily.
        self._refresh_filters_cache()
        return super()._get_filter_groups()

    # --- scope --------------------------------------------------------------------------------
    def _scoped(self, query: Any) -> Any:
        scope = current_scope()
        if self.scope_rule is None or scope.is_everything:
            return query
        return query.filter(type(self).scope_rule(scope))

    def get_query(self) -> Any:
        return self._scoped(super().get_query())

    def get_count_query(self) -> Any:
        # Not Flask-Admin's COUNT(*): at millions of rows an exact count costs more than the page (list_counts).
        return self._scoped(bounded_count_query(db.session, self.model))

    def get_one(self, id: Any) -> Any:
        """Records outside the chosen scope are "not found", in details, edit and delete alike; so is an id
        that cannot be one ("", "²", 2^63, a repeated ?id=), before the database sees it."""
        number = parse_id(id)
        if number is None:
            return None
        record = super().get_one(str(number))
        rule, scope = type(self).scope_rule, current_scope()
        if record is None or rule is None or scope.is_everything:
            return record
        pk = getattr(self.model, self._primary_key)
        visible = db.session.scalar(select(pk).where(pk == getattr(record, self._primary_key), rule(scope)))
        return record if visible is not None else None

    def _create_ajax_loader(self, name: str, options: dict[str, Any]) -> Any:
        """Ajax pickers (form_ajax_refs) offer and accept only records the chosen scope shows, under the scope rule
        of the grid that lists that model (a client picker follows the Clients grid); an id that cannot be one, or
        one from outside the scope, finds nothing, so a crafted POST fails the field's check."""
        loader = super()._create_ajax_loader(name, options)
        query_all, lookup = loader.get_query, loader.get_one

        def scoped_query() -> Any:
            rule, scope = self.scope_rule_for(loader.model), current_scope()
            query = query_all()
            return query if rule is None or scope.is_everything else query.filter(rule(scope))

        def scoped_one(pk: Any) -> Any:
            number = parse_id(pk)
            record = lookup(str(number)) if number else None
            rule, scope = self.scope_rule_for(loader.model), current_scope()
            if record is None or rule is None or scope.is_everything:
                return record
            key = getattr(loader.model, loader.pk)
            return record if db.session.scalar(select(key).where(key == number, rule(scope))) is not None else None

        loader.get_query, loader.get_one = scoped_query, scoped_one
        return loader

    def scope_rule_for(self, model: type[Any]) -> ScopeRule | None:
        """The scope rule of the grid that lists `model` (this admin's), or None when no grid scopes it."""
        for view in getattr(self.admin, "_views", []):
            if isinstance(view, RoleModelView) and view.model is model and type(view).scope_rule is not None:
                return type(view).scope_rule
        return None

    # --- validation ---------------------------------------------------------------------------
    def validate_form(self, form: Any) -> bool:
        valid = super().validate_form(form)
        if not valid or self.form_checks is None or not self._is_model_form(form):
            return valid
        record = self.get_one(request.args["id"]) if "id" in request.args else None
        problems = type(self).form_checks(form.data, record)
        for problem in problems:
            field = getattr(form, problem.field, None)
            if field is not None:
                field.errors = [*field.errors, problem.message]
            else:
                flash(problem.message, "error")
        return not problems

    def _is_model_form(self, form: Any) -> bool:
        return isinstance(form, self._create_form_class | self._edit_form_class)

    # --- errors -------------------------------------------------------------------------------
    def handle_view_exception(self, exc: Exception) -> bool:
        """Saving a grid's form failed: say why in words. Flask-Admin's own fallback would flash `str(exc)`,
        which for a database error is the SQL with its parameters."""
        if isinstance(exc, BillingError):
            flash(exc.message, "error")
            return True
        if isinstance(exc, IntegrityError):
            db.session.rollback()
            flash(friendly_integrity_message(exc), "error")
            return True
        if propagates():
            raise exc
        db.session.rollback()
        log_unexpected(exc)
        flash(SAVE_FAILED, "error")
        return True


def friendly_integrity_message(exc: IntegrityError) -> str:
    text = str(exc.orig)
    for pg_name, sqlite_name, message in UNIQUE_MESSAGES:
        if pg_name in text or sqlite_name in text:
            return message
    if "FOREIGN KEY" in text.upper() or "foreign key" in text:
        return FOREIGN_KEY_MESSAGE
    if "UNIQUE" in text.upper():
        return "A record with these details already exists."
    return "The record breaks a rule of the database and was not saved. Check the fields and retry."


class AreaPage(BaseView):
    """A custom admin page whose readers and editors come from admin_views.permissions."""

    area: Area

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and may_read(current_user.role, self.area)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Response:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(403)

    @property
    def can_edit(self) -> bool:
        return may_edit(current_user.role, self.area)

    def actor(self) -> Actor:
        return current_actor()
