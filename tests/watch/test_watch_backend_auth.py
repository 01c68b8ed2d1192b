"""The watch's own access to the EHR (SMART App Launch 2.2, Backend Services: client
credentials with a private-key JWT assertion, RS384 or ES384, token endpoint from
.well-known/smart-configuration), and ``crs-cds watch subscribe`` creating the topic-based
Subscription (Subscriptions R5 Backport IG, R4)."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fhir.resources.R4B.subscription import Subscription

from cds_service import cli
from cds_service.errors import SettingsError
from cds_service.watch import get_watch
from cds_service.watch.backend_auth import load_signing_key

from .conftest import DAY5_NOON, FHIR, RISER, SECRET, SUBSCRIPTION, at, drain, post
from .notices import TOPIC, r4_notification

TOKEN_ENDPOINT = "https://ehr.example.org/token"
CLIENT = "crs-watch-client"


def write_key(path, key):
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path)


@pytest.fixture
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def authorized_env(watch_env, tmp_path, rsa_key, ehr):
    ehr.token = "backend-token-1"
    ehr.client_id = CLIENT
    ehr.client_public_key = rsa_key.public_key()
    return {
        **watch_env,
        "CRS_CDS_WATCH_CLIENT_ID": CLIENT,
        "CRS_CDS_WATCH_PRIVATE_KEY_FILE": write_key(tmp_path / "watch.pem", rsa_key),
        "CRS_CDS_WATCH_KEY_ID": "watch-key-1",
        "CRS_CDS_WATCH_TOPIC": TOPIC,
        "CRS_CDS_WATCH_FILTERS": '["Observation?patient=Patient/crs-demo-case3"]',
    }


def notify(app, number):
    bundle = r4_notification(
        FHIR, SUBSCRIPTION, events=[{"number": number, "focus": f"Patient/{RISER}"}]
    )
    assert post(app, bundle).status_code == 200


def test_jobs_read_the_ehr_with_a_backend_services_token_fetched_once(
    make_app, authorized_env, ehr, rsa_key
):
    app = make_app(**authorized_env)
    at(app, DAY5_NOON)
    notify(app, 1)
    notify(app, 2)
    drain(app)
    notify(app, 3)
    drain(app)
    assert len(get_watch(app).store.evaluations_of(RISER)) == 2
    (request,) = ehr.token_requests  # cached across jobs
    assert request["grant_type"] == "client_credentials"
    assert request["scope"].startswith("system/Patient.rs system/Observation.rs")
    assertion = request["client_assertion"]
    header = jwt.get_unverified_header(assertion)
    assert (header["alg"], header["kid"], header["typ"]) == ("RS384", "watch-key-1", "JWT")
    claims = jwt.decode(
        assertion, rsa_key.public_key(), algorithms=["RS384"], audience=TOKEN_ENDPOINT
    )
    assert claims["iss"] == claims["sub"] == CLIENT
    assert 0 < claims["exp"] - claims["iat"] <= 300  # SMART: at most five minutes
    assert len(ehr.communications) == 1  # the alert went out with the token too


def test_a_token_the_ehr_no_longer_accepts_is_replaced_on_the_next_try(
    make_app, authorized_env, ehr
):
    app = make_app(**authorized_env)
    notify(app, 1)
    drain(app)
    ehr.token = "backend-token-2"  # revoked, or the EHR rotated its tokens
    notify(app, 2)
    drain(app, scheduled=True)
    assert len(ehr.token_requests) == 2
    assert len(get_watch(app).store.evaluations_of(RISER)) == 2


def test_an_ec_p384_key_signs_es384_and_other_keys_are_refused(tmp_path):
    good = load_signing_key(
        write_key(tmp_path / "ec.pem", ec.generate_private_key(ec.SECP384R1())), "k"
    )
    assert good.algorithm == "ES384"
    for name, key in (
        ("p256.pem", ec.generate_private_key(ec.SECP256R1())),
        ("rsa1024.pem", rsa.generate_private_key(public_exponent=65537, key_size=1024)),  # noqa: S505 - refused on purpose
    ):
        with pytest.raises(SettingsError, match="^CRS_CDS_WATCH_PRIVATE_KEY_FILE"):
            load_signing_key(write_key(tmp_path / name, key), "k")


def test_a_token_endpoint_without_private_key_jwt_fails_the_job_with_a_clear_reason(
    make_app, authorized_env, ehr
):
    ehr.auth_methods = ("client_secret_basic",)
    app = make_app(**authorized_env)
    notify(app, 1)
    drain(app, scheduled=True)
    (letter,) = get_watch(app).store.dead_letters()
    assert letter.error == "the EHR's token endpoint does not accept private_key_jwt"


def run_cli(monkeypatch, env, *args):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return cli.main(["watch", *args])


def test_subscribe_puts_a_backport_subscription_carrying_the_configured_secret(
    monkeypatch, authorized_env, ehr, capsys, tmp_path
):
    env = {**authorized_env, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    assert run_cli(monkeypatch, env, "subscribe", "--id", SUBSCRIPTION) == 0
    out = capsys.readouterr().out
    assert f"Subscription/{SUBSCRIPTION} created on {FHIR}" in out
    (resource,) = ehr.subscriptions
    Subscription.model_validate(resource)  # valid FHIR R4 (R4B) Subscription
    assert ehr.reads[-1] == f"PUT Subscription/{SUBSCRIPTION}"
    assert resource["criteria"] == TOPIC
    assert resource["channel"]["type"] == "rest-hook"
    assert (
        resource["channel"]["endpoint"] == "https://cds.example.org/fhir/subscription-notification"
    )
    assert resource["channel"]["header"] == [f"X-CRS-CDS-Subscription-Secret: {SECRET}"]
    ig = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
    (content,) = resource["channel"]["_payload"]["extension"]
    assert content == {"url": ig + "backport-payload-content", "valueCode": "id-only"}
    (criterion,) = resource["_criteria"]["extension"]
    assert criterion["valueString"] == "Observation?patient=Patient/crs-demo-case3"
    heartbeat = {e["url"]: e for e in resource["channel"]["extension"]}
    assert heartbeat[ig + "backport-heartbeat-period"]["valueUnsignedInt"] == 3600
    # Its filter names one patient: an empty notification of it re-reads that patient.
    from cds_service import create_app

    app = create_app(env)
    assert get_watch(app).store.subscription_patient(SUBSCRIPTION) == RISER
    get_watch(app).store.engine.dispose()


def test_subscribe_without_an_id_posts_and_says_notifications_need_a_jwt(
    monkeypatch, authorized_env, ehr, capsys, tmp_path
):
    env = {**authorized_env, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    assert run_cli(monkeypatch, env, "subscribe", "--endpoint", "https://cds.example.org/n") == 0
    out = capsys.readouterr().out
    assert "Subscription/sub1 created" in out and "must carry a JWT" in out
    assert "header" not in ehr.subscriptions[0]["channel"]


def test_subscribe_without_a_topic_says_so(monkeypatch, watch_env, ehr, capsys, tmp_path):
    env = {**watch_env, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    assert run_cli(monkeypatch, env, "subscribe") == 2
    assert "CRS_CDS_WATCH_TOPIC is not set" in capsys.readouterr().err
    assert ehr.subscriptions == []
