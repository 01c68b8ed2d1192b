"""The course series (pure): day axis, VASST norepinephrine equivalent, thresholds, markers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from cds_service.smart.charts import render_course_svg
from cds_service.smart.course import BOUND_NOTE, MarkerKind, SeriesKey, build_course
from crs_grading import assess
from crs_grading.inputs import (
    BloodPressure,
    Comparator,
    EncephalopathyItem,
    EncephalopathyScreen,
    EncephalopathyTool,
    GradingInputs,
    Immunosuppressant,
    ImmunosuppressantDose,
    InfusionRate,
    LabResult,
    LabTest,
    Measurement,
    OxygenDevice,
    OxygenReading,
    PatientFacts,
    RateBasis,
    ScreenItem,
    ScreenUnable,
    TherapyAdministration,
    TherapyKind,
    Vasopressor,
    VasopressorAdministration,
)

INFUSION = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # day 0 starts 2026-03-02 00:00 UTC


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, 2, tzinfo=UTC) + timedelta(days=day, hours=hour)


def patient_inputs(birth: date = date(1980, 1, 1), **parts) -> GradingInputs:
    return GradingInputs(
        patient=PatientFacts("Patient/p1", birth_date=birth),
        therapies=(
            TherapyAdministration(
                "axicabtagene ciloleucel", TherapyKind.CAR_T, INFUSION, "Procedure/car"
            ),
        ),
        weights_kg=(Measurement(at(0, 6), 80.0, "Observation/weight"),),
        **parts,
    )


AS_OF = at(6, 12)


def course_of(inputs: GradingInputs, as_of: datetime = AS_OF):
    assessment = assess(inputs, as_of)
    return build_course(inputs, assessment), assessment


def test_x_axis_is_days_since_the_start_of_day_0():
    inputs = patient_inputs(
        temperatures_c=(
            Measurement(at(0, 16), 37.0, "Observation/t0"),
            Measurement(at(5, 8), 39.1, "Observation/t5"),
        )
    )
    course, _ = course_of(inputs)
    points = course.get(SeriesKey.TEMPERATURE).points
    assert [round(p.day, 4) for p in points] == [0.6667, 5.3333]
    assert course.day0 == datetime(2026, 3, 2, tzinfo=UTC)
    assert course.as_of_day == pytest.approx(6.5) and course.x_max == 7.0


def test_readings_before_day_0_and_after_as_of_are_not_plotted():
    inputs = patient_inputs(
        temperatures_c=(
            Measurement(at(-1, 8), 38.5, "Observation/before"),
            Measurement(at(2, 8), 37.2, "Observation/during"),
            Measurement(at(9, 8), 38.0, "Observation/future"),
        )
    )
    course, _ = course_of(inputs)
    assert [p.reference for p in course.get(SeriesKey.TEMPERATURE).points] == ["Observation/during"]


def test_norepinephrine_equivalent_adds_concurrent_drips_by_the_vasst_formula():
    """seed Table 3 footnote (VASST): NE eq = norepinephrine ug/min + dopamine ug/kg/min / 2
    + epinephrine ug/min + phenylephrine ug/min / 10."""
    drips = (
        VasopressorAdministration(
            Vasopressor.NOREPINEPHRINE,
            at(5, 0),
            at(5, 12),
            InfusionRate(8.0, RateBasis.MICROGRAMS_PER_MIN),
            "MA/ne",
        ),
        VasopressorAdministration(
            Vasopressor.DOPAMINE,
            at(5, 6),
            at(5, 12),
            InfusionRate(6.0, RateBasis.MICROGRAMS_PER_KG_PER_MIN),
            "MA/dop",
        ),
        VasopressorAdministration(
            Vasopressor.PHENYLEPHRINE,
            at(5, 9),
            at(5, 12),
            InfusionRate(100.0, RateBasis.MICROGRAMS_PER_MIN),
            "MA/phe",
        ),
    )
    course, _ = course_of(patient_inputs(vasopressors=drips))
    series = course.get(SeriesKey.NOREPINEPHRINE_EQUIVALENT)
    assert series.step is True
    assert [(p.day, p.value) for p in series.points] == [
        (5.0, 8.0),  # norepinephrine alone
        (5.25, 11.0),  # + dopamine 6 / 2
        (5.375, 21.0),  # + phenylephrine 100 / 10
        (5.5, 0.0),  # all stopped
    ]
    assert "MA/dop" in series.points[1].reference


def test_weight_based_norepinephrine_converts_with_the_latest_weight():
    """SPEC 2.3: ug/kg/min x kg = ug/min (80 kg)."""
    drips = (
        VasopressorAdministration(
            Vasopressor.NOREPINEPHRINE,
            at(4, 0),
            at(4, 6),
            InfusionRate(0.1, RateBasis.MICROGRAMS_PER_KG_PER_MIN),
            "MA/ne",
        ),
    )
    course, _ = course_of(patient_inputs(vasopressors=drips))
    assert course.get(SeriesKey.NOREPINEPHRINE_EQUIVALENT).points[0].value == pytest.approx(8.0)


def test_a_drip_of_unknown_rate_is_drawn_as_a_lower_bound():
    drips = (
        VasopressorAdministration(
            Vasopressor.NOREPINEPHRINE,
            at(4, 0),
            at(4, 6),
            None,
            "MA/ne",
            rate_gap="mL/h without concentration",
        ),
    )
    course, _ = course_of(patient_inputs(vasopressors=drips))
    series = course.get(SeriesKey.NOREPINEPHRINE_EQUIVALENT)
    assert series.points[0].value == 0.0
    assert series.note is not None and "lower bound" in series.note


def test_mean_arterial_pressure_is_measured_or_derived_and_says_so():
    """The grader's MAP: measured, else DBP + (SBP - DBP) / 3."""
    inputs = patient_inputs(
        blood_pressures=(
            BloodPressure(at(1, 8), "Observation/bp1", systolic=120, diastolic=60),
            BloodPressure(at(2, 8), "Observation/bp2", systolic=100, diastolic=50, mean=70),
        )
    )
    course, _ = course_of(inputs)
    assert [p.value for p in course.get(SeriesKey.MEAN_ARTERIAL).points] == [80.0, 70.0]
    assert [p.value for p in course.get(SeriesKey.SYSTOLIC).points] == [120, 100]
    assert "derived" in (course.get(SeriesKey.MEAN_ARTERIAL).note or "")


def test_values_charted_as_bounds_are_drawn_at_the_bound_and_their_series_say_so():
    """SPEC 3 "Comparators": the figure cannot mark a point as "<60", so the series' note says
    it holds bounds; a series without one has no such note."""
    below = Comparator.BELOW
    inputs = patient_inputs(
        blood_pressures=(
            BloodPressure(at(1, 8), "Observation/bp1", 60, 40, systolic_comparator=below),
            BloodPressure(at(2, 8), "Observation/bp2", 120, 70),
        ),
        labs=(LabResult(LabTest.CRP, at(1, 6), 5.0, "Observation/crp1", comparator=below),),
        temperatures_c=(Measurement(at(1, 7), 38.4, "Observation/t1"),),
    )
    course, _ = course_of(inputs)
    assert [p.value for p in course.get(SeriesKey.SYSTOLIC).points] == [60, 120]
    for key in (SeriesKey.SYSTOLIC, SeriesKey.MEAN_ARTERIAL, SeriesKey.CRP):
        assert BOUND_NOTE in (course.get(key).note or ""), key
    assert course.get(SeriesKey.TEMPERATURE).note is None


def test_fio2_from_flow_only_is_the_specs_estimate_and_flagged():
    """SPEC 2.3: FiO2 = 21% + 4% per L/min when only the flow is recorded."""
    inputs = patient_inputs(
        oxygen=(
            OxygenReading(at(3, 8), "Observation/o1", flow_l_per_min=2.0),
            OxygenReading(at(3, 20), "Observation/o2", fio2_percent=45.0),
        )
    )
    course, _ = course_of(inputs)
    series = course.get(SeriesKey.FIO2)
    assert [p.value for p in series.points] == [29.0, 45.0]
    assert series.note is not None and "estimated" in series.note


def test_spec_2_3_a_flow_charted_within_the_hour_of_a_measured_fio2_is_not_plotted_as_an_estimate():
    """SPEC 2.3: a measured FiO2 always wins; FiO2 35% and 6 L/min charted as two rows 4 minutes
    apart are one requirement of 35%. The timeline plots the grader's pairing: 35%, never the
    45% flow estimate the grader does not use."""
    inputs = patient_inputs(
        oxygen=(
            OxygenReading(at(3, 8), "Observation/flow", flow_l_per_min=6.0),
            OxygenReading(at(3, 8) + timedelta(minutes=4), "Observation/fio2", fio2_percent=35.0),
            OxygenReading(at(4, 8), "Observation/flow-alone", flow_l_per_min=2.0),
        )
    )
    course, assessment = course_of(inputs)
    series = course.get(SeriesKey.FIO2)
    assert [(p.reference, p.value) for p in series.points] == [
        ("Observation/fio2", 35.0),
        ("Observation/flow-alone", 29.0),
    ]
    assert series.note is not None and "estimated" in series.note
    assert assessment.peak_grade == 2  # the grader paired them too


def test_spec_2_3_a_high_flow_device_without_fio2_is_plotted_as_the_grader_counts_it():
    """SPEC 2.3: a non-rebreather with no FiO2 charted counts as FiO2 >= 40%; its flow charted
    apart is not estimated (the device grades it). The timeline shows what the grader used."""
    inputs = patient_inputs(
        oxygen=(
            OxygenReading(at(3, 8), "Observation/nrb", device=OxygenDevice.NON_REBREATHER),
            OxygenReading(at(3, 8), "Observation/flow", flow_l_per_min=15.0),
        )
    )
    course, _ = course_of(inputs)
    series = course.get(SeriesKey.FIO2)
    assert [(p.reference, p.value) for p in series.points] == [("Observation/nrb", 40.0)]
    assert series.note is not None and "device" in series.note


@pytest.mark.parametrize(
    ("birth", "expected"),
    [
        pytest.param(
            date(1980, 1, 1),
            {("systolic-bp", 90.0), ("mean-arterial-pressure", 65.0)},
            id="adult: SBP < 90 and MAP < 65 (Mahadeo 2019)",
        ),
        pytest.param(
            date(2014, 6, 1), {("systolic-bp", 90.0)}, id="11 years: SBP < 90 only (Mahadeo 2019)"
        ),
        pytest.param(
            date(2021, 1, 1),
            {("systolic-bp", 80.0)},
            id="5 years: SBP < 70 + 2 x age (Mahadeo 2019)",
        ),
    ],
)
def test_hypotension_lines_follow_the_patients_age(birth, expected):
    course, _ = course_of(patient_inputs(birth=birth))
    lines = {
        (t.key.value, t.value)
        for t in course.thresholds
        if t.key in (SeriesKey.SYSTOLIC, SeriesKey.MEAN_ARTERIAL)
    }
    assert lines == expected


def test_fever_and_high_fio2_lines_come_from_seed_table_2():
    course, _ = course_of(patient_inputs())
    lines = {t.key: t.value for t in course.thresholds}
    assert lines[SeriesKey.TEMPERATURE] == 38.0
    assert lines[SeriesKey.FIO2] == 40.0


def test_markers_separate_tocilizumab_from_corticosteroids():
    doses = (
        ImmunosuppressantDose(Immunosuppressant.TOCILIZUMAB, at(5, 16), "MA/toci", 640.0),
        ImmunosuppressantDose(Immunosuppressant.DEXAMETHASONE, at(6, 2), "MA/dex", 10.0),
    )
    course, _ = course_of(patient_inputs(immunosuppressants=doses))
    assert [(m.kind, m.day_number, m.dose_mg) for m in course.markers] == [
        (MarkerKind.TOCILIZUMAB, 5, 640.0),
        (MarkerKind.CORTICOSTEROID, 6, 10.0),
    ]


def test_out_of_scope_patient_has_no_course():
    inputs = GradingInputs(patient=PatientFacts("Patient/p2"))
    assessment = assess(inputs, AS_OF)
    assert build_course(inputs, assessment) is None


def test_the_daily_strip_is_the_assessments_daily_grades():
    inputs = patient_inputs(temperatures_c=(Measurement(at(2, 8), 38.6, "Observation/t"),))
    course, assessment = course_of(inputs)
    assert course.daily == assessment.daily
    assert [d.lee2014 for d in course.daily][2] == 1  # fever: seed Table 2 grade 1


def test_the_svg_is_deterministic_inline_and_tagged():
    inputs = patient_inputs(
        temperatures_c=(Measurement(at(2, 8), 38.6, "Observation/t"),),
        immunosuppressants=(
            ImmunosuppressantDose(Immunosuppressant.TOCILIZUMAB, at(3, 16), "MA/toci", 640.0),
        ),
    )
    course, _ = course_of(inputs)
    first = render_course_svg(course, title="CRS course")
    second = render_course_svg(course, title="CRS course")
    assert first == second
    assert first.startswith("<svg") and "<?xml" not in first
    assert 'width="100%"' in first and "viewBox=" in first and 'role="img"' in first
    for gid in (
        "series-temperature",
        "marker-tocilizumab-0",
        "grade-lee2014-day-2",
        "threshold-temperature",
    ):
        assert f'id="{gid}"' in first
    assert "no data" in first  # empty panels say so rather than draw nothing


def _ice(when: datetime, ref: str, total: float | None = None, **kwargs) -> EncephalopathyScreen:
    return EncephalopathyScreen(EncephalopathyTool.ICE, when, ref, total, **kwargs)


def test_the_ice_series_is_what_the_icans_grade_reads():
    """SPEC 2.9: ICE totals as charted, summed from items when no total is charted, 0 when the
    patient was unarousable (ASTCT 2019 grade 4); out-of-range totals are not plotted."""
    items = tuple(
        ScreenItem(item, points)
        for item, points in (
            (EncephalopathyItem.ICE_ORIENTATION, 2),
            (EncephalopathyItem.ICE_NAMING, 3),
            (EncephalopathyItem.ICE_COMMANDS, 1),
            (EncephalopathyItem.ICE_WRITING, 0),
            (EncephalopathyItem.ICE_ATTENTION, 0),
        )
    )
    inputs = patient_inputs(
        encephalopathy_screens=(
            _ice(at(1, 8), "Observation/ice1", 10),
            _ice(at(4, 8), "Observation/ice2", 5),
            _ice(at(5, 8), "Observation/ice3", items=items),
            _ice(at(5, 20), "Observation/ice4", unable_to_perform=True),
            _ice(at(6, 8), "Observation/ice5", 14),  # not an ICE total: left out
        )
    )
    course, assessment = course_of(inputs)
    ice = course.get(SeriesKey.ICE)
    assert [(int(p.day), p.value, p.reference) for p in ice.points] == [
        (1, 10.0, "Observation/ice1"),
        (4, 5.0, "Observation/ice2"),
        (5, 6.0, "Observation/ice3"),
        (5, 0.0, "Observation/ice4"),
    ]
    assert "summed from charted items" in (ice.note or "")
    assert "unarousable" in (ice.note or "")
    assert course.get(SeriesKey.CAPD).points == ()
    assert [d.icans for d in course.daily][4:6] == [2, 4]  # ICE 5: grade 2; unarousable: 4
    assert [d.icans for d in course.daily] == [d.icans for d in assessment.daily]


def test_a_capd_not_possible_is_not_plotted_and_the_note_names_both_reasons():
    """SPEC 2.9: a CAPD not possible is grade 4, whether the child was unarousable or unable to
    do it (review finding: it was labelled "unarousable" for "unable to perform")."""
    inputs = patient_inputs(
        encephalopathy_screens=(
            EncephalopathyScreen(
                EncephalopathyTool.CAPD,
                at(5, 8),
                "Observation/capd1",
                unable_to_perform=True,
                unable_because=ScreenUnable.UNABLE,
            ),
        )
    )
    course, _ = course_of(inputs)
    capd = course.get(SeriesKey.CAPD)
    assert capd.points == ()
    assert capd.note == (
        "not possible (unarousable, or unable to perform): not plotted (ICANS grade 4)"
    )


def test_ice_band_lines_come_from_the_icans_table():
    """ASTCT 2019 (crs_grading.tables.icans): ICE < 7 is grade 2, < 3 grade 3; CAPD >= 9 grade 3."""
    course, _ = course_of(patient_inputs())
    bands = {(t.key, t.value, t.label) for t in course.thresholds if t.key.value.endswith("score")}
    assert bands == {
        (SeriesKey.ICE, 7.0, "G2 < 7"),
        (SeriesKey.ICE, 3.0, "G3 < 3"),
        (SeriesKey.CAPD, 9.0, "G3 ≥ 9"),
    }


def test_the_svg_draws_the_ice_panel_and_the_icans_strip():
    inputs = patient_inputs(encephalopathy_screens=(_ice(at(4, 8), "Observation/ice", 2),))
    course, _ = course_of(inputs)
    svg = render_course_svg(course, title="CRS course")
    assert 'id="series-ice-score"' in svg
    assert 'id="threshold-ice-score-7"' in svg and 'id="threshold-ice-score-3"' in svg
    assert 'id="threshold-capd-score-9"' not in svg
    assert svg.count('id="grade-icans-day-') == len(course.daily)
    assert course.to_json()["dailyGrades"][4]["icans"] == 3
