"""Hypotension by age: Mahadeo et al., Nat Rev Clin Oncol 2019 (paediatric CAR-T consensus).

The seed gives no number for hypotension; SPEC 2.3 adopts these. A reading is hypotensive when
any row for the patient's age (completed years) fires. When age is unknown the adult rows apply
and the assessment lists the gap.

The mean arterial pressure is the measured one when the EHR sent it, else derived as
``diastolic + (systolic - diastolic) / 3`` (the usual bedside formula).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from crs_grading.tables.common import Comparison


class Pressure(enum.StrEnum):
    SYSTOLIC = "systolic"
    MEAN = "mean"


@dataclass(frozen=True, slots=True)
class HypotensionRow:
    """``pressure < base + per_year x age`` for ``min_age <= age < max_age`` (completed years)."""

    min_age: int
    max_age: int | None  # None: no upper bound
    pressure: Pressure
    base_mmhg: float
    per_year_mmhg: float
    source: str

    def applies(self, age_years: int) -> bool:
        return self.min_age <= age_years and (self.max_age is None or age_years < self.max_age)

    def threshold(self, age_years: int) -> float:
        return self.base_mmhg + self.per_year_mmhg * age_years


COMPARISON = Comparison.BELOW  # every row: strictly below the threshold

ROWS: tuple[HypotensionRow, ...] = (
    HypotensionRow(0, 1, Pressure.SYSTOLIC, 70.0, 0.0, "Mahadeo 2019: SBP < 70 mmHg under 1 y"),
    HypotensionRow(
        1, 11, Pressure.SYSTOLIC, 70.0, 2.0, "Mahadeo 2019: SBP < 70 + 2 x age mmHg at 1-10 y"
    ),
    HypotensionRow(
        11, None, Pressure.SYSTOLIC, 90.0, 0.0, "Mahadeo 2019: SBP < 90 mmHg at >= 11 y"
    ),
    HypotensionRow(18, None, Pressure.MEAN, 65.0, 0.0, "Mahadeo 2019: MAP < 65 mmHg at >= 18 y"),
)

#: Age the rows assume when the birth date is unknown (adult thresholds, listed as a data gap).
UNKNOWN_AGE_ASSUMED = 18
