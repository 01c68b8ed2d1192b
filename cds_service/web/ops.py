"""The ``ops`` blueprint: liveness, readiness, Prometheus metrics (SPEC section 4) and the
OpenAPI document. None of them needs authentication; none shows patient data."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from cds_service.errors import ServiceUnavailable
from cds_service.metrics import get_metrics
from cds_service.openapi import openapi_document
from cds_service.storage import get_storage
from cds_service.web.responses import json_response

__all__ = ["bp"]

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers HTTP."""
    return json_response({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: the database answers."""
    if not get_storage().ping():
        raise ServiceUnavailable("database unreachable")
    return json_response({"status": "ready", "checks": {"database": "ok"}})


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text exposition of this app's registry."""
    return get_metrics().exposition()


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of the public API."""
    return json_response(openapi_document(current_app))
