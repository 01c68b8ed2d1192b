"""Observation -> vitals, oxygen, weight, labs, blood cultures and neurologic scores."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from crs_grading.inputs import (
    LAB_NAMES,
    BloodPressure,
    CultureResult,
    LabResult,
    LabTest,
    Measurement,
    NeuroScore,
    OxygenDevice,
    OxygenReading,
)

from ._context import MappingContext
from ._fhir import (
    JSON,
    ElementError,
    TimeReader,
    codings,
    concept_texts,
    list_of_objects,
    number,
    optional_object,
)
from .plausible_ranges import (
    PLAUSIBLE_FIO2_LOW,
    PLAUSIBLE_LAB_RANGES,
    PLAUSIBLE_SPO2_LOW,
    PLAUSIBLE_TEMPERATURE_C,
    PLAUSIBLE_WEIGHT_KG,
    lab_range_text,
    range_text,
    within,
)
from .reference_ranges import DEFAULT_REFERENCE_RANGES
from .units import (
    FLOW_TO_L_PER_MIN,
    LAB_TO_STANDARD,
    PRESSURE_TO_MMHG,
    TEMPERATURE_TO_CELSIUS,
    WEIGHT_TO_KG,
    Linear,
    UnitProblem,
    lookup,
    percent,
    quantity_unit_keys,
)
from .valuesets.devices import OXYGEN_DEVICE_NAMES
from .valuesets.observations import (
    BP_COMPONENTS,
    CULTURE_INTERPRETATION,
    CULTURE_ORGANISM_WORDS,
    CULTURE_RESULT_WORDS,
    CULTURE_SNOMED,
    LOINC_OBSERVATIONS,
    NEURO_SCORES,
    OBSERVATION_NAMES,
    OXYGEN_COMPONENTS,
    ObservationConcept,
    ObservationKind,
)
from .valuesets.statuses import OBSERVATION_COUNTED, OBSERVATION_IGNORED
from .valuesets.systems import LOINC_SYSTEMS, OBSERVATION_INTERPRETATION, SNOMED

_INTERPRETATION_SYSTEMS = frozenset(
    {
        OBSERVATION_INTERPRETATION,
        "http://terminology.hl7.org/CodeSystem/v2-0078",
        "http://hl7.org/fhir/v2/0078",
    }
)
_REFERENCE_RANGE_MEANING = "http://terminology.hl7.org/CodeSystem/referencerange-meaning"

#: A mapper of one kind of Observation: (context, observation, kind, time, reference).
_Mapper = Callable[[MappingContext, JSON, ObservationKind, datetime, str], None]


def observation_concept(code: object, element: str = "code") -> ObservationConcept | None:
    """What an Observation (or component) code means: LOINC codes of every coding, else names.

    Raw-JSON prefilter (issue 6): a dict lookup per coding; text is only searched when no
    coding is known. The codings are walked inline (the checks of ``codings``, in the same
    order): this runs once or more for every Observation of the request.
    """
    if code is None:
        return None
    if not isinstance(code, dict):
        raise ElementError(element, "is not a CodeableConcept")
    found: ObservationConcept | None = None
    coding_items = code.get("coding")
    if coding_items is not None:
        if not isinstance(coding_items, list):
            raise ElementError(f"{element}.coding", "is not a list")
        for coding in coding_items:
            if not isinstance(coding, dict):
                raise ElementError(f"{element}.coding", "holds something that is not a Coding")
            value, system = coding.get("code"), coding.get("system")
            if isinstance(value, str) and isinstance(system, str) and system in LOINC_SYSTEMS:
                concept = LOINC_OBSERVATIONS.get(value)
                if concept is not None:
                    if found is not None and concept != found:
                        raise ElementError(element, "has codings of different measurements")
                    found = concept
    if found is None:
        texts = concept_texts(code, element)
        if texts:
            found = OBSERVATION_NAMES.first(texts)
    return found


def map_observation(context: MappingContext, observation: JSON, reference: str) -> None:
    """Map one Observation of the patient; ``ElementError`` when a read element is malformed."""
    concept = observation_concept(observation.get("code"))
    if concept is None:
        return
    if not context.status_counts(observation, OBSERVATION_COUNTED, OBSERVATION_IGNORED):
        return
    context.validate(observation)
    time = observation_time(context.times, observation)
    if isinstance(concept, LabTest):
        _lab(context, observation, concept, time, reference)
    else:
        _MAPPERS[concept](context, observation, concept, time, reference)


def observation_time(times: TimeReader, observation: JSON) -> datetime:
    """effectiveDateTime, effectivePeriod (start, else end) or effectiveInstant; else issued."""
    if "effectiveDateTime" in observation and not (
        "effectivePeriod" in observation
        or "effectiveInstant" in observation
        or "effectiveTiming" in observation
    ):  # the usual case, without building the list below
        return times.required(observation["effectiveDateTime"], "effectiveDateTime")
    present = [
        key
        for key in ("effectiveDateTime", "effectivePeriod", "effectiveInstant", "effectiveTiming")
        if key in observation
    ]
    if len(present) > 1:
        raise ElementError("effective[x]", "has more than one type")
    if present:
        key = present[0]
        if key == "effectiveDateTime" or key == "effectiveInstant":
            return times.required(observation[key], key)
        if key == "effectivePeriod":
            period = optional_object(observation[key], key)
            if period is not None:
                start = times.optional(period.get("start"), "effectivePeriod.start")
                if start is not None:
                    return start
                end = times.optional(period.get("end"), "effectivePeriod.end")
                if end is not None:
                    return end
            raise ElementError(key, "has no start or end precise to the day")
        # effectiveTiming describes a schedule, not when this value was measured: use issued.
    issued = observation.get("issued")
    if issued is not None:
        return times.required(issued, "issued")
    raise ElementError("effective[x]", "is missing and there is no issued time")


# --- values -----------------------------------------------------------------------------------


def _value_keys(holder: JSON) -> list[str]:
    return [key for key in holder if key.startswith("value")]


def _numeric_value(holder: JSON, prefix: str) -> tuple[float, list[str]] | None:
    """(value, unit keys) of valueQuantity or valueInteger; None when absent for a stated reason.

    ``ElementError`` for a missing value without dataAbsentReason, a value of another type,
    more than one value[x], or a value that is not a number.
    """
    quantity = holder.get("valueQuantity")
    keys = _value_keys(holder)
    if len(keys) > 1:
        raise ElementError(f"{prefix}value[x]", "has more than one type")
    if quantity is not None:
        if not isinstance(quantity, dict):
            raise ElementError(f"{prefix}valueQuantity", "is not a Quantity")
        value = number(quantity.get("value"), f"{prefix}valueQuantity.value")
        return value, quantity_unit_keys(quantity)
    if keys == ["valueInteger"]:
        return number(holder["valueInteger"], f"{prefix}valueInteger"), []
    if keys:
        raise ElementError(f"{prefix}{keys[0]}", "is not a number with a unit (valueQuantity)")
    if "dataAbsentReason" in holder:
        return None
    raise ElementError(f"{prefix}valueQuantity", "is missing")


def _convert(
    value: float, keys: list[str], table: dict[str, Linear], prefix: str, measure: str
) -> float:
    try:
        result = lookup(keys, table)(value)
    except UnitProblem as problem:
        if problem.missing:
            raise ElementError(
                f"{prefix}valueQuantity", f"has no unit (needed for {measure})"
            ) from None
        raise ElementError(
            f"{prefix}valueQuantity.unit", f"is not a supported {measure} unit"
        ) from None
    if not math.isfinite(result):  # e.g. 1e308 g/dL fibrinogen x 1000 overflows
        raise ElementError(f"{prefix}valueQuantity.value", "is too large after unit conversion")
    return result


def _percent_value(value: float, keys: list[str], prefix: str, measure: str) -> float:
    try:
        return percent(value, keys)
    except UnitProblem:
        raise ElementError(
            f"{prefix}valueQuantity.unit", f"is not a supported {measure} unit"
        ) from None


def _percent(value: float, keys: list[str], prefix: str, measure: str, low: float) -> float:
    result = _percent_value(value, keys, prefix, measure)
    if not low <= result <= 100.0:
        raise ElementError(
            f"{prefix}valueQuantity.value", f"is outside {low:g}-100 % for {measure}"
        )
    return result


# --- vital signs ------------------------------------------------------------------------------


def _temperature(
    context: MappingContext,
    observation: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
) -> None:
    read = _numeric_value(observation, "")
    if read is None:
        return
    celsius = _convert(read[0], read[1], TEMPERATURE_TO_CELSIUS, "", "temperature")
    low, high = PLAUSIBLE_TEMPERATURE_C
    if not low <= celsius <= high:
        raise ElementError(
            "valueQuantity.value", "is outside the plausible range of a body temperature"
        )
    context.temperatures_c.append(Measurement(time, celsius, reference))


def _pressure(holder: JSON, prefix: str) -> float | None:
    read = _numeric_value(holder, prefix)
    if read is None:
        return None
    value, keys = read
    if not keys:
        return value  # a blood pressure without a unit is in mmHg
    return _convert(value, keys, PRESSURE_TO_MMHG, prefix, "blood pressure")


def _blood_pressure_part(
    context: MappingContext,
    observation: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
) -> None:
    value = _pressure(observation, "")
    if value is None:
        return
    context.blood_pressures.append(
        BloodPressure(
            time,
            reference,
            systolic=value if kind is ObservationKind.SYSTOLIC else None,
            diastolic=value if kind is ObservationKind.DIASTOLIC else None,
            mean=value if kind is ObservationKind.MEAN_ARTERIAL else None,
        )
    )


def _components(observation: JSON) -> list[tuple[int, ObservationConcept, JSON]]:
    found: list[tuple[int, ObservationConcept, JSON]] = []
    for index, component in enumerate(list_of_objects(observation.get("component"), "component")):
        concept = observation_concept(component.get("code"), f"component[{index}].code")
        if concept is not None:
            found.append((index, concept, component))
    return found


def _blood_pressure_panel(
    context: MappingContext,
    observation: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
) -> None:
    parts: dict[ObservationConcept, float] = {}
    seen = False
    for index, concept, component in _components(observation):
        if concept in BP_COMPONENTS:
            seen = True
            value = _pressure(component, f"component[{index}].")
            if value is not None:
                parts[concept] = value
    if not seen:
        raise ElementError("component", "has no systolic, diastolic or mean pressure")
    if parts:
        context.blood_pressures.append(
            BloodPressure(
                time,
                reference,
                systolic=parts.get(ObservationKind.SYSTOLIC),
                diastolic=parts.get(ObservationKind.DIASTOLIC),
                mean=parts.get(ObservationKind.MEAN_ARTERIAL),
            )
        )


def _count_per_minute(observation: JSON) -> float | None:
    """A rate such as beats or breaths per minute; the unit does not change the number."""
    read = _numeric_value(observation, "")
    if read is None:
        return None
    if read[0] < 0:
        raise ElementError("valueQuantity.value", "is negative")
    return read[0]


def _heart_rate(
    context: MappingContext,
    observation: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
) -> None:
    value = _count_per_minute(observation)
    if value is not None:
        context.heart_rates.append(Measurement(time, value, reference))


def _respiratory_rate(
    context: MappingContext,
    observation: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
) -> None:
    value = _count_per_minute(observation)
    if value is not None:
        context.respiratory_rates.append(Measurement(time, value, reference))


def _weight(
    context: MappingContext,
    observation: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
) -> None:
    read = _numeric_value(observation, "")
    if read is None:
        return
    kilograms = _convert(read[0], read[1], WEIGHT_TO_KG, "", "body weight")
    if not within(kilograms, PLAUSIBLE_WEIGHT_KG):
        raise ElementError(
            "valueQuantity.value",
            f"is outside the plausible body weight range ({range_text(PLAUSIBLE_WEIGHT_KG, 'kg')})"
            ": likely a unit or entry error",
        )
    context.weights_kg.append(Measurement(time, kilograms, reference))


# --- oxygen -----------------------------------------------------------------------------------


def _fio2(holder: JSON, prefix: str) -> float | None:
    read = _numeric_value(holder, prefix)
    if read is None:
        return None
    return _percent(read[0], read[1], prefix, "FiO2", PLAUSIBLE_FIO2_LOW)


def _flow(holder: JSON, prefix: str) -> float | None:
    read = _numeric_value(holder, prefix)
    if read is None:
        return None
    flow = _convert(read[0], read[1], FLOW_TO_L_PER_MIN, prefix, "oxygen flow")
    if flow < 0:
        raise ElementError(f"{prefix}valueQuantity.value", "is negative")
    return flow


def _oxygen_components(observation: JSON) -> tuple[float | None, float | None]:
    fio2: float | None = None
    flow: float | None = None
    for index, concept, component in _components(observation):
        if concept in OXYGEN_COMPONENTS:
            prefix = f"component[{index}]."
            if concept is ObservationKind.FIO2:
                fio2 = _fio2(component, prefix)
            else:
                flow = _flow(component, prefix)
    return fio2, flow


def _spo2(
    context: MappingContext,
    observation: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
) -> None:
    read = _numeric_value(observation, "")
    if read is not None:
        value = _percent(read[0], read[1], "", "SpO2", PLAUSIBLE_SPO2_LOW)
        context.spo2_percent.append(Measurement(time, value, reference))
    if "component" in observation:
        fio2, flow = _oxygen_components(observation)
        if fio2 is not None or flow is not None:
            context.oxygen.append(
                OxygenReading(time, reference, fio2_percent=fio2, flow_l_per_min=flow)
            )


def _fio2_observation(
    context: MappingContext,
    observation: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
) -> None:
    fio2 = _fio2(observation, "")
    if fio2 is not None:
        context.oxygen.append(OxygenReading(time, reference, fio2_percent=fio2))


def _flow_observation(
    context: MappingContext,
    observation: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
) -> None:
    flow = _flow(observation, "")
    if flow is not None:
        context.oxygen.append(OxygenReading(time, reference, flow_l_per_min=flow))


def oxygen_device(value: object, element: str) -> OxygenDevice | None:
    """The oxygen device named in a CodeableConcept or a string, or None."""
    texts = [value] if isinstance(value, str) else concept_texts(value, element)
    return OXYGEN_DEVICE_NAMES.first(texts)


def _device_observation(
    context: MappingContext,
    observation: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
) -> None:
    keys = _value_keys(observation)
    if len(keys) > 1:
        raise ElementError("value[x]", "has more than one type")
    device: OxygenDevice | None = None
    if keys == ["valueQuantity"]:
        return  # a number is not a device (e.g. an oxygen delivery index): not ours
    if keys:
        if keys[0] not in ("valueCodeableConcept", "valueString"):
            raise ElementError(keys[0], "is not a CodeableConcept or string naming a device")
        device = oxygen_device(observation[keys[0]], keys[0])
        if device is None:
            raise ElementError(keys[0], "is not a recognised oxygen delivery device")
    elif "dataAbsentReason" not in observation and "component" not in observation:
        raise ElementError("valueCodeableConcept", "is missing")
    fio2, flow = _oxygen_components(observation) if "component" in observation else (None, None)
    if device is not None or fio2 is not None or flow is not None:
        context.oxygen.append(OxygenReading(time, reference, fio2, flow, device))


# --- labs -------------------------------------------------------------------------------------


def _lab_value(test: LabTest, value: float, keys: list[str], prefix: str, measure: str) -> float:
    """The value in ``LAB_UNITS[test]`` (a result or a reference limit; no plausibility)."""
    if test is LabTest.LVEF:
        return _percent_value(value, keys, prefix, measure)
    return _convert(value, keys, LAB_TO_STANDARD[test], prefix, measure)


def _normal_range(observation: JSON) -> tuple[int, JSON] | None:
    for index, candidate in enumerate(
        list_of_objects(observation.get("referenceRange"), "referenceRange")
    ):
        kind = candidate.get("type")
        if kind is None:
            return index, candidate
        for coding in codings(kind, f"referenceRange[{index}].type"):
            if coding.get("system") == _REFERENCE_RANGE_MEANING and coding.get("code") == "normal":
                return index, candidate
    return None


def _limit(test: LabTest, limit: object, value_keys: list[str], element: str) -> float | None:
    quantity = optional_object(limit, element)
    if quantity is None or "value" not in quantity:
        return None
    value = number(quantity.get("value"), f"{element}.value")
    keys = quantity_unit_keys(quantity) or value_keys
    try:
        return _lab_value(test, value, keys, f"{element}.", test.value)
    except ElementError:
        return None  # a limit we cannot convert (unit, overflow): fall back to the default limit


def _lab(
    context: MappingContext, observation: JSON, test: LabTest, time: datetime, reference: str
) -> None:
    read = _numeric_value(observation, "")
    if read is None:
        return
    name = LAB_NAMES[test]
    value = _lab_value(test, read[0], read[1], "", name)
    if not within(value, PLAUSIBLE_LAB_RANGES[test]):
        raise ElementError(
            "valueQuantity.value",
            f"is outside the plausible {name} range ({lab_range_text(test)})"
            ": likely a unit or entry error",
        )
    low: float | None = None
    high: float | None = None
    chosen = _normal_range(observation)
    if chosen is not None:
        index, reference_range = chosen
        low = _limit(test, reference_range.get("low"), read[1], f"referenceRange[{index}].low")
        high = _limit(test, reference_range.get("high"), read[1], f"referenceRange[{index}].high")
    default_low, default_high = DEFAULT_REFERENCE_RANGES.get(test, (None, None))
    context.labs.append(
        LabResult(
            test,
            time,
            value,
            reference,
            low=default_low if low is None else low,
            high=default_high if high is None else high,
        )
    )


# --- blood cultures ---------------------------------------------------------------------------


def _culture_text(text: str) -> tuple[bool | None, str | None]:
    if CULTURE_ORGANISM_WORDS.find(text):
        return True, text
    results = CULTURE_RESULT_WORDS.find(text)
    if results:
        return results[0], None
    return None, None


def _culture_concept(concept: object) -> tuple[bool | None, str | None]:
    for coding in codings(concept, "valueCodeableConcept"):
        code = coding.get("code")
        if coding.get("system") == SNOMED and isinstance(code, str):
            if code in CULTURE_SNOMED:
                return CULTURE_SNOMED[code], None
            display = coding.get("display")
            name = display if isinstance(display, str) and display else None
            if name is None and isinstance(concept, dict) and isinstance(concept.get("text"), str):
                name = concept["text"]
            return True, name  # any other SNOMED concept here names the organism identified
    for text in concept_texts(concept, "valueCodeableConcept"):
        positive, organism = _culture_text(text)
        if positive is not None:
            return positive, organism
    return None, None


def _interpretation(observation: JSON) -> bool | None:
    for index, concept in enumerate(
        list_of_objects(observation.get("interpretation"), "interpretation")
    ):
        for coding in codings(concept, f"interpretation[{index}]"):
            code, system = coding.get("code"), coding.get("system")
            if isinstance(system, str) and isinstance(code, str):
                if system in _INTERPRETATION_SYSTEMS and code in CULTURE_INTERPRETATION:
                    return CULTURE_INTERPRETATION[code]
    return None


def _blood_culture(
    context: MappingContext,
    observation: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
) -> None:
    keys = _value_keys(observation)
    if len(keys) > 1:
        raise ElementError("value[x]", "has more than one type")
    positive: bool | None = None
    organism: str | None = None
    if keys == ["valueCodeableConcept"]:
        positive, organism = _culture_concept(observation["valueCodeableConcept"])
    elif keys == ["valueString"]:
        text = observation["valueString"]
        if not isinstance(text, str):
            raise ElementError("valueString", "is not a string")
        positive, organism = _culture_text(text)
    elif keys:
        raise ElementError(keys[0], "is not a CodeableConcept or string result")
    if positive is None:
        positive = _interpretation(observation)
    context.blood_cultures.append(CultureResult(time, positive, reference, organism))


# --- neurologic scores ------------------------------------------------------------------------


def _neuro_score(
    context: MappingContext,
    observation: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
) -> None:
    score_kind, low, high = NEURO_SCORES[kind]
    read = _numeric_value(observation, "")
    if read is None:
        return
    if not low <= read[0] <= high:
        raise ElementError(
            "value", f"is outside the {score_kind.value.upper()} range {low:g}-{high:g}"
        )
    context.neuro_scores.append(NeuroScore(score_kind, time, read[0], reference))


_MAPPERS: dict[ObservationKind, _Mapper] = {
    ObservationKind.TEMPERATURE: _temperature,
    ObservationKind.BP_PANEL: _blood_pressure_panel,
    ObservationKind.SYSTOLIC: _blood_pressure_part,
    ObservationKind.DIASTOLIC: _blood_pressure_part,
    ObservationKind.MEAN_ARTERIAL: _blood_pressure_part,
    ObservationKind.HEART_RATE: _heart_rate,
    ObservationKind.RESPIRATORY_RATE: _respiratory_rate,
    ObservationKind.SPO2: _spo2,
    ObservationKind.FIO2: _fio2_observation,
    ObservationKind.O2_FLOW: _flow_observation,
    ObservationKind.O2_DEVICE: _device_observation,
    ObservationKind.WEIGHT: _weight,
    ObservationKind.BLOOD_CULTURE: _blood_culture,
    ObservationKind.GCS: _neuro_score,
    ObservationKind.ICE: _neuro_score,
}
