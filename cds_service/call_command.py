"""``crs-cds call``: call a CDS service as an EHR would; print the cards as a clinician reads them.

The hook request is built the way an EHR builds it: the service's discovery document gives the
prefetch templates, which are rendered with the context and evaluated, either against a Bundle
file (``cds_service.demo.fhir_store`` answers the searches) or against a FHIR server (every page
read). The request goes to a running service (``--url``) or to an app built in this process
(authentication off, an in-memory database, ``--as-of`` freezing its clock). Cards are printed
from the response JSON only: summary, detail, suggestions, links, and the grade of the
``org.crscds.assessment`` extension.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import textwrap
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TextIO
from urllib.parse import parse_qsl, urljoin, urlsplit

import orjson
import requests

from cds_service.demo.fhir_store import FhirStore, SearchError, resources_of_bundle
from cds_service.fhir_io import render_template
from crs_grading import GradingSystem
from crs_grading.wording import SYSTEM_NAMES
from crs_grading.wording.phrases import CARD

__all__ = [
    "CallError",
    "HookCall",
    "InProcessService",
    "RemoteService",
    "add_call_command",
    "build_request",
    "prefetch_from_server",
    "prefetch_from_store",
    "render_cards",
]

#: The extension that carries the assessment (SPEC section 4).
ASSESSMENT_EXTENSION = "org.crscds.assessment"
_DEFAULT_SERVICE = "crs-patient-view"
_HOOK_NEEDS_ORDERS = frozenset({"order-select", "order-sign"})
_TIMEOUTS = (3.05, 60.0)
_MAX_PAGES = 50
_WIDTH = 100
_PATIENT_URL = re.compile(r"^(?P<base>.+)/Patient/(?P<id>[A-Za-z0-9\-.]{1,64})/?$")


class CallError(Exception):
    """The call cannot be made or was refused; the message says why."""


# --- where the data comes from ----------------------------------------------------------------


def _searchset(
    resources: Sequence[Mapping[str, Any]], included: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    entries: list[dict[str, Any]] = [
        {"resource": r, "search": {"mode": "match"}} for r in resources
    ]
    entries += [{"resource": r, "search": {"mode": "include"}} for r in included]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": entries,
    }


def _split(rendered: str) -> tuple[str, list[tuple[str, str]]]:
    path, _, query = rendered.partition("?")
    return path.strip("/"), parse_qsl(query, keep_blank_values=True)


def prefetch_from_store(
    templates: Mapping[str, str], tokens: Mapping[str, str], store: FhirStore
) -> dict[str, Any]:
    """Each template evaluated against ``store``: a read gives the resource (or ``null``), a
    search a searchset Bundle holding every match and what ``_include`` adds (all pages)."""
    prefetch: dict[str, Any] = {}
    for key, template in templates.items():
        path, parameters = _split(render_template(template, tokens))
        parts = path.split("/")
        if len(parts) == 2 and not parameters:
            prefetch[key] = store.read(parts[0], parts[1])
            continue
        if len(parts) != 1:
            raise CallError(f"prefetch template {key!r} is neither a read nor a search: {path}")
        try:
            result = store.search(parts[0], parameters)
        except SearchError as error:
            raise CallError(f"prefetch template {key!r}: {error}") from None
        prefetch[key] = _searchset(*result.everything())
    return prefetch


def prefetch_from_server(
    templates: Mapping[str, str],
    tokens: Mapping[str, str],
    base_url: str,
    session: requests.Session,
) -> dict[str, Any]:
    """Each template read from the FHIR server at ``base_url``, following ``next`` links on the
    same server (up to 50 pages), so that every key holds the whole search."""
    base = base_url.rstrip("/") + "/"
    prefetch: dict[str, Any] = {}
    for key, template in templates.items():
        url = urljoin(base, render_template(template, tokens).lstrip("/"))
        document = _get_json(session, url)
        if document.get("resourceType") != "Bundle":
            prefetch[key] = document if document.get("resourceType") != "OperationOutcome" else None
            continue
        matches: list[Mapping[str, Any]] = []
        included: list[Mapping[str, Any]] = []
        for _ in range(_MAX_PAGES):
            for entry in document.get("entry") or []:
                resource = entry.get("resource") if isinstance(entry, dict) else None
                mode = (entry.get("search") or {}).get("mode", "match")
                if not isinstance(resource, dict) or mode == "outcome":
                    continue
                (included if mode == "include" else matches).append(resource)
            next_url = _next_link(document, url)
            if next_url is None:
                break
            url = next_url
            document = _get_json(session, url)
        prefetch[key] = _searchset(matches, included)
    return prefetch


def _next_link(bundle: Mapping[str, Any], current: str) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and link.get("url"):
            target = urljoin(current, str(link["url"]))
            here, there = urlsplit(current), urlsplit(target)
            if (here.scheme, here.netloc) == (there.scheme, there.netloc):
                return target
            return None
    return None


def _get_json(session: requests.Session, url: str) -> dict[str, Any]:
    try:
        response = session.get(
            url,
            headers={"Accept": "application/fhir+json"},
            timeout=_TIMEOUTS,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        raise CallError(f"the FHIR server did not answer {url}: {type(error).__name__}") from None
    if response.status_code == 404:
        return {"resourceType": "OperationOutcome"}
    if response.status_code != 200:
        raise CallError(f"the FHIR server answered HTTP {response.status_code} to {url}")
    try:
        document = response.json()
    except ValueError:
        raise CallError(f"the FHIR server's answer to {url} is not JSON") from None
    if not isinstance(document, dict):
        raise CallError(f"the FHIR server's answer to {url} is not a FHIR resource")
    return document


# --- the request ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HookCall:
    """What to call: the service, the patient, and the draft orders of an order hook."""

    service_id: str
    patient_id: str
    user_id: str = "Practitioner/crs-cds-call"
    draft_orders: Mapping[str, Any] | None = None
    fhir_server: str | None = None


def build_request(
    call: HookCall,
    discovery: Mapping[str, Any],
    fetch_prefetch: Callable[[Mapping[str, str], Mapping[str, str]], dict[str, Any]],
) -> dict[str, Any]:
    """The hook request body: context for the service's hook, and its templates evaluated."""
    service = next(
        (s for s in discovery.get("services", []) if s.get("id") == call.service_id), None
    )
    if service is None:
        known = ", ".join(str(s.get("id")) for s in discovery.get("services", []))
        raise CallError(f"no service {call.service_id!r} in the discovery document ({known})")
    hook = str(service.get("hook"))
    context: dict[str, Any] = {"userId": call.user_id, "patientId": call.patient_id}
    if hook in _HOOK_NEEDS_ORDERS:
        if call.draft_orders is None:
            raise CallError(
                f"{call.service_id} ({hook}) needs draft orders: --draft-orders FILE "
                "(a MedicationRequest or a Bundle of them)"
            )
        context["draftOrders"] = call.draft_orders
        if hook == "order-select":
            context["selections"] = [
                f"{r['resourceType']}/{r['id']}"
                for r in resources_of_bundle(call.draft_orders)
                if isinstance(r.get("id"), str)
            ]
    tokens = {f"context.{name}": value for name, value in context.items() if isinstance(value, str)}
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": context,
        "prefetch": fetch_prefetch(service.get("prefetch") or {}, tokens),
    }
    if call.fhir_server is not None:
        body["fhirServer"] = call.fhir_server
    return body


# --- where the request goes -------------------------------------------------------------------


class CdsClient(Protocol):
    """A CDS service to call: its discovery document, and a hook call."""

    def discovery(self) -> dict[str, Any]: ...

    def call(self, service_id: str, body: Mapping[str, Any]) -> tuple[int, Any]: ...


class RemoteService:
    """A running service at ``base_url`` (e.g. ``http://127.0.0.1:8080``)."""

    def __init__(self, base_url: str, session: requests.Session) -> None:
        self._base = base_url.rstrip("/")
        self._session = session

    def discovery(self) -> dict[str, Any]:
        status, document = self._send("GET", "/cds-services", None)
        if status != 200 or not isinstance(document, dict):
            raise CallError(f"discovery at {self._base}/cds-services answered HTTP {status}")
        return document

    def call(self, service_id: str, body: Mapping[str, Any]) -> tuple[int, Any]:
        return self._send("POST", f"/cds-services/{service_id}", body)

    def _send(self, method: str, path: str, body: Mapping[str, Any] | None) -> tuple[int, Any]:
        url = self._base + path
        try:
            response = self._session.request(
                method,
                url,
                data=orjson.dumps(body) if body is not None else None,
                headers={"Content-Type": "application/json", "Accept": "application/json"},
                timeout=_TIMEOUTS,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise CallError(f"the service did not answer {url}: {type(error).__name__}") from None
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None


class InProcessService:
    """The service built in this process: authentication off, an in-memory database, the
    environment's other settings, and the clock frozen at ``as_of`` when given."""

    def __init__(self, as_of: datetime | None, environ: Mapping[str, str]) -> None:
        # Imported here: ``crs-cds call --url`` needs no app.
        from cds_service import create_app
        from cds_service.clock import fixed_clock, set_clock

        settings = {
            "CRS_CDS_LOG_LEVEL": "ERROR",
            **environ,
            "CRS_CDS_AUTH": "none",
            "DATABASE_URL": "sqlite://",
        }
        self._app = create_app(settings)
        if as_of is not None:
            set_clock(self._app, fixed_clock(as_of))
        self._client = self._app.test_client()

    def discovery(self) -> dict[str, Any]:
        document = self._client.get("/cds-services").get_json()
        assert isinstance(document, dict)  # noqa: S101 - our own discovery endpoint
        return document

    def call(self, service_id: str, body: Mapping[str, Any]) -> tuple[int, Any]:
        response = self._client.post(f"/cds-services/{service_id}", json=body)
        return response.status_code, response.get_json(silent=True)


# --- printing ---------------------------------------------------------------------------------


def _plain(markdown: str) -> str:
    """Card markdown as terminal text: emphasis and code marks dropped, lines kept."""
    return markdown.replace("**", "").replace("`", "")


def _wrapped(text: str, indent: str) -> list[str]:
    lines: list[str] = []
    for line in _plain(text).splitlines():
        if not line.strip():
            lines.append("")
            continue
        bullet = re.match(r"^(\s*[-*] )", line)
        hanging = indent + (" " * len(bullet.group(1)) if bullet else "")
        lines.extend(
            textwrap.wrap(
                line.strip() if not bullet else line,
                width=_WIDTH,
                initial_indent=indent,
                subsequent_indent=hanging,
                break_long_words=False,
                break_on_hyphens=False,
            )
            or [indent]
        )
    return lines


def _system_name(system_id: object) -> str:
    """A grading system as clinicians name it ("Lee 2014"), from its id in the extension
    ("lee2014"); an id this version does not know (a newer service) is shown as sent."""
    try:
        return SYSTEM_NAMES[GradingSystem(str(system_id))]
    except ValueError:
        return str(system_id)


def _assessment_line(card: Mapping[str, Any]) -> str | None:
    extension = card.get("extension")
    assessment = extension.get(ASSESSMENT_EXTENSION) if isinstance(extension, dict) else None
    if not isinstance(assessment, dict):
        return None
    crs = CARD["grade"].format(
        grade=assessment.get("grade"), system=_system_name(assessment.get("system"))
    )
    text = f"{crs}, peak {assessment.get('peakGrade')}"
    others = assessment.get("otherSystems")
    if isinstance(others, dict):
        text += "".join(
            f"; {_system_name(system)} grade {grade}" for system, grade in others.items()
        )
    therapy = assessment.get("therapy")
    if isinstance(therapy, dict) and therapy.get("day") is not None:
        text += f"; day {therapy['day']} after {therapy.get('display', 'therapy')}"
    return text


def render_cards(
    response: Mapping[str, Any], out: TextIO, *, heading: str = "", brief: bool = False
) -> None:
    """The cards of a CDS Hooks response as a clinician would read them, in a terminal.

    ``brief``: the assessment card (else the first) in full, every other card as one line.
    """
    write = out.write
    cards = response.get("cards") or []
    if heading:
        write(f"== {heading} ==\n")
    if not cards:
        write(
            "No cards. (The service answers none when the patient had no CAR T-cell, "
            "T-cell engager or other CRS-associated therapy in the last 30 days.)\n\n"
        )
        return
    full = next((c for c in cards if _assessment_line(c) is not None), cards[0])
    for card in cards:
        indicator = str(card.get("indicator", "info")).upper()
        write(f"[{indicator}] {card.get('summary', '')}\n")
        if brief and card is not full:
            continue
        assessment = _assessment_line(card)
        if assessment is not None:
            write(f"  Assessment: {assessment}\n")
        detail = card.get("detail")
        if isinstance(detail, str) and detail.strip():
            write("\n".join(_wrapped(detail, "  ")) + "\n")
        suggestions = card.get("suggestions") or []
        if suggestions:
            write("  Suggestions:\n")
        for suggestion in suggestions:
            preselected = "recommended" if suggestion.get("isRecommended") else "not preselected"
            write(f"    * {suggestion.get('label', '')} ({preselected})\n")
        for link in card.get("links") or []:
            write(f"  Link: {link.get('label', '')} <{link.get('url', '')}> ({link.get('type')})\n")
        source = card.get("source")
        if isinstance(source, dict) and source.get("label"):
            write(f"  Source: {source['label']}\n")
        if not brief:
            write("\n")


# --- the command ------------------------------------------------------------------------------


def _load_json(path: Path, *, fhir_only: bool = True) -> dict[str, Any]:
    try:
        document = orjson.loads(path.read_bytes())
    except OSError as error:
        raise CallError(f"{path}: {error.strerror or error}") from None
    except orjson.JSONDecodeError as error:
        raise CallError(f"{path}: not valid JSON ({error})") from None
    is_resource = isinstance(document, dict) and isinstance(document.get("resourceType"), str)
    if fhir_only and not is_resource:
        raise CallError(f"{path}: not a FHIR resource (no resourceType)")
    return document if is_resource else {}


def _store_of(path: Path) -> FhirStore:
    """The resources of a file, or of every FHIR ``*.json`` file of a folder (other JSON files,
    such as demo-data's expected.json, are passed over)."""
    folder = path.is_dir()
    store = FhirStore()
    for file in sorted(path.glob("*.json")) if folder else [path]:
        document = _load_json(file, fhir_only=not folder)
        for resource in resources_of_bundle(document) if document else []:
            if isinstance(resource.get("id"), str):
                store.add(resource)
    return store


def _only_patient(store: FhirStore, source: str) -> str:
    ids = sorted(str(p["id"]) for p in store.of_type("Patient"))
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise CallError(f"{source}: no Patient resource; name the patient with --patient ID")
    raise CallError(f"{source}: several patients ({', '.join(ids)}); choose one with --patient ID")


def _as_of(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise CallError(f"--as-of {raw!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise CallError(f"--as-of {raw!r} needs a time zone, e.g. 2026-01-10T22:30:00Z")
    return moment


def _draft_orders(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    document = _load_json(Path(raw))
    if document["resourceType"] == "Bundle":
        return document
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": document}]}


def run_call(args: argparse.Namespace, out: TextIO, session: requests.Session) -> int:
    """``crs-cds call`` with parsed arguments; returns the exit status."""
    as_of = _as_of(args.as_of)
    if as_of is not None and args.url:
        raise CallError("--as-of works in process only: a running service grades at its own now")
    service: CdsClient = (
        RemoteService(args.url, session) if args.url else InProcessService(as_of, os.environ)
    )
    source = str(args.source)
    fhir_server: str | None = None
    if re.match(r"^https?://", source):
        match = _PATIENT_URL.match(source)
        base = match.group("base") if match else source.rstrip("/")
        patient_id = args.patient or (match.group("id") if match else None)
        if patient_id is None:
            raise CallError("name the patient: --patient ID, or give the URL of the Patient")
        fhir_server = base

        def fetch(templates: Mapping[str, str], tokens: Mapping[str, str]) -> dict[str, Any]:
            return prefetch_from_server(templates, tokens, base, session)

    else:
        path = Path(source)
        if not path.exists():
            raise CallError(f"{source}: no such file or folder")
        store = _store_of(path)
        patient_id = args.patient or _only_patient(store, source)

        def fetch(templates: Mapping[str, str], tokens: Mapping[str, str]) -> dict[str, Any]:
            return prefetch_from_store(templates, tokens, store)

    call = HookCall(
        service_id=args.service,
        patient_id=patient_id,
        draft_orders=_draft_orders(args.draft_orders),
        fhir_server=fhir_server,
    )
    body = build_request(call, service.discovery(), fetch)
    if args.print_request:
        out.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    status, answer = service.call(call.service_id, body)
    if status != 200 or not isinstance(answer, dict):
        diagnostics = _diagnostics(answer)
        raise CallError(f"{call.service_id} answered HTTP {status}: {diagnostics}")
    if args.json:
        out.write(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        render_cards(answer, out, heading=f"{call.service_id} for Patient/{patient_id}")
    return 0


def _diagnostics(answer: Any) -> str:
    if isinstance(answer, dict):
        issues = answer.get("issue") or []
        texts = [str(i.get("diagnostics")) for i in issues if isinstance(i, dict)]
        if texts:
            return "; ".join(texts)
    return "no details"


def _call(args: argparse.Namespace) -> int:
    try:
        with requests.Session() as session:
            return run_call(args, sys.stdout, session)
    except CallError as error:
        sys.stderr.write(f"crs-cds call: {error}\n")
        return 1


def add_call_command(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``crs-cds call``."""
    call = subcommands.add_parser(
        "call",
        help="call a CDS service as an EHR would and print its cards",
        description=(
            "Build the hook request as an EHR would: the prefetch templates of the service's "
            "discovery document evaluated against a FHIR Bundle file (or a folder of them) or "
            "read from a FHIR server. Send it to a running service (--url) or to the service "
            "built in this process, and print the cards."
        ),
    )
    call.add_argument(
        "source",
        metavar="FILE|URL",
        help="a Bundle file or folder, a FHIR base URL (with --patient), or a Patient's URL",
    )
    call.add_argument(
        "--service",
        default=_DEFAULT_SERVICE,
        help="CDS service id (default crs-patient-view; crs-order-select, crs-order-sign)",
    )
    call.add_argument(
        "--as-of", help="in process only: the time of the call, ISO 8601 with zone (default now)"
    )
    call.add_argument("--patient", help="Patient id, when the source holds several")
    call.add_argument(
        "--url",
        help="base URL of a running service, e.g. http://127.0.0.1:8080 (default: in process)",
    )
    call.add_argument(
        "--draft-orders",
        metavar="FILE",
        help="order hooks: a MedicationRequest or a Bundle of them (all selected)",
    )
    call.add_argument("--json", action="store_true", help="print the response JSON")
    call.add_argument(
        "--print-request",
        action="store_true",
        help="print the hook request JSON instead of sending it (e.g. for curl)",
    )
    call.set_defaults(handler=_call)
