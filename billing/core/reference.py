"""Code lists from the X12 and CMS references that forms offer as choices."""

from __future__ import annotations

# CMS place-of-service codes a therapy practice uses.
PLACES_OF_SERVICE: dict[str, str] = {
    "02": "Telehealth other than in the patient's home",
    "03": "School",
    "10": "Telehealth in the patient's home",
    "11": "Office",
    "12": "Home",
    "19": "Off-campus outpatient hospital",
    "22": "On-campus outpatient hospital",
    "49": "Independent clinic",
    "53": "Community mental health center",
    "99": "Other place of service",
}

# 837P SBR09 claim filing indicator codes.
CLAIM_FILING_INDICATORS: dict[str, str] = {
    "09": "Self-pay",
    "11": "Other non-federal programs",
    "12": "Preferred provider organization (PPO)",
    "13": "Point of service (POS)",
    "14": "Exclusive provider organization (EPO)",
    "15": "Indemnity insurance",
    "16": "Health maintenance organization (HMO) Medicare risk",
    "17": "Dental maintenance organization",
    "AM": "Automobile medical",
    "BL": "Blue Cross/Blue Shield",
    "CH": "CHAMPUS (TRICARE)",
    "CI": "Commercial insurance",
    "DS": "Disability",
    "FI": "Federal employees program",
    "HM": "Health maintenance organization",
    "LM": "Liability medical",
    "MA": "Medicare Part A",
    "MB": "Medicare Part B",
    "MC": "Medicaid",
    "OF": "Other federal program",
    "TV": "Title V",
    "VA": "Veterans Affairs plan",
    "WC": "Workers' compensation",
    "ZZ": "Mutually defined",
}

US_STATES: tuple[str, ...] = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "PR", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA",
    "WA", "WV", "WI", "WY", "GU", "VI", "AS", "MP",
)
