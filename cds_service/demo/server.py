"""The demo EHR: a FHIR endpoint holding the demo patients, a SMART authorization server and a
launch page, so that the service and its SMART app can be tried without an EHR.

A development tool. ``create_app()`` never registers it: only ``crs-cds demo`` does, on its own
app, bound to loopback. Everything lives under ``/demo``:

- ``/demo/`` the launch page: one row per patient, with its SMART EHR launch link.
- ``/demo/launch/<patient id>`` starts an EHR launch: a launch id is minted for the patient and
  the browser goes to the SMART app's ``/smart/launch?iss=...&launch=...`` (SMART App Launch 2.2).
- ``/demo/fhir`` a read-only FHIR R4 endpoint: ``metadata``, reads, searches (GET, and POST
  ``_search`` as the CDS Hooks sandbox sends them) with paging through ``next`` links, evaluated
  by ``fhir_store``; ``.well-known/smart-configuration``. Open like the sandbox's FHIR server:
  a request without a token is served, one with a token must carry a token this server issued,
  and then only for the launched patient.
- ``/demo/auth/authorize`` and ``/demo/auth/token``: authorization code flow with PKCE S256 for
  the configured SMART client; the demo user is signed in and consents at once.
- ``POST /demo/fhir/Communication``: the one write, a conditional create (``If-None-Exist`` on
  ``identifier``), where the watch's alerts arrive (``DemoServer.on_communication`` hears them).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import orjson
from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue

from cds_service.demo.fhir_store import FhirStore, SearchError, SearchResult

__all__ = ["DEMO_PREFIX", "DemoPatient", "DemoServer", "demo_bp", "init_demo"]

DEMO_PREFIX = "/demo"
_EXTENSION = "crs_cds.demo"
_FHIR_JSON = "application/fhir+json"
_CODE_TTL_S = 300
_TOKEN_TTL_S = 3600
_LAUNCH_TTL_S = 3600
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

demo_bp = Blueprint("demo", __name__, url_prefix=DEMO_PREFIX, template_folder="templates")


@dataclass(frozen=True, slots=True)
class DemoPatient:
    """A patient of the launch page: id, name, what the chart shows now."""

    patient_id: str
    name: str
    title: str
    shows: str


@dataclass(slots=True)
class _Grant:
    patient_id: str
    expires: float
    client_id: str = ""
    redirect_uri: str = ""
    challenge: str = ""
    scope: str = ""


@dataclass
class DemoServer:
    """The demo EHR's state: the FHIR store, the patients, and its launches, codes and tokens."""

    store: FhirStore
    patients: Sequence[DemoPatient]
    client_id: str
    featured: str  # the patient the sandbox link opens
    _launches: dict[str, _Grant] = field(default_factory=dict)
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _tokens: dict[str, _Grant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    #: Called with each Communication created (the watch's alerts), from the request's thread.
    on_communication: Callable[[Mapping[str, Any]], None] | None = None

    def create_communication(
        self, resource: dict[str, Any], identifier: str | None
    ) -> tuple[str, bool]:
        """Store ``resource`` unless a Communication with ``identifier`` (``system|value``)
        exists; returns its id and whether it was created."""
        with self._lock:
            for existing in self.store.of_type("Communication"):
                if identifier is not None and identifier in _identifiers(existing):
                    return str(existing["id"]), False
            resource["id"] = f"alert-{len(self.store.of_type('Communication')) + 1}"
            self.store.add(resource)
        if self.on_communication is not None:
            self.on_communication(resource)
        return str(resource["id"]), True

    def new_launch(self, patient_id: str) -> str:
        launch = secrets.token_urlsafe(16)
        with self._lock:
            self._launches[launch] = _Grant(patient_id, time.monotonic() + _LAUNCH_TTL_S)
        return launch

    def launch_patient(self, launch: str) -> str | None:
        with self._lock:
            grant = self._launches.get(launch)
        return grant.patient_id if grant and grant.expires > time.monotonic() else None

    def new_code(self, grant: _Grant) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = grant
        return code

    def take_code(self, code: str) -> _Grant | None:
        with self._lock:
            grant = self._codes.pop(code, None)
        return grant if grant and grant.expires > time.monotonic() else None

    def new_token(self, grant: _Grant) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = _Grant(
                grant.patient_id, time.monotonic() + _TOKEN_TTL_S, scope=grant.scope
            )
        return token

    def token_patient(self, token: str) -> str | None:
        with self._lock:
            grant = self._tokens.get(token)
        return grant.patient_id if grant and grant.expires > time.monotonic() else None


def init_demo(app: Flask, server: DemoServer) -> None:
    """Register the demo EHR on ``app`` (``crs-cds demo`` only)."""
    app.extensions[_EXTENSION] = server
    app.register_blueprint(demo_bp)


def _server() -> DemoServer:
    server = current_app.extensions[_EXTENSION]
    assert isinstance(server, DemoServer)  # noqa: S101 - set only by init_demo
    return server


def fhir_base_url() -> str:
    """The demo FHIR base URL as the browser (or client) reached this server."""
    return request.host_url.rstrip("/") + DEMO_PREFIX + "/fhir"


# --- the launch page --------------------------------------------------------------------------


@demo_bp.get("/")
def launch_page() -> ResponseReturnValue:
    base = request.host_url.rstrip("/")
    return render_template(
        "demo/launcher.html",
        patients=_server().patients,
        base=base,
        fhir_base=fhir_base_url(),
        featured=_server().featured,
        sandbox_url=sandbox_url(base, _server().featured),
    )


def sandbox_url(base: str, patient_id: str) -> str:
    """The public CDS Hooks sandbox, pointed at this service and this FHIR endpoint."""
    query = urlencode(
        {
            "serviceDiscoveryURL": f"{base}/cds-services",
            "fhirServiceUrl": f"{base}{DEMO_PREFIX}/fhir",
            "patientId": patient_id,
        }
    )
    return f"https://sandbox.cds-hooks.org/?{query}"


@demo_bp.get("/launch/<patient_id>")
def launch(patient_id: str) -> ResponseReturnValue:
    """An EHR launch of the SMART app for ``patient_id``, as the EHR's "open app" button."""
    if _server().store.read("Patient", patient_id) is None:
        return _page_error(404, f"No demo patient {patient_id[:64]!r}.")
    query = urlencode({"iss": fhir_base_url(), "launch": _server().new_launch(patient_id)})
    return redirect(f"{request.host_url.rstrip('/')}/smart/launch?{query}", code=302)


# --- authorization server ---------------------------------------------------------------------


@demo_bp.get("/fhir/.well-known/smart-configuration")
def smart_configuration() -> Response:
    base = request.host_url.rstrip("/") + DEMO_PREFIX
    return _json(
        {
            "issuer": fhir_base_url(),
            "authorization_endpoint": f"{base}/auth/authorize",
            "token_endpoint": f"{base}/auth/token",
            "grant_types_supported": ["authorization_code"],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": ["launch", "openid", "fhirUser", "patient/*.rs"],
            "capabilities": [
                "launch-ehr",
                "client-public",
                "context-ehr-patient",
                "context-banner",
                "permission-patient",
                "permission-v2",
            ],
        }
    )


@demo_bp.get("/auth/authorize")
def authorize() -> ResponseReturnValue:
    """RFC 6749 section 4.1.1 with PKCE (RFC 7636) as SMART App Launch 2.2 asks for it."""
    args = request.args
    server = _server()
    redirect_uri = args.get("redirect_uri", "")
    if args.get("client_id") != server.client_id:
        return _page_error(400, "Unknown client_id: this demo EHR knows only the CRS app.")
    if not _own_origin(redirect_uri):
        return _page_error(400, "The redirect_uri is not on this demo server.")
    state = args.get("state", "")

    def refuse(error: str) -> ResponseReturnValue:
        return redirect(_with_query(redirect_uri, {"error": error, "state": state}), code=302)

    if args.get("response_type") != "code":
        return refuse("unsupported_response_type")
    if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
        return refuse("invalid_request")
    if args.get("aud", "").rstrip("/") != fhir_base_url():
        return refuse("invalid_request")
    patient_id = server.launch_patient(args.get("launch", ""))
    if patient_id is None:
        return refuse("invalid_request")
    code = server.new_code(
        _Grant(
            patient_id,
            time.monotonic() + _CODE_TTL_S,
            client_id=server.client_id,
            redirect_uri=redirect_uri,
            challenge=args["code_challenge"],
            scope=args.get("scope", ""),
        )
    )
    return redirect(_with_query(redirect_uri, {"code": code, "state": state}), code=302)


@demo_bp.post("/auth/token")
def token() -> Response:
    """RFC 6749 section 4.1.3: the code, the redirect_uri and the PKCE verifier."""
    form = request.form
    if form.get("grant_type") != "authorization_code":
        return _oauth_error("unsupported_grant_type")
    grant = _server().take_code(form.get("code", ""))
    if grant is None:
        return _oauth_error("invalid_grant")
    verifier = form.get("code_verifier", "")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    if (
        form.get("client_id") != grant.client_id
        or form.get("redirect_uri") != grant.redirect_uri
        or not secrets.compare_digest(challenge.rstrip(b"=").decode(), grant.challenge)
    ):
        return _oauth_error("invalid_grant")
    response = _json(
        {
            "access_token": _server().new_token(grant),
            "token_type": "Bearer",
            "expires_in": _TOKEN_TTL_S,
            "scope": grant.scope,
            "patient": grant.patient_id,
            "need_patient_banner": True,
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _own_origin(url: str) -> bool:
    parts, here = urlsplit(url), urlsplit(request.host_url)
    return (parts.scheme, parts.netloc) == (here.scheme, here.netloc)


def _with_query(url: str, params: Mapping[str, str]) -> str:
    separator = "&" if urlsplit(url).query else "?"
    return f"{url}{separator}{urlencode(params)}"


def _oauth_error(error: str) -> Response:
    return _json({"error": error}, 400)


# --- FHIR endpoint ----------------------------------------------------------------------------


@demo_bp.get("/fhir/metadata")
def metadata() -> Response:
    """A CapabilityStatement listing what the endpoint reads and searches."""
    types = ["Patient", "Observation", "MedicationAdministration", "Medication"]
    types += ["Condition", "Procedure"]
    return _fhir(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-12-01",
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "implementation": {
                "description": "crs-cds demo EHR (synthetic patients)",
                "url": fhir_base_url(),
            },
            "rest": [
                {
                    "mode": "server",
                    "resource": [
                        {
                            "type": name,
                            "interaction": [{"code": "read"}, {"code": "search-type"}],
                        }
                        for name in types
                    ],
                }
            ],
        }
    )


@demo_bp.get("/fhir/<resource_type>/<resource_id>")
def read(resource_type: str, resource_id: str) -> Response:
    resource = _server().store.read(resource_type, resource_id)
    owner = resource_id if resource_type == "Patient" else _owner(resource)
    refused = _check_token(resource_type, owner)
    if refused is not None:
        return refused
    if resource is None:
        return _outcome(404, "not-found", f"{resource_type}/{resource_id[:64]} is not here")
    return _fhir(resource)


def _owner(resource: Mapping[str, Any] | None) -> str | None:
    for element in ("subject", "patient"):
        value = resource.get(element) if resource is not None else None
        reference = value.get("reference") if isinstance(value, Mapping) else None
        if isinstance(reference, str):
            return reference
    return None


@demo_bp.post("/fhir/Communication")
def create_communication() -> Response:
    """Conditional create of a Communication (FHIR R4 ``If-None-Exist: identifier=s|v``)."""
    resource = request.get_json(silent=True)
    if not isinstance(resource, dict) or resource.get("resourceType") != "Communication":
        return _outcome(400, "invalid", "the body must be a Communication")
    subject = resource.get("subject")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    refused = _check_token("Communication", reference if isinstance(reference, str) else None)
    if refused is not None:
        return refused
    condition = request.headers.get("If-None-Exist", "")
    identifier = unquote(condition.removeprefix("identifier=")) if condition else None
    resource_id, created = _server().create_communication(dict(resource), identifier)
    location = f"{fhir_base_url()}/Communication/{resource_id}"
    return Response(status=201 if created else 200, headers={"Location": location})


def _identifiers(resource: Mapping[str, Any]) -> set[str]:
    found = set()
    for identifier in resource.get("identifier") or ():
        if isinstance(identifier, dict):
            found.add(f"{identifier.get('system', '')}|{identifier.get('value', '')}")
    return found


@demo_bp.get("/fhir/<resource_type>")
def search(resource_type: str) -> Response:
    return _search(resource_type, list(request.args.items(multi=True)))


@demo_bp.post("/fhir/<resource_type>/_search")
def search_post(resource_type: str) -> Response:
    """FHIR search by POST (form body), as the CDS Hooks sandbox prefetches."""
    parameters = list(request.args.items(multi=True)) + list(request.form.items(multi=True))
    return _search(resource_type, parameters)


def _search(resource_type: str, parameters: list[tuple[str, str]]) -> Response:
    values = dict(parameters)
    named = values.get("_id") if resource_type == "Patient" else None
    refused = _check_token(resource_type, named or values.get("patient") or values.get("subject"))
    if refused is not None:
        return refused
    try:
        result = _server().store.search(resource_type, parameters)
        offset = int(dict(parameters).get("_offset", "0"))
    except (SearchError, ValueError) as error:
        return _outcome(400, "invalid", str(error))
    return _fhir(_searchset(resource_type, parameters, result, max(0, offset)))


def _searchset(
    resource_type: str, parameters: list[tuple[str, str]], result: SearchResult, offset: int
) -> dict[str, Any]:
    base = fhir_base_url()
    kept = [(name, value) for name, value in parameters if name != "_offset"]
    matches, included = result.page(offset)

    def link(relation: str, at: int) -> dict[str, str]:
        query = urlencode([*kept, ("_offset", str(at))] if at else kept)
        return {
            "relation": relation,
            "url": f"{base}/{resource_type}" + (f"?{query}" if query else ""),
        }

    links = [link("self", offset)]
    if result.page_size and offset + result.page_size < len(result.matches):
        links.append(link("next", offset + result.page_size))
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
            "resource": r,
            "search": {"mode": mode},
        }
        for mode, group in (("match", matches), ("include", included))
        for r in group
    ]
    if result.ignored:
        entries.append(
            {
                "resource": _outcome_body(
                    "warning",
                    "not-supported",
                    "parameters not supported and ignored: " + ", ".join(result.ignored),
                ),
                "search": {"mode": "outcome"},
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(result.matches),
        "link": links,
        "entry": entries,
    }


def _check_token(resource_type: str, patient: str | None) -> Response | None:
    """No token: served (an open test server). A token: one this server issued, and only for
    its patient's data (``patient``: the patient the request names, id or reference)."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    patient_id = _server().token_patient(token.strip()) if scheme.lower() == "bearer" else None
    if patient_id is None:
        response = _outcome(401, "login", "unknown or expired access token")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    if resource_type == "Medication":  # a drug, not patient data
        return None
    if patient is None or patient.rsplit("/", 1)[-1] != patient_id:
        return _outcome(403, "forbidden", "the access token is for another patient's data")
    return None


def _outcome_body(severity: str, code: str, diagnostics: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }


def _outcome(status: int, code: str, diagnostics: str) -> Response:
    return _fhir(_outcome_body("error", code, diagnostics), status)


def _fhir(body: Mapping[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype=_FHIR_JSON)


def _json(body: Mapping[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def _page_error(status: int, message: str) -> ResponseReturnValue:
    return render_template("demo/error.html", message=message), status


@demo_bp.after_request
def _headers(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
