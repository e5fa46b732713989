"""What a rule may test and what it may do, declared once for business-rules.

The declarations are the whitelist: `rule_schema()` (business-rules' `export_rule_data()`) builds the
editor and is what every rule is validated against before it is saved or run. Variables read a
`ClaimFacts` that was loaded once per claim per run, so business-rules' habit of calling a variable
once per condition costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from business_rules import export_rule_data
from business_rules.actions import BaseActions, rule_action
from business_rules.fields import FIELD_NUMERIC, FIELD_TEXT
from business_rules.variables import (
    BaseVariables,
    boolean_rule_variable,
    numeric_rule_variable,
    rule_variable,
    select_multiple_rule_variable,
    select_rule_variable,
    string_rule_variable,
)

import rules.regex  # noqa: F401 - business-rules' matches_regex runs on RE2 before any rule does
from billing.core.reference import CLAIM_FILING_INDICATORS, PLACES_OF_SERVICE
from billing.coverage.models import PayerType
from rules.date_type import DateType
from rules.models import OutcomeKind


@dataclass(slots=True)
class ClaimFacts:
    """Everything the variables can say about one claim, computed in bulk by rules.facts."""

    claim_id: int
    company_id: int
    practice_id: int
    location_id: int
    payer_id: int | None
    payer_name: str = ""
    payer_type: list[str] = field(default_factory=list)
    claim_filing_indicator: list[str] = field(default_factory=list)
    payer_requires_authorization: bool = False
    service_codes: list[str] = field(default_factory=list)
    modifiers: list[str] = field(default_factory=list)
    units: int = 0
    billed_amount: Decimal = Decimal(0)
    lowest_rate: Decimal = Decimal(0)
    place_of_service: list[str] = field(default_factory=list)
    rendering_npi_present: bool = False
    provider_active: bool = False
    client_age: int = 0
    diagnosis_count: int = 0
    diagnosis_codes: list[str] = field(default_factory=list)
    authorization_present: bool = False
    authorization_expired: bool = False
    authorization_units_short: bool = False
    days_until_authorization_end: int | None = None  # None: no authorization, so a rule on it is an error
    days_since_service: int = 0
    days_to_filing_deadline: int | None = None  # None: no payer deadline (self-pay, no payer), so a rule errs
    policy_active_on_service_date: bool = False
    subscriber_data_complete: bool = False
    duplicate_claim: bool = False
    note_finalized: bool = False
    location_name: str = ""
    practice_name: str = ""
    service_date: date | None = None
    authorization_ends_on: date | None = None  # the earliest end among the claim's authorizations
    # Eligibility (270/271): the latest answer about the claim's policy (billing.coverage.eligibility)
    eligibility_status: list[str] = field(default_factory=lambda: ["none"])
    eligibility_active_on_service_date: bool = False
    days_since_eligibility_check: int | None = None  # None: never answered, so a rule on it is an error
    visits_remaining: int | None = None  # None: the payer stated no visit limit, so a rule on it is an error


@dataclass(frozen=True)
class VariableSpec:
    name: str
    label: str
    kind: str  # business-rules field type: string, numeric, boolean, select, select_multiple, date
    options: tuple[str, ...] = ()  # empty for select variables whose values are the practice's own codes


VARIABLES: tuple[VariableSpec, ...] = (
    VariableSpec("payer_name", "Payer name", "string"),
    VariableSpec("payer_type", "Payer type", "select", tuple(t.value for t in PayerType)),
    VariableSpec("claim_filing_indicator", "Claim filing indicator (SBR09)", "select",
                 tuple(CLAIM_FILING_INDICATORS)),
    VariableSpec("payer_requires_authorization", "Payer requires authorization", "boolean"),
    VariableSpec("service_codes", "Service codes on the claim", "select"),
    VariableSpec("modifiers", "Modifiers on the claim", "select_multiple"),
    VariableSpec("units", "Units (all lines)", "numeric"),
    VariableSpec("billed_amount", "Billed amount", "numeric"),
    VariableSpec("lowest_rate", "Lowest rate per unit on a line", "numeric"),
    VariableSpec("place_of_service", "Place of service", "select", tuple(PLACES_OF_SERVICE)),
    VariableSpec("rendering_npi_present", "Rendering provider NPI present", "boolean"),
    VariableSpec("provider_active", "Rendering provider active", "boolean"),
    VariableSpec("client_age", "Client age on the service date (years)", "numeric"),
    VariableSpec("diagnosis_count", "Number of diagnoses", "numeric"),
    VariableSpec("diagnosis_codes", "Diagnosis codes", "select"),
    VariableSpec("authorization_present", "Every line has an authorization", "boolean"),
    VariableSpec("authorization_expired", "An authorization does not cover its line's date", "boolean"),
    VariableSpec("authorization_units_short", "Authorization has fewer units left than the claim uses", "boolean"),
    VariableSpec("days_until_authorization_end", "Days until the authorization ends (needs one)", "numeric"),
    VariableSpec("days_since_service", "Days since the service date", "numeric"),
    VariableSpec("days_to_filing_deadline", "Days left to the payer's filing deadline (negative: late; needs a "
                 "payer that is not self-pay)", "numeric"),
    VariableSpec("service_date", "Service date", "date"),
    VariableSpec("authorization_ends_on", "Authorization end date (needs one)", "date"),
    VariableSpec("policy_active_on_service_date", "Policy active on the service date", "boolean"),
    VariableSpec("subscriber_data_complete", "Subscriber data complete", "boolean"),
    VariableSpec("duplicate_claim", "Duplicate: same client, code and date on another live claim", "boolean"),
    VariableSpec("note_finalized", "Every session note is finalized", "boolean"),
    VariableSpec("location_name", "Location", "string"),
    VariableSpec("practice_name", "Practice", "string"),
    VariableSpec("eligibility_status", "Latest eligibility answer for the policy (none: never answered)", "select",
                 ("none", "active", "inactive", "unknown", "failed")),
    VariableSpec("eligibility_active_on_service_date", "Eligibility check says active on the service date",
                 "boolean"),
    VariableSpec("days_since_eligibility_check", "Days since the latest eligibility answer (needs one)", "numeric"),
    VariableSpec("visits_remaining", "Visits remaining per the latest eligibility answer (needs a visit limit)",
                 "numeric"),
)

_DECORATORS: dict[str, Callable[..., Any]] = {
    "string": lambda spec: string_rule_variable(label=spec.label),
    "numeric": lambda spec: numeric_rule_variable(label=spec.label),
    "boolean": lambda spec: boolean_rule_variable(label=spec.label),
    "select": lambda spec: select_rule_variable(label=spec.label, options=list(spec.options)),
    "select_multiple": lambda spec: select_multiple_rule_variable(label=spec.label, options=list(spec.options)),
    "date": lambda spec: rule_variable(DateType, label=spec.label),
}


class ClaimVariables(BaseVariables):
    """business-rules variables over one claim's precomputed facts (methods are added from VARIABLES)."""

    def __init__(self, facts: ClaimFacts) -> None:
        self.facts = facts


def _reader(name: str) -> Callable[[ClaimVariables], Any]:
    def read(self: ClaimVariables) -> Any:
        return getattr(self.facts, name)

    read.__name__ = name
    return read


for _spec in VARIABLES:
    setattr(ClaimVariables, _spec.name, _DECORATORS[_spec.kind](_spec)(_reader(_spec.name)))


@dataclass(frozen=True)
class Fired:
    """One action a rule asked for on one claim; the run applies them after every rule ran."""

    rule_id: int
    kind: OutcomeKind
    reason: str
    days: int | None = None

    def delay_until(self, today: Any) -> Any:
        return today + timedelta(days=self.days) if self.days is not None else None


class ClaimActions(BaseActions):
    """The four things a rule may do. They only record; rules.runs applies them after all rules ran."""

    def __init__(self, rule_id: int = 0) -> None:
        self.rule_id = rule_id
        self.fired: list[Fired] = []

    @rule_action(params={"reason": FIELD_TEXT}, label="Fail the charge")
    def fail_charge(self, reason: str) -> None:
        self.fired.append(Fired(self.rule_id, OutcomeKind.FAILURE, reason))

    @rule_action(params={"reason": FIELD_TEXT}, label="Hold the claim")
    def hold_claim(self, reason: str) -> None:
        self.fired.append(Fired(self.rule_id, OutcomeKind.HOLD, reason))

    @rule_action(params={"days": FIELD_NUMERIC, "reason": FIELD_TEXT}, label="Delay the claim (days)")
    def delay_claim(self, days: int, reason: str) -> None:
        self.fired.append(Fired(self.rule_id, OutcomeKind.DELAY, reason, int(days)))

    @rule_action(params={"message": FIELD_TEXT}, label="Warn")
    def warn(self, message: str) -> None:
        self.fired.append(Fired(self.rule_id, OutcomeKind.WARNING, message))


def fired_from_action(rule_id: int, action: dict[str, Any]) -> Fired:
    """The Fired record an action produces, without going through business-rules (compiled path)."""
    recorder = ClaimActions(rule_id)
    getattr(recorder, action["name"])(**action.get("params") or {})
    return recorder.fired[0]


_SCHEMA: dict[str, Any] | None = None


def rule_schema() -> dict[str, Any]:
    """business-rules' export: variables, actions and operators per type. Built once; it never changes."""
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = export_rule_data(ClaimVariables, ClaimActions)
    return _SCHEMA
