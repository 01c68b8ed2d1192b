"""The treatment algorithm's numbers as data: doses, maxima, intervals and limits (SPEC 2.6).

One row or constant per rule, its source beside it. ``crs_grading.treatment`` applies them and
``TreatmentOptions`` takes its defaults from here; no other module holds a dose or a limit.

- Tocilizumab IV over 1 h: protocol ``lee2014`` (default) 8 mg/kg if age < 18 y, 4 mg/kg if
  >= 18 y [seed Tocilizumab]; protocol ``fda-label`` 12 mg/kg if weight < 30 kg, 8 mg/kg if
  >= 30 kg [label, CRS]; at most 800 mg per dose under both [label].
- Methylprednisolone IV 2 mg/kg/day, no maximum [seed Corticosteroids].
- Dexamethasone IV 0.5 mg/kg, at most 10 mg per dose [seed Corticosteroids].
- Redosing: at least 8 h between tocilizumab doses and at most 4 doses in all [label]; a second
  dose only when grade >= 3 persists 24 h after the last one [seed Tocilizumab].
- Grade 2: immunosuppression is considered from age 65 y [seed Figure 2 "older age"; SPEC 2.6].
- Order checks: an ordered dose more than 10% from the protocol dose is flagged [our policy].
- ICANS (SPEC 2.9): ICANS grade >= 2 (ASTCT 2019) with CRS grade <= 1 gets dexamethasone, never
  tocilizumab [seed text: tocilizumab does not cross the blood-brain barrier].
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from crs_grading.criteria import OrderFindingCode, Severity
from crs_grading.inputs import Immunosuppressant
from crs_grading.tables.sources import RuleSource

__all__ = [
    "DEXAMETHASONE_MAX_MG",
    "DOSE_TABLE",
    "CORTICOSTEROID_REPEAT_AFTER",
    "DOSE_TOLERANCE",
    "ICANS_ALONE_MAX_CRS_GRADE",
    "ICANS_CORTICOSTEROID_GRADE",
    "INTRAVENOUS",
    "MAX_TOCILIZUMAB_DOSES",
    "MIN_REDOSE_INTERVAL",
    "OLDER_AGE_YEARS",
    "ORDER_FINDINGS",
    "REASSESS_AFTER",
    "RXNORM",
    "TOCILIZUMAB_INFUSION",
    "TOCILIZUMAB_MAX_MG",
    "Band",
    "DoseRow",
    "DrugCode",
    "PatientMeasure",
    "Protocol",
    "RouteCode",
]


class Protocol(enum.StrEnum):
    """Which tocilizumab dosing table applies (``CRS_CDS_TOCILIZUMAB_PROTOCOL``)."""

    LEE_2014 = "lee2014"  # the seed's dosing: by age (default)
    FDA_LABEL = "fda-label"  # the US prescribing information for CRS: by weight


class PatientMeasure(enum.StrEnum):
    """The patient measure a dosing row is chosen by."""

    AGE = "age"  # years
    WEIGHT = "weight"  # kg

    @property
    def unit(self) -> str:
        return "y" if self is PatientMeasure.AGE else "kg"


@dataclass(frozen=True, slots=True)
class Band:
    """A half-open band of one patient measure: ``at_least <= value < below``."""

    measure: PatientMeasure
    at_least: Decimal | None = None
    below: Decimal | None = None

    def contains(self, value: Decimal) -> bool:
        if self.at_least is not None and value < self.at_least:
            return False
        return self.below is None or value < self.below


@dataclass(frozen=True, slots=True)
class DoseRow:
    """One dosing rule: for ``drug`` under ``protocols`` when ``band`` holds.

    ``mg_per_kg`` is per dose, or per day when ``per_day``. ``maximum_mg`` caps one dose.
    Every row is intravenous; ``infusion`` is how long one dose runs, when a source says so.
    """

    drug: Immunosuppressant
    protocols: frozenset[Protocol]
    band: Band | None
    mg_per_kg: Decimal
    per_day: bool
    maximum_mg: int | None
    infusion: timedelta | None
    source: RuleSource
    maximum_source: RuleSource | None = None


#: [label] "Doses exceeding 800 mg per infusion are not recommended in CRS"; SPEC 2.6 applies it
#: under both protocols. The one place the tocilizumab maximum is written.
TOCILIZUMAB_MAX_MG = 800

#: [seed Corticosteroids] "dexamethasone (0.5 mg/kg; maximum, 10 mg/dose)".
DEXAMETHASONE_MAX_MG = 10

#: [seed Tocilizumab] "administered over 1 hour"; [label] "as a 60-minute intravenous infusion".
TOCILIZUMAB_INFUSION = timedelta(hours=1)

_BOTH = frozenset(Protocol)
_AGE_18 = Decimal(18)
_WEIGHT_30 = Decimal(30)
_T = Immunosuppressant.TOCILIZUMAB

#: Every dosing rule of SPEC 2.6, one row each, source beside it.
DOSE_TABLE: tuple[DoseRow, ...] = (
    # seed Tocilizumab: "4 mg/kg in adults and 8 mg/kg in children", over 1 hour
    DoseRow(
        _T,
        frozenset({Protocol.LEE_2014}),
        Band(PatientMeasure.AGE, below=_AGE_18),
        Decimal(8),
        per_day=False,
        maximum_mg=TOCILIZUMAB_MAX_MG,
        infusion=TOCILIZUMAB_INFUSION,
        source=RuleSource.SEED_TOCILIZUMAB,
        maximum_source=RuleSource.TOCILIZUMAB_USPI,
    ),
    DoseRow(
        _T,
        frozenset({Protocol.LEE_2014}),
        Band(PatientMeasure.AGE, at_least=_AGE_18),
        Decimal(4),
        per_day=False,
        maximum_mg=TOCILIZUMAB_MAX_MG,
        infusion=TOCILIZUMAB_INFUSION,
        source=RuleSource.SEED_TOCILIZUMAB,
        maximum_source=RuleSource.TOCILIZUMAB_USPI,
    ),
    # label, CRS: 12 mg/kg for patients < 30 kg, 8 mg/kg for >= 30 kg, IV over 60 minutes
    DoseRow(
        _T,
        frozenset({Protocol.FDA_LABEL}),
        Band(PatientMeasure.WEIGHT, below=_WEIGHT_30),
        Decimal(12),
        per_day=False,
        maximum_mg=TOCILIZUMAB_MAX_MG,
        infusion=TOCILIZUMAB_INFUSION,
        source=RuleSource.TOCILIZUMAB_USPI,
        maximum_source=RuleSource.TOCILIZUMAB_USPI,
    ),
    DoseRow(
        _T,
        frozenset({Protocol.FDA_LABEL}),
        Band(PatientMeasure.WEIGHT, at_least=_WEIGHT_30),
        Decimal(8),
        per_day=False,
        maximum_mg=TOCILIZUMAB_MAX_MG,
        infusion=TOCILIZUMAB_INFUSION,
        source=RuleSource.TOCILIZUMAB_USPI,
        maximum_source=RuleSource.TOCILIZUMAB_USPI,
    ),
    # seed Corticosteroids: "methylprednisolone (2 mg/kg/day)", weaned over days
    DoseRow(
        Immunosuppressant.METHYLPREDNISOLONE,
        _BOTH,
        None,
        Decimal(2),
        per_day=True,
        maximum_mg=None,
        infusion=None,
        source=RuleSource.SEED_CORTICOSTEROIDS,
    ),
    # seed Corticosteroids: "dexamethasone (0.5 mg/kg; maximum, 10 mg/dose)"
    DoseRow(
        Immunosuppressant.DEXAMETHASONE,
        _BOTH,
        None,
        Decimal("0.5"),
        per_day=False,
        maximum_mg=DEXAMETHASONE_MAX_MG,
        infusion=None,
        source=RuleSource.SEED_CORTICOSTEROIDS,
        maximum_source=RuleSource.SEED_CORTICOSTEROIDS,
    ),
)


@dataclass(frozen=True, slots=True)
class DrugCode:
    """The RxNorm ingredient coding of a drug, as plain strings (the cards layer builds FHIR)."""

    rxnorm_code: str
    rxnorm_display: str


#: RxNorm ingredient codes of the drugs the algorithm suggests (SPEC 3; the same codes
#: ``fhir_maps.valuesets.medications`` reads).
RXNORM: dict[Immunosuppressant, DrugCode] = {
    Immunosuppressant.TOCILIZUMAB: DrugCode("612865", "tocilizumab"),
    Immunosuppressant.DEXAMETHASONE: DrugCode("3264", "dexamethasone"),
    Immunosuppressant.METHYLPREDNISOLONE: DrugCode("6902", "methylprednisolone"),
}


@dataclass(frozen=True, slots=True)
class RouteCode:
    """A route of administration as SNOMED CT (the FHIR R4 route-codes value set)."""

    snomed_code: str
    display: str
    text: str


#: SNOMED CT 47625008 "Intravenous route": every row of ``DOSE_TABLE`` is given IV.
INTRAVENOUS = RouteCode("47625008", "Intravenous route", "intravenous")

# -- The algorithm's limits (seed Figure 2 and Tocilizumab section; label) ------------------------

#: seed Figure 2 "older age"; SPEC 2.6 sets it at 65 y (configurable): from this age a grade 2
#: patient is offered tocilizumab to consider.
OLDER_AGE_YEARS = 65.0

#: [label] "at least 8 hours between consecutive doses".
MIN_REDOSE_INTERVAL = timedelta(hours=8)

#: [seed Tocilizumab] a second dose "if no improvement within 24 hours" of the first.
REASSESS_AFTER = timedelta(hours=24)

#: [label] "up to 3 additional doses" after the first: 4 in all.
MAX_TOCILIZUMAB_DOSES = 4

#: Our policy (found in review: a corticosteroid was suggested, preselected, 1 h after the same
#: dose): a corticosteroid suggested again within this time of a dose of it is not preselected
#: and its card says when it was given. The seed gives no interval: dexamethasone 10 mg every
#: 6 h is common practice for CRS and ICANS (e.g. the ASCO 2021 guideline); methylprednisolone
#: is the protocol's daily dose (seed "2 mg/kg/day"), given once a day.
CORTICOSTEROID_REPEAT_AFTER: dict[Immunosuppressant, timedelta] = {
    Immunosuppressant.DEXAMETHASONE: timedelta(hours=6),
    Immunosuppressant.METHYLPREDNISOLONE: timedelta(hours=24),
}

#: Our policy (issue 4): an ordered dose further than this fraction from the protocol dose is
#: flagged (exactly 10% is not).
DOSE_TOLERANCE = Decimal("0.10")

# -- ICANS beside CRS (SPEC 2.9) -------------------------------------------------------------------

#: SPEC 2.9: from this ICANS grade (ASTCT 2019) a corticosteroid is suggested when CRS does not
#: call for immunosuppression itself: "ICANS grade >= 2 with CRS grade <= 1 gets a recommended
#: dexamethasone suggestion ... and no tocilizumab suggestion".
ICANS_CORTICOSTEROID_GRADE = 2

#: SPEC 2.9: the highest CRS grade at which ICANS counts as "without CRS": dexamethasone for
#: ICANS >= 2, no tocilizumab suggestion, and a tocilizumab order for ICANS is flagged.
ICANS_ALONE_MAX_CRS_GRADE = 1

# -- Order checks: how urgent each finding is ---------------------------------------------------

_F = OrderFindingCode

#: Severity of each order-check finding (docs/treatment.md). ``indication-grade-too-low`` is
#: ``info`` instead for hydrocortisone, where a stress dose may be meant [seed Corticosteroids].
ORDER_FINDINGS: dict[OrderFindingCode, Severity] = {
    _F.DOSE_ABOVE_MAXIMUM: Severity.CRITICAL,  # label; seed Corticosteroids
    _F.DOSE_OFF_PROTOCOL: Severity.WARNING,  # our 10% policy
    _F.DOSE_UNCHECKED_NO_WEIGHT: Severity.WARNING,  # SPEC 2.6
    _F.DOSE_UNCHECKED_NO_AGE: Severity.WARNING,  # seed Tocilizumab: dose by age
    _F.DOSE_UNREADABLE: Severity.WARNING,  # issue 4
    _F.DOSE_NO_PROTOCOL: Severity.INFO,  # seed: no dose given
    _F.ROUTE_NOT_INTRAVENOUS: Severity.WARNING,  # label: IV for CRS
    _F.INDICATION_GRADE_TOO_LOW: Severity.WARNING,  # seed Figure 2
    _F.INDICATION_GRADE_2_WITHOUT_RISK: Severity.INFO,  # seed Figure 2
    _F.CORTICOSTEROID_SECOND_LINE: Severity.INFO,  # seed Corticosteroids
    _F.OTHER_AGENT_NOT_ROUTINE: Severity.INFO,  # seed other agents
    _F.TOO_MANY_DOSES: Severity.CRITICAL,  # label
    _F.REDOSE_TOO_SOON: Severity.CRITICAL,  # label
    _F.REDOSE_BEFORE_REASSESSMENT: Severity.WARNING,  # seed Tocilizumab
    _F.REDOSE_BELOW_GRADE_3: Severity.INFO,  # seed Tocilizumab
    _F.INFECTION_COULD_EXPLAIN: Severity.CRITICAL,  # SPEC 2.7, seed attribution
    _F.LATE_ONSET: Severity.WARNING,  # SPEC 2.7
    _F.MASKED_FEVER: Severity.INFO,  # SPEC 2.7
    _F.IEC_HS: Severity.WARNING,  # SPEC 2.10: an HLH-like syndrome changes the treatment
    _F.TOCILIZUMAB_FOR_ICANS: Severity.WARNING,  # SPEC 2.9; seed: not across the BBB
}
