"""submissions: clearinghouses, batches, control numbers (issue 5)

Revision ID: b2d5f8a1c302
Revises: a1c4e7f0b201
Create Date: 2026-11-23 09:10:00

"""
from alembic import op
import sqlalchemy as sa

import billing.db


# revision identifiers, used by Alembic.
revision = 'b2d5f8a1c302'
down_revision = 'a1c4e7f0b201'
branch_labels = None
depends_on = None


def upgrade():
    pass  # RESERVED: the submissions work writes its tables here (one migration per feature keeps the chain linear)


def downgrade():
    pass
