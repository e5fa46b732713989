"""The claims queue's figures, set-based: one query for a page of claims, one for the whole filtered list.

Balance and paid are sums of ledger entries (never stored); a claim with no entries yet owes its charge.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    or_,
    select,
    true,
    union,
)

from billing.claims.models import Claim, ClaimLine
from billing.claims.statuses import ClaimStatus
from billing.core.audit import StatusChange
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.core.money import ZERO, to_money
from billing.core.time import practice_date
from billing.coverage.models import InsurancePolicy, ServiceCode
from billing.ledger.models import EFFECTS, Adjudication, EntryKind, LedgerEntry
from billing.payments.denials import in_denied_work
from billing.people.models import Client

#: Kinds that raise the balance and kinds that lower it (a patient-responsibility move leaves it as it is).
_RAISE = [k for k, (ins, pat) in EFFECTS.items() if ins + pat > 0]
_LOWER = [k for k, (ins, pat) in EFFECTS.items() if ins + pat < 0]
#: Money received on the claim, from the payer and from the patient.
PAID = (EntryKind.INSURANCE_PAYMENT, EntryKind.PATIENT_PAYMENT)


@dataclass(frozen=True)
class QueueRow:
    """What the queue shows of one claim beside the claim's own columns."""

    codes: str
    units: int
    paid: Decimal
    balance: Decimal
    status_since: datetime | None

    def days_in_status(self, today: date) -> int | None:
        return None if self.status_since is None else max((today - practice_date(self.status_since)).days, 0)


@dataclass(frozen=True)
class QueueTotals:
    claims: int
    billed: Decimal
    paid: Decimal | None  # None: not added up (a list past LARGE_LIST, until asked)
    balance: Decimal | None


def _ledger_sums(claim_ids: Any) -> Any:
    amount = LedgerEntry.amount
    balance = case((LedgerEntry.kind.in_(_RAISE), amount), (LedgerEntry.kind.in_(_LOWER), -amount), else_=0)
    paid = case((LedgerEntry.kind.in_(PAID), amount), else_=0)
    return (
        select(LedgerEntry.claim_id, func.sum(balance).label("balance"), func.sum(paid).label("paid"))
        .where(LedgerEntry.claim_id.in_(claim_ids))
        .group_by(LedgerEntry.claim_id)
        .subquery()
    )


def _status_since(claim_ids: Any) -> Any:
    """When each claim last changed status (a batching or an edit keeps its status: not counted)."""
    return (
        select(StatusChange.subject_id.label("claim_id"), func.max(StatusChange.at).label("since"))
        .where(
            StatusChange.subject_type == "claim",
            StatusChange.subject_id.in_(claim_ids),
            StatusChange.to_status.is_not(None),
            StatusChange.from_status.is_distinct_from(StatusChange.to_status),
        )
        .group_by(StatusChange.subject_id)
        .subquery()
    )


def page_rows(claim_ids: Iterable[int]) -> dict[int, QueueRow]:
    """Codes, units, paid, balance and status date of a page of claims: two queries, whatever the page size."""
    ids = list(claim_ids)
    if not ids:
        return {}
    ledger, since = _ledger_sums(ids), _status_since(ids)
    money = db.session.execute(
        select(Claim.id, Claim.total_charge, ledger.c.balance, ledger.c.paid, since.c.since)
        .outerjoin(ledger, ledger.c.claim_id == Claim.id)
        .outerjoin(since, since.c.claim_id == Claim.id)
        .where(Claim.id.in_(ids))
    ).all()
    codes: dict[int, list[str]] = defaultdict(list)
    units: dict[int, int] = defaultdict(int)
    lines = db.session.execute(
        select(ClaimLine.claim_id, ServiceCode.code, ClaimLine.units)
        .join(ServiceCode, ServiceCode.id == ClaimLine.service_code_id)
        .where(ClaimLine.claim_id.in_(ids))
        .order_by(ClaimLine.claim_id, ClaimLine.line_number)
    )
    for claim_id, code, n in lines:
        if code not in codes[claim_id]:
            codes[claim_id].append(code)
        units[claim_id] += n or 0
    return {
        cid: QueueRow(
            ", ".join(codes[cid]),
            units[cid],
            to_money(paid or ZERO),
            to_money(charge if balance is None else balance),
            at,
        )
        for cid, charge, balance, paid, at in money
    }


#: A list of at most this many claims reads its ledger entries through each claim's index; a longer one (a whole
#: tab) reads the ledger once, each entry checking its claim, which costs no more than the count.
FEW_CLAIMS = 5_000


#: Past this many claims a page shows the count and billed only; paid and balance are added up when asked
#: (`money=True`): they read the ledger behind every claim of the list, a third of a second at a million claims.
LARGE_LIST = 50_000


def list_totals(where: ColumnElement[bool], *, money: bool = True) -> QueueTotals:
    """Billed, paid and balance of every claim the filtered list holds (all its pages), in two statements.
    Without `money`, a list longer than LARGE_LIST gets its count and billed only (one index read).

    `where` is the list's condition on the claim table. The claims are counted first (count and billed); the
    ledger is then read from the side that is smaller: a short list (a search, a client) looks its claims' entries
    up by index, a whole tab reads the ledger once with each entry checking its claim by primary key, so a tab of
    85,000 Ready claims with no entries costs no more than its count. Balance = billed - billed of the claims that
    have entries + the signed sum of those entries (a claim with no entries owes its charge).
    """
    n, billed = db.session.execute(select(func.count(), func.sum(Claim.total_charge)).where(where)).one()
    if not money and n > LARGE_LIST:
        return QueueTotals(n, to_money(billed or ZERO), None, None)
    amount = LedgerEntry.amount
    signed = case((LedgerEntry.kind.in_(_RAISE), amount), (LedgerEntry.kind.in_(_LOWER), -amount), else_=0)
    paid = case((LedgerEntry.kind.in_(PAID), amount), else_=0)
    if n <= FEW_CLAIMS:
        listed = LedgerEntry.claim_id.in_(select(Claim.id).where(where))
    else:
        listed = exists().where(Claim.id == LedgerEntry.claim_id, where)
    with_entries = select(LedgerEntry.claim_id).distinct().subquery()
    ledger = select(func.sum(signed).label("signed"), func.sum(paid).label("paid")).where(listed).subquery()
    charged = (
        select(func.sum(Claim.total_charge).label("with_entries"))
        .select_from(with_entries)
        .join(Claim, Claim.id == with_entries.c.claim_id)
        .where(where)
        .subquery()
    )
    row = db.session.execute(
        select(ledger.c.signed, ledger.c.paid, charged.c.with_entries).select_from(ledger.join(charged, true()))
    ).one()
    billed = to_money(billed or ZERO)
    balance = billed - to_money(row.with_entries or ZERO) + to_money(row.signed or ZERO)
    return QueueTotals(n or 0, billed, to_money(row.paid or ZERO), to_money(balance))


#: A search word finding at most this many claims is resolved to its ids once per request; beyond it (a word as
#: common as "a"), the list keeps the id set as a subquery.
RESOLVE_LIMIT = 50_000


def queue_search(text: str) -> ColumnElement[bool] | None:
    """Claims matching every word of `text`: a claim number or part of it ("935" finds C-000935), the client's
    name or account, the member ID, or the payer's claim number (ICN) on the claim or on an 835 answer.

    Each word's claims are found once, here, and the list, its count and its totals then look those claims up by
    id: a tab of 85,000 claims is not tested five ways per claim three times per page."""
    words = [w for w in text.split() if w]
    if not words:
        return None
    conditions: list[ColumnElement[bool]] = []
    ids: set[int] | None = None
    for word in words:
        found = _word(word)
        listed = db.session.scalars(found.limit(RESOLVE_LIMIT + 1)).all()
        if len(listed) > RESOLVE_LIMIT:
            conditions.append(Claim.id.in_(found))
        else:
            ids = set(listed) if ids is None else ids & set(listed)
    if ids is not None:
        conditions.append(any_of(Claim.id, sorted(ids)))
    return and_(*conditions)


def _word(word: str) -> CompoundSelect:
    """The ids of the claims one search word finds: each source read once, through its own index where it has one
    (a client's or policy's claims, an ICN on the claim or on an 835 answer)."""
    like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    found: list[Select[tuple[int]]] = []
    digits = word.upper().removeprefix("C-").removeprefix("C")
    if digits.isascii() and digits.isdigit():
        significant = digits.lstrip("0")
        if significant and len(significant) <= 12:
            part = "%" + significant + "%"
            whole = len(digits) == len(significant)
            found.append(select(Claim.id).where(
                cast(Claim.id, String).like(part) if whole else Claim.id == int(significant)))
    clients = select(Client.id).where(or_(
        Client.last_name.ilike(like, escape="\\"), Client.first_name.ilike(like, escape="\\"),
        Client.account_number.ilike(like, escape="\\")))  # fmt: skip
    members = select(InsurancePolicy.id).where(InsurancePolicy.member_id.ilike(like, escape="\\"))
    icn = Claim.payer_claim_number
    found += [
        select(Claim.id).where(Claim.client_id.in_(clients)),
        select(Claim.id).where(Claim.policy_id.in_(members)),
        select(Claim.id).where(icn.is_not(None), icn.ilike(like, escape="\\")),
        select(Adjudication.claim_id).where(Adjudication.payer_claim_number.ilike(like, escape="\\")),
    ]
    return union(*found)


def queue_select(status: ClaimStatus | None, search: str = "") -> Select[tuple[Claim]]:
    """The claims of one tab (None: all), narrowed by `search` as the list's search box does, newest first.

    As in the list, the payer worklists leave self-pay claims out (they bill the patient) except Held, and
    Denied also holds the claims carrying denied lines still to be worked."""
    query = select(Claim).order_by(Claim.id.desc())
    if status is ClaimStatus.DENIED:
        query = query.where(in_denied_work())
    elif status is not None:
        query = query.where(Claim.status == status)
        if status is not ClaimStatus.HELD:
            query = query.where(Claim.self_pay.is_(False))
    condition = queue_search(search)
    return query if condition is None else query.where(condition)


def queue_document(status: ClaimStatus | None, search: str, limit: int, today: date) -> dict[str, Any]:
    """The queue as a script reads it (`flask claims queue --json`): the totals of the whole list, and its rows."""
    query = queue_select(status, search)
    totals = list_totals(query.whereclause if query.whereclause is not None else true())
    claims = list(db.session.scalars(query.limit(limit)))
    figures = page_rows(c.id for c in claims)
    return {
        "totals": {
            "claims": totals.claims,
            "billed": str(totals.billed),
            "paid": str(totals.paid),
            "balance": str(totals.balance),
        },
        "claims": [
            {
                "number": c.number,
                "status": c.status.value,
                "service_date": c.service_date.isoformat(),
                "client": c.client.full_name,
                "payer": c.payer.name if c.payer else None,
                "cpt": figures[c.id].codes,
                "units": figures[c.id].units,
                "billed": str(c.total_charge),
                "paid": str(figures[c.id].paid),
                "balance": str(figures[c.id].balance),
                "days_in_status": figures[c.id].days_in_status(today),
            }
            for c in claims
        ],
    }
