"""Turns a ``Storyline`` into a FHIR R4 transaction Bundle, deterministically.

Noise comes from ``random.Random(storyline.seed)``, consumed in a fixed order, so the same
arguments always give the same Bundle, byte for byte once serialised.

Truncation (``days`` after the infusion, or ``until_h`` hours after day 0 midnight): the Bundle
then holds what the EHR would hold at that moment: later data is left out, a drip still running
is ``in-progress`` with an open period, a diagnosis not yet resolved is active, a culture not yet
final is preliminary or absent.

Time shift (``shift``): every timestamp moves by this much beyond day 0 midnight, so that any
moment of the story can be placed at any wall-clock time (``crs-cds demo`` puts each case's
telling moment at "now"). Dates without a time (birth date, dated diagnoses) follow the shifted
local calendar.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone

from cds_service.demo import _fhir
from cds_service.demo._codes import (
    BLOOD_CULTURE,
    BODY_WEIGHT,
    BP_PANEL,
    CAPD_ROW,
    DIASTOLIC,
    DRUGS,
    FIO2,
    GCS_TOTAL,
    HEART_RATE,
    ICE_ROW,
    LOCAL_FLOWSHEET,
    LOINC,
    MEAN_BP,
    NO_GROWTH,
    O2_FLOW,
    RASS,
    RASS_CHOICES,
    RESP_RATE,
    RXNORM,
    SNOMED,
    SPO2,
    SPO2_PULSE_OX,
    SYSTOLIC,
    TEMPERATURE,
    coding,
    concept,
    loinc,
)
from cds_service.demo._model import (
    JSON,
    BloodCulture,
    Drip,
    FeverSpell,
    LabSpec,
    PinnedVitals,
    Storyline,
)

_EPSILON_H = 1e-6
#: Resource types in the order the Bundle lists them.
_TYPE_ORDER = ("Patient", "Condition", "Procedure", "MedicationAdministration", "Observation")
_CRS_DRUGS = frozenset({"tocilizumab", "methylprednisolone", "etanercept"})
#: Fever curve: period of the spikes within a spell, in hours.
_FEVER_PERIOD_H = 9.0


@dataclass(frozen=True, slots=True)
class Options:
    day0: date
    vitals_every_h: float | None = None
    labs_every_h: float | None = None
    days: int | None = None
    until_h: float | None = None
    shift: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class Clock:
    """Local wall-clock time of the case: hours since day 0 midnight -> FHIR dateTime.

    ``shift`` moves every instant by that much (the story's hours stay as written).
    """

    day0: date
    utc_offset_h: int
    shift: timedelta = timedelta(0)

    def datetime(self, hours: float) -> datetime:
        zone = timezone(timedelta(hours=self.utc_offset_h))
        midnight = datetime.combine(self.day0, time(0), tzinfo=zone)
        return midnight + self.shift + timedelta(seconds=round(hours * 3600))

    def iso(self, hours: float) -> str:
        return self.datetime(hours).isoformat(timespec="seconds")

    def date_iso(self, hours: float) -> str:
        return self.datetime(hours).date().isoformat()


@dataclass(slots=True)
class _VitalsSet:
    hours: float
    icu: bool
    temp_c: float
    systolic: int
    diastolic: int
    mean: int
    heart_rate: int
    resp_rate: int
    spo2: int


def patient_id(case_id: str) -> str:
    return f"crs-demo-{case_id}"


def therapy_reference(story: Storyline) -> str:
    """``Type/id`` of the day-0 therapy resource of ``story`` (the first id of its kind)."""
    return f"{story.therapy.resource_type}/{patient_id(story.case_id)}-cell-infusion-1"


class _Builder:
    """Collects resources with readable, per-kind sequential ids."""

    def __init__(self, case_id: str) -> None:
        self.patient_id = patient_id(case_id)
        self.subject = _fhir.reference("Patient", self.patient_id)
        self._counters: dict[str, int] = {}
        self._items: list[tuple[int, float, int, JSON]] = []

    def new_id(self, kind: str) -> str:
        count = self._counters.get(kind, 0) + 1
        self._counters[kind] = count
        return f"{self.patient_id}-{kind}-{count}"

    def add(self, resource: JSON, hours: float) -> None:
        rank = _TYPE_ORDER.index(resource["resourceType"])
        self._items.append((rank, hours, len(self._items), resource))

    def bundle(self) -> JSON:
        ordered = sorted(self._items, key=lambda item: item[:3])
        return {
            "resourceType": "Bundle",
            "id": self.patient_id,
            "type": "transaction",
            "entry": [_fhir.transaction_entry(item[3]) for item in ordered],
        }


def build_bundle(story: Storyline, options: Options) -> JSON:
    """The transaction Bundle of ``story`` under ``options``."""
    if options.days is not None and options.days < 1:
        raise ValueError("days must be at least 1")
    if options.days is not None and options.until_h is not None:
        raise ValueError("give days or until_h, not both")
    if options.until_h is not None and options.until_h < story.infusion_end:
        raise ValueError("the cut falls before the end of the infusion (day 0)")
    cadences = {"vitals_every": options.vitals_every_h, "labs_every": options.labs_every_h}
    for name, value in cadences.items():
        if value is not None and value < 1 / 60:
            raise ValueError(f"{name} must be at least one minute")
    clock = Clock(options.day0, story.utc_offset_h, options.shift)
    cut = story.end
    if options.days is not None:
        cut = story.infusion + options.days * 24.0
    elif options.until_h is not None:
        cut = options.until_h
    rng = random.Random(story.seed)  # noqa: S311 - plausible noise for demo data, not security
    builder = _Builder(story.case_id)

    _add_patient(builder, story, options.day0)
    _add_history(builder, story, clock)
    _add_therapy(builder, story, clock)
    _add_conditions(builder, story, clock, cut)
    _add_vitals(builder, story, clock, cut, options.vitals_every_h, rng)
    _add_weights(builder, story, clock, cut)
    _add_labs(builder, story, clock, cut, options.labs_every_h)
    _add_cultures(builder, story, clock, cut)
    _add_gcs(builder, story, clock, cut)
    _add_neuro_checks(builder, story, clock, cut)
    for drip in story.drips:
        _add_drip(builder, drip, clock, cut)
    _add_doses(builder, story, clock, cut)
    return builder.bundle()


# --- patient, history, therapy, conditions ---------------------------------------------------


def _add_patient(builder: _Builder, story: Storyline, day0: date) -> None:
    spec = story.patient
    birth = day0 - timedelta(days=spec.age_days_at_day0)
    resource = _fhir.patient(
        builder.patient_id,
        mrn=spec.mrn,
        given=spec.given,
        family=spec.family,
        gender=spec.gender,
        birth_date=birth.isoformat(),
    )
    builder.add(resource, -math.inf)


def _add_history(builder: _Builder, story: Storyline, clock: Clock) -> None:
    for item in story.history:
        resource = _fhir.procedure(
            builder.new_id(item.key),
            builder.subject,
            code=item.concept,
            start=clock.date_iso(item.at),
            end=None,
            note=item.note,
        )
        builder.add(resource, item.at)


def _add_therapy(builder: _Builder, story: Storyline, clock: Clock) -> None:
    spec = story.therapy
    start, end = story.infusion, story.infusion + spec.minutes / 60.0
    if spec.resource_type == "Procedure":
        resource = _fhir.procedure(
            builder.new_id("cell-infusion"),
            builder.subject,
            code=spec.concept,
            start=clock.iso(start),
            end=clock.iso(end),
            note=spec.note,
        )
    else:
        resource = _fhir.medication_administration(
            builder.new_id("cell-infusion"),
            builder.subject,
            status="completed",
            start=clock.iso(start),
            end=clock.iso(end),
            medication=spec.concept,
            dosage={"text": spec.note, "route": _fhir.route("iv")},
        )
    builder.add(resource, start)


def _add_conditions(builder: _Builder, story: Storyline, clock: Clock, cut: float) -> None:
    for spec in story.conditions:
        if spec.onset > cut:
            continue
        abated = spec.abatement is not None and spec.abatement <= cut
        status = spec.status_when_abated if abated else spec.status
        onset = clock.date_iso(spec.onset) if spec.dated else clock.iso(spec.onset)
        abatement = None
        if abated and spec.abatement is not None:
            abatement = clock.date_iso(spec.abatement) if spec.dated else clock.iso(spec.abatement)
        resource = _fhir.condition(
            builder.new_id(spec.key),
            builder.subject,
            code=spec.concept,
            category=spec.category,
            clinical_status=status,
            onset=onset,
            abatement=abatement,
        )
        builder.add(resource, spec.onset)


# --- vital signs ------------------------------------------------------------------------------


def _vitals_times(story: Storyline, cut: float, every: float | None) -> list[tuple[float, bool]]:
    """(time, ICU monitoring) of every charted vitals set up to ``cut``."""
    minutes: dict[int, bool] = {}

    def icu_at(hours: float) -> bool:
        return any(seg.icu and seg.start <= hours <= seg.end for seg in story.vitals)

    def add(hours: float, icu: bool) -> None:
        key = round(hours * 60)
        minutes[key] = minutes.get(key, False) or icu

    segments = list(story.vitals)
    if every is None:
        if cut > story.end and segments:
            last = max(segments, key=lambda seg: seg.end)
            segments[segments.index(last)] = replace(last, end=cut)
        for seg in segments:
            hours = seg.start
            while hours <= min(seg.end, cut) + _EPSILON_H:
                add(hours, seg.icu)
                hours += seg.every
    else:
        # Keep the baseline charted before the infusion, then one cadence from 1 h before it.
        start = story.infusion - 1.0
        for seg in segments:
            hours = seg.start
            while hours < min(seg.end + _EPSILON_H, start):
                add(hours, seg.icu)
                hours += seg.every
        hours = start
        while hours <= cut + _EPSILON_H:
            add(hours, icu_at(hours))
            hours += every
    for pinned in story.pinned:
        if pinned.at <= cut:
            add(pinned.at, icu_at(pinned.at))
    return [(key / 60.0, icu) for key, icu in sorted(minutes.items())]


def _fever_at(story: Storyline, hours: float) -> FeverSpell | None:
    for spell in story.fevers:
        if spell.start - _EPSILON_H <= hours <= spell.end + _EPSILON_H:
            return spell
    return None


def _in_hypotension(story: Storyline, hours: float) -> bool:
    return any(s.start <= hours <= s.end for s in story.hypotension)


def _model_vitals(
    story: Storyline, times: list[tuple[float, bool]], rng: random.Random
) -> list[_VitalsSet]:
    body = story.physiology
    sets: list[_VitalsSet] = []
    for hours, icu in times:
        spell = _fever_at(story, hours)
        if spell is None:
            temp = min(body.temp_c.value(hours) + rng.uniform(-0.25, 0.25), 37.8)
        else:
            wave = 0.5 - 0.5 * math.cos(2 * math.pi * (hours - spell.start) / _FEVER_PERIOD_H)
            top = max(38.1, spell.peak_c - 0.2)
            temp = 38.1 + (top - 38.1) * wave + rng.uniform(-0.15, 0.15)
            temp = min(max(temp, 38.1), top)
        systolic = round(body.systolic.value(hours) + rng.uniform(-4, 4))
        diastolic = round(body.diastolic.value(hours) + rng.uniform(-3, 3))
        if not _in_hypotension(story, hours):
            systolic = max(systolic, story.min_systolic)
            diastolic = max(diastolic, math.ceil((3 * story.min_mean_arterial - systolic) / 2))
        mean = round((systolic + 2 * diastolic) / 3 + rng.uniform(-2, 2))
        if not _in_hypotension(story, hours):
            mean = max(mean, story.min_mean_arterial)
        fever_beats = max(0.0, temp - 37.2) * 10
        heart_rate = round(body.heart_rate.value(hours) + fever_beats + rng.uniform(-5, 5))
        resp_rate = round(body.resp_rate.value(hours) + rng.uniform(-2, 2))
        spo2 = min(100, round(body.spo2.value(hours) + rng.uniform(-1, 1)))
        sets.append(
            _VitalsSet(
                hours, icu, round(temp, 1), systolic, diastolic, mean, heart_rate, resp_rate, spo2
            )
        )
    # The charted peak of each fever is exactly the paper's value, and no reading exceeds it.
    for spell in story.fevers:
        inside = [s for s in sets if spell.start - _EPSILON_H <= s.hours <= spell.end + _EPSILON_H]
        if not inside:
            continue
        for vitals in inside:
            vitals.temp_c = min(vitals.temp_c, round(spell.peak_c - 0.1, 1))
        if spell.start <= spell.peak_at <= spell.end and spell.peak_at <= inside[-1].hours:
            nearest = min(inside, key=lambda s: abs(s.hours - spell.peak_at))
            nearest.temp_c = spell.peak_c
    for pinned in story.pinned:
        for vitals in sets:
            if abs(vitals.hours - pinned.at) < 1 / 120:
                _apply_pinned(vitals, pinned)
    return sets


def _apply_pinned(vitals: _VitalsSet, pinned: PinnedVitals) -> None:
    if pinned.temp_c is not None:
        vitals.temp_c = pinned.temp_c
    if pinned.systolic is not None:
        vitals.systolic = pinned.systolic
    if pinned.diastolic is not None:
        vitals.diastolic = pinned.diastolic
    if pinned.systolic is not None or pinned.diastolic is not None:
        vitals.mean = round((vitals.systolic + 2 * vitals.diastolic) / 3)
    if pinned.heart_rate is not None:
        vitals.heart_rate = pinned.heart_rate
    if pinned.resp_rate is not None:
        vitals.resp_rate = pinned.resp_rate
    if pinned.spo2 is not None:
        vitals.spo2 = pinned.spo2


def _temperature_quantity(story: Storyline, temp_c: float) -> JSON:
    if story.temperature_unit == "[degF]":
        return _fhir.quantity(round(temp_c * 9 / 5 + 32, 1), "°F", "[degF]")
    return _fhir.quantity(temp_c, "°C", "Cel")


def _add_vital(
    builder: _Builder,
    kind: str,
    code: JSON,
    hours: float,
    when: str,
    value: JSON | None,
    components: list[JSON] | None = None,
) -> None:
    resource = _fhir.observation(
        builder.new_id(kind),
        builder.subject,
        "vital-signs",
        code,
        when,
        value_quantity=value,
        components=components,
    )
    builder.add(resource, hours)


def _add_vitals(
    builder: _Builder,
    story: Storyline,
    clock: Clock,
    cut: float,
    every: float | None,
    rng: random.Random,
) -> None:
    spo2_code = concept(
        "SpO2",
        coding(LOINC, SPO2_PULSE_OX[0], SPO2_PULSE_OX[1]),
        coding(LOINC, SPO2[0], SPO2[1]),
    )
    for vitals in _model_vitals(story, _vitals_times(story, cut, every), rng):
        hours = vitals.hours
        when = clock.iso(hours)
        temperature = _temperature_quantity(story, vitals.temp_c)
        _add_vital(builder, "temp", loinc(TEMPERATURE), hours, when, temperature)

        pressure = [
            _fhir.component(loinc(SYSTOLIC), _fhir.quantity(vitals.systolic, "mmHg", "mm[Hg]")),
            _fhir.component(loinc(DIASTOLIC), _fhir.quantity(vitals.diastolic, "mmHg", "mm[Hg]")),
        ]
        if vitals.icu:  # arterial line in the ICU: the monitor sends the mean too
            pressure.append(
                _fhir.component(loinc(MEAN_BP), _fhir.quantity(vitals.mean, "mmHg", "mm[Hg]"))
            )
        _add_vital(builder, "bp", loinc(BP_PANEL, "Blood pressure"), hours, when, None, pressure)

        heart_rate = _fhir.quantity(vitals.heart_rate, "beats/min", "/min")
        _add_vital(builder, "hr", loinc(HEART_RATE), hours, when, heart_rate)
        resp_rate = _fhir.quantity(vitals.resp_rate, "breaths/min", "/min")
        _add_vital(builder, "rr", loinc(RESP_RATE), hours, when, resp_rate)

        spell = next((o for o in story.oxygen if o.start <= hours < o.end), None)
        oximetry: list[JSON] = []
        standalone: list[tuple[str, JSON, JSON]] = []
        if spell is not None:
            flow = _fhir.quantity(spell.flow_l_min, "L/min", "L/min")
            fio2 = None
            if spell.fio2_percent is not None:
                fio2 = _fhir.quantity(spell.fio2_percent, "%", "%")
            if spell.style == "component":
                oximetry.append(_fhir.component(loinc(O2_FLOW), flow))
                if fio2 is not None:
                    oximetry.append(_fhir.component(loinc(FIO2), fio2))
            else:
                standalone.append(("o2flow", loinc(O2_FLOW, "O2 flow rate"), flow))
                if fio2 is not None:
                    standalone.append(("fio2", loinc(FIO2, "FiO2"), fio2))
        elif story.room_air_fio2_component:
            oximetry.append(_fhir.component(loinc(FIO2), _fhir.quantity(21, "%", "%")))
        spo2 = _fhir.quantity(vitals.spo2, "%", "%")
        _add_vital(builder, "spo2", spo2_code, hours, when, spo2, oximetry or None)
        for kind, code, value in standalone:
            _add_vital(builder, kind, code, hours, when, value)


def _add_weights(builder: _Builder, story: Storyline, clock: Clock, cut: float) -> None:
    for hours, kg in story.weights_kg:
        if hours > cut:
            continue
        resource = _fhir.observation(
            builder.new_id("weight"),
            builder.subject,
            "vital-signs",
            loinc(BODY_WEIGHT),
            clock.iso(hours),
            value_quantity=_fhir.quantity(kg, "kg", "kg"),
        )
        builder.add(resource, hours)


def _add_gcs(builder: _Builder, story: Storyline, clock: Clock, cut: float) -> None:
    for hours, score in story.gcs:
        if hours > cut:
            continue
        resource = _fhir.observation(
            builder.new_id("gcs"),
            builder.subject,
            "survey",
            loinc(GCS_TOTAL, "GCS total"),
            clock.iso(hours),
            value_quantity=_fhir.quantity(score, "{score}", "{score}"),
        )
        builder.add(resource, hours)


def _add_neuro_checks(builder: _Builder, story: Storyline, clock: Clock, cut: float) -> None:
    """Each check as two flowsheet rows: the screen's total and the RASS (SPEC 2.9)."""
    for check in story.neuro_checks:
        if check.at > cut:
            continue
        code, name = ICE_ROW if check.screen == "ICE" else CAPD_ROW
        screen = _fhir.observation(
            builder.new_id(check.screen.lower()),
            builder.subject,
            "survey",
            concept(name, coding(LOCAL_FLOWSHEET, code, name)),
            clock.iso(check.at),
            value_quantity=_fhir.quantity(check.score, "{score}", "{score}"),
        )
        builder.add(screen, check.at)
        rass = _fhir.observation(
            builder.new_id("rass"),
            builder.subject,
            "survey",
            concept("RASS", coding(SNOMED, *RASS)),
            clock.iso(check.at),
            value_concept=concept(RASS_CHOICES[check.rass]),
        )
        builder.add(rass, check.at)


# --- laboratory -------------------------------------------------------------------------------


def _lab_times(story: Storyline, cut: float, every: float | None) -> list[float]:
    times = [t for t in story.lab_times if t <= cut]
    if every is None:
        if story.lab_times and cut > story.end:
            extra = story.lab_times[-1] + 24.0
            while extra <= cut:
                times.append(extra)
                extra += 24.0
        return times
    after = [t for t in story.lab_times if t >= 0]
    grid = [t for t in story.lab_times if t < 0]
    hours = after[0] if after else 0.0
    while hours <= cut + _EPSILON_H:
        grid.append(hours)
        hours += every
    return grid


def _lab_observation(
    builder: _Builder, spec: LabSpec, clock: Clock, hours: float, value: float
) -> JSON:
    value = round(value, spec.decimals) if spec.decimals else float(round(value))
    interpretation = None
    if spec.high is not None and value > spec.high:
        interpretation = "H"
    elif spec.low is not None and value < spec.low:
        interpretation = "L"
    reference_range: JSON | None = None
    if spec.low is not None or spec.high is not None:
        reference_range = {}
        if spec.low is not None:
            reference_range["low"] = _fhir.quantity(spec.low, spec.unit_display, spec.unit)
        if spec.high is not None:
            reference_range["high"] = _fhir.quantity(spec.high, spec.unit_display, spec.unit)
    return _fhir.observation(
        builder.new_id(spec.key),
        builder.subject,
        "laboratory",
        concept(spec.text, coding(LOINC, spec.loinc, spec.display)),
        clock.iso(hours),
        value_quantity=_fhir.quantity(value, spec.unit_display, spec.unit),
        reference_range=reference_range,
        interpretation=interpretation,
        issued=clock.iso(hours + spec.turnaround_h),
    )


def _add_labs(
    builder: _Builder, story: Storyline, clock: Clock, cut: float, every: float | None
) -> None:
    specs = {spec.key: spec for spec in story.labs}
    draws: list[tuple[float, LabSpec, float]] = []
    for hours in _lab_times(story, cut, every):
        for spec in story.labs:
            draws.append((hours, spec, spec.course.value(hours)))
    for stat in story.stat_labs:
        draws.append((stat.at, specs[stat.key], stat.value))
    draws.sort(key=lambda draw: draw[0])
    for hours, spec, value in draws:
        if hours + spec.turnaround_h > cut:
            continue  # not resulted yet
        builder.add(_lab_observation(builder, spec, clock, hours, value), hours)


def _add_cultures(builder: _Builder, story: Storyline, clock: Clock, cut: float) -> None:
    for culture in story.cultures:
        resource = _culture_observation(builder, culture, clock, cut)
        if resource is not None:
            builder.add(resource, culture.collected)


def _culture_observation(
    builder: _Builder, culture: BloodCulture, clock: Clock, cut: float
) -> JSON | None:
    """The culture as reported by ``cut``: final, preliminary, or not reported yet (None)."""
    collected = culture.collected
    final = collected + culture.final_after_h
    organism = culture.organism
    if final <= cut:
        status, issued = "final", final
        if organism is None:
            value = concept("No growth at 5 days", coding(SNOMED, NO_GROWTH[0], NO_GROWTH[1]))
            flag = "NEG"
        else:
            value = concept(organism.name, coding(SNOMED, organism.snomed, organism.name))
            flag = "POS"
    elif organism is not None and collected + 18 <= cut:
        status, issued = "preliminary", collected + 18
        value, flag = concept("Gram-positive cocci in chains"), "POS"
    elif organism is None and collected + 48 <= cut:
        status, issued = "preliminary", collected + 48
        value = concept("No growth at 2 days", coding(SNOMED, NO_GROWTH[0], NO_GROWTH[1]))
        flag = "NEG"
    else:
        return None
    return _fhir.observation(
        builder.new_id("blood-culture"),
        builder.subject,
        "laboratory",
        loinc(BLOOD_CULTURE, "Blood culture"),
        clock.iso(collected),
        value_concept=value,
        interpretation=flag,
        issued=clock.iso(issued),
        status=status,
    )


# --- medications ------------------------------------------------------------------------------


def _drug_concept(name: str) -> JSON:
    drug = DRUGS[name]
    return concept(drug.text, coding(RXNORM, drug.rxnorm, drug.name))


def _contained_medication(name: str) -> JSON:
    """The drug as a contained Medication: product text, with the ingredient coded."""
    drug = DRUGS[name]
    return {
        "resourceType": "Medication",
        "id": f"{name}-premix",
        "code": {"text": f"{drug.name.title()} 8 mg in sodium chloride 0.9% 250 mL premix"},
        "ingredient": [
            {
                "itemCodeableConcept": concept(drug.name, coding(RXNORM, drug.rxnorm, drug.name)),
                "isActive": True,
                "strength": {
                    "numerator": _fhir.quantity(8, "mg", "mg"),
                    "denominator": _fhir.quantity(250, "mL", "mL"),
                },
            }
        ],
    }


def _add_drip(builder: _Builder, drip: Drip, clock: Clock, cut: float) -> None:
    unit_display = "mcg/min" if drip.rate_unit == "ug/min" else "mcg/kg/min"
    bounds = [step[0] for step in drip.steps[1:]] + [drip.stop]
    for (start, rate), end in zip(drip.steps, bounds, strict=True):
        if start > cut:
            break
        running = end > cut
        medication = None if drip.contained else _drug_concept(drip.agent)
        contained = _contained_medication(drip.agent) if drip.contained else None
        resource = _fhir.medication_administration(
            builder.new_id(drip.agent),
            builder.subject,
            status="in-progress" if running else "completed",
            start=clock.iso(start),
            end=None if running else clock.iso(end),
            medication=medication,
            contained_medication=contained,
            dosage={
                "route": _fhir.route("iv"),
                "rateQuantity": _fhir.quantity(rate, unit_display, drip.rate_unit),
            },
        )
        builder.add(resource, start)


def _add_doses(builder: _Builder, story: Storyline, clock: Clock, cut: float) -> None:
    for dose in story.doses:
        if dose.at > cut:
            continue
        end = dose.at + dose.minutes / 60.0
        running = end > cut
        dosage: JSON = {}
        if dose.note:
            dosage["text"] = dose.note
        dosage["route"] = _fhir.route(dose.route)
        dosage["dose"] = _fhir.quantity(dose.amount, dose.unit, dose.unit)
        resource = _fhir.medication_administration(
            builder.new_id(dose.drug),
            builder.subject,
            status="in-progress" if running else "completed",
            start=clock.iso(dose.at),
            end=None if running else clock.iso(end),
            medication=_drug_concept(dose.drug),
            reason="Cytokine release syndrome" if dose.drug in _CRS_DRUGS else None,
            dosage=dosage,
            instant=dose.minutes == 0,
        )
        builder.add(resource, dose.at)
