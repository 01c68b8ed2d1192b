"""The watch's outbound HTTP calls, through the service's one bounded ``outbound.fetch``.

Every call the watch makes (SMART discovery and token, Subscription create, Communication POST,
webhook, reading a notification's focus, ``$events``) goes through ``call``: the app's
``requests.Session``, a total deadline (``outbound.Deadline``), a bounded answer, and no
redirect followed (a token or a signed alert goes to the URL configured and nowhere else: a 3xx
is ``AnswerRefused``). Errors are ``outbound.OutboundError`` and never hold patient data or a
secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import requests

from cds_service.outbound import Deadline, OutboundError, OutboundResponse, Redirects, fetch
from cds_service.validation import nesting_exceeds

__all__ = ["AnswerRefused", "OutboundError", "call", "reply_json"]

#: Largest answer read: a token, a Subscription, a Communication or one FHIR resource.
_MAX_REPLY_BYTES = 4 * 1024 * 1024


class AnswerRefused(OutboundError):
    """The server answered, but not as the watch needs (``status`` says what)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def call(
    session: requests.Session,
    method: str,
    url: str,
    *,
    budget_s: float,
    json_body: object | None = None,
    data: bytes | Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> OutboundResponse:
    """Send one request and read the answer within ``budget_s`` seconds in total.

    Any status but a redirect is returned for the caller to judge.
    """
    body = orjson.dumps(json_body) if json_body is not None else data
    sent_headers = dict(headers or {})
    if json_body is not None:
        sent_headers.setdefault("Content-Type", "application/fhir+json")
    reply = fetch(
        session,
        method,
        url,
        deadline=Deadline(budget_s),
        max_bytes=_MAX_REPLY_BYTES,
        headers=sent_headers,
        data=body,
        redirects=Redirects.NONE,
    )
    if 300 <= reply.status < 400:
        raise AnswerRefused(
            f"{method} was redirected (HTTP {reply.status}); redirects are not followed",
            reply.status,
        )
    return reply


def reply_json(reply: OutboundResponse) -> Any:
    """The answer's body as JSON; ``AnswerRefused`` when it is not (or nests absurdly)."""
    try:
        document = orjson.loads(reply.body)
    except orjson.JSONDecodeError:
        raise AnswerRefused("the answer is not JSON", reply.status) from None
    if nesting_exceeds(document):
        raise AnswerRefused("the answer nests too deeply", reply.status)
    return document
