"""client.statement_party and client.statement_name: who shares a client's patient statement, kept on the client

Revision ID: d8f3b6a2c4e7
Revises: c7d2f4a9e1b6
Create Date: 2026-12-05

The Statements page worked out every owing client's party (responsible party's name and address, normalized) in
Python on each load: 60 ms for 3,213 parties at the demo's scale 1000. Kept on the client, the page groups, counts,
totals, sorts and pages the cycle in SQL. Existing clients are filled in with the application's own rules
(billing/people/statement_parties.py); should those rules change, a later migration fills them in again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from billing.people.statement_parties import PARTY_COLUMNS, party_key, statement_name

revision = "d8f3b6a2c4e7"
down_revision = "c7d2f4a9e1b6"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade():
    op.add_column("client", sa.Column("statement_party", sa.String(400), nullable=True))
    op.add_column("client", sa.Column("statement_name", sa.String(120), nullable=False, server_default=""))
    bind = op.get_bind()
    client = sa.table("client", sa.column("id"), sa.column("statement_party"), sa.column("statement_name"),
                      *(sa.column(name) for name in PARTY_COLUMNS))
    update = (sa.update(client).where(client.c.id == sa.bindparam("client_id"))
              .values(statement_party=sa.bindparam("party"), statement_name=sa.bindparam("name")))
    last = 0
    while True:
        rows = bind.execute(sa.select(client.c.id, *(client.c[name] for name in PARTY_COLUMNS))
                            .where(client.c.id > last).order_by(client.c.id).limit(_BATCH)).mappings().all()
        if not rows:
            break
        bind.execute(update, [{"client_id": row["id"], "party": party_key(row), "name": statement_name(row)}
                              for row in rows])
        last = rows[-1]["id"]


def downgrade():
    with op.batch_alter_table("client") as batch:
        batch.drop_column("statement_name")
        batch.drop_column("statement_party")
