"""Seed Case 3's encephalopathy as ICANS, end to end: the demo Bundle through ``fhir_maps`` and
the grader (SPEC 2.9; ASTCT 2019).

Seed Case 3: "On day 9, she developed encephalopathy, with near aphasia, disorientation, and
lethargy, which improved rapidly over the next 2 days without further immunosuppressive therapy
... encephalopathy resolved completely by day 13." She is 11: ASTCT 2019 screens children under
12 with the CAPD (>= 9 is ICANS grade 3), and the RASS gives the level of consciousness (-2,
awakens to voice, is grade 2).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from importlib import resources as package_files
from typing import Any

import pytest

from cds_service.demo import expected_grades, load_bundle
from crs_grading import assess
from crs_grading.criteria import Criterion
from crs_grading.treatment import plan_treatment
from fhir_maps import map_patient_record

from . import raw_fhir as raw

EXPECTED = json.loads(
    package_files.files("cds_service.demo.data").joinpath("expected.json").read_text("utf-8")
)
CASE3 = EXPECTED["cases"]["case3"]
NO_ASSESSMENT = "no ICE or consciousness assessment in the last 24 h"


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return load_bundle("case3")


@pytest.fixture(scope="module")
def record(bundle: dict[str, Any]) -> Any:
    patient_id = raw.resources(bundle, "Patient")[0]["id"]
    return map_patient_record(raw.resources(bundle), patient_id)


def _local(day: int, clock: str) -> datetime:
    """``clock`` on post-infusion ``day`` on the case's own clock (its UTC offset)."""
    infusion = datetime.fromisoformat(CASE3["therapy"]["start"])
    hours, minutes = (int(part) for part in clock.split(":"))
    midnight = infusion.replace(hour=0, minute=0, second=0)
    return midnight + timedelta(days=day, hours=hours, minutes=minutes)


def test_the_bundle_charts_capd_and_rass_as_flowsheet_rows(bundle: dict[str, Any]) -> None:
    """ICE and CAPD have no LOINC code (SPEC 2.9): a local row named as nurses chart it; RASS
    by SNOMED CT 457441000124102 with its value as the charted choice."""
    rows = raw.resources(bundle, "Observation")
    capd = [o for o in rows if "CAPD" in o["code"]["text"]]
    rass = [o for o in rows if o["code"]["text"] == "RASS"]
    assert len(capd) == len(rass) >= 28  # twice a day from day 1 to day 15, more on days 9-12
    assert all(o["category"][0]["coding"][0]["code"] == "survey" for o in capd + rass)
    assert {c["code"] for o in rass for c in o["code"]["coding"]} == {"457441000124102"}
    worst = max(capd, key=lambda o: o["valueQuantity"]["value"])
    counter = raw.DayCounter(datetime.fromisoformat(CASE3["therapy"]["start"]))
    assert counter.local(raw.when(worst["effectiveDateTime"])) == 9
    assert worst["valueQuantity"]["value"] == 21
    lethargic = [o for o in rass if o["valueCodeableConcept"]["text"] == "-2 Light sedation"]
    assert {counter.local(raw.when(o["effectiveDateTime"])) for o in lethargic} == {9}


def test_day_9_shows_icans_3_from_capd_and_rass_beside_crs_grade_2(record: Any) -> None:
    """Seed Case 3 day 9 through fhir_maps and the grader: ICANS 3 (CAPD >= 9: ASTCT 2019 grade
    3 under 12; RASS -2: grade 2) beside CRS grade 2 (one low-dose vasopressor, seed Table 2)."""
    assessment = assess(record, _local(9, "16:00"))
    assert assessment.grade == 2
    assert assessment.icans.grade == 3
    drivers = {d.criterion: d for d in assessment.icans.current.drivers}
    assert drivers[Criterion.ICANS_CAPD_SCORE].grade == 3
    assert drivers[Criterion.ICANS_CAPD_SCORE].text == "CAPD 21"
    assert drivers[Criterion.ICANS_DEPRESSED_CONSCIOUSNESS].grade == 2
    assert drivers[Criterion.ICANS_DEPRESSED_CONSCIOUSNESS].text.startswith("RASS -2")
    assert all(ref.startswith("Observation/") for d in drivers.values() for ref in d.evidence)
    assert NO_ASSESSMENT not in assessment.data_gaps
    # The seed gave no immunosuppression for it at CRS grade 2; the plan says what treats ICANS.
    plan = plan_treatment(assessment)
    assert plan.recommendations == ()
    assert "icans-beside-grade-2-crs" in {str(a.code) for a in plan.advice}


def test_icans_is_0_again_by_day_13_and_its_peak_stays_3(record: Any) -> None:
    assessment = assess(record, _local(13, "12:00"))
    assert (assessment.icans.grade, assessment.icans.peak_grade) == (0, 3)
    assert assessment.icans.assessed and NO_ASSESSMENT not in assessment.data_gaps
    assert assessment.grade == 0


def test_daily_icans_grades_match_expected_json(record: Any) -> None:
    """The grader's ICANS grade of each day (SPEC 2.9) is expected.json's: 0 to day 8, 3 on
    days 9 and 10, 1 on days 11 and 12, 0 from day 13."""
    assessment = assess(record, _local(15, "11:00"))
    graded = {day.day: day.icans for day in assessment.daily}
    expected = {day.day: day.icans for day in expected_grades("case3")}
    assert graded == expected
    assert {day["day"]: day["icans"] for day in CASE3["days"]} == expected
    assert expected[9] >= 2 and expected[13] == 0


def test_icans_never_changes_the_crs_grade_of_a_day(record: Any) -> None:
    """SPEC 2.9: ICANS is graded beside CRS; the CRS grades by day stay the paper's."""
    assessment = assess(record, _local(15, "11:00"))
    crs = {day.day: (day.lee2014, day.astct2019) for day in assessment.daily}
    assert crs == {day.day: (day.lee2014, day.astct2019) for day in expected_grades("case3")}
