"""The ``cds`` blueprint: CDS Hooks discovery, service calls and feedback (SPEC section 4).

Views are thin: authenticate, parse, call one function, serialize. Limits: the body size
(``CRS_CDS_MAX_REQUEST_BYTES``, werkzeug's 413 before the body is read: by ``Content-Length``,
or while reading a streamed body), the JSON nesting depth (400, in ``validation``) and the
FHIR resources per call (``CRS_CDS_MAX_RESOURCES``, 413 for the prefetch, a reported stop for
what is fetched). A trusted issuer configured with
``fhir_servers`` may only send us to those FHIR servers.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from cds_service.admission import Admission
from cds_service.auth import CallerIdentity, endpoint_audience, get_verifier
from cds_service.config import AuthMode, Settings, get_settings
from cds_service.errors import BadRequest, NotFound, quoted
from cds_service.fhir_io import FhirEndpoint, FhirReader, PatientData
from cds_service.hooks import answer_hook, store_audit
from cds_service.logs import hook_instance_var
from cds_service.metrics import get_metrics
from cds_service.services import SERVICES_BY_ID, CdsService, discovery_document
from cds_service.storage import get_storage
from cds_service.validation import HookRequest, parse_feedback, parse_hook_request
from cds_service.web.request_body import read_request_body
from cds_service.web.responses import json_response

__all__ = ["bp", "get_admission", "get_fhir_reader", "init_app"]

logger = logging.getLogger(__name__)

_READER_KEY = "crs_cds.fhir_reader"
_ADMISSION_KEY = "crs_cds.admission"
_DRAIN_CHUNK = 256 * 1024

bp = Blueprint("cds", __name__, url_prefix="/cds-services")


@bp.before_request
def authenticate() -> None:
    """CDS Hooks 2.0.1 section Trusting CDS Clients: a JWT on every call, discovery too."""
    if request.method == "OPTIONS":  # CORS preflights carry no credentials
        return
    settings = get_settings()
    if settings.auth is AuthMode.NONE:
        return
    audience = endpoint_audience(settings.public_url, request.base_url, request.path)
    g.crs_cds_caller = get_verifier().verify(request.headers.get("Authorization"), audience)


@bp.get("")
def discovery() -> Response:
    return json_response(discovery_document())


@bp.post("/<service_id>")
def call_service(service_id: str) -> Response:
    started = time.perf_counter()
    service = _service(service_id)
    settings = get_settings()
    admission = get_admission()
    body = read_request_body()  # before taking a slot: a slow upload is I/O, not CPU
    with admission.slot():
        hook_request = parse_hook_request(
            service, request.mimetype, body, max_resources=settings.max_resources
        )
    del body  # parsed: up to 40 MB less for the rest of the call
    hook_instance_var.set(hook_request.hook_instance)
    _check_fhir_server(settings, hook_request)
    data = _patient_data(service, hook_request, settings.max_resources)  # no slot: I/O
    with admission.slot():
        answer = answer_hook(service, hook_request, data, settings, started=started)
    problems = [problem.key for problem in data.problems]
    # The call's FHIR data go before the audit row is written: the database driver's objects
    # made for the write (sqlite3 keeps a weak reference per cursor until it has made 200)
    # would otherwise land among that data and keep its memory after the call
    # (docs/performance.md, phase 5).
    del data, hook_request
    store_audit(answer.audit)
    logger.info(
        "hook answered",
        extra={
            "fields": {
                "service": service.id,
                "cards": len(answer.body.get("cards", [])),
                "dataProblems": problems,
            }
        },
    )
    return json_response(answer.body)


@bp.post("/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    service = _service(service_id)
    items = parse_feedback(request.mimetype, read_request_body())
    stored, duplicates = get_storage().store_feedback(service.id, items)
    logger.info(
        "feedback stored",
        extra={"fields": {"service": service.id, "items": stored, "duplicates": duplicates}},
    )
    answer: dict[str, int] = {"stored": stored}
    if duplicates:
        answer["duplicates"] = duplicates
    return json_response(answer)


def _service(service_id: str) -> CdsService:
    service = SERVICES_BY_ID.get(service_id)
    if service is None:
        raise NotFound(f"no CDS service with id {quoted(service_id)}")
    return service


def _check_fhir_server(settings: Settings, hook_request: HookRequest) -> None:
    """SSRF guard: an issuer configured with ``fhir_servers`` may name only those."""
    caller = g.get("crs_cds_caller")
    if hook_request.fhir_server is None or not isinstance(caller, CallerIdentity):
        return
    keys = settings.trusted_issuers.get(caller.issuer)
    allowed = keys.fhir_servers if keys is not None else None
    if allowed is not None and hook_request.fhir_server.rstrip("/") not in allowed:
        raise BadRequest(
            "fhirServer is not a FHIR server configured for this client", issue_code="security"
        )


def _patient_data(
    service: CdsService, hook_request: HookRequest, max_resources: int
) -> PatientData:
    endpoint = None
    if hook_request.fhir_server is not None:
        token = hook_request.fhir_authorization
        endpoint = FhirEndpoint(hook_request.fhir_server, token.access_token if token else None)
    data = get_fhir_reader().read(
        templates=service.prefetch,
        tokens=hook_request.context.prefetch_tokens(),
        patient_id=hook_request.context.patient_id,
        prefetch=hook_request.prefetch,
        endpoint=endpoint,
        max_resources=max_resources,
        draft_orders=hook_request.context.draft_orders,
    )
    problems = get_metrics().fhir_problems
    for problem in data.problems:
        problems.labels(problem.key).inc()
    return data


def _drain_unread_body(response: Response) -> Response:
    """Read and drop what is left of a request body no view read (a refused JWT, an unknown
    service), so that the kept-alive connection can carry the client's next request.

    gunicorn drains at most 64 KiB of an unread body itself; beyond that it closes the
    connection after answering, and a client that reuses it (as EHRs do) gets "connection
    aborted" on its next call. The read is bounded by ``CRS_CDS_MAX_REQUEST_BYTES``; a body
    over it is a 413, after which the connection closes anyway.
    """
    if response.status_code == 413 or not request.content_length:
        return response
    try:
        while request.stream.read(_DRAIN_CHUNK):
            pass
    except (HTTPException, OSError):
        pass  # the client went away: nothing to keep alive
    return response


def init_app(app: Flask, reader: FhirReader) -> None:
    """Register the blueprint and the app's FHIR reader, apply the body size limit, set up
    load shedding, and drain unread request bodies."""
    app.extensions[_READER_KEY] = reader
    settings = get_settings(app)
    app.extensions[_ADMISSION_KEY] = Admission(settings.max_in_flight, settings.queue_wait_s)
    app.config["MAX_CONTENT_LENGTH"] = get_settings(app).max_request_bytes
    app.after_request(_drain_unread_body)
    app.register_blueprint(bp)


def get_admission(app: Flask | None = None) -> Admission:
    """The load-shedding gate of ``app``, or of the current app inside a request."""
    target = app if app is not None else current_app
    admission = target.extensions[_ADMISSION_KEY]
    assert isinstance(admission, Admission)  # noqa: S101 - set only by init_app
    return admission


def get_fhir_reader(app: Flask | None = None) -> FhirReader:
    """The FHIR reader of ``app``, or of the current app inside a request."""
    target = app if app is not None else current_app
    reader = target.extensions[_READER_KEY]
    assert isinstance(reader, FhirReader)  # noqa: S101 - set only by init_app
    return reader
