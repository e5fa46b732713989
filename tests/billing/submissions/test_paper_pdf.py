"""The CMS-1500 read back from its PDF: every box holds what the 837P says about the same claim, at its grid cell.

Each scenario writes the 837P and the form from one set of claim facts, then compares the two by
reading both back: the PDF with pdfplumber (text and positions), the 837P by segment and element.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from PIL import Image

from billing.core.errors import Invalid
from billing.edi.claim_facts import ClaimFacts, Line
from billing.edi.x837p import write_837
from billing.submissions.paper.boxes import pages_for
from billing.submissions.paper.grid import BOXES, CELL_WIDTH, LINE_COLUMNS
from billing.submissions.paper.render import Layout, Mode, render
from tests.billing.edi.scenario_facts import ENVELOPE, PRIMARY, primary_claim, secondary_claim
from tests.billing.submissions.paper_reading import X12, FormPage, read_pdf

PRINTED_ON = date(2026, 3, 9)
LETTERS = "ABCDEFGHIJKL"


def dependent_claim() -> ClaimFacts:
    """2000C: the patient (a child) is not the subscriber (the parent)."""
    assert PRIMARY.relationship_code == "19"
    return primary_claim("C-000201")


def eight_line_claim() -> ClaimFacts:
    days = [date(2026, 3, d) for d in range(2, 10)]
    lines = tuple(
        Line(code, mods, Decimal(f"{60 + i}.{i:02d}"), i + 1, ((i % 2) + 1, 1) if i % 2 else (1,), day, "11")
        for i, (code, mods, day) in enumerate(zip(["97153", "97155", "97156", "97151"] * 2,
                                                  [("HN",), ("HO", "GT"), (), ("HP",)] * 2, days, strict=True))
    )  # fmt: skip
    total = sum((ln.charge for ln in lines), Decimal("0"))
    return replace(primary_claim("C-000202"), lines=lines, total=total, diagnoses=("F840", "F900"))


def corrected_claim() -> ClaimFacts:
    return replace(primary_claim("C-000203"), frequency_code="7", payer_claim_number="ICN2026030900123")


def void_claim() -> ClaimFacts:
    return replace(primary_claim("C-000204"), frequency_code="8", payer_claim_number="ICN2026030900456")


SCENARIOS = {"dependent": dependent_claim, "eight lines": eight_line_claim, "corrected": corrected_claim,
             "void": void_claim, "secondary": secondary_claim}  # fmt: skip


def _both(claim: ClaimFacts, layout: Layout | None = None) -> tuple[list[FormPage], X12]:
    layout = layout or Layout()
    pdf = render(pages_for(claim, PRINTED_ON), layout)
    x12 = X12(write_837(ENVELOPE, [claim]).text, claim.number)
    return read_pdf(pdf, (layout.offset_x, layout.offset_y)), x12


def _mmddyy(ccyymmdd: str, *, long: bool = False) -> str:
    day = datetime.strptime(ccyymmdd, "%Y%m%d")
    return day.strftime("%m %d %Y" if long else "%m %d %y")


def _amount(x12_amount: str) -> str:
    return f"{Decimal(x12_amount):.2f}".replace(".", " ")


def _name(nm1: list[str]) -> str:
    return f"{nm1[3]}, {nm1[4]}".upper()


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("mode", [Mode.DATA, Mode.PLAIN])
def test_every_header_box_holds_what_the_837p_holds(scenario, mode):
    claim = SCENARIOS[scenario]()
    pages, x12 = _both(claim, Layout(mode))
    clm = x12.one("CLM")
    subscriber, payer = x12.one("NM1", "IL", "head"), x12.one("NM1", "PR", "head")
    patient = x12.find("NM1", "QC", "head") or [subscriber]
    patient_dmg = x12.find("DMG", within="head")[-1]
    sbr = x12.one("SBR", "P" if claim.coverage.responsibility == "P" else claim.coverage.responsibility, "head")
    hi = [code.split(":")[1] for code in x12.one("HI")[1:]]
    for page in pages:
        assert page.box("26") == clm[1]  # CLM01: the patient's account number is our claim number
        assert page.box("13") == ("SIGNATURE ON FILE" if clm[8] == "Y" else "")  # box 13 is CLM08
        assert page.box("27_yes" if clm[7] == "A" else "27_no") == "X"  # box 27 is CLM07
        assert page.box("27_no" if clm[7] == "A" else "27_yes") == ""
        assert page.box("12") == ("SIGNATURE ON FILE" if clm[9] == "Y" else "")  # box 12 is CLM09
        assert page.box("1a") == subscriber[9]
        assert page.box("4") == _name(subscriber)
        assert page.box("2") == _name(patient[0])
        assert page.box("3_dob") == _mmddyy(patient_dmg[2], long=True)
        assert page.box("3_male" if patient_dmg[3] == "M" else "3_female") == "X"
        assert page.box("11") == sbr[3]
        assert page.box("11c") == payer[3].upper() == page.box("payer_name")
        assert page.box("6_child" if len(x12.find("PAT", within="head")) else "6_self") == "X"
        assert [page.box(f"21_{letter.lower()}") for letter in LETTERS[: len(hi)]] == hi
        assert page.box("21_ind") == "0"  # ABK/ABF: ICD-10-CM
        assert page.box("33a") == x12.one("NM1", "85", "billing")[9]
        assert page.box("25") == x12.one("REF", "EI", "billing")[2]
        assert page.box("25_ein") == "X"
        assert page.box("33b") == "ZZ" + x12.one("PRV", "BI", "billing")[3]
        frequency = clm[5].split(":")[2]
        if frequency in ("7", "8"):  # box 22 is CLM05-3 and REF*F8
            assert page.box("22_code") == frequency
            assert page.box("22_ref") == x12.one("REF", "F8")[2]
        else:
            assert page.box("22_code") == page.box("22_ref") == ""
    assert pages[-1].box("28") == _amount(clm[2])  # CLM02 on the last page


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_service_line_holds_its_sv1_in_order_six_a_page(scenario):
    claim = SCENARIOS[scenario]()
    pages, x12 = _both(claim)
    sent = x12.service_lines()
    assert [p.lines_used() for p in pages] == [min(6, len(sent) - 6 * i) for i in range(len(pages))]
    printed = [(page, i) for page in pages for i in range(page.lines_used())]
    assert len(printed) == len(sent)
    rendering = x12.find("NM1", "82")
    for (page, i), line_sent in zip(printed, sent, strict=True):
        sv1 = line_sent["sv1"]
        procedure = sv1[1].split(":")
        assert page.line(i, "24d_code") == procedure[1]
        assert [page.line(i, f"24d_mod{m}") for m in range(1, 5)] == (procedure[2:] + [""] * 4)[:4]
        assert page.line(i, "24f") == _amount(sv1[2])
        assert page.line(i, "24g") == sv1[4]
        assert page.line(i, "24e") == "".join(LETTERS[int(p) - 1] for p in sv1[7].split(":"))
        assert page.line(i, "24a_from") == page.line(i, "24a_to") == _mmddyy(line_sent["date"])
        assert page.line(i, "24b") == (x12.element(sv1, 5) or x12.one("CLM")[5].split(":")[0])
        assert page.line(i, "24j") == (rendering[0][9] if rendering else "")


def test_eight_lines_take_two_pages_and_only_the_last_carries_the_total():
    pages, x12 = _both(eight_line_claim())
    assert len(pages) == 2
    assert [p.lines_used() for p in pages] == [6, 2]
    assert pages[0].box("28") == "CONTINUED"
    assert pages[1].box("28") == _amount(x12.one("CLM")[2])
    assert pages[0].box("2") == pages[1].box("2")  # the header repeats on the continuation page


def test_a_secondary_claim_reports_the_primary_in_box_9_and_11d_as_loop_2320_does():
    claim = secondary_claim()
    pages, x12 = _both(claim)
    other_subscriber, other_payer = x12.one("NM1", "IL"), x12.one("NM1", "PR")  # 2330A and 2330B, after CLM
    other_sbr = x12.one("SBR", "P")  # 2320
    page = pages[0]
    assert page.box("11d_yes") == "X"
    assert page.box("11d_no") == ""
    assert page.box("9") == _name(other_subscriber)
    assert page.box("9a") == other_sbr[3]
    assert page.box("9d") == other_payer[3].upper()
    assert page.box("29") == _amount(x12.one("AMT", "D")[2])
    assert page.box("1_medicaid") == "X"  # SBR09 MC
    primary_pages, _ = _both(dependent_claim())
    assert primary_pages[0].box("11d_no") == "X"
    assert primary_pages[0].box("9") == ""


@pytest.mark.parametrize("mode", [Mode.DATA, Mode.PLAIN])
def test_values_start_at_their_grid_cell_within_a_quarter_character(mode):
    pages, _ = _both(eight_line_claim(), Layout(mode))
    page = pages[0]
    for key in ("1a", "2", "4", "26", "33a", "21_a", "21_b"):
        cell = BOXES[key]
        assert page.cell(cell).x == pytest.approx((cell.column - 1) * CELL_WIDTH, abs=CELL_WIDTH / 4), key
    cell = LINE_COLUMNS["24d_code"]
    found = page.cell(cell, 45)
    assert found.text
    assert found.x == pytest.approx((cell.column - 1) * CELL_WIDTH, abs=CELL_WIDTH / 4)
    charge = LINE_COLUMNS["24f"]  # amounts end at the cell's right edge
    found = page.cell(charge, 45)
    end = found.x + len(found.text) * CELL_WIDTH
    assert end == pytest.approx((charge.column - 1 + charge.width) * CELL_WIDTH, abs=CELL_WIDTH / 4)


def test_the_printer_offset_moves_every_value_and_nothing_else():
    plain, _ = _both(dependent_claim())
    moved, _ = _both(dependent_claim(), Layout(offset_x=7.2, offset_y=-6.0))
    for key in ("1a", "2", "13", "26", "28"):
        assert moved[0].box(key) == plain[0].box(key)
        assert moved[0].cell(BOXES[key]).x == pytest.approx(plain[0].cell(BOXES[key]).x + 7.2, abs=0.01)


def test_data_mode_prints_only_data_and_plain_mode_draws_the_labels():
    data_pages, _ = _both(dependent_claim())
    plain_pages, _ = _both(dependent_claim(), Layout(Mode.PLAIN))
    assert data_pages[0].labels == ""
    assert "INSURED'S ID NUMBER" in plain_pages[0].labels
    assert "HEALTH INSURANCE CLAIM FORM" in plain_pages[0].labels
    assert all(c["text"] == c["text"].upper() for c in data_pages[0].chars)


@pytest.mark.parametrize(("size", "offset"), [(9, 0), (13, 0), (10, 40), (10, float("nan")), (float("nan"), 0)])
def test_a_font_outside_10_to_12_points_or_a_wild_offset_is_refused(size, offset):
    with pytest.raises(Invalid):
        Layout(font_size=size, offset_x=offset)


def test_nothing_to_print_is_refused():
    with pytest.raises(Invalid, match="no claims"):
        render([])


PDFTOPPM = shutil.which("pdftoppm") or "pdftoppm"


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed")
@pytest.mark.parametrize("mode", [Mode.DATA, Mode.PLAIN])
def test_a_page_renders_to_a_png_that_is_not_blank(tmp_path, mode):
    source = tmp_path / "claims.pdf"
    source.write_bytes(render(pages_for(eight_line_claim(), PRINTED_ON), Layout(mode)))
    # S603: a fixed command line of this test's own, on a file it just wrote.
    subprocess.run([PDFTOPPM, "-png", "-r", "50", "-f", "1", "-l", "1", str(source), str(tmp_path / "page")],  # noqa: S603
                   check=True, timeout=60)  # fmt: skip
    [png] = tmp_path.glob("page*.png")
    image = Image.open(png).convert("L")
    assert image.size == (425, 550)  # letter at 50 dpi
    dark = sum(image.histogram()[:128])
    assert dark > 1000  # text (and, on plain paper, the boxes) reached the page
