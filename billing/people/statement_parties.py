"""Who shares a patient statement, worked out once when a client is saved and kept on the client.

Clients have no separate responsible-party record, so clients whose responsible party has the same name at the
same address (any case and spacing) are one party: siblings with one parent get one statement. A client with no
responsible party is a party alone. The Statements page groups, counts, totals, sorts and pages a billing
company's cycle in SQL by these two columns (billing/ledger/statement_pages.py), and the cycle run groups by the
same stored key (billing/ledger/statements.py), so the page and the run can never disagree about a party.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from billing.core.addresses import envelope_lines

#: Joins the key's parts; no part holds one, since every part has its whitespace collapsed to single spaces.
_SEPARATOR = "\n"

#: The client columns the two stored values are worked out from.
PARTY_COLUMNS = ("responsible_party_name", "first_name", "last_name", "address_line1", "address_line2", "city",
                 "state", "zip_code")

_ADDRESS = ("address_line1", "address_line2", "city", "state", "zip_code")


def addressee(responsible_party_name: str | None, first_name: str, last_name: str) -> str:
    """Whom a client's statement is addressed to: the responsible party (a minor's parent) or the client."""
    return " ".join((responsible_party_name or f"{first_name} {last_name}").split())


def party_key(values: Mapping[str, Any]) -> str | None:
    """The responsible party's name and address, normalized; None for a client with no responsible party (a
    party alone, grouped by client id)."""
    if not values.get("responsible_party_name"):
        return None
    # Each column's spacing is collapsed before the lines are put together ("Springfield ," is "Springfield,").
    lines = envelope_lines(*(_collapsed(values.get(name)) for name in _ADDRESS))
    return _SEPARATOR.join((statement_name(values), *(line.lower() for line in lines)))


def _collapsed(text: str | None) -> str:
    return " ".join((text or "").split())


def statement_name(values: Mapping[str, Any]) -> str:
    """The addressee in lower case: the party's place in the cycle's alphabetical order."""
    return addressee(values.get("responsible_party_name"), values.get("first_name") or "",
                     values.get("last_name") or "").lower()
