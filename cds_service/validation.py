"""Parse and validate CDS Hooks request bodies into typed objects.

Hook calls follow CDS Hooks 2.0.1 section "Calling a CDS Service" and the hook definitions
patient-view 1.0, order-select 1.0 and order-sign 1.1; feedback follows section "Feedback".
Every error is a ``BadRequest`` whose message names the offending field, e.g.
``context.patientId is required``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import orjson

from cds_service.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, quoted
from cds_service.outbound import is_loopback_host
from cds_service.services import CdsService

__all__ = [
    "FHIR_ID_PATTERN",
    "MAX_CARD_ID",
    "MAX_FEEDBACK_TEXT",
    "MAX_HOOK_INSTANCE",
    "MAX_JSON_DEPTH",
    "MAX_REASON_CODE",
    "MAX_REASON_DISPLAY",
    "MAX_REASON_SYSTEM",
    "MAX_SUGGESTION_ID",
    "FeedbackItem",
    "FhirAuthorization",
    "HookContext",
    "HookRequest",
    "count_resources",
    "is_fhir_id",
    "nesting_exceeds",
    "parse_feedback",
    "parse_hook_request",
    "parse_json_body",
]

#: FHIR R4 datatype "id" (the regex of the R4 specification, with its 64-character limit).
FHIR_ID_PATTERN = r"[A-Za-z0-9\-.]{1,64}"
_FHIR_ID = re.compile(FHIR_ID_PATTERN)
#: Longest values the service stores, in characters: the sizes of their database columns
#: (``cds_service.storage``). Checked here, at the edge, so that SQLite (which ignores column
#: sizes) and PostgreSQL (which refuses longer values) accept exactly the same requests.
MAX_HOOK_INSTANCE = 256
MAX_CARD_ID = 256
MAX_SUGGESTION_ID = 256
MAX_REASON_CODE = 256
MAX_REASON_SYSTEM = 1024
MAX_REASON_DISPLAY = 1024
MAX_FEEDBACK_TEXT = 4000
_BEARER = "Bearer"  # fhirAuthorization.token_type, fixed by CDS Hooks 2.0.1

#: Deepest JSON nesting accepted where code downstream recurses into the data: a hook call's
#: ``context`` (its draft orders are copied recursively into suggestions), feedback and other
#: small bodies, and a FHIR server's answer. A draft order nests about 10 levels; 64 leaves
#: room for contained resources and nested extensions and keeps recursive code far from
#: Python's recursion limit. orjson refuses any JSON nested deeper than 1,024 levels by itself
#: (400, not valid JSON); a hook call's prefetch is read without recursion and not walked.
MAX_JSON_DEPTH = 64


@dataclass(frozen=True, slots=True)
class FhirAuthorization:
    """The ``fhirAuthorization`` object: a bearer token for the client's FHIR server."""

    access_token: str = field(repr=False)
    token_type: str
    expires_in: int
    scope: str
    subject: str
    patient: str | None = None


@dataclass(frozen=True, slots=True)
class HookContext:
    """The hook's ``context``. ``draft_orders`` is the raw FHIR Bundle of the order hooks."""

    user_id: str
    patient_id: str
    encounter_id: str | None = None
    selections: tuple[str, ...] = ()
    draft_orders: Mapping[str, Any] | None = None

    def prefetch_tokens(self) -> dict[str, str]:
        """Root-level primitive context fields, by their prefetch token name."""
        tokens = {"context.userId": self.user_id, "context.patientId": self.patient_id}
        if self.encounter_id is not None:
            tokens["context.encounterId"] = self.encounter_id
        return tokens


@dataclass(frozen=True, slots=True)
class HookRequest:
    """A validated call of one CDS service."""

    service_id: str
    hook: str
    hook_instance: str
    context: HookContext
    fhir_server: str | None = None
    fhir_authorization: FhirAuthorization | None = None
    prefetch: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    """One item of a feedback POST (CDS Hooks 2.0.1 section Feedback)."""

    card: str
    outcome: str
    outcome_timestamp: datetime
    accepted_suggestions: tuple[str, ...] = ()
    override_reason_code: str | None = None
    override_reason_system: str | None = None
    override_reason_display: str | None = None
    user_comment: str | None = None


def parse_hook_request(
    service: CdsService, mimetype: str, body: bytes, *, max_resources: int | None = None
) -> HookRequest:
    """Validate the body of ``POST /cds-services/{service.id}``.

    With ``max_resources``, a call whose prefetch and draft orders hold more FHIR resources
    than that is refused with 413 (``PayloadTooLarge``) before any of them is read.
    """
    document = _hook_document(mimetype, body)
    if max_resources is not None:
        _check_resource_count(document, max_resources)
    # Only the context is walked: the draft orders in it are copied recursively into the
    # cards' suggestions. The prefetch, nearly all of the body, is not (issue 13: walking it
    # cost as much as parsing it): nothing recurses into its resources, and fhir_maps unpacks
    # Bundles nested in Bundles at most 341 deep under orjson's limit of 1,024 levels, well
    # inside Python's recursion limit (tests/security/test_limits.py sends such bodies).
    _check_depth(document.get("context"), "context")

    hook = _required_str(document, "hook")
    if hook != service.hook:
        raise BadRequest(
            f"hook is {quoted(hook)} but service {service.id} answers {service.hook!r}",
            issue_code="value",
        )
    hook_instance = _required_str(document, "hookInstance")
    _storable(hook_instance, "hookInstance", MAX_HOOK_INSTANCE)  # the audit keeps it

    context = _context(service, document.get("context"))

    fhir_server = _fhir_server(document.get("fhirServer"))
    fhir_authorization = _fhir_authorization(document.get("fhirAuthorization"))
    if fhir_authorization is not None and fhir_server is None:
        raise BadRequest(
            "fhirServer is required when fhirAuthorization is given", issue_code="required"
        )
    if fhir_authorization is not None and fhir_server is not None:
        # CDS Hooks 2.0.1: "the scheme MUST be https when production data is exchanged"; the
        # bearer token is never sent in clear (found in review), except to a loopback test server.
        server = urlsplit(fhir_server)
        if server.scheme != "https" and not is_loopback_host(server.hostname):
            raise BadRequest(
                "fhirServer must be an https URL when fhirAuthorization is given (http only on "
                "loopback): the access token is never sent in clear",
                issue_code="security",
            )

    prefetch = document.get("prefetch")
    if prefetch is None:
        prefetch = {}
    elif not isinstance(prefetch, dict):
        raise BadRequest("prefetch must be an object", issue_code="value")


    return HookRequest(
        service_id=service.id,
        hook=hook,
        hook_instance=hook_instance,
        context=context,
        fhir_server=fhir_server,
        fhir_authorization=fhir_authorization,
        prefetch=MappingProxyType(prefetch),
    )


def parse_feedback(mimetype: str, body: bytes) -> list[FeedbackItem]:
    """Validate the body of ``POST /cds-services/{id}/feedback``."""
    document = _json_object(mimetype, body)
    if "feedback" not in document:
        raise BadRequest("feedback is required", issue_code="required")
    items = document["feedback"]
    if not isinstance(items, list):
        raise BadRequest("feedback must be an array", issue_code="value")
    return [_feedback_item(item, f"feedback[{index}]") for index, item in enumerate(items)]


def _check_resource_count(document: Mapping[str, Any], max_resources: int) -> None:
    """413 when the prefetch and the draft orders hold more than ``max_resources``."""
    prefetch = document.get("prefetch")
    held = count_resources(prefetch.values()) if isinstance(prefetch, dict) else 0
    context = document.get("context")
    if isinstance(context, dict):
        held += count_resources([context.get("draftOrders")])
    if held > max_resources:
        raise PayloadTooLarge(
            f"the call holds {held} FHIR resources; at most {max_resources} are accepted"
        )


def is_fhir_id(value: str) -> bool:
    """True when ``value`` is a FHIR R4 id."""
    return _FHIR_ID.fullmatch(value) is not None


def count_resources(values: Iterable[object]) -> int:
    """How many FHIR resources ``values`` (resources or Bundles) hold: a Bundle counts its
    entries, any other resource counts one, anything else none."""
    from cds_service.fhir_io.bundles import DecodedBundle  # see _hook_document

    total = 0
    for value in values:
        if isinstance(value, DecodedBundle):
            total += value.entries
            continue
        if not isinstance(value, dict):
            continue
        if value.get("resourceType") == "Bundle":
            entries = value.get("entry")
            total += len(entries) if isinstance(entries, list) else 0
        else:
            total += 1
    return total


def nesting_exceeds(document: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``document`` (parsed JSON) nests objects and arrays deeper than ``limit``.

    Breadth-first over containers only, without recursion: about 2-4 ms per thousand FHIR
    resources, so it is used only where something recurses (see ``MAX_JSON_DEPTH``).
    """
    if not isinstance(document, dict | list):
        return False
    frontier: list[Any] = [document]
    depth = 0
    while frontier:
        depth += 1
        if depth > limit:
            return True
        following: list[Any] = []
        push = following.append
        for value in frontier:
            for child in value.values() if type(value) is dict else value:
                if type(child) is dict or type(child) is list:
                    push(child)
        frontier = following
    return False


# --- request body ---------------------------------------------------------------------------


def parse_json_body(mimetype: str, body: bytes) -> dict[str, Any]:
    """A JSON object request body: 415 unless JSON, 400 when malformed or nested too deep."""
    return _json_object(mimetype, body)


def _json_object(mimetype: str, body: bytes, *, check_depth: bool = True) -> dict[str, Any]:
    if not _is_json(mimetype):
        raise UnsupportedMediaType("the request body must be JSON (Content-Type: application/json)")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest("the request body is not valid JSON", issue_code="structure") from None
    if not isinstance(document, dict):
        raise BadRequest("the request body must be a JSON object", issue_code="structure")
    if check_depth:
        _check_depth(document)
    return document


def _hook_document(mimetype: str, body: bytes) -> dict[str, Any]:
    """``_json_object`` of a hook call: the prefetch Bundles decoded without being built
    (``request_decode``), or, where that declines, exactly as ``_json_object``."""
    if not _is_json(mimetype):
        raise UnsupportedMediaType("the request body must be JSON (Content-Type: application/json)")
    # Imported here: request_decode reads Bundles with fhir_io, whose fetching imports this
    # module.
    from cds_service.request_decode import decode_hook_document

    document = decode_hook_document(body)
    if document is None:
        return _json_object(mimetype, body, check_depth=False)
    return document


def _check_depth(document: object, where: str = "the request body") -> None:
    if nesting_exceeds(document):
        raise BadRequest(
            f"{where} nests deeper than {MAX_JSON_DEPTH} levels", issue_code="structure"
        )


def _is_json(mimetype: str) -> bool:
    mimetype = mimetype.lower()
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


# --- hook request fields --------------------------------------------------------------------


def _required_str(container: Mapping[str, Any], name: str, prefix: str = "") -> str:
    path = f"{prefix}{name}"
    if container.get(name) is None:
        raise BadRequest(f"{path} is required", issue_code="required")
    value = container[name]
    if not isinstance(value, str):
        raise BadRequest(f"{path} must be a string", issue_code="value")
    if not value.strip():
        raise BadRequest(f"{path} must not be empty", issue_code="value")
    return value


def _optional_str(container: Mapping[str, Any], name: str, prefix: str = "") -> str | None:
    if container.get(name) is None:
        return None
    return _required_str(container, name, prefix)


def _context(service: CdsService, raw: object) -> HookContext:
    if raw is None:
        raise BadRequest("context is required", issue_code="required")
    if not isinstance(raw, dict):
        raise BadRequest("context must be an object", issue_code="value")

    user_id = _required_str(raw, "userId", "context.")
    patient_id = _required_str(raw, "patientId", "context.")
    if not is_fhir_id(patient_id):
        raise BadRequest("context.patientId is not a valid FHIR id", issue_code="value")
    encounter_id = _optional_str(raw, "encounterId", "context.")

    selections: tuple[str, ...] = ()
    draft_orders: Mapping[str, Any] | None = None
    if service.hook == "order-select":
        # order-select 1.0: selections and draftOrders are both required.
        selections = _selections(raw)
        draft_orders = _draft_orders(raw)
    elif service.hook == "order-sign":
        # order-sign 1.1: draftOrders is required.
        draft_orders = _draft_orders(raw)

    return HookContext(
        user_id=user_id,
        patient_id=patient_id,
        encounter_id=encounter_id,
        selections=selections,
        draft_orders=draft_orders,
    )


def _selections(context: Mapping[str, Any]) -> tuple[str, ...]:
    if context.get("selections") is None:
        raise BadRequest("context.selections is required", issue_code="required")
    selections = context["selections"]
    if not isinstance(selections, list):
        raise BadRequest("context.selections must be an array of strings", issue_code="value")
    for index, item in enumerate(selections):
        if not isinstance(item, str) or not item:
            raise BadRequest(f"context.selections[{index}] must be a string", issue_code="value")
    return tuple(selections)


def _draft_orders(context: Mapping[str, Any]) -> Mapping[str, Any]:
    if context.get("draftOrders") is None:
        raise BadRequest("context.draftOrders is required", issue_code="required")
    bundle = context["draftOrders"]
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise BadRequest("context.draftOrders must be a FHIR Bundle", issue_code="value")
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise BadRequest("context.draftOrders.entry must be an array", issue_code="value")
    return MappingProxyType(bundle)


def _fhir_server(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise BadRequest("fhirServer must be a URL string", issue_code="value")
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise BadRequest("fhirServer must be an http(s) URL without query", issue_code="value")
    return raw.rstrip("/")


def _fhir_authorization(raw: object) -> FhirAuthorization | None:
    if raw is None:
        return None
    prefix = "fhirAuthorization."
    if not isinstance(raw, dict):
        raise BadRequest("fhirAuthorization must be an object", issue_code="value")
    access_token = _required_str(raw, "access_token", prefix)
    token_type = _required_str(raw, "token_type", prefix)
    if token_type.lower() != "bearer":
        raise BadRequest("fhirAuthorization.token_type must be 'Bearer'", issue_code="value")
    if raw.get("expires_in") is None:
        raise BadRequest("fhirAuthorization.expires_in is required", issue_code="required")
    expires_in = raw["expires_in"]
    if not isinstance(expires_in, int) or isinstance(expires_in, bool):
        raise BadRequest("fhirAuthorization.expires_in must be an integer", issue_code="value")
    scope = _required_str(raw, "scope", prefix)
    subject = _required_str(raw, "subject", prefix)
    patient = _optional_str(raw, "patient", prefix)
    return FhirAuthorization(
        access_token=access_token,
        token_type=_BEARER,
        expires_in=expires_in,
        scope=scope,
        subject=subject,
        patient=patient,
    )


# --- feedback -------------------------------------------------------------------------------


def _feedback_item(raw: object, path: str) -> FeedbackItem:
    if not isinstance(raw, dict):
        raise BadRequest(f"{path} must be an object", issue_code="value")
    prefix = f"{path}."
    card = _required_str(raw, "card", prefix)
    _storable(card, f"{prefix}card", MAX_CARD_ID)

    outcome = _required_str(raw, "outcome", prefix)
    if outcome not in ("accepted", "overridden"):
        raise BadRequest(f"{prefix}outcome must be 'accepted' or 'overridden'", issue_code="value")

    accepted = _accepted_suggestions(raw.get("acceptedSuggestions"), f"{prefix}acceptedSuggestions")
    if outcome == "accepted" and not accepted:
        raise BadRequest(
            f"{prefix}acceptedSuggestions is required when outcome is 'accepted'",
            issue_code="required",
        )

    timestamp = _timestamp(
        _required_str(raw, "outcomeTimestamp", prefix), f"{prefix}outcomeTimestamp"
    )

    code = system = display = comment = None
    reason = raw.get("overrideReason")
    if reason is not None:
        reason_path = f"{prefix}overrideReason"
        if not isinstance(reason, dict):
            raise BadRequest(f"{reason_path} must be an object", issue_code="value")
        coding = reason.get("reason")
        if coding is not None:
            if not isinstance(coding, dict):
                raise BadRequest(f"{reason_path}.reason must be a Coding", issue_code="value")
            coding_path = f"{reason_path}.reason."
            code = _optional_str(coding, "code", coding_path)
            system = _optional_str(coding, "system", coding_path)
            display = _optional_str(coding, "display", coding_path)
            if code is None:
                raise BadRequest(f"{coding_path}code is required", issue_code="required")
            _storable(code, f"{coding_path}code", MAX_REASON_CODE)
            _storable(system, f"{coding_path}system", MAX_REASON_SYSTEM)
            _storable(display, f"{coding_path}display", MAX_REASON_DISPLAY)
        comment = _optional_str(reason, "userComment", f"{reason_path}.")
        _storable(comment, f"{reason_path}.userComment", MAX_FEEDBACK_TEXT)

    return FeedbackItem(
        card=card,
        outcome=outcome,
        outcome_timestamp=timestamp,
        accepted_suggestions=accepted,
        override_reason_code=code,
        override_reason_system=system,
        override_reason_display=display,
        user_comment=comment,
    )


def _accepted_suggestions(raw: object, path: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise BadRequest(f"{path} must be an array", issue_code="value")
    ids = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise BadRequest(f"{path}[{index}] must be an object with an id", issue_code="value")
        suggestion_id = _required_str(item, "id", f"{path}[{index}].")
        _storable(suggestion_id, f"{path}[{index}].id", MAX_SUGGESTION_ID)
        ids.append(suggestion_id)
    return tuple(ids)


def _timestamp(raw: str, path: str) -> datetime:
    """An RFC 3339 date-time with a time zone (CDS Hooks 2.0.1, ``outcomeTimestamp``)."""
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{path} must be an ISO 8601 date-time", issue_code="value") from None
    if ":" not in raw or value.tzinfo is None:
        raise BadRequest(
            f"{path} must be an ISO 8601 date-time with a time zone, e.g. 2021-12-11T10:05:31Z",
            issue_code="value",
        )
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+23:59 lies before the year 1 in UTC
        raise BadRequest(f"{path} is out of range", issue_code="value") from None


def _storable(value: str | None, path: str, limit: int) -> None:
    """400 naming ``path`` unless ``value`` fits its column: at most ``limit`` characters and
    no NUL (PostgreSQL text cannot hold U+0000; SQLite can, and both must agree)."""
    if value is None:
        return
    if len(value) > limit:
        raise BadRequest(f"{path} is longer than {limit} characters", issue_code="too-long")
    if "\x00" in value:
        raise BadRequest(f"{path} must not contain a NUL character", issue_code="value")
