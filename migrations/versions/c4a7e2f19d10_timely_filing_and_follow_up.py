"""timely filing per payer (original and corrected windows), follow-up days, the follow-up queue's tables

Revision ID: c4a7e2f19d10
Revises: b8f3a6c70901
Create Date: 2026-12-05 09:00:00

"""
from alembic import op
import sqlalchemy as sa

import billing.core.db


# revision identifiers, used by Alembic.
revision = 'c4a7e2f19d10'
down_revision = 'b8f3a6c70901'
branch_labels = None
depends_on = None

# Existing payers get the same 90 days the global default rule used, so nothing flips on upgrade.
PAYER_DAYS = (("filing_limit_days", "90", "filing_limit_range"),
              ("corrected_filing_days", "90", "corrected_filing_range"),
              ("follow_up_days", "30", "follow_up_range"))


def upgrade():
    with op.batch_alter_table('payer', schema=None) as batch_op:
        for column, default, check in PAYER_DAYS:
            batch_op.add_column(sa.Column(column, sa.Integer(), server_default=default, nullable=False))
            batch_op.create_check_constraint(check, f"{column} BETWEEN 1 AND 1830")
    op.create_table(
        "claim_follow_up",
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("next_follow_up_on", sa.Date(), nullable=True),
        sa.Column("next_set_at", billing.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", billing.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(["assignee_id"], ["user.id"], name=op.f("fk_claim_follow_up_assignee_id_user")),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], name=op.f("fk_claim_follow_up_claim_id_claim")),
        sa.PrimaryKeyConstraint("claim_id", name=op.f("pk_claim_follow_up")),
    )
    op.create_index(op.f("ix_claim_follow_up_assignee_id"), "claim_follow_up", ["assignee_id"], unique=False)
    op.create_table(
        "follow_up_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("next_follow_up_on", sa.Date(), nullable=True),
        sa.Column("written_at", billing.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("written_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], name=op.f("fk_follow_up_note_claim_id_claim")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_note")),
    )
    op.create_index("ix_follow_up_note_claim", "follow_up_note", ["claim_id", "id"], unique=False)


def downgrade():
    op.drop_index("ix_follow_up_note_claim", table_name="follow_up_note")
    op.drop_table("follow_up_note")
    op.drop_index(op.f("ix_claim_follow_up_assignee_id"), table_name="claim_follow_up")
    op.drop_table("claim_follow_up")
    with op.batch_alter_table('payer', schema=None) as batch_op:
        for column, _default, check in reversed(PAYER_DAYS):
            batch_op.drop_constraint(f"ck_payer_{check}", type_="check")
            batch_op.drop_column(column)
