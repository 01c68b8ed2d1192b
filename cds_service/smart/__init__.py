"""The SMART on FHIR app: the patient's CRS course at a glance, launched from the EHR.

SMART App Launch 2.2 EHR launch (and standalone launch where the EHR allows it) with PKCE S256;
the token stays server-side; the page reads the patient's record from the EHR's FHIR server,
grades it, and draws the course from day 0 the way the seed's Figure 3 does.

The app factory builds a ``SmartConfig`` from its settings and calls ``init_smart(app, config,
store=...)``, which registers ``smart_bp`` at ``/smart``.
"""

from __future__ import annotations

from cds_service.smart.blueprint import WATCH_HISTORY_EXTENSION, init_smart, smart_bp
from cds_service.smart.config import (
    DEFAULT_SCOPES,
    CookieSameSite,
    SessionCookiePolicy,
    SmartConfig,
)
from cds_service.smart.errors import SmartError
from cds_service.smart.session import remember_view
from cds_service.smart.store import InMemorySmartStore, SmartStore, SqlSmartStore

__all__ = [
    "DEFAULT_SCOPES",
    "CookieSameSite",
    "SessionCookiePolicy",
    "WATCH_HISTORY_EXTENSION",
    "InMemorySmartStore",
    "SmartConfig",
    "SmartError",
    "SmartStore",
    "SqlSmartStore",
    "init_smart",
    "remember_view",
    "smart_bp",
]
