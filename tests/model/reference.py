"""A reference model of adjudication and balances: the Posting rules (DOMAIN.md, rules 1 to 9) as plain arithmetic.

It knows nothing of the posting code or the ledger's tables: each claim line carries a charge and the net amount
of each kind of money on it, and the two balances follow from those by the rules' own definitions (insurance owes
the charge less what the payer paid or adjusted; the patient owes what was moved to them less what they paid).
The state machine in test_posting_model.py drives the system and this model side by side and compares them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

#: What a CAS group does (rule 2); the other kinds are the biller's own movements.
GROUP_KIND = {"CO": "contractual", "PR": "patient", "OA": "other", "PI": "other", "CR": "other"}
#: (insurance, patient) sign of each kind of money on a line.
SIGN = {
    "charge": (1, 0), "paid": (-1, 0), "contractual": (-1, 0), "other": (-1, 0), "patient": (-1, 1),
    "patient_paid": (0, -1), "write_off": (-1, 0), "patient_write_off": (0, -1), "transfer": (0, -1),
}
#: CARCs the generators use that refuse a service rather than price it.
DENIAL_REASONS = {"16", "96", "97", "50"}
#: CLP02 codes by the role the payer says it played (rule 4).
AFTER_OTHERS = {"2", "3", "20", "21"}
ROLE = {"1": "primary", "19": "primary", "2": "secondary", "20": "secondary", "3": "tertiary", "21": "tertiary"}
SENT = {"submitted", "paid", "denied"}


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


Cas = tuple[str, str, Decimal]  # group, reason, amount


@dataclass(frozen=True)
class LineAnswer:
    """The payer's word on one line: SVC02 (the charge it repeats), SVC03 and its CAS."""

    number: int
    charge: Decimal
    paid: Decimal
    cas: tuple[Cas, ...] = ()


@dataclass(frozen=True)
class Answer:
    """One adjudication: an 835 CLP (status, CLP03, CLP04) or a typed EOB (status None, paid = Σ lines)."""

    lines: tuple[LineAnswer, ...]
    status: str | None = None
    charge: Decimal | None = None
    paid: Decimal | None = None
    claim_cas: tuple[Cas, ...] = ()

    @property
    def from_835(self) -> bool:
        return self.paid is not None

    @property
    def total_paid(self) -> Decimal:
        return self.paid if self.paid is not None else money(sum((ln.paid for ln in self.lines), ZERO))

    @property
    def all_cas(self) -> list[Cas]:
        return [*self.claim_cas, *(c for ln in self.lines for c in ln.cas)]


@dataclass
class Line:
    number: int
    service: int  # the session it bills: one service, one open charge across a family (rule 6)
    charge: Decimal
    money: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))

    def add(self, kind: str, amount: Decimal) -> None:
        self.money[kind] = money(self.money[kind] + amount)

    @property
    def insurance(self) -> Decimal:
        return money(sum((SIGN[k][0] * v for k, v in self.money.items()), ZERO))

    @property
    def patient(self) -> Decimal:
        return money(sum((SIGN[k][1] * v for k, v in self.money.items()), ZERO))

    @property
    def worked(self) -> bool:
        """Money other than the charge stands on it (a payment taken back in full leaves it unworked)."""
        return any(v != ZERO for k, v in self.money.items() if k != "charge")


@dataclass
class Adjudicated:
    """What one adjudication moved, so a reversal (CLP02 22, a clawback) can take exactly that back."""

    moves: list[tuple[int, str, Decimal]]
    paid: Decimal
    answer: Answer
    payer: str
    reversed: bool = False
    lines_reversed: set[int] = field(default_factory=set)  # taken back one by one (case F)


@dataclass
class ModelClaim:
    key: int
    lines: list[Line]
    rank: str = "primary"
    payer: str = "primary"
    status: str = "submitted"
    frequency: str = "1"
    replaces: int | None = None
    primary_of: int | None = None
    adjudications: list[Adjudicated] = field(default_factory=list)
    secondary: int | None = None
    has_next_policy: bool = False
    #: Per line, what the next payer's claim was billed: (a denied balance made the patient's, the patient's part).
    passed: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)

    @property
    def insurance(self) -> Decimal:
        return money(sum((ln.insurance for ln in self.lines), ZERO))

    @property
    def patient(self) -> Decimal:
        return money(sum((ln.patient for ln in self.lines), ZERO))

    def line(self, number: int) -> Line:
        return next(ln for ln in self.lines if ln.number == number)

    def standing(self, payer: str | None = None) -> Adjudicated | None:
        live = [a for a in self.adjudications if not a.reversed and (payer is None or a.payer == payer)]
        return live[-1] if live else None


def spread(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Rule 1's fixed rule for claim-level CAS: in proportion to the weights, to the cent; the last line with
    weight takes what rounding left."""
    if not weights or amount == ZERO:
        return [ZERO] * len(weights)
    total = sum(weights, ZERO)
    if total == ZERO:
        weights, total = [Decimal(1)] * len(weights), Decimal(len(weights))
    last = max(i for i, w in enumerate(weights) if w != ZERO)
    shares = [money(amount * w / total) if i != last else ZERO for i, w in enumerate(weights)]
    shares[last] = money(amount - sum(shares, ZERO))
    return shares


class Model:
    """Claims, families and remittances; every operation is arithmetic over the rules."""

    def __init__(self) -> None:
        self.claims: dict[int, ModelClaim] = {}
        self.remittances: dict[str, dict[str, Decimal]] = {}
        self.checks_seen: set[tuple[str, str]] = set()

    # --- claims ---------------------------------------------------------------------------------------------

    def send(self, key: int, services: list[int], charges: list[Decimal], *, has_next_policy: bool = False,
             replaces: int | None = None) -> ModelClaim:
        claim = ModelClaim(key, [Line(n, s, money(c)) for n, (s, c) in enumerate(zip(services, charges,
                                                                                     strict=True), start=1)],
                           has_next_policy=has_next_policy, replaces=replaces,
                           frequency="7" if replaces is not None else "1")
        self.claims[key] = claim
        for line in claim.lines:
            line.add("charge", line.charge)
        if replaces is not None:
            self._supersede(self.claims[replaces], None)
        else:
            for earlier in self.claims.values():
                if earlier.key < key and earlier.status != "voided" and earlier.rank == "primary":
                    self._supersede(earlier, {ln.service for ln in claim.lines})
        return claim

    def _withdraw(self, claim: ModelClaim, services: set[int] | None) -> None:
        """A void: lines leave A/R when nothing but the charge stands (money on them waits for the payer)."""
        for line in claim.lines:
            if (services is None or line.service in services) and not line.worked and line.money["charge"] != ZERO:
                line.add("charge", -line.money["charge"])

    def _supersede(self, claim: ModelClaim, services: set[int] | None) -> None:
        """Rule 6: lines a replacement or resubmission now bills are withdrawn, worked or not: the charge, the
        biller's insurance write-off and the payer's adjustments (its PR too, unless the patient already paid,
        wrote off or passed it on). What the payer paid stays, a credit until the payer takes it back; the
        withdrawn adjustments leave the adjudication, so that reversal does not take them back twice."""
        for line in claim.lines:
            if services is not None and line.service not in services:
                continue
            kinds = ["charge", "write_off", "contractual", "other"]
            if not any(line.money[k] for k in ("patient_paid", "patient_write_off", "transfer")):
                kinds.append("patient")
            for kind in kinds:
                if line.money[kind] != ZERO:
                    line.add(kind, -line.money[kind])
            for done in claim.adjudications:
                done.moves = [m for m in done.moves if m[0] != line.number or m[1] not in kinds]

    def void(self, key: int) -> None:
        """A void of a claim the payer never answered withdraws its charges; once the payer answered, the whole
        bill goes as for a correction (rule 6): nothing stays owed, what was paid waits for the recoupment."""
        claim = self.claims[key]
        claim.status = "voided"
        if claim.adjudications:
            self._supersede(claim, None)
        else:
            self._withdraw(claim, None)

    def superseded(self, key: int) -> bool:
        """Voided, or replaced by a corrected claim that is not itself voided (rule 6: the next payer is billed
        from the one that stands)."""
        return self.claims[key].status == "voided" or any(c.replaces == key and c.status != "voided"
                                                          for c in self.claims.values())

    def family(self, key: int) -> set[int]:
        """Claims that bill one of the same services (corrections, resubmissions, secondaries)."""
        services = {ln.service for ln in self.claims[key].lines}
        grown = True
        members = {key}
        while grown:
            grown = False
            for claim in self.claims.values():
                if claim.key not in members and services & {ln.service for ln in claim.lines}:
                    members.add(claim.key)
                    services |= {ln.service for ln in claim.lines}
                    grown = True
        return members

    # --- adjudication ---------------------------------------------------------------------------------------

    def is_denial(self, answer: Answer) -> bool:
        if answer.status == "4":
            return True
        return answer.total_paid == ZERO and any(g != "PR" and r in DENIAL_REASONS for g, r, _ in answer.all_cas)

    def after_others(self, claim: ModelClaim, answer: Answer) -> bool:
        return claim.rank != "primary" or (answer.from_835 and answer.status in AFTER_OTHERS)

    def denied_line(self, claim: ModelClaim, answer: Answer, line: LineAnswer) -> bool:
        """Rule 3: paid nothing, and neither wholly the patient's (nor, after other payers, their share), nor a
        deductible beside mere pricing (the allowed amount all went to the patient)."""
        if self.is_denial(answer) or line.paid != ZERO:
            return False
        covered = sum((a for g, r, a in line.cas if g == "PR" or (
            g == "OA" and r == "23" and self.after_others(claim, answer))), ZERO)
        if covered == line.charge:
            return False
        return not (covered > ZERO and not any(g != "PR" and r in DENIAL_REASONS for g, r, _ in line.cas))

    def moves_money(self, claim: ModelClaim, answer: Answer, cas: Cas, *, denied_line: bool) -> bool:
        group, reason, _ = cas
        if (self.is_denial(answer) or denied_line) and group != "PR":
            return False
        return not (group == "OA" and reason == "23" and self.after_others(claim, answer))

    def paid_twice(self, claim: ModelClaim, answer: Answer) -> bool:
        """Rule 8: a payer's 835 answer while its earlier answer stands with money on it (no reversal between) is
        not posted. An answer that moved nothing (a denial) leaves the claim open to a new one. A biller's typed
        payment is the biller's decision ("add"), never refused here."""
        return answer.from_835 and any(a.moves and not a.reversed and not a.lines_reversed and a.payer == claim.payer
                                       for a in claim.adjudications)

    def adjudicate(self, key: int, answer: Answer) -> Adjudicated | None:
        """Post one adjudication (not a reversal): the payment is CLP04 exactly (rule 1), the CAS move money by
        their group (rule 2), denied lines stay open (rule 3); then the claim's status follows. None: the same
        money twice (rule 8), nothing posted (the check keeps it)."""
        claim = self.claims[key]
        if self.paid_twice(claim, answer):
            return None
        moves: list[tuple[int, str, Decimal]] = []
        weights = [ln.paid for ln in answer.lines]
        if not any(w > ZERO for w in weights):
            weights = [ln.charge for ln in answer.lines]
        shares: list[list[Cas]] = [[] for _ in answer.lines]
        for group, reason, amount in answer.claim_cas:
            for n, share in enumerate(spread(amount, weights)):
                if share != ZERO:
                    shares[n].append((group, reason, share))
        lowered = money(sum((ln.paid for ln in answer.lines), ZERO) - answer.total_paid)
        claim_cas = money(sum((a for _, _, a in answer.claim_cas), ZERO))
        cuts = ([money(sum((a for _, _, a in mine), ZERO)) for mine in shares] if lowered == claim_cas
                else spread(lowered, weights))
        for ln, cut, mine in zip(answer.lines, cuts, shares, strict=True):
            if money(ln.paid - cut) != ZERO:
                moves.append((ln.number, "paid", money(ln.paid - cut)))
            denied = self.denied_line(claim, answer, ln)
            for cas in (*ln.cas, *mine):
                if cas[2] != ZERO and self.moves_money(claim, answer, cas, denied_line=denied):
                    moves.append((ln.number, GROUP_KIND[cas[0]], cas[2]))
        for number, kind, amount in moves:
            claim.line(number).add(kind, amount)
        done = Adjudicated(moves, answer.total_paid, answer, claim.payer)
        claim.adjudications.append(done)
        if self.is_denial(answer):
            if claim.status == "submitted":
                claim.status = "denied"
        elif claim.insurance == ZERO and claim.status == "submitted":
            claim.status = "paid"
        return done

    def reverse(self, key: int, adjudicated: Adjudicated) -> Decimal:
        """Take back exactly what an earlier adjudication moved; the bill reopens when the payer owes again."""
        claim = self.claims[key]
        for number, kind, amount in adjudicated.moves:
            claim.line(number).add(kind, -amount)
        adjudicated.reversed = True
        self._withdraw_next(claim, None)
        if claim.insurance != ZERO and claim.status == "paid":
            claim.status = "submitted"
        return -adjudicated.paid

    def reverse_line(self, key: int, adjudicated: Adjudicated, number: int) -> Decimal:
        """A reversal of one line (case F) takes back that line's share only; the others stand."""
        claim = self.claims[key]
        mine = [m for m in adjudicated.moves if m[0] == number]
        for _, kind, amount in mine:
            claim.line(number).add(kind, -amount)
        adjudicated.moves = [m for m in adjudicated.moves if m[0] != number]
        adjudicated.lines_reversed.add(number)
        taken = money(sum((a for _, k, a in mine if k == "paid"), ZERO))
        adjudicated.paid = money(adjudicated.paid - taken)
        self._withdraw_next(claim, {number})
        if claim.insurance != ZERO and claim.status == "paid":
            claim.status = "submitted"
        return -taken

    def _withdraw_next(self, claim: ModelClaim, numbers: set[int] | None) -> None:
        """Rule 6: the payment the next payer's claim was billed on is taken back, so that claim bills it no more.
        What was passed to it returns here (the transfer, and a denied balance made the patient's), and its lines
        leave A/R as a replaced claim's do (`_supersede`: a payment it made stays, a credit)."""
        if claim.secondary is None:
            return
        second = self.claims[claim.secondary]
        self._withdraw_next(second, numbers)
        for line in claim.lines:
            if numbers is None or line.number in numbers:
                insurance, patient = claim.passed.pop(line.number, (ZERO, ZERO))
                line.add("patient", -insurance)
                line.add("transfer", -(insurance + patient))
        self._supersede(second, None if numbers is None else {second.line(n).service for n in numbers})

    def offset(self, key: int, amount: Decimal) -> None:
        """Rule 7: a PLB offset naming a claim reduces its payments: taken from the best-paid line first (ties in
        line order), each line giving back at most what it was paid (the rest stays open on the remittance, an A/R
        item). Which line gives it back matters to rule 6: a line the payer owes on again is not billed to the next
        payer meanwhile (`_withheld`), and its next payer's claim stops billing it, as after a reversal."""
        claim = self.claims[key]
        left, touched = amount, set()
        for line in sorted((ln for ln in claim.lines if ln.money["paid"] > ZERO),
                           key=lambda ln: (-ln.money["paid"], ln.number)):
            share = min(left, line.money["paid"])
            if share > ZERO:
                line.add("paid", -share)
                left = money(left - share)
                touched.add(line.number)
        if touched:
            self._withdraw_next(claim, touched)

    # --- the biller's own movements -------------------------------------------------------------------------

    def allocate(self, key: int, kind: str, amount: Decimal | None, *, patient: bool) -> bool:
        """Write-offs and patient payments go to lines owing on that side, in line order; False when refused."""
        claim = self.claims[key]
        if claim.status not in SENT:
            return False
        side = {ln.number: (ln.patient if patient else ln.insurance) for ln in claim.lines}
        available = money(sum((v for v in side.values() if v > ZERO), ZERO))
        wanted = available if amount is None else money(amount)
        if wanted <= ZERO or wanted > available:
            return False
        left = wanted
        for line in claim.lines:
            share = min(left, side[line.number]) if side[line.number] > ZERO else ZERO
            if share > ZERO:
                line.add(kind, share)
                left -= share
        return True

    def secondary(self, key: int, new_key: int) -> ModelClaim | None:
        """The next payer's claim carries what the primary left (a denied claim's open balance too)."""
        claim = self.claims[key]
        if claim.standing() is None or not claim.has_next_policy or claim.secondary is not None \
                or claim.rank != "primary" or self.superseded(key):
            return None
        denied = claim.status == "denied"
        held = self._withheld(claim)
        passed = {ln.number: (ln.insurance if denied and ln.insurance > ZERO else ZERO, max(ln.patient, ZERO))
                  for ln in claim.lines if (ln.worked or ln.money["charge"] != ZERO) and ln.number not in held}
        if not any(i + p > ZERO for i, p in passed.values()):
            return None
        second = ModelClaim(new_key, [Line(ln.number, ln.service, ln.charge) for ln in claim.lines],
                            rank="secondary", payer="secondary", primary_of=key)
        for line in claim.lines:
            insurance, patient = passed.get(line.number, (ZERO, ZERO))
            if insurance > ZERO:
                line.add("patient", insurance)
            if insurance + patient > ZERO:
                line.add("transfer", insurance + patient)
                second.line(line.number).add("charge", insurance + patient)
                claim.passed[line.number] = (insurance, patient)
        claim.secondary = new_key
        self.claims[new_key] = second
        return second

    def _withheld(self, claim: ModelClaim) -> set[int]:
        """Rules 3, 6 and 8: lines a later live claim to the same rank bills again (a resubmission), and on a claim
        not denied as a whole, the lines the payer has not settled: it still owes on them (a denied line's payer
        part, an underpayment, a recoupment) or owes money back (a credit). The service is billed there, or the
        primary is not done with it: the next payer is not billed for it meanwhile."""
        later = {ln.service for other in self.claims.values() if other.key > claim.key and other.rank == claim.rank
                 and other.status != "voided" for ln in other.lines}
        settling = claim.status != "denied" and claim.standing() is not None
        return {ln.number for ln in claim.lines if ln.service in later or (settling and ln.insurance != ZERO)}

    def adjudicate_secondary(self, key: int, answer: Answer) -> Adjudicated | None:
        """Rule 5: after a later payer, the patient owes exactly its PR; the rest of what was open is its payment
        and its adjustments; the earlier payers' adjustments are not booked again; nothing goes below zero.
        None: the same money twice (rule 8)."""
        claim = self.claims[key]
        if self.paid_twice(claim, answer):
            return None
        moves: list[tuple[int, str, Decimal]] = []
        for ln in answer.lines:
            line = claim.line(ln.number)
            open_ = line.insurance
            pr = money(sum((a for g, _, a in ln.cas if g == "PR"), ZERO))
            paid = min(ln.paid, open_)
            if paid:
                moves.append((ln.number, "paid", paid))
            if min(pr, open_ - paid) > ZERO:
                moves.append((ln.number, "patient", min(pr, open_ - paid)))
            rest = money(open_ - paid - min(pr, open_ - paid))
            if rest > ZERO:
                moves.append((ln.number, "contractual", rest))
        for number, kind, amount in moves:
            claim.line(number).add(kind, amount)
        done = Adjudicated(moves, answer.total_paid, answer, claim.payer)
        claim.adjudications.append(done)
        if claim.insurance == ZERO and claim.status == "submitted":
            claim.status = "paid"
        return done
