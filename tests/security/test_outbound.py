"""Every outbound request (FHIR, JWKS, SMART) has a total deadline and follows no redirect off
its origin (issue 11). The deadline is checked against a real server on loopback that trickles
one byte at a time: per-read timeouts never fire there, so only a total deadline ends the call.
"""

from __future__ import annotations

import threading
import time

import pytest
import responses

from cds_service.outbound import (
    Deadline,
    OutboundConnectFailed,
    OutboundTimeout,
    OutboundTooLarge,
    Redirects,
    fetch,
    is_loopback_host,
    make_session,
    same_origin,
)

from .loopback import (
    TRICKLE_LIMIT_S,
    LoopbackServer,
    answer_json,
    trickle_body,
    trickle_headers,
)

DEADLINE_S = 0.6
#: The call must end this soon after its deadline: a margin no loaded machine's thread wake-up
#: reaches, far below the minute the trickle would go on. That the deadline ended it is
#: shown by the error itself (``OutboundTimeout``, "timed out after 0.6 s").
MARGIN_S = 10.0


@pytest.fixture
def server(mocked_http):
    mocked_http.add_passthru("http://127.0.0.1")
    with LoopbackServer() as running:
        yield running


def _timed_fetch(url, deadline_s=DEADLINE_S, **kwargs):
    session = make_session()
    started = time.monotonic()
    try:
        fetch(session, "GET", url, deadline=Deadline(deadline_s), max_bytes=2**20, **kwargs)
    except Exception as error:  # noqa: BLE001 - the test inspects it
        return error, time.monotonic() - started
    finally:
        session.close()
    return None, time.monotonic() - started


@pytest.mark.parametrize(
    "behaviour", [trickle_headers, trickle_body], ids=["trickled headers", "trickled body"]
)
def test_a_server_trickling_a_byte_at_a_time_is_cut_at_the_deadline(server, behaviour):
    url = server.route("/slow", behaviour)

    error, elapsed = _timed_fetch(url)

    assert isinstance(error, OutboundTimeout)
    assert str(error) == f"timed out after {DEADLINE_S:.1f} s"
    assert DEADLINE_S * 0.9 <= elapsed < DEADLINE_S + MARGIN_S < TRICKLE_LIMIT_S


def _watchdogs_alive(before):
    return [
        t
        for t in threading.enumerate()
        if t not in before and t.name == "outbound-deadline" and t.is_alive()
    ]


def test_the_deadline_watchdog_leaves_no_thread_and_spares_kept_alive_connections(server):
    """When ``fetch`` returns, its watchdog thread is over (not merely cancelled), so it can
    never fire later and cut the connection the pool took back; that connection serves the
    next call. Asserted right after each return, with a deadline no loaded machine reaches."""
    url = server.route("/ok", answer_json({"ok": True}))
    session = make_session()
    before = set(threading.enumerate())
    try:
        first = fetch(session, "GET", url, deadline=Deadline(30), max_bytes=1024)
        after_first = _watchdogs_alive(before)
        second = fetch(session, "GET", url, deadline=Deadline(30), max_bytes=1024)
        after_second = _watchdogs_alive(before)
    finally:
        session.close()
    assert after_first == after_second == []
    assert first.json() == second.json() == {"ok": True}
    assert server.connections == 1, "the kept-alive connection was reused, not cut"


def test_a_refused_connection_is_a_connect_failure(server):
    port = server.port
    server.__exit__()
    error, _ = _timed_fetch(f"http://127.0.0.1:{port}/gone")
    assert isinstance(error, OutboundConnectFailed)


def test_an_answer_over_the_byte_limit_is_refused(mocked_http):
    mocked_http.get("https://ehr.example.org/big", body=b"x" * 2048)
    with pytest.raises(OutboundTooLarge, match="exceeded 1 KB"):
        fetch(
            make_session(),
            "GET",
            "https://ehr.example.org/big",
            deadline=Deadline(2),
            max_bytes=1024,
        )


# --- redirects ------------------------------------------------------------------------------

ORIGIN = "https://ehr.example.org"


def _redirect(mocked_http, url, location, status=302):
    mocked_http.add(responses.GET, url, status=status, headers={"Location": location})
    mocked_http.add(responses.POST, url, status=status, headers={"Location": location})


def _get(url, method="GET", redirects=Redirects.SAME_ORIGIN):
    return fetch(
        make_session(),
        method,
        url,
        deadline=Deadline(2),
        max_bytes=4096,
        data={"code": "c"} if method == "POST" else None,
        redirects=redirects,
    )


def test_a_redirect_within_the_origin_is_followed(mocked_http):
    _redirect(mocked_http, f"{ORIGIN}/a", "/b")
    mocked_http.get(f"{ORIGIN}/b", json={"here": True})
    assert _get(f"{ORIGIN}/a").json() == {"here": True}


@pytest.mark.parametrize(
    "location",
    [
        "https://attacker.example.net/jwks.json",
        "http://ehr.example.org/b",  # same host, but in clear
        "https://ehr.example.org:8443/b",  # another port
        "http://169.254.169.254/latest/meta-data",
    ],
    ids=["another host", "https to http", "another port", "an internal address"],
)
def test_a_redirect_off_the_origin_is_not_followed(mocked_http, location):
    _redirect(mocked_http, f"{ORIGIN}/a", location)
    mocked_http.add(responses.GET, location, json={"attacker": True})
    answer = _get(f"{ORIGIN}/a")
    assert answer.status == 302
    assert [call.request.url for call in mocked_http.calls] == [f"{ORIGIN}/a"]


def test_no_redirect_is_followed_when_the_caller_allows_none(mocked_http):
    _redirect(mocked_http, f"{ORIGIN}/a", "/b")
    assert _get(f"{ORIGIN}/a", redirects=Redirects.NONE).status == 302
    assert len(mocked_http.calls) == 1


def test_a_post_follows_a_307_within_the_origin_with_its_body_but_never_a_302(mocked_http):
    _redirect(mocked_http, f"{ORIGIN}/token", "/token2", status=307)
    mocked_http.post(f"{ORIGIN}/token2", json={"ok": True})
    assert _get(f"{ORIGIN}/token", method="POST").json() == {"ok": True}
    assert mocked_http.calls[-1].request.body == "code=c"

    _redirect(mocked_http, f"{ORIGIN}/moved", "/token2", status=302)
    assert _get(f"{ORIGIN}/moved", method="POST").status == 302


def test_redirects_stop_after_three(mocked_http):
    for n in range(6):
        _redirect(mocked_http, f"{ORIGIN}/{n}", f"/{n + 1}")
    assert _get(f"{ORIGIN}/0").status == 302
    assert len(mocked_http.calls) == 4


# --- helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("10.0.0.1", False),
        ("localhost.attacker.example", False),
        ("", False),
    ],
)
def test_loopback_hosts(host, loopback):
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("https://a.org/x", "https://a.org:443/y", True),
        ("https://a.org/x", "http://a.org/x", False),
        ("https://a.org/x", "https://b.a.org/x", False),
        ("https://a.org/x", "https://a.org:8443/x", False),
        ("https://A.org/x", "https://a.org/y", True),
    ],
)
def test_same_origin(a, b, same):
    assert same_origin(a, b) is same


def test_a_fhir_read_from_a_server_trickling_its_headers_ends_at_the_budget(server):
    from cds_service.fhir_io.fetch import Deadline as FhirDeadline
    from cds_service.fhir_io.fetch import FetchError, FhirEndpoint, get_json

    url = server.route("/fhir/Observation", trickle_headers)
    session = make_session()
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"^timed out after 0\.6 s$"):
        get_json(session, FhirEndpoint(server.base_url + "/fhir"), url, FhirDeadline(DEADLINE_S))
    assert time.monotonic() - started < DEADLINE_S + MARGIN_S
    session.close()
