"""Remittances (835 checks and EFTs) with their drill-down, the 835 upload page, the Unmatched queue, and the
bulk clawback page. Billers and admins act; accountants read. Each POST is one service call."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, DateBetweenFilter, FilterEqual
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from admin_views.auth import current_actor
from admin_views.base import AreaPage, RoleModelView
from admin_views.formatters import lazy_options
from admin_views.operations import form_problems, run_operation
from admin_views.payment_forms import read_bulk_clawback, read_date
from admin_views.permissions import Area
from admin_views.scope import current_scope
from billing.claims.models import Claim
from billing.claims.queries import ClaimNotFound, claim_by_number
from billing.core.checks import parse_id
from billing.core.codes import describe_carc, describe_rarc
from billing.core.db import db
from billing.core.errors import BillingError, NotFound, Problem
from billing.core.money import format_money
from billing.core.time import practice_today
from billing.core.unit_of_work import unit_of_work
from billing.coverage.models import Payer
from billing.coverage.options import payer_options
from billing.coverage.payer_names import is_known_payer_name
from billing.payments.matching import match_unmatched, set_aside_unmatched
from billing.payments.models import EraFile, ProviderAdjustment, Remittance, UnmatchedClaim, UnmatchedStatus
from billing.payments.plb import PLB_REASONS, PlbOutcome, apply_plb, plb_on, settle_plb
from billing.payments.queries import (
    match_candidates,
    open_unmatched_counts,
    remittance_adjudications,
    remittance_in_scope,
    unmatched_in_scope,
)
from billing.payments.remittances import EraRefused, ImportResult
from billing.payments.reversals import PATIENT_REASONS, bulk_clawback, paid_claims_on
from billing.submissions.inbound import import_x12

#: The biggest 835 the upload page takes; larger files go through `flask edi import`.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
METHODS = {"CHK": "Check", "ACH": "EFT (ACH)", "FWT": "Wire", "BOP": "Financial institution option",
           "NON": "No payment"}



def unmatched_cell(view: Any, context: Any, model: Remittance, name: str) -> Markup:
    count = getattr(g, "unmatched_counts", {}).get(model.id, 0)
    if not count:
        return Markup('<span class="text-muted">0</span>')
    link = url_for("unmatched.index_view", flt1_remittance_equals=model.id)
    return Markup('<a class="badge badge-warning" href="{0}">{1} unmatched</a>').format(link, count)


def balanced_cell(view: Any, context: Any, model: Remittance, name: str) -> Markup:
    if model.balanced:
        return Markup('<span class="text-success">balanced</span>')
    return Markup('<span class="badge badge-danger" title="BPR02 is not the sum of CLP04 minus the PLBs">'
                  "NOT balanced</span>")


class RemittanceView(RoleModelView):
    """Each 835 payment (check or EFT) with its claims, PLBs and unmatched claims; uploads import new ones."""

    area = Area.PAYMENTS
    name = "Remittances"
    scope_rule = staticmethod(remittance_in_scope)
    allow_create = False  # remittances come from 835 files
    allow_edit = False  # and are kept as the payer sent them: a correction is a reversal, never an edit
    list_template = "claimdesk/payments/remittance_list.html"
    details_template = "claimdesk/payments/remittance_details.html"
    column_list = ["paid_on", "check_number", "method", "payer_name", "amount", "claim_count", "plb_total",
                   "balanced", "unmatched", "era_file"]
    column_labels = {"paid_on": "Paid", "check_number": "Check / EFT", "payer_name": "Payer", "amount": "Amount",
                     "claim_count": "Claims", "plb_total": "PLB", "era_file": "File"}
    column_sortable_list = ["paid_on", "check_number", "payer_name", "amount", "claim_count"]
    # Class-bound, not a string: Flask-Admin then joins it (no query per row).
    column_select_related_list = [Remittance.era_file]
    column_default_sort = ("id", True)
    column_searchable_list = ["check_number", "payer_name"]
    column_filters = [
        DateBetweenFilter(column=Remittance.paid_on, name="Paid"),
        FilterEqual(column=Remittance.payer_id, name="Payer", options=lazy_options(payer_options)),
        BooleanEqualFilter(column=Remittance.balanced, name="Balanced"),
    ]
    column_formatters = {
        "method": lambda v, c, m, n: METHODS.get(m.method, m.method),
        "unmatched": unmatched_cell,
        "balanced": balanced_cell,
        "era_file": lambda v, c, m, n: m.era_file.filename,
    }

    def get_list(self, *args: Any, **kwargs: Any) -> Any:
        count, rows = super().get_list(*args, **kwargs)
        g.unmatched_counts = open_unmatched_counts([r.id for r in rows])
        return count, rows

    def detail_context(self, remittance: Remittance) -> dict[str, Any]:
        return {"adjudications": remittance_adjudications(remittance.id), "describe_carc": describe_carc,
                "describe_rarc": describe_rarc, "methods": METHODS, "plb_reasons": PLB_REASONS,
                "can_edit": self.can_edit}

    def _plb_action(self, remittance_id: int, plb_id: int, doing: str,
                    operation: Callable[[ProviderAdjustment], Any], success: Callable[[Any], str]) -> Response:
        """An open provider-level item acted on from its remittance's page (billers and admins only)."""
        remittance = self.get_one(str(remittance_id))
        if remittance is None:
            abort(404)
        back = self.get_url(".details_view", id=remittance_id)
        if not self.can_edit:
            flash(f"Your role ({current_user.role.label}) cannot {doing}.", "error")
            return redirect(back)
        return run_operation(lambda: operation(plb_on(remittance_id, plb_id)), success=success, back=back)

    @expose("/<int:remittance_id>/plb/<int:plb_id>/apply/", methods=("POST",))
    def apply_plb_view(self, remittance_id: int, plb_id: int) -> Response:
        def apply(item: ProviderAdjustment) -> PlbOutcome:
            claim = claim_by_number(request.form.get("claim_number", ""), for_update=True, scope=current_scope())
            return apply_plb(item, claim, actor=current_actor())

        return self._plb_action(remittance_id, plb_id, "apply provider-level adjustments", apply,
                                lambda outcome: outcome.summary())

    @expose("/<int:remittance_id>/plb/<int:plb_id>/settle/", methods=("POST",))
    def settle_plb_view(self, remittance_id: int, plb_id: int) -> Response:
        return self._plb_action(
            remittance_id, plb_id, "settle provider-level adjustments",
            lambda item: settle_plb(item, reason=request.form.get("reason", ""), actor=current_actor()),
            lambda item: f"PLB {item.id} settled: {item.note}.")

    @expose("/file/<int:file_id>/")
    def file_view(self, file_id: int) -> Response:
        """The 835 exactly as received."""
        era_file = db.session.get(EraFile, file_id)
        if era_file is None or not _file_in_scope(file_id):
            abort(404)
        return send_file(io.BytesIO(era_file.content), mimetype="text/plain", as_attachment=True,
                         download_name=era_file.filename or f"era-{file_id}.835")

    @expose("/upload/", methods=("GET", "POST"))
    def upload_view(self) -> Any:
        """Import 835, 999 and 277CA files: the same service as `flask edi import`, one transaction per file."""
        if not self.can_edit:
            flash(f"Your role ({current_user.role.label}) cannot import remittances.", "error")
            return redirect(self.get_url(".index_view"))
        outcomes: list[dict[str, Any]] = []
        if request.method == "POST":
            files = [f for f in request.files.getlist("files") if f and f.filename]
            if not files:
                flash("Choose one or more 835, 999 or 277CA files to import.", "error")
            for upload in files:
                outcomes.append(_import_upload(upload.filename or "upload.835", upload.read()))
        return self.render("claimdesk/payments/upload.html", outcomes=outcomes, return_url=self.get_url(".index_view"))


def _file_in_scope(file_id: int) -> bool:
    """An 835 file is downloaded within a scope that shows one of its remittances (the raw file holds them all)."""
    scope = current_scope()
    if scope.is_everything:
        return True
    shown = select(Remittance.id).where(Remittance.era_file_id == file_id, remittance_in_scope(scope)).limit(1)
    return db.session.scalar(shown) is not None


def _import_upload(filename: str, data: bytes) -> dict[str, Any]:
    if len(data) > MAX_UPLOAD_BYTES:
        return {"file": filename, "refused": True,
                "errors": [f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; use `flask edi import`"]}
    try:
        with unit_of_work():
            imported = import_x12(data, filename=filename, actor=current_actor())
    except EraRefused as exc:
        return {"file": filename, "refused": True, "errors": exc.problems}
    except BillingError as exc:  # a 999 or 277CA that cannot be read
        return {"file": filename, "refused": True, "errors": [exc.message]}
    if isinstance(imported.result, ImportResult):
        return {**imported.as_dict(), "refused": False, "remittance_ids": imported.result.remittance_ids}
    return {**imported.as_dict(), "refused": False, "acknowledgment": True}


class UnmatchedView(RoleModelView):
    """835 claim payments that matched none of our claims, kept whole until a biller matches them by hand."""

    area = Area.PAYMENTS
    name = "Unmatched"
    scope_rule = staticmethod(unmatched_in_scope)
    allow_create = False
    # EDI as the payer sent it: matched, set aside or reopened only through its own audited operations, never
    # through a generic form (an edited "paid" would post invented money on the next match).
    allow_edit = False
    details_template = "claimdesk/payments/unmatched_details.html"
    column_list = ["remittance", "claim_number", "patient_name", "status_code", "charge", "paid", "reason", "status",
                   "matched_claim"]
    column_labels = {"claim_number": "CLP01", "patient_name": "Patient", "status_code": "CLP02",
                     "matched_claim": "Posted to", "remittance": "Check / EFT"}
    column_default_sort = ("id", True)
    column_select_related_list = [UnmatchedClaim.remittance, UnmatchedClaim.matched_claim]
    column_searchable_list = ["claim_number", "patient_name"]
    column_filters = [
        FilterEqual(column=UnmatchedClaim.remittance_id, name="Remittance"),
        FilterEqual(column=UnmatchedClaim.status, name="State",
                    options=[(s.value, s.value.capitalize()) for s in UnmatchedStatus]),
    ]
    column_formatters = {
        "remittance": lambda v, c, m, n: f"{m.remittance.check_number} · {m.remittance.payer_name}",
        "matched_claim": lambda v, c, m, n: m.matched_claim.number if m.matched_claim else "",
        "reason": lambda v, c, m, n: m.reason[:90] + (f" · set aside: {m.note}" if m.note else ""),
    }

    def get_query(self) -> Any:
        # The queue shows open items unless the biller asks for matched ones through the State filter.
        query = super().get_query()
        return query if self._state_filtered() else query.filter(UnmatchedClaim.status == UnmatchedStatus.OPEN)

    def get_count_query(self) -> Any:
        query = super().get_count_query()
        return query if self._state_filtered() else query.filter(UnmatchedClaim.status == UnmatchedStatus.OPEN)

    def _state_filtered(self) -> bool:
        return any(k.startswith("flt") and "state" in k for k in request.args)

    def detail_context(self, item: UnmatchedClaim) -> dict[str, Any]:
        open_ = item.status is not UnmatchedStatus.MATCHED
        # Teaching is offered only for a printed name that means nothing yet (payer_names refuses the rest).
        teach = open_ and not is_known_payer_name(item.remittance.payer_name)
        return {"candidates": match_candidates(item) if open_ else [], "teach_payers": payer_options() if teach else [],
                "describe_carc": describe_carc, "describe_rarc": describe_rarc}

    def _posted_item(self, refused_doing: str) -> tuple[UnmatchedClaim | None, Response]:
        """The item a POST acts on, or None with the redirect that explains why it cannot."""
        item = self.get_one(request.args.get("id", ""))
        if item is None:
            flash("Record does not exist.", "error")
            return None, redirect(self.get_url(".index_view"))
        back = redirect(self.get_url(".details_view", id=item.id))
        if not self.can_edit:
            flash(f"Your role ({current_user.role.label}) cannot {refused_doing}.", "error")
            return None, back
        return item, back

    @expose("/match/", methods=("POST",))
    def match_view(self) -> Response:
        item, back = self._posted_item("match remittances")
        if item is None:
            return back

        def match() -> Claim:
            claim = claim_by_number(request.form.get("claim_number", ""), for_update=True, scope=current_scope())
            match_unmatched(item, claim, actor=current_actor(), remember_as=_chosen_payer(request.form),
                            charge_confirmed=bool(request.form.get("confirm_charge")),
                            override_reason=request.form.get("override_reason"))
            return claim

        return run_operation(
            match, back=self.get_url(".details_view", id=item.id),
            success=lambda claim: f"Posted {item.claim_number} ({format_money(item.paid)}) to claim {claim.number}; "
            f"now {claim.status.label}.",
            then=lambda claim: url_for("claim.details_view", id=claim.id),
            refusal=lambda exc: exc.message if isinstance(exc, ClaimNotFound) else f"Not posted: {exc.message}",
        )

    @expose("/set-aside/", methods=("POST",))
    def set_aside_view(self) -> Response:
        item, back = self._posted_item("change the unmatched queue")
        if item is None:
            return back
        return run_operation(
            lambda: set_aside_unmatched(item, reason=request.form.get("reason", ""), actor=current_actor()),
            success=lambda _: f"{item.claim_number} set aside: {item.note}. It stays on the remittance and can still "
            "be matched.",
            back=self.get_url(".details_view", id=item.id), then=self.get_url(".index_view"),
        )


def _chosen_payer(form: Any) -> Payer | None:
    """The payer picked under "remember this name as", if any."""
    chosen = form.get("remember_as", "")
    payer_id = parse_id(chosen)
    payer = db.session.get(Payer, payer_id) if payer_id else None
    if chosen and payer is None:
        raise NotFound("The payer chosen to remember the name as no longer exists.")
    return payer


class BulkClawbackView(AreaPage):
    """Paper remittances: claw back the payments of one date of service at once, with the corrected amounts."""

    area = Area.PAYMENTS

    @expose("/", methods=("GET", "POST"))
    def index(self) -> Any:
        problems: list[Problem] = []
        service_date = _optional_date(request.values.get("service_date", ""), problems)
        payer = request.values.get("payer_id", "")
        payer_id = parse_id(payer)
        found = paid_claims_on(service_date, payer_id=payer_id, scope=current_scope()) if service_date else []
        if request.method == "POST":
            if not self.can_edit:
                flash(f"Your role ({current_user.role.label}) cannot record clawbacks.", "error")
                return redirect(self.get_url(".index"))
            items, problems = read_bulk_clawback(request.form, [p.claim.id for p in found])
            posted_on = read_date(request.form.get("posted_on", ""), "Reversal date", problems)
            if not problems:
                try:
                    with unit_of_work():
                        done = bulk_clawback(items, reason=request.form.get("reason", ""), posted_on=posted_on,
                                             actor=current_actor())
                except BillingError as exc:  # the page shows every refusal beside what was entered
                    problems = form_problems(exc)
                else:
                    flash(f"Clawback recorded on {len(done)} claim(s): "
                          + "; ".join(f"{c.number} now {c.status.label}" for c, _ in done) + ".", "success")
                    return redirect(self.get_url(".index", service_date=service_date, payer_id=payer))
        return self.render("claimdesk/payments/bulk_clawback.html", found=found, problems=problems,
                           service_date=service_date, payer_id=payer_id, payers=payer_options(),
                           patient_reasons=PATIENT_REASONS, today=practice_today(), can_edit=self.can_edit)


def _optional_date(text: str, problems: list[Problem]) -> date | None:
    return read_date(text, "Date of service", problems) if text.strip() else None
