"""Post a check: enter one payer's check, add the claims its EOB pays, post each claim's lines, and save the whole
check once the lines add up to it (or with the remainder kept unapplied). Posted checks are listed with what is
still unapplied, and a remainder is applied later from the check's own page.

The page keeps no draft: the claims on the check travel in the form (`claims`, their ids) and every entry is
re-shown as typed, so "Add claim" and "Update total" are plain submits; a small script keeps the running total
live between them. The server recomputes everything and is the only authority.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import flash, redirect, request
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, DateBetweenFilter, FilterEqual
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import ColumnElement, or_, select
from werkzeug.wrappers import Response

from admin_views.auth import current_actor
from admin_views.base import AreaPage, RoleModelView
from admin_views.formatters import lazy_options
from admin_views.operations import Repeated, form_problems, once, show_repeat
from admin_views.payment_forms import PATIENT_FIELDS, PaymentForm, read_amount, read_date, read_payment
from admin_views.permissions import Area, may_edit
from admin_views.scope import claims_outside_scope, current_scope
from billing.claims.models import Claim
from billing.core.checks import parse_id
from billing.core.codes import GROUP_CODES
from billing.core.db import db
from billing.core.errors import BillingError, Problem
from billing.core.money import ZERO, sum_money
from billing.core.time import practice_today
from billing.coverage.models import Payer
from billing.coverage.options import payer_options
from billing.ledger.balances import claim_balance
from billing.ledger.models import Adjudication, PaymentMethod
from billing.org.queries import Scope, by_company, by_location
from billing.payments.checks import (
    CheckHeader,
    CheckLine,
    CheckPosted,
    apply_unapplied,
    claims_to_add,
    post_check,
    total_problems,
)
from billing.payments.models import PostedCheck
from billing.payments.reversals import standing_payments

#: The most claims one check page carries; a bigger EOB is posted in parts or with `flask payments post-check`.
MAX_CLAIMS = 60


class CheckEntry:
    """The Post a check form as typed: the check, the claims on it and each claim's Record Payment fields."""

    def __init__(self, values: Mapping[str, Any], *, fixed: PostedCheck | None = None) -> None:
        self.values = values
        self.fixed = fixed  # applying a posted check's remainder: the check itself is not retyped
        self.problems: list[Problem] = []
        self.payer_id = fixed.payer_id if fixed else parse_id(values.get("payer_id", ""))
        self.claims = self._claims()
        self.forms: dict[int, PaymentForm] = {c.id: read_payment(c, self.sub_values(c)) for c in self.claims}

    def get(self, name: str) -> str:
        return str(self.values.get(name, "") or "")

    def sub_values(self, claim: Claim) -> dict[str, Any]:
        """One claim's fields without its prefix: what the Record Payment reader expects."""
        prefix = f"c{claim.id}-"
        return {k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix)}

    def _claims(self) -> list[Claim]:
        ids = [i for i in (parse_id(t) for t in self.get("claims").split(",")) if i]
        ids += [i for i in [parse_id(self.get("add_claim"))] if i and i not in ids]
        removed = parse_id(self.get("remove"))
        ids = [i for i in dict.fromkeys(ids) if i != removed][:MAX_CLAIMS]
        hidden = claims_outside_scope(ids)
        found = {c.id: c for c in db.session.scalars(select(Claim).where(Claim.id.in_(ids)))}
        return [found[i] for i in ids if i in found and i not in hidden]

    def amount(self) -> Decimal | None:
        if self.fixed is not None:
            return self.fixed.unapplied
        return read_amount(self.get("amount"), "Check amount", self.problems)

    def lines_paid(self) -> Decimal:
        return sum_money(f.posting.paid for f in self.forms.values() if f.posting is not None)

    def header(self) -> CheckHeader | None:
        amount = self.amount()
        if not self.payer_id:
            self.problems.append(Problem("payer_id", "Choose the payer that sent the check."))
        if not self.get("check_number").strip():
            self.problems.append(Problem("check_number", "Enter the check (or EFT trace) number."))
        if not self.get("check_date").strip():
            self.problems.append(Problem("check_date", "Enter the check date."))
        day = read_date(self.get("check_date"), "Check date", self.problems)
        method = next((m for m in PaymentMethod if m.value == self.get("payment_method")), None)
        if method is None:
            self.problems.append(Problem("payment_method", "Choose how the money came: check, EFT, card or other."))
        if amount is None:
            self.problems.append(Problem("amount", "Enter the check amount."))
        if self.problems or amount is None or method is None or not self.payer_id:
            return None
        return CheckHeader(self.payer_id, self.get("check_number").strip(), day, amount, method)

    def lines(self) -> list[CheckLine]:
        lines = []
        for n, claim in enumerate(self.claims, start=1):
            form = self.forms[claim.id]
            self.problems += [
                Problem(f"lines[{n}]", f"Check line {n} ({claim.number}): {p.message}") for p in form.problems
            ]
            if form.posting is not None:
                lines.append(
                    CheckLine(
                        claim.number, form.posting, mode=form.get("mode"), overpayment=bool(form.get("overpayment"))
                    )
                )
        if not self.claims:
            self.problems.append(Problem("lines", "Add at least one claim the check pays."))
        return lines


def _may_see(claim: Claim) -> bool:
    return not claims_outside_scope([claim.id])


def _owed(claim: Claim) -> Decimal:
    sums = claim_balance(claim.id)
    return sums.insurance if sums.by_kind else claim.total_charge


class PostCheckView(AreaPage):
    """The Post a check page (billers and admins post; readers of payments see the list of posted checks)."""

    area = Area.PAYMENTS

    def is_visible(self) -> bool:
        return current_user.is_authenticated and self.can_edit  # readers find posted checks on Posted checks

    @expose("/", methods=("GET", "POST"))
    def index(self) -> Any:
        entry = CheckEntry(request.form if request.method == "POST" else request.args)
        found: list[Claim] = []
        if request.method == "POST" and not self.can_edit:
            flash(f"Your role ({current_user.role.label}) cannot post checks.", "error")
            return redirect(self.get_url(".index"))
        doing = request.form.get("do", "")
        if doing == "find":
            found = self._find(entry)
        if doing == "post":
            posted = self._post(entry)
            if isinstance(posted, Response):
                return posted
        return self._render(entry, found, apply_to=None)

    @expose("/apply/<int:check_id>/", methods=("GET", "POST"))
    def apply(self, check_id: int) -> Any:
        """Apply part or all of a posted check's unapplied remainder to more claims."""
        check = _visible_check(check_id)
        if check is None:
            flash("No such posted check in the chosen scope.", "error")
            return redirect(self.get_url("posted_check.index_view"))
        if request.method == "POST" and not self.can_edit:
            flash(f"Your role ({current_user.role.label}) cannot post checks.", "error")
            return redirect(self.get_url("posted_check.details_view", id=check.id))
        entry = CheckEntry(request.form if request.method == "POST" else {}, fixed=check)
        found = self._find(entry) if request.form.get("do") == "find" else []
        if request.form.get("do") == "post":
            lines = entry.lines()
            if not entry.problems:
                back = self.get_url("posted_check.details_view", id=check.id)
                done = self._once(
                    f"check:{check.id}",
                    lambda: apply_unapplied(check, lines, actor=current_actor(), may_see=_may_see),
                    entry,
                    back,
                )
                if isinstance(done, Response):
                    return done
        return self._render(entry, found, apply_to=check)

    def _find(self, entry: CheckEntry) -> list[Claim]:
        scope = current_scope()
        found = claims_to_add(entry.payer_id, entry.get("find"), by_location(Claim.location_id, scope))
        on_check = {c.id for c in entry.claims}
        found = [c for c in found if c.id not in on_check]
        if len(found) == 1 and Claim.id_from_number(entry.get("find")):
            entry.claims.append(found[0])  # a claim number names one claim: add it straight away
            entry.forms[found[0].id] = PaymentForm({})
            return []
        if not found:
            entry.problems.append(
                Problem("find", f"No claim of this payer that was sent matches {entry.get('find').strip()!r}.")
            )
        return found

    def _post(self, entry: CheckEntry) -> Response | None:
        header, lines = entry.header(), entry.lines()
        if header is None or entry.problems:
            return None
        keep, note = bool(entry.get("keep_unapplied")), entry.get("note")
        return self._once(
            f"payer:{header.payer_id}",
            lambda: post_check(header, lines, actor=current_actor(), keep_unapplied=keep, note=note, may_see=_may_see),
            entry,
            None,
        )

    def _once(self, subject: str, operation: Any, entry: CheckEntry, back: str | None) -> Response | None:
        try:
            done = once(
                "payments.post_check",
                subject,
                operation,
                outcome=lambda r: r.summary(),
                target=lambda r: self.get_url("posted_check.details_view", id=r.check.id),
            )
        except Repeated as repeat:
            return show_repeat(repeat.done, back or self.get_url("posted_check.index_view"))
        except BillingError as exc:  # the page shows every refusal beside what was typed
            entry.problems += form_problems(exc)
            return None
        result: CheckPosted = done.result
        flash(done.message, "info" if result.already_posted else "success")
        for claim, posted in result.results:
            for note in posted.notes:
                flash(f"{claim.number}: {note}.", "warning")
        return redirect(done.target or self.get_url("posted_check.index_view"))

    def _render(self, entry: CheckEntry, found: list[Claim], *, apply_to: PostedCheck | None) -> Any:
        amount = entry.fixed.unapplied if entry.fixed else _quiet_amount(entry.get("amount"))
        paid = entry.lines_paid()
        # Say the total's problem before a post is tried, as the running total does.
        pending = total_problems(amount, [], keep_unapplied=True) if amount is not None else []
        return self.render(
            "claimdesk/payments/post_check.html",
            entry=entry,
            found=found,
            apply_to=apply_to,
            payers=payer_options(),
            methods=list(PaymentMethod),
            amount=amount,
            paid=paid,
            difference=(amount - paid) if amount is not None else None,
            pending=pending,
            owed={c.id: _owed(c) for c in entry.claims},
            standing={c.id: bool(standing_payments(c.id)) for c in entry.claims},
            patient_fields=PATIENT_FIELDS,
            groups=GROUP_CODES,
            today=practice_today(),
            can_edit=self.can_edit,
        )


def _quiet_amount(text: str) -> Decimal | None:
    problems: list[Problem] = []
    return read_amount(text, "Check amount", problems)


def posted_check_in_scope(scope: Scope) -> ColumnElement[bool]:
    """A check shows in a scope when its payer is the scope company's or it pays a claim of the scope."""
    company_payers = select(Payer.id).where(by_company(Payer.company_id, scope))
    paying_here = (
        select(Adjudication.posted_check_id)
        .join(Claim, Claim.id == Adjudication.claim_id)
        .where(by_location(Claim.location_id, scope), Adjudication.posted_check_id.is_not(None))
    )
    return or_(PostedCheck.payer_id.in_(company_payers), PostedCheck.id.in_(paying_here))


def _visible_check(check_id: int) -> PostedCheck | None:
    return db.session.scalar(
        select(PostedCheck).where(PostedCheck.id == check_id, posted_check_in_scope(current_scope()))
    )


def _money(value: Decimal) -> Markup:
    return Markup('<span class="cd-money">${:,.2f}</span>').format(value)


class UnappliedFilter(BooleanEqualFilter):
    """Yes: checks with money not yet on any claim; No: fully applied."""

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(PostedCheck.unapplied > 0 if value == "1" else PostedCheck.unapplied <= 0)


class PostedCheckView(RoleModelView):
    """Every check posted on the Post a check page, with what is still unapplied (a biller's open money)."""

    area = Area.PAYMENTS
    name = "Posted checks"
    scope_rule = staticmethod(posted_check_in_scope)
    allow_create = False  # checks are posted on the Post a check page
    allow_edit = False  # the money is in the ledger; a check's remainder is applied, never edited
    list_template = "claimdesk/payments/posted_check_list.html"
    details_template = "claimdesk/payments/posted_check_details.html"
    column_list = [
        "check_date",
        "payer",
        "check_number",
        "method",
        "amount",
        "applied",
        "unapplied",
        "note",
        "actor",
        "posted_at",
    ]
    column_labels = {
        "check_date": "Check date",
        "check_number": "Check / EFT",
        "unapplied": "Unapplied",
        "posted_at": "Posted",
        "actor": "By",
    }
    column_sortable_list = ["check_date", "check_number", "amount", "unapplied", "posted_at"]
    column_default_sort = ("id", True)
    column_searchable_list = ["check_number"]
    column_filters = [
        DateBetweenFilter(column=PostedCheck.check_date, name="Check date"),
        FilterEqual(column=PostedCheck.payer_id, name="Payer", options=lazy_options(payer_options)),
        UnappliedFilter(column=PostedCheck.unapplied, name="Has unapplied money"),
    ]
    column_formatters = {
        "payer": lambda v, c, m, n: m.payer.name,
        "method": lambda v, c, m, n: m.method.label,
        "amount": lambda v, c, m, n: _money(m.amount),
        "applied": lambda v, c, m, n: _money(m.applied),
        "unapplied": lambda v, c, m, n: (
            Markup('<span class="badge badge-warning" data-unapplied>{}</span>').format(f"${m.unapplied:,.2f}")
            if m.unapplied > ZERO
            else _money(ZERO)
        ),
        "posted_at": lambda v, c, m, n: m.posted_at.strftime("%m/%d/%Y"),
    }

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return False

    def may_post(self) -> bool:
        return current_user.is_authenticated and may_edit(current_user.role, self.area)

    def detail_context(self, check: PostedCheck) -> dict[str, Any]:
        payments = [a for a in check.adjudications if not claims_outside_scope([a.claim_id])]
        return {"payments": payments, "may_post": self.may_post()}
