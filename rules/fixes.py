"""Which record a failing rule points at: the variables its conditions test say what to open and fix."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Fix(StrEnum):
    CLIENT = "client"
    POLICY = "policy"
    AUTHORIZATION = "authorization"
    PROVIDER = "provider"
    SESSION = "session"
    PAYER = "payer"
    CLAIM = "claim"  # the claim's own lines (codes, units, modifiers, pointers, place of service)

    @property
    def label(self) -> str:
        return {
            "client": "Edit the client",
            "policy": "Edit the policy",
            "authorization": "Edit the authorization",
            "provider": "Edit the provider",
            "session": "Edit the session",
            "payer": "Edit the payer",
            "claim": "Edit the claim's lines",
        }[self.value]


#: Variable name prefixes (rules/variables.py) to the record that holds the value; the first match wins.
_BY_PREFIX: tuple[tuple[str, Fix], ...] = (
    ("authorization", Fix.AUTHORIZATION),
    ("days_until_authorization", Fix.AUTHORIZATION),
    ("payer_requires_authorization", Fix.AUTHORIZATION),
    ("client", Fix.CLIENT),
    ("diagnosis", Fix.CLIENT),
    ("policy", Fix.POLICY),
    ("subscriber", Fix.POLICY),
    ("claim_filing_indicator", Fix.POLICY),
    ("rendering", Fix.PROVIDER),
    ("provider", Fix.PROVIDER),
    ("note", Fix.SESSION),
    ("duplicate", Fix.SESSION),
    ("payer", Fix.PAYER),
)


def variables_of(conditions: Any) -> list[str]:
    """The variable names a business-rules condition tree tests, in order."""
    if isinstance(conditions, dict):
        if "name" in conditions and "operator" in conditions:
            return [str(conditions["name"])]
        return [n for key in ("all", "any", "not") for n in variables_of(conditions.get(key))]
    if isinstance(conditions, list):
        return [n for c in conditions for n in variables_of(c)]
    return []


def fix_for(conditions: Any) -> Fix:
    """The record to open for a rule: its first variable that names one; the claim's lines otherwise."""
    for name in variables_of(conditions):
        for prefix, fix in _BY_PREFIX:
            if name.startswith(prefix):
                return fix
    return Fix.CLAIM
