"""The OpenAPI 3.1 document at /openapi.json is true (issue 7): every registered route is
described and nothing else is, real answers validate against their schemas, and schemathesis,
calling the app in-process with generated requests (bounded, seeded), finds no 500 and no
answer that breaks the document."""

from __future__ import annotations

import re
import tempfile

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from cds_service import create_app

from .harness import demo_prefetch, hook_body, in_demo_time, schema_errors

SKIPPED_METHODS = {"HEAD", "OPTIONS"}  # answered by Flask itself for every route (CORS)


def documented_operations(document):
    return {(path, method.upper()) for path, item in document["paths"].items() for method in item}


def registered_operations(app):
    found = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - SKIPPED_METHODS:
            found.add((path, method))
    return found


def test_the_document_is_openapi_3_1_and_served_without_authentication(make_app):
    app = make_app(CRS_CDS_AUTH="jwt")
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert set(document["components"]["schemas"]) >= {
        "OperationOutcome",
        "HookRequest",
        "CdsResponse",
        "Card",
        "CrsAssessment",
        "FeedbackRequest",
        "FeedbackStored",
        "Discovery",
    }


def test_every_registered_route_is_documented_and_every_documented_one_exists(app):
    document = app.test_client().get("/openapi.json").get_json()
    assert registered_operations(app) == documented_operations(document)


def test_every_operation_documents_its_error_bodies_as_operation_outcomes(app):
    document = app.test_client().get("/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, answer in operation["responses"].items():
                content = answer.get("content", {}).get("application/json")
                if int(status) >= 400 and content is not None:
                    assert content["schema"] == {"$ref": "#/components/schemas/OperationOutcome"}, (
                        path,
                        method,
                        status,
                    )


def test_real_answers_validate_against_their_schemas(make_app):
    client = in_demo_time(make_app()).test_client()
    patient_id, prefetch = demo_prefetch()

    discovery = client.get("/cds-services").get_json()
    view = client.post(
        "/cds-services/crs-patient-view", json=hook_body(patient_id, prefetch=prefetch)
    ).get_json()
    select = client.post(
        "/cds-services/crs-order-select",
        json=hook_body(patient_id, hook="order-select", prefetch=prefetch),
    )
    feedback = client.post(
        "/cds-services/crs-patient-view/feedback",
        json={
            "feedback": [
                {"card": "c-1", "outcome": "overridden", "outcomeTimestamp": "2026-01-10T20:00:00Z"}
            ]
        },
    )
    errors = [
        client.post("/cds-services/crs-patient-view", data="{", content_type="application/json"),
        client.post("/cds-services/nope", json={}),
        client.post("/cds-services/crs-patient-view", data="x", content_type="text/plain"),
        client.post(
            "/cds-services/crs-patient-view", json=hook_body(patient_id, prefetch={"patient": None})
        ),
    ]

    assert view["cards"], "the demo case must give cards for this test to mean something"
    assert schema_errors("Discovery", discovery) == []
    assert schema_errors("CdsResponse", view) == []
    assert schema_errors("CdsResponse", select.get_json()) == []
    assert schema_errors("FeedbackStored", feedback.get_json()) == []
    assert [e.status_code for e in errors] == [400, 404, 415, 412]
    for error in errors:
        assert schema_errors("OperationOutcome", error.get_json()) == []


def test_the_card_schema_catches_a_broken_card():
    """The schema is strict where the contract is (SPEC section 4): it can fail."""
    card = {
        "summary": "x" * 140,
        "indicator": "urgent",
        "source": {},
        "extension": {"org.crscds.assessment": {"grade": 7}},
    }
    problems = " ".join(schema_errors("Card", card))
    for part in ("summary", "indicator", "label", "grade", "peakGrade"):
        assert part in problems


def test_the_schema_holds_cds_hooks_codings_and_actions():
    """CDS Hooks 2.0.1 (found in review): an override reason has system, code and display; a
    create or update action has its resource, a delete its resourceId."""
    card = {
        "summary": "s",
        "indicator": "info",
        "source": {"label": "x", "topic": {"code": "c"}},
        "overrideReasons": [{"code": "c", "system": "s"}],
        "suggestions": [
            {
                "label": "l",
                "uuid": "u",
                "actions": [
                    {"type": "create", "description": "d"},
                    {"type": "delete", "description": "d"},
                ],
            }
        ],
        "selectionBehavior": "any",
    }
    problems = schema_errors("Card", card)
    assert any("display" in p for p in problems), problems
    assert any("system" in p and "topic" in p for p in problems), problems
    assert any("resource" in p and "resourceId" not in p for p in problems), problems
    assert any("resourceId" in p for p in problems), problems


# --- schemathesis ---------------------------------------------------------------------------


def _fuzzed_app():
    """The app with authentication off (so generated bodies reach validation and the FHIR
    reader) and its clock in the demo case; outbound requests are refused by ``responses``
    in the test. Built at import: schemathesis collects operations from it."""
    folder = tempfile.mkdtemp(prefix="crs-cds-openapi-")
    app = create_app(
        {
            "CRS_CDS_AUTH": "none",
            "CRS_CDS_FHIR_TIMEOUT_S": "1",
            "DATABASE_URL": f"sqlite:///{folder}/crs_cds.sqlite3",
        }
    )
    app.config["TESTING"] = True
    return in_demo_time(app)


schema = schemathesis.openapi.from_wsgi("/openapi.json", _fuzzed_app())


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_get_no_500_and_documented_answers(case, mocked_http):
    case.call_and_validate(
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ]
    )


def _examples(document):
    body = document["paths"]["/cds-services/{service_id}"]["post"]["requestBody"]
    return body["content"]["application/json"]["examples"]


def test_each_hook_has_an_example_request_that_the_service_answers(make_app):
    """Issue 14: an example request per hook, valid against HookRequest, answered 200 with the
    grade the example describes (two vasopressors: revised Lee 2014 grade 3, seed Table 2)."""
    from datetime import datetime

    from cds_service.clock import fixed_clock, set_clock
    from cds_service.openapi_examples import EXAMPLE_AS_OF

    app = make_app()
    set_clock(app, fixed_clock(datetime.fromisoformat(EXAMPLE_AS_OF.replace("Z", "+00:00"))))
    client = app.test_client()
    document = client.get("/openapi.json").get_json()
    examples = _examples(document)
    services = {s["hook"]: s["id"] for s in client.get("/cds-services").get_json()["services"]}
    assert set(examples) == set(services) == {"patient-view", "order-select", "order-sign"}
    for hook, example in examples.items():
        body = example["value"]
        assert body["hook"] == hook
        assert schema_errors("HookRequest", body) == []
        response = client.post(f"/cds-services/{services[hook]}", json=body)
        assert response.status_code == 200, response.get_json()
        answer = response.get_json()
        assert schema_errors("CdsResponse", answer) == []
        assert answer["cards"], hook
        if hook == "patient-view":
            assessment = answer["cards"][0]["extension"]["org.crscds.assessment"]
            assert (assessment["grade"], assessment["therapy"]["day"]) == (3, 6)
        else:
            assert "656" in str(answer), "the order check speaks of the drafted dose"
