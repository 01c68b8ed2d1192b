"""The ``smart`` blueprint: launch URL, redirect URL and the CRS course page, all under /smart.

Views are thin: they read the request, call one function of ``launch`` or ``page`` and render.
Every error becomes a clear HTML page with the right status (never a trace).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import requests
from flask import (
    Blueprint,
    Flask,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from cds_service.errors import where_raised
from cds_service.outbound import make_session
from cds_service.smart.config import SmartConfig
from cds_service.smart.errors import SmartError
from cds_service.smart.launch import SmartRuntime, finish_launch, load_session, start_launch
from cds_service.smart.session import (
    SmartSessionInterface,
    new_launch_binding,
    new_view_binding,
    remember_view,
    take_launch_binding,
    view_binding,
)
from cds_service.smart.store import InMemorySmartStore, SmartStore

logger = logging.getLogger(__name__)

_EXTENSION = "crs_cds_smart"
#: Where another part of the service may put a callable ``(iss, patient_id) -> section or None``
#: whose result the course page shows as ``watch`` (the watch of SPEC 4b registers one).
WATCH_HISTORY_EXTENSION = "crs_cds.smart.watch_history"

smart_bp = Blueprint(
    "smart",
    __name__,
    url_prefix="/smart",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: The page is self-contained: our own stylesheet, inline SVG, no script. Style attributes in
#: matplotlib's SVG need 'unsafe-inline' for styles (not scripts). No frame-ancestors: EHRs embed
#: the app in an iframe.
_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'self'"
)


def init_smart(
    app: Flask,
    config: SmartConfig,
    *,
    store: SmartStore | None = None,
    http: requests.Session | None = None,
    clock: Callable[[], datetime] | None = None,
) -> None:
    """Attach the SMART app to ``app`` and register ``smart_bp`` (at /smart).

    ``store`` defaults to an in-memory store (one process only: give a ``SqlSmartStore`` to
    replicas). ``http`` is the session for discovery, token and FHIR calls. ``clock`` returns
    the current time (UTC, timezone-aware); tests pass a fixed one.
    """
    if not app.secret_key:
        raise RuntimeError(
            "The SMART app needs a Flask secret key for its session cookie: set CRS_CDS_SECRET_KEY"
        )
    if config.allowed_issuers is None:
        logger.warning(
            "CRS_CDS_SMART_ISSUERS is not set: the SMART app accepts a launch from any https "
            "FHIR server (iss). Anyone can then make this service fetch that server's "
            "/.well-known/smart-configuration and POST authorization codes to the token "
            "endpoint it names. Set CRS_CDS_SMART_ISSUERS to a JSON list of the FHIR base URLs "
            "of the EHRs you trust, e.g. "
            '\'["https://fhir.example-ehr.org/api/FHIR/R4"]\'; launches from any other '
            "server are then refused before any request is made."
        )
    if store is None:
        store = InMemorySmartStore()
    # The session cookie of the whole app is the SMART app's (the CDS Hooks API uses none).
    app.session_interface = SmartSessionInterface(
        config.cookie, https_url=(config.redirect_url or "").startswith("https://")
    )
    app.extensions[_EXTENSION] = SmartRuntime(
        config=config,
        store=store,
        http=http if http is not None else make_session(),
        clock=clock if clock is not None else _utc_now,
    )
    if "smart" not in app.blueprints:
        app.register_blueprint(smart_bp)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _runtime() -> SmartRuntime:
    runtime = current_app.extensions.get(_EXTENSION)
    if not isinstance(runtime, SmartRuntime):
        raise RuntimeError("init_smart(app, config) was not called")
    return runtime


def _redirect_uri(config: SmartConfig) -> str:
    if config.redirect_url:
        return config.redirect_url
    return url_for("smart.callback", _external=True)


@smart_bp.get("/launch")
def launch() -> ResponseReturnValue:
    """EHR launch (``iss`` and ``launch``) or standalone launch (``iss`` only)."""
    runtime = _runtime()
    target = start_launch(
        runtime,
        iss=request.args.get("iss"),
        launch=request.args.get("launch"),
        browser=new_launch_binding(session),  # rotated: nothing planted before survives
        redirect_uri=_redirect_uri(runtime.config),
    )
    return redirect(target, code=302)


@smart_bp.get("/callback")
def callback() -> ResponseReturnValue:
    """The redirect URL: check state, exchange the code, then show the page."""
    runtime = _runtime()
    binding = new_view_binding()  # rotated again: the launch's binding ends here
    session_id = finish_launch(
        runtime, request.args, take_launch_binding(session), new_browser=binding
    )
    remember_view(session, session_id, binding)
    return redirect(url_for("smart.course_page", ctx=session_id), code=303)


@smart_bp.get("/app")
def course_page() -> ResponseReturnValue:
    """The CRS course of the launched patient."""
    runtime = _runtime()
    ctx = request.args.get("ctx")
    launch_session = load_session(runtime, ctx, view_binding(session, ctx))
    # Imported here: matplotlib and the grader load only when a page is first drawn, which
    # keeps the service's start (and every CDS Hooks worker that never draws) light.
    from cds_service.config import get_settings
    from cds_service.hooks import grading_options, mapping_options
    from cds_service.smart.page import build_page

    try:
        settings = get_settings()
        options, mapping = grading_options(settings), mapping_options(settings)
    except KeyError:  # the SMART app mounted without the service's settings (tests, embedding)
        options, mapping = None, None
    page = build_page(runtime, launch_session, options, mapping)
    history = current_app.extensions.get(WATCH_HISTORY_EXTENSION)
    watch = history(launch_session.iss, launch_session.patient) if callable(history) else None
    return render_template("smart/course.html", page=page, watch=watch)


@smart_bp.errorhandler(SmartError)
def _smart_error(error: SmartError) -> ResponseReturnValue:
    return _error_page(error.status_code, error.title, error.message)


@smart_bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    return _error_page(code, error.name, "The app could not handle this request.")


@smart_bp.errorhandler(SQLAlchemyError)
def _storage_error(error: SQLAlchemyError) -> ResponseReturnValue:
    # The launch store's database (cds_service.storage: down, or its SQLite file replaced).
    logger.error("SMART app: launch store unavailable: %s", type(error).__name__)
    return _error_page(
        503,
        "The CRS course is unavailable for a moment",
        "The app cannot keep its sign-in state right now. Try again in a minute.",
    )


@smart_bp.errorhandler(Exception)
def _unexpected_error(error: Exception) -> ResponseReturnValue:
    # The type and where, never the message: it may hold patient data (as cds_service.errors).
    where = "; ".join(where_raised(error))
    logger.error("SMART app: unexpected %s at %s", type(error).__name__, where)
    return _error_page(
        500,
        "The CRS course could not be shown",
        "Something went wrong on our side. Try again; if it repeats, tell the CRS service team.",
    )


def _error_page(status: int, title: str, message: str) -> ResponseReturnValue:
    return render_template("smart/error.html", title=title, message=message), status


@smart_bp.after_request
def _headers(response: Response) -> Response:
    if request.endpoint != "smart.static":
        # The page shows patient data and the URL holds a session id: not cached, not referred.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
