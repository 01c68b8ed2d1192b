"""The state of one mapping call: options, time reader, collected findings and skips."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from crs_grading.inputs import (
    BloodPressure,
    ConditionFinding,
    ConsciousnessReading,
    CultureResult,
    EncephalopathyScreen,
    EncephalopathyTool,
    ImmunosuppressantDose,
    LabResult,
    Measurement,
    NeurologicSignFinding,
    NeuroScore,
    OxygenReading,
    ScreenItem,
    SkippedResource,
    TherapyAdministration,
    UnidentifiedAdministration,
    VasopressorAdministration,
    VentilationPeriod,
)

from ._fhir import JSON, ElementError, TimeReader
from .options import MappingOptions, ValidationMode

#: Ends the reason of an element skip: the resource itself was used.
PARTIAL_SUFFIX = ": only this element was not used"


def is_element_report(item: SkippedResource) -> bool:
    """Whether a report is about one unreadable element of a resource that was still used
    (SPEC 3), not about a resource skipped whole."""
    return item.reason.endswith(PARTIAL_SUFFIX)


class MappingContext:
    """Everything one ``map_patient_record`` call collects; the mappers append to its lists."""

    def __init__(self, options: MappingOptions) -> None:
        self.options = options
        self.times = TimeReader(options.default_timezone)
        self.skipped: list[SkippedResource] = []
        self.notes: list[str] = []
        self.therapies: list[TherapyAdministration] = []
        self.temperatures_c: list[Measurement] = []
        self.blood_pressures: list[BloodPressure] = []
        self.heart_rates: list[Measurement] = []
        self.respiratory_rates: list[Measurement] = []
        self.spo2_percent: list[Measurement] = []
        self.oxygen: list[OxygenReading] = []
        self.ventilation: list[VentilationPeriod] = []
        self.vasopressors: list[VasopressorAdministration] = []
        self.labs: list[LabResult] = []
        self.blood_cultures: list[CultureResult] = []
        self.neuro_scores: list[NeuroScore] = []
        self.conditions: list[ConditionFinding] = []
        self.immunosuppressants: list[ImmunosuppressantDose] = []
        self.weights_kg: list[Measurement] = []
        self.stated_weights_kg: list[Measurement] = []
        #: Administrations whose drug could not be identified (a possible therapy, SPEC 2.1).
        self.unidentified_administrations: list[UnidentifiedAdministration] = []
        # ICANS (SPEC 2.9): screens, items charted as rows of their own, RASS, signs, sedation
        self.encephalopathy_screens: list[EncephalopathyScreen] = []
        self.screen_items: list[tuple[EncephalopathyTool, datetime, str, ScreenItem]] = []
        self.consciousness: list[ConsciousnessReading] = []
        self.neurologic_signs: list[NeurologicSignFinding] = []
        self.sedation_periods: list[tuple[datetime, datetime | None]] = []
        #: The patient's administrative gender and birth date, for referenceRange selection.
        self.sex: str | None = None
        self.birth_date: date | None = None
        #: What each distinct code object means (``observations.identify``): a chart repeats
        #: a few dozen codes across tens of thousands of Observations (issue 13).
        self.concepts: dict[tuple[bool, bytes], Any] = {}
        #: The same for decoded code structs (``decoded``), kept by the struct itself: an
        #: Observation's own codes (with the configured codes) and its components' codes.
        self.decoded_concepts: dict[Any, Any] = {}
        self.decoded_parts: dict[Any, Any] = {}
        #: What each decoded code means for the fast lane (``observations.decoded_lane``).
        self.lane_plans: dict[Any, Any] = {}
        self.panel_slots: dict[Any, Any] = {}
        self.support_plans: dict[Any, Any] = {}
        #: The readers of blood pressure values by (code, unit) (``_decoded_panel``).
        self.pressure_readers: dict[Any, Any] = {}
        #: The lab lane's (``observations.decoded_lab``): test by code, unit reading by
        #: (test, code, unit), reference limits by (test, range, unit, day).
        self.lab_plans: dict[Any, Any] = {}
        self.lab_units: dict[Any, Any] = {}
        self.lab_limits: dict[Any, Any] = {}
        self._validate: Callable[[JSON, MappingOptions], None] | None = None
        if options.validation is ValidationMode.MODELS:
            from .validation import validate_with_model  # imported only when asked: it is slow

            self._validate = validate_with_model

    def skip(self, reference: str, reason: str) -> None:
        """Report a resource that was not used, and why (value-free reason)."""
        self.skipped.append(SkippedResource(reference=reference, reason=reason))

    def skip_element(self, reference: str, error: ElementError) -> None:
        """Report one unreadable element of a resource whose other elements were used (SPEC 3:
        one unreadable element loses only that element)."""
        self.skip(reference, f"{error}{PARTIAL_SUFFIX}")

    def checkpoint(self) -> tuple[tuple[int, int], int]:
        """The state before a resource is read; ``rollback`` to it when it is skipped whole."""
        return self.times.checkpoint(), len(self.skipped)

    def rollback(self, checkpoint: tuple[tuple[int, int], int]) -> None:
        """Forget the time notes and element reports of a resource that is skipped whole."""
        times, skipped = checkpoint
        self.times.rollback(times)
        del self.skipped[skipped:]

    @property
    def validating(self) -> bool:
        """Whether resources are validated with the R4B models (``ValidationMode.MODELS``)."""
        return self._validate is not None

    def validate(self, resource: JSON) -> None:
        """In ``ValidationMode.MODELS``, validate with the R4B model (``ElementError`` if not)."""
        if self._validate is not None:
            self._validate(resource, self.options)

    @staticmethod
    def status_counts(
        resource: JSON, counted: frozenset[str], ignored: frozenset[str], element: str = "status"
    ) -> bool:
        """True when the status makes the resource count, False when it is ignored (SPEC 3)."""
        status = resource.get(element)
        if status is None:
            raise ElementError(element, "is missing")
        if not isinstance(status, str):  # before any set lookup: a list or object is unhashable
            raise ElementError(element, "is not a code")
        if status in counted:
            return True
        if status in ignored:
            return False
        raise ElementError(element, "is not a known status code")
