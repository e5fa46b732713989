"""Model-based test of posting: random sequences of claims, 835s and the biller's own operations, driven through
the system's public operations and checked after every step against the reference model (reference.py), which
is the Posting rules (DOMAIN.md, rules 1 to 9) as plain arithmetic.

Generators for features still being built sit behind FEATURES; the lead turns each on when its branch is merged.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from billing.claims.models import Claim
from billing.claims.operations import correct_claim, void_claim
from billing.core.db import db
from billing.core.errors import BillingError
from billing.ledger.balances import claim_balance
from billing.ledger.models import Adjudication, LedgerEntry
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.invariants import check_ledger
from billing.payments.models import Remittance, UnmatchedClaim
from billing.payments.operations import record_manual_payment, record_patient_payment, write_off
from billing.payments.remittances import import_835
from billing.payments.reversals import CorrectedLine, corrected_posting, manual_clawback, standing_payments
from billing.payments.secondary import generate_secondary_claim, resubmit_denied_lines
from tests.model.helpers import clp, insured_twice, send, sent_claim, with_plb_references
from tests.model.reference import ZERO, Answer, LineAnswer, Model, money
from tests.worlds.payments import PAID_ON, Payment, write_835
from tests.worlds.practice import SYSTEM, build_world

#: Generators per rule; a generator whose rule another branch is still building stays off until it is merged.
#: All are on: a new rule's generator starts here off, and goes on with the code that makes it pass.
FEATURES = {
    "plb": True,  # case I: PLB interest, offsets and recoupments reach Revenue, a claim or A/R
    "crossover": True,  # CLP02 19: processed as primary and forwarded to the next payer
    "secondary_rule5": True,  # case B: the secondary payer's answer on the transferred balance
    "one_line_reversal": True,  # case F: a reversal of one line leaves the others standing
    # case H: money for a voided or replaced claim posts against it, flagged (a void of an answered claim
    # withdraws the whole bill, as a correction does).
    "voided_money": True,
    "paid_twice": True,  # rule 8: the same claim paid again without a reversal between is posted once
    "same_check_other_dates": True,  # rule 8: the same TRN02 from the same payer is the same check, any date
    "reversal_under_secondary": True,  # rule 6: taking back a primary payment whose balance a secondary bills
    "resubmit_twice": True,  # rule 6: denied lines resubmitted again while their resubmission stands
    "credit_flag": True,  # rule 8: a posting that leaves a credit balance flags the claim (after a write-off)
    "secondary_beside_open_line": True,  # rule 6: a secondary billed while a denied line is still open
    "line_denials": True,  # rule 6: resubmitting a denied line that carries money (its PR) withdraws the rest
    "resubmit_denied": True,  # rule 3: resubmitting the lines the standing answer denied
}

REASONS = [("CO", "45"), ("CO", "253"), ("PR", "1"), ("PR", "2"), ("PR", "3"), ("OA", "23"), ("PI", "45"),
           ("CO", "16")]
CHARGES = st.sampled_from([Decimal("73.48"), Decimal("100.00"), Decimal("0.01"), Decimal("250.00"),
                           Decimal("33.33"), Decimal("1.99"), Decimal("120.50")])
PCT = st.sampled_from([0, 0, 50, 80, 100, 13, 99])
#: One line's answer, to be scaled to its charge: share paid, the CAS reasons the rest goes to and their weights,
#: and an occasional unexplained cent (a line that does not balance, rule 1).
LINE_SPEC = st.tuples(PCT, st.lists(st.tuples(st.sampled_from(REASONS), st.integers(1, 5)), min_size=1, max_size=3),
                      st.sampled_from([0, 0, 0, 0, 0, 0, 0, 1]))
LINE_SPECS = st.lists(LINE_SPEC, min_size=4, max_size=4)
CLAIM_CAS = st.one_of(st.none(), st.tuples(st.sampled_from([("CO", "253"), ("CO", "45"), ("PR", "3"), ("OA", "23"),
                                                            ("PI", "45")]), st.integers(1, 500)))
PICK = st.integers(0, 1000)
STATUS = st.sampled_from(["1", "2", "4", "19", "1"])
#: For diagnosis: MODEL_NO_SHRINK=1 reports the first failing sequence as found (shrinking a 30-step sequence can
#: take Hypothesis five minutes); MODEL_VERBOSE=1 prints each failure as it happens; MODEL_DUMP=FILE appends every
#: 835 the test imports to FILE.
SETTINGS = settings(max_examples=60, stateful_step_count=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
                    phases=[p for p in Phase if p is not Phase.shrink or not os.environ.get("MODEL_NO_SHRINK")],
                    verbosity=Verbosity.verbose if os.environ.get("MODEL_VERBOSE") else Verbosity.normal,
                    # CI explores the same sequences every run (a gate must not go red by luck); MODEL_RANDOM=1, or
                    # --hypothesis-seed, explores new ones (`make model-explore`).
                    derandomize=not os.environ.get("MODEL_RANDOM"))


def line_answer(number: int, charge: Decimal, spec: tuple, *, balanced: bool = True,
                deny_all: bool = False) -> LineAnswer:
    """Scale a spec to a charge: the paid share, the rest spread over the reasons by weight (to the cent)."""
    pct, reasons, skew = spec
    cents = int(charge * 100)
    paid = 0 if deny_all else cents * pct // 100
    rest, weight = cents - paid, sum(w for _, w in reasons)
    amounts = [rest * w // weight for _, w in reasons]
    amounts[-1] += rest - sum(amounts)
    cas = tuple((g, r, money(Decimal(a) / 100)) for ((g, r), _), a in zip(reasons, amounts, strict=True) if a)
    if cas and skew and not balanced:
        cas = ((cas[0][0], cas[0][1], cas[0][2] + Decimal("0.01")), *cas[1:])
    return LineAnswer(number, charge, money(Decimal(paid) / 100), cas)


class PostingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.savepoint = db.session.begin_nested()
        self.world = build_world()
        self.client2, self.payer2 = insured_twice(self.world)
        self.model = Model()
        self.days = 0
        self.checks = 0
        self.files: list[bytes] = []
        self.replaced: set[int] = set()
        #: Claims a PLB offset named: that offset is the payer's recoupment of the claim's payment, so the payer
        #: does not also reverse it with a CLP02 22 (the same money taken back twice is not a shape payers send).
        self.recouped: set[int] = set()
        self.payers: dict[str, tuple[str, str]] = {}  # check -> the payer that sent it (name, EDI id)

    def teardown(self) -> None:
        self.savepoint.rollback()

    # --- helpers ----------------------------------------------------------------------------------------------

    def claim(self, key: int) -> Claim:
        claim = db.session.get(Claim, key)
        assert claim is not None
        return claim

    def pick(self, n: int, ok=lambda c: True) -> int | None:
        keys = [k for k, c in sorted(self.model.claims.items()) if ok(c)]
        return keys[n % len(keys)] if keys else None

    def reversible(self, c) -> bool:
        """A primary claim whose standing payment may be taken back under the rules that are built."""
        return (c.rank == "primary" and c.key not in self.replaced and c.key not in self.recouped
                and c.status in ("submitted", "paid", "denied")
                and (c.secondary is None or FEATURES["reversal_under_secondary"]))

    def payable(self, c) -> bool:
        """A claim an 835 may pay now under the rules that are built (see FEATURES)."""
        if c.status not in ("submitted", "paid", "denied"):
            return FEATURES["voided_money"]
        if c.key in self.replaced and not FEATURES["voided_money"]:
            return False
        if c.rank != "primary" and not FEATURES["secondary_rule5"]:
            return False
        if not FEATURES["credit_flag"] and any(ln.money[k] for ln in c.lines for k in ("write_off", "patient_write_off",
                                                                                      "patient_paid", "transfer")):
            return False
        standing = c.standing(c.payer)
        # Rule 8: a second answer needs a reversal between, unless the standing one denied and moved nothing.
        return standing is None or not standing.moves or FEATURES["paid_twice"]

    def import_payments(self, payments: list[Payment], data: bytes | None = None):
        data = data or write_835(payments, control=self.checks).encode()
        self.files.append(data)
        if os.environ.get("MODEL_DUMP"):
            with open(os.environ["MODEL_DUMP"], "a") as out:
                out.write(data.decode() + "\n====\n")
        result = import_835(data, filename=f"model{self.checks}.835", actor=SYSTEM)
        db.session.flush()
        return result

    def payment(self, claims, payer_name: str, payer_id: str, *, check: str | None = None, paid_on=PAID_ON,
                plbs: tuple[tuple[str, Decimal], ...] = ()):
        """A check for these CLPs; BPR02 = Σ CLP04 - Σ PLB (rule 7's signs: interest is negative)."""
        self.checks += 1
        check = check or f"MCHK{self.checks}"
        plb = money(sum((a for _, a in plbs), ZERO))
        total = money(sum((c.paid for c in claims), ZERO) - plb)
        self.model.remittances[check] = {"amount": total, "posted": ZERO, "kept": ZERO, "plb": plb}
        self.payers[check] = (payer_name, payer_id)
        return check, Payment(total, check, payer_name, payer_id, claims, paid_on=paid_on, plbs=list(plbs))

    def book(self, check: str, done, answer: Answer) -> None:
        """A CLP's money on its check: posted, or kept unposted when the model refused the same money twice."""
        self.model.remittances[check]["posted" if done is not None else "kept"] += answer.total_paid

    def answer(self, key: int, specs, status: str, claim_cas, skew: int) -> Answer:
        claim = self.model.claims[key]
        balanced = skew == 0
        lines = tuple(line_answer(ln.number, ln.charge, spec, balanced=balanced, deny_all=status == "4")
                      for ln, spec in zip(claim.lines, specs, strict=False))
        svc03 = sum((ln.paid for ln in lines), ZERO)
        cas: tuple = ()
        if claim_cas is not None and svc03 > ZERO:
            (group, reason), cents = claim_cas
            cas = ((group, reason, min(money(Decimal(cents) / 100), svc03)),)
        paid = money(svc03 - sum((a for _, _, a in cas), ZERO) - (Decimal("0.01") if skew and svc03 else ZERO))
        return Answer(lines, status, sum((ln.charge for ln in lines), ZERO), paid, cas)

    def forwardable(self, key: int, answer: Answer) -> Answer:
        """A crossover beside a line the same answer denies is a secondary beside an open denied line (rule 6),
        generated only once that switch is on; until then such an answer is processed as primary (CLP02 1)."""
        claim = self.model.claims[key]
        if answer.status != "19" or FEATURES["secondary_beside_open_line"] or not any(
                self.model.denied_line(claim, answer, ln) for ln in answer.lines):
            return answer
        return replace(answer, status="1")

    def forwarded(self, key: int, answer: Answer) -> None:
        """Rule 4: CLP02 19 forwards the claim to the next payer, which gets the claim the model would make for it
        (already sent, by the payer); the system makes it during the import, so the model follows."""
        if answer.status != "19" or self.model.claims[key].secondary is not None:
            return
        made = db.session.scalar(select(Claim).where(Claim.primary_claim_id == key,
                                                     Claim.forwarded_by_payer_id.is_not(None)))
        if made is None:
            assert self.model.secondary(key, -1) is None, "made no crossover claim where the model makes one"
            return
        assert made.status.value == "submitted", made.status
        assert self.model.secondary(key, made.id) is not None, "made a crossover claim the model would refuse"

    # --- rules ------------------------------------------------------------------------------------------------

    @initialize(charges=st.lists(CHARGES, min_size=1, max_size=4), with_secondary=st.booleans())
    def first_claim(self, charges, with_secondary):
        self.send_claim(charges, with_secondary)

    @precondition(lambda self: len(self.model.claims) < 6)
    @rule(charges=st.lists(CHARGES, min_size=1, max_size=4), with_secondary=st.booleans())
    def send_claim(self, charges, with_secondary):
        self.days += 1
        client = self.client2 if with_secondary else self.world.client
        claim = sent_claim(self.world, client, charges, day_offset=self.days)
        lines = sorted(claim.lines, key=lambda ln: ln.line_number)
        self.model.send(claim.id, [ln.session_id for ln in lines], charges, has_next_policy=with_secondary)

    @precondition(lambda self: self.model.claims)
    @rule(n=PICK, specs=LINE_SPECS, status=STATUS, claim_cas=CLAIM_CAS,
          skew=st.sampled_from([0, 0, 0, 0, 1]), twice=st.booleans())
    def remit(self, n, specs, status, claim_cas, skew, twice):
        if status == "19" and not FEATURES["crossover"]:
            status = "1"
        key = self.pick(n, lambda c: c.rank == "primary" and self.payable(c))
        if key is None:
            return
        answer = self.forwardable(key, self.answer(key, specs, status, claim_cas, skew))
        claims = [clp(self.claim(key), answer)]
        if twice and FEATURES["paid_twice"]:
            claims.append(clp(self.claim(key), answer))
        check, payment = self.payment(claims, self.world.payer.name, self.world.payer.edi_payer_id)
        result = self.import_payments([payment])
        assert (result.matched, result.unmatched) == (len(claims), 0), result.warnings
        posted = [self.model.adjudicate(key, answer) for _ in claims]
        for done in posted:
            self.book(check, done, answer)
        if posted[0] is not None:
            self.forwarded(key, answer)

    @precondition(lambda self: len(self.model.claims) > 1)
    @rule(n=PICK, specs=st.tuples(LINE_SPECS, LINE_SPECS), status=st.tuples(STATUS, STATUS),
          claim_cas=st.tuples(CLAIM_CAS, CLAIM_CAS))
    def remit_two_claims(self, n, specs, status, claim_cas):
        """One check paying two claims."""
        keys = [k for k, c in sorted(self.model.claims.items()) if c.rank == "primary" and self.payable(c)]
        if len(keys) < 2:
            return
        chosen = [keys[n % len(keys)], keys[(n + 1) % len(keys)]]
        codes = [s if s != "19" or FEATURES["crossover"] else "1" for s in status]
        answers = [self.forwardable(k, self.answer(k, sp, code, cas, 0))
                   for k, sp, code, cas in zip(chosen, specs, codes, claim_cas, strict=True)]
        check, payment = self.payment([clp(self.claim(k), a) for k, a in zip(chosen, answers, strict=True)],
                                      self.world.payer.name, self.world.payer.edi_payer_id)
        result = self.import_payments([payment])
        assert (result.matched, result.unmatched) == (2, 0), result.warnings
        for key, answer in zip(chosen, answers, strict=True):
            done = self.model.adjudicate(key, answer)
            self.book(check, done, answer)
            if done is not None:
                self.forwarded(key, answer)

    @precondition(lambda self: FEATURES["plb"] and self.model.claims)
    @rule(n=PICK, specs=LINE_SPECS, interest=st.integers(0, 300), offset=st.integers(0, 2000),
          names_claim=st.booleans())
    def remit_with_plb(self, n, specs, interest, offset, names_claim):
        """Rule 7: L6 interest adds to the check; a WO offset takes from it, naming a claim (which it reduces) or
        none (an open provider-level item)."""
        key = self.pick(n, lambda c: c.rank == "primary" and self.payable(c))
        if key is None:
            return
        answer = self.answer(key, specs, "1", None, 0)
        # An offset naming a claim is a recoupment: under a billed secondary it is the reversal rule 6 case.
        names_claim = names_claim and (self.model.claims[key].secondary is None or FEATURES["reversal_under_secondary"])
        offset_amount = min(money(Decimal(offset) / 100), answer.total_paid)
        # One PLB per check: the writer gives each its own segment, and pyx12 takes one PLB segment per check.
        plbs = ((("L6", -money(Decimal(interest) / 100)),) if interest and not offset_amount
                else (("WO", offset_amount),) if offset_amount else ())
        references = [None if reason == "L6" or not names_claim else self.claim(key).number for reason, _ in plbs]
        check, payment = self.payment([clp(self.claim(key), answer)], self.world.payer.name,
                                      self.world.payer.edi_payer_id, plbs=plbs)
        text = with_plb_references(write_835([payment], control=self.checks), references)
        result = self.import_payments([], text.encode())
        assert (result.matched, result.unmatched) == (1, 0), result.warnings
        self.book(check, self.model.adjudicate(key, answer), answer)
        if names_claim and offset_amount:
            self.model.offset(key, offset_amount)
            self.recouped.add(key)

    @precondition(lambda self: FEATURES["one_line_reversal"] and self.model.claims)
    @rule(n=PICK, which=PICK)
    def payer_reverses_one_line(self, n, which):
        """Case F: CLP02 22 carrying one SVC takes back that line only."""
        def lines_paid(c) -> list[int]:
            standing = c.standing(c.payer)
            if standing is None or standing.answer.claim_cas or not standing.answer.from_835:
                return []
            if standing.answer.total_paid != sum((ln.paid for ln in standing.answer.lines), ZERO):
                return []  # a claim that did not balance (rule 1, flagged): its lines' SVC03 are not what posted
            return sorted({m[0] for m in standing.moves})

        key = self.pick(n, lambda c: self.reversible(c) and len(lines_paid(c)) > 1)
        if key is None:
            return
        claim = self.model.claims[key]
        standing = claim.standing(claim.payer)
        assert standing is not None
        number = lines_paid(claim)[which % len(lines_paid(claim))]
        line = next(ln for ln in standing.answer.lines if ln.number == number)
        negated = Answer((LineAnswer(number, -line.charge, -line.paid, tuple((g, r, -a) for g, r, a in line.cas)),),
                         "22", -line.charge, -line.paid)
        check, payment = self.payment([clp(self.claim(key), negated)], self.world.payer.name,
                                      self.world.payer.edi_payer_id)
        result = self.import_payments([payment])
        assert (result.matched, result.unmatched) == (1, 0), result.warnings
        self.model.remittances[check]["posted"] += self.model.reverse_line(key, standing, number)

    @rule()
    def reimport_the_last_file(self):
        if not self.files:
            return
        result = self.import_payments([], self.files[-1])
        assert result.duplicate

    @precondition(lambda self: FEATURES["same_check_other_dates"])
    @rule(days=st.integers(1, 30))
    def same_check_on_another_date(self, days):
        """Rule 8: the same payer and TRN02 is the same check whatever its dates: nothing is posted."""
        # The check is sent again by the payer that sent it (a secondary payer's check number means another check).
        ours = set(db.session.scalars(select(Remittance.check_number).where(
            Remittance.payer_id == self.world.payer.id)))
        payments = [(c, r) for c, r in self.model.remittances.items() if r["amount"] > ZERO and c in ours]
        if not payments:
            return
        check, _ = payments[-1]
        key = self.pick(0, lambda c: c.rank == "primary")
        answer = Answer(tuple(LineAnswer(ln.number, ln.charge, ln.charge) for ln in self.model.claims[key].lines),
                        "1", None, None)
        answer = Answer(answer.lines, "1", answer.total_paid, answer.total_paid)
        payment = Payment(answer.total_paid, check, *self.payers[check], [clp(self.claim(key), answer)],
                          paid_on=PAID_ON + timedelta(days=days))
        result = self.import_payments([payment])
        assert result.duplicate

    @precondition(lambda self: self.model.claims)
    @rule(n=PICK)
    def payer_reversal(self, n):
        """CLP02 22: the payer takes back its standing payment, sent as the negation of what it paid."""
        key = self.pick(n, lambda c: self.reversible(c) and c.standing(c.payer) is not None)
        if key is None:
            return
        standing = self.model.claims[key].standing("primary")
        assert standing is not None
        original = standing.answer
        # A payer that already took some lines back one by one (case F) reverses the lines still standing.
        lines = [ln for ln in original.lines if ln.number not in standing.lines_reversed]
        charge = (original.charge if original.charge is not None and not standing.lines_reversed
                  else sum((ln.charge for ln in lines), ZERO))
        negated = Answer(tuple(LineAnswer(ln.number, -ln.charge, -ln.paid, tuple((g, r, -a) for g, r, a in ln.cas))
                               for ln in lines), "22", -charge, -standing.paid,
                         tuple((g, r, -a) for g, r, a in original.claim_cas))
        check, payment = self.payment([clp(self.claim(key), negated)], self.world.payer.name,
                                      self.world.payer.edi_payer_id)
        result = self.import_payments([payment])
        assert (result.matched, result.unmatched) == (1, 0), result.warnings
        self.model.remittances[check]["posted"] += self.model.reverse(key, standing)

    @precondition(lambda self: self.model.claims)
    @rule(n=PICK, specs=LINE_SPECS)
    def manual_payment(self, n, specs):
        """Record Payment from a paper EOB (no CLP02, no claim-level CAS: the lines add up)."""
        key = self.pick(n, lambda c: c.rank == "primary" and self.payable(c))
        if key is None:
            return
        claim = self.model.claims[key]
        lines = tuple(line_answer(ln.number, ln.charge, spec) for ln, spec in zip(claim.lines, specs, strict=False))
        posting = ClaimPosting(PAID_ON, tuple(LinePosting(ln.number, ln.paid, tuple(Adjustment(g, r, a)
                                                                                      for g, r, a in ln.cas))
                                              for ln in lines))
        mode = "add" if standing_payments(key) else ""
        record_manual_payment(self.claim(key), posting, actor=SYSTEM, mode=mode, overpayment=True)
        db.session.flush()
        self.model.adjudicate(key, Answer(lines))

    @precondition(lambda self: self.model.claims)
    @rule(n=PICK, patient=st.booleans())
    def write_off_a_side(self, n, patient):
        key = self.pick(n)
        if key is None:
            return
        expected = self.model.allocate(key, "patient_write_off" if patient else "write_off", None, patient=patient)
        try:
            write_off(self.claim(key), reason="model", actor=SYSTEM, posted_on=PAID_ON, patient=patient)
        except BillingError:
            assert not expected, "the write-off was refused but the model had a balance to write off"
        else:
            assert expected, "the write-off posted but the model had nothing to write off"
        db.session.flush()

    @precondition(lambda self: self.model.claims)
    @rule(n=PICK, cents=st.integers(1, 10000))
    def patient_pays(self, n, cents):
        key = self.pick(n)
        if key is None:
            return
        amount = money(Decimal(cents) / 100)
        expected = self.model.allocate(key, "patient_paid", amount, patient=True)
        try:
            record_patient_payment(self.claim(key), amount, actor=SYSTEM, posted_on=PAID_ON)
        except BillingError:
            assert not expected
        else:
            assert expected
        db.session.flush()

    @precondition(lambda self: self.model.claims)
    @rule(n=PICK, corrected=st.booleans(), pct=PCT)
    def clawback(self, n, corrected, pct):
        """A manual clawback of the standing payment, optionally with the corrected payment (CO-45 + PR-2)."""
        key = self.pick(n, lambda c: self.reversible(c) and c.standing() is not None)
        if key is None:
            return
        claim = self.model.claims[key]
        payments = standing_payments(key)
        posting = answer = None
        if corrected:
            fixed = [CorrectedLine(ln.number, ln.charge, money(ln.charge * pct / 100)) for ln in claim.lines]
            posting, problems = corrected_posting(self.claim(key), fixed, paid_on=PAID_ON)
            assert not problems
            answer = Answer(tuple(LineAnswer(ln.number, ln.charge, money(ln.charge * pct / 100),
                                             (("PR", "2", money(ln.charge - money(ln.charge * pct / 100))),)
                                             if money(ln.charge * pct / 100) != ln.charge else ())
                                  for ln in claim.lines))
        manual_clawback(self.claim(key), reason="model", posted_on=PAID_ON, actor=SYSTEM, payments=payments[-1:],
                        corrected=posting)
        db.session.flush()
        standing = claim.standing()
        assert standing is not None
        self.model.reverse(key, standing)
        if answer is not None:
            self.model.adjudicate(key, answer)

    @precondition(lambda self: self.model.claims)
    @rule(n=PICK)
    def secondary_claim(self, n):
        key = self.pick(n, lambda c: c.rank == "primary" and c.status in ("submitted", "paid", "denied") and (
            FEATURES["secondary_beside_open_line"] or c.status == "denied"
            or not any(ln.insurance != ZERO for ln in c.lines)))
        if key is None:
            return
        try:
            second = generate_secondary_claim(self.claim(key), actor=SYSTEM, posted_on=PAID_ON)
        except BillingError:
            assert self.model.secondary(key, -1) is None, "refused a secondary claim the model would make"
            return
        send(second)
        made = self.model.secondary(key, second.id)
        assert made is not None, "made a secondary claim the model would refuse"

    @precondition(lambda self: FEATURES["secondary_rule5"] and self.model.claims)
    @rule(n=PICK, specs=LINE_SPECS)
    def secondary_remit(self, n, specs):
        """The secondary payer's 835 (CLP02 2): OA-23 for the primary's share, its own CO-45, PR and payment."""
        key = self.pick(n, lambda c: c.rank == "secondary" and self.payable(c))
        if key is None:
            return
        claim = self.model.claims[key]
        lines = []
        for ln, (pct, _, skew) in zip(claim.lines, specs, strict=False):
            open_ = ln.insurance
            paid = money(open_ * pct / 100)
            pr = money((open_ - paid) * (skew + 1) / 2)
            co45 = money((ln.charge - paid - pr) * Decimal("0.5"))
            oa23 = money(ln.charge - paid - pr - co45)
            cas = tuple(c for c in (("PR", "2", pr), ("CO", "45", co45), ("OA", "23", oa23)) if c[2])
            lines.append(LineAnswer(ln.number, ln.charge, paid, cas))
        total = sum((ln.paid for ln in lines), ZERO)
        answer = Answer(tuple(lines), "2", sum((ln.charge for ln in lines), ZERO), total)
        check, payment = self.payment([clp(self.claim(key), answer)], self.payer2.name, self.payer2.edi_payer_id)
        result = self.import_payments([payment])
        assert (result.matched, result.unmatched) == (1, 0), result.warnings
        self.book(check, self.model.adjudicate_secondary(key, answer), answer)

    @precondition(lambda self: self.model.claims)
    @rule(n=PICK)
    def corrected_claim(self, n):
        """A replacement (frequency 7) of a claim the payer has not acted on; once sent, the original leaves A/R."""
        key = self.pick(n, lambda c: c.rank == "primary" and c.status in ("submitted", "paid", "denied")
                        and c.key not in self.replaced and (FEATURES["voided_money"] or not any(
                            ln.worked for ln in c.lines)))
        if key is None:
            return
        if self.model.claims[key].secondary is not None:  # refused: the next payer's claim goes first (rule 6)
            with pytest.raises(BillingError):
                correct_claim(self.claim(key), actor=SYSTEM, reason="model", payer_claim_number=f"PCN{key}")
            return
        copy = correct_claim(self.claim(key), actor=SYSTEM, reason="model", payer_claim_number=f"PCN{key}")
        send(copy)
        self.replaced.add(key)
        original = self.model.claims[key]
        lines = sorted(copy.lines, key=lambda ln: ln.line_number)
        self.model.send(copy.id, [ln.session_id for ln in lines], [ln.charge for ln in lines],
                        has_next_policy=original.has_next_policy, replaces=key)

    @precondition(lambda self: self.model.claims)
    @rule(n=PICK)
    def void(self, n):
        key = self.pick(n, lambda c: c.rank == "primary" and c.status in ("submitted", "paid", "denied")
                        and c.key not in self.replaced and (FEATURES["voided_money"] or not any(
                            ln.worked for ln in c.lines)))
        if key is None:
            return
        void_claim(self.claim(key), reason="model", actor=SYSTEM, money_confirmed=True)
        db.session.flush()
        self.model.void(key)

    @precondition(lambda self: FEATURES["resubmit_denied"] and self.model.claims)
    @rule(n=PICK)
    def resubmit_denied(self, n):
        """A new claim with only the lines the standing answer denied (rule 3); once sent, they leave A/R there."""
        def denied(c) -> list[int]:
            standing = c.standing()
            if standing is None or self.model.is_denial(standing.answer):
                return []
            # A line the biller wrote off is decided (rule 3): it is no longer there to resubmit.
            return [ln.number for ln in standing.answer.lines if self.model.denied_line(c, standing.answer, ln)
                    and c.line(ln.number).money["write_off"] == ZERO]

        def billed_again(c, number: int) -> bool:
            """Rule 6: a later live claim to the same rank bills the line (its resubmission stands)."""
            return any(other.key > c.key and other.rank == c.rank and other.status != "voided"
                       and c.line(number).service in {ln.service for ln in other.lines}
                       for other in self.model.claims.values())

        def not_billed_again(c) -> bool:
            if not FEATURES["line_denials"] and any(c.line(k).worked for k in denied(c)):
                return False
            return FEATURES["resubmit_twice"] or not any(billed_again(c, k) for k in denied(c))

        key = self.pick(n, lambda c: c.rank == "primary" and c.key not in self.replaced
                        and c.status in ("submitted", "paid", "denied") and 0 < len(denied(c)) < len(c.lines)
                        and not_billed_again(c))
        if key is None:
            return
        original = self.model.claims[key]
        numbers = [k for k in denied(original) if not billed_again(original, k)]
        second = self.model.claims[original.secondary] if original.secondary is not None else None
        # Rule 6: a line the next payer's claim bills waits for that claim to be voided, as a correction does.
        if not numbers or (second is not None and any(second.line(k).money["charge"] != ZERO for k in numbers)):
            try:
                resubmit_denied_lines(self.claim(key), actor=SYSTEM, reason="model")
            except BillingError:
                return
            raise AssertionError("resubmitted denied lines that a standing resubmission or a next payer bills")
        try:
            copy = resubmit_denied_lines(self.claim(key), actor=SYSTEM, reason="model")
        except BillingError as exc:
            c = self.model.claims[key]
            raise AssertionError(f"{exc}; model denied {denied(c)} in {c.standing().answer}; states "
                                 f"{[(ln.line_number, ln.denial_state) for ln in self.claim(key).lines]}; "
                                 f"{_debug(key, c)}") from None
        send(copy)
        lines = sorted(copy.lines, key=lambda ln: ln.line_number)
        assert [original.line(k).service for k in numbers] == [ln.session_id for ln in lines]
        self.model.send(copy.id, [ln.session_id for ln in lines], [ln.charge for ln in lines],
                        has_next_policy=original.has_next_policy)

    # --- after every step -------------------------------------------------------------------------------------

    @invariant()
    def balances_agree(self):
        for key, expected in self.model.claims.items():
            sums = claim_balance(key)
            assert (sums.insurance, sums.patient) == (expected.insurance, expected.patient), (
                f"claim {key}: system insurance/patient {sums.insurance}/{sums.patient}, model "
                f"{expected.insurance}/{expected.patient}" + _debug(key, expected))
        seen: set[int] = set()
        for key in self.model.claims:
            if key in seen:
                continue
            family = self.model.family(key)
            seen |= family
            system = [claim_balance(k) for k in family]
            model = [self.model.claims[k] for k in family]
            assert sum((b.insurance for b in system), ZERO) == sum((c.insurance for c in model), ZERO)
            assert sum((b.patient for b in system), ZERO) == sum((c.patient for c in model), ZERO)

    @invariant()
    def remittances_agree(self):
        for check, expected in self.model.remittances.items():
            remittance = db.session.scalars(select(Remittance).where(Remittance.check_number == check)).one()
            posted = db.session.scalar(select(func.sum(Adjudication.paid)).where(
                Adjudication.remittance_id == remittance.id)) or ZERO
            kept = db.session.scalar(select(func.sum(UnmatchedClaim.paid)).where(
                UnmatchedClaim.remittance_id == remittance.id)) or ZERO
            assert (money(remittance.amount), money(posted), money(kept), money(remittance.plb_total)) == (
                expected["amount"], expected["posted"], expected["kept"], expected["plb"]), check

    @invariant()
    def ledger_sound(self):
        assert check_ledger() == []


def _debug(key: int, expected) -> str:
    """Both sides of a claim whose balances disagree: the system's entries and the model's money per line."""
    lines = {ln.id: ln.line_number for ln in db.session.get(Claim, key).lines}
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.claim_id == key).order_by(LedgerEntry.id))
    system = [f"  line {lines.get(e.claim_line_id)} {e.kind.value} {e.group_code or ''}-{e.reason_code or ''} "
              f"{e.amount} (adjudication {e.adjudication_id}, reverses {e.reverses_id})" for e in entries]
    model = [f"  line {ln.number} {dict(ln.money)}" for ln in expected.lines]
    answers = [f"  {a.answer} -> {a.moves} reversed={a.reversed}" for a in expected.adjudications]
    return "\nsystem:\n" + "\n".join(system) + "\nmodel:\n" + "\n".join(model) + "\nanswers:\n" + "\n".join(answers)


def test_posting_agrees_with_the_reference_model(app):
    run_state_machine_as_test(PostingMachine, settings=SETTINGS)
