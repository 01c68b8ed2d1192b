"""Authentication of CDS clients by the CDS Hooks JWT.

CDS Hooks 2.0.1 section "Trusting CDS Clients": every call to /cds-services (discovery
included) carries ``Authorization: Bearer <JWT>`` signed with the client's private key. Checks:

- ``alg`` is asymmetric (RS*, PS*, ES*, EdDSA); ``none`` and HMAC are refused
  ("JWTs SHALL NOT be signed using the none algorithm ... any symmetric algorithm");
- ``kid`` names a key of the issuer's JWK Set; the issuer (``iss``) is allowlisted by
  ``CRS_CDS_TRUSTED_ISSUERS`` with its JWKS URL or inline JWKS. A ``jku`` header is honoured
  only when it is the issuer's ``jwks_url`` or in its ``jku_allowlist``; for an issuer with
  inline keys any other ``jku`` is ignored (the ``kid`` is looked up inline); otherwise it is
  refused (CDS Hooks: "maintain an allowlist of iss and jku urls"). A ``jku`` is never fetched
  unless allowlisted;
- key rotation: a JWK Set URL is cached; an unknown ``kid`` refetches it at most once per
  ``JWKS_REFETCH_INTERVAL_S`` per URL, so random kids cannot make us hammer the issuer. Each
  fetch is bounded as a whole (``JWKS_DEADLINE_S``), runs outside any lock, follows redirects
  within its origin only, and one issuer's fetch never delays another issuer's tokens;
- ``aud`` (string or list) holds the URL of the endpoint called;
- ``exp`` and ``iat`` are present numbers and valid (``nbf`` too when present) with ``LEEWAY_S``
  (60 s) of clock skew, on the verifier's own wall clock (injectable, as in tests); a token
  issued more than ``MAX_TOKEN_AGE_S`` (1 h) ago, or whose ``exp`` lies more than
  ``MAX_LIFETIME_S`` (1 h) after its ``iat``, is refused;
- ``jti`` is present and has not been seen from that issuer within the token's lifetime. The
  replay cache lives in the database (``DatabaseReplayCache``, shared by every worker and
  replica) unless ``CRS_CDS_REPLAY_CACHE=memory``.

Any failure is a 401 whose body says only "unauthorized"; the reason is logged at INFO without
the token. When the replay cache's database fails, the answer is 503 (retry), never a pass.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import jwt
import requests
from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from cds_service.config import IssuerKeys, ReplayCacheKind, get_settings
from cds_service.errors import ServiceUnavailable, SettingsError, Unauthorized, quoted
from cds_service.outbound import Deadline, OutboundError, Redirects, fetch
from cds_service.storage import Storage, get_storage

__all__ = [
    "ALLOWED_ALGORITHMS",
    "CallerIdentity",
    "DatabaseReplayCache",
    "JwksSource",
    "JwtVerifier",
    "MemoryReplayCache",
    "ReplayCache",
    "endpoint_audience",
    "get_verifier",
    "init_app",
]

logger = logging.getLogger(__name__)

_EXTENSION_KEY = "crs_cds.jwt"

#: Asymmetric JWS algorithms (RFC 7518, RFC 8037). HS* and none are never accepted.
ALLOWED_ALGORITHMS: frozenset[str] = frozenset(
    {
        "RS256", "RS384", "RS512",
        "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512",
        "EdDSA",
    }
)  # fmt: skip

#: The JWK key type (``kty``) each algorithm needs. A JWK without ``alg`` must not let the
#: token's header pick an algorithm of another key family (PyJWT would fail with TypeError).
_KEY_TYPE_OF_ALGORITHM: dict[str, str] = {
    algorithm: {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}[algorithm[:2]]
    for algorithm in ALLOWED_ALGORITHMS
}

LEEWAY_S = 60
#: Oldest ``iat`` accepted, and longest ``exp - iat``: CDS Hooks JWTs are minted per call, so
#: a token older than this is a replay or a leak (the spec recommends 5 minutes of lifetime).
MAX_TOKEN_AGE_S = 3600
MAX_LIFETIME_S = 3600
JWKS_TTL_S = 3600.0
JWKS_REFETCH_INTERVAL_S = 30.0
#: Total time one JWK Set fetch may take (connect, wait, read), and the largest set read.
JWKS_DEADLINE_S = 5.0
JWKS_MAX_BYTES = 256 * 1024


class _Refused(Exception):
    """Internal: why a token was refused (logged, never sent)."""


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    """Who called, as the verified JWT says."""

    issuer: str
    jti: str
    tenant: str | None = None


class ReplayCache(Protocol):
    """Remembers ``jti`` values until their token expires."""

    def first_use(self, issuer: str, jti: str, expires_at: float) -> bool:
        """Record (issuer, jti); True the first time, False for a replay before ``expires_at``."""
        ...


class MemoryReplayCache:
    """A per-process ``ReplayCache``. With several worker processes each has its own."""

    def __init__(self, max_entries: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._max_entries = max_entries
        self._clock = clock

    def first_use(self, issuer: str, jti: str, expires_at: float) -> bool:
        now = self._clock()
        with self._lock:
            known = self._seen.get((issuer, jti))
            if known is not None and known > now:
                return False
            if len(self._seen) >= self._max_entries:
                self._purge(now)
            self._seen[(issuer, jti)] = expires_at
            return True

    def _purge(self, now: float) -> None:
        self._seen = {k: v for k, v in self._seen.items() if v > now}
        # Still full of live entries: forget those expiring soonest.
        overflow = len(self._seen) - self._max_entries + 1
        if overflow > 0:
            for k, _ in sorted(self._seen.items(), key=lambda item: item[1])[:overflow]:
                del self._seen[k]


class DatabaseReplayCache:
    """A ``ReplayCache`` in the database: a replayed token is refused whichever worker or
    replica it reaches. Keys are SHA-256 of (issuer, jti); expired rows are purged at most
    once per ``purge_interval_s`` by each process."""

    def __init__(
        self,
        storage: Storage,
        clock: Callable[[], float] = time.time,
        purge_interval_s: float = 300.0,
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._purge_interval_s = purge_interval_s
        self._next_purge = 0.0
        self._lock = threading.Lock()

    def first_use(self, issuer: str, jti: str, expires_at: float) -> bool:
        now = self._clock()
        key = hashlib.sha256(f"{issuer}\x00{jti}".encode()).hexdigest()
        try:
            self._purge(now)
            return self._storage.remember_token(key, expires_at, now)
        except SQLAlchemyError as error:
            logger.error("JWT replay cache unavailable: %s", type(error).__name__)
            raise ServiceUnavailable(
                "authentication is unavailable; try again", retry_after_s=5
            ) from None

    def _purge(self, now: float) -> None:
        with self._lock:
            if now < self._next_purge:
                return
            self._next_purge = now + self._purge_interval_s
        purged = self._storage.purge_expired_tokens(now)
        if purged:
            logger.debug("purged %d expired JWT replay records", purged)


@dataclass(frozen=True, slots=True)
class _PublicKey:
    """One usable key of a JWK Set, with what the JWK itself declares."""

    jwk: jwt.PyJWK
    declared_alg: str | None
    use: str | None


class JwksSource:
    """The JWK Set of one issuer: inline, or fetched from a URL and cached.

    A URL is refetched after ``JWKS_TTL_S``, and on an unknown ``kid`` at most once per
    ``JWKS_REFETCH_INTERVAL_S`` (key rotation without letting random kids hammer the issuer).
    The fetch runs outside the lock, one at a time per URL, and is bounded as a whole by
    ``JWKS_DEADLINE_S``: a token whose ``kid`` is known never waits for it, and a token that
    needs the fetch waits at most that long. Each issuer has its own source, so a slow issuer
    holds up only tokens that need its new keys. Redirects are followed within the URL's
    origin only: another host must never choose our keys.
    """

    def __init__(
        self,
        keys: IssuerKeys,
        session: requests.Session,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = keys.jwks_url
        self._session = session
        self._clock = clock
        self._lock = threading.Lock()
        self._fetched = threading.Condition(self._lock)
        self._fetching = False
        self._keys: dict[str, _PublicKey] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._last_refetch: float | None = None  # last refetch for an unknown kid
        self._failed_at: float | None = None  # last failed fetch
        if keys.jwks is not None:
            self._keys = _public_keys(keys.jwks)
            if not self._keys:
                raise ValueError("no usable public key")

    @property
    def inline(self) -> bool:
        """True for keys given in the configuration (never fetched)."""
        return self._url is None

    def key(self, kid: str) -> _PublicKey:
        """The key with ``kid``; raises ``_Refused`` when there is none."""
        if self._url is None:
            return _find(self._keys, kid)
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at > JWKS_TTL_S
            known = self._keys.get(kid)
            if known is not None and not stale:
                return known
            if self._fetching:
                if known is not None:
                    return known  # the keys we have serve while another thread refreshes
                # Another thread fetches the keys this token may need: wait for it, bounded.
                self._fetched.wait_for(lambda: not self._fetching, timeout=JWKS_DEADLINE_S)
                return _find(self._keys, kid)
            if self._failed_at is not None and now - self._failed_at < JWKS_REFETCH_INTERVAL_S:
                if known is not None:
                    return known  # stale, but the issuer failed lately: do not ask again yet
                raise _Refused("the issuer's JWK Set could not be fetched lately")
            if not stale:
                recently = self._last_refetch is not None and (
                    now - self._last_refetch < JWKS_REFETCH_INTERVAL_S
                )
                if recently:
                    raise _Refused("unknown kid")
                self._last_refetch = now
            self._fetching = True
        fresh: dict[str, _PublicKey] | None = None
        try:
            fresh = self._fetch()  # outside the lock
        finally:
            with self._lock:
                self._fetching = False
                if fresh is not None:
                    self._keys, self._fetched_at, self._failed_at = fresh, now, None
                else:
                    self._failed_at = now
                self._fetched.notify_all()
        if fresh is None and known is not None:
            return known
        return _find(self._keys, kid)

    def _fetch(self) -> dict[str, _PublicKey] | None:
        """The JWK Set at the URL, or None (logged) when it cannot be had."""
        assert self._url is not None  # noqa: S101 - only URL sources fetch
        try:
            response = fetch(
                self._session,
                "GET",
                self._url,
                deadline=Deadline(JWKS_DEADLINE_S),
                max_bytes=JWKS_MAX_BYTES,
                headers={"Accept": "application/json, application/jwk-set+json"},
                redirects=Redirects.SAME_ORIGIN,
            )
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            return _public_keys(response.json())
        except (OutboundError, ValueError) as error:
            # Keep serving the keys we have; without any, every token is refused.
            logger.warning("JWKS fetch failed: %s", type(error).__name__)
            return None


def _public_keys(document: object) -> dict[str, _PublicKey]:
    """The usable asymmetric keys of a JWK Set, by ``kid``. Keys without a kid are useless."""
    keys = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(keys, list):
        raise ValueError("not a JWK Set")
    usable: dict[str, _PublicKey] = {}
    for data in keys:
        # Symmetric keys have no place in a client's public JWK Set.
        if not isinstance(data, dict) or data.get("kty") == "oct":
            continue
        kid = data.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        try:
            jwk = jwt.PyJWK(data)
        except jwt.PyJWTError:
            continue
        alg, use = data.get("alg"), data.get("use")
        usable[kid] = _PublicKey(
            jwk, alg if isinstance(alg, str) else None, use if isinstance(use, str) else None
        )
    return usable


def _find(keys: Mapping[str, _PublicKey], kid: str) -> _PublicKey:
    try:
        return keys[kid]
    except KeyError:
        raise _Refused("unknown kid") from None


class JwtVerifier:
    """Verifies CDS Hooks JWTs against the trusted issuers."""

    def __init__(
        self,
        trusted_issuers: Mapping[str, IssuerKeys],
        session: requests.Session,
        replay_cache: ReplayCache | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._issuers = dict(trusted_issuers)
        self._session = session
        self._clock = clock
        self._wall_clock = wall_clock
        self._sources: dict[str, JwksSource] = {}
        for issuer, keys in trusted_issuers.items():
            if keys.jwks_url is None and keys.jwks is None:
                continue  # keys only through an allowlisted jku
            try:
                self._sources[issuer] = JwksSource(keys, session, clock)
            except ValueError:
                raise SettingsError(
                    f"CRS_CDS_TRUSTED_ISSUERS[{issuer!r}].jwks holds no usable public key"
                ) from None
        # One cached source per allowlisted jku URL, made on first use.
        self._jku_sources: dict[tuple[str, str], JwksSource] = {}
        self._jku_lock = threading.Lock()
        self._replay = replay_cache if replay_cache is not None else MemoryReplayCache()

    def _source(self, issuer: str, jku: object) -> JwksSource:
        """The key source for a token of ``issuer`` with header ``jku`` (None when absent)."""
        keys = self._issuers[issuer]
        if jku is None:
            source = self._sources.get(issuer)
            if source is None:
                raise _Refused("no jku and no configured keys for this issuer")
            return source
        if not isinstance(jku, str):
            raise _Refused("jku is not a string")
        if keys.jwks_url is not None and _normalise(jku) == _normalise(keys.jwks_url):
            return self._sources[issuer]
        if jku not in keys.jku_allowlist:
            configured = self._sources.get(issuer)
            if configured is not None and configured.inline:
                # The keys are in the configuration (e.g. the CDS Hooks sandbox, which always
                # sends a jku): the kid is looked up there and the jku is never fetched.
                return configured
            raise _Refused("jku is not allowlisted for this issuer")
        with self._jku_lock:
            source = self._jku_sources.get((issuer, jku))
            if source is None:
                source = JwksSource(IssuerKeys(jwks_url=jku), self._session, self._clock)
                self._jku_sources[(issuer, jku)] = source
            return source

    def verify(self, authorization: str | None, audience: str) -> CallerIdentity:
        """Check the ``Authorization`` header for a call of ``audience``; raise 401 if bad."""
        try:
            return self._verify(authorization, audience)
        except _Refused as refusal:
            logger.info("JWT refused: %s", refusal)
        except jwt.PyJWTError as error:
            logger.info("JWT refused: %s", type(error).__name__)
        raise Unauthorized()

    def _verify(self, authorization: str | None, audience: str) -> CallerIdentity:
        token = _bearer_token(authorization)
        header = jwt.get_unverified_header(token)
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise _Refused(f"algorithm {quoted(algorithm)} is not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _Refused("no kid in the header")

        unverified = jwt.decode(token, options={"verify_signature": False})
        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or issuer not in self._issuers:
            raise _Refused("issuer is not trusted")

        key = self._source(issuer, header.get("jku")).key(kid)
        if key.declared_alg is not None and key.declared_alg != algorithm:
            raise _Refused("the key's alg differs from the token's alg")
        if key.jwk.key_type != _KEY_TYPE_OF_ALGORITHM[str(algorithm)]:
            raise _Refused("the key's type does not fit the token's alg")
        if key.use not in (None, "sig"):
            raise _Refused("the key is not a signing key")

        claims = jwt.decode(
            token,
            key=key.jwk.key,
            algorithms=[str(algorithm)],
            issuer=issuer,
            options={
                "require": ["iss", "aud", "exp", "iat", "jti"],
                "verify_aud": False,
                # exp, iat and nbf are checked below against the verifier's own wall clock.
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
        if not _audience_matches(claims.get("aud"), audience):
            raise _Refused("aud does not name this endpoint")
        expires = _check_times(claims, self._wall_clock())
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise _Refused("jti is not a string")
        if not self._replay.first_use(issuer, jti, expires + LEEWAY_S):
            raise _Refused("jti replayed")
        tenant = claims.get("tenant")
        return CallerIdentity(
            issuer=issuer, jti=jti, tenant=tenant if isinstance(tenant, str) else None
        )


def _numeric_date(claims: Mapping[str, object], name: str) -> float:
    """A NumericDate claim (RFC 7519 section 2: a JSON number, seconds since the epoch)."""
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Refused(f"{name} is not a number")
    return float(value)


def _check_times(claims: Mapping[str, object], now: float) -> float:
    """The ``exp`` of a token valid at ``now`` with ``LEEWAY_S`` of clock skew
    (RFC 7519 sections 4.1.4-4.1.6), issued at most ``MAX_TOKEN_AGE_S`` ago and living at most
    ``MAX_LIFETIME_S``."""
    issued_at, expires = _numeric_date(claims, "iat"), _numeric_date(claims, "exp")
    if expires <= now - LEEWAY_S:
        raise _Refused("exp has passed")
    if issued_at > now + LEEWAY_S:
        raise _Refused("iat is in the future")
    if "nbf" in claims and _numeric_date(claims, "nbf") > now + LEEWAY_S:
        raise _Refused("nbf is in the future")
    if now - issued_at > MAX_TOKEN_AGE_S + LEEWAY_S:
        raise _Refused("iat is more than an hour ago")
    if expires - issued_at > MAX_LIFETIME_S:
        raise _Refused("exp is more than an hour after iat")
    return expires


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise _Refused("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _Refused("Authorization is not a Bearer token")
    return token.strip()


def _normalise(url: str) -> str:
    return url.rstrip("/")


def _audience_matches(claim: object, audience: str) -> bool:
    wanted = _normalise(audience)
    if isinstance(claim, str):
        return _normalise(claim) == wanted
    if isinstance(claim, list):
        return any(isinstance(item, str) and _normalise(item) == wanted for item in claim)
    return False


def endpoint_audience(public_url: str | None, request_base_url: str, path: str) -> str:
    """The ``aud`` a client must use: public base URL + path, else the request's own URL.

    ``request_base_url`` is the URL the request reached, without query string.
    """
    if public_url is not None:
        return f"{public_url.rstrip('/')}{path}"
    return request_base_url


def init_app(
    app: Flask,
    trusted_issuers: Mapping[str, IssuerKeys],
    session: requests.Session,
    replay_cache: ReplayCache | None = None,
) -> None:
    """Attach a ``JwtVerifier`` to ``app``.

    Without an explicit ``replay_cache``: the database cache when the app has storage and
    ``CRS_CDS_REPLAY_CACHE`` is ``database`` (the default), else a per-process memory cache.
    """
    if replay_cache is None:
        replay_cache = _default_replay_cache(app)
    app.extensions[_EXTENSION_KEY] = JwtVerifier(trusted_issuers, session, replay_cache)


def _default_replay_cache(app: Flask) -> ReplayCache:
    kind = ReplayCacheKind.DATABASE
    with contextlib.suppress(KeyError):
        kind = get_settings(app).replay_cache
    if kind is ReplayCacheKind.DATABASE:
        with contextlib.suppress(KeyError):
            return DatabaseReplayCache(get_storage(app))
    return MemoryReplayCache()


def get_verifier(app: Flask | None = None) -> JwtVerifier:
    """The verifier of ``app``, or of the current app inside a request."""
    target = app if app is not None else current_app
    verifier = target.extensions[_EXTENSION_KEY]
    assert isinstance(verifier, JwtVerifier)  # noqa: S101 - set only by init_app
    return verifier
