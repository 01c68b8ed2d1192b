"""The ``ops`` blueprint: liveness, readiness and Prometheus metrics (SPEC section 4)."""

from __future__ import annotations

import orjson
from flask import Blueprint, Response

from cds_service.errors import ServiceUnavailable
from cds_service.metrics import get_metrics
from cds_service.storage import get_storage

__all__ = ["bp"]

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers HTTP."""
    return Response(orjson.dumps({"status": "ok"}), mimetype="application/json")


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: the database answers."""
    if not get_storage().ping():
        raise ServiceUnavailable("database unreachable")
    return Response(
        orjson.dumps({"status": "ready", "checks": {"database": "ok"}}),
        mimetype="application/json",
    )


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text exposition of this app's registry."""
    return get_metrics().exposition()
