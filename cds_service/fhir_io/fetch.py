"""GET FHIR documents from the client's FHIR server within a time budget.

One ``requests.Session`` is passed in (connection pooling; tests intercept it with
``responses``). Every GET has explicit connect and read timeouts no longer than what is left of
the budget, the body is read in chunks so that a slow server cannot hold the request past the
deadline, and only connection errors are retried, once (a GET is idempotent).
Error messages name what went wrong and never hold patient data.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import orjson
import requests

from cds_service.fhir_io.bundles import ReadPage, read_page

__all__ = ["Deadline", "FetchError", "FhirEndpoint", "KeyProgress", "fetch_pages"]

logger = logging.getLogger(__name__)

_CONNECT_TIMEOUT_S = 3.05
_MAX_BODY_BYTES = 64 * 1024 * 1024
_CHUNK_BYTES = 256 * 1024


class FetchError(Exception):
    """A FHIR read failed; ``str(error)`` says how, without patient data."""


class Deadline:
    """A point on the monotonic clock by which all fetching must be done."""

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self._end = time.monotonic() + budget_s

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0.0

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
        """Absolute URL of a Bundle link, or None when it leaves this server's origin.

        The bearer token must never reach another host, so a ``next`` link elsewhere is not
        followed.
        """
        absolute = urljoin(self.base_url.rstrip("/") + "/", link)
        here, there = urlsplit(self.base_url), urlsplit(absolute)
        same_origin = (here.scheme, here.netloc.lower()) == (there.scheme, there.netloc.lower())
        return absolute if same_origin else None

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/fhir+json, application/json;q=0.9"}
        if self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        return headers


@dataclass(slots=True)
class KeyProgress:
    """What one fetch job has read so far; the reader takes it as is when time runs out."""

    resources: list[dict[str, Any]] = field(default_factory=list)
    pages: int = 0
    skipped_entries: int = 0
    note: str | None = None  # why reading stopped early although no request failed


def fetch_pages(
    session: requests.Session,
    endpoint: FhirEndpoint,
    url: str,
    deadline: Deadline,
    max_pages: int,
    progress: KeyProgress,
) -> None:
    """Read ``url`` and every ``next`` page after it into ``progress``.

    Stops at ``max_pages`` pages in all (counting pages already in ``progress``), at a repeated
    ``next`` URL, or at a ``next`` link that leaves the server; each sets ``progress.note``.
    Raises ``FetchError`` on the first failed request; ``progress`` keeps what was read.
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
        _add(progress, page)
        next_url = _follow(endpoint, page, progress)


def _add(progress: KeyProgress, page: ReadPage) -> None:
    progress.resources.extend(page.resources)
    progress.skipped_entries += page.skipped_entries
    progress.pages += 1


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
    except requests.ConnectionError as first:
        if deadline.expired():
            raise _as_fetch_error(first, deadline) from None
        logger.info("FHIR connection failed; retrying once")
    try:
        return _get_json_once(session, endpoint, url, deadline)
    except requests.RequestException as second:
        raise _as_fetch_error(second, deadline) from None


def _get_json_once(
    session: requests.Session, endpoint: FhirEndpoint, url: str, deadline: Deadline
) -> dict[str, Any]:
    remaining = deadline.remaining()
    if remaining <= 0:
        raise deadline.timed_out()
    started = time.monotonic()
    try:
        with session.get(
            url,
            headers=endpoint.headers(),
            timeout=(min(_CONNECT_TIMEOUT_S, remaining), remaining),
            stream=True,
        ) as response:
            status = response.status_code
            body = _read_body(response, deadline) if status == 200 else b""
    except requests.ConnectTimeout:
        if deadline.expired():
            raise deadline.timed_out() from None
        raise FetchError("could not connect to the FHIR server in time") from None
    except requests.Timeout:
        raise deadline.timed_out() from None
    elapsed_ms = round((time.monotonic() - started) * 1000)
    logger.debug("FHIR GET answered %s in %d ms", status, elapsed_ms)
    if status != 200:
        raise FetchError(f"the FHIR server answered HTTP {status}")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise FetchError("the FHIR server's answer was not JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str):
        raise FetchError("the FHIR server's answer was not a FHIR resource")
    if document["resourceType"] == "OperationOutcome":
        raise FetchError("the FHIR server answered with an OperationOutcome")
    return document


def _read_body(response: requests.Response, deadline: Deadline) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=_CHUNK_BYTES):
        size += len(chunk)
        if size > _MAX_BODY_BYTES:
            raise FetchError(f"the FHIR server's answer exceeded {_MAX_BODY_BYTES // 2**20} MB")
        if deadline.expired():
            raise deadline.timed_out()
        chunks.append(chunk)
    return b"".join(chunks)


def _as_fetch_error(error: requests.RequestException, deadline: Deadline) -> FetchError:
    # requests reports a read timeout inside the body as a ConnectionError.
    if isinstance(error, requests.Timeout) or deadline.expired():
        return deadline.timed_out()
    if isinstance(error, requests.ConnectionError):
        return FetchError("could not connect to the FHIR server")
    return FetchError(f"the request to the FHIR server failed ({type(error).__name__})")
