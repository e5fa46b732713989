"""Today's statement cycle one page at a time, for the Statements page.

Who gets a statement, and for how much, depends only on each client's patient balance, their no-statements flag
and their party (kept on the client: billing/people/statement_parties.py); the rest of a statement (its claims'
aging, the last payment, dunning) is read per party. So SQL groups the clients owing something into parties and
counts, totals, sorts and pages them (`cycle_outline`), and only the statements on the page asked for are built in
full by `build_cycle`, narrowed to their parties (`CycleOutline.statements`). A billing company's cycle of
thousands of parties was grouped in Python on every load of the page (60 ms for 3,213 parties). The page's
statements are exactly `build_cycle`'s, in the same order (tests/billing/ledger/test_statement_pages.py compares
the two).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, Subquery, and_, case, func, not_, or_, select

from billing.core.byte_order import in_byte_order
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.core.money import ZERO, to_money
from billing.ledger.models import ClientBalance
from billing.ledger.statements import (
    NO_STATEMENTS,
    Skipped,
    Statement,
    below_minimum,
    build_cycle,
    mailing_address,
    statement_minimum,
)
from billing.ledger.sums import cents_sum
from billing.people.models import Client

#: A party: the key kept on its clients, or (no responsible party) the one client's id.
_ALONE = case((Client.statement_party.is_(None), Client.id))


@dataclass(frozen=True)
class CycleOutline:
    """Today's cycle without its statements' details: how many are sent and for how much; a page of them, and the
    parties left out, are read when asked for."""

    statement_on: date
    minimum: Decimal
    where: list[ColumnElement[bool]]
    count: int
    total_due: Decimal

    @property
    def floor(self) -> Decimal:
        """The least a party must owe to be sent a statement (never nothing or a credit: see `qualifies`)."""
        return max(self.minimum, Decimal("0.01"))

    def statements(self, first: int, size: int) -> list[Statement]:
        """Statements `first` to `first + size`, in full: build_cycle's own, for those parties' clients alone."""
        parties = _parties(self.where)
        page = db.session.execute(
            select(parties.c.party, parties.c.alone).where(parties.c.amount >= self.floor)
            .order_by(in_byte_order(parties.c.name), in_byte_order(parties.c.first_account))
            .offset(first).limit(size)).all()
        if not page:
            return []
        return build_cycle(today=self.statement_on, minimum=self.minimum, where=[*self.where, _members(page)],
                           activity=False).statements

    def skipped(self, size: int) -> list[Skipped]:
        """The first `size` parties left out, with why, in build_cycle's order (by their first account number)."""
        parties = _parties(self.where)
        left_out = db.session.execute(
            select(parties.c.party, parties.c.alone, parties.c.owed, parties.c.sending)
            .where(parties.c.amount < self.floor).order_by(in_byte_order(parties.c.any_account)).limit(size)).all()
        if not left_out:
            return []
        members: dict[tuple[str | None, int | None], list[Any]] = defaultdict(list)
        rows = db.session.execute(_open(self.where, Client.first_name, Client.last_name, Client.statement_party,
                                        _ALONE.label("alone"), *_ADDRESSEE).where(_members(left_out))
                                  .order_by(in_byte_order(Client.account_number)))
        for row in rows:
            members[(row.statement_party, row.alone)].append(row)
        return [_skipped(members[(p.party, p.alone)], to_money(p.owed),
                         below_minimum(self.minimum) if p.sending else NO_STATEMENTS) for p in left_out]


def cycle_outline(*, today: date, where: Iterable[ColumnElement[bool]] = (),
                  minimum: Decimal | None = None) -> CycleOutline:
    """The cycle a run today would send (nothing written): its count and total due, worked out in SQL."""
    minimum = statement_minimum() if minimum is None else to_money(minimum)
    where = list(where)
    parties = _parties(where)
    floor = max(minimum, Decimal("0.01"))
    count, total = db.session.execute(select(func.count(), cents_sum(parties.c.amount))
                                      .where(parties.c.amount >= floor)).one()
    return CycleOutline(today, minimum, where, count, to_money(total or ZERO))


#: The columns mailing_address reads for a skipped party's name (a row of them stands in for the Client).
_ADDRESSEE = (Client.id, Client.responsible_party_name, Client.address_line1, Client.address_line2, Client.city,
              Client.state, Client.zip_code)


def _open(where: list[ColumnElement[bool]], *columns: Any) -> Select[Any]:
    """The clients owing or owed something (their kept balance is not zero) within `where`."""
    return (select(*columns).select_from(ClientBalance).join(Client, Client.id == ClientBalance.client_id)
            .where(ClientBalance.patient != 0, *where))


def _parties(where: list[ColumnElement[bool]]) -> Subquery:
    """One row per party owing or owed something: what its sending members owe (the statement's amount), what all
    its members owe, whether any member is sent statements, its name and its first account numbers."""
    sending = not_(Client.no_statements)
    return (_open(where, Client.statement_party.label("party"), _ALONE.label("alone"),
                  cents_sum(case((sending, ClientBalance.patient), else_=0)).label("amount"),
                  cents_sum(ClientBalance.patient).label("owed"),
                  func.count(case((sending, 1))).label("sending"),
                  func.min(in_byte_order(Client.statement_name)).label("name"),
                  func.min(in_byte_order(case((sending, Client.account_number)))).label("first_account"),
                  func.min(in_byte_order(Client.account_number)).label("any_account"))
            .group_by(Client.statement_party, _ALONE).subquery("parties"))


def _members(parties: Sequence[Row[Any]]) -> ColumnElement[bool]:
    """The clients of these parties (rows of party key and lone client id)."""
    keys = [p.party for p in parties if p.party is not None]
    alone = [p.alone for p in parties if p.party is None]
    return or_(and_(Client.statement_party.is_not(None), any_of(Client.statement_party, keys)),
               and_(Client.statement_party.is_(None), any_of(Client.id, alone)))


def _skipped(members: list[Any], owed: Decimal, reason: str) -> Skipped:
    return Skipped(mailing_address(members[0]).name, [f"{row.last_name}, {row.first_name}" for row in members],
                   owed, reason)

