"""Lee et al. 2014 revised CRS grading as data: seed Table 2 and Table 3 (SPEC 2.3).

The grade is the highest grade any criterion reaches. ``GRADES`` gives each Lee criterion its CRS
grade and source; the rows below hold the numbers the criteria compare.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

from crs_grading.criteria import Criterion
from crs_grading.inputs import OxygenDevice, RateBasis, Vasopressor
from crs_grading.tables.common import Comparison
from crs_grading.tables.ctcae_v403 import OrganTerm

_C = Criterion

#: Criterion -> (CRS grade, source).
GRADES: dict[Criterion, tuple[int, str]] = {
    _C.FEVER: (1, "seed Table 2 grade 1: fever"),
    _C.CONSTITUTIONAL_SYMPTOMS: (1, "seed Table 2 grade 1: constitutional symptoms"),
    _C.HYPOTENSION: (2, "seed Table 2 grade 2: hypotension responsive to fluids"),
    _C.VASOPRESSOR_LOW_DOSE: (2, "seed Table 2 grade 2: low dose of one vasopressor"),
    _C.VASOPRESSOR_UNKNOWN_DOSE: (2, "SPEC 2.3: a drip of unreadable rate is a vasopressor"),
    _C.OXYGEN_LOW_FIO2: (2, "seed Table 2 grade 2: oxygen requirement < 40%"),
    _C.VASOPRESSOR_HIGH_DOSE: (3, "seed Table 2 grade 3 and Table 3: high-dose vasopressor"),
    _C.MULTIPLE_VASOPRESSORS: (3, "seed Table 2 grade 3: multiple vasopressors"),
    _C.OXYGEN_HIGH_FIO2: (3, "seed Table 2 grade 3: oxygen requirement >= 40%"),
    _C.VENTILATION: (4, "seed Table 2 grade 4: requirement for ventilator support"),
    _C.DEATH: (5, "seed Table 2 grade 5: death"),
}

# -- Fever (seed Table 2 grade 1; SPEC 2.3 sets the number) ---------------------------------------
FEVER_COMPARISON = Comparison.AT_LEAST
FEVER_THRESHOLD_C = 38.0

# -- Oxygen (seed Table 2; the flow estimate is SPEC 2.3) -----------------------------------------
ROOM_AIR_FIO2_PERCENT = 21.0
FIO2_PERCENT_PER_L_PER_MIN = 4.0  # SPEC 2.3: FiO2 estimate = 21% + 4% per L/min of flow
FIO2_PERCENT_MAX = 100.0


@dataclass(frozen=True, slots=True)
class OxygenRow:
    """An FiO2 band: every ``(comparison, percent)`` holds."""

    criterion: Criterion
    conditions: tuple[tuple[Comparison, float], ...]
    source: str


OXYGEN_ROWS: tuple[OxygenRow, ...] = (
    OxygenRow(
        _C.OXYGEN_LOW_FIO2,
        ((Comparison.ABOVE, ROOM_AIR_FIO2_PERCENT), (Comparison.BELOW, 40.0)),
        "seed Table 2 grade 2: FiO2 above room air and < 40%",
    ),
    OxygenRow(
        _C.OXYGEN_HIGH_FIO2,
        ((Comparison.AT_LEAST, 40.0),),
        "seed Table 2 grade 3: FiO2 >= 40%",
    ),
)

#: SPEC 2.3: a measured FiO2 always wins over a flow estimate. An FiO2 charted within this time
#: of a flow or device reading (a separate flowsheet row) is the requirement; the flow and the
#: device only describe it. Only an FiO2 above ``ROOM_AIR_FIO2_PERCENT`` pairs (room air cannot
#: be the FiO2 of a flow or device: it is another moment).
OXYGEN_PAIRING_WINDOW = timedelta(hours=1)

#: Devices that deliver more than low-flow oxygen. With no FiO2 charted they count as FiO2 >= 40%
#: (seed text: "patients who require more than low flow oxygen ... should be considered grade
#: 3"; SPEC 2.3 lists them). A simple face mask or a face tent at low flow is not one of them.
HIGH_FLOW_DEVICES = frozenset(
    {
        OxygenDevice.NON_REBREATHER,
        OxygenDevice.PARTIAL_REBREATHER,
        OxygenDevice.VENTURI_MASK,
        OxygenDevice.HIGH_FLOW_NASAL_CANNULA,
        OxygenDevice.HIGH_FLOW_FACE_TENT,
    }
)
#: The FiO2 a high-flow device counts as when none is charted (SPEC 2.3: "counts as FiO2 >= 40%").
DEVICE_INFERRED_FIO2_PERCENT = 40.0

#: Oxygen devices that are ventilator support (seed Table 2 grade 4; SPEC 2.3: CPAP, BiPAP,
#: invasive mechanical ventilation).
VENTILATOR_DEVICES = frozenset(
    {OxygenDevice.CPAP, OxygenDevice.BIPAP, OxygenDevice.INVASIVE_VENTILATION}
)

# -- Vasopressors (seed Table 3) ------------------------------------------------------------------

#: The unit each agent's dose is compared in. Dopamine's Table 3 dose is per kg.
DOSE_BASIS: dict[Vasopressor, RateBasis] = {
    Vasopressor.NOREPINEPHRINE: RateBasis.MICROGRAMS_PER_MIN,
    Vasopressor.EPINEPHRINE: RateBasis.MICROGRAMS_PER_MIN,
    Vasopressor.PHENYLEPHRINE: RateBasis.MICROGRAMS_PER_MIN,
    Vasopressor.DOPAMINE: RateBasis.MICROGRAMS_PER_KG_PER_MIN,
    Vasopressor.VASOPRESSIN: RateBasis.UNITS_PER_MIN,
}

#: Vasopressin counts as a vasopressor for "multiple vasopressors" (seed Table 3 lists it).
VASOPRESSIN_COUNTS_AS_VASOPRESSOR = True

#: VASST norepinephrine equivalent (seed Table 3 footnote): ug/min of norepinephrine per unit
#: of each agent's dose in ``DOSE_BASIS`` (dopamine ug/kg/min / 2, phenylephrine / 10).
NOREPINEPHRINE_EQUIVALENT_FACTOR: dict[Vasopressor, float] = {
    Vasopressor.NOREPINEPHRINE: 1.0,
    Vasopressor.DOPAMINE: 0.5,
    Vasopressor.EPINEPHRINE: 1.0,
    Vasopressor.PHENYLEPHRINE: 0.1,
}

#: seed Table 3: "all doses are required for >= 3 hours".
HIGH_DOSE_MIN_DURATION = timedelta(hours=3)


class HighDoseKind(enum.StrEnum):
    AGENT = "agent"  # the agent's own dose
    EQUIVALENT_WITH_VASOPRESSIN = "equivalent-with-vasopressin"
    EQUIVALENT_COMBINATION = "equivalent-combination"  # two or more agents, no vasopressin


@dataclass(frozen=True, slots=True)
class HighDoseRow:
    """One row of seed Table 3; the dose is ``>= threshold`` (``DOSE_BASIS`` of the agent, or
    ug/min of norepinephrine equivalent)."""

    name: str
    kind: HighDoseKind
    agent: Vasopressor | None
    threshold: float
    source: str


HIGH_DOSE_COMPARISON = Comparison.AT_LEAST

TABLE_3: tuple[HighDoseRow, ...] = (
    HighDoseRow(
        "norepinephrine >= 20 ug/min",
        HighDoseKind.AGENT,
        Vasopressor.NOREPINEPHRINE,
        20.0,
        "seed Table 3: norepinephrine monotherapy",
    ),
    HighDoseRow(
        "dopamine >= 10 ug/kg/min",
        HighDoseKind.AGENT,
        Vasopressor.DOPAMINE,
        10.0,
        "seed Table 3: dopamine monotherapy",
    ),
    HighDoseRow(
        "phenylephrine >= 200 ug/min",
        HighDoseKind.AGENT,
        Vasopressor.PHENYLEPHRINE,
        200.0,
        "seed Table 3: phenylephrine monotherapy",
    ),
    HighDoseRow(
        "epinephrine >= 10 ug/min",
        HighDoseKind.AGENT,
        Vasopressor.EPINEPHRINE,
        10.0,
        "seed Table 3: epinephrine monotherapy",
    ),
    HighDoseRow(
        "vasopressin with norepinephrine equivalent >= 10 ug/min",
        HighDoseKind.EQUIVALENT_WITH_VASOPRESSIN,
        None,
        10.0,
        "seed Table 3: if on vasopressin (VASST equivalent)",
    ),
    HighDoseRow(
        "combination with norepinephrine equivalent >= 20 ug/min",
        HighDoseKind.EQUIVALENT_COMBINATION,
        None,
        20.0,
        "seed Table 3: combination vasopressors, not vasopressin (VASST equivalent)",
    ),
)

# -- Organ toxicity (seed Table 2: "grades 2-4 refer to CTCAE v4.0") ---------------------------


@dataclass(frozen=True, slots=True)
class OrganToxicityGrade:
    """A CTCAE grade of one term as a Lee criterion and CRS grade."""

    criterion: Criterion
    crs_grade: int
    source: str


_SAME = "seed Table 2: CTCAE grade {g} organ toxicity is CRS grade {g}"
_TRANSAMINITIS = "seed Table 2 grade 3: grade 4 transaminitis (CRS grade 3, not 4)"

ORGAN_TOXICITY: dict[tuple[OrganTerm, int], OrganToxicityGrade] = {
    (OrganTerm.AST_INCREASED, 2): OrganToxicityGrade(
        _C.AST_INCREASED_GRADE_2, 2, _SAME.format(g=2)
    ),
    (OrganTerm.AST_INCREASED, 3): OrganToxicityGrade(
        _C.AST_INCREASED_GRADE_3, 3, _SAME.format(g=3)
    ),
    (OrganTerm.AST_INCREASED, 4): OrganToxicityGrade(_C.TRANSAMINITIS_GRADE_4, 3, _TRANSAMINITIS),
    (OrganTerm.ALT_INCREASED, 2): OrganToxicityGrade(
        _C.ALT_INCREASED_GRADE_2, 2, _SAME.format(g=2)
    ),
    (OrganTerm.ALT_INCREASED, 3): OrganToxicityGrade(
        _C.ALT_INCREASED_GRADE_3, 3, _SAME.format(g=3)
    ),
    (OrganTerm.ALT_INCREASED, 4): OrganToxicityGrade(_C.TRANSAMINITIS_GRADE_4, 3, _TRANSAMINITIS),
    (OrganTerm.BILIRUBIN_INCREASED, 2): OrganToxicityGrade(
        _C.BILIRUBIN_INCREASED_GRADE_2, 2, _SAME.format(g=2)
    ),
    (OrganTerm.BILIRUBIN_INCREASED, 3): OrganToxicityGrade(
        _C.BILIRUBIN_INCREASED_GRADE_3, 3, _SAME.format(g=3)
    ),
    (OrganTerm.BILIRUBIN_INCREASED, 4): OrganToxicityGrade(
        _C.BILIRUBIN_INCREASED_GRADE_4, 4, _SAME.format(g=4)
    ),
    (OrganTerm.CREATININE_INCREASED, 2): OrganToxicityGrade(
        _C.CREATININE_INCREASED_GRADE_2, 2, _SAME.format(g=2)
    ),
    (OrganTerm.CREATININE_INCREASED, 3): OrganToxicityGrade(
        _C.CREATININE_INCREASED_GRADE_3, 3, _SAME.format(g=3)
    ),
    (OrganTerm.CREATININE_INCREASED, 4): OrganToxicityGrade(
        _C.CREATININE_INCREASED_GRADE_4, 4, _SAME.format(g=4)
    ),
    (OrganTerm.FIBRINOGEN_DECREASED, 2): OrganToxicityGrade(
        _C.FIBRINOGEN_DECREASED_GRADE_2, 2, _SAME.format(g=2)
    ),
    (OrganTerm.FIBRINOGEN_DECREASED, 3): OrganToxicityGrade(
        _C.FIBRINOGEN_DECREASED_GRADE_3, 3, _SAME.format(g=3)
    ),
    (OrganTerm.FIBRINOGEN_DECREASED, 4): OrganToxicityGrade(
        _C.FIBRINOGEN_DECREASED_GRADE_4, 4, _SAME.format(g=4)
    ),
    (OrganTerm.EJECTION_FRACTION_DECREASED, 2): OrganToxicityGrade(
        _C.EJECTION_FRACTION_DECREASED_GRADE_2, 2, _SAME.format(g=2)
    ),
    (OrganTerm.EJECTION_FRACTION_DECREASED, 3): OrganToxicityGrade(
        _C.EJECTION_FRACTION_DECREASED_GRADE_3, 3, _SAME.format(g=3)
    ),
    (OrganTerm.EJECTION_FRACTION_DECREASED, 4): OrganToxicityGrade(
        _C.EJECTION_FRACTION_DECREASED_GRADE_4, 4, _SAME.format(g=4)
    ),
}
