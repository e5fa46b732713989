"""rules engine: rules, rule versions, billing runs, rule outcomes (issue 4)

Revision ID: a1c4e7f0b201
Revises: 5b2e9c4d1a07
Create Date: 2026-11-23 09:10:00

"""
from alembic import op
import sqlalchemy as sa

import billing.db


# revision identifiers, used by Alembic.
revision = 'a1c4e7f0b201'
down_revision = '5b2e9c4d1a07'
branch_labels = None
depends_on = None


def upgrade():
    pass  # RESERVED: the rules work writes its tables here (one migration per feature keeps the chain linear)


def downgrade():
    pass
