"""check number, date and method on manual payments; posted checks (Post a check) with their unapplied remainder

Revision ID: f5607885a749
Revises: c0b68d9b0791
Create Date: 2026-12-04 17:13:26.939934

"""

from alembic import op
import sqlalchemy as sa

import billing.core.db


# revision identifiers, used by Alembic.
revision = "f5607885a749"
down_revision = 'c0b68d9b0791'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "posted_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=False),
        sa.Column("check_number", sa.String(length=50), nullable=False),
        sa.Column("check_date", sa.Date(), nullable=False),
        sa.Column(
            "method",
            sa.Enum("check", "eft", "card", "other", name="paymentmethod", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("applied", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("unapplied", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("posted_at", billing.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_posted_check_amount_not_negative")),
        sa.CheckConstraint("unapplied >= 0", name=op.f("ck_posted_check_unapplied_not_negative")),
        sa.ForeignKeyConstraint(["payer_id"], ["payer.id"], name=op.f("fk_posted_check_payer_id_payer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posted_check")),
        sa.UniqueConstraint("payer_id", "check_number", name=op.f("uq_posted_check_payer_id_check_number")),
    )
    with op.batch_alter_table("posted_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_posted_check_payer_id"), ["payer_id"], unique=False)

    with op.batch_alter_table("adjudication", schema=None) as batch_op:
        batch_op.add_column(sa.Column("check_number", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("check_date", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "payment_method",
                sa.Enum(
                    "check", "eft", "card", "other", name="paymentmethod", native_enum=False, create_constraint=True
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("posted_check_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_adjudication_posted_check_id"), ["posted_check_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_adjudication_posted_check_id_posted_check"), "posted_check", ["posted_check_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("adjudication", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_adjudication_posted_check_id_posted_check"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_adjudication_posted_check_id"))
        batch_op.drop_constraint(batch_op.f("ck_adjudication_paymentmethod"), type_="check")
        batch_op.drop_column("posted_check_id")
        batch_op.drop_column("payment_method")
        batch_op.drop_column("check_date")
        batch_op.drop_column("check_number")

    with op.batch_alter_table("posted_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posted_check_payer_id"))

    op.drop_table("posted_check")
