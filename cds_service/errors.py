"""Every error the service raises, and how each becomes an HTTP answer.

The whole tree::

    Exception
    ├── SettingsError (ValueError)       bad configuration; create_app() fails at start
    └── ServiceError                     500  exception      an HTTP answer with an OperationOutcome
        ├── BadRequest                   400  invalid        malformed request; says which field
        ├── Unauthorized                 401  login          bad or missing JWT; never says why
        ├── NotFound                     404  not-found      unknown service
        ├── FhirDataUnavailable          412  incomplete     Patient or Observations not obtainable
        ├── PayloadTooLarge              413  too-costly     more FHIR resources than allowed
        ├── UnsupportedMediaType         415  not-supported  body is not JSON
        └── ServiceUnavailable           503  transient      not ready, or a write failed: retry

Every error answer, including werkzeug's own (unknown route, 405, 413) and any unexpected
exception, is a FHIR OperationOutcome (SPEC section 4). An unexpected exception is a 500 whose
body holds no exception text and no stack trace; the server log records where it happened,
without the exception's message, because that message may hold patient data.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any, ClassVar

from flask import Flask, Response, current_app
from werkzeug.exceptions import HTTPException

from cds_service.web.responses import json_response

logger = logging.getLogger(__name__)

__all__ = [
    "BadRequest",
    "FhirDataUnavailable",
    "NotFound",
    "PayloadTooLarge",
    "ServiceError",
    "ServiceUnavailable",
    "SettingsError",
    "Unauthorized",
    "UnsupportedMediaType",
    "init_app",
    "operation_outcome",
    "quoted",
    "where_raised",
]


class SettingsError(ValueError):
    """A configuration value is invalid; the message names the environment variable."""


class ServiceError(Exception):
    """An error with an HTTP status and an OperationOutcome body.

    ``issue_code`` is a FHIR IssueType code (http://hl7.org/fhir/issue-type); ``diagnostics`` is
    the human-readable text of the one issue. Neither may hold patient data beyond resource ids.
    """

    status_code: ClassVar[int] = 500
    default_issue_code: ClassVar[str] = "exception"

    def __init__(self, diagnostics: str, *, issue_code: str | None = None) -> None:
        super().__init__(diagnostics)
        self.diagnostics = diagnostics
        self.issue_code = issue_code or self.default_issue_code

    def headers(self) -> dict[str, str]:
        """Extra response headers this error needs."""
        return {}

    def to_response(self) -> Response:
        """The JSON answer for this error."""
        return outcome_response(self.status_code, self.issue_code, self.diagnostics, self.headers())


class BadRequest(ServiceError):
    """400: the request is malformed; ``diagnostics`` names the field."""

    status_code = 400
    default_issue_code = "invalid"


class Unauthorized(ServiceError):
    """401: the JWT is missing or fails a check. The body never says which check."""

    status_code = 401
    default_issue_code = "login"

    def __init__(self) -> None:
        super().__init__("unauthorized")

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class NotFound(ServiceError):
    """404: no such service."""

    status_code = 404
    default_issue_code = "not-found"


class FhirDataUnavailable(ServiceError):
    """412: neither the prefetch nor the FHIR server gave the data grading cannot do without.

    CDS Hooks 2.0.1 section Prefetch: "the service SHALL respond with an HTTP 412".
    """

    status_code = 412
    default_issue_code = "incomplete"


class PayloadTooLarge(ServiceError):
    """413: the call holds more FHIR resources than ``CRS_CDS_MAX_RESOURCES`` allows.

    A body over ``CRS_CDS_MAX_REQUEST_BYTES`` is werkzeug's own 413 (issue code ``too-long``).
    """

    status_code = 413
    default_issue_code = "too-costly"


class UnsupportedMediaType(ServiceError):
    """415: the request body is not declared as JSON."""

    status_code = 415
    default_issue_code = "not-supported"


class ServiceUnavailable(ServiceError):
    """503: the service cannot serve now (readiness check, a failed database write).

    With ``retry_after_s`` the answer carries ``Retry-After``: the client should send the
    same request again (feedback is stored idempotently, so a retry never duplicates it).
    """

    status_code = 503
    default_issue_code = "transient"

    def __init__(self, diagnostics: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(diagnostics)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        if self.retry_after_s is None:
            return {}
        return {"Retry-After": str(self.retry_after_s)}


#: Longest part of a request value an error message or a log line quotes back.
QUOTE_LIMIT = 40


def quoted(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``value`` quoted for a message: its ``repr``, cut to ``limit`` characters of the value
    with its length said when longer. A client that sends megabytes must not get them back
    (issue 11: a 5 MB ``hook`` was echoed in full), nor fill the log with them.
    """
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= limit + 2 else f"{text[:limit]}... ({type(value).__name__})"


def operation_outcome(issue_code: str, diagnostics: str) -> dict[str, Any]:
    """A FHIR R4 OperationOutcome with one error issue."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": issue_code, "diagnostics": diagnostics}],
    }


def outcome_response(
    status: int, issue_code: str, diagnostics: str, headers: dict[str, str] | None = None
) -> Response:
    """An OperationOutcome as a JSON response with ``status``."""
    return json_response(operation_outcome(issue_code, diagnostics), status, headers)


# werkzeug statuses the service can meet, as FHIR issue codes and plain messages.
_HTTP_ISSUES: dict[int, tuple[str, str]] = {
    400: ("invalid", "the request is malformed"),
    404: ("not-found", "no such endpoint"),
    405: ("not-supported", "method not allowed on this endpoint"),
    413: ("too-long", "the request body is too large"),
    415: ("not-supported", "unsupported media type"),
}


def _handle_service_error(error: ServiceError) -> Response:
    if error.status_code >= 500:
        logger.error("service error: %s", error.diagnostics)
    return error.to_response()


def _handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    issue_code, diagnostics = _HTTP_ISSUES.get(status, ("exception", "request failed"))
    if status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        if isinstance(limit, int):
            diagnostics = f"the request body is larger than the limit of {limit} bytes"
    headers = {}
    if status == 405 and error.response is None:
        allow = dict(error.get_headers()).get("Allow")
        if allow:
            headers["Allow"] = allow
            diagnostics = f"method not allowed on this endpoint; allowed: {allow}"
    return outcome_response(status, issue_code, diagnostics, headers)


def where_raised(error: BaseException, depth: int = 8) -> list[str]:
    """The innermost ``depth`` frames of ``error``'s traceback as "file:line in function".

    Logged for an unexpected error instead of its message, which may hold patient data.
    """
    frames = traceback.extract_tb(error.__traceback__)
    return [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in frames[-depth:]]


def _handle_unexpected(error: Exception) -> Response:
    # Log the type and where it was raised, never its message: it may hold patient data.
    where = where_raised(error)
    logger.error(
        "unhandled %s",
        type(error).__name__,
        extra={"fields": {"error_type": type(error).__name__, "where": where}},
    )
    return outcome_response(500, "exception", "internal server error")


def init_app(app: Flask) -> None:
    """Register the three error handlers: ServiceError, HTTPException, anything else."""
    app.register_error_handler(ServiceError, _handle_service_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)
