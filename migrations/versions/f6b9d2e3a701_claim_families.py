"""claim families: the family's root claim, the claim a resubmission repeats, the payer that forwarded a crossover

Revision ID: f6b9d2e3a701
Revises: e5a8c1d2f605
Create Date: 2026-12-04 02:30:00

"""
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6b9d2e3a701'
down_revision = 'e5a8c1d2f605'
branch_labels = None
depends_on = None

COLUMNS = (('family_id', 'claim'), ('resubmission_of_id', 'claim'), ('forwarded_by_payer_id', 'payer'))


def upgrade():
    with _sqlite_foreign_keys_off():
        with op.batch_alter_table('claim', schema=None) as batch_op:
            for column, table in COLUMNS:
                batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
                batch_op.create_index(batch_op.f(f'ix_claim_{column}'), [column], unique=False)
                batch_op.create_foreign_key(batch_op.f(f'fk_claim_{column}_{table}'), table, [column], ['id'])
    _backfill_families()


@contextmanager
def _sqlite_foreign_keys_off():
    """SQLite rebuilds `claim` to add a foreign key (copy, drop, rename), and with foreign keys on, dropping
    the old table deletes every claim line by cascade. The pragma only changes between transactions."""
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.execute('COMMIT')
        op.execute('PRAGMA foreign_keys=OFF')
        op.execute('BEGIN')
    try:
        yield
    finally:
        if sqlite:
            op.execute('COMMIT')
            op.execute('PRAGMA foreign_keys=ON')
            op.execute('BEGIN')


def _backfill_families():
    """Every existing correction, void and secondary/tertiary claim joins the family of the claim it came from
    (the root of its original_claim_id / primary_claim_id chain); the root keeps a null family id."""
    claim = sa.table('claim', sa.column('id', sa.Integer), sa.column('original_claim_id', sa.Integer),
                     sa.column('primary_claim_id', sa.Integer), sa.column('family_id', sa.Integer))
    connection = op.get_bind()
    parents = {
        cid: original or primary
        for cid, original, primary in connection.execute(
            sa.select(claim.c.id, claim.c.original_claim_id, claim.c.primary_claim_id)
            .where(sa.or_(claim.c.original_claim_id.is_not(None), claim.c.primary_claim_id.is_not(None))))
    }
    for cid in sorted(parents):
        root, seen = parents[cid], {cid}
        while root in parents and root not in seen:  # a chain that loops stops where it first repeats
            seen.add(root)
            root = parents[root]
        connection.execute(sa.update(claim).where(claim.c.id == cid).values(family_id=root))


def downgrade():
    with _sqlite_foreign_keys_off(), op.batch_alter_table('claim', schema=None) as batch_op:
        for column, table in reversed(COLUMNS):
            batch_op.drop_constraint(batch_op.f(f'fk_claim_{column}_{table}'), type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_claim_{column}'))
            batch_op.drop_column(column)
