"""The in-memory FHIR store answers the searches prefetch templates use (FHIR R4 search), so that
``crs-cds call FILE`` and the demo FHIR endpoint evaluate whatever templates discovery declares."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest

from cds_service.demo import CASES, bundle_at_moment, demo_patient_id
from cds_service.demo.fhir_store import MAX_PAGE_SIZE, FhirStore, SearchError
from cds_service.fhir_io import render_template
from cds_service.services import SERVICES

NOW = datetime(2026, 12, 4, 19, 0, tzinfo=UTC)
LOINC = "http://loinc.org"


def _observation(oid, when, code="8310-5", category="vital-signs", patient="p1", **extra):
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": [{"coding": [{"system": "http://x/cat", "code": category}]}],
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": when,
        **extra,
    }


@pytest.fixture
def store() -> FhirStore:
    return FhirStore(
        [
            {"resourceType": "Patient", "id": "p1"},
            {"resourceType": "Patient", "id": "p2"},
            _observation("t1", "2026-01-05T10:00:00-08:00"),
            _observation("t2", "2026-01-05T18:30:00+01:00"),  # 17:30 UTC: before t1 (18:00 UTC)
            _observation("t3", "2026-01-06T08:00:00Z", code="8331-1"),
            _observation("lac", "2026-01-06T09:00:00Z", code="2524-7", category="laboratory"),
            _observation("other", "2026-01-06T09:00:00Z", patient="p2"),
            {
                "resourceType": "Observation",
                "id": "bc",
                "status": "preliminary",
                "category": [{"coding": [{"code": "laboratory"}]}],
                "code": {"coding": [{"system": LOINC, "code": "600-7"}]},
                "subject": {"reference": "https://ehr.example/fhir/Patient/p1"},
                "effectivePeriod": {"start": "2026-01-04T09:00:00Z"},
            },
            {"resourceType": "Medication", "id": "ne", "code": {"text": "norepinephrine"}},
            {
                "resourceType": "MedicationAdministration",
                "id": "ma1",
                "status": "in-progress",
                "subject": {"reference": "Patient/p1"},
                "medicationReference": {"reference": "Medication/ne"},
                "effectivePeriod": {"start": "2026-01-06T10:00:00Z"},
            },
            {
                "resourceType": "MedicationAdministration",
                "id": "ma2",
                "status": "completed",
                "subject": {"reference": "Patient/p1"},
                "medicationCodeableConcept": {
                    "coding": [
                        {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "3628"}
                    ]
                },
                "effectiveDateTime": "2026-01-06T11:00:00Z",
            },
        ]
    )


def _ids(result, offset=0):
    matches, _ = result.page(offset)
    return [r["id"] for r in matches]


def _search(store, query):
    resource_type, _, params = query.partition("?")
    return store.search(resource_type, parse_qsl(params))


def test_patient_matches_id_type_and_id_or_absolute_url(store):
    for value in ("p1", "Patient/p1"):
        assert set(_ids(_search(store, f"Observation?patient={value}"))) == {
            "t1",
            "t2",
            "t3",
            "lac",
            "bc",
        }
    assert _ids(_search(store, "Observation?subject=Patient/p2")) == ["other"]


def test_category_and_code_are_tokens_with_or_and_optional_system(store):
    assert _ids(_search(store, "Observation?patient=p1&category=laboratory&_sort=date")) == [
        "bc",
        "lac",
    ]
    found = _search(store, f"Observation?patient=p1&code={LOINC}|8331-1,{LOINC}|2524-7")
    assert sorted(_ids(found)) == ["lac", "t3"]
    assert _ids(_search(store, "Observation?code=|600-7")) == []  # |code: no system only
    assert _ids(_search(store, "Observation?code=600-7")) == ["bc"]
    assert _ids(_search(store, "Observation?status=preliminary")) == ["bc"]


def test_sort_by_date_compares_instants_across_offsets_descending_and_ascending(store):
    newest = _ids(_search(store, "Observation?patient=p1&category=vital-signs&_sort=-date"))
    assert newest == ["t3", "t1", "t2"]  # not the order of the strings
    oldest = _ids(_search(store, "Observation?patient=p1&_sort=date"))
    assert oldest[0] == "bc"  # an effectivePeriod sorts by its start


def test_count_pages_and_the_pages_cover_every_match_once(store):
    result = _search(store, "Observation?patient=p1&_sort=-date&_count=2")
    pages = [_ids(result, offset) for offset in (0, 2, 4)]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert sorted(sum(pages, [])) == ["bc", "lac", "t1", "t2", "t3"]
    assert _search(store, "Observation?_count=100000").page_size == MAX_PAGE_SIZE


def test_include_adds_the_referenced_medication(store):
    result = _search(
        store,
        "MedicationAdministration?patient=p1&_sort=-effective-time"
        "&_include=MedicationAdministration:medication",
    )
    matches, included = result.page(0)
    assert [r["id"] for r in matches] == ["ma2", "ma1"]
    assert [r["id"] for r in included] == ["ne"]


def test_medication_code_reads_the_referenced_medication(store):
    rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
    assert _ids(_search(store, f"MedicationAdministration?code={rxnorm}|3628")) == ["ma2"]


def test_date_prefixes(store):
    assert sorted(_ids(_search(store, "Observation?patient=p1&date=ge2026-01-06"))) == [
        "lac",
        "t3",
    ]
    assert _ids(_search(store, "Observation?patient=p1&date=lt2026-01-05")) == ["bc"]
    with pytest.raises(SearchError):
        _search(store, "Observation?date=yesterday")


def test_unknown_parameters_and_modifiers_are_ignored_and_reported(store):
    result = _search(store, "Observation?patient=p1&code:text=temp&_elements=id&_sort=-bogus")
    assert len(result.matches) == 5
    assert result.ignored == ("code:text", "_elements", "_sort=-bogus")


def test_bad_count_and_type_are_errors(store):
    with pytest.raises(SearchError):
        _search(store, "Observation?_count=many")
    with pytest.raises(SearchError):
        store.search("observation", [])


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.id)
def test_every_discovery_template_is_fully_supported(service):
    """When the prefetch templates change (new keys, new parameters), the store must still apply
    every parameter: none may be silently ignored."""
    found: dict[str, int] = {}
    for case in CASES:  # not every case has every kind of data (GCS only in Figure 3)
        store = FhirStore(r["resource"] for r in bundle_at_moment(case, NOW)["entry"])
        tokens = {"context.patientId": demo_patient_id(case), "context.userId": "Practitioner/x"}
        for key, template in service.prefetch.items():
            path, _, query = render_template(template, tokens).partition("?")
            if not query:
                assert store.read(*path.split("/")) is not None, key
                continue
            result = store.search(path, parse_qsl(query))
            assert result.ignored == (), f"{key}: {result.ignored}"
            found[key] = found.get(key, 0) + len(result.matches)
    assert all(found.values()), f"templates that find nothing in any demo case: {found}"
