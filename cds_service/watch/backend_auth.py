"""SMART Backend Services: the watch's own access token for the EHR's FHIR server.

SMART App Launch 2.2, Backend Services and "Client Authentication: Asymmetric": the watch
reads ``{fhir}/.well-known/smart-configuration`` for the ``token_endpoint``, signs a client
assertion (a JWT with ``iss`` = ``sub`` = the client id, ``aud`` = the token endpoint, a fresh
``jti``, ``exp`` at most five minutes ahead; header ``kid`` and ``typ: JWT``) with its private
key (RS384 for an RSA key, ES384 for an EC P-384 key, the two algorithms SMART requires servers
to support) and POSTs ``grant_type=client_credentials`` with
``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`` and the scopes.
The token is cached until a minute before ``expires_in``; a 401 from the FHIR server drops it.

Without ``CRS_CDS_WATCH_CLIENT_ID`` the watch sends no token (an open development server).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cds_service.errors import SettingsError
from cds_service.outbound import is_loopback_host
from cds_service.watch.transport import OutboundError, call, reply_json

__all__ = ["BackendAuth", "TokenError", "load_signing_key"]

logger = logging.getLogger(__name__)

_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_ASSERTION_LIFETIME_S = 300  # SMART: exp no more than five minutes in the future
_REFRESH_MARGIN_S = 60
_DEFAULT_LIFETIME_S = 300  # when the server omits expires_in
_BUDGET_S = 10.0


class TokenError(Exception):
    """No access token could be had; the message says why (no secret in it)."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The watch's private key and the JWS algorithm it signs with."""

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    algorithm: str
    key_id: str


def load_signing_key(path: str, key_id: str) -> SigningKey:
    """Read a PEM private key: RSA signs RS384, EC P-384 signs ES384 (SMART's two)."""
    name = "CRS_CDS_WATCH_PRIVATE_KEY_FILE"
    try:
        with open(path, "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
    except (OSError, ValueError, TypeError):
        raise SettingsError(f"{name} is not a readable unencrypted PEM private key") from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise SettingsError(f"{name}: an RSA key must have at least 2048 bits")
        return SigningKey(key, "RS384", key_id)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP384R1):
            raise SettingsError(f"{name}: an EC key must be on P-384 (ES384)")
        return SigningKey(key, "ES384", key_id)
    raise SettingsError(f"{name} must hold an RSA or EC P-384 private key")


class BackendAuth:
    """Access tokens for one FHIR server and client, cached and refreshed."""

    def __init__(
        self,
        session: requests.Session,
        fhir_base: str,
        client_id: str,
        signing_key: SigningKey,
        scopes: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._fhir_base = fhir_base.rstrip("/")
        self._client_id = client_id
        self._key = signing_key
        self._scopes = scopes
        self._clock = clock
        self._lock = threading.Lock()
        self._token_endpoint: str | None = None
        self._token: str | None = None
        self._expires_at = 0.0

    def token(self) -> str:
        """A valid access token (fetched when none is cached or it is about to expire)."""
        with self._lock:
            now = self._clock()
            if self._token is not None and now < self._expires_at - _REFRESH_MARGIN_S:
                return self._token
            self._token, lifetime = self._request_token(now)
            self._expires_at = now + lifetime
            return self._token

    def invalidate(self) -> None:
        """Forget the cached token (the FHIR server refused it)."""
        with self._lock:
            self._token = None

    def token_endpoint(self) -> str:
        if self._token_endpoint is None:
            self._token_endpoint = self._discover()
        return self._token_endpoint

    def _discover(self) -> str:
        url = f"{self._fhir_base}/.well-known/smart-configuration"
        try:
            reply = call(
                self._session,
                "GET",
                url,
                budget_s=_BUDGET_S,
                headers={"Accept": "application/json"},
            )
            if reply.status != 200:
                raise TokenError(f"SMART discovery answered HTTP {reply.status}")
            document = reply_json(reply)
        except OutboundError as error:
            raise TokenError(f"SMART discovery failed: {error}") from None
        endpoint = document.get("token_endpoint") if isinstance(document, dict) else None
        if not isinstance(endpoint, str) or not _acceptable_endpoint(endpoint):
            raise TokenError("SMART discovery gave no https token_endpoint")
        methods = document.get("token_endpoint_auth_methods_supported")
        if isinstance(methods, list) and "private_key_jwt" not in methods:
            raise TokenError("the EHR's token endpoint does not accept private_key_jwt")
        algorithms = document.get("token_endpoint_auth_signing_alg_values_supported")
        if isinstance(algorithms, list) and self._key.algorithm not in algorithms:
            raise TokenError(f"the EHR's token endpoint does not accept {self._key.algorithm}")
        return endpoint

    def client_assertion(self, now: float) -> str:
        """The signed client assertion for one token request."""
        endpoint = self.token_endpoint()
        claims = {
            "iss": self._client_id,
            "sub": self._client_id,
            "aud": endpoint,
            "jti": str(uuid.uuid4()),
            "iat": int(now),
            "exp": int(now) + _ASSERTION_LIFETIME_S,
        }
        headers = {"kid": self._key.key_id, "typ": "JWT"}
        return jwt.encode(claims, self._key.key, algorithm=self._key.algorithm, headers=headers)

    def _request_token(self, now: float) -> tuple[str, float]:
        form = {
            "grant_type": "client_credentials",
            "scope": self._scopes,
            "client_assertion_type": _ASSERTION_TYPE,
            "client_assertion": self.client_assertion(now),
        }
        try:
            reply = call(
                self._session,
                "POST",
                self.token_endpoint(),
                budget_s=_BUDGET_S,
                data=form,
                headers={"Accept": "application/json"},
            )
            if reply.status != 200:
                raise TokenError(f"the token endpoint answered HTTP {reply.status}")
            answer = reply_json(reply)
        except OutboundError as error:
            raise TokenError(f"the token request failed: {error}") from None
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise TokenError("the token endpoint answered without an access_token")
        token_type = answer.get("token_type")
        if isinstance(token_type, str) and token_type.lower() != "bearer":
            raise TokenError("the token endpoint gave a token that is not a bearer token")
        lifetime = answer.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) else _DEFAULT_LIFETIME_S
        logger.info("SMART backend token obtained", extra={"fields": {"expiresIn": seconds}})
        return token, max(seconds, 1.0)


def _acceptable_endpoint(url: str) -> bool:
    """https, or http on loopback (a development server)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.netloc:
        return True
    return parts.scheme == "http" and is_loopback_host(parts.hostname)
