"""A test-only EHR for the watch: FHIR reads and searches over per-patient charts, conditional
create of Communication, Subscription create, SMART Backend Services discovery and token, and a
webhook receiver that checks signatures. One request handler, used two ways: plugged into
``responses`` (unit tests) and served over real HTTP on loopback (integration test, benchmark).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import jwt
import orjson

from cds_service.demo.fhir_store import FhirStore, SearchError

SEARCHABLE = ("Observation", "MedicationAdministration", "Condition", "Procedure")
JSON_HEADERS = {"Content-Type": "application/fhir+json"}
Answer = tuple[int, dict[str, str], bytes]


def rename_patient(
    resources: Iterable[Mapping[str, Any]], old: str, new: str
) -> list[dict[str, Any]]:
    """A demo chart under another patient id (every reference and the Patient's id)."""
    text = orjson.dumps(list(resources)).replace(old.encode(), new.encode())
    renamed: list[dict[str, Any]] = orjson.loads(text)
    return renamed


@dataclass
class FakeEhr:
    """The EHR's FHIR server (``base``), token endpoint and our webhook's receiver."""

    base: str
    token: str | None = None  # required bearer token; None: open server
    client_id: str | None = None
    client_public_key: Any = None  # verifies client assertions when set
    webhook_secret: str | None = None
    charts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    stores: dict[str, FhirStore] = field(default_factory=dict)
    #: Serialized search answers by (patient, type, parameters): a chart changes only by
    #: ``set_chart``, so the fake answers a repeated search at the cost of a dict lookup (the
    #: benchmark measures the watch, not the fake).
    _answers: dict[tuple[str, str, tuple[tuple[str, str], ...]], bytes] = field(
        default_factory=dict
    )
    fail: dict[str, int] = field(default_factory=dict)  # path prefix -> status
    hold: dict[str, float] = field(default_factory=dict)  # patient id -> seconds (once)
    held: threading.Event = field(default_factory=threading.Event)
    communications: list[dict[str, Any]] = field(default_factory=list)
    communication_posts: int = 0
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    events_answer: dict[str, Any] | None = None  # what $events answers; None: not supported
    auth_methods: tuple[str, ...] = ("private_key_jwt",)  # token_endpoint_auth_methods
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- charts ---------------------------------------------------------------------------

    def set_chart(self, patient_id: str, resources: Iterable[Mapping[str, Any]]) -> None:
        chart = [dict(r) for r in resources]
        store = FhirStore(chart)
        with self.lock:
            self.charts[patient_id] = chart
            self.stores[patient_id] = store
            self._answers = {k: v for k, v in self._answers.items() if k[0] != patient_id}

    def _find(self, kind: str, resource_id: str) -> dict[str, Any] | None:
        for chart in self.charts.values():
            for resource in chart:
                if resource["resourceType"] == kind and resource.get("id") == resource_id:
                    return resource
        return None

    # --- requests -------------------------------------------------------------------------

    def handle(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
        parts = urlsplit(url)
        base_path = urlsplit(self.base).path.rstrip("/")
        path = parts.path
        if path.endswith("/webhook"):
            return self._webhook(headers, body)
        if path.endswith("/token"):
            return self._token(body)
        if not path.startswith(base_path):
            return 404, {}, b"{}"
        path = path[len(base_path) :].strip("/")
        if path == ".well-known/smart-configuration":
            return (
                200,
                {"Content-Type": "application/json"},
                orjson.dumps(
                    {
                        "token_endpoint": self.base.rsplit("/fhir", 1)[0] + "/token",
                        "token_endpoint_auth_methods_supported": list(self.auth_methods),
                        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
                        "grant_types_supported": ["client_credentials"],
                    }
                ),
            )
        for prefix, status in self.fail.items():
            if path.startswith(prefix):
                return status, JSON_HEADERS, b'{"resourceType": "OperationOutcome"}'
        if self.token is not None and headers.get("Authorization") != f"Bearer {self.token}":
            return 401, JSON_HEADERS, b'{"resourceType": "OperationOutcome"}'
        parameters = parse_qsl(parts.query, keep_blank_values=True)
        with self.lock:
            self.reads.append(f"{method} {path}")
        if method == "POST" and path == "Communication":
            return self._communication(headers, body)
        if method in ("POST", "PUT") and path.startswith("Subscription"):
            return self._subscription(method, path, body)
        if method != "GET":
            return 405, {}, b"{}"
        if path.endswith("/$events") and self.events_answer is not None:
            return 200, JSON_HEADERS, orjson.dumps(self.events_answer)
        kind, _, resource_id = path.partition("/")
        if resource_id:
            resource = self._find(kind, unquote(resource_id))
            if resource is None:
                return 404, JSON_HEADERS, b'{"resourceType": "OperationOutcome"}'
            return 200, JSON_HEADERS, orjson.dumps(resource)
        if kind in SEARCHABLE:
            try:
                return 200, JSON_HEADERS, self._search_answer(kind, parameters)
            except (SearchError, ValueError):
                return 400, JSON_HEADERS, b'{"resourceType": "OperationOutcome"}'

        return 404, JSON_HEADERS, b'{"resourceType": "OperationOutcome"}'

    def _search_answer(self, kind: str, parameters: list[tuple[str, str]]) -> bytes:
        patient = dict(parameters).get("patient", "").rsplit("/", 1)[-1]
        key = (patient, kind, tuple(parameters))
        with self.lock:
            cached = self._answers.get(key)
            held = kind == "Observation" and patient in self.hold
        if cached is not None and not held:
            return cached
        answer = orjson.dumps(self._search(kind, parameters))
        with self.lock:
            self._answers[key] = answer
        return answer

    def _search(self, kind: str, parameters: list[tuple[str, str]]) -> dict[str, Any]:
        """A search evaluated by the demo EHR's store (category, code, _sort, _count, _include,
        paging), over the named patient's chart only."""
        query = dict(parameters)
        patient = query.get("patient", "").rsplit("/", 1)[-1]
        delay = 0.0
        with self.lock:
            store = self.stores.get(patient)
            if kind == "Observation" and patient in self.hold:
                delay = self.hold.pop(patient)
        if delay:
            self.held.set()
            time.sleep(delay)
        if store is None:
            return {"resourceType": "Bundle", "type": "searchset", "entry": []}
        kept = [(name, value) for name, value in parameters if name != "_offset"]
        result = store.search(kind, kept)
        offset = int(query.get("_offset", "0"))
        matches, included = result.page(offset)
        entries: list[dict[str, Any]] = [
            {"fullUrl": f"{self.base}/{r['resourceType']}/{r['id']}", "resource": r}
            for r in matches
        ]
        entries += [{"resource": r, "search": {"mode": "include"}} for r in included]
        links = []
        if offset + result.page_size < len(result.matches):
            following = urlencode([*kept, ("_offset", str(offset + result.page_size))])
            links.append({"relation": "next", "url": f"{self.base}/{kind}?{following}"})
        return {"resourceType": "Bundle", "type": "searchset", "link": links, "entry": entries}

    def _communication(self, headers: Mapping[str, str], body: bytes) -> Answer:
        resource = orjson.loads(body)
        condition = headers.get("If-None-Exist", "")
        wanted = unquote(condition.removeprefix("identifier=")) if condition else None
        with self.lock:
            self.communication_posts += 1
            for existing in self.communications:
                identifier = existing["identifier"][0]
                if wanted == f"{identifier['system']}|{identifier['value']}":
                    return 200, {"Location": f"{self.base}/Communication/{existing['id']}"}, b""
            resource["id"] = f"c{len(self.communications) + 1}"
            self.communications.append(resource)
        return 201, {"Location": f"{self.base}/Communication/{resource['id']}/_history/1"}, b""

    def _subscription(self, method: str, path: str, body: bytes) -> Answer:
        resource = orjson.loads(body)
        with self.lock:
            if method == "POST":
                resource["id"] = f"sub{len(self.subscriptions) + 1}"
            self.subscriptions.append(resource)
        location = f"{self.base}/Subscription/{resource['id']}/_history/1"
        return 201, {"Location": location, **JSON_HEADERS}, orjson.dumps(resource)

    def _token(self, body: bytes) -> Answer:
        form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
        with self.lock:
            self.token_requests.append(form)
        ok = (
            form.get("grant_type") == "client_credentials"
            and form.get("client_assertion_type")
            == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        )
        if ok and self.client_public_key is not None:
            try:
                jwt.decode(
                    form.get("client_assertion", ""),
                    self.client_public_key,
                    algorithms=["RS384", "ES384"],
                    audience=self.base.rsplit("/fhir", 1)[0] + "/token",
                    issuer=self.client_id,
                    options={"require": ["exp", "jti", "sub"]},
                )
            except jwt.PyJWTError:
                ok = False
        if not ok:
            return 400, {"Content-Type": "application/json"}, b'{"error": "invalid_client"}'
        answer = {"access_token": self.token, "token_type": "bearer", "expires_in": 300}
        return 200, {"Content-Type": "application/json"}, orjson.dumps(answer)

    def _webhook(self, headers: Mapping[str, str], body: bytes) -> Answer:
        from cds_service.watch.alerts import verify_webhook_signature

        signature = headers.get("X-CRS-CDS-Signature", "")
        if self.webhook_secret and not verify_webhook_signature(
            body, signature, self.webhook_secret
        ):
            return 401, {}, b""
        with self.lock:
            self.webhooks.append(({k.lower(): v for k, v in headers.items()}, body))
        return 204, {}, b""

    # --- what arrived ---------------------------------------------------------------------

    def alert_ids_by_patient(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        with self.lock:
            for headers, body in self.webhooks:
                patient = json.loads(body)["patient"].split("/", 1)[1]
                found.setdefault(patient, set()).add(headers["x-crs-cds-alert-id"])
        return found

    def communications_by_patient(self) -> dict[str, int]:
        found: dict[str, int] = {}
        with self.lock:
            for resource in self.communications:
                patient = resource["subject"]["reference"].split("/", 1)[1]
                found[patient] = found.get(patient, 0) + 1
        return found

    # --- plumbing -------------------------------------------------------------------------

    def install(self, mock: Any) -> None:
        """Answer every request to this EHR's host through ``responses``."""
        import re

        import responses

        host = re.escape(f"{urlsplit(self.base).scheme}://{urlsplit(self.base).netloc}")

        def callback(request: Any) -> tuple[int, dict[str, str], bytes]:
            body = request.body or b""
            if isinstance(body, str):
                body = body.encode()
            return self.handle(request.method, request.url, dict(request.headers), body)

        for method in (responses.GET, responses.POST, responses.PUT):
            mock.add_callback(method, re.compile(host + r"/.*"), callback=callback)

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        url = self.base.split("/fhir")[0] + environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING"):
            url += "?" + environ["QUERY_STRING"]
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers = {k.replace("Crs-Cds", "CRS-CDS"): v for k, v in headers.items()}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        status, answer_headers, answer = self.handle(environ["REQUEST_METHOD"], url, headers, body)
        start_response(f"{status} X", [*answer_headers.items()])
        return [answer]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


class _ThreadingServer(WSGIServer):
    daemon_threads = True

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_one, args=(request, client_address), daemon=True
        )
        thread.start()

    def _serve_one(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)


def serve(ehr_factory: Callable[[int], FakeEhr]) -> tuple[FakeEhr, Callable[[], None]]:
    """Serve a ``FakeEhr`` over HTTP on a free loopback port; returns it and a stop function."""
    ehr: FakeEhr  # made below, once the port is known; the server only calls it after that
    server = make_server(
        "127.0.0.1", 0, lambda e, s: ehr.wsgi(e, s), _ThreadingServer, _QuietHandler
    )
    ehr = ehr_factory(server.server_port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return ehr, stop
