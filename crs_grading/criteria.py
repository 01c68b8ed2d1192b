"""Stable names: the criteria a ``Driver`` reports and the attribution warning codes.

These strings are public contract (SPEC section 4, ``drivers[].criterion`` and
``attributionWarnings[].code``) and are documented one by one in ``docs/grading.md``. Never rename
one; add new ones.
"""

from __future__ import annotations

import enum


class Criterion(enum.StrEnum):
    """A grading criterion that fired. Lee 2014 names are bare; ASTCT 2019 names start ``astct-``.

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


class WarningCode(enum.StrEnum):
    """Attribution warning codes of SPEC 2.7 (``AttributionWarning.code``)."""

    POSITIVE_BLOOD_CULTURE = "positive-blood-culture"
    NEUTROPENIA = "neutropenia"
    ELEVATED_LACTATE = "elevated-lactate"
    INFECTION_DIAGNOSIS = "infection-diagnosis"
    LATE_ONSET = "late-onset"
    MASKED_FEVER = "masked-fever"


class NeurologicKind(enum.StrEnum):
    """``NeurologicFinding.kind`` for scores; a condition's kind is its term (SPEC 2.5)."""

    GCS_BELOW_15 = "gcs-below-15"
    ICE_BELOW_10 = "ice-below-10"
