"""Today's statement cycle one page at a time, for the Statements page.

Who gets a statement, and for how much, depends only on each client's patient balance, their no-statements flag
and who their responsible party is; the rest of a statement (its claims' aging, the last payment, dunning) is read
per party. So the whole cycle is first sorted out from plain columns (`cycle_outline`: the count, the total due
and the order the page lists statements in), and only the statements on the page asked for are built in full by
`build_cycle`, narrowed to their clients (`CycleOutline.statements`). A billing company's cycle of thousands of
parties and tens of thousands of open claims was built whole on every load of the page. The page's statements are
exactly `build_cycle`'s, in the same order (tests/billing/ledger/test_statement_pages.py compares the two).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement

from billing.core.db import db
from billing.core.id_lists import any_of
from billing.core.money import sum_money, to_money
from billing.ledger.patient_balances import open_balance_rows
from billing.ledger.statements import (
    NO_STATEMENTS,
    Skipped,
    Statement,
    addressee,
    below_minimum,
    build_cycle,
    mailing_address,
    party_key,
    qualifies,
    statement_minimum,
)
from billing.people.models import Client

#: The client columns that decide a party and its address (a row of them stands in for the Client).
_COLUMNS = (Client.id, Client.first_name, Client.last_name, Client.account_number, Client.no_statements,
            Client.responsible_party_name, Client.address_line1, Client.address_line2, Client.city, Client.state,
            Client.zip_code)


@dataclass(frozen=True)
class _Party:
    members: list[Any]  # rows of client columns and their patient balance, by account number
    sending: list[Any]  # those without the no-statements flag
    amount: Decimal  # what the sending members owe: the statement's amount due
    owed: Decimal  # what all members owe (a skipped party's balance)

    @property
    def order(self) -> tuple[str, str]:
        """Where build_cycle sorts the party's statement: its first sending client's addressee and account."""
        first = self.sending[0]
        return addressee(first).lower(), first.account_number


@dataclass(frozen=True)
class CycleOutline:
    """Today's cycle without its statements' details: who is sent one, in the page's order, and who is skipped."""

    statement_on: date
    minimum: Decimal
    where: list[ColumnElement[bool]]
    sent: list[_Party]
    left_out: list[_Party]

    @property
    def count(self) -> int:
        return len(self.sent)

    @property
    def total_due(self) -> Decimal:
        return sum_money(p.amount for p in self.sent)

    def statements(self, first: int, size: int) -> list[Statement]:
        """Statements `first` to `first + size`, in full: build_cycle's own, for those parties' clients alone."""
        ids = [row.id for party in self.sent[first:first + size] for row in party.members]
        if not ids:
            return []
        return build_cycle(today=self.statement_on, minimum=self.minimum, where=[*self.where, any_of(Client.id, ids)],
                           activity=False).statements

    def skipped(self, size: int) -> list[Skipped]:
        """The first `size` parties left out, with why."""
        return [_skipped(p, self.minimum) for p in self.left_out[:size]]


def cycle_outline(*, today: date, where: Iterable[ColumnElement[bool]] = (),
                  minimum: Decimal | None = None) -> CycleOutline:
    """The cycle a run today would send (nothing written), sorted out from balances and client columns alone."""
    minimum = statement_minimum() if minimum is None else to_money(minimum)
    where = list(where)
    sent, left_out = [], []
    for party in _parties(where):
        (sent if party.sending and qualifies(party.amount, minimum) else left_out).append(party)
    sent.sort(key=lambda p: p.order)
    return CycleOutline(today, minimum, where, sent, left_out)


def _parties(where: list[ColumnElement[bool]]) -> list[_Party]:
    """The clients owing or owed something, with their balances and the columns that decide a party, in one
    statement; grouped as build_cycle groups them, in its order (by account number)."""
    grouped: dict[tuple[str, ...], list[Any]] = defaultdict(list)
    for row in db.session.execute(open_balance_rows(where, *_COLUMNS).order_by(Client.account_number)):
        grouped[party_key(row)].append(row)
    parties = []
    for members in grouped.values():
        sending = [row for row in members if not row.no_statements]
        parties.append(_Party(members, sending, _owed(sending), _owed(members)))
    return parties


def _owed(rows: list[Any]) -> Decimal:
    # Most parties are one client: their balance as it is, without a sum's generator (thousands per page load).
    return to_money(rows[0].patient) if len(rows) == 1 else sum_money(row.patient for row in rows)


def _skipped(party: _Party, minimum: Decimal) -> Skipped:
    reason = below_minimum(minimum) if party.sending else NO_STATEMENTS
    return Skipped(mailing_address(party.members[0]).name,
                   [f"{row.last_name}, {row.first_name}" for row in party.members], party.owed, reason)
