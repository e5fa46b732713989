"""reports and jobs: export runs, download log, job runs (issue 7)

Revision ID: d4f7b0c3e504
Revises: c3e6a9b2d403
Create Date: 2026-11-23 09:10:00

"""
from alembic import op
import sqlalchemy as sa

import billing.db


# revision identifiers, used by Alembic.
revision = 'd4f7b0c3e504'
down_revision = 'c3e6a9b2d403'
branch_labels = None
depends_on = None


def upgrade():
    pass  # RESERVED: the reports work writes its tables here (one migration per feature keeps the chain linear)


def downgrade():
    pass
