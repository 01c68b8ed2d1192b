"""The service's settings: one frozen object built once from the environment.

``cds_service.create_app()`` is the only code that reads environment variables; it hands them to
``load_settings`` and stores the result on the app. Everything else asks ``get_settings()``.
Each variable, its meaning and its default are listed in ``VARIABLES`` (README and
``docs/integration.md`` show the same table). A bad value raises ``SettingsError`` naming the
variable, so the service fails at start instead of misbehaving later.
"""

from __future__ import annotations

import enum
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from flask import Flask, current_app
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from cds_service.errors import SettingsError
from cds_service.outbound import is_loopback_host
from cds_service.validation import is_fhir_id
from crs_grading.treatment import Protocol

__all__ = [
    "VARIABLES",
    "WATCH_VARIABLES",
    "AlertChannel",
    "AuthMode",
    "IssuerKeys",
    "ReplayCacheKind",
    "SchemaUpgrade",
    "Settings",
    "TocilizumabProtocol",
    "WatchPayload",
    "WatchSettings",
    "get_settings",
    "init_app",
    "load_settings",
]

_EXTENSION_KEY = "crs_cds.settings"
_E = TypeVar("_E", bound=enum.StrEnum)


class AuthMode(enum.StrEnum):
    """How callers of /cds-services are authenticated."""

    JWT = "jwt"
    NONE = "none"


#: The tocilizumab dosing table (SPEC 2.6) is the clinical core's ``Protocol``: one concept,
#: one place. The alias keeps the settings' vocabulary.
TocilizumabProtocol = Protocol


class ReplayCacheKind(enum.StrEnum):
    """Where seen JWT ``jti`` values are remembered."""

    DATABASE = "database"  # shared by every worker and replica on the same database
    MEMORY = "memory"  # per process; for tests and single-process development


class SchemaUpgrade(enum.StrEnum):
    """Whether the service upgrades the database schema itself when it starts."""

    AUTO = "auto"
    OFF = "off"  # the operator runs ``crs-cds db upgrade``; start fails while it is behind


@dataclass(frozen=True, slots=True)
class IssuerKeys:
    """Where the public keys of one trusted JWT issuer come from, and what it may ask for.

    ``jwks_url`` or ``jwks`` (inline) give the keys. ``jku_allowlist`` lists the JWK Set URLs
    a token of this issuer may name in its ``jku`` header (CDS Hooks 2.0.1: services "SHOULD
    limit the CDS Clients they trust by maintaining an allowlist of iss and jku urls");
    ``jwks_url`` is allowed as ``jku`` implicitly. ``fhir_servers``, when given, lists the only
    ``fhirServer`` base URLs this issuer's calls may name (defence against SSRF).
    """

    jwks_url: str | None = None
    jwks: Mapping[str, Any] | None = None
    jku_allowlist: tuple[str, ...] = ()
    fhir_servers: tuple[str, ...] | None = None


class AlertChannel(enum.StrEnum):
    """Where the watch sends an alert (SPEC 4b)."""

    COMMUNICATION = "communication"  # a FHIR Communication POSTed to the EHR's FHIR server
    WEBHOOK = "webhook"  # an HMAC-signed JSON POST to CRS_CDS_WATCH_WEBHOOK_URL


class WatchPayload(enum.StrEnum):
    """Payload content the watch asks for when it creates a Subscription (Backport IG)."""

    EMPTY = "empty"
    ID_ONLY = "id-only"
    FULL_RESOURCE = "full-resource"


#: Scopes the watch asks for with SMART Backend Services (SMART App Launch 2.2 scopes): read
#: what grading reads, manage its Subscription, create the alert Communication.
DEFAULT_WATCH_SCOPES = (
    "system/Patient.rs system/Observation.rs system/MedicationAdministration.rs "
    "system/Medication.rs system/Condition.rs system/Procedure.rs "
    "system/Subscription.cruds system/Communication.c"
)


@dataclass(frozen=True, slots=True)
class WatchSettings:
    """Settings of the watch (SPEC 4b): re-grading patients when the EHR files new data.

    The watch is on when ``fhir_url`` is set. ``queue_url`` None means the embedded SQLite
    queue in the instance folder. ``subscription_secrets`` maps a Subscription id to the
    shared secret its notifications carry.
    """

    fhir_url: str | None = None
    queue_url: str | None = None
    client_id: str | None = None
    private_key_file: str | None = None
    key_id: str | None = None
    scopes: str = DEFAULT_WATCH_SCOPES
    alert_grade: int = 2
    alert_channels: frozenset[AlertChannel] = frozenset({AlertChannel.COMMUNICATION})
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    subscription_secrets: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({}), repr=False
    )
    topic: str | None = None
    filters: tuple[str, ...] = ()
    payload: WatchPayload = WatchPayload.ID_ONLY
    heartbeat_s: int = 3600
    poll_patients: tuple[str, ...] = ()
    poll_interval_s: int = 900
    retries: int = 5
    retry_delay_s: int = 10
    lease_s: int = 120
    fhir_timeout_s: float = 30.0
    gap_wait_s: int = 30

    @property
    def enabled(self) -> bool:
        return self.fhir_url is not None


#: The watch's variables (README table order), appended to ``VARIABLES``.
WATCH_VARIABLES: tuple[tuple[str, str, str], ...] = (
    (
        "CRS_CDS_WATCH_FHIR_URL",
        "unset: the watch is off",
        "base URL of the EHR's FHIR server the watch reads, subscribes to and alerts on",
    ),
    (
        "CRS_CDS_WATCH_QUEUE_URL",
        "SQLite file `watch-queue.sqlite3` in the instance folder",
        "job queue: `sqlite:///path`, `redis://host:port/db` (or `rediss://`) or "
        "`postgresql://user:pw@host/db`",
    ),
    (
        "CRS_CDS_WATCH_CLIENT_ID",
        "unset: the FHIR server is read without a token",
        "SMART Backend Services client id of the watch",
    ),
    (
        "CRS_CDS_WATCH_PRIVATE_KEY_FILE",
        "unset (required with CRS_CDS_WATCH_CLIENT_ID)",
        "PEM file of the RSA or EC (P-384) private key that signs the client assertion",
    ),
    (
        "CRS_CDS_WATCH_KEY_ID",
        "unset (required with CRS_CDS_WATCH_CLIENT_ID)",
        "`kid` of that key in the JWK Set registered with the EHR",
    ),
    ("CRS_CDS_WATCH_SCOPES", DEFAULT_WATCH_SCOPES, "scopes the watch asks for"),
    (
        "CRS_CDS_WATCH_ALERT_GRADE",
        "2",
        "a current grade rising to at least this (1-5) alerts (a new infection warning alerts "
        "from grade 2 whatever this says: SPEC 4b)",
    ),
    (
        "CRS_CDS_WATCH_ALERT_CHANNELS",
        "communication",
        "comma list of `communication` (FHIR Communication to the EHR) and `webhook`",
    ),
    (
        "CRS_CDS_WATCH_WEBHOOK_URL",
        "unset",
        "https URL the `webhook` channel POSTs alerts to (http only on loopback)",
    ),
    (
        "CRS_CDS_WATCH_WEBHOOK_SECRET",
        "unset (required with the webhook channel)",
        "key (32+ characters) of the webhook's HMAC-SHA256 signature",
    ),
    (
        "CRS_CDS_WATCH_SUBSCRIPTION_SECRETS",
        "unset: notifications need a JWT",
        'JSON `{"<Subscription id>": "<secret of 32+ characters>"}`: the shared secret each '
        "Subscription's notifications carry in `X-CRS-CDS-Subscription-Secret`",
    ),
    (
        "CRS_CDS_WATCH_TOPIC",
        "unset (required by `crs-cds watch subscribe`)",
        "canonical URL of the SubscriptionTopic the watch subscribes to",
    ),
    (
        "CRS_CDS_WATCH_FILTERS",
        "unset: no filter",
        "JSON list of filter criteria for the Subscription, e.g. "
        '`["Observation?category=vital-signs"]`',
    ),
    (
        "CRS_CDS_WATCH_PAYLOAD",
        "id-only",
        "payload content the Subscription asks for: `empty`, `id-only` or `full-resource`",
    ),
    (
        "CRS_CDS_WATCH_HEARTBEAT_S",
        "3600",
        "heartbeat period the Subscription asks for, in seconds (0: none)",
    ),
    (
        "CRS_CDS_WATCH_POLL_PATIENTS",
        "unset",
        "JSON list of Patient ids `crs-cds watch poll` re-reads (EHRs without Subscriptions)",
    ),
    ("CRS_CDS_WATCH_POLL_INTERVAL_S", "900", "seconds between two polls of those patients"),
    ("CRS_CDS_WATCH_RETRIES", "5", "retries of a failed job before it is a dead letter"),
    (
        "CRS_CDS_WATCH_RETRY_DELAY_S",
        "10",
        "seconds before the first retry; each further retry waits twice as long",
    ),
    (
        "CRS_CDS_WATCH_LEASE_S",
        "120",
        "seconds a worker holds a patient; a killed worker's patient is queued again after it",
    ),
    (
        "CRS_CDS_WATCH_FHIR_TIMEOUT_S",
        "30",
        "total time budget in seconds for reading one patient's record in a watch job",
    ),
    (
        "CRS_CDS_WATCH_GAP_WAIT_S",
        "30",
        "seconds to wait for a missing notification before the catch-up read",
    ),
)


# (variable, default shown in the docs, meaning). The order is the order of the README table.
VARIABLES: tuple[tuple[str, str, str], ...] = (
    ("CRS_CDS_AUTH", "jwt", "`jwt` or `none` (development only; logged as a warning)"),
    (
        "CRS_CDS_TRUSTED_ISSUERS",
        "unset: every JWT is refused",
        'JSON: `{"<iss>": {"jwks_url": "https://..."}}` or `{"<iss>": {"jwks": {"keys": [...]}}}`;'
        ' optional per issuer: `"jku_allowlist": [urls]`, `"fhir_servers": [base urls]`',
    ),
    (
        "CRS_CDS_PUBLIC_URL",
        "the request's own URL",
        "public base URL of the service (for the JWT `aud` check behind a proxy)",
    ),
    ("CRS_CDS_TOCILIZUMAB_PROTOCOL", "lee2014", "`lee2014` or `fda-label` dosing table"),
    (
        "CRS_CDS_TIMEZONE",
        "UTC",
        "IANA time zone (e.g. `America/Los_Angeles`) of card times and day numbers when the "
        "patient's data carries no local UTC offset (times all in `Z`)",
    ),
    (
        "CRS_CDS_ICE_CODES",
        "unset: ICE read by name only",
        'JSON list of the EHR\'s own codes of the ICE score, `["<system>|<code>", ...]` (SPEC 2.9)',
    ),
    (
        "CRS_CDS_CAPD_CODES",
        "unset: CAPD read by name only",
        "JSON list of the EHR's own codes of the CAPD total, as for `CRS_CDS_ICE_CODES`",
    ),
    (
        "CRS_CDS_RASS_CODES",
        "unset: RASS read by its SNOMED CT codes and by name",
        "JSON list of the EHR's own codes of RASS, as for `CRS_CDS_ICE_CODES`",
    ),
    ("CRS_CDS_FHIR_TIMEOUT_S", "4", "total time budget in seconds for fetching missing prefetch"),
    ("CRS_CDS_FHIR_MAX_PAGES", "20", "most Bundle pages read per prefetch key"),
    ("CRS_CDS_SMART_CLIENT_ID", "crs-cds", "the SMART app's OAuth client id"),
    (
        "CRS_CDS_SMART_CLIENT_SECRET",
        "unset",
        "set for a confidential SMART client; needs CRS_CDS_SMART_ISSUERS",
    ),
    (
        "CRS_CDS_SMART_ISSUERS",
        "unset: any, with a warning",
        "JSON list of FHIR base URLs (`iss`) the SMART app may launch from",
    ),
    (
        "CRS_CDS_SMART_REDIRECT_URL",
        "CRS_CDS_PUBLIC_URL + /smart/callback, else the request's own host",
        "the SMART app's registered redirect URI",
    ),
    (
        "CRS_CDS_SECRET_KEY",
        "random per process",
        "key (32+ characters) signing the SMART app's session cookie; set it for several workers",
    ),
    (
        "CRS_CDS_SESSION_COOKIE_SECURE",
        "auto: Secure when the app is reached over https",
        "`auto`, `true` or `false`: the `Secure` attribute of the SMART app's session cookie",
    ),
    (
        "CRS_CDS_SESSION_COOKIE_SAMESITE",
        "auto: `None` when Secure (EHR iframes), else `Lax`",
        "`auto`, `none`, `lax` or `strict`; `none` makes the cookie Secure",
    ),
    (
        "CRS_CDS_SESSION_COOKIE_PARTITIONED",
        "auto: when SameSite is None",
        "`auto`, `true` or `false`: `Partitioned` (CHIPS), kept per embedding EHR site",
    ),
    ("CRS_CDS_LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR"),
    (
        "CRS_CDS_MAX_REQUEST_BYTES",
        "134217728 (128 MiB)",
        "largest request body accepted, checked before the body is read or parsed (413 beyond "
        "it); a month of monitor-rate vitals is about 40 MB",
    ),
    (
        "CRS_CDS_MAX_RESOURCES",
        "200000",
        "most FHIR resources per hook call, prefetched and fetched together (413 beyond it); "
        "a month of monitor-rate vitals is about 45,000",
    ),
    (
        "CRS_CDS_MAX_IN_FLIGHT",
        "1",
        "hook calls graded at once per worker process; more wait (see CRS_CDS_QUEUE_WAIT_S)",
    ),
    (
        "CRS_CDS_QUEUE_WAIT_S",
        "0.35",
        "longest wait of a hook call for a free slot before it gets 503 with Retry-After",
    ),
    (
        "CRS_CDS_REPLAY_CACHE",
        "database",
        "`database` (shared by all workers and replicas) or `memory` (per process) JWT jti cache",
    ),
    (
        "CRS_CDS_DB_UPGRADE",
        "auto",
        "`auto`: apply schema migrations at start; `off`: run `crs-cds db upgrade` yourself",
    ),
    ("DATABASE_URL", "SQLite file in the instance folder", "SQLAlchemy database URL"),
    (
        "PROMETHEUS_MULTIPROC_DIR",
        "unset: metrics per process; under gunicorn with our config, a fresh temporary folder",
        "folder where every worker process writes its metrics, so that `/metrics` adds them up",
    ),
    *WATCH_VARIABLES,
)

#: Bounds of ``CRS_CDS_MAX_REQUEST_BYTES``: 64 KiB (a hook call with a small prefetch) to 512 MiB.
_MIN_REQUEST_BYTES = 64 * 1024
_MAX_REQUEST_BYTES = 512 * 1024 * 1024

#: Defaults of the request limits (issue 13, SPEC 3 "Volume"): a month of vitals every 5
#: minutes (about 45,000 resources, 40 MB) is a real chart and sits well inside both; the
#: limits are there against abuse. One call costs up to about 1.5 x its body in memory.
DEFAULT_MAX_REQUEST_BYTES = 128 * 1024 * 1024
DEFAULT_MAX_RESOURCES = 200_000


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of the service, validated. Build it with ``load_settings``."""

    auth: AuthMode = AuthMode.JWT
    trusted_issuers: Mapping[str, IssuerKeys] = field(default_factory=lambda: MappingProxyType({}))
    public_url: str | None = None
    tocilizumab_protocol: TocilizumabProtocol = TocilizumabProtocol.LEE_2014
    timezone: tzinfo = UTC
    ice_codes: tuple[tuple[str, str], ...] = ()  # SPEC 2.9: the EHR's own ICE, CAPD, RASS codes
    capd_codes: tuple[tuple[str, str], ...] = ()
    rass_codes: tuple[tuple[str, str], ...] = ()
    fhir_timeout_s: float = 4.0
    fhir_max_pages: int = 20
    smart_client_id: str = "crs-cds"
    smart_client_secret: str | None = field(default=None, repr=False)
    smart_issuers: tuple[str, ...] | None = None
    smart_redirect_url: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    session_cookie_secure: bool | None = None  # None: auto
    session_cookie_samesite: str | None = None  # "none", "lax" or "strict"; None: auto
    session_cookie_partitioned: bool | None = None  # None: auto
    log_level: str = "INFO"
    database_url: str | None = field(default=None, repr=False)
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    max_resources: int = DEFAULT_MAX_RESOURCES
    max_in_flight: int = 1
    queue_wait_s: float = 0.35
    replay_cache: ReplayCacheKind = ReplayCacheKind.DATABASE
    db_upgrade: SchemaUpgrade = SchemaUpgrade.AUTO
    metrics_dir: str | None = None
    watch: WatchSettings = field(default_factory=lambda: WatchSettings())


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Validate the environment variables of ``VARIABLES`` into ``Settings``.

    Raises ``SettingsError`` whose message starts with the variable's name.
    """

    def get(name: str) -> str | None:
        value = environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    return Settings(
        auth=_enum(AuthMode, "CRS_CDS_AUTH", get("CRS_CDS_AUTH"), AuthMode.JWT),
        trusted_issuers=_trusted_issuers(get("CRS_CDS_TRUSTED_ISSUERS")),
        public_url=_public_url(get("CRS_CDS_PUBLIC_URL")),
        tocilizumab_protocol=_enum(
            TocilizumabProtocol,
            "CRS_CDS_TOCILIZUMAB_PROTOCOL",
            get("CRS_CDS_TOCILIZUMAB_PROTOCOL"),
            TocilizumabProtocol.LEE_2014,
        ),
        timezone=_timezone(get("CRS_CDS_TIMEZONE")),
        ice_codes=_codes("CRS_CDS_ICE_CODES", get("CRS_CDS_ICE_CODES")),
        capd_codes=_codes("CRS_CDS_CAPD_CODES", get("CRS_CDS_CAPD_CODES")),
        rass_codes=_codes("CRS_CDS_RASS_CODES", get("CRS_CDS_RASS_CODES")),
        fhir_timeout_s=_seconds("CRS_CDS_FHIR_TIMEOUT_S", get("CRS_CDS_FHIR_TIMEOUT_S"), 4.0),
        fhir_max_pages=_positive_int("CRS_CDS_FHIR_MAX_PAGES", get("CRS_CDS_FHIR_MAX_PAGES"), 20),
        smart_client_id=get("CRS_CDS_SMART_CLIENT_ID") or "crs-cds",
        smart_client_secret=get("CRS_CDS_SMART_CLIENT_SECRET"),
        smart_issuers=_smart_issuers(get("CRS_CDS_SMART_ISSUERS")),
        smart_redirect_url=_optional_http_url(
            "CRS_CDS_SMART_REDIRECT_URL", get("CRS_CDS_SMART_REDIRECT_URL")
        ),
        secret_key=_secret_key(get("CRS_CDS_SECRET_KEY")),
        session_cookie_secure=_auto_bool(
            "CRS_CDS_SESSION_COOKIE_SECURE", get("CRS_CDS_SESSION_COOKIE_SECURE")
        ),
        session_cookie_samesite=_auto_choice(
            "CRS_CDS_SESSION_COOKIE_SAMESITE",
            get("CRS_CDS_SESSION_COOKIE_SAMESITE"),
            ("none", "lax", "strict"),
        ),
        session_cookie_partitioned=_auto_bool(
            "CRS_CDS_SESSION_COOKIE_PARTITIONED", get("CRS_CDS_SESSION_COOKIE_PARTITIONED")
        ),
        log_level=_log_level(get("CRS_CDS_LOG_LEVEL")),
        database_url=_database_url(get("DATABASE_URL")),
        max_request_bytes=_bounded_int(
            "CRS_CDS_MAX_REQUEST_BYTES",
            get("CRS_CDS_MAX_REQUEST_BYTES"),
            DEFAULT_MAX_REQUEST_BYTES,
            _MIN_REQUEST_BYTES,
            _MAX_REQUEST_BYTES,
        ),
        max_resources=_bounded_int(
            "CRS_CDS_MAX_RESOURCES",
            get("CRS_CDS_MAX_RESOURCES"),
            DEFAULT_MAX_RESOURCES,
            10,
            10_000_000,
        ),
        max_in_flight=_bounded_int("CRS_CDS_MAX_IN_FLIGHT", get("CRS_CDS_MAX_IN_FLIGHT"), 1, 1, 64),
        queue_wait_s=_seconds("CRS_CDS_QUEUE_WAIT_S", get("CRS_CDS_QUEUE_WAIT_S"), 0.35),
        replay_cache=_enum(
            ReplayCacheKind,
            "CRS_CDS_REPLAY_CACHE",
            get("CRS_CDS_REPLAY_CACHE"),
            ReplayCacheKind.DATABASE,
        ),
        db_upgrade=_enum(
            SchemaUpgrade, "CRS_CDS_DB_UPGRADE", get("CRS_CDS_DB_UPGRADE"), SchemaUpgrade.AUTO
        ),
        metrics_dir=_metrics_dir(get("PROMETHEUS_MULTIPROC_DIR")),
        watch=_watch_settings(get),
    )


def _metrics_dir(raw: str | None) -> str | None:
    """prometheus_client's multiprocess folder: it must exist and be writable."""
    if raw is None:
        return None
    if not os.path.isdir(raw) or not os.access(raw, os.W_OK):
        raise SettingsError(f"PROMETHEUS_MULTIPROC_DIR {raw!r} is not a writable folder")
    return raw


def init_app(app: Flask, settings: Settings) -> None:
    """Attach ``settings`` to ``app``."""
    app.extensions[_EXTENSION_KEY] = settings


def get_settings(app: Flask | None = None) -> Settings:
    """The settings of ``app``, or of the current app inside a request."""
    target = app if app is not None else current_app
    settings = target.extensions[_EXTENSION_KEY]
    assert isinstance(settings, Settings)  # noqa: S101 - set only by init_app
    return settings


def _enum(kind: type[_E], name: str, raw: str | None, default: _E) -> _E:
    if raw is None:
        return default
    try:
        return kind(raw.lower())
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise SettingsError(f"{name} must be one of {allowed}, not {raw!r}") from None


def _timezone(raw: str | None) -> tzinfo:
    """``CRS_CDS_TIMEZONE``: an IANA zone name ("Europe/Berlin") or "UTC"."""
    if raw is None or raw.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"CRS_CDS_TIMEZONE must be an IANA time zone such as America/Los_Angeles or UTC, "
            f"not {raw!r}"
        ) from None


def _seconds(name: str, raw: str | None, default: float) -> float:
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not math.isfinite(value) or value <= 0 or value > 60:
        raise SettingsError(f"{name} must be more than 0 and at most 60 seconds, not {raw!r}")
    return value


def _positive_int(name: str, raw: str | None, default: int) -> int:
    return _bounded_int(name, raw, default, 1, 1000)


def _bounded_int(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < low or value > high:
        raise SettingsError(f"{name} must be between {low} and {high}, not {raw!r}")
    return value


def _http_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name} must be an http(s) URL, not {raw!r}")
    return raw


def _optional_http_url(name: str, raw: str | None) -> str | None:
    return None if raw is None else _http_url(name, raw)


def _public_url(raw: str | None) -> str | None:
    if raw is None:
        return None
    url = _http_url("CRS_CDS_PUBLIC_URL", raw)
    if urlsplit(url).query or urlsplit(url).fragment:
        raise SettingsError("CRS_CDS_PUBLIC_URL must not have a query or fragment")
    return url.rstrip("/")


def _json(name: str, raw: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise SettingsError(f"{name} is not valid JSON") from None


def _codes(name: str, raw: str | None) -> tuple[tuple[str, str], ...]:
    """A JSON list of ``"<system>|<code>"`` strings as (system, code) pairs."""
    if raw is None:
        return ()
    value = _json(name, raw)
    if not isinstance(value, list) or not value:
        raise SettingsError(f'{name} must be a JSON list of "<system>|<code>" strings')
    pairs = []
    for item in value:
        system, _, code = item.partition("|") if isinstance(item, str) else ("", "", "")
        if not system.strip() or not code.strip():
            raise SettingsError(f'{name}: every entry must be "<system>|<code>", got {item!r}')
        pairs.append((system.strip(), code.strip()))
    return tuple(pairs)


def _trusted_issuers(raw: str | None) -> Mapping[str, IssuerKeys]:
    name = "CRS_CDS_TRUSTED_ISSUERS"
    if raw is None:
        return MappingProxyType({})
    parsed = _json(name, raw)
    if not isinstance(parsed, dict):
        raise SettingsError(f'{name} must be a JSON object {{"<iss>": {{...}}}}')
    issuers: dict[str, IssuerKeys] = {}
    for issuer, entry in parsed.items():
        where = f"{name}[{issuer!r}]"
        if not issuer:
            raise SettingsError(f"{name} has an empty issuer name")
        if not isinstance(entry, dict):
            raise SettingsError(f"{where} must be an object with jwks_url or jwks")
        unknown = set(entry) - {"jwks_url", "jwks", "jku_allowlist", "fhir_servers"}
        if unknown:
            raise SettingsError(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
        jwks_url = entry.get("jwks_url")
        jwks = entry.get("jwks")
        jku_allowlist = _url_list(f"{where}.jku_allowlist", entry.get("jku_allowlist"), https=True)
        fhir_servers = _url_list(f"{where}.fhir_servers", entry.get("fhir_servers"), https=False)
        extra: dict[str, Any] = {
            "jku_allowlist": jku_allowlist or (),
            "fhir_servers": tuple(url.rstrip("/") for url in fhir_servers)
            if fhir_servers is not None
            else None,
        }
        if jwks_url is not None and jwks is not None:
            raise SettingsError(f"{where} must have exactly one of jwks_url or jwks")
        if jwks_url is None and jwks is None and not jku_allowlist:
            raise SettingsError(f"{where} must have one of jwks_url, jwks or jku_allowlist")
        if jwks_url is not None:
            if not isinstance(jwks_url, str):
                raise SettingsError(f"{where}.jwks_url must be a string")
            url = _key_url(f"{where}.jwks_url", jwks_url)
            issuers[issuer] = IssuerKeys(jwks_url=url, **extra)
        elif jwks is not None:
            if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
                raise SettingsError(f'{where}.jwks must be a JWK Set {{"keys": [...]}}')
            issuers[issuer] = IssuerKeys(jwks=MappingProxyType(jwks), **extra)
        else:
            issuers[issuer] = IssuerKeys(**extra)
    return MappingProxyType(issuers)


def _url_list(name: str, raw: object, *, https: bool) -> tuple[str, ...] | None:
    """A JSON list of absolute URLs; ``https`` demands TLS except on loopback (key material
    must not travel in clear)."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise SettingsError(f"{name} must be a JSON list of URLs")
    if https:
        return tuple(_key_url(name, item) for item in raw)
    return tuple(_http_url(name, item) for item in raw)


def _key_url(name: str, raw: str) -> str:
    """A URL whose traffic must not travel in clear: https, or http on loopback only (a JWK Set
    fetched in clear can be replaced on the way, and with it every token's signature; a watch
    alert posted in clear carries a clinical summary)."""
    url = _http_url(name, raw)
    parts = urlsplit(url)
    if parts.scheme != "https" and not is_loopback_host(parts.hostname):
        raise SettingsError(f"{name} must be an https URL (http only on loopback), not {raw!r}")
    return url


def _smart_issuers(raw: str | None) -> tuple[str, ...] | None:
    name = "CRS_CDS_SMART_ISSUERS"
    if raw is None:
        return None
    parsed = _json(name, raw)
    if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
        raise SettingsError(f"{name} must be a JSON list of URLs")
    return tuple(_http_url(name, item).rstrip("/") for item in parsed)


def _auto_bool(name: str, raw: str | None) -> bool | None:
    """``auto`` (or unset) as None, else ``true`` or ``false``."""
    choice = _auto_choice(name, raw, ("true", "false"))
    return None if choice is None else choice == "true"


def _auto_choice(name: str, raw: str | None, choices: tuple[str, ...]) -> str | None:
    """``auto`` (or unset) as None, else one of ``choices`` (any case)."""
    if raw is None or raw.lower() == "auto":
        return None
    if raw.lower() not in choices:
        allowed = ", ".join(("auto", *choices))
        raise SettingsError(f"{name} must be one of {allowed}, not {raw!r}")
    return raw.lower()


def _secret_key(raw: str | None) -> str | None:
    if raw is not None and len(raw) < 32:
        raise SettingsError("CRS_CDS_SECRET_KEY must be at least 32 characters long")
    return raw


def _log_level(raw: str | None) -> str:
    if raw is None:
        return "INFO"
    level = raw.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"CRS_CDS_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {raw!r}")
    return level


def _database_url(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        make_url(raw)
    except (ArgumentError, ValueError):
        # Do not echo the value: a database URL may hold a password.
        raise SettingsError("DATABASE_URL is not a valid SQLAlchemy database URL") from None
    return raw


# --- the watch (SPEC 4b) --------------------------------------------------------------------

#: Shortest shared secret accepted (webhook key, Subscription secrets): 256 bits of base64.
_MIN_SECRET_CHARS = 32
_QUEUE_SCHEMES = ("sqlite", "redis", "rediss", "postgresql", "postgres")


def _watch_settings(get: Callable[[str], str | None]) -> WatchSettings:
    """The ``CRS_CDS_WATCH_*`` variables; each error names its variable."""
    fhir_url = _optional_http_url("CRS_CDS_WATCH_FHIR_URL", get("CRS_CDS_WATCH_FHIR_URL"))
    client_id = get("CRS_CDS_WATCH_CLIENT_ID")
    key_file = get("CRS_CDS_WATCH_PRIVATE_KEY_FILE")
    key_id = get("CRS_CDS_WATCH_KEY_ID")
    if client_id is not None and (key_file is None or key_id is None):
        missing = "CRS_CDS_WATCH_PRIVATE_KEY_FILE" if key_file is None else "CRS_CDS_WATCH_KEY_ID"
        raise SettingsError(f"{missing} is required when CRS_CDS_WATCH_CLIENT_ID is set")
    if key_file is not None and not os.path.isfile(key_file):
        raise SettingsError(f"CRS_CDS_WATCH_PRIVATE_KEY_FILE names no readable file: {key_file!r}")
    channels = _alert_channels(get("CRS_CDS_WATCH_ALERT_CHANNELS"))
    raw_webhook = get("CRS_CDS_WATCH_WEBHOOK_URL")
    webhook_url = (
        None if raw_webhook is None else _key_url("CRS_CDS_WATCH_WEBHOOK_URL", raw_webhook)
    )
    webhook_secret = get("CRS_CDS_WATCH_WEBHOOK_SECRET")
    if AlertChannel.WEBHOOK in channels and (webhook_url is None or webhook_secret is None):
        missing = "CRS_CDS_WATCH_WEBHOOK_" + ("URL" if webhook_url is None else "SECRET")
        raise SettingsError(f"{missing} is required when CRS_CDS_WATCH_ALERT_CHANNELS has webhook")
    if webhook_secret is not None and len(webhook_secret) < _MIN_SECRET_CHARS:
        raise SettingsError(
            f"CRS_CDS_WATCH_WEBHOOK_SECRET must be at least {_MIN_SECRET_CHARS} characters long"
        )
    fhir_timeout_s = _seconds(
        "CRS_CDS_WATCH_FHIR_TIMEOUT_S", get("CRS_CDS_WATCH_FHIR_TIMEOUT_S"), 30.0
    )
    lease_s = _bounded_int("CRS_CDS_WATCH_LEASE_S", get("CRS_CDS_WATCH_LEASE_S"), 120, 2, 3600)
    if lease_s <= fhir_timeout_s:
        raise SettingsError(
            "CRS_CDS_WATCH_LEASE_S must be longer than CRS_CDS_WATCH_FHIR_TIMEOUT_S "
            f"({lease_s} <= {fhir_timeout_s:g}): a worker must not lose a patient mid-read"
        )
    return WatchSettings(
        fhir_url=fhir_url.rstrip("/") if fhir_url is not None else None,
        queue_url=_queue_url(get("CRS_CDS_WATCH_QUEUE_URL")),
        client_id=client_id,
        private_key_file=key_file,
        key_id=key_id,
        scopes=get("CRS_CDS_WATCH_SCOPES") or DEFAULT_WATCH_SCOPES,
        alert_grade=_bounded_int(
            "CRS_CDS_WATCH_ALERT_GRADE", get("CRS_CDS_WATCH_ALERT_GRADE"), 2, 1, 5
        ),
        alert_channels=channels,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        subscription_secrets=_subscription_secrets(get("CRS_CDS_WATCH_SUBSCRIPTION_SECRETS")),
        topic=_optional_http_url("CRS_CDS_WATCH_TOPIC", get("CRS_CDS_WATCH_TOPIC")),
        filters=_string_list("CRS_CDS_WATCH_FILTERS", get("CRS_CDS_WATCH_FILTERS")),
        payload=_enum(
            WatchPayload,
            "CRS_CDS_WATCH_PAYLOAD",
            get("CRS_CDS_WATCH_PAYLOAD"),
            WatchPayload.ID_ONLY,
        ),
        heartbeat_s=_bounded_int(
            "CRS_CDS_WATCH_HEARTBEAT_S", get("CRS_CDS_WATCH_HEARTBEAT_S"), 3600, 0, 86_400
        ),
        poll_patients=_poll_patients(get("CRS_CDS_WATCH_POLL_PATIENTS")),
        poll_interval_s=_bounded_int(
            "CRS_CDS_WATCH_POLL_INTERVAL_S", get("CRS_CDS_WATCH_POLL_INTERVAL_S"), 900, 10, 86_400
        ),
        retries=_bounded_int("CRS_CDS_WATCH_RETRIES", get("CRS_CDS_WATCH_RETRIES"), 5, 0, 20),
        retry_delay_s=_bounded_int(
            "CRS_CDS_WATCH_RETRY_DELAY_S", get("CRS_CDS_WATCH_RETRY_DELAY_S"), 10, 1, 3600
        ),
        lease_s=lease_s,
        fhir_timeout_s=fhir_timeout_s,
        gap_wait_s=_bounded_int(
            "CRS_CDS_WATCH_GAP_WAIT_S", get("CRS_CDS_WATCH_GAP_WAIT_S"), 30, 0, 3600
        ),
    )


def _alert_channels(raw: str | None) -> frozenset[AlertChannel]:
    name = "CRS_CDS_WATCH_ALERT_CHANNELS"
    if raw is None:
        return frozenset({AlertChannel.COMMUNICATION})
    channels = {
        _enum(AlertChannel, name, part.strip(), AlertChannel.COMMUNICATION)
        for part in raw.split(",")
        if part.strip()
    }
    if not channels:
        raise SettingsError(f"{name} must name at least one of communication, webhook")
    return frozenset(channels)


def _queue_url(raw: str | None) -> str | None:
    name = "CRS_CDS_WATCH_QUEUE_URL"
    if raw is None:
        return None
    scheme = urlsplit(raw).scheme.split("+", 1)[0]
    if scheme not in _QUEUE_SCHEMES:
        raise SettingsError(
            f"{name} must be a sqlite:///, redis://, rediss:// or postgresql:// URL"
        )  # the value is not echoed: a queue URL may hold a password
    if scheme == "sqlite" and not raw.startswith("sqlite:///"):
        raise SettingsError(f"{name} must be sqlite:///path for the embedded queue")
    return raw


def _string_list(name: str, raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    parsed = _json(name, raw)
    if not isinstance(parsed, list) or not all(isinstance(i, str) and i for i in parsed):
        raise SettingsError(f"{name} must be a JSON list of non-empty strings")
    return tuple(parsed)


def _poll_patients(raw: str | None) -> tuple[str, ...]:
    name = "CRS_CDS_WATCH_POLL_PATIENTS"
    patients = _string_list(name, raw)
    for patient in patients:
        if not is_fhir_id(patient.removeprefix("Patient/")):
            raise SettingsError(f"{name} holds {patient!r}, which is not a Patient id")
    return tuple(dict.fromkeys(p.removeprefix("Patient/") for p in patients))


def _subscription_secrets(raw: str | None) -> Mapping[str, str]:
    name = "CRS_CDS_WATCH_SUBSCRIPTION_SECRETS"
    if raw is None:
        return MappingProxyType({})
    parsed = _json(name, raw)
    if not isinstance(parsed, dict):
        raise SettingsError(f'{name} must be a JSON object {{"<Subscription id>": "<secret>"}}')
    secrets: dict[str, str] = {}
    for subscription, secret in parsed.items():
        subscription_id = subscription.rstrip("/").rsplit("/", 1)[-1]
        if not is_fhir_id(subscription_id):
            raise SettingsError(f"{name} has a key that is not a Subscription id: {subscription!r}")
        if not isinstance(secret, str) or len(secret) < _MIN_SECRET_CHARS:
            raise SettingsError(
                f"{name}[{subscription!r}] must be a secret of at least {_MIN_SECRET_CHARS} "
                "characters"
            )
        secrets[subscription_id] = secret
    return MappingProxyType(secrets)
