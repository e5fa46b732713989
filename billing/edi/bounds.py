"""How much the 835 TR3 (005010X221A1) lets each segment carry; a file that carries more is refused, never cut.

Our parser reads fixed positions (CAS02-CAS19 as six adjustments, PLB03-PLB14 as six pairs, SVC01's eight
components). Whatever stands beyond them would be read by nobody and posted nowhere, so the whole file is
refused and the reason names the segment, the position and what is wrong. pyx12 does not stop this: it reports
"Too many elements" as an element-level finding (a warning) and crashes on too many components.

Empty elements or components beyond the bound carry nothing and are tolerated (some payers end segments with
a separator); any data there refuses the file.
"""

from __future__ import annotations

from collections.abc import Iterable

from billing.edi.segments import Delimiters

#: Segment id -> how many elements the TR3 defines for it (the same counts as pyx12's 835 map).
ELEMENTS_835 = {
    "ISA": 16,
    "GS": 8,
    "ST": 3,
    "BPR": 21,
    "TRN": 4,
    "CUR": 21,
    "REF": 4,
    "DTM": 6,
    "N1": 6,
    "N3": 2,
    "N4": 7,
    "PER": 9,
    "RDM": 5,
    "LX": 1,
    "TS3": 24,
    "TS2": 19,
    "CLP": 14,
    "CAS": 19,
    "NM1": 12,
    "MIA": 24,
    "MOA": 9,
    "AMT": 3,
    "QTY": 4,
    "SVC": 7,
    "LQ": 2,
    "PLB": 14,
    "SE": 2,
    "GE": 2,
    "IEA": 2,
    "TA1": 5,
}
#: (segment id, element position) -> how many components that composite has in the TR3.
COMPONENTS_835 = {
    ("SVC", 1): 8,
    ("SVC", 6): 8,
    **{("PLB", k): 2 for k in range(3, 14, 2)},
}
#: (segment id, element position) -> the TR3's maximum length, for the elements we keep: a longer value would be
#: cut to fit its column, and a cut check number or claim number is another one.
LENGTHS_835 = {
    ("BPR", 1): 2,
    ("BPR", 4): 3,
    ("TRN", 2): 50,
    ("TRN", 3): 10,
    ("N1", 2): 60,
    ("N1", 4): 80,
    ("REF", 2): 50,
    ("CLP", 1): 38,
    ("CLP", 2): 2,
    ("CLP", 7): 50,
    ("NM1", 3): 60,
    ("NM1", 4): 35,
    ("LQ", 2): 30,
    ("PLB", 1): 50,
    **{("CAS", k): 5 for k in range(2, 18, 3)},
    ("CAS", 1): 2,
}
#: (segment id, element position, component position) -> maximum length, as LENGTHS_835 for components.
COMPONENT_LENGTHS_835 = {
    ("SVC", 1, 2): 48,
    **{("SVC", 1, k): 2 for k in range(3, 7)},
    ("SVC", 6, 2): 48,
    **{("SVC", 6, k): 2 for k in range(3, 7)},
    **{("PLB", k, 1): 2 for k in range(3, 14, 2)},
    **{("PLB", k, 2): 50 for k in range(3, 14, 2)},
}


def beyond_835(segments: Iterable[list[str]], delims: Delimiters) -> list[str]:
    """Every place a segment of an 835 carries more than the TR3 allows, each as "segment N (ID): what"."""
    problems: list[str] = []
    for number, segment in enumerate(segments, start=1):
        tag = segment[0].strip().upper()
        allowed = ELEMENTS_835.get(tag)
        if allowed is not None and len(segment) - 1 > allowed:
            problems += _too_many_elements(segment, tag, f"segment {number} ({tag})")
        for position in _CHECKED.get(tag, ()):
            if position < len(segment):
                problems += _too_much_in_element(tag, position, segment[position], delims, f"segment {number} ({tag})")
    return problems


#: Segment id -> the positions whose length or components are bounded: the only ones looked at, so a file of
#: 10,000 claims is checked in a fraction of what parsing it costs.
_CHECKED = {
    tag: sorted({p for t, p in LENGTHS_835 if t == tag} | {p for t, p in COMPONENTS_835 if t == tag})
    for tag, _ in (*LENGTHS_835, *COMPONENTS_835)
}


def _too_many_elements(segment: list[str], tag: str, where: str) -> list[str]:
    allowed = ELEMENTS_835.get(tag)
    if allowed is None or len(segment) - 1 <= allowed:
        return []
    last = max(k for k, value in enumerate(segment) if k == 0 or value.strip())
    if last <= allowed:
        return []  # only empty elements past the end: nothing would be lost
    if tag == "CAS":
        adjustments = -(-(last - 1) // 3)
        return [
            f"{where}: {adjustments} adjustments in one CAS (data up to CAS{last:02d}); the TR3 allows 6 "
            f"(CAS02-04, 05-07, ... 17-19), a seventh must come in another CAS segment"
        ]
    if tag == "PLB":
        pairs = -(-(last - 2) // 2)
        return [
            f"{where}: {pairs} adjustments in one PLB (data up to PLB{last:02d}); the TR3 allows 6 "
            f"(PLB03-04 ... PLB13-14), more must come in another PLB segment"
        ]
    return [f"{where}: data up to {tag}{last:02d}, but the TR3 defines {allowed} elements ({tag}01-{tag}{allowed:02d})"]


def _too_much_in_element(tag: str, position: int, value: str, delims: Delimiters, where: str) -> list[str]:
    name = f"{tag}{position:02d}"
    problems = []
    length = LENGTHS_835.get((tag, position))
    if length is not None and len(value.strip()) > length:
        problems.append(f"{where}: {name} is {len(value.strip())} characters long, the TR3 allows {length}")
    allowed = COMPONENTS_835.get((tag, position))
    if allowed is None:
        return problems
    components = value.split(delims.component)
    last = max((k for k, c in enumerate(components, start=1) if c.strip()), default=0)
    if last > allowed:
        problems.append(
            f"{where}: {name} has data in component {last}, the TR3 defines {allowed} ({name}-1 to {name}-{allowed})"
        )
    for k, component in enumerate(components[:allowed], start=1):
        limit = COMPONENT_LENGTHS_835.get((tag, position, k))
        if limit is not None and len(component.strip()) > limit:
            problems.append(f"{where}: {name}-{k} is {len(component.strip())} characters long, the TR3 allows {limit}")
    return problems
