"""adjudication line remarks hold every RARC a line can carry (99 LQ segments), not the first 120 characters

Revision ID: b8f3a6c70901
Revises: b8d2f5a91c07
Create Date: 2026-12-04 12:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8f3a6c70901'
down_revision = 'b8d2f5a91c07'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('adjudication_line', schema=None) as batch_op:
        batch_op.alter_column('remarks', existing_type=sa.String(length=120), type_=sa.String(length=600),
                              existing_nullable=False)


def downgrade():
    with op.batch_alter_table('adjudication_line', schema=None) as batch_op:
        batch_op.alter_column('remarks', existing_type=sa.String(length=600), type_=sa.String(length=120),
                              existing_nullable=False)
