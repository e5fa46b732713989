"""The jobs, defined in code with fixed ids; only their schedules are edited (admin) and stored (JobSchedule)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from billing.core.errors import NotFound
from billing.jobs import export_runs, tasks
from billing.submissions.builds import has_queued as has_queued_builds


@dataclass(frozen=True)
class Cron:
    """Cron fields as APScheduler reads them; weekdays by name (mon-fri), never by number."""

    minute: str = "0"
    hour: str = "*"
    day: str = "*"
    month: str = "*"
    day_of_week: str = "*"

    def as_kwargs(self) -> dict[str, str]:
        return {"minute": self.minute, "hour": self.hour, "day": self.day, "month": self.month,
                "day_of_week": self.day_of_week}

    def __str__(self) -> str:
        return f"{self.minute} {self.hour} {self.day} {self.month} {self.day_of_week}"


@dataclass(frozen=True)
class JobDefinition:
    id: str
    title: str
    #: Takes `now` and returns a one-line summary (see billing.jobs.tasks); raising marks the run failed.
    func: Callable[[datetime], str]
    default: Cron
    description: str = ""
    #: Housekeeping jobs run every few seconds and have no editable schedule.
    every_seconds: int | None = None
    #: Answers whether there is anything to do; a scheduled poll that finds nothing is not recorded, so a
    #: 10-second poller does not bury the real runs in the job-run table.
    has_work: Callable[[], bool] | None = None
    #: Starts paused on a new install: nothing leaves the office without a biller's action or a job a biller
    #: turned on (Resume on the Jobs page).
    paused_at_first: bool = False


# Nightly work is placed outside 01:00-03:00 local time, which DST skips or repeats.
JOBS: tuple[JobDefinition, ...] = (
    JobDefinition("nightly-rules", "Run the validation rules", tasks.run_rules,
                  Cron(minute="30", hour="4"),
                  "Every enabled rule over the Ready claims; what fails is blocked, held or delayed as its rule says."),
    JobDefinition("submit-claims", "Batch and send Ready claims", tasks.submit_ready_claims,
                  Cron(minute="0", hour="6", day_of_week="mon-fri"),
                  "Per clearinghouse: run the rules on the Ready claims, batch what they let through, validate, "
                  "send; never an empty batch. Paused until an administrator resumes it.", paused_at_first=True),
    JobDefinition("collect-responses", "Collect clearinghouse responses", tasks.collect_responses,
                  Cron(minute="15", hour="7-19", day_of_week="mon-fri"),
                  "Fetch new 835, 999, 277CA and 277 (claim status) files once each and import them."),
    JobDefinition("ask-claim-status", "Ask payers about silent claims (276)", tasks.ask_claim_status,
                  Cron(minute="45", hour="6", day_of_week="mon-fri"),
                  "A 276 claim status inquiry per clearinghouse for the claims due for follow-up that were not asked "
                  "about in the last 7 days; the 277 answers come back with the responses. Paused until an "
                  "administrator resumes it.", paused_at_first=True),
    JobDefinition("scheduled-exports", "Export reports", tasks.export_scheduled_reports,
                  Cron(minute="30", hour="5"),
                  "Month to date: the reports in CLAIMDESK_SCHEDULED_REPORTS, into instance/exports/."),
    JobDefinition("ledger-check", "Check the ledger", tasks.check_the_ledger, Cron(minute="45", hour="4"),
                  "Balances, remittance totals, reversal links, credits and open lines; a violation fails the run."),
    JobDefinition("send-statements", "Send patient statements", tasks.send_statements,
                  Cron(minute="0", hour="8", day="1"),
                  "Monthly: a statement to each responsible party owing at least the minimum, as PDFs and a mail "
                  "vendor CSV in instance/statements/. Paused until an administrator resumes it.",
                  paused_at_first=True),
    JobDefinition("check-eligibility", "Check eligibility for upcoming sessions", tasks.check_upcoming_eligibility,
                  Cron(minute="0", hour="4"),
                  "A 270 per clearinghouse for every client with sessions in the next CLAIMDESK_ELIGIBILITY_DAYS days "
                  "(default 3); the 271s come back with the collected responses. Paused until an administrator "
                  "resumes it.", paused_at_first=True),
    JobDefinition("batch-builds", "Build large submissions", tasks.build_queued_batches,
                  Cron(), "Submissions of more than 1,000 claims asked for on the Submissions page, batch by batch, "
                  "with progress on that page.", every_seconds=10, has_work=has_queued_builds),
    JobDefinition("export-queue", "Build requested exports", tasks.build_queued_exports,
                  Cron(), "Large reports asked for on the Reports page.", every_seconds=10,
                  has_work=export_runs.has_queued),
)


class UnknownJob(NotFound):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"There is no job {job_id!r}. Jobs: {', '.join(j.id for j in JOBS)}.")


def job_definition(job_id: str) -> JobDefinition:
    for job in JOBS:
        if job.id == job_id:
            return job
    raise UnknownJob(job_id)
