"""CDS Hooks JWT authentication: CDS Hooks 2.0.1 section "Trusting CDS Clients" and SPEC 4."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from cds_service.auth import MemoryReplayCache
from cds_service.errors import SettingsError

from .support import full_prefetch, hook_body

ISSUER = "https://ehr.example.org"
JWKS_URL = "https://ehr.example.org/.well-known/jwks.json"
DISCOVERY_AUD = "http://localhost/cds-services"


@pytest.fixture(scope="session")
def ec_key():
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="session")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(private_key, kid, alg):
    algorithm = ECAlgorithm if alg.startswith("ES") else RSAAlgorithm
    jwk = algorithm.to_jwk(private_key.public_key(), as_dict=True)
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return jwk


def token(private_key, alg="ES384", kid="k1", **overrides):
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": DISCOVERY_AUD,
        "exp": now + 300,
        "iat": now,
        "jti": str(uuid.uuid4()),
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, private_key, algorithm=alg, headers={"kid": kid, "typ": "JWT"})


def bearer(value):
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def inline_app(make_app, ec_key, rsa_key):
    issuers = {
        ISSUER: {
            "jwks": {
                "keys": [public_jwk(ec_key, "k1", "ES384"), public_jwk(rsa_key, "r1", "RS384")]
            }
        }
    }
    return make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=json.dumps(issuers))


@pytest.fixture
def inline_client(inline_app):
    return inline_app.test_client()


def assert_unauthorized(response):
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.get_json() == {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "login", "diagnostics": "unauthorized"}],
    }


def test_valid_es384_token_with_inline_jwks_is_accepted(inline_client, ec_key):
    response = inline_client.get("/cds-services", headers=bearer(token(ec_key)))
    assert response.status_code == 200


def test_valid_rs384_token_with_inline_jwks_is_accepted(inline_client, rsa_key):
    response = inline_client.get(
        "/cds-services", headers=bearer(token(rsa_key, alg="RS384", kid="r1"))
    )
    assert response.status_code == 200


def test_the_service_call_needs_a_token_for_its_own_url(inline_client, ec_key):
    url = "/cds-services/crs-patient-view"
    body = hook_body(prefetch=full_prefetch())
    good = token(ec_key, aud=f"http://localhost{url}")
    assert inline_client.post(url, json=body, headers=bearer(good)).status_code == 200
    # A token minted for discovery does not open the service.
    assert_unauthorized(inline_client.post(url, json=body, headers=bearer(token(ec_key))))


def test_aud_may_be_a_list(inline_client, ec_key):
    jwt_ = token(ec_key, aud=["https://other.example.org", DISCOVERY_AUD])
    assert inline_client.get("/cds-services", headers=bearer(jwt_)).status_code == 200


def test_wrong_aud_is_refused(inline_client, ec_key):
    jwt_ = token(ec_key, aud="https://cds.other.org/cds-services")
    assert_unauthorized(inline_client.get("/cds-services", headers=bearer(jwt_)))


def test_aud_is_checked_against_the_public_url_behind_a_proxy(make_app, ec_key):
    issuers = {ISSUER: {"jwks": {"keys": [public_jwk(ec_key, "k1", "ES384")]}}}
    client = make_app(
        CRS_CDS_AUTH="jwt",
        CRS_CDS_TRUSTED_ISSUERS=json.dumps(issuers),
        CRS_CDS_PUBLIC_URL="https://cds.example.org/",
    ).test_client()
    public = token(ec_key, aud="https://cds.example.org/cds-services")
    assert client.get("/cds-services", headers=bearer(public)).status_code == 200
    assert_unauthorized(client.get("/cds-services", headers=bearer(token(ec_key))))


def test_expired_token_is_refused(inline_client, ec_key):
    now = int(time.time())
    jwt_ = token(ec_key, iat=now - 600, exp=now - 61 - 60)
    assert_unauthorized(inline_client.get("/cds-services", headers=bearer(jwt_)))


def test_a_token_expired_within_the_60_s_leeway_is_accepted(inline_client, ec_key):
    now = int(time.time())
    jwt_ = token(ec_key, iat=now - 300, exp=now - 30)
    assert inline_client.get("/cds-services", headers=bearer(jwt_)).status_code == 200


def test_a_token_issued_in_the_future_is_refused(inline_client, ec_key):
    now = int(time.time())
    jwt_ = token(ec_key, iat=now + 600, exp=now + 900)
    assert_unauthorized(inline_client.get("/cds-services", headers=bearer(jwt_)))


@pytest.mark.parametrize("claim", ["exp", "iat", "jti", "aud", "iss"])
def test_a_token_without_a_required_claim_is_refused(inline_client, ec_key, claim):
    jwt_ = token(ec_key, **{claim: None})
    assert_unauthorized(inline_client.get("/cds-services", headers=bearer(jwt_)))


def test_replayed_jti_is_refused(inline_client, ec_key):
    jwt_ = token(ec_key)
    assert inline_client.get("/cds-services", headers=bearer(jwt_)).status_code == 200
    assert_unauthorized(inline_client.get("/cds-services", headers=bearer(jwt_)))
    # A fresh jti is fine again.
    assert inline_client.get("/cds-services", headers=bearer(token(ec_key))).status_code == 200


def test_unknown_issuer_is_refused(inline_client, ec_key):
    jwt_ = token(ec_key, iss="https://stranger.example.org")
    assert_unauthorized(inline_client.get("/cds-services", headers=bearer(jwt_)))


def test_token_signed_with_another_key_is_refused(inline_client):
    impostor = ec.generate_private_key(ec.SECP384R1())
    assert_unauthorized(inline_client.get("/cds-services", headers=bearer(token(impostor))))


def test_token_whose_alg_differs_from_the_keys_alg_is_refused(inline_client, rsa_key):
    jwt_ = token(rsa_key, alg="RS256", kid="r1")  # the JWK says RS384
    assert_unauthorized(inline_client.get("/cds-services", headers=bearer(jwt_)))


@pytest.mark.parametrize("alg", ["RS384", "PS256"], ids=["RS384", "PS256"])
def test_an_rsa_alg_against_an_ec_key_without_alg_is_401_not_500(make_app, ec_key, rsa_key, alg):
    """A JWK without ``alg`` must not let the token's header pick an algorithm of another key
    family: PyJWT then fails with TypeError, which must be a refusal, not a 500."""
    jwk = ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True)
    jwk.update({"kid": "k1", "use": "sig"})  # no "alg" in the JWK
    app = make_app(
        CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=json.dumps({ISSUER: {"jwks": {"keys": [jwk]}}})
    )
    forged = token(rsa_key, alg=alg, kid="k1")
    assert_unauthorized(app.test_client().get("/cds-services", headers=bearer(forged)))


def test_alg_none_is_refused(inline_client, caplog):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": DISCOVERY_AUD, "exp": now + 300, "iat": now, "jti": "n1"}
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "k1"})
    with caplog.at_level(logging.INFO, logger="cds_service"):
        assert_unauthorized(inline_client.get("/cds-services", headers=bearer(unsigned)))
    assert "JWT refused: algorithm 'none' is not allowed" in caplog.text


def test_hmac_is_refused_even_with_the_public_key_as_secret(inline_client, rsa_key, caplog):
    """The classic algorithm-confusion attack: HS256 keyed with the published RSA key."""
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": DISCOVERY_AUD, "exp": now + 300, "iat": now, "jti": "h1"}
    forged = _hs256(claims, public_pem, kid="r1")
    with caplog.at_level(logging.INFO, logger="cds_service"):
        assert_unauthorized(inline_client.get("/cds-services", headers=bearer(forged)))
    assert "JWT refused: algorithm 'HS256' is not allowed" in caplog.text


def _hs256(claims, secret, kid):
    """Signed by hand: PyJWT itself refuses to use a PEM public key as an HMAC secret."""

    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64(json.dumps(claims).encode())
    signature = b64(hmac.new(secret, header + b"." + payload, hashlib.sha256).digest())
    return (header + b"." + payload + b"." + signature).decode()


def test_token_without_kid_is_refused(inline_client, ec_key):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": DISCOVERY_AUD, "exp": now + 300, "iat": now, "jti": "x"}
    jwt_ = jwt.encode(claims, ec_key, algorithm="ES384")
    assert_unauthorized(inline_client.get("/cds-services", headers=bearer(jwt_)))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic dXNlcjpwdw=="},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not.a.jwt"},
    ],
    ids=["no header", "basic auth", "empty bearer", "garbage"],
)
def test_missing_or_malformed_token_is_refused(inline_client, headers):
    assert_unauthorized(inline_client.get("/cds-services", headers=headers))


def test_every_cds_endpoint_needs_the_token_but_ops_endpoints_do_not(inline_client):
    assert_unauthorized(inline_client.post("/cds-services/crs-order-sign", json={}))
    assert_unauthorized(inline_client.post("/cds-services/crs-order-sign/feedback", json={}))
    # An unknown service id is not revealed before authentication.
    assert_unauthorized(inline_client.post("/cds-services/nope", json={}))
    assert inline_client.get("/healthz").status_code == 200
    assert inline_client.get("/readyz").status_code == 200


def test_refusal_is_logged_without_the_token(inline_client, ec_key, caplog):
    jwt_ = token(ec_key, aud="https://wrong.example.org")
    with caplog.at_level(logging.INFO, logger="cds_service"):
        inline_client.get("/cds-services", headers=bearer(jwt_))
    assert "JWT refused: aud does not name this endpoint" in caplog.text
    assert jwt_ not in caplog.text and jwt_.split(".")[2] not in caplog.text


# --- JWKS by URL ----------------------------------------------------------------------------


@pytest.fixture
def url_app(make_app):
    issuers = {ISSUER: {"jwks_url": JWKS_URL}}
    return make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=json.dumps(issuers))


def test_rs384_with_jwks_url_is_accepted_and_the_jwks_cached(url_app, rsa_key, mocked_http):
    mocked_http.add(responses.GET, JWKS_URL, json={"keys": [public_jwk(rsa_key, "r1", "RS384")]})
    client = url_app.test_client()
    for _ in range(3):
        jwt_ = token(rsa_key, alg="RS384", kid="r1")
        assert client.get("/cds-services", headers=bearer(jwt_)).status_code == 200
    assert len(mocked_http.calls) == 1


def test_es384_with_jwks_url_is_accepted(url_app, ec_key, mocked_http):
    mocked_http.add(responses.GET, JWKS_URL, json={"keys": [public_jwk(ec_key, "k1", "ES384")]})
    response = url_app.test_client().get("/cds-services", headers=bearer(token(ec_key)))
    assert response.status_code == 200


def test_unknown_kid_triggers_one_jwks_refetch(url_app, ec_key, rsa_key, mocked_http):
    """Key rotation: an unknown kid refetches the JWKS, at most once per interval."""
    first = mocked_http.add(
        responses.GET, JWKS_URL, json={"keys": [public_jwk(ec_key, "k1", "ES384")]}
    )
    client = url_app.test_client()
    assert client.get("/cds-services", headers=bearer(token(ec_key))).status_code == 200
    assert len(mocked_http.calls) == 1

    mocked_http.remove(first)
    mocked_http.add(
        responses.GET,
        JWKS_URL,
        json={"keys": [public_jwk(ec_key, "k1", "ES384"), public_jwk(rsa_key, "r2", "RS384")]},
    )
    rotated = token(rsa_key, alg="RS384", kid="r2")
    assert client.get("/cds-services", headers=bearer(rotated)).status_code == 200
    assert len(mocked_http.calls) == 2

    # Another unknown kid right after: no new fetch (rate limit), refused.
    assert_unauthorized(client.get("/cds-services", headers=bearer(token(ec_key, kid="k9"))))
    assert len(mocked_http.calls) == 2


def test_unreachable_jwks_url_refuses_the_token(url_app, ec_key, mocked_http):
    mocked_http.add(responses.GET, JWKS_URL, status=503)
    assert_unauthorized(url_app.test_client().get("/cds-services", headers=bearer(token(ec_key))))


# --- configuration and the replay cache -----------------------------------------------------


def test_inline_jwks_without_a_usable_public_key_fails_at_start(make_app):
    issuers = {ISSUER: {"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}}}
    with pytest.raises(SettingsError, match=r"^CRS_CDS_TRUSTED_ISSUERS\["):
        make_app(CRS_CDS_AUTH="jwt", CRS_CDS_TRUSTED_ISSUERS=json.dumps(issuers))


def test_replay_cache_forgets_a_jti_after_its_token_expired():
    now = [1000.0]
    cache = MemoryReplayCache(clock=lambda: now[0])
    assert cache.first_use("iss", "j1", expires_at=1100.0)
    assert not cache.first_use("iss", "j1", expires_at=1100.0)
    assert cache.first_use("other-iss", "j1", expires_at=1100.0)
    now[0] = 1101.0
    assert cache.first_use("iss", "j1", expires_at=1200.0)


def test_replay_cache_stays_bounded():
    cache = MemoryReplayCache(max_entries=3, clock=lambda: 0.0)
    for n in range(10):
        assert cache.first_use("iss", f"j{n}", expires_at=100.0 + n)
    assert len(cache._seen) <= 3
