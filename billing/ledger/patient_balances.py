"""What each client (the patient or responsible party) owes: the patient side of the ledger, per client and claim.

Statements build on these reads. The patient side of an entry follows `EFFECTS` (ledger/models.py): what was moved
to the patient (a self-pay claim's whole charge, a payer's PR share, a balance a biller billed to the patient)
less what the patient paid, was written off or passed to a secondary payer. Sums only, never stored; a client
whose balance is below zero has a credit (billing/payments/credits.py works those).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Date, Subquery, case, func, select

from billing.claims.models import Claim, claim_number
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.core.money import ZERO, to_money
from billing.ledger.models import ClaimBalance, ClientBalance, EntryKind, LedgerEntry
from billing.ledger.sums import PATIENT, cents_sum, effect_on
from billing.people.models import Client

#: Money the patient paid: their payments, and their credit brought from another claim.
PAID = (EntryKind.PATIENT_PAYMENT, EntryKind.PATIENT_CREDIT_IN)


def _only(kinds: Iterable[EntryKind]) -> ColumnElement[Decimal]:
    return case((LedgerEntry.kind.in_(list(kinds)), LedgerEntry.amount), else_=0)


@dataclass(frozen=True)
class PatientAccount:
    """One client's patient side: billed to them, paid by them, and what they owe (below zero: a credit)."""

    client_id: int
    client: str
    account: str
    billed: Decimal  # moved to the patient: self-pay charges, PR shares, balances billed to the patient
    paid: Decimal
    balance: Decimal

    @property
    def adjusted(self) -> Decimal:
        """Everything else on the patient side: write-offs, transfers to a secondary payer, refunds, credits out."""
        return to_money(self.billed - self.paid - self.balance)

    def as_dict(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "client": self.client, "account": self.account,
                "billed": str(self.billed), "paid": str(self.paid), "adjusted": str(self.adjusted),
                "balance": str(self.balance)}


def patient_accounts(where: Iterable[ColumnElement[bool]] = (), *, open_only: bool = True) -> list[PatientAccount]:
    """Per client, the patient side of the ledger, in one grouped query; `where` holds conditions on Claim (scope,
    client). Clients with nothing on the patient side are left out, and with `open_only` those owing nothing."""
    balance = cents_sum(effect_on(PATIENT))
    query = (
        select(Claim.client_id, Client.last_name, Client.first_name, Client.account_number,
               cents_sum(_only([EntryKind.PATIENT_RESPONSIBILITY])), cents_sum(_only(PAID)), balance)
        .join(Claim, Claim.id == LedgerEntry.claim_id)
        .join(Client, Client.id == Claim.client_id)
        .where(*where)
        .group_by(Claim.client_id, Client.last_name, Client.first_name, Client.account_number)
        .having(balance != 0 if open_only else cents_sum(func.abs(effect_on(PATIENT))) != 0)
        .order_by(Client.last_name, Client.first_name, Claim.client_id)
    )
    return [PatientAccount(cid, f"{last}, {first}", account, to_money(billed), to_money(paid), to_money(owed))
            for cid, last, first, account, billed, paid, owed in db.session.execute(query)]


def open_patient_balances(where: Iterable[ColumnElement[bool]] = ()) -> dict[int, Decimal]:
    """Per client, what they owe on the patient side now, for the clients whose balance is not zero: the same
    figures as `patient_accounts`, read from the kept `client_balance` (billing/ledger/client_balances.py) through
    its partial index on open balances, so a statement cycle costs the clients owing something, not their claims
    or the ledger. `where` holds conditions on Client (a scope, a list of clients)."""
    query = (select(ClientBalance.client_id, ClientBalance.patient)
             .join(Client, Client.id == ClientBalance.client_id).where(ClientBalance.patient != 0, *where))
    return {client_id: to_money(owed) for client_id, owed in db.session.execute(query)}


def patient_balance(client_id: int) -> Decimal:
    """What this client owes on the patient side, all claims together (below zero: a credit)."""
    total = db.session.scalar(
        select(cents_sum(effect_on(PATIENT))).join(Claim, Claim.id == LedgerEntry.claim_id)
        .where(Claim.client_id == client_id))
    return to_money(total or ZERO)


@dataclass(frozen=True)
class PatientItem:
    """One claim on a client's patient side: the line a statement prints."""

    claim_id: int
    service_date: date
    status: ClaimStatus
    self_pay: bool
    billed: Decimal
    paid: Decimal
    balance: Decimal

    @property
    def number(self) -> str:
        return claim_number(self.claim_id)

    def as_dict(self) -> dict[str, Any]:
        return {"claim": self.number, "service_date": self.service_date.isoformat(), "status": self.status.value,
                "self_pay": self.self_pay, "billed": str(self.billed), "paid": str(self.paid),
                "balance": str(self.balance)}


def patient_items(client_id: int) -> list[PatientItem]:
    """The client's claims with anything on the patient side, oldest service first."""
    query = (
        select(Claim.id, Claim.service_date, Claim.status, Claim.self_pay,
               cents_sum(_only([EntryKind.PATIENT_RESPONSIBILITY])), cents_sum(_only(PAID)),
               cents_sum(effect_on(PATIENT)))
        .join(LedgerEntry, LedgerEntry.claim_id == Claim.id)
        .where(Claim.client_id == client_id)
        .group_by(Claim.id, Claim.service_date, Claim.status, Claim.self_pay)
        .having(cents_sum(func.abs(effect_on(PATIENT))) != 0)
        .order_by(Claim.service_date, Claim.id)
    )
    return [PatientItem(cid, day, status, self_pay, to_money(billed), to_money(paid), to_money(owed))
            for cid, day, status, self_pay, billed, paid, owed in db.session.execute(query)]


def open_patient_claims(client_ids: Iterable[int]) -> Subquery:
    """For many clients, each claim whose patient side is not zero, as a subquery of (client_id, patient,
    billed_on) for statements to age. `billed_on` is the first patient-responsibility posting (the service date if
    the claim has none, e.g. only a credit moved in).

    Each of the clients' claims reads its kept balance (`claim_balance`) and, when not zero, its first
    patient-responsibility entry, by index probes of the claim's own rows: a join let PostgreSQL scan every open
    claim balance to keep the few hundred of a page of statements."""
    balance = select(ClaimBalance.patient).where(ClaimBalance.claim_id == Claim.id).scalar_subquery()
    claims = (select(Claim.client_id, Claim.id.label("claim_id"), Claim.service_date, balance.label("patient"))
              .where(any_of(Claim.client_id, list(client_ids))).subquery())
    first_billed = (select(func.min(LedgerEntry.posted_on))
                    .where(LedgerEntry.claim_id == claims.c.claim_id,
                           LedgerEntry.kind == EntryKind.PATIENT_RESPONSIBILITY).scalar_subquery())
    # OFFSET 0 keeps PostgreSQL from merging this into the query reading it: merged, each use of billed_on there
    # (the aging reads it five times) ran the entry lookup again (a page of statements: 100 ms instead of 4).
    return (select(claims.c.client_id, claims.c.patient,
                   func.coalesce(first_billed, claims.c.service_date, type_=Date).label("billed_on"))
            .where(claims.c.patient != 0).offset(0).subquery())
