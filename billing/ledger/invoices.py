"""A one-off invoice to the patient or responsible party: what they owe for one client, or for one session.

An invoice is a read of the ledger's patient side at the moment it is printed, not a record of its own: it is
numbered from the client (or session) and the day, and printing it again the same day gives the same invoice.
Statement cycles, with their history and dunning, are another piece of work (issue 17 item 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from billing.claims.models import Claim, ClaimLine
from billing.core.addresses import town_line
from billing.core.db import db
from billing.core.errors import NotFound, NothingToDo
from billing.core.id_lists import any_of
from billing.core.money import ZERO, sum_money
from billing.ledger.patient_balances import PatientItem, patient_items
from billing.org.models import Company
from billing.people.models import Client
from billing.sessions.models import TherapySession

#: Days from the invoice date to its due date.
DUE_IN_DAYS = 30


@dataclass(frozen=True)
class Party:
    """Who a document is from or to: a name and address lines."""

    name: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class InvoiceItem:
    claim: str
    service_date: date
    services: str  # the codes billed, e.g. "97153 x4"
    billed: Decimal  # moved to the patient on this claim
    paid: Decimal
    balance: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, "service_date": self.service_date.isoformat(), "services": self.services,
                "billed": str(self.billed), "paid": str(self.paid), "balance": str(self.balance)}


@dataclass(frozen=True)
class Invoice:
    number: str
    issued_on: date
    due_on: date
    practice: Party
    bill_to: Party
    client: str
    account: str
    items: list[InvoiceItem]

    @property
    def amount_due(self) -> Decimal:
        return sum_money(i.balance for i in self.items)

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "issued_on": self.issued_on.isoformat(), "due_on": self.due_on.isoformat(),
                "client": self.client, "account": self.account, "bill_to": self.bill_to.name,
                "amount_due": str(self.amount_due), "items": [i.as_dict() for i in self.items]}


def _phone(digits: str | None) -> str:
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if digits and len(digits) == 10 else digits or ""


def practice_party(company: Company) -> Party:
    """The practice as the patient pays it: legal name, pay-to address (the 837's 2010AB), phone."""
    street = [p for p in (company.pay_to_address_line1, company.pay_to_address_line2) if p]
    town = town_line(company.pay_to_city, company.pay_to_state, company.pay_to_zip_code)
    phone = f"Phone {_phone(company.phone)}" if company.phone else ""
    return Party(company.legal_name, tuple(p for p in (*street, town, phone) if p))


def bill_to(client: Client) -> Party:
    """The responsible party (a minor's parent) when the client has one, else the client, at the client's address."""
    name = client.responsible_party_name or client.full_name
    lines = [] if not client.responsible_party_name else [f"For {client.full_name}"]
    return Party(name, tuple(p for p in (*lines, client.address_text) if p))


def client_invoice(client_id: int, *, today: date) -> Invoice:
    """An invoice for everything the client's patient side owes now, claim by claim, oldest service first."""
    client = _client(client_id)
    return _invoice(client, f"INV-{client.account_number}-{today:%Y%m%d}", patient_items(client_id), today=today)


def session_invoice(session_id: int, *, today: date) -> Invoice:
    """An invoice for what the patient owes on the claims of one session."""
    visit = db.session.get(TherapySession, session_id)
    if visit is None:
        raise NotFound(f"No session {session_id}.")
    claim_ids = set(db.session.scalars(select(ClaimLine.claim_id).where(ClaimLine.session_id == session_id)))
    items = [i for i in patient_items(visit.client_id) if i.claim_id in claim_ids]
    return _invoice(_client(visit.client_id), f"INV-S{session_id}-{today:%Y%m%d}", items, today=today)


def _client(client_id: int) -> Client:
    client = db.session.get(Client, client_id)
    if client is None:
        raise NotFound(f"No client {client_id}.")
    return client


def _invoice(client: Client, number: str, owed: list[PatientItem], *, today: date) -> Invoice:
    open_items = [i for i in owed if i.balance > ZERO]
    if not open_items:
        raise NothingToDo(f"{client.full_name} owes nothing on the patient side here: there is nothing to invoice.")
    services = _services([i.claim_id for i in open_items])
    items = [InvoiceItem(i.number, i.service_date, services.get(i.claim_id, ""), i.billed, i.paid, i.balance)
             for i in open_items]
    return Invoice(number, today, today + timedelta(days=DUE_IN_DAYS), practice_party(client.location.practice.company),
                   bill_to(client), client.full_name, client.account_number, items)


def _services(claim_ids: list[int]) -> dict[int, str]:
    claims = db.session.scalars(select(Claim).where(any_of(Claim.id, claim_ids)))
    return {c.id: ", ".join(f"{ln.service_code.code} x{ln.units}" for ln in c.lines) for c in claims}
