"""The names payers print on their 835s (N1*PR N102) and the ones billers taught us (PayerAlias).

A payer rarely prints the name we typed for it ("AETNA LIFE INSURANCE COMPANY" for our "Aetna"), so names
are compared normalised, and a biller can teach a printed name once: every later 835 with it is recognised.
One name means one payer: a taught name is unique, and never another payer's own name.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from billing.core.audit import Actor, AuditAction, record_change
from billing.core.checks import parse_id
from billing.core.db import db
from billing.core.errors import Conflict, Invalid, NotFound
from billing.coverage.models import Payer, PayerAlias

_NOT_A_NAME_CHARACTER = re.compile(r"[^A-Z0-9]+")


def normalise_payer_name(name: str | None) -> str:
    """Upper case, punctuation and runs of spaces made one space: "Aetna, Inc." and "AETNA  INC" are one name."""
    return _NOT_A_NAME_CHARACTER.sub(" ", (name or "").upper()).strip()


def taught_payer_id(name: str | None) -> int | None:
    """The payer a biller taught this printed name to mean, if any."""
    key = normalise_payer_name(name)
    if not key:
        return None
    return db.session.scalar(select(PayerAlias.payer_id).where(PayerAlias.name == key))


def payers_named(name: str | None) -> list[Payer]:
    """Our payers whose own name is this one, normalised (one per company at most)."""
    key = normalise_payer_name(name)
    if not key:
        return []
    return [p for p in db.session.scalars(select(Payer).order_by(Payer.id)) if normalise_payer_name(p.name) == key]


def is_known_payer_name(name: str | None) -> bool:
    """True when the name is one of our payers' own names or a taught one: nothing to teach."""
    return bool(payers_named(name)) or taught_payer_id(name) is not None


def payer_aliases() -> list[PayerAlias]:
    return list(db.session.scalars(select(PayerAlias).join(Payer).order_by(Payer.name, PayerAlias.name)))


def add_payer_alias(payer: Payer, name: str, *, actor: Actor, reason: str | None = None) -> PayerAlias:
    """Teach that `name` (as printed on 835s) is `payer`. Refused when the name means something already."""
    key = normalise_payer_name(name)
    if not key:
        raise Invalid("Enter the name the payer prints on its remittances (N1*PR).")
    if len(key) > 60:
        raise Invalid(f"{name!r} is longer than the 60 characters an 835 payer name can have.")
    existing = db.session.scalar(select(PayerAlias).where(PayerAlias.name == key))
    if existing is not None:
        same = existing.payer_id == payer.id
        raise Conflict(f"{key!r} is already known as {existing.payer.name}"
                       + ("." if same else "; remove that name first if it was taught wrongly."))
    owners = payers_named(key)
    if any(p.id != payer.id for p in owners):
        raise Conflict(f"{key!r} is the name of our payer {owners[0].name}; it cannot also mean {payer.name}.")
    if owners:
        raise Conflict(f"{key!r} is {payer.name}'s own name; it is recognised without teaching.")
    alias = PayerAlias(payer_id=payer.id, name=key, created_by=actor.name)
    db.session.add(alias)
    db.session.flush()
    record_change("payer", payer.id, AuditAction.PAYER_ALIAS_ADDED, actor=actor, after=key,
                  reason=(reason or "").strip()[:500] or None, data={"alias_id": alias.id, "name": key})
    return alias


def remove_payer_alias(alias: PayerAlias, *, actor: Actor, reason: str | None = None) -> None:
    """Forget a taught name; the history keeps who taught it, who removed it and why."""
    record_change("payer", alias.payer_id, AuditAction.PAYER_ALIAS_REMOVED, actor=actor, before=alias.name,
                  reason=(reason or "").strip()[:500] or None,
                  data={"alias_id": alias.id, "name": alias.name, "taught_by": alias.created_by,
                        "taught_at": alias.created_at.isoformat() if alias.created_at else None})
    db.session.delete(alias)
    db.session.flush()


def alias_named(name: str) -> PayerAlias:
    alias = db.session.scalar(select(PayerAlias).where(PayerAlias.name == normalise_payer_name(name)))
    if alias is None:
        raise NotFound(f"No payer is known by the name {normalise_payer_name(name)!r}.")
    return alias


def payer_called(text: str) -> Payer:
    """A payer named on the command line: its id, or its own name (normalised)."""
    text = (text or "").strip()
    if (payer_id := parse_id(text)) and (payer := db.session.get(Payer, payer_id)) is not None:
        return payer
    found = payers_named(text)
    if not found:
        raise NotFound(f"No payer is called {text!r}.")
    if len(found) > 1:
        raise Conflict(f"{len(found)} payers are called {text!r} (one per company); give the payer's id: "
                       + ", ".join(f"{p.id} ({p.company.name})" for p in found) + ".")
    return found[0]
