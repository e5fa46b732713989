"""The client ledger page, linked from the client list and the claim page: every entry of the client's claims with
running balances, filtered by posting date, with PDF and Excel downloads, an invoice, and patient payments (oldest
first or on a chosen claim) with their receipts.

Readers of payments (billers, accountants, admins) see it for clients in their scope; billers and admins record
payments. Each route is one service call.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from admin_views.base import AreaPage
from admin_views.operations import KEY_FIELD, run_operation
from admin_views.permissions import Area, may_read
from admin_views.scope import current_scope
from billing.claims.queries import claim_by_number
from billing.core.checks import parse_id
from billing.core.db import db
from billing.core.errors import BillingError, NotFound, Problem, ValidationFailed
from billing.core.money import parse_amount
from billing.core.time import practice_now, practice_today
from billing.ledger.client_ledger import client_ledger
from billing.ledger.patient_balances import patient_balance, patient_items
from billing.org.queries import by_location
from billing.payments.patient_payment_models import PatientPayment
from billing.payments.patient_payments import PaymentReceived, receive_patient_payment
from billing.people.models import Client
from exports.patient_documents import LEDGER_FORMATS, invoice_file, ledger_file, receipt_file

MIME = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def may_read_ledger() -> bool:
    return current_user.is_authenticated and may_read(current_user.role, Area.PAYMENTS)


def _day(name: str, problems: list[Problem]) -> date | None:
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(Problem(name, f"{text[:20]!r} is not a date (YYYY-MM-DD)."))
        return None


class ClientLedgerView(AreaPage):
    area = Area.PAYMENTS

    def is_visible(self) -> bool:
        return False  # reached from a client or a claim, never from the menu

    def _client(self, raw: Any) -> Client:
        """The client, if it exists and is in the chosen scope (outside it: "not found", as the grids do)."""
        client_id = parse_id(raw)
        client = db.session.scalar(select(Client).where(
            Client.id == client_id, by_location(Client.location_id, current_scope()))) if client_id else None
        if client is None:
            raise NotFound("No such client in the chosen scope.")
        return client

    def _range(self) -> tuple[date | None, date | None]:
        problems: list[Problem] = []
        start, end = _day("from", problems), _day("to", problems)
        if problems:
            raise ValidationFailed(problems)
        return start, end

    @expose("/")
    def index(self) -> Any:
        try:
            client = self._client(request.args.get("client_id"))
            start, end = self._range()
            ledger = client_ledger(client.id, start=start, end=end)
        except BillingError as exc:
            flash(exc.message, "error")
            return redirect(url_for("client.index_view"))
        payments = db.session.scalars(select(PatientPayment).where(PatientPayment.client_id == client.id)
                                      .order_by(PatientPayment.id.desc()).limit(20)).all()
        owing = [i for i in patient_items(client.id) if i.balance > 0]
        return self.render("claimdesk/payments/client_ledger.html", client=client, ledger=ledger, start=start,
                           end=end, payments=payments, owing=owing, owes=patient_balance(client.id),
                           can_edit=self.can_edit, today=practice_today(),
                           downloads=self._downloads(client, start, end))

    @staticmethod
    def _downloads(client: Client, start: date | None, end: date | None) -> dict[str, str]:
        """Each download's URL, for the dates shown."""
        dates = {name: day.isoformat() for name, day in (("from", start), ("to", end)) if day}
        return {kind: url_for(".download", kind=kind, client_id=client.id, **dates) for kind in LEDGER_FORMATS}

    @expose("/download/<kind>")
    def download(self, kind: str) -> Any:
        back = url_for(".index", client_id=request.args.get("client_id"))
        try:
            client = self._client(request.args.get("client_id"))
            if kind not in LEDGER_FORMATS:
                raise NotFound(f"No {kind[:10]!r} download.")
            start, end = self._range()
            out = io.BytesIO()
            ledger_file(client.id, out, kind=kind, start=start, end=end, today=practice_today(),
                        now=practice_now(), by=self.actor().name)
        except BillingError as exc:
            flash(exc.message, "error")
            return redirect(back)
        out.seek(0)
        return send_file(out, mimetype=MIME[kind], as_attachment=True,
                         download_name=f"ledger-{client.account_number}.{kind}")

    @expose("/invoice")
    def invoice(self) -> Any:
        back = url_for(".index", client_id=request.args.get("client_id"))
        try:
            client = self._client(request.args.get("client_id"))
            out = io.BytesIO()
            built = invoice_file(out, today=practice_today(), client_id=client.id)
        except BillingError as exc:
            flash(exc.message, "error")
            return redirect(back)
        out.seek(0)
        return send_file(out, mimetype=MIME["pdf"], as_attachment=True, download_name=f"{built.number}.pdf")

    @expose("/receipt/<int:payment_id>")
    def receipt(self, payment_id: int) -> Any:
        payment = db.session.get(PatientPayment, payment_id)
        try:
            if payment is None:
                raise NotFound(f"No patient payment {payment_id}.")
            self._client(payment.client_id)  # the scope check
            out = io.BytesIO()
            built = receipt_file(payment.id, out)
        except BillingError as exc:
            flash(exc.message, "error")
            return redirect(url_for("client.index_view"))
        out.seek(0)
        return send_file(out, mimetype=MIME["pdf"], as_attachment=True, download_name=f"receipt-{built.number}.pdf")

    @expose("/payment", methods=["POST"])
    def payment(self) -> Response:
        """Record a patient payment: oldest first, or on the claim chosen; the form's one-time key posts it once."""
        if not self.can_edit:
            flash("Your role may not record payments.", "error")
            return redirect(url_for(".index", client_id=request.args.get("client_id")))
        try:
            client = self._client(request.args.get("client_id"))
        except NotFound as exc:
            flash(exc.message, "error")
            return redirect(url_for("client.index_view"))
        back = url_for(".index", client_id=client.id)
        return run_operation(lambda: self._receive(client), success=self._said, back=back)

    def _receive(self, client: Client) -> PaymentReceived:
        form = request.form
        try:
            amount = parse_amount(form.get("amount", ""))
        except ValueError as exc:
            raise ValidationFailed([Problem("amount", str(exc))]) from None
        chosen = (form.get("claim") or "").strip()
        claim = claim_by_number(chosen, for_update=True) if chosen else None
        return receive_patient_payment(client.id, amount, key=form.get(KEY_FIELD, ""), actor=self.actor(),
                                       received_on=practice_today(), claim=claim, memo=form.get("memo"),
                                       overpayment=bool(form.get("overpayment")))

    @staticmethod
    def _said(done: PaymentReceived) -> str:
        return f"{done.summary()} Its receipt is listed below."
