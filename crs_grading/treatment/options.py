"""Treatment options: the protocol and the algorithm's thresholds.

Every default is a row of ``crs_grading.tables.treatment`` (where its source is written); a
service may override them by settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from crs_grading.tables import treatment
from crs_grading.tables.treatment import Protocol


@dataclass(frozen=True, slots=True)
class TreatmentOptions:
    """How ``plan_treatment`` and ``check_draft_order`` decide.

    - ``protocol``: the tocilizumab dosing table (SPEC 2.6; ``CRS_CDS_TOCILIZUMAB_PROTOCOL``).
    - ``older_age_years``: at grade 2, patients this old or older are offered tocilizumab
      (seed Figure 2 "older age"; the number is SPEC 2.6's configurable 65 y).
    - ``min_redose_interval``: never a tocilizumab dose sooner after the last one [label: at
      least 8 hours between consecutive doses].
    - ``reassess_after``: a second tocilizumab dose (or a corticosteroid) only if grade >= 3
      persists this long after the last dose [seed: "within 24 hours of the tocilizumab dose"].
    - ``max_tocilizumab_doses``: never more doses in total [label: up to 3 additional doses
      after the first, so 4].
    - ``dose_tolerance``: an ordered dose further than this fraction from the protocol dose is
      flagged (our policy, issue 4: 10%).
    """

    protocol: Protocol = Protocol.LEE_2014
    older_age_years: float = treatment.OLDER_AGE_YEARS
    min_redose_interval: timedelta = treatment.MIN_REDOSE_INTERVAL
    reassess_after: timedelta = treatment.REASSESS_AFTER
    max_tocilizumab_doses: int = treatment.MAX_TOCILIZUMAB_DOSES
    dose_tolerance: Decimal = treatment.DOSE_TOLERANCE

    def __post_init__(self) -> None:
        if not isinstance(self.protocol, Protocol):
            raise ValueError(f"protocol must be one of {', '.join(Protocol)}")
        if self.older_age_years <= 0:
            raise ValueError("older_age_years must be positive")
        if self.min_redose_interval < timedelta(0):
            raise ValueError("min_redose_interval must not be negative")
        if self.reassess_after <= timedelta(0):
            raise ValueError("reassess_after must be positive")
        if self.max_tocilizumab_doses < 1:
            raise ValueError("max_tocilizumab_doses must be at least 1")
        if not Decimal(0) <= self.dose_tolerance < Decimal(1):
            raise ValueError("dose_tolerance must be a fraction from 0 to below 1")
