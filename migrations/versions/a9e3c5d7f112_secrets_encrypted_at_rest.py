"""secrets at rest: SFTP passwords, private keys and TOTP secrets become Fernet tokens

Revision ID: a9e3c5d7f112
Revises: a3c5e7f9b112
Create Date: 2026-12-04 15:10:00

The columns widen to TEXT (a token is about twice as long as its secret) and the values already stored are
encrypted with the app's key ring: Flask-Migrate runs this inside the app (migrations/env.py reads
`current_app`), so CLAIMDESK_SECRETS_KEY, or the key derived from SECRET_KEY, is the one the app will read
them with. A value that is already a token the ring opens is left alone, so a re-run changes nothing.
On SQLite, secure_delete makes the pages the plain values leave behind zeros, not free pages still holding
them; on PostgreSQL the old row versions go at the next VACUUM (docs/security.md says so).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import InvalidToken
from flask import current_app

from billing.core.secrets import current_ring

# revision identifiers, used by Alembic.
revision = 'a9e3c5d7f112'
down_revision = 'a3c5e7f9b112'
branch_labels = None
depends_on = None

# (table, column, type before) of every secret column.
SECRETS = (
    ('clearinghouse', 'sftp_password', sa.String(length=255)),
    ('clearinghouse', 'sftp_private_key', sa.Text()),
    ('user', 'totp_secret', sa.String(length=64)),
)


def _ring():
    if not current_app:  # pragma: no cover - alembic run without Flask-Migrate
        raise RuntimeError('Run this migration with `flask db upgrade`: it needs the app\'s secrets key.')
    return current_ring()


def _opens(ring, value):
    try:
        ring.ring.decrypt(value.encode('ascii'))
    except (InvalidToken, UnicodeError):
        return False
    return True


def _rewrite(convert):
    """Apply `convert(value)` to every stored value of every secret column (None: leave that value)."""
    connection = op.get_bind()
    for table_name, column_name, _ in SECRETS:
        table = sa.table(table_name, sa.column('id', sa.Integer()), sa.column(column_name, sa.Text()))
        column = table.c[column_name]
        for row_id, value in connection.execute(sa.select(table.c.id, column).where(column.is_not(None))).all():
            new = convert(value)
            if new is not None:
                connection.execute(sa.update(table).where(table.c.id == row_id).values({column_name: new}))


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('PRAGMA secure_delete = ON')
    with op.batch_alter_table('clearinghouse', schema=None) as batch_op:
        batch_op.alter_column('sftp_password', existing_type=sa.String(length=255), type_=sa.Text(),
                              existing_nullable=True)
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64), type_=sa.Text(),
                              existing_nullable=True)
    ring = _ring()
    _rewrite(lambda value: None if _opens(ring, value) else ring.encrypt(value))


def downgrade():
    # Back to plain text (so the previous code can read it), then the old column sizes.
    ring = _ring()
    _rewrite(lambda value: ring.decrypt(value) if _opens(ring, value) else None)
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.Text(), type_=sa.String(length=64),
                              existing_nullable=True)
    with op.batch_alter_table('clearinghouse', schema=None) as batch_op:
        batch_op.alter_column('sftp_password', existing_type=sa.Text(), type_=sa.String(length=255),
                              existing_nullable=True)
