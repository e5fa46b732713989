"""Failed Charges, beyond the grid: each failure's billed amount and the record to fix, the failures grouped by rule,
payer, provider or location with counts and dollars (one GROUP BY over the same filters as the list), and an
empty list that says which filter emptied it.

A mixin of FailedChargeView (admin_views/rules.py), so the summary and the list share one set of filters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import g, request, url_for
from flask_admin import expose
from markupsafe import Markup
from sqlalchemy import func, select

from billing.claims.models import Claim
from billing.core.db import db
from billing.core.money import ZERO, format_money, to_money
from billing.coverage.models import Payer
from billing.org.models import Location, Practice
from billing.people.models import Provider
from rules.models import Rule, RuleOutcome

#: Which record a rule's variable is fixed on: the claim's client, policy, authorization, rendering provider,
#: session, payer or location. A rule over several variables links to the first one it names.
FIX_TARGETS: dict[str, str] = {
    "client_age": "client",
    "subscriber_data_complete": "policy",
    "policy_active_on_service_date": "policy",
    "claim_filing_indicator": "policy",
    "authorization_present": "authorization",
    "authorization_expired": "authorization",
    "authorization_units_short": "authorization",
    "days_until_authorization_end": "authorization",
    "authorization_ends_on": "authorization",
    "rendering_npi_present": "provider",
    "provider_active": "provider",
    "payer_name": "payer",
    "payer_type": "payer",
    "payer_requires_authorization": "payer",
    # Late or duplicate claims are worked on the claim itself (proof of timely filing, appeal, write-off, void).
    "days_to_filing_deadline": "claim",
    "days_since_service": "claim",
    "duplicate_claim": "claim",
    "location_name": "location",
    "practice_name": "location",
}
#: Everything else a rule can check (codes, units, diagnoses, notes, dates) is entered on the session.
DEFAULT_TARGET = "session"
LABELS = {
    "client": "Client",
    "policy": "Policy",
    "authorization": "Authorization",
    "provider": "Provider",
    "session": "Session",
    "payer": "Payer",
    "location": "Location",
}


def rule_variables(conditions: Any) -> list[str]:
    """The variables a rule's conditions name, in the order they appear (business-rules all/any trees)."""
    found: list[str] = []
    if isinstance(conditions, dict):
        if isinstance(conditions.get("name"), str) and "operator" in conditions:
            found.append(conditions["name"])
        for key in ("all", "any", "not"):
            found += rule_variables(conditions.get(key))
    elif isinstance(conditions, list):
        for item in conditions:
            found += rule_variables(item)
    return list(dict.fromkeys(found))


def fix_target(conditions: Any) -> str:
    """Where a failure of a rule with these conditions is fixed."""
    return next((FIX_TARGETS[v] for v in rule_variables(conditions) if v in FIX_TARGETS), DEFAULT_TARGET)


def _first_line_value(claim: Claim, attribute: str) -> int | None:
    return next((getattr(ln, attribute) for ln in claim.lines if getattr(ln, attribute) is not None), None)


def fix_url(target: str, claim: Claim) -> str:
    """The edit page of the record to fix; the record's list when the claim has none of that kind."""
    if target == "claim":
        return url_for("claim.details_view", id=claim.id)
    record: dict[str, Callable[[], int | None]] = {
        "client": lambda: claim.client_id,
        "policy": lambda: claim.policy_id,
        "authorization": lambda: _first_line_value(claim, "authorization_id"),
        "provider": lambda: claim.rendering_provider_id,
        "session": lambda: _first_line_value(claim, "session_id"),
        "payer": lambda: claim.payer_id,
        "location": lambda: claim.location_id,
    }
    record_id = record[target]()
    if record_id is None:
        return url_for(f"{target}.index_view")
    return url_for(f"{target}.edit_view", id=record_id, url=url_for("failed_charge.index_view"))


def fix_cell(view: Any, context: Any, outcome: RuleOutcome, name: str) -> Markup:
    targets = g.setdefault("fix_targets", {})
    if outcome.rule_id not in targets:
        targets[outcome.rule_id] = fix_target(outcome.rule.conditions)
    target = targets[outcome.rule_id]
    return Markup('<a href="{}" data-fix="{}">Fix {}</a>').format(
        fix_url(target, outcome.claim), target, LABELS[target].lower()
    )


def amount_cell(view: Any, context: Any, outcome: RuleOutcome, name: str) -> Markup:
    return Markup('<span class="cd-money">{}</span>').format(format_money(outcome.claim.total_charge))


# --- grouping ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grouping:
    label: str
    key: Any  # the column grouped on
    model: Any  # the table its names come from
    name: Any  # the name shown for a group
    filter_arg: str  # the list's filter that drills down to one group


GROUPINGS: dict[str, Grouping] = {
    "rule": Grouping("Rule", RuleOutcome.rule_id, Rule, Rule.name, "rule_equals"),
    "payer": Grouping("Payer", Claim.payer_id, Payer, Payer.name, "payer_equals"),
    "provider": Grouping(
        "Provider",
        Claim.rendering_provider_id,
        Provider,
        Provider.last_name + ", " + Provider.first_name,
        "provider_equals",
    ),
    "location": Grouping("Location", Claim.location_id, Location, Location.name, "location_equals"),
}


@dataclass(frozen=True)
class Group:
    key: int | None
    name: str
    failures: int
    claims: int
    dollars: Decimal
    link: str


class FailedChargeExtras:
    """Grouped summary, empty-list explanation; mixed into FailedChargeView."""

    def filtered_outcome_ids(self, *, skip: int | None = None) -> Any:
        """The ids the list shows now (tab, scope, filters), as a subquery; `skip` leaves one filter out."""
        view: Any = self
        query = view._state_filter(view._scoped(db.session.query(RuleOutcome.id)))
        for n, (idx, _name, value) in enumerate(view._get_list_filter_args() or []):
            if n != skip:
                flt = view._filters[idx]
                query = flt.apply(query, flt.clean(value))
        return query.subquery()

    def groups(self, by: str) -> list[Group]:
        """Failures per group with distinct claims and their billed dollars (a claim counts once per group)."""
        grouping = GROUPINGS[by]
        ids = self.filtered_outcome_ids()
        # One row per (group, claim) first, so a claim failing two rules adds its dollars to its payer once.
        pairs = (
            select(
                grouping.key.label("key"),
                Claim.id.label("claim_id"),
                Claim.total_charge.label("charge"),
                func.count(RuleOutcome.id).label("failures"),
            )
            .select_from(RuleOutcome)
            .join(Claim, Claim.id == RuleOutcome.claim_id)
            .where(RuleOutcome.id.in_(select(ids.c.id)))
            .group_by(grouping.key, Claim.id, Claim.total_charge)
            .subquery()
        )
        rows = db.session.execute(
            select(
                pairs.c.key, func.sum(pairs.c.failures), func.count(pairs.c.claim_id), func.sum(pairs.c.charge)
            ).group_by(pairs.c.key)
        ).all()
        keys = [key for key, *_ in rows if key is not None]
        names = (
            dict(db.session.execute(select(grouping.model.id, grouping.name).where(grouping.model.id.in_(keys))).all())
            if keys
            else {}
        )
        groups = [
            Group(
                key,
                names.get(key, "(none)"),
                int(failures),
                int(claims),
                to_money(dollars or ZERO),
                self._drill_down(grouping, key),
            )
            for key, failures, claims, dollars in rows
        ]
        return sorted(groups, key=lambda gr: (-gr.claims, gr.name))

    def _drill_down(self, grouping: Grouping, key: int | None) -> str:
        args = {k: v for k, v in request.args.items() if k != "by"}
        if key is not None:
            taken = [
                int(a[3:].split("_", 1)[0]) for a in args if a.startswith("flt") and a[3:].split("_", 1)[0].isdigit()
            ]
            args[f"flt{max(taken, default=-1) + 1}_{grouping.filter_arg}"] = str(key)
        return url_for("failed_charge.index_view", **args)

    @expose("/groups/")
    def groups_view(self) -> Any:
        view: Any = self
        by = request.args.get("by", "rule")
        by = by if by in GROUPINGS else "rule"
        groups = self.groups(by)
        return view.render(
            "claimdesk/rules/failed_groups.html",
            groups=groups,
            by=by,
            groupings=GROUPINGS,
            total_failures=sum(gr.failures for gr in groups),
            total_dollars=sum((gr.dollars for gr in groups), ZERO),
            list_args={k: v for k, v in request.args.items() if k != "by"},
        )

    # --- an empty list says why -------------------------------------------------------------------------------
    def get_empty_list_message(self) -> str:
        view: Any = self
        active = view._get_list_filter_args() or []
        if not active:
            return "No failed charges on this tab in the chosen scope."
        named = [(view._filters[idx], value) for idx, _name, value in active]
        mismatch = _practice_location_mismatch(named)
        if mismatch:
            return mismatch
        said = " and ".join(f"{flt.name} = {_option_label(view, flt, value)}" for flt, value in named)
        if len(named) == 1:
            return f"No failed charges match {said}."
        counts = [(flt.name, _count(self.filtered_outcome_ids(skip=n))) for n, (flt, _v) in enumerate(named)]
        without = "; ".join(f"without {name} there are {count}" for name, count in counts if count)
        return f"No failed charges match {said}" + (f"; {without}." if without else ".")


def _count(ids: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(ids)) or 0)


def _option_label(view: Any, flt: Any, value: str) -> str:
    options = {str(k): label for k, label in (flt.get_options(view) or [])}
    return str(options.get(str(value), value))


def _practice_location_mismatch(named: Iterable[tuple[Any, str]]) -> str | None:
    """Practice and Location chosen together, the location not in that practice: say so in those words."""
    chosen = {flt.name: value for flt, value in named}
    practice_id, location_id = chosen.get("Practice"), chosen.get("Location")
    if not (practice_id and location_id and practice_id.isdigit() and location_id.isdigit()):
        return None
    location = db.session.get(Location, int(location_id))
    if location is None or location.practice_id == int(practice_id):
        return None
    practice = db.session.get(Practice, int(practice_id))
    practice_name = practice.name if practice else practice_id
    return (
        f"No failed charges: no location '{location.name}' belongs to practice '{practice_name}' "
        f"(it belongs to '{location.practice.name}'). Clear one of the two filters."
    )
