"""Secrets at rest, tested as attacks: a stolen database file holds no SFTP password, private key or TOTP secret;
rotation moves every token to the new key; a wrong key is a clear message naming the setting, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pyotp
import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from sqlalchemy import Text, select, text, type_coerce

from app import ConfigurationError, create_app
from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.core.secrets import KEY_SETTING, SecretsKeyError, current_ring, key_ring
from billing.people.models import User
from billing.submissions.models import Clearinghouse
from tests.worlds import factories

PASSWORD = "Pa55-word-only-in-this-test"


def _private_key() -> str:
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                             serialization.NoEncryption()).decode()


def _file_app(tmp_path: Path, **config: object) -> Flask:
    return create_app({"TESTING": True, "SECRET_KEY": "file-test-secret",
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'stolen.sqlite'}", **config},
                      instance_path=str(tmp_path))


def _stolen_bytes(tmp_path: Path) -> bytes:
    """Everything an attacker who copies the database's files gets (the WAL too, if one is left)."""
    return b"".join(p.read_bytes() for p in sorted(tmp_path.glob("stolen.sqlite*")))


def _raw(column, row_id: int) -> str:
    table = column.class_.__table__
    return db.session.scalar(select(type_coerce(column, Text)).where(table.c.id == row_id))


@pytest.fixture
def ring_swap(app: Flask) -> Iterator[callable]:
    """Replace the app's key ring for one test (as a restart with another CLAIMDESK_SECRETS_KEY would)."""
    saved = app.extensions["claimdesk_secrets"]

    def swap(setting: str | None) -> None:
        app.extensions["claimdesk_secrets"] = key_ring(setting, app.config["SECRET_KEY"])
        db.session.expire_all()

    yield swap
    app.extensions["claimdesk_secrets"] = saved


def test_the_database_file_holds_no_sftp_password_private_key_or_totp_secret(tmp_path):
    app = _file_app(tmp_path)
    private_key, totp = _private_key(), pyotp.random_base32()
    with app.app_context():
        flask_migrate.upgrade()
        house = Clearinghouse(name="Stolen", isa_sender_id="A", isa_receiver_id="B", gs_sender_code="AB",
                              gs_receiver_code="CD", submitter_name="S", submitter_etin="E1",
                              submitter_contact_name="C", receiver_name="R", receiver_id="R1",
                              sftp_password=PASSWORD, sftp_private_key=private_key)
        user = User(email="mfa@example.com", name="M", role="biller", totp_secret=totp)
        user.set_password("a long enough password 1")
        db.session.add_all([house, user])
        db.session.commit()
        db.session.expire_all()
        assert (house.sftp_password, house.sftp_private_key, user.totp_secret) == (PASSWORD, private_key, totp)
        db.session.remove()
        db.engine.dispose()
    stolen = _stolen_bytes(tmp_path)
    assert b"Stolen" in stolen  # the attacker does have the file
    for secret in (PASSWORD, private_key.splitlines()[1], totp):
        assert secret.encode() not in stolen


def test_the_migration_encrypts_secrets_stored_in_plain_text(tmp_path):
    app = _file_app(tmp_path)
    with app.app_context():
        flask_migrate.upgrade(revision="c1a7e4f2b910")
        with db.engine.begin() as conn:  # what the previous release stored: plain text
            conn.execute(text(
                "INSERT INTO clearinghouse (name, isa_sender_qualifier, isa_sender_id, isa_receiver_qualifier, "
                "isa_receiver_id, gs_sender_code, gs_receiver_code, submitter_name, submitter_etin, "
                "submitter_contact_name, receiver_name, receiver_id, usage_indicator, sftp_port, inbound_folder, "
                "outbound_folder, file_name_pattern, last_control_number, active, sftp_password) VALUES ('Old', "
                "'ZZ', 'A', 'ZZ', 'B', 'AB', 'CD', 'S', 'E1', 'C', 'R', 'R1', 'T', 22, 'in', 'out', '{batch}.x12', "
                "0, 1, :password)"), {"password": PASSWORD})
            conn.execute(text("INSERT INTO user (email, name, role, password_hash, active, created_at, "
                              "session_version, failed_logins, totp_secret) VALUES ('old@example.com', 'O', "
                              "'biller', 'x', 1, '2026-01-01', 1, 0, 'JBSWY3DPEHPK3PXPOLDTIMEBASE32AAA')"))
        flask_migrate.upgrade()
        flask_migrate.upgrade()  # a second run is harmless
        house = db.session.scalar(select(Clearinghouse).where(Clearinghouse.name == "Old"))
        assert house.sftp_password == PASSWORD
        assert db.session.scalar(select(User.totp_secret)) == "JBSWY3DPEHPK3PXPOLDTIMEBASE32AAA"
        db.session.remove()
        db.engine.dispose()
    stolen = _stolen_bytes(tmp_path)
    assert PASSWORD.encode() not in stolen
    assert b"JBSWY3DPEHPK3PXPOLDTIMEBASE32AAA" not in stolen


def test_rotate_moves_every_secret_to_the_newest_key_and_a_second_run_does_nothing(app, ring_swap):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    ring_swap(old)
    house = factories.ClearinghouseFactory(sftp_password=PASSWORD, sftp_private_key=_private_key())
    user = factories.UserFactory(totp_secret=pyotp.random_base32())
    db.session.flush()
    assert Fernet(old.encode()).decrypt(_raw(Clearinghouse.sftp_password, house.id).encode()) == PASSWORD.encode()

    ring_swap(f"{new},{old}")
    result = app.test_cli_runner().invoke(args=["secrets", "rotate", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["rotated"]["clearinghouse.sftp_password"] >= 1
    assert summary["rotated"]["user.totp_secret"] >= 1
    assert new not in result.output
    assert old not in result.output
    assert PASSWORD not in result.output

    token = _raw(Clearinghouse.sftp_password, house.id)
    assert Fernet(new.encode()).decrypt(token.encode()) == PASSWORD.encode()
    ring_swap(new)  # the old key is gone from the setting: everything still opens
    assert db.session.get(Clearinghouse, house.id).sftp_password == PASSWORD
    assert db.session.get(User, user.id).totp_secret is not None
    history = db.session.scalars(select(StatusChange).where(
        StatusChange.action == AuditAction.SECRET_REENCRYPTED, StatusChange.subject_id == house.id,
        StatusChange.subject_type == "clearinghouse")).all()
    assert history
    assert all(PASSWORD not in json.dumps(h.data) for h in history)

    again = app.test_cli_runner().invoke(args=["secrets", "rotate", "--json"])
    assert again.exit_code == 0
    assert json.loads(again.output)["total_rotated"] == 0
    assert _raw(Clearinghouse.sftp_password, house.id) == token


def test_a_wrong_key_is_a_message_naming_the_setting_never_a_traceback(app, ring_swap):
    house = factories.ClearinghouseFactory(sftp_password=PASSWORD)
    db.session.flush()
    ring_swap(Fernet.generate_key().decode())  # someone else's key, and a different SECRET_KEY-derived one below
    app.extensions["claimdesk_secrets"] = key_ring(Fernet.generate_key().decode(), "another SECRET_KEY")

    with pytest.raises(SecretsKeyError, match=KEY_SETTING):
        db.session.scalar(select(Clearinghouse.sftp_password).where(Clearinghouse.id == house.id))
    result = app.test_cli_runner().invoke(args=["secrets", "rotate"])
    assert result.exit_code == 1
    assert KEY_SETTING in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_malformed_key_stops_the_app_with_a_message_that_does_not_quote_it(tmp_path):
    with pytest.raises(ConfigurationError, match="Key 2 of 2 in CLAIMDESK_SECRETS_KEY") as caught:
        _file_app(tmp_path, CLAIMDESK_SECRETS_KEY=f"{Fernet.generate_key().decode()},not-a-key-at-all")
    assert "not-a-key-at-all" not in str(caught.value)


def test_the_key_is_not_in_the_config_a_template_could_print(tmp_path):
    key = Fernet.generate_key().decode()
    app = _file_app(tmp_path, CLAIMDESK_SECRETS_KEY=key)
    assert key not in repr(dict(app.config))
    assert key not in repr(app.extensions["claimdesk_secrets"])
    with app.app_context():
        assert current_ring().keys[0].decrypt(current_ring().encrypt("x").encode()) == b"x"


def test_a_web_server_with_the_wrong_key_refuses_to_start(tmp_path, monkeypatch):
    app = _file_app(tmp_path)
    with app.app_context():
        flask_migrate.upgrade()
        db.session.add(User(email="k@example.com", name="K", role="biller", password_hash="x",
                            totp_secret=pyotp.random_base32()))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    monkeypatch.setattr("app._serving", lambda: True)
    with pytest.raises(ConfigurationError, match=KEY_SETTING):
        _file_app(tmp_path, CLAIMDESK_SECRETS_KEY=Fernet.generate_key().decode(), SECRET_KEY="rotated-away")
