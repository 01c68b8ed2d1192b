"""Condition -> infection, neurologic, comorbidity and constitutional findings (SPEC 2.5-2.7)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from crs_grading.inputs import (
    ConditionCategory,
    ConditionFinding,
    NeurologicSign,
    NeurologicSignFinding,
)

from ._context import MappingContext
from ._fhir import JSON, ElementError, TimeReader, codings, concept_texts, optional_object
from ._names import MAX_MATCH_TEXTS, NameMatcher, affirmed, phrases, surviving
from .neurology import condition_signs
from .options import MappingOptions
from .valuesets.conditions import (
    ACTIVE_CLINICAL_STATUSES,
    CONDITION_NAMES,
    INACTIVE_CLINICAL_STATUSES,
    NEUROLOGIC_NAMES,
    REFUTED_VERIFICATION_STATUSES,
    SNOMED_CONDITIONS,
    Term,
    icd10_term,
)
from .valuesets.infections import CHAPTER_1_TERM
from .valuesets.statuses import CONDITION_ENTERED_IN_ERROR
from .valuesets.systems import ICD10_SYSTEMS, SNOMED

_COMORBIDITY = ConditionCategory.COMORBIDITY


#: The longest coding display used as the term of a chapter-1 code with no term of its own.
_DISPLAY_TERM_LENGTH = 60


def _category(term: Term) -> ConditionCategory:
    return term[0]


class ConditionMatcher:
    """The value sets of valuesets/conditions.py plus the configured comorbidities."""

    def __init__(self, codes: tuple[tuple[str, str], ...], terms: tuple[str, ...]) -> None:
        self._extra_codes = frozenset(codes)
        self._extra_names: NameMatcher[str] = NameMatcher(
            phrase for term in terms for phrase in phrases(term, term)
        )

    def categories(self, code: object) -> dict[ConditionCategory, str]:
        """Category -> clinician-facing term for a Condition.code; codes first, then names."""
        found: dict[ConditionCategory, str] = {}
        texts = concept_texts(code, "code")
        for coding in codings(code, "code"):
            system, value = coding.get("system"), coding.get("code")
            if not isinstance(system, str) or not isinstance(value, str):
                continue
            term: Term | None = None
            if system == SNOMED:
                term = SNOMED_CONDITIONS.get(value)
            elif system in ICD10_SYSTEMS:
                term = icd10_term(value)
                if term == CHAPTER_1_TERM:  # "B44.0 Invasive pulmonary aspergillosis"
                    display = coding.get("display")
                    if isinstance(display, str) and 0 < len(display) <= _DISPLAY_TERM_LENGTH:
                        term = (term[0], display.lower())
            if term is not None:
                found.setdefault(term[0], term[1])
            if (system, value) in self._extra_codes:
                display = coding.get("display")
                name = display if isinstance(display, str) and display else None
                found.setdefault(_COMORBIDITY, name or (texts[-1] if texts else "comorbidity"))
        for text in texts[:MAX_MATCH_TEXTS]:
            for category, term_name in surviving(CONDITION_NAMES.find(text), key=_category):
                found.setdefault(category, term_name)
            for category, term_name in affirmed(NEUROLOGIC_NAMES, text, key=_category):
                found.setdefault(category, term_name)
            for extra in self._extra_names.find_in(texts):
                found.setdefault(_COMORBIDITY, extra)
        return found


@lru_cache(maxsize=16)
def _matcher(codes: tuple[tuple[str, str], ...], terms: tuple[str, ...]) -> ConditionMatcher:
    return ConditionMatcher(codes, terms)


def condition_matcher(options: MappingOptions) -> ConditionMatcher:
    """The matcher for these options (built once per distinct configuration)."""
    return _matcher(options.extra_comorbidity_codes, options.extra_comorbidity_terms)


def _status_codes(resource: JSON, element: str) -> set[str]:
    return {
        code
        for coding in codings(resource.get(element), element)
        if isinstance(code := coding.get("code"), str)
    }


def _onset(times: TimeReader, condition: JSON) -> datetime | None:
    onset: datetime | None = None
    if "onsetDateTime" in condition:
        onset = times.optional(condition["onsetDateTime"], "onsetDateTime", time_matters=False)
    elif "onsetPeriod" in condition:
        period = optional_object(condition["onsetPeriod"], "onsetPeriod")
        if period is not None:
            onset = times.optional(period.get("start"), "onsetPeriod.start", time_matters=False)
    if onset is None:
        onset = times.optional(condition.get("recordedDate"), "recordedDate", time_matters=False)
    return onset


def _abatement(times: TimeReader, condition: JSON) -> datetime | None:
    if "abatementDateTime" in condition:
        return times.optional(
            condition["abatementDateTime"], "abatementDateTime", time_matters=False
        )
    if "abatementPeriod" in condition:
        period = optional_object(condition["abatementPeriod"], "abatementPeriod")
        if period is not None:
            return times.optional(period.get("start"), "abatementPeriod.start", time_matters=False)
    return None


def map_condition(
    context: MappingContext, matcher: ConditionMatcher, condition: JSON, reference: str
) -> None:
    """Map one Condition of the patient: one finding per category it belongs to."""
    verification = _status_codes(condition, "verificationStatus")
    if CONDITION_ENTERED_IN_ERROR in verification:
        return
    found = matcher.categories(condition.get("code"))
    signs = condition_signs(condition.get("code"))  # SPEC 2.9 ICANS signs
    if not found and not signs:
        return
    context.validate(condition)
    clinical = _status_codes(condition, "clinicalStatus")
    refuted = bool(verification & REFUTED_VERIFICATION_STATUSES)
    active = not (clinical & INACTIVE_CLINICAL_STATUSES) and not refuted
    ongoing = bool(clinical & ACTIVE_CLINICAL_STATUSES) and active  # said to go on: a state lasts
    onset_keys = [key for key in condition if key.startswith("onset")]
    onset = abatement = None
    try:  # SPEC 3: an unreadable onset or abatement loses only itself
        if len(onset_keys) > 1:
            raise ElementError("onset[x]", "has more than one type")
        onset = _onset(context.times, condition)
    except ElementError as error:
        context.skip_element(reference, error)
    try:
        abatement = _abatement(context.times, condition)
    except ElementError as error:
        context.skip_element(reference, error)
    for category, name in found.items():
        context.conditions.append(
            ConditionFinding(category, name, active, reference, onset, abatement, refuted)
        )
    if signs and not refuted:
        dated = onset if onset_keys else None  # the recordedDate stays apart
        _signs(context, condition, reference, signs, dated, ongoing, abatement)


def _signs(
    context: MappingContext,
    condition: JSON,
    reference: str,
    signs: list[tuple[NeurologicSign, str]],
    onset: datetime | None,
    active: bool,
    abatement: datetime | None,
) -> None:
    """ICANS signs of a Condition, dated by onset and recordedDate apart, with the Condition's
    clinical status and abatement, which a state lasts by (SPEC 2.9)."""
    try:
        recorded = context.times.optional(
            condition.get("recordedDate"), "recordedDate", time_matters=False
        )
    except ElementError as error:
        context.skip_element(reference, error)
        recorded = None
    for sign, name in signs:
        context.neurologic_signs.append(
            NeurologicSignFinding(sign, name, reference, onset, recorded, active, abatement)
        )
