"""The claim's five family and crossover links are indexed only where set

Revision ID: a7c2e5f9b1d4
Revises: b6e2d8f4a1c3
Create Date: 2026-12-05

original_claim_id, primary_claim_id, family_id, resubmission_of_id and forwarded_by_payer_id are null on all but a
few claims (12 of 9,089 at the demo's scale 10), yet each index held an entry for every claim, and every claim
written (inserted, or updated in a way that leaves no room for PostgreSQL's in-place update: a status change) wrote
an entry in each. Read as `column = value`, which only matches a set value, so a partial index serves every query
and foreign-key check the full one did.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a7c2e5f9b1d4"
down_revision = "b6e2d8f4a1c3"
branch_labels = None
depends_on = None

COLUMNS = ("original_claim_id", "primary_claim_id", "family_id", "resubmission_of_id", "forwarded_by_payer_id")


def upgrade():
    for column in COLUMNS:
        op.drop_index(f"ix_claim_{column}", table_name="claim")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(f"ix_claim_{column}", "claim", [column], postgresql_where=where, sqlite_where=where)


def downgrade():
    for column in COLUMNS:
        op.drop_index(f"ix_claim_{column}", table_name="claim")
        op.create_index(f"ix_claim_{column}", "claim", [column])
