"""Settings of the SMART app: one frozen object, built by the app factory from the environment.

Nothing in this package reads ``os.environ``: ``cds_service.create_app()`` builds a
``SmartConfig`` from its settings (STYLE habit 3) and hands it to ``init_smart``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

#: Resource scopes the page reads (SMART App Launch 2.2 scopes: ``patient/<Type>.rs``), plus
#: ``openid fhirUser`` for the user's identity. The launch-context scope (``launch`` for an EHR
#: launch, ``launch/patient`` for a standalone launch) is prepended per launch.
DEFAULT_SCOPES: tuple[str, ...] = (
    "openid",
    "fhirUser",
    "patient/Patient.rs",
    "patient/Observation.rs",
    "patient/MedicationAdministration.rs",
    "patient/Condition.rs",
    "patient/Procedure.rs",
    "patient/Medication.rs",
)


class CookieSameSite(enum.StrEnum):
    """The ``SameSite`` attribute of the session cookie."""

    NONE = "None"
    LAX = "Lax"
    STRICT = "Strict"


@dataclass(frozen=True, slots=True)
class SessionCookiePolicy:
    """``Secure``, ``SameSite`` and ``Partitioned`` of the session cookie; ``None`` is ``auto``.

    - ``secure`` auto: when the app is reached over https.
    - ``same_site`` auto: ``None`` when the cookie is ``Secure`` (iframe embedding), else ``Lax``.
    - ``partitioned`` auto: when ``SameSite=None``.

    ``SameSite=None`` and ``Partitioned`` make the cookie ``Secure`` (browsers drop them
    otherwise); forcing them together with ``secure=False`` is a configuration error.
    """

    secure: bool | None = None
    same_site: CookieSameSite | None = None
    partitioned: bool | None = None

    def __post_init__(self) -> None:
        if self.secure is False and self.same_site is CookieSameSite.NONE:
            raise ValueError(
                "CRS_CDS_SESSION_COOKIE_SAMESITE=none needs a Secure cookie: browsers drop "
                "SameSite=None cookies without Secure (CRS_CDS_SESSION_COOKIE_SECURE=false)"
            )
        if self.secure is False and self.partitioned:
            raise ValueError(
                "CRS_CDS_SESSION_COOKIE_PARTITIONED=true needs a Secure cookie "
                "(CRS_CDS_SESSION_COOKIE_SECURE=false)"
            )

    def resolve(self, https: bool) -> tuple[bool, CookieSameSite, bool]:
        """(Secure, SameSite, Partitioned) for a request reached over https or not."""
        forced_secure = self.same_site is CookieSameSite.NONE or bool(self.partitioned)
        secure = self.secure if self.secure is not None else (https or forced_secure)
        same_site = self.same_site or (CookieSameSite.NONE if secure else CookieSameSite.LAX)
        partitioned = (
            self.partitioned
            if self.partitioned is not None
            else same_site is CookieSameSite.NONE
        )
        return secure, same_site, partitioned


@dataclass(frozen=True, slots=True)
class SmartConfig:
    """How the SMART app identifies itself to EHRs and talks to them.

    ``client_secret`` set makes a confidential client (HTTP Basic at the token endpoint, SMART
    "symmetric client authentication"); unset is a public client relying on PKCE alone.
    ``redirect_url`` ``None`` derives ``.../smart/callback`` from the request (set it behind a
    proxy: it must equal the URL registered with the EHR). ``allowed_issuers`` ``None`` accepts any
    FHIR server with https (or http on loopback) and logs a warning at start.
    """

    client_id: str = "crs-cds"
    client_secret: str | None = None
    redirect_url: str | None = None
    allowed_issuers: tuple[str, ...] | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    #: Secure, SameSite and Partitioned of the session cookie (auto: iframe-ready over https).
    cookie: SessionCookiePolicy = field(default_factory=SessionCookiePolicy)
    #: Total time of one discovery or token request (connect, wait and read, whatever the
    #: server trickles), and the largest answer read.
    request_deadline_s: float = 10.0
    max_answer_bytes: int = 1024 * 1024
    #: Total wall-clock budget for reading the patient's record for one page (the FHIR reader
    #: of ``cds_service.fhir_io`` bounds every request by what is left of it).
    fhir_budget_s: float = 20.0
    #: Pages followed per search at most; beyond that the page says the rest was not read.
    fhir_max_pages: int = 10
    #: Lifetime of a started launch (state and PKCE verifier) waiting for the EHR's callback.
    launch_ttl_s: int = 600
    #: Lifetime of a launch session when the token response has no ``expires_in``.
    default_session_ttl_s: int = 3600
    #: Never keep a token longer than this, whatever ``expires_in`` says.
    max_session_ttl_s: int = 8 * 3600

    def __post_init__(self) -> None:
        if not self.client_id:
            raise ValueError("CRS_CDS_SMART_CLIENT_ID must not be empty")
        if self.client_secret and self.allowed_issuers is None:
            # Any https server could launch the app, and its discovery document names the
            # token endpoint that would receive the secret (HTTP Basic).
            raise ValueError(
                "CRS_CDS_SMART_CLIENT_SECRET needs CRS_CDS_SMART_ISSUERS: a confidential client "
                "sends its secret to the token endpoint of whichever FHIR server launches it"
            )
        if self.allowed_issuers is not None:
            object.__setattr__(
                self,
                "allowed_issuers",
                tuple(normalise_issuer(iss) for iss in self.allowed_issuers),
            )
        for name in ("request_deadline_s", "fhir_budget_s", "max_answer_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"SmartConfig.{name} must be positive")
        if self.fhir_max_pages < 1:
            raise ValueError("SmartConfig.fhir_max_pages must be at least 1")

    @property
    def confidential(self) -> bool:
        return bool(self.client_secret)


def normalise_issuer(iss: str) -> str:
    """An issuer (FHIR base URL) without surrounding blanks or trailing slashes, for comparison."""
    return iss.strip().rstrip("/")
