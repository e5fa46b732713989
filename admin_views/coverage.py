"""Payers, service codes and fee schedules (billers); policies and authorizations (office managers)."""

from __future__ import annotations

from typing import Any

from flask_admin.contrib.sqla.filters import FilterEqual
from sqlalchemy.orm import joinedload, selectinload

from admin_views.base import RoleModelView
from admin_views.clearinghouses import CLEARINGHOUSE_PAYER_ID_ARGS
from admin_views.formatters import code_choices, enum_choices, lazy_options
from admin_views.org import ADDRESS_FIELDS, ADDRESS_LABELS, DIGITS, STATE_CHOICES
from admin_views.permissions import Area
from billing.core.identifiers import normalize_modifiers
from billing.core.reference import CLAIM_FILING_INDICATORS
from billing.coverage.checks import (
    authorization_problems,
    fee_schedule_problems,
    payer_problems,
    policy_problems,
    service_code_problems,
)
from billing.coverage.models import (
    DEFAULT_CORRECTED_FILING_DAYS,
    DEFAULT_FILING_LIMIT_DAYS,
    DEFAULT_FOLLOW_UP_DAYS,
    Authorization,
    ClaimChannel,
    FeeSchedule,
    FeeScheduleRate,
    InsurancePolicy,
    Payer,
    PayerRoundingRule,
    PayerType,
    PolicyRank,
    RoundingRule,
    ServiceCode,
    SubscriberRelationship,
)
from billing.coverage.options import payer_options
from billing.org.queries import by_company
from billing.people.models import Sex
from billing.people.queries import by_client

MODIFIERS = {"filters": [normalize_modifiers]}
CLIENT_LOOKUP = {"fields": ["last_name", "first_name", "account_number"], "page_size": 10, "placeholder": "Client"}


class PayerView(RoleModelView):
    area = Area.BILLING_SETUP
    scope_rule = staticmethod(lambda scope: by_company(Payer.company_id, scope))
    form_checks = staticmethod(payer_problems)
    column_list = [
        "name", "payer_type", "edi_payer_id", "claim_filing_indicator", "claim_channel", "edi_enabled",
        "clearinghouse", "requires_authorization", "filing_limit_days", "follow_up_days", "active",
    ]
    column_searchable_list = ["name", "edi_payer_id"]
    column_sortable_list = ["name", "payer_type", "edi_payer_id", "edi_enabled", "active"]
    column_filters = ["payer_type", "claim_channel", "edi_enabled", "requires_authorization", "active"]
    column_labels = {
        **ADDRESS_LABELS, "edi_payer_id": "EDI payer id", "edi_enabled": "EDI", "payer_type": "Type",
        "claim_filing_indicator": "Filing indicator", "requires_authorization": "Needs auth",
        "clearinghouse_payer_id": "Clearinghouse payer id", "rounding_rule": "Timed-minutes rule",
        "filing_limit_days": "Filing limit (days)", "corrected_filing_days": "Corrected-claim window (days)",
        "follow_up_days": "Follow up after (days)", "claim_channel": "Claims by",
    }
    form_columns = [
        "company", "name", "payer_type", "claim_filing_indicator", "claim_channel", "edi_payer_id", "edi_enabled",
        "clearinghouse",
        "clearinghouse_payer_id", "requires_authorization", "rounding_rule", "filing_limit_days",
        "corrected_filing_days", "follow_up_days", "active", *ADDRESS_FIELDS,
    ]
    form_choices = {
        "payer_type": enum_choices(PayerType),
        "rounding_rule": enum_choices(PayerRoundingRule),
        "claim_channel": enum_choices(ClaimChannel),
        "claim_filing_indicator": code_choices(CLAIM_FILING_INDICATORS),
        "state": [("", ""), *STATE_CHOICES],
    }
    form_args = {
        "zip_code": DIGITS, "clearinghouse_payer_id": CLEARINGHOUSE_PAYER_ID_ARGS,
        # A form sent without a window keeps the default rather than storing nothing.
        "filing_limit_days": {"filters": [lambda v: DEFAULT_FILING_LIMIT_DAYS if v is None else v]},
        "corrected_filing_days": {"filters": [lambda v: DEFAULT_CORRECTED_FILING_DAYS if v is None else v]},
        "follow_up_days": {"filters": [lambda v: DEFAULT_FOLLOW_UP_DAYS if v is None else v]},
    }
    column_descriptions = {
        "clearinghouse": "Where this payer's 837P files go (Billing setup > Clearinghouses).",
        "clearinghouse_payer_id": "The id the clearinghouse knows this payer by (2010BB NM109); when empty, the "
        "EDI payer id is sent.",
        "rounding_rule": "How this payer counts the minutes of CMS 8-minute codes. Per session: each session on "
        "its own (8-22 min = 1 unit...). CMS day total: the day's timed 15-minute minutes of the client added up, "
        "8-22 = 1 unit, 23-37 = 2..., then spread over the codes (Medicare). Whole units: completed units only. "
        "Per-visit and whole-units codes are never changed by this rule.",
        "filing_limit_days": "Timely filing: days from the service date an original claim has to reach this payer.",
        "corrected_filing_days": "Days a corrected claim (or the fix of a denial) has, counted from the payer's "
        "latest remittance or EOB date for the claim it fixes; never less time than the original limit gives.",
        "follow_up_days": "A sent claim this payer has not answered (no 835 or acknowledgment) for this many days "
        "joins the Follow-up queue.",
    }


class ServiceCodeView(RoleModelView):
    area = Area.BILLING_SETUP
    scope_rule = staticmethod(lambda scope: by_company(ServiceCode.company_id, scope))
    form_checks = staticmethod(service_code_problems)
    column_list = ["code", "description", "default_modifiers", "minutes_per_unit", "rounding_rule", "active"]
    column_searchable_list = ["code", "description"]
    column_sortable_list = ["code", "description", "minutes_per_unit", "rounding_rule", "active"]
    column_filters = ["rounding_rule", "active"]
    column_default_sort = "code"
    column_labels = {"code": "CPT/HCPCS", "minutes_per_unit": "Minutes/unit", "rounding_rule": "Units rule"}
    form_columns = [
        "company", "code", "description", "default_modifiers", "minutes_per_unit", "rounding_rule", "active",
    ]
    form_choices = {"rounding_rule": enum_choices(RoundingRule)}
    form_args = {"code": {"filters": [lambda v: v.strip().upper() if v else v]}, "default_modifiers": MODIFIERS}
    column_descriptions = {
        "rounding_rule": "Whole units: only completed units. CMS 8-minute: 8-22 min = 1 unit, 23-37 = 2... "
        "One per visit: untimed codes.",
        "default_modifiers": "Up to four, e.g. HN or HO:95.",
    }


class FeeScheduleView(RoleModelView):
    """A payer's (or the practice default) rates per unit, by code and modifiers."""

    area = Area.BILLING_SETUP
    scope_rule = staticmethod(lambda scope: by_company(FeeSchedule.company_id, scope))
    form_checks = staticmethod(fee_schedule_problems)
    column_list = ["name", "payer", "effective_on", "ends_on", "company"]
    column_searchable_list = ["name"]
    column_sortable_list = ["name", ("payer", "payer.name"), "effective_on", "ends_on"]
    column_filters = [
        FilterEqual(column=FeeSchedule.payer_id, name="Payer", options=lazy_options(payer_options)),
        "effective_on",
    ]
    column_formatters = {"payer": lambda v, c, m, n: m.payer.name if m.payer else "Practice default"}
    column_details_list = ["name", "company", "payer", "effective_on", "ends_on", "rates"]
    form_columns = ["company", "payer", "name", "effective_on", "ends_on", "rates"]
    inline_models = [
        (
            FeeScheduleRate,
            {
                "form_columns": ["id", "service_code", "modifiers", "rate"],
                "form_args": {"modifiers": MODIFIERS},
                "form_label": "Rate",
            },
        )
    ]
    column_descriptions = {"payer": "Leave empty for the practice default schedule."}


class PolicyView(RoleModelView):
    area = Area.CLINICAL
    name = "Policies"
    details_template = "claimdesk/coverage/policy_details.html"  # with the eligibility checks (270/271)
    scope_rule = staticmethod(lambda scope: by_client(InsurancePolicy.client_id, scope))
    form_checks = staticmethod(policy_problems)
    column_list = [
        "client", "payer", "rank", "member_id", "group_number", "relationship_to_subscriber", "effective_on",
        "ends_on",
    ]
    column_searchable_list = ["member_id", "group_number", "client.last_name"]
    column_sortable_list = [("client", "client.last_name"), ("payer", "payer.name"), "rank", "effective_on", "ends_on"]
    column_filters = [
        FilterEqual(column=InsurancePolicy.payer_id, name="Payer", options=lazy_options(payer_options)),
        "rank",
        "effective_on",
        "ends_on",
    ]
    column_labels = {"relationship_to_subscriber": "Patient is subscriber's", "member_id": "Member id"}
    form_columns = [
        "client", "payer", "rank", "member_id", "group_number", "relationship_to_subscriber",
        "subscriber_first_name", "subscriber_last_name", "subscriber_date_of_birth", "subscriber_sex",
        "effective_on", "ends_on",
    ]
    form_ajax_refs = {"client": CLIENT_LOOKUP}
    form_choices = {
        "rank": enum_choices(PolicyRank),
        "relationship_to_subscriber": enum_choices(SubscriberRelationship),
        "subscriber_sex": [("", ""), *enum_choices(Sex)],
    }


class AuthorizationView(RoleModelView):
    """Payer approvals; units used are derived from billed claims, never typed here."""

    area = Area.CLINICAL
    scope_rule = staticmethod(lambda scope: by_client(Authorization.client_id, scope))
    form_checks = staticmethod(authorization_problems)
    column_list = ["number", "client", "policy", "service_codes", "starts_on", "ends_on", "units_approved"]
    column_searchable_list = ["number", "client.last_name"]
    column_sortable_list = ["number", ("client", "client.last_name"), "starts_on", "ends_on", "units_approved"]
    column_filters = ["starts_on", "ends_on", "units_approved"]
    column_auto_select_related = False
    column_formatters = {"service_codes": lambda v, c, m, n: ", ".join(sc.code for sc in m.service_codes)}
    form_columns = ["client", "policy", "number", "service_codes", "starts_on", "ends_on", "units_approved", "notes"]
    form_ajax_refs = {
        "client": CLIENT_LOOKUP,
        "policy": {"fields": ["member_id"], "page_size": 10, "placeholder": "Member id"},
    }

    def get_query(self) -> Any:
        return super().get_query().options(
            joinedload(Authorization.client),
            joinedload(Authorization.policy).joinedload(InsurancePolicy.payer),
            selectinload(Authorization.service_codes),
        )
