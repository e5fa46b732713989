"""trigger plans that stay cheap as an 835 grows the tables: the adjudication filing-deadline function planned with
index lookups only; the claim-UPDATE triggers of the CARC-day, receivables-day and month totals end at once when no
claim of the statement moved

Revision ID: 4c7f10ee4647
Revises: 5a2c8e4f1b37
Create Date: 2026-12-05

PostgreSQL only (SQLite's row triggers keep no plan). PL/pgSQL plans a trigger's statement once per session and keeps
it, so statements planned while adjudication or ledger_entry was small scanned all of it per statement as an import
grew them. The adjudication function's body is unchanged (f6b45570d331): it gets planner settings of its own, as
billing/payments/deadline_triggers.py (INDEX_LOOKUPS_ONLY) makes it for schemas made from the models. The three
claim functions are frozen here as billing/ledger/{carc_days,ar_days,month_totals}.py now build them (the check
first, billing.core.derived.unless_any), and as they were before for the downgrade.
"""

from __future__ import annotations

from alembic import op

revision = "4c7f10ee4647"
down_revision = "5a2c8e4f1b37"
branch_labels = None
depends_on = None

FUNCTION = "adjudication_filing_deadlines()"
SETTINGS = {"enable_seqscan": "off", "enable_hashjoin": "off", "enable_mergejoin": "off"}

# ruff: noqa: E501 - frozen SQL

CARC_DAY_MOVE_CLAIMS_OLD = (
    'CREATE OR REPLACE FUNCTION carc_day_move_claims() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSER'
    'T INTO carc_day_total (service_date, location_id, group_code, reason_code, claims, amount) SELECT k1'
    ', k2, k3, k4, sum(n), sum(a) FROM (SELECT o.service_date, o.location_id, e.group_code, e.reason_code'
    ', -1, -sum(e.amount) FROM old_claims o JOIN ledger_entry e ON e.claim_id = o.id WHERE o.id IN (SELEC'
    'T o.id FROM old_claims o JOIN new_claims n ON n.id = o.id WHERE (o.service_date, o.location_id) IS D'
    'ISTINCT FROM (n.service_date, n.location_id)) AND e.group_code IS NOT NULL AND e.reason_code IS NOT '
    'NULL GROUP BY o.id, 1, 2, 3, 4 UNION ALL SELECT n.service_date, n.location_id, e.group_code, e.reaso'
    'n_code, 1, sum(e.amount) FROM new_claims n JOIN ledger_entry e ON e.claim_id = n.id WHERE n.id IN (S'
    'ELECT o.id FROM old_claims o JOIN new_claims n ON n.id = o.id WHERE (o.service_date, o.location_id) '
    'IS DISTINCT FROM (n.service_date, n.location_id)) AND e.group_code IS NOT NULL AND e.reason_code IS '
    'NOT NULL GROUP BY n.id, 1, 2, 3, 4) AS d (k1, k2, k3, k4, n, a) GROUP BY 1, 2, 3, 4 HAVING sum(n) <>'
    ' 0 OR sum(a) <> 0 ORDER BY 1, 2, 3, 4 ON CONFLICT (service_date, location_id, group_code, reason_cod'
    'e) DO UPDATE SET claims = carc_day_total.claims + excluded.claims, amount = carc_day_total.amount + '
    'excluded.amount; RETURN NULL; END $$'
)
CARC_DAY_MOVE_CLAIMS_NEW = (
    'CREATE OR REPLACE FUNCTION carc_day_move_claims() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NO'
    'T EXISTS (SELECT o.id FROM old_claims o JOIN new_claims n ON n.id = o.id WHERE (o.service_date, o.lo'
    'cation_id) IS DISTINCT FROM (n.service_date, n.location_id)) THEN RETURN NULL; END IF; INSERT INTO c'
    'arc_day_total (service_date, location_id, group_code, reason_code, claims, amount) SELECT k1, k2, k3'
    ', k4, sum(n), sum(a) FROM (SELECT o.service_date, o.location_id, e.group_code, e.reason_code, -1, -s'
    'um(e.amount) FROM old_claims o JOIN ledger_entry e ON e.claim_id = o.id WHERE o.id IN (SELECT o.id F'
    'ROM old_claims o JOIN new_claims n ON n.id = o.id WHERE (o.service_date, o.location_id) IS DISTINCT '
    'FROM (n.service_date, n.location_id)) AND e.group_code IS NOT NULL AND e.reason_code IS NOT NULL GRO'
    'UP BY o.id, 1, 2, 3, 4 UNION ALL SELECT n.service_date, n.location_id, e.group_code, e.reason_code, '
    '1, sum(e.amount) FROM new_claims n JOIN ledger_entry e ON e.claim_id = n.id WHERE n.id IN (SELECT o.'
    'id FROM old_claims o JOIN new_claims n ON n.id = o.id WHERE (o.service_date, o.location_id) IS DISTI'
    'NCT FROM (n.service_date, n.location_id)) AND e.group_code IS NOT NULL AND e.reason_code IS NOT NULL'
    ' GROUP BY n.id, 1, 2, 3, 4) AS d (k1, k2, k3, k4, n, a) GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 OR su'
    'm(a) <> 0 ORDER BY 1, 2, 3, 4 ON CONFLICT (service_date, location_id, group_code, reason_code) DO UP'
    'DATE SET claims = carc_day_total.claims + excluded.claims, amount = carc_day_total.amount + excluded'
    '.amount; RETURN NULL; END $$'
)

AR_DAY_MOVE_CLAIMS_OLD = (
    'CREATE OR REPLACE FUNCTION ar_day_move_claims() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT '
    'INTO ar_day_total (service_date, location_id, payer_id, insurance, patient, insurance_claims, patien'
    't_claims) SELECT k1, k2, k3, sum(i), sum(p), sum(ni), sum(np) FROM (SELECT o.service_date, o.locatio'
    'n_id, coalesce(o.payer_id, 0), -b.insurance, -b.patient, -(CASE WHEN round(b.insurance, 2) <> 0 THEN'
    ' 1 ELSE 0 END), -(CASE WHEN round(b.patient, 2) <> 0 THEN 1 ELSE 0 END) FROM old_claims o JOIN new_c'
    'laims n ON n.id = o.id JOIN claim_balance b ON b.claim_id = o.id WHERE (o.service_date, o.location_i'
    'd, o.payer_id) IS DISTINCT FROM (n.service_date, n.location_id, n.payer_id) UNION ALL SELECT n.servi'
    'ce_date, n.location_id, coalesce(n.payer_id, 0), b.insurance, b.patient, (CASE WHEN round(b.insuranc'
    'e, 2) <> 0 THEN 1 ELSE 0 END), (CASE WHEN round(b.patient, 2) <> 0 THEN 1 ELSE 0 END) FROM old_claim'
    's o JOIN new_claims n ON n.id = o.id JOIN claim_balance b ON b.claim_id = o.id WHERE (o.service_date'
    ', o.location_id, o.payer_id) IS DISTINCT FROM (n.service_date, n.location_id, n.payer_id)) AS d (k1,'
    ' k2, k3, i, p, ni, np) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 ON CONFLICT (service_date, location_id, pay'
    'er_id) DO UPDATE SET insurance = ar_day_total.insurance + excluded.insurance, patient = ar_day_total'
    '.patient + excluded.patient, insurance_claims = ar_day_total.insurance_claims + excluded.insurance_c'
    'laims, patient_claims = ar_day_total.patient_claims + excluded.patient_claims; RETURN NULL; END $$'
)
AR_DAY_MOVE_CLAIMS_NEW = (
    'CREATE OR REPLACE FUNCTION ar_day_move_claims() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NOT '
    'EXISTS (SELECT o.id FROM old_claims o JOIN new_claims n ON n.id = o.id WHERE (o.service_date, o.loca'
    'tion_id, o.payer_id) IS DISTINCT FROM (n.service_date, n.location_id, n.payer_id)) THEN RETURN NULL;'
    ' END IF; INSERT INTO ar_day_total (service_date, location_id, payer_id, insurance, patient, insuranc'
    'e_claims, patient_claims) SELECT k1, k2, k3, sum(i), sum(p), sum(ni), sum(np) FROM (SELECT o.service'
    '_date, o.location_id, coalesce(o.payer_id, 0), -b.insurance, -b.patient, -(CASE WHEN round(b.insuran'
    'ce, 2) <> 0 THEN 1 ELSE 0 END), -(CASE WHEN round(b.patient, 2) <> 0 THEN 1 ELSE 0 END) FROM old_cla'
    'ims o JOIN new_claims n ON n.id = o.id JOIN claim_balance b ON b.claim_id = o.id WHERE (o.service_da'
    'te, o.location_id, o.payer_id) IS DISTINCT FROM (n.service_date, n.location_id, n.payer_id) UNION AL'
    'L SELECT n.service_date, n.location_id, coalesce(n.payer_id, 0), b.insurance, b.patient, (CASE WHEN '
    'round(b.insurance, 2) <> 0 THEN 1 ELSE 0 END), (CASE WHEN round(b.patient, 2) <> 0 THEN 1 ELSE 0 END'
    ') FROM old_claims o JOIN new_claims n ON n.id = o.id JOIN claim_balance b ON b.claim_id = o.id WHERE'
    ' (o.service_date, o.location_id, o.payer_id) IS DISTINCT FROM (n.service_date, n.location_id, n.paye'
    'r_id)) AS d (k1, k2, k3, i, p, ni, np) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 ON CONFLICT (service_date, '
    'location_id, payer_id) DO UPDATE SET insurance = ar_day_total.insurance + excluded.insurance, patien'
    't = ar_day_total.patient + excluded.patient, insurance_claims = ar_day_total.insurance_claims + excl'
    'uded.insurance_claims, patient_claims = ar_day_total.patient_claims + excluded.patient_claims; RETUR'
    'N NULL; END $$'
)

MONTH_TOTAL_MOVE_CLAIMS_OLD = (
    'CREATE OR REPLACE FUNCTION month_total_move_claims() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IN'
    'SERT INTO ledger_month_total (month, location_id, kinds, claims, amount) SELECT k1, k2, k3, sum(n), '
    "sum(a) FROM (SELECT CAST(date_trunc('month', e.posted_on) AS DATE), o.location_id, CASE WHEN e.kind "
    "IN ('charge') THEN 'charges' WHEN e.kind IN ('insurance_payment', 'patient_payment') THEN 'collectio"
    "ns' END, -count(DISTINCT e.claim_id), -sum(e.amount) FROM old_claims o JOIN ledger_entry e ON e.clai"
    'm_id = o.id WHERE o.id IN (SELECT o.id FROM old_claims o JOIN new_claims n ON n.id = o.id WHERE o.lo'
    "cation_id IS DISTINCT FROM n.location_id) AND e.kind IN ('charge', 'insurance_payment', 'patient_pay"
    "ment') GROUP BY 1, 2, 3 UNION ALL SELECT CAST(date_trunc('month', e.posted_on) AS DATE), n.location_"
    "id, CASE WHEN e.kind IN ('charge') THEN 'charges' WHEN e.kind IN ('insurance_payment', 'patient_paym"
    "ent') THEN 'collections' END, count(DISTINCT e.claim_id), sum(e.amount) FROM new_claims n JOIN ledge"
    'r_entry e ON e.claim_id = n.id WHERE n.id IN (SELECT o.id FROM old_claims o JOIN new_claims n ON n.i'
    "d = o.id WHERE o.location_id IS DISTINCT FROM n.location_id) AND e.kind IN ('charge', 'insurance_pay"
    "ment', 'patient_payment') GROUP BY 1, 2, 3) AS d (k1, k2, k3, n, a) GROUP BY 1, 2, 3 HAVING sum(n) <"
    '> 0 OR sum(a) <> 0 ORDER BY 1, 2, 3 ON CONFLICT (month, location_id, kinds) DO UPDATE SET claims = l'
    'edger_month_total.claims + excluded.claims, amount = ledger_month_total.amount + excluded.amount; RE'
    'TURN NULL; END $$'
)
MONTH_TOTAL_MOVE_CLAIMS_NEW = (
    'CREATE OR REPLACE FUNCTION month_total_move_claims() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF'
    ' NOT EXISTS (SELECT o.id FROM old_claims o JOIN new_claims n ON n.id = o.id WHERE o.location_id IS D'
    'ISTINCT FROM n.location_id) THEN RETURN NULL; END IF; INSERT INTO ledger_month_total (month, locatio'
    "n_id, kinds, claims, amount) SELECT k1, k2, k3, sum(n), sum(a) FROM (SELECT CAST(date_trunc('month',"
    " e.posted_on) AS DATE), o.location_id, CASE WHEN e.kind IN ('charge') THEN 'charges' WHEN e.kind IN "
    "('insurance_payment', 'patient_payment') THEN 'collections' END, -count(DISTINCT e.claim_id), -sum(e"
    '.amount) FROM old_claims o JOIN ledger_entry e ON e.claim_id = o.id WHERE o.id IN (SELECT o.id FROM '
    'old_claims o JOIN new_claims n ON n.id = o.id WHERE o.location_id IS DISTINCT FROM n.location_id) AN'
    "D e.kind IN ('charge', 'insurance_payment', 'patient_payment') GROUP BY 1, 2, 3 UNION ALL SELECT CAS"
    "T(date_trunc('month', e.posted_on) AS DATE), n.location_id, CASE WHEN e.kind IN ('charge') THEN 'cha"
    "rges' WHEN e.kind IN ('insurance_payment', 'patient_payment') THEN 'collections' END, count(DISTINCT"
    ' e.claim_id), sum(e.amount) FROM new_claims n JOIN ledger_entry e ON e.claim_id = n.id WHERE n.id IN'
    ' (SELECT o.id FROM old_claims o JOIN new_claims n ON n.id = o.id WHERE o.location_id IS DISTINCT FRO'
    "M n.location_id) AND e.kind IN ('charge', 'insurance_payment', 'patient_payment') GROUP BY 1, 2, 3) "
    'AS d (k1, k2, k3, n, a) GROUP BY 1, 2, 3 HAVING sum(n) <> 0 OR sum(a) <> 0 ORDER BY 1, 2, 3 ON CONFL'
    'ICT (month, location_id, kinds) DO UPDATE SET claims = ledger_month_total.claims + excluded.claims, '
    'amount = ledger_month_total.amount + excluded.amount; RETURN NULL; END $$'
)

#: Each claim function as it was (d4a7c1e9b352) -> as it is now.
REPLACED = {CARC_DAY_MOVE_CLAIMS_OLD: CARC_DAY_MOVE_CLAIMS_NEW, AR_DAY_MOVE_CLAIMS_OLD: AR_DAY_MOVE_CLAIMS_NEW,
            MONTH_TOTAL_MOVE_CLAIMS_OLD: MONTH_TOTAL_MOVE_CLAIMS_NEW}


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, value in SETTINGS.items():
            op.execute(f"ALTER FUNCTION {FUNCTION} SET {name} = {value}")
        for statement in REPLACED.values():
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in SETTINGS:
            op.execute(f"ALTER FUNCTION {FUNCTION} RESET {name}")
        for statement in REPLACED:
            op.execute(statement)
