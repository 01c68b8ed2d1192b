"""Blood pressure (SPEC 2.3 hypotension): the panel, and systolic, diastolic and mean pressures
charted alone, non-invasive or by arterial line, in any position.

Sources: SPEC 3; VSAC "Systolic Blood Pressure" 2.16.840.1.113762.1.4.1045.163 (eCQM 2025-05);
US Core STU1 (55284-4). Names never read pulmonary artery, central venous, intracranial or
ventricular pressures, whose rows also say "systolic" or "mean".
"""

from __future__ import annotations

from ._family import CARRIED, SPEC, VSAC, ObservationFamily, ObservationKind, loinc

_VS = f"{VSAC} 2.16.840.1.113762.1.4.1045.163"

#: Other pressures charted with the same words.
_NOT_ARTERIAL = (
    "pulmonary",
    "PA",
    "central venous",
    "CVP",
    "intracranial",
    "ICP",
    "cerebral perfusion",
    "CPP",
    "wedge",
    "ventricular",
    "RV",
    "LV",
    "intra-abdominal",
    "bladder",
    "goal",
    "target",
    "limit",
    "alarm",
)

PANEL = ObservationFamily(
    ObservationKind.BP_PANEL,
    codes=(
        loinc("85354-9", "Blood pressure panel with all children optional", SPEC),
        loinc("55284-4", "Blood pressure systolic and diastolic", CARRIED),
    ),
)

SYSTOLIC = ObservationFamily(
    ObservationKind.SYSTOLIC,
    codes=(
        loinc("8480-6", "Systolic blood pressure", SPEC),
        loinc("8459-0", "Systolic blood pressure--sitting", _VS),
        loinc("8460-8", "Systolic blood pressure--standing", _VS),
        loinc("8461-6", "Systolic blood pressure--supine", _VS),
        loinc("89268-7", "Systolic blood pressure--lying in L-lateral position", _VS),
        loinc("76534-7", "Systolic blood pressure by Noninvasive", CARRIED),
        loinc("76215-3", "Invasive Systolic blood pressure", CARRIED),
    ),
    names=(
        "systolic blood pressure",
        "systolic BP",
        "systolic pressure",
        "BP systolic",
        "NIBP systolic",
        "ABP systolic",
        "arterial systolic",
        "art systolic",
        "blood pressure systolic",
        "blood pressure, systolic",
        "BP, systolic",
    ),
    acronyms=("SBP",),
    vetoes=_NOT_ARTERIAL,
)

DIASTOLIC = ObservationFamily(
    ObservationKind.DIASTOLIC,
    codes=(
        loinc("8462-4", "Diastolic blood pressure", SPEC),
        loinc("76213-8", "Invasive Diastolic blood pressure", CARRIED),
    ),
    names=(
        "diastolic blood pressure",
        "diastolic BP",
        "diastolic pressure",
        "BP diastolic",
        "NIBP diastolic",
        "ABP diastolic",
        "arterial diastolic",
        "art diastolic",
        "blood pressure diastolic",
        "blood pressure, diastolic",
        "BP, diastolic",
    ),
    acronyms=("DBP",),
    vetoes=_NOT_ARTERIAL,
)

MEAN = ObservationFamily(
    ObservationKind.MEAN_ARTERIAL,
    codes=(
        loinc("8478-0", "Mean blood pressure", SPEC),
        loinc("76214-6", "Invasive Mean blood pressure", CARRIED),
    ),
    names=(
        "mean arterial pressure",
        "mean blood pressure",
        "mean arterial blood pressure",
        "NIBP mean",
        "ABP mean",
        "arterial mean",
        "art mean",
        "blood pressure mean",
        "blood pressure, mean",
        "BP, mean",
    ),
    # Not "MAP" alone: ventilator rows use it for the mean airway pressure.
    vetoes=_NOT_ARTERIAL,
)

FAMILIES = (PANEL, SYSTOLIC, DIASTOLIC, MEAN)
