"""ICANS and IEC-HS through crs-patient-view, charted as EHRs send them, in prefetch mode and in
fetch mode (no prefetch; a mocked fhirServer answers the discovery templates): the `icans`
block of the assessment extension (SPEC 2.9), the no-assessment data gap, configured codes, and
the `iec-hs` warning from labs (SPEC 2.10)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cds_service.cards import EXTENSION_KEY

from .support import FHIR, SERVICE_OF_HOOK, hook_body, prefetch_for, serve_fhir

JSON = dict[str, Any]
PATIENT = "icans-1"
NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
INFUSED = NOW - timedelta(days=8, hours=4)
LOCAL = "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
NO_ASSESSMENT = "no ICE or consciousness assessment in the last 24 h"
_ids = iter(range(1, 10_000))


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def row(
    name: str, when: datetime, category: str = "survey", code: str | None = None, **value: Any
) -> JSON:
    """A flowsheet row: the EHR's own code and the row's name."""
    return {
        "resourceType": "Observation",
        "id": f"row-{next(_ids)}",
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY, "code": category}]}],
        "code": {"coding": [{"system": LOCAL, "code": code or str(next(_ids))}], "text": name},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": _iso(when),
        **value,
    }


def lab(
    loinc: str, name: str, value: float, unit: str, when: datetime, high: float | None = None
) -> JSON:
    resource = row(name, when, category="laboratory")
    resource["code"] = {"coding": [{"system": LOINC, "code": loinc, "display": name}]}
    resource["valueQuantity"] = {
        "value": value,
        "unit": unit,
        "system": "http://unitsofmeasure.org",
        "code": unit,
    }
    if high is not None:
        resource["referenceRange"] = [{"high": {"value": high, "unit": unit}}]
    return resource


def chart(*extra: JSON, birth: str = "1975-02-01") -> list[JSON]:
    return [
        {"resourceType": "Patient", "id": PATIENT, "gender": "male", "birthDate": birth},
        {
            "resourceType": "MedicationAdministration",
            "id": "cells-1",
            "status": "completed",
            "medicationCodeableConcept": {"text": "axicabtagene ciloleucel"},
            "subject": {"reference": f"Patient/{PATIENT}"},
            "effectiveDateTime": _iso(INFUSED),
        },
        row(
            "Temperature",
            NOW - timedelta(hours=2),
            category="vital-signs",
            valueQuantity={
                "value": 36.9,
                "unit": "Cel",
                "system": "http://unitsofmeasure.org",
                "code": "Cel",
            },
        ),
        *extra,
    ]


@pytest.fixture(params=["prefetch", "fetch"])
def answer(request: Any, app_at: Callable[..., Any], mocked_http: Any) -> Callable[..., JSON]:
    """``answer(resources, **variables)``: the whole patient-view answer, both modes."""

    def run(resources: list[JSON], **variables: str) -> JSON:
        client = app_at(NOW, **variables).test_client()
        if request.param == "prefetch":
            body = hook_body("patient-view", PATIENT, prefetch=prefetch_for(resources))
        else:
            serve_fhir(mocked_http, resources)
            body = hook_body("patient-view", PATIENT, fhir_server=FHIR)
        response = client.post(f"/cds-services/{SERVICE_OF_HOOK['patient-view']}", json=body)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    return run


def _assessed(answer: JSON) -> tuple[JSON, JSON]:
    """The assessment card and its extension."""
    (card,) = [c for c in answer["cards"] if EXTENSION_KEY in c.get("extension", {})]
    return card, card["extension"][EXTENSION_KEY]


def _suggested(answer: JSON) -> list[str]:
    return [s["label"].lower() for card in answer["cards"] for s in card.get("suggestions", [])]


@pytest.fixture
def call(answer: Callable[..., JSON]) -> Callable[..., JSON]:
    """``call(resources, **variables)``: the assessment extension of patient-view, both modes."""

    def run(resources: list[JSON], **variables: str) -> JSON:
        return _assessed(answer(resources, **variables))[1]

    return run


def test_an_ice_total_row_and_rass_give_the_icans_block(call):
    extension = call(
        chart(
            row("ICE Score", NOW - timedelta(hours=3), valueInteger=5),
            row(
                "RASS", NOW - timedelta(hours=3), valueCodeableConcept={"text": "-4 Deep sedation"}
            ),
        )
    )
    icans = extension["icans"]
    assert (icans["grade"], icans["peakGrade"]) == (3, 3)
    assert {d["criterion"]: d["grade"] for d in icans["drivers"]} == {
        "icans-depressed-consciousness": 3,
        "icans-ice-score": 2,
    }
    assert all(
        ref.startswith("Observation/row-") for d in icans["drivers"] for ref in d["evidence"]
    )
    assert NO_ASSESSMENT not in extension["dataGaps"]
    assert extension["grade"] == 0


def test_ice_items_charted_as_rows_are_summed(call):
    when = NOW - timedelta(hours=1)
    items = [
        ("ICE - Orientation", 1),
        ("ICE - Naming", 0),
        ("ICE - Following Commands", 1),
        ("ICE - Writing", 0),
        ("ICE - Attention", 0),
    ]
    extension = call(chart(*(row(name, when, valueInteger=points) for name, points in items)))
    (driver,) = extension["icans"]["drivers"]
    assert (driver["criterion"], driver["grade"]) == ("icans-ice-score", 3)
    assert driver["text"] == "ICE score 2/10 (sum of its 5 items)"


def test_capd_for_a_child_with_a_seizure_diagnosis(call):
    extension = call(
        chart(
            row("CAPD Score", NOW - timedelta(hours=5), valueInteger=10),
            {
                "resourceType": "Condition",
                "id": "seizure-1",
                "code": {
                    "coding": [
                        {
                            "system": ICD10CM,
                            "code": "G40.901",
                            "display": "Epilepsy, not intractable, with status epilepticus",
                        }
                    ],
                    "text": "Status epilepticus",
                },
                "subject": {"reference": f"Patient/{PATIENT}"},
                "onsetDateTime": _iso(NOW - timedelta(hours=6)),
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                "code": "encounter-diagnosis",
                            }
                        ]
                    }
                ],
            },
            birth="2018-01-01",
        )
    )
    drivers = {d["criterion"]: d["grade"] for d in extension["icans"]["drivers"]}
    assert drivers == {"icans-seizure": 4, "icans-capd-score": 3}
    assert extension["icans"]["grade"] == 4


def test_no_assessment_in_24_h_is_a_data_gap_and_grade_0(call):
    extension = call(chart(row("GCS Total", NOW - timedelta(hours=1), valueInteger=15)))
    assert extension["icans"] == {"grade": 0, "peakGrade": 0, "drivers": []}
    assert NO_ASSESSMENT in extension["dataGaps"]


def test_a_configured_ice_code_is_read(call):
    extension = call(
        chart(row("Neuro check 7", NOW - timedelta(hours=1), code="7711", valueInteger=8)),
        CRS_CDS_ICE_CODES=f'["{LOCAL}|7711"]',
    )
    assert extension["icans"]["grade"] == 1


def test_the_iec_hs_warning_from_labs(call):
    when = NOW - timedelta(hours=4)
    extension = call(
        chart(
            lab("2276-4", "Ferritin", 12000, "ng/mL", when, high=300),
            lab("777-3", "Platelets", 31, "10*3/uL", when),
            lab("2532-0", "LDH", 900, "U/L", when),
        )
    )
    (warning,) = [w for w in extension["attributionWarnings"] if w["code"] == "iec-hs"]
    assert len(warning["evidence"]) == 3
    assert "ferritin 12000 ng/mL (> 2 x ULN 300)" in warning["text"]
    assert "platelets 31 x10^9/L" in warning["text"] and "LDH 900 U/L" in warning["text"]
    assert extension["grade"] == 0  # never a grade


def test_review_finding_a_capd_not_done_off_the_unit_is_no_score_not_grade_4(answer):
    """SPEC 2.9 (review finding): an 8-year-old's CAPD "Not done - patient off unit for MRI" was
    ICANS grade 4 "patient unarousable", a critical card and recommended dexamethasone. "Not
    done" for a reason other than the child's state is no score: ICANS 0, no dexamethasone,
    and the gaps say the CAPD was not used and no assessment was charted."""
    capd = row("CAPD", NOW - timedelta(hours=2), valueString="Not done - patient off unit for MRI")
    result = answer(chart(capd, birth="2018-01-01"))
    card, extension = _assessed(result)
    assert extension["icans"] == {"grade": 0, "peakGrade": 0, "drivers": []}
    assert card["indicator"] != "critical"
    assert not any("dexamethasone" in label for label in _suggested(result))
    assert NO_ASSESSMENT in extension["dataGaps"]
    assert any("CAPD was charted as not done" in gap for gap in extension["dataGaps"])


@pytest.mark.parametrize(
    ("name", "value", "criterion", "grade"),
    [
        pytest.param(
            "Seizure activity",
            "Generalized tonic-clonic, no incontinence",
            "icans-seizure",
            3,
            id="SPEC 2.9 (review finding): 'no incontinence' describes a seizure: ICANS 3",
        ),
        pytest.param(
            "Cerebral edema",
            "Diffuse, no midline shift",
            "icans-cerebral-edema",
            4,
            id="SPEC 2.9 (review finding): 'no midline shift' describes edema: ICANS 4",
        ),
    ],
)
def test_review_finding_a_sign_described_with_a_negation_grades_and_gets_dexamethasone(
    answer, name, value, criterion, grade
):
    """A sign row whose value describes the sign was read as "absent" because the words held
    "no": ICANS 0 and no dexamethasone. It grades, and ICANS >= 2 with CRS <= 1 gets
    dexamethasone (SPEC 2.9)."""
    result = answer(chart(row(name, NOW - timedelta(hours=2), valueString=value)))
    card, extension = _assessed(result)
    assert extension["icans"]["grade"] == grade
    drivers = {d["criterion"]: d["grade"] for d in extension["icans"]["drivers"]}
    assert drivers == {criterion: grade}
    assert "dexamethasone" in card["summary"]  # no weight charted: named, not ordered


def diagnosis(
    code: str, display: str, text: str, onset: datetime, clinical: str = "active", **fields: Any
) -> JSON:
    """A Condition as an EHR problem list sends it: ICD-10-CM code, clinical status, onset."""
    return {
        "resourceType": "Condition",
        "id": f"cond-{next(_ids)}",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": clinical,
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "problem-list-item",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": ICD10CM, "code": code, "display": display}], "text": text},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "onsetDateTime": _iso(onset),
        **fields,
    }


def _recommended(answer: JSON) -> list[str]:
    return [
        s["label"].lower()
        for card in answer["cards"]
        for s in card.get("suggestions", [])
        if s.get("isRecommended")
    ]


def _crs_grade_3_without_vasopressor() -> list[JSON]:
    """FiO2 50% (CRS grade 3, no vasopressor) and RASS 0 now: only the state can grade ICANS.
    A weight, so that the suggestions are orders."""
    when = NOW - timedelta(hours=1)
    fio2 = row("FiO2 (%)", when, category="vital-signs")
    fio2["valueQuantity"] = {"value": 50, "unit": "%", "system": "http://unitsofmeasure.org"}
    weight = lab("29463-7", "Body weight", 70, "kg", INFUSED - timedelta(days=1))
    return [fio2, weight, row("RASS", when, valueInteger=0)]


STATE_RULE = "SPEC 2.9 and 2.6 (review finding): "
EDEMA = ("G93.6", "Cerebral edema", "Diffuse cerebral edema")
HEMIPARESIS = ("G81.91", "Hemiplegia, unspecified affecting right dominant side", "Hemiparesis")

#: (the Condition's code, display, text; onset hours ago; clinical status; abatement hours ago;
#: ICANS (current, peak); the first-line drug at CRS grade 3; the rule).
STATE_CASES = [
    (
        EDEMA,
        30,
        "active",
        None,
        (4, 4),
        "dexamethasone",
        "active diffuse cerebral edema with onset 30 h ago is current ICANS 4: dexamethasone "
        "first line at CRS grade 3",
    ),
    (
        EDEMA,
        6,
        "active",
        None,
        (4, 4),
        "dexamethasone",
        "active diffuse cerebral edema with onset 6 h ago is current ICANS 4",
    ),
    (
        HEMIPARESIS,
        30,
        "active",
        None,
        (4, 4),
        "dexamethasone",
        "active hemiparesis with onset 30 h ago is current ICANS 4",
    ),
    (
        EDEMA,
        72,
        "resolved",
        30,
        (0, 4),
        "tocilizumab",
        "diffuse cerebral edema resolved 30 h ago is peak ICANS 4, current 0: tocilizumab "
        "first line",
    ),
]


@pytest.mark.parametrize(
    ("coded", "onset_hours", "clinical", "abated_hours", "icans", "first"),
    [pytest.param(*case[:-1], id=STATE_RULE + case[-1]) for case in STATE_CASES],
)
def test_review_finding_an_active_neurologic_state_stays_in_the_current_icans_grade(
    answer, coded, onset_hours, clinical, abated_hours, icans, first
):
    """An active Condition "Diffuse cerebral edema" with onset 30 h ago was ICANS 0 (peak 4),
    no neurologic dysfunction, and tocilizumab first line at CRS grade 3; with onset 6 h ago,
    ICANS 4 and dexamethasone. A state lasts while its Condition is active (SPEC 2.9), up to its
    abatement; the card cites the Condition."""
    fields = {}
    if abated_hours is not None:
        fields["abatementDateTime"] = _iso(NOW - timedelta(hours=abated_hours))
    state = diagnosis(*coded, NOW - timedelta(hours=onset_hours), clinical=clinical, **fields)
    result = answer(chart(*_crs_grade_3_without_vasopressor(), state))
    _, extension = _assessed(result)
    assert extension["grade"] == 3
    assert (extension["icans"]["grade"], extension["icans"]["peakGrade"]) == icans
    if icans[0]:
        (driver,) = extension["icans"]["drivers"]
        assert driver["grade"] == 4
        assert driver["evidence"] == [f"Condition/{state['id']}"]
    else:
        assert extension["icans"]["drivers"] == []
    recommended = _recommended(result)
    assert len(recommended) == 1 and recommended[0].startswith(first)
