"""The load test's users: billers and accountants driving the real pages with httpx, as a browser would.

Each user logs in through the /login form, then loops until the deadline: pick an action, do it (a GET of
the page, the form's hidden csrf_token and one-time op_key scraped from it, the POST, the redirect followed),
think a moment, repeat. Every HTTP request is timed and classified; every 5xx, unexpected 4xx and connection
error is an error, and every refusal of an action the plan made valid is counted apart with its message.

What the users believe they posted (per claim: insurance paid by a form or an 835, patient payments) is kept
in `Ledgerbook`, to be compared afterwards with the ledger itself.
"""

from __future__ import annotations

import asyncio
import html
import random
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
from load_plan import BillerPlan, EraUpload, FormPayment, LoadPlan

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.DOTALL | re.IGNORECASE)
INPUT = re.compile(r"<input\b([^>]*)>", re.IGNORECASE)
ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')
FLASH = re.compile(r'<div class="alert alert-(\w+)[^"]*"[^>]*>(.*?)</div>', re.DOTALL)
TAG = re.compile(r"<[^>]+>")
IMPORTED_ROW = re.compile(r"<tr data-imported>(.*?)</tr>", re.DOTALL)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.DOTALL)
EXPORT_LINK = re.compile(r'href="(/admin/reports/exports/\d+)"')
CLAIM_TABS = ("ready", "held", "submitted", "paid", "denied", "all")
XLSX_MAGIC = b"PK"


# --- what was measured --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sample:
    kind: str
    status: int | None  # None: no response (connection error or timeout)
    seconds: float
    at: float


@dataclass
class Ledgerbook:
    """What the users believe they posted, per claim id."""

    insurance: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    patient: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))


@dataclass
class Stats:
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # 5xx, unexpected 4xx, connection errors
    refusals: list[str] = field(default_factory=list)  # a valid action the app refused (or answered oddly)
    counts: Counter[str] = field(default_factory=Counter)  # actions done, double submits and their outcomes
    book: Ledgerbook = field(default_factory=Ledgerbook)

    def refused(self, what: str, page: Page | None) -> None:
        said = "; ".join(text for _, text in page.flashes) if page is not None else "no page"
        self.refusals.append(f"{what}: {said[:300] or (page.text[:200] if page else '')}")


def kind_of(method: str, url: str) -> str:
    """A request's kind for the per-kind table: the page, not its query string."""
    path = urlsplit(url).path
    names = {
        "/login": "login", "/admin/": "dashboard", "/admin/claim/": "claims list",
        "/admin/claim/details/": "claim page",
        "/admin/claim/payment/": "record payment", "/admin/claim/money/patient-payment/": "patient payment",
        "/admin/claim/do/hold/": "hold claim", "/admin/claim/do/release/": "release claim",
        "/admin/unmatched/": "unmatched list", "/admin/unmatched/details/": "unmatched item",
        "/admin/remittance/": "remittances list", "/admin/remittance/details/": "remittance page",
        "/admin/remittance/upload/": "import 835", "/admin/reports/": "reports page",
        "/admin/reports/download": "download report",
    }
    name = names.get(path) or ("download export" if path.startswith("/admin/reports/exports/") else path)
    return f"{method} {name}"


# --- pages --------------------------------------------------------------------------------------------------

@dataclass
class Page:
    """The final answer of a request after its redirects."""

    status: int
    url: str
    text: str
    content: bytes
    content_type: str
    redirected: bool

    @property
    def flashes(self) -> list[tuple[str, str]]:
        return [(kind, _plain(body)) for kind, body in FLASH.findall(self.text)]

    def said(self, words: str) -> bool:
        return any(words in text for _, text in self.flashes)

    def form(self, action_part: str = "", *, having: str = "", marker: str = "") -> dict[str, str] | None:
        """The hidden and text inputs of the first form whose action contains `action_part`, whose tag carries
        `marker` and that has an input named `having`; the form's action is under "__action__"."""
        for attributes, body in FORM.findall(self.text):
            action = html.unescape(dict(ATTRIBUTE.findall(attributes)).get("action", ""))
            if action_part not in action or marker not in attributes:
                continue
            values = {"__action__": action or self.url}
            for tag in INPUT.findall(body):
                attrs = dict(ATTRIBUTE.findall(tag))
                if "name" in attrs and attrs.get("type") not in ("checkbox", "radio", "file"):
                    values[attrs["name"]] = html.unescape(attrs.get("value", ""))
            if not having or having in values:
                return values
        return None


def _plain(fragment: str) -> str:
    return " ".join(html.unescape(TAG.sub(" ", fragment)).replace("×", " ").split())


class Browser:
    """One logged-in person: a cookie jar, and every request timed into the shared stats."""

    def __init__(self, base_url: str, stats: Stats, *, timeout: float, cookies: httpx.Cookies | None = None) -> None:
        self.base_url, self.stats, self.timeout = base_url, stats, timeout
        self.client = httpx.AsyncClient(base_url=base_url, timeout=timeout, follow_redirects=False, cookies=cookies)

    def twin(self) -> Browser:
        """A second tab racing this one: the same session (cookies copied), its own flashes."""
        return Browser(self.base_url, self.stats, timeout=self.timeout, cookies=httpx.Cookies(self.client.cookies))

    async def close(self) -> None:
        await self.client.aclose()

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        kind, started = kind_of(method, url), time.perf_counter()
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.stats.samples.append(Sample(kind, None, time.perf_counter() - started, started))
            self.stats.errors.append(f"{kind} {url}: {type(exc).__name__}: {exc}")
            return None
        self.stats.samples.append(Sample(kind, response.status_code, time.perf_counter() - started, started))
        if response.status_code >= 400:
            self.stats.errors.append(f"{kind} {url}: HTTP {response.status_code}")
        return response

    async def go(self, method: str, url: str, **kwargs: Any) -> Page | None:
        """One request and the redirects it answers with (each timed as its own request)."""
        response = await self._send(method, url, **kwargs)
        redirected = False
        for _ in range(5):
            if response is None or not response.is_redirect:
                break
            redirected = True
            response = await self._send("GET", response.headers["location"])
        if response is None or response.status_code >= 400:
            return None
        return Page(response.status_code, str(response.url), response.text if _is_text(response) else "",
                    response.content, response.headers.get("content-type", ""), redirected)

    async def login(self, email: str, password: str) -> bool:
        page = await self.go("GET", "/login")
        form = page.form(having="csrf_token") if page else None
        if form is None:
            return False
        done = await self.go("POST", "/login", data={"csrf_token": form["csrf_token"], "email": email,
                                                      "password": password})
        return done is not None and urlsplit(done.url).path.startswith("/admin")


def _is_text(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/")


# --- the people ---------------------------------------------------------------------------------------------

@dataclass
class Settings:
    base_url: str
    think: float  # mean seconds between two actions of one user
    double_submit: float  # share of money forms submitted twice on purpose
    timeout: float


class User:
    def __init__(self, email: str, plan: LoadPlan, settings: Settings, stats: Stats, rng: random.Random) -> None:
        self.email, self.plan, self.settings, self.stats, self.rng = email, plan, settings, stats, rng
        self.browser = Browser(settings.base_url, stats, timeout=settings.timeout)

    async def login(self) -> bool:
        return await self.browser.login(self.email, self.plan.password)

    async def run(self, deadline: float) -> None:
        try:
            while time.perf_counter() < deadline:
                try:
                    await self.act()
                except Exception as exc:  # a bug of the client is reported; the others go on
                    self.stats.errors.append(f"load client: {self.email}: {type(exc).__name__}: {exc}")
                await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.settings.think)
        finally:
            await self.browser.close()

    async def act(self) -> None:
        raise NotImplementedError


class Biller(User):
    """Works queues and claims; posts payments (some twice on purpose), holds and releases, imports 835s."""

    def __init__(self, work: BillerPlan, *args: Any) -> None:
        super().__init__(work.email, *args)
        self.work = work
        self.held: list[int] = []

    async def act(self) -> None:
        actions = [(self.claims_list, 4), (self.claim_page, 4), (self.unmatched, 1), (self.remittances, 1),
                   (self.dashboard, 1)]
        if self.work.payments:
            actions.append((self.record_payment, 3))
        if any(owed >= 1 for owed in self.work.patient_owes.values()):
            actions.append((self.patient_payment, 2))
        if self.work.eras:
            actions.append((self.import_835, 1))
        if self.work.ready_claims or self.held:
            actions.append((self.hold_or_release, 2))
        action = self.rng.choices([a for a, _ in actions], [w for _, w in actions])[0]
        self.stats.counts[action.__name__] += 1
        await action()

    # --- reading --------------------------------------------------------------------------------------------
    async def claims_list(self) -> None:
        tab, page = self.rng.choice(CLAIM_TABS), self.rng.randint(0, 3)
        await self.browser.go("GET", f"/admin/claim/?status={tab}&page={page}")

    async def claim_page(self) -> None:
        await self.browser.go("GET", f"/admin/claim/details/?id={self.rng.choice(self.plan.claim_ids)}")

    async def unmatched(self) -> None:
        await self.browser.go("GET", "/admin/unmatched/")
        if self.plan.unmatched_ids:
            await self.browser.go("GET", f"/admin/unmatched/details/?id={self.rng.choice(self.plan.unmatched_ids)}")

    async def remittances(self) -> None:
        await self.browser.go("GET", "/admin/remittance/")
        if self.plan.remittance_ids:
            await self.browser.go("GET", f"/admin/remittance/details/?id={self.rng.choice(self.plan.remittance_ids)}")

    async def dashboard(self) -> None:
        await self.browser.go("GET", "/admin/")

    # --- money ----------------------------------------------------------------------------------------------
    async def record_payment(self) -> None:
        payment = self.work.payments.pop()
        page = await self.browser.go("GET", f"/admin/claim/payment/?id={payment.claim_id}")
        form = page.form(marker="data-record-payment", having="op_key") if page else None
        if form is None:
            self.stats.refused(f"Record payment form of {payment.number}", page)
            return
        data = _payment_data(form, payment)
        posted = await self._submit(form["__action__"], data, "Payment posted on", f"Payment on {payment.number}")
        if posted:
            self.stats.book.insurance[payment.claim_id] += payment.paid
            if payment.coinsurance > 0:  # the patient now owes the coinsurance: patient payments may follow
                self.work.patient_owes[payment.claim_id] = payment.coinsurance

    async def patient_payment(self) -> None:
        claim_id = self.rng.choice([c for c, owed in self.work.patient_owes.items() if owed >= 1])
        owed = self.work.patient_owes[claim_id]
        amount = min(owed, self.rng.choice([Decimal("5.00"), Decimal("10.00"), Decimal("12.34"), Decimal("20.00")]))
        page = await self.browser.go("GET", f"/admin/claim/details/?id={claim_id}")
        form = page.form("/money/patient-payment/", having="op_key") if page else None
        if form is None:
            self.stats.refused(f"Patient payment form of claim id {claim_id}", page)
            self.work.patient_owes.pop(claim_id)
            return
        data = {"csrf_token": form["csrf_token"], "op_key": form["op_key"], "amount": f"{amount:.2f}",
                "reason": "load test: card"}
        posted = await self._submit(form["__action__"], data, "Patient payment of", f"Patient payment on {claim_id}")
        if posted:
            self.stats.book.patient[claim_id] += amount
            self.work.patient_owes[claim_id] = owed - amount

    async def _submit(self, action: str, data: dict[str, str], success: str, what: str) -> bool:
        """POST a money form, sometimes twice with the same one-time key (in a row, or racing from a second tab);
        True when it posted. A form that posts twice is an error: the ledger would hold the money twice."""
        if self.rng.random() >= self.settings.double_submit:
            page = await self.browser.go("POST", action, data=data)
            if _outcome(page, success) == "posted":
                self.stats.counts["money posted"] += 1
                return True
            self.stats.refused(what, page)
            return False
        if self.rng.random() < 0.5:
            self.stats.counts["double submits, racing"] += 1
            twin = self.browser.twin()
            try:
                pages = await asyncio.gather(self.browser.go("POST", action, data=data),
                                             twin.go("POST", action, data=data))
            finally:
                await twin.close()
        else:
            self.stats.counts["double submits, in a row"] += 1
            pages = [await self.browser.go("POST", action, data=data), await self.browser.go("POST", action, data=data)]
        outcomes = [_outcome(p, success) for p in pages]
        posted, repeated = outcomes.count("posted"), outcomes.count("repeat")
        if posted == 1 and repeated == 1:
            self.stats.counts["double submits posted once"] += 1
            self.stats.counts["money posted"] += 1
            return True
        if posted > 1:
            self.stats.errors.append(f"{what}: a double submit posted {posted} times")
            return True  # believed once: the ledger comparison then shows the second posting
        self.stats.refused(f"{what} (double submit: {posted} posted, {repeated} repeats)",
                           next((p for p in pages if p is not None), None))
        return posted == 1

    async def import_835(self) -> None:
        upload = self.work.eras.pop()
        if await self._upload(upload, expect_duplicate=False):
            for claim_id, paid in upload.paid.items():
                self.stats.book.insurance[claim_id] += paid
            if self.rng.random() < self.settings.double_submit:  # the same file again: nothing may post
                self.stats.counts["835 sent again"] += 1
                await self._upload(upload, expect_duplicate=True)

    async def _upload(self, upload: EraUpload, *, expect_duplicate: bool) -> bool:
        page = await self.browser.go("GET", "/admin/remittance/upload/")
        form = page.form(marker="data-upload-form", having="csrf_token") if page else None
        if form is None:
            self.stats.refused(f"835 upload form for {upload.filename}", page)
            return False
        done = await self.browser.go("POST", form["__action__"], data={"csrf_token": form["csrf_token"]},
                                     files={"files": (upload.filename, upload.content, "text/plain")})
        if done is None:
            return False
        if expect_duplicate:
            if "data-duplicate" in done.text and "data-imported" not in done.text:
                self.stats.counts["835 repeats refused"] += 1
                return True
            self.stats.errors.append(f"835 {upload.filename} sent again was not refused as a duplicate")
            return False
        row = IMPORTED_ROW.search(done.text)
        cells = [_plain(c) for c in CELL.findall(row.group(1))] if row else []
        if len(cells) >= 6 and cells[4] == str(len(upload.paid)) and cells[5] == "0":
            self.stats.counts["835 files posted"] += 1
            return True
        self.stats.refusals.append(f"835 {upload.filename}: not posted whole: {cells or _plain(done.text)[-300:]}")
        return False

    # --- claim status ---------------------------------------------------------------------------------------
    async def hold_or_release(self) -> None:
        if self.held and (not self.work.ready_claims or self.rng.random() < 0.5):
            claim_id = self.held.pop(0)
            if await self._operate(claim_id, "release", {}, "now Ready"):
                self.work.ready_claims.append(claim_id)
            return
        claim_id = self.work.ready_claims.pop(0)
        if await self._operate(claim_id, "hold", {"reason": "load test: waiting for the referral"}, "now Held"):
            self.held.append(claim_id)

    async def _operate(self, claim_id: int, operation: str, extra: dict[str, str], success: str) -> bool:
        page = await self.browser.go("GET", f"/admin/claim/details/?id={claim_id}")
        form = page.form(f"/do/{operation}/", having="op_key") if page else None
        if form is None:
            self.stats.refused(f"{operation} button on claim id {claim_id}", page)
            return False
        done = await self.browser.go("POST", form["__action__"],
                                     data={"csrf_token": form["csrf_token"], "op_key": form["op_key"], **extra})
        if done is not None and done.said(success):
            self.stats.counts[f"claims {operation}"] += 1
            return True
        self.stats.refused(f"{operation} claim id {claim_id}", done)
        return False


def _outcome(page: Page | None, success: str) -> str:
    """Which of "posted", "repeat" (the one-time key was used: the flash quotes the first outcome) or "refused"."""
    if page is None:
        return "refused"
    if page.said("already submitted"):
        return "repeat"
    return "posted" if page.said(success) else "refused"


def _payment_data(form: dict[str, str], payment: FormPayment) -> dict[str, str]:
    data = {name: form[name] for name in ("csrf_token", "op_key", "paid_on", "payer_claim_number") if name in form}
    data |= {"memo": "load test: EOB", "do": "save"}
    for number, paid, coinsurance in payment.lines:
        data[f"line-{number}-paid"] = f"{paid:.2f}"
        data[f"line-{number}-allowed"] = f"{paid + coinsurance:.2f}"
        if coinsurance:
            data[f"line-{number}-coinsurance"] = f"{coinsurance:.2f}"
    return data


class Accountant(User):
    """Downloads Excel reports (built in the request, or by the scheduler when large) and finished exports."""

    async def act(self) -> None:
        page = await self.browser.go("GET", "/admin/reports/")
        if page is None:
            return
        exports = EXPORT_LINK.findall(page.text)
        if exports and self.rng.random() < 0.3:
            self.stats.counts["exports downloaded"] += 1
            done = await self.browser.go("GET", self.rng.choice(exports))
            if done is not None and not done.content.startswith(XLSX_MAGIC):
                self.stats.refused("finished export download", done)
            return
        form = page.form("/download", having="csrf_token")
        if form is None:
            self.stats.refused("reports form", page)
            return
        report = self.rng.choice(self.plan.reports)
        data = {"csrf_token": form["csrf_token"], "report": report}
        done = await self.browser.go("POST", form["__action__"], data=data)
        if done is None:
            return
        if done.content.startswith(XLSX_MAGIC) and "spreadsheetml" in done.content_type:
            self.stats.counts["reports downloaded"] += 1
        elif done.said("in the background"):
            self.stats.counts["reports queued for the scheduler"] += 1
        else:
            self.stats.refused(f"report {report}", done)


async def run_users(plan: LoadPlan, settings: Settings, duration: float, stats: Stats, *,
                    seed: int = 14) -> tuple[float, float, int]:
    """Log everyone in, then run them all for `duration` seconds: (start, end, users logged in)."""
    args = (plan, settings, stats)
    users: list[User] = [Biller(work, *args, random.Random(seed + n)) for n, work in enumerate(plan.billers)]
    users += [Accountant(email, *args, random.Random(seed + 1000 + n)) for n, email in enumerate(plan.accountants)]
    logged_in = await asyncio.gather(*(u.login() for u in users))
    for user, ok in zip(users, logged_in, strict=True):
        if not ok:
            stats.errors.append(f"login of {user.email} failed")
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(*(u.run(deadline) for u, ok in zip(users, logged_in, strict=True) if ok))
    return started, time.perf_counter(), sum(logged_in)
