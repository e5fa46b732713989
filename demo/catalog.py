"""The fixed parts of the demo practice: organisation, payers, codes, rates, names and diagnoses.

Plain data only; billing/demo/seed.py turns it into rows. Every value here must pass the project's
own checks (billing/*/checks.py), which tests/billing/test_demo_seed.py verifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from billing.coverage.models import PayerType, RoundingRule

LEGAL_NAME = "Bright Path Therapy Group LLC"  # how a second run recognises the demo
DEMO_PASSWORD = "demo"  # noqa: S105 - documented demo login, deliberately short (README)

#: (email, role, display name): one login per role.
DEMO_LOGINS: tuple[tuple[str, str, str], ...] = (
    ("admin@example.com", "admin", "Alex Rivera"),
    ("manager@example.com", "office_manager", "Jordan Whitaker"),
    ("biller@example.com", "biller", "Casey Morgan"),
    ("accountant@example.com", "accountant", "Taylor Brooks"),
)

COMPANY = {
    "legal_name": LEGAL_NAME,
    "tax_id": "364871920",
    "taxonomy_code": "193200000X",  # multi-specialty group
    "phone": "6305550100",
    "address_line1": "1250 E Diehl Rd",
    "address_line2": "Suite 300",
    "city": "Naperville",
    "state": "IL",
    "zip_code": "605634813",  # 837P loop 2010AA wants ZIP+4
    # Payments go to a lockbox, not the office: this is what loop 2010AB is for.
    "pay_to_address_line1": "PO Box 4470",
    "pay_to_city": "Naperville",
    "pay_to_state": "IL",
    "pay_to_zip_code": "605674470",
}
GROUP_NPI_BASE = "142578930"


@dataclass(frozen=True)
class LocationSpec:
    key: str
    practice: str
    name: str
    place_of_service: str
    facility_npi_base: str | None
    address_line1: str
    city: str
    zip_code: str
    phone: str


PRACTICES = ("Bright Path ABA & Behavioral Health", "Bright Path Rehab (PT/OT/Speech)")
LOCATIONS: tuple[LocationSpec, ...] = (
    LocationSpec("clinic", PRACTICES[0], "Naperville Clinic", "11", "153829046",
                 "1250 E Diehl Rd Ste 300", "Naperville", "605634813", "6305550101"),
    # In-home ABA is billed from a program "location" whose default place of service is the home.
    LocationSpec("home", PRACTICES[0], "Home & Community Program", "12", None,
                 "1250 E Diehl Rd Ste 310", "Naperville", "605634813", "6305550102"),
    LocationSpec("rehab", PRACTICES[1], "Aurora Rehab Clinic", "11", "154729305",
                 "2840 Ogden Ave", "Aurora", "605047261", "6305550103"),
)


@dataclass(frozen=True)
class PayerSpec:
    key: str
    name: str
    payer_type: PayerType
    claim_filing_indicator: str
    edi_payer_id: str | None
    requires_authorization: bool
    address_line1: str
    city: str
    state: str
    zip_code: str
    rate_factor: Decimal | None  # share of the practice's standard charge the payer allows; None: no schedule
    member_prefix: str


PAYERS: tuple[PayerSpec, ...] = (
    PayerSpec("medicaid", "Illinois Medicaid (HFS)", PayerType.MEDICAID, "MC", "ILMCD", True,
              "PO Box 19105", "Springfield", "IL", "627949105", Decimal("0.55"), ""),
    PayerSpec("medicare", "Medicare Part B (NGS)", PayerType.MEDICARE, "MB", "06102", False,
              "PO Box 6475", "Indianapolis", "IN", "462066475", Decimal("0.65"), ""),
    PayerSpec("bcbs", "Blue Cross Blue Shield of Illinois", PayerType.COMMERCIAL, "BL", "00621", True,
              "PO Box 805107", "Chicago", "IL", "606805107", Decimal("0.85"), "XOF"),
    PayerSpec("aetna", "Aetna", PayerType.COMMERCIAL, "CI", "60054", True,
              "PO Box 981106", "El Paso", "TX", "799981106", Decimal("0.80"), "W"),
    PayerSpec("uhc", "UnitedHealthcare", PayerType.COMMERCIAL, "12", "87726", False,
              "PO Box 30555", "Salt Lake City", "UT", "841300555", Decimal("0.78"), ""),
    PayerSpec("self", "Self-pay", PayerType.SELF_PAY, "09", None, False,
              "1250 E Diehl Rd", "Naperville", "IL", "605634813", None, ""),
)


@dataclass(frozen=True)
class CodeSpec:
    code: str
    description: str
    rounding: RoundingRule
    default_modifiers: str
    standard_charge: Decimal  # per unit, the practice default schedule


CODES: tuple[CodeSpec, ...] = (
    # ABA (CPT 97151-97158): 15-minute units, only completed units bill. HN = bachelor's level
    # technician, HO = master's level (BCBA), as many Medicaid programs require.
    CodeSpec("97151", "Behavior identification assessment by QHP, each 15 min", RoundingRule.WHOLE_UNITS,
             "HO", Decimal("45.00")),
    CodeSpec("97153", "Adaptive behavior treatment by protocol by technician, each 15 min",
             RoundingRule.WHOLE_UNITS, "HN", Decimal("30.00")),
    CodeSpec("97155", "Adaptive behavior treatment with protocol modification by QHP, each 15 min",
             RoundingRule.WHOLE_UNITS, "HO", Decimal("40.00")),
    CodeSpec("97156", "Family adaptive behavior treatment guidance by QHP, each 15 min",
             RoundingRule.WHOLE_UNITS, "HO", Decimal("35.00")),
    # Timed PT/OT codes follow the CMS 8-minute rule; GP/GO mark the therapy plan of care.
    CodeSpec("97110", "Therapeutic exercises, each 15 min", RoundingRule.CMS_8_MINUTE, "GP", Decimal("45.00")),
    CodeSpec("97112", "Neuromuscular reeducation, each 15 min", RoundingRule.CMS_8_MINUTE, "GP", Decimal("48.00")),
    CodeSpec("97530", "Therapeutic activities, each 15 min", RoundingRule.CMS_8_MINUTE, "GO", Decimal("50.00")),
    CodeSpec("97140", "Manual therapy techniques, each 15 min", RoundingRule.CMS_8_MINUTE, "GP", Decimal("42.00")),
    # Untimed codes: one unit per visit whatever the length.
    CodeSpec("97161", "Physical therapy evaluation, low complexity", RoundingRule.PER_VISIT, "GP",
             Decimal("150.00")),
    CodeSpec("97165", "Occupational therapy evaluation, low complexity", RoundingRule.PER_VISIT, "GO",
             Decimal("155.00")),
    CodeSpec("92507", "Treatment of speech, language, voice or communication disorder", RoundingRule.PER_VISIT,
             "GN", Decimal("120.00")),
    CodeSpec("92523", "Evaluation of speech sound production with language comprehension", RoundingRule.PER_VISIT,
             "GN", Decimal("250.00")),
    CodeSpec("90837", "Psychotherapy, 60 minutes with patient", RoundingRule.PER_VISIT, "", Decimal("175.00")),
    CodeSpec("90834", "Psychotherapy, 45 minutes with patient", RoundingRule.PER_VISIT, "", Decimal("130.00")),
)
ABA_CODES = frozenset({"97151", "97153", "97155", "97156"})
#: Medicare does not cover ABA, so its schedule leaves those codes out.
MEDICARE_EXCLUDED = ABA_CODES

#: Payer-specific rates for a code with modifiers: (payer key, code, modifiers, rate).
#: Illinois-style Medicaid pays ABA by the technician's level; telehealth psychotherapy (95) at parity.
MODIFIER_RATES: tuple[tuple[str, str, str, Decimal], ...] = (
    ("medicaid", "97153", "HM", Decimal("14.50")),
    ("medicaid", "97153", "HN", Decimal("16.75")),
    ("medicaid", "97155", "HO", Decimal("23.10")),
    ("medicaid", "97156", "HO", Decimal("20.25")),
    ("bcbs", "90837", "95", Decimal("148.75")),
)


@dataclass(frozen=True)
class SessionClassSpec:
    name: str
    description: str
    weight: int  # how often a cancellation is of this kind
    note: str


SESSION_CLASSES: tuple[SessionClassSpec, ...] = (
    SessionClassSpec("No-show", "The client did not come and did not call.", 4,
                     "Client did not arrive; called the contact on file, left a voicemail."),
    SessionClassSpec("Late cancel", "Cancelled less than 24 hours ahead.", 4,
                     "Cancelled the same morning: client unwell."),
    SessionClassSpec("Provider cancel", "The provider could not attend; not the client's fault.", 2,
                     "Provider out sick; office offered a make-up session."),
    SessionClassSpec("Weather closure", "The office closed for weather.", 1,
                     "Office closed for snow; all sessions cancelled."),
)


@dataclass(frozen=True)
class ProviderSpec:
    discipline: str  # bcba, rbt, pt, ot, slp, lcsw
    credentials: str
    taxonomy_code: str


#: One cohort's staff; `--scale N` hires N cohorts.
PROVIDERS: tuple[ProviderSpec, ...] = (
    ProviderSpec("bcba", "BCBA", "103K00000X"),
    ProviderSpec("rbt", "RBT", "106S00000X"),
    ProviderSpec("rbt", "RBT", "106S00000X"),
    ProviderSpec("rbt", "RBT", "106S00000X"),
    ProviderSpec("pt", "PT, DPT", "225100000X"),
    ProviderSpec("ot", "OTR/L", "225X00000X"),
    ProviderSpec("slp", "CCC-SLP", "235Z00000X"),
    ProviderSpec("lcsw", "LCSW", "1041C0700X"),
)
PROVIDER_NPI_FIRST_BASE = 163052000  # providers take bases from here, 7 apart

# (ICD-10-CM as written on a chart, description); stored without the dot.
DIAGNOSES: dict[str, tuple[str, str]] = {
    "F84.0": ("F84.0", "Autistic disorder"),
    "F80.0": ("F80.0", "Phonological disorder"),
    "F80.1": ("F80.1", "Expressive language disorder"),
    "F80.2": ("F80.2", "Mixed receptive-expressive language disorder"),
    "F80.81": ("F80.81", "Childhood onset fluency disorder"),
    "F82": ("F82", "Specific developmental disorder of motor function"),
    "F88": ("F88", "Other disorders of psychological development"),
    "F90.2": ("F90.2", "ADHD, combined type"),
    "R27.8": ("R27.8", "Other lack of coordination"),
    "R48.2": ("R48.2", "Apraxia"),
    "R62.50": ("R62.50", "Lack of expected normal physiological development in childhood"),
    "M54.50": ("M54.50", "Low back pain, unspecified"),
    "M54.2": ("M54.2", "Cervicalgia"),
    "M25.561": ("M25.561", "Pain in right knee"),
    "M62.81": ("M62.81", "Muscle weakness (generalized)"),
    "R26.2": ("R26.2", "Difficulty in walking, not elsewhere classified"),
    "R26.89": ("R26.89", "Other abnormalities of gait and mobility"),
    "Z91.81": ("Z91.81", "History of falling"),
    "F41.1": ("F41.1", "Generalized anxiety disorder"),
    "F32.1": ("F32.1", "Major depressive disorder, single episode, moderate"),
    "F33.1": ("F33.1", "Major depressive disorder, recurrent, moderate"),
    "F43.10": ("F43.10", "Post-traumatic stress disorder, unspecified"),
    "F43.23": ("F43.23", "Adjustment disorder with mixed anxiety and depressed mood"),
}

BOY_NAMES = (
    "Liam", "Noah", "Oliver", "Elijah", "Mateo", "Lucas", "Levi", "Ezra", "Asher", "Leo", "James", "Luca",
    "Henry", "Hudson", "Ethan", "Muhammad", "Jack", "Sebastian", "Julian", "Aiden", "Owen", "Samuel", "Kai",
    "Mason", "Theo", "Jayden", "Daniel", "Caleb", "Isaiah", "Gabriel", "Miles", "Adrian", "Diego", "Arjun",
)
GIRL_NAMES = (
    "Olivia", "Emma", "Charlotte", "Amelia", "Sophia", "Mia", "Isabella", "Ava", "Evelyn", "Luna", "Harper",
    "Sofia", "Camila", "Eleanor", "Elizabeth", "Violet", "Scarlett", "Emily", "Hazel", "Lily", "Gianna",
    "Aurora", "Penelope", "Aria", "Nora", "Chloe", "Ellie", "Mila", "Avery", "Layla", "Priya", "Zoe", "Maya",
)
MEN_NAMES = (
    "Michael", "David", "John", "Robert", "Christopher", "Joseph", "Brian", "Kevin", "Jason", "Matthew",
    "Anthony", "Mark", "Steven", "Paul", "Andrew", "Jose", "Thomas", "Eric", "Ryan", "Gregory", "Raj",
    "Carlos", "Darnell", "Patrick", "Frank", "Gary", "Dennis", "Walter", "Harold", "Roger", "Wei", "Tomasz",
)
WOMEN_NAMES = (
    "Jennifer", "Jessica", "Sarah", "Ashley", "Amanda", "Stephanie", "Nicole", "Melissa", "Elizabeth", "Lauren",
    "Rachel", "Megan", "Maria", "Angela", "Laura", "Michelle", "Kimberly", "Rebecca", "Linda", "Patricia",
    "Barbara", "Susan", "Karen", "Donna", "Carol", "Sharon", "Aisha", "Anita", "Mei", "Guadalupe", "Agnieszka",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
    "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Kowalski",
    "Nowak", "Patel", "Shah", "Kim", "Chen", "Wang", "O'Brien", "Murphy", "Sullivan", "Novak", "Okafor",
)
STREETS = (
    "Maple Ave", "Ogden Ave", "Washington St", "Chicago Ave", "Jefferson Ave", "Columbia St", "Gartner Rd",
    "Hobson Rd", "Ridgeland Ave", "Montgomery Rd", "Galena Blvd", "Farnsworth Ave", "Eola Rd", "Liberty St",
    "Aurora Ave", "Bailey Rd", "Plainfield Rd", "Royce Rd", "Book Rd", "Knoch Knolls Rd",
)
#: (city, ZIP) pairs near the two clinics.
TOWNS = (
    ("Naperville", "60540"), ("Naperville", "60563"), ("Naperville", "60565"), ("Aurora", "60504"),
    ("Aurora", "60505"), ("Aurora", "60506"), ("Lisle", "60532"), ("Warrenville", "60555"),
    ("Plainfield", "60586"), ("Bolingbrook", "60440"),
)
AREA_CODES = ("630", "331", "630", "815")


@dataclass(frozen=True)
class VisitSpec:
    """A kind of visit a program's clients have, and how often."""

    #: (code, possible minutes); with several, `per_visit_code` says whether each visit picks one
    #: (PT varies the treatment) or each client keeps one (a psychotherapy client has one session length).
    options: tuple[tuple[str, tuple[int, ...]], ...]
    discipline: str
    per_week: tuple[int, ...] = (1,)  # standing appointments a week; each client draws one
    every_weeks: int = 1  # 2: every other week; 4: monthly
    share: float = 1.0  # fraction of the program's clients who get this visit at all
    once: bool = False  # a single visit early in the window (an evaluation or reassessment)
    per_visit_code: bool = False


@dataclass(frozen=True)
class ProgramSpec:
    """One kind of client: who they are, where they are seen, what they have, who sees them."""

    key: str
    clients: int  # per cohort of 60
    minor: bool
    ages: tuple[int, int]
    locations: tuple[str, ...]  # location keys, one drawn per client
    primary_diagnoses: tuple[str, ...]
    other_diagnoses: tuple[str, ...]
    visits: tuple[VisitSpec, ...]
    male_share: float = 0.5
    #: Overrides the code's default modifier: 97110 is GP for PT but GO under an OT plan of care.
    modifiers: str | None = None
    telehealth_share: float = 0.0  # clients seen by video (modifier 95, place of service 10)


_ABA = ProgramSpec(
    "aba", 16, True, (2, 12), ("clinic", "clinic", "home"), ("F84.0",), ("F80.2", "F90.2", "F88"),
    (
        VisitSpec((("97153", (120, 150, 180)),), "rbt", per_week=(2, 2, 2, 3)),
        VisitSpec((("97155", (60,)),), "bcba", every_weeks=2),
        VisitSpec((("97156", (60,)),), "bcba", every_weeks=4, share=0.8),
        VisitSpec((("97151", (120,)),), "bcba", once=True, share=0.3),
    ),
    male_share=0.78,
)
_SPEECH = ProgramSpec(
    "speech", 14, True, (2, 10), ("rehab",), ("F80.2", "F80.1", "F80.0", "R48.2", "F80.81"), ("F84.0", "F90.2"),
    (
        VisitSpec((("92507", (30, 45, 45)),), "slp"),
        VisitSpec((("92523", (60,)),), "slp", once=True, share=0.25),
    ),
    male_share=0.6,
)
_OT = ProgramSpec(
    "ot", 10, True, (3, 12), ("rehab",), ("F82", "R27.8", "R62.50"), ("F84.0", "F90.2", "F88"),
    (
        VisitSpec((("97530", (38, 45, 45, 53)), ("97110", (30, 45))), "ot", per_visit_code=True),
        VisitSpec((("97165", (60,)),), "ot", once=True, share=0.2),
    ),
    male_share=0.6,
    modifiers="GO",
)
_PT = ProgramSpec(
    "pt", 12, False, (24, 86), ("rehab",), ("M54.50", "M25.561", "M62.81", "R26.89", "M54.2"),
    ("R26.2", "Z91.81", "M62.81"),
    (
        VisitSpec(
            (("97110", (30, 38, 45, 53)), ("97112", (30, 38)), ("97140", (23, 30)), ("97530", (38, 45))),
            "pt",
            per_visit_code=True,
        ),
        VisitSpec((("97161", (45,)),), "pt", once=True, share=0.25),
    ),
    modifiers="GP",
)
_PSYCH = ProgramSpec(
    "psych", 8, False, (19, 68), ("clinic",), ("F41.1", "F32.1", "F33.1", "F43.10", "F43.23"), ("F41.1",),
    (VisitSpec((("90837", (55, 60)), ("90834", (45,))), "lcsw"),),
    male_share=0.4,
    telehealth_share=0.3,
)
PROGRAMS: tuple[ProgramSpec, ...] = (_ABA, _SPEECH, _OT, _PT, _PSYCH)
CLIENTS_PER_COHORT = sum(p.clients for p in PROGRAMS)


def payer_spec(key: str) -> PayerSpec:
    return next(p for p in PAYERS if p.key == key)


#: Note templates per service code ({first}: client's first name, {p}: a percentage, {n}: trials).
NOTES: dict[str, tuple[str, ...]] = {
    "97153": (
        "{first} worked on manding, tacting and receptive ID in DTT and NET; {p}% independent across {n} trials.",
        "Transitions and waiting practiced with a visual timer; {p}% of transitions without problem behavior.",
        "Toileting and hand-washing routine: {p}% of steps independent; one prompt fade step taken.",
        "Peer play with turn-taking in the social group; {first} initiated {n} bids, {p}% appropriate.",
    ),
    "97155": (
        "Directed the technician with {first}; changed the prompt hierarchy for two targets ({p}% mastery).",
        "Reviewed graphs, added three new receptive targets and retired {n} mastered ones.",
    ),
    "97156": (
        "Caregiver training: practiced first-then language and planned ignoring; caregiver fidelity {p}%.",
        "Reviewed the home token economy with the caregiver; {n} role-play rounds, fidelity {p}%.",
    ),
    "97151": ("Reassessment for the next authorization: VB-MAPP and FBA interviews; treatment plan updated.",),
    "92507": (
        "{first} produced /s/ and /z/ in initial position at word level, {p}% accuracy over {n} trials.",
        "Expressive language: two-word combinations with modelling, {p}% accuracy; caregiver given home practice.",
        "Fluency: easy onsets in structured conversation, {p}% fluent utterances.",
    ),
    "92523": ("Speech and language evaluation (GFTA-3, PLS-5); plan of care with goals sent for signature.",),
    "97530": (
        "Fine motor: scissor skills and pencil grasp, {p}% of trials with minimal cues.",
        "Sensory-motor obstacle course, {n} rounds; regulation strategies used independently {p}% of the time.",
    ),
    "97110": (
        "Therapeutic exercise: strengthening and ROM program, {n} reps x 3 sets; pain 3/10 after.",
        "Core and hip strengthening progressed; {first} completed {p}% of the program without cues.",
    ),
    "97112": ("Balance and proprioception training on foam and in tandem stance; {p}% of trials steady.",),
    "97140": ("Manual therapy: joint mobilization and soft tissue work; ROM improved, pain down 2 points.",),
    "97161": ("Physical therapy evaluation; plan of care 2x/week for 8 weeks sent to the referring physician.",),
    "97165": ("Occupational therapy evaluation (BOT-2, sensory profile); plan of care sent for signature.",),
    "90837": (
        "CBT session: reviewed thought record, practiced cognitive restructuring; PHQ-9 and GAD-7 repeated.",
        "Explored triggers and coping plan; homework: {n} behavioral activation tasks this week.",
    ),
    "90834": (
        "Session focused on sleep hygiene and worry time; client reports {p}% of days with practice.",
        "Reviewed safety plan (no current risk) and grounding skills; homework assigned.",
    ),
}
NOTE_ENDINGS = (
    "Continue current plan.", "Progress toward goals documented.", "Will probe new targets next visit.",
    "Client engaged well throughout.", "Data entered; next visit as scheduled.",
)
