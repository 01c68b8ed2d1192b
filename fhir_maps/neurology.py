"""ICANS inputs from FHIR (SPEC 2.9): ICE and CAPD screens (totals, items, "could not be done"),
RASS, neurologic signs from Observations and Conditions, and sedative infusions.

EHRs chart these as flowsheet rows with local codes: a total row, item rows of their own, or
one Observation with the items as components; RASS as a number or as a choice ("-2 Light
sedation"); a seizure as a Condition, or as a "Seizure activity: Yes" row. Everything is read by
the configured codes (``MappingOptions``) and by name; the few verified codes are in
``valuesets/icans.py`` and ``valuesets/neurologic_scores.py``.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import datetime

from crs_grading.inputs import (
    ConsciousnessReading,
    EncephalopathyItem,
    EncephalopathyScreen,
    EncephalopathyTool,
    NeurologicSign,
    NeurologicSignFinding,
    ScreenItem,
    ScreenUnable,
)

from ._context import MappingContext
from ._fhir import JSON, ElementError, TimeReader, codings, concept_texts, number, optional_object
from ._names import MAX_MATCH_TEXTS, affirmed, clauses, words
from .options import MappingOptions
from .valuesets.icans import (
    EDEMA_EXTENT,
    ITEM_NAMES,
    LOINC_ANSWERS,
    NEGATED_SIGN_FILLERS,
    NEGATED_SIGN_OPENERS,
    NEGATIVE_ANSWERS,
    NEGATIVE_LEADS,
    RASS_LEVEL_NAMES,
    SCREEN_NOT_DONE_WORDS,
    SEDATIVE_NAMES,
    SIGN_NAMES,
    SNOMED_ANSWERS,
    SNOMED_SIGNS,
    UNAROUSABLE_BESIDE_A_SCORE,
    ScreenNotDone,
    icd10_sign,
)
from .valuesets.neurologic_scores import RASS_NOT_A_READING
from .valuesets.observations import ObservationKind
from .valuesets.statuses import ADMINISTRATION_COUNTED
from .valuesets.systems import ICD10_SYSTEMS, LOINC_SYSTEMS, SNOMED

__all__ = [
    "NOTE_CAPD_NOT_DONE",
    "NOTE_ICE_NOT_DONE",
    "condition_signs",
    "configured_kind",
    "finish",
    "map_rass",
    "map_screen",
    "map_screen_item",
    "map_sign_observation",
    "note_sedation",
]

_TOOLS = {
    ObservationKind.ICE: EncephalopathyTool.ICE,
    ObservationKind.CAPD: EncephalopathyTool.CAPD,
    ObservationKind.ICE_ITEM: EncephalopathyTool.ICE,
    ObservationKind.CAPD_ITEM: EncephalopathyTool.CAPD,
}
_RANGES = {EncephalopathyTool.ICE: (0.0, 10.0), EncephalopathyTool.CAPD: (0.0, 32.0)}
_ITEM_MAXIMA = {EncephalopathyTool.ICE: None, EncephalopathyTool.CAPD: 4.0}
_ICE_ITEM_MAXIMA = {
    EncephalopathyItem.ICE_ORIENTATION: 4.0,
    EncephalopathyItem.ICE_NAMING: 3.0,
    EncephalopathyItem.ICE_COMMANDS: 1.0,
    EncephalopathyItem.ICE_WRITING: 1.0,
    EncephalopathyItem.ICE_ATTENTION: 1.0,
}

NOTE_ICE_NOT_DONE = (
    "an ICE score was charted as not done without saying the patient was unarousable: "
    "not used for the ICANS grade"
)
NOTE_CAPD_NOT_DONE = (
    "a CAPD was charted as not done without saying the child could not do it (unarousable, "
    "unable to perform): not used for the ICANS grade"
)

#: The reasons a screen charted without a score is "unable to perform", grade 4 (SPEC 2.9: ICE
#: "0 because the patient is unarousable", CAPD "unable to perform"), and how the card says each;
#: any other reason gives no score and the tool's note.
_GRADE_4_REASONS: dict[EncephalopathyTool, dict[ScreenNotDone, ScreenUnable]] = {
    EncephalopathyTool.ICE: {ScreenNotDone.UNAROUSABLE: ScreenUnable.UNAROUSABLE},
    EncephalopathyTool.CAPD: {
        ScreenNotDone.UNAROUSABLE: ScreenUnable.UNAROUSABLE,
        ScreenNotDone.UNABLE: ScreenUnable.UNABLE,
    },
}
_NOT_DONE_NOTES = {
    EncephalopathyTool.ICE: NOTE_ICE_NOT_DONE,
    EncephalopathyTool.CAPD: NOTE_CAPD_NOT_DONE,
}

#: The longest valueString read as a number (a score is a few characters).
_MAX_NUMBER_TEXT = 32

#: A RASS charted as text: its leading signed number ("-2 Light sedation", "+1", "−3").
_LEADING_SCORE = re.compile(r"^\s*\(?\s*([+\-\u2212\u2013]?)\s*([0-5])\b")


def configured_kind(options: MappingOptions, code: object) -> ObservationKind | None:
    """ICE, CAPD or RASS when a coding of ``code`` is one the operator configured."""
    if not (options.ice_codes or options.capd_codes or options.rass_codes):
        return None
    for coding in codings(code, "code"):
        pair = (coding.get("system"), coding.get("code"))
        if pair in options.ice_codes:
            return ObservationKind.ICE
        if pair in options.capd_codes:
            return ObservationKind.CAPD
        if pair in options.rass_codes:
            return ObservationKind.RASS
    return None


# -- values --------------------------------------------------------------------------------------


def _number(holder: JSON, prefix: str, measure: str) -> float | None:
    """valueInteger, valueQuantity (no comparator) or a valueString that is a number."""
    if "valueInteger" in holder:
        return number(holder["valueInteger"], f"{prefix}valueInteger")
    quantity = holder.get("valueQuantity")
    if quantity is not None:
        if not isinstance(quantity, dict):
            raise ElementError(f"{prefix}valueQuantity", "is not a Quantity")
        if quantity.get("comparator") not in (None, "ad"):
            raise ElementError(f"{prefix}valueQuantity.comparator", f"is a bound, not a {measure}")
        return number(quantity.get("value"), f"{prefix}valueQuantity.value")
    text = holder.get("valueString")
    if isinstance(text, str) and len(text) <= _MAX_NUMBER_TEXT:
        try:
            value = float(text.strip())
        except ValueError:
            return None
        return value if math.isfinite(value) else None  # "inf", "nan": not a score
    return None


def _value_texts(holder: JSON, prefix: str) -> list[str]:
    """The words of valueString, valueCodeableConcept and dataAbsentReason."""
    texts: list[str] = []
    if isinstance(holder.get("valueString"), str):
        texts.append(holder["valueString"])
    for key in ("valueCodeableConcept", "dataAbsentReason"):
        if key in holder:
            texts.extend(concept_texts(holder[key], f"{prefix}{key}"))
    return texts


# -- ICE and CAPD --------------------------------------------------------------------------------


def _item_points(
    tool: EncephalopathyTool, item: EncephalopathyItem, holder: JSON, prefix: str
) -> float | None:
    points = _number(holder, prefix, "score item")
    if points is None:
        return None
    top = _ICE_ITEM_MAXIMA.get(item) if tool is EncephalopathyTool.ICE else _ITEM_MAXIMA[tool]
    if top is None or not 0.0 <= points <= top:
        raise ElementError(f"{prefix}value", f"is outside the {item.value} range 0-{top:g}")
    return points


def _items(
    context: MappingContext, holder: JSON, tool: EncephalopathyTool, reference: str
) -> tuple[ScreenItem, ...]:
    """The items of a screen charted as its components; an unreadable one loses only itself."""
    found: list[ScreenItem] = []
    raw = holder.get("component")
    if not isinstance(raw, list):
        return ()
    for index, component in enumerate(raw):
        prefix = f"component[{index}]."
        if not isinstance(component, dict):
            continue
        try:
            texts = concept_texts(component.get("code"), f"{prefix}code")
            item = ITEM_NAMES[tool].first(texts)
            if item is None:
                continue
            points = _item_points(tool, item, component, prefix)
        except ElementError as error:
            context.skip_element(reference, error)
            continue
        if points is not None:
            found.append(ScreenItem(item, points))
    return tuple(found)


def map_screen(
    context: MappingContext,
    holder: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
    prefix: str,
) -> None:
    """An ICE or CAPD Observation: its total, else its items, else why it has no score."""
    tool = _TOOLS[kind]
    name = "ICE" if tool is EncephalopathyTool.ICE else "CAPD"
    total = _number(holder, prefix, f"{name} score")
    if total is not None:
        low, high = _RANGES[tool]
        if not low <= total <= high:
            raise ElementError(f"{prefix}value", f"is outside the {name} range {low:g}-{high:g}")
        unarousable = (
            tool is EncephalopathyTool.ICE
            and total == 0
            and _unarousable_beside(context, holder, prefix, reference)
        )
        context.encephalopathy_screens.append(
            EncephalopathyScreen(
                tool,
                time,
                reference,
                total,
                unable_to_perform=unarousable,
                unable_because=ScreenUnable.UNAROUSABLE if unarousable else None,
            )
        )
        return
    items = _items(context, holder, tool, reference) if not prefix else ()
    if items:
        context.encephalopathy_screens.append(
            EncephalopathyScreen(tool, time, reference, items=items)
        )
        return
    reason = _not_done_reason(_value_texts(holder, prefix))
    if reason is None:
        raise ElementError(f"{prefix}value[x]", f"holds no {name} total, items or reason")
    because = _GRADE_4_REASONS[tool].get(reason)
    if because is not None:
        context.encephalopathy_screens.append(
            EncephalopathyScreen(
                tool, time, reference, unable_to_perform=True, unable_because=because
            )
        )
    else:
        context.notes.append(_NOT_DONE_NOTES[tool])


def _unarousable_beside(context: MappingContext, holder: JSON, prefix: str, reference: str) -> bool:
    """Whether the words beside a charted ICE of 0 say the patient was unarousable (SPEC 2.9 G4:
    "0 because the patient is unarousable"): ``note[].text``, the ``interpretation`` texts, and
    the value words of its components (``valueString``, ``valueCodeableConcept``,
    ``dataAbsentReason``). Never asked of a total above 0. An unreadable element loses only
    itself (reported)."""
    texts: list[str] = []
    notes = holder.get("note")
    for note in notes if isinstance(notes, list) else ():
        if isinstance(note, dict) and isinstance(note.get("text"), str):
            texts.append(note["text"])
    for element in ("interpretation", "component"):
        found = holder.get(element)
        for index, part in enumerate(found if isinstance(found, list) else ()):
            where = f"{prefix}{element}[{index}]"
            try:
                if element == "interpretation":
                    texts.extend(concept_texts(part, where))
                elif isinstance(part, dict):
                    texts.extend(_value_texts(part, f"{where}."))
            except ElementError as error:
                context.skip_element(reference, error)
    return True in UNAROUSABLE_BESIDE_A_SCORE.find_in(texts)


def _not_done_reason(texts: list[str]) -> ScreenNotDone | None:
    """Why a screen has no score: the strongest reason its words give (``ScreenNotDone``)."""
    found = set(SCREEN_NOT_DONE_WORDS.find_in(texts))
    return next((reason for reason in ScreenNotDone if reason in found), None)


def map_screen_item(
    context: MappingContext,
    holder: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
    prefix: str,
) -> None:
    """One ICE or CAPD item charted as a row of its own; rows of one time are one screen."""
    tool = _TOOLS[kind]
    item = ITEM_NAMES[tool].first(concept_texts(holder.get("code"), f"{prefix}code"))
    if item is None:
        return
    points = _item_points(tool, item, holder, prefix)
    if points is not None:
        context.screen_items.append((tool, time, reference, ScreenItem(item, points)))


# -- RASS ----------------------------------------------------------------------------------------


def _rass_from_text(texts: list[str]) -> int | None:
    for text in texts:
        match = _LEADING_SCORE.match(text)
        if match:
            sign = -1 if match.group(1) in ("-", "\u2212", "\u2013") else 1
            return sign * int(match.group(2))
    for text in texts:
        level = RASS_LEVEL_NAMES.first([text])
        if level is not None:
            return level
    return None


def map_rass(
    context: MappingContext,
    holder: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
    prefix: str,
) -> None:
    """A RASS reading (-5 to +4), as a number or as a charted choice; goal rows are not."""
    names = concept_texts(holder.get("code"), f"{prefix}code")
    if any(word in text.lower() for text in names for word in RASS_NOT_A_READING):
        return  # a goal RASS sent with the scale's code (SNOMED CT 457441000124102)
    value = _number(holder, prefix, "RASS score")
    if value is None:
        score = _rass_from_text(_value_texts(holder, prefix))
        if score is None:
            if "dataAbsentReason" in holder:
                return
            raise ElementError(f"{prefix}value[x]", "is not a RASS score (-5 to +4)")
        value = float(score)
    if value != int(value) or not -5 <= value <= 4:
        raise ElementError(f"{prefix}value", "is outside the RASS range -5 to +4")
    context.consciousness.append(ConsciousnessReading(time, int(value), reference))


# -- Neurologic signs ------------------------------------------------------------------------------


def _worst(signs: list[NeurologicSign]) -> list[NeurologicSign]:
    """The signs of one text, status epilepticus replacing a seizure, each once."""
    found = list(dict.fromkeys(signs))
    if NeurologicSign.STATUS_EPILEPTICUS in found and NeurologicSign.SEIZURE in found:
        found.remove(NeurologicSign.SEIZURE)
    return found


def _extent(sign: NeurologicSign, texts: list[str]) -> NeurologicSign:
    """Cerebral edema with its extent when the text states one (SPEC 2.9)."""
    if sign is not NeurologicSign.CEREBRAL_EDEMA:
        return sign
    extents = {e for text in texts[:MAX_MATCH_TEXTS] for e in EDEMA_EXTENT.find(text)}
    if NeurologicSign.DIFFUSE_CEREBRAL_EDEMA in extents:
        return NeurologicSign.DIFFUSE_CEREBRAL_EDEMA
    if NeurologicSign.FOCAL_CEREBRAL_EDEMA in extents:
        return NeurologicSign.FOCAL_CEREBRAL_EDEMA
    return sign


def _signs_by_name(texts: list[str]) -> list[NeurologicSign]:
    """The signs each text names, less those its negations and vetoes cancel (SPEC 2.9)."""
    found: list[NeurologicSign] = []
    for text in texts[:MAX_MATCH_TEXTS]:
        found.extend(affirmed(SIGN_NAMES, text))
    return found


def condition_signs(code: object) -> list[tuple[NeurologicSign, str]]:
    """The neurologic signs a Condition.code names (codes, then names), with the words to
    show: the text, else the first display."""
    texts = concept_texts(code, "code")
    found: list[NeurologicSign] = []
    for coding in codings(code, "code"):
        system, value = coding.get("system"), coding.get("code")
        if not isinstance(system, str) or not isinstance(value, str):
            continue
        if system == SNOMED and value in SNOMED_SIGNS:
            found.append(SNOMED_SIGNS[value])
        elif system in ICD10_SYSTEMS:
            sign = icd10_sign(value)
            if sign is not None:
                found.append(sign)
    found.extend(_signs_by_name(texts))
    name = texts[-1] if texts else ""
    return [(_extent(sign, texts), name) for sign in _worst(found)]


def _said(text: str) -> list[str]:
    """The words of a text in lower case, without punctuation."""
    return [word.lower() for word, _, _ in words(text)]


def _squeezed(text: str) -> str:
    """A text's words run together: "W.N.L.", "Not-present" and "NOT PRESENT" read alike."""
    return "".join(_said(text))


_NEGATIVE_ANSWERS = frozenset(_squeezed(answer) for answer in NEGATIVE_ANSWERS)
_OPENERS = tuple(_said(opener) for opener in NEGATED_SIGN_OPENERS)
_SIGN_NAMES = frozenset(
    _squeezed(row.text) for row in SIGN_NAMES.rows if isinstance(row.value, NeurologicSign)
)
_LONGEST_SIGN_NAME = max(len(words(row.text)) for row in SIGN_NAMES.rows)


def _after_sign_name(said: list[str]) -> list[str] | None:
    """The words after a sign's name that ``said`` opens with (longest name first), or
    ``None`` when it does not open with one."""
    for count in range(min(len(said), _LONGEST_SIGN_NAME), 0, -1):
        if "".join(said[:count]) in _SIGN_NAMES:
            return said[count:]
    return None


def _negated_sign(said: list[str]) -> bool:
    """ "No seizure activity", "Negative for papilledema", "No evidence of cerebral edema", "No
    seizures overnight": an opener, fillers, a sign's name, then any words (found in review: a
    time after the sign, "this shift", "since 0800", made the value a seizure)."""
    for opener in _OPENERS:
        if said[: len(opener)] != opener:
            continue
        rest = said[len(opener) :]
        while rest and rest[0] in NEGATED_SIGN_FILLERS:
            rest = rest[1:]
        if _after_sign_name(rest) is not None:
            return True
    return False


def _negative_clause(said: list[str]) -> bool:
    """A negative answer ("No", "None.", "WNL"), one that leads its clause ("None this shift",
    "Negative since 0800"), a negated sign ("No seizure activity noted") or a sign's name with a
    negative answer ("Papilledema absent")."""
    after = _after_sign_name(said)
    return (
        "".join(said) in _NEGATIVE_ANSWERS
        or bool(said and said[0] in NEGATIVE_LEADS)
        or (after is not None and "".join(after) in _NEGATIVE_ANSWERS)
        or _negated_sign(said)
    )


def _negative_answer(text: str) -> bool:
    """Whether a whole value says the sign is absent: every clause a negative one
    (``_negative_clause``), or a sign's name alone as the label of the negative clause after it
    ("Seizures: none"). Anything else describes the sign ("Generalized tonic-clonic, no
    incontinence", "Diffuse, no midline shift", "No seizure, decorticate posturing")."""
    said = [found for clause in clauses(text) if (found := _said(clause))]
    for index, clause in enumerate(said):
        if _negative_clause(clause):
            continue
        label = _after_sign_name(clause) == []
        if label and index + 1 < len(said) and _negative_clause(said[index + 1]):
            continue
        return False
    return bool(said)


def _coded_answer(concept: object, prefix: str) -> bool | None:
    """A coded yes/no, present/absent or positive/negative answer (SNOMED CT or LOINC)."""
    for coding in codings(concept, f"{prefix}valueCodeableConcept"):
        system, value = coding.get("system"), coding.get("code")
        if not isinstance(value, str):
            continue
        if system == SNOMED and value in SNOMED_ANSWERS:
            return SNOMED_ANSWERS[value]
        if system in LOINC_SYSTEMS and value in LOINC_ANSWERS:
            return LOINC_ANSWERS[value]
    return None


def _present(holder: JSON, prefix: str) -> tuple[bool, list[str]]:
    """Whether an Observation's value says the sign is there, and the value's words.

    Absent only when the value is false, a coded No/Absent/Negative, or words that are wholly a
    negative answer (``_negative_answer``), or when there is no value and a dataAbsentReason;
    a value that describes the sign is the finding itself (review finding: "no" anywhere in the
    words read as absent)."""
    if "valueBoolean" in holder:
        value = holder["valueBoolean"]
        if not isinstance(value, bool):
            raise ElementError(f"{prefix}valueBoolean", "is not a boolean")
        return value, []
    texts = _value_texts(holder, prefix)
    coded = _coded_answer(holder.get("valueCodeableConcept"), prefix)
    if coded is not None:
        return coded, texts
    said = [text for text in texts[:MAX_MATCH_TEXTS] if _said(text)]
    if said and all(_negative_answer(text) for text in said):
        return False, texts
    if "dataAbsentReason" in holder:
        return False, texts
    return True, texts  # no value, or a value that describes the sign: the finding itself


def map_sign_observation(
    context: MappingContext,
    holder: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
    prefix: str,
) -> None:
    """A neurologic sign charted as an Observation ("Seizure activity: Yes")."""
    present, value_texts = _present(holder, prefix)
    if not present:
        return
    code = holder.get("code")
    names = concept_texts(code, f"{prefix}code")
    found: list[NeurologicSign] = [
        SNOMED_SIGNS[value]
        for c in codings(code, f"{prefix}code")
        if c.get("system") == SNOMED
        and isinstance(value := c.get("code"), str)
        and value in SNOMED_SIGNS
    ]
    found.extend(_signs_by_name([*names, *value_texts]))
    shown = " ".join([names[-1] if names else "", *value_texts[:1]]).strip()
    for sign in _worst(found):
        context.neurologic_signs.append(
            NeurologicSignFinding(_extent(sign, [*names, *value_texts]), shown, reference, time)
        )


# -- Sedation (SPEC 2.9: sedation confounds RASS) -------------------------------------------------


def _medication_texts(administration: JSON) -> list[str]:
    texts: list[str] = []
    if "medicationCodeableConcept" in administration:
        texts.extend(concept_texts(administration["medicationCodeableConcept"], "medication"))
    reference = optional_object(administration.get("medicationReference"), "medicationReference")
    if reference is not None:
        if isinstance(reference.get("display"), str):
            texts.append(reference["display"])
        target = reference.get("reference")
        contained = administration.get("contained")
        if isinstance(target, str) and target.startswith("#") and isinstance(contained, list):
            for resource in contained:
                if isinstance(resource, dict) and resource.get("id") == target[1:]:
                    texts.extend(concept_texts(resource.get("code"), "contained.code"))
    return texts


def note_sedation(context: MappingContext, times: TimeReader, administration: JSON) -> None:
    """Record a continuous sedative infusion (a period, or a rate) of the patient; anything
    unreadable here is ignored (``map_administration`` reports the resource's own problems).
    ``times`` is a reader of its own, so that the times read here are not counted twice in the
    notes of times without a zone."""
    try:
        status = administration.get("status")
        if not isinstance(status, str) or status not in ADMINISTRATION_COUNTED:
            return
        texts = _medication_texts(administration)
        if not SEDATIVE_NAMES.find_in(texts):
            return
        period = optional_object(administration.get("effectivePeriod"), "effectivePeriod")
        dosage = optional_object(administration.get("dosage"), "dosage")
        rate = dosage is not None and any(key.startswith("rate") for key in dosage)
        start: datetime | None
        end: datetime | None = None
        if period is None:
            if not rate or "effectiveDateTime" not in administration:
                return
            start = times.required(administration["effectiveDateTime"], "effectiveDateTime")
        else:
            start = times.optional(period.get("start"), "effectivePeriod.start")
            end = times.optional(period.get("end"), "effectivePeriod.end")
            if start is None:
                return
        if end is None and status != "in-progress" and not rate:
            return
        context.sedation_periods.append((start, end))
    except ElementError:
        return


# -- After every resource is read ----------------------------------------------------------------


def finish(context: MappingContext) -> None:
    """Item rows of one tool and time become one screen (a total of that time wins); RASS read
    during a continuous sedative infusion is flagged as sedated."""
    totals = {(s.tool, s.time) for s in context.encephalopathy_screens}
    grouped: dict[tuple[EncephalopathyTool, datetime], tuple[str, list[ScreenItem]]] = {}
    for tool, time, reference, item in sorted(context.screen_items, key=lambda r: (r[1], r[2])):
        if (tool, time) in totals:
            continue
        first, items = grouped.setdefault((tool, time), (reference, []))
        items.append(item)
    for (tool, time), (reference, items) in grouped.items():
        context.encephalopathy_screens.append(
            EncephalopathyScreen(tool, time, reference, items=tuple(items))
        )
    if context.sedation_periods:
        context.consciousness[:] = [
            replace(reading, sedated=True)
            if any(
                start <= reading.time and (end is None or reading.time <= end)
                for start, end in context.sedation_periods
            )
            else reading
            for reading in context.consciousness
        ]
