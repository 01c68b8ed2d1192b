"""The OAuth 2.0 steps of SMART App Launch 2.2: discovery, PKCE, authorize URL, code exchange.

Plain functions over a ``requests.Session`` passed in (tests inject ``responses``). Nothing
here logs a token, a code, a verifier or a state.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from cds_service.outbound import (
    Deadline,
    OutboundError,
    OutboundResponse,
    Redirects,
    fetch,
    is_loopback_host,
)
from cds_service.smart.config import SmartConfig, normalise_issuer
from cds_service.smart.errors import DiscoveryFailed, LaunchRefused, TokenExchangeFailed

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SmartConfiguration:
    """The parts of ``{iss}/.well-known/smart-configuration`` the app uses."""

    authorization_endpoint: str
    token_endpoint: str
    capabilities: frozenset[str] | None  # None: the server did not list any
    code_challenge_methods: frozenset[str] | None  # None: not stated

    def allows_standalone(self) -> bool:
        """True unless the server lists its capabilities without ``launch-standalone``."""
        return self.capabilities is None or "launch-standalone" in self.capabilities


def new_random_token() -> str:
    """An unpredictable URL-safe value with 256 bits of entropy (state, ids; SMART needs >= 122)."""
    return secrets.token_urlsafe(32)


def new_code_verifier() -> str:
    """A PKCE code verifier: 43 characters of the unreserved set (RFC 7636 section 4.1)."""
    return secrets.token_urlsafe(32)


def s256_challenge(verifier: str) -> str:
    """The S256 code challenge of ``verifier``: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_issuer(iss: str, allowed: Sequence[str] | None) -> str:
    """``iss`` as the EHR sent it (blanks trimmed) if the app may launch from it; else
    ``LaunchRefused``. The EHR's own spelling is kept: ``aud`` must equal it (SMART 2.2 step 4).

    With an allowlist, only listed issuers (compared without trailing slashes). Without one,
    any https URL, or http on loopback (SMART App Launch 2.2: tokens only over TLS).
    """
    iss = iss.strip()
    parts = urlsplit(iss)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise LaunchRefused("The launch named a FHIR server address that is not a web URL.")
    if allowed is not None:
        if normalise_issuer(iss) not in allowed:
            raise LaunchRefused(
                "This FHIR server is not one the app is configured to launch from. "
                "Ask your administrator to add it to CRS_CDS_SMART_ISSUERS."
            )
        return iss
    if parts.scheme != "https" and not is_loopback_host(parts.hostname):
        raise LaunchRefused("The app launches only from FHIR servers reached over https.")
    return iss


def _check_endpoint(name: str, url: Any, iss: str) -> str:
    if not isinstance(url, str) or not url:
        raise DiscoveryFailed(f"The EHR's SMART configuration has no {name}.")
    parts = urlsplit(url)
    iss_scheme = urlsplit(iss).scheme
    # An https FHIR server must not send the browser or our token request over plain http.
    if parts.scheme not in ("https", iss_scheme) or not parts.hostname:
        raise DiscoveryFailed(f"The EHR's {name} is not an https URL.")
    return url


def _string_set(value: Any) -> frozenset[str] | None:
    if not isinstance(value, list):
        return None
    return frozenset(v for v in value if isinstance(v, str))


def discover(http: requests.Session, iss: str, config: SmartConfig) -> SmartConfiguration:
    """GET ``{iss}/.well-known/smart-configuration`` (SMART App Launch 2.2, step 3).

    Redirects are followed within the origin of ``iss`` only (a redirect must not turn the
    server's GET towards an internal address), and every way the document cannot be had gives
    the same message: the page must not tell what answered there (a port-scan oracle).
    """
    url = f"{iss.rstrip('/')}/.well-known/smart-configuration"
    unreadable = DiscoveryFailed(
        "The EHR's SMART configuration could not be read from its FHIR server. Try again in a "
        "moment; if this repeats, ask your EHR administrator."
    )
    try:
        response = fetch(
            http,
            "GET",
            url,
            deadline=Deadline(config.request_deadline_s),
            max_bytes=config.max_answer_bytes,
            headers={"Accept": "application/json"},
            redirects=Redirects.SAME_ORIGIN,
        )
    except OutboundError as exc:
        logger.warning("SMART discovery failed for %s: %s", iss, type(exc).__name__)
        raise unreadable from None
    if response.status != 200:
        logger.warning("SMART discovery for %s answered HTTP %s", iss, response.status)
        raise unreadable
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        logger.warning("SMART discovery for %s answered something else than a JSON object", iss)
        raise unreadable
    endpoints = SmartConfiguration(
        authorization_endpoint=_check_endpoint(
            "authorization endpoint", document.get("authorization_endpoint"), iss
        ),
        token_endpoint=_check_endpoint("token endpoint", document.get("token_endpoint"), iss),
        capabilities=_string_set(document.get("capabilities")),
        code_challenge_methods=_string_set(document.get("code_challenge_methods_supported")),
    )
    methods = endpoints.code_challenge_methods
    if methods is not None and "S256" not in methods:
        # SMART 2.2: servers SHALL support S256 and SHALL NOT support plain; we never downgrade.
        raise DiscoveryFailed("The EHR does not support PKCE with S256, which the app requires.")
    return endpoints


def authorize_url(
    authorization_endpoint: str,
    *,
    config: SmartConfig,
    iss: str,
    launch: str | None,
    redirect_uri: str,
    state: str,
    code_verifier: str,
) -> str:
    """The authorization request (SMART App Launch 2.2, step 4) as a GET URL.

    EHR launch: scope ``launch`` and the ``launch`` parameter echoed. Standalone: scope
    ``launch/patient`` asks the EHR to pick the patient.
    """
    context_scope = "launch" if launch is not None else "launch/patient"
    params: dict[str, str] = {
        "response_type": "code",
        "client_id": config.client_id,
        "redirect_uri": redirect_uri,
    }
    if launch is not None:
        params["launch"] = launch
    params.update(
        {
            "scope": " ".join((context_scope, *config.scopes)),
            "state": state,
            "aud": iss,
            "code_challenge": s256_challenge(code_verifier),
            "code_challenge_method": "S256",
        }
    )
    separator = "&" if urlsplit(authorization_endpoint).query else "?"
    return f"{authorization_endpoint}{separator}{urlencode(params)}"


@dataclass(frozen=True, slots=True)
class TokenResponse:
    """The parts of the token response the app keeps (SMART App Launch 2.2, step 5)."""

    access_token: str
    scope: str
    expires_in: int | None
    patient: str | None
    encounter: str | None
    need_patient_banner: bool

    def __repr__(self) -> str:  # never print the token
        return f"TokenResponse(patient={self.patient!r}, scope={self.scope!r})"


def _token_error_code(response: OutboundResponse) -> str:
    """The RFC 6749 ``error`` code of a token error answer, for the log only."""
    try:
        body = response.json()
    except ValueError:
        return "(not JSON)"
    error = body.get("error") if isinstance(body, Mapping) else None
    # RFC 6749 error codes are a fixed ASCII vocabulary; anything else is not logged.
    if isinstance(error, str) and error.replace("_", "").isalpha() and len(error) < 40:
        return error
    return "(none)"


def exchange_code(
    http: requests.Session,
    *,
    config: SmartConfig,
    token_endpoint: str,
    code: str,
    redirect_uri: str,
    code_verifier: str,
) -> TokenResponse:
    """Trade the authorization code for an access token (SMART App Launch 2.2, step 5).

    A public client sends ``client_id``; a confidential one authenticates with HTTP Basic
    (SMART "symmetric client authentication") and, as the guide says, omits ``client_id``.
    """
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    auth: tuple[str, str] | None = None
    if config.client_secret:
        auth = (config.client_id, config.client_secret)
    else:
        form["client_id"] = config.client_id
    # Every way the token cannot be had gives the same page: it must not tell what answered
    # at the token endpoint (a port-scan oracle). The log has the detail.
    refused = TokenExchangeFailed(
        "The EHR did not issue an access token. Launch the app again from the patient's chart."
    )
    try:
        # A 307 or 308 within the token endpoint's origin is followed; nothing else is: the
        # code and the PKCE verifier go to the token endpoint and nowhere else.
        response = fetch(
            http,
            "POST",
            token_endpoint,
            deadline=Deadline(config.request_deadline_s),
            max_bytes=config.max_answer_bytes,
            data=form,
            auth=auth,
            headers={"Accept": "application/json"},
            redirects=Redirects.SAME_ORIGIN,
        )
    except OutboundError as exc:
        logger.warning("SMART token request failed: %s", type(exc).__name__)
        raise refused from None
    if response.status != 200:
        logger.warning(
            "SMART token endpoint answered HTTP %s, error %s",
            response.status,
            _token_error_code(response),
        )
        raise refused
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        logger.warning("SMART token endpoint answered something else than a JSON object")
        raise refused
    access_token = body.get("access_token")
    token_type = body.get("token_type")
    if not isinstance(access_token, str) or not access_token:
        raise TokenExchangeFailed("The EHR's token response has no access token.")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise TokenExchangeFailed("The EHR issued a token of a type the app cannot use.")
    expires_in = body.get("expires_in")
    patient = body.get("patient")
    encounter = body.get("encounter")
    banner = body.get("need_patient_banner")
    scope = body.get("scope")
    return TokenResponse(
        access_token=access_token,
        scope=scope if isinstance(scope, str) else "",
        expires_in=int(expires_in)
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool)
        else None,
        patient=patient if isinstance(patient, str) and patient else None,
        encounter=encounter if isinstance(encounter, str) and encounter else None,
        # SMART 2.2: the banner may be left out only when the EHR says false.
        need_patient_banner=banner is not False,
    )
