"""Where each CMS-1500 (02/12) box's data goes, as rows and columns of the form's print grid.

The form is laid out for 10 characters an inch and 6 lines an inch: 85 columns by 66 rows on a letter
page, so one cell is 7.2 x 12 points. Every position below is (row, column, width in characters),
1-based from the top left, measured against the red OCR form. This is the one table both modes read:
data-only mode prints at these cells; plain-paper mode draws a labelled box around each one.
"""

from __future__ import annotations

from typing import NamedTuple

COLUMNS, ROWS = 85, 66
CELL_WIDTH, CELL_HEIGHT = 72 / 10, 72 / 6  # points
PAGE_WIDTH, PAGE_HEIGHT = COLUMNS * CELL_WIDTH, ROWS * CELL_HEIGHT  # 612 x 792: US letter
LINES_PER_PAGE = 6


class Cell(NamedTuple):
    row: int
    column: int
    width: int  # characters; longer values are cut, as the printed form has no more room
    label: str  # the box's caption, drawn in plain-paper mode
    right: bool = False  # amounts end at the cell's last column


#: Header boxes, repeated on every page of a claim.
BOXES: dict[str, Cell] = {
    "payer_name": Cell(2, 50, 34, "PAYER"),
    "payer_line1": Cell(3, 50, 34, ""),
    "payer_line2": Cell(4, 50, 34, ""),
    "payer_city": Cell(5, 50, 34, ""),
    "1_medicare": Cell(8, 2, 1, "1 MEDICARE"),
    "1_medicaid": Cell(8, 9, 1, "MEDICAID"),
    "1_tricare": Cell(8, 16, 1, "TRICARE"),
    "1_champva": Cell(8, 25, 1, "CHAMPVA"),
    "1_group": Cell(8, 32, 1, "GROUP"),
    "1_feca": Cell(8, 40, 1, "FECA"),
    "1_other": Cell(8, 46, 1, "OTHER"),
    "1a": Cell(8, 50, 29, "1a INSURED'S ID NUMBER"),
    "2": Cell(10, 2, 28, "2 PATIENT'S NAME"),
    "3_dob": Cell(10, 31, 10, "3 BIRTH DATE"),
    "3_male": Cell(10, 42, 1, "M"),
    "3_female": Cell(10, 47, 1, "F"),
    "4": Cell(10, 50, 29, "4 INSURED'S NAME"),
    "5_street": Cell(12, 2, 28, "5 PATIENT'S ADDRESS"),
    "6_self": Cell(12, 33, 1, "6 SELF"),
    "6_spouse": Cell(12, 38, 1, "SPOUSE"),
    "6_child": Cell(12, 42, 1, "CHILD"),
    "6_other": Cell(12, 47, 1, "OTHER"),
    "7_street": Cell(12, 50, 29, "7 INSURED'S ADDRESS"),
    "5_city": Cell(14, 2, 24, "CITY"),
    "5_state": Cell(14, 27, 3, "STATE"),
    "7_city": Cell(14, 50, 23, "CITY"),
    "7_state": Cell(14, 74, 3, "STATE"),
    "5_zip": Cell(16, 2, 12, "ZIP CODE"),
    "7_zip": Cell(16, 50, 12, "ZIP CODE"),
    "9": Cell(18, 2, 28, "9 OTHER INSURED'S NAME"),
    "11": Cell(18, 50, 29, "11 INSURED'S GROUP NUMBER"),
    "9a": Cell(20, 2, 28, "9a OTHER POLICY OR GROUP"),
    "10a_yes": Cell(20, 35, 1, "10a EMPLOYMENT YES"),
    "10a_no": Cell(20, 41, 1, "NO"),
    "11a_dob": Cell(20, 53, 10, "11a INSURED'S BIRTH DATE"),
    "11a_male": Cell(20, 69, 1, "M"),
    "11a_female": Cell(20, 75, 1, "F"),
    "10b_yes": Cell(22, 35, 1, "10b AUTO ACCIDENT YES"),
    "10b_no": Cell(22, 41, 1, "NO"),
    "10c_yes": Cell(24, 35, 1, "10c OTHER ACCIDENT YES"),
    "10c_no": Cell(24, 41, 1, "NO"),
    "11c": Cell(24, 50, 29, "11c INSURANCE PLAN NAME"),
    "9d": Cell(26, 2, 28, "9d OTHER PLAN NAME"),
    "11d_yes": Cell(26, 52, 1, "11d OTHER PLAN YES"),
    "11d_no": Cell(26, 57, 1, "NO"),
    "12": Cell(30, 6, 24, "12 PATIENT'S SIGNATURE"),
    "12_date": Cell(30, 36, 10, "DATE"),
    "13": Cell(30, 56, 24, "13 INSURED'S SIGNATURE"),
    "21_ind": Cell(38, 34, 1, "21 ICD IND"),
    "21_a": Cell(39, 3, 8, "A"),
    "21_b": Cell(39, 16, 8, "B"),
    "21_c": Cell(39, 29, 8, "C"),
    "21_d": Cell(39, 42, 8, "D"),
    "21_e": Cell(40, 3, 8, "E"),
    "21_f": Cell(40, 16, 8, "F"),
    "21_g": Cell(40, 29, 8, "G"),
    "21_h": Cell(40, 42, 8, "H"),
    "21_i": Cell(41, 3, 8, "I"),
    "21_j": Cell(41, 16, 8, "J"),
    "21_k": Cell(41, 29, 8, "K"),
    "21_l": Cell(41, 42, 8, "L"),
    "22_code": Cell(39, 51, 10, "22 RESUBMISSION CODE"),
    "22_ref": Cell(39, 63, 18, "ORIGINAL REF. NO."),
    "23": Cell(41, 51, 29, "23 PRIOR AUTHORIZATION"),
    "25": Cell(57, 2, 15, "25 FEDERAL TAX I.D."),
    "25_ssn": Cell(57, 18, 1, "SSN"),
    "25_ein": Cell(57, 20, 1, "EIN"),
    "26": Cell(57, 23, 14, "26 PATIENT'S ACCOUNT NO."),
    "27_yes": Cell(57, 38, 1, "27 ASSIGNMENT YES"),
    "27_no": Cell(57, 43, 1, "NO"),
    "28": Cell(57, 50, 10, "28 TOTAL CHARGE", right=True),
    "29": Cell(57, 62, 9, "29 AMOUNT PAID", right=True),
    "31_name": Cell(60, 2, 20, "31 SIGNATURE OF PHYSICIAN"),
    "31_date": Cell(61, 2, 10, "DATE"),
    "32_name": Cell(59, 23, 26, "32 SERVICE FACILITY"),
    "32_street": Cell(60, 23, 26, ""),
    "32_city": Cell(61, 23, 26, ""),
    "32a": Cell(62, 23, 10, "32a NPI"),
    "33_phone": Cell(58, 66, 14, "33 PHONE"),
    "33_name": Cell(59, 50, 30, "33 BILLING PROVIDER"),
    "33_street": Cell(60, 50, 30, ""),
    "33_city": Cell(61, 50, 30, ""),
    "33a": Cell(62, 51, 10, "33a NPI"),
    "33b": Cell(62, 62, 17, "33b OTHER ID"),
}

#: The rows of the six service lines (the unshaded half of each; the shaded half is the row above).
LINE_ROWS = (45, 47, 49, 51, 53, 55)

#: Columns of box 24. `row` is relative to the line's row: 0 the unshaded half, -1 the shaded half above it.
LINE_COLUMNS: dict[str, Cell] = {
    "24a_from": Cell(0, 2, 8, "24A FROM"),
    "24a_to": Cell(0, 11, 8, "TO"),
    "24b": Cell(0, 20, 2, "B POS"),
    "24c": Cell(0, 23, 1, "C EMG"),
    "24d_code": Cell(0, 25, 6, "D CPT/HCPCS"),
    "24d_mod1": Cell(0, 32, 2, "MODIFIER"),
    "24d_mod2": Cell(0, 35, 2, ""),
    "24d_mod3": Cell(0, 38, 2, ""),
    "24d_mod4": Cell(0, 41, 2, ""),
    "24e": Cell(0, 44, 4, "E DX PTR"),
    "24f": Cell(0, 49, 9, "F CHARGES", right=True),
    "24g": Cell(0, 60, 4, "G UNITS", right=True),
    "24i": Cell(-1, 66, 2, "I QUAL"),
    "24j_other": Cell(-1, 70, 11, "J RENDERING ID"),
    "24j": Cell(0, 70, 11, "NPI"),
}
