"""Big tables in seconds on PostgreSQL: each growing table's first row copied many times inside the database.

INSERT ... SELECT over generate_series, with unique text and number columns made distinct, dates and times
spread back over the years, and a unique reference to a table already copied (claim_line's claim) taking each of
that table's copies in turn. Used by the list-page plan test and benchmarks/bench_list_pages.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Date, DateTime, Enum, Integer, String, inspect, select, text
from sqlalchemy.exc import DBAPIError

from billing.claims.models import Claim
from billing.core.db import db
from billing.ledger.models import PaymentMethod
from billing.ledger.statement_models import DunningLevel
from billing.payments.models import PostedCheck
from billing.payments.remittances import import_835
from rules.runs import run_rules
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import era_for, foreign
from tests.worlds.practice import SYSTEM, build_world
from tests.worlds.rules import fail, leaf, make_rule


def seed_rows() -> Claim:
    """At least one row behind each admin grid and in each growing table, made the ordinary way; returns the paid
    claim. (The access log gets its row when someone opens a client.)"""
    world = build_world()
    claim = submitted_claim(world)
    make_rule("Any units", conditions=leaf("units", "greater_than", 0), actions=fail("units"))
    world.claim()
    run_rules(actor=SYSTEM, today=claim.service_date)
    import_835(era_for(world, claim, extra=[foreign()]), filename="seed.835", actor=SYSTEM)
    db.session.commit()
    db.session.add(PostedCheck(payer_id=world.payer.id, check_number="CHK-SEED", check_date=claim.service_date,
                               method=PaymentMethod.CHECK, amount=Decimal("10.00"), applied=Decimal("0.00"),
                               unapplied=Decimal("10.00"), actor="seed"))
    if db.session.scalar(select(DunningLevel.id).limit(1)) is None:
        db.session.add(DunningLevel(min_days=30, message="Past due"))
    db.session.commit()
    return claim


#: The tables a billing company's data makes large, each copied from its first row.
GROWING = ("claim", "claim_line", "therapy_session", "ledger_entry", "remittance", "remittance_claim",
           "unmatched_claim", "failed_charge", "billing_run", "access_log", "claim_status_change", "client",
           "insurance_policy", "service_authorization", "posted_check", "job_run")


def _copy_expression(column: Any, unique: set[str], spread: str | None) -> str:
    name = f'"{column.name}"'
    if column.name == spread:
        return "source.parent_id"
    if spread is not None:
        pass  # the spread reference alone keeps each copy distinct (and line numbers within their bounds)
    elif column.name in unique and isinstance(column.type, String) and not isinstance(column.type, Enum):
        return f"left({name}, {max((column.type.length or 40) - 8, 1)}) || '-' || g"
    elif column.name in unique and isinstance(column.type, Integer) and not column.foreign_keys:
        return f"{name} + g::int"
    if isinstance(column.type, DateTime):
        return f"{name} - make_interval(mins => g)"
    if isinstance(column.type, Date):
        return f"{name} - (g % 3650)::int"
    return name


def fill(table_name: str, filled: set[str], copies: int) -> bool:
    """Copy the table's first row until it holds about `copies` more rows; False when its constraints refuse copies.
    A unique key holding a reference to a table already copied (claim_line's claim) takes each copy of that
    table in turn, so the copies stay distinct."""
    table = db.metadata.tables[table_name]
    insp = inspect(db.session.connection())
    unique = {c for u in insp.get_unique_constraints(table_name) for c in u["column_names"]}
    unique |= {c for i in insp.get_indexes(table_name) if i.get("unique") for c in i["column_names"] if c}
    columns = [c for c in table.columns if not c.primary_key]
    seed = db.session.execute(text(f'SELECT min(id) FROM "{table_name}"')).scalar()  # noqa: S608 - our table names
    if seed is None:
        return False
    spread = next((c for c in columns if c.name in unique
                   for fk in c.foreign_keys if fk.column.table.name in filled), None)
    source = f"generate_series(1, {copies}) AS g"
    if spread is not None:
        parent = next(iter(spread.foreign_keys)).column.table.name
        source = (f'(SELECT id AS parent_id, row_number() OVER (ORDER BY id) AS g FROM "{parent}" '  # noqa: S608
                  f'WHERE id <> (SELECT min(id) FROM "{parent}") LIMIT {copies}) AS source')
    names = ", ".join(f'"{c.name}"' for c in columns)
    values = ", ".join(_copy_expression(c, unique, spread.name if spread is not None else None) for c in columns)
    nested = db.session.begin_nested()
    try:
        copy = f'INSERT INTO "{table_name}" ({names}) SELECT {values} FROM "{table_name}", {source} WHERE id = :seed'  # noqa: S608
        db.session.execute(text(copy), {"seed": seed})  # names and expressions come from the models' metadata
    except DBAPIError:
        nested.rollback()
        return False
    nested.commit()
    return True


def fill_growing_tables(copies: int) -> set[str]:
    """Copy each growing table that has a row `copies` times, then ANALYZE them; returns the tables filled."""
    filled: set[str] = set()
    for name in GROWING:
        if name in db.metadata.tables and fill(name, filled, copies):
            filled.add(name)
    for name in filled:
        db.session.execute(text(f'ANALYZE "{name}"'))
    return filled
