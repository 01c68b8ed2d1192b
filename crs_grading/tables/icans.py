"""ICANS grading as data: ASTCT 2019 consensus (Lee et al., Biol Blood Marrow Transplant 2019;
25(4):625-638), as SPEC 2.9 states it.

The ICANS grade is the worst grade of five domains: the encephalopathy screen (ICE from age 12,
CAPD under 12), the level of consciousness (read from RASS), seizures, motor findings, and raised
intracranial pressure / cerebral edema. Every row below carries its source; the grader
(``crs_grading._icans``) walks the rows and records the row that fired and its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from crs_grading.criteria import Criterion
from crs_grading.inputs import (
    EncephalopathyItem,
    EncephalopathyTool,
    NeurologicSign,
    ScreenUnable,
)
from crs_grading.tables.common import Comparison

_C = Criterion
ASTCT = "ASTCT 2019 ICANS (Lee et al. BBMT 2019)"
ASTCT_CHILDREN = "ASTCT 2019 ICANS for children < 12 (Lee et al. BBMT 2019)"

#: The criterion of each domain (one driver per domain; the driver's grade is the worst row's).
SCREEN_CRITERION: dict[EncephalopathyTool, Criterion] = {
    EncephalopathyTool.ICE: _C.ICANS_ICE_SCORE,
    EncephalopathyTool.CAPD: _C.ICANS_CAPD_SCORE,
}

#: ASTCT 2019: ICE is the screen from age 12; CAPD under 12 (SPEC 2.9). An ICE charted for a
#: younger child is not graded (the card says so): a young child cannot write or count back from
#: 100 by tens, so the score would read as encephalopathy. CAPD is graded at any age (ASTCT 2019
#: allows it for older patients with developmental delay).
ICE_MIN_AGE_YEARS = 12

# -- Encephalopathy screens ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScreenRow:
    """A band of a screen's total: every ``(comparison, points)`` holds."""

    tool: EncephalopathyTool
    grade: int
    band: str  # how the row reads to a clinician: "ICE 7-9"
    conditions: tuple[tuple[Comparison, float], ...]
    source: str


SCREEN_ROWS: tuple[ScreenRow, ...] = (
    ScreenRow(
        EncephalopathyTool.ICE,
        1,
        "ICE 7-9",
        ((Comparison.AT_LEAST, 7.0), (Comparison.BELOW, 10.0)),
        f"{ASTCT} grade 1: ICE score 7-9",
    ),
    ScreenRow(
        EncephalopathyTool.ICE,
        2,
        "ICE 3-6",
        ((Comparison.AT_LEAST, 3.0), (Comparison.BELOW, 7.0)),
        f"{ASTCT} grade 2: ICE score 3-6",
    ),
    ScreenRow(
        EncephalopathyTool.ICE,
        3,
        "ICE 0-2",
        ((Comparison.AT_LEAST, 0.0), (Comparison.BELOW, 3.0)),
        f"{ASTCT} grade 3: ICE score 0-2 (an awake patient with global aphasia scores 0)",
    ),
    ScreenRow(
        EncephalopathyTool.CAPD,
        1,
        "CAPD 1-8",
        ((Comparison.ABOVE, 0.0), (Comparison.BELOW, 9.0)),
        f"{ASTCT_CHILDREN} grades 1-2: CAPD 1-8 (the level of consciousness tells 1 from 2)",
    ),
    ScreenRow(
        EncephalopathyTool.CAPD,
        3,
        "CAPD 9 or more",
        ((Comparison.AT_LEAST, 9.0),),
        f"{ASTCT_CHILDREN} grade 3: CAPD >= 9",
    ),
)


@dataclass(frozen=True, slots=True)
class UnableRow:
    """The screen could not be done: ICE because the patient could not be roused, CAPD because
    the child could not do it. ``because`` is what the card says when the chart gave no reason
    of its own (``EncephalopathyScreen.unable_because``)."""

    tool: EncephalopathyTool
    grade: int
    because: ScreenUnable
    source: str


UNABLE_ROWS: dict[EncephalopathyTool, UnableRow] = {
    EncephalopathyTool.ICE: UnableRow(
        EncephalopathyTool.ICE,
        4,
        ScreenUnable.UNAROUSABLE,
        f"{ASTCT} grade 4: ICE 0 because the patient is unarousable and unable to perform ICE",
    ),
    EncephalopathyTool.CAPD: UnableRow(
        EncephalopathyTool.CAPD,
        4,
        ScreenUnable.UNABLE,
        f"{ASTCT_CHILDREN} grade 4: unable to perform CAPD",
    ),
}

#: The points of each item at its best (ICE: ASTCT 2019 Table "ICE"; CAPD: Traube et al., Crit
#: Care Med 2014, 8 items of 0-4). ICE counts points earned (10 is normal); CAPD counts points of
#: delirium (0 is normal).
ITEM_MAXIMA: dict[EncephalopathyItem, float] = {
    EncephalopathyItem.ICE_ORIENTATION: 4.0,  # year, month, city, hospital
    EncephalopathyItem.ICE_NAMING: 3.0,  # three objects
    EncephalopathyItem.ICE_COMMANDS: 1.0,  # e.g. "show me 2 fingers"
    EncephalopathyItem.ICE_WRITING: 1.0,  # a standard sentence
    EncephalopathyItem.ICE_ATTENTION: 1.0,  # count backwards from 100 by 10
    EncephalopathyItem.CAPD_EYE_CONTACT: 4.0,
    EncephalopathyItem.CAPD_PURPOSEFUL_ACTIONS: 4.0,
    EncephalopathyItem.CAPD_AWARE_OF_SURROUNDINGS: 4.0,
    EncephalopathyItem.CAPD_COMMUNICATES_NEEDS: 4.0,
    EncephalopathyItem.CAPD_RESTLESS: 4.0,
    EncephalopathyItem.CAPD_INCONSOLABLE: 4.0,
    EncephalopathyItem.CAPD_UNDERACTIVE: 4.0,
    EncephalopathyItem.CAPD_SLOW_RESPONSE: 4.0,
}

#: The range of each screen's total (ICE 0-10, CAPD 0-32); a total outside it is not graded.
TOTAL_RANGE: dict[EncephalopathyTool, tuple[float, float]] = {
    tool: (0.0, sum(m for item, m in ITEM_MAXIMA.items() if item.tool is tool))
    for tool in EncephalopathyTool
}

#: Which way a screen's points go: ICE counts what the patient can do (fewer is worse), CAPD
#: counts signs of delirium (more is worse).
POINTS_ARE_ABILITIES: dict[EncephalopathyTool, bool] = {
    EncephalopathyTool.ICE: True,
    EncephalopathyTool.CAPD: False,
}

# -- Depressed level of consciousness, read from RASS (SPEC 2.9) -----------------------------------


@dataclass(frozen=True, slots=True)
class ConsciousnessRow:
    """RASS scores and the ASTCT 2019 level of consciousness they mean."""

    rass: frozenset[int]
    grade: int
    level: str  # the ASTCT 2019 words
    source: str


_RASS = "SPEC 2.9 RASS mapping onto the " + ASTCT
CONSCIOUSNESS_ROWS: tuple[ConsciousnessRow, ...] = (
    ConsciousnessRow(
        frozenset({-1}), 1, "awakens spontaneously", f"{_RASS} grade 1: RASS -1 (drowsy, wakes)"
    ),
    ConsciousnessRow(
        frozenset({-2, -3}), 2, "awakens to voice", f"{_RASS} grade 2: RASS -2 or -3 (to voice)"
    ),
    ConsciousnessRow(
        frozenset({-4}),
        3,
        "awakens only to tactile stimulus",
        f"{_RASS} grade 3: RASS -4 (only to physical stimulus)",
    ),
    ConsciousnessRow(
        frozenset({-5}), 4, "unarousable", f"{_RASS} grade 4: RASS -5 (unarousable; stupor, coma)"
    ),
)

#: RASS 0 and above (alert, or agitated) is no depressed consciousness; -5 to +4 is the scale.
RASS_RANGE = (-5, 4)

# -- Seizures, motor findings, raised intracranial pressure ----------------------------------------


@dataclass(frozen=True, slots=True)
class SignRow:
    """A neurologic sign, its domain's criterion and its ICANS grade.

    ``state``: the sign lasts until it resolves (cerebral edema, paresis, posturing, cranial
    nerve VI palsy, papilledema), so a Condition of it counts in every window while it is active
    (SPEC 2.9: current ICANS is the worst grade of the last 24 h; review finding: an active
    diffuse cerebral edema dropped out 24 h after its onset). An event (a seizure, status
    epilepticus, Cushing's triad) happened at its time and counts there.
    """

    sign: NeurologicSign
    criterion: Criterion
    grade: int
    words: str  # how the sign reads on a card
    source: str
    state: bool = False


SIGN_ROWS: dict[NeurologicSign, SignRow] = {
    row.sign: row
    for row in (
        SignRow(
            NeurologicSign.SEIZURE,
            _C.ICANS_SEIZURE,
            3,
            "seizure",
            f"{ASTCT} grade 3: any clinical seizure that resolves rapidly, or non-convulsive "
            "seizures on EEG that resolve with intervention",
        ),
        SignRow(
            NeurologicSign.STATUS_EPILEPTICUS,
            _C.ICANS_SEIZURE,
            4,
            "status epilepticus",
            f"{ASTCT} grade 4: life-threatening prolonged seizure (> 5 min), or repetitive "
            "seizures without return to baseline in between (SPEC 2.9: status epilepticus)",
        ),
        SignRow(
            NeurologicSign.HEMIPARESIS,
            _C.ICANS_MOTOR_WEAKNESS,
            4,
            "hemiparesis",
            f"{ASTCT} grade 4: deep focal motor weakness (hemiparesis)",
            state=True,
        ),
        SignRow(
            NeurologicSign.PARAPARESIS,
            _C.ICANS_MOTOR_WEAKNESS,
            4,
            "paraparesis",
            f"{ASTCT} grade 4: deep focal motor weakness (paraparesis)",
            state=True,
        ),
        SignRow(
            NeurologicSign.QUADRIPARESIS,
            _C.ICANS_MOTOR_WEAKNESS,
            4,
            "quadriparesis",
            f"{ASTCT} grade 4: deep motor weakness (SPEC 2.9 reads all of ICD-10-CM G82.x, "
            "quadriplegia included)",
            state=True,
        ),
        SignRow(
            NeurologicSign.FOCAL_CEREBRAL_EDEMA,
            _C.ICANS_CEREBRAL_EDEMA,
            3,
            "focal cerebral edema",
            f"{ASTCT} grade 3: focal or local edema on neuroimaging",
            state=True,
        ),
        SignRow(
            NeurologicSign.CEREBRAL_EDEMA,
            _C.ICANS_CEREBRAL_EDEMA,
            3,
            "cerebral edema of unstated extent",
            "SPEC 2.9: cerebral edema whose extent was not charted counts as focal, "
            f"{ASTCT} grade 3 (diffuse would be grade 4)",
            state=True,
        ),
        SignRow(
            NeurologicSign.DIFFUSE_CEREBRAL_EDEMA,
            _C.ICANS_CEREBRAL_EDEMA,
            4,
            "diffuse cerebral edema",
            f"{ASTCT} grade 4: diffuse cerebral edema on neuroimaging",
            state=True,
        ),
        SignRow(
            NeurologicSign.POSTURING,
            _C.ICANS_RAISED_INTRACRANIAL_PRESSURE,
            4,
            "decerebrate or decorticate posturing",
            f"{ASTCT} grade 4: decerebrate or decorticate posturing",
            state=True,
        ),
        SignRow(
            NeurologicSign.CRANIAL_NERVE_VI_PALSY,
            _C.ICANS_RAISED_INTRACRANIAL_PRESSURE,
            4,
            "cranial nerve VI palsy",
            f"{ASTCT} grade 4: cranial nerve VI palsy",
            state=True,
        ),
        SignRow(
            NeurologicSign.PAPILLEDEMA,
            _C.ICANS_RAISED_INTRACRANIAL_PRESSURE,
            4,
            "papilledema",
            f"{ASTCT} grade 4: papilledema",
            state=True,
        ),
        SignRow(
            NeurologicSign.CUSHINGS_TRIAD,
            _C.ICANS_RAISED_INTRACRANIAL_PRESSURE,
            4,
            "Cushing's triad",
            f"{ASTCT} grade 4: Cushing's triad",
        ),
    )
}

#: Every ICANS criterion and the grades its rows give (for docs and the tables' own tests).
CRITERION_GRADES: dict[Criterion, frozenset[int]] = {
    _C.ICANS_ICE_SCORE: frozenset(
        {r.grade for r in SCREEN_ROWS if r.tool is EncephalopathyTool.ICE}
        | {UNABLE_ROWS[EncephalopathyTool.ICE].grade}
    ),
    _C.ICANS_CAPD_SCORE: frozenset(
        {r.grade for r in SCREEN_ROWS if r.tool is EncephalopathyTool.CAPD}
        | {UNABLE_ROWS[EncephalopathyTool.CAPD].grade}
    ),
    _C.ICANS_DEPRESSED_CONSCIOUSNESS: frozenset(r.grade for r in CONSCIOUSNESS_ROWS),
    **{
        criterion: frozenset(r.grade for r in SIGN_ROWS.values() if r.criterion is criterion)
        for criterion in (
            _C.ICANS_SEIZURE,
            _C.ICANS_MOTOR_WEAKNESS,
            _C.ICANS_CEREBRAL_EDEMA,
            _C.ICANS_RAISED_INTRACRANIAL_PRESSURE,
        )
    },
}
