"""MedicationAdministration -> vasopressor drips, CRS immunosuppressants, CRS therapies."""

from __future__ import annotations

import math
from datetime import datetime

from crs_grading.inputs import (
    ImmunosuppressantDose,
    InfusionRate,
    RateBasis,
    TherapyAdministration,
    UnidentifiedAdministration,
    Vasopressor,
    VasopressorAdministration,
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
from .medications import MedicationResolver, UnresolvedMedication, classify_drug
from .plausible_ranges import PLAUSIBLE_VASOPRESSOR_MAXIMA, number_text
from .units import (
    DOSE_TO_MG,
    MASS,
    UNITS,
    VOLUME,
    UnitProblem,
    lookup,
    parse_amount_unit,
    parse_rate_unit,
    quantity_unit_keys,
)
from .valuesets.medications import (
    NON_SYSTEMIC_ROUTES,
    ROUTE_NAMES,
    SNOMED_ROUTES,
    VASOPRESSOR_ROUTES,
)
from .valuesets.statuses import ADMINISTRATION_COUNTED, ADMINISTRATION_IGNORED
from .valuesets.systems import RXNORM, SNOMED
from .valuesets.therapies import Therapy

#: rate_gap texts (shown on cards as data gaps, SPEC 2.3).
GAP_NO_RATE = "no rate recorded"
GAP_DOSE_ONLY = "a dose without an infusion rate"
GAP_NO_CONCENTRATION = "rate in mL/h without a concentration"
GAP_NO_UNIT = "rate without a unit"
GAP_UNKNOWN_UNIT = "rate unit not recognised"
GAP_UNITS_FOR_MASS_DRUG = "rate in units for a drug dosed by mass"
GAP_MASS_FOR_VASOPRESSIN = "vasopressin rate by mass instead of units"
GAP_VASOPRESSIN_PER_KG = "vasopressin rate per kg cannot be used"
GAP_NEGATIVE_RATE = "negative rate recorded"
GAP_RATIO_DENOMINATOR = "rate ratio over a time that is not positive"
GAP_UNREADABLE_RATE = "rate could not be read"
GAP_UNREADABLE_DOSAGE = "dosage could not be read"


def implausible_rate_gap(agent: Vasopressor, basis: RateBasis) -> str:
    """The rate_gap of a rate above ``PLAUSIBLE_VASOPRESSOR_MAXIMA`` (value-free: the limit)."""
    maximum = number_text(PLAUSIBLE_VASOPRESSOR_MAXIMA[agent][basis])
    return f"rate above the plausible maximum of {maximum} {basis} for {agent}: likely a unit error"


def map_administration(
    context: MappingContext, resolver: MedicationResolver, administration: JSON, reference: str
) -> None:
    """Map one MedicationAdministration of the patient."""
    try:
        resolved = resolver.resolve(administration)
    except UnresolvedMedication:
        _note_unidentified(context, administration, reference)
        raise  # skipped and reported as well: its drug could not be read
    if resolved is None:
        return
    if not context.status_counts(administration, ADMINISTRATION_COUNTED, ADMINISTRATION_IGNORED):
        return
    context.validate(administration)
    if resolved.medication is not None:
        try:
            context.validate(resolved.medication)
        except ElementError as error:
            raise ElementError(
                "medicationReference", f"points to an invalid Medication: {error}"
            ) from None
    start, end = administration_period(context.times, administration)
    drug = resolved.drug
    if isinstance(drug, Therapy):
        # SPEC 2.1: a continuous infusion is dated by its period (day 0 is its start) and stays
        # in scope for 30 days after its end, or after now while it runs.
        time = start if start is not None else end
        assert time is not None  # noqa: S101 (administration_period returns at least one)
        ongoing = administration.get("status") == "in-progress" and end is None
        context.therapies.append(
            TherapyAdministration(drug.name, drug.kind, time, reference, end, ongoing)
        )
        return
    if resolved.not_systemic:
        return  # a local anaesthetic with epinephrine, eye drops, a cream: not what the rules mean
    # SPEC 3: one unreadable element loses only that element; the drug was still given.
    dosage_error: ElementError | None = None
    try:
        dosage = optional_object(administration.get("dosage"), "dosage")
    except ElementError as error:
        dosage, dosage_error = None, error
        context.skip_element(reference, error)
    try:
        route = administration_route(dosage)
    except ElementError as error:
        route = None  # read as not stated: a vasopressor still counts as a drip
        context.skip_element(reference, error)
    if isinstance(drug, Vasopressor):
        if route is not None and route not in VASOPRESSOR_ROUTES:
            return  # e.g. intramuscular epinephrine for anaphylaxis: not a vasopressor drip
        if start is None:
            raise ElementError("effectivePeriod.start", "is missing")
        rate: InfusionRate | None = None
        gap: str | None = GAP_UNREADABLE_DOSAGE
        if dosage_error is None:
            try:
                rate, gap = infusion_rate(dosage, drug, resolved.medication)
            except ElementError as error:  # a rate sent as a string, a malformed ratio
                context.skip_element(reference, error)
                rate, gap = None, GAP_UNREADABLE_RATE
        context.vasopressors.append(
            VasopressorAdministration(
                agent=drug,
                start=start,
                end=end,
                rate=rate,
                reference=reference,
                in_progress=administration.get("status") == "in-progress",
                rate_gap=gap,
            )
        )
        return
    if route in NON_SYSTEMIC_ROUTES:
        return  # e.g. inhaled or topical corticosteroid
    time = start if start is not None else end
    assert time is not None  # noqa: S101 (administration_period returns at least one)
    try:
        dose_mg = _dose_mg(dosage)
    except ElementError as error:
        dose_mg = None  # the dose is unknown; that the drug was given still counts
        context.skip_element(reference, error)
    context.immunosuppressants.append(ImmunosuppressantDose(drug, time, reference, dose_mg=dose_mg))


def _note_unidentified(context: MappingContext, administration: JSON, reference: str) -> None:
    """Record an administration whose drug could not be identified, when it counts (its status)
    and has a time: it may have been the CRS-associated therapy (SPEC 2.1). One that cannot be
    dated or whose status does not count is no evidence of anything."""
    try:
        if not context.status_counts(
            administration, ADMINISTRATION_COUNTED, ADMINISTRATION_IGNORED
        ):
            return
        start, end = administration_period(context.times, administration)
    except ElementError:
        return
    time = start if start is not None else end
    if time is not None:
        ongoing = administration.get("status") == "in-progress" and end is None
        context.unidentified_administrations.append(
            UnidentifiedAdministration(reference, time, end, ongoing)
        )


def administration_period(
    times: TimeReader, administration: JSON
) -> tuple[datetime | None, datetime | None]:
    """(start, end) from effectiveDateTime (no end) or effectivePeriod; at least one is set."""
    date_time = administration.get("effectiveDateTime")
    period_value = administration.get("effectivePeriod")
    if date_time is not None and period_value is not None:
        raise ElementError("effective[x]", "has more than one type")
    if date_time is not None:
        return times.required(date_time, "effectiveDateTime"), None
    period = optional_object(period_value, "effectivePeriod")
    if period is None:
        raise ElementError("effective[x]", "is missing")
    start = times.optional(period.get("start"), "effectivePeriod.start")
    end = times.optional(period.get("end"), "effectivePeriod.end")
    if start is None and end is None:
        raise ElementError("effectivePeriod", "has no start or end precise to the day")
    if start is not None and end is not None and end < start:
        raise ElementError("effectivePeriod", "ends before it starts")
    return start, end


def administration_route(dosage: JSON | None, element: str = "dosage.route") -> str | None:
    """The route of a dosage as a word ("intravenous", "oral", ...), or None when not stated."""
    if dosage is None:
        return None
    route = dosage.get("route")
    if route is None:
        return None
    for coding in codings(route, element):
        code = coding.get("code")
        if coding.get("system") == SNOMED and isinstance(code, str) and code in SNOMED_ROUTES:
            return SNOMED_ROUTES[code]
    return ROUTE_NAMES.first(concept_texts(route, element))


def _dose_mg(dosage: JSON | None) -> float | None:
    if dosage is None:
        return None
    dose = optional_object(dosage.get("dose"), "dosage.dose")
    if dose is None or "value" not in dose:
        return None
    value = number(dose.get("value"), "dosage.dose.value")
    try:
        return lookup(quantity_unit_keys(dose), DOSE_TO_MG)(value)
    except UnitProblem:
        return None  # a dose in mg/kg or mL: the amount in mg is unknown


def _rate_value_and_keys(dosage: JSON) -> tuple[float, list[str]] | str | None:
    """(value, unit keys) of the rate; a rate_gap when the rate is there but unreadable; None
    when there is no rate. ``ElementError`` when an element is malformed (not a number)."""
    quantity = dosage.get("rateQuantity")
    ratio = dosage.get("rateRatio")
    if quantity is not None and ratio is not None:
        raise ElementError("dosage.rate[x]", "has more than one type")
    if quantity is not None:
        rate = optional_object(quantity, "dosage.rateQuantity")
        assert rate is not None  # noqa: S101 (not None above)
        value = number(rate.get("value"), "dosage.rateQuantity.value")
        return value, quantity_unit_keys(rate)
    if ratio is not None:
        rate_ratio = optional_object(ratio, "dosage.rateRatio")
        assert rate_ratio is not None  # noqa: S101 (not None above)
        numerator = optional_object(rate_ratio.get("numerator"), "dosage.rateRatio.numerator")
        denominator = optional_object(rate_ratio.get("denominator"), "dosage.rateRatio.denominator")
        if numerator is None:
            raise ElementError("dosage.rateRatio.numerator", "is missing")
        value = number(numerator.get("value"), "dosage.rateRatio.numerator.value")
        per = 1.0
        denominator_keys = ["min"]
        if denominator is not None:
            if "value" in denominator:
                per = number(denominator.get("value"), "dosage.rateRatio.denominator.value")
                if per <= 0:
                    return GAP_RATIO_DENOMINATOR
            denominator_keys = quantity_unit_keys(denominator)
        numerator_keys = quantity_unit_keys(numerator)
        keys = [f"{top}/{bottom}" for top in numerator_keys for bottom in denominator_keys]
        return value / per, keys
    return None


def infusion_rate(
    dosage: JSON | None, agent: Vasopressor, medication: JSON | None
) -> tuple[InfusionRate | None, str | None]:
    """The normalised rate of a vasopressor drip, or (None, why it cannot be read).

    A rate of 0 is a readable rate: the drip is paused (charted at 0 while titrated off). A
    negative rate, or one above ``PLAUSIBLE_VASOPRESSOR_MAXIMA`` after conversion (a unit
    error), cannot be read: the drip still counts as a vasopressor of unknown dose (SPEC 2.3).
    """
    read = _rate_value_and_keys(dosage) if dosage is not None else None
    if read is None:
        has_dose = dosage is not None and dosage.get("dose") is not None
        return None, GAP_DOSE_ONLY if has_dose else GAP_NO_RATE
    if isinstance(read, str):
        return None, read
    value, keys = read
    if value < 0:
        return None, GAP_NEGATIVE_RATE
    if not keys:
        return None, GAP_NO_UNIT
    unit = next((parsed for key in keys if (parsed := parse_rate_unit(key)) is not None), None)
    if unit is None:
        return None, GAP_UNKNOWN_UNIT
    amount_per_min = value * unit.factor
    measure = unit.measure
    if measure == VOLUME:
        if unit.per_kg:
            return None, GAP_UNKNOWN_UNIT
        strength = _concentration(medication, agent)
        if strength is None:
            return None, GAP_NO_CONCENTRATION
        measure, per_ml = strength
        amount_per_min *= per_ml
    is_vasopressin = agent is Vasopressor.VASOPRESSIN
    if measure == UNITS:
        if not is_vasopressin:
            return None, GAP_UNITS_FOR_MASS_DRUG
        if unit.per_kg:
            return None, GAP_VASOPRESSIN_PER_KG
        basis = RateBasis.UNITS_PER_MIN
    elif is_vasopressin:
        return None, GAP_MASS_FOR_VASOPRESSIN
    else:
        basis = RateBasis.MICROGRAMS_PER_KG_PER_MIN if unit.per_kg else RateBasis.MICROGRAMS_PER_MIN
    if not amount_per_min <= PLAUSIBLE_VASOPRESSOR_MAXIMA[agent][basis]:  # also NaN, infinity
        return None, implausible_rate_gap(agent, basis)
    return InfusionRate(amount_per_min, basis), None


def _concentration(medication: JSON | None, agent: Vasopressor) -> tuple[str, float] | None:
    """(MASS or UNITS, ug or units per mL) from the Medication's ingredient strength.

    The ingredient that is the agent wins; else the only active ingredient with a strength
    (a premixed bag "4 mg / 250 mL" coded only at the product level).
    """
    if medication is None:
        return None
    matching: list[tuple[str, float]] = []
    others: list[tuple[str, float]] = []
    for index, ingredient in enumerate(list_of_objects(medication.get("ingredient"), "ingredient")):
        if ingredient.get("isActive") is False or ingredient.get("strength") is None:
            continue
        element = f"Medication.ingredient[{index}].strength"
        strength = _strength(optional_object(ingredient.get("strength"), element), element)
        if strength is None:
            continue
        item = ingredient.get("itemCodeableConcept")
        drug = None
        if item is not None:
            codes = tuple(
                code
                for coding in codings(item, f"{element}.item")
                if coding.get("system") == RXNORM and isinstance(code := coding.get("code"), str)
            )
            drug = classify_drug(codes, tuple(concept_texts(item, f"{element}.item")))
        (matching if drug is agent else others).append(strength)
    if matching:
        return matching[0]
    if len(others) == 1:
        return others[0]
    return None


def _strength(ratio: JSON | None, element: str) -> tuple[str, float] | None:
    if ratio is None:
        return None
    numerator = optional_object(ratio.get("numerator"), f"{element}.numerator")
    denominator = optional_object(ratio.get("denominator"), f"{element}.denominator")
    if numerator is None or denominator is None:
        return None
    amount = number(numerator.get("value"), f"{element}.numerator.value")
    volume = number(denominator.get("value"), f"{element}.denominator.value")
    amount_unit = next(
        (parsed for key in quantity_unit_keys(numerator) if (parsed := parse_amount_unit(key))),
        None,
    )
    volume_unit = next(
        (parsed for key in quantity_unit_keys(denominator) if (parsed := parse_amount_unit(key))),
        None,
    )
    if amount_unit is None or volume_unit is None or amount <= 0 or volume <= 0:
        return None  # no strength: a zero or negative one would make a running drip look paused
    if amount_unit[0] not in (MASS, UNITS) or volume_unit[0] != VOLUME:
        return None
    per_ml = amount * amount_unit[1] / (volume * volume_unit[1])
    if not math.isfinite(per_ml) or per_ml <= 0:
        return None  # an overflow or underflow of absurd numbers
    return amount_unit[0], per_ml
