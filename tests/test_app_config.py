"""The three configuration layers, the start-up refusals (no secret key, a demo password), cookie and file safety."""

from __future__ import annotations

import stat
from datetime import UTC, datetime

import pytest
from werkzeug.security import generate_password_hash

from app import ConfigurationError, create_app
from billing.core.db import db
from billing.people.models import Role, User
from demo.catalog import DEMO_PASSWORD
from exports.columns import TitleBlock
from exports.workbook import write_workbook


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("FLASK_SECRET_KEY", "FLASK_SQLALCHEMY_DATABASE_URI", "FLASK_DEBUG", "FLASK_TESTING"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_without_secret_key_refuses_to_start(clean_env, tmp_path):
    with pytest.raises(ConfigurationError, match="SECRET_KEY is not set"):
        create_app(instance_path=str(tmp_path))


def test_defaults_put_sqlite_in_the_instance_folder(clean_env, tmp_path):
    app = create_app({"SECRET_KEY": "k"}, instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'claimdesk.sqlite'}"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_instance_config_then_environment_then_mapping(clean_env, tmp_path):
    (tmp_path / "config.py").write_text(
        "SECRET_KEY = 'from-file'\nSQLALCHEMY_DATABASE_URI = 'sqlite:///file.db'\nCLAIMDESK_PAGE_SIZE = 50\n"
    )
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["CLAIMDESK_PAGE_SIZE"] == 50

    clean_env.setenv("FLASK_SQLALCHEMY_DATABASE_URI", "sqlite:///env.db")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///env.db"
    assert app.config["SECRET_KEY"] == "from-file"

    app = create_app({"CLAIMDESK_PAGE_SIZE": 100}, instance_path=str(tmp_path))
    assert app.config["CLAIMDESK_PAGE_SIZE"] == 100


def test_secret_key_from_environment(clean_env, tmp_path):
    clean_env.setenv("FLASK_SECRET_KEY", "from-env")
    assert create_app(instance_path=str(tmp_path)).config["SECRET_KEY"] == "from-env"


def test_debug_mode_without_key_warns_and_uses_a_fixed_dev_key(clean_env, tmp_path, caplog):
    clean_env.setenv("FLASK_DEBUG", "1")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SECRET_KEY"] == "dev-only-insecure-key"
    assert "insecure development key" in caplog.text


@pytest.mark.parametrize(("settings", "secure"), [
    ({}, False),
    ({"PREFERRED_URL_SCHEME": "https"}, True),
    ({"CLAIMDESK_PRODUCTION": True}, True),
    ({"SESSION_COOKIE_SECURE": True}, True),
])
def test_the_session_cookie_is_secure_when_served_over_https_or_in_production(clean_env, tmp_path, settings, secure):
    app = create_app({"SECRET_KEY": "k", **settings}, instance_path=str(tmp_path))
    assert app.config["SESSION_COOKIE_SECURE"] is secure


def test_two_factor_is_required_outside_the_demo(clean_env, tmp_path):
    clean_env.delenv("CLAIMDESK_DEMO", raising=False)
    assert create_app({"SECRET_KEY": "k"}, instance_path=str(tmp_path)).config["CLAIMDESK_MFA_REQUIRED"] is True
    clean_env.setenv("CLAIMDESK_DEMO", "1")
    assert create_app({"SECRET_KEY": "k"}, instance_path=str(tmp_path)).config["CLAIMDESK_MFA_REQUIRED"] is False


def test_an_app_with_a_demo_password_refuses_to_start_unless_it_is_the_demo(clean_env, tmp_path):
    clean_env.delenv("CLAIMDESK_DEMO", raising=False)
    url = f"sqlite:///{tmp_path / 'prod.sqlite'}"
    setup = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": url},
                       instance_path=str(tmp_path))
    with setup.app_context():
        db.create_all()
        admin = User(email="admin@example.com", name="Alex", role=Role.ADMIN,
                     password_hash=generate_password_hash(DEMO_PASSWORD, method="pbkdf2:sha256:1"))
        db.session.add(admin)
        db.session.commit()
        admin_id = admin.id
    production = {"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": url}
    with pytest.raises(ConfigurationError, match=r"admin@example\.com still have the password `demo`"):
        create_app(production, instance_path=str(tmp_path))
    assert create_app({**production, "CLAIMDESK_DEMO": True}, instance_path=str(tmp_path))
    with setup.app_context():
        db.session.get(User, admin_id).set_password("a new and private passphrase")
        db.session.commit()
    assert create_app(production, instance_path=str(tmp_path))


def test_report_files_are_readable_by_their_owner_only(tmp_path):
    target = tmp_path / "claims.xlsx"
    target.write_bytes(b"old")
    target.chmod(0o644)
    write_workbook([], target, TitleBlock("Claims", "All", (), datetime(2026, 1, 5, tzinfo=UTC), "test"))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
