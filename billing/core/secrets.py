"""Secrets at rest: SFTP passwords, private keys and TOTP secrets are stored as Fernet tokens, never as typed.

A column typed `EncryptedText` encrypts on the way into the database and decrypts on the way out, so the
code that uses `house.sftp_password` sees plain text and the database file (and its backups) holds only
tokens. The keys are a `MultiFernet` ring: `CLAIMDESK_SECRETS_KEY` is a comma-separated list of Fernet keys,
newest first; the newest encrypts, any of them decrypts. Without that setting the one key is derived from
SECRET_KEY with HKDF, so a fresh install is encrypted with no extra step. The derived key always stays at the
end of the ring (decrypt only, once a list is set), so moving from it to a key of your own is one
`flask secrets rotate`.

The ring lives in `app.extensions`, never in `app.config` (templates can read the config), and no message
here ever quotes a key or a secret.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app
from sqlalchemy import Column, Table, Text, inspect, literal, select, type_coerce, update
from sqlalchemy.types import TypeDecorator

from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.errors import Failed

KEY_SETTING = "CLAIMDESK_SECRETS_KEY"
_EXTENSION = "claimdesk_secrets"
#: HKDF's context string: a key derived for secrets at rest is never the same bytes as one derived for anything
#: else from the same SECRET_KEY. Changing it would make every stored secret unreadable.
_HKDF_INFO = b"claimdesk secrets at rest v1"


class SecretsKeyError(Failed):
    """The keys in CLAIMDESK_SECRETS_KEY are malformed, or none of them opens a stored secret."""


@dataclass(frozen=True)
class KeyRing:
    """The keys, newest first. Its `repr` says where they came from, never what they are."""

    keys: tuple[Fernet, ...] = field(repr=False)
    source: str  # "CLAIMDESK_SECRETS_KEY" or "SECRET_KEY (derived)", for messages

    @property
    def ring(self) -> MultiFernet:
        return MultiFernet(list(self.keys))

    def encrypt(self, plain: str) -> str:
        return self.keys[0].encrypt(plain.encode()).decode("ascii")

    def decrypt(self, token: str, *, what: str = "A stored secret") -> str:
        try:
            return self.ring.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            raise SecretsKeyError(unreadable_message(what)) from None

    def is_current(self, token: str) -> bool:
        """True when the newest key opens `token`: rotating it would change nothing."""
        try:
            self.keys[0].decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeError):
            return False
        return True

    def rotate(self, token: str, *, what: str) -> str:
        try:
            return self.ring.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise SecretsKeyError(unreadable_message(what)) from None


def unreadable_message(what: str) -> str:
    return (f"{what} cannot be decrypted with the keys in {KEY_SETTING} (or, when that is not set, the key "
            f"derived from SECRET_KEY). Put the key it was encrypted with back into {KEY_SETTING} (newest first, "
            "comma-separated) and restart; see docs/security.md#secrets-at-rest.")


def derived_key(secret_key: str | bytes) -> bytes:
    """The Fernet key HKDF-SHA256 derives from SECRET_KEY (used when CLAIMDESK_SECRETS_KEY is not set)."""
    raw = secret_key.encode() if isinstance(secret_key, str) else secret_key
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(raw))


def key_ring(setting: str | None, secret_key: str | bytes) -> KeyRing:
    """The ring from the setting's value (comma-separated Fernet keys, newest first) plus the derived key."""
    derived = Fernet(derived_key(secret_key))
    entries = [part.strip() for part in (setting or "").split(",") if part.strip()]
    if not entries:
        return KeyRing((derived,), "SECRET_KEY (derived)")
    keys = []
    for number, entry in enumerate(entries, start=1):
        try:
            keys.append(Fernet(entry.encode("ascii")))
        except (ValueError, binascii.Error, UnicodeError):
            raise SecretsKeyError(
                f"Key {number} of {len(entries)} in {KEY_SETTING} is not a Fernet key (44 characters of URL-safe "
                "base64). Make one with `flask secrets new-key`."
            ) from None
    return KeyRing((*keys, derived), KEY_SETTING)


def init_secrets(app: Flask) -> KeyRing:
    """Build the ring once and take the setting out of `app.config`, where a template could print it."""
    setting = app.config.pop(KEY_SETTING, None) or os.environ.get(KEY_SETTING)
    ring = key_ring(setting, app.config["SECRET_KEY"])
    app.extensions[_EXTENSION] = ring
    return ring


def current_ring() -> KeyRing:
    return current_app.extensions[_EXTENSION]


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


class EncryptedText(TypeDecorator[str]):
    """A text column stored as a Fernet token under the app's newest key; read back as the plain text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else current_ring().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else current_ring().decrypt(value)


def encrypted_columns() -> Iterator[tuple[Table, Column[Any]]]:
    """Every (table, column) stored encrypted, found by type so a new secret column is rotated too."""
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText):
                yield table, column


@dataclass(frozen=True)
class Rotation:
    """What `rotate_secrets` did per column: tokens re-encrypted and tokens already under the newest key."""

    rotated: dict[str, int]
    current: dict[str, int]

    @property
    def total_rotated(self) -> int:
        return sum(self.rotated.values())


def rotate_secrets(*, actor: Actor) -> Rotation:
    """Re-encrypt every stored secret under the newest key. Idempotent: a second run re-encrypts nothing.

    Reads and writes the raw tokens (never the plain text) and locks the rows. A token no key opens stops the
    whole rotation with a message naming the row, so the caller's transaction rolls everything back. Each row
    re-encrypted gets a history row naming the field (never a value).
    Flushes; the caller commits.
    """
    ring = current_ring()
    rotated: dict[str, int] = {}
    current: dict[str, int] = {}
    for table, column in encrypted_columns():
        name = f"{table.name}.{column.name}"
        rotated[name] = current[name] = 0
        (key,) = table.primary_key.columns
        # type_coerce to plain Text: the token comes back as stored, not decrypted.
        raw = select(key, type_coerce(column, Text)).where(column.is_not(None)).with_for_update()
        rows = db.session.execute(raw).all()
        for row_id, token in rows:
            if ring.is_current(token):
                current[name] += 1
                continue
            fresh = ring.rotate(token, what=f"The stored {column.name} of {table.name} {row_id}")
            db.session.execute(update(table).where(key == row_id).values({column.name: literal(fresh, Text)}))
            record_change(table.name, row_id, AuditAction.SECRET_REENCRYPTED, actor=actor, data={"field": column.name})
            rotated[name] += 1
    db.session.flush()
    return Rotation(rotated, current)



def check_secrets_readable() -> None:
    """Open one stored secret of each kind with the ring; SecretsKeyError if the keys are not the right ones."""
    inspector = inspect(db.engine)
    ring = current_ring()
    for table, column in encrypted_columns():
        if not inspector.has_table(table.name):
            return  # a database not migrated yet holds no secrets
        token = db.session.scalar(select(type_coerce(column, Text)).where(column.is_not(None)).limit(1))
        if token is not None:
            ring.decrypt(token, what=f"The stored {column.name} of a {table.name}")
