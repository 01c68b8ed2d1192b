"""The seed cases, from FHIR R4 Bundles through fhir_maps and the grader, grade as the paper says.

Source: Lee et al. 2014 (seed) Case 1 (grade 1), Case 2 (grade 3), Case 3 (grade 3 on day 5) and
the Figure 3 patient (grade 3 on day 6, after one low-dose vasopressor on day 5). The expected
grades per day are the demo package's ``expected.json``, written from the paper.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from cds_service.demo import CASES, DEFAULT_DAY0, expected_grades, load_bundle
from crs_grading import assess
from crs_grading.inputs import GradingInputs
from fhir_maps import MappingOptions, ValidationMode, map_patient_record

LAST_DAY = {"case1": 9, "case2": 17, "case3": 15, "figure3": 12}
PAPER_PEAK = {"case1": 1, "case2": 3, "case3": 3, "figure3": 3}


def _inputs(case: str, options: MappingOptions | None = None) -> GradingInputs:
    resources = [entry["resource"] for entry in load_bundle(case)["entry"]]
    patient_id = next(r["id"] for r in resources if r["resourceType"] == "Patient")
    return map_patient_record(resources, patient_id, options or MappingOptions())


def _end_of_course(case: str) -> datetime:
    return datetime.combine(DEFAULT_DAY0, time(), UTC) + timedelta(days=LAST_DAY[case] + 1)


@pytest.mark.parametrize("case", CASES)
def test_seed_case_daily_lee_and_astct_grades_match_the_paper(case: str) -> None:
    """seed Cases 1-3 and Figure 3: daily Lee 2014 and ASTCT 2019 grades by post-infusion day."""
    assessment = assess(_inputs(case), _end_of_course(case))
    graded = {day.day: (day.lee2014, day.astct2019) for day in assessment.daily}
    for expected in expected_grades(case):
        assert graded.get(expected.day, (0, 0)) == (expected.lee2014, expected.astct2019), (
            f"{case} day {expected.day}: {expected.reason}"
        )


@pytest.mark.parametrize("case", CASES)
def test_seed_case_peak_grade_is_the_papers_grade(case: str) -> None:
    """seed: Case 1 grade 1; Case 2 grade 3; Case 3 grade 3; Figure 3 grade 3."""
    assessment = assess(_inputs(case), _end_of_course(case))
    assert assessment.peak_grade == PAPER_PEAK[case]
    assert assessment.in_scope


def test_figure3_reaches_grade_3_on_day_6_when_the_second_vasopressor_starts() -> None:
    """seed Figure 3: one low-dose vasopressor on day 5 (grade 2), a second on day 6 (grade 3)."""
    assessment = assess(_inputs("figure3"), _end_of_course("figure3"))
    by_day = {day.day: day.lee2014 for day in assessment.daily}
    assert by_day[5] == 2
    assert by_day[6] == 3


def test_case3_on_day_5_is_grade_3_by_two_vasopressors_with_infection_warnings() -> None:
    """seed Case 3: dopamine and norepinephrine on day 5 (Table 2: multiple vasopressors) with a
    positive blood culture (SPEC 2.7 attribution warnings are never suppressed)."""
    day5_night = datetime.combine(DEFAULT_DAY0, time(), UTC) + timedelta(days=6)
    assessment = assess(_inputs("case3"), day5_night)
    assert assessment.grade == 3
    assert "multiple-vasopressors" in {d.criterion for d in assessment.current.drivers}
    codes = {w.code for w in assessment.attribution_warnings}
    assert {"positive-blood-culture", "masked-fever"} <= codes


@pytest.mark.parametrize("case", CASES)
def test_fast_path_maps_the_seed_cases_as_full_model_validation_does(case: str) -> None:
    """Issue 6: the raw-JSON fast path grades exactly as fhir.resources validation would."""
    fast = _inputs(case)
    full = _inputs(case, MappingOptions(validation=ValidationMode.MODELS))
    assert fast == full
    as_of = _end_of_course(case)
    assert assess(fast, as_of) == assess(full, as_of)
