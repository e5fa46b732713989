"""The Credit Balances worklist: claims where the payer or the patient paid more than was owed, and the refund
(or, for a patient credit, the transfer to another claim of the same client) that settles each.

Billers and admins act; accountants read. Each POST is one service call from billing.payments.credits.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import ColumnElement, select
from werkzeug.wrappers import Response

from admin_views.auth import current_actor
from admin_views.base import AreaPage
from admin_views.operations import run_once
from admin_views.permissions import Area
from admin_views.scope import current_scope
from billing.claims.models import Claim
from billing.claims.queries import claim_by_number
from billing.core.db import db
from billing.core.errors import NotFound, Problem, raise_if
from billing.core.money import format_money, sum_money
from billing.core.time import practice_today
from billing.coverage.options import payer_options
from billing.org.queries import by_location
from billing.payments.credits import (
    CreditApplied,
    CreditBalance,
    Side,
    apply_patient_credit,
    credit_balances,
    patient_claims_owing,
    read_amount,
    read_day,
    read_refund,
    record_refund,
)

PAGE_SIZE = 50
#: The last page anyone pages to; past it the list is filtered instead (and the OFFSET stays small).
MAX_PAGE = 1000


def _number(text: str | None, *, upper: int) -> int | None:
    """A positive id or page typed in a URL, strictly: ASCII digits only, within range; anything else is None."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        return None
    value = int(text)
    return value if 0 < value <= upper else None


class CreditBalancesView(AreaPage):
    """Every claim in credit within the chosen scope, with the amount, age and cause per side, and totals."""

    area = Area.PAYMENTS

    def _where(self, payer_id: int | None = None) -> list[ColumnElement[bool]]:
        where = [by_location(Claim.location_id, current_scope())]
        if payer_id is not None:
            where.append(Claim.payer_id == payer_id)
        return where

    @expose("/")
    def index(self) -> Any:
        side = request.args.get("side", "")
        chosen = Side(side) if side in {s.value for s in Side} else None
        payer_id = _number(request.args.get("payer_id"), upper=2**31 - 1)
        page_number = _number(request.args.get("page"), upper=MAX_PAGE) or 1
        page = credit_balances(self._where(payer_id), side=chosen, limit=PAGE_SIZE,
                               offset=(page_number - 1) * PAGE_SIZE)
        pages = max(1, min(MAX_PAGE, -(-page.count // PAGE_SIZE)))
        return self.render("claimdesk/payments/credit_balances.html", page=page, side=chosen, payer_id=payer_id,
                           payers=payer_options(), page_number=page_number, pages=pages, today=practice_today(),
                           can_edit=self.can_edit, Side=Side)

    def _credit(self, number: str) -> CreditBalance | None:
        """The claim's credits if it is in the chosen scope (a claim outside it is "not found")."""
        claim_id = Claim.id_from_number(number or "")
        if claim_id is None:
            return None
        page = credit_balances([Claim.id == claim_id, *self._where()])
        return page.rows[0] if page.rows else None

    def _in_scope(self, number: str) -> Claim:
        """The claim named in the form, locked, if the user's scope shows it; else NotFound."""
        claim = claim_by_number(number, for_update=True)
        if not _visible(claim, self._where()):
            raise NotFound(f"No claim has the number {number!r}.")
        return claim

    @expose("/refund/", methods=("GET", "POST"))
    def refund_view(self) -> Any:
        number = request.args.get("claim", "")
        if request.method == "POST":
            return self._record_refund(number)
        credit = self._credit(number)
        if credit is None:
            flash(f"{number[:20] or 'That claim'} has no credit balance to work (in the chosen scope).", "warning")
            return redirect(self.get_url(".index"))
        owing = patient_claims_owing(credit.client_id, besides=credit.claim_id) if credit.patient_credit else []
        return self.render("claimdesk/payments/credit_refund.html", credit=credit, owing=owing, today=practice_today(),
                           can_edit=self.can_edit, Side=Side)

    def _refused_role(self, doing: str, back: str) -> Response | None:
        if self.can_edit:
            return None
        flash(f"Your role ({current_user.role.label}) cannot {doing}.", "error")
        return redirect(back)

    def _record_refund(self, number: str) -> Response:
        """POST of the refund form: one service call in one unit of work, then back to the worklist."""
        back = self.get_url(".refund_view", claim=number[:20])
        refused = self._refused_role("record refunds", back)
        if refused is not None:
            return refused
        form = request.form

        def refund() -> tuple[Claim, list[Any]]:
            typed = read_refund(form.get("side", ""), form.get("amount", ""), form.get("refunded_on", ""),
                                form.get("reference", ""), form.get("reason", ""))
            claim = self._in_scope(number)
            return claim, record_refund(claim, typed, actor=current_actor())

        index = self.get_url(".index")
        return run_once(
            "claim.refund", f"claim:{number[:20]}", refund, back=back, then=lambda _: index,
            success=lambda done: f"Refund of {format_money(sum_money(e.amount for e in done[1]))} recorded on "
            f"{done[0].number}. The claim stays flagged Needs Review until a biller clears it.",
            refusal=lambda exc: f"Nothing was refunded: {exc.message}",
        )

    @expose("/apply/", methods=("POST",))
    def apply_view(self) -> Response:
        """POST of the "apply the patient credit to another claim" form: one service call."""
        number = request.args.get("claim", "")
        back = self.get_url(".refund_view", claim=number[:20])
        refused = self._refused_role("apply credits", back)
        if refused is not None:
            return refused
        form = request.form

        def apply() -> CreditApplied:
            problems: list[Problem] = []
            amount = read_amount(form.get("amount", ""), "amount", "The amount to apply", problems)
            posted_on = read_day(form.get("posted_on", ""), "posted_on", "The date", problems)
            raise_if(problems)
            assert amount is not None
            source, target = self._in_scope(number), self._in_scope(form.get("target", ""))
            return apply_patient_credit(source, target, amount, actor=current_actor(), posted_on=posted_on,
                                        reason=form.get("reason", ""))

        index = self.get_url(".index")
        return run_once(
            "claim.apply-credit", f"claim:{number[:20]}", apply, back=back, then=lambda _: index,
            success=lambda done: f"{format_money(done.amount)} of {done.source.number}'s patient credit applied to "
            f"{done.target.number}.",
            refusal=lambda exc: f"Nothing was applied: {exc.message}",
        )


def _visible(claim: Claim, where: list[ColumnElement[bool]]) -> bool:
    return db.session.scalar(select(Claim.id).where(Claim.id == claim.id, *where)) is not None
