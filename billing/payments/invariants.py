"""The money's invariants, checked on a live database: what `flask ledger check` and its nightly job report.

Each check is one set-based query over the whole ledger and returns the rows that break it, so a check of a
billing company's database stays a handful of statements. A violation names its claim (or remittance) and
says what is wrong in words a biller can act on; nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Numeric, case, func, or_, select, text
from sqlalchemy.orm import aliased

from billing.claims.models import Claim, ClaimDayCount, ClaimDeadlineCount, ClaimLine, claim_number
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.core.money import ZERO, format_money, to_money
from billing.coverage.eligibility import NEEDS_ATTENTION, EligibilityCheck, EligibilityLatest, EligibilityStatus
from billing.coverage.models import PayerType
from billing.ledger.balances import Balances
from billing.ledger.client_balances import PARTY as BALANCE_PARTY
from billing.ledger.entry_references import missing_references_sql
from billing.ledger.models import (
    EFFECTS,
    Adjudication,
    ArDayTotal,
    CarcDayTotal,
    ClaimBalance,
    ClientBalance,
    EntryKind,
    LedgerEntry,
    LedgerMonthTotal,
)
from billing.ledger.month_totals import GROUPS
from billing.ledger.sums import INSURANCE, PATIENT, effect_on
from billing.payments.filing import deadline_inputs, filing_deadline
from billing.payments.models import (
    PlbDisposition,
    ProviderAdjustment,
    ProviderAdjustmentEntry,
    Remittance,
    UnmatchedClaim,
    UnmatchedStatus,
)
from billing.people.models import Client
from billing.people.statement_parties import PARTY_COLUMNS, party_key, statement_name

#: Rows fetched at a time by the checks that compare row by row in Python.
ROWS_AT_ONCE = 5000


@dataclass(frozen=True)
class Violation:
    """One broken invariant: which check, which claim or remittance, and what is wrong."""

    check: str
    subject: str  # "C-000123", "remittance 7"
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.check}: {self.subject}: {self.message}"


def check_ledger() -> list[Violation]:
    """Every invariant, in a fixed order; an empty list means the ledger is sound."""
    return [violation for check in CHECKS.values() for violation in check()]


def claim_totals_match_lines() -> list[Violation]:
    """A claim's total charge is the sum of its lines' charges (what the 837's CLM02 and the ledger both say)."""
    line_sums = (
        select(ClaimLine.claim_id, func.sum(ClaimLine.charge).label("lines"))
        .group_by(ClaimLine.claim_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Claim.id, Claim.total_charge, line_sums.c.lines)
        .join(line_sums, line_sums.c.claim_id == Claim.id)
        .where(_cents(Claim.total_charge) != _cents(line_sums.c.lines))
    )
    return [Violation("claim-total", claim_number(cid), f"total charge {format_money(total)} is not the sum of its "
                      f"lines, {format_money(to_money(lines))}") for cid, total, lines in rows]


def payments_match_adjudications() -> list[Violation]:
    """The insurance payment entries of each adjudication add up to what the payer said it paid (CLP04)."""
    posted = (
        select(LedgerEntry.adjudication_id, func.sum(LedgerEntry.amount).label("paid"))
        .where(LedgerEntry.kind == EntryKind.INSURANCE_PAYMENT, LedgerEntry.adjudication_id.is_not(None))
        .group_by(LedgerEntry.adjudication_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Adjudication.id, Adjudication.claim_id, Adjudication.paid, func.coalesce(posted.c.paid, 0))
        .outerjoin(posted, posted.c.adjudication_id == Adjudication.id)
        .where(_cents(Adjudication.paid) != _cents(func.coalesce(posted.c.paid, 0)))
    )
    return [Violation("payment-posted", claim_number(claim_id), f"the payer paid {format_money(paid)} "
                      f"(adjudication {adj_id}) but {format_money(to_money(entries))} was posted")
            for adj_id, claim_id, paid, entries in rows]


def remittances_balance() -> list[Violation]:
    """Per remittance: what was posted or kept for matching, less the PLB adjustments, is the check (BPR02).

    Every PLB counts here whatever became of it (income, applied to a claim, open, settled): posting one on a
    claim moves money between the claim and the remittance's provider-level items, never into the check.
    """
    posted = dict(db.session.execute(
        select(Adjudication.remittance_id, func.sum(Adjudication.paid))
        .where(Adjudication.remittance_id.is_not(None))
        .group_by(Adjudication.remittance_id)
    ).all())
    kept = dict(db.session.execute(
        select(UnmatchedClaim.remittance_id, func.sum(UnmatchedClaim.paid))
        .where(UnmatchedClaim.status != UnmatchedStatus.MATCHED)
        .group_by(UnmatchedClaim.remittance_id)
    ).all())
    plbs = dict(db.session.execute(
        select(ProviderAdjustment.remittance_id, func.sum(ProviderAdjustment.amount))
        .group_by(ProviderAdjustment.remittance_id)
    ).all())
    violations = []
    for rid, check, total, number in db.session.execute(
        select(Remittance.id, Remittance.amount, Remittance.plb_total, Remittance.check_number)
    ):
        plb = to_money(plbs.get(rid) or ZERO)
        if plb != to_money(total):
            violations.append(Violation(
                "remittance-balance", f"remittance {rid} (check {number})",
                f"its PLB rows add up to {format_money(plb)}, not the PLB total {format_money(total)}"))
        accounted = to_money(posted.get(rid) or ZERO) + to_money(kept.get(rid) or ZERO) - to_money(plb)
        if accounted != to_money(check):
            violations.append(Violation(
                "remittance-balance", f"remittance {rid} (check {number})",
                f"claims posted and kept {format_money(accounted + to_money(plb))} less PLB {format_money(plb)} "
                f"is {format_money(accounted)}, not the check's {format_money(check)}"))
    return violations


def plbs_posted_as_applied() -> list[Violation]:
    """A PLB's ledger entries add up to what it says was applied (negated: an offset takes payments back), an
    applied PLB was applied whole, and income or settled money was posted on no claim."""
    posted = (
        select(ProviderAdjustmentEntry.provider_adjustment_id, func.sum(LedgerEntry.amount).label("posted"))
        .join(LedgerEntry, LedgerEntry.id == ProviderAdjustmentEntry.ledger_entry_id)
        .group_by(ProviderAdjustmentEntry.provider_adjustment_id)
        .subquery()
    )
    entries = func.coalesce(posted.c.posted, 0)
    applied = ProviderAdjustment.disposition == PlbDisposition.APPLIED
    rows = db.session.execute(
        select(ProviderAdjustment.id, ProviderAdjustment.remittance_id, ProviderAdjustment.amount,
               ProviderAdjustment.applied_amount, ProviderAdjustment.disposition, entries)
        .outerjoin(posted, posted.c.provider_adjustment_id == ProviderAdjustment.id)
        .where((_cents(entries) != _cents(-ProviderAdjustment.applied_amount))
               | (applied & (_cents(ProviderAdjustment.applied_amount) != _cents(ProviderAdjustment.amount)))
               | ((ProviderAdjustment.disposition == PlbDisposition.INCOME) & (_cents(entries) != 0)))
    )
    return [Violation("plb-applied", f"remittance {rid} PLB {pid}", f"PLB of {format_money(amount)} is "
                      f"{disposition.value} with {format_money(applied_)} applied, but its claim entries add up to "
                      f"{format_money(to_money(total))}") for pid, rid, amount, applied_, disposition, total in rows]


def no_silent_credit() -> list[Violation]:
    """No claim owes less than nothing on either side unless it is flagged Needs Review."""
    rows = db.session.execute(
        select(LedgerEntry.claim_id, LedgerEntry.kind, func.sum(LedgerEntry.amount))
        .join(Claim, Claim.id == LedgerEntry.claim_id)
        .where(Claim.needs_review.is_(False))
        .group_by(LedgerEntry.claim_id, LedgerEntry.kind)
    )
    sums: dict[int, Balances] = defaultdict(Balances)
    for claim_id, kind, amount in rows:
        sums[claim_id].add(kind, amount)
    return [Violation("credit-balance", claim_number(cid), f"insurance balance {format_money(b.insurance)}, "
                      f"patient balance {format_money(b.patient)}: a credit with no Needs Review flag")
            for cid, b in sorted(sums.items()) if b.insurance < ZERO or b.patient < ZERO]


def reversals_linked_once() -> list[Violation]:
    """A reversal negates exactly one original entry of the same claim, line and kind, and is not reversed."""
    original = aliased(LedgerEntry)
    rows = db.session.execute(
        select(LedgerEntry.id, LedgerEntry.claim_id, original.id, original.reverses_id)
        .join(original, original.id == LedgerEntry.reverses_id)
        .where(
            (original.claim_id != LedgerEntry.claim_id)
            | (original.kind != LedgerEntry.kind)
            | (original.amount != -LedgerEntry.amount)
            | (func.coalesce(original.claim_line_id, 0) != func.coalesce(LedgerEntry.claim_line_id, 0))
            | original.reverses_id.is_not(None)
        )
    )
    return [Violation("reversal-link", claim_number(claim_id), f"entry {rid} does not exactly negate entry {oid}"
                      + (" (itself a reversal)" if twice else "")) for rid, claim_id, oid, twice in rows]


def line_open_once() -> list[Violation]:
    """A session's service is owed on at most one live claim line at a time (across corrections, resubmissions
    and secondary claims: moving a balance to the next claim leaves nothing on the one before)."""
    open_lines = (
        select(ClaimLine.id, ClaimLine.session_id, ClaimLine.claim_id, ClaimLine.service_code_id)
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .join(LedgerEntry, LedgerEntry.claim_line_id == ClaimLine.id)
        .where(ClaimLine.session_id.is_not(None), Claim.status != ClaimStatus.VOIDED)
        .group_by(ClaimLine.id, ClaimLine.session_id, ClaimLine.claim_id, ClaimLine.service_code_id)
        .having(_cents(_open_amount()) > 0)  # a credit (money the payer must take back) is flagged, not owed
        .subquery()
    )
    rows = db.session.execute(
        select(open_lines.c.session_id, open_lines.c.service_code_id, func.count(),
               func.min(open_lines.c.claim_id), func.max(open_lines.c.claim_id))
        .group_by(open_lines.c.session_id, open_lines.c.service_code_id)
        .having(func.count() > 1)
    )
    return [Violation("line-open-once", claim_number(first), f"session {session_id} is owed on {count} claim lines "
                      f"at once (claims {claim_number(first)} to {claim_number(last)})")
            for session_id, _code, count, first, last in rows]


def self_pay_on_patient_side() -> list[Violation]:
    """A self-pay claim bills the patient only: never waiting in Ready, never adjudicated by a payer, nothing owed on
    its insurance side, and, once billed (Submitted or Paid), its whole charge in the ledger."""
    insurance = {kind: effect[0] for kind, effect in EFFECTS.items() if effect[0]}
    sums = (
        select(LedgerEntry.claim_id,
               func.sum(case(*((LedgerEntry.kind == k, LedgerEntry.amount * sign) for k, sign in insurance.items()),
                             else_=0)).label("insurance"),
               func.sum(case((LedgerEntry.kind == EntryKind.CHARGE, LedgerEntry.amount), else_=0)).label("charged"))
        .group_by(LedgerEntry.claim_id)
        .subquery()
    )
    adjudicated = select(Adjudication.claim_id)
    rows = db.session.execute(
        select(Claim.id, Claim.status, Claim.total_charge, _money(func.coalesce(sums.c.insurance, 0)),
               _money(func.coalesce(sums.c.charged, 0)), any_of(Claim.id, adjudicated))
        .outerjoin(sums, sums.c.claim_id == Claim.id)
        .where(Claim.self_pay.is_(True))
        .order_by(Claim.id)
    )
    violations = []
    for cid, status, total_charge, owed, charged, was_adjudicated in rows:
        number = claim_number(cid)
        if status is ClaimStatus.READY:
            violations.append(Violation("self-pay", number, "a self-pay claim waits in Ready: its charge never reached "
                                        "the patient's balance (run `flask claims bill-self-pay`)"))
        if was_adjudicated:
            violations.append(Violation("self-pay", number, "a payer adjudicated a self-pay claim, which no payer "
                                        "was sent"))
        if to_money(owed) != ZERO:
            violations.append(Violation("self-pay", number, f"{format_money(to_money(owed))} is owed on the "
                                        "insurance side of a self-pay claim; its whole charge is the patient's"))
        if status in (ClaimStatus.SUBMITTED, ClaimStatus.PAID) and to_money(charged) != to_money(total_charge):
            violations.append(Violation(
                "self-pay", number, f"billed to the patient, but {format_money(to_money(charged))} of its "
                f"{format_money(total_charge)} is charged in the ledger"))
    return violations


def claim_balances_kept() -> list[Violation]:
    """The balances the database keeps per claim (billing/ledger/claim_balances.py) equal the ledger summed now."""
    summed = (select(LedgerEntry.claim_id, func.sum(effect_on(INSURANCE)).label("insurance"),
                     func.sum(effect_on(PATIENT)).label("patient"))
              .group_by(LedgerEntry.claim_id).subquery())
    kept_insurance = func.coalesce(ClaimBalance.insurance, 0)
    kept_patient = func.coalesce(ClaimBalance.patient, 0)
    rows = db.session.execute(
        select(summed.c.claim_id, summed.c.insurance, summed.c.patient, kept_insurance, kept_patient)
        .outerjoin(ClaimBalance, ClaimBalance.claim_id == summed.c.claim_id)
        .where(or_(_cents(summed.c.insurance) != _cents(kept_insurance),
                   _cents(summed.c.patient) != _cents(kept_patient)))
        .order_by(summed.c.claim_id)
    )
    return [Violation("claim-balance", claim_number(cid), f"the ledger says insurance owes "
                      f"{format_money(to_money(ins))} and the patient {format_money(to_money(pat))}, but the kept "
                      f"balance says {format_money(to_money(kept_ins))} and {format_money(to_money(kept_pat))}")
            for cid, ins, pat, kept_ins, kept_pat in rows]


def claim_day_counts_kept() -> list[Violation]:
    """The claims counted per day, location, payer, status and self-pay (billing/claims/day_counts.py) equal a
    recount. Both sides are grouped in SQL: a few rows per service day, whatever the number of claims."""
    key = (Claim.service_date, Claim.location_id, func.coalesce(Claim.payer_id, 0), Claim.status, Claim.self_pay)
    counted = {tuple(k): (n, to_money(b)) for *k, n, b in db.session.execute(
        select(*key, func.count(), _money(func.sum(Claim.total_charge))).group_by(*key))}
    kept = {tuple(k): (n, to_money(b)) for *k, n, b in db.session.execute(
        select(ClaimDayCount.service_date, ClaimDayCount.location_id, ClaimDayCount.payer_id, ClaimDayCount.status,
               ClaimDayCount.self_pay, ClaimDayCount.claims, _money(ClaimDayCount.billed)))}
    return [Violation("claim-day-count", _day_key(k), f"{n} claims billing {format_money(b)} are there, but the kept "
                      f"count says {kept_n} billing {format_money(kept_b)}")
            for k, (n, b), (kept_n, kept_b) in _differences(counted, kept)]


def claim_deadline_counts_kept() -> list[Violation]:
    """The claims counted per filing deadline, location and status (billing/claims/deadline_counts.py) equal a
    recount of the claims with a deadline, grouped in SQL."""
    key = (Claim.filing_deadline, Claim.location_id, Claim.status)
    counted = {tuple(k): (n, to_money(b)) for *k, n, b in db.session.execute(
        select(*key, func.count(), _money(func.sum(Claim.total_charge)))
        .where(Claim.filing_deadline.is_not(None)).group_by(*key))}
    kept = {tuple(k): (n, to_money(b)) for *k, n, b in db.session.execute(
        select(ClaimDeadlineCount.filing_deadline, ClaimDeadlineCount.location_id, ClaimDeadlineCount.status,
               ClaimDeadlineCount.claims, _money(ClaimDeadlineCount.billed)))}
    return [Violation("claim-deadline-count", _day_key(k), f"{n} claims billing {format_money(b)} are there, but "
                      f"the kept count says {kept_n} billing {format_money(kept_b)}")
            for k, (n, b), (kept_n, kept_b) in _differences(counted, kept)]


def carc_day_totals_kept() -> list[Violation]:
    """The adjustment codes totalled per service day and location (billing/ledger/carc_days.py) equal the ledger."""
    coded = (select(LedgerEntry.claim_id, LedgerEntry.group_code, LedgerEntry.reason_code,
                    func.sum(LedgerEntry.amount).label("amount"))
             .where(LedgerEntry.group_code.is_not(None), LedgerEntry.reason_code.is_not(None))
             .group_by(LedgerEntry.claim_id, LedgerEntry.group_code, LedgerEntry.reason_code).subquery())
    key = (Claim.service_date, Claim.location_id, coded.c.group_code, coded.c.reason_code)
    counted = {tuple(k): (n, to_money(a)) for *k, n, a in db.session.execute(
        select(*key, func.count(), _money(func.sum(coded.c.amount))).join(Claim, Claim.id == coded.c.claim_id)
        .group_by(*key))}
    kept = {(d, loc, g, r): (n, to_money(a)) for d, loc, g, r, n, a in db.session.execute(
        select(CarcDayTotal.service_date, CarcDayTotal.location_id, CarcDayTotal.group_code,
               CarcDayTotal.reason_code, CarcDayTotal.claims, _money(CarcDayTotal.amount)))}
    return [Violation("carc-day", _day_key(k), f"{n} claims carry it for {format_money(a)} in the ledger, but the "
                      f"kept total says {kept_n} for {format_money(kept_a)}")
            for k, (n, a), (kept_n, kept_a) in _differences(counted, kept)]


def ar_day_totals_kept() -> list[Violation]:
    """The receivables kept per service day, location and payer (billing/ledger/ar_days.py) equal the claims' kept
    balances totalled (claim-balance checks those against the ledger)."""
    key = (Claim.service_date, Claim.location_id, func.coalesce(Claim.payer_id, 0))
    owes = [func.sum(case((func.round(side, 2) != 0, 1), else_=0)) for side in (ClaimBalance.insurance,
                                                                               ClaimBalance.patient)]
    counted = {tuple(k): (to_money(i), to_money(p), int(ni), int(np)) for *k, i, p, ni, np in db.session.execute(
        select(*key, _money(func.sum(ClaimBalance.insurance)), _money(func.sum(ClaimBalance.patient)), *owes)
        .join(Claim, Claim.id == ClaimBalance.claim_id).group_by(*key))}
    kept = {(d, loc, payer): (to_money(i), to_money(p), ni, np) for d, loc, payer, i, p, ni, np in db.session.execute(
        select(ArDayTotal.service_date, ArDayTotal.location_id, ArDayTotal.payer_id, _money(ArDayTotal.insurance),
               _money(ArDayTotal.patient), ArDayTotal.insurance_claims, ArDayTotal.patient_claims))}
    return [Violation("ar-day", _day_key(k), f"the claims' balances say insurance owes {format_money(c[0])} on {c[2]} "
                      f"claims and patients {format_money(c[1])} on {c[3]}, but the kept total says "
                      f"{format_money(s[0])} on {s[2]} and {format_money(s[1])} on {s[3]}")
            for k, c, s in _differences(counted, kept, nothing=(ZERO, ZERO, 0, 0))]


def client_balances_kept() -> list[Violation]:
    """What each client owes on the patient side, kept per client (billing/ledger/client_balances.py), equals their
    claims' kept patient balances totalled (claim-balance checks those against the ledger)."""
    counted = {(cid,): (to_money(p),) for cid, p in db.session.execute(
        select(Claim.client_id, _money(func.sum(ClaimBalance.patient)))
        .join(Claim, Claim.id == ClaimBalance.claim_id).group_by(Claim.client_id))}
    kept = {(cid,): (to_money(p),) for cid, p in db.session.execute(
        select(ClientBalance.client_id, _money(ClientBalance.patient)))}
    return [Violation("client-balance", f"client {cid}", f"the claims' balances say the patient owes "
                      f"{format_money(c[0])}, but the kept balance says {format_money(s[0])}")
            for (cid,), c, s in _differences(counted, kept, nothing=(ZERO,))]


def client_balance_parties_kept() -> list[Violation]:
    """Each kept balance row's copies of its client's cycle columns (location, account number, flag, statement
    party and name; billing/ledger/client_balances.py) are the client's own: the Statements page sorts its cycle
    out from the copies alone."""
    differs = or_(*(getattr(ClientBalance, column).is_distinct_from(getattr(Client, column))
                    for column in BALANCE_PARTY))
    stale = db.session.scalars(select(ClientBalance.client_id).join(Client, Client.id == ClientBalance.client_id)
                               .where(differs).order_by(ClientBalance.client_id))
    return [Violation("client-balance-party", f"client {cid}", "the kept balance row's copy of the client's "
                      "location, account number, statement flag or statement party differs from the client's")
            for cid in stale]


def ledger_references_kept() -> list[Violation]:
    """Every entry's claim, claim line, adjudication and payer exist (kept by triggers, not foreign keys:
    billing/ledger/entry_references.py). A full read of the ledger against four primary keys."""
    rows = db.session.execute(text(f"{missing_references_sql()} ORDER BY 1, 2"))
    return [Violation("ledger-references", f"ledger entry {entry_id}", f"{column} names {named}, which is not there")
            for entry_id, column, named in rows]


def statement_parties_kept() -> list[Violation]:
    """Each client's kept statement party and name (billing/people/statement_parties.py) are what its name and
    address columns give now: a client changed behind the ORM's back would be grouped with the wrong family."""
    columns = [getattr(Client, name) for name in PARTY_COLUMNS]
    rows = db.session.execute(select(Client.id, Client.statement_party, Client.statement_name, *columns)
                              .execution_options(yield_per=ROWS_AT_ONCE)).mappings()
    return [Violation("statement-party", f"client {row['id']}", "the kept statement party or name does not match "
                      "the client's responsible party, name and address; save the client again")
            for row in rows
            if (row["statement_party"], row["statement_name"]) != (party_key(row), statement_name(row))]


def month_totals_kept() -> list[Violation]:
    """The charges and collections kept per posting month and location (billing/ledger/month_totals.py) equal the
    ledger: the amounts, and the claims with such an entry that month."""
    counted: dict[tuple[Any, ...], tuple[int, Decimal]] = {}
    year, month = func.extract("year", LedgerEntry.posted_on), func.extract("month", LedgerEntry.posted_on)
    for kinds, members in GROUPS.items():
        rows = db.session.execute(
            select(year, month, Claim.location_id, func.count(func.distinct(LedgerEntry.claim_id)),
                   _money(func.sum(LedgerEntry.amount)))
            .join(Claim, Claim.id == LedgerEntry.claim_id).where(LedgerEntry.kind.in_(members))
            .group_by(year, month, Claim.location_id))
        counted.update({(date(int(y), int(m), 1), location_id, kinds): (n, to_money(amount))
                        for y, m, location_id, n, amount in rows})
    kept = {(m, loc, kinds): (n, to_money(a)) for m, loc, kinds, n, a in db.session.execute(
        select(LedgerMonthTotal.month, LedgerMonthTotal.location_id, LedgerMonthTotal.kinds, LedgerMonthTotal.claims,
               _money(LedgerMonthTotal.amount)))}
    return [Violation("month-total", _day_key(k), f"{n} claims for {format_money(a)} in the ledger, but the kept "
                      f"total says {kept_n} for {format_money(kept_a)}")
            for k, (n, a), (kept_n, kept_a) in _differences(counted, kept)]


def eligibility_latest_kept() -> list[Violation]:
    """Each policy's kept latest eligibility answer (billing/coverage/eligibility_latest.py) is its newest answered
    check, and needs attention exactly when that answer is inactive, unknown or failed."""
    newest = (select(EligibilityCheck.policy_id, func.max(EligibilityCheck.id).label("id"))
              .where(EligibilityCheck.status != EligibilityStatus.PENDING).group_by(EligibilityCheck.policy_id)
              .subquery())
    counted = {policy_id: (check_id, status in NEEDS_ATTENTION) for policy_id, check_id, status in db.session.execute(
        select(newest.c.policy_id, EligibilityCheck.id, EligibilityCheck.status)
        .join(EligibilityCheck, EligibilityCheck.id == newest.c.id))}
    kept = {policy_id: (check_id, bool(attention)) for policy_id, check_id, attention in db.session.execute(
        select(EligibilityLatest.policy_id, EligibilityLatest.check_id, EligibilityLatest.needs_attention))}
    return [Violation("eligibility-latest", f"policy {policy_id}", f"the latest answer is {found}, but the kept row "
                      f"says {kept_row}")
            for (policy_id,), found, kept_row in _differences({(k,): v for k, v in counted.items()},
                                                              {(k,): v for k, v in kept.items()}, nothing=None)]


def _differences(counted: dict[tuple[Any, ...], tuple[Any, ...]], kept: dict[tuple[Any, ...], tuple[Any, ...]],
                 nothing: tuple[Any, ...] = (0, ZERO)) -> list[tuple[tuple[Any, ...], Any, Any]]:
    """Keys whose recount differs from the kept row; a kept row of zeros (`nothing`) stands for no rows at all."""
    return [(k, counted.get(k, nothing), kept.get(k, nothing)) for k in sorted(counted.keys() | kept.keys(), key=str)
            if counted.get(k, nothing) != kept.get(k, nothing)]


def _day_key(key: tuple[Any, ...]) -> str:
    return " / ".join(str(getattr(part, "value", part)) for part in key)
def filing_deadlines_kept() -> list[Violation]:
    """The filing deadline the database keeps on each claim (billing/payments/deadline_triggers.py) equals the rule
    (filing.filing_deadline) worked out in Python from the claim, its payer and the adjudications, not the
    triggers' SQL. Rows are streamed: a million claims are a few seconds, not a few hundred MB."""
    violations = []
    # Options on the statement, not the connection: a connection's would stay on it for the session's later ones.
    rows = db.session.execute(deadline_inputs(), execution_options={"yield_per": ROWS_AT_ONCE})
    for cid, service_date, limit, corrected, payer_type, self_pay, answered_on, kept in rows:
        if limit is None or corrected is None or payer_type is PayerType.SELF_PAY or self_pay:
            expected = None
        else:
            expected = filing_deadline(service_date, limit, corrected, answered_on)
        if kept != expected:
            violations.append(Violation("filing-deadline", claim_number(cid), f"the kept filing deadline is "
                                        f"{_day(kept)}, but its payer's windows and adjudications make it "
                                        f"{_day(expected)}"))
    return violations


def _day(day: date | None) -> str:
    return "none" if day is None else day.strftime("%m/%d/%Y")


def _money(amount: ColumnElement[Any]) -> ColumnElement[Decimal]:
    """A sum rounded to the cent in SQL and read back as Decimal (SQLite sums NUMERIC as floats)."""
    return func.round(amount, 2, type_=Numeric(12, 2))


def _cents(amount: ColumnElement[Decimal]) -> ColumnElement[Decimal]:
    """An amount rounded to the cent in SQL: SQLite sums NUMERIC columns as floats (73.48 - 58.78 - 14.70 is not
    exactly 0 there), so every comparison of sums goes through this."""
    return func.round(amount, 2)


def _open_amount() -> ColumnElement[Decimal]:
    """SQL for a line's whole balance (insurance + patient), with the signs of ledger.models.EFFECTS."""
    signs = {kind: ins + pat for kind, (ins, pat) in EFFECTS.items() if ins + pat}
    return func.sum(case(*((LedgerEntry.kind == kind, LedgerEntry.amount * sign) for kind, sign in signs.items()),
                         else_=0))


CHECKS: dict[str, Callable[[], list[Violation]]] = {
    "claim-total": claim_totals_match_lines,
    "payment-posted": payments_match_adjudications,
    "remittance-balance": remittances_balance,
    "plb-applied": plbs_posted_as_applied,
    "credit-balance": no_silent_credit,
    "reversal-link": reversals_linked_once,
    "line-open-once": line_open_once,
    "self-pay": self_pay_on_patient_side,
    "claim-balance": claim_balances_kept,
    "claim-day-count": claim_day_counts_kept,
    "claim-deadline-count": claim_deadline_counts_kept,
    "carc-day": carc_day_totals_kept,
    "ar-day": ar_day_totals_kept,
    "client-balance": client_balances_kept,
    "client-balance-party": client_balance_parties_kept,
    "ledger-references": ledger_references_kept,
    "statement-party": statement_parties_kept,
    "month-total": month_totals_kept,
    "filing-deadline": filing_deadlines_kept,
    "eligibility-latest": eligibility_latest_kept,
}


def register_check(name: str, check: Callable[[], list[Violation]]) -> None:
    """Add a check of a layer above this one (e.g. billing/submissions/follow_up_check.py), which this module may
    not import; billing.models imports every such module, so the registry is whole wherever the app runs."""
    CHECKS[name] = check


def total(violations: list[Violation]) -> dict[str, int]:
    """How many violations each check found (every check listed, zero included)."""
    counts = dict.fromkeys(CHECKS, 0)
    for violation in violations:
        counts[violation.check] += 1
    return counts

