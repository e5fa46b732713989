"""Print claims for paper payers, and mark a print mailed: the paper twin of Generate and Send.

Printing runs the rules first, exactly as Generate does, and prints only what they let through; the
claims stay Ready until the print is mailed. Marking mailed is the same completion as an EDI send:
each claim goes Submitted and its bill enters the ledger dated the mailing day.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date

from flask import current_app, has_app_context
from sqlalchemy import select

from billing.claims.models import Claim, claim_number
from billing.claims.queries import lock_claim
from billing.core.audit import Actor, AuditAction, Change, record_changes
from billing.core.db import db
from billing.core.errors import Invalid, NothingToDo, Problem, ValidationFailed
from billing.core.id_lists import any_of
from billing.core.time import practice_today
from billing.submissions.loading import claim_facts
from billing.submissions.operations import submit_claims
from billing.submissions.paper.boxes import Page, pages_for
from billing.submissions.paper.render import Layout, Mode, render
from billing.submissions.queries import Candidate, paper_candidates, ready_paper_claim_ids
from rules.eligibility import RuleStop, run_stops
from rules.runs import run_rules


@dataclass
class Printed:
    """One PDF for many claims, and what was left out of it."""

    pdf: bytes
    claims: list[Candidate]
    pages: int
    #: Claims the rules stopped in the run just made, each with rule and why.
    held: list[RuleStop] = field(default_factory=list)
    #: Claims that cannot be printed (a void waiting for the payer's claim number, a missing address...).
    left_out: list[str] = field(default_factory=list)

    @property
    def claim_ids(self) -> list[int]:
        return [c.claim_id for c in self.claims]


def layout_from_settings(mode: Mode = Mode.DATA) -> Layout:
    """The installation's printer, from the app config: CLAIMDESK_CMS1500_OFFSET_X and _Y (points) and
    CLAIMDESK_CMS1500_FONT_SIZE. A value that is not a number is refused naming the setting."""
    return Layout(mode=mode, font_size=_setting("CLAIMDESK_CMS1500_FONT_SIZE", 10.0),
                  offset_x=_setting("CLAIMDESK_CMS1500_OFFSET_X", 0.0),
                  offset_y=_setting("CLAIMDESK_CMS1500_OFFSET_Y", 0.0))  # fmt: skip


def _setting(name: str, default: float) -> float:
    value = current_app.config.get(name, default) if has_app_context() else default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise Invalid(f"The setting {name} must be a number of points, not {str(value)[:20]!r}.") from None


def print_claims(
    *, actor: Actor, payer_id: int | None = None, claim_ids: Collection[int] | None = None,
    layout: Layout | None = None, today: date | None = None,
) -> Printed:
    """Run the rules on the Ready claims of paper payers (all, one payer's, or the chosen ones), then one PDF
    of the claims they let through. Chosen claims that cannot go are refused by name; otherwise they are left
    out and reported. Nothing changes status: the claims stay Ready until `mark_mailed`. When the rules stop
    every claim, the answer has no PDF (and no claims) so the caller keeps the run and reports the holds."""
    to_check = ready_paper_claim_ids(payer_id, claim_ids)
    run = run_rules(actor=actor, claim_ids=to_check, today=today) if to_check else None
    held = run_stops(run.run_number, today=today) if run is not None else []
    stopped = {stop.claim_id for stop in held}
    wanted = None if claim_ids is None else set(claim_ids) - stopped
    found = paper_candidates(payer_id, claim_ids=wanted)
    if wanted is not None:
        _refuse_unprintable(wanted, found)
    left_out = [c.describe() for c in found if not c.eligible]
    chosen = [c for c in found if c.eligible]
    loaded = claim_facts({c.claim_id: c.frequency_code for c in chosen})
    if loaded.problems and wanted is not None:
        raise ValidationFailed([Problem("claims", f"{claim_number(i)}: {p}")
                                for i, found_problems in loaded.problems.items() for p in found_problems])  # fmt: skip
    left_out += [f"{claim_number(i)}: {'; '.join(p)}" for i, p in loaded.problems.items()]
    printed = [c for c in chosen if c.claim_id not in loaded.problems]
    if not printed and held:  # the rules' run stands (holds, failed charges, history), as Generate's does
        return Printed(b"", [], 0, held, left_out)
    if not printed:
        raise NothingToDo("There are no claims to print for paper payers."
                          + (f" Left out: {'; '.join(left_out[:10])}." if left_out else ""))
    printed_on = today or practice_today()
    pages: list[Page] = [page for facts in loaded.facts for page in pages_for(facts, printed_on)]
    pdf = render(pages, layout or layout_from_settings())
    record_changes("claim", [
        Change(c.claim_id, AuditAction.CLAIM_PRINTED, "ready" if c.frequency_code != "8" else "voided",
               "ready" if c.frequency_code != "8" else "voided", "Printed on a CMS-1500 for mailing")
        for c in printed
    ], actor=actor)  # fmt: skip
    return Printed(pdf, printed, len(pages), held, left_out)


def _refuse_unprintable(wanted: set[int], found: list[Candidate]) -> None:
    missing = wanted - {c.claim_id for c in found}
    problems = [Problem("claims", f"{claim_number(i)}: not Ready for a paper payer (or already mailed).")
                for i in sorted(missing)]  # fmt: skip
    problems += [Problem("claims", c.describe()) for c in found if not c.eligible]
    if problems:
        raise ValidationFailed(problems)


def mark_mailed(claim_ids: Sequence[int], *, mailed_on: date, actor: Actor) -> list[Claim]:
    """The printed claims went in the mail on `mailed_on`: Submitted, and charged in the ledger that day.

    The same completion as an EDI send (`submit_claims`), so history, A/R and follow-up cannot tell the two
    apart. The claims are locked first; any that is no longer printable (mailed already, held or edited into
    another state since) refuses the whole mailing, so a second click posts nothing.
    """
    if not claim_ids:
        raise ValidationFailed([Problem("claims", "Choose the printed claims that were mailed.")])
    if mailed_on > practice_today():
        raise ValidationFailed([Problem("mailed_on", f"{mailed_on:%m/%d/%Y} is in the future; give the day "
                                                     "the claims were mailed.")])  # fmt: skip
    claims = list(db.session.scalars(select(Claim).where(any_of(Claim.id, claim_ids)).order_by(Claim.id)))
    for claim in claims:
        lock_claim(claim)
    wanted = set(claim_ids)
    if len(claims) != len(wanted):
        unknown = sorted(wanted - {c.id for c in claims})
        raise ValidationFailed([Problem("claims", f"There is no claim {claim_number(i)}.") for i in unknown])
    found = {c.claim_id: c for c in paper_candidates(claim_ids=wanted)}
    _refuse_unprintable(wanted, list(found.values()))
    # Printing ran the rules on each claim as it was; one edited since is unchecked again, and its paper is stale.
    if changed := [c for c in found.values() if c.unchecked]:
        raise ValidationFailed([Problem("claims", f"{c.number} changed after it was printed; print it again.")
                                for c in changed])  # fmt: skip
    reason = f"Mailed on paper (CMS-1500) on {mailed_on:%m/%d/%Y}"
    submit_claims([(c, found[c.id].frequency_code) for c in claims], actor=actor, reason=reason, sent_on=mailed_on)
    db.session.flush()
    return claims
