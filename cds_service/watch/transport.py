"""The watch's outbound HTTP calls: one place, explicit timeouts, no redirects.

Every call the watch makes (SMART discovery and token, Subscription create, Communication POST,
webhook, reading a notification's focus) goes through ``call``: the app's ``requests.Session``
(passed in, so tests see it with ``responses``), a connect timeout and a total time budget,
redirects never followed (a token or a signed alert goes to the URL configured and nowhere
else), and a bounded answer. Failures raise ``OutboundError`` whose message holds no patient
data and no secret.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import requests

from cds_service.validation import nesting_exceeds

__all__ = ["OutboundError", "Reply", "call"]

_CONNECT_TIMEOUT_S = 3.05
#: Largest answer read: a token, a Subscription, a Communication or one FHIR resource.
_MAX_REPLY_BYTES = 4 * 1024 * 1024
_CHUNK = 64 * 1024


class OutboundError(Exception):
    """An outbound call failed; ``status`` is the HTTP status when there was an answer."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON; ``OutboundError`` when it is not (or nests absurdly deep)."""
        try:
            document = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise OutboundError("the answer is not JSON", self.status) from None
        if nesting_exceeds(document):
            raise OutboundError("the answer nests too deeply", self.status)
        return document


def call(
    session: requests.Session,
    method: str,
    url: str,
    *,
    budget_s: float,
    json_body: object | None = None,
    data: bytes | Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """Send one request and read the answer within ``budget_s`` seconds in total.

    Any status is returned (the caller decides); a redirect is an ``OutboundError``.
    """
    started = time.monotonic()
    body = orjson.dumps(json_body) if json_body is not None else data
    sent_headers = dict(headers or {})
    if json_body is not None:
        sent_headers.setdefault("Content-Type", "application/fhir+json")
    try:
        response = session.request(
            method,
            url,
            data=body,
            headers=sent_headers,
            timeout=(min(_CONNECT_TIMEOUT_S, budget_s), budget_s),
            allow_redirects=False,
            stream=True,
        )
    except requests.Timeout:
        raise OutboundError(f"{method} timed out after {budget_s:.0f} s") from None
    except requests.RequestException as error:
        raise OutboundError(f"{method} failed: {type(error).__name__}") from None
    try:
        if response.is_redirect or 300 <= response.status_code < 400:
            raise OutboundError(
                f"{method} was redirected (HTTP {response.status_code}); redirects are not "
                "followed",
                response.status_code,
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > _MAX_REPLY_BYTES:
                raise OutboundError(f"{method}: the answer is larger than allowed")
            chunks.append(chunk)
            if time.monotonic() - started > budget_s:
                raise OutboundError(f"{method} timed out after {budget_s:.0f} s")
        return Reply(response.status_code, dict(response.headers), b"".join(chunks))
    except requests.RequestException as error:
        raise OutboundError(f"{method} failed while reading: {type(error).__name__}") from None
    finally:
        response.close()
