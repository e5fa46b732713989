"""Apply one operation to many claims, each in its own transaction, reporting every outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select

from billing.claims.models import Claim
from billing.core.db import db
from billing.core.errors import BillingError
from billing.core.operation_keys import claim_key
from billing.core.unit_of_work import unit_of_work


@dataclass(frozen=True)
class Outcome:
    claim_number: str
    ok: bool
    message: str


def apply_to_claims(claim_ids: Iterable[int], operation: Callable[[Claim], None], done: str, *,
                    once: tuple[str, str, str] | None = None) -> list[Outcome]:
    """One refusal does not stop the others; each claim commits (or rolls back) on its own.

    `once` = (form key, operation name, actor): each claim's change claims its own key derived from the
    form's, in its own transaction, so a repeated submit of the form does nothing to a claim already done
    (and still does the claims the first submit refused, once their problem is fixed).
    """
    outcomes = []
    for claim_id in claim_ids:
        claim = db.session.scalar(select(Claim).where(Claim.id == claim_id).with_for_update())
        if claim is None:
            outcomes.append(Outcome(f"#{claim_id}", False, "no such claim"))
            continue
        number = claim.number
        try:
            with unit_of_work():
                if once is not None and not _first_time(once, claim_id):
                    outcomes.append(Outcome(number, False, "already done by this form; nothing was done again"))
                    continue
                operation(claim)
        except BillingError as exc:
            outcomes.append(Outcome(number, False, exc.message))
        else:
            outcomes.append(Outcome(number, True, f"{done}; now {claim.status.label}"))
    return outcomes


def _first_time(once: tuple[str, str, str], claim_id: int) -> bool:
    key, name, actor = once
    return claim_key(f"{key}-{claim_id}", operation=name, subject=f"claim:{claim_id}", actor=actor) is not None
