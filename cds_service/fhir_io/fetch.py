"""GET FHIR documents from the client's FHIR server within a time budget.

One ``requests.Session`` is passed in (connection pooling; tests intercept it with
``responses``). Every GET goes through ``cds_service.outbound.fetch``, bounded by what is left
of the budget as a whole (a server trickling bytes cannot hold a fetch thread past the
deadline), and only connection errors are retried, once (a GET is idempotent). Redirects are
not followed: the bearer token goes to ``fhirServer`` and nowhere else. An answer is refused
when it is larger than ``MAX_BODY_BYTES`` or nests deeper than ``MAX_JSON_DEPTH``, and
resources beyond the call's ``ResourceAllowance`` are not kept. Error messages never hold
patient data.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urljoin

import orjson
import requests

from cds_service.fhir_io.bundles import ReadPage, Resource, read_page
from cds_service.outbound import Deadline as OutboundDeadline
from cds_service.outbound import (
    OutboundConnectFailed,
    OutboundCutOff,
    OutboundTimeout,
    OutboundTooLarge,
    Redirects,
    fetch,
)
from cds_service.validation import MAX_JSON_DEPTH, nesting_exceeds
from fhir_maps.references import url_origin

__all__ = [
    "MAX_BODY_BYTES",
    "Deadline",
    "FetchError",
    "FhirEndpoint",
    "KeyProgress",
    "ResourceAllowance",
    "fetch_pages",
]

logger = logging.getLogger(__name__)

#: Largest FHIR server answer read (one page). A page of 1000 Observations is 1-2 MB; 16 MiB
#: leaves room for narratives and includes. The bound also matters for time: parsing holds the
#: GIL (about 0.3 s for 16 MiB here), during which the call cannot answer at its deadline.
MAX_BODY_BYTES = 16 * 1024 * 1024


class FetchError(Exception):
    """A FHIR read failed; ``str(error)`` says how, without patient data. ``status`` is the
    HTTP status the server answered, when it answered one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Deadline(OutboundDeadline):
    """The total time budget of one call's FHIR reads (``cds_service.outbound.Deadline``)."""

    def timed_out(self) -> FetchError:
        return FetchError(f"timed out after {self.budget_s:.1f} s")


@dataclass(frozen=True, slots=True)
class FhirEndpoint:
    """The client's FHIR server and, when given, the bearer token for it."""

    base_url: str
    access_token: str | None = field(default=None, repr=False)

    def url_for(self, relative: str) -> str:
        """Absolute URL of a relative FHIR request (a rendered prefetch template)."""
        return f"{self.base_url.rstrip('/')}/{relative.lstrip('/')}"

    def resolve(self, link: str) -> str | None:
        """Absolute URL of a Bundle link, or None when it leaves this FHIR server.

        The bearer token must never reach another server, so a ``next`` link elsewhere is not
        followed: another scheme, host or port (the default port written out is the same
        port), user info, or a path outside the server's base path (found in review: on a host
        that serves tenants as paths, ``/other-tenant/...`` got the token).
        """
        try:
            absolute = urljoin(self.base_url.rstrip("/") + "/", link)
        except ValueError:  # "https://[broken/x": not a link we can follow (it was a 500)
            return None
        here, there = url_origin(self.base_url), url_origin(absolute)
        if here is None or there is None or here[0] != there[0]:
            return None
        base_path, path = here[1].rstrip("/"), there[1]
        if path.rstrip("/") != base_path and not path.startswith(base_path + "/"):
            return None
        # A dot segment, plain or percent-encoded ("%2e%2e"), would climb out of the base path
        # on a server that normalises it (found in the final review): never followed.
        if any(segment in (".", "..") for segment in unquote(path).split("/")):
            return None
        return absolute

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/fhir+json, application/json;q=0.9"}
        if self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        return headers


class ResourceAllowance:
    """How many more resources one hook call may hold (``CRS_CDS_MAX_RESOURCES`` less what
    the prefetch already brought), shared by the call's concurrent fetch jobs."""

    def __init__(self, remaining: int) -> None:
        self._remaining = max(0, remaining)
        self._lock = threading.Lock()

    def take(self, wanted: int) -> int:
        """Reserve up to ``wanted`` resources; return how many were granted."""
        with self._lock:
            granted = min(wanted, self._remaining)
            self._remaining -= granted
            return granted


@dataclass(slots=True)
class KeyProgress:
    """What one fetch job has read so far; the reader takes it as is when time runs out."""

    resources: list[Resource] = field(default_factory=list)
    pages: int = 0
    skipped_entries: int = 0
    outcome_errors: int = 0
    note: str | None = None  # why reading stopped early although no request failed


def fetch_pages(
    session: requests.Session,
    endpoint: FhirEndpoint,
    url: str,
    deadline: Deadline,
    max_pages: int,
    progress: KeyProgress,
    allowance: ResourceAllowance | None = None,
) -> None:
    """Read ``url`` and every ``next`` page after it into ``progress``.

    Stops at ``max_pages`` pages in all (counting pages already in ``progress``), at a repeated
    ``next`` URL, at a ``next`` link that leaves the server, or when ``allowance`` is used up;
    each sets ``progress.note``. Raises ``FetchError`` on the first failed request;
    ``progress`` keeps what was read.
    """
    seen: set[str] = set()
    next_url: str | None = url
    while next_url is not None:
        if progress.pages >= max_pages:
            progress.note = f"read the first {max_pages} pages only (page limit)"
            return
        if next_url in seen:
            progress.note = "the FHIR server repeated a next link; stopped paging"
            return
        seen.add(next_url)
        page = read_page(get_json(session, endpoint, next_url, deadline))
        if not _add(progress, page, allowance):
            return
        next_url = _follow(endpoint, page, progress)


def _add(progress: KeyProgress, page: ReadPage, allowance: ResourceAllowance | None) -> bool:
    """Keep the page's resources within the allowance; False when it ran out."""
    resources = page.resources
    granted = len(resources) if allowance is None else allowance.take(len(resources))
    progress.resources.extend(resources[:granted])
    progress.skipped_entries += page.skipped_entries
    progress.outcome_errors += page.outcome_errors
    progress.pages += 1
    if granted < len(resources):
        progress.note = (
            f"{len(resources) - granted} resources beyond the limit of resources per call "
            "were not read"
        )
        return False
    return True


def _follow(endpoint: FhirEndpoint, page: ReadPage, progress: KeyProgress) -> str | None:
    if page.next_url is None:
        return None
    resolved = endpoint.resolve(page.next_url)
    if resolved is None:
        progress.note = "a next link pointed away from the FHIR server and was not followed"
    return resolved


def get_json(
    session: requests.Session, endpoint: FhirEndpoint, url: str, deadline: Deadline
) -> dict[str, Any]:
    """GET one FHIR JSON document; retry once on a connection error if time is left."""
    try:
        return _get_json_once(session, endpoint, url, deadline)
    except OutboundConnectFailed:
        if deadline.expired():
            raise deadline.timed_out() from None
        logger.info("FHIR connection failed; retrying once")
    try:
        return _get_json_once(session, endpoint, url, deadline)
    except OutboundConnectFailed:
        if deadline.expired():
            raise deadline.timed_out() from None
        raise FetchError("could not connect to the FHIR server") from None


def _get_json_once(
    session: requests.Session, endpoint: FhirEndpoint, url: str, deadline: Deadline
) -> dict[str, Any]:
    started = time.monotonic()
    try:
        # Redirects are not followed: the bearer token goes to fhirServer and nowhere else.
        response = fetch(
            session,
            "GET",
            url,
            deadline=deadline,
            max_bytes=MAX_BODY_BYTES,
            headers=endpoint.headers(),
            redirects=Redirects.NONE,
        )
    except OutboundTimeout:
        raise deadline.timed_out() from None
    except OutboundTooLarge:
        raise FetchError(
            f"the FHIR server's answer exceeded {MAX_BODY_BYTES // 2**20} MB"
        ) from None
    except OutboundCutOff:
        raise FetchError("the FHIR server's answer was cut off") from None
    status = response.status
    elapsed_ms = round((time.monotonic() - started) * 1000)
    logger.debug("FHIR GET answered %s in %d ms", status, elapsed_ms)
    if status in (401, 403):
        raise FetchError(f"the FHIR server refused the access token (HTTP {status})", status)
    if 300 <= status < 400:
        raise FetchError(
            f"the FHIR server redirected (HTTP {status}); redirects are not followed", status
        )
    if status != 200:
        raise FetchError(f"the FHIR server answered HTTP {status}", status)
    try:
        document = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        raise FetchError("the FHIR server's answer was not JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str):
        raise FetchError("the FHIR server's answer was not a FHIR resource")
    if nesting_exceeds(document, MAX_JSON_DEPTH):
        raise FetchError(f"the FHIR server's answer nests deeper than {MAX_JSON_DEPTH} levels")
    if document["resourceType"] == "OperationOutcome":
        raise FetchError("the FHIR server answered with an OperationOutcome")
    return document
