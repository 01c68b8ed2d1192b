"""Neurologic assessments: GCS (SPEC 2.5), and for ICANS (SPEC 2.9) the ICE score, the CAPD
(children under 12), RASS (level of consciousness), ICE and CAPD items charted as rows of their
own, and neurologic signs charted as Observations.

ICE and CAPD have no LOINC code in wide use (ASTCT 2019 consensus, Lee et al. BBMT 2019): they
are read by name, and by the codes an operator configures (``MappingOptions``). RASS: SNOMED CT
457441000124102 "Richmond Agitation-Sedation Scale (assessment scale)" (HL7 CPG-on-EBMonFHIR and
public OMOP concept lists; the same code is sent for a goal RASS, so goal rows are vetoed by
name) and 1345050000, the RASS score observable (one public source). No RASS LOINC code could be
verified. GCS sub-scores (eye, verbal, motor) are not the total; ICE and CAPD item rows are not
the totals.
"""

from __future__ import annotations

from crs_grading.inputs import EncephalopathyItem

from .._names import NameMatcher
from ._family import SPEC, ItemRows, ObservationFamily, ObservationKind, loinc, snomed
from .icans import CAPD_ITEM_NAMES, ICE_ITEM_NAMES, SNOMED_SIGNS

_EPIC_IG = "HL7 CPG-on-EBMonFHIR (sct-us), OMOP concept 36684829"
_OBSERVABLE = "public OMOP vocabulary notes (RASS score observable); one source"

GCS = ObservationFamily(
    ObservationKind.GCS,
    codes=(loinc("9269-2", "Glasgow coma score total", SPEC),),
    names=("Glasgow coma scale", "Glasgow coma score", "GCS total", "Glasgow total"),
    acronyms=("GCS",),
    vetoes=("eye", "eyes", "verbal", "motor", "best", "goal", "target"),
)

#: Words that make an ICE or CAPD name an item, a goal or a plan, not the total.
_NOT_A_TOTAL = ("goal", "target", "item", "subscore", "sub-score", "due", "next", "frequency")


def _item_words(matcher: NameMatcher[EncephalopathyItem]) -> tuple[str, ...]:
    """The phrases a screen's components are read by (``valuesets/icans.py``), each once: the
    one list of item words for the item rows and for the vetoes of the total (review finding:
    item rows were read by a shorter list of their own, so "ICE - Name 3 objects" was dropped
    and the ICE summed from the rest came out too high)."""
    return tuple(dict.fromkeys(row.text for row in matcher.rows))


_ICE_ITEMS = _item_words(ICE_ITEM_NAMES)
_CAPD_ITEMS = _item_words(CAPD_ITEM_NAMES)

ICE = ObservationFamily(
    ObservationKind.ICE,
    codes=(),
    names=(
        "ICE score",
        "ICE total",
        "ICE total score",
        "ICE assessment",
        "ICE screen",
        "Immune Effector Cell-associated Encephalopathy",
        "Immune Effector Cell Encephalopathy",
    ),
    vetoes=(*_NOT_A_TOTAL, *_ICE_ITEMS),
)

CAPD = ObservationFamily(
    ObservationKind.CAPD,
    codes=(),
    names=(
        "Cornell Assessment of Pediatric Delirium",
        "Cornell Assessment for Pediatric Delirium",
        "CAPD score",
        "CAPD total",
        "CAPD total score",
    ),
    acronyms=("CAPD",),
    vetoes=(*_NOT_A_TOTAL, *_CAPD_ITEMS),
)


ICE_ITEM = ObservationFamily(
    ObservationKind.ICE_ITEM,
    codes=(),
    item_rows=ItemRows(("ICE", "ICE score", "ICE item"), _ICE_ITEMS),
    vetoes=("goal", "target"),
)

CAPD_ITEM = ObservationFamily(
    ObservationKind.CAPD_ITEM,
    codes=(),
    item_rows=ItemRows(("CAPD", "CAPD score", "CAPD item"), _CAPD_ITEMS),
    vetoes=("goal", "target"),
)

RASS = ObservationFamily(
    ObservationKind.RASS,
    codes=(
        snomed("457441000124102", "Richmond Agitation-Sedation Scale (assessment scale)", _EPIC_IG),
        snomed("1345050000", "Richmond Agitation-Sedation Scale score", _OBSERVABLE),
    ),
    names=(
        "Richmond Agitation-Sedation Scale",
        "Richmond Agitation Sedation Scale",
        "Richmond Agitation-Sedation Score",
        "RASS score",
    ),
    acronyms=("RASS",),
    vetoes=("goal", "target", "desired", "ordered", "CAM-ICU", "CAM", "LOC"),
)

#: Words of a RASS row that is a goal, not a reading (the coded goal rows share the code).
RASS_NOT_A_READING = ("goal", "target", "desired", "ordered")

NEURO_SIGN = ObservationFamily(
    ObservationKind.NEURO_SIGN,
    codes=tuple(
        snomed(code, str(sign), "valuesets/icans.py SNOMED_SIGNS (verified there)")
        for code, sign in SNOMED_SIGNS.items()
    ),
    names=(
        "seizure activity",
        "seizure observed",
        "seizures observed",
        "clinical seizure",
        "EEG seizure",
        "electrographic seizure",
        "status epilepticus",
        "hemiparesis",
        "paraparesis",
        "papilledema",
        "posturing",
        "cerebral edema",
        "sixth nerve palsy",
        "abducens palsy",
        "Cushing's triad",
    ),
    vetoes=(
        "precautions",
        "precaution",
        "risk",
        "prophylaxis",
        "history",
        "threshold",
        "medication",
        "pads",
        "plan",
        "education",
        "goal",
        "screening",
    ),
)

FAMILIES = (GCS, ICE, CAPD, ICE_ITEM, CAPD_ITEM, RASS, NEURO_SIGN)
