"""A test-only EHR: a FHIR server holding a demo Bundle's resources and a SMART authorization
server, as plain request -> (status, headers, body) functions.

The unit tests plug ``FakeFhir.answer`` into ``responses``; the browser test serves the same
logic over real HTTP on loopback (``ehr_wsgi_app``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

SEARCHABLE = ("Observation", "MedicationAdministration", "Condition", "Procedure")


def demo_resources(case_id: str) -> list[dict[str, Any]]:
    from cds_service.demo import load_bundle

    return [entry["resource"] for entry in load_bundle(case_id)["entry"]]


def _subject(resource: Mapping[str, Any]) -> str | None:
    for key in ("subject", "patient"):
        ref = resource.get(key)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return ref["reference"]
    return None


def _date_key(resource: Mapping[str, Any]) -> str:
    for key in ("effectiveDateTime", "effectiveInstant", "issued", "performedDateTime"):
        if isinstance(resource.get(key), str):
            return resource[key]
    for key in ("effectivePeriod", "performedPeriod"):
        period = resource.get(key)
        if isinstance(period, dict) and isinstance(period.get("start"), str):
            return period["start"]
    return ""


@dataclass
class FakeFhir:
    """FHIR R4 reads and searches over a fixed set of resources, with a bearer token check."""

    base: str
    resources: list[dict[str, Any]]
    token: str
    fail: dict[str, int] = field(default_factory=dict)  # resource type -> HTTP status to answer
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def answer(self, url: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], str]:
        """The answer to ``GET url``."""
        self.requests.append((url, dict(headers)))
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {}, json.dumps({"resourceType": "OperationOutcome"})
        parts = urlsplit(url)
        path = parts.path[len(urlsplit(self.base).path) :].strip("/")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        kind = path.split("/")[0]
        if kind in self.fail:
            return self.fail[kind], {}, json.dumps({"resourceType": "OperationOutcome"})
        if path.startswith("Patient/"):
            wanted = path.split("/", 1)[1]
            for resource in self.resources:
                if resource["resourceType"] == "Patient" and resource["id"] == wanted:
                    return 200, _json_headers(), json.dumps(resource)
            return 404, {}, json.dumps({"resourceType": "OperationOutcome"})
        if kind in SEARCHABLE:
            return 200, _json_headers(), json.dumps(self._search(kind, query))
        return 404, {}, json.dumps({"resourceType": "OperationOutcome"})

    def _search(self, kind: str, query: dict[str, str]) -> dict[str, Any]:
        patient = f"Patient/{query.get('patient', '')}"
        matches = [
            r for r in self.resources if r["resourceType"] == kind and _subject(r) == patient
        ]
        if query.get("_sort", "").lstrip("-") in ("date", "effective-time"):
            matches.sort(key=_date_key, reverse=query["_sort"].startswith("-"))
        count = int(query.get("_count", "50"))
        offset = int(query.get("_offset", "0"))
        page = matches[offset : offset + count]
        entries = [
            {
                "fullUrl": f"{self.base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in page
        ]
        if query.get("_include") == "MedicationAdministration:medication":
            entries += [
                {"resource": m, "search": {"mode": "include"}} for m in self._medications(page)
            ]
        links = [{"relation": "self", "url": f"{self.base}/{kind}?{urlencode(query)}"}]
        if offset + count < len(matches):
            following = {**query, "_offset": str(offset + count)}
            links.append({"relation": "next", "url": f"{self.base}/{kind}?{urlencode(following)}"})
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(matches),
            "link": links,
            "entry": entries,
        }

    def _medications(self, page: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        wanted = {
            r["medicationReference"]["reference"]
            for r in page
            if isinstance(r.get("medicationReference"), dict)
            and "reference" in r["medicationReference"]
        }
        return [
            r
            for r in self.resources
            if r["resourceType"] == "Medication" and f"Medication/{r['id']}" in wanted
        ]


def _json_headers() -> dict[str, str]:
    return {"Content-Type": "application/fhir+json"}


def s256(verifier: str) -> str:
    """RFC 7636 S256, written independently of the code under test."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass
class FakeAuthorizationServer:
    """Auto-approves an EHR launch and checks PKCE at the token endpoint (SMART App Launch 2.2)."""

    client_id: str
    patient: str
    access_token: str
    launch: str = "launch-ctx-1"
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)

    def authorize(self, query: Mapping[str, str]) -> tuple[int, dict[str, str], str]:
        self.authorize_requests.append(dict(query))
        required = (
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "aud",
            "code_challenge",
            "code_challenge_method",
        )
        if any(not query.get(k) for k in required) or query["code_challenge_method"] != "S256":
            return 400, {}, "bad authorize request"
        target = query["redirect_uri"]
        if query["client_id"] != self.client_id or query.get("launch") != self.launch:
            target += "?" + urlencode({"error": "access_denied", "state": query["state"]})
            return 302, {"Location": target}, ""
        code = secrets.token_urlsafe(16)
        self.codes[code] = dict(query)
        target += "?" + urlencode({"code": code, "state": query["state"]})
        return 302, {"Location": target}, ""

    def token(self, form: Mapping[str, str]) -> tuple[int, dict[str, str], str]:
        grant = self.codes.pop(form.get("code", ""), None)
        ok = (
            grant is not None
            and form.get("grant_type") == "authorization_code"
            and form.get("redirect_uri") == grant["redirect_uri"]
            and form.get("client_id") == self.client_id
            and s256(form.get("code_verifier", "")) == grant["code_challenge"]
        )
        headers = {
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            "Pragma": "no-cache",
        }
        if not ok:
            return 400, headers, json.dumps({"error": "invalid_grant"})
        body = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": grant["scope"] if grant else "",
            "patient": self.patient,
            "need_patient_banner": True,
        }
        return 200, headers, json.dumps(body)


def smart_configuration(ehr_base: str) -> dict[str, Any]:
    return {
        "authorization_endpoint": f"{ehr_base}/auth/authorize",
        "token_endpoint": f"{ehr_base}/auth/token",
        "code_challenge_methods_supported": ["S256"],
        "capabilities": ["launch-ehr", "client-public", "context-ehr-patient", "permission-v2"],
    }
