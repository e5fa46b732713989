"""The claims queue and claim detail. Every change calls an operation in billing.claims."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, IntEqualFilter
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select, true
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from admin_views.auth import current_actor
from admin_views.base import RoleModelView
from admin_views.claim_page import co_denial, failed_rules, history_lines, icd10, pointer_letters, refusal_in_words
from admin_views.claim_payments import ClaimPaymentsMixin
from admin_views.claim_queue import QUEUE_FORMATTERS, ClaimQueueMixin
from admin_views.dashboard_filters import claim_filters
from admin_views.follow_up import deadline_cell
from admin_views.formatters import lazy_options, practice_datetime, words_upto
from admin_views.operations import KEY_FIELD, run_once, run_operation
from admin_views.permissions import Area
from admin_views.redirects import safe_next
from admin_views.scope import current_scope
from billing.claims import operations as ops
from billing.claims.building import BillingResult
from billing.claims.bulk import Outcome, apply_to_claims
from billing.claims.day_counts import status_totals
from billing.claims.insurance_rebill import rebill_to_insurance
from billing.claims.line_denials import WORKABLE
from billing.claims.models import Claim, ClaimDayCount, ClaimLine
from billing.claims.queries import authorization_units_used, claim_history
from billing.claims.statuses import EDITABLE, ClaimStatus
from billing.core.checks import MAX_INT, parse_id, parse_int
from billing.core.db import db
from billing.core.errors import BillingError, NotFound
from billing.core.id_lists import any_of
from billing.core.money import ZERO, format_money
from billing.core.operation_keys import checked_key
from billing.core.reference import PLACES_OF_SERVICE
from billing.core.time import practice_today
from billing.coverage.models import Authorization
from billing.coverage.options import location_options, payer_options, provider_options
from billing.ledger.balances import billing_summary, money_received
from billing.org.queries import by_location
from billing.payments import operations as money_ops
from billing.payments.denials import DeniedLine, denied_lines_of, in_denied_work
from billing.payments.families import family_document
from billing.payments.filing import claim_deadline, deadlines
from billing.payments.queries import denial_reasons
from billing.payments.queue import QueueTotals
from billing.payments.secondary import resubmit_denied_lines
from billing.people.models import Provider
from billing.submissions.ack_queries import claim_trail, rejection_reasons
from billing.submissions.claim_status_queries import inquiries_of, status_trail
from billing.submissions.follow_up import follow_up_of, notes_of
from billing.submissions.queries import authorization_units_submitted

#: Operations that need a typed reason go through a small form; the rest run straight from the list.
NEEDS_REASON = {
    "hold": ("Hold", "held"), "void": ("Void", "voided"),
    # Denial work (Denied tab): a write-off is a deliberate decision, so it always carries its reason.
    "write_off": ("Write off", "written off"), "resubmit_lines": ("Resubmit the denied lines of", "split"),
    # Money moves to the family: confirmed on its own page, whose one-time key keeps a repeat from billing twice.
    "bill_patient": ("Bill the patient for", "billed to the patient"),
}
#: Of those, the ones whose reason may be left empty.
REASON_OPTIONAL = frozenset({"bill_patient"})


#: What the claim page says after an action whose default wording ("void_not_needed done") would read badly.
DONE = {
    "payer_claim_number": "Claim {0}: payer claim number saved; the void goes out in the next batch.",
    "void_not_needed": "Claim {0}: void marked not needed; it no longer waits to be sent.",
}


#: The claims list's tab of patient-billed claims (billing/claims/self_pay.py), beside one tab per status.
SELF_PAY_TAB = "self_pay"


class ClaimView(ClaimQueueMixin, ClaimPaymentsMixin, RoleModelView):
    """Billers work claims here; status changes go through billing.claims.operations, money through payments."""

    area = Area.CLAIMS
    name = "Claims"
    scope_rule = staticmethod(lambda scope: by_location(Claim.location_id, scope))
    allow_create = False  # claims come from finalized sessions
    list_template = "claimdesk/claim_list.html"
    details_template = "claimdesk/claim_details.html"
    column_list = [
        "id", "status", "service_date", "client", "payer", "rendering_provider", "location", "codes", "units",
        "total_charge", "paid", "balance", "days_in_status", "filing_deadline", "frequency_code", "reasons",
        "hold_reason",
    ]
    column_labels = {
        "id": "Claim", "rendering_provider": "Provider", "total_charge": "Billed", "frequency_code": "Freq",
        "service_date": "Date", "hold_reason": "Held because", "reasons": "Denial / review",
        "filing_deadline": "Filing deadline", "codes": "CPT", "units": "Units", "paid": "Paid",
        "days_in_status": "Days in status",
    }
    column_sortable_list = ["id", "status", "service_date", "total_charge", ("client", "client.last_name")]
    column_default_sort = ("id", True)
    column_searchable_list = ["client.last_name", "client.account_number"]
    column_filters = [
        "service_date",
        # Integer filters: PostgreSQL refuses an integer column compared with the text FilterEqual would bind.
        IntEqualFilter(column=Claim.payer_id, name="Payer", options=lazy_options(payer_options)),
        IntEqualFilter(column=Claim.rendering_provider_id, name="Provider", options=lazy_options(provider_options)),
        IntEqualFilter(column=Claim.location_id, name="Location", options=lazy_options(location_options)),
        BooleanEqualFilter(column=Claim.needs_review, name="Needs review"),
        *claim_filters(),  # the dashboard's drill-downs (admin_views/dashboard_filters.py)
    ]
    column_formatters = {
        "id": lambda v, c, m, n: m.number,
        "client": lambda v, c, m, n: m.client.full_name,
        "payer": lambda v, c, m, n: m.payer.name if m.payer else "(no payer)",
        "total_charge": lambda v, c, m, n: format_money(m.total_charge),
        "hold_reason": lambda v, c, m, n: Markup('<span title="{0}">{1}</span>').format(
            m.hold_reason or "", words_upto(m.hold_reason, 80)),
        **QUEUE_FORMATTERS,
        "reasons": lambda v, c, m, n: reasons_cell(m),
        "filing_deadline": lambda v, c, m, n: deadline_cell(g.filing_deadlines.get(m.id), m.status),
    }

    def get_list(self, *args: Any, **kwargs: Any) -> Any:
        """Figures, denial reasons and deadlines of the page's claims in a few queries, not a few per row."""
        count, claims = super().get_list(*args, **kwargs)
        ids = [c.id for c in claims]
        g.denial_reasons = denial_reasons([c.id for c in claims if c.status is ClaimStatus.DENIED])
        g.denied_lines = denied_lines_of(ids) if self.selected_status() is ClaimStatus.DENIED else {}
        g.filing_deadlines = deadlines(ids, practice_today())
        g.rejections = rejection_reasons([c.id for c in claims if c.status is ClaimStatus.REJECTED])
        self.queue_figures(claims)
        return count, claims

    # The list shows one status at a time (a tab per status, with counts).
    def selected_status(self) -> ClaimStatus | None:
        value = request.args.get("status", ClaimStatus.READY.value)
        return None if value == "all" else next((s for s in ClaimStatus if s.value == value), ClaimStatus.READY)

    def self_pay_tab(self) -> bool:
        return request.args.get("status") == SELF_PAY_TAB

    def _by_status(self, query: Any) -> Any:
        if self.self_pay_tab():
            return query.filter(Claim.self_pay.is_(True))
        status = self.selected_status()
        if status is ClaimStatus.DENIED:  # rule 3: also the claims carrying denied lines still to be worked
            return query.filter(in_denied_work())
        if status is None:
            return query
        # Self-pay claims bill the patient: the payer worklists leave them out, except Held (data to fix).
        query = query.filter(Claim.status == status)
        return query if status is ClaimStatus.HELD else query.filter(Claim.self_pay.is_(False))

    def get_query(self) -> Any:
        return self._by_status(super().get_query())

    def get_count_query(self) -> Any:
        return self._by_status(super().get_count_query())

    def status_counts(self) -> dict[str, int]:
        # From the counts the database keeps per service day (billing/claims/day_counts.py), not the claim table.
        scope = current_scope()
        counts = {s.value: 0 for s in ClaimStatus}
        counts["all"] = counts[SELF_PAY_TAB] = 0
        rows = [(status, self_pay, n) for status, self_pay, n, _ in self._kept_counts()]
        for status, self_pay, n in rows:
            counts["all"] += n
            counts[SELF_PAY_TAB] += n if self_pay else 0
            if _on_tab(status, False, status, self_pay):
                counts[status.value] += n
        # The Denied tab (in_denied_work): Denied claims, and claims of other live statuses with a denied line to
        # work. Counted from the lines' denial_state index, not by probing every claim's lines.
        with_lines = (
            select(func.count(func.distinct(ClaimLine.claim_id)))
            .join(Claim, Claim.id == ClaimLine.claim_id)
            .where(ClaimLine.denial_state.in_(list(WORKABLE)),
                   Claim.status.not_in([ClaimStatus.DENIED, ClaimStatus.VOIDED]))
        )
        if not scope.is_everything:
            with_lines = with_lines.where(by_location(Claim.location_id, scope))
        denied_status = sum(n for status, _, n in rows if status is ClaimStatus.DENIED)
        counts[ClaimStatus.DENIED.value] = denied_status + (db.session.scalar(with_lines) or 0)
        return counts

    def _kept_counts(self) -> list[tuple[ClaimStatus, bool, int, Decimal]]:
        """(status, self-pay, claims, billed) in the chosen scope, from claim_day_count: read once per request,
        for the tab counts and a plain tab's totals."""
        cached = g.get("claim_kept_counts")
        if cached is None:
            cached = g.claim_kept_counts = status_totals(by_location(ClaimDayCount.location_id, current_scope()))
        return cached

    def kept_tab_totals(self) -> QueueTotals | None:
        """Count and billed of a whole plain tab (no filter, no search) from the kept day counts, not from every
        claim of the tab; None when the list is filtered, searched or the Denied tab (its claims follow lines)."""
        if request.args.get("search") or any(key.startswith("flt") for key in request.args):
            return None
        tab, self_pay_tab = self.selected_status(), self.self_pay_tab()
        if tab is ClaimStatus.DENIED and not self_pay_tab:
            return None
        rows = [(n, billed) for status, self_pay, n, billed in self._kept_counts()
                if _on_tab(tab, self_pay_tab, status, self_pay)]
        return QueueTotals(sum(n for n, _ in rows), sum((b for _, b in rows), ZERO), None, None)

    def needs_review_count(self) -> int:
        query = select(func.count()).select_from(Claim).where(Claim.needs_review == true())  # the partial index
        scope = current_scope()
        if not scope.is_everything:
            query = query.where(by_location(Claim.location_id, scope))
        return db.session.scalar(query) or 0

    def status_tabs(self) -> list[tuple[str, str, int]]:
        counts = self.status_counts()
        return [(s.value, s.label, counts[s.value]) for s in ClaimStatus] + [
            (SELF_PAY_TAB, "Self-pay", counts[SELF_PAY_TAB]), ("all", "All", counts["all"])]

    # --- bulk actions: each claim separately, with a per-claim report --------------------------
    def is_action_allowed(self, name: str) -> bool:
        return self.can_edit and super().is_action_allowed(name)

    def _report(self, outcomes: list[Outcome]) -> None:
        report_outcomes(outcomes)

    @action("release", "Release", "Release the selected held claims?")
    def action_release(self, ids: list[str]) -> None:
        self._report(apply_to_claims(map(int, ids), lambda c: ops.release_claim(c, actor=current_actor()), "released"))

    @action("retract", "Retract", "Retract the selected claims? Their sessions unlock.")
    def action_retract(self, ids: list[str]) -> None:
        self._report(apply_to_claims(map(int, ids), lambda c: ops.retract_claim(c, actor=current_actor()), "retracted"))

    @action("resubmit", "Resubmit", "Put the selected denied claims back to Ready?")
    def action_resubmit(self, ids: list[str]) -> None:
        outcomes = apply_to_claims(map(int, ids), lambda c: ops.resubmit_claim(c, actor=current_actor()), "resubmitted")
        self._report(outcomes)

    @action("resend", "Resend", "Put the selected rejected claims (fixed) back to Ready, to go out as new originals?")
    def action_resend(self, ids: list[str]) -> None:
        self._report(apply_to_claims(map(int, ids), lambda c: ops.resend_claim(c, actor=current_actor()), "resent"))

    @action("bill_patient", "Bill the patient…")
    def action_bill_patient(self, ids: list[str]) -> Response:
        return redirect(url_for(".reason_view", operation="bill_patient", ids=",".join(ids)))

    @action("write_off", "Write off…")
    def action_write_off(self, ids: list[str]) -> Response:
        return redirect(url_for(".reason_view", operation="write_off", ids=",".join(ids)))

    @action("resubmit_lines", "Resubmit denied lines…")
    def action_resubmit_lines(self, ids: list[str]) -> Response:
        return redirect(url_for(".reason_view", operation="resubmit_lines", ids=",".join(ids)))

    @action("hold", "Hold…")
    def action_hold(self, ids: list[str]) -> Response:
        return redirect(url_for(".reason_view", operation="hold", ids=",".join(ids)))

    @action("void", "Void…")
    def action_void(self, ids: list[str]) -> Response:
        return redirect(url_for(".reason_view", operation="void", ids=",".join(ids)))

    @expose("/reason/", methods=("GET", "POST"))
    def reason_view(self) -> Any:
        """Hold or void needs a reason: ask for it once, apply it to every selected claim."""
        operation = request.values.get("operation", "")
        if operation not in NEEDS_REASON or not self.can_edit:
            flash("That claim action is not available to you.", "error")
            return redirect(self.get_url(".index_view"))
        ids = [n for i in request.values.get("ids", "").split(",") if (n := parse_id(i))]
        if self.hidden_ids(ids):
            flash("The selection holds a claim that does not exist in the chosen scope; nothing was changed.", "error")
            return redirect(self.get_url(".index_view"))
        claims = list(db.session.scalars(select(Claim).where(any_of(Claim.id, ids)).order_by(Claim.id)))
        if request.method == "POST":
            reason = request.form.get("reason", "")
            try:
                key = checked_key(request.form.get(KEY_FIELD))
            except BillingError as exc:
                flash(exc.message, "error")
                return redirect(self.get_url(".index_view"))
            once = (key, f"claims.{operation}", current_actor().name)
            outcomes = apply_to_claims(ids, lambda c: _run(operation, c, reason, request.form),
                                       NEEDS_REASON[operation][1], once=once)
            report_outcomes(outcomes)
            if any(o.ok for o in outcomes) or (operation not in REASON_OPTIONAL and not reason.strip()):
                return redirect(safe_next(request.form.get("next")) or self.get_url(".index_view"))
        money = [(c.number, said) for c in claims if operation == "void" and (said := money_received(c.id))]
        return self.render("claimdesk/claim_reason.html", operation=operation, title=NEEDS_REASON[operation][0],
                           claims=claims, ids=",".join(map(str, ids)), next=safe_next(request.values.get("next")) or "",
                           money=money, reason_optional=operation in REASON_OPTIONAL)

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self) -> Response:
        """No generic form for claims: status and money move only through operations."""
        return redirect(self.get_url(".lines_view", id=request.args.get("id", "")))

    # --- one claim: detail page buttons ---------------------------------------------------------
    @expose("/do/<operation>/", methods=("POST",))
    def operate_view(self, operation: str) -> Response:
        claim = self.get_one(request.args.get("id", ""))
        back = self.get_url(".details_view", id=request.args.get("id", ""))
        if claim is None:
            flash("Record does not exist.", "error")
            return redirect(self.get_url(".index_view"))
        if not self.can_edit:
            flash(f"Your role ({current_user.role.label}) cannot change claims.", "error")
            return redirect(back)
        return run_once(
            f"claim.{operation}", f"claim:{claim.id}",
            lambda: _run(operation, claim, request.form.get("reason", ""), request.form), back=back,
            success=lambda result: _done(operation, claim, result),
            then=lambda result: self.get_url(".details_view", id=result.id) if isinstance(result, Claim) else back,
            refusal=refusal_in_words,
        )

    @expose("/lines/", methods=("GET", "POST"))
    def lines_view(self) -> Any:
        """Edit units, modifiers, pointers, provider and place of service before submission."""
        claim = self.get_one(request.args.get("id", ""))
        if claim is None:
            flash("Record does not exist.", "error")
            return redirect(self.get_url(".index_view"))
        back = self.get_url(".details_view", id=claim.id)
        if not self.can_edit or claim.status not in EDITABLE:
            flash(f"Claim {claim.number} is {claim.status.label} and read-only; create a corrected claim to change it."
                  if self.can_edit else "Your role cannot change claims.", "error")
            return redirect(back)
        if request.method == "POST":
            return run_operation(
                lambda: ops.edit_claim(claim, actor=current_actor(), **_edit_arguments(claim, request.form)),
                success=lambda _: f"Claim {claim.number} saved; billed now {format_money(claim.total_charge)}.",
                back=self.get_url(".lines_view", id=claim.id), then=back,
            )
        providers = db.session.scalars(
            select(Provider)
            .where(Provider.company_id == claim.rendering_provider.company_id, Provider.active)
            .order_by(Provider.last_name, Provider.first_name)
        )
        return self.render(
            "claimdesk/claim_lines.html", claim=claim, return_url=back, places_of_service=PLACES_OF_SERVICE,
            providers=[(p.id, p.full_name) for p in providers],
        )

    def detail_context(self, claim: Claim) -> dict[str, Any]:
        """What the claim page shows besides the claim itself."""
        lines = list(
            db.session.scalars(
                select(ClaimLine).where(ClaimLine.claim_id == claim.id).order_by(ClaimLine.line_number)
                .options(joinedload(ClaimLine.session), joinedload(ClaimLine.service_code),
                         joinedload(ClaimLine.authorization).selectinload(Authorization.service_codes))
            )
        )
        auths = {ln.authorization for ln in lines if ln.authorization}
        ids = [a.id for a in auths]
        billed, used = authorization_units_used(ids), authorization_units_submitted(ids)
        money = self.money_context(claim)
        return {
            "lines": lines,
            "summary": billing_summary(claim),
            "history": history_lines(claim_history(claim.id)),
            "failed_rules": failed_rules(claim),
            "icd10": icd10,
            "pointer_letters": pointer_letters,
            "when": practice_datetime,
            # Allowed and adjudication figures mean something only once a payer has answered (an 835 adjudication).
            "answered": bool(money.get("adjudications")),
            "co_denial": co_denial(money.get("denial_reasons") or []),
            "money_received": money_received(claim.id) if claim.status is not ClaimStatus.VOIDED else None,
            # Remaining drops when the payer is billed (submission); units on unsent claims are shown apart.
            "authorizations": [
                (a, used.get(a.id, 0), billed.get(a.id, 0) - used.get(a.id, 0), a.units_approved - used.get(a.id, 0))
                for a in sorted(auths, key=lambda a: a.id)
            ],
            "editable": claim.status in EDITABLE,
            "corrections": list(db.session.scalars(select(Claim).where(Claim.original_claim_id == claim.id))),
            "secondaries": list(db.session.scalars(select(Claim).where(Claim.primary_claim_id == claim.id))),
            "family": family_document(claim),
            "filing_deadline": deadline_cell(claim_deadline(claim, practice_today()), claim.status),
            "follow_up": follow_up_of(claim),
            "follow_up_notes": notes_of(claim),
            "acknowledgments": claim_trail(claim.id),
            "status_trail": status_trail(claim),
            "status_inquiries": inquiries_of(claim),
            "can_ask_status": self.can_edit and claim.status is ClaimStatus.SUBMITTED,
            **money,
        }


def _run(operation: str, claim: Claim, reason: str, form: Any = None) -> Any:
    actor = current_actor()
    if operation == "hold":
        return ops.hold_claim(claim, reason=reason, actor=actor)
    if operation == "void":
        confirmed = bool((form or {}).get("confirm_money"))
        return ops.void_claim(claim, reason=reason, actor=actor, money_confirmed=confirmed)
    if operation == "release":
        return ops.release_claim(claim, actor=actor)
    if operation == "retract":
        return ops.retract_claim(claim, actor=actor)
    if operation == "resubmit":
        return ops.resubmit_claim(claim, actor=actor, reason=reason or None)
    if operation == "resend":
        return ops.resend_claim(claim, actor=actor, reason=reason or None)
    if operation == "write_off":
        return money_ops.write_off(claim, reason=reason, actor=actor, posted_on=practice_today())
    if operation == "bill_patient":
        return money_ops.bill_patient(claim, actor=actor, posted_on=practice_today(), reason=reason or None)
    if operation == "resubmit_lines":
        return resubmit_denied_lines(claim, actor=actor, reason=reason)
    if operation == "payer_claim_number":
        number = (form or {}).get("payer_claim_number", "")
        return ops.set_payer_claim_number(claim, number, actor=actor, reason=reason or None)
    if operation == "void_not_needed":
        return ops.void_not_needed(claim, reason=reason, actor=actor)
    if operation == "rebill_insurance":
        confirmed = bool((form or {}).get("confirm_money"))
        return rebill_to_insurance(claim, actor=actor, money_confirmed=confirmed)
    if operation == "correct":
        payer_number = (form or {}).get("payer_claim_number")
        return ops.correct_claim(claim, actor=actor, reason=reason, payer_claim_number=payer_number)
    raise NotFound(f"Unknown claim action {operation!r}.")


def _done(operation: str, claim: Claim, result: Any) -> str:
    if isinstance(result, BillingResult):
        billed = ", ".join(f"{c.number} ({c.status.label})" for c in (*result.created, *result.extended))
        return f"Claim {claim.number} voided and the patient's charge withdrawn; its sessions are billed on {billed}."
    if isinstance(result, Claim):
        return f"Corrected claim {result.number} created from {claim.number}."
    if operation in DONE:
        return DONE[operation].format(claim.number)
    return f"Claim {claim.number}: {operation} done; now {claim.status.label}."


def _edit_arguments(claim: Claim, form: Any) -> dict[str, Any]:
    """Read the lines form; anything that is not a whole number is refused by edit_claim's checks."""
    changes = []
    for line in claim.lines:
        prefix = f"line-{line.line_number}-"
        units_text = form.get(prefix + "units", "").strip()
        # Not a whole number reads as 0, which edit_claim refuses with the line's number.
        units = (parse_int(units_text, low=-MAX_INT, high=MAX_INT) or 0) if units_text else None
        changes.append(ops.LineChange(
            line_number=line.line_number, units=units, modifiers=form.get(prefix + "modifiers"),
            diagnosis_pointers=form.get(prefix + "pointers") or None,
        ))
    provider = form.get("rendering_provider_id", "")
    return {
        "lines": changes,
        "rendering_provider_id": parse_id(provider),
        "place_of_service": form.get("place_of_service") or None,
    }


def reasons_cell(claim: Claim) -> Markup:
    """A denied claim's CARCs (description on hover and below), and the Needs Review flag."""
    parts = [Markup('<span class="badge badge-warning">Needs review</span>')] if claim.needs_review else []
    for reason in getattr(g, "denial_reasons", {}).get(claim.id, []):
        parts.append(Markup('<div class="small" title="{0}"><strong>{1}-{2}</strong> {3}</div>').format(
            reason.description, reason.group, reason.code, words_upto(reason.description, 70)))
    parts += [denied_line_cell(line) for line in getattr(g, "denied_lines", {}).get(claim.id, [])]
    rejection = getattr(g, "rejections", {}).get(claim.id)
    if rejection is not None:
        parts.append(Markup('<div class="small" data-rejection title="{0}"><strong>{1}</strong> {2}</div>').format(
            rejection.message, rejection.acknowledgment.kind.label, words_upto(rejection.message, 160)))
    return Markup("").join(parts)


def denied_line_cell(denied: DeniedLine) -> Markup:
    """One denied line in the Denied tab: code, charge, its CARC/RARC codes with their text, days since denial."""
    days = denied.days_since(practice_today())
    codes = Markup("").join(
        Markup(' · <span title="{0}"><strong>{1}</strong> {2}</span>').format(c.description, str(c).split(" ")[0],
                                                                          words_upto(c.description, 60))
        for c in (*denied.carcs, *denied.rarcs))
    return Markup('<div class="small" data-denied-line="{0}">Line {0} {1} {2}{3} · {4} open · {5}{6}</div>').format(
        denied.line.line_number, denied.line.service_code.code, format_money(denied.line.charge), codes,
        format_money(denied.open_amount), denied.state.label if denied.state else "",
        f" · {days} days since denial" if days is not None else "")


def report_outcomes(outcomes: list[Outcome]) -> None:
    done = [o for o in outcomes if o.ok]
    refused = [o for o in outcomes if not o.ok]
    if done:
        flash(f"{len(done)} done: " + "; ".join(f"{o.claim_number} {o.message}" for o in done), "success")
    for outcome in refused:
        flash(f"{outcome.claim_number} refused: {outcome.message}", "error")


def _on_tab(tab: ClaimStatus | None, self_pay_tab: bool, status: ClaimStatus, self_pay: bool) -> bool:
    """Whether claims of this status and self-pay flag are on the tab: ClaimView._by_status's rule (payer tabs
    leave self-pay claims out, except Held; All holds every claim)."""
    if self_pay_tab:
        return self_pay
    if tab is None:
        return True
    return status is tab and (tab is ClaimStatus.HELD or not self_pay)
