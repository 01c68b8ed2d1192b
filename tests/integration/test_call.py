"""``crs-cds call`` (issue 14): the hook request built as an EHR builds it, the cards printed as a
clinician reads them, and the expected grade of every demo case at its telling moment."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import responses

from cds_service.call_command import (
    HookCall,
    build_request,
    prefetch_from_server,
    prefetch_from_store,
)
from cds_service.cli import main
from cds_service.demo import CASES, TELLING_MOMENTS, bundle_at_moment, write_demo_data
from cds_service.demo.fhir_store import FhirStore
from cds_service.services import PREFETCH_TEMPLATES, discovery_document

NOW = datetime(2026, 12, 4, 19, 22, tzinfo=UTC)
AS_OF = NOW.isoformat()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo-now")
    write_demo_data(directory, now=NOW)
    return directory


@pytest.mark.parametrize("case_id", CASES)
def test_call_prints_the_expected_grade_of_each_demo_case(demo_dir, capsys, case_id):
    moment = TELLING_MOMENTS[case_id]
    code = main(["call", str(demo_dir / f"{case_id}.json"), "--as-of", AS_OF])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"== crs-patient-view for Patient/crs-demo-{case_id} ==" in out
    # The systems as clinicians name them, never the extension's ids (lee2014, astct2019).
    assert f"Assessment: CRS grade {moment.lee2014} (Lee 2014), peak " in out
    assert f"; ASTCT 2019 grade {moment.astct2019}" in out
    assert "lee2014" not in out and "astct2019" not in out
    expected_indicator = "[CRITICAL]" if moment.lee2014 >= 3 else "["
    assert out.splitlines()[1].startswith(expected_indicator)


def test_call_prints_suggestions_links_and_an_infection_warning(demo_dir, capsys):
    main(["call", str(demo_dir / "case3.json"), "--as-of", AS_OF])
    out = capsys.readouterr().out
    assert "Suggestions:" in out
    assert "tocilizumab" in out
    assert "(not preselected)" in out  # infection signals: nothing preselected (SPEC 2.7)
    assert "Link: " in out and "(smart)" in out
    assert "**" not in out  # markdown emphasis dropped for the terminal


def test_call_json_prints_the_response(demo_dir, capsys):
    assert main(["call", str(demo_dir / "figure3.json"), "--as-of", AS_OF, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    grades = [
        card["extension"]["org.crscds.assessment"]["grade"]
        for card in answer["cards"]
        if "org.crscds.assessment" in card.get("extension", {})
    ]
    assert grades == [3]


def test_call_on_a_folder_needs_the_patient(demo_dir, capsys):
    assert main(["call", str(demo_dir), "--as-of", AS_OF]) == 1
    assert "several patients" in capsys.readouterr().err
    code = main(["call", str(demo_dir), "--patient", "crs-demo-case1", "--as-of", AS_OF])
    assert code == 0
    assert "Assessment: CRS grade 1 (Lee 2014)" in capsys.readouterr().out


def test_call_out_of_scope_says_why_there_are_no_cards(demo_dir, capsys):
    """Day 0 more than 30 days before the call: no cards (SPEC 2.1), and the reason."""
    code = main(["call", str(demo_dir / "case1.json"), "--as-of", "2027-06-01T00:00:00Z"])
    assert code == 0
    out = capsys.readouterr().out
    assert "No cards." in out
    assert "CRS-associated therapy in the last 30 days" in out


def test_order_sign_with_draft_orders(demo_dir, tmp_path, capsys):
    """A tocilizumab order at 10 mg/kg for Case 3's 36.4 kg (364 mg) is above the Lee 2014
    8 mg/kg for children: the order check says so."""
    order = {
        "resourceType": "MedicationRequest",
        "id": "toci-draft",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/crs-demo-case3"},
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "612865",
                    "display": "tocilizumab",
                }
            ]
        },
        "dosageInstruction": [
            {
                "route": {"text": "intravenous"},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": 364,
                            "unit": "mg",
                            "system": "http://unitsofmeasure.org",
                            "code": "mg",
                        }
                    }
                ],
            }
        ],
    }
    orders = tmp_path / "order.json"
    orders.write_text(json.dumps(order))
    args = ["call", str(demo_dir / "case3.json"), "--as-of", AS_OF, "--service"]
    assert main([*args, "crs-order-sign"]) == 1
    assert "needs draft orders" in capsys.readouterr().err
    assert main([*args, "crs-order-sign", "--draft-orders", str(orders), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["cards"], "the dose check answers"
    assert "364" in json.dumps(answer)


def test_bad_arguments_are_clear_errors(demo_dir, tmp_path, capsys):
    case3 = str(demo_dir / "case3.json")
    cases = [
        (["call", str(tmp_path / "none.json")], "no such file"),
        (["call", case3, "--as-of", "2026-12-04T19:00:00"], "needs a time zone"),
        (["call", case3, "--service", "crs-x", "--as-of", AS_OF], "no service 'crs-x'"),
        (["call", case3, "--url", "http://127.0.0.1:9", "--as-of", AS_OF], "in process only"),
        (["call", "http://127.0.0.1:9/fhir"], "--patient"),
    ]
    for argv, message in cases:
        assert main(argv) == 1, argv
        assert message in capsys.readouterr().err, argv


def test_prefetch_from_a_file_holds_every_match_of_every_template():
    """All pages in the prefetch, what `_include` adds marked as such, as the service expects."""
    bundle = bundle_at_moment("case3", NOW)
    store = FhirStore(entry["resource"] for entry in bundle["entry"])
    tokens = {"context.patientId": "crs-demo-case3", "context.userId": "Practitioner/x"}
    prefetch = prefetch_from_store(PREFETCH_TEMPLATES, tokens, store)
    assert set(prefetch) == set(PREFETCH_TEMPLATES)
    assert prefetch["patient"]["id"] == "crs-demo-case3"
    in_bundle = {e["resource"]["resourceType"] for e in bundle["entry"]} - {"Patient"}
    in_prefetch = {
        entry["resource"]["resourceType"]
        for key, value in prefetch.items()
        if key != "patient"
        for entry in value["entry"]
    }
    assert in_bundle <= in_prefetch
    for key, value in prefetch.items():
        if key != "patient":
            assert value["type"] == "searchset"
            matches = [e for e in value["entry"] if e["search"]["mode"] == "match"]
            assert value["total"] == len(matches)


@responses.activate
def test_prefetch_from_a_server_follows_next_links_on_the_same_server_only():
    base = "https://ehr.example/fhir"
    templates = {
        "patient": "Patient/{{context.patientId}}",
        "obs": "Observation?patient={{context.patientId}}",
    }
    responses.get(f"{base}/Patient/p1", json={"resourceType": "Patient", "id": "p1"})
    responses.get(
        f"{base}/Observation?patient=p1",
        json={
            "resourceType": "Bundle",
            "type": "searchset",
            "link": [{"relation": "next", "url": f"{base}/Observation?patient=p1&page=2"}],
            "entry": [{"resource": {"resourceType": "Observation", "id": "o1"}}],
        },
        match=[responses.matchers.query_param_matcher({"patient": "p1"})],
    )
    responses.get(
        f"{base}/Observation?patient=p1&page=2",
        json={
            "resourceType": "Bundle",
            "type": "searchset",
            "link": [{"relation": "next", "url": "https://elsewhere.example/fhir/x"}],
            "entry": [
                {"resource": {"resourceType": "Observation", "id": "o2"}},
                {
                    "resource": {"resourceType": "OperationOutcome", "issue": []},
                    "search": {"mode": "outcome"},
                },
            ],
        },
        match=[responses.matchers.query_param_matcher({"patient": "p1", "page": "2"})],
    )
    import requests

    with requests.Session() as session:
        prefetch = prefetch_from_server(templates, {"context.patientId": "p1"}, base, session)
    assert prefetch["patient"]["id"] == "p1"
    assert [e["resource"]["id"] for e in prefetch["obs"]["entry"]] == ["o1", "o2"]
    assert len(responses.calls) == 3  # never the other host


def test_the_request_is_a_valid_hook_call_for_each_service():
    discovery = discovery_document()
    orders = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": {"resourceType": "MedicationRequest", "id": "m1"}}],
    }
    for service in discovery["services"]:
        call = HookCall(service["id"], "p1", draft_orders=orders)
        body = build_request(call, discovery, lambda templates, tokens: {"seen": dict(tokens)})
        assert body["hook"] == service["hook"]
        assert body["context"]["patientId"] == "p1"
        assert body["prefetch"]["seen"]["context.patientId"] == "p1"
        if service["hook"] == "order-select":
            assert body["context"]["selections"] == ["MedicationRequest/m1"]
        assert orjson.loads(orjson.dumps(body)) == body


def test_the_printed_assessment_names_systems_clinically_and_keeps_unknown_ids():
    """``crs-cds call`` may talk to a newer service: a system id this version does not know
    is printed as sent, the known ones by their clinical names."""
    import io

    from cds_service.call_command import render_cards

    card = {
        "summary": "CRS grade 2 (Lee 2014), day 3 after tisagenlecleucel",
        "indicator": "warning",
        "extension": {
            "org.crscds.assessment": {
                "system": "astct2019",
                "grade": 2,
                "peakGrade": 3,
                "otherSystems": {"lee2014": 2, "carty2030": 1},
                "therapy": {"display": "tisagenlecleucel", "day": 3},
            }
        },
    }
    out = io.StringIO()
    render_cards({"cards": [card]}, out)
    assert (
        "Assessment: CRS grade 2 (ASTCT 2019), peak 3; Lee 2014 grade 2; carty2030 grade 1; "
        "day 3 after tisagenlecleucel"
    ) in out.getvalue()
