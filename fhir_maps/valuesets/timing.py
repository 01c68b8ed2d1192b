"""How often a draft order repeats: FHIR R4 ``Timing`` (SPEC 4 order checks).

``Timing.repeat`` gives ``frequency`` doses per ``period`` ``periodUnit`` (FHIR R4 units-of-time,
UCUM: s, min, h, d, wk, mo, a) and ``count``, the number of doses in all. ``Timing.code`` names
common schedules (FHIR R4 timing-abbreviation, from HL7 v3 GTSAbbreviation: BID, TID, QID, AM,
PM, QD, QOD, Q1H ... Q8H, BED, WK, MO); EHRs also send local codes and texts in that style
("Q12H", "Daily", "Once"), read when the whole text is one of them.
"""

from __future__ import annotations

import re

#: Days in one ``periodUnit`` (FHIR R4 units-of-time; a month is 30 days, a year 365).
DAYS_PER_UNIT: dict[str, float] = {
    "s": 1 / 86_400,
    "min": 1 / 1_440,
    "h": 1 / 24,
    "d": 1.0,
    "wk": 7.0,
    "mo": 30.0,
    "a": 365.0,
}

#: Doses a day of a schedule abbreviation (FHIR R4 timing-abbreviation; "DAILY" and "ONCE" are
#: the common local forms). "ONCE" is one dose in all, not one a day: see ``ONCE``.
DOSES_PER_DAY: dict[str, float] = {
    "QD": 1.0,
    "DAILY": 1.0,
    "AM": 1.0,
    "PM": 1.0,
    "BED": 1.0,
    "BID": 2.0,
    "TID": 3.0,
    "QID": 4.0,
    "QOD": 0.5,
    "WK": 1 / 7,
    "MO": 1 / 30,
}

#: A single dose ("once", "one time", "STAT", "NOW"): a count of 1.
ONCE = frozenset({"ONCE", "ONE TIME", "ONETIME", "STAT", "NOW"})

#: "Q6H", "Q 6 H", "q12h": every n hours.
EVERY_N_HOURS = re.compile(r"^Q\s*(\d{1,2})\s*H(?:R|RS)?$", re.IGNORECASE)
