"""JWT hardening (issue 7; CDS Hooks 2.0.1 section Trusting CDS Clients): key rotation, jku only
when allowlisted, 60 s clock skew, tokens older than an hour, lifetimes over an hour, and a
replay cache shared through the database."""

from __future__ import annotations

import json
import time

import pytest
import responses
from sqlalchemy import func, select, text

from cds_service.auth import DatabaseReplayCache, MemoryReplayCache, get_verifier
from cds_service.errors import SettingsError
from cds_service.storage import get_storage, jwt_replay_table

from .jwt_support import ISSUER, JWKS_URL, bearer, issuers, jwks, token

JKU = "https://keys.ehr.example.org/cds/jwks.json"


@pytest.fixture
def jwt_app(make_app):
    return make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=issuers())


def status(app, jwt_, path="/cds-services"):
    return app.test_client().get(path, headers=bearer(jwt_)).status_code


# --- time claims ----------------------------------------------------------------------------

TIMES = [
    ("issued 59 s in the future (clock skew)", {"iat": +59, "exp": +300}, 200),
    ("issued 61 s in the future", {"iat": +61, "exp": +400}, 401),
    ("issued 120 s in the future", {"iat": +120, "exp": +400}, 401),
    ("expired 59 s ago (clock skew)", {"iat": -200, "exp": -59}, 200),
    ("expired exactly 60 s ago", {"iat": -200, "exp": -60}, 401),
    ("expired 120 s ago", {"iat": -300, "exp": -120}, 401),
    ("not before 59 s from now (clock skew)", {"nbf": +59}, 200),
    ("not before 61 s from now", {"nbf": +61}, 401),
    ("issued 59 min ago, still valid", {"iat": -3540, "exp": +60}, 200),
    ("issued 61 min ago, still valid", {"iat": -3660 - 61, "exp": +60}, 401),
    ("lifetime of exactly one hour", {"iat": 0, "exp": +3600}, 200),
    ("lifetime of one hour and a second", {"iat": 0, "exp": +3601}, 401),
    ("lifetime of a year", {"iat": 0, "exp": +365 * 86400}, 401),
]

#: The verifier's wall clock in the time-claim tests (whole seconds, as JWT NumericDates).
FROZEN_NOW = 1_790_000_000


def frozen_verifier(app):
    """The app's verifier rules with its wall clock frozen at ``FROZEN_NOW``: the checks of
    exp, iat and nbf never depend on how long the test took."""
    from cds_service.auth import JwtVerifier
    from cds_service.config import get_settings
    from cds_service.outbound import get_http_session

    return JwtVerifier(
        get_settings(app).trusted_issuers,
        get_http_session(app),
        MemoryReplayCache(clock=lambda: FROZEN_NOW),
        wall_clock=lambda: FROZEN_NOW,
    )


@pytest.mark.parametrize(("case", "offsets", "expected"), TIMES, ids=[t[0] for t in TIMES])
def test_time_claims(jwt_app, case, offsets, expected):
    from cds_service.errors import Unauthorized

    claims = {name: FROZEN_NOW + offset for name, offset in offsets.items()}
    jwt_ = token(now=FROZEN_NOW, **claims)
    try:
        frozen_verifier(jwt_app).verify(f"Bearer {jwt_}", "http://localhost/cds-services")
        answer = 200
    except Unauthorized:
        answer = 401
    assert answer == expected


@pytest.mark.parametrize(
    ("claim", "value"),
    [("exp", "1790000300"), ("iat", True), ("nbf", [1]), ("exp", {"n": 1})],
    ids=["exp as a string", "iat as a boolean", "nbf as a list", "exp as an object"],
)
def test_time_claims_that_are_not_numbers_are_refused(jwt_app, claim, value):
    """RFC 7519 section 2: a NumericDate is a JSON number."""
    from cds_service.errors import Unauthorized

    jwt_ = token(now=FROZEN_NOW, **{claim: value})
    with pytest.raises(Unauthorized):
        frozen_verifier(jwt_app).verify(f"Bearer {jwt_}", "http://localhost/cds-services")


def test_the_app_refuses_an_expired_token_and_takes_a_fresh_one(jwt_app):
    """End to end through the app's own clock, far from any boundary."""
    now = int(time.time())
    assert status(jwt_app, token(iat=now - 600, exp=now - 300)) == 401
    assert status(jwt_app, token(iat=now, exp=now + 300)) == 200


# --- key rotation and jku -------------------------------------------------------------------


def test_a_rotated_key_is_fetched_once_then_cached(make_app, mocked_http):
    app = make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=issuers(jwks_url=JWKS_URL))
    first = mocked_http.add(responses.GET, JWKS_URL, json=jwks("k1"))
    assert status(app, token(kid="k1")) == 200
    mocked_http.remove(first)
    mocked_http.add(responses.GET, JWKS_URL, json=jwks("k1", "k2"))

    for _ in range(5):
        assert status(app, token(kid="k2")) == 200
    assert len(mocked_http.calls) == 2  # the first fetch and one refetch for the new kid


def test_unknown_kids_cannot_make_us_hammer_the_issuer(make_app, mocked_http):
    app = make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=issuers(jwks_url=JWKS_URL))
    mocked_http.add(responses.GET, JWKS_URL, json=jwks("k1"))
    assert status(app, token(kid="k1")) == 200
    for n in range(20):
        assert status(app, token(kid=f"random-{n}")) == 401
    assert len(mocked_http.calls) == 2  # one refetch per 30 s at most


def test_a_jku_not_on_the_allowlist_is_refused_and_never_fetched(make_app, mocked_http):
    app = make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=issuers(jwks_url=JWKS_URL))
    mocked_http.add(responses.GET, JWKS_URL, json=jwks("k1"))
    evil = "https://attacker.example.net/jwks.json"
    mocked_http.add(responses.GET, evil, json=jwks("k1", "attacker"))
    assert status(app, token(headers={"jku": evil})) == 401
    assert status(app, token(kid="attacker", headers={"jku": evil})) == 401
    assert len(mocked_http.calls) == 0


def test_with_inline_keys_a_foreign_jku_is_never_fetched_and_only_inline_kids_pass(
    jwt_app, mocked_http
):
    """Issuers with inline keys (the CDS Hooks sandbox sends a jku with every token): the kid
    is looked up in the configured keys, and the jku is not fetched."""
    evil = "https://attacker.example.net/jwks.json"
    mocked_http.add(responses.GET, evil, json=jwks("k1", "attacker"))
    assert status(jwt_app, token(headers={"jku": evil})) == 200
    assert status(jwt_app, token(kid="attacker", headers={"jku": evil})) == 401
    assert len(mocked_http.calls) == 0


def test_an_allowlisted_jku_is_fetched_and_cached(make_app, mocked_http):
    app = make_app(
        CRS_CDS_AUTH="jwt",
        CRS_CDS_TRUSTED_ISSUERS=issuers(jku_allowlist=[JKU]),
    )
    mocked_http.add(responses.GET, JKU, json=jwks("k1"))
    for _ in range(3):
        assert status(app, token(headers={"jku": JKU})) == 200
    assert len(mocked_http.calls) == 1
    # Without jku such an issuer has no keys at all.
    assert status(app, token()) == 401


def test_a_jku_equal_to_the_configured_jwks_url_is_the_configured_source(make_app, mocked_http):
    app = make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=issuers(jwks_url=JWKS_URL))
    mocked_http.add(responses.GET, JWKS_URL, json=jwks("k1"))
    assert status(app, token(headers={"jku": JWKS_URL})) == 200
    assert status(app, token(headers={"jku": JWKS_URL + "?other"})) == 401


def test_the_allowlist_of_one_issuer_does_not_serve_another(make_app, mocked_http):
    config = {
        ISSUER: {"jwks": jwks("k1")},
        "https://other.example.org": {"jwks": jwks("k1"), "jku_allowlist": [JKU]},
    }
    app = make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=json.dumps(config))
    mocked_http.add(responses.GET, JKU, json=jwks("k1", "k2"))
    # k2 lives only behind the other issuer's allowlisted jku.
    assert status(app, token(kid="k2", headers={"jku": JKU})) == 401
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize(
    "entry",
    [
        {"jwks": {"keys": []}, "jku_allowlist": ["http://keys.example.org/j"]},
        {"jku_allowlist": "https://keys.example.org/j"},
        {"jwks_url": JWKS_URL, "jku": [JKU]},
    ],
    ids=["jku over http", "allowlist not a list", "unknown field"],
)
def test_bad_jku_configuration_fails_at_start(make_app, entry):
    with pytest.raises(SettingsError, match=r"^CRS_CDS_TRUSTED_ISSUERS\["):
        make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=json.dumps({ISSUER: entry}))


# --- replay cache in the database -----------------------------------------------------------


def test_the_database_replay_cache_is_the_default(jwt_app):
    assert isinstance(get_verifier(jwt_app)._replay, DatabaseReplayCache)


def test_the_memory_replay_cache_is_selectable(make_app):
    app = make_app(
        CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=issuers(), CRS_CDS_REPLAY_CACHE="memory"
    )
    assert isinstance(get_verifier(app)._replay, MemoryReplayCache)


def test_a_token_replayed_to_another_worker_on_the_same_database_is_refused(make_app):
    """Two apps on one database stand for two gunicorn workers (or replicas)."""
    worker_a = make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=issuers())
    worker_b = make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=issuers())
    jwt_ = token()
    assert status(worker_a, jwt_) == 200
    assert status(worker_b, jwt_) == 401


def test_memory_caches_of_two_workers_do_not_see_each_other(make_app):
    """Why the database cache is the default: per-process caches miss cross-worker replays."""
    a = make_app(
        CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=issuers(), CRS_CDS_REPLAY_CACHE="memory"
    )
    b = make_app(
        CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=issuers(), CRS_CDS_REPLAY_CACHE="memory"
    )
    jwt_ = token()
    assert status(a, jwt_) == 200
    assert status(b, jwt_) == 200


def test_expired_replay_records_are_purged(jwt_app):
    storage = get_storage(jwt_app)
    cache = DatabaseReplayCache(storage, clock=lambda: 1000.0, purge_interval_s=0)
    assert cache.first_use(ISSUER, "old-1", expires_at=1100.0)
    assert cache.first_use(ISSUER, "old-2", expires_at=1100.0)
    assert not cache.first_use(ISSUER, "old-1", expires_at=1100.0)

    later = DatabaseReplayCache(storage, clock=lambda: 2000.0, purge_interval_s=0)
    assert later.first_use(ISSUER, "new-1", expires_at=2100.0)
    with storage.engine.connect() as connection:
        rows = connection.execute(select(func.count()).select_from(jwt_replay_table)).scalar()
    assert rows == 1
    # An expired jti may be seen again (its token is expired anyway; exp is checked first).
    assert later.first_use(ISSUER, "old-1", expires_at=2100.0)


def test_a_failing_replay_database_is_503_not_a_pass(jwt_app):
    with get_storage(jwt_app).engine.begin() as connection:
        connection.execute(text("DROP TABLE jwt_replay"))
    response = jwt_app.test_client().get("/cds-services", headers=bearer(token()))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["issue"][0]["code"] == "transient"
