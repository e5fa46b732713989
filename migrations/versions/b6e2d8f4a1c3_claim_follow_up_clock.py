"""claim_follow_up_clock: each waiting claim's follow-up clocks, kept by triggers, so the follow-up queue and the
front page's count read the due claims from two partial indexes instead of every waiting claim's history

claim_follow_up gets the practice's day its next date was set on and the moment that day ended (the database knows
no time zones), worked out here from next_set_at in the configured CLAIMDESK_TIMEZONE. The trigger SQL is frozen
here as billing/submissions/follow_up_clock.py had it; that module builds the same for schemas made from the
models. Existing waiting claims get their rows from their history first, in one INSERT ... SELECT.

Revision ID: b6e2d8f4a1c3
Revises: c3f7a1e9d5b8
Create Date: 2026-12-05

"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op
from flask import current_app, has_app_context

revision = "b6e2d8f4a1c3"
down_revision = "c3f7a1e9d5b8"
branch_labels = None
depends_on = None

# ruff: noqa: E501 - frozen SQL

SQLITE_0 = (
    'CREATE TRIGGER status_change_moves_follow_up_clock AFTER INSERT ON status_change FOR EACH ROW WHEN NEW.subject_'
    "type = 'claim' AND NEW.to_status = 'submitted' BEGIN DELETE FROM claim_follow_up_clock WHERE claim_id IN (SELEC"
    "T c.id FROM claim c WHERE c.id IN (SELECT NEW.subject_id) AND NOT (c.status = 'submitted' AND c.self_pay = 0));"
    ' INSERT INTO claim_follow_up_clock (claim_id, location_id, payer_id, sent_at, since_at, heard_on, next_on) SELE'
    'CT * FROM (SELECT x.id, x.location_id, x.payer_id, x.sent, max(x.created_at, coalesce(x.sent, x.created_at)), x'
    '.heard, CASE WHEN f.next_follow_up_on IS NOT NULL AND f.next_set_on >= coalesce(x.heard, f.next_set_on) AND max'
    '(x.created_at, coalesce(x.sent, x.created_at)) < f.next_set_day_ends_at THEN f.next_follow_up_on END FROM (SELE'
    'CT c.id, c.location_id, c.payer_id, c.created_at, (SELECT max(s.at) FROM status_change s WHERE s.subject_type ='
    " 'claim' AND s.subject_id = c.id AND s.to_status = 'submitted') AS sent, nullif(max(coalesce((SELECT max(a.paid"
    "_on) FROM adjudication a WHERE a.claim_id = c.id), ''), coalesce((SELECT max(ca.effective_on) FROM claim_acknow"
    "ledgment ca JOIN acknowledgment ak ON ak.id = ca.acknowledgment_id WHERE ca.claim_id = c.id AND ak.kind = '277C"
    "A'), ''), coalesce((SELECT max(r.heard_on) FROM claim_status_response r WHERE r.claim_id = c.id AND r.outcome I"
    "N ('pending', 'paid', 'denied', 'finalized', 'received', 'information')), '')), '') AS heard FROM claim c WHERE"
    " c.id IN (SELECT NEW.subject_id) AND c.status = 'submitted' AND c.self_pay = 0) x LEFT JOIN claim_follow_up f O"
    'N f.claim_id = x.id) AS w WHERE true ON CONFLICT (claim_id) DO UPDATE SET location_id = excluded.location_id, p'
    'ayer_id = excluded.payer_id, sent_at = excluded.sent_at, since_at = excluded.since_at, heard_on = excluded.hear'
    'd_on, next_on = excluded.next_on WHERE claim_follow_up_clock.location_id IS NOT excluded.location_id OR claim_f'
    'ollow_up_clock.payer_id IS NOT excluded.payer_id OR claim_follow_up_clock.sent_at IS NOT excluded.sent_at OR cl'
    'aim_follow_up_clock.since_at IS NOT excluded.since_at OR claim_follow_up_clock.heard_on IS NOT excluded.heard_o'
    'n OR claim_follow_up_clock.next_on IS NOT excluded.next_on; END'
)

SQLITE_1 = (
    'CREATE TRIGGER adjudication_moves_follow_up_clock AFTER INSERT ON adjudication FOR EACH ROW WHEN 1 BEGIN DELETE'
    ' FROM claim_follow_up_clock WHERE claim_id IN (SELECT c.id FROM claim c WHERE c.id IN (SELECT k.claim_id FROM c'
    "laim_follow_up_clock k WHERE k.claim_id IN (SELECT NEW.claim_id)) AND NOT (c.status = 'submitted' AND c.self_pa"
    'y = 0)); INSERT INTO claim_follow_up_clock (claim_id, location_id, payer_id, sent_at, since_at, heard_on, next_'
    'on) SELECT * FROM (SELECT x.id, x.location_id, x.payer_id, x.sent, max(x.created_at, coalesce(x.sent, x.created'
    '_at)), x.heard, CASE WHEN f.next_follow_up_on IS NOT NULL AND f.next_set_on >= coalesce(x.heard, f.next_set_on)'
    ' AND max(x.created_at, coalesce(x.sent, x.created_at)) < f.next_set_day_ends_at THEN f.next_follow_up_on END FR'
    'OM (SELECT c.id, c.location_id, c.payer_id, c.created_at, (SELECT max(s.at) FROM status_change s WHERE s.subjec'
    "t_type = 'claim' AND s.subject_id = c.id AND s.to_status = 'submitted') AS sent, nullif(max(coalesce((SELECT ma"
    "x(a.paid_on) FROM adjudication a WHERE a.claim_id = c.id), ''), coalesce((SELECT max(ca.effective_on) FROM clai"
    'm_acknowledgment ca JOIN acknowledgment ak ON ak.id = ca.acknowledgment_id WHERE ca.claim_id = c.id AND ak.kind'
    " = '277CA'), ''), coalesce((SELECT max(r.heard_on) FROM claim_status_response r WHERE r.claim_id = c.id AND r.o"
    "utcome IN ('pending', 'paid', 'denied', 'finalized', 'received', 'information')), '')), '') AS heard FROM claim"
    ' c WHERE c.id IN (SELECT k.claim_id FROM claim_follow_up_clock k WHERE k.claim_id IN (SELECT NEW.claim_id)) AND'
    " c.status = 'submitted' AND c.self_pay = 0) x LEFT JOIN claim_follow_up f ON f.claim_id = x.id) AS w WHERE true"
    ' ON CONFLICT (claim_id) DO UPDATE SET location_id = excluded.location_id, payer_id = excluded.payer_id, sent_at'
    ' = excluded.sent_at, since_at = excluded.since_at, heard_on = excluded.heard_on, next_on = excluded.next_on WHE'
    'RE claim_follow_up_clock.location_id IS NOT excluded.location_id OR claim_follow_up_clock.payer_id IS NOT exclu'
    'ded.payer_id OR claim_follow_up_clock.sent_at IS NOT excluded.sent_at OR claim_follow_up_clock.since_at IS NOT '
    'excluded.since_at OR claim_follow_up_clock.heard_on IS NOT excluded.heard_on OR claim_follow_up_clock.next_on I'
    'S NOT excluded.next_on; END'
)

SQLITE_2 = (
    'CREATE TRIGGER claim_acknowledgment_moves_follow_up_clock AFTER INSERT ON claim_acknowledgment FOR EACH ROW WHE'
    'N NEW.effective_on IS NOT NULL BEGIN DELETE FROM claim_follow_up_clock WHERE claim_id IN (SELECT c.id FROM clai'
    'm c WHERE c.id IN (SELECT k.claim_id FROM claim_follow_up_clock k WHERE k.claim_id IN (SELECT NEW.claim_id)) AN'
    "D NOT (c.status = 'submitted' AND c.self_pay = 0)); INSERT INTO claim_follow_up_clock (claim_id, location_id, p"
    'ayer_id, sent_at, since_at, heard_on, next_on) SELECT * FROM (SELECT x.id, x.location_id, x.payer_id, x.sent, m'
    'ax(x.created_at, coalesce(x.sent, x.created_at)), x.heard, CASE WHEN f.next_follow_up_on IS NOT NULL AND f.next'
    '_set_on >= coalesce(x.heard, f.next_set_on) AND max(x.created_at, coalesce(x.sent, x.created_at)) < f.next_set_'
    'day_ends_at THEN f.next_follow_up_on END FROM (SELECT c.id, c.location_id, c.payer_id, c.created_at, (SELECT ma'
    "x(s.at) FROM status_change s WHERE s.subject_type = 'claim' AND s.subject_id = c.id AND s.to_status = 'submitte"
    "d') AS sent, nullif(max(coalesce((SELECT max(a.paid_on) FROM adjudication a WHERE a.claim_id = c.id), ''), coal"
    'esce((SELECT max(ca.effective_on) FROM claim_acknowledgment ca JOIN acknowledgment ak ON ak.id = ca.acknowledgm'
    "ent_id WHERE ca.claim_id = c.id AND ak.kind = '277CA'), ''), coalesce((SELECT max(r.heard_on) FROM claim_status"
    "_response r WHERE r.claim_id = c.id AND r.outcome IN ('pending', 'paid', 'denied', 'finalized', 'received', 'in"
    "formation')), '')), '') AS heard FROM claim c WHERE c.id IN (SELECT k.claim_id FROM claim_follow_up_clock k WHE"
    "RE k.claim_id IN (SELECT NEW.claim_id)) AND c.status = 'submitted' AND c.self_pay = 0) x LEFT JOIN claim_follow"
    '_up f ON f.claim_id = x.id) AS w WHERE true ON CONFLICT (claim_id) DO UPDATE SET location_id = excluded.locatio'
    'n_id, payer_id = excluded.payer_id, sent_at = excluded.sent_at, since_at = excluded.since_at, heard_on = exclud'
    'ed.heard_on, next_on = excluded.next_on WHERE claim_follow_up_clock.location_id IS NOT excluded.location_id OR '
    'claim_follow_up_clock.payer_id IS NOT excluded.payer_id OR claim_follow_up_clock.sent_at IS NOT excluded.sent_a'
    't OR claim_follow_up_clock.since_at IS NOT excluded.since_at OR claim_follow_up_clock.heard_on IS NOT excluded.'
    'heard_on OR claim_follow_up_clock.next_on IS NOT excluded.next_on; END'
)

SQLITE_3 = (
    'CREATE TRIGGER claim_status_response_moves_follow_up_clock AFTER INSERT ON claim_status_response FOR EACH ROW W'
    "HEN NEW.outcome IN ('pending', 'paid', 'denied', 'finalized', 'received', 'information') BEGIN DELETE FROM clai"
    'm_follow_up_clock WHERE claim_id IN (SELECT c.id FROM claim c WHERE c.id IN (SELECT k.claim_id FROM claim_follo'
    "w_up_clock k WHERE k.claim_id IN (SELECT NEW.claim_id)) AND NOT (c.status = 'submitted' AND c.self_pay = 0)); I"
    'NSERT INTO claim_follow_up_clock (claim_id, location_id, payer_id, sent_at, since_at, heard_on, next_on) SELECT'
    ' * FROM (SELECT x.id, x.location_id, x.payer_id, x.sent, max(x.created_at, coalesce(x.sent, x.created_at)), x.h'
    'eard, CASE WHEN f.next_follow_up_on IS NOT NULL AND f.next_set_on >= coalesce(x.heard, f.next_set_on) AND max(x'
    '.created_at, coalesce(x.sent, x.created_at)) < f.next_set_day_ends_at THEN f.next_follow_up_on END FROM (SELECT'
    " c.id, c.location_id, c.payer_id, c.created_at, (SELECT max(s.at) FROM status_change s WHERE s.subject_type = '"
    "claim' AND s.subject_id = c.id AND s.to_status = 'submitted') AS sent, nullif(max(coalesce((SELECT max(a.paid_o"
    "n) FROM adjudication a WHERE a.claim_id = c.id), ''), coalesce((SELECT max(ca.effective_on) FROM claim_acknowle"
    "dgment ca JOIN acknowledgment ak ON ak.id = ca.acknowledgment_id WHERE ca.claim_id = c.id AND ak.kind = '277CA'"
    "), ''), coalesce((SELECT max(r.heard_on) FROM claim_status_response r WHERE r.claim_id = c.id AND r.outcome IN "
    "('pending', 'paid', 'denied', 'finalized', 'received', 'information')), '')), '') AS heard FROM claim c WHERE c"
    '.id IN (SELECT k.claim_id FROM claim_follow_up_clock k WHERE k.claim_id IN (SELECT NEW.claim_id)) AND c.status '
    "= 'submitted' AND c.self_pay = 0) x LEFT JOIN claim_follow_up f ON f.claim_id = x.id) AS w WHERE true ON CONFLI"
    'CT (claim_id) DO UPDATE SET location_id = excluded.location_id, payer_id = excluded.payer_id, sent_at = exclude'
    'd.sent_at, since_at = excluded.since_at, heard_on = excluded.heard_on, next_on = excluded.next_on WHERE claim_f'
    'ollow_up_clock.location_id IS NOT excluded.location_id OR claim_follow_up_clock.payer_id IS NOT excluded.payer_'
    'id OR claim_follow_up_clock.sent_at IS NOT excluded.sent_at OR claim_follow_up_clock.since_at IS NOT excluded.s'
    'ince_at OR claim_follow_up_clock.heard_on IS NOT excluded.heard_on OR claim_follow_up_clock.next_on IS NOT excl'
    'uded.next_on; END'
)

SQLITE_4 = (
    'CREATE TRIGGER claim_follow_up_insert_moves_follow_up_clock AFTER INSERT ON claim_follow_up FOR EACH ROW WHEN 1'
    ' BEGIN DELETE FROM claim_follow_up_clock WHERE claim_id IN (SELECT c.id FROM claim c WHERE c.id IN (SELECT k.cl'
    "aim_id FROM claim_follow_up_clock k WHERE k.claim_id IN (SELECT NEW.claim_id)) AND NOT (c.status = 'submitted' "
    'AND c.self_pay = 0)); INSERT INTO claim_follow_up_clock (claim_id, location_id, payer_id, sent_at, since_at, he'
    'ard_on, next_on) SELECT * FROM (SELECT x.id, x.location_id, x.payer_id, x.sent, max(x.created_at, coalesce(x.se'
    'nt, x.created_at)), x.heard, CASE WHEN f.next_follow_up_on IS NOT NULL AND f.next_set_on >= coalesce(x.heard, f'
    '.next_set_on) AND max(x.created_at, coalesce(x.sent, x.created_at)) < f.next_set_day_ends_at THEN f.next_follow'
    '_up_on END FROM (SELECT c.id, c.location_id, c.payer_id, c.created_at, (SELECT max(s.at) FROM status_change s W'
    "HERE s.subject_type = 'claim' AND s.subject_id = c.id AND s.to_status = 'submitted') AS sent, nullif(max(coales"
    "ce((SELECT max(a.paid_on) FROM adjudication a WHERE a.claim_id = c.id), ''), coalesce((SELECT max(ca.effective_"
    'on) FROM claim_acknowledgment ca JOIN acknowledgment ak ON ak.id = ca.acknowledgment_id WHERE ca.claim_id = c.i'
    "d AND ak.kind = '277CA'), ''), coalesce((SELECT max(r.heard_on) FROM claim_status_response r WHERE r.claim_id ="
    " c.id AND r.outcome IN ('pending', 'paid', 'denied', 'finalized', 'received', 'information')), '')), '') AS hea"
    'rd FROM claim c WHERE c.id IN (SELECT k.claim_id FROM claim_follow_up_clock k WHERE k.claim_id IN (SELECT NEW.c'
    "laim_id)) AND c.status = 'submitted' AND c.self_pay = 0) x LEFT JOIN claim_follow_up f ON f.claim_id = x.id) AS"
    ' w WHERE true ON CONFLICT (claim_id) DO UPDATE SET location_id = excluded.location_id, payer_id = excluded.paye'
    'r_id, sent_at = excluded.sent_at, since_at = excluded.since_at, heard_on = excluded.heard_on, next_on = exclude'
    'd.next_on WHERE claim_follow_up_clock.location_id IS NOT excluded.location_id OR claim_follow_up_clock.payer_id'
    ' IS NOT excluded.payer_id OR claim_follow_up_clock.sent_at IS NOT excluded.sent_at OR claim_follow_up_clock.sin'
    'ce_at IS NOT excluded.since_at OR claim_follow_up_clock.heard_on IS NOT excluded.heard_on OR claim_follow_up_cl'
    'ock.next_on IS NOT excluded.next_on; END'
)

SQLITE_5 = (
    "CREATE TRIGGER claim_insert_moves_follow_up_clock AFTER INSERT ON claim FOR EACH ROW WHEN NEW.status = 'submitt"
    "ed' AND NEW.self_pay = 0 BEGIN DELETE FROM claim_follow_up_clock WHERE claim_id IN (SELECT c.id FROM claim c WH"
    "ERE c.id IN (SELECT NEW.id) AND NOT (c.status = 'submitted' AND c.self_pay = 0)); INSERT INTO claim_follow_up_c"
    'lock (claim_id, location_id, payer_id, sent_at, since_at, heard_on, next_on) SELECT * FROM (SELECT x.id, x.loca'
    'tion_id, x.payer_id, x.sent, max(x.created_at, coalesce(x.sent, x.created_at)), x.heard, CASE WHEN f.next_follo'
    'w_up_on IS NOT NULL AND f.next_set_on >= coalesce(x.heard, f.next_set_on) AND max(x.created_at, coalesce(x.sent'
    ', x.created_at)) < f.next_set_day_ends_at THEN f.next_follow_up_on END FROM (SELECT c.id, c.location_id, c.paye'
    "r_id, c.created_at, (SELECT max(s.at) FROM status_change s WHERE s.subject_type = 'claim' AND s.subject_id = c."
    "id AND s.to_status = 'submitted') AS sent, nullif(max(coalesce((SELECT max(a.paid_on) FROM adjudication a WHERE"
    " a.claim_id = c.id), ''), coalesce((SELECT max(ca.effective_on) FROM claim_acknowledgment ca JOIN acknowledgmen"
    "t ak ON ak.id = ca.acknowledgment_id WHERE ca.claim_id = c.id AND ak.kind = '277CA'), ''), coalesce((SELECT max"
    "(r.heard_on) FROM claim_status_response r WHERE r.claim_id = c.id AND r.outcome IN ('pending', 'paid', 'denied'"
    ", 'finalized', 'received', 'information')), '')), '') AS heard FROM claim c WHERE c.id IN (SELECT NEW.id) AND c"
    ".status = 'submitted' AND c.self_pay = 0) x LEFT JOIN claim_follow_up f ON f.claim_id = x.id) AS w WHERE true O"
    'N CONFLICT (claim_id) DO UPDATE SET location_id = excluded.location_id, payer_id = excluded.payer_id, sent_at ='
    ' excluded.sent_at, since_at = excluded.since_at, heard_on = excluded.heard_on, next_on = excluded.next_on WHERE'
    ' claim_follow_up_clock.location_id IS NOT excluded.location_id OR claim_follow_up_clock.payer_id IS NOT exclude'
    'd.payer_id OR claim_follow_up_clock.sent_at IS NOT excluded.sent_at OR claim_follow_up_clock.since_at IS NOT ex'
    'cluded.since_at OR claim_follow_up_clock.heard_on IS NOT excluded.heard_on OR claim_follow_up_clock.next_on IS '
    'NOT excluded.next_on; END'
)

SQLITE_6 = (
    'CREATE TRIGGER claim_follow_up_update_moves_follow_up_clock AFTER UPDATE OF next_follow_up_on, next_set_on, nex'
    't_set_day_ends_at ON claim_follow_up FOR EACH ROW BEGIN DELETE FROM claim_follow_up_clock WHERE claim_id IN (SE'
    'LECT c.id FROM claim c WHERE c.id IN (SELECT k.claim_id FROM claim_follow_up_clock k WHERE k.claim_id IN (SELEC'
    "T NEW.claim_id)) AND NOT (c.status = 'submitted' AND c.self_pay = 0)); INSERT INTO claim_follow_up_clock (claim"
    '_id, location_id, payer_id, sent_at, since_at, heard_on, next_on) SELECT * FROM (SELECT x.id, x.location_id, x.'
    'payer_id, x.sent, max(x.created_at, coalesce(x.sent, x.created_at)), x.heard, CASE WHEN f.next_follow_up_on IS '
    'NOT NULL AND f.next_set_on >= coalesce(x.heard, f.next_set_on) AND max(x.created_at, coalesce(x.sent, x.created'
    '_at)) < f.next_set_day_ends_at THEN f.next_follow_up_on END FROM (SELECT c.id, c.location_id, c.payer_id, c.cre'
    "ated_at, (SELECT max(s.at) FROM status_change s WHERE s.subject_type = 'claim' AND s.subject_id = c.id AND s.to"
    "_status = 'submitted') AS sent, nullif(max(coalesce((SELECT max(a.paid_on) FROM adjudication a WHERE a.claim_id"
    " = c.id), ''), coalesce((SELECT max(ca.effective_on) FROM claim_acknowledgment ca JOIN acknowledgment ak ON ak."
    "id = ca.acknowledgment_id WHERE ca.claim_id = c.id AND ak.kind = '277CA'), ''), coalesce((SELECT max(r.heard_on"
    ") FROM claim_status_response r WHERE r.claim_id = c.id AND r.outcome IN ('pending', 'paid', 'denied', 'finalize"
    "d', 'received', 'information')), '')), '') AS heard FROM claim c WHERE c.id IN (SELECT k.claim_id FROM claim_fo"
    "llow_up_clock k WHERE k.claim_id IN (SELECT NEW.claim_id)) AND c.status = 'submitted' AND c.self_pay = 0) x LEF"
    'T JOIN claim_follow_up f ON f.claim_id = x.id) AS w WHERE true ON CONFLICT (claim_id) DO UPDATE SET location_id'
    ' = excluded.location_id, payer_id = excluded.payer_id, sent_at = excluded.sent_at, since_at = excluded.since_at'
    ', heard_on = excluded.heard_on, next_on = excluded.next_on WHERE claim_follow_up_clock.location_id IS NOT exclu'
    'ded.location_id OR claim_follow_up_clock.payer_id IS NOT excluded.payer_id OR claim_follow_up_clock.sent_at IS '
    'NOT excluded.sent_at OR claim_follow_up_clock.since_at IS NOT excluded.since_at OR claim_follow_up_clock.heard_'
    'on IS NOT excluded.heard_on OR claim_follow_up_clock.next_on IS NOT excluded.next_on; END'
)

SQLITE_7 = (
    'CREATE TRIGGER claim_update_keeps_follow_up_clock AFTER UPDATE OF status, self_pay, payer_id, location_id, crea'
    'ted_at ON claim FOR EACH ROW WHEN NEW.status IS NOT OLD.status OR NEW.self_pay IS NOT OLD.self_pay OR NEW.payer'
    '_id IS NOT OLD.payer_id OR NEW.location_id IS NOT OLD.location_id OR NEW.created_at IS NOT OLD.created_at BEGIN'
    ' DELETE FROM claim_follow_up_clock WHERE claim_id IN (SELECT c.id FROM claim c WHERE c.id IN (SELECT NEW.id) AN'
    "D NOT (c.status = 'submitted' AND c.self_pay = 0)); INSERT INTO claim_follow_up_clock (claim_id, location_id, p"
    'ayer_id, sent_at, since_at, heard_on, next_on) SELECT * FROM (SELECT x.id, x.location_id, x.payer_id, x.sent, m'
    'ax(x.created_at, coalesce(x.sent, x.created_at)), x.heard, CASE WHEN f.next_follow_up_on IS NOT NULL AND f.next'
    '_set_on >= coalesce(x.heard, f.next_set_on) AND max(x.created_at, coalesce(x.sent, x.created_at)) < f.next_set_'
    'day_ends_at THEN f.next_follow_up_on END FROM (SELECT c.id, c.location_id, c.payer_id, c.created_at, (SELECT ma'
    "x(s.at) FROM status_change s WHERE s.subject_type = 'claim' AND s.subject_id = c.id AND s.to_status = 'submitte"
    "d') AS sent, nullif(max(coalesce((SELECT max(a.paid_on) FROM adjudication a WHERE a.claim_id = c.id), ''), coal"
    'esce((SELECT max(ca.effective_on) FROM claim_acknowledgment ca JOIN acknowledgment ak ON ak.id = ca.acknowledgm'
    "ent_id WHERE ca.claim_id = c.id AND ak.kind = '277CA'), ''), coalesce((SELECT max(r.heard_on) FROM claim_status"
    "_response r WHERE r.claim_id = c.id AND r.outcome IN ('pending', 'paid', 'denied', 'finalized', 'received', 'in"
    "formation')), '')), '') AS heard FROM claim c WHERE c.id IN (SELECT NEW.id) AND c.status = 'submitted' AND c.se"
    'lf_pay = 0) x LEFT JOIN claim_follow_up f ON f.claim_id = x.id) AS w WHERE true ON CONFLICT (claim_id) DO UPDAT'
    'E SET location_id = excluded.location_id, payer_id = excluded.payer_id, sent_at = excluded.sent_at, since_at = '
    'excluded.since_at, heard_on = excluded.heard_on, next_on = excluded.next_on WHERE claim_follow_up_clock.locatio'
    'n_id IS NOT excluded.location_id OR claim_follow_up_clock.payer_id IS NOT excluded.payer_id OR claim_follow_up_'
    'clock.sent_at IS NOT excluded.sent_at OR claim_follow_up_clock.since_at IS NOT excluded.since_at OR claim_follo'
    'w_up_clock.heard_on IS NOT excluded.heard_on OR claim_follow_up_clock.next_on IS NOT excluded.next_on; END'
)

SQLITE_TRIGGERS = [SQLITE_0, SQLITE_1, SQLITE_2, SQLITE_3, SQLITE_4, SQLITE_5, SQLITE_6, SQLITE_7]

POSTGRESQL_0 = (
    'CREATE OR REPLACE FUNCTION status_change_follow_up_clock() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan '
    '= off SET enable_hashjoin = off SET enable_mergejoin = off AS $$ BEGIN IF NOT EXISTS (SELECT n.subject_id FROM '
    "new_rows n WHERE n.subject_type = 'claim' AND n.to_status = 'submitted') THEN RETURN NULL; END IF; DELETE FROM "
    'claim_follow_up_clock WHERE claim_id IN (SELECT c.id FROM (SELECT DISTINCT i.id FROM unnest(ARRAY(SELECT n.subj'
    "ect_id FROM new_rows n WHERE n.subject_type = 'claim' AND n.to_status = 'submitted')) AS i (id)) AS i CROSS JOI"
    "N LATERAL (SELECT * FROM claim WHERE claim.id = i.id OFFSET 0) AS c WHERE true AND NOT (c.status = 'submitted' "
    'AND c.self_pay = false)); INSERT INTO claim_follow_up_clock (claim_id, location_id, payer_id, sent_at, since_at'
    ', heard_on, next_on) SELECT * FROM (SELECT x.id, x.location_id, x.payer_id, x.sent, greatest(x.created_at, x.se'
    'nt), x.heard, CASE WHEN f.next_follow_up_on IS NOT NULL AND f.next_set_on >= coalesce(x.heard, f.next_set_on) A'
    'ND greatest(x.created_at, x.sent) < f.next_set_day_ends_at THEN f.next_follow_up_on END FROM (SELECT c.id, c.lo'
    "cation_id, c.payer_id, c.created_at, (SELECT max(s.at) FROM status_change s WHERE s.subject_type = 'claim' AND "
    "s.subject_id = c.id AND s.to_status = 'submitted') AS sent, greatest((SELECT max(a.paid_on) FROM adjudication a"
    ' WHERE a.claim_id = c.id), (SELECT max(ca.effective_on) FROM claim_acknowledgment ca JOIN acknowledgment ak ON '
    "ak.id = ca.acknowledgment_id WHERE ca.claim_id = c.id AND ak.kind = '277CA'), (SELECT max(r.heard_on) FROM clai"
    "m_status_response r WHERE r.claim_id = c.id AND r.outcome IN ('pending', 'paid', 'denied', 'finalized', 'receiv"
    "ed', 'information'))) AS heard FROM (SELECT DISTINCT i.id FROM unnest(ARRAY(SELECT n.subject_id FROM new_rows n"
    " WHERE n.subject_type = 'claim' AND n.to_status = 'submitted')) AS i (id)) AS i CROSS JOIN LATERAL (SELECT * FR"
    "OM claim WHERE claim.id = i.id OFFSET 0) AS c WHERE true AND c.status = 'submitted' AND c.self_pay = false) x L"
    'EFT JOIN claim_follow_up f ON f.claim_id = x.id) AS w WHERE true ORDER BY 1 ON CONFLICT (claim_id) DO UPDATE SE'
    'T location_id = excluded.location_id, payer_id = excluded.payer_id, sent_at = excluded.sent_at, since_at = excl'
    'uded.since_at, heard_on = excluded.heard_on, next_on = excluded.next_on WHERE claim_follow_up_clock.location_id'
    ' IS DISTINCT FROM excluded.location_id OR claim_follow_up_clock.payer_id IS DISTINCT FROM excluded.payer_id OR '
    'claim_follow_up_clock.sent_at IS DISTINCT FROM excluded.sent_at OR claim_follow_up_clock.since_at IS DISTINCT F'
    'ROM excluded.since_at OR claim_follow_up_clock.heard_on IS DISTINCT FROM excluded.heard_on OR claim_follow_up_c'
    'lock.next_on IS DISTINCT FROM excluded.next_on; RETURN NULL; END $$'
)

POSTGRESQL_1 = (
    'CREATE TRIGGER status_change_moves_follow_up_clock AFTER INSERT ON status_change REFERENCING NEW TABLE AS new_r'
    'ows FOR EACH STATEMENT EXECUTE FUNCTION status_change_follow_up_clock()'
)

POSTGRESQL_2 = (
    'CREATE OR REPLACE FUNCTION adjudication_follow_up_clock() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan ='
    ' off SET enable_hashjoin = off SET enable_mergejoin = off AS $$ BEGIN IF NOT EXISTS (SELECT k.claim_id FROM cla'
    'im_follow_up_clock k WHERE k.claim_id = ANY (ARRAY(SELECT n.claim_id FROM new_rows n))) THEN RETURN NULL; END I'
    'F; DELETE FROM claim_follow_up_clock WHERE claim_id IN (SELECT c.id FROM (SELECT DISTINCT i.id FROM unnest(ARRA'
    'Y(SELECT k.claim_id FROM claim_follow_up_clock k WHERE k.claim_id = ANY (ARRAY(SELECT n.claim_id FROM new_rows '
    'n)))) AS i (id)) AS i CROSS JOIN LATERAL (SELECT * FROM claim WHERE claim.id = i.id OFFSET 0) AS c WHERE true A'
    "ND NOT (c.status = 'submitted' AND c.self_pay = false)); INSERT INTO claim_follow_up_clock (claim_id, location_"
    'id, payer_id, sent_at, since_at, heard_on, next_on) SELECT * FROM (SELECT x.id, x.location_id, x.payer_id, x.se'
    'nt, greatest(x.created_at, x.sent), x.heard, CASE WHEN f.next_follow_up_on IS NOT NULL AND f.next_set_on >= coa'
    'lesce(x.heard, f.next_set_on) AND greatest(x.created_at, x.sent) < f.next_set_day_ends_at THEN f.next_follow_up'
    '_on END FROM (SELECT c.id, c.location_id, c.payer_id, c.created_at, (SELECT max(s.at) FROM status_change s WHER'
    "E s.subject_type = 'claim' AND s.subject_id = c.id AND s.to_status = 'submitted') AS sent, greatest((SELECT max"
    '(a.paid_on) FROM adjudication a WHERE a.claim_id = c.id), (SELECT max(ca.effective_on) FROM claim_acknowledgmen'
    "t ca JOIN acknowledgment ak ON ak.id = ca.acknowledgment_id WHERE ca.claim_id = c.id AND ak.kind = '277CA'), (S"
    "ELECT max(r.heard_on) FROM claim_status_response r WHERE r.claim_id = c.id AND r.outcome IN ('pending', 'paid',"
    " 'denied', 'finalized', 'received', 'information'))) AS heard FROM (SELECT DISTINCT i.id FROM unnest(ARRAY(SELE"
    'CT k.claim_id FROM claim_follow_up_clock k WHERE k.claim_id = ANY (ARRAY(SELECT n.claim_id FROM new_rows n)))) '
    'AS i (id)) AS i CROSS JOIN LATERAL (SELECT * FROM claim WHERE claim.id = i.id OFFSET 0) AS c WHERE true AND c.s'
    "tatus = 'submitted' AND c.self_pay = false) x LEFT JOIN claim_follow_up f ON f.claim_id = x.id) AS w WHERE true"
    ' ORDER BY 1 ON CONFLICT (claim_id) DO UPDATE SET location_id = excluded.location_id, payer_id = excluded.payer_'
    'id, sent_at = excluded.sent_at, since_at = excluded.since_at, heard_on = excluded.heard_on, next_on = excluded.'
    'next_on WHERE claim_follow_up_clock.location_id IS DISTINCT FROM excluded.location_id OR claim_follow_up_clock.'
    'payer_id IS DISTINCT FROM excluded.payer_id OR claim_follow_up_clock.sent_at IS DISTINCT FROM excluded.sent_at '
    'OR claim_follow_up_clock.since_at IS DISTINCT FROM excluded.since_at OR claim_follow_up_clock.heard_on IS DISTI'
    'NCT FROM excluded.heard_on OR claim_follow_up_clock.next_on IS DISTINCT FROM excluded.next_on; RETURN NULL; END'
    ' $$'
)

POSTGRESQL_3 = (
    'CREATE TRIGGER adjudication_moves_follow_up_clock AFTER INSERT ON adjudication REFERENCING NEW TABLE AS new_row'
    's FOR EACH STATEMENT EXECUTE FUNCTION adjudication_follow_up_clock()'
)

POSTGRESQL_4 = (
    'CREATE OR REPLACE FUNCTION claim_acknowledgment_follow_up_clock() RETURNS trigger LANGUAGE plpgsql SET enable_s'
    'eqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$ BEGIN IF NOT EXISTS (SELECT k.claim_id '
    'FROM claim_follow_up_clock k WHERE k.claim_id = ANY (ARRAY(SELECT n.claim_id FROM new_rows n WHERE n.effective_'
    'on IS NOT NULL))) THEN RETURN NULL; END IF; DELETE FROM claim_follow_up_clock WHERE claim_id IN (SELECT c.id FR'
    'OM (SELECT DISTINCT i.id FROM unnest(ARRAY(SELECT k.claim_id FROM claim_follow_up_clock k WHERE k.claim_id = AN'
    'Y (ARRAY(SELECT n.claim_id FROM new_rows n WHERE n.effective_on IS NOT NULL)))) AS i (id)) AS i CROSS JOIN LATE'
    "RAL (SELECT * FROM claim WHERE claim.id = i.id OFFSET 0) AS c WHERE true AND NOT (c.status = 'submitted' AND c."
    'self_pay = false)); INSERT INTO claim_follow_up_clock (claim_id, location_id, payer_id, sent_at, since_at, hear'
    'd_on, next_on) SELECT * FROM (SELECT x.id, x.location_id, x.payer_id, x.sent, greatest(x.created_at, x.sent), x'
    '.heard, CASE WHEN f.next_follow_up_on IS NOT NULL AND f.next_set_on >= coalesce(x.heard, f.next_set_on) AND gre'
    'atest(x.created_at, x.sent) < f.next_set_day_ends_at THEN f.next_follow_up_on END FROM (SELECT c.id, c.location'
    "_id, c.payer_id, c.created_at, (SELECT max(s.at) FROM status_change s WHERE s.subject_type = 'claim' AND s.subj"
    "ect_id = c.id AND s.to_status = 'submitted') AS sent, greatest((SELECT max(a.paid_on) FROM adjudication a WHERE"
    ' a.claim_id = c.id), (SELECT max(ca.effective_on) FROM claim_acknowledgment ca JOIN acknowledgment ak ON ak.id '
    "= ca.acknowledgment_id WHERE ca.claim_id = c.id AND ak.kind = '277CA'), (SELECT max(r.heard_on) FROM claim_stat"
    "us_response r WHERE r.claim_id = c.id AND r.outcome IN ('pending', 'paid', 'denied', 'finalized', 'received', '"
    "information'))) AS heard FROM (SELECT DISTINCT i.id FROM unnest(ARRAY(SELECT k.claim_id FROM claim_follow_up_cl"
    'ock k WHERE k.claim_id = ANY (ARRAY(SELECT n.claim_id FROM new_rows n WHERE n.effective_on IS NOT NULL)))) AS i'
    ' (id)) AS i CROSS JOIN LATERAL (SELECT * FROM claim WHERE claim.id = i.id OFFSET 0) AS c WHERE true AND c.statu'
    "s = 'submitted' AND c.self_pay = false) x LEFT JOIN claim_follow_up f ON f.claim_id = x.id) AS w WHERE true ORD"
    'ER BY 1 ON CONFLICT (claim_id) DO UPDATE SET location_id = excluded.location_id, payer_id = excluded.payer_id, '
    'sent_at = excluded.sent_at, since_at = excluded.since_at, heard_on = excluded.heard_on, next_on = excluded.next'
    '_on WHERE claim_follow_up_clock.location_id IS DISTINCT FROM excluded.location_id OR claim_follow_up_clock.paye'
    'r_id IS DISTINCT FROM excluded.payer_id OR claim_follow_up_clock.sent_at IS DISTINCT FROM excluded.sent_at OR c'
    'laim_follow_up_clock.since_at IS DISTINCT FROM excluded.since_at OR claim_follow_up_clock.heard_on IS DISTINCT '
    'FROM excluded.heard_on OR claim_follow_up_clock.next_on IS DISTINCT FROM excluded.next_on; RETURN NULL; END $$'
)

POSTGRESQL_5 = (
    'CREATE TRIGGER claim_acknowledgment_moves_follow_up_clock AFTER INSERT ON claim_acknowledgment REFERENCING NEW '
    'TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION claim_acknowledgment_follow_up_clock()'
)

POSTGRESQL_6 = (
    'CREATE OR REPLACE FUNCTION claim_status_response_follow_up_clock() RETURNS trigger LANGUAGE plpgsql SET enable_'
    'seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$ BEGIN IF NOT EXISTS (SELECT k.claim_id'
    ' FROM claim_follow_up_clock k WHERE k.claim_id = ANY (ARRAY(SELECT n.claim_id FROM new_rows n WHERE n.outcome I'
    "N ('pending', 'paid', 'denied', 'finalized', 'received', 'information')))) THEN RETURN NULL; END IF; DELETE FRO"
    'M claim_follow_up_clock WHERE claim_id IN (SELECT c.id FROM (SELECT DISTINCT i.id FROM unnest(ARRAY(SELECT k.cl'
    'aim_id FROM claim_follow_up_clock k WHERE k.claim_id = ANY (ARRAY(SELECT n.claim_id FROM new_rows n WHERE n.out'
    "come IN ('pending', 'paid', 'denied', 'finalized', 'received', 'information'))))) AS i (id)) AS i CROSS JOIN LA"
    "TERAL (SELECT * FROM claim WHERE claim.id = i.id OFFSET 0) AS c WHERE true AND NOT (c.status = 'submitted' AND "
    'c.self_pay = false)); INSERT INTO claim_follow_up_clock (claim_id, location_id, payer_id, sent_at, since_at, he'
    'ard_on, next_on) SELECT * FROM (SELECT x.id, x.location_id, x.payer_id, x.sent, greatest(x.created_at, x.sent),'
    ' x.heard, CASE WHEN f.next_follow_up_on IS NOT NULL AND f.next_set_on >= coalesce(x.heard, f.next_set_on) AND g'
    'reatest(x.created_at, x.sent) < f.next_set_day_ends_at THEN f.next_follow_up_on END FROM (SELECT c.id, c.locati'
    "on_id, c.payer_id, c.created_at, (SELECT max(s.at) FROM status_change s WHERE s.subject_type = 'claim' AND s.su"
    "bject_id = c.id AND s.to_status = 'submitted') AS sent, greatest((SELECT max(a.paid_on) FROM adjudication a WHE"
    'RE a.claim_id = c.id), (SELECT max(ca.effective_on) FROM claim_acknowledgment ca JOIN acknowledgment ak ON ak.i'
    "d = ca.acknowledgment_id WHERE ca.claim_id = c.id AND ak.kind = '277CA'), (SELECT max(r.heard_on) FROM claim_st"
    "atus_response r WHERE r.claim_id = c.id AND r.outcome IN ('pending', 'paid', 'denied', 'finalized', 'received',"
    " 'information'))) AS heard FROM (SELECT DISTINCT i.id FROM unnest(ARRAY(SELECT k.claim_id FROM claim_follow_up_"
    "clock k WHERE k.claim_id = ANY (ARRAY(SELECT n.claim_id FROM new_rows n WHERE n.outcome IN ('pending', 'paid', "
    "'denied', 'finalized', 'received', 'information'))))) AS i (id)) AS i CROSS JOIN LATERAL (SELECT * FROM claim W"
    "HERE claim.id = i.id OFFSET 0) AS c WHERE true AND c.status = 'submitted' AND c.self_pay = false) x LEFT JOIN c"
    'laim_follow_up f ON f.claim_id = x.id) AS w WHERE true ORDER BY 1 ON CONFLICT (claim_id) DO UPDATE SET location'
    '_id = excluded.location_id, payer_id = excluded.payer_id, sent_at = excluded.sent_at, since_at = excluded.since'
    '_at, heard_on = excluded.heard_on, next_on = excluded.next_on WHERE claim_follow_up_clock.location_id IS DISTIN'
    'CT FROM excluded.location_id OR claim_follow_up_clock.payer_id IS DISTINCT FROM excluded.payer_id OR claim_foll'
    'ow_up_clock.sent_at IS DISTINCT FROM excluded.sent_at OR claim_follow_up_clock.since_at IS DISTINCT FROM exclud'
    'ed.since_at OR claim_follow_up_clock.heard_on IS DISTINCT FROM excluded.heard_on OR claim_follow_up_clock.next_'
    'on IS DISTINCT FROM excluded.next_on; RETURN NULL; END $$'
)

POSTGRESQL_7 = (
    'CREATE TRIGGER claim_status_response_moves_follow_up_clock AFTER INSERT ON claim_status_response REFERENCING NE'
    'W TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION claim_status_response_follow_up_clock()'
)

POSTGRESQL_8 = (
    'CREATE OR REPLACE FUNCTION claim_follow_up_insert_follow_up_clock() RETURNS trigger LANGUAGE plpgsql SET enable'
    '_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$ BEGIN IF NOT EXISTS (SELECT k.claim_i'
    'd FROM claim_follow_up_clock k WHERE k.claim_id = ANY (ARRAY(SELECT n.claim_id FROM new_rows n))) THEN RETURN N'
    'ULL; END IF; DELETE FROM claim_follow_up_clock WHERE claim_id IN (SELECT c.id FROM (SELECT DISTINCT i.id FROM u'
    'nnest(ARRAY(SELECT k.claim_id FROM claim_follow_up_clock k WHERE k.claim_id = ANY (ARRAY(SELECT n.claim_id FROM'
    ' new_rows n)))) AS i (id)) AS i CROSS JOIN LATERAL (SELECT * FROM claim WHERE claim.id = i.id OFFSET 0) AS c WH'
    "ERE true AND NOT (c.status = 'submitted' AND c.self_pay = false)); INSERT INTO claim_follow_up_clock (claim_id,"
    ' location_id, payer_id, sent_at, since_at, heard_on, next_on) SELECT * FROM (SELECT x.id, x.location_id, x.paye'
    'r_id, x.sent, greatest(x.created_at, x.sent), x.heard, CASE WHEN f.next_follow_up_on IS NOT NULL AND f.next_set'
    '_on >= coalesce(x.heard, f.next_set_on) AND greatest(x.created_at, x.sent) < f.next_set_day_ends_at THEN f.next'
    '_follow_up_on END FROM (SELECT c.id, c.location_id, c.payer_id, c.created_at, (SELECT max(s.at) FROM status_cha'
    "nge s WHERE s.subject_type = 'claim' AND s.subject_id = c.id AND s.to_status = 'submitted') AS sent, greatest(("
    'SELECT max(a.paid_on) FROM adjudication a WHERE a.claim_id = c.id), (SELECT max(ca.effective_on) FROM claim_ack'
    "nowledgment ca JOIN acknowledgment ak ON ak.id = ca.acknowledgment_id WHERE ca.claim_id = c.id AND ak.kind = '2"
    "77CA'), (SELECT max(r.heard_on) FROM claim_status_response r WHERE r.claim_id = c.id AND r.outcome IN ('pending"
    "', 'paid', 'denied', 'finalized', 'received', 'information'))) AS heard FROM (SELECT DISTINCT i.id FROM unnest("
    'ARRAY(SELECT k.claim_id FROM claim_follow_up_clock k WHERE k.claim_id = ANY (ARRAY(SELECT n.claim_id FROM new_r'
    'ows n)))) AS i (id)) AS i CROSS JOIN LATERAL (SELECT * FROM claim WHERE claim.id = i.id OFFSET 0) AS c WHERE tr'
    "ue AND c.status = 'submitted' AND c.self_pay = false) x LEFT JOIN claim_follow_up f ON f.claim_id = x.id) AS w "
    'WHERE true ORDER BY 1 ON CONFLICT (claim_id) DO UPDATE SET location_id = excluded.location_id, payer_id = exclu'
    'ded.payer_id, sent_at = excluded.sent_at, since_at = excluded.since_at, heard_on = excluded.heard_on, next_on ='
    ' excluded.next_on WHERE claim_follow_up_clock.location_id IS DISTINCT FROM excluded.location_id OR claim_follow'
    '_up_clock.payer_id IS DISTINCT FROM excluded.payer_id OR claim_follow_up_clock.sent_at IS DISTINCT FROM exclude'
    'd.sent_at OR claim_follow_up_clock.since_at IS DISTINCT FROM excluded.since_at OR claim_follow_up_clock.heard_o'
    'n IS DISTINCT FROM excluded.heard_on OR claim_follow_up_clock.next_on IS DISTINCT FROM excluded.next_on; RETURN'
    ' NULL; END $$'
)

POSTGRESQL_9 = (
    'CREATE TRIGGER claim_follow_up_insert_moves_follow_up_clock AFTER INSERT ON claim_follow_up REFERENCING NEW TAB'
    'LE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION claim_follow_up_insert_follow_up_clock()'
)

POSTGRESQL_10 = (
    'CREATE OR REPLACE FUNCTION claim_insert_follow_up_clock() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan ='
    ' off SET enable_hashjoin = off SET enable_mergejoin = off AS $$ BEGIN IF NOT EXISTS (SELECT n.id FROM new_rows '
    "n WHERE n.status = 'submitted' AND n.self_pay = false) THEN RETURN NULL; END IF; DELETE FROM claim_follow_up_cl"
    'ock WHERE claim_id IN (SELECT c.id FROM (SELECT DISTINCT i.id FROM unnest(ARRAY(SELECT n.id FROM new_rows n WHE'
    "RE n.status = 'submitted' AND n.self_pay = false)) AS i (id)) AS i CROSS JOIN LATERAL (SELECT * FROM claim WHER"
    "E claim.id = i.id OFFSET 0) AS c WHERE true AND NOT (c.status = 'submitted' AND c.self_pay = false)); INSERT IN"
    'TO claim_follow_up_clock (claim_id, location_id, payer_id, sent_at, since_at, heard_on, next_on) SELECT * FROM '
    '(SELECT x.id, x.location_id, x.payer_id, x.sent, greatest(x.created_at, x.sent), x.heard, CASE WHEN f.next_foll'
    'ow_up_on IS NOT NULL AND f.next_set_on >= coalesce(x.heard, f.next_set_on) AND greatest(x.created_at, x.sent) <'
    ' f.next_set_day_ends_at THEN f.next_follow_up_on END FROM (SELECT c.id, c.location_id, c.payer_id, c.created_at'
    ", (SELECT max(s.at) FROM status_change s WHERE s.subject_type = 'claim' AND s.subject_id = c.id AND s.to_status"
    " = 'submitted') AS sent, greatest((SELECT max(a.paid_on) FROM adjudication a WHERE a.claim_id = c.id), (SELECT "
    'max(ca.effective_on) FROM claim_acknowledgment ca JOIN acknowledgment ak ON ak.id = ca.acknowledgment_id WHERE '
    "ca.claim_id = c.id AND ak.kind = '277CA'), (SELECT max(r.heard_on) FROM claim_status_response r WHERE r.claim_i"
    "d = c.id AND r.outcome IN ('pending', 'paid', 'denied', 'finalized', 'received', 'information'))) AS heard FROM"
    " (SELECT DISTINCT i.id FROM unnest(ARRAY(SELECT n.id FROM new_rows n WHERE n.status = 'submitted' AND n.self_pa"
    'y = false)) AS i (id)) AS i CROSS JOIN LATERAL (SELECT * FROM claim WHERE claim.id = i.id OFFSET 0) AS c WHERE '
    "true AND c.status = 'submitted' AND c.self_pay = false) x LEFT JOIN claim_follow_up f ON f.claim_id = x.id) AS "
    'w WHERE true ORDER BY 1 ON CONFLICT (claim_id) DO UPDATE SET location_id = excluded.location_id, payer_id = exc'
    'luded.payer_id, sent_at = excluded.sent_at, since_at = excluded.since_at, heard_on = excluded.heard_on, next_on'
    ' = excluded.next_on WHERE claim_follow_up_clock.location_id IS DISTINCT FROM excluded.location_id OR claim_foll'
    'ow_up_clock.payer_id IS DISTINCT FROM excluded.payer_id OR claim_follow_up_clock.sent_at IS DISTINCT FROM exclu'
    'ded.sent_at OR claim_follow_up_clock.since_at IS DISTINCT FROM excluded.since_at OR claim_follow_up_clock.heard'
    '_on IS DISTINCT FROM excluded.heard_on OR claim_follow_up_clock.next_on IS DISTINCT FROM excluded.next_on; RETU'
    'RN NULL; END $$'
)

POSTGRESQL_11 = (
    'CREATE TRIGGER claim_insert_moves_follow_up_clock AFTER INSERT ON claim REFERENCING NEW TABLE AS new_rows FOR E'
    'ACH STATEMENT EXECUTE FUNCTION claim_insert_follow_up_clock()'
)

POSTGRESQL_12 = (
    'CREATE OR REPLACE FUNCTION claim_follow_up_update_follow_up_clock() RETURNS trigger LANGUAGE plpgsql SET enable'
    '_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$ BEGIN DELETE FROM claim_follow_up_clo'
    'ck WHERE claim_id IN (SELECT c.id FROM (SELECT DISTINCT i.id FROM unnest(ARRAY(SELECT k.claim_id FROM claim_fol'
    'low_up_clock k WHERE k.claim_id = ANY (ARRAY(SELECT n.claim_id FROM new_rows n)))) AS i (id)) AS i CROSS JOIN L'
    "ATERAL (SELECT * FROM claim WHERE claim.id = i.id OFFSET 0) AS c WHERE true AND NOT (c.status = 'submitted' AND"
    ' c.self_pay = false)); INSERT INTO claim_follow_up_clock (claim_id, location_id, payer_id, sent_at, since_at, h'
    'eard_on, next_on) SELECT * FROM (SELECT x.id, x.location_id, x.payer_id, x.sent, greatest(x.created_at, x.sent)'
    ', x.heard, CASE WHEN f.next_follow_up_on IS NOT NULL AND f.next_set_on >= coalesce(x.heard, f.next_set_on) AND '
    'greatest(x.created_at, x.sent) < f.next_set_day_ends_at THEN f.next_follow_up_on END FROM (SELECT c.id, c.locat'
    "ion_id, c.payer_id, c.created_at, (SELECT max(s.at) FROM status_change s WHERE s.subject_type = 'claim' AND s.s"
    "ubject_id = c.id AND s.to_status = 'submitted') AS sent, greatest((SELECT max(a.paid_on) FROM adjudication a WH"
    'ERE a.claim_id = c.id), (SELECT max(ca.effective_on) FROM claim_acknowledgment ca JOIN acknowledgment ak ON ak.'
    "id = ca.acknowledgment_id WHERE ca.claim_id = c.id AND ak.kind = '277CA'), (SELECT max(r.heard_on) FROM claim_s"
    "tatus_response r WHERE r.claim_id = c.id AND r.outcome IN ('pending', 'paid', 'denied', 'finalized', 'received'"
    ", 'information'))) AS heard FROM (SELECT DISTINCT i.id FROM unnest(ARRAY(SELECT k.claim_id FROM claim_follow_up"
    '_clock k WHERE k.claim_id = ANY (ARRAY(SELECT n.claim_id FROM new_rows n)))) AS i (id)) AS i CROSS JOIN LATERAL'
    " (SELECT * FROM claim WHERE claim.id = i.id OFFSET 0) AS c WHERE true AND c.status = 'submitted' AND c.self_pay"
    ' = false) x LEFT JOIN claim_follow_up f ON f.claim_id = x.id) AS w WHERE true ORDER BY 1 ON CONFLICT (claim_id)'
    ' DO UPDATE SET location_id = excluded.location_id, payer_id = excluded.payer_id, sent_at = excluded.sent_at, si'
    'nce_at = excluded.since_at, heard_on = excluded.heard_on, next_on = excluded.next_on WHERE claim_follow_up_cloc'
    'k.location_id IS DISTINCT FROM excluded.location_id OR claim_follow_up_clock.payer_id IS DISTINCT FROM excluded'
    '.payer_id OR claim_follow_up_clock.sent_at IS DISTINCT FROM excluded.sent_at OR claim_follow_up_clock.since_at '
    'IS DISTINCT FROM excluded.since_at OR claim_follow_up_clock.heard_on IS DISTINCT FROM excluded.heard_on OR clai'
    'm_follow_up_clock.next_on IS DISTINCT FROM excluded.next_on; RETURN NULL; END $$'
)

POSTGRESQL_13 = (
    'CREATE TRIGGER claim_follow_up_update_moves_follow_up_clock AFTER UPDATE ON claim_follow_up REFERENCING NEW TAB'
    'LE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION claim_follow_up_update_follow_up_clock()'
)

POSTGRESQL_14 = (
    'CREATE OR REPLACE FUNCTION claim_update_follow_up_clock() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan ='
    ' off SET enable_hashjoin = off SET enable_mergejoin = off AS $$ BEGIN IF NOT EXISTS (SELECT m.id FROM (SELECT i'
    'd, status, self_pay, payer_id, location_id, created_at FROM old_claims EXCEPT SELECT id, status, self_pay, paye'
    'r_id, location_id, created_at FROM new_claims) AS m) THEN RETURN NULL; END IF; DELETE FROM claim_follow_up_cloc'
    'k WHERE claim_id IN (SELECT c.id FROM (SELECT DISTINCT i.id FROM unnest(ARRAY(SELECT m.id FROM (SELECT id, stat'
    'us, self_pay, payer_id, location_id, created_at FROM old_claims EXCEPT SELECT id, status, self_pay, payer_id, l'
    'ocation_id, created_at FROM new_claims) AS m)) AS i (id)) AS i CROSS JOIN LATERAL (SELECT * FROM claim WHERE cl'
    "aim.id = i.id OFFSET 0) AS c WHERE true AND NOT (c.status = 'submitted' AND c.self_pay = false)); INSERT INTO c"
    'laim_follow_up_clock (claim_id, location_id, payer_id, sent_at, since_at, heard_on, next_on) SELECT * FROM (SEL'
    'ECT x.id, x.location_id, x.payer_id, x.sent, greatest(x.created_at, x.sent), x.heard, CASE WHEN f.next_follow_u'
    'p_on IS NOT NULL AND f.next_set_on >= coalesce(x.heard, f.next_set_on) AND greatest(x.created_at, x.sent) < f.n'
    'ext_set_day_ends_at THEN f.next_follow_up_on END FROM (SELECT c.id, c.location_id, c.payer_id, c.created_at, (S'
    "ELECT max(s.at) FROM status_change s WHERE s.subject_type = 'claim' AND s.subject_id = c.id AND s.to_status = '"
    "submitted') AS sent, greatest((SELECT max(a.paid_on) FROM adjudication a WHERE a.claim_id = c.id), (SELECT max("
    'ca.effective_on) FROM claim_acknowledgment ca JOIN acknowledgment ak ON ak.id = ca.acknowledgment_id WHERE ca.c'
    "laim_id = c.id AND ak.kind = '277CA'), (SELECT max(r.heard_on) FROM claim_status_response r WHERE r.claim_id = "
    "c.id AND r.outcome IN ('pending', 'paid', 'denied', 'finalized', 'received', 'information'))) AS heard FROM (SE"
    'LECT DISTINCT i.id FROM unnest(ARRAY(SELECT m.id FROM (SELECT id, status, self_pay, payer_id, location_id, crea'
    'ted_at FROM old_claims EXCEPT SELECT id, status, self_pay, payer_id, location_id, created_at FROM new_claims) A'
    'S m)) AS i (id)) AS i CROSS JOIN LATERAL (SELECT * FROM claim WHERE claim.id = i.id OFFSET 0) AS c WHERE true A'
    "ND c.status = 'submitted' AND c.self_pay = false) x LEFT JOIN claim_follow_up f ON f.claim_id = x.id) AS w WHER"
    'E true ORDER BY 1 ON CONFLICT (claim_id) DO UPDATE SET location_id = excluded.location_id, payer_id = excluded.'
    'payer_id, sent_at = excluded.sent_at, since_at = excluded.since_at, heard_on = excluded.heard_on, next_on = exc'
    'luded.next_on WHERE claim_follow_up_clock.location_id IS DISTINCT FROM excluded.location_id OR claim_follow_up_'
    'clock.payer_id IS DISTINCT FROM excluded.payer_id OR claim_follow_up_clock.sent_at IS DISTINCT FROM excluded.se'
    'nt_at OR claim_follow_up_clock.since_at IS DISTINCT FROM excluded.since_at OR claim_follow_up_clock.heard_on IS'
    ' DISTINCT FROM excluded.heard_on OR claim_follow_up_clock.next_on IS DISTINCT FROM excluded.next_on; RETURN NUL'
    'L; END $$'
)

POSTGRESQL_15 = (
    'CREATE TRIGGER claim_update_keeps_follow_up_clock AFTER UPDATE ON claim REFERENCING OLD TABLE AS old_claims NEW'
    ' TABLE AS new_claims FOR EACH STATEMENT EXECUTE FUNCTION claim_update_follow_up_clock()'
)

POSTGRESQL_STATEMENTS = [POSTGRESQL_0, POSTGRESQL_1, POSTGRESQL_2, POSTGRESQL_3, POSTGRESQL_4, POSTGRESQL_5, POSTGRESQL_6, POSTGRESQL_7, POSTGRESQL_8, POSTGRESQL_9, POSTGRESQL_10, POSTGRESQL_11, POSTGRESQL_12, POSTGRESQL_13, POSTGRESQL_14, POSTGRESQL_15]

SQLITE_BACKFILL = (
    'INSERT INTO claim_follow_up_clock (claim_id, location_id, payer_id, sent_at, since_at, heard_on, next_on) SELEC'
    'T x.id, x.location_id, x.payer_id, x.sent, max(x.created_at, coalesce(x.sent, x.created_at)), x.heard, CASE WHE'
    'N f.next_follow_up_on IS NOT NULL AND f.next_set_on >= coalesce(x.heard, f.next_set_on) AND max(x.created_at, c'
    'oalesce(x.sent, x.created_at)) < f.next_set_day_ends_at THEN f.next_follow_up_on END FROM (SELECT c.id, c.locat'
    "ion_id, c.payer_id, c.created_at, (SELECT max(s.at) FROM status_change s WHERE s.subject_type = 'claim' AND s.s"
    "ubject_id = c.id AND s.to_status = 'submitted') AS sent, nullif(max(coalesce((SELECT max(a.paid_on) FROM adjudi"
    "cation a WHERE a.claim_id = c.id), ''), coalesce((SELECT max(ca.effective_on) FROM claim_acknowledgment ca JOIN"
    " acknowledgment ak ON ak.id = ca.acknowledgment_id WHERE ca.claim_id = c.id AND ak.kind = '277CA'), ''), coales"
    "ce((SELECT max(r.heard_on) FROM claim_status_response r WHERE r.claim_id = c.id AND r.outcome IN ('pending', 'p"
    "aid', 'denied', 'finalized', 'received', 'information')), '')), '') AS heard FROM claim c WHERE true AND c.stat"
    "us = 'submitted' AND c.self_pay = 0) x LEFT JOIN claim_follow_up f ON f.claim_id = x.id"
)

POSTGRESQL_BACKFILL = (
    'INSERT INTO claim_follow_up_clock (claim_id, location_id, payer_id, sent_at, since_at, heard_on, next_on) SELEC'
    'T x.id, x.location_id, x.payer_id, x.sent, greatest(x.created_at, x.sent), x.heard, CASE WHEN f.next_follow_up_'
    'on IS NOT NULL AND f.next_set_on >= coalesce(x.heard, f.next_set_on) AND greatest(x.created_at, x.sent) < f.nex'
    't_set_day_ends_at THEN f.next_follow_up_on END FROM (SELECT c.id, c.location_id, c.payer_id, c.created_at, (SEL'
    "ECT max(s.at) FROM status_change s WHERE s.subject_type = 'claim' AND s.subject_id = c.id AND s.to_status = 'su"
    "bmitted') AS sent, greatest((SELECT max(a.paid_on) FROM adjudication a WHERE a.claim_id = c.id), (SELECT max(ca"
    '.effective_on) FROM claim_acknowledgment ca JOIN acknowledgment ak ON ak.id = ca.acknowledgment_id WHERE ca.cla'
    "im_id = c.id AND ak.kind = '277CA'), (SELECT max(r.heard_on) FROM claim_status_response r WHERE r.claim_id = c."
    "id AND r.outcome IN ('pending', 'paid', 'denied', 'finalized', 'received', 'information'))) AS heard FROM claim"
    " c WHERE true AND c.status = 'submitted' AND c.self_pay = false) x LEFT JOIN claim_follow_up f ON f.claim_id = "
    'x.id'
)

TRIGGERS = [('status_change_moves_follow_up_clock', 'status_change'), ('adjudication_moves_follow_up_clock', 'adjudication'), ('claim_acknowledgment_moves_follow_up_clock', 'claim_acknowledgment'), ('claim_status_response_moves_follow_up_clock', 'claim_status_response'), ('claim_follow_up_insert_moves_follow_up_clock', 'claim_follow_up'), ('claim_insert_moves_follow_up_clock', 'claim'), ('claim_follow_up_update_moves_follow_up_clock', 'claim_follow_up'), ('claim_update_keeps_follow_up_clock', 'claim')]

FUNCTIONS = ['status_change_follow_up_clock', 'adjudication_follow_up_clock', 'claim_acknowledgment_follow_up_clock', 'claim_status_response_follow_up_clock', 'claim_follow_up_insert_follow_up_clock', 'claim_insert_follow_up_clock', 'claim_follow_up_update_follow_up_clock', 'claim_update_follow_up_clock']


POSTGRESQL_SET_DAYS = (
    "UPDATE claim_follow_up SET next_set_on = (next_set_at AT TIME ZONE :zone)::date, "
    "next_set_day_ends_at = ((next_set_at AT TIME ZONE :zone)::date + 1)::timestamp AT TIME ZONE :zone "
    "WHERE next_set_at IS NOT NULL"
)


def _zone() -> str:
    return current_app.config.get("CLAIMDESK_TIMEZONE", "America/Chicago") if has_app_context() else "America/Chicago"


def _set_days(pg: bool) -> None:
    """The practice's day of each next_set_at already written, and that day's end (UTC)."""
    bind = op.get_bind()
    if pg:
        bind.execute(sa.text(POSTGRESQL_SET_DAYS), {"zone": _zone()})
        return
    zone = ZoneInfo(_zone())
    rows = bind.execute(sa.text("SELECT claim_id, next_set_at FROM claim_follow_up WHERE next_set_at IS NOT NULL"))
    for claim_id, set_at in rows.all():
        moment = (set_at if isinstance(set_at, datetime) else datetime.fromisoformat(set_at)).replace(tzinfo=UTC)
        day = moment.astimezone(zone).date()
        ends = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)
        bind.execute(sa.text("UPDATE claim_follow_up SET next_set_on = :day, next_set_day_ends_at = :ends "
                             "WHERE claim_id = :claim_id"),
                     {"day": day.isoformat(), "ends": ends.strftime("%Y-%m-%d %H:%M:%S.%f"), "claim_id": claim_id})


def upgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("claim_follow_up") as batch:
        batch.add_column(sa.Column("next_set_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("next_set_day_ends_at", sa.DateTime(timezone=True), nullable=True))
    _set_days(pg)
    op.create_table(
        "claim_follow_up_clock",
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("since_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heard_on", sa.Date(), nullable=True),
        sa.Column("next_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], name=op.f("fk_claim_follow_up_clock_claim_id_claim"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"],
                                name=op.f("fk_claim_follow_up_clock_location_id_location")),
        sa.ForeignKeyConstraint(["payer_id"], ["payer.id"], name=op.f("fk_claim_follow_up_clock_payer_id_payer")),
        sa.PrimaryKeyConstraint("claim_id", name=op.f("pk_claim_follow_up_clock")),
    )
    op.execute(POSTGRESQL_BACKFILL if pg else SQLITE_BACKFILL)
    op.create_index("ix_claim_follow_up_clock_since", "claim_follow_up_clock",
                    ["payer_id", "since_at", "heard_on", "location_id"],
                    postgresql_where=sa.text("next_on IS NULL"), sqlite_where=sa.text("next_on IS NULL"))
    op.create_index("ix_claim_follow_up_clock_next", "claim_follow_up_clock", ["next_on", "payer_id", "location_id"],
                    postgresql_where=sa.text("next_on IS NOT NULL"), sqlite_where=sa.text("next_on IS NOT NULL"))
    for statement in POSTGRESQL_STATEMENTS if pg else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    for name, table in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if pg else f"DROP TRIGGER IF EXISTS {name}")
    if pg:
        for function in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_index("ix_claim_follow_up_clock_next", table_name="claim_follow_up_clock")
    op.drop_index("ix_claim_follow_up_clock_since", table_name="claim_follow_up_clock")
    op.drop_table("claim_follow_up_clock")
    with op.batch_alter_table("claim_follow_up") as batch:
        batch.drop_column("next_set_day_ends_at")
        batch.drop_column("next_set_on")
