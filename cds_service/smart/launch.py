"""The launch sequence: start (launch URL -> authorize redirect) and finish (callback -> session).

``SmartRuntime`` holds what ``init_smart`` was given. The browser is identified by an opaque
random id kept in the Flask session; the state, the PKCE verifier and the token stay in the
store, tied to that id (SMART App Launch 2.2: state tied to the user's session).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests

from cds_service.smart.config import SmartConfig
from cds_service.smart.errors import (
    AuthorizationDenied,
    LaunchRefused,
    SessionExpired,
    StateInvalid,
    TokenExchangeFailed,
)
from cds_service.smart.oauth import (
    authorize_url,
    check_issuer,
    discover,
    exchange_code,
    new_code_verifier,
    new_random_token,
)
from cds_service.smart.store import LaunchSession, PendingLaunch, SmartStore

logger = logging.getLogger(__name__)

#: RFC 6749 section 4.1.2.1 and OpenID Connect error codes, in the clinician's words. Only
#: these are shown: ``error_description`` is free text from the redirect and is never echoed.
_EHR_ERRORS: dict[str, str] = {
    "access_denied": "Access was denied: the user or the EHR's policy did not allow the app.",
    "invalid_request": "The EHR found the app's authorization request invalid.",
    "unauthorized_client": "The EHR does not allow this app to ask for access this way.",
    "unsupported_response_type": "The EHR does not support the app's kind of sign-in.",
    "invalid_scope": "The EHR does not grant the data access the app asks for.",
    "server_error": "The EHR's authorization server had an error.",
    "temporarily_unavailable": "The EHR's authorization server is busy. Try again shortly.",
    "login_required": "You need to be signed in to the EHR.",
    "consent_required": "The app needs your consent in the EHR before it can open.",
    "interaction_required": "The EHR needs you to confirm the launch.",
}


@dataclass(frozen=True, slots=True)
class SmartRuntime:
    """What the SMART blueprint works with, attached to the app by ``init_smart``."""

    config: SmartConfig
    store: SmartStore
    http: requests.Session
    clock: Callable[[], datetime]


def start_launch(
    runtime: SmartRuntime,
    *,
    iss: str | None,
    launch: str | None,
    browser: str,
    redirect_uri: str,
) -> str:
    """Check the issuer, discover its endpoints, remember the launch; return the authorize URL.

    With ``launch`` this is an EHR launch; without, a standalone launch (refused when the server
    says it does not support one). Without ``iss``, a standalone launch goes to the only allowed
    issuer when exactly one is configured.
    """
    config = runtime.config
    if not iss:
        if (
            launch is None
            and config.allowed_issuers is not None
            and len(config.allowed_issuers) == 1
        ):
            iss = config.allowed_issuers[0]
        else:
            raise LaunchRefused(
                "The launch did not say which FHIR server it came from (no iss parameter). "
                "Open the app from the patient's chart in the EHR."
            )
    if launch is not None and not launch.strip():
        raise LaunchRefused("The EHR sent an empty launch parameter. Open the app again.")
    iss = check_issuer(iss, config.allowed_issuers)
    endpoints = discover(runtime.http, iss, config)
    if launch is None and not endpoints.allows_standalone():
        raise LaunchRefused(
            "This EHR does not allow standalone launches. Open the app from the patient's chart."
        )
    state = new_random_token()
    verifier = new_code_verifier()
    now = runtime.clock()
    runtime.store.save_launch(
        state,
        PendingLaunch(
            iss=iss,
            launch=launch,
            redirect_uri=redirect_uri,
            code_verifier=verifier,
            token_endpoint=endpoints.token_endpoint,
            browser=browser,
            expires_at=(now + timedelta(seconds=config.launch_ttl_s)).timestamp(),
        ),
    )
    logger.info(
        "SMART %s launch started for %s", "EHR" if launch is not None else "standalone", iss
    )
    return authorize_url(
        endpoints.authorization_endpoint,
        config=config,
        iss=iss,
        launch=launch,
        redirect_uri=redirect_uri,
        state=state,
        code_verifier=verifier,
    )


def finish_launch(
    runtime: SmartRuntime, args: Mapping[str, str], browser: str | None, *, new_browser: str
) -> str:
    """Check the callback, exchange the code, store the session; return the new session id.

    ``browser`` is the binding the launch was started with (from the cookie); the session is
    tied to ``new_browser``, a fresh value (session fixation: what carried the launch does not
    carry the authorized session).
    """
    state = args.get("state")
    pending = runtime.store.take_launch(state, runtime.clock()) if state else None
    error = args.get("error")
    if error:
        logger.info("SMART launch: the EHR answered with error %s", _known_error(error))
        raise AuthorizationDenied(
            _EHR_ERRORS.get(error, "The EHR ended the sign-in with an error.")
            + " Open the app again from the patient's chart; if this repeats, "
            "ask your EHR administrator."
        )
    if not state:
        raise StateInvalid("The sign-in response has no state parameter, so it cannot be trusted.")
    if pending is None:
        raise StateInvalid(
            "This sign-in response is unknown, was already used, or came too late. "
            "Open the app again from the patient's chart."
        )
    if browser is None or not secrets.compare_digest(pending.browser, browser):
        raise StateInvalid(
            "This sign-in response belongs to a launch started in another browser session. "
            "Open the app again from the patient's chart."
        )
    code = args.get("code")
    if not code:
        raise AuthorizationDenied("The EHR's answer has no authorization code.")
    token = exchange_code(
        runtime.http,
        config=runtime.config,
        token_endpoint=pending.token_endpoint,
        code=code,
        redirect_uri=pending.redirect_uri,
        code_verifier=pending.code_verifier,
    )
    if token.patient is None:
        raise TokenExchangeFailed(
            "The EHR did not say which patient the app was opened for. "
            "Open the app from a patient's chart."
        )
    config = runtime.config
    lifetime = token.expires_in if token.expires_in is not None else config.default_session_ttl_s
    lifetime = max(0, min(lifetime, config.max_session_ttl_s))
    session_id = new_random_token()
    runtime.store.save_session(
        session_id,
        LaunchSession(
            iss=pending.iss,
            patient=token.patient,
            access_token=token.access_token,
            scope=token.scope,
            need_patient_banner=token.need_patient_banner,
            browser=new_browser,
            expires_at=(runtime.clock() + timedelta(seconds=lifetime)).timestamp(),
            encounter=token.encounter,
        ),
    )
    logger.info("SMART launch authorized for %s Patient/%s", pending.iss, token.patient)
    return session_id


def load_session(
    runtime: SmartRuntime, session_id: str | None, browser: str | None
) -> LaunchSession:
    """The live launch session ``session_id`` of this browser, else ``SessionExpired``."""
    if not session_id or browser is None:
        raise SessionExpired("Open the app from the patient's chart in the EHR.")
    session = runtime.store.get_session(session_id, runtime.clock())
    if session is None or not secrets.compare_digest(session.browser, browser):
        raise SessionExpired(
            "This view of the CRS course has expired. Open the app again from the patient's chart."
        )
    return session


def _known_error(error: str) -> str:
    return error if error in _EHR_ERRORS else "(other)"
