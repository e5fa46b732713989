"""ClaimDesk's application factory; `flask` finds `create_app` here with no flags."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from billing.core.db import db

ROOT = Path(__file__).resolve().parent
# Batch mode lets later migrations ALTER tables on SQLite too.
migrate = Migrate(directory=str(ROOT / "migrations"), compare_type=True, render_as_batch=True)
csrf = CSRFProtect()


class ConfigurationError(RuntimeError):
    """The app cannot start safely with this configuration."""


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
    _init_extensions(app)
    _register_cli(app)
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
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env()
    if config:
        app.config.from_mapping(config)
    if not app.config["SECRET_KEY"]:
        if not (app.debug or app.testing):
            raise ConfigurationError(
                "SECRET_KEY is not set. Put SECRET_KEY = '...' in instance/config.py or export "
                "FLASK_SECRET_KEY (make run writes one for local use). Sessions and CSRF tokens "
                "are signed with it, so a random per-process key would log everyone out."
            )
        app.config["SECRET_KEY"] = "dev-only-insecure-key"  # noqa: S105 - debug/testing only
        app.logger.warning("SECRET_KEY is not set; using an insecure development key.")
    if not (app.debug or app.testing):
        app.config.setdefault("SESSION_COOKIE_SECURE", app.config.get("PREFERRED_URL_SCHEME") == "https")


def _init_extensions(app: Flask) -> None:
    import billing.models  # noqa: F401 - registers every table on the metadata
    from admin_views import init_admin
    from admin_views.auth import init_auth
    from admin_views.errors import init_error_pages

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    init_auth(app)
    init_error_pages(app)
    init_admin(app)


def _register_cli(app: Flask) -> None:
    from billing.cli import register_cli
    from exports.cli import reports_cli

    register_cli(app)
    app.cli.add_command(reports_cli)  # here, not in billing/cli.py: billing never imports exports
