"""payments: ledger, remittances, 835 imports, unmatched queue (issue 6)

Revision ID: c3e6a9b2d403
Revises: b2d5f8a1c302
Create Date: 2026-11-23 09:10:00

"""
from alembic import op
import sqlalchemy as sa

import billing.db


# revision identifiers, used by Alembic.
revision = 'c3e6a9b2d403'
down_revision = 'b2d5f8a1c302'
branch_labels = None
depends_on = None


def upgrade():
    pass  # RESERVED: the payments work writes its tables here (one migration per feature keeps the chain linear)


def downgrade():
    pass
