"""The list filters the dashboard's drill-downs use, built on billing.dashboard.conditions so a figure and the list
it opens count the same rows. Appended to the claims list and the sessions list; their URL args are in URLS."""

from __future__ import annotations

from typing import Any

from flask_admin.contrib.sqla.filters import BaseSQLAFilter, DateBetweenFilter, FilterEqual
from sqlalchemy import and_, bindparam

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.time import practice_today
from billing.dashboard.conditions import (
    ANY_AGE,
    BUCKET_LABELS,
    CHARGE_KINDS,
    COLLECTION_KINDS,
    FIRST_ANSWERS,
    adjusted_with,
    first_answer_was,
    owed_by_payer,
    parse_carc,
    posted_between,
)
from billing.sessions.models import NoteStatus, TherapySession

#: Each drill-down filter's URL arg (Flask-Admin's named filter URLs: the name and operation, lower-cased).
URLS = {
    "status": "flt1_status_equals",
    "age": "flt2_payer_owes_is",
    "charged": "flt3_charged_between",
    "paid": "flt4_paid_between",
    "first_answer": "flt5_first_answer_is",
    "carc": "flt6_adjusted_with_carc_is",
    "payer": "flt7_payer_equals",
    "service_date": "flt8_date_between",
    "to_finalize": "flt1_to_finalize_is",
}


class _ClaimConditionFilter(BaseSQLAFilter):
    """A filter whose value picks a claim condition; an unknown value is refused (Flask-Admin then ignores it)."""

    def __init__(self, name: str, options: Any = None) -> None:
        super().__init__(Claim.id, name, options=options)

    def operation(self) -> str:
        return "is"

    def condition(self, value: str) -> Any:  # pragma: no cover - every subclass says
        raise NotImplementedError


class PayerOwesFilter(_ClaimConditionFilter):
    """Claims a payer still owes on today, of one A/R age bucket or of any age."""

    def __init__(self) -> None:
        super().__init__("Payer owes", options=[(ANY_AGE, "any age"), *[(b, f"{b} days") for b in BUCKET_LABELS]])

    def validate(self, value: Any) -> bool:
        return value == ANY_AGE or value in BUCKET_LABELS

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(owed_by_payer(value, practice_today()))


class FirstAnswerFilter(_ClaimConditionFilter):
    """Claims whose first deciding 999/277CA answer was an acceptance or a rejection (first-pass acceptance)."""

    def __init__(self) -> None:
        super().__init__("First answer", options=[(k, k.capitalize()) for k in FIRST_ANSWERS])

    def validate(self, value: Any) -> bool:
        return value in FIRST_ANSWERS

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(first_answer_was(value))


class CarcFilter(_ClaimConditionFilter):
    """Claims with a ledger adjustment of this group code and CARC, typed as "CO-45"."""

    def __init__(self) -> None:
        super().__init__("Adjusted with CARC")

    def validate(self, value: Any) -> bool:
        return parse_carc(value) is not None

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        group, code = parse_carc(value) or ("", "")
        return query.filter(adjusted_with(group, code))


class PostedBetweenFilter(DateBetweenFilter):
    """Claims with a ledger entry of these kinds posted in the date range (charges, or money collected)."""

    def __init__(self, name: str, kinds: tuple[Any, ...]) -> None:
        super().__init__(Claim.id, name)
        self.kinds = kinds

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        start, end = value
        return query.filter(posted_between(self.kinds, start, end))


def claim_filters() -> list[Any]:
    """Appended to the claims list's filters (after "Date", "Payer", "Provider", "Location", "Needs review")."""
    return [
        FilterEqual(column=Claim.status, name="Status", options=[(s.value, s.label) for s in ClaimStatus]),
        PayerOwesFilter(),
        PostedBetweenFilter("Charged", CHARGE_KINDS),
        PostedBetweenFilter("Paid", COLLECTION_KINDS),
        FirstAnswerFilter(),
        CarcFilter(),
    ]


class ToFinalizeFilter(BaseSQLAFilter):
    """Sessions whose note is still a draft, not cancelled, dated today or earlier: the front page's "Draft notes"."""

    def __init__(self) -> None:
        super().__init__(TherapySession.id, "To finalize", options=[("1", "yes")])

    def operation(self) -> str:
        return "is"

    def validate(self, value: Any) -> bool:
        return value == "1"

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(to_finalize())


def to_finalize() -> Any:
    # The draft status is written into the SQL, not bound: only then can SQLite see that the partial index of draft
    # notes (ix_therapy_session_draft_notes) covers the query; its leading `session_class_id` makes it the better
    # match for `session_class_id IS NULL` than that column's own index, with or without planner statistics.
    draft = bindparam(None, NoteStatus.DRAFT, type_=TherapySession.note_status.type, literal_execute=True)
    return and_(
        TherapySession.note_status == draft,
        TherapySession.session_class_id.is_(None),
        TherapySession.service_date <= practice_today(),
    )
