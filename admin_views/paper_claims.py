"""Billing > Print claims: the Ready claims of paper payers as one CMS-1500 PDF, then Mark mailed.

Billers and admins print and mark; accountants see the list. Printing runs the rules first (a billing
run, so it is a POST with the CSRF token); Mark mailed is a money form (it posts the charges), so it
carries an operation key and runs at most once.
"""

from __future__ import annotations

from datetime import date

from flask import Response as FlaskResponse
from flask import flash, redirect, request
from flask_admin import expose
from flask_login import current_user
from werkzeug.wrappers import Response

from admin_views.base import AreaPage
from admin_views.operations import run_once
from admin_views.permissions import Area
from admin_views.scope import current_scope
from billing.claims.models import claim_number
from billing.core.checks import parse_id
from billing.core.errors import BillingError, Problem, ValidationFailed
from billing.core.money import sum_money
from billing.core.time import practice_today
from billing.core.unit_of_work import unit_of_work
from billing.org.queries import describe_scope
from billing.submissions.paper.printing import layout_from_settings, mark_mailed, print_claims
from billing.submissions.paper.render import Mode
from billing.submissions.queries import paper_candidates, paper_payers


class PaperClaimsView(AreaPage):
    area = Area.SUBMISSIONS

    @expose("/")
    def index(self) -> str:
        payer = request.args.get("payer", "all")
        scope = current_scope()
        found = paper_candidates(parse_id(payer), scope)
        eligible = [c for c in found if c.eligible]
        return self.render(
            "claimdesk/submissions/paper.html", payers=paper_payers(scope), payer=payer, candidates=found,
            eligible_count=len(eligible), eligible_total=sum_money(c.total for c in eligible),
            scope_text=describe_scope(scope), today=practice_today(),
        )  # fmt: skip

    def _refused(self) -> Response | None:
        if self.can_edit:
            return None
        flash(f"Your role ({current_user.role.label}) cannot print or mail claims.", "error")
        return redirect(self.get_url(".index"))

    @expose("/print/", methods=("POST",))
    def print_pdf(self) -> Response:
        """One PDF of the ticked claims (data only, or with the form drawn); they stay Ready until mailed."""
        if refused := self._refused():
            return refused
        mode = Mode.PLAIN if request.form.get("mode") == Mode.PLAIN.value else Mode.DATA
        try:
            with unit_of_work():
                printed = print_claims(actor=self.actor(), claim_ids=_chosen(), layout=layout_from_settings(mode))
        except BillingError as exc:
            flash(f"Nothing was printed: {exc.message}", "error")
            return redirect(self.get_url(".index", payer=request.form.get("payer", "all")))
        if not printed.claims:  # the rules stopped every ticked claim; their run is committed with its holds
            for stop in printed.held[:20]:
                flash(f"Held by the rules: {stop.describe()}", "warning")
            flash("Nothing was printed: the rules stopped every ticked claim.", "error")
            return redirect(self.get_url(".index", payer=request.form.get("payer", "all")))
        name = f"cms1500-{practice_today():%Y%m%d}-{len(printed.claims)}-claims.pdf"
        return FlaskResponse(printed.pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})  # fmt: skip

    @expose("/mark-mailed/", methods=("POST",))
    def mark_mailed_view(self) -> Response:
        if refused := self._refused():
            return refused
        back = self.get_url(".index", payer=request.form.get("payer", "all"))
        return run_once(
            "paper.mark_mailed", "paper:" + ",".join(sorted(request.form.getlist("claim_id")))[:200],
            lambda: mark_mailed(_chosen(), mailed_on=_mailed_on(request.form.get("mailed_on")), actor=self.actor()),
            back=back,
            success=lambda claims: f"{len(claims)} claim(s) marked mailed: Submitted, and charged in the ledger.",
            refusal=lambda exc: f"Nothing was changed: {exc.message}",
        )


def _chosen() -> list[int]:
    """The ticked claims, each a paper payer's claim in the user's scope; anything else is refused by name."""
    chosen = sorted({n for i in request.form.getlist("claim_id") if (n := parse_id(i))})
    if not chosen:
        raise ValidationFailed([Problem("claims", "Tick at least one claim.")])
    visible = {c.claim_id for c in paper_candidates(None, current_scope(), chosen)}
    if missing := [i for i in chosen if i not in visible]:
        raise ValidationFailed([Problem("claims", f"{claim_number(i)} is not a Ready claim of a paper payer here.")
                                for i in missing])  # fmt: skip
    return chosen


def _mailed_on(text: str | None) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise ValidationFailed([Problem("mailed_on", "Give the day the claims were mailed (YYYY-MM-DD).")]) from None

