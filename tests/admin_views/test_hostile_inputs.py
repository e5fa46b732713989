"""Hostile input on every POST endpoint of the admin: never a 500, never a traceback or SQL, nothing written
on a refusal (issue 14, item 8).

The endpoints come from the app's url_map, so a new POST route is fuzzed without anyone listing it. The
field names each endpoint reads come from the forms the admin renders (every GET page is crawled once),
and each example replaces a few of them with values an attacker or a tired biller might send.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask, message_flashed
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from app import create_app
from billing.core.db import db
from billing.jobs.definitions import JOBS
from billing.jobs.schedules import schedule_row
from billing.people.models import Role
from tests.conftest import csrf_token
from tests.worlds.hostile import AMOUNTS, DATES, EVERYTHING, IDS, TEXTS, fingerprint, hostile_world, kind_of
from tests.worlds.practice import World

# --- the endpoints ------------------------------------------------------------------------------------------

def _post_rules() -> list[tuple[str, str]]:
    """(endpoint, rule) for every POST route under /admin/, read from an app built without a database."""
    probe = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    rules = [(r.endpoint, r.rule) for r in probe.url_map.iter_rules()
             if "POST" in (r.methods or ()) and r.rule.startswith("/admin/")]
    return sorted(rules)


POST_RULES = _post_rules()
PATH_ARG = re.compile(r"<(?:(\w+):)?(\w+)>")


@dataclass
class Form:
    """The fields of one rendered form: name -> the values it offered (a select's options, an input's value)."""

    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, value: str | None) -> None:
        values = self.fields.setdefault(name, [])
        if value is not None and value not in values:
            values.append(value)


class _Forms(HTMLParser):
    """Every <form> on a page: its action path and its fields."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[tuple[str, Form]] = []
        self.current: Form | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.current = Form()
            self.forms.append((urlsplit(a.get("action") or self.page).path, self.current))
        elif self.current is None or not a.get("name"):
            return
        elif tag in {"input", "textarea", "button"}:
            self.current.add(a["name"], a.get("value"))
        elif tag == "select":
            self.select = a["name"]
            self.current.add(a["name"], None)
        elif tag == "option" and self.select:
            self.current.add(self.select, a.get("value"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


@dataclass
class Site:
    """What the crawl learnt: the fields posted to each endpoint, and a real id for each grid."""

    forms: dict[str, Form]
    ids: dict[str, str]
    path_ids: dict[str, str]


_SITE: list[Site] = []


def _admin_views(app: Flask) -> Iterator[Any]:
    yield from app.extensions["admin"][0]._views


def _crawl(app: Flask, client: FlaskClient, money: Any) -> Site:
    """GET every admin page (with a real id where it takes one) and note the fields of each form it shows."""
    site = _real_ids(app, money)
    path_ids = {**site.path_ids, "batch_id": "1", "alias_id": "1", "run_id": "1", "file_id": "1",
                "job_id": "nightly-rules", "operation": "write-off"}
    adapter = app.url_map.bind("claimdesk.test")
    forms: dict[str, Form] = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or not rule.rule.startswith("/admin/"):
            continue
        path = PATH_ARG.sub(lambda m: path_ids.get(m.group(2), "1"), rule.rule)
        view_id = site.ids.get(rule.endpoint.split(".")[0], "1")
        html = client.get(f"{path}?id={view_id}").get_data(as_text=True)
        parser = _Forms(path)
        parser.feed(html)
        for action, form in parser.forms:
            try:
                endpoint, _ = adapter.match(action, method="POST")
            except Exception:  # noqa: S112 - a GET-only form (filters, search) posts nowhere
                continue
            known = forms.setdefault(endpoint, Form())
            for name, values in form.fields.items():
                for value in values:
                    known.add(name, value)
                known.fields.setdefault(name, [])
    return Site(forms, site.ids, site.path_ids)


# --- the fuzz -----------------------------------------------------------------------------------------------

@pytest.fixture
def site(app: Flask, client: FlaskClient, login: Any, world: World) -> Site:
    money = hostile_world(world)
    for job in JOBS:  # a job's schedule row is made when its page is first shown: before the fingerprint
        schedule_row(job.id)
    login(Role.ADMIN)
    if not _SITE:
        _SITE.append(_crawl(app, client, money))
    crawled = _SITE[0]
    # The crawl ran in another test's transaction: this test's rows have other ids.
    fresh = _real_ids(app, money)
    return Site(crawled.forms, fresh.ids, fresh.path_ids)


def _real_ids(app: Flask, money: Any) -> Site:
    ids: dict[str, str] = {}
    for view in _admin_views(app):
        model = getattr(view, "model", None)
        if model is not None:
            first = db.session.scalar(select(model.id).order_by(model.id).limit(1))
            ids[view.endpoint] = str(first) if first is not None else "1"
    ids["claim"] = str(money.paid.id)
    remittance = db.session.scalar(text("SELECT min(id) FROM remittance"))
    plb = db.session.scalar(text("SELECT min(id) FROM provider_adjustment"))
    path_ids = {"remittance_id": str(remittance or 1), "plb_id": str(plb or 1)}
    return Site({}, ids, path_ids)


def _path_values(rule: str, site: Site) -> dict[str, st.SearchStrategy[str]]:
    values: dict[str, st.SearchStrategy[str]] = {}
    for converter, name in PATH_ARG.findall(rule):
        real = site.path_ids.get(name, "1")
        if converter == "int":  # the route's converter already refuses anything but digits
            values[name] = st.sampled_from([real, str(2**63), str(2**31), "0", "9" * 30])
        elif name == "operation":
            values[name] = st.sampled_from(["write-off", "patient-payment", "bill-patient", "secondary", "hold",
                                            "void", "release", "x" * 300, "²"])
        else:
            values[name] = st.sampled_from(["nightly-rules", "collect-responses", "²", "x" * 300, "%00"])
    return values


def _form_strategy(endpoint: str, site: Site, view: Any) -> st.SearchStrategy[dict[str, Any]]:
    # A grid with no row to edit showed no edit form: its create form has the same fields.
    fallback = site.forms.get(endpoint.replace(".edit_view", ".create_view"), Form())
    known = (site.forms.get(endpoint) or fallback).fields
    names = [n for n in sorted(known) if n != "csrf_token"] or ["id", "reason", "amount", "claim_number", "name"]
    actions = [name for name, _ in getattr(view, "_actions", [])]
    base = {n: (known.get(n) or [""])[0] for n in names}
    if endpoint.endswith(".action_view"):
        names = [*names, "action", "rowid"]
        base |= {"action": actions[0] if actions else "", "rowid": "1"}
    if endpoint.endswith(".delete_view"):
        names = [*names, "id"]
    if endpoint.endswith(".ajax_update"):
        names = [*names, "list_form_pk"]

    @st.composite
    def forms(draw: st.DrawFn) -> dict[str, Any]:
        form = dict(base)
        if "action" in form and actions:
            form["action"] = draw(st.sampled_from(actions))
        for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True)):
            pool = draw(st.sampled_from([kind_of(name), EVERYTHING]))
            form[name] = draw(st.sampled_from(pool))
        if "rowid" in form:
            form["rowid"] = draw(st.lists(st.sampled_from([site.ids.get(endpoint.split(".")[0], "1"), *IDS]),
                                          min_size=1, max_size=3))
        return form

    return forms()


class Flashes:
    def __init__(self) -> None:
        self.categories: list[str] = []

    def __call__(self, app: Flask, message: str, category: str) -> None:
        self.categories.append(category)


LEAKS = ("Traceback", "[SQL:", "[parameters:", "sqlalchemy.", "psycopg", "sqlite3.")


def _assert_no_leak(text_: str, where: str) -> None:
    for leak in LEAKS:
        assert leak not in text_, f"{where} shows {leak!r}"


#: The POST routes of each view (one test per view: building the world costs more than a few posts).
BY_VIEW: dict[str, list[tuple[str, str]]] = {}
for _endpoint, _rule in POST_RULES:
    BY_VIEW.setdefault(_endpoint.split(".")[0], []).append((_endpoint, _rule))
#: Examples per route: bounded and derandomized so the whole fuzz stays within a couple of minutes.
EXAMPLES = 5
#: A failure prints its example as generated: shrinking a web request costs minutes and adds little here.
NO_SHRINK = (Phase.explicit, Phase.generate)


@pytest.mark.parametrize("view_name", sorted(BY_VIEW))
def test_hostile_posts_are_refused_cleanly(app: Flask, client: FlaskClient, site: Site, view_name: str,
                                           caplog: pytest.LogCaptureFixture) -> None:
    view = next((v for v in _admin_views(app) if v.endpoint == view_name), None)
    token = csrf_token(client, "/admin/")
    for endpoint, rule in BY_VIEW[view_name]:
        _fuzz_route(app, client, site, caplog, view, token, endpoint, rule)


def _fuzz_route(app: Flask, client: FlaskClient, site: Site, caplog: pytest.LogCaptureFixture, view: Any,
                token: str, endpoint: str, rule: str) -> None:
    real_id = site.ids.get(endpoint.split(".")[0], "1")

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, phases=NO_SHRINK,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(form=_form_strategy(endpoint, site, view), record=st.sampled_from([real_id, *IDS]),
           path=st.fixed_dictionaries(_path_values(rule, site)),
           op_key=st.binary(min_size=16, max_size=16).map(bytes.hex))
    def post_hostile(form: dict[str, Any], record: str, path: dict[str, str], op_key: str) -> None:
        url = PATH_ARG.sub(lambda m: path[m.group(2)], rule)
        before = fingerprint()
        flashes = Flashes()
        caplog.clear()
        with message_flashed.connected_to(flashes, app):
            response = client.post(f"{url}?{urlencode({'id': record})}", follow_redirects=True,
                                   data={**form, "csrf_token": token, "op_key": op_key})
        body = response.get_data(as_text=True)
        assert response.status_code < 500, f"{endpoint}: {body[:2000]}"
        _assert_no_leak(body, f"{endpoint}'s page")
        _assert_no_leak(caplog.text, f"the log of {endpoint}")
        if "success" not in flashes.categories and response.mimetype == "text/html":
            assert fingerprint() == before, f"{endpoint} reported nothing done, yet the database changed"

    post_hostile()


def test_the_fuzz_covers_every_post_endpoint() -> None:
    """The url_map is the list: a POST route added later is fuzzed too (it cannot hide from a hand-kept list)."""
    endpoints = {e for e, _ in POST_RULES}
    assert {"claim.money_view", "unmatched.match_view", "rule.create_view", "payer_names.add_view"} <= endpoints
    assert len(endpoints) > 100


def test_hostile_values_cover_the_brief() -> None:
    assert {"²", "", "-1", str(2**63), "1e3", "0x10"} <= set(IDS)
    assert {"1e10", "1,2,3", "１２", "12.345", "NaN", "inf", "99999999999.99"} <= set(AMOUNTS)
    assert {"2026-02-30", "0000-01-01", "9999-12-31"} <= set(DATES)
    assert any("\x00" in t for t in TEXTS)
    assert any(len(t) >= 10_000 for t in TEXTS)


# --- the examples, one by one -------------------------------------------------------------------------

@pytest.mark.parametrize("hostile", ["²", "", "-1", str(2**63), str(2**31), "1e3", "0x10"])
def test_an_id_that_cannot_be_one_is_not_found(client: FlaskClient, login: Any, world: World, hostile: str) -> None:
    login(Role.ADMIN)
    for page in ("details", "edit"):
        response = client.get(f"/admin/client/{page}/?{urlencode({'id': hostile})}", follow_redirects=True)
        assert response.status_code == 200
        if hostile:  # an empty id is no id: Flask-Admin goes back to the list without a word
            assert "Record does not exist." in response.get_data(as_text=True)
    assert client.post(f"/admin/submissions/batch/{2**63}/send/").status_code == 404


def test_a_nul_byte_is_refused_before_any_query(client: FlaskClient, login: Any, world: World) -> None:
    login(Role.ADMIN)
    before = fingerprint()
    form = {"company": world.company.id, "first_name": "A\x00nn", "last_name": "Lee", "npi": "1234567893",
            "csrf_token": csrf_token(client, "/admin/provider/new/")}
    response = client.post("/admin/provider/new/", data=form)
    assert response.status_code == 400
    assert "first_name&#39; contains a NUL character" in response.get_data(as_text=True)
    assert fingerprint() == before


def test_a_line_break_in_a_return_address_is_refused(client: FlaskClient, login: Any) -> None:
    login(Role.ADMIN)
    data = {"csrf_token": csrf_token(client, "/admin/"), "url": "/admin/\r\nSet-Cookie: x=1", "action": "x"}
    assert client.post("/admin/claim/action/", data=data).status_code == 400


def test_a_database_error_shows_no_sql_and_logs_one_line_without_it(tmp_path: Any,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    from sqlalchemy.exc import DataError

    app = create_app({"TESTING": True, "SECRET_KEY": "k", "PROPAGATE_EXCEPTIONS": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}"}, instance_path=str(tmp_path))

    @app.route("/boom")
    def boom() -> str:
        raise DataError("UPDATE client SET last_name=%(name)s", {"name": "Doe"}, Exception("value too long"))

    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in body
    assert "Doe" not in body
    assert "UPDATE" not in body
    line = next(r.getMessage() for r in caplog.records if "Unexpected error" in r.getMessage())
    assert "DataError" in line
    assert "GET /boom" in line
    assert "Doe" not in line
    assert "UPDATE" not in line
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True
