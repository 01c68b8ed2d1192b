"""What a code family is: its codes (each with its source and whether it was verified), the names
it is read by when no code is known, and the words that veto such a name.

A family is one measurement charted many ways (SPEC 3 "Code families, not single codes"): body
temperature at every site, creatinine in serum, plasma or blood, lactate from every specimen.
Each family lives in its own module of this package with its sources; ``observations.py``
gathers them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from crs_grading.inputs import LabTest

from .._names import Phrase, Veto, acronyms, phrases, separated, vetoes
from .systems import LOINC, SNOMED

#: Sources named in the ``source`` of codes (docs/fhir-mapping.md lists what each one is).
SPEC = "SPEC 3"
VSAC = "VSAC eCQM 2025-05"  # NLM Value Set Authority Center expansion, with LOINC long names
HL7_VALIDATOR = "HL7 FHIR validator (body temperature SNOMED CT list)"
ISIK = "ISiK core temperature value set (SNOMED CT 2025-02 expansion)"
GECCO = "GECCO laboratory value set (LOINC long names)"
CARRIED = "carried over, verified when first added (issue 2)"


class ObservationKind(enum.StrEnum):
    """What an Observation (or one of its components) measures, apart from the labs."""

    TEMPERATURE = "temperature"
    BP_PANEL = "bp-panel"
    SYSTOLIC = "systolic"
    DIASTOLIC = "diastolic"
    MEAN_ARTERIAL = "mean-arterial"
    HEART_RATE = "heart-rate"
    RESPIRATORY_RATE = "respiratory-rate"
    SPO2 = "spo2"
    FIO2 = "fio2"
    O2_FLOW = "o2-flow"
    O2_DEVICE = "o2-device"
    WEIGHT = "weight"
    WEIGHT_STATED = "weight-stated"  # last resort (SPEC 3: 3142-7)
    BLOOD_CULTURE = "blood-culture"
    GCS = "gcs"
    ICE = "ice"
    CAPD = "capd"  # SPEC 2.9: the ICANS screen under 12
    RASS = "rass"  # SPEC 2.9: level of consciousness
    ICE_ITEM = "ice-item"  # an ICE item charted as a row of its own
    CAPD_ITEM = "capd-item"  # a CAPD item charted as a row of its own
    NEURO_SIGN = "neuro-sign"  # SPEC 2.9: seizure, motor, raised ICP signs as Observations


ObservationConcept = ObservationKind | LabTest


@dataclass(frozen=True, slots=True)
class Code:
    """One code of a family, its display, where it was checked and whether it was verified."""

    system: str
    code: str
    display: str
    source: str
    verified: bool = True


def loinc(code: str, display: str, source: str, *, verified: bool = True) -> Code:
    return Code(LOINC, code, display, source, verified)


def snomed(code: str, display: str, source: str, *, verified: bool = True) -> Code:
    return Code(SNOMED, code, display, source, verified)


#: What may stand between a screen's name and an item's in the name of an item row: spaces or
#: hyphens, or nothing (written " ": ``_names`` reads them alike), a colon, an en dash, an em dash.
ITEM_SEPARATORS = (" ", ":", "\u2013", "\u2014")


@dataclass(frozen=True, slots=True)
class ItemRows:
    """The names of rows that each hold one item of a screen: a prefix naming the screen, a
    separator, then an item's phrase ("ICE - Follows commands", "ICE: Orientation to year",
    "CAPD \u2013 Eye contact"). ``items`` are the phrases the screen's own components are read
    by, so that a row and a component are read by one list of item words."""

    prefixes: tuple[str, ...]
    items: tuple[str, ...]
    separators: tuple[str, ...] = ITEM_SEPARATORS

    def names(self) -> tuple[str, ...]:
        """Every prefix, separator and item, as a name."""
        return tuple(
            f"{prefix} {item}" if separator == " " else f"{prefix} {separator} {item}"
            for prefix in self.prefixes
            for separator in self.separators
            for item in self.items
        )


@dataclass(frozen=True, slots=True)
class ObservationFamily:
    """A measurement, its codes, and how it is read by name when no code is known.

    ``names`` are whole-word, case-insensitive; ``acronyms`` case-sensitive; a ``veto`` word in
    the same text cancels the name ("Creatinine, urine" is not serum creatinine); ``item_rows``
    are names built from a screen's prefixes and item phrases (``ItemRows``).
    """

    concept: ObservationConcept
    codes: tuple[Code, ...]
    names: tuple[str, ...] = ()
    acronyms: tuple[str, ...] = ()
    vetoes: tuple[str, ...] = ()
    item_rows: ItemRows | None = None

    def phrases(self) -> tuple[Phrase[ObservationConcept | Veto[ObservationConcept]], ...]:
        """Every phrase of the family for the combined name matcher."""
        # Built names are read with their words apart ("ICE-Orientation", never "ICEorientation"):
        # a phrase whose words may be glued is read in every gluing, which for hundreds of built
        # names made every "ICE ..." row some fifteen times slower to read.
        built = self.item_rows.names() if self.item_rows is not None else ()
        found: tuple[Phrase[ObservationConcept | Veto[ObservationConcept]], ...] = (
            phrases(self.concept, *self.names)
            + separated(self.concept, *built)
            + acronyms(self.concept, *self.acronyms)
            + vetoes(self.concept, texts=self.vetoes)
        )
        return found


#: Specimens and derived values that are not the blood or serum result a lab family means.
NOT_BLOOD = (
    "urine",
    "urinary",
    "CSF",
    "cerebrospinal",
    "spinal fluid",
    "fluid",
    "pleural",
    "peritoneal",
    "ascites",
    "ascitic",
    "synovial",
    "pericardial",
    "dialysate",
    "dialysis fluid",
    "drain",
    "stool",
    "feces",
    "sputum",
    "bronchial",
    "BAL",
    "tissue",
    "amniotic",
    "cord",
    "ratio",
    "goal",
    "target",
    "comment",
    "interpretation",
)
