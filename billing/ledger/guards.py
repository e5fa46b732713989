"""The ledger and the adjudications it follows only grow: the ORM refuses edits and deletes (triggers back it up)."""

from __future__ import annotations

from billing.core.append_only import append_only
from billing.core.errors import NotAllowed
from billing.ledger.models import Adjudication, AdjudicationAdjustment, AdjudicationLine, LedgerEntry

IMMUTABLE = (LedgerEntry, Adjudication, AdjudicationLine, AdjudicationAdjustment)


class LedgerIsAppendOnly(NotAllowed):
    def __init__(self) -> None:
        super().__init__("Ledger entries are corrected by a reversing entry, never edited or deleted.")


append_only(*IMMUTABLE, refusal=LedgerIsAppendOnly, include_collections=False)

