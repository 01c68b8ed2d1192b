"""Reference limits: the range that fits the patient, else the defaults (SPEC 2.3, SPEC 3).

CTCAE v4.03 grades organ toxicity against the upper or lower limit of normal (ULN, LLN) of the
laboratory that measured it; Observation.referenceRange carries that range and always wins.
These defaults are conventional ADULT limits
of US hospital laboratories, in the units of ``crs_grading.inputs.LAB_UNITS``, chosen by us (the
AST/ALT, bilirubin, creatinine and fibrinogen values are those the project brief asked for) and
not taken from one cited table. Paediatric and sex-specific limits differ (creatinine
especially), and local laboratories vary: one more reason an EHR should send its ranges.
"""

from __future__ import annotations

from datetime import date

from crs_grading.inputs import LabTest

from ._fhir import JSON, ElementError, codings, list_of_objects, number, optional_object
from ._names import NameMatcher, phrases
from .valuesets.systems import SNOMED

_REFERENCE_RANGE_MEANING = "http://terminology.hl7.org/CodeSystem/referencerange-meaning"
_V3_GENDER = "http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender"
_FHIR_GENDER = "http://hl7.org/fhir/administrative-gender"

#: LabTest -> (low, high); None where no limit is used.
DEFAULT_REFERENCE_RANGES: dict[LabTest, tuple[float | None, float | None]] = {
    LabTest.AST: (None, 40.0),  # U/L; common adult ULN 35-40
    LabTest.ALT: (None, 40.0),  # U/L; common adult ULN 35-40 (higher in men at some labs)
    LabTest.BILIRUBIN: (None, 1.2),  # mg/dL total bilirubin; adult ULN 1.0-1.2
    LabTest.CREATININE: (None, 1.2),  # mg/dL; adult ULN 1.0 (women)-1.3 (men); 1.2 chosen
    LabTest.FIBRINOGEN: (200.0, 400.0),  # mg/dL; adult 200-400
    LabTest.LVEF: (50.0, None),  # %; LVEF below 50 % is reduced (CTCAE v4.03 grades absolute EF)
    LabTest.CRP: (None, 10.0),  # mg/L; adult ULN 5-10
    LabTest.ANC: (1500.0, None),  # /uL; adult LLN 1500-1800
    LabTest.WBC: (4.0, 11.0),  # 10^3/uL; adult 4.0-11.0
    LabTest.LACTATE: (None, 2.0),  # mmol/L; 2.0 is also the SPEC 2.7 warning threshold
    LabTest.PROCALCITONIN: (None, 0.5),  # ng/mL; < 0.5 makes systemic bacterial infection unlikely
    LabTest.LDH: (None, 250.0),  # U/L; adult ULN 220-280 by method (SPEC 2.10 IEC-HS > 2 x ULN)
    # Ferritin and IL-6: ranges vary widely by sex and assay; no default (fold change over the
    # patient's own baseline is what SPEC 2.8 shows). Without a range, the IEC-HS "> 2 x ULN"
    # arm is not checked and the assessment says so (its baseline and doubling arms still are).
    # Platelets and hemoglobin: SPEC 2.10 compares absolute values; no default needed.
}


# --- choosing the range that fits the patient (SPEC 3 "Reference ranges") -----------------------

#: appliesTo codings that name a sex (SNOMED CT findings; HL7 v3 and FHIR administrative gender).
_SEX_CODINGS: dict[tuple[str, str], str] = {
    (SNOMED, "248153007"): "male",  # Male (finding)
    (SNOMED, "248152002"): "female",  # Female (finding)
    (_V3_GENDER, "M"): "male",
    (_V3_GENDER, "F"): "female",
    (_FHIR_GENDER, "male"): "male",
    (_FHIR_GENDER, "female"): "female",
}
_SEX_WORDS: NameMatcher[str] = NameMatcher(
    phrases("male", "male", "males", "men", "man", "boys")
    + phrases("female", "female", "females", "women", "woman", "girls")
)

#: Age units of Range.low/high (UCUM and common text), in the unit ``_completed`` counts.
_AGE_UNITS: dict[str, str] = {
    "a": "years",
    "yr": "years",
    "yrs": "years",
    "year": "years",
    "years": "years",
    "y": "years",
    "mo": "months",
    "month": "months",
    "months": "months",
    "wk": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "d": "days",
    "day": "days",
    "days": "days",
}


def _completed(birth: date, on: date, unit: str) -> int:
    """Completed years, months, weeks or days of age on ``on`` (the way ranges are written:
    "0-17 years" and "18-120 years" leave no gap at 17.5 years)."""
    if unit == "days":
        return (on - birth).days
    if unit == "weeks":
        return (on - birth).days // 7
    months = (on.year - birth.year) * 12 + on.month - birth.month - (on.day < birth.day)
    return months // 12 if unit == "years" else months


def _sex_of(concept: object, element: str) -> str | None:
    """The sex an appliesTo concept names, or None (something else: pregnancy, race, ...)."""
    named = {
        sex
        for coding in codings(concept, element)
        if (sex := _SEX_CODINGS.get((str(coding.get("system")), str(coding.get("code")))))
    }
    if isinstance(concept, dict) and isinstance(concept.get("text"), str):
        named.update(_SEX_WORDS.find(concept["text"]))
    return named.pop() if len(named) == 1 else None


def _age_limit(limit: object, element: str) -> tuple[float, str] | None:
    quantity = optional_object(limit, element)
    if quantity is None or "value" not in quantity:
        return None
    value = number(quantity.get("value"), f"{element}.value")
    keys = [key for key in (quantity.get("code"), quantity.get("unit")) if isinstance(key, str)]
    for key in keys:
        unit = _AGE_UNITS.get(key.strip().lower())
        if unit is not None:
            return value, unit
    if keys:
        raise ElementError(f"{element}.unit", "is not an age unit")
    return value, "years"  # an age range without a unit is read in years (documented)


def _fits(
    candidate: JSON, index: int, sex: str | None, birth: date | None, on: date
) -> tuple[bool, int]:
    """(the range fits the patient, how many criteria it names) for a range with criteria."""
    element = f"referenceRange[{index}]"
    criteria = 0
    applies = candidate.get("appliesTo")
    if applies is not None:
        if not isinstance(applies, list):
            raise ElementError(f"{element}.appliesTo", "is not a list")
        for position, concept in enumerate(applies):
            named = _sex_of(concept, f"{element}.appliesTo[{position}]")
            if named is None or named != sex:
                return False, 0  # another sex, or a population we cannot check: not this one
        criteria += 1
    age = optional_object(candidate.get("age"), f"{element}.age")
    if age is not None:
        low = _age_limit(age.get("low"), f"{element}.age.low")
        high = _age_limit(age.get("high"), f"{element}.age.high")
        if birth is None or birth > on:
            return False, 0
        if low is not None and _completed(birth, on, low[1]) < low[0]:
            return False, 0
        if high is not None and _completed(birth, on, high[1]) > high[0]:
            return False, 0
        criteria += 1
    return True, criteria


def choose_reference_range(
    holder: JSON, prefix: str, sex: str | None, birth: date | None, on: date
) -> tuple[int, JSON] | None:
    """The normal range for this patient (SPEC 3): of the ranges whose type is absent or
    "normal", the one whose appliesTo (sex) and age fit the patient (the most specific when
    several fit), else one with neither, else ``None`` (the defaults above). Never simply the
    first. ``ElementError`` when the ranges cannot be read."""
    best: tuple[int, int, JSON] | None = None
    neutral: tuple[int, JSON] | None = None
    element = f"{prefix}referenceRange"
    for index, candidate in enumerate(list_of_objects(holder.get("referenceRange"), element)):
        kind = candidate.get("type")
        if kind is not None and not any(
            coding.get("system") == _REFERENCE_RANGE_MEANING and coding.get("code") == "normal"
            for coding in codings(kind, f"{element}[{index}].type")
        ):
            continue  # a therapeutic or treatment range is not a normal range
        if candidate.get("appliesTo") is None and candidate.get("age") is None:
            if neutral is None:
                neutral = (index, candidate)
            continue
        fits, criteria = _fits(candidate, index, sex, birth, on)
        if fits and (best is None or criteria > best[0]):
            best = (criteria, index, candidate)
    if best is not None:
        return best[1], best[2]
    return neutral
