"""the Clients list's sort order (last name, first name) as one index, so a page reads 20 rows at any size

Revision ID: e83b51d0c4a7
Revises: d4a7c1e9b352
Create Date: 2026-12-04 21:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e83b51d0c4a7'
down_revision = 'd4a7c1e9b352'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.create_index('ix_client_last_name_first_name', ['last_name', 'first_name'], unique=False)


def downgrade():
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_index('ix_client_last_name_first_name')
