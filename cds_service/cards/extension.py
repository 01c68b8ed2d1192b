"""The ``org.crscds.assessment`` card extension (SPEC section 4): an Assessment as JSON.

One renderer for every consumer: the patient-view card, the order hooks and ``crs-cds grade
--json`` all call ``assessment_extension``. The keys are public contract; do not rename them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from crs_grading.assessment import Assessment, Driver

__all__ = ["EXTENSION_KEY", "assessment_extension", "fhir_instant"]

#: The key of the extension in ``card.extension`` (SPEC section 4).
EXTENSION_KEY = "org.crscds.assessment"


def fhir_instant(moment: datetime) -> str:
    """A UTC time as FHIR and CDS Hooks write it: ``2026-11-23T10:00:00Z``."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _driver(driver: Driver) -> dict[str, Any]:
    return {
        "criterion": driver.criterion,
        "grade": driver.grade,
        "evidence": list(driver.evidence),
        "text": driver.text,
    }


def assessment_extension(
    assessment: Assessment, extra_data_gaps: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The extension body for ``assessment``.

    ``extra_data_gaps`` are problems found before grading (e.g. a FHIR search that failed), so
    that the card says what the grade could not see (SPEC section 4: "say so on the card").
    """
    therapy: dict[str, Any] | None = None
    if assessment.therapy is not None:
        therapy = {
            "reference": assessment.therapy.therapy.reference,
            "display": assessment.therapy.therapy.name,
            "day": assessment.therapy.day,
        }
    return {
        "system": assessment.system.value,
        "grade": assessment.grade,
        "peakGrade": assessment.peak_grade,
        "asOf": fhir_instant(assessment.as_of),
        "therapy": therapy,
        "drivers": [_driver(driver) for driver in assessment.current.drivers],
        "otherSystems": {
            system.value: grade.grade for system, grade in assessment.other_systems.items()
        },
        "attributionWarnings": [
            {"code": warning.code, "evidence": list(warning.evidence), "text": warning.text}
            for warning in assessment.attribution_warnings
        ],
        "icans": {  # SPEC 2.9
            "grade": assessment.icans.grade,
            "peakGrade": assessment.icans.peak_grade,
            "drivers": [_driver(driver) for driver in assessment.icans.current.drivers],
        },
        "dataGaps": [*extra_data_gaps, *assessment.data_gaps],
        "skipped": [
            {"reference": item.reference, "reason": item.reason} for item in assessment.skipped
        ],
    }
