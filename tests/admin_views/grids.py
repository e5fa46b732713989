"""The admin grids under test: who may read and edit each, a saved record, and a valid create form.

The role rules are written out here from the Foundation issue rather than read from
admin_views.permissions, so a change to that table shows up as failing tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from billing.core.db import db
from billing.coverage.models import Authorization, FeeSchedule, InsurancePolicy, Payer, ServiceCode
from billing.org.models import Company, Location, Practice
from billing.people.models import Client, Provider, Role, User
from billing.sessions.models import SessionClass, TherapySession
from tests.conftest import csrf_token
from tests.worlds import factories as f

ADMIN, OFFICE_MANAGER, BILLER, ACCOUNTANT = Role.ADMIN, Role.OFFICE_MANAGER, Role.BILLER, Role.ACCOUNTANT
EVERYONE = frozenset(Role)
CREATED = "Record was successfully created."
Form = dict[str, Any]


@dataclass(frozen=True)
class Grid:
    endpoint: str
    model: type[Any]
    editors: frozenset[Role]
    make: Callable[[], Any]  # a saved record of this grid
    form: Callable[[], Form]  # a valid create form; builds the records it refers to
    key: tuple[str, str]  # (column, value) that finds the record the form creates
    readers: frozenset[Role] = EVERYONE
    ajax: tuple[str, ...] = ()  # form_ajax_refs fields
    deletable: bool = False  # only sessions: drafts entered in error may be deleted

    @property
    def url(self) -> str:
        return f"/admin/{self.endpoint}/"

    def __str__(self) -> str:
        return self.endpoint


def _company_form() -> Form:
    return {
        "legal_name": "Harbor Speech LLC", "tax_id": "987654321", "group_npi": "1234567893",
        "address_line1": "1 Harbor Way", "city": "Portland", "state": "ME", "zip_code": "041011234",
    }


def _practice_form() -> Form:
    return {"company": f.CompanyFactory().id, "name": "Speech therapy"}


def _location_form() -> Form:
    return {
        "practice": f.PracticeFactory().id, "name": "Harbor clinic", "place_of_service": "11",
        "address_line1": "2 Dock St", "city": "Portland", "state": "ME", "zip_code": "04101",
    }


def _user_form() -> Form:
    return {"email": "new.biller@example.test", "name": "New Biller", "role": "biller", "active": "y",
            "new_password": "a long enough password"}


def _client_form() -> Form:
    return {
        "location": f.LocationFactory().id, "account_number": "NEW-000001", "first_name": "Ann",
        "last_name": "Lee", "date_of_birth": "1980-01-02", "sex": "F", "active": "y",
        "diagnoses-0-position": "1", "diagnoses-0-code": "F84.0",
    }


def _policy_form() -> Form:
    client = f.ClientFactory()
    payer = f.PayerFactory(company=client.location.practice.company)
    return {
        "client": client.id, "payer": payer.id, "rank": "primary", "member_id": "MEMBER-NEW",
        "relationship_to_subscriber": "self", "effective_on": "2026-01-01",
    }


def _authorization_form() -> Form:
    policy = f.PolicyFactory()
    code = f.ServiceCodeFactory(company=policy.payer.company)
    return {
        "client": policy.client_id, "policy": policy.id, "number": "AUTH-NEW", "service_codes": [str(code.id)],
        "starts_on": "2026-02-01", "ends_on": "2026-03-31", "units_approved": "40",
    }


def _session_form() -> Form:
    client = f.ClientFactory()
    company = client.location.practice.company
    return {
        "client": client.id, "provider": f.ProviderFactory(company=company).id, "location": client.location_id,
        "service_code": f.ServiceCodeFactory(company=company).id, "modifiers": "", "service_date": "2026-03-03",
        "start_time": "09:00", "end_time": "10:00", "place_of_service": "11", "note_text": "NEW-SESSION-NOTE",
    }


def _provider_form() -> Form:
    return {"company": f.CompanyFactory().id, "first_name": "Pat", "last_name": "Newprovider",
            "npi": "1234567893", "active": "y"}


def _session_class_form() -> Form:
    return {"company": f.CompanyFactory().id, "name": "No-show"}


def _payer_form() -> Form:
    return {
        "company": f.CompanyFactory().id, "name": "Harbor Health Plan", "payer_type": "commercial",
        "claim_filing_indicator": "CI", "edi_payer_id": "HHP01", "edi_enabled": "y", "active": "y",
    }


def _service_code_form() -> Form:
    return {"company": f.CompanyFactory().id, "code": "92507", "description": "Speech treatment",
            "minutes_per_unit": "15", "rounding_rule": "per_visit", "active": "y"}


def _fee_schedule_form() -> Form:
    return {"company": f.CompanyFactory().id, "name": "2027 default rates", "effective_on": "2027-01-01"}


ORGANISATION = frozenset({ADMIN})
CLINICAL = frozenset({ADMIN, OFFICE_MANAGER})
BILLING_SETUP = frozenset({ADMIN, BILLER})

GRIDS = [
    Grid("company", Company, ORGANISATION, f.CompanyFactory, _company_form, ("legal_name", "Harbor Speech LLC")),
    Grid("practice", Practice, ORGANISATION, f.PracticeFactory, _practice_form, ("name", "Speech therapy")),
    Grid("location", Location, ORGANISATION, f.LocationFactory, _location_form, ("name", "Harbor clinic")),
    Grid("user", User, frozenset({ADMIN}), f.UserFactory, _user_form, ("email", "new.biller@example.test"),
         readers=frozenset({ADMIN})),
    Grid("client", Client, CLINICAL, f.ClientFactory, _client_form, ("account_number", "NEW-000001")),
    Grid("policy", InsurancePolicy, CLINICAL, f.PolicyFactory, _policy_form, ("member_id", "MEMBER-NEW"),
         ajax=("client",)),
    Grid("authorization", Authorization, CLINICAL, f.AuthorizationFactory, _authorization_form,
         ("number", "AUTH-NEW"), ajax=("client", "policy")),
    Grid("session", TherapySession, CLINICAL, f.TherapySessionFactory, _session_form,
         ("note_text", "NEW-SESSION-NOTE"), ajax=("client", "provider", "authorization"), deletable=True),
    Grid("provider", Provider, CLINICAL, f.ProviderFactory, _provider_form, ("npi", "1234567893")),
    Grid("session_class", SessionClass, CLINICAL, f.SessionClassFactory, _session_class_form, ("name", "No-show")),
    Grid("payer", Payer, BILLING_SETUP, f.PayerFactory, _payer_form, ("name", "Harbor Health Plan")),
    Grid("service_code", ServiceCode, BILLING_SETUP, f.ServiceCodeFactory, _service_code_form, ("code", "92507")),
    Grid("fee_schedule", FeeSchedule, BILLING_SETUP, f.FeeScheduleFactory, _fee_schedule_form,
         ("name", "2027 default rates")),
]


def count(model: type[Any]) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def row(record: Any) -> tuple[Any, ...]:
    """Every column of the record as stored now (not as the session remembers it)."""
    table = type(record).__table__
    return tuple(db.session.execute(select(table).where(table.c.id == record.id)).one())


def exists(model: type[Any], column: str, value: str) -> bool:
    return db.session.scalar(select(func.count()).select_from(model).where(getattr(model, column) == value)) == 1


def post(client: FlaskClient, url: str, data: Form, *, page: str = "/admin/", **kwargs: Any) -> Any:
    """POST a form with the CSRF token rendered on `page`, as a browser would after loading it."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page)}, **kwargs)


@dataclass
class _Div:
    is_group: bool
    is_feedback: bool
    field: str | None = None


class _FormErrors(HTMLParser):
    """Reads a rendered Flask-Admin form: each form-group is named by its label's `for`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.errors: dict[str, list[str]] = {}
        self.divs: list[_Div] = []
        self.item: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "div":
            self.divs.append(_Div("form-group" in classes, "invalid-feedback" in classes))
        elif tag == "label" and (group := self._group()) is not None and group.field is None:
            group.field = dict(attrs).get("for")
        elif tag == "li" and any(d.is_feedback for d in self.divs):
            self.item = []

    def handle_data(self, data: str) -> None:
        if self.item is not None:
            self.item.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self.divs:
            self.divs.pop()
        elif tag == "li" and self.item is not None:
            group = self._group()
            self.errors.setdefault(group.field if group and group.field else "", []).append("".join(self.item).strip())
            self.item = None

    def _group(self) -> _Div | None:
        return next((d for d in reversed(self.divs) if d.is_group), None)


def form_errors(html: str) -> dict[str, list[str]]:
    """The error texts shown under each field of a re-rendered form, by field name."""
    parser = _FormErrors()
    parser.feed(html)
    return parser.errors
