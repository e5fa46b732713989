"""claim-UPDATE triggers whose "did any claim move" check is a set difference, not a join of the transition tables:
the CARC-day, receivables-day and month totals' functions

Revision ID: b5e8d1f3a6c2
Revises: a1c5e8f3b7d2
Create Date: 2026-12-05

PostgreSQL only. 4c7f10ee4647 put a check first in each function (`IF NOT EXISTS (SELECT o.id FROM old_claims o JOIN
new_claims n ON n.id = o.id WHERE <keys> IS DISTINCT FROM ...)`). Transition tables have no index, and under EXISTS
(one row wanted, many expected) the planner takes a nested loop, so when no claim moved, which is nearly always, it
compared every pair: 25 million for a 5,000-claim batch marked sent, three times (measured: 16.5 s of the server's CPU
for 15,000 claims, 2.2 s with this). The check and the moved ids in the functions' bodies are now `SELECT m.id FROM
(SELECT id, <keys> FROM old_claims EXCEPT SELECT id, <keys> FROM new_claims) AS m` (billing.core.derived.moved_claims),
which has no nested-loop plan. NULL keys compare equal in EXCEPT, as IS DISTINCT FROM compares them. The functions
are frozen here as billing/ledger/{carc_days,ar_days,month_totals}.py now build them, and as 4c7f10ee4647 made them
for the downgrade.
"""

from __future__ import annotations

from alembic import op

revision = "b5e8d1f3a6c2"
down_revision = "a1c5e8f3b7d2"
branch_labels = None
depends_on = None

CARC_DAY_MOVE_CLAIMS_OLD = (
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
CARC_DAY_MOVE_CLAIMS_NEW = (
    'CREATE OR REPLACE FUNCTION carc_day_move_claims() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NO'
    'T EXISTS (SELECT m.id FROM (SELECT id, service_date, location_id FROM old_claims EXCEPT SELECT id, s'
    'ervice_date, location_id FROM new_claims) AS m) THEN RETURN NULL; END IF; INSERT INTO carc_day_total'
    ' (service_date, location_id, group_code, reason_code, claims, amount) SELECT k1, k2, k3, k4, sum(n),'
    ' sum(a) FROM (SELECT o.service_date, o.location_id, e.group_code, e.reason_code, -1, -sum(e.amount) '
    'FROM old_claims o JOIN ledger_entry e ON e.claim_id = o.id WHERE o.id IN (SELECT m.id FROM (SELECT i'
    'd, service_date, location_id FROM old_claims EXCEPT SELECT id, service_date, location_id FROM new_cl'
    'aims) AS m) AND e.group_code IS NOT NULL AND e.reason_code IS NOT NULL GROUP BY o.id, 1, 2, 3, 4 UNI'
    'ON ALL SELECT n.service_date, n.location_id, e.group_code, e.reason_code, 1, sum(e.amount) FROM new_'
    'claims n JOIN ledger_entry e ON e.claim_id = n.id WHERE n.id IN (SELECT m.id FROM (SELECT id, servic'
    'e_date, location_id FROM old_claims EXCEPT SELECT id, service_date, location_id FROM new_claims) AS '
    'm) AND e.group_code IS NOT NULL AND e.reason_code IS NOT NULL GROUP BY n.id, 1, 2, 3, 4) AS d (k1, k'
    '2, k3, k4, n, a) GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 OR sum(a) <> 0 ORDER BY 1, 2, 3, 4 ON CONFLI'
    'CT (service_date, location_id, group_code, reason_code) DO UPDATE SET claims = carc_day_total.claims'
    ' + excluded.claims, amount = carc_day_total.amount + excluded.amount; RETURN NULL; END $$'
)

AR_DAY_MOVE_CLAIMS_OLD = (
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
AR_DAY_MOVE_CLAIMS_NEW = (
    'CREATE OR REPLACE FUNCTION ar_day_move_claims() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NOT '
    'EXISTS (SELECT m.id FROM (SELECT id, service_date, location_id, payer_id FROM old_claims EXCEPT SELE'
    'CT id, service_date, location_id, payer_id FROM new_claims) AS m) THEN RETURN NULL; END IF; INSERT I'
    'NTO ar_day_total (service_date, location_id, payer_id, insurance, patient, insurance_claims, patient'
    '_claims) SELECT k1, k2, k3, sum(i), sum(p), sum(ni), sum(np) FROM (SELECT o.service_date, o.location'
    '_id, coalesce(o.payer_id, 0), -b.insurance, -b.patient, -(CASE WHEN round(b.insurance, 2) <> 0 THEN '
    '1 ELSE 0 END), -(CASE WHEN round(b.patient, 2) <> 0 THEN 1 ELSE 0 END) FROM old_claims o JOIN new_cl'
    'aims n ON n.id = o.id JOIN claim_balance b ON b.claim_id = o.id WHERE (o.service_date, o.location_id'
    ', o.payer_id) IS DISTINCT FROM (n.service_date, n.location_id, n.payer_id) UNION ALL SELECT n.servic'
    'e_date, n.location_id, coalesce(n.payer_id, 0), b.insurance, b.patient, (CASE WHEN round(b.insurance'
    ', 2) <> 0 THEN 1 ELSE 0 END), (CASE WHEN round(b.patient, 2) <> 0 THEN 1 ELSE 0 END) FROM old_claims'
    ' o JOIN new_claims n ON n.id = o.id JOIN claim_balance b ON b.claim_id = o.id WHERE (o.service_date,'
    ' o.location_id, o.payer_id) IS DISTINCT FROM (n.service_date, n.location_id, n.payer_id)) AS d (k1, '
    'k2, k3, i, p, ni, np) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 ON CONFLICT (service_date, location_id, paye'
    'r_id) DO UPDATE SET insurance = ar_day_total.insurance + excluded.insurance, patient = ar_day_total.'
    'patient + excluded.patient, insurance_claims = ar_day_total.insurance_claims + excluded.insurance_cl'
    'aims, patient_claims = ar_day_total.patient_claims + excluded.patient_claims; RETURN NULL; END $$'
)

MONTH_TOTAL_MOVE_CLAIMS_OLD = (
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
MONTH_TOTAL_MOVE_CLAIMS_NEW = (
    'CREATE OR REPLACE FUNCTION month_total_move_claims() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF'
    ' NOT EXISTS (SELECT m.id FROM (SELECT id, location_id FROM old_claims EXCEPT SELECT id, location_id '
    'FROM new_claims) AS m) THEN RETURN NULL; END IF; INSERT INTO ledger_month_total (month, location_id,'
    " kinds, claims, amount) SELECT k1, k2, k3, sum(n), sum(a) FROM (SELECT CAST(date_trunc('month', e.po"
    "sted_on) AS DATE), o.location_id, CASE WHEN e.kind IN ('charge') THEN 'charges' WHEN e.kind IN ('ins"
    "urance_payment', 'patient_payment') THEN 'collections' END, -count(DISTINCT e.claim_id), -sum(e.amou"
    'nt) FROM old_claims o JOIN ledger_entry e ON e.claim_id = o.id WHERE o.id IN (SELECT m.id FROM (SELE'
    'CT id, location_id FROM old_claims EXCEPT SELECT id, location_id FROM new_claims) AS m) AND e.kind I'
    "N ('charge', 'insurance_payment', 'patient_payment') GROUP BY 1, 2, 3 UNION ALL SELECT CAST(date_tru"
    "nc('month', e.posted_on) AS DATE), n.location_id, CASE WHEN e.kind IN ('charge') THEN 'charges' WHEN"
    " e.kind IN ('insurance_payment', 'patient_payment') THEN 'collections' END, count(DISTINCT e.claim_i"
    'd), sum(e.amount) FROM new_claims n JOIN ledger_entry e ON e.claim_id = n.id WHERE n.id IN (SELECT m'
    '.id FROM (SELECT id, location_id FROM old_claims EXCEPT SELECT id, location_id FROM new_claims) AS m'
    ") AND e.kind IN ('charge', 'insurance_payment', 'patient_payment') GROUP BY 1, 2, 3) AS d (k1, k2, k"
    '3, n, a) GROUP BY 1, 2, 3 HAVING sum(n) <> 0 OR sum(a) <> 0 ORDER BY 1, 2, 3 ON CONFLICT (month, loc'
    'ation_id, kinds) DO UPDATE SET claims = ledger_month_total.claims + excluded.claims, amount = ledger'
    '_month_total.amount + excluded.amount; RETURN NULL; END $$'
)

#: Each claim function as 4c7f10ee4647 made it -> as it is now.
REPLACED = {CARC_DAY_MOVE_CLAIMS_OLD: CARC_DAY_MOVE_CLAIMS_NEW, AR_DAY_MOVE_CLAIMS_OLD: AR_DAY_MOVE_CLAIMS_NEW,
            MONTH_TOTAL_MOVE_CLAIMS_OLD: MONTH_TOTAL_MOVE_CLAIMS_NEW}


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in REPLACED.values():
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in REPLACED:
            op.execute(statement)
