"""The ``cds`` blueprint: CDS Hooks discovery, service calls and feedback (SPEC section 4).

Views are thin: authenticate, parse, call one function, serialize.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from flask import Blueprint, Flask, Response, current_app, g, request

from cds_service.auth import endpoint_audience, get_verifier
from cds_service.config import AuthMode, get_settings
from cds_service.errors import NotFound
from cds_service.fhir_io import FhirEndpoint, FhirReader, PatientData
from cds_service.hooks import answer_hook
from cds_service.logs import hook_instance_var
from cds_service.metrics import get_metrics
from cds_service.services import SERVICES_BY_ID, CdsService, discovery_document
from cds_service.storage import get_storage
from cds_service.validation import HookRequest, parse_feedback, parse_hook_request

__all__ = ["bp", "get_fhir_reader", "init_app"]

logger = logging.getLogger(__name__)

_READER_KEY = "crs_cds.fhir_reader"

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
    return _json(discovery_document())


@bp.post("/<service_id>")
def call_service(service_id: str) -> Response:
    service = _service(service_id)
    hook_request = parse_hook_request(service, request.mimetype, request.get_data())
    hook_instance_var.set(hook_request.hook_instance)
    data = _patient_data(service, hook_request)
    answer = answer_hook(service, hook_request, data, get_settings())
    logger.info(
        "hook answered",
        extra={
            "fields": {
                "service": service.id,
                "cards": len(answer.get("cards", [])),
                "dataProblems": [problem.key for problem in data.problems],
            }
        },
    )
    return _json(answer)


@bp.post("/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    service = _service(service_id)
    items = parse_feedback(request.mimetype, request.get_data())
    stored = get_storage().store_feedback(service.id, items)
    logger.info("feedback stored", extra={"fields": {"service": service.id, "items": stored}})
    return _json({"stored": stored})


def _service(service_id: str) -> CdsService:
    service = SERVICES_BY_ID.get(service_id)
    if service is None:
        raise NotFound(f"no CDS service with id {service_id[:64]!r}")
    return service


def _patient_data(service: CdsService, hook_request: HookRequest) -> PatientData:
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
    )
    problems = get_metrics().fhir_problems
    for problem in data.problems:
        problems.labels(problem.key).inc()
    return data


def _json(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), mimetype="application/json")


def init_app(app: Flask, reader: FhirReader) -> None:
    """Register the blueprint and the app's FHIR reader."""
    app.extensions[_READER_KEY] = reader
    app.register_blueprint(bp)


def get_fhir_reader(app: Flask | None = None) -> FhirReader:
    """The FHIR reader of ``app``, or of the current app inside a request."""
    target = app if app is not None else current_app
    reader = target.extensions[_READER_KEY]
    assert isinstance(reader, FhirReader)  # noqa: S101 - set only by init_app
    return reader
