"""credit balances: refunds to payers and patients, and patient credits moved between claims, as ledger kinds

Revision ID: b8d2f5a61c01
Revises: b8e2d4f60801
Create Date: 2026-12-05 10:00:00

"""
from __future__ import annotations

from alembic import op

# revision identifiers, used by Alembic.
revision = 'b8d2f5a61c01'
down_revision = 'b8e2d4f60801'
branch_labels = None
depends_on = None

OLD_KINDS = ('charge', 'insurance_payment', 'contractual', 'other_adjustment', 'patient_responsibility',
             'patient_payment', 'write_off', 'patient_write_off', 'transfer_to_secondary')
NEW_KINDS = (*OLD_KINDS, 'insurance_refund', 'patient_refund', 'patient_credit_out', 'patient_credit_in')
# SQLite rebuilds the table in batch mode, which drops its append-only triggers: they are made again.
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER ledger_entry_no_{verb.lower()} BEFORE {verb} ON ledger_entry "
    "BEGIN SELECT RAISE(ABORT, 'ledger_entry is append-only'); END"
    for verb in ("UPDATE", "DELETE")
]


def _allow(kinds: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{kind}'" for kind in kinds)
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_ledger_entry_entrykind'), type_='check')
        batch_op.create_check_constraint('entrykind', f"kind IN ({allowed})")
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def upgrade():
    _allow(NEW_KINDS)


def downgrade():
    # Refused by the database while any entry of the new kinds exists: the ledger is never rewritten to fit.
    _allow(OLD_KINDS)
