"""Rules editor, billing runs and the Failed Charges report. Every change calls a service in rules/."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import DateBetweenFilter, FilterEqual, IntEqualFilter
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from admin_views.auth import current_actor
from admin_views.base import RoleModelView
from admin_views.failed_charges import FailedChargeExtras, amount_cell, fix_cell
from admin_views.formatters import lazy_options
from admin_views.operations import run_operation
from admin_views.permissions import Area, may_edit
from admin_views.scope import current_scope
from billing.claims.models import Claim
from billing.core.checks import MAX_INT, parse_id, parse_int
from billing.core.db import db
from billing.core.errors import Problem, ValidationFailed
from billing.core.id_lists import any_of
from billing.core.time import practice_today
from billing.core.unit_of_work import unit_of_work
from billing.coverage.models import Payer
from billing.coverage.options import location_options, payer_options, provider_options
from billing.org.models import Company, Location, Practice
from billing.org.queries import by_location
from rules.dry_run import dry_run
from rules.models import BLOCKING, BillingRun, OutcomeKind, Rule, RuleOutcome
from rules.operations import rule_document, save_rule, set_enabled_many, version_history
from rules.rule_json import MAX_RULE_CHARS, load_json
from rules.runs import RunResult, run_rules
from rules.variables import rule_schema

SHOWN_CHANGES = 20



def claims_in_scope() -> Any:
    return by_location(Claim.location_id, current_scope())


def flash_run(result: RunResult) -> None:
    flash(result.summary(), "success")
    for change in result.changes[:SHOWN_CHANGES]:
        flash(change.describe(), "info")
    if len(result.changes) > SHOWN_CHANGES:
        flash(f"…and {len(result.changes) - SHOWN_CHANGES} more claims changed.", "info")
    for skipped in result.skipped[:SHOWN_CHANGES]:
        flash(skipped, "warning")


def scope_choices() -> list[tuple[str, str]]:
    choices = [("", "All claims")]
    choices += [(f"company_id:{c.id}", f"Company: {c}") for c in db.session.scalars(select(Company))]
    choices += [(f"practice_id:{p.id}", f"Practice: {p}") for p in db.session.scalars(select(Practice))]
    choices += [(f"payer_id:{p.id}", f"Payer: {p}") for p in db.session.scalars(select(Payer).order_by(Payer.name))]
    return choices


def rule_scope_label(rule: Rule) -> str:
    """"All claims", or the one company, practice or payer the rule is limited to."""
    scopes = ((Company, rule.scope_company_id, "Company"), (Practice, rule.scope_practice_id, "Practice"),
              (Payer, rule.scope_payer_id, "Payer"))
    for model, key, label in scopes:
        if key is not None:
            return f"{label}: {db.session.get(model, key)}"
    return "All claims"


class RuleView(RoleModelView):
    """Billers and admins write rules here; everyone else reads them and their versions."""

    area = Area.RULES
    name = "Rules"
    allow_delete = False  # disable a rule instead: its failures and versions keep pointing at it
    details_template = "claimdesk/rules/details.html"
    column_list = ["position", "name", "enabled", "scope", "version", "updated_at", "updated_by"]
    column_labels = {"position": "Order", "scope": "Applies to", "updated_at": "Changed", "updated_by": "By"}
    column_formatters = {"scope": lambda v, c, m, n: rule_scope_label(m)}
    column_default_sort = ("position", False)
    column_searchable_list = ["name"]

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self) -> Any:
        return self._editor(None)

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self) -> Any:
        rule = self.get_one(request.args.get("id", ""))
        if rule is None:
            flash("Record does not exist.", "error")
            return redirect(self.get_url(".index_view"))
        return self._editor(rule)

    def _editor(self, rule: Rule | None) -> Any:
        """One form for both: save, or dry-run the draft and show what it would flag."""
        if not self.can_edit:
            flash(f"Your role ({current_user.role.label}) cannot change rules.", "error")
            return redirect(self.get_url(".index_view"))
        doc = rule_document(rule) if rule else _blank_rule()
        problems: list[Problem] = []
        result = None
        if request.method == "POST":
            doc, problems = _read_form(request.form)
            if not problems and request.form.get("do") == "dry-run":
                result = dry_run(doc, where=claims_in_scope())
                problems = result.problems
            elif not problems and rule is not None and request.form.get("version") != str(rule.version):
                problems = [Problem("version", f"{rule.updated_by} saved this rule (version {rule.version}) after you "
                                               "opened it. Open it again to see their change; nothing was saved.")]
            elif not problems:
                try:
                    with unit_of_work():
                        saved = save_rule(doc, actor=current_actor(), rule=rule)
                except ValidationFailed as exc:
                    problems = exc.problems
                else:
                    flash(f"Rule {saved.name!r} saved as version {saved.version}; it applies from the next run.",
                          "success")
                    return redirect(self.get_url(".details_view", id=saved.id))
        return self.render(
            "claimdesk/rules/editor.html", rule=rule, doc=doc, problems=problems, dry=result,
            rule_json=json.dumps({"conditions": doc.get("conditions"), "actions": doc.get("actions")}, indent=2),
            schema=rule_schema(), scopes=scope_choices(), scope_value=_scope_value(doc),
            return_url=self.get_url(".index_view"),
        )

    def detail_context(self, rule: Rule) -> dict[str, Any]:
        return {"document": json.dumps(rule_document(rule), indent=2), "versions": version_history(rule)}

    @action("enable", "Enable", "Enable the selected rules? They apply from the next run.")
    def action_enable(self, ids: list[str]) -> Response:
        return self._set_enabled(ids, True)

    @action("disable", "Disable", "Disable the selected rules? Their open failures clear on the next run.")
    def action_disable(self, ids: list[str]) -> Response:
        return self._set_enabled(ids, False)

    def _set_enabled(self, ids: list[str], enabled: bool) -> Response:
        state = "enabled" if enabled else "disabled"
        return run_operation(
            lambda: set_enabled_many([int(i) for i in ids], enabled, actor=current_actor()),
            success=lambda changed: f"{len(changed)} rule(s) {state}: {', '.join(changed) or 'none needed a change'}.",
            back=self.action_return_url(),
        )

    @expose("/details/")
    def details_view(self) -> Any:
        rule = self.get_one(request.args.get("id", ""))
        if rule is None:
            flash("Record does not exist.", "error")
            return redirect(self.get_url(".index_view"))
        return self.render(self.details_template, rule=rule, return_url=self.get_url(".index_view"),
                           **self.detail_context(rule))


def _blank_rule() -> dict[str, Any]:
    return {"name": "", "description": "", "position": 100, "enabled": True, "scope": {},
            "conditions": {"all": [{"name": "diagnosis_count", "operator": "less_than", "value": 1}]},
            "actions": [{"name": "fail_charge", "params": {"reason": ""}}]}


def _scope_value(doc: dict[str, Any]) -> str:
    return next((f"{k}:{v}" for k, v in (doc.get("scope") or {}).items()), "")


def _read_form(form: Any) -> tuple[dict[str, Any], list[Problem]]:
    """The editor's fields as a rule document; only the JSON and numbers can be malformed here."""
    problems = []
    try:  # size and nesting are checked before parsing: 500 nested groups once overflowed the parser
        body = load_json(form.get("rule_json", ""), field="rule_json", max_chars=MAX_RULE_CHARS)
    except ValidationFailed as exc:
        body, problems = {}, exc.problems
    if not isinstance(body, dict):
        body, problems = {}, problems or [
            Problem("rule_json", 'The rule JSON is an object: {"conditions": ..., "actions": ...}.')]
    position = parse_int(form.get("position", "100").strip(), low=0, high=MAX_INT)
    if position is None:
        problems.append(Problem("position", "The order is a whole number."))
    key, _, raw = form.get("scope", "").partition(":")
    scope_id = parse_id(raw)
    if key and scope_id is None:
        problems.append(Problem("scope", "Choose what the rule applies to from the list."))
    doc = {
        "name": form.get("name", ""), "description": form.get("description", ""),
        "position": 100 if position is None else position, "enabled": form.get("enabled") == "y",
        "scope": {key: scope_id} if key and scope_id is not None else {},
        "conditions": body.get("conditions"), "actions": body.get("actions"),
    }
    return doc, problems


# --- Failed Charges --------------------------------------------------------------------------


def _claims_where(*conditions: Any) -> Any:
    return any_of(RuleOutcome.claim_id, select(Claim.id).where(*conditions))


class ClaimColumnFilter(IntEqualFilter):
    """Equality on a column of the failed charge's claim, as a subquery so it never clashes with joins."""

    def __init__(self, claim_condition: Any, name: str, options: Any) -> None:
        super().__init__(RuleOutcome.claim_id, name, options=options)
        self.claim_condition = claim_condition

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(_claims_where(self.claim_condition(int(value))))


class DayRangeFilter(DateBetweenFilter):
    """A date range over a timestamp column: whole days, from the first day's start to the last day's end (UTC)."""

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        start, end = value
        begin = datetime.combine(start, time.min, tzinfo=UTC)
        finish = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
        return query.filter(self.column >= begin, self.column < finish)


class ServiceDateFilter(DateBetweenFilter):
    def __init__(self) -> None:
        super().__init__(RuleOutcome.claim_id, "Service date")

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        start, end = value
        return query.filter(_claims_where(Claim.service_date.between(start, end)))


BLOCKING_ORDER = (OutcomeKind.FAILURE, OutcomeKind.ERROR, OutcomeKind.HOLD, OutcomeKind.DELAY)
#: The report's tabs: open, resolved and all blocking outcomes, and open warnings.
STATES = {"open": "Open", "resolved": "Resolved", "all": "All", "warnings": "Warnings"}


def outcome_label(outcome: RuleOutcome) -> str:
    """"Failed", "Held", or "Delayed until 03/09/2026" (and whether that date has passed)."""
    if outcome.delay_until is None:
        return outcome.kind.label
    expired = " (expired: no longer blocks)" if outcome.delay_until <= practice_today() else ""
    return f"{outcome.kind.label} until {outcome.delay_until:%m/%d/%Y}{expired}"


def _company_options() -> list[tuple[int, str]]:
    return [(c.id, c.legal_name) for c in db.session.scalars(select(Company).order_by(Company.legal_name))]


def _practice_options() -> list[tuple[int, str]]:
    return [(p.id, p.name) for p in db.session.scalars(select(Practice).order_by(Practice.name))]


def _rule_options() -> list[tuple[int, str]]:
    return [(r.id, r.name) for r in db.session.scalars(select(Rule).order_by(Rule.position, Rule.id))]


def _in_practice(practice_id: int) -> Any:
    return any_of(Claim.location_id, select(Location.id).where(Location.practice_id == practice_id))


def _in_company(company_id: int) -> Any:
    practices = select(Practice.id).where(Practice.company_id == company_id)
    return any_of(Claim.location_id, select(Location.id).where(any_of(Location.practice_id, practices)))


class FailedChargeView(FailedChargeExtras, RoleModelView):
    """The billers' daily work list: claims that failed a rule, oldest failure first; fix, then Reprocess."""

    area = Area.RULES
    name = "Failed Charges"
    allow_create = False
    allow_edit = False  # an outcome is what a rule found: fixed at its source, never edited here
    can_view_details = False
    list_template = "claimdesk/rules/failed_list.html"
    scope_rule = staticmethod(lambda scope: _claims_where(by_location(Claim.location_id, scope)))
    column_list = ["claim", "client", "service_date", "payer", "amount", "rule", "kind", "reason", "fix",
                   "first_failed_at", "last_run_id", "resolved_at"]
    column_labels = {"reason": "Failure reason", "first_failed_at": "Oldest failure", "last_run_id": "Last run",
                     "resolved_at": "Resolved", "service_date": "Service date", "amount": "Billed",
                     "fix": "Fix at"}
    column_sortable_list = ["first_failed_at", "last_run_id", "kind"]
    column_default_sort = ("first_failed_at", False)
    column_filters = [
        ClaimColumnFilter(_in_company, "Company", lazy_options(_company_options)),
        ClaimColumnFilter(_in_practice, "Practice", lazy_options(_practice_options)),
        ClaimColumnFilter(lambda v: Claim.location_id == v, "Location", lazy_options(location_options)),
        IntEqualFilter(column=RuleOutcome.last_run_id, name="Run number"),
        IntEqualFilter(column=RuleOutcome.rule_id, name="Rule", options=lazy_options(_rule_options)),
        ClaimColumnFilter(lambda v: Claim.payer_id == v, "Payer", lazy_options(payer_options)),
        ServiceDateFilter(),
        DayRangeFilter(column=RuleOutcome.first_failed_at, name="Oldest failure"),
        FilterEqual(column=RuleOutcome.kind, name="Outcome", options=[(k.value, k.label) for k in BLOCKING_ORDER]),
        ClaimColumnFilter(lambda v: Claim.rendering_provider_id == v, "Provider", lazy_options(provider_options)),
    ]
    column_formatters = {
        "claim": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for("claim.details_view", id=m.claim_id), m.claim.number),
        "client": lambda v, c, m, n: m.claim.client.full_name,
        "service_date": lambda v, c, m, n: m.claim.service_date.strftime("%m/%d/%Y"),
        "payer": lambda v, c, m, n: m.claim.payer.name if m.claim.payer else "(no payer)",
        "rule": lambda v, c, m, n: m.rule.name,
        "kind": lambda v, c, m, n: outcome_label(m),
        "last_run_id": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for("billing_run.index_view", flt0_run_number_equals=m.last_run_id), m.last_run_id),
        "amount": amount_cell,
        "fix": fix_cell,
    }

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return False  # failed charges change only through runs

    def may_post_action(self, name: str) -> bool:
        return current_user.is_authenticated and may_edit(current_user.role, self.area)

    def is_action_allowed(self, name: str) -> bool:
        return self.may_post_action(name) and super().is_action_allowed(name)

    def state_tabs(self) -> list[tuple[str, str]]:
        return list(STATES.items())

    def selected_state(self) -> str:
        state = request.args.get("state", "open")
        return state if state in STATES else "open"

    def _state_filter(self, query: Any) -> Any:
        state = self.selected_state()
        if state == "warnings":  # warnings never block, so they live on their own tab
            return query.filter(RuleOutcome.kind == OutcomeKind.WARNING, RuleOutcome.resolved_at.is_(None))
        query = query.filter(RuleOutcome.kind.in_([k.value for k in BLOCKING]))
        if state == "open":
            return query.filter(RuleOutcome.resolved_at.is_(None))
        return query.filter(RuleOutcome.resolved_at.is_not(None)) if state == "resolved" else query

    def get_query(self) -> Any:
        loads = (joinedload(RuleOutcome.claim).joinedload(Claim.client),
                 joinedload(RuleOutcome.claim).joinedload(Claim.payer), joinedload(RuleOutcome.rule),
                 joinedload(RuleOutcome.claim).selectinload(Claim.lines))  # the Fix link's session / authorization
        return self._state_filter(super().get_query()).options(*loads)

    def get_count_query(self) -> Any:
        return self._state_filter(super().get_count_query())

    @action("reprocess", "Reprocess", "Run the rules again on the selected claims now?")
    def action_reprocess(self, ids: list[str]) -> Response | None:
        # Only rows the user can see: a crafted id outside the chosen scope is ignored like a missing one.
        chosen = self._scoped(select(RuleOutcome.claim_id).where(any_of(RuleOutcome.id, [int(i) for i in ids])))
        claim_ids = sorted(set(db.session.scalars(chosen)))
        if not claim_ids:
            flash("None of the selected failed charges is in the chosen scope.", "warning")
            return None
        return run_operation(lambda: run_rules(actor=current_actor(), claim_ids=claim_ids), success=flash_run,
                             back=self.action_return_url())

    @expose("/run/", methods=("POST",))
    def run_view(self) -> Response:
        """The "Run rules" button: every enabled rule over the claims in the chosen scope."""
        if not self.may_post_action("run"):
            flash(f"Your role ({current_user.role.label}) cannot run the rules.", "error")
            return redirect(self.get_url(".index_view"))
        scope = current_scope()
        return run_operation(
            lambda: run_rules(actor=current_actor(), company_id=scope.company_id, practice_id=scope.practice_id,
                              location_id=scope.location_id),
            success=flash_run, back=self.get_url(".index_view"),
        )


# --- Billing runs ----------------------------------------------------------------------------


def _run_scope(run: BillingRun) -> str:
    if not run.scope:
        return "all claims"
    parts = [f"{key.removesuffix('_id')} {value}" for key, value in run.scope.items()
             if key not in ("claims", "claim_count")]
    claims = run.scope.get("claims")
    if claims:
        count = run.scope.get("claim_count", len(claims))  # runs before it was kept named every claim
        parts.append(f"{count} claim(s): {', '.join(claims[:5])}{'…' if count > 5 else ''}")
    return "; ".join(parts)


class BillingRunView(RoleModelView):
    """Every billing run with its number, times and counts; the number opens the failures it saw last."""

    area = Area.RULES
    name = "Billing runs"
    allow_create = False
    allow_edit = False  # history of what ran
    can_view_details = False
    list_template = "claimdesk/rules/runs_list.html"
    column_list = ["id", "started_at", "finished_at", "actor", "scope", "claims_checked", "claims_failing",
                   "rule_errors", "holds_placed", "holds_lifted", "outcomes_resolved"]
    column_labels = {"id": "Run", "started_at": "Started", "finished_at": "Finished", "actor": "By",
                     "claims_checked": "Claims checked", "claims_failing": "Claims failing",
                     "rule_errors": "Rule errors", "holds_placed": "Holds placed", "holds_lifted": "Holds lifted",
                     "outcomes_resolved": "Failures resolved"}
    column_default_sort = ("id", True)
    column_sortable_list = ["id", "started_at", "claims_checked", "claims_failing"]
    column_filters = [IntEqualFilter(column=BillingRun.id, name="Run number"),
                      DayRangeFilter(column=BillingRun.started_at, name="Started")]
    column_formatters = {
        "id": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for("failed_charge.index_view", state="all", flt0_run_number_equals=m.id), m.id),
        "scope": lambda v, c, m, n: _run_scope(m),
    }

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return False  # a run is a record of what happened

    def may_run(self) -> bool:
        return current_user.is_authenticated and may_edit(current_user.role, self.area)
