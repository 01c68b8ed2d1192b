"""ICANS from FHIR as EHRs send it (SPEC 2.9): ICE and CAPD totals, items as components and as
flowsheet rows of their own, "could not be done", configured codes; RASS as numbers and as
charted choices, goal rows, sedative infusions; neurologic signs as Conditions (SNOMED CT,
ICD-10-CM, WHO ICD-10) and as Observations. The last section grades every row of the SPEC 2.9
table end to end, in an adult (ICE) and a child under 12 (CAPD)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from crs_grading import Criterion, assess
from crs_grading.inputs import (
    ConditionCategory,
    EncephalopathyItem,
    EncephalopathyTool,
    GradingInputs,
    NeurologicSign,
    ScreenItem,
)
from fhir_maps import MappingOptions, map_patient_record
from fhir_maps.neurology import NOTE_CAPD_NOT_DONE, NOTE_ICE_NOT_DONE

PATIENT = "pat1"
LOCAL = "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679"  # an Epic-style flowsheet row system
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10_WHO = "http://hl7.org/fhir/sid/icd-10"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
WHEN = "2026-11-27T10:00:00Z"
DAY0 = "2026-11-18T10:00:00Z"
S = NeurologicSign
_ids = iter(range(1, 10_000))


def patient(birth: str = "1970-05-01") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": PATIENT, "gender": "female", "birthDate": birth}


def concept(text: str, *codings: tuple[str, str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {"text": text}
    if codings:
        found["coding"] = [{"system": s, "code": c, "display": d} for s, c, d in codings]
    return found


def obs(name: str, *codings: tuple[str, str, str], when: str = WHEN, **value: Any) -> dict:
    """A flowsheet row: a local code with the row's name, unless codings are given."""
    code = concept(name, *codings) if codings else concept(name, (LOCAL, "3040102", name))
    return {
        "resourceType": "Observation",
        "id": f"o{next(_ids)}",
        "status": "final",
        "code": code,
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": when,
        **value,
    }


def component(name: str, points: float) -> dict[str, Any]:
    return {"code": concept(name, (LOCAL, f"c{next(_ids)}", name)), "valueInteger": points}


def condition(text: str, *codings: tuple[str, str, str], **fields: Any) -> dict[str, Any]:
    resource = {
        "resourceType": "Condition",
        "id": f"c{next(_ids)}",
        "clinicalStatus": concept(
            "Active",
            ("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
        ),
        "code": concept(text, *codings),
        "subject": {"reference": f"Patient/{PATIENT}"},
        "onsetDateTime": WHEN,
    }
    resource.update(fields)
    return resource


def cart() -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration",
        "id": "cart1",
        "status": "completed",
        "medicationCodeableConcept": concept("tisagenlecleucel"),
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": DAY0,
    }


def infusion(name: str, start: str, end: str | None = None) -> dict[str, Any]:
    period = {"start": start, **({"end": end} if end else {})}
    return {
        "resourceType": "MedicationAdministration",
        "id": f"m{next(_ids)}",
        "status": "in-progress" if end is None else "completed",
        "medicationCodeableConcept": concept(name),
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectivePeriod": period,
        "dosage": {"rateQuantity": {"value": 30, "unit": "ug/kg/min"}},
    }


def mapped(*resources: dict, birth: str = "1970-05-01", **options: Any) -> GradingInputs:
    return map_patient_record([patient(birth), *resources], PATIENT, MappingOptions(**options))


def only(values: tuple) -> Any:
    assert len(values) == 1, values
    return values[0]


# -- ICE and CAPD screens ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"valueInteger": 6}, id="valueInteger"),
        pytest.param({"valueQuantity": {"value": 6, "unit": "{score}"}}, id="valueQuantity"),
        pytest.param({"valueString": "6"}, id="valueString"),
    ],
)
@pytest.mark.parametrize(
    "name",
    ["ICE Score", "ICE Total Score", "Immune Effector Cell-Associated Encephalopathy (ICE) Score"],
)
def test_an_ice_total_row_is_read_by_name(name, value):
    screen = only(mapped(obs(name, **value)).encephalopathy_screens)
    assert (screen.tool, screen.total, screen.items) == (EncephalopathyTool.ICE, 6.0, ())


def test_an_ice_total_is_read_by_a_configured_code():
    """SPEC 2.9: ICE has no LOINC code in wide use; an operator configures the EHR's own."""
    row = obs("Neuro Checks 2", (LOCAL, "304010", "Neuro checks 2"), valueInteger=8)
    assert mapped(row).encephalopathy_screens == ()
    screen = only(mapped(row, ice_codes=((LOCAL, "304010"),)).encephalopathy_screens)
    assert (screen.tool, screen.total) == (EncephalopathyTool.ICE, 8.0)


@pytest.mark.parametrize(
    ("kind", "code"), [("capd", "3041"), ("rass", "3042")], ids=["CAPD", "RASS"]
)
def test_capd_and_rass_are_read_by_configured_codes(kind, code):
    row = obs("Row 17", (LOCAL, code, "Row 17"), valueInteger=-2 if kind == "rass" else 10)
    inputs = mapped(row, **{f"{kind}_codes": ((LOCAL, code),)})
    if kind == "capd":
        assert only(inputs.encephalopathy_screens).tool is EncephalopathyTool.CAPD
    else:
        assert only(inputs.consciousness).rass == -2


def test_ice_items_as_components_become_a_screen_of_items():
    row = obs(
        "ICE Assessment",
        component=[
            component("Orientation", 2),
            component("Naming", 3),
            component("Follows commands", 1),
            component("Writing", 0),
            component("Attention", 0),
            component("Comment", 5),  # not an item: ignored
        ],
    )
    screen = only(mapped(row).encephalopathy_screens)
    assert screen.total is None
    assert {(i.item, i.points) for i in screen.items} == {
        (EncephalopathyItem.ICE_ORIENTATION, 2),
        (EncephalopathyItem.ICE_NAMING, 3),
        (EncephalopathyItem.ICE_COMMANDS, 1),
        (EncephalopathyItem.ICE_WRITING, 0),
        (EncephalopathyItem.ICE_ATTENTION, 0),
    }


def test_an_item_out_of_its_range_loses_only_itself():
    row = obs("ICE Assessment", component=[component("Orientation", 6), component("Naming", 1)])
    inputs = mapped(row)
    assert [i.item for i in only(inputs.encephalopathy_screens).items] == [
        EncephalopathyItem.ICE_NAMING
    ]
    assert "outside the ice-orientation range 0-4" in only(inputs.skipped).reason


def test_ice_items_charted_as_rows_of_their_own_make_one_screen():
    rows = [
        obs("ICE - Orientation", valueInteger=1),
        obs("ICE - Naming", valueInteger=1),
        obs("ICE - Writing", valueInteger=0),
        obs("ICE - Orientation", when="2026-11-27T14:00:00Z", valueInteger=4),
    ]
    screens = mapped(*rows).encephalopathy_screens
    assert [(s.time.hour, len(s.items)) for s in screens] == [(10, 3), (14, 1)]


ITEM_ROW_RULE = "SPEC 2.9 (review finding): "
Item = EncephalopathyItem

#: Item rows as EHRs name them, in ASTCT 2019's and Traube's wording, with every separator:
#: (row name, the item it is).
ITEM_ROWS = [
    ("ICE - Follows commands", Item.ICE_COMMANDS),
    ("ICE - Name 3 objects", Item.ICE_NAMING),
    ("ICE - Count backwards from 100 by 10", Item.ICE_ATTENTION),
    ("ICE - Write a standard sentence", Item.ICE_WRITING),
    ("ICE: Orientation to year", Item.ICE_ORIENTATION),
    ("ICE \u2013 Naming", Item.ICE_NAMING),
    ("ICE\u2014Attention", Item.ICE_ATTENTION),
    ("ICE Score: Writing", Item.ICE_WRITING),
    ("ICE item - name three objects", Item.ICE_NAMING),
    ("ICE - Following Commands", Item.ICE_COMMANDS),
    ("CAPD - Eye contact", Item.CAPD_EYE_CONTACT),
    ("CAPD: Aware of surroundings", Item.CAPD_AWARE_OF_SURROUNDINGS),
    ("CAPD \u2013 Communicates needs and wants", Item.CAPD_COMMUNICATES_NEEDS),
    ("CAPD Score - Purposeful actions", Item.CAPD_PURPOSEFUL_ACTIONS),
    ("CAPD: Response time", Item.CAPD_SLOW_RESPONSE),
]


@pytest.mark.parametrize(
    ("name", "item"),
    [
        pytest.param(n, i, id=f"{ITEM_ROW_RULE}'{n}' is the {i.value} item row")
        for n, i in ITEM_ROWS
    ],
)
def test_item_rows_are_read_by_the_item_phrases_after_the_tool_and_any_separator(name, item):
    """One list of item words (the components' ``ICE_ITEM_NAMES``, ``CAPD_ITEM_NAMES``) after the
    tool's name and a space, hyphen, colon, en dash or em dash. Rows in ASTCT 2019's wording
    were dropped silently, so the ICE summed from the rest came out too high."""
    screen = only(mapped(obs(name, valueInteger=1)).encephalopathy_screens)
    assert (screen.tool, screen.total) == (item.tool, None)
    assert screen.items == (ScreenItem(item, 1.0),)


@pytest.mark.parametrize(
    ("name", "tool"),
    [
        pytest.param(n, t, id=f"{ITEM_ROW_RULE}the total row '{n}' is never an item")
        for n, t in [
            ("ICE score", EncephalopathyTool.ICE),
            ("ICE total", EncephalopathyTool.ICE),
            ("ICE Total Score", EncephalopathyTool.ICE),
            ("Immune Effector Cell-Associated Encephalopathy (ICE) Score", EncephalopathyTool.ICE),
            ("CAPD", EncephalopathyTool.CAPD),
            ("CAPD Score", EncephalopathyTool.CAPD),
            ("CAPD total", EncephalopathyTool.CAPD),
        ]
    ],
)
def test_a_total_row_is_never_read_as_an_item(name, tool):
    screen = only(mapped(obs(name, valueInteger=1)).encephalopathy_screens)
    assert (screen.tool, screen.total, screen.items) == (tool, 1.0, ())


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, id=f"{ITEM_ROW_RULE}'{n}' names an item: no total, no item")
        for n in ("ICE Score (follows commands)", "ICE score/orientation", "CAPD total (aware)")
    ],
)
def test_a_total_name_beside_an_item_phrase_is_not_read_as_a_total(name):
    """Every item phrase is a veto word of the totals: a row that names an item is never read
    as the total, even when the item row's form does not fit it."""
    assert mapped(obs(name, valueInteger=1)).encephalopathy_screens == ()


ICE_IN_ASTCT_WORDS = [
    ("ICE - Follows commands", 1),
    ("ICE - Name 3 objects", 0),
    ("ICE - Count backwards from 100 by 10", 0),
    ("ICE - Write a standard sentence", 0),
    ("ICE: Orientation to year", 1),
]
ICE_OF_TWO_NAMED_TWO_WAYS = [
    ("ICE - Orientation", 0),
    ("ICE - Naming", 0),
    ("ICE - Follows commands", 1),
    ("ICE - Write a standard sentence", 1),
    ("ICE - Count backwards from 100 by 10", 0),
]


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param(
            ICE_IN_ASTCT_WORDS,
            id=f"{ITEM_ROW_RULE}five item rows in ASTCT 2019's words sum to ICE 2: ICANS 3",
        ),
        pytest.param(
            ICE_OF_TWO_NAMED_TWO_WAYS,
            id=f"{ITEM_ROW_RULE}five item rows, three in ASTCT 2019's words, sum to ICE 2, "
            "not 'at most 3': ICANS 3, not 2",
        ),
    ],
)
def test_ice_item_rows_in_astct_words_sum_to_the_true_total_end_to_end(rows):
    """Review finding, end to end: the rows not read were counted as earned, so five rows of
    a true ICE 2 read "2 of 5 items charted: at most 3" (ICANS 2). Every row is read: ICE 2,
    ICANS 3, and no gap about missing items."""
    charted = [obs(name, valueInteger=points) for name, points in rows]
    assessment = assess(mapped(cart(), *charted), AS_OF)
    (driver,) = assessment.icans.current.drivers
    assert (driver.criterion, driver.grade) == (Criterion.ICANS_ICE_SCORE, 3)
    assert driver.text == "ICE score 2/10 (sum of its 5 items)"
    assert assessment.icans.grade == 3
    assert not any("some missing" in gap for gap in assessment.data_gaps)


def test_a_total_row_wins_over_item_rows_of_the_same_time():
    rows = [obs("ICE Score", valueInteger=4), obs("ICE Score - Orientation", valueInteger=1)]
    screen = only(mapped(*rows).encephalopathy_screens)
    assert (screen.total, screen.items) == (4.0, ())


def test_an_ice_score_out_of_range_is_skipped_and_reported():
    inputs = mapped(obs("ICE Score", valueInteger=14))
    assert inputs.encephalopathy_screens == ()
    assert "outside the ICE range 0-10" in only(inputs.skipped).reason


@pytest.mark.parametrize(
    ("name", "value", "unable", "noted"),
    [
        ("ICE Score", {"valueString": "Unable to perform - patient unarousable"}, True, False),
        ("ICE Score", {"valueCodeableConcept": concept("Not done: obtunded")}, True, False),
        ("ICE Score", {"dataAbsentReason": concept("Patient unresponsive")}, True, False),
        ("ICE Score", {"valueString": "Unable to perform (intubated)"}, False, True),
        ("CAPD", {"valueString": "Unable to assess"}, True, False),
    ],
    ids=[
        "ICE unable, unarousable",
        "ICE not done, obtunded",
        "ICE data absent, unresponsive",
        "ICE not done without saying unarousable: a note",
        "CAPD unable to assess",
    ],
)
def test_a_screen_charted_as_not_done(name, value, unable, noted):
    """ASTCT 2019: ICE 0 because unarousable is grade 4; CAPD unable to perform is grade 4."""
    inputs = mapped(obs(name, **value))
    if unable:
        assert only(inputs.encephalopathy_screens).unable_to_perform
    else:
        assert inputs.encephalopathy_screens == ()
    assert (NOTE_ICE_NOT_DONE in inputs.notes) is noted


DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
NOT_DONE_RULE = "SPEC 2.9 (review finding): "

#: (screen row, its value, graded "unable to perform" (grade 4), the note when not graded).
SCREENS_NOT_DONE = [
    pytest.param(
        "CAPD",
        {"valueString": "Not done - patient off unit for MRI"},
        False,
        NOTE_CAPD_NOT_DONE,
        id=NOT_DONE_RULE + "a CAPD not done because the child was off the unit is no score",
    ),
    pytest.param(
        "CAPD Score",
        {"valueString": "Not done"},
        False,
        NOTE_CAPD_NOT_DONE,
        id=NOT_DONE_RULE + "a plain CAPD 'not done' is no score, not 'unable to perform'",
    ),
    pytest.param(
        "CAPD",
        {"valueCodeableConcept": concept("Not performed")},
        False,
        NOTE_CAPD_NOT_DONE,
        id=NOT_DONE_RULE + "a CAPD 'not performed' choice is no score",
    ),
    pytest.param(
        "CAPD",
        {
            "dataAbsentReason": concept(
                "Not Performed", (DATA_ABSENT, "not-performed", "Not Performed")
            )
        },
        False,
        NOTE_CAPD_NOT_DONE,
        id=NOT_DONE_RULE + "a CAPD with dataAbsentReason not-performed is no score",
    ),
    pytest.param(
        "CAPD",
        {"valueString": "Unable to assess - patient off unit"},
        False,
        NOTE_CAPD_NOT_DONE,
        id=NOT_DONE_RULE + "a reason that is not the child's state (off unit) wins over 'unable'",
    ),
    pytest.param(
        "CAPD",
        {"valueString": "Deferred, patient sleeping"},
        False,
        NOTE_CAPD_NOT_DONE,
        id=NOT_DONE_RULE + "a CAPD deferred while the child sleeps is no score",
    ),
    pytest.param(
        "CAPD",
        {"valueString": "Not done: unable to perform"},
        True,
        None,
        id="SPEC 2.9: a CAPD 'unable to perform' is grade 4, even written beside 'not done'",
    ),
    pytest.param(
        "CAPD",
        {"valueString": "Not done - unarousable"},
        True,
        None,
        id="SPEC 2.9: a CAPD not done because the child is unarousable is grade 4",
    ),
    pytest.param(
        "CAPD",
        {"valueString": "Sleeping, unable to arouse"},
        True,
        None,
        id="SPEC 2.9: 'unable to arouse' wins over 'sleeping' (grade 4)",
    ),
    pytest.param(
        "ICE Score",
        {"valueString": "Not done - patient off unit for MRI"},
        False,
        NOTE_ICE_NOT_DONE,
        id="SPEC 2.9: an ICE not done because the patient was off the unit is no score",
    ),
    pytest.param(
        "ICE Score",
        {"valueString": "Not done - unarousable"},
        True,
        None,
        id="SPEC 2.9: an ICE not done because the patient is unarousable is grade 4",
    ),
]


@pytest.mark.parametrize(("name", "value", "unable", "note"), SCREENS_NOT_DONE)
def test_one_rule_reads_why_an_ice_or_capd_has_no_score(name, value, unable, note):
    """One rule for both tools: unarousable is grade 4; CAPD "unable to perform" is grade 4; a
    screen not attempted (off the unit, asleep, refused) or only "not done" has no score, and
    the tool's note says so (it becomes a data gap)."""
    inputs = mapped(obs(name, **value), birth=CHILD if "CAPD" in name else ADULT)
    if unable:
        assert only(inputs.encephalopathy_screens).unable_to_perform
        assert inputs.notes == ()
    else:
        assert inputs.encephalopathy_screens == ()
        assert inputs.notes == (note,)
    assert inputs.skipped == ()


def test_a_capd_not_done_off_the_unit_is_not_icans_grade_4_for_an_8_year_old():
    """Review finding, end to end: an 8-year-old's CAPD "Not done - patient off unit for MRI"
    was ICANS grade 4 "patient unarousable". It is no score: ICANS 0, no neurologic dysfunction,
    and the gaps say the CAPD was not used and no assessment was charted (SPEC 2.9)."""
    capd = obs("CAPD", valueString="Not done - patient off unit for MRI")
    assessment = assess(mapped(cart(), capd, birth=CHILD), AS_OF)
    assert (assessment.icans.grade, assessment.icans.peak.grade) == (0, 0)
    assert assessment.neurologic_findings == ()
    assert NOTE_CAPD_NOT_DONE in assessment.data_gaps
    assert "no ICE or consciousness assessment in the last 24 h" in assessment.data_gaps


ZERO_RULE = "SPEC 2.9 G4 (review finding): "
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

#: An ICE of 0 and the words charted beside it: (extra elements, unarousable, the rule).
ICE_ZERO_WORDS = [
    ({"note": [{"text": "patient unarousable"}]}, True, "a note 'patient unarousable'"),
    (
        {"note": [{"text": "Reassessed at 10:00"}, {"text": "Could not do ICE: obtunded"}]},
        True,
        "a second note 'obtunded'",
    ),
    ({"interpretation": [concept("Patient unarousable")]}, True, "an interpretation text"),
    (
        {"interpretation": [concept("", (INTERPRETATION, "A", "Abnormal - unresponsive"))]},
        True,
        "an interpretation display 'unresponsive'",
    ),
    (
        {"component": [{"code": concept("Reason"), "valueString": "Comatose"}]},
        True,
        "a component's valueString 'Comatose'",
    ),
    (
        {"component": [{"code": concept("Comment"), "valueCodeableConcept": concept("Stupor")}]},
        True,
        "a component's choice 'Stupor'",
    ),
    ({"note": [{"text": "Awake, global aphasia"}]}, False, "awake with aphasia is ICE 0, grade 3"),
    ({"note": [{"text": "Not obtunded; global aphasia"}]}, False, "'not obtunded' is negated"),
    ({"note": [{"text": "Glasgow Coma Scale 14"}]}, False, "the Glasgow Coma Scale is no coma"),
    (
        {"note": [{"text": "Awake, global aphasia, unresponsive to commands"}]},
        False,
        "'unresponsive to commands' (awake, cannot do the test: grade 3; final review)",
    ),
    ({"note": [{"text": "Unresponsive to voice"}]}, False, "'unresponsive to voice'"),
    ({"note": [{"text": "Unresponsive to pain"}]}, True, "'unresponsive to pain'"),
    ({}, False, "no words beside it"),
]


@pytest.mark.parametrize(
    ("extra", "unarousable"),
    [pytest.param(e, u, id=f"{ZERO_RULE}ICE 0 with {why}") for e, u, why in ICE_ZERO_WORDS],
)
def test_an_ice_of_0_with_words_saying_unarousable_is_unable_to_perform(extra, unarousable):
    """SPEC 2.9 G4: ICE "0 because the patient is unarousable". An ICE of 0 whose note,
    interpretation or component words say so was graded 3 (only value[x] was read)."""
    screen = only(mapped(obs("ICE Score", valueInteger=0, **extra)).encephalopathy_screens)
    assert (screen.total, screen.unable_to_perform) == (0.0, unarousable)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("ICE Score", 1, id=f"{ZERO_RULE}an ICE of 1 is never read as unarousable"),
        pytest.param("ICE Score", 7, id=f"{ZERO_RULE}an ICE of 7 is never read as unarousable"),
        pytest.param("CAPD", 0, id="SPEC 2.9: a CAPD of 0 (no delirium) is never unarousable"),
    ],
)
def test_the_words_are_read_only_beside_an_ice_of_0(name, value):
    screen = only(
        mapped(
            obs(name, valueInteger=value, note=[{"text": "patient unarousable"}])
        ).encephalopathy_screens
    )
    assert (screen.total, screen.unable_to_perform) == (float(value), False)


@pytest.mark.parametrize(
    ("extra", "grade", "text"),
    [
        pytest.param(
            {"note": [{"text": "patient unarousable"}]},
            4,
            "ICE score 0/10: patient unarousable",
            id=f"{ZERO_RULE}ICE 0 with a note 'patient unarousable' and no RASS is ICANS 4",
        ),
        pytest.param(
            {"interpretation": [concept("patient unarousable")]},
            4,
            "ICE score 0/10: patient unarousable",
            id=f"{ZERO_RULE}ICE 0 with the interpretation 'patient unarousable' is ICANS 4",
        ),
        pytest.param(
            {"note": [{"text": "awake, global aphasia"}]},
            3,
            "ICE score 0/10",
            id="SPEC 2.9: ICE 0 in an awake patient with global aphasia stays ICANS 3",
        ),
    ],
)
def test_an_ice_of_0_because_unarousable_end_to_end(extra, grade, text):
    ice = obs("ICE Score", valueInteger=0, **extra)
    assessment = assess(mapped(cart(), ice), AS_OF)
    (driver,) = assessment.icans.current.drivers
    assert (assessment.icans.grade, driver.grade, driver.text) == (grade, grade, text)
    assert driver.evidence == (f"Observation/{ice['id']}",)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(
            "Not done: unable to perform",
            "CAPD not possible: unable to perform",
            id="SPEC 2.9 (review finding): a CAPD 'unable to perform' is ICANS 4 and says "
            "'unable to perform', not 'patient unarousable'",
        ),
        pytest.param(
            "Unable to complete",
            "CAPD not possible: unable to perform",
            id="SPEC 2.9 (review finding): a CAPD 'unable to complete' says 'unable to perform'",
        ),
        pytest.param(
            "Not done - unarousable",
            "CAPD not possible: patient unarousable",
            id="SPEC 2.9: a CAPD not done because the child is unarousable says so",
        ),
    ],
)
def test_a_capd_not_possible_says_what_was_charted_end_to_end(value, text):
    capd = obs("CAPD", valueString=value)
    assessment = assess(mapped(cart(), capd, birth=CHILD), AS_OF)
    (driver,) = assessment.icans.current.drivers
    assert (assessment.icans.grade, driver.criterion, driver.text) == (
        4,
        Criterion.ICANS_CAPD_SCORE,
        text,
    )
    (finding,) = assessment.neurologic_findings
    assert finding.text == f"ICANS grade 4 ({text})"


@pytest.mark.parametrize(
    "name",
    ["ICE Score Goal", "ICE Score Due", "Seizure precautions", "Goal RASS", "CAM-ICU RASS LOC"],
)
def test_rows_that_only_resemble_them_are_not_read(name):
    inputs = mapped(obs(name, valueInteger=1))
    assert inputs.encephalopathy_screens == () and inputs.consciousness == ()
    assert inputs.neurologic_signs == () and inputs.skipped == ()


def test_capd_items_as_components():
    row = obs(
        "Cornell Assessment of Pediatric Delirium",
        component=[component("Eye contact", 3), component("Restless", 2)],
    )
    screen = only(mapped(row, birth="2017-01-01").encephalopathy_screens)
    assert (screen.tool, len(screen.items)) == (EncephalopathyTool.CAPD, 2)


# -- RASS ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "rass"),
    [
        pytest.param(obs("RASS", valueInteger=-2), -2, id="valueInteger"),
        pytest.param(
            obs(
                "Richmond Agitation Sedation Scale",
                (SNOMED, "457441000124102", "Richmond Agitation-Sedation Scale"),
                valueInteger=-4,
            ),
            -4,
            id="SNOMED CT 457441000124102",
        ),
        pytest.param(
            obs("RASS", valueCodeableConcept=concept("-2 Light sedation")), -2, id="a choice"
        ),
        pytest.param(obs("RASS", valueString="+1 Restless"), 1, id="a plus sign"),
        pytest.param(obs("RASS", valueString="\u22123 Moderate sedation"), -3, id="unicode minus"),
        pytest.param(obs("RASS", valueString="Deep sedation"), -4, id="a level by its name"),
        pytest.param(obs("RASS", valueString="0 Alert and calm"), 0, id="zero"),
    ],
)
def test_rass_as_ehrs_chart_it(row, rass):
    assert only(mapped(row).consciousness).rass == rass


def test_a_goal_rass_sent_with_the_scale_code_is_not_a_reading():
    goal = obs("Goal RASS", (SNOMED, "457441000124102", "Goal RASS"), valueInteger=-1)
    assert mapped(goal).consciousness == ()


def test_rass_out_of_range_is_skipped_and_reported():
    inputs = mapped(obs("RASS", valueInteger=-6))
    assert inputs.consciousness == ()
    assert "outside the RASS range" in only(inputs.skipped).reason


@pytest.mark.parametrize(
    ("drip", "sedated"),
    [
        pytest.param(
            infusion("Propofol 10 mg/mL infusion", "2026-11-27T06:00:00Z"), True, id="running"
        ),
        pytest.param(
            infusion(
                "dexmedetomidine (PRECEDEX) infusion",
                "2026-11-27T06:00:00Z",
                "2026-11-27T11:00:00Z",
            ),
            True,
            id="covering the time",
        ),
        pytest.param(
            infusion("midazolam infusion", "2026-11-27T02:00:00Z", "2026-11-27T08:00:00Z"),
            False,
            id="stopped before",
        ),
        pytest.param(
            infusion("heparin infusion", "2026-11-27T06:00:00Z"), False, id="not a sedative"
        ),
    ],
)
def test_rass_during_a_continuous_sedative_infusion_is_flagged(drip, sedated):
    """SPEC 2.9: under continuous sedation RASS still grades, and sedation confounds it."""
    reading = only(mapped(obs("RASS", valueInteger=-4), drip).consciousness)
    assert reading.sedated is sedated


# -- Neurologic signs: Conditions ----------------------------------------------------------------

CONDITIONS = [
    ("R56.9", ICD10_CM, "Unspecified convulsions", S.SEIZURE),
    ("R56.01", ICD10_CM, "Complex febrile convulsions", S.SEIZURE),
    (
        "G40.909",
        ICD10_CM,
        "Epilepsy, unspecified, not intractable, without status epilepticus",
        S.SEIZURE,
    ),
    (
        "G40.911",
        ICD10_CM,
        "Epilepsy, unspecified, intractable, with status epilepticus",
        S.STATUS_EPILEPTICUS,
    ),
    (
        "G40.A01",
        ICD10_CM,
        "Absence epileptic syndrome, not intractable, with status epilepticus",
        S.STATUS_EPILEPTICUS,
    ),
    (
        "G40.813",
        ICD10_CM,
        "Lennox-Gastaut syndrome, intractable, with status epilepticus",
        S.STATUS_EPILEPTICUS,
    ),
    ("G41.0", ICD10_WHO, "Grand mal status epilepticus", S.STATUS_EPILEPTICUS),
    ("G81.94", ICD10_CM, "Hemiplegia, unspecified affecting left nondominant side", S.HEMIPARESIS),
    ("G82.22", ICD10_CM, "Paraplegia, incomplete", S.PARAPARESIS),
    ("G82.50", ICD10_CM, "Quadriplegia, unspecified", S.QUADRIPARESIS),
    ("G93.6", ICD10_CM, "Cerebral edema", S.CEREBRAL_EDEMA),
    (
        "H47.11",
        ICD10_CM,
        "Papilledema associated with increased intracranial pressure",
        S.PAPILLEDEMA,
    ),
    ("H49.23", ICD10_CM, "Sixth [abducent] nerve palsy, bilateral", S.CRANIAL_NERVE_VI_PALSY),
    ("91175000", SNOMED, "Seizure", S.SEIZURE),
    ("230456007", SNOMED, "Status epilepticus", S.STATUS_EPILEPTICUS),
    ("50582007", SNOMED, "Hemiplegia", S.HEMIPARESIS),
    ("2032001", SNOMED, "Cerebral edema", S.CEREBRAL_EDEMA),
]


@pytest.mark.parametrize(
    ("code", "system", "display", "sign"),
    CONDITIONS,
    ids=[f"{c} {d} is {s}" for c, _, d, s in CONDITIONS],
)
def test_condition_codes(code, system, display, sign):
    found = only(mapped(condition(display, (system, code, display))).neurologic_signs)
    assert found.sign is sign


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("Diffuse cerebral edema", S.DIFFUSE_CEREBRAL_EDEMA),
        ("Focal cerebral edema, left frontal", S.FOCAL_CEREBRAL_EDEMA),
        ("Cerebral edema", S.CEREBRAL_EDEMA),
    ],
)
def test_the_extent_of_cerebral_edema_comes_from_its_text(text, sign):
    """SPEC 2.9: G93.6 with no "focal" or "diffuse" is cerebral edema of unstated extent."""
    coded = condition(text, (ICD10_CM, "G93.6", "Cerebral edema"))
    assert only(mapped(coded).neurologic_signs).sign is sign


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("Decorticate posturing", S.POSTURING),
        ("Cushing's triad", S.CUSHINGS_TRIAD),
        ("Left sixth nerve palsy", S.CRANIAL_NERVE_VI_PALSY),
        ("Nonconvulsive status epilepticus", S.STATUS_EPILEPTICUS),
        ("Papilledema", S.PAPILLEDEMA),
    ],
)
def test_condition_names_without_codes(text, sign):
    assert only(mapped(condition(text)).neurologic_signs).sign is sign


def test_a_refuted_or_entered_in_error_sign_is_not_an_input():
    verification = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
    for status in ("refuted", "entered-in-error"):
        resource = condition(
            "Seizure", verificationStatus=concept(status, (verification, status, status))
        )
        assert mapped(resource).neurologic_signs == ()


def test_a_sign_keeps_its_onset_and_recorded_date_apart():
    dated = condition(
        "Seizure", onsetDateTime="2026-11-27T03:00:00Z", recordedDate="2026-11-27T09:00:00Z"
    )
    undated = condition("Seizure", recordedDate="2026-11-27T09:00:00Z")
    del undated["onsetDateTime"]
    first, second = mapped(dated, undated).neurologic_signs
    assert (first.onset.hour, first.recorded.hour) == (3, 9)
    assert (second.onset, second.recorded.hour) == (None, 9)


RESOLVED = concept(
    "Resolved",
    ("http://terminology.hl7.org/CodeSystem/condition-clinical", "resolved", "Resolved"),
)


@pytest.mark.parametrize(
    ("fields", "active", "abatement"),
    [
        pytest.param({}, True, None, id="SPEC 2.9 (review finding): an active Condition"),
        pytest.param(
            {"clinicalStatus": RESOLVED, "abatementDateTime": "2026-11-28T06:00:00Z"},
            False,
            "2026-11-28T06:00:00+00:00",
            id="SPEC 2.9 (review finding): a resolved Condition with its abatement",
        ),
        pytest.param(
            {"clinicalStatus": RESOLVED}, False, None, id="a resolved one without abatement"
        ),
        pytest.param(
            {"clinicalStatus": None},
            False,
            None,
            id="SPEC 2.9 (final review): no clinicalStatus (an encounter diagnosis) is not said "
            "to go on: the state counts at its time only",
        ),
    ],
)
def test_a_sign_carries_its_conditions_clinical_status_and_abatement(fields, active, abatement):
    """A state lasts as its Condition does (SPEC 2.9): the sign carries the clinical status and
    the abatement, read as for every Condition (``ConditionFinding``)."""
    resource = condition("Diffuse cerebral edema", **fields)
    if resource.get("clinicalStatus", "") is None:
        del resource["clinicalStatus"]
    found = only(mapped(resource).neurologic_signs)
    assert found.active is active
    assert (found.abatement.isoformat() if found.abatement else None) == abatement


def test_a_sign_observation_is_a_point_in_time():
    found = only(mapped(obs("Cerebral edema", valueString="Diffuse")).neurologic_signs)
    assert (found.active, found.abatement) == (False, None)


NOT_NOW_RULE = "SPEC 2.5 and 2.9 (review finding): "

#: Condition names that name a neurologic term but are a plan, a risk, a history or an absence.
NOT_NEUROLOGIC_DYSFUNCTION = [
    pytest.param("Seizure prophylaxis", id=NOT_NOW_RULE + "'prophylaxis' is a plan, no seizure"),
    pytest.param("No seizure activity", id=NOT_NOW_RULE + "'No seizure activity' is an absence"),
    pytest.param("Encephalopathy ruled out", id=NOT_NOW_RULE + "'ruled out' is an absence"),
    pytest.param("History of seizure", id=NOT_NOW_RULE + "'History of' is the past"),
    pytest.param("Seizure precautions", id=NOT_NOW_RULE + "'precautions' is a plan"),
    pytest.param("Risk for seizures", id=NOT_NOW_RULE + "'Risk for' is a risk"),
    pytest.param("At risk for delirium", id=NOT_NOW_RULE + "'At risk for' is a risk"),
    pytest.param("Seizure risk", id=NOT_NOW_RULE + "'risk' after the name is a risk"),
    pytest.param("Rule out encephalopathy", id=NOT_NOW_RULE + "'Rule out' is not yet a finding"),
    pytest.param("Family history of seizures", id=NOT_NOW_RULE + "a family history"),
    pytest.param("h/o seizures", id=NOT_NOW_RULE + "'h/o' is the past"),
    pytest.param("Denies confusion", id=NOT_NOW_RULE + "'Denies' is an absence"),
    pytest.param("Negative for encephalopathy", id=NOT_NOW_RULE + "'Negative for' is an absence"),
    pytest.param("ICANS prophylaxis", id=NOT_NOW_RULE + "ICANS prophylaxis is a plan"),
    pytest.param("Anti-seizure medication", id=NOT_NOW_RULE + "a seizure medication is no seizure"),
    pytest.param("Delirium precautions", id=NOT_NOW_RULE + "'precautions' on any neuro term"),
    pytest.param(
        "Encephalopathy, ruled out",
        id=NOT_NOW_RULE + "'ruled out' denies the name in any clause of the text",
    ),
    pytest.param("Seizure - excluded", id=NOT_NOW_RULE + "'excluded' in any clause"),
]


@pytest.mark.parametrize("text", NOT_NEUROLOGIC_DYSFUNCTION)
def test_a_neurologic_name_that_is_a_plan_risk_history_or_absence_is_not_an_input(text):
    """One family of negations and vetoes for the SPEC 2.5 neurologic Conditions and the SPEC
    2.9 signs: neither neurologic dysfunction nor an ICANS sign."""
    inputs = mapped(condition(text))
    assert [c for c in inputs.conditions if c.category is ConditionCategory.NEUROLOGIC] == []
    assert inputs.neurologic_signs == ()


#: A real neurologic finding written beside a negation of something else: (text, the SPEC 2.5
#: term, the ICANS sign or None).
NEUROLOGIC_DYSFUNCTION = [
    pytest.param(
        "New onset seizure, no prior history",
        "seizure",
        S.SEIZURE,
        id=NOT_NOW_RULE + "'no prior history' negates the history, not the seizure",
    ),
    pytest.param(
        "New onset seizure with no prior history",
        "seizure",
        S.SEIZURE,
        id=NOT_NOW_RULE + "a negation reaches forward only: the seizure before it stays",
    ),
    pytest.param(
        "Seizure, no history of epilepsy",
        "seizure",
        S.SEIZURE,
        id=NOT_NOW_RULE + "'no history of epilepsy' is about epilepsy",
    ),
    pytest.param(
        "Focal seizure without loss of consciousness",
        "seizure",
        S.SEIZURE,
        id=NOT_NOW_RULE + "'without' negates what follows, not the seizure",
    ),
    pytest.param(
        "Breakthrough seizure, not on prophylaxis",
        "seizure",
        S.SEIZURE,
        id=NOT_NOW_RULE + "a negated 'prophylaxis' vetoes nothing",
    ),
    pytest.param(
        "History of seizures; new onset encephalopathy",
        "encephalopathy",
        None,
        id=NOT_NOW_RULE + "a negation ends with its clause: the encephalopathy after it stays",
    ),
    pytest.param(
        "Delirium, no seizure activity",
        "delirium",
        None,
        id=NOT_NOW_RULE + "the delirium stays, the negated seizure does not",
    ),
    pytest.param(
        "Papilledema, no cerebral edema",
        None,
        S.PAPILLEDEMA,
        id=NOT_NOW_RULE + "'no cerebral edema' negates the edema, not the papilledema",
    ),
    pytest.param(
        "Medication-induced delirium",
        "delirium",
        None,
        id=NOT_NOW_RULE + "'medication' alone vetoes nothing (DSM-5 medication-induced delirium)",
    ),
    # found in the final review: a veto in another clause took a real finding away
    pytest.param(
        "Seizure, on levetiracetam prophylaxis",
        "seizure",
        S.SEIZURE,
        id=NOT_NOW_RULE + "'prophylaxis' in another clause: the seizure stays",
    ),
    pytest.param(
        "Delirium, CAM-ICU screening positive",
        "delirium",
        None,
        id=NOT_NOW_RULE + "'screening' in another clause: the delirium stays",
    ),
    pytest.param(
        "ICANS grade 2, plan: dexamethasone",
        "ICANS",
        None,
        id=NOT_NOW_RULE + "'plan' in another clause: the ICANS stays",
    ),
]


@pytest.mark.parametrize(("text", "term", "sign"), NEUROLOGIC_DYSFUNCTION)
def test_a_neurologic_finding_beside_a_negation_of_something_else_counts(text, term, sign):
    inputs = mapped(condition(text))
    neurologic = [c.name for c in inputs.conditions if c.category is ConditionCategory.NEUROLOGIC]
    assert neurologic == ([term] if term else [])
    assert [finding.sign for finding in inputs.neurologic_signs] == ([sign] if sign else [])


@pytest.mark.parametrize(
    ("text", "icans_grade", "neurologic"),
    [
        pytest.param(
            "Seizure prophylaxis",
            0,
            False,
            id=NOT_NOW_RULE + "'Seizure prophylaxis' is no neurologic dysfunction and no ICANS",
        ),
        pytest.param(
            "New onset seizure, no prior history",
            3,
            True,
            id=NOT_NOW_RULE + "'New onset seizure, no prior history' is ICANS 3, neurologic",
        ),
    ],
)
def test_neurologic_condition_names_end_to_end(text, icans_grade, neurologic):
    assessment = assess(mapped(cart(), condition(text)), AS_OF)
    assert assessment.icans.grade == icans_grade
    assert bool(assessment.neurologic_findings) is neurologic


# -- Neurologic signs: Observations --------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "sign"),
    [
        pytest.param(
            obs("Seizure activity", valueCodeableConcept=concept("Yes")), S.SEIZURE, id="Yes"
        ),
        pytest.param(obs("Seizure activity", valueBoolean=True), S.SEIZURE, id="valueBoolean true"),
        pytest.param(
            obs(
                "Seizure activity",
                valueString="Generalized tonic-clonic, 7 minutes: status epilepticus",
            ),
            S.STATUS_EPILEPTICUS,
            id="a description that says status epilepticus",
        ),
        pytest.param(
            obs(
                "Seizure",
                (SNOMED, "91175000", "Seizure"),
                valueCodeableConcept=concept("Present", (SNOMED, "52101004", "Present")),
            ),
            S.SEIZURE,
            id="SNOMED CT code, present",
        ),
        pytest.param(
            obs("Papilledema", valueString="present bilaterally"), S.PAPILLEDEMA, id="papilledema"
        ),
        pytest.param(obs("Posturing", valueString="Decerebrate"), S.POSTURING, id="posturing"),
    ],
)
def test_sign_observations_that_say_present(row, sign):
    found = only(mapped(row).neurologic_signs)
    assert (found.sign, found.onset.isoformat()) == (sign, "2026-11-27T10:00:00+00:00")


@pytest.mark.parametrize(
    "value",
    [
        {"valueCodeableConcept": concept("No")},
        {"valueBoolean": False},
        {"valueString": "None"},
        {"valueCodeableConcept": concept("Absent", (SNOMED, "2667000", "Absent"))},
    ],
    ids=["No", "false", "None", "SNOMED CT Absent"],
)
def test_sign_observations_that_say_absent(value):
    assert mapped(obs("Seizure activity", **value)).neurologic_signs == ()


SIGN_VALUE_RULE = "SPEC 2.9 (review finding): "

#: A sign row whose value describes the sign, with a negation of something else in it.
DESCRIBED_SIGNS = [
    pytest.param(
        "Seizure activity",
        "Generalized tonic-clonic lasting 7 minutes, not resolved with lorazepam",
        S.SEIZURE,
        id=SIGN_VALUE_RULE + "'not resolved with lorazepam' describes a seizure, not its absence",
    ),
    pytest.param(
        "Seizure activity",
        "Generalized tonic-clonic, no incontinence",
        S.SEIZURE,
        id=SIGN_VALUE_RULE + "'no incontinence' describes a seizure, not its absence",
    ),
    pytest.param(
        "Seizure activity",
        "Focal seizure, resolved after 1 minute",
        S.SEIZURE,
        id=SIGN_VALUE_RULE + "a seizure that resolved is still a seizure (grade 3 row)",
    ),
    pytest.param(
        "Cerebral edema",
        "Diffuse, no midline shift",
        S.DIFFUSE_CEREBRAL_EDEMA,
        id=SIGN_VALUE_RULE + "'no midline shift' describes edema, not its absence",
    ),
    pytest.param(
        "Hemiparesis",
        "Right-sided, normal sensation",
        S.HEMIPARESIS,
        id=SIGN_VALUE_RULE + "'normal sensation' describes a hemiparesis, not its absence",
    ),
    pytest.param(
        "Papilledema",
        "Bilateral, no hemorrhages",
        S.PAPILLEDEMA,
        id=SIGN_VALUE_RULE + "'no hemorrhages' describes papilledema, not its absence",
    ),
    pytest.param(
        "Posturing",
        "Decorticate, not resolved",
        S.POSTURING,
        id=SIGN_VALUE_RULE + "'not resolved' describes posturing, not its absence",
    ),
    pytest.param(
        "Seizure activity",
        "No incontinence during seizure",
        S.SEIZURE,
        id=SIGN_VALUE_RULE + "a negation of something else before the sign's name is no absence",
    ),
    pytest.param(
        "Posturing",
        "No seizure, decorticate posturing",
        S.POSTURING,
        id=SIGN_VALUE_RULE + "a negated sign beside the row's own sign is no absence",
    ),
]


@pytest.mark.parametrize(("name", "value", "sign"), DESCRIBED_SIGNS)
def test_a_value_that_describes_the_sign_is_the_sign(name, value, sign):
    found = {finding.sign for finding in mapped(obs(name, valueString=value)).neurologic_signs}
    assert sign in found


#: Values that are wholly a negative answer, in the ways EHRs chart them.
NEGATIVE_VALUES = [
    pytest.param({"valueString": "No"}, id="'No'"),
    pytest.param({"valueString": "NO."}, id="'NO.': case and punctuation aside"),
    pytest.param({"valueString": " none! "}, id="'none!'"),
    pytest.param({"valueString": "Absent"}, id="'Absent'"),
    pytest.param({"valueString": "Negative"}, id="'Negative'"),
    pytest.param({"valueString": "Not present"}, id="'Not present'"),
    pytest.param({"valueString": "Resolved"}, id="'Resolved' as the whole answer"),
    pytest.param({"valueString": "Normal"}, id="'Normal' as the whole answer"),
    pytest.param({"valueString": "WNL"}, id="'WNL'"),
    pytest.param({"valueString": "W.N.L."}, id="'W.N.L.'"),
    pytest.param({"valueString": "Within normal limits"}, id="'Within normal limits'"),
    pytest.param({"valueString": "Denies"}, id="'Denies'"),
    pytest.param({"valueString": "No seizure activity"}, id="'No seizure activity'"),
    pytest.param({"valueString": "No seizure activity noted."}, id="'No seizure activity noted.'"),
    pytest.param({"valueString": "No new seizures"}, id="'No new seizures'"),
    pytest.param({"valueString": "Negative for seizures"}, id="'Negative for seizures'"),
    pytest.param({"valueString": "Seizures: none"}, id="'Seizures: none' (the name, then none)"),
    pytest.param({"valueString": "No, resolved"}, id="'No, resolved': every clause negative"),
    # found in the final review: a time after the negated sign, or after "none", made a seizure
    pytest.param({"valueString": "No seizures overnight"}, id="'No seizures overnight'"),
    pytest.param({"valueString": "None this shift"}, id="'None this shift'"),
    pytest.param(
        {"valueString": "No seizure activity this shift"}, id="'No seizure activity this shift'"
    ),
    pytest.param({"valueString": "None since 0800"}, id="'None since 0800'"),
    pytest.param({"valueString": "no seizures noted by RN"}, id="'no seizures noted by RN'"),
    pytest.param({"valueString": "Negative this shift"}, id="'Negative this shift'"),
    pytest.param({"valueString": "Nil overnight"}, id="'Nil overnight'"),
    pytest.param({"valueCodeableConcept": concept("No")}, id="a choice 'No'"),
    pytest.param(
        {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "373067005"}]}},
        id="SNOMED CT 373067005 No, with no words",
    ),
    pytest.param(
        {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "260385009"}]}},
        id="SNOMED CT 260385009 Negative, with no words",
    ),
    pytest.param(
        {"valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA32-8"}]}},
        id="LOINC LA32-8 No, with no words",
    ),
    pytest.param(
        {"valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA9634-2"}]}},
        id="LOINC LA9634-2 Absent, with no words",
    ),
    pytest.param(
        {"valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA6577-6"}]}},
        id="LOINC LA6577-6 Negative, with no words",
    ),
]


@pytest.mark.parametrize("value", NEGATIVE_VALUES)
def test_a_value_that_is_wholly_a_negative_answer_is_no_sign(value):
    """SPEC 2.9: absent only when the whole value is a negative answer."""
    assert mapped(obs("Seizure activity", **value)).neurologic_signs == ()


@pytest.mark.parametrize(
    ("row", "value"),
    [
        pytest.param("Cerebral edema", "No evidence of cerebral edema", id="cerebral edema"),
        pytest.param("Cerebral edema", "No diffuse cerebral edema", id="an extent negated"),
        pytest.param("Papilledema", "Papilledema absent", id="papilledema, the answer after"),
        pytest.param("Posturing", "None observed", id="posturing"),
        pytest.param("Hemiparesis", "Normal", id="hemiparesis"),
    ],
)
def test_every_sign_row_reads_a_negative_answer_alike(row, value):
    assert mapped(obs(row, valueString=value)).neurologic_signs == ()


@pytest.mark.parametrize(
    ("value", "present"),
    [
        pytest.param({"valueString": "Unknown"}, True, id="'Unknown' in words: kept, as before"),
        pytest.param({"valueString": "Unable to assess"}, True, id="'Unable to assess': as before"),
        pytest.param(
            {"dataAbsentReason": concept("Unknown")}, False, id="a dataAbsentReason: as before"
        ),
        pytest.param(
            {"valueCodeableConcept": concept("Yes", (LOINC, "LA33-6", "Yes"))},
            True,
            id="LOINC LA33-6 Yes",
        ),
    ],
)
def test_unknown_answers_are_read_as_before(value, present):
    """The review finding changes negative answers only: an unclear answer reads as it did."""
    assert bool(mapped(obs("Seizure activity", **value)).neurologic_signs) is present


@pytest.mark.parametrize(
    ("name", "value", "grade", "criterion"),
    [
        pytest.param(
            "Seizure activity",
            "Generalized tonic-clonic lasting 7 minutes, not resolved with lorazepam",
            3,
            Criterion.ICANS_SEIZURE,
            id=SIGN_VALUE_RULE + "a described seizure grades ICANS 3, not 0",
        ),
        pytest.param(
            "Seizure activity",
            "Generalized tonic-clonic, no incontinence",
            3,
            Criterion.ICANS_SEIZURE,
            id=SIGN_VALUE_RULE + "a seizure with 'no incontinence' grades ICANS 3, not 0",
        ),
        pytest.param(
            "Cerebral edema",
            "Diffuse, no midline shift",
            4,
            Criterion.ICANS_CEREBRAL_EDEMA,
            id=SIGN_VALUE_RULE + "diffuse edema with 'no midline shift' grades ICANS 4, not 0",
        ),
    ],
)
def test_a_described_sign_grades_icans_end_to_end(name, value, grade, criterion):
    assessment = assess(mapped(cart(), obs(name, valueString=value)), AS_OF)
    assert assessment.icans.grade == grade
    assert {d.criterion: d.grade for d in assessment.icans.current.drivers} == {criterion: grade}


# -- Every row of SPEC 2.9, end to end from FHIR, adult and child --------------------------------

ADULT = "1970-05-01"
CHILD = "2018-03-01"  # 8 years old on day 9
AS_OF = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # day 9 after the infusion

ROWS = [
    # (row, birth, resources, ICANS grade, criterion)
    ("ICE 7-9 is grade 1", ADULT, [obs("ICE Score", valueInteger=8)], 1, Criterion.ICANS_ICE_SCORE),
    ("ICE 3-6 is grade 2", ADULT, [obs("ICE Score", valueInteger=4)], 2, Criterion.ICANS_ICE_SCORE),
    ("ICE 0-2 is grade 3", ADULT, [obs("ICE Score", valueInteger=1)], 3, Criterion.ICANS_ICE_SCORE),
    (
        "ICE not possible, unarousable, is grade 4",
        ADULT,
        [obs("ICE Score", valueString="Unable to perform: unarousable")],
        4,
        Criterion.ICANS_ICE_SCORE,
    ),
    (
        "CAPD 1-8 is grade 1",
        CHILD,
        [obs("CAPD Score", valueInteger=6)],
        1,
        Criterion.ICANS_CAPD_SCORE,
    ),
    (
        "CAPD 1-8 awakening to voice is grade 2",
        CHILD,
        [obs("CAPD Score", valueInteger=6), obs("RASS", valueInteger=-2)],
        2,
        Criterion.ICANS_DEPRESSED_CONSCIOUSNESS,
    ),
    (
        "CAPD 9 or more is grade 3",
        CHILD,
        [obs("CAPD Score", valueInteger=12)],
        3,
        Criterion.ICANS_CAPD_SCORE,
    ),
    (
        "CAPD unable to perform is grade 4",
        CHILD,
        [obs("CAPD", valueString="Unable to perform")],
        4,
        Criterion.ICANS_CAPD_SCORE,
    ),
    *(
        (
            f"RASS {rass} is grade {grade}",
            birth,
            [obs("RASS", valueInteger=rass)],
            grade,
            Criterion.ICANS_DEPRESSED_CONSCIOUSNESS,
        )
        for rass, grade in ((-1, 1), (-2, 2), (-3, 2), (-4, 3), (-5, 4))
        for birth in (ADULT, CHILD)
    ),
    *(
        (f"{text} is grade {grade}", birth, [resource], grade, criterion)
        for text, resource, grade, criterion in (
            (
                "a seizure (R56.9)",
                condition("Seizure", (ICD10_CM, "R56.9", "Unspecified convulsions")),
                3,
                Criterion.ICANS_SEIZURE,
            ),
            (
                "status epilepticus (G41.9)",
                condition(
                    "Status epilepticus", (ICD10_WHO, "G41.9", "Status epilepticus, unspecified")
                ),
                4,
                Criterion.ICANS_SEIZURE,
            ),
            (
                "hemiparesis (G81.90)",
                condition(
                    "Hemiparesis",
                    (ICD10_CM, "G81.90", "Hemiplegia, unspecified affecting unspecified side"),
                ),
                4,
                Criterion.ICANS_MOTOR_WEAKNESS,
            ),
            (
                "paraparesis (G82.20)",
                condition("Paraparesis", (ICD10_CM, "G82.20", "Paraplegia, unspecified")),
                4,
                Criterion.ICANS_MOTOR_WEAKNESS,
            ),
            (
                "focal edema on imaging",
                condition("Focal cerebral edema", (ICD10_CM, "G93.6", "Cerebral edema")),
                3,
                Criterion.ICANS_CEREBRAL_EDEMA,
            ),
            (
                "edema of unstated extent (G93.6)",
                condition("Cerebral edema", (ICD10_CM, "G93.6", "Cerebral edema")),
                3,
                Criterion.ICANS_CEREBRAL_EDEMA,
            ),
            (
                "diffuse cerebral edema",
                condition("Diffuse cerebral edema", (ICD10_CM, "G93.6", "Cerebral edema")),
                4,
                Criterion.ICANS_CEREBRAL_EDEMA,
            ),
            (
                "decerebrate posturing",
                obs("Posturing", valueString="Decerebrate"),
                4,
                Criterion.ICANS_RAISED_INTRACRANIAL_PRESSURE,
            ),
            (
                "cranial nerve VI palsy (H49.21)",
                condition(
                    "Right sixth nerve palsy",
                    (ICD10_CM, "H49.21", "Sixth [abducent] nerve palsy, right eye"),
                ),
                4,
                Criterion.ICANS_RAISED_INTRACRANIAL_PRESSURE,
            ),
            (
                "papilledema (H47.10)",
                condition("Papilledema", (ICD10_CM, "H47.10", "Unspecified papilledema")),
                4,
                Criterion.ICANS_RAISED_INTRACRANIAL_PRESSURE,
            ),
            (
                "Cushing's triad",
                condition("Cushing's triad"),
                4,
                Criterion.ICANS_RAISED_INTRACRANIAL_PRESSURE,
            ),
        )
        for birth in (ADULT, CHILD)
    ),
]


@pytest.mark.parametrize(
    ("birth", "resources", "grade", "criterion"),
    [row[1:] for row in ROWS],
    ids=[
        f"ASTCT 2019 ICANS (Lee et al. BBMT 2019): {row[0]} "
        f"({'child under 12' if row[1] == CHILD else 'adult'})"
        for row in ROWS
    ],
)
def test_every_spec_2_9_row_grades_from_fhir(birth, resources, grade, criterion):
    inputs = mapped(cart(), *resources, birth=birth)
    assessment = assess(inputs, AS_OF)
    assert assessment.icans.grade == grade
    drivers = {d.criterion: d.grade for d in assessment.icans.current.drivers}
    assert drivers[criterion] == grade
    assert assessment.grade == 0  # ICANS never changes the CRS grade


@pytest.mark.parametrize(
    "broken",
    [
        {"status": ["in-progress"]},
        {"medicationCodeableConcept": "propofol"},
        {"effectivePeriod": {"start": "yesterday"}},
    ],
    ids=["a list as status", "a string as medication", "an unreadable start"],
)
def test_an_unreadable_sedative_infusion_never_breaks_the_mapping(broken):
    drip = infusion("propofol infusion", "2026-11-27T06:00:00Z") | broken
    inputs = mapped(obs("RASS", valueInteger=-3), drip)
    assert only(inputs.consciousness).sedated is False


@pytest.mark.parametrize("text", ["inf", "nan", "-inf", "9" * 400])
def test_a_score_written_as_an_impossible_number_is_not_a_score(text):
    inputs = mapped(obs("RASS", valueString=text), obs("ICE Score", valueString=text))
    assert inputs.consciousness == () and inputs.encephalopathy_screens == ()
