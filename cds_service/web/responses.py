"""JSON answers: every JSON body the service sends, error or not, is serialized here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from flask import Response

__all__ = ["json_response"]


def json_response(
    body: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """``body`` as an ``application/json`` response with ``status`` and extra ``headers``."""
    return Response(
        orjson.dumps(body), status=status, mimetype="application/json", headers=headers
    )
