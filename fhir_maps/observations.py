"""Observation -> vitals, oxygen, weight, labs, blood cultures and neurologic scores.

Codes first (LOINC and SNOMED CT of every coding, ``valuesets``), then names where no code is
known (local codes, text-only codings): a name-matched Observation whose value is not of the
kind the name implies ("Temp Source: Oral") is not ours and is ignored silently. Components are
read wherever they are: a vital-signs panel (85353-1, or a local flowsheet panel) gives one
reading per known component. One unreadable component or reference range loses only itself
(SPEC 3); it is reported in ``skipped`` while the rest is used.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Literal, NamedTuple, cast

import orjson
from msgspec import UNSET, Raw, UnsetType

from crs_grading.inputs import (
    LAB_NAMES,
    BloodPressure,
    Comparator,
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
from ._names import clauses
from .decoded import DecodedComponent, DecodedObservation, parsed_element
from .neurology import (
    configured_kind,
    map_rass,
    map_screen,
    map_screen_item,
    map_sign_observation,
)
from .options import MappingOptions
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
from .reference_ranges import DEFAULT_REFERENCE_RANGES, choose_reference_range
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
    unit_keys,
)
from .valuesets.blood_culture import (
    CULTURE_INTERPRETATION,
    CULTURE_NEGATION,
    CULTURE_ORGANISM_WORDS,
    CULTURE_RESULT_WORDS,
    CULTURE_SNOMED,
)
from .valuesets.devices import named_device
from .valuesets.observations import (
    ANY_VALUE_KINDS,
    BP_COMPONENTS,
    LOINC_OBSERVATIONS,
    NEURO_SCORES,
    OXYGEN_COMPONENTS,
    SNOMED_OBSERVATIONS,
    ObservationConcept,
    ObservationKind,
    concept_by_name,
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

#: valueQuantity.comparator codes (FHIR R4 quantity-comparator); "ad" ("as determined by the
#: receiver") is read as the value itself.
_COMPARATORS: dict[str, Comparator] = {item.value: item for item in Comparator}

#: Kinds whose value is a text or a concept, not a number.
_CODED_KINDS = frozenset({ObservationKind.BLOOD_CULTURE, ObservationKind.O2_DEVICE})
_NUMBER_KEYS = ("valueQuantity", "valueInteger")

#: A mapper of one kind of Observation or component:
#: (context, holder, kind, time, reference, element prefix).
_Mapper = Callable[[MappingContext, JSON, ObservationKind, datetime, str, str], None]


class Identified(NamedTuple):
    """What a code means, and whether it was known only by its name."""

    concept: ObservationConcept
    by_name: bool


def observation_concept(code: object, element: str = "code") -> Identified | None:
    """What an Observation (or component) code means: LOINC and SNOMED CT codes of every
    coding, else names (``concept_by_name``).

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
            if not isinstance(value, str) or not isinstance(system, str):
                continue
            if system in LOINC_SYSTEMS:
                concept = LOINC_OBSERVATIONS.get(value)
            elif system == SNOMED:
                concept = SNOMED_OBSERVATIONS.get(value)
            else:
                continue
            if concept is not None:
                if found is not None and concept != found:
                    raise ElementError(element, "has codings of different measurements")
                found = concept
    if found is not None:
        return Identified(found, by_name=False)
    texts = concept_texts(code, element)
    if texts:
        named = concept_by_name(texts)
        if named is not None:
            return Identified(named, by_name=True)
    return None


def identify(
    concepts: dict[tuple[bool, bytes], Identified | None],
    code: object,
    element: str = "code",
    *,
    options: MappingOptions | None = None,
) -> Identified | None:
    """``observation_concept`` once per distinct code object of a call (issue 13).

    A chart repeats a few dozen code objects across tens of thousands of Observations, so the
    answer is kept by the object's JSON text (``concepts``: one dict per mapping call). Equal
    text is an equal object, hence an equal answer; a code that raises is not kept, and is read
    again (and raises again) where it recurs. With ``options`` (an Observation's own code,
    not a component's), the operator's configured codes come first (``configured_kind``).
    """
    if type(code) is not dict:
        return _identify(code, element, options)
    try:
        key = (options is not None, orjson.dumps(code))
    except orjson.JSONEncodeError:  # not JSON (e.g. an integer beyond 64 bits): read it as is
        return _identify(code, element, options)
    try:
        return concepts[key]
    except KeyError:
        identified = concepts[key] = _identify(code, element, options)
        return identified


# The kinds the lanes compare against, as plain module names: an enum member read through its
# class costs a lookup in the enum's metaclass, and the lanes run for every monitor row.
_HEART_RATE = ObservationKind.HEART_RATE
_RESPIRATORY_RATE = ObservationKind.RESPIRATORY_RATE
_TEMPERATURE = ObservationKind.TEMPERATURE
_SPO2 = ObservationKind.SPO2
_FIO2 = ObservationKind.FIO2
_O2_FLOW = ObservationKind.O2_FLOW
_BP_PANEL = ObservationKind.BP_PANEL
_SYSTOLIC = ObservationKind.SYSTOLIC


def identify_decoded(
    context: MappingContext,
    code: Raw | UnsetType,
    element: str = "code",
    *,
    options: MappingOptions | None = None,
) -> Identified | None:
    """``identify`` of a decoded code (its JSON text), kept by that text."""
    if isinstance(code, UnsetType):
        return _identify(None, element, options)
    known = context.decoded_concepts if options is not None else context.decoded_parts
    text = bytes(code)
    try:
        found: Identified | None = known[text]
        return found
    except KeyError:
        identified = known[text] = _identify(parsed_element(code, element), element, options)
        return identified


def decoded_lane(context: MappingContext, observation: DecodedObservation, reference: str) -> bool:
    """The fast lane of a decoded Observation: True when it was mapped, or when it is
    nothing grading reads (as ``map_observation``: no code of ours, no components); False
    when the mappers must read its ``as_dict()``. Changes nothing before it can no longer fail.
    What its code means for the lane is worked out once per distinct code (``_RowPlan``), and
    what a unit means once per distinct (code, unit) pair of a plan (``_value_reader``)."""
    code = observation.code
    key = None if code is UNSET else bytes(code)
    plan: _RowPlan | Literal[False, True] | None = context.lane_plans.get(key, True)
    if plan is True:
        plan = context.lane_plans[key] = _lane_plan(context, code)
    if plan is None:
        return observation.component is UNSET
    if plan is False:
        return False
    # Below, every element has the type the struct gives it (str, float...) or is UNSET.
    if observation.status not in OBSERVATION_COUNTED:
        return False
    when = observation.effectiveDateTime
    if when is UNSET or observation.other_effective():
        return False
    concept = plan.concept
    if concept is _BP_PANEL:
        return _decoded_panel(context, observation, reference)
    components = observation.component
    if components is not UNSET and concept is not _SPO2:
        return False
    result = _decoded_value(plan.readers, observation, concept, plan.part)
    if result is None:
        return False
    support: tuple[float | None, float | None] | None = None
    if components is not UNSET:  # US Core pulse oximetry: FiO2 and flow parts
        support = _decoded_support(context, components)
        if support is None:
            return False
    time = context.times.required(when, "effectiveDateTime")
    into = plan.into
    if into is not None:
        into(Measurement(time, result, reference))
    elif plan.part:
        _add_pressures(context, time, reference, {concept: result})
    else:
        _lane_record(context, concept, time, result, reference)
    if support is not None and (support[0] is not None or support[1] is not None):
        context.oxygen.append(OxygenReading(time, reference, support[0], support[1]))
    return True


class _RowPlan:
    """What one distinct Observation code means for ``decoded_lane`` (one per code per call):
    the kind, whether it is a part of a blood pressure, the list its readings go to (``into``,
    for the kinds recorded as a ``Measurement``) and the reader of each (code, unit) pair its
    values came with (``_value_reader``; ``None``: the mappers read that unit)."""

    __slots__ = ("concept", "into", "part", "readers")

    def __init__(self, context: MappingContext, concept: ObservationConcept) -> None:
        self.concept = concept
        self.part = concept in BP_COMPONENTS
        self.into: Callable[[Measurement], None] | None = _measurement_list(context, concept)
        self.readers: dict[tuple[object, object], _Reader | None] = {}


#: A value reader of the lane: the value in grading's unit, or ``None`` (the mappers read it).
_Reader = Callable[[float], float | None]


#: The ``MappingContext`` list of each kind the lanes record as a ``Measurement``.
_MEASUREMENT_LISTS: dict[ObservationConcept, str] = {
    ObservationKind.HEART_RATE: "heart_rates",
    ObservationKind.RESPIRATORY_RATE: "respiratory_rates",
    ObservationKind.TEMPERATURE: "temperatures_c",
    ObservationKind.SPO2: "spo2_percent",
    ObservationKind.WEIGHT: "weights_kg",
    ObservationKind.WEIGHT_STATED: "stated_weights_kg",
}


def _measurement_list(
    context: MappingContext, concept: ObservationConcept
) -> Callable[[Measurement], None] | None:
    """Where the lanes put a ``Measurement`` of ``concept`` (``None``: not one)."""
    name = _MEASUREMENT_LISTS.get(concept)
    return None if name is None else cast("list[Measurement]", getattr(context, name)).append


def _value_reader(
    concept: ObservationConcept, part: bool, units: tuple[object, object]
) -> _Reader | None:
    """``_lane_result`` (``_fast_pressure`` for a part of a blood pressure) of values charted
    in ``units`` (a Quantity's code and unit, or UNSET), with everything that depends on the
    unit worked out once: the same result for every value. ``None`` when the lane reads no
    value in that unit."""
    keys = _decoded_unit_keys(*units)
    if part:
        return _same if not keys else _linear(keys, PRESSURE_TO_MMHG, _ANY_NUMBER)
    if concept is _HEART_RATE or concept is _RESPIRATORY_RATE:
        return _non_negative
    if concept is _SPO2 or concept is _FIO2:
        low = PLAUSIBLE_SPO2_LOW if concept is _SPO2 else PLAUSIBLE_FIO2_LOW
        return lambda value: _fast_percent(value, keys, low)
    if concept is _TEMPERATURE:
        return _linear(keys, TEMPERATURE_TO_CELSIUS, PLAUSIBLE_TEMPERATURE_C)
    if concept is _O2_FLOW:
        return _linear(keys, FLOW_TO_L_PER_MIN, (0.0, math.inf))
    return _linear(keys, WEIGHT_TO_KG, PLAUSIBLE_WEIGHT_KG)  # WEIGHT, WEIGHT_STATED


#: No limits but finiteness (``_fast_converted`` alone).
_ANY_NUMBER = (-math.inf, math.inf)


def _linear(
    keys: list[str], table: dict[str, Linear], limits: tuple[float, float]
) -> _Reader | None:
    """``_fast_converted`` by the first of ``keys`` in ``table``, then within ``limits``
    (inclusive); ``None`` when no key is in the table."""
    entry = next((table[key] for key in keys if key in table), None)
    if entry is None:
        return None
    factor, offset = entry.factor, entry.offset
    low, high = limits

    def read(value: float) -> float | None:
        result = value * factor + offset
        return result if math.isfinite(result) and low <= result <= high else None

    return read


def _same(value: float) -> float:
    return value


def _non_negative(value: float) -> float | None:
    return value if value >= 0 else None


#: The slot of each oxygen part of a pulse oximetry Observation in ``_decoded_support``.
_SUPPORT_SLOTS: dict[ObservationConcept, int] = {
    ObservationKind.FIO2: 0,
    ObservationKind.O2_FLOW: 1,
}


def _decoded_support(
    context: MappingContext, components: tuple[DecodedComponent, ...]
) -> tuple[float | None, float | None] | None:
    """The FiO2 and flow of a pulse oximetry Observation's components, read as ``_spo2``
    reads them (the first of each kind; a component grading does not read is left out);
    ``None`` (the mappers read it) for any other component or a value that is not plain."""
    plan = _component_slots(context, components, context.support_plans, _SUPPORT_SLOTS)
    if plan is None:
        return None
    support: list[float | None] = [None, None, None]
    for slot, component in zip(plan, components, strict=True):
        if slot == 2:
            continue
        plain = _decoded_quantity(component)
        if plain is None:
            return None
        read = _lane_result(_FIO2 if slot == 0 else _O2_FLOW, *plain)
        if read is None:
            return None
        if support[slot] is None:
            support[slot] = read
    return support[0], support[1]


def _component_slots(
    context: MappingContext,
    components: tuple[DecodedComponent, ...],
    plans: dict[tuple[bytes | None, ...], tuple[int, ...] | None],
    slots: dict[ObservationConcept, int],
) -> tuple[int, ...] | None:
    """The slot of each component by its code (``slots``; ``len(slots)`` for a part grading does
    not read), or ``None`` when the mappers must read the components (a name-matched part, a
    part of another kind, a code that cannot be read). Worked out once per distinct list of
    component codes (``plans``: one dict per mapping call and use)."""
    key = tuple(
        [None if component.code is UNSET else bytes(component.code) for component in components]
    )
    try:
        return plans[key]
    except KeyError:
        plan = plans[key] = _slots_of(context, [component.code for component in components], slots)
        return plan


def _slots_of(
    context: MappingContext, codes: list[Raw | UnsetType], slots: dict[ObservationConcept, int]
) -> tuple[int, ...] | None:
    unread = len(slots)
    found: list[int] = []
    for index, code in enumerate(codes):
        try:
            identified = identify_decoded(context, code, f"component[{index}].code")
        except ElementError:
            return None  # reported by the mappers, not here
        if identified is None:
            found.append(unread)
        elif identified.by_name or identified.concept not in slots:
            return None
        else:
            found.append(slots[identified.concept])
    return tuple(found)


def _lane_plan(context: MappingContext, code: Raw | UnsetType) -> _RowPlan | Literal[False] | None:
    """What an Observation's code means for ``decoded_lane``: ``None`` a code grading does not
    read; ``False`` the mappers read it (a name-matched code, a kind the lane does not read,
    validation on); else its ``_RowPlan``."""
    identified = identify_decoded(context, code, options=context.options)
    if identified is None:
        return None
    concept = identified.concept
    if identified.by_name or concept not in _FAST_KINDS or context.validating:
        return False
    return _RowPlan(context, concept)


def _identify(code: object, element: str, options: MappingOptions | None) -> Identified | None:
    if options is not None:
        configured = configured_kind(options, code)
        if configured is not None:
            return Identified(configured, by_name=False)
    return observation_concept(code, element)


def _value_fits(holder: JSON, concept: ObservationConcept) -> bool:
    """Whether a name-matched holder has the kind of value its name implies."""
    if concept in _CODED_KINDS:
        return "valueQuantity" not in holder
    if concept in ANY_VALUE_KINDS:
        return True  # the mapper decides (a text, a reason, components)
    return any(key in holder for key in _NUMBER_KEYS)


def map_observation(context: MappingContext, observation: JSON, reference: str) -> None:
    """Map one Observation of the patient; ``ElementError`` when a read element is malformed."""
    identified = identify(context.concepts, observation.get("code"), options=context.options)
    if (
        identified is not None
        and not identified.by_name
        and _fast_lane(context, observation, identified.concept, reference)
    ):
        return
    if (
        identified is not None
        and identified.by_name
        and not _value_fits(observation, identified.concept)
    ):
        # Named like ours but not a measurement of it ("Temp Source: Oral"), or a panel whose
        # name mentions one of ours (LOINC 85353-1's display names oxygen saturation and BMI):
        # only its components can be read.
        identified = None
    if identified is None:
        if "component" not in observation:
            return
        parts = _known_components(observation, None, "", context.concepts)
        if not parts:
            return  # a panel of nothing grading reads
        if not context.status_counts(observation, OBSERVATION_COUNTED, OBSERVATION_IGNORED):
            return
        context.validate(observation)
        time = observation_time(context.times, observation)
        _read_components(context, observation, parts, time, reference, required=False)
        return
    concept = identified.concept
    if not context.status_counts(observation, OBSERVATION_COUNTED, OBSERVATION_IGNORED):
        return
    context.validate(observation)
    time = observation_time(context.times, observation)
    if isinstance(concept, LabTest):
        _lab(context, observation, concept, time, reference, "")
    else:
        _MAPPERS[concept](context, observation, concept, time, reference, "")


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


class _Number(NamedTuple):
    """A numeric value as charted: the number, its unit keys, and its comparator if any."""

    value: float
    keys: list[str]
    comparator: Comparator | None


#: The value[x] choices of Observation and Observation.component (FHIR R4). Only these are
#: values: an element of another name (``valueFoo``) is not FHIR's and is not read.
VALUE_CHOICES = frozenset(
    {
        "valueQuantity",
        "valueCodeableConcept",
        "valueString",
        "valueBoolean",
        "valueInteger",
        "valueRange",
        "valueRatio",
        "valueSampledData",
        "valueTime",
        "valueDateTime",
        "valuePeriod",
    }
)


def _value_keys(holder: JSON) -> list[str]:
    return [key for key in holder if key in VALUE_CHOICES]


def _comparator(quantity: JSON, prefix: str) -> Comparator | None:
    charted = quantity.get("comparator")
    if charted is None or charted == "ad":
        return None
    if isinstance(charted, str) and charted in _COMPARATORS:
        return _COMPARATORS[charted]
    raise ElementError(f"{prefix}valueQuantity.comparator", "is not a FHIR comparator")


def _numeric_value(holder: JSON, prefix: str) -> _Number | None:
    """The value of valueQuantity or valueInteger; None when absent for a stated reason.

    ``ElementError`` for a missing value without dataAbsentReason, a value of another type,
    more than one value[x], a value that is not a number, or an unknown comparator.
    """
    quantity = holder.get("valueQuantity")
    keys = _value_keys(holder)
    if len(keys) > 1:
        raise ElementError(f"{prefix}value[x]", "has more than one type")
    if quantity is not None:
        if not isinstance(quantity, dict):
            raise ElementError(f"{prefix}valueQuantity", "is not a Quantity")
        value = number(quantity.get("value"), f"{prefix}valueQuantity.value")
        return _Number(value, quantity_unit_keys(quantity), _comparator(quantity, prefix))
    if keys == ["valueInteger"]:
        return _Number(number(holder["valueInteger"], f"{prefix}valueInteger"), [], None)
    if keys:
        raise ElementError(f"{prefix}{keys[0]}", "is not a number with a unit (valueQuantity)")
    if "dataAbsentReason" in holder:
        return None
    raise ElementError(f"{prefix}valueQuantity", "is missing")


def _measured(holder: JSON, prefix: str, measure: str) -> _Number | None:
    """A value that must be a measurement, not a bound: a comparator ("<90") is refused for
    readings that cannot carry one (SPEC 3: a bound never passes for a measured value)."""
    read = _numeric_value(holder, prefix)
    if read is not None and read.comparator is not None:
        raise ElementError(f"{prefix}valueQuantity.comparator", f"is a bound, not a {measure}")
    return read


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


# --- components -------------------------------------------------------------------------------

_Part = tuple[int, ObservationConcept, JSON]


def _known_components(
    holder: JSON,
    report: Callable[[ElementError], None] | None,
    prefix: str,
    concepts: dict[tuple[bool, bytes], Identified | None],
) -> list[_Part]:
    """The components whose code grading knows; an unreadable one is reported (when
    ``report`` is given) and left out, never fatal to the others."""
    raw = holder.get("component")
    if raw is None:
        return []
    if not isinstance(raw, list):
        if report is not None:
            report(ElementError(f"{prefix}component", "is not a list"))
        return []
    found: list[_Part] = []
    for index, component in enumerate(raw):
        element = f"{prefix}component[{index}]"
        if not isinstance(component, dict):
            if report is not None:
                report(ElementError(element, "is not an object"))
            continue
        try:
            identified = identify(concepts, component.get("code"), f"{element}.code")
        except ElementError as error:
            if report is not None:
                report(error)
            continue
        if identified is None:
            continue
        if identified.by_name and not _value_fits(component, identified.concept):
            continue
        found.append((index, identified.concept, component))
    return found


def _components(context: MappingContext, holder: JSON, reference: str) -> list[_Part]:
    return _known_components(
        holder, lambda error: context.skip_element(reference, error), "", context.concepts
    )


class _Support(NamedTuple):
    """Oxygen support read from components: FiO2, flow, device."""

    fio2: float | None = None
    flow: float | None = None
    device: OxygenDevice | None = None

    @property
    def any(self) -> bool:
        return self.fio2 is not None or self.flow is not None or self.device is not None


def _read_components(
    context: MappingContext,
    holder: JSON,
    parts: list[_Part],
    time: datetime,
    reference: str,
    *,
    required: bool,
) -> None:
    """One reading per known component: the pressures together as one blood pressure, the
    oxygen support together as one oxygen reading, every other measurement on its own."""
    pressures: dict[ObservationConcept, float] = {}
    bounds: dict[ObservationConcept, Comparator] = {}
    support = _Support()
    for index, concept, component in parts:
        prefix = f"component[{index}]."
        try:
            if concept in BP_COMPONENTS:
                read = _pressure(component, prefix)
                if read is not None and concept not in pressures:
                    pressures[concept], comparator = read
                    if comparator is not None:
                        bounds[concept] = comparator
            elif concept in OXYGEN_COMPONENTS or concept is ObservationKind.O2_DEVICE:
                support = _support_part(support, concept, component, prefix)
            elif isinstance(concept, LabTest):
                _lab(context, component, concept, time, reference, prefix)
            elif concept is not ObservationKind.BP_PANEL:
                _MAPPERS[concept](context, component, concept, time, reference, prefix)
        except ElementError as error:
            if required:
                raise
            context.skip_element(reference, error)
    if pressures:
        _add_pressures(context, time, reference, pressures, bounds)
    if support.any:
        context.oxygen.append(
            OxygenReading(time, reference, support.fio2, support.flow, support.device)
        )


def _support_part(
    support: _Support, concept: ObservationConcept, component: JSON, prefix: str
) -> _Support:
    if concept is ObservationKind.FIO2:
        fio2 = _fio2(component, prefix)
        return support._replace(fio2=fio2) if support.fio2 is None else support
    if concept is ObservationKind.O2_FLOW:
        flow = _flow(component, prefix)
        return support._replace(flow=flow) if support.flow is None else support
    device = _device_value(component, prefix)
    return support._replace(device=device) if support.device is None else support


# --- vital signs ------------------------------------------------------------------------------


def _temperature(
    context: MappingContext,
    holder: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
    prefix: str,
) -> None:
    read = _numeric_value(holder, prefix)
    if read is None:
        return
    celsius = _convert(read.value, read.keys, TEMPERATURE_TO_CELSIUS, prefix, "temperature")
    low, high = PLAUSIBLE_TEMPERATURE_C
    if not low <= celsius <= high:
        raise ElementError(
            f"{prefix}valueQuantity.value",
            "is outside the plausible range of a body temperature",
        )
    context.temperatures_c.append(Measurement(time, celsius, reference, read.comparator))


def _pressure(holder: JSON, prefix: str) -> tuple[float, Comparator | None] | None:
    """A pressure in mmHg with its comparator: "<60" (a cuff that could not read lower) is kept
    as a bound (SPEC 3 "Comparators"); the grader decides what a bound meets."""
    read = _numeric_value(holder, prefix)
    if read is None:
        return None
    if not read.keys:
        return read.value, read.comparator  # a blood pressure without a unit is in mmHg
    mmhg = _convert(read.value, read.keys, PRESSURE_TO_MMHG, prefix, "blood pressure")
    return mmhg, read.comparator


def _blood_pressure_part(
    context: MappingContext,
    holder: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
    prefix: str,
) -> None:
    read = _pressure(holder, prefix)
    if read is None:
        return
    value, comparator = read
    _add_pressures(
        context, time, reference, {kind: value}, {kind: comparator} if comparator else None
    )


def _add_pressures(
    context: MappingContext,
    time: datetime,
    reference: str,
    pressures: Mapping[ObservationKind | LabTest, float],
    bounds: Mapping[ObservationKind | LabTest, Comparator] | None = None,
) -> None:
    """One BloodPressure from the pressures of one time (a panel's, or one row's own), with the
    comparators of those charted as bounds: the mappers and the fast lane record blood pressures
    only through here."""
    systolic = pressures.get(ObservationKind.SYSTOLIC)
    diastolic = pressures.get(ObservationKind.DIASTOLIC)
    mean = pressures.get(ObservationKind.MEAN_ARTERIAL)
    if not bounds:
        _record_pressures(context, time, reference, systolic, diastolic, mean)
        return
    context.blood_pressures.append(
        BloodPressure(
            time,
            reference,
            systolic,
            diastolic,
            mean,
            bounds.get(ObservationKind.SYSTOLIC),
            bounds.get(ObservationKind.DIASTOLIC),
            bounds.get(ObservationKind.MEAN_ARTERIAL),
        )
    )


def _record_pressures(
    context: MappingContext,
    time: datetime,
    reference: str,
    systolic: float | None,
    diastolic: float | None,
    mean: float | None,
) -> None:
    """Measured pressures (no bound): the fast lanes' way in."""
    # Positional (the fields' order): keywords cost a lookup each, on every monitor row.
    context.blood_pressures.append(BloodPressure(time, reference, systolic, diastolic, mean))


def _blood_pressure_panel(
    context: MappingContext,
    holder: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
    prefix: str,
) -> None:
    parts = _components(context, holder, reference)
    if not any(concept in BP_COMPONENTS for _, concept, _ in parts):
        raise ElementError(f"{prefix}component", "has no systolic, diastolic or mean pressure")
    _read_components(context, holder, parts, time, reference, required=False)


def _count_per_minute(holder: JSON, prefix: str) -> _Number | None:
    """A rate such as beats or breaths per minute; the unit does not change the number. A bound
    (">200") keeps its comparator (SPEC 3)."""
    read = _numeric_value(holder, prefix)
    if read is None:
        return None
    if read.value < 0:
        raise ElementError(f"{prefix}valueQuantity.value", "is negative")
    return read


def _heart_rate(
    context: MappingContext,
    holder: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
    prefix: str,
) -> None:
    read = _count_per_minute(holder, prefix)
    if read is not None:
        context.heart_rates.append(Measurement(time, read.value, reference, read.comparator))


def _respiratory_rate(
    context: MappingContext,
    holder: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
    prefix: str,
) -> None:
    read = _count_per_minute(holder, prefix)
    if read is not None:
        context.respiratory_rates.append(Measurement(time, read.value, reference, read.comparator))


def _weight(
    context: MappingContext,
    holder: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
    prefix: str,
) -> None:
    read = _measured(holder, prefix, "body weight")
    if read is None:
        return
    kilograms = _convert(read.value, read.keys, WEIGHT_TO_KG, prefix, "body weight")
    if not within(kilograms, PLAUSIBLE_WEIGHT_KG):
        raise ElementError(
            f"{prefix}valueQuantity.value",
            f"is outside the plausible body weight range ({range_text(PLAUSIBLE_WEIGHT_KG, 'kg')})"
            ": likely a unit or entry error",
        )
    target = context.weights_kg if kind is ObservationKind.WEIGHT else context.stated_weights_kg
    target.append(Measurement(time, kilograms, reference))


# --- oxygen -----------------------------------------------------------------------------------


def _fio2(holder: JSON, prefix: str) -> float | None:
    read = _measured(holder, prefix, "FiO2")
    if read is None:
        return None
    return _percent(read.value, read.keys, prefix, "FiO2", PLAUSIBLE_FIO2_LOW)


def _flow(holder: JSON, prefix: str) -> float | None:
    read = _measured(holder, prefix, "oxygen flow")
    if read is None:
        return None
    flow = _convert(read.value, read.keys, FLOW_TO_L_PER_MIN, prefix, "oxygen flow")
    if flow < 0:
        raise ElementError(f"{prefix}valueQuantity.value", "is negative")
    return flow


def _spo2(
    context: MappingContext,
    holder: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
    prefix: str,
) -> None:
    with_parts = not prefix and "component" in holder  # US Core pulse oximetry: FiO2 and flow
    try:
        read = _numeric_value(holder, prefix)  # "<70" (below the oximeter's range) is kept
        if read is not None:
            value = _percent(read.value, read.keys, prefix, "SpO2", PLAUSIBLE_SPO2_LOW)
            context.spo2_percent.append(Measurement(time, value, reference, read.comparator))
    except ElementError as error:
        if not with_parts:
            raise
        context.skip_element(reference, error)  # SPEC 3: the FiO2 and flow parts still count
    if with_parts:
        parts = [
            part for part in _components(context, holder, reference) if part[1] in OXYGEN_COMPONENTS
        ]
        _read_components(context, holder, parts, time, reference, required=False)


def _fio2_observation(
    context: MappingContext,
    holder: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
    prefix: str,
) -> None:
    fio2 = _fio2(holder, prefix)
    if fio2 is not None:
        context.oxygen.append(OxygenReading(time, reference, fio2_percent=fio2))


def _flow_observation(
    context: MappingContext,
    holder: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
    prefix: str,
) -> None:
    flow = _flow(holder, prefix)
    if flow is not None:
        context.oxygen.append(OxygenReading(time, reference, flow_l_per_min=flow))


def oxygen_device(value: object, element: str) -> OxygenDevice | None:
    """The oxygen device named in a CodeableConcept or a string (of several, the most
    supportive), or None."""
    texts = [value] if isinstance(value, str) else concept_texts(value, element)
    return named_device(texts)


def _device_value(holder: JSON, prefix: str) -> OxygenDevice | None:
    """The device a holder's value names; ``None`` when no value is charted."""
    keys = _value_keys(holder)
    if len(keys) > 1:
        raise ElementError(f"{prefix}value[x]", "has more than one type")
    if not keys:
        return None
    if keys[0] not in ("valueCodeableConcept", "valueString"):
        raise ElementError(
            f"{prefix}{keys[0]}", "is not a CodeableConcept or string naming a device"
        )
    device = oxygen_device(holder[keys[0]], f"{prefix}{keys[0]}")
    if device is None:
        raise ElementError(f"{prefix}{keys[0]}", "is not a recognised oxygen delivery device")
    return device


def _device_observation(
    context: MappingContext,
    holder: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
    prefix: str,
) -> None:
    keys = _value_keys(holder)
    if keys == ["valueQuantity"]:
        return  # a number is not a device (e.g. an oxygen delivery index): not ours
    if not keys and "dataAbsentReason" not in holder and "component" not in holder:
        raise ElementError(f"{prefix}valueCodeableConcept", "is missing")
    with_parts = not prefix and "component" in holder
    try:
        support = _Support(device=_device_value(holder, prefix))
    except ElementError as error:
        if not with_parts:
            raise
        context.skip_element(reference, error)  # SPEC 3: the FiO2 and flow parts still count
        support = _Support()
    if with_parts:
        for index, concept, component in _components(context, holder, reference):
            if concept in OXYGEN_COMPONENTS:
                try:
                    support = _support_part(support, concept, component, f"component[{index}].")
                except ElementError as error:
                    context.skip_element(reference, error)
    if support.any:
        context.oxygen.append(
            OxygenReading(time, reference, support.fio2, support.flow, support.device)
        )


# --- labs -------------------------------------------------------------------------------------


def _lab_value(test: LabTest, value: float, keys: list[str], prefix: str, measure: str) -> float:
    """The value in ``LAB_UNITS[test]`` (a result or a reference limit; no plausibility)."""
    if test is LabTest.LVEF:
        return _percent_value(value, keys, prefix, measure)
    return _convert(value, keys, LAB_TO_STANDARD[test], prefix, measure)


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


def _reference_limits(
    context: MappingContext,
    holder: JSON,
    test: LabTest,
    keys: list[str],
    time: datetime,
    reference: str,
    prefix: str,
) -> tuple[float | None, float | None]:
    """(LLN, ULN) from the range that fits the patient, each side else the default; an
    unreadable range loses only itself (the defaults are used, and it is reported)."""
    low, high, error = _limits_of(context, holder, test, keys, time.date(), prefix)
    if error is not None:
        context.skip_element(reference, error)
    return low, high


def _limits_of(
    context: MappingContext, holder: JSON, test: LabTest, keys: list[str], on: date, prefix: str
) -> tuple[float | None, float | None, ElementError | None]:
    """``_reference_limits`` on ``on``, with what it reports (the same answer for the same
    range, test, unit keys, patient and day: ``decoded_lab`` keeps it by those)."""
    low: float | None = None
    high: float | None = None
    problem: ElementError | None = None
    try:
        chosen = choose_reference_range(holder, prefix, context.sex, context.birth_date, on)
        if chosen is not None:
            index, candidate = chosen
            element = f"{prefix}referenceRange[{index}]"
            low = _limit(test, candidate.get("low"), keys, f"{element}.low")
            high = _limit(test, candidate.get("high"), keys, f"{element}.high")
    except ElementError as error:
        problem = error
        low = high = None
    default_low, default_high = DEFAULT_REFERENCE_RANGES.get(test, (None, None))
    return (
        default_low if low is None else low,
        default_high if high is None else high,
        problem,
    )


def _lab(
    context: MappingContext,
    holder: JSON,
    test: LabTest,
    time: datetime,
    reference: str,
    prefix: str,
) -> None:
    read = _numeric_value(holder, prefix)
    if read is None:
        return
    name = LAB_NAMES[test]
    value = _lab_value(test, read.value, read.keys, prefix, name)
    if not within(value, PLAUSIBLE_LAB_RANGES[test]):
        raise ElementError(
            f"{prefix}valueQuantity.value",
            f"is outside the plausible {name} range ({lab_range_text(test)})"
            ": likely a unit or entry error",
        )
    low, high = _reference_limits(context, holder, test, read.keys, time, reference, prefix)
    context.labs.append(
        LabResult(test, time, value, reference, low=low, high=high, comparator=read.comparator)
    )


# --- blood cultures ---------------------------------------------------------------------------


def _culture_text(text: str) -> tuple[bool | None, str | None] | None:
    """A culture result written in words as (positive, organism); ``None`` when no word of a
    result is in it.

    Read clause by clause (``clauses``). In a clause, the words after a negation
    (``CULTURE_NEGATION``: "No aerobic or anaerobic growth") are not read and the clause is a
    negative result. An organism or Gram stain named outside a negation is a positive culture
    ("Gram negative rods" is positive); else the clause's first result word says it. Any
    positive clause makes the culture positive, else any negative one negative, else pending.
    """
    verdicts: list[bool | None] = []
    for clause in clauses(text):
        negation = CULTURE_NEGATION.search(clause)
        read = clause if negation is None else clause[: negation.start()]
        if CULTURE_ORGANISM_WORDS.find(read):
            return True, text
        results = CULTURE_RESULT_WORDS.find(read)
        if results:
            verdicts.append(results[0])
        if negation is not None:
            verdicts.append(False)
    for verdict in (True, False, None):
        if verdict in verdicts:
            return verdict, None
    return None


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
            # A SNOMED CT concept we do not list: its words first ("No growth after 5 days",
            # "Not done"), else it names the organism identified (600-7 is "Bacteria
            # identified").
            read = _culture_text(name) if name else None
            if read is not None and read[0] is not True:
                return read
            return True, name
    for text in concept_texts(concept, "valueCodeableConcept"):
        read = _culture_text(text)
        if read is not None and read[0] is not None:
            return read
    return None, None


def _interpretation(holder: JSON, prefix: str) -> bool | None:
    for index, concept in enumerate(
        list_of_objects(holder.get("interpretation"), f"{prefix}interpretation")
    ):
        for coding in codings(concept, f"{prefix}interpretation[{index}]"):
            code, system = coding.get("code"), coding.get("system")
            if isinstance(system, str) and isinstance(code, str):
                if system in _INTERPRETATION_SYSTEMS and code in CULTURE_INTERPRETATION:
                    return CULTURE_INTERPRETATION[code]
    return None


def _blood_culture(
    context: MappingContext,
    holder: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
    prefix: str,
) -> None:
    keys = _value_keys(holder)
    if len(keys) > 1:
        raise ElementError(f"{prefix}value[x]", "has more than one type")
    positive: bool | None = None
    organism: str | None = None
    if keys == ["valueCodeableConcept"]:
        positive, organism = _culture_concept(holder["valueCodeableConcept"])
    elif keys == ["valueString"]:
        text = holder["valueString"]
        if not isinstance(text, str):
            raise ElementError(f"{prefix}valueString", "is not a string")
        positive, organism = _culture_text(text) or (None, None)
    elif keys:
        raise ElementError(f"{prefix}{keys[0]}", "is not a CodeableConcept or string result")
    if positive is None:
        try:
            positive = _interpretation(holder, prefix)
        except ElementError as error:  # the interpretation alone is lost (SPEC 3)
            context.skip_element(reference, error)
    context.blood_cultures.append(CultureResult(time, positive, reference, organism))


# --- neurologic scores ------------------------------------------------------------------------


def _neuro_score(
    context: MappingContext,
    holder: JSON,
    kind: ObservationKind,
    time: datetime,
    reference: str,
    prefix: str,
) -> None:
    score_kind, low, high = NEURO_SCORES[kind]
    read = _measured(holder, prefix, f"{score_kind.value.upper()} score")
    if read is None:
        return
    if not low <= read.value <= high:
        raise ElementError(
            f"{prefix}value", f"is outside the {score_kind.value.upper()} range {low:g}-{high:g}"
        )
    context.neuro_scores.append(NeuroScore(score_kind, time, read.value, reference))


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
    ObservationKind.WEIGHT_STATED: _weight,
    ObservationKind.BLOOD_CULTURE: _blood_culture,
    ObservationKind.GCS: _neuro_score,
    ObservationKind.ICE: map_screen,
    ObservationKind.CAPD: map_screen,
    ObservationKind.ICE_ITEM: map_screen_item,
    ObservationKind.CAPD_ITEM: map_screen_item,
    ObservationKind.RASS: map_rass,
    ObservationKind.NEURO_SIGN: map_sign_observation,
}


# --- the fast lane (issue 13) -----------------------------------------------------------------
#
# Monitor-rate vitals are nearly all one shape: a known code, a counted status, one
# effectiveDateTime and one plain valueQuantity (or a blood pressure panel of such components).
# For that shape the lane does in one function what the mappers above do through a dozen, with
# the same tables, limits and results. Anything else (a comparator, an unknown unit, a value
# out of range, a missing value, another element the mappers read) makes it return False
# before it has changed anything, and the mappers above read the resource as always:
# tests/fhir_maps/test_fast_lane.py compares both on every shape the suite knows and on
# generated ones.

_OTHER_EFFECTIVE = ("effectivePeriod", "effectiveInstant", "effectiveTiming")
_MAX_EXACT_INT = 2**53


def _plain_quantity(holder: JSON) -> tuple[float, list[str]] | None:
    """(value, unit keys) of a holder whose only value[x] is a plain valueQuantity: a finite
    number, no comparator (or "ad"); ``None`` for anything else."""
    quantity = holder.get("valueQuantity")
    if type(quantity) is not dict:
        return None
    for key in holder:
        if key != "valueQuantity" and key in VALUE_CHOICES:
            return None
    charted = quantity.get("comparator")
    if charted is not None and charted != "ad":
        return None
    return _plain_number(quantity.get("value"), quantity_unit_keys(quantity))


def _decoded_quantity(holder: DecodedComponent) -> tuple[float, list[str]] | None:
    """``_plain_quantity`` of a decoded Observation or component."""
    quantity = holder.valueQuantity
    if isinstance(quantity, UnsetType) or holder.other_value():
        return None
    charted = quantity.comparator
    if not isinstance(charted, UnsetType) and charted != "ad":
        return None
    return _plain_number(quantity.value, _decoded_unit_keys(quantity.code, quantity.unit))


def _decoded_unit_keys(code: object, unit: object) -> list[str]:
    """``quantity_unit_keys`` of a decoded Quantity's ``code`` and ``unit`` (str or UNSET)."""
    return unit_keys(
        code if isinstance(code, str) else None, unit if isinstance(unit, str) else None
    )


def _plain_number(value: object, keys: list[str]) -> tuple[float, list[str]] | None:
    plain = _plain(value)
    return None if plain is None else (plain, keys)


def _plain(value: object) -> float | None:
    """A JSON number the lanes read as the mappers' ``number`` does: a finite float, or an
    integer a float holds exactly; ``None`` for anything else (the mappers read it)."""
    if type(value) is float:
        return value if math.isfinite(value) else None
    if type(value) is int and -_MAX_EXACT_INT <= value <= _MAX_EXACT_INT:
        return float(value)
    return None


def _fast_converted(value: float, keys: list[str], table: dict[str, Linear]) -> float | None:
    if not keys:
        return None
    for key in keys:
        entry = table.get(key)
        if entry is not None:
            result = entry(value)
            return result if math.isfinite(result) else None
    return None


def _fast_percent(value: float, keys: list[str], low: float) -> float | None:
    try:
        result = percent(value, keys)
    except UnitProblem:
        return None
    return result if low <= result <= 100.0 else None


def _fast_pressure(plain: tuple[float, list[str]] | None) -> float | None:
    if plain is None:
        return None
    value, keys = plain
    if not keys:
        return value  # a blood pressure without a unit is in mmHg (``_pressure``)
    return _fast_converted(value, keys, PRESSURE_TO_MMHG)


def _fast_lane(
    context: MappingContext, observation: JSON, concept: ObservationConcept, reference: str
) -> bool:
    """Map a plain vital sign (see above) and return True, else change nothing and return
    False. Same order as ``map_observation``: status, time, value; the time is read last
    here, once nothing can send the resource back, and raises as it would there."""
    if concept not in _FAST_KINDS or context.validating:
        return False
    status = observation.get("status")
    if type(status) is not str or status not in OBSERVATION_COUNTED:
        return False
    when = observation.get("effectiveDateTime")
    if type(when) is not str:
        return False
    for key in _OTHER_EFFECTIVE:
        if key in observation:
            return False
    if concept is ObservationKind.BP_PANEL:
        return _lane_pressures(context, when, reference, _fast_panel(context, observation))
    if "component" in observation:
        return False
    if concept in BP_COMPONENTS:
        pressure = _fast_pressure(_plain_quantity(observation))
        pressures: dict[ObservationConcept, float] | None = (
            None if pressure is None else {concept: pressure}
        )
        return _lane_pressures(context, when, reference, pressures)
    return _lane_value(context, concept, _plain_quantity(observation), when, reference)


def _lane_pressures(
    context: MappingContext,
    when: str,
    reference: str,
    pressures: dict[ObservationConcept, float] | None,
) -> bool:
    if pressures is None:
        return False
    time = context.times.required(when, "effectiveDateTime")
    _add_pressures(context, time, reference, pressures)
    return True


def _lane_value(
    context: MappingContext,
    concept: ObservationConcept,
    plain: tuple[float, list[str]] | None,
    when: str,
    reference: str,
) -> bool:
    """The value of a plain vital sign converted and checked as the mappers do; recorded."""
    if plain is None:
        return False
    result = _lane_result(concept, *plain)
    if result is None:
        return False
    _lane_record(
        context, concept, context.times.required(when, "effectiveDateTime"), result, reference
    )
    return True


def _lane_result(concept: ObservationConcept, value: float, keys: list[str]) -> float | None:
    """A plain vital sign's value in grading's unit, checked as the mappers do; ``None``
    when the mappers must read it (unknown unit, implausible value)."""
    result: float | None
    if concept is _HEART_RATE or concept is _RESPIRATORY_RATE:
        result = value if value >= 0 else None
    elif concept is _TEMPERATURE:
        result = _fast_converted(value, keys, TEMPERATURE_TO_CELSIUS)
        low, high = PLAUSIBLE_TEMPERATURE_C
        if result is not None and not low <= result <= high:
            result = None
    elif concept is _SPO2:
        result = _fast_percent(value, keys, PLAUSIBLE_SPO2_LOW)
    elif concept is _FIO2:
        result = _fast_percent(value, keys, PLAUSIBLE_FIO2_LOW)
    elif concept is _O2_FLOW:
        result = _fast_converted(value, keys, FLOW_TO_L_PER_MIN)
        if result is not None and result < 0:
            result = None
    else:  # WEIGHT, WEIGHT_STATED
        result = _fast_converted(value, keys, WEIGHT_TO_KG)
        if result is not None and not within(result, PLAUSIBLE_WEIGHT_KG):
            result = None
    return result


def _lane_record(
    context: MappingContext,
    concept: ObservationConcept,
    time: datetime,
    result: float,
    reference: str,
) -> None:
    into = _measurement_list(context, concept)
    if into is not None:
        into(Measurement(time, result, reference))
    elif concept is _FIO2:
        context.oxygen.append(OxygenReading(time, reference, fio2_percent=result))
    else:  # O2_FLOW
        context.oxygen.append(OxygenReading(time, reference, flow_l_per_min=result))


def _fast_panel(
    context: MappingContext, observation: JSON
) -> dict[ObservationConcept, float] | None:
    """The pressures of a blood pressure panel whose components are all plain and known (or
    unknown to grading, which the mappers skip too); ``None`` for anything else."""
    components = observation.get("component")
    if type(components) is not list:
        return None
    pressures: dict[ObservationConcept, float] = {}
    for index, component in enumerate(components):
        if type(component) is not dict:
            return None
        try:
            identified = identify(
                context.concepts, component.get("code"), f"component[{index}].code"
            )
        except ElementError:
            return None  # reported by the mappers, not here
        if identified is None:
            continue
        if identified.by_name or identified.concept not in BP_COMPONENTS:
            return None
        pressure = _fast_pressure(_plain_quantity(component))
        if pressure is None:
            return None
        pressures.setdefault(identified.concept, pressure)
    return pressures or None


def _decoded_panel(
    context: MappingContext, observation: DecodedObservation, reference: str
) -> bool:
    """``_fast_panel`` of a decoded Observation, recorded as ``_lane_pressures`` does; False
    (nothing changed) for anything else. What each component's code means is worked out once
    per distinct code (``_panel_slot``)."""
    components = observation.component
    if components is UNSET:
        return False
    slots = context.panel_slots
    readers = context.pressure_readers
    pressures: list[float | None] = [None, None, None, None]
    for component in components:
        code = component.code
        key = None if code is UNSET else bytes(code)
        try:
            slot = slots[key]
        except KeyError:
            slot = slots[key] = _panel_slot(context, code)
        if slot is None:
            return False
        if slot < 3:
            pressure = _decoded_value(readers, component, _SYSTOLIC, True)
            if pressure is None:
                return False
            if pressures[slot] is None:  # the first of a kind counts, as in _fast_panel
                pressures[slot] = pressure
    systolic, diastolic, mean, _ = pressures
    if systolic is None and diastolic is None and mean is None:
        return False
    when = observation.effectiveDateTime
    assert isinstance(when, str)  # noqa: S101 - decoded_lane checked it
    time = context.times.required(when, "effectiveDateTime")
    _record_pressures(context, time, reference, systolic, diastolic, mean)
    return True


def _decoded_value(
    readers: dict[tuple[object, object], _Reader | None],
    holder: DecodedComponent,
    concept: ObservationConcept,
    part: bool,
) -> float | None:
    """The plain valueQuantity of a decoded Observation or component in grading's unit:
    ``_lane_result(concept, *_decoded_quantity(holder))``, or ``_fast_pressure`` of it for a
    part of a blood pressure (``part``), the unit read once per (code, unit) pair of a call
    (``readers``: one dict per kind of reader). ``None`` when the mappers must read it."""
    quantity = holder.valueQuantity
    if quantity is UNSET or holder.other_value():
        return None
    charted = quantity.comparator
    if not (charted is UNSET or charted == "ad"):
        return None
    value = _plain(quantity.value)
    if value is None:
        return None
    units = (quantity.code, quantity.unit)
    try:
        reader = readers[units]
    except KeyError:
        reader = readers[units] = _value_reader(concept, part, units)
    return None if reader is None else reader(value)


def _panel_slot(context: MappingContext, code: Raw | UnsetType) -> int | None:
    """``_slots_of`` one component code of a blood pressure panel: its slot in
    ``_decoded_panel`` (``_PANEL_SLOTS``; 3 for a part grading does not read), or ``None``
    when the mappers must read the panel (a name-matched part, a part of another kind, a
    code that cannot be read). A panel's plan is its codes' slots, any ``None`` making it
    ``None``: worked out per code, it is the same plan."""
    plan = _slots_of(context, [code], _PANEL_SLOTS)
    return None if plan is None else plan[0]


#: The slot of each blood pressure part in ``_decoded_panel``; 3: a part grading does not read.
_PANEL_SLOTS: dict[ObservationConcept, int] = {
    ObservationKind.SYSTOLIC: 0,
    ObservationKind.DIASTOLIC: 1,
    ObservationKind.MEAN_ARTERIAL: 2,
}


#: The kinds the fast lane reads; every other one always goes through the mappers.
_FAST_KINDS = frozenset(
    {
        ObservationKind.BP_PANEL,
        ObservationKind.SYSTOLIC,
        ObservationKind.DIASTOLIC,
        ObservationKind.MEAN_ARTERIAL,
        ObservationKind.HEART_RATE,
        ObservationKind.RESPIRATORY_RATE,
        ObservationKind.TEMPERATURE,
        ObservationKind.SPO2,
        ObservationKind.FIO2,
        ObservationKind.O2_FLOW,
        ObservationKind.WEIGHT,
        ObservationKind.WEIGHT_STATED,
    }
)


# --- the decoded lab lane (issue 13) -----------------------------------------------------------

#: The lab tests ``decoded_lab`` reads (all; closed in the tests' reference mapping).
_FAST_LABS: frozenset[LabTest] = frozenset(LabTest)


def decoded_lab(context: MappingContext, observation: DecodedObservation, reference: str) -> bool:
    """The lab lane of a decoded Observation the first pass declined, run once the Patient is
    mapped (reference ranges fit the patient's sex and age): True when it was mapped as
    ``map_observation`` maps its dict; False (nothing changed) when the mappers must read it,
    which they do for everything but a plain result (a code of ours, a counted status,
    effectiveDateTime, one valueQuantity with a plain number, a unit and a value the lab
    tables read). ``ElementError`` only where the mappers raise the same (the time)."""
    code = observation.code
    key = None if code is UNSET else bytes(code)
    try:
        test = context.lab_plans[key]
    except KeyError:
        test = context.lab_plans[key] = _lab_plan(context, code)
    if test is None:
        return False
    if observation.status not in OBSERVATION_COUNTED:
        return False
    when = observation.effectiveDateTime
    if when is UNSET or observation.other_effective() or observation.component is not UNSET:
        return False
    quantity = observation.valueQuantity
    if quantity is UNSET or observation.other_value():
        return False
    charted = quantity.comparator
    comparator: Comparator | None = None
    if not (charted is UNSET or charted == "ad"):
        comparator = _COMPARATORS.get(charted)
        if comparator is None:
            return False
    value = _plain(quantity.value)
    if value is None:
        return False
    units = (test, quantity.code, quantity.unit)
    try:
        read = context.lab_units[units]
    except KeyError:
        read = context.lab_units[units] = _lab_unit(units)
    if read is None:
        return False
    keys, convert = read
    try:
        result = convert(value)
    except ElementError:
        return False
    if not within(result, PLAUSIBLE_LAB_RANGES[test]):
        return False
    time = context.times.required(when, "effectiveDateTime")
    day = time.date()
    ranges = observation.referenceRange
    limits_key = (test, None if ranges is UNSET else bytes(ranges), units, day)
    try:
        limits = context.lab_limits[limits_key]
    except KeyError:
        limits = context.lab_limits[limits_key] = _decoded_limits(context, test, ranges, keys, day)
    if limits is None:
        return False
    low, high = limits
    context.labs.append(
        LabResult(test, time, result, reference, low=low, high=high, comparator=comparator)
    )
    return True


def _lab_plan(context: MappingContext, code: Raw | UnsetType) -> LabTest | None:
    """The lab test a code names, for ``decoded_lab``; ``None``: the mappers read it."""
    try:
        identified = identify_decoded(context, code, options=context.options)
    except ElementError:
        return None
    if identified is None or identified.by_name or context.validating:
        return None
    concept = identified.concept
    return concept if isinstance(concept, LabTest) and concept in _FAST_LABS else None


def _lab_unit(
    units: tuple[LabTest, object, object],
) -> tuple[list[str], Callable[[float], float]] | None:
    """The unit keys of a lab's (code, unit) pair and its conversion (``_lab_value``, which
    raises ``ElementError`` as in the mappers); ``None`` when no value in it can be read."""
    test, code, unit = units
    keys = _decoded_unit_keys(code, unit)
    name = LAB_NAMES[test]
    try:
        _lab_value(test, 1.0, keys, "", name)  # the unit alone decides whether it reads
    except ElementError:
        return None
    return keys, lambda value: _lab_value(test, value, keys, "", name)


def _decoded_limits(
    context: MappingContext, test: LabTest, ranges: Raw | UnsetType, keys: list[str], on: date
) -> tuple[float | None, float | None] | None:
    """``_limits_of`` a decoded referenceRange; ``None`` when it reports a problem or is not
    JSON ``orjson`` reads (the mappers then read the Observation, and report it)."""
    holder: JSON = {}
    if ranges is not UNSET:
        try:
            holder["referenceRange"] = orjson.loads(memoryview(ranges))
        except orjson.JSONDecodeError:
            return None
    low, high, error = _limits_of(context, holder, test, keys, on, "")
    return None if error is not None else (low, high)
