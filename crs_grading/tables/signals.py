"""Thresholds of the non-grading signals: neurologic dysfunction (SPEC 2.5), attribution
warnings (SPEC 2.7) and biomarker trends (SPEC 2.8)."""

from __future__ import annotations

from crs_grading.inputs import Immunosuppressant
from crs_grading.tables.common import Comparison

# -- SPEC 2.5 neurologic dysfunction --------------------------------------------------------
GCS_COMPARISON, GCS_THRESHOLD = Comparison.BELOW, 15.0  # SPEC 2.5: GCS total < 15
ICE_COMPARISON, ICE_THRESHOLD = Comparison.BELOW, 10.0  # SPEC 2.5: ICE score < 10 (ICANS)

# -- SPEC 2.7 attribution warnings ---------------------------------------------------------------
#: ANC < 500 /uL (SPEC 2.7 neutropenia; the usual definition of severe neutropenia).
ANC_COMPARISON, ANC_THRESHOLD_PER_UL = Comparison.BELOW, 500.0
#: Lactate > 2 mmol/L (SPEC 2.7 elevated-lactate; the Sepsis-3 septic shock criterion).
LACTATE_COMPARISON, LACTATE_THRESHOLD_MMOL_L = Comparison.ABOVE, 2.0
#: Agents after which fever and CRP no longer track CRS (SPEC 2.7 masked-fever).
FEVER_MASKING_AGENTS = frozenset(
    agent
    for agent in Immunosuppressant
    if agent is Immunosuppressant.TOCILIZUMAB or agent.is_corticosteroid
)

# -- SPEC 2.8 biomarkers (display only) ----------------------------------------------------------
#: Our choice: a change of more than 10% between the last two results is a trend, else stable.
TREND_RELATIVE_CHANGE = 0.10
