"""claim_balance: each claim's insurance and patient balances, kept by a trigger on ledger_entry

Revision ID: a7d2c4e6f813
Revises: f1c3a5e7b920
Create Date: 2026-12-04 18:05:00

The signs are frozen here as EFFECTS (billing/ledger/models.py) had them; billing/ledger/claim_balances.py builds
the same SQL from EFFECTS for schemas made from the models. A change to EFFECTS needs a migration that replaces
the trigger (tests/billing/ledger/test_claim_balances.py posts every kind and compares).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# ruff: noqa: S608 - the SQL is built from the constants below, never from input

# revision identifiers, used by Alembic.
revision = 'a7d2c4e6f813'
down_revision = 'f1c3a5e7b920'
branch_labels = None
depends_on = None

INSURANCE = {"charge": 1, "insurance_payment": -1, "contractual": -1, "other_adjustment": -1,
             "patient_responsibility": -1, "write_off": -1, "insurance_refund": 1}
PATIENT = {"patient_responsibility": 1, "patient_payment": -1, "patient_write_off": -1, "transfer_to_secondary": -1,
           "patient_refund": 1, "patient_credit_out": 1, "patient_credit_in": -1}


def _signed(signs: dict[str, int], row: str) -> str:
    whens = " ".join(f"WHEN '{kind}' THEN {'' if sign > 0 else '-'}{row}.amount" for kind, sign in signs.items())
    return f"CASE {row}.kind {whens} ELSE 0 END"


def _sqlite_trigger() -> str:
    return ("CREATE TRIGGER ledger_entry_keeps_claim_balance AFTER INSERT ON ledger_entry FOR EACH ROW BEGIN "
            "INSERT INTO claim_balance (claim_id, insurance, patient) "
            f"VALUES (NEW.claim_id, {_signed(INSURANCE, 'NEW')}, {_signed(PATIENT, 'NEW')}) "
            "ON CONFLICT (claim_id) DO UPDATE SET insurance = round(insurance + excluded.insurance, 2), "
            "patient = round(patient + excluded.patient, 2); END")


def _pg_function() -> str:
    return ("CREATE OR REPLACE FUNCTION claim_balance_add_entries() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "INSERT INTO claim_balance (claim_id, insurance, patient) "
            f"SELECT claim_id, sum({_signed(INSURANCE, 'e')}), sum({_signed(PATIENT, 'e')}) FROM new_entries e "
            "GROUP BY claim_id ORDER BY claim_id "
            "ON CONFLICT (claim_id) DO UPDATE SET insurance = claim_balance.insurance + excluded.insurance, "
            "patient = claim_balance.patient + excluded.patient; RETURN NULL; END $$")


PG_TRIGGER = ("CREATE TRIGGER ledger_entry_keeps_claim_balance AFTER INSERT ON ledger_entry "
              "REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION claim_balance_add_entries()")


def upgrade():
    op.create_table('claim_balance',
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('insurance', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('patient', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_claim_balance_claim_id_claim')),
    sa.PrimaryKeyConstraint('claim_id', name=op.f('pk_claim_balance'))
    )
    op.execute("INSERT INTO claim_balance (claim_id, insurance, patient) "
               f"SELECT claim_id, round(sum({_signed(INSURANCE, 'ledger_entry')}), 2), "
               f"round(sum({_signed(PATIENT, 'ledger_entry')}), 2) FROM ledger_entry GROUP BY claim_id")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_pg_function())
        op.execute(PG_TRIGGER)
    else:
        op.execute(_sqlite_trigger())


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_entry_keeps_claim_balance ON ledger_entry")
        op.execute("DROP FUNCTION IF EXISTS claim_balance_add_entries()")
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_entry_keeps_claim_balance")
    op.drop_table('claim_balance')
