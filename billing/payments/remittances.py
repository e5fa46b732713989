"""835 import: refuse what is broken, post what matches, keep what does not, never post the same check twice."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import islice
from typing import Any

from sqlalchemy import ColumnElement, Row, or_, select
from sqlalchemy.orm import selectinload

from billing.claims.family import family_claims, superseded_reason, superseded_reasons, was_sent
from billing.claims.models import Claim, ClaimLine
from billing.claims.statuses import SENT
from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.errors import BillingError, Conflict, Invalid, NotFound
from billing.core.gc_pause import collector_for_bulk_work
from billing.core.id_lists import any_of
from billing.core.money import ZERO, format_money, sum_money
from billing.core.time import practice_today
from billing.coverage.models import Payer
from billing.coverage.payer_names import normalise_payer_name, taught_payer_id
from billing.edi.era import (
    ClaimPaymentInfo,
    Era,
    EraTransaction,
    EraUnreadable,
    ServicePayment,
    claim_raw,
    era_from_segments,
    read_835,
)
from billing.edi.kinds import WrongX12Kind
from billing.edi.pyx12 import PendingValidation, Validation, validating
from billing.edi.segments import Delimiters, NotX12, SegmentText, decode
from billing.ledger.balances import Balances, claim_balances, lines_with_charges, standing_adjudication
from billing.ledger.models import Adjudication, EntrySource
from billing.ledger.postings import REVERSAL_CODE, ClaimPosting, LinePosting
from billing.ledger.rows import RowBuffer
from billing.payments.claim_writes import write_claims
from billing.payments.models import EraFile, PlbDisposition, ProviderAdjustment, Remittance, UnmatchedClaim
from billing.payments.plb import dispose_imported
from billing.payments.posting import post_adjudication
from billing.payments.reversals import answer_with_money, reverse_adjudication, reverse_adjudication_lines
from billing.payments.secondary import FORWARDED_CODES, forward_crossover, next_payer_waits, next_policy

#: Claims loaded and posted together: few queries, bounded memory. Each chunk's statements update the kept per-day
#: totals (claim_day_count, ar_day_total, carc_day_total...) once per day its claims touch, and a total row updated
#: again in the same transaction leaves one more row version to step over at each later update (300 rows upserted
#: 160 times in one transaction: the 160th round took 15 times the 2nd), so the server's work grows with the square
#: of the number of chunks. At 74,000 claims (issue 20), 500 a chunk cost the server 59 CPU
#: seconds and 1,000 cost 41; 1,000 adds about 10 MB to the import's peak (285 MB, under the 300 MB target), 2,000
#: would add about 30.
CHUNK = 1000
#: From this size (about 15,000 claims, whose read claims would take some 30 MB) each claim is kept as its place in
#: the file and read again when its chunk is posted; a smaller file's claims are read once and held.
CLAIMS_BY_PLACE_FROM_BYTES = 4_000_000
#: From this size (about 1,500 claims) pyx12 runs in a second process beside the posting; below it, starting
#: an interpreter costs more than it saves.
PARALLEL_FROM_BYTES = 500_000
#: What to say when another kind of X12 file is given to the 835 import: where that file goes.
_ACKNOWLEDGMENT = "the clearinghouse's acknowledgments are read by collect-responses, not imported as payments"
WRONG_KIND_HINTS = {"999": _ACKNOWLEDGMENT, "997": _ACKNOWLEDGMENT, "TA1": _ACKNOWLEDGMENT, "277CA": _ACKNOWLEDGMENT,
                    "837P": "an 837 is a claim we send; the payer answers it with an 835"}


class EraRefused(Invalid):
    """The whole file was refused; nothing was written. `problems` lists what pyx12 or the parser found."""

    def __init__(self, filename: str, problems: Sequence[str]) -> None:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        super().__init__(f"{filename} was refused, nothing was posted: {shown}", problems)


@dataclass
class ImportResult:
    """What one file did; `as_dict()` is what `flask edi import --json` prints."""

    filename: str
    transactions: int = 0
    claims: int = 0
    service_lines: int = 0
    matched: int = 0
    unmatched: int = 0
    reversals: int = 0
    paid_total: Decimal = ZERO
    plb_total: Decimal = ZERO
    bpr_amount: Decimal = ZERO
    balanced: bool = True
    duplicate: bool = False
    #: CLPs that matched a claim the payer had already paid with no reversal between (rule 8): kept on the
    #: remittance, not posted, the claim flagged. Counted in `matched` too (CLP01 is ours), not in the posted total.
    paid_twice: int = 0
    #: Checks of this file already imported (the same payer and TRN02, rule 8): nothing from them was posted.
    repeated: list[str] = field(default_factory=list)
    remittance_ids: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: What posting flagged, per remittance id (an unbalanced claim or line, a CLP02 against our rank, a
    #: denied line, an unbalanced transaction): kept on the remittance beside pyx12's warnings.
    flags: dict[int, list[str]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.filename, "transactions": self.transactions, "claims": self.claims,
            "service_lines": self.service_lines, "matched": self.matched, "unmatched": self.unmatched,
            "reversals": self.reversals, "posted_paid_total": str(self.paid_total), "plb_total": str(self.plb_total),
            "bpr_amount": str(self.bpr_amount), "balanced": self.balanced, "duplicate": self.duplicate,
            "paid_twice": self.paid_twice, "repeated": self.repeated, "warnings": self.warnings,
        }

    def summary(self) -> str:
        repeated = "".join(f" {r[:1].upper()}{r[1:]}." for r in self.repeated)
        if self.duplicate:
            return f"{self.filename}: already imported; nothing posted.{repeated}"
        balance = "balanced" if self.balanced else "NOT balanced (flagged on the remittance)"
        twice = (f"{self.paid_twice} already paid by the payer (kept, not posted; claim flagged), "
                 if self.paid_twice else "")
        return (f"{self.filename}: {self.transactions} payment(s), {self.claims} claim(s): "
                f"{self.matched - self.paid_twice} posted, {twice}{self.unmatched} unmatched; paid {self.paid_total}, "
                f"PLB {self.plb_total}, BPR {self.bpr_amount}, {balance}.{repeated}")


def import_835(data: bytes, *, filename: str, actor: Actor) -> ImportResult:
    """Validate, parse and post one 835 file. Raises EraRefused, with nothing written, when it is broken.

    A small file is validated before anything is written. A large one (PARALLEL_FROM_BYTES) is validated
    by pyx12 in worker processes (cut in pieces from SPLIT_FROM_BYTES) while this one parses and posts
    inside a savepoint: pyx12 needs about a millisecond per claim, more than posting does, and a refusal
    rolls the savepoint back, so the database ends exactly as if the file had been refused first.
    The garbage collector keeps off the objects alive before the import and runs less often (`collector_for_bulk_work`).
    """
    with collector_for_bulk_work():
        return _import_835(data, filename=filename, actor=actor)


def _import_835(data: bytes, *, filename: str, actor: Actor) -> ImportResult:
    result = ImportResult(filename)
    digest = hashlib.sha256(data).hexdigest()
    if db.session.scalar(select(EraFile.id).where(EraFile.sha256 == digest)) is not None:
        result.duplicate = True
        return result
    delims, segments = _read(data, filename)
    text = segments.text  # without the indentation and line breaks pyx12 trips on
    with validating(text, parallel=len(text) >= PARALLEL_FROM_BYTES, workers=validation_workers()) as pending:
        if not pending.parallel:
            _refuse_if_invalid(pending.result(), filename)
        era = _parse(delims, segments, filename, result, pending)
        savepoint = db.session.begin_nested()
        try:
            remittances = _post_era(era, data, digest, result, actor=actor)
            _refuse_if_invalid(pending.result(), filename)
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()
    result.timings["validation"] = pending.seconds
    result.timings["validation_cpu"] = pending.cpu_seconds
    result.timings["validation_worker_peak_mb"] = pending.worker_peak_mb
    checked = [str(f) for f in pending.result().warnings]
    for remittance in remittances:
        remittance.warnings = [*checked, *result.flags.get(remittance.id, [])] or None
    result.warnings = [*result.repeated, *checked,
                       *(w for rid in result.remittance_ids for w in result.flags.get(rid, []))]
    return result


def validation_workers() -> int:
    """How many pyx12 workers validate a large file beside the posting: a core is left to the posting (this process
    and its database server take turns on it), the others validate. Posting takes about as long as pyx12, so on
    two cores a second worker only slowed it down, three busy processes on two cores: 7,000 claims on a copy of the
    scale-10 demo took 6.2 and 6.4 s with two, 5.8 and 5.5 s with one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 2)
    return max(1, cores - 1)


def _refuse_if_invalid(validation: Validation, filename: str) -> None:
    if validation.refused:
        raise EraRefused(filename, [str(f) for f in validation.errors] or ["pyx12 does not recognise it as X12"])


def _read(data: bytes, filename: str) -> tuple[Delimiters, SegmentText]:
    """The file's segments, once it is known to be an 835 that carries nothing beyond the TR3's bounds.

    Both are checked before pyx12 sees the file: a 999 or 277CA is named as such rather than described by
    pyx12's complaints about an 835, and pyx12 neither stops a seventh CAS adjustment nor survives too many
    components.
    """
    try:
        return read_835(decode(data), hints=WRONG_KIND_HINTS)
    except (WrongX12Kind, NotX12) as exc:
        raise EraRefused(filename, [exc.message]) from None
    except EraUnreadable as exc:
        raise EraRefused(filename, exc.problems or [exc.message]) from None


def _parse(delims: Delimiters, segments: SegmentText, filename: str, result: ImportResult,
           pending: PendingValidation) -> Era:
    started = time.perf_counter()
    try:
        era = era_from_segments(delims, segments, claims_by_place=_by_place(segments))
    except (EraUnreadable, NotX12) as exc:
        _refuse_if_invalid(pending.result(), filename)  # pyx12's findings say more, when it has any
        raise EraRefused(filename, exc.problems or [exc.message]) from None
    result.timings["parse"] = time.perf_counter() - started
    return era


def _by_place(segments: SegmentText) -> bool:
    """Whether the file's claims are kept as their places in it and read again chunk by chunk (`ClaimList`): only
    for a file too big to hold them all, since reading each twice cost a tenth of posting's CPU."""
    return len(segments.text) >= CLAIMS_BY_PLACE_FROM_BYTES


def _post_era(era: Era, data: bytes, digest: str, result: ImportResult, *, actor: Actor) -> list[Remittance]:
    started, cpu = time.perf_counter(), time.process_time()
    new = _new_checks(era.transactions, result)
    if not new:
        result.duplicate = True
        return []
    era_file = EraFile(filename=result.filename[:255], sha256=digest, content=data, actor=actor.name)
    db.session.add(era_file)
    remittances = [_import_transaction(txn, era_file, era.delimiters, result, actor=actor) for txn in new]
    db.session.flush()
    result.timings["posting"] = time.perf_counter() - started
    result.timings["posting_cpu"] = time.process_time() - cpu
    return remittances


def _new_checks(transactions: Sequence[EraTransaction], result: ImportResult) -> list[EraTransaction]:
    """The file's checks not imported before; each repeat is named in `result.repeated` (rule 8)."""
    new: list[tuple[EraTransaction, int | None]] = []
    for txn in transactions:
        payer_id = _our_payer_id(txn)
        earlier = _already_imported(txn, payer_id)
        twin = next((t for t, their_payer in new if t.check_number[:50] == txn.check_number[:50] and (
            _payer_key(t) == _payer_key(txn) or (payer_id is not None and their_payer == payer_id))), None)
        if earlier is not None:
            result.repeated.append(_repeat_message(txn, earlier.check_number, earlier.paid_on, earlier.amount,
                                                   f"already imported (remittance {earlier.id})"))
        elif twin is not None:
            result.repeated.append(_repeat_message(txn, twin.check_number, _paid_on(twin), twin.amount,
                                                   "twice in this file"))
        else:
            new.append((txn, payer_id))
    return [txn for txn, _ in new]


def _already_imported(txn: EraTransaction, payer_id: int | None) -> Row[tuple[int, str, date, Decimal]] | None:
    """Rule 8: the same payer and TRN02 is the same check, whatever its date, amount or control numbers. The payer
    is the same by TRN03 (its key) or as the payer we recognised (`payer_id`). The check imported, as a row."""
    same_payer: ColumnElement[bool] = Remittance.payer_key == _payer_key(txn)
    if payer_id is not None:
        same_payer = or_(same_payer, Remittance.payer_id == payer_id)
    return db.session.execute(
        select(Remittance.id, Remittance.check_number, Remittance.paid_on, Remittance.amount)
        .where(same_payer, Remittance.check_number == txn.check_number[:50]).order_by(Remittance.id).limit(1)
    ).first()


def _repeat_message(txn: EraTransaction, check: str, paid_on: date, amount: Decimal, where: str) -> str:
    """Why a check was not posted, saying how this copy differs from the one imported."""
    differs = []
    if _paid_on(txn) != paid_on:
        differs.append(f"dated {_paid_on(txn):%m/%d/%Y}, not {paid_on:%m/%d/%Y}")
    if txn.amount != amount:
        differs.append(f"for {format_money(txn.amount)}, not {format_money(amount)}: ask the payer which is right; "
                       f"a change comes as a reversal (CLP02 22) and a new payment")
    payer = txn.payer_name or txn.payer_key
    return (f"check {check} from {payer} is {where}; this copy was not posted"
            + (f" ({'; '.join(differs)})" if differs else ""))


def _payer_key(txn: EraTransaction) -> str:
    return (txn.payer_key or txn.payer_name or "unknown")[:80]


def _paid_on(txn: EraTransaction) -> date:
    return txn.paid_on or practice_today()


def _import_transaction(txn: EraTransaction, era_file: EraFile, delims: Any, result: ImportResult,
                        *, actor: Actor) -> Remittance:
    remittance = Remittance(
        era_file=era_file, payer_name=(txn.payer_name or "(no payer name)")[:60], payer_key=_payer_key(txn),
        payee_name=(txn.payee_name or None) and txn.payee_name[:60], payee_id=txn.payee_id,
        check_number=txn.check_number[:50], method=txn.method[:3], handling=txn.handling[:2], amount=txn.amount,
        paid_on=_paid_on(txn), claim_count=len(txn.claims), claims_paid_total=txn.claims_paid_total,
        plb_total=txn.plb_total, balanced=txn.balanced,
        payer_id=_our_payer_id(txn),
    )
    db.session.add(remittance)
    db.session.flush()
    flags = result.flags.setdefault(remittance.id, [])
    if not txn.balanced:
        flags.append(f"check {txn.check_number}: BPR02 {txn.amount} is not the claims' CLP04 total "
                     f"{txn.claims_paid_total} less PLB {txn.plb_total} (difference "
                     f"{txn.amount - (txn.claims_paid_total - txn.plb_total)})")
    for chunk in _chunks(txn.claims, CHUNK):
        _post_chunk(chunk, txn, remittance, delims, result, actor=actor)
    # After the claims: an offset may take back a payment posted from this same file (rule 7).
    plbs = [ProviderAdjustment(remittance=remittance, provider_id=plb.provider_id[:50],
                               fiscal_period_end=plb.fiscal_period_end, reason_code=plb.reason_code[:2],
                               reference=(plb.reference or None) and plb.reference[:50], amount=plb.amount,
                               disposition=PlbDisposition.OPEN, applied_amount=ZERO) for plb in txn.plbs]
    if plbs:
        db.session.add_all(plbs)
        db.session.flush()
        dispose_imported(plbs, actor=actor, flags=flags)
    record_change("remittance", remittance.id, AuditAction.ERA_IMPORTED, actor=actor,
                  data={"file": result.filename, "check": txn.check_number, "amount": str(txn.amount),
                        "balanced": txn.balanced})
    result.transactions += 1
    result.claims += len(txn.claims)
    result.service_lines += txn.service_count
    result.plb_total += txn.plb_total
    result.bpr_amount += txn.amount
    result.balanced = result.balanced and txn.balanced
    result.remittance_ids.append(remittance.id)
    return remittance


def _our_payer_id(txn: EraTransaction) -> int | None:
    """The payer this check is from: by an id it sent (TRN03, N1*PR N104, REF*2U), then its name, then a taught
    name."""
    payers = list(db.session.execute(select(Payer.id, Payer.name, Payer.edi_payer_id).order_by(Payer.id)))
    keys = _payer_keys(txn)
    by_id = next((p.id for p in payers if p.edi_payer_id and p.edi_payer_id.strip() in keys), None)
    if by_id is not None:
        return by_id
    name = normalise_payer_name(txn.payer_name)
    by_name = next((p.id for p in payers if name and normalise_payer_name(p.name) == name), None)
    return by_name if by_name is not None else taught_payer_id(txn.payer_name)


def _payer_keys(txn: EraTransaction) -> set[str]:
    """The ids the payer sent. TRN03 is often "1" followed by the payer's EIN: both forms count."""
    keys = {k.strip() for k in [txn.payer_key, *txn.payer_ids] if k and k.strip()}
    trn03 = txn.payer_key.strip()
    if len(trn03) == 10 and trn03.isdigit() and trn03.startswith("1"):
        keys.add(trn03[1:])
    return keys


def _chunks(items: list[ClaimPaymentInfo], size: int) -> Iterator[list[ClaimPaymentInfo]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _post_chunk(chunk: list[ClaimPaymentInfo], txn: EraTransaction, remittance: Remittance, delims: Any,
                result: ImportResult, *, actor: Actor) -> None:
    ids = {c.claim_number: Claim.id_from_number(c.claim_number) for c in chunk}
    claims = {
        c.id: c for c in db.session.scalars(
            # Locked (PostgreSQL), in id order so two imports never wait on each other crosswise.
            select(Claim).where(any_of(Claim.id, [i for i in ids.values() if i is not None]))
            .order_by(Claim.id).with_for_update(of=Claim)
            .options(selectinload(Claim.lines).selectinload(ClaimLine.service_code), selectinload(Claim.payer))
        )
    }
    balances = claim_balances(claims)
    charged = lines_with_charges(claims)
    superseded = superseded_reasons(claims)
    answered = _answered(claims)
    rows = RowBuffer()
    stale: set[int] = set()
    for info in chunk:
        claim = claims.get(ids[info.claim_number] or -1)
        claim = _family_member_paid(claim, txn) or claim
        problem = _match_problem(info, claim, txn)
        if problem is None:
            assert claim is not None
            loaded = claim.id in claims  # else a family member of the claim CLP01 names, read from the ledger
            if not loaded:
                rows.flush()
            # After a reversal the chunk's tally is stale for that claim: posting reads the ledger instead.
            fresh = loaded and info.status_code != REVERSAL_CODE and claim.id not in stale
            prior = balances.get(claim.id, Balances()) if fresh else None
            flags = result.flags.setdefault(remittance.id, [])
            try:
                posted = post_claim_payment(
                    info, claim, remittance, actor=actor, prior=prior, charged=charged if loaded else None,
                    rows=rows, flags=flags, superseded=superseded.get(claim.id) if loaded else superseded_reason(claim),
                    answered=claim.id in answered or not loaded)
            except PaidTwice as exc:
                _keep_unmatched(info, remittance, exc.message, delims)
                _flag(claim, exc.message, actor=actor, rows=rows, flags=flags)
                result.matched += 1
                result.paid_twice += 1
                continue
            except BillingError as exc:
                problem = exc.message
            else:
                answered.add(claim.id)
                if prior is None or info.status_code in FORWARDED_CODES:  # a crossover moved the patient's part
                    balances.pop(claim.id, None)
                    stale.add(claim.id)
                elif claim.id not in stale:
                    balances[claim.id] = prior
                result.matched += 1
                result.paid_total += posted
                result.reversals += info.status_code == REVERSAL_CODE
                continue
        _keep_unmatched(info, remittance, problem, delims)
        result.unmatched += 1
    # One UPDATE per set of changed columns, not one per claim, carrying the deadlines the buffered answers give.
    write_claims(claims.values(), answered_on=_answered_on(rows))
    rows.flush()


def _answered_on(rows: RowBuffer) -> dict[int, date]:
    """Per claim, the latest date of the standing (not reversing) adjudications waiting in `rows`."""
    answers: dict[int, date] = {}
    for row in rows.adjudications:
        claim_id, paid_on = row["claim_id"], row["paid_on"]
        if row["reverses_id"] is None and (claim_id not in answers or paid_on > answers[claim_id]):
            answers[claim_id] = paid_on
    return answers


def _answered(claims: dict[int, Claim]) -> set[int]:
    """The claims a payer has answered before (any adjudication): only those can be paid twice (rule 8)."""
    if not claims:
        return set()
    found = select(Adjudication.claim_id).where(any_of(Adjudication.claim_id, claims)).distinct()
    return set(db.session.scalars(found))


def _match_problem(info: ClaimPaymentInfo, claim: Claim | None, txn: EraTransaction) -> str | None:
    if claim is None:
        return f"CLP01 {info.claim_number!r} is not one of our claim numbers"
    if claim.payer is None or not _same_payer(claim.payer, txn):
        payer = txn.payer_name or txn.payer_key
        return f"claim {claim.number} is billed to {claim.payer or 'no payer'}, not to {payer}"
    if not was_sent(claim):  # voided or replaced after it was sent: the money still posts there (rule 6)
        return f"claim {claim.number} is {claim.status.label}; only a submitted claim is paid"
    return None


def _family_member_paid(claim: Claim | None, txn: EraTransaction) -> Claim | None:
    """Rule 6/9: CLP01 names a claim billed to another payer, but a member of its family (a secondary,
    tertiary or crossover claim) is billed to this payer: the payment is that member's. The latest sent
    member wins, a live one before a voided one. None when CLP01's own claim is the payer's."""
    if claim is None or (claim.payer is not None and _same_payer(claim.payer, txn)):
        return None
    members = [m for m in family_claims(claim)
               if m.id != claim.id and m.payer is not None and _same_payer(m.payer, txn) and was_sent(m)]
    return max(members, key=lambda m: (m.status in SENT, m.id), default=None)


def _same_payer(payer: Payer, txn: EraTransaction) -> bool:
    """By an id the payer sent, its name (normalised), or a name a biller taught (asked only when the rest fail)."""
    if payer.edi_payer_id and payer.edi_payer_id.strip() in _payer_keys(txn):
        return True
    name = normalise_payer_name(txn.payer_name)
    return bool(name) and (normalise_payer_name(payer.name) == name or taught_payer_id(name) == payer.id)


def remittance_from(remittance: Remittance, payer: Payer) -> bool:
    """Whether a kept remittance is known to come from `payer`: recognised as it, or by TRN03 or a name."""
    if remittance.payer_id == payer.id:
        return True
    return _same_payer(payer, EraTransaction("", payer_key=remittance.payer_key, payer_name=remittance.payer_name))


def post_claim_payment(info: ClaimPaymentInfo, claim: Claim, remittance: Remittance, *, actor: Actor,
                       prior: Balances | None = None, charged: set[int] | None = None,
                       rows: RowBuffer | None = None, flags: list[str] | None = None,
                       superseded: str | None = None, answered: bool = True) -> Decimal:
    """Post one matched CLP; returns the amount paid on it (CLP04; negative for a reversal).

    What posting flags on the claim (Needs Review) is added to `flags`, each naming the claim.
    `superseded` says why the claim should no longer be paid (voided, replaced): the money posts and the
    claim is flagged with that reason (Posting rule 6). Raises PaidTwice, with nothing written, when the
    payer's earlier answer still stands with its money (rule 8); `answered` False says the payer never
    answered the claim before, so that is not read.
    """
    if info.status_code == REVERSAL_CODE:
        paid = _post_reversal(info, claim, remittance, actor=actor, rows=rows)
    else:
        if answered:
            _refuse_paid_twice(info, claim, remittance, rows=rows)
        paid = _post_payment(info, claim, remittance, actor=actor, prior=prior, charged=charged, rows=rows,
                             flags=flags)
    if superseded:
        _flag(claim, f"{superseded}; money from check {remittance.check_number} posted to it",
              actor=actor, rows=rows, flags=flags)
    if info.status_code in FORWARDED_CODES:
        _crossover(claim, remittance, actor=actor, rows=rows, flags=flags)
    return paid


class PaidTwice(Conflict):
    """Rule 8: the payer answered the claim again while its earlier answer stands with money and no reversal came
    between; the message says so for the claim's history and the kept CLP."""


def _refuse_paid_twice(info: ClaimPaymentInfo, claim: Claim, remittance: Remittance, *,
                       rows: RowBuffer | None) -> None:
    """Rule 8: raise PaidTwice when the payer's earlier answer on the claim still stands with its money."""
    if rows is not None and any(row["claim_id"] == claim.id for row in rows.adjudications):
        rows.flush()  # the same claim twice in one file: its first answer must be in the ledger to be found
    earlier = answer_with_money(claim.id, claim.payer_id) if claim.payer_id is not None else None
    if earlier is None:
        return
    payer = claim.payer.name if claim.payer is not None else remittance.payer_name
    first = (f"check {earlier.remittance.check_number}" if earlier.remittance is not None
             else f"{earlier.source.value} posting")
    raise PaidTwice(f"paid twice by {payer} without a reversal between; second payment of "
                    f"{format_money(info.paid)} on check {remittance.check_number} not posted (the first, "
                    f"{format_money(earlier.paid)} on {earlier.paid_on:%m/%d/%Y} from {first}, stands)")


def _crossover(claim: Claim, remittance: Remittance, *, actor: Actor, rows: RowBuffer | None,
               flags: list[str] | None) -> None:
    """CLP02 19/20/21: the payer sent the claim on to the next payer; we make that payer's claim, never send it."""
    if rows is not None:
        rows.flush()  # the next payer's claim is made from the ledger, which must hold this posting
    forwarded_by = claim.payer.name if claim.payer is not None else remittance.payer_name
    crossover, refusal = forward_crossover(claim, forwarded_by=forwarded_by, check=remittance.check_number,
                                           actor=actor, posted_on=remittance.paid_on)
    if crossover is not None:
        if flags is not None:
            flags.append(f"claim {claim.number}: crossover: forwarded by {forwarded_by} as {crossover.number}")
        return
    # No flag when the next payer already has its claim or nothing is left for it.
    if next_policy(claim) is None or next_payer_waits(claim):
        _flag(claim, f"the payer forwarded the claim to the next payer (crossover) but no claim was "
                     f"made for it: {refusal}", actor=actor, rows=None, flags=flags)


def _flag(claim: Claim, why: str, *, actor: Actor, rows: RowBuffer | None, flags: list[str] | None) -> None:
    claim.needs_review = True
    record = rows.change if rows is not None else record_change
    record("claim", claim.id, AuditAction.CLAIM_FLAGGED, actor=actor, before=claim.status.value,
           after=claim.status.value, reason=why[:500], data={"reasons": [why]})
    if flags is not None:
        flags.append(f"claim {claim.number}: {why}")


def _post_reversal(info: ClaimPaymentInfo, claim: Claim, remittance: Remittance, *, actor: Actor,
                   rows: RowBuffer | None) -> Decimal:
    """CLP02 = 22: take back the standing payment, or only the lines its SVCs list."""
    if rows is not None:
        rows.flush()  # the reversal reads the ledger, which must hold this chunk's postings
    original = standing_adjudication(claim.id, claim.payer_id)
    if original is None:
        raise NotFound(f"a reversal (CLP02 = 22) of a payment on {claim.number} that we never posted")
    common: dict[str, Any] = {
        "actor": actor, "reason": f"payer reversal on check {remittance.check_number}",
        "posted_on": remittance.paid_on, "source": EntrySource.ERA, "remittance_id": remittance.id,
        "payer_claim_number": info.payer_claim_number}
    lines = _reversed_lines(info, claim, original)
    if lines is None:
        reverse_adjudication(original, **common)
        paid = -original.paid
    else:
        numbers = ", ".join(str(ln.line_number) for ln in claim.lines if ln.id in lines)
        common["reason"] += f" of line {numbers}"
        paid = reverse_adjudication_lines(original, lines, **common).paid
    if info.payer_claim_number:
        claim.payer_claim_number = info.payer_claim_number
    return paid


def _reversed_lines(info: ClaimPaymentInfo, claim: Claim, original: Adjudication) -> set[int] | None:
    """The claim lines a reversal's SVCs name, when they are fewer than the payment's lines; None: all of it."""
    if not info.services:
        return None
    free = list(claim.lines)
    named: set[int] = set()
    for svc in info.services:
        line = _line_for(svc, free)
        if line is None:
            raise Invalid(f"the reversal names service {svc.procedure_code}, not a line of claim {claim.number}")
        free.remove(line)
        named.add(line.id)
    paid_lines = {ln.claim_line_id for ln in original.lines}
    return None if paid_lines <= named else named & paid_lines or None


def _post_payment(info: ClaimPaymentInfo, claim: Claim, remittance: Remittance, *, actor: Actor,
                  prior: Balances | None, charged: set[int] | None, rows: RowBuffer | None,
                  flags: list[str] | None) -> Decimal:
    if not info.services:
        raise Invalid("the payer sent no service lines (SVC) for this claim; post it by hand")
    posting = ClaimPosting(
        paid_on=remittance.paid_on, status_code=info.status_code, payer_claim_number=info.payer_claim_number,
        claim_adjustments=tuple(info.adjustments), lines=tuple(_line_postings(info, claim)),
        memo=f"835 check {remittance.check_number}", claim_charge=info.charge, claim_paid=info.paid,
    )
    posted = post_adjudication(claim, posting, actor=actor, source=EntrySource.ERA, remittance_id=remittance.id,
                               prior=prior, charged=charged, rows=rows)
    if flags is not None:
        flags += [f"claim {claim.number}: {note}" for note in posted.notes]
    return posting.paid


def _line_postings(info: ClaimPaymentInfo, claim: Claim) -> list[LinePosting]:
    free = list(claim.lines)
    postings = []
    for svc in info.services:
        line = _line_for(svc, free)
        if line is None:
            day = f" on {svc.service_date:%m/%d/%Y}" if svc.service_date else ""
            billed = f" (billed as {svc.billed_code})" if svc.billed_code else ""
            raise Invalid(f"service {svc.procedure_code}{billed}{day} is not a line of claim {claim.number}")
        free.remove(line)
        postings.append(LinePosting(
            line_number=line.line_number, paid=svc.paid, adjustments=tuple(svc.adjustments), allowed=svc.allowed,
            remarks=tuple(svc.remarks), leave_open=True, charge=svc.charge, procedure_code=svc.procedure_code,
            modifiers=":".join(svc.modifiers), units=svc.units,
        ))
    return postings


def matched_lines_charge(info: ClaimPaymentInfo, claim: Claim) -> Decimal:
    """What we charged for the lines of `claim` that the payer's services match (none matched: zero)."""
    free, charge = list(claim.lines), ZERO
    for svc in info.services:
        line = _line_for(svc, free)
        if line is not None:
            free.remove(line)
            charge += line.charge
    return charge


def _line_for(svc: ServicePayment, free: list[ClaimLine]) -> ClaimLine | None:
    """REF*6R (our line number) first, then code and date, then code alone.

    The code is SVC06's when the payer sent one: it is the code we billed, SVC01 the one the payer paid
    under. Among lines of that code, those with SVC06's modifiers come first.
    """
    if svc.line_control:
        # Our line number first, over every line: a line whose id happens to read the same must not take it.
        for key in (lambda ln: str(ln.line_number), lambda ln: str(ln.id)):
            for line in free:
                if key(line) == svc.line_control:
                    return line
    code = svc.billed_code or svc.procedure_code
    same_code = [ln for ln in free if ln.service_code.code == code]
    if svc.billed_code and svc.billed_modifiers:
        wanted = set(svc.billed_modifiers)
        same_code.sort(key=lambda ln: {m for m in ln.modifiers.split(":") if m} != wanted)
    dated = [ln for ln in same_code if svc.service_date is None or ln.service_date == svc.service_date]
    return (dated or same_code or [None])[0]


def _keep_unmatched(info: ClaimPaymentInfo, remittance: Remittance, reason: str, delims: Any) -> None:
    db.session.add(UnmatchedClaim(
        remittance_id=remittance.id, claim_number=info.claim_number[:50], status_code=info.status_code[:2],
        patient_name=info.patient_name[:120], charge=info.charge, paid=info.paid, reason=reason[:300],
        data=info.to_data(), raw=claim_raw(info, delims),
    ))


def paid_total(infos: Sequence[ClaimPaymentInfo]) -> Decimal:
    return sum_money(i.paid for i in infos)
