"""Job bodies: each takes `now`, calls the services that do the work in their own units of work, and
returns a one-line summary; raising marks the run failed with that message (the next run still happens).

Jobs are the top layer: they call the rules, submissions, payments and exports services directly.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select

from billing.core.audit import Actor
from billing.core.db import db
from billing.core.errors import BillingError, Failed, NothingToDo
from billing.core.time import practice_timezone
from billing.core.unit_of_work import unit_of_work
from billing.jobs import export_runs
from billing.jobs.models import JobRun, JobRunStatus, ResponseImport, ResponseImportStatus
from billing.jobs.recording import run_unit
from billing.org.models import Company
from billing.org.queries import Scope
from billing.payments.invariants import check_ledger
from billing.submissions import builds as submission_builds
from billing.submissions import jobs as submission_jobs
from billing.submissions.acknowledgments import AckResult
from billing.submissions.claim_status import ask_due
from billing.submissions.eligibility import request_checks, upcoming_requests
from billing.submissions.inbound import import_x12
from billing.submissions.models import ClearinghouseResponse
from exports.statements import run_statement_files, statement_folder
from rules.runs import run_rules as run_rules_now

DEFAULT_ELIGIBILITY_DAYS = 3
DEFAULT_SCHEDULED_REPORTS = ("claims", "claim-denials", "ar-aging", "authorization-utilization")
#: ST01 of the collected files the job imports (a 277 is a 277CA or a claim status response, told apart by GS08).
IMPORTED_TYPES = ("835", "999", "277")
#: ST01 of the collected files the job imports (a 277 is read as a 277CA, or refused naming what it is).
IMPORTED_TYPES = ("835", "999", "277", "271")
#: Who the history names for everything a scheduled job does.
SCHEDULER = Actor.system("scheduler")


def run_rules(now: datetime) -> str:
    """The nightly billing run: every enabled rule over the Ready claims (and those the rules stopped), one
    company at a time, each committed and recorded on its own (`run_unit`): one company's failure stops no other."""
    today = now.astimezone(practice_timezone()).date()
    outcomes = []
    for company_id, name in db.session.execute(select(Company.id, Company.legal_name).order_by(Company.id)).all():

        def run_company(company_id: int = company_id) -> str:
            with unit_of_work():
                result = run_rules_now(actor=SCHEDULER, today=today, company_id=company_id)
            return (f"Run {result.run_number}: {result.claims_checked} claims checked, {result.claims_failing} "
                    f"failing, {result.holds_placed} held, {result.rule_errors} rule errors.")

        outcomes.append(run_unit("nightly-rules", name, run_company))
    return _units_summary(outcomes) or "No company; nothing to check."


def _units_summary(runs: list[JobRun]) -> str:
    """The job's summary from its units' rows; any failed unit fails the job, after every unit ran."""
    summary = "; ".join(f"{run.unit}: {run.summary}" for run in runs)
    if any(run.status is JobRunStatus.FAILED for run in runs):
        raise Failed(summary)
    return summary


def submit_ready_claims(now: datetime) -> str:
    """Batch the eligible Ready claims per clearinghouse, validate and send; no eligible claims, no batch.

    Each clearinghouse is a unit of its own (committed and recorded apart): one that fails, an SFTP server
    down, a file refused, leaves the others to send."""
    report = submission_jobs.JobReport()
    for house_id, name in submission_jobs.submission_units():
        part = submission_jobs.JobReport()

        def submit(house_id: int = house_id, part: submission_jobs.JobReport = part) -> str:
            part.merge(submission_jobs.submit_ready_claims(actor=SCHEDULER, clearinghouse_id=house_id))
            if part.failed:
                raise Failed(part.summary())
            return part.summary()

        run = run_unit("submit-claims", name, submit)
        if run.status is JobRunStatus.FAILED and not part.failed:  # an unexpected error: named, its text withheld
            part.failed.append(f"{name}: {run.summary}")
        report.merge(part)
    if report.failed:
        raise Failed(report.summary())  # the run shows as failed, with each clearinghouse's outcome
    if report.done:
        return report.summary()
    nothing = "No eligible Ready claims; nothing sent."
    return f"{nothing} {report.summary()}" if report.blocked else nothing


def ask_claim_status(now: datetime) -> str:
    """A 276 for the follow-up queue's claims not asked about this week; their 277s come back with the responses."""
    try:
        with unit_of_work():
            asked = ask_due(Scope(), actor=SCHEDULER, today=now.astimezone(practice_timezone()).date())
            return asked.summary()
    except NothingToDo as exc:
        return exc.message


def collect_responses(now: datetime) -> str:
    """Fetch every new file from each clearinghouse's outbound folder once, then import each new 835, 999 and
    277CA once (`billing.submissions.inbound`, the same door as `flask edi import`)."""
    collected = submission_jobs.JobReport()
    for house_id, name in submission_jobs.submission_units():
        part = submission_jobs.JobReport()

        def collect(house_id: int = house_id, part: submission_jobs.JobReport = part) -> str:
            part.merge(submission_jobs.collect_all_responses(actor=SCHEDULER, clearinghouse_id=house_id))
            if part.failed:
                raise Failed(part.summary())
            return part.summary()

        run = run_unit("collect-responses", name, collect)
        if run.status is JobRunStatus.FAILED and not part.failed:
            part.failed.append(f"{name}: {run.summary}")
        collected.merge(part)
    imports = [import_collected_response(response_id) for response_id in pending_responses()]
    lines = [line for _, line in imports]
    parts = [collected.summary(), *lines] if lines else [collected.summary(), "nothing new to import"]
    summary = "; ".join(parts)
    if collected.failed or any(status is ResponseImportStatus.REFUSED for status, _ in imports):
        raise Failed(summary)
    return summary


def pending_responses() -> list[int]:
    """Collected 835s, 999s and 277CAs the job has not handled yet (each gets a ResponseImport row, whatever its
    outcome). ST01 is kept on the response; a 277 is a 277CA or not, which the import itself tells."""
    handled = select(ResponseImport.response_id)
    query = select(ClearinghouseResponse.id).where(
        ClearinghouseResponse.transaction_type.in_(IMPORTED_TYPES), ClearinghouseResponse.id.not_in(handled)
    )
    return list(db.session.scalars(query.order_by(ClearinghouseResponse.id)))


def import_collected_response(response_id: int) -> tuple[ResponseImportStatus, str]:
    """Import one collected file in its own transaction; a refused file is recorded, never retried by the job.

    Returns how it went (imported, duplicate or refused) and its one-line summary.
    """
    response = db.session.get(ClearinghouseResponse, response_id)
    name, content = response.file_name, response.content.encode("utf-8")
    try:
        with unit_of_work():
            response = db.session.get(ClearinghouseResponse, response_id)
            done = import_x12(content, filename=name, actor=SCHEDULER, clearinghouse=response.clearinghouse)
            result = done.result
            status = ResponseImportStatus.DUPLICATE if result.duplicate else ResponseImportStatus.IMPORTED
            if isinstance(result, AckResult) and result.batch_ids:
                response.batch_id = result.batch_ids[0]
            db.session.add(ResponseImport(response_id=response_id, status=status, summary=result.summary()[:2000]))
        return status, result.summary()
    except BillingError as exc:
        message = f"REFUSED {name}: {exc.message}"
        with unit_of_work():
            db.session.add(ResponseImport(response_id=response_id, status=ResponseImportStatus.REFUSED,
                                          summary=message[:2000]))
        return ResponseImportStatus.REFUSED, message


def check_upcoming_eligibility(now: datetime) -> str:
    """A 270 for the policies of every client with sessions in the coming days (CLAIMDESK_ELIGIBILITY_DAYS)."""
    days = int(current_app.config.get("CLAIMDESK_ELIGIBILITY_DAYS", DEFAULT_ELIGIBILITY_DAYS))
    with unit_of_work():
        requests = upcoming_requests(days, today=now.astimezone(practice_timezone()).date())
    if not requests:
        return f"No client has sessions in the next {days} days; nothing asked."
    report = request_checks(requests, actor=SCHEDULER)
    if report.failed:
        raise Failed(report.summary())
    return report.summary()


def build_queued_batches(now: datetime) -> str:
    """Generations of more than `LARGE_BUILD` claims asked for on the Submissions page, batch by batch."""
    built = [submission_builds.run_build(build_id) for build_id in submission_builds.queued_build_ids()]
    if not built:
        return "Nothing queued."
    summary = "; ".join(f"build {b.id}: {b.summary}" + (f" FAILED {b.error}" if b.error else "") for b in built)
    if any(b.error for b in built):
        raise Failed(summary)
    return summary


def build_queued_exports(now: datetime) -> str:
    built = export_runs.build_queued(now=now)
    if not built:
        return "Nothing queued."
    failed = [r for r in built if r.error]
    return f"Built {len(built) - len(failed)} export(s); {len(failed)} failed."


def export_scheduled_reports(now: datetime) -> str:
    """Month to date, for each report in CLAIMDESK_SCHEDULED_REPORTS, into instance/exports/."""
    names = current_app.config.get("CLAIMDESK_SCHEDULED_REPORTS", DEFAULT_SCHEDULED_REPORTS)
    local = now.astimezone(practice_timezone())
    filters = {"date_from": local.date().replace(day=1).isoformat(), "date_to": local.date().isoformat()}
    runs = []
    for name in names:
        with unit_of_work():
            run = export_runs.queue_export(name, filters, actor=SCHEDULER)
            export_runs.start_export(run, now=now)
        runs.append(export_runs.build_export(run, now=now))
    problems = [f"{r.report}: {r.error}" for r in runs if r.error]
    if problems:
        raise Failed("Some scheduled exports failed: " + "; ".join(problems))
    return ", ".join(f"{r.report} ({r.row_count} rows) -> {r.file_name}" for r in runs) or "No reports configured."


def check_the_ledger(now: datetime) -> str:
    """Every money invariant over the whole ledger; a violation fails the run and names each claim."""
    violations = check_ledger()
    if violations:
        listed = "; ".join(str(v) for v in violations[:20])
        more = f" (and {len(violations) - 20} more)" if len(violations) > 20 else ""
        raise Failed(f"{len(violations)} ledger invariant violation(s): {listed}{more}. Run `flask ledger check`.")
    return "The ledger holds every invariant."


def send_statements(now: datetime) -> str:
    """The monthly statement cycle: a PDF per responsible party owing at least the minimum and the mail CSV into
    instance/statements/DATE/, recorded in each client's statement history."""
    today = now.astimezone(practice_timezone()).date()
    with unit_of_work():
        files = run_statement_files(statement_folder(today), today=today, actor=SCHEDULER)
    cycle = files.cycle
    return (f"{len(cycle.statements)} statement(s), {cycle.total_due} due, {len(cycle.skipped)} skipped; "
            f"files in {files.folder}.")
