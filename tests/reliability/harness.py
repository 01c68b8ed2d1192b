"""Shared by the reliability, security and storage tests: demo-case hook calls, a loopback FHIR
server whose faults the test chooses, log capture, and the checks every answer must pass.

The checks are the contract of issue 7: whatever the input, the answer is defined (200 with
cards valid per our OpenAPI schema, or an OperationOutcome with a documented status), never a
500, and within the FHIR time budget plus a margin for grading (the budget itself is timed
on the FHIR read, ``read_durations``: grading is not in it and slows on a loaded machine).
Every card is validated, and every evidence reference must name a resource of the call's own
patient.
"""

from __future__ import annotations

import functools
import http.server
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
import orjson
from ehr_pages import ehr_prefetch
from flask import Flask
from service import support as service_support

from cds_service.demo import load_bundle
from cds_service.openapi import openapi_document

#: asOf of the demo calls: day 5 of case 3 (day 0 = 2026-01-05), so the patient is in scope and
#: real cards flow. Set on an app with ``in_demo_time(app)``.
DEMO_AS_OF = datetime(2026, 1, 10, 20, 0, tzinfo=UTC)

#: Budget given to the app in fault tests (CRS_CDS_FHIR_TIMEOUT_S) and the margin a FHIR read
#: may take beyond it (the reader's threads waking on a loaded machine). The budget bounds the
#: read, which tests time with ``read_durations``.
BUDGET_S = 1.0
MARGIN_S = 1.5
#: What a whole call may take beyond the budget: grading a demo case on a loaded 2-core CI
#: machine, which no budget bounds. Well below the delay of every slow server of these tests
#: (10 s), so an answer within it still proves that the call did not wait for the server.
CALL_MARGIN_S = 6.0
#: How long a slow test server holds its answer: longer than any call may take.
SERVER_DELAY_S = 10.0
#: Statuses a hook call may answer with. 500 is never defined; 503 only for storage failures.
DEFINED_HOOK_STATUSES = {200, 400, 412, 413}

# Sentinels planted in demo data: none of them may ever appear in a log line.
SENTINEL_FAMILY = "Quixotrel"
SENTINEL_GIVEN = "Wendeline"
SENTINEL_BIRTH_DATE = "1931-02-27"
SENTINEL_MRN = "MRN-77418-SENTINEL"
SENTINEL_VALUES = (39.8712, 71.3377, 4.9183)  # a temperature, a heart rate, a creatinine


@functools.lru_cache(maxsize=8)
def _bundle_bytes(case: str) -> bytes:
    return orjson.dumps(load_bundle(case))


def in_demo_time(app: Flask) -> Flask:
    """Freeze ``app``'s clock at ``DEMO_AS_OF`` (the clock of cds_service.clock)."""
    from cds_service.clock import fixed_clock, set_clock

    set_clock(app, fixed_clock(DEMO_AS_OF))
    return app


def demo_resources(case: str = "case3") -> tuple[str, list[dict[str, Any]]]:
    """The patient id and the resources of a demo case's transaction Bundle (a fresh copy)."""
    bundle = orjson.loads(_bundle_bytes(case))
    resources = [entry["resource"] for entry in bundle["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    return patient["id"], resources


def searchset(resources: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
    """A searchset Bundle of ``resources`` with its ``total``, as FHIR servers send them."""
    return {**service_support.searchset(resources, next_url), "total": len(resources)}


def demo_prefetch(case: str = "case3", *, sentinels: bool = True) -> tuple[str, dict[str, Any]]:
    """A full prefetch (every template key) built from a demo case.

    With ``sentinels`` the Patient gets a name, birth date and MRN that appear nowhere else and
    the first temperature, heart rate and creatinine get values with four decimals, so a test
    can search logs for them without matching timings by chance.
    """
    patient_id, resources = demo_resources(case)
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    if sentinels:
        patient["name"] = [{"family": SENTINEL_FAMILY, "given": [SENTINEL_GIVEN]}]
        patient["birthDate"] = SENTINEL_BIRTH_DATE
        patient["identifier"] = [{"system": "urn:mrn", "value": SENTINEL_MRN}]
        _plant_values(resources)
    # Every template answered over the whole chart at once, as an EHR with large pages would.
    return patient_id, ehr_prefetch(resources, patient_id, page_size=0)


def _plant_values(resources: list[dict[str, Any]]) -> None:
    wanted = dict(zip(("8310-5", "8867-4", "2160-0"), SENTINEL_VALUES, strict=True))
    for resource in resources:
        if resource["resourceType"] != "Observation" or "valueQuantity" not in resource:
            continue
        codes = {c.get("code") for c in resource.get("code", {}).get("coding", [])}
        for code in list(wanted):
            if code in codes:
                resource["valueQuantity"]["value"] = wanted.pop(code)
                break
    assert not wanted, f"demo case lacks observations for {sorted(wanted)}"


def hook_body(
    patient_id: str,
    *,
    hook: str = "patient-view",
    prefetch: dict[str, Any] | None = None,
    fhir_server: str | None = None,
    token: str | None = None,
    hook_instance: str = "7b0c1a9e-reliability",
) -> dict[str, Any]:
    """A valid CDS Hooks call of ``hook`` for ``patient_id`` (order hooks: one draft
    tocilizumab order, ``MedicationRequest/draft-toci``)."""
    return service_support.hook_body(
        hook,
        prefetch=prefetch,
        fhir_server=fhir_server,
        token=token,
        context=service_support.hook_context(hook, patient_id, draft_id="draft-toci"),
        hook_instance=hook_instance,
    )


# --- checks ---------------------------------------------------------------------------------


_VALIDATORS: dict[str, Any] = {}


def schema_validator(name: str) -> Any:
    """A JSON Schema 2020-12 validator of ``#/components/schemas/<name>`` of our OpenAPI."""
    if name not in _VALIDATORS:
        document = openapi_document(Flask(__name__))
        schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        _VALIDATORS[name] = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
    return _VALIDATORS[name]


def schema_errors(name: str, instance: Any) -> list[str]:
    return [f"{e.instance_path}: {e.message}" for e in schema_validator(name).iter_errors(instance)]


def evidence_references(answer: dict[str, Any]) -> set[str]:
    """Every ``Type/id`` the cards cite as evidence (drivers and attribution warnings)."""
    found: set[str] = set()
    for card in answer.get("cards", []):
        assessment = card.get("extension", {}).get("org.crscds.assessment") or {}
        for item in assessment.get("drivers", []) + assessment.get("attributionWarnings", []):
            found.update(item.get("evidence", []))
    return found


def assert_defined_answer(
    response: Any,
    elapsed_s: float | None,
    *,
    budget_s: float = BUDGET_S,
    allowed: set[int] | None = None,
    own_ids: set[str] | None = None,
) -> dict[str, Any]:
    """The answer is defined, schema-valid and in time; returns its JSON body.

    ``elapsed_s`` None: the caller times what the budget bounds itself (``read_durations``)."""
    allowed = allowed if allowed is not None else DEFINED_HOOK_STATUSES
    body = response.get_json(silent=True) if hasattr(response, "get_json") else response.json()
    status = response.status_code
    assert status in allowed, f"status {status}: {body}"
    if elapsed_s is not None:
        assert elapsed_s < budget_s + CALL_MARGIN_S, f"answered after {elapsed_s:.2f} s"
    assert isinstance(body, dict), "the answer is not a JSON object"
    if status == 200:
        assert schema_errors("CdsResponse", body) == []
        if own_ids is not None:
            foreign = evidence_references(body) - own_ids
            assert not foreign, f"evidence outside the call's own resources: {sorted(foreign)}"
    else:
        assert schema_errors("OperationOutcome", body) == []
        assert "Traceback" not in json.dumps(body)
    return body


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


@contextmanager
def read_durations(app: Flask) -> Iterator[list[float]]:
    """The wall-clock seconds each ``FhirReader.read`` of ``app`` took while the block runs.

    The FHIR time budget bounds the read, not grading: a test of the budget times the read
    itself, so that a loaded machine grading slowly cannot fail it, and asserts of the whole
    call only what a loaded machine cannot break (it did not wait for the faulty server)."""
    from cds_service.web.cds import get_fhir_reader

    reader = get_fhir_reader(app)
    durations: list[float] = []
    original = reader.read

    def timed_read(**kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(**kwargs)
        finally:
            durations.append(time.perf_counter() - started)

    reader.read = timed_read  # type: ignore[method-assign]
    try:
        yield durations
    finally:
        del reader.read


# --- log capture ----------------------------------------------------------------------------


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.lock_ = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self.lock_:
            self.records.append(record)


@contextmanager
def all_log_records() -> Iterator[list[logging.LogRecord]]:
    """Every record of every logger at DEBUG while the block runs (root and ours)."""
    collector = _Collector()
    root = logging.getLogger()
    ours = logging.getLogger("cds_service")
    saved = root.level, ours.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    ours.setLevel(logging.DEBUG)
    try:
        yield collector.records
    finally:
        root.removeHandler(collector)
        root.setLevel(saved[0])
        ours.setLevel(saved[1])


def rendered(records: list[logging.LogRecord]) -> str:
    """All records as text: message, args, extra fields and any exception text, and the JSON
    line our formatter writes for them."""
    from cds_service.logs import JsonFormatter

    formatter = JsonFormatter()
    plain = logging.Formatter("%(name)s %(levelname)s %(message)s")
    parts = []
    for record in records:
        parts.append(plain.format(record))
        parts.append(formatter.format(record))
        parts.append(repr(getattr(record, "fields", None)))
        parts.append(repr(record.args))
    return "\n".join(parts)


# --- loopback FHIR server -------------------------------------------------------------------

Behaviour = Callable[[http.server.BaseHTTPRequestHandler], None]


class LoopbackFhirServer:
    """A threaded HTTP server on 127.0.0.1 whose answers a test chooses per path prefix.

    Used where timing matters (``responses`` cannot be slow or trickle). Every behaviour is
    bounded in time and stops when the server closes.
    """

    def __init__(self) -> None:
        self.routes: list[tuple[str, Behaviour]] = []
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.closing = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.requests.append((self.path, dict(self.headers)))
                for prefix, behaviour in server.routes:
                    if self.path.startswith(prefix):
                        try:
                            behaviour(self)
                        except (BrokenPipeError, ConnectionResetError):
                            pass
                        return
                send_json(self, {"resourceType": "Bundle", "type": "searchset", "entry": []})

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/fhir"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def route(self, path: str, behaviour: Behaviour) -> None:
        """Answer GETs whose path starts with ``/fhir/<path>`` with ``behaviour``."""
        self.routes.append((f"/fhir/{path}", behaviour))

    def __enter__(self) -> LoopbackFhirServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def send_json(
    handler: http.server.BaseHTTPRequestHandler, document: Any, status: int = 200
) -> None:
    body = json.dumps(document).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/fhir+json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def slow(seconds: float, document: Any, closing: threading.Event) -> Behaviour:
    """Answer ``document`` after ``seconds`` (or when the server closes)."""

    def behaviour(handler: http.server.BaseHTTPRequestHandler) -> None:
        closing.wait(seconds)
        send_json(handler, document)

    return behaviour


def trickle(closing: threading.Event, interval_s: float = 0.05, limit_s: float = 60.0) -> Behaviour:
    """Declare a large JSON body and send one byte per ``interval_s``: never a read timeout."""

    def behaviour(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/fhir+json")
        handler.send_header("Content-Length", "1000000")
        handler.end_headers()
        handler.wfile.write(b'{"resourceType": "Bundle", "entry": [')
        handler.wfile.flush()
        deadline = time.monotonic() + limit_s
        while not closing.is_set() and time.monotonic() < deadline:
            handler.wfile.write(b" ")
            handler.wfile.flush()
            closing.wait(interval_s)

    return behaviour


def cut_off(prefix: bytes, declared: int) -> Behaviour:
    """Declare ``declared`` bytes, send ``prefix`` and close the connection."""

    def behaviour(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/fhir+json")
        handler.send_header("Content-Length", str(declared))
        handler.end_headers()
        handler.wfile.write(prefix)
        handler.wfile.flush()
        handler.close_connection = True

    return behaviour
