"""Money on one claim: Record Payment (with a balance preview), Reverse prior entry, denial work, write-offs.

A mixin of the claims view, so the pages live under /admin/claim/ beside the claim they change. Each POST is
one service call in one unit of work; billers and admins act, everyone who may read claims sees the result.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request
from flask_admin import expose
from flask_login import current_user
from werkzeug.wrappers import Response

from admin_views.auth import current_actor
from admin_views.operations import Repeated, form_problems, once, run_once, show_repeat
from admin_views.payment_forms import (
    ADJUSTMENT_ROWS,
    PATIENT_FIELDS,
    PaymentForm,
    read_amount,
    read_date,
    read_payment,
    values_from,
)
from admin_views.permissions import Area, may_edit
from billing.claims import operations as claim_ops
from billing.claims.models import Claim
from billing.claims.statuses import SENT, ClaimStatus
from billing.core.checks import parse_id
from billing.core.codes import GROUP_CODES, carcs, describe_carc, is_denial, rarcs
from billing.core.errors import BillingError, Invalid, NotFound, Problem, ValidationFailed
from billing.core.money import ZERO, format_money
from billing.core.time import practice_today
from billing.ledger.balances import adjudications_for, claim_balance, entries_for_claim, reversed_entry_ids
from billing.ledger.models import Adjudication, PaymentMethod
from billing.payments import operations as money_ops
from billing.payments.denials import denied_lines_of
from billing.payments.operations import record_manual_payment
from billing.payments.preview import preview_posting
from billing.payments.queries import denial_reasons
from billing.payments.reversals import effect_of, manual_clawback, reversible_entries, standing_payments
from billing.payments.secondary import denied_lines, generate_secondary_claim, resubmit_denied_lines, secondary_refusal

#: Claim statuses a payment can be recorded on (the payer has the claim).



def may_post_money() -> bool:
    return current_user.is_authenticated and may_edit(current_user.role, Area.PAYMENTS)


def owed_by(claim: Claim) -> str:
    """Who the patient balance is billed to: the responsible party when the client has one."""
    client = claim.client
    if client.responsible_party_name:
        relation = f", {client.responsible_party_relationship}" if client.responsible_party_relationship else ""
        return f"{client.responsible_party_name} (responsible party{relation}) for {client.full_name}"
    return client.full_name


class ClaimPaymentsMixin:
    """Exposed pages and the context the claim page needs for its money sections."""

    # --- what the claim page shows --------------------------------------------------------------------
    def money_context(self, claim: Claim) -> dict[str, Any]:
        payments = standing_payments(claim.id)
        entries = entries_for_claim(claim.id)
        balances = claim_balance(claim.id)
        return {
            "entries": entries,
            "reversed_ids": reversed_entry_ids(claim.id),
            "payments": payments,
            "adjudications": adjudications_for(claim.id),
            "insurance_balance": balances.insurance if balances.by_kind else claim.total_charge,
            "patient_balance": balances.patient,
            "owed_by": owed_by(claim),
            "denial_reasons": _denial_reasons(claim),
            "denied_lines": denied_lines(payments[-1]) if payments else [],
            "secondary_refusal": secondary_refusal(claim) if claim.status in SENT else "not adjudicated",
            "may_post_money": may_post_money(),
            "payable": claim.status in SENT,
            "describe_carc": describe_carc,
            "denied_work": denied_lines_of([claim.id], workable_only=False).get(claim.id, []),
            "today": practice_today(),
        }

    # --- Record Payment -------------------------------------------------------------------------------
    @expose("/payment/", methods=("GET", "POST"))
    def payment_view(self) -> Any:
        claim, refusal = self._money_claim()
        if refusal is not None:
            return refusal
        assert claim is not None
        back = self.get_url(".details_view", id=claim.id)
        existing = standing_payments(claim.id)
        form = read_payment(claim, request.form) if request.method == "POST" else _correcting(claim, existing)
        preview = None
        mode = request.form.get("mode", "")
        if form is not None and form.posting is not None:
            replacing = existing[-1] if existing and mode == "replace" else None
            preview = preview_posting(claim, form.posting, replacing=effect_of(replacing) if replacing else None)
            if request.form.get("do") == "save":
                saved = _save_payment(claim, form.posting, mode, back)
                if isinstance(saved, Response):
                    return saved
                form.problems += saved
        return self.render(
            "claimdesk/payments/record.html", claim=claim, form=form, preview=preview, existing=existing,
            return_url=back, adjustment_rows=ADJUSTMENT_ROWS, patient_fields=PATIENT_FIELDS,
            groups=GROUP_CODES, carcs=carcs(), rarcs=rarcs(), today=practice_today(),
            payment_methods=list(PaymentMethod),
        )

    # --- Reverse prior entry (manual clawback), optionally with the corrected payment --------------------
    @expose("/reverse/", methods=("GET", "POST"))
    def reverse_view(self) -> Any:
        claim, refusal = self._money_claim()
        if refusal is not None:
            return refusal
        assert claim is not None
        back = self.get_url(".details_view", id=claim.id)
        payments, entries = standing_payments(claim.id), reversible_entries(claim.id)
        problems: list[Problem] = []
        form = None
        if request.method == "POST":
            chosen_payments = [p for p in payments if request.form.get(f"payment-{p.id}")]
            chosen_entries = [e for e in entries if request.form.get(f"entry-{e.id}")]
            posted_on = read_date(request.form.get("posted_on", ""), "Date", problems)
            corrected = None
            if request.form.get("with_correction"):
                form = read_payment(claim, request.form)
                problems += form.problems
                corrected = form.posting
            if not problems:
                try:
                    done = once("claim.reverse", f"claim:{claim.id}", lambda: manual_clawback(
                        claim, reason=request.form.get("reason", ""), posted_on=posted_on, actor=current_actor(),
                        payments=chosen_payments, entries=chosen_entries, corrected=corrected),
                        outcome=lambda result: _reversed_message(claim, result))
                except Repeated as repeat:
                    return show_repeat(repeat.done, back)
                except BillingError as exc:  # the form shows every refusal beside what was entered
                    problems = form_problems(exc)
                else:
                    flash(done.message, "success")
                    if done.result.corrected is not None:
                        _flash_posted(claim, done.result.corrected)
                    return redirect(back)
        return self.render(
            "claimdesk/payments/reverse.html", claim=claim, payments=payments, entries=entries, problems=problems,
            form=form, return_url=back, adjustment_rows=ADJUSTMENT_ROWS, patient_fields=PATIENT_FIELDS,
            groups=GROUP_CODES, carcs=carcs(), rarcs=rarcs(), today=practice_today(),
            payment_methods=list(PaymentMethod), describe_carc=describe_carc,
        )

    # --- one-click money operations from the claim page -------------------------------------------------
    @expose("/money/<operation>/", methods=("POST",))
    def money_view(self, operation: str) -> Response:
        claim, refusal = self._money_claim()
        if refusal is not None:
            return refusal
        assert claim is not None
        back = self.get_url(".details_view", id=claim.id)
        return run_once(
            f"claim.{operation}", f"claim:{claim.id}", lambda: _money_operation(operation, claim, request.form),
            back=back, success=lambda done: done[0],
            then=lambda done: self.get_url(".details_view", id=done[1].id) if done[1] is not None else back,
        )

    def _money_claim(self) -> tuple[Claim | None, Response | None]:
        claim = self.get_one(request.args.get("id", ""))  # type: ignore[attr-defined]
        if claim is None:
            flash("Record does not exist.", "error")
            return None, redirect(self.get_url(".index_view"))  # type: ignore[attr-defined]
        if not may_post_money():
            flash(f"Your role ({current_user.role.label}) cannot post payments or adjustments.", "error")
            return None, redirect(self.get_url(".details_view", id=claim.id))  # type: ignore[attr-defined]
        return claim, None


def _save_payment(claim: Claim, posting: Any, mode: str, back: str) -> Response | list[Problem]:
    """Post the payment once (a second submit of the form shows the first result); refusals go back to the form."""
    try:
        done = once("claim.payment", f"claim:{claim.id}",
                    lambda: record_manual_payment(claim, posting, actor=current_actor(), mode=mode,
                                                  overpayment=bool(request.form.get("overpayment"))),
                    outcome=lambda result: _posted_message(claim, result))
    except Repeated as repeat:
        return show_repeat(repeat.done, back)
    except BillingError as exc:  # the payment form shows every refusal beside what was entered
        return form_problems(exc)
    _flash_posted(claim, done.result)
    return redirect(back)


def _reversed_message(claim: Claim, result: Any) -> str:
    return (f"Claim {claim.number}: reversed {result.reversed_payments} payment(s) and {result.reversed_entries} "
            f"entr(y/ies); flagged Needs Review; now {claim.status.label}, balance "
            f"{format_money(claim_balance(claim.id).balance)}.")


def _denial_reasons(claim: Claim) -> list[Any]:
    """A denied claim's CARCs; on any other claim only the reasons that refused a line (a partial denial)."""
    reasons = denial_reasons([claim.id]).get(claim.id, [])
    if claim.status is ClaimStatus.DENIED:
        return reasons
    return [r for r in reasons if is_denial(r.group, r.code)]


def _correcting(claim: Claim, existing: list[Adjudication]) -> PaymentForm | None:
    """?correct=<payment id>: the form starts from that payment, set to replace it."""
    wanted = request.args.get("correct", "")
    payment = next((p for p in existing if str(p.id) == wanted), None)
    return PaymentForm(values_from(claim, payment)) if payment is not None else None


def _posted_message(claim: Claim, result: Any) -> str:
    sums = result.balances
    return (f"Payment posted on {claim.number}: now {claim.status.label}; payer owes {format_money(sums.insurance)}, "
            f"patient owes {format_money(sums.patient)}.")


def _flash_posted(claim: Claim, result: Any) -> None:
    sums = result.balances
    flash(_posted_message(claim, result), "success")
    for note in result.notes:
        flash(f"{claim.number}: {note}.", "warning")
    if sums.patient > ZERO:
        if secondary_refusal(claim) is None:
            flash("A balance remains and the client has a secondary policy: Generate Secondary Claim is offered "
                  "on the claim page.", "info")
        else:
            flash(f"{format_money(sums.patient)} is owed by {owed_by(claim)}.", "info")


def _money_operation(operation: str, claim: Claim, form: Any) -> tuple[str, Claim | None]:
    """Run one operation; returns the message and the claim to show next (a new claim, or None for this one)."""
    actor, today, reason = current_actor(), practice_today(), (form.get("reason") or "").strip()
    if operation == "clear-review":
        money_ops.clear_needs_review(claim, actor=actor, note=reason or None)
        return f"Claim {claim.number}: Needs Review cleared.", None
    if operation == "secondary":
        secondary = generate_secondary_claim(claim, actor=actor, posted_on=today)
        return f"Secondary claim {secondary.number} created (Ready) for {secondary.payer.name}.", secondary
    if operation == "write-off":
        patient = form.get("side") == "patient"
        amount = _optional_amount(form.get("amount", ""))
        entries = money_ops.write_off(claim, reason=reason, actor=actor, posted_on=today, patient=patient,
                                      amount=amount)
        total = sum((e.amount for e in entries), ZERO)
        return f"Wrote off {format_money(total)} of the {'patient' if patient else 'insurance'} balance.", None
    if operation == "bill-patient":
        entries = money_ops.bill_patient(claim, actor=actor, posted_on=today, reason=reason or None)
        total = sum((e.amount for e in entries), ZERO)
        return f"{format_money(total)} moved to the patient balance, owed by {owed_by(claim)}.", None
    if operation == "patient-payment":
        amount = _optional_amount(form.get("amount", ""))
        if amount is None or amount <= ZERO:
            raise Invalid("Enter the amount the patient or responsible party paid.")
        money_ops.record_patient_payment(claim, amount, actor=actor, posted_on=today, memo=reason or None,
                                         overpayment=bool(form.get("overpayment")))
        return f"Patient payment of {format_money(amount)} recorded.", None
    if operation == "resubmit-lines":
        copy = resubmit_denied_lines(claim, actor=actor, reason=reason)
        return f"Claim {copy.number} created (Ready) with the denied lines of {claim.number}.", copy
    if operation.startswith("line-"):
        return _line_operation(operation, claim, form), None
    if operation == "resubmit":
        claim_ops.resubmit_claim(claim, actor=actor, reason=reason or None)
        return f"Claim {claim.number} is Ready again.", None
    raise NotFound(f"Unknown payment action {operation!r}.")


def _line_operation(operation: str, claim: Claim, form: Any) -> str:
    """Work one denied line from the claim page's Denied lines panel."""
    actor, today, reason = current_actor(), practice_today(), (form.get("reason") or "").strip()
    number = parse_id(form.get("line")) or 0
    if operation == "line-write-off":
        entry = money_ops.write_off_denied_line(claim, number, reason=reason, actor=actor, posted_on=today)
        return f"Line {number}: wrote off {format_money(entry.amount)}."
    if operation == "line-bill-patient":
        entry = money_ops.bill_patient_for_denied_line(claim, number, actor=actor, posted_on=today,
                                                       reason=reason or None,
                                                       override_reason=form.get("override_reason") or None)
        return f"Line {number}: {format_money(entry.amount)} moved to the patient balance, owed by {owed_by(claim)}."
    if operation == "line-appeal":
        money_ops.appeal_denied_line(claim, number, actor=actor, reason=reason)
        return f"Line {number}: marked appealed."
    raise NotFound(f"Unknown denied-line action {operation!r}.")


def _optional_amount(text: str) -> Any:
    problems: list[Problem] = []
    amount = read_amount(text, "Amount", problems)
    if problems:
        raise ValidationFailed(problems)
    return amount
