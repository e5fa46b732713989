"""Values an attacker (or a tired biller pasting from a spreadsheet) sends, the world they are sent into, and a
fingerprint of the database that shows whether anything was written (issue 14, item 8)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from billing.core.audit import StatusChange
from billing.core.db import db
from billing.ledger.models import LedgerEntry
from billing.payments.remittances import import_835
from tests.worlds.money import MoneyWorld, build_money_world
from tests.worlds.payments import Payment, foreign, write_835
from tests.worlds.practice import SYSTEM, World
from tests.worlds.rules import make_rule

IDS = ["²", "", "-1", str(2**63), str(2**63 - 1), str(2**31), "1e3", "0x10", "0", " 1", "1.0", "٣", "1 OR 1=1"]
AMOUNTS = ["1e10", "1,2,3", "１２", "12.345", "NaN", "inf", "-inf", "99999999999.99", "1" * 40, "-5", "0x10", ""]
DATES = ["2026-02-30", "0000-01-01", "9999-12-31", "02/30/2026", "2026-13-01", "\x00", ""]
TEXTS = ["\x00", "a\x00b", "x" * 10_000, "名前 😀 \u202e", "'; DROP TABLE claim; --", "<script>alert(1)</script>",
         " ", "\r\n", "%s %(x)s {0}"]
NESTED = ["[" * 500 + "]" * 500, '{"all": ' * 500 + "[]" + "}" * 500, '{"a": 1e999}', "[", "null"]
EVERYTHING = IDS + AMOUNTS + DATES + TEXTS + NESTED

MONEY_WORDS = ("amount", "paid", "allowed", "charge", "rate", "total", "balance", "copay", "adjust")
DATE_WORDS = ("date", "_on", "from", "until", "day", "when", "_at")
ID_WORDS = ("id", "rowid", "ids", "list_form_pk", "claim", "payer", "provider", "location", "company", "practice",
            "client", "policy", "batch", "line", "position", "units", "scope")
NESTED_WORDS = ("conditions", "actions", "definition", "json", "doc")


def kind_of(name: str) -> list[str]:
    lowered = name.lower()
    if any(w in lowered for w in NESTED_WORDS):
        return NESTED + TEXTS
    if any(w in lowered for w in MONEY_WORDS):
        return AMOUNTS
    if any(w in lowered for w in DATE_WORDS):
        return DATES
    if any(w in lowered for w in ID_WORDS):
        return IDS
    return TEXTS


# --- the world and the fingerprint ---------------------------------------------------------------------------

def fingerprint() -> tuple[Any, ...]:
    """Row counts of every table, the ledger's sum and the history's length: any write shows in one of them.

    The PHI access log is left out: a refused form shown again shows its record, and that read is logged."""
    tables = [t for t in db.metadata.sorted_tables if t.name != "access_log"]
    counts = db.session.execute(select(*[select(func.count()).select_from(t).scalar_subquery() for t in tables]))
    ledger = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)))
    history = db.session.scalar(select(func.count()).select_from(StatusChange))
    return (*counts.one(), str(ledger), history)


def hostile_world(world: World) -> MoneyWorld:
    """Money in every state (payments, a clawback, a PLB, a write-off, a held claim), an unmatched 835 claim
    and a rule: so ids in the fuzz can point at real records of every kind."""
    money = build_money_world(world)
    unknown = Payment(foreign().paid, "CHK-F", world.payer.name, world.payer.edi_payer_id, [foreign()])
    import_835(write_835([unknown], control=7).encode(), filename="foreign.835", actor=SYSTEM)
    make_rule()
    return money
