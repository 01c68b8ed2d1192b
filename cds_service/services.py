"""The three CDS services of the public contract (SPEC section 4) and their prefetch templates.

The templates are written for the FHIR servers of the EHRs that run CDS Hooks (SPEC 4; the
table per EHR is in docs/integration.md):

- Only CDS Hooks 2.0 prefetch tokens (``{{context.patientId}}``), no date arithmetic
  (CDS Hooks 2.0.1 section Prefetch tokens).
- Every Observation search names a category or codes: Epic refuses an Observation search with
  ``patient`` alone. Vitals, labs, blood cultures, pre-infusion baselines and neurologic
  assessments are separate keys, so that a month of monitor-rate vitals (newest first, one page
  of 1,000 is about 16 hours) never pushes the blood culture or the baseline off the first page.
- The baseline is had without dates: a code-filtered search of the labs whose baseline grading
  uses (creatinine, fibrinogen, ejection fraction for CTCAE; CRP, ferritin and IL-6 for the
  fold change), newest first in pages of 1,000. A patient is in scope for 30 days after day 0,
  so even with these labs drawn several times a day the first page reaches back before day 0;
  when it does not, ``fhir_io`` reads on from ``fhirServer`` (next links, within the budget and
  the page cap) and says on the card when the baseline could not be read.
- MedicationAdministrations are never filtered by code: EHRs send CAR T-cell products and drips
  as free text or product codes that no code list would catch, so the service reads every
  administration and checks codes and names itself.

Each key names the part of the record it reads (``PrefetchKey.data``, a ``DataKind``); the
clinical core words what it holds and what may be missing when it cannot be read
(``crs_grading.wording.phrases.DATA``, as ``PrefetchKey.holds`` and ``PrefetchKey.if_unread``):
``fhir_io`` builds the data-gap sentence of the card from them ("blood cultures could not be
read: an infection warning may be missing"); the card renderer only lays it out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from crs_grading.criteria import DataKind
from crs_grading.inputs import LabTest
from crs_grading.wording.phrases import DATA
from fhir_maps import blood_culture_loinc_codes, lab_loinc_codes, neurologic_assessment_codes

__all__ = [
    "ASSESSMENTS_KEY",
    "BASELINES_KEY",
    "BASELINE_LAB_TESTS",
    "CONDITIONS_KEY",
    "CULTURES_KEY",
    "ESSENTIAL_KEYS",
    "LABS_KEY",
    "MEDICATIONS_KEY",
    "OBSERVATION_KEYS",
    "PATIENT_KEY",
    "PREFETCH_KEYS",
    "PREFETCH_KEYS_BY_NAME",
    "PREFETCH_TEMPLATES",
    "PROCEDURES_KEY",
    "THERAPY_KEYS",
    "SERVICES",
    "SERVICES_BY_ID",
    "VITALS_KEY",
    "CdsService",
    "PrefetchKey",
    "discovery_document",
]

# Prefetch keys: other code (fhir_io, the demo, tests) refers to them by these names.
PATIENT_KEY = "patient"
VITALS_KEY = "vitals"
LABS_KEY = "labs"
CULTURES_KEY = "cultures"
BASELINES_KEY = "baselines"
ASSESSMENTS_KEY = "assessments"
MEDICATIONS_KEY = "medications"
CONDITIONS_KEY = "conditions"
PROCEDURES_KEY = "procedures"

#: The keys whose resources show the CRS-associated therapy (SPEC 2.1): when they are not read in
#: full, a patient without a therapy in what was read may have had one.
THERAPY_KEYS = frozenset({MEDICATIONS_KEY, PROCEDURES_KEY})

#: The keys that search Observations.
OBSERVATION_KEYS: tuple[str, ...] = (
    VITALS_KEY,
    LABS_KEY,
    CULTURES_KEY,
    BASELINES_KEY,
    ASSESSMENTS_KEY,
)

#: Labs whose last result before day 0 grading uses: CTCAE v4.03 criteria against baseline
#: (creatinine, fibrinogen, ejection fraction; SPEC 2.3), fold change over baseline (CRP,
#: ferritin, IL-6; SPEC 2.8) and the ferritin baseline of IEC-HS (SPEC 2.10).
BASELINE_LAB_TESTS: tuple[LabTest, ...] = (
    LabTest.CREATININE,
    LabTest.FIBRINOGEN,
    LabTest.LVEF,
    LabTest.CRP,
    LabTest.FERRITIN,
    LabTest.IL6,
)

_LOINC = "http://loinc.org"


def _codes(codes: Iterable[str]) -> str:
    return ",".join(f"{_LOINC}|{code}" for code in codes)


def _tokens(codes: Iterable[tuple[str, str]]) -> str:
    return ",".join(f"{system}|{code}" for system, code in codes)


def _observations(selection: str, count: int) -> str:
    return f"Observation?patient={{{{context.patientId}}}}&{selection}&_sort=-date&_count={count}"


@dataclass(frozen=True, slots=True)
class PrefetchKey:
    """One prefetch key: its template, the part of the record it reads, and whether it is
    essential (without it no grade is given: 412).

    ``alternate`` is another search of the same data for a FHIR server that refuses the
    template (HTTP 400, 403 or 422): a code-filtered search where the template names a category
    (Oracle Health documents no ``survey`` category), or the template without ``_sort`` and
    ``_include`` (Oracle Health documents neither on MedicationAdministration). The reader tries
    it once, when reading the template from ``fhirServer`` was refused; it is never a prefetch
    template. ``alternate_label`` says how it searches ("by code"), for the data-gap reason, and
    ``alternate_misses`` what it cannot find ("rows with other codes were not found"): the key
    is then read in part. Without ``alternate_misses`` it finds the same rows, and the key is
    read in full when it answers. A key without an alternate is reported as not read.

    ``holds`` names what the key brings in clinical words (plural, lower case); ``if_unread``
    says what may then be missing. Both are the clinical core's words
    (``crs_grading.wording.phrases.DATA``).
    """

    name: str
    template: str
    data: DataKind
    essential: bool = False
    alternate: str | None = None
    alternate_label: str = ""
    alternate_misses: str | None = None

    @property
    def holds(self) -> str:
        return DATA[self.data][0]

    @property
    def if_unread(self) -> str:
        return DATA[self.data][1]


PREFETCH_KEYS: tuple[PrefetchKey, ...] = (
    PrefetchKey(
        PATIENT_KEY,
        "Patient/{{context.patientId}}",
        DataKind.PATIENT,
        essential=True,
    ),
    PrefetchKey(
        VITALS_KEY,
        _observations("category=vital-signs", 1000),
        DataKind.VITAL_SIGNS,
        essential=True,
    ),
    PrefetchKey(
        LABS_KEY,
        _observations("category=laboratory", 1000),
        DataKind.LABORATORY_RESULTS,
    ),
    PrefetchKey(
        CULTURES_KEY,
        _observations(f"code={_codes(blood_culture_loinc_codes())}", 100),
        DataKind.BLOOD_CULTURES,
    ),
    PrefetchKey(
        BASELINES_KEY,
        _observations(f"code={_codes(lab_loinc_codes(BASELINE_LAB_TESTS))}", 1000),
        DataKind.BASELINES,
    ),
    PrefetchKey(
        ASSESSMENTS_KEY,
        _observations("category=survey", 500),
        DataKind.NEUROLOGIC_ASSESSMENTS,
        # GCS, RASS and sign codes; ICE and CAPD have no code in wide use and are missed.
        alternate=_observations(f"code={_tokens(neurologic_assessment_codes())}", 500),
        alternate_label="by code",
        alternate_misses="rows with other codes were not found",
    ),
    PrefetchKey(
        MEDICATIONS_KEY,
        "MedicationAdministration?patient={{context.patientId}}&_sort=-effective-time"
        "&_count=500&_include=MedicationAdministration:medication",
        DataKind.MEDICATION_ADMINISTRATIONS,
        # The same rows in the server's own order; the Medications it does not include are
        # read by reference (fhir_io). Without it a refused search hid the therapy (review
        # finding): the patient looked out of scope.
        alternate="MedicationAdministration?patient={{context.patientId}}&_count=500",
        alternate_label="without _sort and _include",
    ),
    PrefetchKey(
        CONDITIONS_KEY,
        "Condition?patient={{context.patientId}}"
        "&category=problem-list-item,encounter-diagnosis&_count=200",
        DataKind.DIAGNOSES,
    ),
    PrefetchKey(
        PROCEDURES_KEY,
        "Procedure?patient={{context.patientId}}&_sort=-date&_count=200",
        DataKind.PROCEDURES,
    ),
)

PREFETCH_KEYS_BY_NAME: Mapping[str, PrefetchKey] = MappingProxyType(
    {key.name: key for key in PREFETCH_KEYS}
)
PREFETCH_TEMPLATES: Mapping[str, str] = MappingProxyType(
    {key.name: key.template for key in PREFETCH_KEYS}
)

#: Keys without which no grade can be given: missing both ways -> HTTP 412 (SPEC section 4).
ESSENTIAL_KEYS: frozenset[str] = frozenset(key.name for key in PREFETCH_KEYS if key.essential)


@dataclass(frozen=True, slots=True)
class CdsService:
    """One entry of the discovery document."""

    id: str
    hook: str
    hook_version: str
    title: str
    description: str
    prefetch: Mapping[str, str]

    def discovery_entry(self) -> dict[str, Any]:
        """This service as CDS Hooks discovery lists it."""
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": dict(self.prefetch),
        }


SERVICES: tuple[CdsService, ...] = (
    CdsService(
        id="crs-patient-view",
        hook="patient-view",
        hook_version="1.0",
        title="Cytokine release syndrome grade and next step",
        description=(
            "For patients who received CAR T-cell, TCR, T-cell engager or other CRS-associated "
            "therapy in the last 30 days: the CRS grade now and at its peak (revised Lee 2014, "
            "with ASTCT 2019 beside it) with its evidence, the next step of the treatment "
            "algorithm with a weight-based dose, and warnings where infection or sepsis could "
            "explain the picture."
        ),
        prefetch=PREFETCH_TEMPLATES,
    ),
    CdsService(
        id="crs-order-select",
        hook="order-select",
        hook_version="1.0",
        title="CRS treatment order check",
        description=(
            "Checks draft tocilizumab, corticosteroid, anakinra and siltuximab orders against "
            "the patient's CRS grade, weight-based dose limits and infection warnings."
        ),
        prefetch=PREFETCH_TEMPLATES,
    ),
    CdsService(
        id="crs-order-sign",
        hook="order-sign",
        hook_version="1.1",
        title="CRS treatment order check at signing",
        description=(
            "The CRS treatment order checks at signing: warnings and critical findings only."
        ),
        prefetch=PREFETCH_TEMPLATES,
    ),
)

SERVICES_BY_ID: Mapping[str, CdsService] = MappingProxyType({s.id: s for s in SERVICES})


def discovery_document() -> dict[str, Any]:
    """The body of ``GET /cds-services``."""
    return {"services": [service.discovery_entry() for service in SERVICES]}
