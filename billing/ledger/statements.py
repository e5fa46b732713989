"""Patient statements: one per responsible party (a minor's parent, else the client) covering all their clients.

A statement is built from the ledger at the moment it runs (amount due = the patient balance of
billing/ledger/patient_balances.py; activity = billing/ledger/client_ledger.py rows since the last statement);
only sending one writes anything: a `StatementRecord` per client and a history row (`AuditAction.STATEMENT_SENT`).

Who shares a statement: clients whose responsible party has the same name at the same address are one party
(siblings with one parent); a client with no responsible party gets a statement of their own. The party is worked
out when a client is saved and kept on the client (billing/people/statement_parties.py). Skipped: clients flagged
`no_statements`, parties owing nothing, and parties owing less than the minimum balance. Aging and the dunning
rule: billing/ledger/statement_aging.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import selectinload

from billing.claims.models import Claim
from billing.core.addresses import envelope_lines, zip_text
from billing.core.audit import Actor, AuditAction, Change, record_changes
from billing.core.byte_order import in_byte_order
from billing.core.db import db
from billing.core.errors import Invalid, NotFound, Problem
from billing.core.id_lists import any_of
from billing.core.money import ZERO, sum_money, to_money
from billing.ledger.client_ledger import Category, LedgerRow, client_ledger
from billing.ledger.invoices import DUE_IN_DAYS, Party, practice_party
from billing.ledger.models import EntryKind, LedgerEntry
from billing.ledger.patient_balances import open_patient_balances
from billing.ledger.statement_aging import (
    Aging,
    ClientAging,
    Dunning,
    client_agings,
    dunning_age,
    dunning_for,
    dunning_levels,
    read_day,
)
from billing.ledger.statement_models import StatementRecord
from billing.org.models import Location, Practice
from billing.people.models import Client
from billing.people.statement_parties import addressee

#: Why a party is skipped (the Statements page's outline says the same: billing/ledger/statement_pages.py).
NO_STATEMENTS = "no statements flag"


def below_minimum(minimum: Decimal) -> str:
    return f"below the minimum balance {minimum}"


#: Below this a party gets no statement unless CLAIMDESK_STATEMENT_MINIMUM says otherwise (postage costs money).
DEFAULT_MINIMUM = Decimal("5.00")


def statement_minimum() -> Decimal:
    """The practice's minimum balance for a statement (CLAIMDESK_STATEMENT_MINIMUM, default 5.00)."""
    value = current_app.config.get("CLAIMDESK_STATEMENT_MINIMUM") if has_app_context() else None
    return DEFAULT_MINIMUM if value in (None, "") else to_money(value)


@dataclass(frozen=True)
class Activity:
    """One ledger entry a statement lists: what it did to the insurance and the patient side."""

    posted_on: date
    claim: str
    service_date: date
    description: str
    category: Category
    insurance: Decimal
    patient: Decimal

    @classmethod
    def of(cls, row: LedgerRow) -> Activity:
        return cls(row.posted_on, row.claim, row.service_date, row.description, row.category,
                   row.change.insurance, row.change.patient)

    def as_dict(self) -> dict[str, Any]:
        return {"posted_on": self.posted_on.isoformat(), "claim": self.claim,
                "service_date": self.service_date.isoformat(), "description": self.description,
                "category": self.category.value, "insurance": str(self.insurance), "patient": str(self.patient)}


@dataclass(frozen=True)
class StatementClient:
    """One client's part of a statement."""

    client_id: int
    name: str
    account: str
    balance: Decimal  # the ledger's patient balance for this client
    previous_on: date | None  # the last statement sent before this one
    activity: list[Activity]
    aging: Aging

    def as_dict(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "client": self.name, "account": self.account,
                "balance": str(self.balance), "previous_statement": _iso(self.previous_on),
                "aging": self.aging.as_dict(), "activity": [a.as_dict() for a in self.activity]}


@dataclass(frozen=True)
class Statement:
    number: str
    statement_on: date
    due_on: date
    account: str
    practice: Party
    address: MailingAddress  # the responsible party (or the client)
    clients: list[StatementClient]
    age_days: int
    dunning: Dunning | None

    @property
    def recipient(self) -> Party:
        return self.address.party

    @property
    def amount_due(self) -> Decimal:
        return sum_money(c.balance for c in self.clients)

    @property
    def aging(self) -> Aging:
        total = Aging()
        for part in self.clients:
            total = total.plus(part.aging)
        return total

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "statement_on": self.statement_on.isoformat(),
                "due_on": self.due_on.isoformat(), "account": self.account, "recipient": self.recipient.name,
                "address": list(self.recipient.lines), "amount_due": str(self.amount_due),
                "aging": self.aging.as_dict(), "age_days": self.age_days,
                "dunning": self.dunning.as_dict() if self.dunning else None,
                "clients": [c.as_dict() for c in self.clients]}


@dataclass(frozen=True)
class Skipped:
    recipient: str
    clients: list[str]
    amount: Decimal
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"recipient": self.recipient, "clients": self.clients, "amount": str(self.amount),
                "reason": self.reason}


@dataclass
class StatementCycle:
    """What a run produced: the statements, and the parties it left out and why."""

    statement_on: date
    minimum: Decimal
    statements: list[Statement] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    recorded: int = 0  # statements written to history (0 on a dry run)

    @property
    def total_due(self) -> Decimal:
        return sum_money(s.amount_due for s in self.statements)

    def as_dict(self) -> dict[str, Any]:
        return {"statement_on": self.statement_on.isoformat(), "minimum": str(self.minimum),
                "count": len(self.statements), "total_due": str(self.total_due), "recorded": self.recorded,
                "statements": [s.as_dict() for s in self.statements], "skipped": [s.as_dict() for s in self.skipped]}


@dataclass(frozen=True)
class MailingAddress:
    """Where a statement is mailed, in the fields a mail vendor's file takes."""

    name: str
    line1: str
    line2: str
    city: str
    state: str
    zip_code: str  # digits, or ZIP+4 with its hyphen

    @property
    def party(self) -> Party:
        """As the envelope window shows it: name, street lines, "City, ST ZIP"."""
        return Party(self.name, envelope_lines(self.line1, self.line2, self.city, self.state, self.zip_code))


def mailing_address(client: Client) -> MailingAddress:
    """Who a client's statement goes to: the responsible party (a minor's parent) or the client, at their address."""
    return MailingAddress(addressee(client.responsible_party_name, client.first_name, client.last_name),
                          client.address_line1 or "", client.address_line2 or "", client.city or "",
                          client.state or "", zip_text(client.zip_code))


def party_of(client: Client) -> tuple[str | None, int | None]:
    """Who a client's statement is shared with: the party kept on the client (billing/people/statement_parties.py),
    or the client alone. The Statements page groups by the same two values."""
    return client.statement_party, None if client.statement_party else client.id


def qualifies(amount_due: Decimal, minimum: Decimal) -> bool:
    """A party is sent a statement for at least the minimum, and never for nothing or a credit."""
    return amount_due >= max(minimum, Decimal("0.01"))


def build_cycle(*, today: date, minimum: Decimal | None = None, client_ids: Iterable[int] | None = None,
                where: Iterable[ColumnElement[bool]] = (), activity: bool = True) -> StatementCycle:
    """The statements a cycle run today would send (nothing written). `client_ids` narrows it to the parties of
    those clients (a preview), `where` (conditions on Client, e.g. a scope) to those clients; flags and the
    minimum still apply. Without `activity` the statements carry no ledger lines (the Statements page lists
    parties and amounts only; reading each client's ledger there was a query per client)."""
    minimum = statement_minimum() if minimum is None else to_money(minimum)
    if minimum < ZERO:
        raise Invalid("The minimum balance cannot be below zero.", [Problem("minimum", "Enter 0.00 or more.")])
    cycle = StatementCycle(today, minimum)
    balances = open_patient_balances(where)
    clients = _clients(balances)
    wanted = None if client_ids is None else set(client_ids)
    parties: dict[tuple[str | None, int | None], list[Client]] = defaultdict(list)
    for client in clients:
        parties[party_of(client)].append(client)
    if wanted is not None:
        parties = {k: v for k, v in parties.items() if wanted & {c.id for c in v}}
    ids = [c.id for members in parties.values() for c in members]
    agings = client_agings(ids, today=today)
    paid_on, sent_on, levels = _last_payments(ids), _last_statements(ids, today), dunning_levels()
    for members in parties.values():
        statement_or_skip = _statement(members, balances, agings, paid_on, sent_on, levels, today=today,
                                       activity=activity)
        if isinstance(statement_or_skip, Statement) and not qualifies(statement_or_skip.amount_due, minimum):
            statement_or_skip = _skip(members, balances, below_minimum(minimum))
        (cycle.statements if isinstance(statement_or_skip, Statement) else cycle.skipped).append(statement_or_skip)
    cycle.statements.sort(key=lambda s: (s.recipient.name.lower(), s.account))
    return cycle


def statement_for(client_id: int, *, today: date) -> Statement:
    """The statement the client's responsible party would get today, whatever the minimum (a preview)."""
    if db.session.get(Client, client_id) is None:
        raise NotFound(f"No client {client_id}.")
    cycle = build_cycle(today=today, minimum=ZERO, client_ids=[client_id])
    if not cycle.statements:
        reason = cycle.skipped[0].reason if cycle.skipped else "nothing is owed on the patient side"
        raise Invalid(f"No statement for this client: {reason}.", [Problem("client", reason)])
    return cycle.statements[0]


def run_cycle(*, today: date, actor: Actor, minimum: Decimal | None = None, dry_run: bool = False,
              where: Iterable[ColumnElement[bool]] = ()) -> StatementCycle:
    """Build today's statements and, unless `dry_run`, record each client's part in the statement history.

    Running again the same day records nothing new for clients already sent a statement that day.
    """
    cycle = build_cycle(today=today, minimum=minimum, where=where)
    if not dry_run:
        record_cycle(cycle, actor=actor)
    return cycle


def record_cycle(cycle: StatementCycle, *, actor: Actor) -> StatementCycle:
    """Write the cycle's statements to the history (once the letters exist: see exports/statements.py)."""
    cycle.recorded = _record(cycle.statements, actor=actor, today=cycle.statement_on)
    return cycle


def statement_history(client_id: int) -> list[StatementRecord]:
    """What this client was sent, newest first."""
    if db.session.get(Client, client_id) is None:
        raise NotFound(f"No client {client_id}.")
    return list(db.session.scalars(select(StatementRecord).where(StatementRecord.client_id == client_id)
                                   .order_by(StatementRecord.statement_on.desc(), StatementRecord.id.desc())))


def _clients(balances: dict[int, Decimal]) -> list[Client]:
    if not balances:
        return []
    query = (select(Client).where(any_of(Client.id, balances))
             .options(selectinload(Client.location).selectinload(Location.practice).selectinload(Practice.company))
             .order_by(in_byte_order(Client.account_number)))
    return list(db.session.scalars(query))


def _last_payments(client_ids: list[int]) -> dict[int, date]:
    """Each client's last patient payment that still stands (a reversed payment does not reset dunning)."""
    if not client_ids:
        return {}
    reversed_ids = select(LedgerEntry.reverses_id).where(LedgerEntry.reverses_id.is_not(None))
    query = (select(Claim.client_id, func.max(LedgerEntry.posted_on))
             .join(Claim, Claim.id == LedgerEntry.claim_id)
             .where(any_of(Claim.client_id, client_ids), LedgerEntry.kind == EntryKind.PATIENT_PAYMENT,
                    LedgerEntry.reverses_id.is_(None), LedgerEntry.id.not_in(reversed_ids))
             .group_by(Claim.client_id))
    return {cid: read_day(day) for cid, day in db.session.execute(query)}


def _last_statements(client_ids: list[int], today: date) -> dict[int, date]:
    if not client_ids:
        return {}
    query = (select(StatementRecord.client_id, func.max(StatementRecord.statement_on))
             .where(any_of(StatementRecord.client_id, client_ids), StatementRecord.statement_on < today)
             .group_by(StatementRecord.client_id))
    return {cid: read_day(day) for cid, day in db.session.execute(query)}


def _skip(members: list[Client], balances: dict[int, Decimal], reason: str) -> Skipped:
    return Skipped(mailing_address(members[0]).name, [c.full_name for c in members],
                   sum_money(balances.get(c.id, ZERO) for c in members), reason)


def _statement(members: list[Client], balances: dict[int, Decimal], agings: dict[int, ClientAging],
               paid_on: dict[int, date], sent_on: dict[int, date], levels: list[Dunning],
               *, today: date, activity: bool) -> Statement | Skipped:
    sending = [c for c in members if not c.no_statements]
    if not sending:
        return _skip(members, balances, NO_STATEMENTS)
    parts = [_part(c, balances[c.id], agings.get(c.id), sent_on.get(c.id), today=today, activity=activity)
             for c in sending]
    open_since = [since for c in sending if c.id in agings and (since := agings[c.id].open_since)]
    payments = [paid_on[c.id] for c in sending if c.id in paid_on]
    age = dunning_age(open_since, max(payments) if payments else None, today=today)
    first = sending[0]
    return Statement(f"ST-{first.account_number}-{today:%Y%m%d}", today, today + timedelta(days=DUE_IN_DAYS),
                     first.account_number, practice_party(first.location.practice.company), mailing_address(first),
                     parts, age, dunning_for(age, levels))


def _part(client: Client, balance: Decimal, aging: ClientAging | None, previous: date | None,
          *, today: date, activity: bool) -> StatementClient:
    start = previous + timedelta(days=1) if previous else None
    rows = client_ledger(client.id, start=start, end=today).rows if activity else []
    return StatementClient(client.id, client.full_name, client.account_number, balance, previous,
                           [Activity.of(r) for r in rows], aging.aging if aging else Aging())


def _record(statements: list[Statement], *, actor: Actor, today: date) -> int:
    """One history row per client not already sent a statement today; returns the statements recorded."""
    ids = [c.client_id for s in statements for c in s.clients]
    done = set(db.session.scalars(select(StatementRecord.client_id).where(
        any_of(StatementRecord.client_id, ids), StatementRecord.statement_on == today))) if ids else set()
    rows, changes, recorded = [], [], 0
    for statement in statements:
        fresh = [c for c in statement.clients if c.client_id not in done]
        recorded += bool(fresh)
        for part in fresh:
            rows.append({"client_id": part.client_id, "number": statement.number, "statement_on": today,
                         "due_on": statement.due_on, "addressed_to": statement.recipient.name[:120],
                         "client_balance": part.balance, "amount_due": statement.amount_due,
                         "dunning_days": statement.dunning.min_days if statement.dunning else None,
                         "actor": actor.name})
            changes.append(Change(part.client_id, AuditAction.STATEMENT_SENT, after=str(part.balance),
                                  reason=f"statement {statement.number}: {statement.amount_due} due"))
    if rows:
        db.session.execute(StatementRecord.__table__.insert(), rows)
        record_changes("client", changes, actor=actor)
    return recorded


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
