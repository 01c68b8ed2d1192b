"""The CRS course page for one launch: read the record, map it, grade it, draw it.

Data flows one way (SPEC section 5): the EHR's FHIR server (through ``cds_service.fhir_io``,
the same reader the hooks use, with the SMART token) -> ``fhir_maps`` -> ``crs_grading`` ->
``course`` (series) -> ``charts`` (SVG) -> the template.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from cds_service.errors import FhirDataUnavailable
from cds_service.fhir_io import DataProblem, FhirEndpoint, FhirReader
from cds_service.services import PREFETCH_TEMPLATES, THERAPY_KEYS
from cds_service.smart.charts import render_course_svg
from cds_service.smart.course import Course, build_course
from cds_service.smart.errors import FhirReadFailed, SessionExpired
from cds_service.smart.launch import SmartRuntime
from cds_service.smart.store import LaunchSession
from crs_grading import Assessment, GradingOptions, GradingSystem, assess, wording
from crs_grading.assessment import BiomarkerSummary, Driver, NeurologicFinding, SystemGrade
from crs_grading.criteria import NeurologicKind
from crs_grading.inputs import LAB_UNITS
from crs_grading.wording.phrases import CARD
from fhir_maps import MappingOptions, map_patient_record

logger = logging.getLogger(__name__)

_GENDER = {"female": "Female", "male": "Male", "other": "Other", "unknown": "Unknown"}
# The FHIR reader words a refused token "... answered HTTP 401" (or 403).
_TOKEN_REFUSED = ("HTTP 401", "HTTP 403")


@dataclass(frozen=True, slots=True)
class Banner:
    """The patient banner (SMART: shown unless the EHR says ``need_patient_banner: false``)."""

    name: str
    birth_date: str | None
    sex: str | None
    age: str | None


@dataclass(frozen=True, slots=True)
class CoursePage:
    """Everything the template shows."""

    banner: Banner | None
    assessment: Assessment
    astct: SystemGrade | None
    drivers: tuple[Driver, ...]  # current Lee drivers, highest grade first
    course: Course | None
    chart_svg: Markup | None
    data: dict[str, Any]  # embedded as JSON (``crs-series``)
    problems: tuple[str, ...]  # data that could not be read
    #: Out of scope, but the therapy may be in what could not be read (SPEC 2.1): the words of
    #: the "CRS check incomplete" card instead of "no therapy" (found in review).
    incomplete: tuple[str, ...] = ()

    @property
    def as_of_text(self) -> str:
        return wording.clock(self.assessment.as_of, self.assessment.timezone)

    @property
    def day0_text(self) -> str:
        return self.course.day0.date().isoformat() if self.course is not None else ""

    @property
    def series_notes(self) -> tuple[str, ...]:
        if self.course is None:
            return ()
        return tuple(f"{s.label}: {s.note}" for s in self.course.series if s.note)

    @property
    def skipped_summary(self) -> tuple[str, ...]:
        """Skipped resources counted by reason, e.g. "226 resources: dated after ..."."""
        reasons = Counter(s.reason for s in self.assessment.skipped)
        return tuple(
            f"{n} resource{'s' if n != 1 else ''} not used: {reason}"
            for reason, n in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
        )

    @property
    def icans_drivers(self) -> tuple[Driver, ...]:
        """The current ICANS drivers (ASTCT 2019, SPEC 2.9), highest grade first."""
        drivers = self.assessment.icans.current.drivers
        return tuple(sorted(drivers, key=lambda d: -d.grade))

    @property
    def other_neurologic(self) -> tuple[NeurologicFinding, ...]:
        """Signs of neurologic dysfunction (SPEC 2.5) other than ICANS, which has its own list."""
        return tuple(
            f for f in self.assessment.neurologic_findings if f.kind != NeurologicKind.ICANS
        )

    @property
    def biomarker_rows(self) -> tuple[BiomarkerRow, ...]:
        return tuple(_biomarker_row(b) for b in self.assessment.biomarkers)


@dataclass(frozen=True, slots=True)
class BiomarkerRow:
    name: str
    latest: str
    peak: str
    fold: str
    trend: str


def _biomarker_row(summary: BiomarkerSummary) -> BiomarkerRow:
    unit = LAB_UNITS[summary.test]
    trend = summary.trend.value if summary.trend is not None else "–"
    if summary.falling_after_peak:
        trend = "falling after peak"  # seed: may mark the peak of the syndrome
    fold = summary.fold_change
    return BiomarkerRow(
        name=wording.capitalised(wording.LAB_NAMES[summary.test]),
        latest=f"{wording.number(summary.latest.value)} {unit}",
        peak=f"{wording.number(summary.peak.value)} {unit}",
        fold=wording.fold(fold) if fold is not None else "no baseline",
        trend=trend,
    )


def build_page(
    runtime: SmartRuntime,
    session: LaunchSession,
    options: GradingOptions | None = None,
    mapping: MappingOptions | None = None,
) -> CoursePage:
    """Read, grade and draw the launched patient's CRS course as of now."""
    options = options if options is not None else GradingOptions()
    config = runtime.config
    reader = FhirReader(
        runtime.http, budget_s=config.fhir_budget_s, max_pages=config.fhir_max_pages
    )
    try:
        data = reader.read(
            templates=PREFETCH_TEMPLATES,
            tokens={"context.patientId": session.patient},
            patient_id=session.patient,
            prefetch={},
            endpoint=FhirEndpoint(session.iss, session.access_token),
        )
    except FhirDataUnavailable as exc:
        if any(marker in exc.diagnostics for marker in _TOKEN_REFUSED):
            raise SessionExpired(
                "The EHR no longer accepts this session's access to the chart. "
                "Open the app again from the patient's chart."
            ) from None
        logger.warning("SMART page: the patient's record could not be read")
        raise FhirReadFailed(
            "The EHR's FHIR server did not return the patient and their observations "
            f"({exc.diagnostics}). Try again in a moment."
        ) from None
    resources = [data.patient, *data.resources]
    inputs = map_patient_record(
        resources, session.patient, mapping or MappingOptions(), fhir_server=session.iss
    )
    assessment = assess(inputs, runtime.clock(), options)
    course = build_course(inputs, assessment, options)
    banner = patient_banner(data.patient, assessment) if session.need_patient_banner else None
    chart = None
    if course is not None:
        day = assessment.therapy.day if assessment.therapy is not None else 0
        title = f"CRS course from day 0 to day {day}"
        chart = Markup(render_course_svg(course, title=title))  # noqa: S704 - our own SVG
    return CoursePage(
        banner=banner,
        assessment=assessment,
        astct=assessment.other_systems.get(GradingSystem.ASTCT_2019),
        drivers=tuple(sorted(assessment.current.drivers, key=lambda d: -d.grade)),
        course=course,
        chart_svg=chart,
        data=_embedded(assessment, course),
        problems=tuple(str(p) for p in data.problems),
        incomplete=_incomplete(assessment, data.problems),
    )


def _incomplete(assessment: Assessment, problems: Sequence[DataProblem]) -> tuple[str, ...]:
    """The check-incomplete words when a patient out of scope may have had the therapy in what
    could not be read: drugs unidentified, or administrations or procedures not read in full."""
    if assessment.in_scope:
        return ()
    unread = any(p.rows_unread and p.key in THERAPY_KEYS for p in problems)  # as the hooks
    if not unread and not assessment.unconfirmed_therapies:
        return ()
    return (CARD["incomplete-unread"], CARD["incomplete-check"])


def _embedded(assessment: Assessment, course: Course | None) -> dict[str, Any]:
    astct = assessment.other_systems.get(GradingSystem.ASTCT_2019)
    data: dict[str, Any] = {
        "asOf": assessment.as_of.isoformat(),
        "inScope": assessment.in_scope,
        "grade": {
            "system": assessment.system.value,
            "current": assessment.grade,
            "peak": assessment.peak_grade,
            "astct2019": astct.grade if astct is not None else None,
        },
        "icans": {
            "current": assessment.icans.grade,
            "peak": assessment.icans.peak_grade,
            "assessed": assessment.icans.assessed,
        },
    }
    if course is not None:
        data.update(course.to_json())
    return data


def patient_banner(patient: Mapping[str, Any], assessment: Assessment) -> Banner:
    """Name, birth date, sex and age from the Patient resource (display only)."""
    birth = patient.get("birthDate")
    gender = patient.get("gender")
    age = None
    if assessment.age_years is not None:
        age = wording.age(assessment.age_years)
    return Banner(
        name=_display_name(patient.get("name")),
        birth_date=birth if isinstance(birth, str) else None,
        sex=_GENDER.get(gender) if isinstance(gender, str) else None,
        age=age,
    )


def _display_name(names: Any) -> str:
    if not isinstance(names, list) or not names:
        return "Name not recorded"
    usable = [n for n in names if isinstance(n, dict)]
    chosen = next((n for n in usable if n.get("use") == "official"), None)
    chosen = chosen or next((n for n in usable if n.get("use") != "old"), None)
    if chosen is None:
        return "Name not recorded"
    text = chosen.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    given = [g for g in chosen.get("given") or () if isinstance(g, str)]
    family = chosen.get("family")
    parts = [*given, family] if isinstance(family, str) else given
    return " ".join(parts) or "Name not recorded"
