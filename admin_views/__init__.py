"""Flask-Admin 2.2 grids. Configuration and one service call per action; no business logic here."""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from admin_views.access import init_access_log
from admin_views.access_log import AccessLogView
from admin_views.claims import ClaimView
from admin_views.clearinghouses import ClearinghouseView
from admin_views.client_ledger import ClientLedgerView, may_read_ledger
from admin_views.coverage import AuthorizationView, FeeScheduleView, PayerView, PolicyView, ServiceCodeView
from admin_views.credit_balances import CreditBalancesView
from admin_views.dashboard import DashboardView, KpiDashboardView
from admin_views.eligibility import EligibilityView, register_globals
from admin_views.follow_up import FilingDeadlinesView, FollowUpView
from admin_views.formatters import icon, local_time
from admin_views.headers import csp_nonce
from admin_views.jobs import JobsView
from admin_views.operations import operation_key_input
from admin_views.org import CompanyView, LocationView, PracticeView
from admin_views.paper_claims import PaperClaimsView
from admin_views.payer_names import PayerNamesView
from admin_views.payments import BulkClawbackView, RemittanceView, UnmatchedView
from admin_views.people import ClientView, ProviderView
from admin_views.post_check import PostCheckView, PostedCheckView
from admin_views.reports import ReportsView
from admin_views.rules import BillingRunView, FailedChargeView, RuleView
from admin_views.scope import init_scope
from admin_views.sessions import SessionClassView, TherapySessionView
from admin_views.statements import DunningLevelView, StatementsView
from admin_views.submissions import SubmissionsView
from admin_views.users import UserView
from billing.claims.models import Claim
from billing.core.access_log import AccessEntry
from billing.core.codes import adjustment_words, claim_status_words, plb_words, remark_words
from billing.core.db import db
from billing.core.money import format_money
from billing.coverage.models import Authorization, FeeSchedule, InsurancePolicy, Payer, ServiceCode
from billing.ledger.statement_models import DunningLevel
from billing.org.models import Company, Location, Practice
from billing.payments.models import PostedCheck, Remittance, UnmatchedClaim
from billing.people.models import Client, Provider, User
from billing.sessions.models import SessionClass, TherapySession
from billing.submissions.models import Clearinghouse
from rules.models import BillingRun, Rule, RuleOutcome


def init_admin(app: Flask) -> Admin:
    init_scope(app)
    init_access_log(app)
    app.jinja_env.filters["money"] = format_money
    # Remittance codes in words, with the code beside (1 — Processed as primary, CO-45 ..., L6 — Interest owed).
    app.jinja_env.filters["clp_status"] = claim_status_words
    app.jinja_env.filters["plb_reason"] = plb_words
    app.jinja_env.globals["adjustment_words"] = adjustment_words
    app.jinja_env.globals["remark_words"] = remark_words
    app.jinja_env.filters["local_time"] = local_time  # every timestamp on a page: practice's clock, zone labelled
    app.jinja_env.globals["icon"] = icon  # inline SVG icons, never emoji
    app.jinja_env.globals["operation_key"] = operation_key_input  # money forms: one hidden one-time key each
    app.jinja_env.globals["may_read_ledger"] = may_read_ledger  # the client ledger links on client and claim pages
    register_globals(app)  # the eligibility parts of the client and policy pages
    admin = Admin(
        app,
        name="ClaimDesk",
        theme=Bootstrap4Theme(swatch="flatly", fluid=True, base_template="claimdesk/base.html"),
        index_view=DashboardView(name="Today", url="/admin"),
        csp_nonce_generator=csp_nonce,  # its inline <script> tags carry the nonce the policy allows
    )
    admin.add_view(KpiDashboardView(name="Dashboard", endpoint="dashboard", url="/admin/dashboard"))
    practice = "Practice"
    admin.add_view(ClientView(Client, db, name="Clients", category=practice, endpoint="client"))
    admin.add_view(PolicyView(InsurancePolicy, db, category=practice, endpoint="policy"))
    admin.add_view(AuthorizationView(Authorization, db, name="Authorizations", category=practice,
                                    endpoint="authorization"))
    admin.add_view(TherapySessionView(TherapySession, db, category=practice, endpoint="session"))
    admin.add_view(ProviderView(Provider, db, name="Providers", category=practice, endpoint="provider"))
    admin.add_view(SessionClassView(SessionClass, db, category=practice, endpoint="session_class"))
    admin.add_view(ClaimView(Claim, db, category="Billing", endpoint="claim"))
    admin.add_view(SubmissionsView(name="Submissions", category="Billing", endpoint="submissions",
                                   url="/admin/submissions"))
    admin.add_view(PaperClaimsView(name="Print claims", category="Billing", endpoint="paper_claims",
                                   url="/admin/paper-claims"))
    admin.add_view(FilingDeadlinesView(name="Filing deadlines", category="Billing", endpoint="filing_deadlines",
                                       url="/admin/filing-deadlines"))
    admin.add_view(FollowUpView(name="Follow-up", category="Billing", endpoint="follow_up", url="/admin/follow-up"))
    admin.add_view(FailedChargeView(RuleOutcome, db, name="Failed charges", category="Billing",
                                   endpoint="failed_charge"))
    admin.add_view(EligibilityView(name="Eligibility", category="Billing", endpoint="eligibility",
                                   url="/admin/eligibility"))
    admin.add_view(RuleView(Rule, db, category="Billing", endpoint="rule"))
    admin.add_view(BillingRunView(BillingRun, db, category="Billing", endpoint="billing_run"))
    payments = "Payments"
    admin.add_view(RemittanceView(Remittance, db, category=payments, endpoint="remittance"))
    admin.add_view(UnmatchedView(UnmatchedClaim, db, name="Unmatched claims", category=payments, endpoint="unmatched"))
    admin.add_view(ClientLedgerView(name="Client ledger", category=payments, endpoint="client_ledger",
                                    url="/admin/client-ledger"))
    admin.add_view(CreditBalancesView(name="Credit balances", category=payments, endpoint="credit_balances",
                                      url="/admin/credit-balances"))
    admin.add_view(BulkClawbackView(name="Bulk clawback", category=payments, endpoint="bulk_clawback",
                                    url="/admin/bulk-clawback"))
    admin.add_view(StatementsView(name="Statements", category=payments, endpoint="statements",
                                  url="/admin/statements"))
    admin.add_view(PostCheckView(name="Post a check", category=payments, endpoint="post_check",
                                 url="/admin/post-check"))
    admin.add_view(PostedCheckView(PostedCheck, db, category=payments, endpoint="posted_check",
                                   url="/admin/posted-check"))
    admin.add_view(ReportsView(name="Reports", endpoint="reports", url="/admin/reports"))
    admin.add_view(JobsView(name="Jobs", category="Billing", endpoint="jobs", url="/admin/jobs"))
    setup = "Billing setup"
    admin.add_view(PayerView(Payer, db, name="Payers", category=setup, endpoint="payer"))
    admin.add_view(PayerNamesView(name="Payer names", category=setup, endpoint="payer_names", url="/admin/payer-names"))
    admin.add_view(ServiceCodeView(ServiceCode, db, name="Service codes", category=setup, endpoint="service_code"))
    admin.add_view(FeeScheduleView(FeeSchedule, db, name="Fee schedules", category=setup, endpoint="fee_schedule"))
    admin.add_view(ClearinghouseView(Clearinghouse, db, category=setup, endpoint="clearinghouse"))
    admin.add_view(DunningLevelView(DunningLevel, db, name="Dunning levels", category=setup,
                                    endpoint="dunning_level"))
    org = "Organisation"
    admin.add_view(CompanyView(Company, db, name="Companies", category=org, endpoint="company"))
    admin.add_view(PracticeView(Practice, db, name="Practices", category=org, endpoint="practice"))
    admin.add_view(LocationView(Location, db, name="Locations", category=org, endpoint="location"))
    admin.add_view(UserView(User, db, category=org, endpoint="user"))
    admin.add_view(AccessLogView(AccessEntry, db, category=org, endpoint="access_log"))
    app.jinja_env.globals["may_open"] = lambda endpoint: may_open(admin, endpoint)
    return admin


def may_open(admin: Admin, endpoint: str) -> bool:
    """Whether the current user may open the admin page behind `endpoint` ("unmatched.index_view"): a figure or link
    to a page the role cannot open is left off rather than leading to a 403."""
    name = endpoint.split(".", 1)[0]
    return any(view.endpoint == name and view.is_accessible() for view in admin._views)
