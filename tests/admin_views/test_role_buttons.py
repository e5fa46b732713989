"""Issue 18 item 6: every page shows a role the actions it may take, and no others (the server checks stay).

For each page and each of the four roles: the page opens for its readers (403 for the rest), the buttons the role
may press are there, the ones it may not are absent, and the "read-only for your role" badge shows exactly where the
role can do nothing. The expectations are written out here from the issue and the permissions table's intent, not
read from admin_views.permissions, so a change there shows up as a failing cell.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import lxml.html
import pytest
from flask_login import login_user

from admin_views.permissions import may_edit, may_read
from billing.core.db import db
from billing.people.models import Role
from tests.worlds.claims import submitted_claim
from tests.worlds.practice import World

ADMIN, OFFICE_MANAGER, BILLER, ACCOUNTANT = Role.ADMIN, Role.OFFICE_MANAGER, Role.BILLER, Role.ACCOUNTANT
EVERYONE = frozenset(Role)
BADGE = "read-only for your role"


@dataclass(frozen=True)
class Records:
    claim_id: int
    client_id: int
    draft_visit_id: int


@dataclass(frozen=True)
class Page:
    name: str
    url: Callable[[Records], str]
    readers: frozenset[Role]
    #: marker in the HTML -> the roles that must see it (every other reader must not)
    buttons: dict[str, frozenset[Role]] = field(default_factory=dict)
    #: the readers who see the read-only badge (None: the page has no such badge to check)
    badge: frozenset[Role] | None = None


PAGES = [
    Page(
        "submissions",
        lambda r: "/admin/submissions/",
        frozenset({ADMIN, BILLER, ACCOUNTANT}),
        {"data-new-submission": frozenset({ADMIN, BILLER})},
    ),
    # An accountant must not be offered New submission or its Generate button (issue 18: "sees New Submission
    # with a Generate button"): the page is not theirs to open.
    Page(
        "new submission",
        lambda r: "/admin/submissions/new/",
        frozenset({ADMIN, BILLER}),
        {"data-generate": frozenset({ADMIN, BILLER})},
    ),
    # Billers saw "read-only for your role" beside their own Run rules button.
    Page(
        "failed charges",
        lambda r: "/admin/failed_charge/",
        EVERYONE,
        {"data-run-rules": frozenset({ADMIN, BILLER})},
        badge=frozenset({OFFICE_MANAGER, ACCOUNTANT}),
    ),
    Page(
        "billing runs",
        lambda r: "/admin/billing_run/",
        EVERYONE,
        {"data-run-rules": frozenset({ADMIN, BILLER})},
        badge=frozenset({OFFICE_MANAGER, ACCOUNTANT}),
    ),
    # Office managers finalize one session from its row and from its page, not only through the bulk action.
    Page(
        "sessions",
        lambda r: "/admin/session/",
        EVERYONE,
        {
            'data-row-finalize="{0}"': frozenset({ADMIN, OFFICE_MANAGER}),
            "Retract claims": frozenset({ADMIN, BILLER}),
            "Finalize notes": frozenset({ADMIN, OFFICE_MANAGER}),
            "/admin/session/new/": frozenset({ADMIN, OFFICE_MANAGER}),
        },
        badge=frozenset({ACCOUNTANT}),
    ),
    Page(
        "session page",
        lambda r: f"/admin/session/details/?id={r.draft_visit_id}",
        EVERYONE,
        {"data-session-finalize": frozenset({ADMIN, OFFICE_MANAGER})},
    ),
    Page("claims", lambda r: "/admin/claim/", EVERYONE, {}, badge=frozenset({OFFICE_MANAGER, ACCOUNTANT})),
    Page(
        "claim page",
        lambda r: f"/admin/claim/details/?id={r.claim_id}",
        EVERYONE,
        {"data-claim-actions": frozenset({ADMIN, BILLER}), "data-void-link": frozenset({ADMIN, BILLER})},
    ),
    Page(
        "clients",
        lambda r: "/admin/client/",
        EVERYONE,
        {"/admin/client/new/": frozenset({ADMIN, OFFICE_MANAGER})},
        badge=frozenset({BILLER, ACCOUNTANT}),
    ),
    Page(
        "client page",
        lambda r: f"/admin/client/details/?id={r.client_id}",
        EVERYONE,
        {
            "/admin/client/edit/": frozenset({ADMIN, OFFICE_MANAGER}),
            "data-client-ledger-link": frozenset({ADMIN, BILLER, ACCOUNTANT}),
        },
    ),
    Page(
        "remittances",
        lambda r: "/admin/remittance/",
        frozenset({ADMIN, BILLER, ACCOUNTANT}),
        {"data-upload-link": frozenset({ADMIN, BILLER}), "data-bulk-clawback-link": frozenset({ADMIN, BILLER})},
    ),
    Page(
        "client ledger",
        lambda r: f"/admin/client-ledger/?client_id={r.client_id}",
        frozenset({ADMIN, BILLER, ACCOUNTANT}),
        {"data-patient-payment-form": frozenset({ADMIN, BILLER})},
    ),
    Page(
        "statements",
        lambda r: "/admin/statements/",
        frozenset({ADMIN, BILLER, ACCOUNTANT}),
        {"data-run-cycle": frozenset({ADMIN, BILLER})},
        badge=frozenset({ACCOUNTANT}),
    ),
    Page("jobs", lambda r: "/admin/jobs/", frozenset({ADMIN, BILLER}), {'/run"': frozenset({ADMIN})}),
    # Enable / Disable were offered in the "With selected" menu to office managers and accountants.
    Page(
        "rules",
        lambda r: "/admin/rule/",
        EVERYONE,
        {"/admin/rule/new/": frozenset({ADMIN, BILLER}), ">Disable<": frozenset({ADMIN, BILLER})},
        badge=frozenset({OFFICE_MANAGER, ACCOUNTANT}),
    ),
    Page("payer names", lambda r: "/admin/payer-names/", EVERYONE, {"data-add-alias": frozenset({ADMIN, BILLER})}),
    Page(
        "reports",
        lambda r: "/admin/reports/",
        frozenset({ADMIN, BILLER, ACCOUNTANT}),
        {">Download<": frozenset({ADMIN, BILLER, ACCOUNTANT})},
    ),
    Page("access log", lambda r: "/admin/access_log/", frozenset({ADMIN}), {}, badge=frozenset({ADMIN})),
]
CELLS = [pytest.param(page, role, id=f"{page.name}-{role.value}") for page in PAGES for role in Role]


@pytest.fixture
def records(world: World) -> Records:
    claim = submitted_claim(world)
    visit = world.visit()
    db.session.commit()
    return Records(claim_id=claim.id, client_id=claim.client_id, draft_visit_id=visit.id)


@pytest.mark.parametrize(("page", "role"), CELLS)
def test_each_role_sees_only_the_buttons_it_may_press(client, login, records, page, role):
    login(role)
    response = client.get(page.url(records))
    if role not in page.readers:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for marker, roles in page.buttons.items():
        marker = marker.format(records.draft_visit_id)
        assert (marker in html) is (role in roles), f"{page.name}: {marker!r} for {role.value}"
    if page.badge is not None:
        assert (BADGE in html) is (role in page.badge), f"{page.name}: the read-only badge for {role.value}"


def test_the_matrix_covers_every_role_and_the_defects_of_the_issue():
    """A guard on the guard: each role is a reader somewhere and a non-reader somewhere else."""
    for role in Role:
        assert any(role in p.readers for p in PAGES)
    assert any(role not in p.readers for p in PAGES for role in Role)
    named = {p.name for p in PAGES}
    assert {"new submission", "failed charges", "sessions", "session page"} <= named


@pytest.mark.parametrize("role", list(Role))
def test_may_open_says_which_pages_a_role_can_open(app, client, login, role):
    """The template global pages use to leave off links to pages the role cannot open (a dead end at a 403)."""
    user = login(role)
    pages = {
        "unmatched.index_view": "/admin/unmatched/",
        "submissions.index": "/admin/submissions/",
        "jobs.index": "/admin/jobs/",
        "claim.index_view": "/admin/claim/",
        "user.index_view": "/admin/user/",
    }
    opens = {endpoint: client.get(url).status_code == 200 for endpoint, url in pages.items()}
    assert True in opens.values()
    with app.test_request_context():
        login_user(user)
        for endpoint, expected in opens.items():
            assert app.jinja_env.globals["may_open"](endpoint) is expected, endpoint


def _post_buttons(html: str) -> list[str]:
    """The submit buttons of the page's POST forms, leaving out the scope picker and Log out (every page's)."""
    tree = lxml.html.fromstring(html)
    found = []
    for form in tree.xpath("//form[translate(@method, 'POST', 'post')='post']"):
        action = form.get("action") or ""
        # A user's own saved list filters (data-save-filter) change nothing of the office's records.
        if "/scope" in action or "logout" in action or form.get("data-save-filter") is not None:
            continue
        found += [
            " ".join(b.text_content().split()) or b.get("value", "") or action
            for b in form.xpath(".//button[not(@type) or @type='submit'] | .//input[@type='submit']")
        ]
    return found


@pytest.mark.parametrize("role", list(Role))
def test_a_role_that_changes_nothing_on_a_menu_page_is_offered_no_button_that_posts(app, client, login, records, role):
    """The sweep behind the matrix: every page of the menu the role may open, where it may not edit the page's area
    and has no list action, shows no button that would POST a change (the scope picker and Log out aside)."""
    login(role)
    admin = app.extensions["admin"][0]
    checked = []
    for view in admin._views:
        area = getattr(view, "area", None)
        if area is None or may_edit(role, area) or not may_read(role, area):
            continue
        with app.test_request_context():
            url = view.get_url(f"{view.endpoint}.{'index_view' if hasattr(view, 'model') else 'index'}")
        response = client.get(url.replace("http://claimdesk.test", ""))
        if response.status_code == 302:  # a page that needs a record first (the client ledger asks for a client)
            continue
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        if "With selected" in html:  # a list action open to this role (billers retract from the sessions grid)
            continue
        assert _post_buttons(html) == [], f"{view.name} offers {role.value} a POST button"
        checked.append(view.name)
    if role is not Role.ADMIN:
        assert checked, "the sweep checked no page for this role"
