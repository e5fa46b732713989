"""Billing > Submissions: new submission, the batch list, and each batch's preview, download and send.

Billers and admins act; accountants read (the list, the preview and the file as text). Every
button is a POST with the CSRF token, and each one calls one operation in billing.submissions.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response as FlaskResponse
from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_login import current_user
from werkzeug.wrappers import Response

from admin_views.base import AreaPage
from admin_views.operations import run_operation
from admin_views.permissions import Area
from admin_views.scope import batch_in_scope, claims_outside_scope, current_scope
from billing.claims.queries import claim_by_number
from billing.core.checks import MAX_INT, parse_id, parse_int
from billing.core.errors import BillingError, Invalid, NotAllowed, NotFound, Problem, ValidationFailed
from billing.core.money import sum_money
from billing.core.time import practice_today
from billing.core.unit_of_work import unit_of_work
from billing.edi.segments import segment_texts
from billing.org.queries import describe_scope
from billing.submissions import operations as ops
from billing.submissions.ack_queries import batch_ack_counts, batch_acknowledgments
from billing.submissions.builds import is_large, queue_build, recent_builds
from billing.submissions.models import BatchStatus, SubmissionBatch
from billing.submissions.queries import (
    batch_authorizations,
    batch_by_id,
    batch_entries,
    batch_responses,
    batches_page,
    candidates,
    edi_payers,
    subject_history,
    waiting_voids,
)
from rules.eligibility import RuleStop

#: The preview shows the file in full up to this many segments (a 1,000-claim file has about 12,000).
PREVIEW_SEGMENTS = 25_000
PER_PAGE = 50


class SubmissionsView(AreaPage):
    area = Area.SUBMISSIONS

    def _refused(self) -> Response | None:
        """A reader's POST is refused with a message naming the role; nothing runs."""
        if self.can_edit:
            return None
        flash(f"Your role ({current_user.role.label}) cannot change submissions.", "error")
        return redirect(request.referrer or self.get_url(".index"))

    # --- the batch list -----------------------------------------------------------------------
    @expose("/")
    def index(self) -> str:
        status = next((s for s in BatchStatus if s.value == request.args.get("status")), None)
        page = request.args.get("page", "1")
        page_number = parse_int(page, low=1, high=MAX_INT) or 1
        rows, total = batches_page(status, page_number, PER_PAGE)
        return self.render("claimdesk/submissions/index.html", batches=rows, total=total, page=page_number,
                           pages=max(1, -(-total // PER_PAGE)), status=status, statuses=list(BatchStatus),
                           builds=recent_builds())  # fmt: skip

    # --- new submission -----------------------------------------------------------------------
    @expose("/new/")
    def new(self) -> str:
        if not self.can_edit:  # a page of Generate buttons: readers (accountants) are not offered it at all
            abort(403)
        return self._new_page(request.args.get("payer", "all"))

    def _new_page(self, payer: str, errors: list[Any] | None = None, selected: set[int] | None = None,
                  held: list[RuleStop] | None = None, run_number: int | None = None) -> str:
        scope = current_scope()
        payer_id = parse_id(payer)
        found = candidates(payer_id, scope)
        eligible = [c for c in found if c.eligible]
        return self.render(
            "claimdesk/submissions/new.html", payers=edi_payers(scope), payer=payer, candidates=found,
            eligible_total=sum_money(c.total for c in eligible), eligible_count=len(eligible), errors=errors or [],
            selected=selected, scope_text=describe_scope(scope), held=held or [], run_number=run_number,
            unchecked_count=sum(1 for c in eligible if c.unchecked),
        )  # fmt: skip

    @expose("/generate/", methods=("POST",))
    def generate(self) -> Any:
        if refused := self._refused():
            return refused
        payer = request.form.get("payer", "all")
        payer_id = parse_id(payer)
        chosen = {n for i in request.form.getlist("claim_id") if (n := parse_id(i))}
        if claims_outside_scope(chosen):
            flash("The selection holds a claim that does not exist in the chosen scope; nothing was generated.",
                  "error")
            return redirect(self.get_url(".new"))
        if is_large(chosen):  # never built inside a request: the batch-builds job does it, with progress
            with unit_of_work():
                build = queue_build(actor=self.actor(), payer_id=payer_id, claim_ids=chosen)
            flash(f"{len(chosen):,} claims: too many to build while you wait. Build {build.id} is queued; its "
                  "progress shows on this page, and its batches appear here as each one is built.", "info")  # fmt: skip
            return redirect(self.get_url(".index"))
        try:
            with unit_of_work():
                generation = ops.generate_batches(actor=self.actor(), payer_id=payer_id, claim_ids=chosen)
                summary = [(b.id, b.number, b.claim_count, b.clearinghouse.name) for b in generation.batches]
                left_out = [c.describe() for c in waiting_voids(payer_id, current_scope())]
        except ops.BatchRefused as exc:
            flash(f"Nothing was generated: {len(exc.errors)} problem(s) in the file. Fix them, or leave those "
                  "claims out, and generate again.", "error")  # fmt: skip
            return self._new_page(payer, errors=exc.errors, selected=chosen)
        except BillingError as exc:  # the page again, with the claims still ticked
            flash(exc.message, "error")
            return self._new_page(payer, selected=chosen)
        for _id, number, count, house in summary:
            flash(f"Batch {number} generated for {house}: {count} claim(s), validated. Preview it, then send it "
                  "or download it.", "success")  # fmt: skip
        for blocked in left_out:  # a void waiting for its ICN blocks only itself: name it so someone fills it in
            flash(f"Left out {blocked}.", "warning")
        if generation.held:  # the page again, with what the rules just stopped: claim, rule and why
            flash(f"The rules (run {generation.run_number}) stopped {len(generation.held)} claim(s); they were left "
                  "out of the file." + ("" if summary else " No batch was generated."), "warning")
            return self._new_page(payer, held=generation.held, run_number=generation.run_number)
        if len(summary) == 1:
            return redirect(self.get_url(".batch", batch_id=summary[0][0]))
        return redirect(self.get_url(".index"))

    # --- one batch ----------------------------------------------------------------------------
    def _handle_view(self, name: str, **kwargs: Any) -> Any:
        """Every batch page, file and button: a batch with claims outside the chosen scope is "not found"."""
        refused = super()._handle_view(name, **kwargs)
        if refused is None and "batch_id" in kwargs and not batch_in_scope(kwargs["batch_id"]):
            flash(f"There is no batch B-{kwargs['batch_id']:06d} in the chosen scope; its claims are elsewhere.",
                  "error")
            return redirect(self.get_url(".index"))
        return refused

    @expose("/batch/<int:batch_id>/")
    def batch(self, batch_id: int) -> Any:
        try:
            found = batch_by_id(batch_id)
        except NotFound as exc:
            flash(exc.message, "error")
            return redirect(self.get_url(".index"))
        segments = segment_texts(found.content) if found.content else []
        return self.render(
            "claimdesk/submissions/batch.html", batch=found, entries=batch_entries(found.id),
            authorizations=batch_authorizations(found), history=subject_history("batch", found.id),
            responses=batch_responses(found.id), ack_counts=batch_ack_counts(found.id),
            acknowledgments=batch_acknowledgments(found.id),
            file_text="\n".join(s + "~" for s in segments[:PREVIEW_SEGMENTS]), segment_count=len(segments),
            truncated=len(segments) > PREVIEW_SEGMENTS, sftp_ready=_sftp_ready(found), today=practice_today(),
        )  # fmt: skip

    @expose("/batch/<int:batch_id>/download/")
    def download(self, batch_id: int) -> Response:
        """The validated .x12 file; billers then upload it by hand and press "Mark as uploaded"."""
        if not self.can_edit:
            flash(f"Your role ({current_user.role.label}) cannot download claim files for upload; the preview "
                  "shows the file.", "error")  # fmt: skip
            return redirect(self.get_url(".batch", batch_id=batch_id))
        try:  # a file on success, so not run_operation's redirect
            found = ops.file_for_download(batch_id)
        except NotFound as exc:
            flash(exc.message, "error")
            return redirect(self.get_url(".index"))
        except (NotAllowed, Invalid) as exc:  # cancelled, or claims changed since the file was built
            flash(exc.message, "error")
            return redirect(self.get_url(".batch", batch_id=batch_id))
        return FlaskResponse(
            found.content.encode("ascii"), mimetype="application/edi-x12",
            headers={"Content-Disposition": f'attachment; filename="{found.file_name}"', "Cache-Control": "no-store"},
        )  # fmt: skip

    @expose("/batch/<int:batch_id>/mark-sent/", methods=("POST",))
    def mark_sent(self, batch_id: int) -> Response:
        def mark() -> SubmissionBatch:
            sent_on = _date_field(request.form.get("sent_on"))
            return ops.mark_batch_sent(batch_id, actor=self.actor(), sent_on=sent_on)

        return self._complete(batch_id, mark, "marked as uploaded")

    @expose("/batch/<int:batch_id>/send/", methods=("POST",))
    def send(self, batch_id: int) -> Response:
        return self._complete(batch_id, lambda: ops.send_batch(batch_id, actor=self.actor()), "sent by SFTP")

    def _complete(self, batch_id: int, operation: Any, done: str) -> Response:
        if refused := self._refused():
            return refused
        return run_operation(
            operation, back=self.get_url(".batch", batch_id=batch_id),
            success=lambda sent: f"Batch {sent.number} {done} as {sent.file_name}: {sent.claim_count} claim(s) are "
            "Submitted.",
            # A send that stopped mid-way left the batch Sending: its message says so, and what to do.
            refusal=lambda exc: exc.message if isinstance(exc, ops.StillSending)
            else f"Nothing was changed: {exc.message}",
        )

    @expose("/batch/<int:batch_id>/remove/", methods=("POST",))
    def remove(self, batch_id: int) -> Response:
        """Take one claim out of an unsent batch; the file is rebuilt and validated again."""
        if refused := self._refused():
            return refused
        number = request.form.get("claim", "")
        return run_operation(
            lambda: ops.remove_claim_from_batch(batch_by_id(batch_id), claim_by_number(number), actor=self.actor()),
            back=self.get_url(".batch", batch_id=batch_id),
            success=lambda found: f"{number} taken out of {found.number}; {found.claim_count} claim(s) left.",
            refusal=lambda exc: f"The file could not be rebuilt; nothing was changed. {exc.message}"
            if isinstance(exc, ops.BatchRefused) else exc.message,
        )

    @expose("/batch/<int:batch_id>/rebuild/", methods=("POST",))
    def rebuild(self, batch_id: int) -> Response:
        """Write the file again from the claims as they are now (after an edit), validated as at generation."""
        if refused := self._refused():
            return refused
        return run_operation(
            lambda: ops.rebuild_batch(batch_by_id(batch_id), actor=self.actor()),
            back=self.get_url(".batch", batch_id=batch_id),
            success=lambda found: f"Batch {found.number} rebuilt and validated: {found.claim_count} claim(s).",
            refusal=lambda exc: f"Nothing was changed: {exc.message}" if isinstance(exc, ValidationFailed)
            else exc.message,
        )


def _sftp_ready(batch: SubmissionBatch) -> str | None:
    """None when Send can be offered, else why not (shown beside the disabled button)."""
    try:
        ops.sftp_settings(batch.clearinghouse)
    except NotAllowed as exc:
        return exc.message
    return None


def _date_field(text: str | None) -> date | None:
    """The optional upload date of *Mark as uploaded*; an unreadable one is refused before anything is written."""
    if not text or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed([Problem("sent_on", f"{text.strip()!r} is not a date (YYYY-MM-DD).")]) from None
