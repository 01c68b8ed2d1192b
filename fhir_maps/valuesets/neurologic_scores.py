"""Glasgow Coma Scale total and the ICE score (SPEC 2.5 neurologic dysfunction).

The ICE score has no LOINC code (ASTCT 2019 consensus, Lee et al. BBMT 2019): it is read by
name. GCS sub-scores (eye, verbal, motor) are not the total.
"""

from __future__ import annotations

from ._family import SPEC, ObservationFamily, ObservationKind, loinc

GCS = ObservationFamily(
    ObservationKind.GCS,
    codes=(loinc("9269-2", "Glasgow coma score total", SPEC),),
    names=("Glasgow coma scale", "Glasgow coma score", "GCS total", "Glasgow total"),
    acronyms=("GCS",),
    vetoes=("eye", "eyes", "verbal", "motor", "best", "goal", "target"),
)

ICE = ObservationFamily(
    ObservationKind.ICE,
    codes=(),
    names=(
        "ICE score",
        "ICE assessment",
        "Immune Effector Cell-associated Encephalopathy",
        "Immune Effector Cell Encephalopathy",
    ),
)

FAMILIES = (GCS, ICE)
