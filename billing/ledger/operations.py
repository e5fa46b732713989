"""Writes to the ledger itself: a claim's charges, and the linked entry that reverses one.

Every row is built by `billing.ledger.rows`; operations flush, never commit (callers own the transaction).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.claims.models import Claim
from billing.core.audit import Actor
from billing.core.db import db
from billing.core.errors import Conflict, NotAllowed
from billing.core.money import ZERO
from billing.coverage.models import PolicyRank
from billing.ledger.balances import lines_with_charges, reversed_entry_ids
from billing.ledger.models import EntryKind, EntrySource, LedgerEntry
from billing.ledger.rows import RowBuffer, entry_values


def post_charges(claim: Claim, *, actor: Actor, posted_on: date, charged: set[int] | None = None,
                 rows: RowBuffer | None = None) -> None:
    """The claim's line charges enter the ledger once (when it is sent, or paid if never sent through a batch).

    Running it again adds nothing. A secondary claim is skipped: its charge is the transferred balance.
    """
    if claim.payer_rank is not PolicyRank.PRIMARY:
        return  # a secondary claim's charge is the part transferred from the primary, posted when it is generated
    own = rows is None
    rows = RowBuffer() if rows is None else rows
    charged = lines_with_charges([claim.id]) if charged is None else charged
    for line in claim.lines:
        charge_row(rows, claim, line.id, line.charge, charged=charged, actor=actor, posted_on=posted_on)
    if own:
        rows.flush()


def charge_row(rows: RowBuffer, claim: Claim, line_id: int, charge: Decimal, *, charged: set[int], actor: Actor,
               posted_on: date) -> None:
    """Buffer one line's charge unless it is already in the ledger (`charged` is updated): charges post once."""
    if line_id in charged or charge == ZERO:
        return
    rows.entry(entry_values(claim_id=claim.id, line_id=line_id, kind=EntryKind.CHARGE, amount=charge, actor=actor,
                            posted_on=posted_on, source=EntrySource.SYSTEM, payer_id=claim.payer_id))
    charged.add(line_id)


def reverse_entry(entry: LedgerEntry, *, actor: Actor, reason: str, posted_on: date,
                  source: EntrySource = EntrySource.MANUAL, adjudication_id: int | None = None) -> LedgerEntry:
    """A full reversing entry linked to the original; the original counts as reversed from then on."""
    if entry.reverses_id is not None:
        raise NotAllowed("A reversal is not reversed; post a new entry instead.")
    if entry.id in reversed_entry_ids(entry.claim_id):
        raise Conflict(f"Entry {entry.id} was already reversed.")
    reversal = LedgerEntry(**entry_values(
        claim_id=entry.claim_id, line_id=entry.claim_line_id, kind=entry.kind, amount=-entry.amount, actor=actor,
        posted_on=posted_on, source=source, payer_id=entry.payer_id, group_code=entry.group_code,
        reason_code=entry.reason_code, adjudication_id=adjudication_id, reverses_id=entry.id, memo=reason or None,
    ))
    db.session.add(reversal)
    return reversal
