"""Issue 18 item 6, small defects: no favicon, a lock emoji that rendered as a box, menus mixing singular and plural.

The menu convention: a list page is named in the plural ("Clients", "Claims", "Policies"), in sentence case; a page
that is one thing or one task keeps its own name ("Today", "Client ledger", "Bulk clawback").
"""

from __future__ import annotations

import re

from flask_admin.contrib.sqla import ModelView

from billing.claims.sessions import finalize_session
from billing.core.db import db
from billing.people.models import Role
from tests.worlds.practice import SYSTEM

#: Emoji and pictographs (the lock was U+1F512), as characters or as HTML character references.
EMOJI = re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF]|&#(1[0-9]{4,5}|1[0-2][0-9]{3});|&#x1F[0-9A-Fa-f]{3};")
#: Grids named for what they hold, where the singular is the usual word for the list.
SINGULAR_GRIDS = {"Access log"}
EXPECTED_MENU = {
    "Practice": ["Clients", "Policies", "Authorizations", "Sessions", "Providers", "Session classes"],
    "Billing setup": ["Payers", "Payer names", "Service codes", "Fee schedules", "Clearinghouses", "Dunning levels"],
    "Organisation": ["Companies", "Practices", "Locations", "Users", "Access log"],
}


def menu(app) -> dict[str | None, list[str]]:
    grouped: dict[str | None, list[str]] = {}
    for view in app.extensions["admin"][0]._views:
        grouped.setdefault(view.category, []).append(view.name)
    return grouped


def test_every_list_page_is_named_in_the_plural_and_in_sentence_case(app):
    grids = [v.name for v in app.extensions["admin"][0]._views if isinstance(v, ModelView)]
    assert len(grids) > 20
    for name in grids:
        assert name == name[0] + name[1:].lower(), f"{name}: sentence case"
        assert name in SINGULAR_GRIDS or name.endswith("s"), f"{name}: a list page is named in the plural"
    named = menu(app)
    for category, names in EXPECTED_MENU.items():
        assert named[category] == names
    assert "Failed charges" in named["Billing"]
    assert "Unmatched claims" in named["Payments"]


def test_every_page_links_the_favicon_and_it_is_served(client, login):
    login_page = client.get("/login").get_data(as_text=True)
    link = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)"', login_page)
    assert link, "the login page links the favicon"
    login(Role.BILLER)
    for url in ("/admin/", "/admin/claim/", "/admin/session/"):
        assert link.group(0) in client.get(url).get_data(as_text=True), url
    with client.get(link.group(1)) as icon:
        assert icon.status_code == 200
        assert icon.mimetype == "image/svg+xml"
        assert b"<svg" in icon.data


def test_the_session_lock_and_the_check_marks_are_svg_icons_not_emoji(client, login, world):
    visit = world.visit()
    claim = finalize_session(visit, actor=SYSTEM).created[0]
    db.session.commit()
    login(Role.BILLER)
    sessions = client.get("/admin/session/").get_data(as_text=True)
    locked = re.search(rf'<a [^>]*href="[^"]*claim/details/\?id={claim.id}"[^>]*>(.*?)</a>', sessions, re.S)
    assert locked, "the session row links the claim that locks it"
    assert 'data-icon="lock"' in locked.group(1)
    assert claim.number in locked.group(1)
    assert not EMOJI.search(sessions)
    providers = client.get("/admin/provider/").get_data(as_text=True)  # "active" is a yes/no column
    assert 'data-icon="check"' in providers
    assert not EMOJI.search(providers)


def test_the_emoji_pattern_finds_the_old_lock():
    assert EMOJI.search('<a title="locked by this claim">&#128274; C-000001</a>')
    assert EMOJI.search("\U0001f512 C-000001")
    assert EMOJI.search("&#10003;")  # the old check mark, a dingbat: also an SVG icon now
    assert not EMOJI.search("C-000001 &mdash; 12/04/2026")
