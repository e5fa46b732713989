"""The claims queue (issue 18, item 2): its columns, totals, search, saved filters and export, through the client."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from admin_views.formatters import words_upto
from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.access_log import AccessEntry, AccessKind
from billing.core.db import db
from billing.ledger.models import EFFECTS, LedgerEntry
from billing.payments import queue
from billing.payments.operations import record_manual_payment
from billing.people.models import Role
from billing.people.saved_filters import SavedFilter
from tests.admin_views.test_query_counts import queries_for
from tests.conftest import csrf_token
from tests.worlds import factories as f
from tests.worlds.claims import bulk_ready_claims, submitted_claim
from tests.worlds.payments import full_payment
from tests.worlds.practice import SYSTEM, build_world

D = Decimal


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def row_of(html: str, number: str) -> str:
    """The <tr> of the list that shows this claim number."""
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, re.S)
    found = [r for r in rows if f">{number}<" in r or f"{number}\n" in r or (number in r and "col-id" in r)]
    assert found, number
    return found[0]


def cell(row: str, column: str) -> str:
    match = re.search(rf'<td class="col-{column}">(.*?)</td>', row, re.S)
    assert match, column
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def ledger_balance_and_paid(claim: Claim) -> tuple[Decimal, Decimal]:
    """Worked out here from the raw entries, not through the queue's SQL."""
    balance = paid = D("0.00")
    for entry in db.session.scalars(select(LedgerEntry).where(LedgerEntry.claim_id == claim.id)):
        ins, pat = EFFECTS[entry.kind]
        balance += (ins + pat) * entry.amount
        if entry.kind.value in ("insurance_payment", "patient_payment"):
            paid += entry.amount
    return balance, paid


@pytest.fixture
def paid_and_ready(world):
    """A paid claim (80% paid, the rest contractual) and a Ready one of the same client."""
    paid = submitted_claim(world, lines=2)
    record_manual_payment(paid, full_payment(paid), actor=SYSTEM)
    ready = world.claim(day=paid.service_date.replace(day=paid.service_date.day + 1))
    db.session.flush()
    return paid, ready


def test_the_queue_shows_cpt_units_billed_paid_balance_and_days_in_status(client, login, paid_and_ready):
    paid, ready = paid_and_ready
    login(Role.BILLER)
    html = page(client, "/admin/claim/?status=all")
    headers = [
        re.sub(r"<[^>]+>|\s+", " ", h).strip()
        for h in re.findall(r'<th class="column-header[^"]*">(.*?)</th>', html, re.S)
    ]
    for header in ("CPT", "Units", "Billed", "Paid", "Balance", "Days in status", "Filing deadline"):
        assert header in headers, headers
    row = row_of(html, paid.number)
    balance, received = ledger_balance_and_paid(paid)
    assert cell(row, "codes") == "97153"
    assert cell(row, "units") == str(sum(line.units for line in paid.lines))
    assert cell(row, "total_charge") == f"${paid.total_charge:,.2f}"
    assert cell(row, "paid") == f"${received:,.2f}"
    assert received > 0
    assert cell(row, "balance") == f"${balance:,.2f}"
    assert cell(row, "days_in_status").isdigit()
    ready_row = row_of(html, ready.number)
    assert cell(ready_row, "balance") == f"${ready.total_charge:,.2f}"  # no ledger yet: it owes its charge
    assert cell(ready_row, "paid") == "$0.00"


def test_totals_cover_the_whole_filtered_list_not_just_the_page(client, login, paid_and_ready):
    paid, ready = paid_and_ready
    login(Role.BILLER)
    html = page(client, "/admin/claim/?status=all&page_size=1")
    claims = [paid, ready]
    billed = sum((c.total_charge for c in claims), D(0))
    balances = [ledger_balance_and_paid(c) for c in claims]
    balance = ledger_balance_and_paid(paid)[0] + ready.total_charge
    received = sum((b[1] for b in balances), D(0))
    assert re.search(r"<strong>2</strong> claims in this list", html)
    assert f"data-total-billed>${billed:,.2f}<" in html
    assert f"data-total-paid>${received:,.2f}<" in html
    assert f"data-total-balance>${balance:,.2f}<" in html
    ready_only = page(client, "/admin/claim/?status=ready")
    assert f"data-total-billed>${ready.total_charge:,.2f}<" in ready_only


def test_a_long_list_adds_up_paid_and_balance_when_asked(client, login, paid_and_ready, monkeypatch):
    monkeypatch.setattr(queue, "LARGE_LIST", 1)  # two claims make a long list here
    paid, ready = paid_and_ready
    login(Role.BILLER)
    html = page(client, "/admin/claim/?status=all")
    assert re.search(r"<strong>2</strong> claims in this list", html)
    assert f"data-total-billed>${paid.total_charge + ready.total_charge:,.2f}<" in html
    assert "data-total-balance" not in html
    link = re.search(r'href="([^"]+)" data-add-up-totals', html).group(1).replace("&amp;", "&")
    assert "status=all" in link
    asked = page(client, link)
    assert f"data-total-balance>${ledger_balance_and_paid(paid)[0] + ready.total_charge:,.2f}<" in asked
    assert "data-add-up-totals" not in asked


def test_a_long_plain_tab_counts_from_the_kept_day_counts(client, login, paid_and_ready, monkeypatch):
    monkeypatch.setattr(queue, "LARGE_LIST", 0)
    paid, ready = paid_and_ready
    login(Role.BILLER)
    for tab, claims in (("all", [paid, ready]), ("ready", [ready])):
        html = page(client, f"/admin/claim/?status={tab}")
        assert re.search(rf"<strong>{len(claims)}</strong> claims in this list", html)
        assert f"data-total-billed>${sum((c.total_charge for c in claims), D(0)):,.2f}<" in html
        assert "data-add-up-totals" in html
    searched = page(client, f"/admin/claim/?status=all&search={ready.number}")
    assert re.search(r"<strong>1</strong> claims in this list", searched)  # a search counts the claim table


def test_search_finds_partial_numbers_clients_member_ids_and_icns(client, login, world):
    login(Role.BILLER)
    world.client.last_name = "Abernathy"
    mine = world.claim()
    other_world = build_world()
    other_world.client.last_name = "Zimmerman"
    other = other_world.claim()
    mine.payer_claim_number = "ICN7781234"
    other_world.policy.member_id = "ZXQ-KLMNOP"  # no digits: a claim id searched for must not match it
    # No other field holds digits a partial claim number could also match.
    world.client.account_number, other_world.client.account_number = "ACCT-MINE", "ACCT-OTHER"
    world.policy.member_id = "MEMBER-MINE"
    world.client.first_name = other_world.client.first_name = "Robin"
    db.session.flush()
    assert mine.number == f"C-{mine.id:06d}"
    cases = {
        str(mine.id): {mine},  # "935" finds C-000935 (here the other claim's number holds no such digits)
        mine.number: {mine},
        "aberna": {mine},  # part of the client's name, any case
        "zxq-klm": {other},  # part of the member ID
        "7781234": {mine},  # part of the payer's claim number (ICN)
        "nothing-like-this": set(),
    }
    assert str(mine.id) not in str(other.id)
    for term, expected in cases.items():
        html = page(client, f"/admin/claim/?status=all&search={term}")
        assert {c for c in (mine, other) if c.number in html} == expected, term


def test_search_placeholder_is_in_words(client, login, world):
    login(Role.BILLER)
    html = page(client, "/admin/claim/")
    assert 'placeholder="Claim no., client, member ID or ICN"' in html
    assert "Last Name" not in html
    assert "client.last_name" not in html


def test_money_is_right_aligned_in_tabular_figures_and_numbers_do_not_wrap(client, login, world):
    login(Role.BILLER)
    world.claim()
    html = page(client, "/admin/claim/")
    assert '<td class="col-balance">' in html
    assert '<td class="col-id">' in html
    response = client.get("/static/claimdesk/claimdesk.css")
    css = response.get_data(as_text=True)
    response.close()
    rule = css[css.index(".cd-money, .col-total_charge") :]
    rule = rule[: rule.index("}")]
    assert "col-balance" in rule
    assert "col-paid" in rule
    assert "text-align: right" in rule
    assert "tabular-nums" in rule
    nowrap = css[css.index(".col-id,") :]
    assert "white-space: nowrap" in nowrap[: nowrap.index("}")]


def test_long_denial_text_is_cut_at_a_word():
    text = "Claim/service lacks information or has submission/billing error(s) which is needed for adjudication."
    short = words_upto(text, 70)
    assert short.endswith("…")
    assert len(short) <= 71
    assert text.startswith(short[:-1])
    assert text[len(short) - 1] == " "  # the cut falls on a space, not inside a word


@given(st.text(alphabet=st.sampled_from("ab cd,.- e"), max_size=200), st.integers(min_value=5, max_value=120))
def test_words_upto_never_splits_a_word(text, width):
    normal = " ".join(text.split())
    short = words_upto(text, width)
    if len(normal) <= width:
        assert short == normal
        return
    assert short.endswith("…")
    kept = short[:-1]
    assert len(kept) <= width
    assert normal.startswith(kept)
    if " " in normal[: width + 1]:  # a word boundary within reach: the cut falls on it
        assert normal[len(kept) :][:1] in (" ", ",", ".", "-")


# --- saved filters ------------------------------------------------------------------------------------------


def _save(client, name: str, query: str, token: bool = True):
    data = {"name": name, "query": query}
    if token:
        data["csrf_token"] = csrf_token(client, "/admin/claim/")
    return client.post("/admin/claim/saved-filters/", data=data, follow_redirects=True)


def test_saved_filters_are_saved_listed_applied_and_deleted_per_user(client, login, world):
    login(Role.BILLER, email="dana@example.com")
    body = _save(client, "Denied Aetna", "status=denied&search=Smith&page=3").get_data(as_text=True)
    assert "Filter “Denied Aetna” saved." in body
    saved = db.session.scalar(select(SavedFilter))
    assert saved.query == "status=denied&search=Smith"  # the page is where the list stood, not a filter
    html = page(client, "/admin/claim/")
    assert 'data-saved-filter="Denied Aetna"' in html
    assert "/admin/claim/?status=denied&amp;search=Smith" in html
    applied = page(client, "/admin/claim/?" + saved.query)
    assert 'value="Smith"' in applied
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    login(Role.BILLER, email="eli@example.com")
    assert "Denied Aetna" not in page(client, "/admin/claim/")
    refused = client.post(
        "/admin/claim/saved-filters/delete/",
        data={"id": str(saved.id), "csrf_token": csrf_token(client, "/admin/claim/")},
        follow_redirects=True,
    )
    assert "That saved filter does not exist." in refused.get_data(as_text=True)
    assert db.session.get(SavedFilter, saved.id) is not None


def test_a_saved_filter_needs_a_name_and_a_csrf_token(client, login, world):
    login(Role.BILLER)
    assert "Name: give the saved filter a name." in _save(client, "  ", "status=held").get_data(as_text=True)
    assert _save(client, "No token", "status=held", token=False).status_code == 400
    assert db.session.scalar(select(SavedFilter)) is None


def test_the_owner_deletes_a_saved_filter(client, login, world):
    login(Role.ACCOUNTANT)
    _save(client, "Held", "status=held")
    saved = db.session.scalar(select(SavedFilter))
    body = client.post(
        "/admin/claim/saved-filters/delete/",
        data={"id": str(saved.id), "csrf_token": csrf_token(client, "/admin/claim/")},
        follow_redirects=True,
    )
    assert "Filter “Held” deleted." in body.get_data(as_text=True)
    assert db.session.scalar(select(SavedFilter)) is None


# --- export -------------------------------------------------------------------------------------------------


def test_csv_export_holds_the_filtered_list_and_is_access_logged(client, login, paid_and_ready):
    paid, _ready = paid_and_ready
    login(Role.BILLER)
    response = client.get("/admin/claim/download/csv/?status=all&search=" + paid.number)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][:3] == ["Claim", "Status", "Service date"]
    assert [r[0] for r in rows[1:]] == [paid.number]
    balance, received = ledger_balance_and_paid(paid)
    header = rows[0]
    assert D(rows[1][header.index("Balance")]) == balance
    assert D(rows[1][header.index("Paid")]) == received
    logged = db.session.scalar(select(AccessEntry).order_by(AccessEntry.id.desc()))
    assert logged.kind is AccessKind.EXPORTED
    assert paid.number in (logged.detail or "")


def test_excel_export_keeps_money_exact(client, login, paid_and_ready):
    paid, ready = paid_and_ready
    login(Role.ACCOUNTANT)
    response = client.get("/admin/claim/download/xlsx/?status=all")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    header_at = next(i for i, r in enumerate(values) if r[0] == "Claim")
    header = values[header_at]
    by_number = {r[0]: r for r in values[header_at + 1 :] if r[0] in (paid.number, ready.number)}
    assert set(by_number) == {paid.number, ready.number}
    assert D(str(by_number[ready.number][header.index("Billed")])) == ready.total_charge


def test_export_is_refused_to_roles_without_reports(client, login, world):
    world.claim()
    login(Role.OFFICE_MANAGER)
    assert client.get("/admin/claim/download/csv/").status_code == 403
    assert "data-queue-export" not in page(client, "/admin/claim/")


def test_export_keeps_to_the_chosen_scope(client, login, world):
    mine = world.claim()
    elsewhere = build_world().claim()
    login(Role.ADMIN)
    response = client.post(
        "/scope",
        data={
            "scope": f"company:{world.company.id}",
            "next": "/admin/claim/",
            "csrf_token": csrf_token(client, "/admin/claim/"),
        },
    )
    assert response.status_code == 302
    body = client.get("/admin/claim/download/csv/?status=all").get_data().decode("utf-8-sig")
    assert mine.number in body
    assert elsewhere.number not in body


# --- query count ----------------------------------------------------------------------------------------------


def test_the_claims_queue_costs_the_same_queries_for_20_and_100_rows(client, login, count_queries, world):
    bulk_ready_claims(world, 120)
    db.session.flush()
    login(Role.BILLER)
    small = queries_for(client, count_queries, "/admin/claim/?page_size=20")
    large = queries_for(client, count_queries, "/admin/claim/?page_size=100")
    assert small == large
    assert db.session.scalar(select(db.func.count()).select_from(Claim).where(Claim.status == ClaimStatus.READY)) >= 100


def test_a_claim_of_another_client_is_not_found_by_a_name_it_does_not_have(client, login, world):
    login(Role.BILLER)
    world.claim()
    stranger = f.ClientFactory(location=world.location, last_name="Quetzalcoatl")
    assert stranger.last_name not in page(client, "/admin/claim/?status=all&search=Quetzal")
