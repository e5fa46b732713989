"""claim_balance: partial indexes on the claims with a patient balance and with an insurance credit, so Statements
and Credit balances read what is open instead of summing the ledger

Revision ID: 2c9e4b7a1d60
Revises: 15b5677537d6
Create Date: 2026-12-04

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2c9e4b7a1d60"
down_revision = "15b5677537d6"
branch_labels = None
depends_on = None

INDEXES = {"ix_claim_balance_patient_open": "patient <> 0", "ix_claim_balance_insurance_credit": "insurance < 0"}


def upgrade():
    for name, where in INDEXES.items():
        op.create_index(name, "claim_balance", ["claim_id"], postgresql_where=sa.text(where),
                        sqlite_where=sa.text(where))


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name="claim_balance")
