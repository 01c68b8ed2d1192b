"""The OpenAPI 3.1 description of the public API, served at ``GET /openapi.json``.

Built from the code's own facts (service ids, the JSON nesting limit, the card contract of
SPEC section 4) so that it cannot drift silently; a test checks that every registered route is
described and that real answers validate against these schemas, and schemathesis calls the app
with generated requests and checks every answer against it. The SMART app's paths appear only
when its blueprint is registered.

JSON Schema 2020-12 (the dialect of OpenAPI 3.1). Objects stay open (``additionalProperties``
allowed) where CDS Hooks allows extensions; what the contract fixes is required and typed.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from cds_service.openapi_examples import hook_request_examples
from cds_service.services import SERVICES
from cds_service.validation import FHIR_ID_PATTERN

__all__ = ["OPENAPI_VERSION", "openapi_document"]

OPENAPI_VERSION = "3.1.0"

_JSON = "application/json"
_FHIR_ID = rf"^{FHIR_ID_PATTERN}$"
_REFERENCE = rf"^[A-Za-z]+/{FHIR_ID_PATTERN}$"
_KEBAB = r"^[a-z0-9]+(-[a-z0-9]+)*$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _outcome(description: str) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": _ref("OperationOutcome")}}}


def _json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


_GRADE = {"type": "integer", "minimum": 0, "maximum": 5}
#: ``drivers`` of the assessment extension, for CRS and for ICANS (SPEC 4, SPEC 2.9).
_DRIVERS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["criterion", "grade", "evidence", "text"],
        "properties": {
            "criterion": {"type": "string", "pattern": _KEBAB},
            "grade": _GRADE,
            "evidence": {"type": "array", "items": {"type": "string", "pattern": _REFERENCE}},
            "text": {"type": "string"},
        },
    },
}

_SCHEMAS: dict[str, Any] = {
    "OperationOutcome": {
        "type": "object",
        "description": "FHIR R4 OperationOutcome with one issue; never a stack trace.",
        "required": ["resourceType", "issue"],
        "properties": {
            "resourceType": {"const": "OperationOutcome"},
            "issue": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["severity", "code", "diagnostics"],
                    "properties": {
                        "severity": {"enum": ["fatal", "error", "warning", "information"]},
                        "code": {"type": "string", "pattern": _KEBAB},
                        "diagnostics": {"type": "string", "maxLength": 2000},
                    },
                },
            },
        },
    },
    "Coding": {
        "type": "object",
        "required": ["code"],
        "properties": {
            "system": {"type": "string"},
            "code": {"type": "string"},
            "display": {"type": "string"},
        },
    },
    "CardCoding": {
        "description": "A Coding a card sends (CDS Hooks 2.0.1: system and code required; an "
        "override reason also has a display).",
        "allOf": [_ref("Coding"), {"required": ["system", "code"]}],
    },
    "OverrideReason": {
        "allOf": [_ref("Coding"), {"required": ["system", "code", "display"]}],
    },
    "Discovery": {
        "type": "object",
        "required": ["services"],
        "properties": {"services": {"type": "array", "items": _ref("DiscoveryService")}},
    },
    "DiscoveryService": {
        "type": "object",
        "required": ["hook", "id", "description"],
        "properties": {
            "hook": {"type": "string"},
            "id": {"enum": [service.id for service in SERVICES]},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "prefetch": {"type": "object", "additionalProperties": {"type": "string"}},
            "usageRequirements": {"type": "string"},
        },
    },
    "FhirAuthorization": {
        "type": "object",
        "required": ["access_token", "token_type", "expires_in", "scope", "subject"],
        "properties": {
            "access_token": {"type": "string", "minLength": 1},
            "token_type": {"const": "Bearer"},
            "expires_in": {"type": "integer"},
            "scope": {"type": "string", "minLength": 1},
            "subject": {"type": "string", "minLength": 1},
            "patient": {"type": "string"},
        },
    },
    "HookContext": {
        "type": "object",
        "description": "patient-view 1.0, order-select 1.0 (selections and draftOrders "
        "required), order-sign 1.1 (draftOrders required).",
        "required": ["userId", "patientId"],
        "properties": {
            "userId": {"type": "string", "minLength": 1},
            "patientId": {"type": "string", "pattern": _FHIR_ID},
            "encounterId": {"type": "string", "minLength": 1},
            "selections": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "draftOrders": {
                "type": "object",
                "required": ["resourceType"],
                "properties": {"resourceType": {"const": "Bundle"}},
            },
        },
    },
    "HookRequest": {
        "type": "object",
        "description": "CDS Hooks 2.0.1 section Calling a CDS Service. Nested at most 64 "
        "levels deep (400 beyond); the prefetch and draft orders together hold at most "
        "CRS_CDS_MAX_RESOURCES resources (413 beyond).",
        "required": ["hook", "hookInstance", "context"],
        "properties": {
            "hook": {"type": "string", "minLength": 1},
            "hookInstance": {"type": "string", "minLength": 1, "maxLength": 256},
            "fhirServer": {"type": "string", "format": "uri"},
            "fhirAuthorization": _ref("FhirAuthorization"),
            "context": _ref("HookContext"),
            "prefetch": {
                "type": "object",
                "additionalProperties": {"type": ["object", "null"]},
            },
        },
    },
    "CdsResponse": {
        "type": "object",
        "required": ["cards"],
        "properties": {
            "cards": {"type": "array", "items": _ref("Card")},
            "systemActions": {"type": "array", "items": _ref("Action")},
        },
    },
    "Card": {
        "type": "object",
        "description": "CDS Hooks 2.0.1 Card with the contract of SPEC section 4.",
        "required": ["summary", "indicator", "source"],
        "properties": {
            "uuid": {"type": "string", "minLength": 1},
            "summary": {"type": "string", "minLength": 1, "maxLength": 139},
            "detail": {"type": "string"},
            "indicator": {"enum": ["info", "warning", "critical"]},
            "source": _ref("Source"),
            "suggestions": {"type": "array", "items": _ref("Suggestion")},
            "selectionBehavior": {"enum": ["at-most-one", "any"]},
            "overrideReasons": {"type": "array", "items": _ref("OverrideReason")},
            "links": {"type": "array", "items": _ref("Link")},
            "extension": {
                "type": "object",
                "properties": {
                    "org.crscds.assessment": _ref("CrsAssessment"),
                    "org.crscds.check-incomplete": _ref("CrsCheckIncomplete"),
                },
            },
        },
        "dependentRequired": {"suggestions": ["selectionBehavior"]},
    },
    "Source": {
        "type": "object",
        "required": ["label"],
        "properties": {
            "label": {"type": "string", "minLength": 1},
            "url": {"type": "string", "format": "uri"},
            "icon": {"type": "string", "format": "uri"},
            "topic": _ref("CardCoding"),
        },
    },
    "Suggestion": {
        "type": "object",
        "required": ["label"],
        "properties": {
            "label": {"type": "string", "minLength": 1},
            "uuid": {"type": "string"},
            "isRecommended": {"type": "boolean"},
            "actions": {"type": "array", "items": _ref("Action")},
        },
    },
    "Action": {
        "type": "object",
        "required": ["type", "description"],
        "properties": {
            "type": {"enum": ["create", "update", "delete"]},
            "description": {"type": "string"},
            "resource": {
                "type": "object",
                "required": ["resourceType"],
                "properties": {"resourceType": {"type": "string"}},
            },
            "resourceId": {"type": "string"},
        },
        "allOf": [
            {
                "if": {"properties": {"type": {"enum": ["create", "update"]}}},
                "then": {"required": ["resource"]},
            },
            {
                "if": {"properties": {"type": {"const": "delete"}}},
                "then": {"required": ["resourceId"]},
            },
        ],
    },
    "Link": {
        "type": "object",
        "required": ["label", "url", "type"],
        "properties": {
            "label": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
            "type": {"enum": ["absolute", "smart"]},
            "appContext": {"type": "string"},
            "autolaunchable": {"type": "boolean"},
        },
    },
    "CrsCheckIncomplete": {
        "type": "object",
        "description": (
            "The org.crscds.check-incomplete card extension: a patient out of scope whose "
            "therapy may be in what could not be read: administrations whose drug could not "
            "be read (possibleTherapies), or administrations or procedures not read in full "
            "(possibleTherapies empty, dataGaps says which). On the CRS check incomplete card, "
            "or on the most severe order card of such a patient (docs/cards.md)."
        ),
        "required": ["asOf", "possibleTherapies", "dataGaps"],
        "properties": {
            "asOf": {"type": "string", "format": "date-time"},
            "possibleTherapies": {
                "type": "array",
                "items": {"type": "string", "pattern": "^MedicationAdministration/"},
            },
            "dataGaps": {"type": "array", "items": {"type": "string"}},
        },
    },
    "CrsAssessment": {
        "type": "object",
        "description": "The org.crscds.assessment card extension (SPEC section 4).",
        "required": [
            "system",
            "grade",
            "peakGrade",
            "asOf",
            "therapy",
            "drivers",
            "otherSystems",
            "attributionWarnings",
            "icans",
            "dataGaps",
            "skipped",
        ],
        "properties": {
            "system": {"type": "string", "pattern": _KEBAB},
            "grade": _GRADE,
            "peakGrade": _GRADE,
            "asOf": {"type": "string", "format": "date-time"},
            "therapy": {
                "type": ["object", "null"],
                "required": ["reference", "display", "day"],
                "properties": {
                    "reference": {"type": "string", "pattern": _REFERENCE},
                    "display": {"type": "string"},
                    "day": {"type": "integer"},
                },
            },
            "drivers": _DRIVERS,
            "otherSystems": {"type": "object", "additionalProperties": _GRADE},
            "icans": {
                "type": "object",
                "description": "ICANS by ASTCT 2019, graded beside CRS (SPEC 2.9).",
                "required": ["grade", "peakGrade", "drivers"],
                "properties": {"grade": _GRADE, "peakGrade": _GRADE, "drivers": _DRIVERS},
            },
            "attributionWarnings": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "evidence", "text"],
                    "properties": {
                        "code": {"type": "string", "pattern": _KEBAB},
                        "evidence": {
                            "type": "array",
                            "items": {"type": "string", "pattern": _REFERENCE},
                        },
                        "text": {"type": "string"},
                    },
                },
            },
            "dataGaps": {"type": "array", "items": {"type": "string"}},
            "skipped": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["reference", "reason"],
                    "properties": {
                        "reference": {"type": "string"},
                        "reason": {"type": "string"},
                    },
                },
            },
        },
    },
    "FeedbackRequest": {
        "type": "object",
        "description": "CDS Hooks 2.0.1 section Feedback. An item sent again is stored once.",
        "required": ["feedback"],
        "properties": {"feedback": {"type": "array", "items": _ref("FeedbackItem")}},
    },
    "FeedbackItem": {
        "type": "object",
        "required": ["card", "outcome", "outcomeTimestamp"],
        "properties": {
            "card": {"type": "string", "minLength": 1, "maxLength": 256},
            "outcome": {"enum": ["accepted", "overridden"]},
            "acceptedSuggestions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 256}},
                },
            },
            "overrideReason": {
                "type": "object",
                "properties": {
                    "reason": _ref("Coding"),
                    "userComment": {"type": "string", "maxLength": 4000},
                },
            },
            "outcomeTimestamp": {"type": "string", "format": "date-time"},
        },
    },
    "FeedbackStored": {
        "type": "object",
        "required": ["stored"],
        "properties": {
            "stored": {"type": "integer", "minimum": 0},
            "duplicates": {"type": "integer", "minimum": 1},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"const": "ok"}},
    },
    "Ready": {
        "type": "object",
        "required": ["status", "checks"],
        "properties": {
            "status": {"const": "ready"},
            "checks": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
}

_SERVICE_ID = {
    "name": "service_id",
    "in": "path",
    "required": True,
    "description": "A CDS service id: " + ", ".join(service.id for service in SERVICES),
    "schema": {"type": "string"},
}

_AUTH_ERRORS = {"401": _outcome("JWT missing or failing a check (body never says which)")}


def _cds_paths() -> dict[str, Any]:
    security: list[dict[str, list[str]]] = [{"cdsHooksJwt": []}]
    return {
        "/cds-services": {
            "get": {
                "operationId": "discovery",
                "summary": "CDS Hooks discovery",
                "security": security,
                "responses": {
                    "200": _json_response("the three CRS services", _ref("Discovery")),
                    **_AUTH_ERRORS,
                },
            }
        },
        "/cds-services/{service_id}": {
            "post": {
                "operationId": "callService",
                "summary": "Call a CDS service (patient-view, order-select, order-sign)",
                "security": security,
                "parameters": [_SERVICE_ID],
                "requestBody": {
                    "required": True,
                    "content": {
                        _JSON: {
                            "schema": _ref("HookRequest"),
                            # One per hook; post each to the service of its hook.
                            "examples": hook_request_examples(),
                        }
                    },
                },
                "responses": {
                    "200": _json_response("cards (possibly none)", _ref("CdsResponse")),
                    "400": _outcome("malformed request; diagnostics name the field"),
                    **_AUTH_ERRORS,
                    "404": _outcome("unknown service id"),
                    "412": _outcome("the Patient or the Observations could not be had"),
                    "413": _outcome(
                        "body over CRS_CDS_MAX_REQUEST_BYTES (too-long) or more "
                        "resources than CRS_CDS_MAX_RESOURCES (too-costly)"
                    ),
                    "415": _outcome("body not declared as JSON"),
                    "500": _outcome("unexpected error; no detail"),
                    "503": _outcome("a dependency (database) failed; retry"),
                },
            }
        },
        "/cds-services/{service_id}/feedback": {
            "post": {
                "operationId": "feedback",
                "summary": "Feedback on cards (stored once per distinct item)",
                "security": security,
                "parameters": [_SERVICE_ID],
                "requestBody": {
                    "required": True,
                    "content": {_JSON: {"schema": _ref("FeedbackRequest")}},
                },
                "responses": {
                    "200": _json_response("all items stored", _ref("FeedbackStored")),
                    "400": _outcome("malformed feedback; nothing stored"),
                    **_AUTH_ERRORS,
                    "404": _outcome("unknown service id"),
                    "413": _outcome("body over CRS_CDS_MAX_REQUEST_BYTES"),
                    "415": _outcome("body not declared as JSON"),
                    "500": _outcome("unexpected error; no detail"),
                    "503": _outcome("the database failed; send the same feedback again"),
                },
            }
        },
    }


def _ops_paths() -> dict[str, Any]:
    return {
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "Liveness",
                "responses": {"200": _json_response("the process serves", _ref("Health"))},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "summary": "Readiness: the database answers",
                "responses": {
                    "200": _json_response("ready", _ref("Ready")),
                    "503": _outcome("database unreachable"),
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics (of every gunicorn worker with our gunicorn config)",
                "responses": {
                    "200": {
                        "description": "Prometheus text exposition format 0.0.4",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": _json_response("OpenAPI 3.1 document", {"type": "object"})},
            }
        },
    }


def _smart_paths() -> dict[str, Any]:
    html = {"text/html": {"schema": {"type": "string"}}}

    def page(description: str) -> dict[str, Any]:
        return {"description": description, "content": html}

    query = [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
        for name in ("iss", "launch")
    ]
    callback = [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
        for name in ("code", "state", "error")
    ]
    ctx = [{"name": "ctx", "in": "query", "required": False, "schema": {"type": "string"}}]
    errors = {str(code): page("error page") for code in (400, 401, 403, 404, 502, 503)}
    return {
        "/smart/launch": {
            "get": {
                "operationId": "smartLaunch",
                "summary": "SMART EHR launch (iss, launch): redirects to authorization",
                "parameters": query,
                "responses": {"302": {"description": "to the authorization endpoint"}, **errors},
            }
        },
        "/smart/callback": {
            "get": {
                "operationId": "smartCallback",
                "summary": "SMART redirect URL: checks state (PKCE S256), exchanges the code",
                "parameters": callback,
                "responses": {"303": {"description": "to the CRS course page"}, **errors},
            }
        },
        "/smart/app": {
            "get": {
                "operationId": "smartCoursePage",
                "summary": "The CRS course of the launched patient",
                "parameters": ctx,
                "responses": {"200": page("the page"), **errors},
            }
        },
        "/smart/static/{filename}": _static_path(
            "smartStatic", "The SMART page's stylesheet", not_found=page("error page")
        ),
    }


def _watch_paths() -> dict[str, Any]:
    """The watch's notification endpoint (docs/watch.md), present when the watch is on."""
    fhir_json = {"schema": {"type": "object", "required": ["resourceType"]}}
    return {
        "/fhir/subscription-notification": {
            "post": {
                "operationId": "subscriptionNotification",
                "summary": "Topic-based Subscription notification (Subscriptions R5 Backport "
                "IG, R4): handshake, heartbeat or event-notification",
                "security": [{"cdsHooksJwt": []}, {"subscriptionSecret": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/fhir+json": fhir_json, _JSON: fhir_json},
                },
                "responses": {
                    "200": _outcome("accepted: the patients named are queued for re-grading"),
                    "400": _outcome("not a notification Bundle; says which element"),
                    "401": _outcome("JWT or shared secret missing or wrong"),
                    "413": _outcome("body over CRS_CDS_MAX_REQUEST_BYTES"),
                    "415": _outcome("body not declared as JSON"),
                    "500": _outcome("unexpected error; no detail"),
                    "503": _outcome("the database or the queue failed; send it again"),
                },
            }
        }
    }


def _static_path(
    operation_id: str, summary: str, not_found: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A static file route; ``not_found`` when its 404 is not an OperationOutcome (the SMART
    blueprint answers with its HTML error page)."""
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [
                {"name": "filename", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {"description": "a static file"},
                "404": not_found if not_found is not None else _outcome("no such file"),
            },
        }
    }


def openapi_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``'s public API."""
    paths = {**_cds_paths(), **_ops_paths()}
    if "smart" in app.blueprints:
        paths.update(_smart_paths())
    if "watch" in app.blueprints:
        paths.update(_watch_paths())
    if "static" in app.view_functions:  # Flask's own asset route, when a static folder exists
        paths["/static/{filename}"] = _static_path("flaskStatic", "A static file of the app")
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "CRS CDS Hooks service",
            "version": "0.1.0",
            "description": "CDS Hooks 2.0.1 service grading cytokine release syndrome "
            "(revised Lee 2014, ASTCT 2019 beside it). Every error body is a FHIR "
            "OperationOutcome. See docs/integration.md and docs/security.md.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {
                "cdsHooksJwt": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "CDS Hooks 2.0.1 section Trusting CDS Clients: an "
                    "asymmetrically signed JWT with iss, aud (this URL), exp, iat, jti; off "
                    "only with CRS_CDS_AUTH=none.",
                },
                "subscriptionSecret": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CRS-CDS-Subscription-Secret",
                    "description": "The shared secret configured for the Subscription "
                    "(CRS_CDS_WATCH_SUBSCRIPTION_SECRETS); watch notifications only.",
                },
            },
        },
    }
