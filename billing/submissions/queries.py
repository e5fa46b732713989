"""Which claims may go into a batch, what is in a batch, and what authorizations have used."""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload

from billing.claims.models import Claim, ClaimLine, claim_number, payer_claim_number_problem
from billing.claims.queries import live_claim_filter
from billing.claims.statuses import SENT, ClaimStatus
from billing.core.audit import StatusChange
from billing.core.checks import parse_id
from billing.core.db import chunked, db
from billing.core.errors import Invalid, NotFound
from billing.core.id_lists import any_of
from billing.coverage.models import Authorization, ClaimChannel, Payer
from billing.org.queries import Scope, by_company, by_location
from billing.submissions.models import BatchClaim, BatchStatus, Clearinghouse, ClearinghouseResponse, SubmissionBatch
from rules.eligibility import submission_blockers, unchecked_claims

#: Claims that reached the payer: their lines use authorization units.


@dataclass(frozen=True)
class Candidate:
    """A claim the New submission page lists: eligible (reason None) or not, and why."""

    claim_id: int
    number: str
    client: str
    payer: str
    payer_id: int
    clearinghouse_id: int | None
    service_date: date
    total: Decimal
    frequency_code: str  # as it would go out: 1, 7 or 8
    reason: str | None
    #: A void (or correction) that cannot go until it carries a usable payer claim number (ICN) for REF*F8.
    awaits_payer_number: bool = False
    #: No billing run has evaluated the claim as it is now (new today, or changed since): Generate checks it first.
    unchecked: bool = False

    @property
    def eligible(self) -> bool:
        return self.reason is None

    def describe(self) -> str:
        """"C-000012: why it cannot go", as a flash, the CLI and a job summary name a claim left out."""
        return f"{self.number}: {self.reason}" if self.reason else self.number


def pending_claim_ids(claim_ids: Collection[int] | None = None) -> set[int]:
    query = select(BatchClaim.claim_id).where(BatchClaim.pending)
    if claim_ids is not None:
        query = query.where(any_of(BatchClaim.claim_id, claim_ids))
    return set(db.session.scalars(query))


def candidates(
    payer_id: int | None = None, scope: Scope | None = None, claim_ids: Collection[int] | None = None,
    clearinghouse_id: int | None = None,
) -> list[Candidate]:
    """Ready claims (and voids still to send) of EDI payers, each with the reason it cannot go, if any.

    Voids are not Ready, so the eligibility question about Ready claims does not apply to them; they
    only need a clearinghouse and the payer's claim number (ICN). A void without a usable one is listed
    with that reason and left out, so it blocks only itself, never the batch.
    `claim_ids` limits the answer to those claims (a batch of chosen claims need not load every Ready one);
    `clearinghouse_id` to the claims of the payers sent through that clearinghouse (one unit of the nightly job).
    """
    house = clearinghouse_id
    if claim_ids is not None:
        found = [c for ids in chunked(sorted(claim_ids), CANDIDATE_CHUNK)
                 for c in _candidates(payer_id, scope, ids, clearinghouse_id=house)]  # fmt: skip
        return sorted(found, key=lambda c: (c.payer, c.claim_id))
    return _candidates(payer_id, scope, None, clearinghouse_id=house)


#: Chosen claims asked about per query: PostgreSQL binds at most 65,535 parameters in one statement.
CANDIDATE_CHUNK = 10_000


def waiting_voids(
    payer_id: int | None = None, scope: Scope | None = None, clearinghouse_id: int | None = None
) -> list[Candidate]:
    """Voids to send that wait for the payer's claim number (ICN): each one's candidate, with why it cannot go.

    Batches leave these out; generation (the page, the CLI, the nightly job) names them so a biller can
    enter the number, or mark the void not needed.
    """
    found = _candidates(payer_id, scope, None, voids_only=True, clearinghouse_id=clearinghouse_id)
    return [c for c in found if c.awaits_payer_number]


def ready_claim_ids(
    payer_id: int | None = None, claim_ids: Collection[int] | None = None, clearinghouse_id: int | None = None
) -> array[int]:
    """The Ready claims a batch would take before the rules look at them: what Generate runs the rules on.

    In id order, 8 bytes each in an array, read a chunk at a time: a billing company's 856k Ready claims as a list
    of int objects took 31 MB, and their result at once as much again in the driver."""
    house = clearinghouse_id
    found: array[int] = array("q")
    chunks: Iterable[list[int] | None] = [None] if claim_ids is None else chunked(sorted(claim_ids),
                                                                                 CANDIDATE_CHUNK)
    for ids in chunks:
        query = (_candidate_query(payer_id, None, ids, ready_only=True, clearinghouse_id=house)
                 .with_only_columns(Claim.id).order_by(None).order_by(Claim.id))  # fmt: skip
        for rows in db.session.execute(query.execution_options(yield_per=CANDIDATE_LOAD)).partitions():
            found.extend(row[0] for row in rows)
    return found


def _candidate_query(
    payer_id: int | None, scope: Scope | None, claim_ids: list[int] | None, *, voids_only: bool = False,
    ready_only: bool = False, channel: ClaimChannel = ClaimChannel.EDI, clearinghouse_id: int | None = None,
) -> Select[tuple[Claim]]:
    void_to_send = (Claim.status == ClaimStatus.VOIDED) & Claim.void_to_send
    ready = Claim.status == ClaimStatus.READY
    query = (
        select(Claim)
        .join(Payer, Payer.id == Claim.payer_id)
        .where(
            Payer.edi_enabled if channel is ClaimChannel.EDI else Payer.active,
            Payer.claim_channel == channel,
            Claim.self_pay.is_(False),  # billed to the patient: no payer is ever sent it
            void_to_send if voids_only else ready if ready_only else or_(ready, void_to_send),
            Claim.id.not_in(select(BatchClaim.claim_id).where(BatchClaim.pending)),
        )
        .order_by(Payer.name, Claim.id)
    )
    if payer_id is not None:
        query = query.where(Claim.payer_id == payer_id)
    if clearinghouse_id is not None:
        query = query.where(Payer.clearinghouse_id == clearinghouse_id)
    if claim_ids is not None:
        query = query.where(any_of(Claim.id, claim_ids))
    if scope is not None and not scope.is_everything:
        query = query.where(by_location(Claim.location_id, scope))
    return query


def _candidates(
    payer_id: int | None, scope: Scope | None, claim_ids: list[int] | None, *, voids_only: bool = False,
    channel: ClaimChannel = ClaimChannel.EDI, clearinghouse_id: int | None = None,
) -> list[Candidate]:
    query = _candidate_query(payer_id, scope, claim_ids, voids_only=voids_only, channel=channel,
                             clearinghouse_id=clearinghouse_id)  # fmt: skip
    ids = list(db.session.scalars(query.with_only_columns(Claim.id)))  # in the query's order
    found: list[Candidate] = []
    for chunk in chunked(ids, CANDIDATE_LOAD):  # memory bounded by the chunk, not by the Ready claims
        loaded = select(Claim).where(any_of(Claim.id, chunk)).options(
            joinedload(Claim.client), joinedload(Claim.payer).joinedload(Payer.clearinghouse))
        claims = {claim.id: claim for claim in db.session.scalars(loaded)}
        ready = [i for i in chunk if claims[i].status is ClaimStatus.READY]
        blocked = submission_blockers(ready)
        unchecked = unchecked_claims(ready)
        found += [_candidate(claims[i], blocked.get(i), i in unchecked, channel) for i in chunk]
    return found


#: Claims loaded (with client and payer) at a time while candidates are listed.
CANDIDATE_LOAD = 5000


def paper_candidates(
    payer_id: int | None = None, scope: Scope | None = None, claim_ids: Collection[int] | None = None
) -> list[Candidate]:
    """`candidates` for payers that take paper: Ready claims (and voids to send) to print, each with why not."""
    ids = None if claim_ids is None else sorted(claim_ids)
    return _candidates(payer_id, scope, ids, channel=ClaimChannel.PAPER)


def ready_paper_claim_ids(payer_id: int | None = None, claim_ids: Collection[int] | None = None) -> list[int]:
    """The Ready claims a print would take before the rules look at them."""
    query = _candidate_query(payer_id, None, None if claim_ids is None else sorted(claim_ids), ready_only=True,
                             channel=ClaimChannel.PAPER)  # fmt: skip
    return list(db.session.scalars(query.with_only_columns(Claim.id)))


def _candidate(claim: Claim, blocker: str | None, unchecked: bool = False,
               channel: ClaimChannel = ClaimChannel.EDI) -> Candidate:
    payer = claim.payer
    assert payer is not None
    house = payer.clearinghouse
    frequency = "8" if claim.status is ClaimStatus.VOIDED else claim.frequency_code
    reason, waiting = _why_not(blocker, channel=channel, payer=payer.name, house_active=bool(house and house.active),
                               frequency=frequency, payer_claim_number=claim.payer_claim_number)  # fmt: skip
    return Candidate(
        claim_id=claim.id,
        number=claim.number,
        client=claim.client.full_name,
        payer=payer.name,
        payer_id=payer.id,
        clearinghouse_id=house.id if house else None,
        service_date=claim.service_date,
        total=claim.total_charge,
        frequency_code=frequency,
        reason=reason,
        awaits_payer_number=waiting,
        unchecked=unchecked,
    )


def _why_not(blocker: str | None, *, channel: ClaimChannel, payer: str, house_active: bool, frequency: str,
             payer_claim_number: str | None) -> tuple[str | None, bool]:
    """Why a claim cannot go (None when it can), and whether that is a missing payer claim number (ICN): the one
    answer both `candidates` (the page) and `standings` (a generation's plan) give."""
    reason = blocker
    if channel is ClaimChannel.EDI and not house_active:
        reason = f"payer {payer} is not linked to an active clearinghouse"
    waiting = _payer_number_reason(payer_claim_number, frequency)
    return waiting or reason, waiting is not None


def _payer_number_reason(payer_claim_number: str | None, frequency: str) -> str | None:
    """Why a void (or correction) cannot go until someone enters a usable payer claim number, or None."""
    if frequency not in ("7", "8"):
        return None
    problem = payer_claim_number_problem(payer_claim_number)
    if problem is None:
        return None
    what = "void" if frequency == "8" else "corrected claim"
    if not (payer_claim_number or "").strip():
        way_out = ", or mark the void not needed" if frequency == "8" else ""
        return f"{what} waiting for the payer's claim number (ICN) for REF*F8; enter it on the claim{way_out}"
    return f"{what} cannot go: {problem} Enter the right one on the claim"


@dataclass(frozen=True, slots=True)
class Standing:
    """Whether one claim can go now, and through which clearinghouse: a `Candidate` without what the page shows
    (client, payer, date, amount), which is all a generation's plan needs."""

    claim_id: int
    clearinghouse_id: int | None
    frequency_code: str  # as it would go out: 1, 7 or 8
    reason: str | None
    awaits_payer_number: bool = False

    @property
    def eligible(self) -> bool:
        return self.reason is None

    @property
    def number(self) -> str:
        return claim_number(self.claim_id)


def standings(
    payer_id: int | None = None, claim_ids: Collection[int] | None = None, clearinghouse_id: int | None = None
) -> Iterator[list[Standing]]:
    """`candidates` as a generation reads them: the same claims, in the same order, with the same reasons, but a
    chunk at a time and from rows (no claim, client or payer object), so a plan over a million Ready claims holds
    one chunk of them, never a `Candidate` per claim.

    The ids stream from a server-side cursor on PostgreSQL (`yield_per`); each chunk's rows and blockers are read
    while it stays open, which a cursor of the same transaction allows."""
    query = _candidate_query(payer_id, None, None if claim_ids is None else sorted(claim_ids),
                             clearinghouse_id=clearinghouse_id).with_only_columns(Claim.id)  # fmt: skip
    # yield_per: a server-side cursor on PostgreSQL, and the session's pending changes flushed first, as by any query.
    for rows in db.session.execute(query.execution_options(yield_per=CANDIDATE_LOAD)).partitions():
        yield _standings([row[0] for row in rows])


def _standings(chunk: list[int]) -> list[Standing]:
    rows = db.session.execute(
        select(Claim.id, Claim.status, Claim.frequency_code, Claim.payer_claim_number, Payer.name,
               Clearinghouse.id, Clearinghouse.active)
        .join(Payer, Payer.id == Claim.payer_id).outerjoin(Clearinghouse, Clearinghouse.id == Payer.clearinghouse_id)
        .where(any_of(Claim.id, chunk))
    )  # fmt: skip
    found = {row[0]: row for row in rows}
    blocked = submission_blockers([i for i in chunk if found[i].status is ClaimStatus.READY])
    standing: list[Standing] = []
    for claim_id in chunk:
        _, status, frequency_code, payer_claim_number, payer, house_id, house_active = found[claim_id]
        frequency = "8" if status is ClaimStatus.VOIDED else frequency_code
        reason, waiting = _why_not(blocked.get(claim_id), channel=ClaimChannel.EDI, payer=payer,
                                   house_active=bool(house_active), frequency=frequency,
                                   payer_claim_number=payer_claim_number)  # fmt: skip
        standing.append(Standing(claim_id, house_id, frequency, reason, waiting))
    return standing


def batch_by_id(batch_id: int, *, for_update: bool = False) -> SubmissionBatch:
    query = select(SubmissionBatch).where(SubmissionBatch.id == batch_id)
    if for_update:
        # populate_existing: a second sender that waited on the lock must see the first one's result.
        query = query.with_for_update().execution_options(populate_existing=True)
    batch = db.session.scalar(query)
    if batch is None:
        raise NotFound(f"There is no batch B-{batch_id:06d}.")
    return batch


def sending_batch_ids(clearinghouse_id: int | None = None) -> list[int]:
    """Batches left Sending by an attempt that did not finish (or one running right now), oldest first."""
    query = select(SubmissionBatch.id).where(SubmissionBatch.status == BatchStatus.SENDING)
    if clearinghouse_id is not None:
        query = query.where(SubmissionBatch.clearinghouse_id == clearinghouse_id)
    return list(db.session.scalars(query.order_by(SubmissionBatch.id)))


def batch_id_from(text: str) -> int:
    number = parse_id(text.strip().upper().removeprefix("B-").lstrip("0") or "0")
    if number is None:
        raise Invalid(f"{text[:40]!r} is not a batch number (e.g. B-000012 or 12).")
    return number


def batches(limit: int = 200) -> list[SubmissionBatch]:
    return list(
        db.session.scalars(
            select(SubmissionBatch)
            .options(joinedload(SubmissionBatch.clearinghouse), joinedload(SubmissionBatch.payer))
            .order_by(SubmissionBatch.id.desc())
            .limit(limit)
        )
    )


def clearinghouse_by_id(clearinghouse_id: int) -> Clearinghouse:
    house = db.session.get(Clearinghouse, clearinghouse_id)
    if house is None:
        raise NotFound(f"There is no clearinghouse {clearinghouse_id}.")
    return house


def authorization_units_submitted(auth_ids: Collection[int]) -> dict[int, int]:
    """Units on lines of claims that reached the payer and still stand (a void or replacement gives them back)."""
    if not auth_ids:
        return {}
    rows = db.session.execute(
        select(ClaimLine.authorization_id, func.sum(ClaimLine.units))
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(any_of(ClaimLine.authorization_id, auth_ids), Claim.status.in_(list(SENT)), live_claim_filter())
        .group_by(ClaimLine.authorization_id)
    )
    return {auth_id: int(total or 0) for auth_id, total in rows}


def pending_batch_of(claim_id: int) -> SubmissionBatch | None:
    """The unsent batch holding this claim, if any (a retraction must take the claim out first)."""
    return db.session.scalar(
        select(SubmissionBatch).join(BatchClaim).where(BatchClaim.claim_id == claim_id, BatchClaim.pending)
    )


def unsent_batch_number(claim_id: int) -> str | None:
    """The number of the unsent batch holding this claim (the answer to the claims hook `unsent_batch_of`)."""
    batch = pending_batch_of(claim_id)
    return batch.number if batch is not None else None


@dataclass(frozen=True)
class AuthorizationBalance:
    """An authorization's units: approved, used by submitted claims, and what one batch would add."""

    authorization_id: int
    number: str
    client: str
    approved: int
    submitted: int
    in_batch: int
    #: True when the batch's units are already among `submitted` (the batch was sent).
    batch_sent: bool = False

    @property
    def remaining(self) -> int:
        """What the payer has not yet been billed for: it drops on submission, and comes back on a void."""
        return self.approved - self.submitted

    @property
    def remaining_after(self) -> int:
        return self.remaining if self.batch_sent else self.remaining - self.in_batch


def authorization_balances(
    auth_ids: Collection[int], in_batch: dict[int, int] | None = None, *, batch_sent: bool = False
) -> list[AuthorizationBalance]:
    """Approved and submitted units per authorization (submitted: live claims the payer has)."""
    if not auth_ids:
        return []
    submitted = authorization_units_submitted(auth_ids)
    in_batch = in_batch or {}
    auths = db.session.scalars(
        select(Authorization).where(any_of(Authorization.id, auth_ids)).options(joinedload(Authorization.client))
        .order_by(Authorization.id)
    )
    return [
        AuthorizationBalance(a.id, a.number, a.client.full_name, a.units_approved, submitted.get(a.id, 0),
                             in_batch.get(a.id, 0), batch_sent)
        for a in auths
    ]  # fmt: skip


def batch_authorizations(batch: SubmissionBatch) -> list[AuthorizationBalance]:
    """Authorizations the batch's claims draw on; a sent batch's units are already in `submitted`."""
    rows = db.session.execute(
        select(ClaimLine.authorization_id, func.sum(ClaimLine.units))
        .join(BatchClaim, BatchClaim.claim_id == ClaimLine.claim_id)
        .where(BatchClaim.batch_id == batch.id, ClaimLine.authorization_id.is_not(None))
        .where(BatchClaim.frequency_code != "8")  # a void gives units back; it never uses them
        .group_by(ClaimLine.authorization_id)
    )
    units = {auth_id: int(total or 0) for auth_id, total in rows}
    return authorization_balances(units, units, batch_sent=batch.status is BatchStatus.SENT)


def batch_entries(batch_id: int) -> list[BatchClaim]:
    """The batch's claims in file order, with what the preview shows of each."""
    return list(
        db.session.scalars(
            select(BatchClaim)
            .where(BatchClaim.batch_id == batch_id)
            .options(joinedload(BatchClaim.claim).joinedload(Claim.client),
                     joinedload(BatchClaim.claim).joinedload(Claim.payer))
            .order_by(BatchClaim.position)
        )
    )  # fmt: skip


def subject_history(subject_type: str, subject_id: int) -> list[StatusChange]:
    return list(
        db.session.scalars(
            select(StatusChange)
            .where(StatusChange.subject_type == subject_type, StatusChange.subject_id == subject_id)
            .order_by(StatusChange.id)
        )
    )


def edi_payers(scope: Scope | None = None) -> list[Payer]:
    """Payers a batch can be made for: EDI enabled and active, in the chosen scope."""
    query = (select(Payer).where(Payer.edi_enabled, Payer.active, Payer.claim_channel == ClaimChannel.EDI)
             .order_by(Payer.name))  # fmt: skip
    if scope is not None and not scope.is_everything:
        query = query.where(by_company(Payer.company_id, scope))
    return list(db.session.scalars(query))


def paper_payers(scope: Scope | None = None) -> list[Payer]:
    """Active payers that take printed CMS-1500s, in the chosen scope."""
    query = select(Payer).where(Payer.claim_channel == ClaimChannel.PAPER, Payer.active).order_by(Payer.name)
    if scope is not None and not scope.is_everything:
        query = query.where(by_company(Payer.company_id, scope))
    return list(db.session.scalars(query))


def clearinghouses() -> list[Clearinghouse]:
    return list(db.session.scalars(select(Clearinghouse).order_by(Clearinghouse.name)))


def batch_responses(batch_id: int) -> list[ClearinghouseResponse]:
    """Acknowledgements (999) collected for this batch, oldest first."""
    query = select(ClearinghouseResponse).where(ClearinghouseResponse.batch_id == batch_id)
    return list(db.session.scalars(query.order_by(ClearinghouseResponse.id)))


def batches_page(status: BatchStatus | None, page: int, per_page: int = 50) -> tuple[list[SubmissionBatch], int]:
    """One page of batches, newest first, and how many there are in all."""
    where = [SubmissionBatch.status == status] if status is not None else []
    query = select(SubmissionBatch).where(*where)
    total = db.session.scalar(select(func.count()).select_from(SubmissionBatch).where(*where)) or 0
    rows = db.session.scalars(
        query.options(joinedload(SubmissionBatch.clearinghouse), joinedload(SubmissionBatch.payer))
        .order_by(SubmissionBatch.id.desc()).offset(max(page - 1, 0) * per_page).limit(per_page)
    )  # fmt: skip
    return list(rows), total
