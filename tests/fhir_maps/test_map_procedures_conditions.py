"""Procedures (ventilation, oxygen therapy, cell infusions) and Conditions (SPEC 2.1-2.7, 3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from map_fixtures import SNOMED, load, record

from crs_grading.inputs import ConditionCategory, OxygenDevice, TherapyKind, VentilationKind
from fhir_maps import MappingOptions

START = datetime(2026, 11, 21, 2, tzinfo=UTC)


def _procedure(code: str | None = None, text: str | None = None, **fields):
    resource = load("procedure-ventilation.json")
    del resource["category"]
    resource["code"] = {}
    if code is not None:
        resource["code"]["coding"] = [{"system": SNOMED, "code": code}]
    if text is not None:
        resource["code"]["text"] = text
    resource.update(fields)
    return resource


def test_ventilation_code_in_the_category_as_icu_profiles_send_it():
    period = record(load("procedure-ventilation.json")).ventilation[0]
    assert (period.kind, period.device) == (
        VentilationKind.INVASIVE,
        OxygenDevice.INVASIVE_VENTILATION,
    )
    assert (period.start, period.end) == (START, None)
    assert period.reference == "Procedure/vent1"


VENTILATION = [
    (
        "1258985005",
        None,
        VentilationKind.INVASIVE,
        OxygenDevice.INVASIVE_VENTILATION,
        "SNOMED 1258985005 invasive mechanical ventilation (SPEC 3)",
    ),
    (
        "40617009",
        None,
        VentilationKind.INVASIVE,
        OxygenDevice.INVASIVE_VENTILATION,
        "SNOMED 40617009 artificial respiration (SPEC 3)",
    ),
    (
        "428311008",
        None,
        VentilationKind.NON_INVASIVE,
        None,
        "SNOMED 428311008 non-invasive ventilation (SPEC 3)",
    ),
    ("47545007", None, VentilationKind.NON_INVASIVE, OxygenDevice.CPAP, "SNOMED 47545007 CPAP"),
    ("243142003", None, VentilationKind.NON_INVASIVE, OxygenDevice.BIPAP, "SNOMED 243142003 BiPAP"),
    (
        None,
        "Endotracheal intubation and mechanical ventilation",
        VentilationKind.INVASIVE,
        OxygenDevice.INVASIVE_VENTILATION,
        "text: intubation",
    ),
    (
        None,
        "Non-invasive ventilation via full face mask",
        VentilationKind.NON_INVASIVE,
        None,
        "text: non-invasive ventilation is not invasive",
    ),
    (None, "BiPAP overnight", VentilationKind.NON_INVASIVE, OxygenDevice.BIPAP, "text: BiPAP"),
    (None, "CPAP 10 cmH2O", VentilationKind.NON_INVASIVE, OxygenDevice.CPAP, "text: CPAP"),
]


@pytest.mark.parametrize(
    ("code", "text", "kind", "device"),
    [case[:4] for case in VENTILATION],
    ids=[f"{case[4]} is ventilator support (seed Table 2 grade 4)" for case in VENTILATION],
)
def test_ventilation_procedures(code, text, kind, device):
    period = record(_procedure(code, text)).ventilation[0]
    assert (period.kind, period.device) == (kind, device)


def test_a_completed_ventilation_with_only_a_start_ended_at_its_start():
    resource = _procedure("1258985005", status="completed")
    period = record(resource).ventilation[0]
    assert period.end == START


def test_a_ventilation_period_with_an_end():
    resource = _procedure(
        "1258985005",
        status="completed",
        performedPeriod={"start": "2026-11-21T02:00:00Z", "end": "2026-11-22T02:00:00Z"},
    )
    period = record(resource).ventilation[0]
    assert period.end == datetime(2026, 11, 22, 2, tzinfo=UTC)


def test_performed_date_time():
    resource = _procedure("1258985005")
    del resource["performedPeriod"]
    resource["performedDateTime"] = "2026-11-21T02:00:00Z"
    assert record(resource).ventilation[0].start == START


def test_oxygen_therapy_is_oxygen_of_unknown_fio2():
    """SNOMED 57485005 (SPEC 3): an OxygenReading without FiO2, flow or device."""
    resource = _procedure(
        "57485005",
        status="completed",
        performedPeriod={"start": "2026-11-21T02:00:00Z", "end": "2026-11-21T06:00:00Z"},
    )
    readings = record(resource).oxygen
    assert [(r.time, r.fio2_percent, r.flow_l_per_min, r.device) for r in readings] == [
        (START, None, None, None),
        (datetime(2026, 11, 21, 6, tzinfo=UTC), None, None, None),
    ]


def test_a_cell_infusion_procedure_is_a_therapy():
    resource = _procedure(text="CAR-T cell infusion (tisagenlecleucel)", status="completed")
    therapy = record(resource).therapies[0]
    assert (therapy.name, therapy.kind, therapy.time) == (
        "tisagenlecleucel",
        TherapyKind.CAR_T,
        START,
    )


PROCEDURE_STATUSES = [
    ("in-progress", True),
    ("completed", True),
    ("stopped", True),
    ("on-hold", True),
    ("unknown", True),
    ("preparation", False),
    ("not-done", False),
    ("entered-in-error", False),
]


@pytest.mark.parametrize(
    ("status", "counts"),
    PROCEDURE_STATUSES,
    ids=[
        f"procedure status {status} {'counts' if counts else 'is ignored'}"
        for status, counts in PROCEDURE_STATUSES
    ],
)
def test_procedure_status_rules(status, counts):
    inputs = record(_procedure("1258985005", status=status))
    assert len(inputs.ventilation) == (1 if counts else 0)
    assert inputs.skipped == ()


def test_a_procedure_with_only_a_performed_string_is_skipped_and_reported():
    resource = _procedure("1258985005")
    del resource["performedPeriod"]
    resource["performedString"] = "last night"
    inputs = record(resource)
    assert inputs.ventilation == ()
    assert inputs.skipped[0].reason == "performedString is not a date-time or a period"


def test_unrelated_procedures_are_dropped_silently():
    inputs = record(_procedure("80146002", text="Appendectomy"))
    assert inputs.ventilation == () and inputs.skipped == ()


# --- conditions ---------------------------------------------------------------------------------


def _condition(system: str | None, code: str | None, text: str | None = None, **fields):
    resource = load("condition-sepsis.json")
    resource["code"] = {}
    if code is not None:
        resource["code"]["coding"] = [{"system": system, "code": code}]
    if text is not None:
        resource["code"]["text"] = text
    resource.update(fields)
    return resource


def test_sepsis_fixture():
    finding = record(load("condition-sepsis.json")).conditions[0]
    assert (finding.category, finding.name, finding.active) == (
        ConditionCategory.INFECTION,
        "sepsis",
        True,
    )
    assert finding.onset == datetime(2026, 11, 20, tzinfo=UTC)
    assert finding.reference == "Condition/sepsis1"


ICD = "http://hl7.org/fhir/sid/icd-10-cm"
CONDITIONS = [
    (
        SNOMED,
        "91302008",
        None,
        ConditionCategory.INFECTION,
        "sepsis",
        "SNOMED 91302008 sepsis (SPEC 3)",
    ),
    (SNOMED, "76571007", None, ConditionCategory.INFECTION, "septic shock", "SNOMED septic shock"),
    (SNOMED, "5758002", None, ConditionCategory.INFECTION, "bacteremia", "SNOMED bacteremia"),
    (ICD, "A41.9", None, ConditionCategory.INFECTION, "sepsis", "ICD-10-CM A41.9 sepsis"),
    (
        ICD,
        "R65.21",
        None,
        ConditionCategory.INFECTION,
        "septic shock",
        "ICD-10-CM R65.21 septic shock",
    ),
    (ICD, "R78.81", None, ConditionCategory.INFECTION, "bacteremia", "ICD-10-CM R78.81 bacteremia"),
    (ICD, "J18.9", None, ConditionCategory.INFECTION, "pneumonia", "ICD-10-CM J18.9 pneumonia"),
    (
        None,
        None,
        "Klebsiella bacteraemia",
        ConditionCategory.INFECTION,
        "bacteremia",
        "text bacteraemia (SPEC 2.7)",
    ),
    (
        SNOMED,
        "81308009",
        None,
        ConditionCategory.NEUROLOGIC,
        "encephalopathy",
        "SNOMED encephalopathy (SPEC 2.5)",
    ),
    (
        SNOMED,
        "2776000",
        None,
        ConditionCategory.NEUROLOGIC,
        "delirium",
        "SNOMED delirium (SPEC 2.5)",
    ),
    (
        SNOMED,
        "286933003",
        None,
        ConditionCategory.NEUROLOGIC,
        "confusion",
        "SNOMED confusional state (SPEC 2.5)",
    ),
    (
        SNOMED,
        "87486003",
        None,
        ConditionCategory.NEUROLOGIC,
        "aphasia",
        "SNOMED aphasia (SPEC 2.5)",
    ),
    (
        SNOMED,
        "91175000",
        None,
        ConditionCategory.NEUROLOGIC,
        "seizure",
        "SNOMED seizure (SPEC 2.5)",
    ),
    (ICD, "G92.02", None, ConditionCategory.NEUROLOGIC, "ICANS", "ICD-10-CM G92.02 ICANS grade 2"),
    (None, None, "ICANS grade 2", ConditionCategory.NEUROLOGIC, "ICANS", "text ICANS"),
    (
        SNOMED,
        "84114007",
        None,
        ConditionCategory.COMORBIDITY,
        "heart failure",
        "SNOMED heart failure (SPEC 2.6)",
    ),
    (
        ICD,
        "I42.0",
        None,
        ConditionCategory.COMORBIDITY,
        "cardiomyopathy",
        "ICD-10-CM I42.0 cardiomyopathy (SPEC 2.6)",
    ),
    (
        ICD,
        "I25.10",
        None,
        ConditionCategory.COMORBIDITY,
        "coronary disease",
        "ICD-10-CM I25.10 coronary disease (SPEC 2.6)",
    ),
    (
        None,
        None,
        "COPD, moderate",
        ConditionCategory.COMORBIDITY,
        "chronic lung disease",
        "text COPD (SPEC 2.6)",
    ),
    (
        ICD,
        "N18.4",
        None,
        ConditionCategory.COMORBIDITY,
        "chronic kidney disease",
        "ICD-10-CM N18.4 CKD (SPEC 2.6)",
    ),
    (
        SNOMED,
        "19943007",
        None,
        ConditionCategory.COMORBIDITY,
        "cirrhosis",
        "SNOMED cirrhosis (SPEC 2.6)",
    ),
    (
        SNOMED,
        "38880002",
        None,
        ConditionCategory.CONSTITUTIONAL,
        "rigors",
        "SNOMED rigor (seed Table 1)",
    ),
    (
        None,
        None,
        "Myalgias",
        ConditionCategory.CONSTITUTIONAL,
        "myalgia",
        "text myalgias (seed Table 1)",
    ),
    (
        ICD,
        "R11.2",
        None,
        ConditionCategory.CONSTITUTIONAL,
        "vomiting",
        "ICD-10-CM R11.2 nausea with vomiting (seed Table 1)",
    ),
    (
        None,
        None,
        "Headache",
        ConditionCategory.CONSTITUTIONAL,
        "headache",
        "text headache (seed Table 1)",
    ),
]


@pytest.mark.parametrize(
    ("system", "code", "text", "category", "name"),
    [case[:5] for case in CONDITIONS],
    ids=[f"{case[5]} is {case[3].value}" for case in CONDITIONS],
)
def test_condition_categories(system, code, text, category, name):
    findings = record(_condition(system, code, text)).conditions
    assert [(f.category, f.name) for f in findings] == [(category, name)]


def test_a_condition_in_two_categories_gives_two_findings():
    findings = record(_condition(None, None, "Sepsis-associated encephalopathy")).conditions
    assert sorted((f.category.value, f.name) for f in findings) == [
        ("infection", "sepsis"),
        ("neurologic", "encephalopathy"),
    ]


def test_epilepsy_is_not_an_acute_seizure():
    assert record(_condition(ICD, "G40.909")).conditions == ()


def test_unrelated_conditions_are_dropped_silently():
    inputs = record(_condition(ICD, "E11.9", "Type 2 diabetes mellitus"))
    assert inputs.conditions == () and inputs.skipped == ()


ACTIVITY = [
    ({"clinicalStatus": {"coding": [{"code": "active"}]}}, True, "clinical status active"),
    ({"clinicalStatus": {"coding": [{"code": "recurrence"}]}}, True, "clinical status recurrence"),
    ({"clinicalStatus": {"coding": [{"code": "resolved"}]}}, False, "clinical status resolved"),
    ({"clinicalStatus": {"coding": [{"code": "inactive"}]}}, False, "clinical status inactive"),
    ({"clinicalStatus": {"coding": [{"code": "remission"}]}}, False, "clinical status remission"),
    ({"verificationStatus": {"coding": [{"code": "refuted"}]}}, False, "verification refuted"),
    (
        {"verificationStatus": {"coding": [{"code": "differential"}]}},
        True,
        "verification differential",
    ),
]


@pytest.mark.parametrize(
    ("status", "active"),
    [case[:2] for case in ACTIVITY],
    ids=[
        f"{case[2]} is {'active' if case[1] else 'not active'} (inputs.py ConditionFinding)"
        for case in ACTIVITY
    ],
)
def test_condition_activity(status, active):
    resource = load("condition-sepsis.json")
    resource.update(status)
    assert record(resource).conditions[0].active is active


def test_a_condition_without_clinical_status_is_active():
    resource = load("condition-sepsis.json")
    del resource["clinicalStatus"]
    assert record(resource).conditions[0].active is True


def test_a_condition_entered_in_error_is_ignored():
    resource = load("condition-sepsis.json")
    resource["verificationStatus"] = {"coding": [{"code": "entered-in-error"}]}
    inputs = record(resource)
    assert inputs.conditions == () and inputs.skipped == ()


def test_onset_falls_back_to_recorded_date_and_abatement_is_read():
    resource = load("condition-sepsis.json")
    del resource["onsetDateTime"]
    resource["abatementDateTime"] = "2026-11-25"
    finding = record(resource).conditions[0]
    assert finding.onset == datetime(2026, 11, 20, 9, tzinfo=UTC)
    assert finding.abatement == datetime(2026, 11, 25, tzinfo=UTC)


def test_onset_period_start():
    resource = load("condition-sepsis.json")
    del resource["onsetDateTime"]
    resource["onsetPeriod"] = {"start": "2026-11-19T20:00:00Z"}
    assert record(resource).conditions[0].onset == datetime(2026, 11, 19, 20, tzinfo=UTC)


def test_configured_comorbidity_codes_and_terms():
    """SPEC 2.6: the significant-comorbidity value set is configurable."""
    options = MappingOptions(
        extra_comorbidity_codes=(("http://example.org/local-problems", "PH-1"),),
        extra_comorbidity_terms=("pulmonary hypertension",),
    )
    by_code = _condition("http://example.org/local-problems", "PH-1", id="c1")
    by_code["code"]["coding"][0]["display"] = "Pulmonary arterial hypertension"
    by_name = _condition(None, None, "Severe pulmonary hypertension", id="c2")
    findings = record(by_code, by_name, options=options).conditions
    assert [(f.reference, f.category, f.name) for f in findings] == [
        ("Condition/c1", ConditionCategory.COMORBIDITY, "Pulmonary arterial hypertension"),
        ("Condition/c2", ConditionCategory.COMORBIDITY, "pulmonary hypertension"),
    ]
    assert record(by_code, by_name).conditions == ()  # not without the option
