"""Stable names: every code the clinical core reports, end to end, as enums.

- ``Criterion``: the criteria a ``Driver`` reports (SPEC section 4 ``drivers[].criterion``);
- ``WarningCode``: the attribution warnings of SPEC 2.7 (``attributionWarnings[].code``);
- ``NeurologicKind``: the scored kinds of neurologic dysfunction (SPEC 2.5);
- ``Severity``: how urgent a plan or finding is; the values are CDS Hooks card indicators;
- ``AdviceCode``, ``ReminderCode``, ``RedoseRule``, ``OrderFindingCode``: what the treatment
  algorithm and the order checks say (``docs/treatment.md``);
- ``OverrideReason``: why a clinician may dismiss a card (``docs/cards.md``).

These strings are public contract (the assessment extension, the order-hook cards, feedback and
audit join on them) and are documented one by one in ``docs/grading.md``, ``docs/cards.md`` and
``docs/treatment.md``. Never rename one; add new ones. Code compares members, never strings.
"""

from __future__ import annotations

import enum


class Criterion(enum.StrEnum):
    """A grading criterion that fired. Lee 2014 names are bare; ASTCT 2019 names start ``astct-``;
    ICANS (ASTCT 2019, SPEC 2.9) names start ``icans-``.

    Organ toxicity follows one scheme: ``organ-toxicity-<term>-grade-<CTCAE grade>``; grade 4 AST
    or ALT is ``transaminitis-grade-4`` (CRS grade 3 by seed Table 2).
    """

    # Lee 2014 revised grading, seed Table 2 and Table 3.
    FEVER = "fever"
    CONSTITUTIONAL_SYMPTOMS = "constitutional-symptoms"
    HYPOTENSION = "hypotension"
    VASOPRESSOR_LOW_DOSE = "vasopressor-low-dose"
    VASOPRESSOR_UNKNOWN_DOSE = "vasopressor-unknown-dose"
    VASOPRESSOR_HIGH_DOSE = "vasopressor-high-dose"
    MULTIPLE_VASOPRESSORS = "multiple-vasopressors"
    OXYGEN_LOW_FIO2 = "oxygen-low-fio2"
    OXYGEN_HIGH_FIO2 = "oxygen-high-fio2"
    VENTILATION = "ventilation"
    AST_INCREASED_GRADE_2 = "organ-toxicity-ast-increased-grade-2"
    AST_INCREASED_GRADE_3 = "organ-toxicity-ast-increased-grade-3"
    ALT_INCREASED_GRADE_2 = "organ-toxicity-alt-increased-grade-2"
    ALT_INCREASED_GRADE_3 = "organ-toxicity-alt-increased-grade-3"
    TRANSAMINITIS_GRADE_4 = "transaminitis-grade-4"
    BILIRUBIN_INCREASED_GRADE_2 = "organ-toxicity-bilirubin-increased-grade-2"
    BILIRUBIN_INCREASED_GRADE_3 = "organ-toxicity-bilirubin-increased-grade-3"
    BILIRUBIN_INCREASED_GRADE_4 = "organ-toxicity-bilirubin-increased-grade-4"
    CREATININE_INCREASED_GRADE_2 = "organ-toxicity-creatinine-increased-grade-2"
    CREATININE_INCREASED_GRADE_3 = "organ-toxicity-creatinine-increased-grade-3"
    CREATININE_INCREASED_GRADE_4 = "organ-toxicity-creatinine-increased-grade-4"
    FIBRINOGEN_DECREASED_GRADE_2 = "organ-toxicity-fibrinogen-decreased-grade-2"
    FIBRINOGEN_DECREASED_GRADE_3 = "organ-toxicity-fibrinogen-decreased-grade-3"
    FIBRINOGEN_DECREASED_GRADE_4 = "organ-toxicity-fibrinogen-decreased-grade-4"
    EJECTION_FRACTION_DECREASED_GRADE_2 = "organ-toxicity-ejection-fraction-decreased-grade-2"
    EJECTION_FRACTION_DECREASED_GRADE_3 = "organ-toxicity-ejection-fraction-decreased-grade-3"
    EJECTION_FRACTION_DECREASED_GRADE_4 = "organ-toxicity-ejection-fraction-decreased-grade-4"
    DEATH = "death"

    # ASTCT 2019 consensus grading (SPEC 2.4).
    ASTCT_FEVER = "astct-fever"
    ASTCT_HYPOTENSION_NO_VASOPRESSOR = "astct-hypotension-no-vasopressor"
    ASTCT_LOW_FLOW_OXYGEN = "astct-low-flow-oxygen"
    ASTCT_ONE_VASOPRESSOR = "astct-one-vasopressor"
    ASTCT_HIGH_FLOW_OXYGEN = "astct-high-flow-oxygen"
    ASTCT_MULTIPLE_VASOPRESSORS = "astct-multiple-vasopressors"
    ASTCT_POSITIVE_PRESSURE = "astct-positive-pressure"
    ASTCT_DEATH = "astct-death"

    # ICANS, ASTCT 2019 (SPEC 2.9): one criterion per domain; the driver's grade is the row's.
    ICANS_ICE_SCORE = "icans-ice-score"
    ICANS_CAPD_SCORE = "icans-capd-score"
    ICANS_DEPRESSED_CONSCIOUSNESS = "icans-depressed-consciousness"
    ICANS_SEIZURE = "icans-seizure"
    ICANS_MOTOR_WEAKNESS = "icans-motor-weakness"
    ICANS_CEREBRAL_EDEMA = "icans-cerebral-edema"
    ICANS_RAISED_INTRACRANIAL_PRESSURE = "icans-raised-intracranial-pressure"


class WarningCode(enum.StrEnum):
    """Attribution warning codes of SPEC 2.7 (``AttributionWarning.code``)."""

    POSITIVE_BLOOD_CULTURE = "positive-blood-culture"
    NEUTROPENIA = "neutropenia"
    ELEVATED_LACTATE = "elevated-lactate"
    INFECTION_DIAGNOSIS = "infection-diagnosis"
    LATE_ONSET = "late-onset"
    MASKED_FEVER = "masked-fever"
    IEC_HS = "iec-hs"  # SPEC 2.10: possible IEC-associated HLH-like syndrome (never a grade)

    @property
    def is_infection_signal(self) -> bool:
        """One of the four signals that, with an immunosuppression suggestion, make the card
        critical and unselect the suggestion (SPEC 2.7)."""
        return self in INFECTION_SIGNALS


#: SPEC 2.7: the first four warnings are infection signals; late onset and masked fever are not.
INFECTION_SIGNALS: frozenset[WarningCode] = frozenset(
    {
        WarningCode.POSITIVE_BLOOD_CULTURE,
        WarningCode.NEUTROPENIA,
        WarningCode.ELEVATED_LACTATE,
        WarningCode.INFECTION_DIAGNOSIS,
    }
)


class NeurologicKind(enum.StrEnum):
    """``NeurologicFinding.kind`` for scores; a condition's kind is its term (SPEC 2.5)."""

    GCS_BELOW_15 = "gcs-below-15"
    ICE_BELOW_10 = "ice-below-10"
    ICANS = "icans"  # SPEC 2.9: any ICANS grade >= 1 is neurologic dysfunction


class Severity(enum.StrEnum):
    """How urgent a plan or a finding is; the values are CDS Hooks card indicators."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class AdviceCode(enum.StrEnum):
    """One line of the treatment plan's non-drug advice (``Advice.code``)."""

    MONITORING = "monitoring"  # grade 0
    SUPPORTIVE_CARE = "supportive-care"  # every grade 1-4
    CONSIDER_INFECTION = "consider-infection"  # every grade 1-4
    CULTURES_AND_ANTIBIOTICS = "cultures-and-antibiotics"  # fever in the window
    SYMPTOMATIC_TREATMENT = "symptomatic-treatment"  # grade 1
    CLOSE_MONITORING = "close-monitoring"  # grade 2
    CARDIAC_MONITORING = "cardiac-monitoring"  # grade 2-4
    NO_IMMUNOSUPPRESSION_GRADE_2 = "no-immunosuppression-grade-2"  # grade 2, not older/comorbid
    ICU_MONITORING = "icu-monitoring"  # grade 3-4
    IMMUNOSUPPRESSION_FOR_ALL = "immunosuppression-for-all"  # grade 3
    LIFE_THREATENING = "life-threatening"  # grade 4
    DEATH_RECORDED = "death-recorded"  # grade 5
    ALREADY_GIVEN = "already-given"  # Assessment.immunosuppressants_given
    REASSESS_AFTER_TOCILIZUMAB = "reassess-after-tocilizumab"  # within 24 h of a dose
    ICANS_BESIDE_GRADE_2_CRS = "icans-beside-grade-2-crs"  # ICANS >= 2 at CRS grade 2 (SPEC 2.9)


class ReminderCode(enum.StrEnum):
    """A fact the cards of one answer must show, said once (SPEC 2.3, 2.7, section 4)."""

    SEPSIS_CAUTION = "sepsis-caution"  # infection signal + immunosuppression suggestion
    ATTRIBUTION_WARNING = "attribution-warning"  # late onset, masked fever
    INFECTION_SIGNAL = "infection-signal"  # each of the four infection signals
    NO_FEVER = "no-fever"  # grade 2-4 without fever in the window
    CULTURES_AND_ANTIBIOTICS = "cultures-and-antibiotics"  # febrile, or neutropenic


class RedoseRule(enum.StrEnum):
    """Why tocilizumab is not suggested again now (``WithheldTreatment.code``); the first three
    are also order-check codes."""

    TOO_MANY_DOSES = "too-many-doses"  # label: up to 3 additional doses, 4 in all
    TOO_SOON = "redose-too-soon"  # label: at least 8 h between doses
    BEFORE_REASSESSMENT = "redose-before-reassessment"  # seed: only if not improved in 24 h
    NOT_INDICATED = "redose-not-indicated"  # seed: a second dose is for grade >= 3


class OrderFindingCode(enum.StrEnum):
    """What the checks of a draft order found (``OrderFinding.code``; docs/treatment.md)."""

    # dose against the protocol and its maximum (SPEC 2.6)
    DOSE_ABOVE_MAXIMUM = "dose-above-maximum"
    DOSE_OFF_PROTOCOL = "dose-off-protocol"
    DOSE_UNCHECKED_NO_WEIGHT = "dose-unchecked-no-weight"
    DOSE_UNCHECKED_NO_AGE = "dose-unchecked-no-age"
    DOSE_UNREADABLE = "dose-unreadable"
    DOSE_NO_PROTOCOL = "dose-no-protocol"
    # route (label: IV for CRS)
    ROUTE_NOT_INTRAVENOUS = "route-not-intravenous"
    # indication against the grade (seed Figure 2)
    INDICATION_GRADE_TOO_LOW = "indication-grade-too-low"
    INDICATION_GRADE_2_WITHOUT_RISK = "indication-grade-2-without-risk"
    CORTICOSTEROID_SECOND_LINE = "corticosteroid-second-line"
    OTHER_AGENT_NOT_ROUTINE = "other-agent-not-routine"
    # tocilizumab redosing (label; seed)
    TOO_MANY_DOSES = "too-many-doses"
    REDOSE_TOO_SOON = "redose-too-soon"
    REDOSE_BEFORE_REASSESSMENT = "redose-before-reassessment"
    REDOSE_BELOW_GRADE_3 = "redose-below-grade-3"
    # attribution (SPEC 2.7): about the patient, not the order
    INFECTION_COULD_EXPLAIN = "infection-could-explain"
    LATE_ONSET = "late-onset"
    MASKED_FEVER = "masked-fever"
    IEC_HS = "iec-hs"  # SPEC 2.10: possible HLH-like syndrome (the warning of the same code)
    # ICANS (SPEC 2.9): tocilizumab does not treat ICANS without CRS
    TOCILIZUMAB_FOR_ICANS = "tocilizumab-for-icans-without-crs"

    @property
    def about_the_patient(self) -> bool:
        """True for findings that describe the patient rather than the order: the same for
        every draft order of one call, so shown once."""
        return self in _PATIENT_FINDINGS

    @property
    def is_dose_finding(self) -> bool:
        """True for the findings about the ordered dose."""
        return self in _DOSE_FINDINGS


_PATIENT_FINDINGS = frozenset(
    {
        OrderFindingCode.INFECTION_COULD_EXPLAIN,
        OrderFindingCode.LATE_ONSET,
        OrderFindingCode.MASKED_FEVER,
        OrderFindingCode.IEC_HS,
    }
)
_DOSE_FINDINGS = frozenset(
    {
        OrderFindingCode.DOSE_ABOVE_MAXIMUM,
        OrderFindingCode.DOSE_OFF_PROTOCOL,
        OrderFindingCode.DOSE_UNCHECKED_NO_WEIGHT,
        OrderFindingCode.DOSE_UNCHECKED_NO_AGE,
        OrderFindingCode.DOSE_UNREADABLE,
        OrderFindingCode.DOSE_NO_PROTOCOL,
    }
)


class OverrideReason(enum.StrEnum):
    """Why a clinician may dismiss a card (CDS Hooks overrideReasons; feedback joins on these)."""

    ATTRIBUTED_TO_INFECTION = "attributed-to-infection"
    ATTRIBUTED_TO_CRS = "attributed-to-crs"
    ALREADY_TREATED = "already-treated"
    INFECTION_BEING_TREATED = "infection-being-treated"
    RECORD_OUT_OF_DATE = "record-out-of-date"
    DOSE_INTENDED = "dose-intended"
    CLINICAL_JUDGEMENT = "clinical-judgement"
    PATIENT_PREFERENCE = "patient-preference"


class DataKind(enum.StrEnum):
    """A part of the patient's record, as a clinician names what it holds (each prefetch key of
    the service reads one); used to say what may be missing when it cannot be read."""

    PATIENT = "patient"
    VITAL_SIGNS = "vital-signs"
    LABORATORY_RESULTS = "laboratory-results"
    BLOOD_CULTURES = "blood-cultures"
    BASELINES = "baselines"
    NEUROLOGIC_ASSESSMENTS = "neurologic-assessments"
    MEDICATION_ADMINISTRATIONS = "medication-administrations"
    DIAGNOSES = "diagnoses"
    PROCEDURES = "procedures"
