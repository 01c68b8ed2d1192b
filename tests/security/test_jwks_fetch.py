"""Fetching JWK Sets (issue 11): a trickling JWKS server holds up nobody but the tokens that
need its new keys, and only until the fetch's deadline; no redirect leaves the JWKS URL's
origin; JWKS URLs in clear are refused at start except on loopback; inline keys serve tokens
that carry a ``jku`` (the CDS Hooks sandbox always sends one)."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import pytest
import responses

from cds_service import auth
from cds_service.auth import get_verifier
from cds_service.errors import SettingsError

from .jwt_support import ISSUER, JWKS_URL, bearer, issuers, jwks, public_jwk, token
from .loopback import TRICKLE_LIMIT_S, LoopbackServer, answer_json, trickle_body

ROOT = Path(__file__).resolve().parents[2]
OTHER_ISSUER = "https://other-ehr.example.org"
#: Long enough that the calls which must not wait for the stalled fetch are answered while
#: it still hangs, even on a loaded machine (asserted as an order of events, not a time).
DEADLINE_S = 3.0
#: A margin no loaded machine's thread wake-up reaches, far below the trickle's minute.
MARGIN_S = 10.0


def _status(app, jwt_, path="/cds-services"):
    return app.test_client().get(path, headers=bearer(jwt_)).status_code


def _timed_status(app, jwt_):
    started = time.monotonic()
    code = _status(app, jwt_)
    return code, time.monotonic() - started


@pytest.fixture
def loopback(mocked_http, monkeypatch):
    mocked_http.add_passthru("http://127.0.0.1")
    monkeypatch.setattr(auth, "JWKS_DEADLINE_S", DEADLINE_S)
    with LoopbackServer() as server:
        yield server


def test_a_trickling_jwks_server_holds_up_only_the_token_that_needs_it(make_app, loopback):
    """The first fetch serves k1; the refetch for an unknown kid trickles a byte at a time.
    While it hangs, a token of the same issuer with a known kid and a token of another issuer
    pass at once, and the unknown kid is refused at the deadline, long before the trickle ends.
    """
    served = []

    def jwks_then_trickle(handler, server):
        served.append(1)
        if len(served) == 1:
            answer_json(jwks("k1"))(handler, server)
        else:
            trickle_body(handler, server)

    jwks_url = loopback.route("/jwks", jwks_then_trickle)
    config = {
        ISSUER: {"jwks_url": jwks_url},
        OTHER_ISSUER: {"jwks": jwks("k2")},
    }
    app = make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=json.dumps(config))
    assert _status(app, token(kid="k1")) == 200

    stalled: dict[str, object] = {}

    def unknown_kid() -> None:
        stalled["result"] = _timed_status(app, token(kid="rotated"))

    thread = threading.Thread(target=unknown_kid)
    thread.start()
    while len(served) < 2:  # the refetch has reached the trickling server
        time.sleep(0.01)

    same_issuer = _status(app, token(kid="k1"))
    other_issuer = _status(app, token(kid="k2", iss=OTHER_ISSUER))
    healthz = app.test_client().get("/healthz").status_code
    still_stalled = "result" not in stalled
    thread.join(timeout=DEADLINE_S + MARGIN_S + 5)

    assert (same_issuer, other_issuer, healthz) == (200, 200, 200)
    assert still_stalled, "the other tokens waited for the stalled fetch"
    code, elapsed = stalled["result"]
    assert code == 401
    assert DEADLINE_S * 0.9 <= elapsed < DEADLINE_S + MARGIN_S < TRICKLE_LIMIT_S


def test_tokens_needing_a_fetch_in_flight_wait_for_it_but_never_past_its_deadline(
    make_app, loopback
):
    jwks_url = loopback.route("/jwks", trickle_body)
    app = make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=issuers(jwks_url=jwks_url))
    results: list[tuple[int, float]] = []
    threads = [
        threading.Thread(target=lambda: results.append(_timed_status(app, token())))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE_S + MARGIN_S + 5)

    assert [code for code, _ in results] == [401, 401, 401]
    assert max(elapsed for _, elapsed in results) < DEADLINE_S + MARGIN_S
    assert len(loopback.requests) == 1, "one fetch at a time per JWKS URL"
    # The failed fetch is not retried at once: the next token is refused without waiting.
    code, elapsed = _timed_status(app, token())
    assert code == 401 and elapsed < DEADLINE_S / 2
    assert len(loopback.requests) == 1


def test_a_jwks_fetch_that_failed_is_retried_after_the_refetch_interval(make_app, mocked_http):
    clock = [1000.0]
    app = make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=issuers(jwks_url=JWKS_URL))
    verifier = get_verifier(app)
    source = verifier._sources[ISSUER]
    source._clock = lambda: clock[0]
    mocked_http.add(responses.GET, JWKS_URL, status=503)
    assert _status(app, token()) == 401
    mocked_http.replace(responses.GET, JWKS_URL, json=jwks("k1"))
    assert _status(app, token()) == 401  # within the interval: not asked again
    clock[0] += auth.JWKS_REFETCH_INTERVAL_S
    assert _status(app, token()) == 200
    assert len(mocked_http.calls) == 2


# --- redirects ------------------------------------------------------------------------------

ATTACKER_JWKS = "https://attacker.example.net/jwks.json"


def test_a_jwks_redirect_to_another_host_is_not_followed(make_app, mocked_http):
    """Issue 11: a 302 to an attacker's JWK Set made the attacker's tokens pass."""
    app = make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=issuers(jwks_url=JWKS_URL))
    mocked_http.add(responses.GET, JWKS_URL, status=302, headers={"Location": ATTACKER_JWKS})
    mocked_http.add(responses.GET, ATTACKER_JWKS, json=jwks("attacker"))

    assert _status(app, token(kid="attacker")) == 401
    assert [call.request.url for call in mocked_http.calls] == [JWKS_URL]


def test_a_jwks_redirect_within_its_origin_is_followed(make_app, mocked_http):
    app = make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=issuers(jwks_url=JWKS_URL))
    moved = "https://ehr.example.org/keys/v2.json"
    mocked_http.add(responses.GET, JWKS_URL, status=301, headers={"Location": "/keys/v2.json"})
    mocked_http.add(responses.GET, moved, json=jwks("k1"))
    assert _status(app, token()) == 200


# --- JWKS URLs in clear ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        {"jwks_url": "http://ehr.example.org/jwks.json"},
        {"jwks_url": "http://10.1.2.3/jwks.json"},
        {"jwks": jwks("k1"), "jku_allowlist": ["http://keys.example.org/jwks.json"]},
    ],
    ids=["jwks_url over http", "jwks_url over http to a private address", "jku over http"],
)
def test_a_jwks_url_in_clear_is_refused_at_start_naming_the_variable(make_app, entry):
    with pytest.raises(
        SettingsError, match=r"^CRS_CDS_TRUSTED_ISSUERS\[.*\]\.(jwks_url|jku_allow)"
    ):
        make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=json.dumps({ISSUER: entry}))


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8081/jwks.json", "http://localhost:8081/jwks.json", "http://[::1]/jwks"],
)
def test_a_jwks_url_in_clear_is_accepted_on_loopback(make_app, url):
    app = make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=issuers(jwks_url=url))
    assert get_verifier(app)._sources[ISSUER]._url == url


# --- the CDS Hooks sandbox, offline ---------------------------------------------------------

SANDBOX_ISSUER = "https://sandbox.cds-hooks.org"
SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"
SANDBOX_KID = "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"


def test_inline_keys_serve_a_sandbox_token_with_its_jku_and_nothing_is_fetched(
    make_app, mocked_http
):
    """The sandbox signs ES384 with kid 44823f3d-... and always names its jku; configured
    inline, its key is looked up there and the jku is never fetched (works offline)."""
    key = public_jwk("sandbox")
    key["kid"] = SANDBOX_KID
    config = {SANDBOX_ISSUER: {"jwks": {"keys": [key]}}}
    app = make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=json.dumps(config))
    mocked_http.add(responses.GET, SANDBOX_JKU, json={"keys": []})

    sandbox_token = token(
        kid="sandbox", iss=SANDBOX_ISSUER, headers={"kid": SANDBOX_KID, "jku": SANDBOX_JKU}
    )
    assert _status(app, sandbox_token) == 200
    assert len(mocked_http.calls) == 0


def test_the_documented_offline_sandbox_configuration_starts_and_holds_the_sandbox_key(
    make_app,
):
    text = (ROOT / "docs" / "integration.md").read_text()
    block = re.search(r"<!-- sandbox-issuers -->\s*```json\n(.*?)```", text, re.DOTALL)
    assert block, "docs/integration.md shows the sandbox's CRS_CDS_TRUSTED_ISSUERS"
    app = make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=block.group(1))
    source = get_verifier(app)._sources[SANDBOX_ISSUER]
    assert source.inline
    assert source.key(SANDBOX_KID).declared_alg == "ES384"
