"""ASTCT 2019 consensus CRS grading as data (Lee et al., Biol Blood Marrow Transplant 2019;
SPEC 2.4).

Fever is required at every grade, except once tocilizumab or a corticosteroid has been given
(then hypotension and hypoxia grade alone). A grade needs the fever in the same 24 h window as
the hypotension or hypoxia. Organ toxicity does not change the ASTCT grade.
"""

from __future__ import annotations

from crs_grading.criteria import Criterion
from crs_grading.inputs import OxygenDevice
from crs_grading.tables.common import Comparison
from crs_grading.tables.signals import FEVER_MASKING_AGENTS

_C = Criterion

#: Criterion -> (ASTCT grade, source).
GRADES: dict[Criterion, tuple[int, str]] = {
    _C.ASTCT_FEVER: (1, "ASTCT 2019 grade 1: fever >= 38.0 C"),
    _C.ASTCT_HYPOTENSION_NO_VASOPRESSOR: (2, "ASTCT 2019 grade 2: hypotension, no vasopressors"),
    _C.ASTCT_LOW_FLOW_OXYGEN: (2, "ASTCT 2019 grade 2: low-flow nasal cannula or blow-by"),
    _C.ASTCT_ONE_VASOPRESSOR: (
        3,
        "ASTCT 2019 grade 3: one vasopressor with or without vasopressin",
    ),
    _C.ASTCT_HIGH_FLOW_OXYGEN: (3, "ASTCT 2019 grade 3: high-flow cannula, facemask, NRB, Venturi"),
    _C.ASTCT_MULTIPLE_VASOPRESSORS: (
        4,
        "ASTCT 2019 grade 4: multiple vasopressors (not vasopressin)",
    ),
    _C.ASTCT_POSITIVE_PRESSURE: (
        4,
        "ASTCT 2019 grade 4: positive pressure (CPAP, BiPAP, intubation)",
    ),
    _C.ASTCT_DEATH: (5, "ASTCT 2019 grade 5: death due to CRS"),
}

FEVER_COMPARISON = Comparison.AT_LEAST
FEVER_THRESHOLD_C = 38.0

#: Tocilizumab or a corticosteroid given (``Assessment.immunosuppressants_given``) lifts the
#: fever requirement: the same set as the masked-fever warning of SPEC 2.7, defined once in
#: ``signals``.
FEVER_LIFTED_BY = FEVER_MASKING_AGENTS

#: Vasopressin does not count towards "multiple vasopressors" (ASTCT 2019 grade 4).
VASOPRESSIN_COUNTS_AS_VASOPRESSOR = False

#: Oxygen by device. ``None``: no oxygen requirement (room air).
DEVICE_CRITERION: dict[OxygenDevice, Criterion | None] = {
    OxygenDevice.ROOM_AIR: None,
    OxygenDevice.BLOW_BY: _C.ASTCT_LOW_FLOW_OXYGEN,
    OxygenDevice.NASAL_CANNULA: _C.ASTCT_LOW_FLOW_OXYGEN,  # unless the flow is > 6 L/min
    OxygenDevice.HIGH_FLOW_NASAL_CANNULA: _C.ASTCT_HIGH_FLOW_OXYGEN,
    OxygenDevice.SIMPLE_FACEMASK: _C.ASTCT_HIGH_FLOW_OXYGEN,
    OxygenDevice.FACE_TENT: _C.ASTCT_HIGH_FLOW_OXYGEN,  # a facemask (ASTCT 2019 grade 3)
    OxygenDevice.HIGH_FLOW_FACE_TENT: _C.ASTCT_HIGH_FLOW_OXYGEN,
    OxygenDevice.PARTIAL_REBREATHER: _C.ASTCT_HIGH_FLOW_OXYGEN,  # a facemask with a reservoir
    OxygenDevice.NON_REBREATHER: _C.ASTCT_HIGH_FLOW_OXYGEN,
    OxygenDevice.VENTURI_MASK: _C.ASTCT_HIGH_FLOW_OXYGEN,
    OxygenDevice.CPAP: _C.ASTCT_POSITIVE_PRESSURE,
    OxygenDevice.BIPAP: _C.ASTCT_POSITIVE_PRESSURE,
    OxygenDevice.INVASIVE_VENTILATION: _C.ASTCT_POSITIVE_PRESSURE,
}

#: Nasal cannula (or flow with no device): low-flow at <= 6 L/min, high-flow above.
LOW_FLOW_COMPARISON = Comparison.AT_MOST
LOW_FLOW_MAX_L_PER_MIN = 6.0

#: FiO2 with no device and no flow: < 40% low-flow (grade 2), >= 40% grade 3.
FIO2_ONLY_HIGH_COMPARISON = Comparison.AT_LEAST
FIO2_ONLY_HIGH_PERCENT = 40.0
ROOM_AIR_FIO2_PERCENT = 21.0
