"""Request limits (issues 7 and 13): body size (413 before the body is read or parsed,
CRS_CDS_MAX_REQUEST_BYTES), FHIR resources per call (413, CRS_CDS_MAX_RESOURCES) and JSON
nesting depth (400 beyond orjson's 1,024 levels anywhere, beyond 64 levels in ``context``
where the draft orders are copied recursively), each answered with an OperationOutcome, never
a 500. A month of monitor-rate vitals is a real chart and is answered (SPEC 3, Volume)."""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from werkzeug.test import EnvironBuilder

from cds_service.config import get_settings
from cds_service.errors import SettingsError
from cds_service.validation import MAX_JSON_DEPTH, nesting_exceeds

SERVICE = "/cds-services/crs-patient-view"
FEEDBACK = "/cds-services/crs-patient-view/feedback"


def body(prefetch=None, **context):
    return {
        "hook": "patient-view",
        "hookInstance": "limits-1",
        "context": {"userId": "Practitioner/1", "patientId": "pt-1", **context},
        "prefetch": prefetch
        or {"patient": {"resourceType": "Patient", "id": "pt-1"}, "vitals": None},
    }


def issue(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    (only,) = response.get_json()["issue"]
    return only


# --- bytes ----------------------------------------------------------------------------------


def test_a_body_over_the_configured_size_is_413_naming_the_limit(make_app):
    client = make_app(CRS_CDS_MAX_REQUEST_BYTES="65536").test_client()
    big = body()
    big["prefetch"]["patient"]["text"] = {"div": "x" * 70_000}
    found = issue(client.post(SERVICE, json=big), 413)
    assert found == {
        "severity": "error",
        "code": "too-long",
        "diagnostics": "the request body is larger than the limit of 65536 bytes",
    }
    assert issue(client.post(FEEDBACK, json={"feedback": [], "pad": "x" * 70_000}), 413)


def test_the_default_limits_sit_well_above_a_month_of_monitor_rate_vitals(app):
    """SPEC 3 "Volume": a month of vitals every 5 minutes (about 45,000 resources, 40 MB) is a
    real chart, never refused; the limits are there against abuse (issue 13)."""
    settings = get_settings(app)
    assert app.config["MAX_CONTENT_LENGTH"] == settings.max_request_bytes == 128 * 1024 * 1024
    assert settings.max_resources == 200_000


@pytest.mark.parametrize("value", ["1000", "999999999999", "lots"])
def test_a_bad_body_limit_fails_at_start(make_app, value):
    with pytest.raises(SettingsError, match="^CRS_CDS_MAX_REQUEST_BYTES"):
        make_app(CRS_CDS_MAX_REQUEST_BYTES=value)


class Upload(io.RawIOBase):
    """A request body arriving in chunks; counts what the service read of it."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._pending = b""
        self.read_bytes = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self.read_bytes += size
        return size


def never_parsed(monkeypatch):
    """Make parsing the body fail the test."""

    def parse(*args, **kwargs):
        raise AssertionError("the body was parsed")

    monkeypatch.setattr("cds_service.web.cds.parse_hook_request", parse)


def post_stream(app, upload, content_length=None):
    """POST ``upload`` as a server hands it to the app: with ``Content-Length``, or without
    one and marked terminated (gunicorn's chunked request bodies)."""
    environ = EnvironBuilder(SERVICE, method="POST", content_type="application/json").get_environ()
    environ["wsgi.input"] = upload
    environ.pop("CONTENT_LENGTH", None)
    if content_length is None:
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(content_length)
    return app.response_class.from_app(app, environ, buffered=True)


def test_a_body_announced_over_the_limit_is_413_before_a_byte_of_it_is_read(make_app, monkeypatch):
    never_parsed(monkeypatch)
    app = make_app(CRS_CDS_MAX_REQUEST_BYTES="65536")
    upload = Upload([b"{" * 70_000])
    response = post_stream(app, upload, content_length=70_000)
    assert issue(response, 413)["code"] == "too-long"
    assert upload.read_bytes == 0


def test_a_body_with_its_length_is_read_whole_whatever_steps_the_server_reads_in(make_app):
    """Issue 13: a body with Content-Length is read in one call where the server allows it;
    a server whose input hands over a few bytes per read still gives the whole body."""
    text = json.dumps(body()).encode()
    upload = Upload(text[i : i + 7] for i in range(0, len(text), 7))
    response = post_stream(make_app(), upload, content_length=len(text))
    assert response.status_code == 200, response.get_data(as_text=True)  # parsed and answered
    assert upload.read_bytes == len(text)


def test_a_body_shorter_than_its_length_is_a_400_and_never_parsed(make_app, monkeypatch):
    """The client went away mid-body: nothing is parsed from what arrived (as werkzeug)."""
    never_parsed(monkeypatch)
    text = json.dumps(body()).encode()
    response = post_stream(make_app(), Upload([text[:-10]]), content_length=len(text))
    assert response.status_code == 400


def test_a_streamed_body_without_length_is_413_once_it_passes_the_limit(make_app, monkeypatch):
    """Chunked uploads carry no Content-Length: the read stops at the limit (gunicorn marks
    its input as terminated, so werkzeug may read it and limits the read)."""
    never_parsed(monkeypatch)
    app = make_app(CRS_CDS_MAX_REQUEST_BYTES="65536")
    upload = Upload(b"[" * 16_384 for _ in range(1_000))  # 16 MB if read to the end
    response = post_stream(app, upload)
    assert issue(response, 413) == {
        "severity": "error",
        "code": "too-long",
        "diagnostics": "the request body is larger than the limit of 65536 bytes",
    }
    assert 65_536 < upload.read_bytes <= 65_536 + 2 * 16_384


def test_a_streamed_body_within_the_limit_is_answered(make_app):
    app = make_app(CRS_CDS_MAX_REQUEST_BYTES="65536")
    text = json.dumps(body()).encode()
    upload = Upload(text[i : i + 100] for i in range(0, len(text), 100))
    response = post_stream(app, upload)
    assert response.status_code in (200, 412), response.get_data(as_text=True)
    assert upload.read_bytes == len(text)


# A vitals Observation as an EHR sends it on a monitor-rate flowsheet (about 880 bytes).
_VITAL = (
    '{"fullUrl": "https://ehr.example.org/fhir/Observation/v%(n)d", "resource": {'
    '"resourceType": "Observation", "id": "v%(n)d", "meta": {"lastUpdated": "%(t)s"}, '
    '"identifier": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679", "value": '
    '"flowsheet-%(n)d"}], "status": "final", "category": [{"coding": [{"system": '
    '"http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs", '
    '"display": "Vital Signs"}], "text": "Vital Signs"}], "code": {"coding": [{"system": '
    '"http://loinc.org", "code": "%(code)s", "display": "%(name)s"}, {"system": '
    '"urn:oid:1.2.840.114350.1.13.0.1.7.2.707679", "code": "%(row)s", "display": "%(name)s"}], '
    '"text": "%(name)s"}, "subject": {"reference": "Patient/pt-xl", "display": "Doe, Jane"}, '
    '"encounter": {"reference": "Encounter/icu-1", "display": "ICU stay"}, '
    '"effectiveDateTime": "%(t)s", "issued": "%(t)s", "performer": [{"reference": '
    '"Practitioner/rn-7", "display": "Nurse, Monitor"}], "valueQuantity": {"value": %(v)s, '
    '"unit": "%(unit)s", "system": "http://unitsofmeasure.org", "code": "%(ucum)s"}}, '
    '"search": {"mode": "match"}}'
)
_SIGNS = (
    ("8310-5", "Body temperature", "6", "37.1", "Cel", "Cel"),
    ("8867-4", "Heart rate", "8", "88", "beats/min", "/min"),
    ("9279-1", "Respiratory rate", "9", "16", "breaths/min", "/min"),
    ("59408-5", "SpO2", "10", "97", "%", "%"),
    ("8478-0", "Mean blood pressure", "5", "78", "mmHg", "mm[Hg]"),
)


def month_of_vitals():
    """A month of vitals every 5 minutes, newest first, as JSON text (no dicts: fast)."""
    newest = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    entries = []
    for step in range(30 * 24 * 12):
        moment = (newest - timedelta(minutes=5 * step)).isoformat()
        for code, name, row, value, unit, ucum in _SIGNS:
            fields = {"n": len(entries), "t": moment, "code": code, "name": name, "row": row}
            fields.update({"v": value, "unit": unit, "ucum": ucum})
            entries.append(_VITAL % fields)
    bundle = '{"resourceType": "Bundle", "type": "searchset", "total": %d, "entry": [%s]}'
    return bundle % (len(entries), ",".join(entries)), len(entries)


@pytest.mark.slow
def test_a_month_of_monitor_rate_vitals_is_answered_not_refused(client):
    """The 14-day chart of issue 13 got 413 (20,000 resources) after its whole body was
    parsed; a month (43,200 vitals, over 40 MB, more than the old 32 MiB) is answered."""
    vitals, count = month_of_vitals()
    infusion = datetime.now(UTC) - timedelta(days=29)  # in scope for 30 days (SPEC 2.1)
    therapy = {
        "resourceType": "MedicationAdministration",
        "id": "cart-1",
        "status": "completed",
        "medicationCodeableConcept": {"text": "tisagenlecleucel"},
        "subject": {"reference": "Patient/pt-xl"},
        "effectiveDateTime": infusion.isoformat(),
    }
    prefetch = {
        "patient": {"resourceType": "Patient", "id": "pt-xl", "birthDate": "1960-01-01"},
        "vitals": "__HERE__",
        "medications": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": therapy}],
        },
    }
    call = body(prefetch=prefetch, patientId="pt-xl")
    text = json.dumps(call).replace('"__HERE__"', vitals, 1).encode()
    assert count > 40_000 and len(text) > 40_000_000
    response = client.post(SERVICE, data=text, content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assessments = [
        card["extension"]["org.crscds.assessment"]
        for card in response.get_json()["cards"]
        if "org.crscds.assessment" in card.get("extension", {})
    ]
    (assessment,) = assessments
    assert assessment["therapy"]["reference"] == "MedicationAdministration/cart-1"
    assert assessment["skipped"] == []


# --- resources ------------------------------------------------------------------------------


def test_more_resources_than_allowed_is_413_too_costly(make_app):
    client = make_app(CRS_CDS_MAX_RESOURCES="10").test_client()
    observations = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": {"resourceType": "Observation", "id": f"o{n}"}} for n in range(10)],
    }
    prefetch = {"patient": {"resourceType": "Patient", "id": "pt-1"}, "vitals": observations}
    found = issue(client.post(SERVICE, json=body(prefetch)), 413)
    assert found["code"] == "too-costly"
    assert found["diagnostics"] == "the call holds 11 FHIR resources; at most 10 are accepted"


def test_draft_orders_count_towards_the_resource_limit(make_app):
    client = make_app(CRS_CDS_MAX_RESOURCES="10").test_client()
    orders = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "MedicationRequest", "id": f"m{n}"}} for n in range(10)
        ],
    }
    call = body(draftOrders=orders)
    call["hook"] = "order-sign"
    found = issue(client.post("/cds-services/crs-order-sign", json=call), 413)
    assert found["diagnostics"] == "the call holds 11 FHIR resources; at most 10 are accepted"


# --- nesting --------------------------------------------------------------------------------


def nested(depth):
    """A JSON text nested ``depth`` containers deep."""
    return "[" * depth + "]" * depth


def with_json(document, where, text):
    """``document`` as JSON text with the JSON ``text`` put at the path ``where``."""
    document = copy.deepcopy(document)
    container = document
    for key in where[:-1]:
        container = container[key]
    container[where[-1]] = "__HERE__"
    return json.dumps(document).replace('"__HERE__"', text, 1)


def order_call(hook):
    call = body(
        draftOrders={
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": {"resourceType": "MedicationRequest", "id": "m1"}}],
        },
        selections=["MedicationRequest/m1"],
    )
    call["hook"] = hook
    return call


SERVICES = {
    "patient-view": SERVICE,
    "order-select": "/cds-services/crs-order-select",
    "order-sign": "/cds-services/crs-order-sign",
}

#: Places in a hook call where an EHR's data could nest deeply and nothing recurses into it.
UNWALKED_PLACES = {
    "an extension of the Patient": ("prefetch", "patient", "extension"),
    "a whole prefetch key": ("prefetch", "vitals"),
    "a prefetch key the service does not know": ("prefetch", "somethingElse"),
    "a field the service does not know": ("somethingElse",),
}


@pytest.mark.parametrize("hook", SERVICES)
@pytest.mark.parametrize("place", UNWALKED_PLACES)
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000])
def test_deep_nesting_where_nothing_recurses_is_answered_never_a_500(client, hook, place, depth):
    """The prefetch is not walked (issue 13: that cost as much as parsing it); nesting up to
    orjson's own limit there is harmless."""
    call = body() if hook == "patient-view" else order_call(hook)
    text = with_json(call, UNWALKED_PLACES[place], nested(depth))
    response = client.post(SERVICES[hook], data=text, content_type="application/json")
    assert response.status_code in (200, 412), response.get_data(as_text=True)


def nested_bundles(levels):
    """A Bundle whose only entry is a Bundle, ``levels`` times (3 JSON levels each)."""
    inner = '{"resourceType": "Observation", "id": "deep"}'
    head = '{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": '
    return head * levels + inner + "}]}" * levels


def test_bundles_nested_as_deep_as_json_allows_never_exhaust_the_recursion_limit(client):
    """fhir_maps unpacks Bundles in Bundles recursively: orjson's 1,024 levels allow at most
    341 of them, far inside Python's recursion limit."""
    call = body(prefetch={"patient": {"resourceType": "Patient", "id": "pt-1"}})
    text = with_json(call, ("prefetch", "labs"), nested_bundles(338))
    orjson.loads(text)  # within orjson's limit
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(with_json(call, ("prefetch", "labs"), nested_bundles(342)))
    response = client.post(SERVICE, data=text, content_type="application/json")
    assert response.status_code in (200, 412), response.get_data(as_text=True)


_DRAFT = ("context", "draftOrders", "entry", 0)

#: Places in the draft orders, which the cards copy recursively into suggestions.
DRAFT_PLACES = {
    "an extension of a draft order": (*_DRAFT, "resource", "extension"),
    "a resource contained in a draft order": (*_DRAFT, "resource", "contained"),
    "a draft order's dosage": (*_DRAFT, "resource", "dosageInstruction"),
    "an entry of the draft orders": _DRAFT,
    "a field of the context the service does not know": ("context", "somethingElse"),
}


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
@pytest.mark.parametrize("place", DRAFT_PLACES)
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, 500, 1000])
def test_deeply_nested_context_is_400_never_a_recursion_error(client, hook, place, depth):
    text = with_json(order_call(hook), DRAFT_PLACES[place], nested(depth))
    response = client.post(SERVICES[hook], data=text, content_type="application/json")
    assert issue(response, 400) == {
        "severity": "error",
        "code": "structure",
        "diagnostics": "context nests deeper than 64 levels",
    }


def test_the_deepest_accepted_context_is_64_levels(client):
    """context (1) > draftOrders (2) > entry (3) > [0] (4) > resource (5) > extension (6...)."""
    call = order_call("order-sign")
    text = with_json(call, (*_DRAFT, "resource", "extension"), nested(MAX_JSON_DEPTH - 5))
    assert not nesting_exceeds(json.loads(text)["context"])
    response = client.post(SERVICES["order-sign"], data=text, content_type="application/json")
    assert response.status_code in (200, 412), response.get_data(as_text=True)


def test_nesting_beyond_orjson_is_400_not_json_anywhere(client):
    text = with_json(body(), ("prefetch", "vitals"), nested(1100))
    response = client.post(SERVICE, data=text, content_type="application/json")
    assert issue(response, 400)["diagnostics"] == "the request body is not valid JSON"


def test_deep_feedback_is_400(client):
    deep = '{"feedback": [], "x": ' + "[" * 100 + "]" * 100 + "}"
    response = client.post(FEEDBACK, data=deep, content_type="application/json")
    assert issue(response, 400)["diagnostics"] == "the request body nests deeper than 64 levels"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({}, False),
        ([], False),
        ("text", False),
        ({"a": [{"b": 1}]}, False),
        ({"a": [{"b": [1]}]}, True),
        ([[[]]], False),
    ],
)
def test_nesting_counts_containers(document, expected):
    assert nesting_exceeds(document, 3) is expected
    assert nesting_exceeds([[[[]]]], 3) is True


def test_the_body_is_read_once_and_nothing_is_left_to_drain(make_app):
    """The body is read from the server's input itself, all of it; werkzeug's stream over
    that input is then empty, so the after-request drain (which reads ``request.stream`` to
    its end) finds nothing: left as it was, it would wait on a kept-alive socket for the
    bytes already read."""
    from flask import request

    from cds_service.web.request_body import read_request_body

    text = json.dumps(body()).encode()
    app = make_app()
    with app.test_request_context(
        SERVICE, method="POST", data=text, content_type="application/json"
    ):
        assert read_request_body() == text
        assert request.environ["wsgi.input"].read(1) == b""  # the server's input: all read
        assert request.stream.read(1) == b""


def test_a_call_on_werkzeugs_server_is_answered_and_the_body_read_once(make_app):
    """On a real socket (werkzeug's development server, as the demo runs): the call is
    answered, not left waiting by a reader after the body's own (issue 13's first direct read
    hung here), and a second call on a new connection is answered too."""
    import http.client
    import threading

    from werkzeug.serving import make_server

    app = make_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    text = json.dumps(body()).encode()
    statuses = []
    try:
        for _ in range(2):
            connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=20)
            connection.request(
                "POST", SERVICE, body=text, headers={"Content-Type": "application/json"}
            )
            answer = connection.getresponse()
            statuses.append((answer.status, "cards" in json.loads(answer.read())))
            connection.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert statuses == [(200, True), (200, True)]
