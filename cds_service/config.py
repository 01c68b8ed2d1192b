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
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import orjson
from flask import Flask, current_app
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from cds_service.errors import SettingsError

__all__ = [
    "VARIABLES",
    "AuthMode",
    "IssuerKeys",
    "Settings",
    "TocilizumabProtocol",
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


class TocilizumabProtocol(enum.StrEnum):
    """Which tocilizumab dosing table to use (SPEC 2.6)."""

    LEE_2014 = "lee2014"
    FDA_LABEL = "fda-label"


@dataclass(frozen=True, slots=True)
class IssuerKeys:
    """Where the public keys of one trusted JWT issuer come from: a JWKS URL or an inline set."""

    jwks_url: str | None = None
    jwks: Mapping[str, Any] | None = None


# (variable, default shown in the docs, meaning). The order is the order of the README table.
VARIABLES: tuple[tuple[str, str, str], ...] = (
    ("CRS_CDS_AUTH", "jwt", "`jwt` or `none` (development only; logged as a warning)"),
    (
        "CRS_CDS_TRUSTED_ISSUERS",
        "unset: every JWT is refused",
        'JSON: `{"<iss>": {"jwks_url": "https://..."}}` or `{"<iss>": {"jwks": {"keys": [...]}}}`',
    ),
    (
        "CRS_CDS_PUBLIC_URL",
        "the request's own URL",
        "public base URL of the service (for the JWT `aud` check behind a proxy)",
    ),
    ("CRS_CDS_TOCILIZUMAB_PROTOCOL", "lee2014", "`lee2014` or `fda-label` dosing table"),
    ("CRS_CDS_FHIR_TIMEOUT_S", "4", "total time budget in seconds for fetching missing prefetch"),
    ("CRS_CDS_FHIR_MAX_PAGES", "20", "most Bundle pages read per prefetch key"),
    ("CRS_CDS_SMART_CLIENT_ID", "crs-cds", "the SMART app's OAuth client id"),
    ("CRS_CDS_SMART_CLIENT_SECRET", "unset", "set for a confidential SMART client"),
    (
        "CRS_CDS_SMART_ISSUERS",
        "unset: any, with a warning",
        "JSON list of FHIR base URLs (`iss`) the SMART app may launch from",
    ),
    (
        "CRS_CDS_SECRET_KEY",
        "random per process",
        "key (32+ characters) signing the SMART app's session cookie; set it for several workers",
    ),
    ("CRS_CDS_LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR"),
    ("DATABASE_URL", "SQLite file in the instance folder", "SQLAlchemy database URL"),
)


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of the service, validated. Build it with ``load_settings``."""

    auth: AuthMode = AuthMode.JWT
    trusted_issuers: Mapping[str, IssuerKeys] = field(default_factory=lambda: MappingProxyType({}))
    public_url: str | None = None
    tocilizumab_protocol: TocilizumabProtocol = TocilizumabProtocol.LEE_2014
    fhir_timeout_s: float = 4.0
    fhir_max_pages: int = 20
    smart_client_id: str = "crs-cds"
    smart_client_secret: str | None = field(default=None, repr=False)
    smart_issuers: tuple[str, ...] | None = None
    secret_key: str | None = field(default=None, repr=False)
    log_level: str = "INFO"
    database_url: str | None = field(default=None, repr=False)


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
        fhir_timeout_s=_seconds("CRS_CDS_FHIR_TIMEOUT_S", get("CRS_CDS_FHIR_TIMEOUT_S"), 4.0),
        fhir_max_pages=_positive_int("CRS_CDS_FHIR_MAX_PAGES", get("CRS_CDS_FHIR_MAX_PAGES"), 20),
        smart_client_id=get("CRS_CDS_SMART_CLIENT_ID") or "crs-cds",
        smart_client_secret=get("CRS_CDS_SMART_CLIENT_SECRET"),
        smart_issuers=_smart_issuers(get("CRS_CDS_SMART_ISSUERS")),
        secret_key=_secret_key(get("CRS_CDS_SECRET_KEY")),
        log_level=_log_level(get("CRS_CDS_LOG_LEVEL")),
        database_url=_database_url(get("DATABASE_URL")),
    )


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
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1 or value > 1000:
        raise SettingsError(f"{name} must be between 1 and 1000, not {raw!r}")
    return value


def _http_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name} must be an http(s) URL, not {raw!r}")
    return raw


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
        jwks_url = entry.get("jwks_url")
        jwks = entry.get("jwks")
        if (jwks_url is None) == (jwks is None):
            raise SettingsError(f"{where} must have exactly one of jwks_url or jwks")
        if jwks_url is not None:
            if not isinstance(jwks_url, str):
                raise SettingsError(f"{where}.jwks_url must be a string")
            issuers[issuer] = IssuerKeys(jwks_url=_http_url(f"{where}.jwks_url", jwks_url))
        else:
            if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
                raise SettingsError(f'{where}.jwks must be a JWK Set {{"keys": [...]}}')
            issuers[issuer] = IssuerKeys(jwks=MappingProxyType(jwks))
    return MappingProxyType(issuers)


def _smart_issuers(raw: str | None) -> tuple[str, ...] | None:
    name = "CRS_CDS_SMART_ISSUERS"
    if raw is None:
        return None
    parsed = _json(name, raw)
    if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
        raise SettingsError(f"{name} must be a JSON list of URLs")
    return tuple(_http_url(name, item).rstrip("/") for item in parsed)


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
