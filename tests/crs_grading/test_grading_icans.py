"""ICANS by ASTCT 2019 (Lee et al., Biol Blood Marrow Transplant 2019; SPEC 2.9): every row of the
SPEC 2.9 table in adults (ICE) and in children under 12 (CAPD), current and peak, daily grades,
drivers with evidence, the "no assessment" data gap, sedation, and neurologic dysfunction."""

from __future__ import annotations

import pytest

from crs_grading import Criterion, NeurologicKind
from crs_grading.inputs import (
    EncephalopathyItem,
    NeurologicSign,
    NeuroScoreKind,
    ScreenUnable,
    Vasopressor,
)
from crs_grading.tables import icans

ASTCT = "ASTCT 2019 ICANS (Lee et al. BBMT 2019)"
NO_ASSESSMENT = "no ICE or consciousness assessment in the last 24 h"
S = NeurologicSign

#: Assess on day 9 at noon; findings at 10:00 on day 9 are in the current window.
DAY, HOUR = 9, 2  # the default chart's infusion is at 10:00: t(9, 2) is day 9, 12:00


def _assess(chart):
    return chart.assess(chart.t(DAY, HOUR))


def _driver(assessment, criterion, peak=False):
    grade = assessment.icans.peak if peak else assessment.icans.current
    return next((d for d in grade.drivers if d.criterion == criterion), None)


# -- Adults: the ICE score ---------------------------------------------------------------------

ICE_ROWS = [
    (9, 1, "grade 1: ICE score 7-9 (ICE 9)"),
    (7, 1, "grade 1: ICE score 7-9 (ICE 7)"),
    (6, 2, "grade 2: ICE score 3-6 (ICE 6)"),
    (3, 2, "grade 2: ICE score 3-6 (ICE 3)"),
    (2, 3, "grade 3: ICE score 0-2 (ICE 2)"),
    (0, 3, "grade 3: ICE score 0-2 (ICE 0, awake with global aphasia)"),
    (10, 0, "no ICANS: ICE 10 is normal"),
]


@pytest.mark.parametrize(
    ("total", "grade"),
    [pytest.param(t, g, id=f"{ASTCT} {why}") for t, g, why in ICE_ROWS],
)
def test_ice_score_rows_in_an_adult(make_chart, total, grade):
    chart = make_chart(age=40)
    ref = chart.ice(chart.t(DAY), total)
    assessment = _assess(chart)
    assert assessment.icans.grade == grade
    found = _driver(assessment, Criterion.ICANS_ICE_SCORE)
    if grade:
        assert (found.grade, found.evidence) == (grade, (ref,))
        assert found.text == f"ICE score {total}/10"
    else:
        assert found is None
    assert NO_ASSESSMENT not in assessment.data_gaps
    assert assessment.grade == 0  # ICANS never changes the CRS grade


def test_ice_not_possible_because_unarousable_is_grade_4(chart):
    """ASTCT 2019 ICANS grade 4: ICE 0 because the patient is unarousable and unable to perform
    ICE (SPEC 2.9)."""
    ref = chart.ice(chart.t(DAY), unable=True)
    assessment = _assess(chart)
    found = _driver(assessment, Criterion.ICANS_ICE_SCORE)
    assert (assessment.icans.grade, found.grade, found.evidence) == (4, 4, (ref,))
    assert found.text == "ICE score not possible: patient unarousable"


def test_ice_items_are_summed_when_no_total_is_charted(chart):
    """SPEC 2.9: ICE items charted as components are summed when no total is charted."""
    items = {
        EncephalopathyItem.ICE_ORIENTATION: 2,
        EncephalopathyItem.ICE_NAMING: 1,
        EncephalopathyItem.ICE_COMMANDS: 1,
        EncephalopathyItem.ICE_WRITING: 0,
        EncephalopathyItem.ICE_ATTENTION: 0,
    }
    chart.ice(chart.t(DAY), items=items)
    assessment = _assess(chart)
    found = _driver(assessment, Criterion.ICANS_ICE_SCORE)
    assert (assessment.icans.grade, found.text) == (2, "ICE score 4/10 (sum of its 5 items)")


def test_a_charted_total_wins_over_its_items(chart):
    chart.ice(chart.t(DAY), 8, items={EncephalopathyItem.ICE_ORIENTATION: 0})
    assert _assess(chart).icans.grade == 1


def test_incomplete_ice_items_grade_on_the_best_possible_total(chart):
    """Missing items are counted as earned: 3 points lost on naming prove ICE <= 7 (grade 1),
    never more; the gap says the items were incomplete."""
    chart.ice(chart.t(DAY), items={EncephalopathyItem.ICE_NAMING: 0})
    assessment = _assess(chart)
    found = _driver(assessment, Criterion.ICANS_ICE_SCORE)
    assert assessment.icans.grade == 1
    assert found.text == "ICE score 7/10 (1 of 5 items charted: at most 7)"
    assert "ICE score charted as items with some missing: graded on the charted items" in (
        assessment.data_gaps
    )


def test_an_ice_total_out_of_range_is_not_graded(chart):
    chart.ice(chart.t(DAY), 14)
    assessment = _assess(chart)
    assert assessment.icans.grade == 0
    assert "ICE score outside 0-10: not graded" in assessment.data_gaps


def test_an_ice_total_sent_as_a_neuro_score_grades(chart):
    """An ICE total mapped as ``NeuroScore`` (kind ICE) is read as an ICE screen."""
    ref = chart.score(NeuroScoreKind.ICE, chart.t(DAY), 5)
    assessment = _assess(chart)
    assert assessment.icans.grade == 2
    assert _driver(assessment, Criterion.ICANS_ICE_SCORE).evidence == (ref,)
    assert NO_ASSESSMENT not in assessment.data_gaps


# -- Depressed level of consciousness (RASS), adults and children --------------------------------

RASS_ROWS = [
    (-1, 1, "grade 1: awakens spontaneously (RASS -1)"),
    (-2, 2, "grade 2: awakens to voice (RASS -2)"),
    (-3, 2, "grade 2: awakens to voice (RASS -3)"),
    (-4, 3, "grade 3: awakens only to tactile stimulus (RASS -4)"),
    (-5, 4, "grade 4: unarousable, stupor or coma (RASS -5)"),
    (0, 0, "no ICANS: RASS 0 (alert and calm)"),
    (2, 0, "no ICANS: RASS +2 (agitation is not depressed consciousness)"),
]


@pytest.mark.parametrize("age", [40, 8], ids=["adult", "child under 12"])
@pytest.mark.parametrize(
    ("rass", "grade"),
    [pytest.param(r, g, id=f"{ASTCT} depressed consciousness {why}") for r, g, why in RASS_ROWS],
)
def test_depressed_consciousness_rows_from_rass(make_chart, age, rass, grade):
    chart = make_chart(age=age)
    ref = chart.rass(chart.t(DAY), rass)
    assessment = _assess(chart)
    assert assessment.icans.grade == grade
    found = _driver(assessment, Criterion.ICANS_DEPRESSED_CONSCIOUSNESS)
    if grade:
        assert (found.grade, found.evidence) == (grade, (ref,))
        assert found.text.startswith(f"RASS {rass}: ")
    else:
        assert found is None
    assert NO_ASSESSMENT not in assessment.data_gaps  # a RASS is an assessment


def test_rass_under_continuous_sedation_still_grades_and_says_it_confounds(chart):
    """SPEC 2.9: under continuous sedation RASS still grades and still counts as neurologic
    dysfunction, and the card says that sedation confounds it."""
    ref = chart.rass(chart.t(DAY), -4, sedated=True)
    assessment = _assess(chart)
    found = _driver(assessment, Criterion.ICANS_DEPRESSED_CONSCIOUSNESS)
    assert assessment.icans.grade == 3
    assert "under continuous sedation, which confounds it" in found.text
    assert assessment.icans.sedated == (ref,)
    assert [f.kind for f in assessment.neurologic_findings] == [NeurologicKind.ICANS]


def test_gcs_does_not_grade_icans(chart):
    """SPEC 2.9: GCS does not map onto the ASTCT levels; it stays a SPEC 2.5 sign."""
    chart.score(NeuroScoreKind.GCS, chart.t(DAY), 8)
    assessment = _assess(chart)
    assert assessment.icans.grade == 0
    assert [f.kind for f in assessment.neurologic_findings] == ["gcs-below-15"]


# -- Children under 12: CAPD ---------------------------------------------------------------------

ASTCT_CHILDREN = "ASTCT 2019 ICANS for children < 12 (Lee et al. BBMT 2019)"
CAPD_ROWS = [
    (1, None, 1, "grade 1: CAPD 1-8, awakens spontaneously (CAPD 1)"),
    (8, -1, 1, "grade 1: CAPD 1-8, awakens spontaneously (CAPD 8, RASS -1)"),
    (8, -2, 2, "grade 2: CAPD 1-8, awakens to voice (CAPD 8, RASS -2)"),
    (3, -3, 2, "grade 2: CAPD 1-8, awakens to voice (CAPD 3, RASS -3)"),
    (9, None, 3, "grade 3: CAPD >= 9 (CAPD 9)"),
    (20, None, 3, "grade 3: CAPD >= 9 (CAPD 20)"),
    (0, None, 0, "no ICANS: CAPD 0"),
]


@pytest.mark.parametrize(
    ("total", "rass", "grade"),
    [pytest.param(t, r, g, id=f"{ASTCT_CHILDREN} {why}") for t, r, g, why in CAPD_ROWS],
)
def test_capd_rows_in_a_child(make_chart, total, rass, grade):
    chart = make_chart(age=8)
    ref = chart.capd(chart.t(DAY), total)
    if rass is not None:
        chart.rass(chart.t(DAY, 0, 5), rass)
    assessment = _assess(chart)
    assert assessment.icans.grade == grade
    found = _driver(assessment, Criterion.ICANS_CAPD_SCORE)
    if total:
        screen_grade = 3 if total >= 9 else 1
        assert (found.grade, found.evidence, found.text) == (screen_grade, (ref,), f"CAPD {total}")
    else:
        assert found is None


@pytest.mark.parametrize(
    ("because", "text"),
    [
        pytest.param(
            ScreenUnable.UNABLE,
            "CAPD not possible: unable to perform",
            id=f"{ASTCT_CHILDREN} grade 4 (review finding): a CAPD charted 'unable to perform' "
            "says so, not 'patient unarousable'",
        ),
        pytest.param(
            ScreenUnable.UNAROUSABLE,
            "CAPD not possible: patient unarousable",
            id=f"{ASTCT_CHILDREN} grade 4: a CAPD not possible because unarousable says so",
        ),
        pytest.param(
            None,
            "CAPD not possible: unable to perform",
            id=f"{ASTCT_CHILDREN} grade 4 (review finding): no reason given reads as the row's "
            "'unable to perform'",
        ),
    ],
)
def test_unable_to_perform_capd_is_grade_4_and_says_what_was_charted(make_chart, because, text):
    """ASTCT 2019 ICANS for children < 12 grade 4: unable to perform CAPD (SPEC 2.9). Every
    CAPD not possible read "patient unarousable", a child who could not do it included."""
    chart = make_chart(age=8)
    chart.capd(chart.t(DAY), unable=True, because=because)
    assessment = _assess(chart)
    assert assessment.icans.grade == 4
    assert _driver(assessment, Criterion.ICANS_CAPD_SCORE).text == text


def test_capd_items_are_summed(make_chart):
    chart = make_chart(age=5)
    items = {item: 1 for item in EncephalopathyItem if item.tool.value == "capd"}
    chart.capd(chart.t(DAY), items=items)
    found = _driver(_assess(chart), Criterion.ICANS_CAPD_SCORE)
    assert (found.grade, found.text) == (1, "CAPD 8 (sum of its 8 items)")


def test_incomplete_capd_items_grade_on_what_they_prove(make_chart):
    """Missing CAPD items count no delirium: 3 items of 4 points prove CAPD >= 12 (grade 3)."""
    chart = make_chart(age=5)
    items = {
        EncephalopathyItem.CAPD_EYE_CONTACT: 4,
        EncephalopathyItem.CAPD_AWARE_OF_SURROUNDINGS: 4,
        EncephalopathyItem.CAPD_COMMUNICATES_NEEDS: 4,
    }
    chart.capd(chart.t(DAY), items=items)
    found = _driver(_assess(chart), Criterion.ICANS_CAPD_SCORE)
    assert (found.grade, found.text) == (3, "CAPD 12 (3 of 8 items charted: at least 12)")


def test_an_ice_score_in_a_child_under_12_is_not_graded(make_chart):
    """SPEC 2.9: ICE is the screen from age 12; under 12 CAPD. The ICE still shows as SPEC 2.5
    neurologic dysfunction, and a gap says why it did not grade."""
    chart = make_chart(age=11)
    chart.ice(chart.t(DAY), 2)
    chart.score(NeuroScoreKind.ICE, chart.t(DAY, 0, 10), 2)
    assessment = _assess(chart)
    assert assessment.icans.grade == 0
    assert (
        "ICE score charted for a child under 12: not used for the ICANS grade "
        "(CAPD is the screen under 12)"
    ) in assessment.data_gaps
    assert [f.kind for f in assessment.neurologic_findings] == ["ice-below-10"]
    assert NO_ASSESSMENT not in assessment.data_gaps


def test_ice_grades_from_age_12(make_chart):
    chart = make_chart(age=12)
    chart.ice(chart.t(DAY), 2)
    assert _assess(chart).icans.grade == 3


def test_capd_grades_in_an_adolescent(make_chart):
    """ASTCT 2019 allows CAPD in older patients with developmental delay."""
    chart = make_chart(age=15)
    chart.capd(chart.t(DAY), 10)
    assert _assess(chart).icans.grade == 3


# -- Seizures, motor findings, raised intracranial pressure (adults and children) ----------------

SIGN_ROWS = [
    (S.SEIZURE, 3, Criterion.ICANS_SEIZURE, "grade 3: any clinical seizure"),
    (S.STATUS_EPILEPTICUS, 4, Criterion.ICANS_SEIZURE, "grade 4: status epilepticus"),
    (S.HEMIPARESIS, 4, Criterion.ICANS_MOTOR_WEAKNESS, "grade 4: hemiparesis"),
    (S.PARAPARESIS, 4, Criterion.ICANS_MOTOR_WEAKNESS, "grade 4: paraparesis"),
    (S.QUADRIPARESIS, 4, Criterion.ICANS_MOTOR_WEAKNESS, "grade 4: quadriparesis (G82.x)"),
    (S.FOCAL_CEREBRAL_EDEMA, 3, Criterion.ICANS_CEREBRAL_EDEMA, "grade 3: focal edema"),
    (S.CEREBRAL_EDEMA, 3, Criterion.ICANS_CEREBRAL_EDEMA, "grade 3: edema of unstated extent"),
    (S.DIFFUSE_CEREBRAL_EDEMA, 4, Criterion.ICANS_CEREBRAL_EDEMA, "grade 4: diffuse edema"),
    (S.POSTURING, 4, Criterion.ICANS_RAISED_INTRACRANIAL_PRESSURE, "grade 4: posturing"),
    (
        S.CRANIAL_NERVE_VI_PALSY,
        4,
        Criterion.ICANS_RAISED_INTRACRANIAL_PRESSURE,
        "grade 4: cranial nerve VI palsy",
    ),
    (S.PAPILLEDEMA, 4, Criterion.ICANS_RAISED_INTRACRANIAL_PRESSURE, "grade 4: papilledema"),
    (S.CUSHINGS_TRIAD, 4, Criterion.ICANS_RAISED_INTRACRANIAL_PRESSURE, "grade 4: Cushing's triad"),
]


@pytest.mark.parametrize("age", [40, 8], ids=["adult", "child under 12"])
@pytest.mark.parametrize(
    ("sign", "grade", "criterion"),
    [pytest.param(s, g, c, id=f"{ASTCT} {why}") for s, g, c, why in SIGN_ROWS],
)
def test_sign_rows(make_chart, age, sign, grade, criterion):
    chart = make_chart(age=age)
    ref = chart.sign(sign, chart.t(DAY), name=f"charted {sign.value}")
    assessment = _assess(chart)
    found = _driver(assessment, criterion)
    assert (assessment.icans.grade, found.grade, found.evidence) == (grade, grade, (ref,))
    assert icans.SIGN_ROWS[sign].source.strip()
    assert found.text.endswith(f"(charted {sign.value})")
    assert NO_ASSESSMENT in assessment.data_gaps  # a sign does not replace the assessment


def test_cerebral_edema_of_unstated_extent_says_so(chart):
    """SPEC 2.9: G93.6 with no "focal" or "diffuse" is grade 3, and the card says its extent was
    not charted."""
    chart.sign(S.CEREBRAL_EDEMA, chart.t(DAY), name="Cerebral edema")
    found = _driver(_assess(chart), Criterion.ICANS_CEREBRAL_EDEMA)
    assert found.text == "cerebral edema, extent not charted: counted as focal"


def test_an_observation_sign_grades_like_a_condition(chart):
    ref = chart.sign(S.SEIZURE, chart.t(DAY), name="Seizure activity", kind="Observation")
    assert _driver(_assess(chart), Criterion.ICANS_SEIZURE).evidence == (ref,)


def test_a_sign_is_dated_by_onset_else_recorded_date(chart):
    chart.sign(S.SEIZURE, None, recorded=chart.t(DAY))
    assert _assess(chart).icans.grade == 3


def test_an_undated_sign_cannot_grade(chart):
    chart.sign(S.STATUS_EPILEPTICUS, None)
    assessment = _assess(chart)
    assert assessment.icans.grade == 0
    assert (
        "a neurologic sign without onset or recorded date: not used for the ICANS grade"
        in assessment.data_gaps
    )


def test_a_sign_before_day_0_is_not_icans(chart):
    """Known epilepsy or an old stroke on the problem list is not ICANS."""
    chart.sign(S.STATUS_EPILEPTICUS, chart.t(-400))
    chart.sign(S.HEMIPARESIS, chart.t(-1))
    assessment = _assess(chart)
    assert (assessment.icans.grade, assessment.icans.peak_grade) == (0, 0)


# -- States last while their Condition is active; events count at their time (SPEC 2.9) ---------

#: 30 h before the assessment (day 9, 12:00): day 8, 06:00, outside the 24 h window.
ONSET_30_H_AGO = (DAY, HOUR - 30)
STATE_RULE = "SPEC 2.9 (review finding): "

#: Signs that last until they resolve: (sign, grade, criterion, words for the id).
STATES = [
    (S.DIFFUSE_CEREBRAL_EDEMA, 4, Criterion.ICANS_CEREBRAL_EDEMA, "diffuse cerebral edema"),
    (S.FOCAL_CEREBRAL_EDEMA, 3, Criterion.ICANS_CEREBRAL_EDEMA, "focal cerebral edema"),
    (S.CEREBRAL_EDEMA, 3, Criterion.ICANS_CEREBRAL_EDEMA, "cerebral edema of unstated extent"),
    (S.HEMIPARESIS, 4, Criterion.ICANS_MOTOR_WEAKNESS, "hemiparesis"),
    (S.PARAPARESIS, 4, Criterion.ICANS_MOTOR_WEAKNESS, "paraparesis"),
    (S.QUADRIPARESIS, 4, Criterion.ICANS_MOTOR_WEAKNESS, "quadriparesis"),
    (S.PAPILLEDEMA, 4, Criterion.ICANS_RAISED_INTRACRANIAL_PRESSURE, "papilledema"),
    (
        S.CRANIAL_NERVE_VI_PALSY,
        4,
        Criterion.ICANS_RAISED_INTRACRANIAL_PRESSURE,
        "cranial nerve VI palsy",
    ),
    (S.POSTURING, 4, Criterion.ICANS_RAISED_INTRACRANIAL_PRESSURE, "decorticate posturing"),
]

#: Signs that happen at a time: (sign, grade, words for the id).
EVENTS = [
    (S.SEIZURE, 3, "seizure"),
    (S.STATUS_EPILEPTICUS, 4, "status epilepticus"),
    (S.CUSHINGS_TRIAD, 4, "Cushing's triad"),
]


def _daily_icans(assessment):
    return [d.icans for d in assessment.daily]


@pytest.mark.parametrize("age", [40, 8], ids=["adult", "child under 12"])
@pytest.mark.parametrize(
    ("sign", "grade", "criterion"),
    [
        pytest.param(
            s,
            g,
            c,
            id=f"{STATE_RULE}active {words} with onset 30 h ago is current ICANS {g}",
        )
        for s, g, c, words in STATES
    ],
)
def test_an_active_state_condition_stays_in_the_current_grade(
    make_chart, age, sign, grade, criterion
):
    """SPEC 2.9: current ICANS is the worst grade of the last 24 h; a state whose Condition is
    still active is present in those 24 h, however long ago it began. It was dropped 24 h after
    its onset (ICANS 0, no neurologic dysfunction: tocilizumab first line at CRS grade 3)."""
    chart = make_chart(age=age)
    ref = chart.sign(sign, chart.t(*ONSET_30_H_AGO), name=f"charted {sign.value}", active=True)
    assessment = _assess(chart)
    assert (assessment.icans.grade, assessment.icans.peak_grade) == (grade, grade)
    found = _driver(assessment, criterion)
    assert (found.grade, found.evidence) == (grade, (ref,))
    assert found.text.endswith(f"(charted {sign.value})")
    (neurologic,) = assessment.neurologic_findings
    assert (neurologic.kind, neurologic.evidence) == (NeurologicKind.ICANS, (ref,))
    assert neurologic.text.startswith(f"ICANS grade {grade} (")
    assert _daily_icans(assessment)[DAY - 1 :] == [grade, grade]  # its onset day and today


@pytest.mark.parametrize(
    ("sign", "grade"),
    [
        pytest.param(
            s,
            g,
            id=f"{STATE_RULE}an active {words} Condition 30 h ago is an event: peak {g}, "
            "not current",
        )
        for s, g, words in EVENTS
    ],
)
def test_an_event_condition_counts_at_its_time_even_while_active(chart, sign, grade):
    """A seizure, status epilepticus or Cushing's triad happened at its time: an active
    Condition of one keeps the 24 h rule."""
    chart.sign(sign, chart.t(*ONSET_30_H_AGO), active=True)
    assessment = _assess(chart)
    assert (assessment.icans.grade, assessment.icans.peak_grade) == (0, grade)
    assert assessment.neurologic_findings == ()
    assert _daily_icans(assessment)[DAY - 1 :] == [grade, 0]


#: How a state's Condition ran: (its course as ``Chart.sign`` arguments, ICANS now, peak, the
#: days it counts on).
STATE_COURSES = [
    pytest.param(
        {"onset": (6,), "active": False, "abatement": (DAY, HOUR - 30)},
        0,
        {6, 7, 8},
        id=f"{STATE_RULE}resolved 30 h ago (abatement): in the peak and on days 6-8, not current",
    ),
    pytest.param(
        {"onset": (6,), "active": False, "abatement": (DAY, HOUR - 6)},
        None,
        {6, 7, 8, 9},
        id=f"{STATE_RULE}resolved 6 h ago (abatement): still in the last 24 h",
    ),
    pytest.param(
        {"onset": ONSET_30_H_AGO, "active": False},
        0,
        {8},
        id=f"{STATE_RULE}resolved without abatement: counts at its onset only, as before",
    ),
    pytest.param(
        {"onset": ONSET_30_H_AGO, "active": True, "abatement": (DAY, HOUR - 25)},
        0,
        {8},
        id=f"{STATE_RULE}active but abated 25 h ago: ends at its abatement",
    ),
    pytest.param(
        {"onset": ONSET_30_H_AGO, "kind": "Observation"},
        0,
        {8},
        id=f"{STATE_RULE}an Observation of it 30 h ago is a point in time",
    ),
    pytest.param(
        {"onset": (-1,), "active": True},
        0,
        set(),
        id="SPEC 2.9: active since before day 0 (an old stroke) is not ICANS",
    ),
]


@pytest.mark.parametrize(
    ("sign", "grade"),
    [
        pytest.param(S.DIFFUSE_CEREBRAL_EDEMA, 4, id="diffuse cerebral edema"),
        pytest.param(S.HEMIPARESIS, 4, id="hemiparesis"),
        pytest.param(S.FOCAL_CEREBRAL_EDEMA, 3, id="focal cerebral edema"),
    ],
)
@pytest.mark.parametrize(("course", "now", "days"), STATE_COURSES)
def test_a_state_lasts_as_its_condition_ran(chart, sign, grade, course, now, days):
    """``condition_interval`` (SPEC 2.5) gives the state its interval: from its onset to its
    abatement, or to now while active; a resolved Condition without abatement, or an
    Observation, counts at its time. The peak is never below the current grade, and the daily
    grades show every day the state lasted."""
    times = {k: chart.t(*v) for k, v in course.items() if k in ("onset", "abatement")}
    extra = {k: v for k, v in course.items() if k not in times}
    chart.sign(sign, times["onset"], **{**extra, "abatement": times.get("abatement")})
    assessment = _assess(chart)
    current = grade if now is None else now
    peak = grade if days else 0
    assert (assessment.icans.grade, assessment.icans.peak_grade) == (current, peak)
    assert assessment.icans.peak_grade >= assessment.icans.grade
    assert {day for day, g in enumerate(_daily_icans(assessment)) if g} == days
    assert all(g == grade for g in _daily_icans(assessment) if g)


# -- The grade is the worst domain; current, peak and daily --------------------------------------


def test_the_grade_is_the_worst_domain(chart):
    """ASTCT 2019: a patient with an ICE score of 3 who has a generalized seizure is grade 3."""
    ice = chart.ice(chart.t(DAY), 3)
    seizure = chart.sign(S.SEIZURE, chart.t(DAY, 1))
    assessment = _assess(chart)
    assert assessment.icans.grade == 3
    drivers = [(d.criterion, d.grade, d.evidence) for d in assessment.icans.current.drivers]
    assert drivers == [
        (Criterion.ICANS_SEIZURE, 3, (seizure,)),
        (Criterion.ICANS_ICE_SCORE, 2, (ice,)),
    ]


def test_current_is_the_last_24_h_and_peak_any_24_h_since_day_0(chart):
    worst = chart.ice(chart.t(DAY - 2), 1)  # day 7: grade 3
    chart.ice(chart.t(DAY - 1, 6), 6)  # day 8 16:00, 20 h before: grade 2
    chart.ice(chart.t(DAY), 9)  # day 9: grade 1
    assessment = _assess(chart)
    assert (assessment.icans.grade, assessment.icans.peak_grade) == (2, 3)
    assert _driver(assessment, Criterion.ICANS_ICE_SCORE).text == "ICE score 6/10"
    peak = _driver(assessment, Criterion.ICANS_ICE_SCORE, peak=True)
    assert peak.evidence == (worst,)
    assert assessment.icans.peak.window_end == chart.t(DAY - 2)


def test_daily_icans_grades_sit_beside_the_crs_grades(chart):
    chart.temp(chart.t(3), 38.6)
    chart.ice(chart.t(3, 1), 8)
    chart.rass(chart.t(4), -2)
    chart.sign(S.SEIZURE, chart.t(5, 2))
    chart.ice(chart.t(6), 10)
    daily = chart.assess(chart.t(6, 2)).daily
    assert [(d.day, d.lee2014, d.icans) for d in daily] == [
        (0, 0, 0),
        (1, 0, 0),
        (2, 0, 0),
        (3, 1, 1),
        (4, 0, 2),
        (5, 0, 3),
        (6, 0, 0),
    ]


def test_icans_resolves_after_24_h_without_findings(chart):
    chart.ice(chart.t(DAY - 2), 2)
    chart.ice(chart.t(DAY - 1, 3), 10)  # 23 h before
    chart.rass(chart.t(DAY - 1, 3), 0)
    assessment = _assess(chart)
    assert (assessment.icans.grade, assessment.icans.peak_grade) == (0, 3)
    assert assessment.icans.assessed
    assert NO_ASSESSMENT not in assessment.data_gaps
    assert not assessment.neurologic_findings


# -- The data gap: grade 0 never reads as "checked" ----------------------------------------------


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(lambda c: None, id="nothing charted"),
        pytest.param(lambda c: c.score(NeuroScoreKind.GCS, c.t(DAY), 15), id="a GCS only"),
        pytest.param(lambda c: c.sign(S.SEIZURE, c.t(DAY)), id="a seizure only"),
        pytest.param(lambda c: c.ice(c.t(DAY - 2), 10), id="an ICE older than 24 h"),
    ],
)
def test_no_ice_capd_or_rass_in_24_h_is_a_data_gap(chart, setup):
    """SPEC 2.9: the gap when no ICE, CAPD or RASS was charted in the window (a GCS or a seizure
    does not replace the assessment)."""
    setup(chart)
    assessment = _assess(chart)
    assert NO_ASSESSMENT in assessment.data_gaps
    assert not assessment.icans.assessed


def test_no_gap_out_of_scope(make_chart):
    chart = make_chart(therapy=None)
    assert NO_ASSESSMENT not in chart.assess(chart.t(DAY)).data_gaps


# -- ICANS is neurologic dysfunction (SPEC 2.5, 2.6) ---------------------------------------------


def test_icans_grade_1_or_more_is_neurologic_dysfunction(chart):
    ref = chart.rass(chart.t(DAY), -2)
    assessment = _assess(chart)
    (finding,) = assessment.neurologic_findings
    assert (finding.kind, finding.evidence) == (NeurologicKind.ICANS, (ref,))
    assert finding.text == "ICANS grade 2 (RASS -2: awakens to voice)"


def test_icans_never_changes_the_crs_grade(chart):
    chart.drip(Vasopressor.NOREPINEPHRINE, chart.t(DAY, -3), chart.t(DAY, 1), 4)
    chart.sign(S.STATUS_EPILEPTICUS, chart.t(DAY))
    assessment = _assess(chart)
    assert (assessment.grade, assessment.icans.grade) == (2, 4)
    assert all(not d.criterion.startswith("icans-") for d in assessment.current.drivers)
