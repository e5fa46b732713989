"""The three configuration layers and the start-up refusal without a secret key."""

from __future__ import annotations

import pytest

from app import ConfigurationError, create_app


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
