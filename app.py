"""ClaimDesk's application factory; `flask` finds `create_app` here with no flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import inspect, select
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

import billing.models  # noqa: F401 - registers every table on the metadata
from admin_views import init_admin
from admin_views.auth import init_auth
from admin_views.errors import init_error_pages
from admin_views.headers import init_headers
from billing.claims import hooks as claim_hooks
from billing.cli.access_log import access_log_cli
from billing.cli.claims import claims_cli
from billing.cli.dashboard import dashboard_command
from billing.cli.eligibility import eligibility_cli
from billing.cli.follow_up import filing_cli, follow_up_cli
from billing.cli.invoices import invoices_cli
from billing.cli.jobs import jobs_cli, scheduler_cli
from billing.cli.ledger import ledger_cli
from billing.cli.output import guard_commands
from billing.cli.payers import payers_cli
from billing.cli.payments import edi_cli, payments_cli
from billing.cli.reports import reports_cli
from billing.cli.rules import rules_cli
from billing.cli.secrets import secrets_cli
from billing.cli.sessions import sessions_cli
from billing.cli.statements import statements_cli
from billing.cli.submissions import submissions_cli
from billing.cli.users import users_cli
from billing.core.checks import MAX_ID
from billing.core.db import db
from billing.core.secrets import SecretsKeyError, check_secrets_readable, init_secrets
from billing.ledger.balances import money_received, session_money_refusal
from billing.ledger.charges import withdraw_bill
from billing.ledger.patient_bills import post_patient_bills
from billing.payments.secondary import hand_back_to_previous_payer
from billing.people.models import User
from billing.submissions.operations import take_out_of_unsent_batch
from billing.submissions.queries import unsent_batch_number
from demo.catalog import DEMO_LOGINS, DEMO_PASSWORD
from demo.cli import seed_demo_command

ROOT = Path(__file__).resolve().parent
# Batch mode lets later migrations ALTER tables on SQLite too.
migrate = Migrate(directory=str(ROOT / "migrations"), compare_type=True, render_as_batch=True)
csrf = CSRFProtect()


class ConfigurationError(RuntimeError):
    """The app cannot start safely with this configuration."""


class RecordIdConverter(IntegerConverter):
    """`<int:...>` in every route is a record id: 1..MAX_ID, or the address is not found (404).

    Werkzeug's own takes any number of digits, and PostgreSQL refuses 2^31 for an INTEGER id (a 500).
    """

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def create_app(config: Mapping[str, Any] | None = None, *, instance_path: str | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py, then FLASK_* variables, then `config`."""
    app = Flask(
        __name__,
        instance_path=instance_path or str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "admin_views" / "templates"),
        static_folder=str(ROOT / "admin_views" / "static"),
    )
    _configure(app, config)
    app.url_map.converters["int"] = RecordIdConverter
    if proxies := int(app.config["CLAIMDESK_PROXY_COUNT"]):
        # The client's address (the login throttle's key) and scheme as the proxy saw them; trusted only
        # from as many proxies as are really in front, or anyone could claim any address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    try:
        init_secrets(app)  # before anything touches the database: encrypted columns need the keys
    except SecretsKeyError as exc:
        raise ConfigurationError(exc.message) from None
    _init_extensions(app)
    _register_cli(app)
    _wire_hooks()
    if _serving():
        _refuse_unreadable_secrets(app)
        if not (app.debug or app.testing or app.config["CLAIMDESK_DEMO"]):
            _refuse_demo_passwords(app)
    return app


def _configure(app: Flask, config: Mapping[str, Any] | None) -> None:
    app.config.from_mapping(
        SECRET_KEY=None,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{Path(app.instance_path) / 'claimdesk.sqlite'}",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=8 * 3600,  # a working day: billers keep forms open
        CLAIMDESK_PAGE_SIZE=20,
        # `make run` sets CLAIMDESK_DEMO=1: the seeded demo logins (password `demo`) are then allowed,
        # and two-factor is optional unless CLAIMDESK_MFA_REQUIRED says otherwise.
        CLAIMDESK_DEMO=os.environ.get("CLAIMDESK_DEMO") == "1",
        CLAIMDESK_PRODUCTION=False,  # True: cookies are Secure even if PREFERRED_URL_SCHEME is not set
        CLAIMDESK_PROXY_COUNT=0,  # reverse proxies in front (1 behind nginx) whose X-Forwarded-* to trust
        CLAIMDESK_IDLE_MINUTES=15,  # automatic logoff after this long without a request
        CLAIMDESK_IDLE_WARNING_MINUTES=2,  # the page warns this long before
        CLAIMDESK_LOCKOUT_ATTEMPTS=10,  # failed logins in a row that lock an account...
        CLAIMDESK_LOCKOUT_MINUTES=15,  # ...for this long (or until an admin unlocks it)
        CLAIMDESK_LOGIN_THROTTLE=True,
        CLAIMDESK_LOGIN_RATE_LIMIT="10 per minute",  # login POSTs per client address (Flask-Limiter syntax)
        RATELIMIT_STORAGE_URI="memory://",  # per process; e.g. redis://... to share the count between workers
        # Fernet keys for secrets at rest, newest first, comma-separated; unset: derived from SECRET_KEY.
        # Read once into the key ring and then removed from the config (billing/core/secrets.py).
        CLAIMDESK_SECRETS_KEY=os.environ.get("CLAIMDESK_SECRETS_KEY"),
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env()
    if config:
        app.config.from_mapping(config)
    app.config.setdefault("CLAIMDESK_MFA_REQUIRED", not app.config["CLAIMDESK_DEMO"])
    # A database error's text then names no parameter values (patient names, member ids), wherever it goes.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"], "hide_parameters": True}
    if not app.config["SECRET_KEY"]:
        if not (app.debug or app.testing):
            raise ConfigurationError(
                "SECRET_KEY is not set. Put SECRET_KEY = '...' in instance/config.py or export "
                "FLASK_SECRET_KEY (make run writes one for local use). Sessions and CSRF tokens "
                "are signed with it, so a random per-process key would log everyone out."
            )
        app.config["SECRET_KEY"] = "dev-only-insecure-key"  # noqa: S105 - debug/testing only
        app.logger.warning("SECRET_KEY is not set; using an insecure development key.")
    # Flask defines SESSION_COOKIE_SECURE (False), so a setdefault would never set it: assign it.
    if app.config.get("PREFERRED_URL_SCHEME") == "https" or app.config["CLAIMDESK_PRODUCTION"]:
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True


def _serving() -> bool:
    """True in a web server (gunicorn, `flask run`); False for other `flask` commands, which must still run
    (`flask users set-password` is how a demo password gets changed)."""
    context = click.get_current_context(silent=True)
    return context is None or context.info_name == "run"


def _refuse_demo_passwords(app: Flask) -> None:
    """A production app must not open with a login whose password is published in the README."""
    with app.app_context():
        if not inspect(db.engine).has_table(User.__tablename__):
            return  # a database not built yet has no logins at all
        emails = [email for email, _, _ in DEMO_LOGINS]
        still_demo = [u.email for u in db.session.scalars(select(User).where(User.email.in_(emails), User.active))
                      if u.check_password(DEMO_PASSWORD)]
        db.session.remove()
    if still_demo:
        raise ConfigurationError(
            f"The demo login(s) {', '.join(still_demo)} still have the password `{DEMO_PASSWORD}`, which the README "
            "publishes. Change it (`flask users set-password EMAIL`) or deactivate them on the Users page. "
            "For a demo, set CLAIMDESK_DEMO=1 (`make run` does)."
        )


def _refuse_unreadable_secrets(app: Flask) -> None:
    """A wrong CLAIMDESK_SECRETS_KEY is said once at start, not as a failure on every page that reads a secret."""
    with app.app_context():
        try:
            check_secrets_readable()
        except SecretsKeyError as exc:
            raise ConfigurationError(exc.message) from None
        finally:
            db.session.remove()


def _init_extensions(app: Flask) -> None:
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    init_auth(app)
    init_error_pages(app)
    init_headers(app)
    init_admin(app)


def _register_cli(app: Flask) -> None:
    """Every `flask` command group, from every layer: the app is where the layers meet."""
    for group in (users_cli, claims_cli, sessions_cli, submissions_cli, edi_cli, payments_cli, ledger_cli, rules_cli,
                  reports_cli, scheduler_cli, jobs_cli, payers_cli, filing_cli, follow_up_cli, invoices_cli,
                  secrets_cli, access_log_cli, statements_cli, eligibility_cli, seed_demo_command,
                  dashboard_command):
        guard_commands(group)  # an unexpected error is one line and exit 1, never a traceback
        app.cli.add_command(group)


def _wire_hooks() -> None:
    """Answer the questions lower layers ask of higher ones (billing/core/hooks.py explains why)."""
    claim_hooks.bill_withdrawn.register(withdraw_bill, hand_back_to_previous_payer)
    claim_hooks.unsent_batch_of.register(unsent_batch_number)
    claim_hooks.take_out_of_batch.register(take_out_of_unsent_batch)
    claim_hooks.session_money_refusal.register(session_money_refusal)
    claim_hooks.money_received.register(money_received)
    claim_hooks.patient_billed.register(post_patient_bills)
