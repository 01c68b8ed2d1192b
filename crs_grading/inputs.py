"""Typed, unit-normalised grading inputs: the contract between ``fhir_maps`` and the grader.

``fhir_maps`` turns FHIR R4 resources into these frozen dataclasses; ``crs_grading`` computes on
them and never sees FHIR, pydantic models or raw dicts (STYLE "parse at the edge").

Conventions every producer must keep:

- Every ``datetime`` is timezone-aware and in UTC.
- Every finding carries ``reference``: the ``Type/id`` of the FHIR resource it came from, so that
  cards can cite their evidence (SPEC section 4, ``evidence``).
- Units are normalised at the edge; the unit is part of the field name or stated on the field.
- Resources that were entered in error, cancelled or not done never become inputs; resources that
  could not be read become ``SkippedResource`` entries instead (SPEC section 3).
- Inputs are *all* data the request holds for the patient, not only the grading window:
  windows, baselines and episodes are clinical rules and are applied by ``crs_grading``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta


class Comparator(enum.StrEnum):
    """A ``valueQuantity.comparator`` as charted: the true value lies beyond the bound (SPEC 3)."""

    BELOW = "<"
    AT_MOST = "<="
    AT_LEAST = ">="
    ABOVE = ">"


class TherapyKind(enum.StrEnum):
    """Families of CRS-associated therapy (SPEC 2.1)."""

    CAR_T = "car-t"
    TCR_TIL = "tcr-til"
    T_CELL_ENGAGER = "t-cell-engager"
    ANTIBODY = "antibody"
    CELL_THERAPY_OTHER = "cell-therapy"


class Vasopressor(enum.StrEnum):
    """Vasoactive agents counted by seed Table 3."""

    NOREPINEPHRINE = "norepinephrine"
    EPINEPHRINE = "epinephrine"
    DOPAMINE = "dopamine"
    PHENYLEPHRINE = "phenylephrine"
    VASOPRESSIN = "vasopressin"


class RateBasis(enum.StrEnum):
    """How an infusion rate is expressed after normalisation."""

    MICROGRAMS_PER_MIN = "ug/min"
    MICROGRAMS_PER_KG_PER_MIN = "ug/kg/min"
    UNITS_PER_MIN = "units/min"  # vasopressin only


class OxygenDevice(enum.StrEnum):
    """Oxygen delivery devices that the ASTCT 2019 grade distinguishes."""

    ROOM_AIR = "room-air"
    BLOW_BY = "blow-by"
    NASAL_CANNULA = "nasal-cannula"  # low-flow unless the flow says otherwise
    HIGH_FLOW_NASAL_CANNULA = "high-flow-nasal-cannula"
    SIMPLE_FACEMASK = "facemask"
    FACE_TENT = "face-tent"  # low-flow unless the flow or the name says high flow
    HIGH_FLOW_FACE_TENT = "high-flow-face-tent"
    PARTIAL_REBREATHER = "partial-rebreather"
    NON_REBREATHER = "non-rebreather"
    VENTURI_MASK = "venturi-mask"
    CPAP = "cpap"
    BIPAP = "bipap"
    INVASIVE_VENTILATION = "invasive-ventilation"


class VentilationKind(enum.StrEnum):
    """Ventilator support, grade 4 by seed Table 2 (invasive or non-invasive positive pressure)."""

    INVASIVE = "invasive"
    NON_INVASIVE = "non-invasive"


class LabTest(enum.StrEnum):
    """Laboratory and imaging results the rules use (SPEC 2.3, 2.7, 2.8)."""

    AST = "ast"  # U/L
    ALT = "alt"  # U/L
    BILIRUBIN = "bilirubin"  # mg/dL
    CREATININE = "creatinine"  # mg/dL
    FIBRINOGEN = "fibrinogen"  # mg/dL
    LVEF = "lvef"  # percent
    CRP = "crp"  # mg/L
    FERRITIN = "ferritin"  # ng/mL
    IL6 = "il6"  # pg/mL
    ANC = "anc"  # cells/uL
    WBC = "wbc"  # 10^3/uL
    LACTATE = "lactate"  # mmol/L
    PROCALCITONIN = "procalcitonin"  # ng/mL
    PLATELETS = "platelets"  # 10^9/L (= 10^3/uL); SPEC 2.10 IEC-HS cytopenia
    HEMOGLOBIN = "hemoglobin"  # g/dL; SPEC 2.10 IEC-HS cytopenia
    LDH = "ldh"  # U/L; SPEC 2.10 IEC-HS


#: The unit every value of a ``LabTest`` is normalised to by ``fhir_maps``.
LAB_UNITS: dict[LabTest, str] = {
    LabTest.AST: "U/L",
    LabTest.ALT: "U/L",
    LabTest.BILIRUBIN: "mg/dL",
    LabTest.CREATININE: "mg/dL",
    LabTest.FIBRINOGEN: "mg/dL",
    LabTest.LVEF: "%",
    LabTest.CRP: "mg/L",
    LabTest.FERRITIN: "ng/mL",
    LabTest.IL6: "pg/mL",
    LabTest.ANC: "/uL",
    LabTest.WBC: "10*3/uL",
    LabTest.LACTATE: "mmol/L",
    LabTest.PROCALCITONIN: "ng/mL",
    LabTest.PLATELETS: "10*3/uL",
    LabTest.HEMOGLOBIN: "g/dL",
    LabTest.LDH: "U/L",
}

#: How clinicians name each ``LabTest`` (driver texts, data gaps, skip reasons).
LAB_NAMES: dict[LabTest, str] = {
    LabTest.AST: "AST",
    LabTest.ALT: "ALT",
    LabTest.BILIRUBIN: "bilirubin",
    LabTest.CREATININE: "creatinine",
    LabTest.FIBRINOGEN: "fibrinogen",
    LabTest.LVEF: "LVEF",
    LabTest.CRP: "CRP",
    LabTest.FERRITIN: "ferritin",
    LabTest.IL6: "IL-6",
    LabTest.ANC: "ANC",
    LabTest.WBC: "WBC",
    LabTest.LACTATE: "lactate",
    LabTest.PROCALCITONIN: "procalcitonin",
    LabTest.PLATELETS: "platelets",
    LabTest.HEMOGLOBIN: "hemoglobin",
    LabTest.LDH: "LDH",
}


class NeuroScoreKind(enum.StrEnum):
    """Scored neurologic assessments (SPEC 2.5)."""

    GCS = "gcs"  # Glasgow Coma Scale total, 3-15
    ICE = "ice"  # Immune effector Cell-associated Encephalopathy score, 0-10


class ConditionCategory(enum.StrEnum):
    """What a Condition means to the rules."""

    INFECTION = "infection"  # SPEC 2.7 infection-diagnosis (sepsis, bacteremia, other infection)
    NEUROLOGIC = "neurologic"  # SPEC 2.5 encephalopathy, delirium, confusion, aphasia, seizure
    COMORBIDITY = "comorbidity"  # SPEC 2.6 significant comorbidity value set
    CONSTITUTIONAL = "constitutional"  # seed Table 1 constitutional symptoms (grade 1)


class Immunosuppressant(enum.StrEnum):
    """CRS-directed immunosuppressants (seed: tocilizumab, corticosteroids, other agents)."""

    TOCILIZUMAB = "tocilizumab"
    DEXAMETHASONE = "dexamethasone"
    METHYLPREDNISOLONE = "methylprednisolone"
    HYDROCORTISONE = "hydrocortisone"
    ANAKINRA = "anakinra"
    SILTUXIMAB = "siltuximab"
    # Oral corticosteroids: no CRS treatment of the seed's, but a dose given masks a fever
    # (SPEC 2.7 "a corticosteroid already given"; found in review: prednisone 60 mg on day 7 gave
    # no masked-fever warning). Never checked as a draft order (``is_crs_order``).
    PREDNISONE = "prednisone"
    PREDNISOLONE = "prednisolone"

    @property
    def is_corticosteroid(self) -> bool:
        return self in _CORTICOSTEROIDS

    @property
    def is_crs_order(self) -> bool:
        """A drug whose draft orders the order hooks check (SPEC 4): not a prednisone taper."""
        return self not in (Immunosuppressant.PREDNISONE, Immunosuppressant.PREDNISOLONE)


_CORTICOSTEROIDS = frozenset(
    {
        Immunosuppressant.DEXAMETHASONE,
        Immunosuppressant.METHYLPREDNISOLONE,
        Immunosuppressant.HYDROCORTISONE,
        Immunosuppressant.PREDNISONE,
        Immunosuppressant.PREDNISOLONE,
    }
)


@dataclass(frozen=True, slots=True)
class SkippedResource:
    """A resource that could not be used, and why (SPEC 3: skipped and reported, never fatal)."""

    reference: str  # "Observation/x9", or "Observation/<no id> #3" when it has no id
    reason: str


@dataclass(frozen=True, slots=True)
class Measurement:
    """One numeric value at one time, from one resource.

    ``comparator``: the value is a bound as charted ("<35"): the true value lies beyond it.
    """

    time: datetime
    value: float
    reference: str
    comparator: Comparator | None = None


@dataclass(frozen=True, slots=True)
class BloodPressure:
    """A blood pressure reading in mmHg; any part may be missing.

    ``mean`` is the measured mean arterial pressure when the EHR sent one; the grader may derive
    it from systolic and diastolic when it is absent. A part charted as a bound ("<60 mmHg", an
    automatic cuff that could not read lower) keeps its comparator beside it: the true pressure
    lies beyond the bound (SPEC 3 "Comparators").
    """

    time: datetime
    reference: str
    systolic: float | None = None
    diastolic: float | None = None
    mean: float | None = None
    systolic_comparator: Comparator | None = None
    diastolic_comparator: Comparator | None = None
    mean_comparator: Comparator | None = None


@dataclass(frozen=True, slots=True)
class OxygenReading:
    """Oxygen support at one time: FiO2 (percent, 21-100), flow (L/min) and device, as recorded.

    No estimation here: the FiO2-from-flow estimate is a clinical rule and lives in the grader.
    """

    time: datetime
    reference: str
    fio2_percent: float | None = None
    flow_l_per_min: float | None = None
    device: OxygenDevice | None = None


@dataclass(frozen=True, slots=True)
class VentilationPeriod:
    """Positive-pressure ventilation from ``start`` to ``end`` (``None``: still going)."""

    kind: VentilationKind
    start: datetime
    end: datetime | None
    reference: str
    device: OxygenDevice | None = None  # CPAP, BiPAP or invasive, when known


@dataclass(frozen=True, slots=True)
class InfusionRate:
    """A normalised infusion rate."""

    value: float
    basis: RateBasis


@dataclass(frozen=True, slots=True)
class VasopressorAdministration:
    """One MedicationAdministration of a vasopressor: a drip at one rate over a period.

    ``end`` is ``None`` when the resource gives only a start (effectiveDateTime or an open
    period). ``in_progress`` is true when the administration's status says it is still running.
    ``rate`` is ``None`` when the rate cannot be read (mL/h without concentration, no rate);
    ``rate_gap`` then says why, for the card's data gaps (SPEC 2.3).
    """

    agent: Vasopressor
    start: datetime
    end: datetime | None
    rate: InfusionRate | None
    reference: str
    in_progress: bool = False
    rate_gap: str | None = None


@dataclass(frozen=True, slots=True)
class LabResult:
    """A lab (or LVEF) result in the unit ``LAB_UNITS[test]``, with its reference range."""

    test: LabTest
    time: datetime
    value: float
    reference: str
    low: float | None = None  # LLN from Observation.referenceRange, same unit
    high: float | None = None  # ULN from Observation.referenceRange, same unit
    comparator: Comparator | None = None  # "<50 mg/dL": the true value is below 50


@dataclass(frozen=True, slots=True)
class CultureResult:
    """A blood culture result (SPEC 2.7 positive-blood-culture)."""

    time: datetime
    positive: bool | None  # None: pending or unreadable result
    reference: str
    organism: str | None = None


@dataclass(frozen=True, slots=True)
class NeuroScore:
    """A GCS total or ICE score."""

    kind: NeuroScoreKind
    time: datetime
    value: float
    reference: str


@dataclass(frozen=True, slots=True)
class ConditionFinding:
    """A Condition the rules care about.

    ``active`` is true when clinicalStatus is active, recurrence or relapse (or absent) and the
    verificationStatus is not refuted or entered-in-error. ``onset`` falls back to recordedDate.
    """

    category: ConditionCategory
    name: str  # clinician-facing term, e.g. "sepsis", "encephalopathy", "heart failure"
    active: bool
    reference: str
    onset: datetime | None = None
    abatement: datetime | None = None
    refuted: bool = False  # verificationStatus refuted: it never was


@dataclass(frozen=True, slots=True)
class TherapyAdministration:
    """An immune-effector or CRS-associated therapy given (SPEC 2.1); its start is day 0.

    A continuous infusion (blinatumomab) is dated by its period: ``time`` is its start,
    ``end`` its end when charted, and ``ongoing`` is true while it still runs (SPEC 2.1: in
    scope for 30 days after its end, or after now while it runs).
    """

    name: str  # normalised product or drug name, e.g. "tisagenlecleucel"
    kind: TherapyKind
    time: datetime
    reference: str
    end: datetime | None = None
    ongoing: bool = False


@dataclass(frozen=True, slots=True)
class UnidentifiedAdministration:
    """A medication given whose drug could not be identified: it names its Medication by
    reference only, and that Medication was not in the data (not contained, not included, and
    not read from the FHIR server). It may have been the CRS-associated therapy (SPEC 2.1), so
    a patient with one in the scope window and no identified therapy is told that the check is
    incomplete, never simply left without a card."""

    reference: str  # "MedicationAdministration/x1"
    time: datetime  # its start (or its time), as for a therapy
    end: datetime | None = None
    ongoing: bool = False  # in progress with no end: still being given

    @property
    def last_given(self) -> datetime:
        return self.end if self.end is not None else self.time


@dataclass(frozen=True, slots=True)
class ImmunosuppressantDose:
    """A CRS-directed immunosuppressant given (tocilizumab, corticosteroid, anakinra, ...)."""

    agent: Immunosuppressant
    time: datetime
    reference: str
    dose_mg: float | None = None


class DoseBasis(enum.StrEnum):
    """How a draft order states its dose."""

    MG = "mg"
    MG_PER_KG = "mg/kg"


@dataclass(frozen=True, slots=True)
class DraftMedicationOrder:
    """A draft MedicationRequest of a CRS-directed drug from the order hooks' ``draftOrders``."""

    agent: Immunosuppressant
    reference: str  # "MedicationRequest/<id>"
    dose_value: float | None
    dose_basis: DoseBasis | None
    route: str | None = None  # e.g. "intravenous", free text when uncoded
    #: The upper end of a ``doseRange`` (in ``dose_basis``), when the order gives a range.
    dose_high: float | None = None
    #: Doses a day from ``timing`` ("every 12 h": 2; "BID": 2), None when it does not say;
    #: ``dose_interval`` is the time between two of them (12 h).
    doses_per_day: float | None = None
    dose_interval: timedelta | None = None
    #: ``timing.repeat.count``: how many doses the order holds, None when it does not say.
    dose_count: int | None = None
    #: Where the order stands in ``draftOrders`` (0-based): ids are not always unique there.
    position: int = 0


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """Who the patient is, as far as grading and dosing need."""

    reference: str  # "Patient/<id>"
    birth_date: date | None = None
    deceased: bool = False
    deceased_time: datetime | None = None  # None with deceased=True: time unknown


@dataclass(frozen=True, slots=True)
class ClockOffset:
    """A UTC offset the data's own timestamps carry ("+01:00"), how often, and its latest use.

    The EHR writes times in its local clock; these tell the clinical core which local time the
    clinician reads (SPEC section 4: times in the local offset of the patient's own data).
    Times written in UTC with "Z" are not counted: servers normalise instants to Z, so a Z says
    nothing of the local clock.
    """

    offset: timedelta
    count: int
    last: datetime  # the latest timestamp written with this offset (UTC)


@dataclass(frozen=True, slots=True)
class GradingInputs:
    """Everything the request holds for one patient, normalised for grading.

    ``notes`` are data-quality remarks from mapping that a clinician should see as data gaps
    (e.g. "3 times without a time zone were read as UTC"); they never hold patient values.
    ``clock_offsets`` are the UTC offsets the data's timestamps were written in (``ClockOffset``).
    """

    patient: PatientFacts
    therapies: tuple[TherapyAdministration, ...] = ()
    temperatures_c: tuple[Measurement, ...] = ()
    blood_pressures: tuple[BloodPressure, ...] = ()
    heart_rates: tuple[Measurement, ...] = ()
    respiratory_rates: tuple[Measurement, ...] = ()
    spo2_percent: tuple[Measurement, ...] = ()
    oxygen: tuple[OxygenReading, ...] = ()
    ventilation: tuple[VentilationPeriod, ...] = ()
    vasopressors: tuple[VasopressorAdministration, ...] = ()
    labs: tuple[LabResult, ...] = ()
    blood_cultures: tuple[CultureResult, ...] = ()
    neuro_scores: tuple[NeuroScore, ...] = ()
    conditions: tuple[ConditionFinding, ...] = ()
    immunosuppressants: tuple[ImmunosuppressantDose, ...] = ()
    weights_kg: tuple[Measurement, ...] = ()
    stated_weights_kg: tuple[Measurement, ...] = ()  # stated, not measured: a last resort
    unidentified_administrations: tuple[UnidentifiedAdministration, ...] = ()
    skipped: tuple[SkippedResource, ...] = ()
    notes: tuple[str, ...] = field(default=())
    clock_offsets: tuple[ClockOffset, ...] = ()
    # ICANS (SPEC 2.9): the encephalopathy screens, the level of consciousness, the signs.
    encephalopathy_screens: tuple[EncephalopathyScreen, ...] = ()
    consciousness: tuple[ConsciousnessReading, ...] = ()
    neurologic_signs: tuple[NeurologicSignFinding, ...] = ()


# -- ICANS (SPEC 2.9; ASTCT 2019) ---------------------------------------------------------------


class EncephalopathyTool(enum.StrEnum):
    """The encephalopathy screen of the ICANS grade (ASTCT 2019): ICE from age 12, CAPD under."""

    ICE = "ice"  # Immune effector Cell-associated Encephalopathy score, 0-10 (10 is normal)
    CAPD = "capd"  # Cornell Assessment of Pediatric Delirium, 0-32 (0 is normal)


class EncephalopathyItem(enum.StrEnum):
    """One item of an ICE or CAPD screen, as charted (already scored, in points)."""

    # ICE (ASTCT 2019): orientation 4, naming 3, following commands 1, writing 1, attention 1.
    ICE_ORIENTATION = "ice-orientation"
    ICE_NAMING = "ice-naming"
    ICE_COMMANDS = "ice-commands"
    ICE_WRITING = "ice-writing"
    ICE_ATTENTION = "ice-attention"
    # CAPD (Traube et al., Crit Care Med 2014): eight items of 0-4 points each.
    CAPD_EYE_CONTACT = "capd-eye-contact"
    CAPD_PURPOSEFUL_ACTIONS = "capd-purposeful-actions"
    CAPD_AWARE_OF_SURROUNDINGS = "capd-aware-of-surroundings"
    CAPD_COMMUNICATES_NEEDS = "capd-communicates-needs"
    CAPD_RESTLESS = "capd-restless"
    CAPD_INCONSOLABLE = "capd-inconsolable"
    CAPD_UNDERACTIVE = "capd-underactive"
    CAPD_SLOW_RESPONSE = "capd-slow-response"

    @property
    def tool(self) -> EncephalopathyTool:
        return EncephalopathyTool.ICE if self.value.startswith("ice-") else EncephalopathyTool.CAPD


@dataclass(frozen=True, slots=True)
class ScreenItem:
    """One charted item of a screen and its points."""

    item: EncephalopathyItem
    points: float


class ScreenUnable(enum.StrEnum):
    """Why a screen could not be done, in the words charted and shown (SPEC 2.9 grade 4: ICE "0
    because the patient is unarousable", CAPD "unable to perform")."""

    UNAROUSABLE = "patient unarousable"
    UNABLE = "unable to perform"  # CAPD only: the child could not do it, roused or not


@dataclass(frozen=True, slots=True)
class EncephalopathyScreen:
    """An ICE or CAPD screen at one time: its total, or its items, or "could not be done".

    ``total`` is the charted total (``None`` when only items were charted: the grader sums them,
    SPEC 2.9). ``unable_to_perform`` is true when the screen was charted as not done because the
    patient could not be roused to do it (ASTCT 2019: grade 4), or as an ICE of 0 with words
    beside it saying the patient was unarousable (SPEC 2.9 G4; the total is kept); a screen not
    done for another reason never becomes an input. ``unable_because`` says why, as charted
    (``None``: the tool's grade 4 words, ICE unarousable, CAPD unable to perform).
    """

    tool: EncephalopathyTool
    time: datetime
    reference: str
    total: float | None = None
    items: tuple[ScreenItem, ...] = ()
    unable_to_perform: bool = False
    unable_because: ScreenUnable | None = None


@dataclass(frozen=True, slots=True)
class ConsciousnessReading:
    """The level of consciousness as a Richmond Agitation-Sedation Scale score (-5 to +4).

    ``sedated`` is true when the patient was under continuous sedation at the time (a sedative
    infusion running, or charted so): the score still grades ICANS, and the card says that
    sedation confounds it (SPEC 2.9).
    """

    time: datetime
    rass: int
    reference: str
    sedated: bool = False


class NeurologicSign(enum.StrEnum):
    """Neurologic signs the ICANS grade reads from Conditions and Observations (SPEC 2.9)."""

    SEIZURE = "seizure"  # a clinical seizure, or a non-convulsive seizure on EEG
    STATUS_EPILEPTICUS = "status-epilepticus"  # prolonged (> 5 min) or repetitive seizures
    HEMIPARESIS = "hemiparesis"
    PARAPARESIS = "paraparesis"
    QUADRIPARESIS = "quadriparesis"
    CEREBRAL_EDEMA = "cerebral-edema"  # extent not stated
    FOCAL_CEREBRAL_EDEMA = "focal-cerebral-edema"
    DIFFUSE_CEREBRAL_EDEMA = "diffuse-cerebral-edema"
    POSTURING = "posturing"  # decerebrate or decorticate
    CRANIAL_NERVE_VI_PALSY = "cranial-nerve-vi-palsy"
    PAPILLEDEMA = "papilledema"
    CUSHINGS_TRIAD = "cushings-triad"


@dataclass(frozen=True, slots=True)
class NeurologicSignFinding:
    """A neurologic sign charted as a Condition or an Observation.

    ``onset`` is the Condition's onset or the Observation's effective time; ``recorded`` the
    Condition's recordedDate (or the Observation's issued time). The grader dates the sign by its
    onset, else its recorded time; a sign with neither is not dated and cannot grade. Refuted
    and entered-in-error resources never become inputs; a resolved Condition still does (a
    seizure that has stopped still happened).

    ``active`` and ``abatement`` are the Condition's (``active``: clinicalStatus active,
    recurrence or relapse, said explicitly: an absent clinicalStatus is not "going on"). A sign
    that is a state (cerebral edema, paresis, papilledema, ...) lasts while its Condition is
    active, up to its abatement (SPEC 2.9); an Observation is a point in time (``active``
    false, no abatement).
    """

    sign: NeurologicSign
    name: str  # as charted, for the clinician: "Generalized tonic-clonic seizure"
    reference: str
    onset: datetime | None = None
    recorded: datetime | None = None
    active: bool = False
    abatement: datetime | None = None
