"""Today's statement cycle one page at a time, for the Statements page.

Who gets a statement, and for how much, depends only on each client's patient balance, their no-statements flag
and their party (kept on the client: billing/people/statement_parties.py); the rest of a statement (its claims'
aging, the last payment, dunning) is read per party. So the whole cycle is first sorted out from those few columns
of the clients owing something (`cycle_outline`: the count, the total due, the order the page lists statements in,
the parties left out), and only the statements on the page asked for are built in full by `build_cycle`, narrowed
to their clients (`CycleOutline.statements`). The outline reads the kept balance rows alone, which carry copies of
those client columns (billing/ledger/client_balances.py), and groups them by the stored key: working the key out
from names and addresses on each load took 40 ms for 3,213 parties, and joining the client table read all of it.
The page's statements are exactly `build_cycle`'s, in the same order (tests/billing/ledger/test_statement_pages.py
compares the two).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import ColumnElement, select

from billing.core.db import db
from billing.core.id_lists import any_of
from billing.core.money import ZERO, sum_money, to_money
from billing.ledger.models import ClientBalance
from billing.ledger.statements import (
    NO_STATEMENTS,
    Skipped,
    Statement,
    below_minimum,
    build_cycle,
    mailing_address,
    qualifies,
    statement_minimum,
)
from billing.people.models import Client

#: What places a client in the cycle, from its kept balance row (`_parties` unpacks them in this order).
_COLUMNS = (ClientBalance.client_id, ClientBalance.patient, ClientBalance.account_number, ClientBalance.no_statements,
            ClientBalance.statement_party, ClientBalance.statement_name)
#: The columns mailing_address and a skipped party's list of clients read.
_NAMES = (Client.id, Client.first_name, Client.last_name, Client.responsible_party_name, Client.address_line1,
          Client.address_line2, Client.city, Client.state, Client.zip_code)


class _Party:
    """Clients sharing a statement, put together from their rows (thousands per page load: slots, no dataclass)."""

    __slots__ = ("amount", "members", "order", "owed")

    def __init__(self) -> None:
        self.members: list[int] = []  # client ids, by account number
        self.amount = ZERO  # what the sending members owe: the statement's amount due
        self.owed = ZERO  # what all members owe (a skipped party's balance)
        #: Where build_cycle sorts the party's statement: its addressee and first sending client's account; None
        #: while no member is sent statements.
        self.order: tuple[str, str] | None = None


@dataclass(frozen=True)
class CycleOutline:
    """Today's cycle without its statements' details: who is sent one, in the page's order, and who is skipped."""

    statement_on: date
    minimum: Decimal
    sent: list[_Party]
    left_out: list[_Party]

    @property
    def count(self) -> int:
        return len(self.sent)

    @property
    def total_due(self) -> Decimal:
        return sum_money(p.amount for p in self.sent)

    def statements(self, first: int, size: int) -> list[Statement]:
        """Statements `first` to `first + size`, in full: build_cycle's own, for those parties' clients alone (the
        members the outline found, so already narrowed to its conditions)."""
        ids = [client_id for party in self.sent[first:first + size] for client_id in party.members]
        if not ids:
            return []
        return build_cycle(today=self.statement_on, minimum=self.minimum, where=[any_of(Client.id, ids)],
                           activity=False).statements

    def skipped(self, size: int) -> list[Skipped]:
        """The first `size` parties left out, with why (their names read for those parties alone)."""
        parties = self.left_out[:size]
        ids = [client_id for party in parties for client_id in party.members]
        if not ids:
            return []
        names = {row.id: row for row in db.session.execute(select(*_NAMES).where(any_of(Client.id, ids)))}
        return [_skipped(party, [names[client_id] for client_id in party.members], self.minimum) for party in parties]


def cycle_outline(*, today: date, where: Iterable[ColumnElement[bool]] = (),
                  minimum: Decimal | None = None) -> CycleOutline:
    """The cycle a run today would send (nothing written), sorted out from the kept balance rows alone. `where`
    narrows it with conditions on those rows (ClientBalance's copies of the client's location, say)."""
    minimum = statement_minimum() if minimum is None else to_money(minimum)
    where = list(where)
    sent, left_out = [], []
    for party in _parties(where):
        (sent if party.order and qualifies(party.amount, minimum) else left_out).append(party)
    sent.sort(key=attrgetter("order"))
    return CycleOutline(today, minimum, sent, left_out)


def _parties(where: list[ColumnElement[bool]]) -> list[_Party]:
    """The clients owing or owed something grouped as build_cycle groups them, in its order (by the first account
    number; sorted here, so by code point whatever the database's collation)."""
    rows = sorted(db.session.execute(select(*_COLUMNS).where(ClientBalance.patient != 0, *where)), key=itemgetter(2))
    grouped: dict[tuple[str | None, int | None], _Party] = {}
    for client_id, patient, account, flagged, party_key, name in rows:
        key = (party_key, None if party_key else client_id)
        party = grouped.get(key) or grouped.setdefault(key, _Party())
        party.members.append(client_id)
        party.owed += patient  # two-place Decimals: the sums are exact
        if not flagged:
            party.amount += patient
            party.order = party.order or (name, account)
    return list(grouped.values())


def _skipped(party: _Party, names: list[Any], minimum: Decimal) -> Skipped:
    reason = below_minimum(minimum) if party.order else NO_STATEMENTS
    return Skipped(mailing_address(names[0]).name, [f"{row.last_name}, {row.first_name}" for row in names],
                   party.owed, reason)
