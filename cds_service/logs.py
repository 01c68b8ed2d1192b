"""JSON log lines on stderr, with the hookInstance of the call as correlation id.

Every line written while serving a request carries ``requestId`` (the caller's
``X-Request-ID`` when it is a plain token of at most 64 characters, else a new one; echoed in
the response header), and every line written after the hook call's body was read carries its
``hookInstance``. Lines written before that (authentication) carry only ``requestId``: the body
of an unauthenticated call is never read.

What may be logged: ids (hookInstance, service id, resource ids), statuses, durations, error
types. What may not: tokens, request bodies, patient data, exception messages of unexpected
errors. Extra fields go in ``extra={"fields": {...}}``.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
from flask import Flask, Response, g, request

__all__ = [
    "JsonFormatter",
    "configure_logging",
    "hook_instance_var",
    "init_app",
    "request_id_var",
]

#: The hookInstance of the call being served, in every log line written while serving it.
hook_instance_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "crs_cds_hook_instance", default=None
)
#: The id of the HTTP request being served, in every log line written while serving it.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "crs_cds_request_id", default=None
)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{1,64}")

_PACKAGE_LOGGER = "cds_service"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, hookInstance, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            line["requestId"] = request_id
        hook_instance = hook_instance_var.get()
        if hook_instance is not None:
            line["hookInstance"] = hook_instance
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({k: v for k, v in fields.items() if k not in line})
        return orjson.dumps(line, default=str).decode()


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def configure_logging(level: str) -> None:
    """Send the package's logs as JSON lines to stderr at ``level`` (idempotent)."""
    logger = logging.getLogger(_PACKAGE_LOGGER)
    logger.setLevel(level)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)


def init_app(app: Flask) -> None:
    """Log one line per request (method, path, status, duration) and reset the correlation id."""
    access = logging.getLogger(f"{_PACKAGE_LOGGER}.access")

    @app.before_request
    def remember_start() -> None:
        g.crs_cds_log_started = time.perf_counter()
        hook_instance_var.set(None)
        offered = request.headers.get("X-Request-ID", "")
        request_id_var.set(offered if _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex)

    @app.after_request
    def log_request(response: Response) -> Response:
        started = g.get("crs_cds_log_started")
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
        access.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "fields": {
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "durationMs": elapsed_ms,
                }
            },
        )
        request_id = request_id_var.get()
        if request_id is not None:
            response.headers["X-Request-ID"] = request_id
        return response

    @app.teardown_request
    def forget_hook_instance(_: BaseException | None) -> None:
        hook_instance_var.set(None)
        request_id_var.set(None)
