"""`eligibility_latest`, each policy's latest answered eligibility check, kept by the database itself.

Checks are append-only and ids grow, so an answer (any status but pending) inserted for a policy is its latest
unless a later one is already kept (two answers in one statement, or out of order). A row trigger on
eligibility_check upserts it, on both databases, whichever code path inserts the check (the 271 import's bulk
insert, a failed inquiry's ORM add, a migration). Nothing in the application writes the table; `flask ledger check`
(check "eligibility-latest") compares it with the checks themselves.
"""

from __future__ import annotations

# ruff: noqa: S608 - the SQL is built from this module's constants and the status enum, never from input
from sqlalchemy import DDL, event

from billing.core.derived import derived
from billing.coverage.eligibility import NEEDS_ATTENTION, EligibilityCheck, EligibilityLatest, EligibilityStatus

TRIGGER = "eligibility_check_keeps_latest"
FUNCTION = "eligibility_latest_add"
_ATTENTION = ", ".join(f"'{status.value}'" for status in NEEDS_ATTENTION)
_UPSERT = ("INSERT INTO eligibility_latest (policy_id, check_id, needs_attention) "
           f"VALUES (NEW.policy_id, NEW.id, NEW.status IN ({_ATTENTION})) "
           "ON CONFLICT (policy_id) DO UPDATE SET check_id = excluded.check_id, "
           "needs_attention = excluded.needs_attention WHERE excluded.check_id > eligibility_latest.check_id")
_ANSWERED = f"NEW.status <> '{EligibilityStatus.PENDING.value}'"


def sqlite_trigger() -> str:
    return (f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON eligibility_check FOR EACH ROW WHEN {_ANSWERED} "
            f"BEGIN {_UPSERT}; END")


def postgresql_function() -> str:
    return (f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{_UPSERT}; RETURN NULL; END $$")


def postgresql_trigger() -> str:
    return (f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON eligibility_check FOR EACH ROW WHEN ({_ANSWERED}) "
            f"EXECUTE FUNCTION {FUNCTION}()")


# A schema made from the models gets the trigger once eligibility_check exists; the migration makes it otherwise.
for ddl in (DDL(sqlite_trigger()).execute_if(dialect="sqlite"),
            DDL(postgresql_function()).execute_if(dialect="postgresql"),
            DDL(postgresql_trigger()).execute_if(dialect="postgresql")):
    event.listen(EligibilityCheck.__table__, "after_create", ddl)

derived(EligibilityLatest, "A policy's latest eligibility answer follows its checks; record a check instead.")
