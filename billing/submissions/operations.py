"""What billers do with submissions: generate batches, take claims out, send, mark as uploaded.

Operations check first, write second, flush, and never commit: callers wrap each in `unit_of_work()`.
The one exception is `send_batch`, which commits a Sending state before its upload (see there).
A batch holds its claims in Ready until it is sent; sending (or marking sent) moves them all to
Submitted in the same transaction that stamps the batch.
"""

from __future__ import annotations

import logging
import re
from array import array
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Row, insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value

from billing.claims.models import Claim, claim_number
from billing.claims.statuses import ClaimStatus, transition_loaded
from billing.core.audit import Actor, AuditAction, Change, record_change, record_changes
from billing.core.db import chunked, db, utcnow
from billing.core.errors import (
    BillingError,
    Conflict,
    Failed,
    Invalid,
    NotAllowed,
    NotFound,
    NothingToDo,
    Problem,
    ValidationFailed,
)
from billing.core.id_lists import any_of
from billing.core.money import sum_money, to_money
from billing.core.time import practice_today
from billing.core.unit_of_work import unit_of_work
from billing.edi.pyx12 import VALIDATION_WORKERS
from billing.edi.x837p import Body, Envelope, WrittenFile, enveloped, transactions_needed, write_837, write_bodies
from billing.edi.x837p_checks import Checking, FileError
from billing.ledger.charges import post_submission_charges
from billing.submissions import sftp
from billing.submissions.control_numbers import reserve_control_numbers
from billing.submissions.loading import Loaded, claim_facts, load_claims
from billing.submissions.models import BatchClaim, BatchStatus, Clearinghouse, SendMethod, SubmissionBatch
from billing.submissions.queries import (
    Standing,
    batch_by_id,
    clearinghouse_by_id,
    pending_batch_of,
    ready_claim_ids,
    standings,
)
from rules.eligibility import RuleStop, run_stops, submission_blockers
from rules.runs import run_rules

Uploader = Callable[[sftp.SftpSettings, str, bytes], None]
#: Looks for a file in the inbound folder: how a retry of an interrupted send finds an earlier upload.
Finder = Callable[[sftp.SftpSettings, str], sftp.RemoteStat | None]
logger = logging.getLogger(__name__)
FILE_NAME = re.compile(r"[A-Za-z0-9._-]+")
#: From this many claims a file is validated in a worker process: below it, starting one costs more than it saves.
PARALLEL_FROM_CLAIMS = 500


class BatchRefused(Invalid):
    """The file failed validation (or claims could not be written); nothing was saved."""

    def __init__(self, errors: list[FileError]) -> None:
        claims = sorted({e.claim_number for e in errors if e.claim_number})
        head = f"The 837P was refused: {len(errors)} problem(s)"
        head += f" in claim(s) {', '.join(claims[:10])}{' ...' if len(claims) > 10 else ''}." if claims else "."
        super().__init__(f"{head} First: {errors[0]}", errors)
        self.errors = errors


@dataclass
class Generation:
    """What Generate did: the batches it made, and what the rules it ran first kept out."""

    batches: list[SubmissionBatch]
    #: Claims the rules stopped in the run just made (held, failed, delayed, rule errors), each with rule and why.
    held: list[RuleStop] = field(default_factory=list)
    run_number: int | None = None


def create_batches(
    *, actor: Actor, payer_id: int | None = None, claim_ids: Collection[int] | None = None, today: date | None = None
) -> list[SubmissionBatch]:
    """`generate_batches`, for callers that need batches: nothing to batch is refused, the rules' run included."""
    generation = generate_batches(actor=actor, payer_id=payer_id, claim_ids=claim_ids, today=today)
    if not generation.batches:
        raise NothingToDo("There are no eligible claims to submit: the rules stopped "
                          + "; ".join(stop.describe() for stop in generation.held[:10]))
    return generation.batches


def generate_batches(
    *, actor: Actor, payer_id: int | None = None, claim_ids: Collection[int] | None = None, today: date | None = None,
    clearinghouse_id: int | None = None,
) -> Generation:
    """Run the rules on the Ready claims a batch would take, then one validated 837P per clearinghouse from what
    they let through (all eligible claims, or the chosen ones).

    No claim leaves unchecked: the run is a billing run like any other (failed charges, holds, delays, history),
    so a claim edited since the last run, or billed today, is held here rather than sent. Claims the rules stop
    are left out and reported, chosen or not; when they stop every claim, the run stands and no batch is made.
    Other claims that cannot go are left out, not refused, unless chosen by id: a void still waiting for the
    payer's claim number blocks only itself (`queries.waiting_voids` names them for the caller to report).

    Args:
        today: the day the rules judge by (the practice's today unless given: the demo replays past weeks).
        clearinghouse_id: only the claims going through this clearinghouse (the nightly job's unit of work).
    """
    plan = plan_batches(actor=actor, payer_id=payer_id, claim_ids=claim_ids, today=today,
                        clearinghouse_id=clearinghouse_id)  # fmt: skip
    return Generation(build_planned(plan.parts, payer_id, actor), plan.held, plan.run_number)


@dataclass
class Plan:
    """The batches a generation will make: per clearinghouse, the ids of its eligible claims cut at its most per
    file. Ids only (8 bytes a claim in an array): a plan over a million Ready claims must not hold a row per claim."""

    parts: list[tuple[int, Sequence[int]]]
    held: list[RuleStop]
    run_number: int | None

    @property
    def claim_count(self) -> int:
        return sum(len(part) for _, part in self.parts)


def plan_batches(
    *, actor: Actor, payer_id: int | None = None, claim_ids: Collection[int] | None = None, today: date | None = None,
    clearinghouse_id: int | None = None,
) -> Plan:
    """The first half of `generate_batches`: the rules' run, then the eligible claims cut into batches."""
    to_check = ready_claim_ids(payer_id, claim_ids, clearinghouse_id)
    # Only the run's number is used: a report line per claim named (856k of them) is not wanted here.
    run = run_rules(actor=actor, claim_ids=to_check, today=today, report_each=False) if to_check else None
    del to_check
    held = run_stops(run.run_number, today=today) if run is not None else []
    stopped = {stop.claim_id for stop in held}
    wanted = None if claim_ids is None else set(claim_ids) - stopped
    sorting = _Sorting(wanted)
    for chunk in standings(payer_id, claim_ids=wanted, clearinghouse_id=clearinghouse_id):
        sorting.add(chunk)
    run_number = run.run_number if run else None
    if held and not sorting.any_eligible:
        return Plan([], held, run_number)
    sorting.refuse_if_wrong(wanted)
    parts = [(house_id, group[start:start + size]) for house_id, group in sorted(sorting.by_house.items())
             for size in [clearinghouse_by_id(house_id).max_claims_per_file]
             for start in range(0, len(group), size)]  # fmt: skip
    return Plan(parts, held, run_number)


class _Sorting:
    """The claims a plan reads, a chunk at a time, sorted into their clearinghouses (ids, in the order read).

    Kept per claim: its id, when eligible. What the refusals need of the others is kept only when it can be
    used: the chosen claims' (a chosen claim that cannot go refuses the generation), and the waiting voids'
    numbers (named when nothing can go)."""

    def __init__(self, wanted: set[int] | None) -> None:
        self.by_house: dict[int, array[int]] = {}
        self.any_eligible = False
        self.found: set[int] | None = None if wanted is None else set()
        self.refused: list[Standing] = []
        self.waiting: list[str] = []

    def add(self, chunk: list[Standing]) -> None:
        for claim in chunk:
            if self.found is not None:
                self.found.add(claim.claim_id)
            if claim.eligible:
                self.any_eligible = True
                self.by_house.setdefault(claim.clearinghouse_id or 0, array("q")).append(claim.claim_id)
                continue
            if self.found is not None:
                self.refused.append(claim)
            if claim.awaits_payer_number and not self.any_eligible:
                self.waiting.append(claim.number)

    def refuse_if_wrong(self, wanted: set[int] | None) -> None:
        """As `generate_batches` refuses: no claim chosen, one chosen that is not Ready (or is in a batch) or cannot
        go, or nothing eligible at all."""
        if wanted is not None:
            if not wanted:
                raise Invalid("Select at least one claim to put in the batch.")
            missing = wanted - (self.found or set())
            if missing:
                numbers = ", ".join(claim_number(i) for i in sorted(missing))
                raise ValidationFailed([Problem("claims", f"Not Ready or already in a batch: {numbers}.")])
            if self.refused:
                raise ValidationFailed([Problem("claims", f"{c.number}: {c.reason}") for c in self.refused])
        if not self.any_eligible:
            raise NothingToDo("There are no eligible claims to submit." + (
                f" Waiting for the payer's claim number (ICN): {', '.join(self.waiting)}." if self.waiting else ""))


def build_planned(
    parts: list[tuple[int, Sequence[int]]], payer_id: int | None, actor: Actor
) -> list[SubmissionBatch]:
    """The planned batches, in the caller's transaction; a file is validated while the next one is written."""
    batches: list[SubmissionBatch] = []
    checking: deque[tuple[SubmissionBatch, Checking]] = deque()
    try:
        for house_id, part in parts:
            batches.append(_create_batch(clearinghouse_by_id(house_id), part, payer_id, actor, checking))
            while len(checking) > VALIDATION_WORKERS:  # the next file is built while these validate
                _refuse_if_invalid(*checking.popleft())
        while checking:
            _refuse_if_invalid(*checking.popleft())
    finally:
        for _batch, check in checking:
            check.close()
    return batches


def build_part(
    house_id: int, claim_ids: Collection[int], payer_id: int | None, actor: Actor, *,
    prepared: Prepared | None = None, meanwhile: Callable[[], None] | None = None,
) -> SubmissionBatch | None:
    """One planned batch in a transaction of its own (a background build): its claims are checked again, so a
    claim held, edited or batched since the plan stays out; None when none of them can go any more.

    Args:
        prepared: this part read and written ahead (`prepare_part`, in the transaction before); checked again here
            under the claims' locks, and read again if any claim changed since.
        meanwhile: run while pyx12 validates the file (a stepped generation prepares the next batch there), before
            the verdict is awaited; what it raises rolls this batch back too, so it should raise nothing.
    """
    ready = prepared if prepared is not None else prepare_part(house_id, claim_ids, payer_id)
    started = _start_batch(clearinghouse_by_id(house_id), ready, payer_id, actor) if ready.frequencies else None
    del ready, prepared  # written into the file now: while it validates, only the part read ahead is held
    try:
        if meanwhile is not None:
            meanwhile()
        if started is None:
            return None
        _refuse_if_invalid(*started)
    finally:
        if started is not None:
            started[1].close()
    return started[0]


@dataclass
class Prepared:
    """A planned batch read and written before its transaction: its claims (id -> frequency, in the file's order)
    with the version each had when read, their facts and problems, and the file's transactions without envelope.

    What the batch's transaction adds (the lock, the control numbers, the batch row, the envelope) is cheap; this is
    the expensive part, done while the previous batch's file validates. The versions say whether it still holds:
    a claim edited, held or moved since it was read has a newer one (every change to a claim moves it)."""

    house_id: int
    payer_id: int | None
    frequencies: dict[int, str]
    versions: dict[int, int]
    loaded: Loaded
    bodies: list[Body]


def prepare_part(house_id: int, claim_ids: Collection[int], payer_id: int | None) -> Prepared:
    """Read and write one planned batch of a stepped generation without changing anything (no lock, no row).

    The versions are read first: a change committed after that, even one racing the eligibility check below, gives
    a claim a newer version than the one kept, which the batch's transaction sees under its lock."""
    versions = _versions(claim_ids)
    found = [c for chunk in standings(payer_id, claim_ids=claim_ids) for c in chunk
             if c.eligible and c.clearinghouse_id == house_id]  # fmt: skip
    return _prepare(house_id, payer_id, {c.claim_id: c.frequency_code for c in found}, versions)


def _prepare(house_id: int, payer_id: int | None, frequencies: Mapping[int, str], versions: Mapping[int, int],
             ) -> Prepared:  # fmt: skip
    ordered = {i: frequencies[i] for i in sorted(frequencies)}  # the file and its entries go in claim id order
    loaded = claim_facts(ordered)
    bodies = [] if loaded.problems else write_bodies(loaded.facts)
    return Prepared(house_id, payer_id, ordered, {i: versions[i] for i in ordered if i in versions}, loaded, bodies)


def _versions(claim_ids: Collection[int]) -> dict[int, int]:
    return {i: v for chunk in chunked(sorted(claim_ids), 10_000)
            for i, v in db.session.execute(select(Claim.id, Claim.version).where(any_of(Claim.id, chunk)))}  # fmt: skip


def _create_batch(
    house: Clearinghouse, claim_ids: Sequence[int], payer_id: int | None, actor: Actor,
    checking: deque[tuple[SubmissionBatch, Checking]],
) -> SubmissionBatch:
    """The batch and its file; pyx12 checks the file (in a worker, for a large one) and the caller awaits the
    verdict from `checking`, building the next file meanwhile."""
    started = _start_batch(house, prepare_part(house.id, claim_ids, payer_id), payer_id, actor)
    if started is None:
        raise Conflict("Every claim of the batch changed while it was being built and none can go now; "
                       "reload the page and generate again.")  # fmt: skip
    checking.append(started)
    return started[0]


def _start_batch(
    house: Clearinghouse, prepared: Prepared, payer_id: int | None, actor: Actor
) -> tuple[SubmissionBatch, Checking] | None:
    """The batch of a prepared part, its file's validation started; the caller awaits the verdict and closes it.
    None when, read again because claims changed, none of them can go any more.

    Set-based, as marking sent is: the claims are locked and read as rows in one query, and the entries go in
    with one executemany (5,000 BatchClaim objects cost the ORM's flush about a third of the batch's CPU). The
    validation starts before the entries and history are written, so those overlap it too.
    """
    claims = _lock_claim_rows(list(prepared.frequencies))
    if {c.id: c.version for c in claims} != prepared.versions:
        # A claim changed (or went) since the part was read: read it again, now under the locks, so the file is
        # built from the claims as they are and only the ones still eligible go.
        prepared = prepare_part(house.id, list(prepared.frequencies), prepared.payer_id)
        claims = [c for c in claims if c.id in prepared.frequencies]
        if not claims:
            return None
    if prepared.loaded.problems:
        raise BatchRefused([
            FileError(None, "", problem, claim_number(claim_id))
            for claim_id, found in prepared.loaded.problems.items()
            for problem in found
        ])  # fmt: skip
    frequencies = prepared.frequencies
    control = reserve_control_numbers(house.id, transactions_needed(len(frequencies)))
    batch = SubmissionBatch(
        clearinghouse=house, payer_id=payer_id, control_number=control, usage_indicator=house.usage_indicator,
        created_at=utcnow(), created_by=actor.name, file_name="", content="",
    )  # fmt: skip
    db.session.add(batch)
    db.session.flush()
    written = enveloped(envelope_for(batch), prepared.bodies)
    check = Checking(written.text, written.claim_at, parallel=len(frequencies) >= PARALLEL_FROM_CLAIMS)
    try:
        batch.content, batch.transaction_count = written.text, written.transaction_count
        batch.claim_count, batch.total_charge = len(frequencies), sum_money(f.total for f in prepared.loaded.facts)
        _write_entries(batch, claims, frequencies, written, actor)
    except BaseException:
        check.close()
        raise
    return batch, check


def _write_entries(batch: SubmissionBatch, claims: Sequence[Row[tuple[int, int, Decimal, ClaimStatus]]],
                   frequencies: Mapping[int, str], written: WrittenFile, actor: Actor) -> None:  # fmt: skip
    places = written.claim_places
    no_place = (None, None, None)
    db.session.execute(insert(BatchClaim.__table__), [
        dict(zip(_ENTRY_COLUMNS, (batch.id, c.id, i, frequencies[c.id], c.total_charge, c.version, True,
                                  *places.get(claim_number(c.id), no_place)), strict=True))
        for i, c in enumerate(claims, start=1)
    ])  # fmt: skip
    batch.file_name = file_name_for(batch.clearinghouse.file_name_pattern, batch)
    record_changes("claim", [
        Change(c.id, AuditAction.CLAIM_BATCHED, c.status.value, c.status.value, f"In batch {batch.number}")
        for c in claims
    ], actor=actor)  # fmt: skip
    record_change("batch", batch.id, AuditAction.BATCH_CREATED, actor=actor, after=batch.status.value,
                  data={"claims": len(claims), "control_number": batch.control_number})  # fmt: skip
    db.session.flush()


_ENTRY_COLUMNS = ("batch_id", "claim_id", "position", "frequency_code", "charge", "claim_version", "pending",
                  "transaction_control", "first_segment", "last_segment")


def _lock_claim_rows(claim_ids: Sequence[int]) -> list[Row[tuple[int, int, Decimal, ClaimStatus]]]:
    """(id, version, total charge, status) in id order, locked on PostgreSQL as `_lock_claims` locks them."""
    query = (select(Claim.id, Claim.version, Claim.total_charge, Claim.status).where(any_of(Claim.id, claim_ids))
             .order_by(Claim.id).with_for_update())  # fmt: skip
    return list(db.session.execute(query))


def _lock_claims(claim_ids: Sequence[int]) -> list[Claim]:
    """Load in id order, locked on PostgreSQL so a hold or edit racing the batch waits for it."""
    db.session.execute(select(Claim.id).where(any_of(Claim.id, claim_ids)).order_by(Claim.id).with_for_update())
    loaded = load_claims(claim_ids)
    return [loaded[i] for i in sorted(loaded)]


def _write(batch: SubmissionBatch, claims: list[Claim], *, parallel: bool = False) -> Checking:
    """Build the file of the batch's entries and start its validation; `_refuse_if_invalid` awaits the verdict.

    With `parallel`, a file of `PARALLEL_FROM_CLAIMS` or more is validated by a worker process
    (billing.edi.pyx12, as the 835 import does); a refused file raises there and the transaction rolls back.
    """
    frequencies = {e.claim_id: e.frequency_code for e in batch.entries}
    check, written = _write_file(batch, [c.id for c in claims], frequencies, parallel=parallel)
    _keep_segment_map(batch, claims, written)
    return check


def _write_file(
    batch: SubmissionBatch, claim_ids: list[int], frequencies: Mapping[int, str], *, parallel: bool
) -> tuple[Checking, WrittenFile]:
    """The file of these claims (in this order) on the batch, its validation started."""
    loaded = claim_facts({i: frequencies[i] for i in claim_ids})
    if loaded.problems:
        raise BatchRefused([
            FileError(None, "", problem, claim_number(claim_id))
            for claim_id, found in loaded.problems.items()
            for problem in found
        ])  # fmt: skip
    written = write_837(envelope_for(batch), loaded.facts)
    check = Checking(written.text, written.claim_at, parallel=parallel and len(claim_ids) >= PARALLEL_FROM_CLAIMS)
    batch.content = written.text
    batch.transaction_count = written.transaction_count
    batch.claim_count = len(claim_ids)
    batch.total_charge = sum_money(f.total for f in loaded.facts)
    return check, written


def _refuse_if_invalid(batch: SubmissionBatch, check: Checking) -> None:
    try:
        errors = check.errors()
    finally:
        check.close()
    if errors:
        raise BatchRefused(errors)


def _keep_segment_map(batch: SubmissionBatch, claims: list[Claim], written: WrittenFile) -> None:
    """Each entry keeps its transaction (ST02) and segment positions from ST = 1, for tracing a 999's errors."""
    numbers = {c.id: c.number for c in claims}
    for entry in batch.entries:
        place = written.claim_places.get(numbers.get(entry.claim_id, ""))
        if place is not None:
            entry.transaction_control, entry.first_segment, entry.last_segment = place


def envelope_for(batch: SubmissionBatch) -> Envelope:
    house = batch.clearinghouse
    return Envelope(
        sender_qualifier=house.isa_sender_qualifier,
        sender_id=house.isa_sender_id,
        receiver_qualifier=house.isa_receiver_qualifier,
        receiver_id=house.isa_receiver_id,
        gs_sender=house.gs_sender_code,
        gs_receiver=house.gs_receiver_code,
        usage_indicator=batch.usage_indicator,
        control_number=batch.control_number,
        created_at=batch.created_at,
        submitter_name=house.submitter_name,
        submitter_etin=house.submitter_etin,
        contact_name=house.submitter_contact_name,
        contact_phone=house.submitter_contact_phone,
        contact_email=house.submitter_contact_email,
        receiver_name=house.receiver_name,
        receiver_etin=house.receiver_id,
        reference=batch.number,
    )


def file_name_for(pattern: str, batch: SubmissionBatch) -> str:
    stamp: datetime = batch.created_at
    name = pattern.format(
        batch=batch.number, control=f"{batch.control_number:09d}", date=stamp.strftime("%Y%m%d"),
        time=stamp.strftime("%H%M%S"),
    )  # fmt: skip
    if not FILE_NAME.fullmatch(name):
        raise Invalid(f"The file name pattern makes {name!r}; use letters, digits, '.', '_' and '-' only.")
    return name


def _editable(batch: SubmissionBatch) -> None:
    if batch.status is not BatchStatus.GENERATED:
        raise NotAllowed(f"Batch {batch.number} is {batch.status.label} and read-only.")


def remove_claim_from_batch(batch: SubmissionBatch, claim: Claim, *, actor: Actor) -> SubmissionBatch:
    """Take a claim out of an unsent batch; the file is rebuilt without it (or the batch cancelled)."""
    _editable(batch)
    entry = next((e for e in batch.entries if e.claim_id == claim.id), None)
    if entry is None:
        raise NotFound(f"Claim {claim.number} is not in batch {batch.number}.")
    batch.entries.remove(entry)
    db.session.flush()
    record_change("claim", claim.id, AuditAction.CLAIM_UNBATCHED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=f"Taken out of batch {batch.number}")  # fmt: skip
    if not batch.entries:
        batch.status = BatchStatus.CANCELLED
        batch.claim_count, batch.total_charge = 0, to_money(0)
        record_change("batch", batch.id, AuditAction.BATCH_CANCELLED, actor=actor, before="generated",
                      after="cancelled", reason=f"Its last claim {claim.number} was taken out")  # fmt: skip
        return batch
    rebuild_batch(batch, actor=actor)
    return batch


def take_out_of_unsent_batch(claim: Claim, actor: Actor) -> None:
    """The claims hook `take_out_of_batch`: a claim withdrawn from billing leaves the batch it waits in."""
    if (batch := pending_batch_of(claim.id)) is not None:
        remove_claim_from_batch(batch, claim, actor=actor)


def rebuild_batch(batch: SubmissionBatch, *, actor: Actor) -> SubmissionBatch:
    """Write the file again from the claims as they are now (same control numbers: it was never sent)."""
    _editable(batch)
    claims = _lock_claims([e.claim_id for e in batch.entries])
    _check_still_sendable(batch, {c.id: c for c in claims}, check_versions=False)
    for entry in batch.entries:
        claim = next(c for c in claims if c.id == entry.claim_id)
        entry.claim_version, entry.charge = claim.version, claim.total_charge
    _refuse_if_invalid(batch, _write(batch, claims))
    record_change("batch", batch.id, AuditAction.BATCH_CREATED, actor=actor, after=batch.status.value,
                  reason="File rebuilt", data={"claims": batch.claim_count})  # fmt: skip
    return batch


def _check_still_sendable(batch: SubmissionBatch, claims: dict[int, Claim], *, check_versions: bool) -> None:
    problems = []
    for entry in batch.entries:
        claim = claims[entry.claim_id]
        expected = ClaimStatus.VOIDED if entry.frequency_code == "8" else ClaimStatus.READY
        if claim.status is not expected or (entry.frequency_code == "8" and not claim.void_to_send):
            problems.append(Problem("claims", f"{claim.number} is {claim.status.label} now; take it out of the batch."))
        elif check_versions and claim.version != entry.claim_version:
            problems.append(Problem("claims", f"{claim.number} changed after the file was built; rebuild the file."))
    ready = [e.claim_id for e in batch.entries if claims[e.claim_id].status is ClaimStatus.READY]
    blocked = submission_blockers(ready)
    problems += [
        Problem("claims", f"{claims[i].number}: {why}; take it out of the batch.") for i, why in blocked.items()
    ]
    if problems:
        raise ValidationFailed(problems)


def send_batch(
    batch_id: int, *, actor: Actor, uploader: Uploader = sftp.upload, finder: Finder = sftp.find_uploaded
) -> SubmissionBatch:
    """Upload the file to the clearinghouse's inbound folder, then mark every claim Submitted.

    Unlike other operations this one commits, in steps: an upload cannot be rolled back, so the batch is
    committed as Sending (with who and when) before the file leaves, and completed in a second
    transaction after. A batch left Sending (the process died, the connection broke, the completion
    failed) is sent again the same way, except that the inbound folder is looked at first: a file of
    that name and size is taken as delivered and not uploaded again.

    The batch row (on SQLite, the database) stays locked from the second check to the second commit,
    across the upload: a second Send waits, then finds the batch sent and refuses. An upload that
    certainly did not arrive (SendFailed) puts the batch back to Generated.
    """
    with unit_of_work():
        _start_sending(batch_id, actor)
    try:
        with unit_of_work():
            batch = _lock_while_sending(batch_id)
            number = batch.number
            try:
                found = _deliver(batch, uploader, finder)
                return _complete(batch, actor, SendMethod.SFTP, found_on_server=found)
            except BillingError as exc:
                raise StillSending(number, exc) from None
    except _NotDelivered as failed:
        with unit_of_work():
            _back_to_generated(batch_id, actor, failed.error)
        raise failed.error from None


class StillSending(Failed):
    """The send stopped after the batch went Sending, where the file may have arrived; a retry looks first."""

    def __init__(self, number: str, cause: BillingError) -> None:
        super().__init__(f"{cause.message} Batch {number} stays Sending: Send again looks for its file on the "
                         "server first and uploads only if it is not there.")  # fmt: skip


class _NotDelivered(Exception):  # a signal inside send_batch, never seen outside
    def __init__(self, error: sftp.SendFailed) -> None:
        super().__init__(error.message)
        self.error = error


def _start_sending(batch_id: int, actor: Actor) -> None:
    """Checked as any send, then committed as Sending: from here the file may be at the clearinghouse."""
    batch = _lock_for_sending(batch_id)
    settings = sftp_settings(batch.clearinghouse)
    before, retry = batch.status.value, batch.status is BatchStatus.SENDING
    batch.status, batch.send_started_at, batch.send_started_by = BatchStatus.SENDING, utcnow(), actor.name
    batch.send_attempts += 1
    note = "; an earlier attempt did not finish, so the server is checked first" if retry else ""
    record_change("batch", batch.id, AuditAction.BATCH_SENDING, actor=actor, before=before, after="sending",
                  reason=f"Uploading {batch.file_name} to {settings.host} (attempt {batch.send_attempts}){note}",
                  data={"attempt": batch.send_attempts})  # fmt: skip
    db.session.flush()


def _lock_while_sending(batch_id: int) -> SubmissionBatch:
    """The batch again, locked until the completion commits; someone else may have finished it meanwhile."""
    _take_sqlite_write_lock(batch_id)
    batch = batch_by_id(batch_id, for_update=True)
    _refuse_sent(batch)
    if batch.status is not BatchStatus.SENDING:
        raise Conflict(f"Another send of batch {batch.number} failed a moment ago; nothing was uploaded by this "
                       "one. Press Send again.")  # fmt: skip
    return batch


def _deliver(batch: SubmissionBatch, uploader: Uploader, finder: Finder) -> bool:
    """Upload the file, unless an earlier attempt already did; True when it was found on the server."""
    settings = sftp_settings(batch.clearinghouse)
    content = batch.content.encode("ascii")
    if batch.send_attempts > 1:  # an earlier attempt may have uploaded it before it stopped
        found = finder(settings, batch.file_name)
        if found is not None:
            if found.size is not None and found.size != len(content):
                raise Conflict(
                    f"{settings.host} has a file named {batch.file_name} of {found.size} bytes, but batch "
                    f"{batch.number}'s file has {len(content)}: it is not this batch's file. Nothing was uploaded; "
                    "ask the clearinghouse about it. The batch stays Sending."
                )
            return True
    try:
        uploader(settings, batch.file_name, content)
    except sftp.SendFailed as exc:
        raise _NotDelivered(exc) from None
    except BillingError:
        raise
    except Exception as exc:  # a connection library's own error: whether the file arrived is unknown
        logger.warning("Upload of batch %s stopped: %s", batch.number, type(exc).__name__)
        raise sftp.UploadOutcomeUnknown(
            f"The upload of {batch.file_name} stopped ({type(exc).__name__}); the file may or may not have arrived."
        ) from None
    return False


def _back_to_generated(batch_id: int, actor: Actor, error: sftp.SendFailed) -> None:
    """The upload certainly did not arrive: the batch is editable again, and the history says why."""
    batch = batch_by_id(batch_id, for_update=True)
    if batch.status is not BatchStatus.SENDING:
        return
    batch.status = BatchStatus.GENERATED
    record_change("batch", batch.id, AuditAction.BATCH_SEND_FAILED, actor=actor, before="sending",
                  after="generated", reason=f"Not uploaded: {error.message}"[:2000])  # fmt: skip
    db.session.flush()


def mark_batch_sent(batch_id: int, *, actor: Actor, sent_on: date | None = None) -> SubmissionBatch:
    """After a manual upload of the downloaded file: the same completion as an SFTP send.

    A batch left Sending may be marked too: the clearinghouse confirmed it has the file.

    Args:
        sent_on: the day the file was uploaded when that was before today; its charges are dated that day.
    """
    if sent_on is not None and sent_on > practice_today():
        raise ValidationFailed([Problem("sent_on", f"{sent_on:%m/%d/%Y} is in the future; give the upload date.")])
    return _complete(_lock_for_sending(batch_id), actor, SendMethod.MANUAL, sent_on=sent_on)


def _lock_for_sending(batch_id: int) -> SubmissionBatch:
    """The batch locked, still sendable: Generated, or left Sending by an attempt that did not finish."""
    _take_sqlite_write_lock(batch_id)
    batch = batch_by_id(batch_id, for_update=True)
    _refuse_sent(batch)
    if batch.status is not BatchStatus.SENDING:
        _editable(batch)
    claims = _lock_claims([e.claim_id for e in batch.entries])
    # A Sending batch's file may already be at the clearinghouse: it goes as built even if a claim was
    # edited since (a rebuild would be a different file); only a claim that can no longer go stops it.
    try:
        _check_still_sendable(batch, {c.id: c for c in claims}, check_versions=batch.status is BatchStatus.GENERATED)
    except ValidationFailed as exc:
        if batch.status is BatchStatus.SENDING:  # it cannot be taken apart: its file may be at the clearinghouse
            raise NotAllowed(
                f"Batch {batch.number} was being sent when an attempt stopped, so its file may already be at the "
                f"clearinghouse, but its claims changed since: {'; '.join(p.message for p in exc.problems)} Put the "
                "claims back as they were, then send again (or mark it as uploaded if the clearinghouse has it)."
            ) from None
        raise
    return batch


def _refuse_sent(batch: SubmissionBatch) -> None:
    if batch.status is BatchStatus.SENT:
        raise Conflict(f"Batch {batch.number} was already sent ({batch.sent_how.value if batch.sent_how else ''}"
                       f" by {batch.sent_by}); it is never sent twice.")  # fmt: skip


def _take_sqlite_write_lock(batch_id: int) -> None:
    """SQLite ignores FOR UPDATE; a no-op UPDATE takes its database write lock for the rest of the send.

    A second sender then waits for the first to commit (and finds the batch sent), or, when SQLite
    refuses to wait because that transaction already read, is told to retry: never a second upload.
    """
    if db.session.get_bind().dialect.name != "sqlite":
        return
    try:
        db.session.execute(
            update(SubmissionBatch).where(SubmissionBatch.id == batch_id).values(status=SubmissionBatch.status)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
    except OperationalError:
        raise Conflict("This batch is being sent by someone else right now; reload the page in a moment.") from None


def _complete(
    batch: SubmissionBatch, actor: Actor, how: SendMethod, *, sent_on: date | None = None, found_on_server: bool = False
) -> SubmissionBatch:
    """Every claim of the batch goes Submitted (a void goes out), and the bills enter the ledger, dated the send."""
    reason = f"Sent in batch {batch.number} ({how.value}, file {batch.file_name})"
    before = batch.status.value
    # One query for the claims: `entry.claim` would load them one by one (the locked ones may be collected).
    ids = [e.claim_id for e in batch.entries]
    claims = {c.id: c for c in db.session.scalars(select(Claim).where(any_of(Claim.id, ids)))}
    submit_claims([(claims[e.claim_id], e.frequency_code) for e in batch.entries], actor=actor, reason=reason,
                  sent_on=sent_on or practice_today())  # fmt: skip
    db.session.execute(
        update(BatchClaim).where(BatchClaim.batch_id == batch.id).values(pending=False)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    for entry in batch.entries:  # one UPDATE above, not one per entry at the flush
        set_committed_value(entry, "pending", False)
    batch.status, batch.sent_at, batch.sent_by, batch.sent_how = BatchStatus.SENT, utcnow(), actor.name, how
    stamp = {"control_number": batch.control_number, "claims": batch.claim_count, "found_on_server": found_on_server}
    if found_on_server:
        reason += "; an earlier attempt had uploaded it (found on the server), so it was not uploaded again"
    record_change("batch", batch.id, AuditAction.BATCH_SENT, actor=actor, before=before, after="sent",
                  reason=reason, data=stamp)
    db.session.flush()
    return batch


def submit_claims(sent: Sequence[tuple[Claim, str]], *, actor: Actor, reason: str, sent_on: date) -> None:
    """The claims reached the payer (a batch sent, a paper print mailed): each goes Submitted (a void goes out),
    and their bills enter the ledger dated the day they were sent. Callers lock the claims first.

    Set-based: one UPDATE moves every claim and bumps its version, one INSERT writes their history rows.
    """
    for claim, frequency_code in sent:
        if frequency_code == "8":  # rare: a void keeps its status and only stops waiting to go out
            claim.void_to_send = False
            record_change("claim", claim.id, AuditAction.CLAIM_VOID_SENT, actor=actor, before=claim.status.value,
                          after=claim.status.value, reason=reason)  # fmt: skip
    transition_loaded([claim for claim, frequency_code in sent if frequency_code != "8"], ClaimStatus.SUBMITTED,
                      action=AuditAction.CLAIM_SUBMITTED, actor=actor, reason=reason)  # fmt: skip
    # The payer has the bill from now on: it is owed (A/R) until paid, adjusted, written off or withdrawn.
    post_submission_charges([claim for claim, _ in sent], actor=actor, posted_on=sent_on)


def file_for_download(batch_id: int) -> SubmissionBatch:
    """The batch whose stored (validated) file may be handed out: never a cancelled one, never a stale one.

    An unsent batch is checked as a send would be, so a claim held or edited since the file was built
    stops the download too: the office would otherwise upload a file that no longer matches its claims.
    """
    batch = batch_by_id(batch_id)
    if batch.status is BatchStatus.CANCELLED or not batch.content:
        raise NotAllowed(f"Batch {batch.number} is cancelled and has no file.")
    if batch.status is BatchStatus.GENERATED:
        claims = load_claims([e.claim_id for e in batch.entries])
        _check_still_sendable(batch, claims, check_versions=True)
    return batch


def sftp_settings(house: Clearinghouse) -> sftp.SftpSettings:
    if not (house.sftp_host and house.sftp_username and house.sftp_host_key):
        raise NotAllowed(
            f"Clearinghouse {house.name} has no SFTP host, user or host key; download the file and upload it "
            "by hand, or complete the settings."
        )
    return sftp.SftpSettings(
        host=house.sftp_host, port=house.sftp_port, username=house.sftp_username, host_key=house.sftp_host_key,
        password=house.sftp_password, private_key=house.sftp_private_key, inbound_folder=house.inbound_folder,
        outbound_folder=house.outbound_folder,
    )  # fmt: skip

