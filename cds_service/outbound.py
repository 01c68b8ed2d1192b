"""Every outbound HTTP request of the service (FHIR servers, JWK Sets, SMART discovery and
token): one ``requests.Session`` per app and one function, ``fetch``, that bounds each request.

The session is passed into the code that needs it, never global, so tests intercept it with
``responses``. It keeps no cookies: one session serves calls for many EHRs and patients, and a
cookie set by one server must never ride along on another call.

``fetch`` gives every request a total deadline (``Deadline``), not only per-read timeouts: a
server that trickles one byte a second, in its headers, its TLS handshake or its body, never
trips a read timeout, so a watchdog shuts the connection's socket down when the deadline
passes (``make_session`` mounts the adapter that lets it see the socket). Bodies are read as
they arrive up to a byte limit. Redirects are never followed by ``requests``; ``fetch`` follows
them itself only within the origin of the URL asked for, and only when the caller allows it.

The errors, each safe to show (no URL, no body)::

    OutboundError                     the request did not give a usable answer
    ├── OutboundTimeout               the deadline passed (connecting, waiting or reading)
    ├── OutboundConnectFailed         no connection could be made (refused, DNS, TLS)
    ├── OutboundCutOff                the connection broke while the answer was read
    └── OutboundTooLarge              the answer is larger than the byte limit
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urljoin, urlsplit

import orjson
import requests
import urllib3
from flask import Flask, current_app
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = [
    "Deadline",
    "OutboundConnectFailed",
    "OutboundCutOff",
    "OutboundError",
    "OutboundResponse",
    "OutboundTimeout",
    "OutboundTooLarge",
    "Redirects",
    "fetch",
    "get_http_session",
    "init_app",
    "is_loopback_host",
    "make_session",
    "same_origin",
]

logger = logging.getLogger(__name__)

_EXTENSION_KEY = "crs_cds.http"
USER_AGENT = "crs-cds/0.1 (+CDS Hooks)"
CONNECT_TIMEOUT_S = 3.05
_CHUNK_BYTES = 256 * 1024
#: Redirects followed within the origin, at most (RFC 9110 leaves it to the client; 3 covers
#: a moved document and a trailing-slash fix).
MAX_REDIRECTS = 3
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_LOOPBACK_NAMES = frozenset({"localhost"})


class OutboundError(Exception):
    """An outbound request gave no usable answer; ``str(error)`` says how, without the URL."""


class OutboundTimeout(OutboundError):
    """The request's deadline passed."""


class OutboundConnectFailed(OutboundError):
    """No connection could be made."""


class OutboundCutOff(OutboundError):
    """The connection broke before the whole answer arrived."""


class OutboundTooLarge(OutboundError):
    """The answer is larger than the caller's byte limit."""


class Redirects(enum.Enum):
    """Which redirects ``fetch`` follows."""

    NONE = "none"  # answer the 3xx as it is (FHIR reads: the token goes to fhirServer only)
    SAME_ORIGIN = "same-origin"  # within the scheme, host and port of the URL asked for


class Deadline:
    """A point on the monotonic clock by which all fetching must be done."""

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self._end = time.monotonic() + budget_s

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0.0


@dataclass(frozen=True, slots=True)
class OutboundResponse:
    """A whole answer: status, headers, body (read within the deadline) and the final URL."""

    status: int
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    url: str = field(repr=False)

    def json(self) -> Any:
        """The body as JSON; ``ValueError`` when it is not."""
        return orjson.loads(self.body)


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def same_origin(first: str, second: str) -> bool:
    """True when two absolute URLs share scheme, host and port (RFC 6454 origin)."""
    a, b = urlsplit(first), urlsplit(second)
    try:
        ports = (a.port or _default_port(a.scheme), b.port or _default_port(b.scheme))
    except ValueError:  # a port that is not a number
        return False
    return (
        a.scheme.lower() == b.scheme.lower()
        and (a.hostname or "") == (b.hostname or "")
        and ports[0] == ports[1]
    )


def _default_port(scheme: str) -> int | None:
    return {"http": 80, "https": 443}.get(scheme.lower())


# --- the watchdog ---------------------------------------------------------------------------


class _Watch:
    """The sockets of one ``fetch``; shut down when its deadline passes before it finishes.

    The watch holds duplicates of the sockets' descriptors (its own, closed at the end), so
    it never touches a descriptor that the connection closed and the system gave to another.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._done = False
        self.fired = False

    def add(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        try:
            duplicate = socket.fromfd(sock.fileno(), sock.family, sock.type)
        except OSError:
            return
        with self._lock:
            if self._done:
                duplicate.close()
                return
            self._sockets.append(duplicate)
            fired = self.fired
        if fired:
            _shutdown(duplicate)

    def fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def finish(self) -> None:
        with self._lock:
            self._done = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


#: The watch of the ``fetch`` running in this thread (None outside ``fetch``).
_ACTIVE_WATCH: contextvars.ContextVar[_Watch | None] = contextvars.ContextVar(
    "crs_cds_outbound_watch", default=None
)


def _watch_socket(sock: socket.socket | None) -> None:
    watch = _ACTIVE_WATCH.get()
    if watch is not None:
        watch.add(sock)


class _WatchedHTTPConnection(HTTPConnection):
    """Shows each socket it opens or reuses to the running ``fetch``'s watchdog."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch_socket(sock)  # before TLS: a trickled handshake is cut too
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch_socket(self.sock)  # a kept-alive connection
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch_socket(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch_socket(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections show their sockets to ``fetch``'s watchdog."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPConnectionPool,
            "https": _WatchedHTTPSConnectionPool,
        }


@contextlib.contextmanager
def _watchdog(deadline: Deadline) -> Iterator[_Watch]:
    watch = _Watch()
    timer = threading.Timer(deadline.remaining(), watch.fire)
    timer.name = "outbound-deadline"
    timer.daemon = True
    token = _ACTIVE_WATCH.set(watch)
    timer.start()
    try:
        yield watch
    finally:
        timer.cancel()
        # Wait for the timer thread to end: a fetch leaves no thread behind, and a watchdog
        # whose fetch is over can never fire (cancel() only asks; the thread ends at once).
        timer.join()
        _ACTIVE_WATCH.reset(token)
        watch.finish()


# --- the session ----------------------------------------------------------------------------


def make_session(pool_size: int = 16) -> requests.Session:
    """A session with connection pooling, no cookies, no automatic retries or redirects, and
    connections that ``fetch``'s watchdog can cut at the deadline."""
    session = requests.Session()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    session.max_redirects = MAX_REDIRECTS  # unused: fetch follows redirects itself
    session.headers["User-Agent"] = USER_AGENT
    adapter = _WatchedAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def init_app(app: Flask, session: requests.Session | None = None) -> requests.Session:
    """Attach ``session`` (or a new one) to ``app``."""
    session = session if session is not None else make_session()
    app.extensions[_EXTENSION_KEY] = session
    return session


def get_http_session(app: Flask | None = None) -> requests.Session:
    """The outbound session of ``app``, or of the current app inside a request."""
    target = app if app is not None else current_app
    session = target.extensions[_EXTENSION_KEY]
    assert isinstance(session, requests.Session)  # noqa: S101 - set only by init_app
    return session


# --- fetch ----------------------------------------------------------------------------------


def fetch(
    session: requests.Session,
    method: str,
    url: str,
    *,
    deadline: Deadline,
    max_bytes: int,
    headers: Mapping[str, str] | None = None,
    data: Mapping[str, str] | bytes | None = None,
    auth: tuple[str, str] | None = None,
    redirects: Redirects = Redirects.NONE,
) -> OutboundResponse:
    """Send one request and read its whole answer before ``deadline``.

    A redirect is followed only with ``Redirects.SAME_ORIGIN``, only to the origin of ``url``
    and at most ``MAX_REDIRECTS`` times (a 301, 302 or 303 only for a GET; a 307 or 308 resends
    the same request); any other redirect is answered as it is, unread, for the caller to
    refuse. Raises an ``OutboundError``; never a ``requests`` exception.
    """
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        response = _fetch_once(session, method, current, deadline, max_bytes, headers, data, auth)
        if response.status not in _REDIRECT_STATUSES or redirects is Redirects.NONE:
            return response
        target = _redirect_target(method, current, response)
        if target is None or not same_origin(url, target):
            logger.warning(
                "outbound redirect not followed: HTTP %s to %s",
                response.status,
                "another origin" if target is not None else "an unusable location",
            )
            return response
        current = target
    logger.warning("outbound redirects not followed beyond %d", MAX_REDIRECTS)
    return response


def _redirect_target(method: str, url: str, response: OutboundResponse) -> str | None:
    location = response.headers.get("Location")
    if not location:
        return None
    if response.status in (301, 302, 303) and method.upper() != "GET":
        return None  # would turn into a GET without the body: not what the caller asked for
    target = urljoin(url, location)
    return target if urlsplit(target).scheme in ("http", "https") else None


def _fetch_once(
    session: requests.Session,
    method: str,
    url: str,
    deadline: Deadline,
    max_bytes: int,
    headers: Mapping[str, str] | None,
    data: Mapping[str, str] | bytes | None,
    auth: tuple[str, str] | None,
) -> OutboundResponse:
    remaining = deadline.remaining()
    if remaining <= 0:
        raise _timed_out(deadline)
    with _watchdog(deadline) as watch:
        try:
            response = session.request(
                method,
                url,
                headers=dict(headers) if headers is not None else None,
                data=data if isinstance(data, bytes) or data is None else dict(data),
                auth=auth,
                timeout=(min(CONNECT_TIMEOUT_S, remaining), remaining),
                stream=True,
                allow_redirects=False,
            )
        except requests.ConnectTimeout:
            if deadline.expired() or watch.fired:
                raise _timed_out(deadline) from None
            raise OutboundConnectFailed("no connection could be made in time") from None
        except requests.Timeout:
            raise _timed_out(deadline) from None
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
            # Refused, DNS, TLS, or closed before an answer: nothing was read.
            if watch.fired or deadline.expired():
                raise _timed_out(deadline) from None
            raise OutboundConnectFailed("no connection could be made") from None
        with response:
            status = response.status_code
            body = b""
            if status not in _REDIRECT_STATUSES:
                body = _read_body(response, deadline, max_bytes, watch)
            answer = OutboundResponse(status, response.headers, body, url)
            watch.finish()  # before the connection goes back to the pool
    if watch.fired:
        raise _timed_out(deadline)
    return answer


def _read_body(
    response: requests.Response, deadline: Deadline, max_bytes: int, watch: _Watch
) -> bytes:
    """The body, read as it arrives; stops at the deadline or beyond ``max_bytes``.

    ``read1`` returns whatever the socket has (at most a chunk) instead of waiting for a
    full chunk, so a server that trickles a byte at a time is noticed at the deadline even
    without the watchdog (sessions not made by ``make_session``).
    """
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    raw = response.raw
    chunks: list[bytes] = []
    size = 0
    while True:
        if deadline.expired() or watch.fired:
            raise _timed_out(deadline)
        try:
            chunk = raw.read1(_CHUNK_BYTES, decode_content=True)
        except (urllib3.exceptions.HTTPError, OSError) as error:
            if deadline.expired() or watch.fired:
                raise _timed_out(deadline) from None
            if isinstance(error, urllib3.exceptions.TimeoutError):
                raise _timed_out(deadline) from None
            raise OutboundCutOff("the connection broke before the answer was complete") from None
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    if watch.fired:
        raise _timed_out(deadline)
    return b"".join(chunks)


def _too_large(max_bytes: int) -> OutboundTooLarge:
    if max_bytes >= 2**20:
        return OutboundTooLarge(f"the answer exceeded {max_bytes // 2**20} MB")
    return OutboundTooLarge(f"the answer exceeded {max_bytes // 1024} KB")


def _timed_out(deadline: Deadline) -> OutboundTimeout:
    return OutboundTimeout(f"timed out after {deadline.budget_s:.1f} s")
