"""Procedures: ventilator support (seed Table 2 grade 4) and oxygen therapy (SPEC 2.3, SPEC 3).

The codes are read from Procedure.code and Procedure.category: ICU profiles (e.g. the German
MII ICU module) put "invasive mechanical ventilation" in the category and the ventilator mode in
the code.
"""

from __future__ import annotations

import enum

from crs_grading.inputs import OxygenDevice, VentilationKind

from .._names import NameMatcher, acronyms, phrases


class RespiratorySupport(enum.Enum):
    """What a respiratory procedure means for grading."""

    INVASIVE = (VentilationKind.INVASIVE, OxygenDevice.INVASIVE_VENTILATION)
    NON_INVASIVE = (VentilationKind.NON_INVASIVE, None)
    CPAP = (VentilationKind.NON_INVASIVE, OxygenDevice.CPAP)
    BIPAP = (VentilationKind.NON_INVASIVE, OxygenDevice.BIPAP)
    OXYGEN_THERAPY = (None, None)


#: SNOMED CT procedure concept id -> support.
SNOMED_RESPIRATORY_SUPPORT: dict[str, RespiratorySupport] = {
    "1258985005": RespiratorySupport.INVASIVE,  # Invasive mechanical ventilation (SPEC 3; verified)
    "40617009": RespiratorySupport.INVASIVE,  # Artificial respiration (SPEC 3)
    "428311008": RespiratorySupport.NON_INVASIVE,  # Non-invasive ventilation (SPEC 3; verified)
    "47545007": RespiratorySupport.CPAP,  # Continuous positive airway pressure (verified)
    "243142003": RespiratorySupport.BIPAP,  # Dual pressure ventilation: BiPAP (verified)
    "57485005": RespiratorySupport.OXYGEN_THERAPY,  # Oxygen therapy (SPEC 3)
}

#: Names in Procedure code/category text and displays; at one position the longest wins, so
#: "non-invasive ventilation" is never read as "invasive ventilation".
RESPIRATORY_SUPPORT_NAMES: NameMatcher[RespiratorySupport] = NameMatcher(
    phrases(
        RespiratorySupport.INVASIVE,
        "invasive mechanical ventilation",
        "invasive ventilation",
        "mechanical ventilation",
        "endotracheal intubation",
        "intubation",
        "ventilator support",
    )
    + phrases(
        RespiratorySupport.NON_INVASIVE,
        "non-invasive ventilation",
        "non-invasive positive pressure ventilation",
        "non-invasive mechanical ventilation",
    )
    + acronyms(RespiratorySupport.NON_INVASIVE, "NIV", "NIPPV")
    + phrases(RespiratorySupport.CPAP, "CPAP", "continuous positive airway pressure")
    + phrases(
        RespiratorySupport.BIPAP, "BiPAP", "BPAP", "bilevel positive airway pressure", "bi-level"
    )
    + phrases(
        RespiratorySupport.OXYGEN_THERAPY, "oxygen therapy", "supplemental oxygen", "O2 therapy"
    )
)
