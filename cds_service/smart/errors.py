"""Errors of the SMART app, each shown to the user as a clear page (never a trace).

The tree::

    SmartError                      status_code, title, message (safe to show; no secrets)
    ├── LaunchRefused               400  bad or unknown ``iss``, missing parameters
    ├── DiscoveryFailed             502  ``.well-known/smart-configuration`` unreachable or invalid
    ├── AuthorizationDenied         403  the EHR answered the callback with ``error=...``
    ├── StateInvalid                400  ``state`` missing, unknown, expired, or of another browser
    ├── TokenExchangeFailed         502  the token endpoint refused the code or answered nonsense
    ├── SessionExpired              401  no launch session, or its token has expired
    └── FhirReadFailed              502  the EHR's FHIR server is down, slow, or refused the token

Messages never include tokens, codes, ``state`` values or patient data.
"""

from __future__ import annotations


class SmartError(Exception):
    """Base of every error the SMART app shows as a page."""

    status_code = 500
    title = "The CRS course could not be shown"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LaunchRefused(SmartError):
    status_code = 400
    title = "Launch refused"


class DiscoveryFailed(SmartError):
    status_code = 502
    title = "The EHR's SMART configuration could not be read"


class AuthorizationDenied(SmartError):
    status_code = 403
    title = "The EHR did not authorize the app"


class StateInvalid(SmartError):
    status_code = 400
    title = "This sign-in response cannot be accepted"


class TokenExchangeFailed(SmartError):
    status_code = 502
    title = "The EHR did not issue an access token"


class SessionExpired(SmartError):
    status_code = 401
    title = "Your session has ended"


class FhirReadFailed(SmartError):
    status_code = 502
    title = "The patient's data could not be read"
