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

from cds_service import auth, errors, logs, metrics, outbound, storage, watch
from cds_service.config import AuthMode, Settings, load_settings
from cds_service.config import init_app as init_settings
from cds_service.errors import ServiceError, SettingsError
from cds_service.fhir_io import FhirReader
from cds_service.gc_tuning import tune_garbage_collector
from cds_service.smart import (
    CookieSameSite,
    SessionCookiePolicy,
    SmartConfig,
    SqlSmartStore,
    init_smart,
)
from cds_service.web import cds, cors, ops

__all__ = ["ServiceError", "Settings", "SettingsError", "create_app"]

logger = logging.getLogger(__name__)


def create_app(
    environ: Mapping[str, str] | None = None, *, defaults: Mapping[str, str] | None = None
) -> Flask:
    """Build the service from environment variables (``os.environ`` when ``environ`` is None).

    ``defaults`` supplies values for variables that are unset (the ``serve`` command uses it to
    turn authentication off for development). Raises ``SettingsError`` naming the variable when
    a value is invalid. This is the only place that reads the environment.

    It also sets the process's garbage-collector thresholds (``cds_service.gc_tuning``): one
    call of a long ICU stay allocates hundreds of thousands of objects, and every entry point
    (gunicorn, the ``crs-cds`` commands, tests, benchmarks) should grade at the same speed.
    """
    source = os.environ if environ is None else environ
    merged = dict(defaults or {})
    merged.update({name: value for name, value in source.items() if value.strip()})
    settings = load_settings(merged)
    logs.configure_logging(settings.log_level)
    tune_garbage_collector()

    app = Flask(__name__, instance_relative_config=True)
    # Signs session cookies and keys the SMART store. Random per process unless configured.
    if settings.secret_key is None:
        logger.warning(
            "CRS_CDS_SECRET_KEY is not set: using a random key for this process; SMART app "
            "sessions will not survive a restart or move between workers. Set it in production."
        )
    app.secret_key = settings.secret_key or secrets.token_urlsafe(32)
    init_settings(app, settings)
    _warn_about_auth(settings)

    errors.init_app(app)
    logs.init_app(app)
    metrics.init_app(app, settings.metrics_dir)
    cors.init_app(app)
    session = outbound.init_app(app)
    database = storage.init_app(app, settings.database_url)
    auth.init_app(app, settings.trusted_issuers, session)
    reader = FhirReader(
        session, budget_s=settings.fhir_timeout_s, max_pages=settings.fhir_max_pages
    )
    cds.init_app(app, reader)
    app.register_blueprint(ops.bp)
    init_smart(
        app,
        _smart_config(settings),
        store=SqlSmartStore(database.engine, secret=app.secret_key),
        http=session,
    )
    watch.init_app(app, settings, database, session)
    return app


def _smart_config(settings: Settings) -> SmartConfig:
    """The SMART app's settings (SPEC section 4: client id, secret, allowed issuers)."""
    redirect_url = settings.smart_redirect_url
    if redirect_url is None and settings.public_url is not None:
        redirect_url = settings.public_url + "/smart/callback"
    try:
        same_site = settings.session_cookie_samesite
        return SmartConfig(
            client_id=settings.smart_client_id,
            client_secret=settings.smart_client_secret,
            redirect_url=redirect_url,
            allowed_issuers=settings.smart_issuers,
            cookie=SessionCookiePolicy(
                secure=settings.session_cookie_secure,
                same_site=CookieSameSite(same_site.capitalize()) if same_site else None,
                partitioned=settings.session_cookie_partitioned,
            ),
        )
    except ValueError as error:  # the message names the variable
        raise SettingsError(str(error)) from None


def _warn_about_auth(settings: Settings) -> None:
    if settings.auth is AuthMode.NONE:
        logger.warning(
            "CRS_CDS_AUTH=none: CDS Hooks JWT authentication is OFF; "
            "anyone who can reach this service can call it. Development only."
        )
    elif not settings.trusted_issuers:
        logger.warning("CRS_CDS_TRUSTED_ISSUERS is empty: every CDS Hooks call will get 401")
