"""Checks on payers, policies, service codes, fee schedules and authorizations before saving."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from billing.core.checks import date_order_problem, field_problem, optional_field_problem, ranges_overlap, required
from billing.core.db import db
from billing.core.errors import Problem
from billing.core.identifiers import modifiers_problem, procedure_code_problem, zip_problem
from billing.core.reference import CLAIM_FILING_INDICATORS
from billing.coverage.models import MAX_PAYER_DAYS, FeeSchedule, InsurancePolicy, SubscriberRelationship


def payer_problems(data: Mapping[str, Any], record: object | None = None) -> list[Problem]:
    problems = [*optional_field_problem(data, "zip_code", zip_problem)]
    if data.get("edi_enabled") and not (data.get("edi_payer_id") or "").strip():
        problems.append(Problem("edi_payer_id", "An EDI payer needs its payer id (837P loop 2010BB)."))
    if "claim_filing_indicator" in data and data["claim_filing_indicator"] not in CLAIM_FILING_INDICATORS:
        problems.append(Problem("claim_filing_indicator", "Choose a claim filing indicator from the list."))
    for name, label in PAYER_DAYS.items():
        problems += field_problem(data, name, lambda value, label=label: payer_days_problem(value, label))
    return problems


#: The payer's windows in days, with the words a problem names them by.
PAYER_DAYS = {
    "filing_limit_days": "The filing limit",
    "corrected_filing_days": "The corrected-claim window",
    "follow_up_days": "Follow up after",
}


def payer_days_problem(value: Any, label: str) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAYER_DAYS:
        return f"{label} is a whole number of days from 1 to {MAX_PAYER_DAYS}."
    return None


def policy_problems(data: Mapping[str, Any], record: InsurancePolicy | None = None) -> list[Problem]:
    problems = [*required(data, "member_id"), *date_order_problem(data, "effective_on", "ends_on")]
    relationship = data.get("relationship_to_subscriber")
    if relationship and SubscriberRelationship(relationship) is not SubscriberRelationship.SELF:
        problems += [
            Problem(p.field, "Needed when the client is not the subscriber (837P loop 2010BA).")
            for p in required(data, "subscriber_first_name", "subscriber_last_name", "subscriber_date_of_birth")
        ]
    if not problems and data.get("client") and data.get("rank") and data.get("effective_on"):
        problems += _overlapping_rank(data, record)
    return problems


def _overlapping_rank(data: Mapping[str, Any], record: InsurancePolicy | None) -> list[Problem]:
    """A client has one primary (one secondary...) at a time; an overlap would make billing ambiguous."""
    others = db.session.scalars(
        select(InsurancePolicy).where(
            InsurancePolicy.client_id == data["client"].id,
            InsurancePolicy.rank == data["rank"],
            InsurancePolicy.id != (record.id if record else -1),
        )
    )
    for other in others:
        if ranges_overlap(data["effective_on"], data.get("ends_on"), other.effective_on, other.ends_on):
            return [Problem("effective_on", f"Overlaps the client's other {other.rank.value} policy: {other}.")]
    return []


def service_code_problems(data: Mapping[str, Any], record: object | None = None) -> list[Problem]:
    problems = [
        *field_problem(data, "code", procedure_code_problem),
        *optional_field_problem(data, "default_modifiers", modifiers_problem),
    ]
    minutes = data.get("minutes_per_unit")
    if "minutes_per_unit" in data and (minutes is None or minutes <= 0):
        problems.append(Problem("minutes_per_unit", "Minutes per unit must be a positive number, e.g. 15."))
    return problems


def fee_schedule_problems(data: Mapping[str, Any], record: FeeSchedule | None = None) -> list[Problem]:
    problems = date_order_problem(data, "effective_on", "ends_on")
    for row in data.get("rates") or []:
        if row.get("modifiers") and (message := modifiers_problem(row["modifiers"])):
            problems.append(Problem("rates", message))
        if row.get("rate") is not None and row["rate"] < 0:
            problems.append(Problem("rates", "A rate cannot be negative."))
    if not problems and data.get("company") and data.get("effective_on"):
        problems += _overlapping_schedule(data, record)
    return problems


def _overlapping_schedule(data: Mapping[str, Any], record: FeeSchedule | None) -> list[Problem]:
    """Two schedules for the same payer in force on one day would give a session two prices."""
    payer = data.get("payer")
    others = db.session.scalars(
        select(FeeSchedule).where(
            FeeSchedule.company_id == data["company"].id,
            FeeSchedule.payer_id.is_(None) if payer is None else FeeSchedule.payer_id == payer.id,
            FeeSchedule.id != (record.id if record else -1),
        )
    )
    for other in others:
        if ranges_overlap(data["effective_on"], data.get("ends_on"), other.effective_on, other.ends_on):
            return [Problem("effective_on", f"Overlaps the schedule {other.name!r} for the same payer.")]
    return []


def authorization_problems(data: Mapping[str, Any], record: object | None = None) -> list[Problem]:
    problems = [*required(data, "number"), *date_order_problem(data, "starts_on", "ends_on")]
    units = data.get("units_approved")
    if "units_approved" in data and (units is None or units <= 0):
        problems.append(Problem("units_approved", "Units approved must be a positive whole number."))
    if "service_codes" in data and not data["service_codes"]:
        problems.append(Problem("service_codes", "Choose at least one service code the payer approved."))
    policy, client = data.get("policy"), data.get("client")
    if policy is not None and client is not None and policy.client_id != client.id:
        problems.append(Problem("policy", "This policy belongs to another client."))
    if policy is not None and not problems:
        problems += _inside_policy(data, policy)
    return problems


def _inside_policy(data: Mapping[str, Any], policy: InsurancePolicy) -> list[Problem]:
    problems = []
    starts, ends = data.get("starts_on"), data.get("ends_on")
    if starts and starts < policy.effective_on:
        problems.append(Problem("starts_on", f"Starts before the policy does ({policy.effective_on:%m/%d/%Y})."))
    if ends and policy.ends_on and ends > policy.ends_on:
        problems.append(Problem("ends_on", f"Ends after the policy does ({policy.ends_on:%m/%d/%Y})."))
    return problems
