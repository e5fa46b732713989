"""indexes that keep list pages and front-page counts independent of table size

Revision ID: f1c3a5e7b920
Revises: b5d8e2a4c917
Create Date: 2026-12-04 17:50:00

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f1c3a5e7b920'
down_revision = 'b5d8e2a4c917'
branch_labels = None
depends_on = None

DRAFT_NOTES = "note_status = 'draft' AND session_class_id IS NULL"


def upgrade():
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.create_index('ix_claim_status_id', ['status', 'id'], unique=False)
        batch_op.create_index('ix_claim_needs_review', ['id'], unique=False,
                              postgresql_where=sa.text('needs_review = true'), sqlite_where=sa.text('needs_review = 1'))
    with op.batch_alter_table('therapy_session', schema=None) as batch_op:
        batch_op.create_index('ix_therapy_session_draft_notes', ['service_date'], unique=False,
                              postgresql_where=sa.text(DRAFT_NOTES), sqlite_where=sa.text(DRAFT_NOTES))


def downgrade():
    with op.batch_alter_table('therapy_session', schema=None) as batch_op:
        batch_op.drop_index('ix_therapy_session_draft_notes')
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index('ix_claim_needs_review')
        batch_op.drop_index('ix_claim_status_id')
