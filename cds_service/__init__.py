"""The CRS CDS Hooks service: web, hooks, FHIR I/O, cards and configuration.

Public surface: ``create_app`` (the Flask app factory) and the types a caller may meet at start.
Production: ``gunicorn 'cds_service:create_app()'``; development: ``crs-cds serve``.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping

from flask import Flask

from cds_service import auth, errors, logs, metrics, outbound, storage
from cds_service.config import AuthMode, Settings, load_settings
from cds_service.config import init_app as init_settings
from cds_service.errors import ServiceError, SettingsError
from cds_service.fhir_io import FhirReader
from cds_service.web import cds, cors, ops

__all__ = ["ServiceError", "Settings", "SettingsError", "create_app"]

logger = logging.getLogger(__name__)

#: Largest request body accepted (prefetch of a long ICU stay can be several MB).
MAX_REQUEST_BYTES = 64 * 1024 * 1024


def create_app(
    environ: Mapping[str, str] | None = None, *, defaults: Mapping[str, str] | None = None
) -> Flask:
    """Build the service from environment variables (``os.environ`` when ``environ`` is None).

    ``defaults`` supplies values for variables that are unset (the ``serve`` command uses it to
    turn authentication off for development). Raises ``SettingsError`` naming the variable when
    a value is invalid. This is the only place that reads the environment.
    """
    source = os.environ if environ is None else environ
    merged = dict(defaults or {})
    merged.update({name: value for name, value in source.items() if value.strip()})
    settings = load_settings(merged)
    logs.configure_logging(settings.log_level)

    app = Flask(__name__, instance_relative_config=True)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    # Signs session cookies (the SMART app). Random per process unless configured.
    app.secret_key = settings.secret_key or secrets.token_urlsafe(32)
    init_settings(app, settings)
    _warn_about_auth(settings)

    errors.init_app(app)
    logs.init_app(app)
    metrics.init_app(app)
    cors.init_app(app)
    session = outbound.init_app(app)
    storage.init_app(app, settings.database_url)
    auth.init_app(app, settings.trusted_issuers, session)
    reader = FhirReader(
        session, budget_s=settings.fhir_timeout_s, max_pages=settings.fhir_max_pages
    )
    cds.init_app(app, reader)
    app.register_blueprint(ops.bp)
    return app


def _warn_about_auth(settings: Settings) -> None:
    if settings.auth is AuthMode.NONE:
        logger.warning(
            "CRS_CDS_AUTH=none: CDS Hooks JWT authentication is OFF; "
            "anyone who can reach this service can call it. Development only."
        )
    elif not settings.trusted_issuers:
        logger.warning("CRS_CDS_TRUSTED_ISSUERS is empty: every CDS Hooks call will get 401")
