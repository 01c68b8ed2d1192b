"""The watch's settings (``CRS_CDS_WATCH_*``): defaults, and every bad value stops the start
with a message that names the variable (STYLE: settings fail at start)."""

from __future__ import annotations

import pytest

from cds_service.config import AlertChannel, WatchPayload, load_settings
from cds_service.errors import SettingsError

FHIR = {"CRS_CDS_WATCH_FHIR_URL": "https://ehr.example.org/fhir/"}


def test_the_watch_is_off_unless_a_fhir_server_is_configured():
    assert not load_settings({}).watch.enabled
    watch = load_settings(FHIR).watch
    assert watch.enabled and watch.fhir_url == "https://ehr.example.org/fhir"
    assert (watch.alert_grade, watch.payload, watch.lease_s) == (2, WatchPayload.ID_ONLY, 120)
    assert watch.alert_channels == frozenset({AlertChannel.COMMUNICATION})
    assert watch.queue_url is None  # the embedded SQLite queue


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        pytest.param({"CRS_CDS_WATCH_FHIR_URL": "ehr"}, "CRS_CDS_WATCH_FHIR_URL", id="not a URL"),
        pytest.param(
            {"CRS_CDS_WATCH_QUEUE_URL": "amqp://broker"},
            "CRS_CDS_WATCH_QUEUE_URL",
            id="a queue engine the watch does not run on",
        ),
        pytest.param({"CRS_CDS_WATCH_ALERT_GRADE": "6"}, "CRS_CDS_WATCH_ALERT_GRADE", id="grade 6"),
        pytest.param(
            {"CRS_CDS_WATCH_ALERT_CHANNELS": "pager"},
            "CRS_CDS_WATCH_ALERT_CHANNELS",
            id="an unknown channel",
        ),
        pytest.param(
            {"CRS_CDS_WATCH_ALERT_CHANNELS": "webhook"},
            "CRS_CDS_WATCH_WEBHOOK_URL",
            id="the webhook channel without its URL",
        ),
        pytest.param(
            {
                "CRS_CDS_WATCH_ALERT_CHANNELS": "webhook",
                "CRS_CDS_WATCH_WEBHOOK_URL": "http://hooks.example.org/a",
                "CRS_CDS_WATCH_WEBHOOK_SECRET": "webhook-secret-0123456789-abcdefghijklmn",
            },
            "CRS_CDS_WATCH_WEBHOOK_URL",
            id="a webhook over plain http (an alert carries a clinical summary; final review)",
        ),
        pytest.param(
            {
                "CRS_CDS_WATCH_ALERT_CHANNELS": "webhook",
                "CRS_CDS_WATCH_WEBHOOK_URL": "https://hooks.example.org/a",
                "CRS_CDS_WATCH_WEBHOOK_SECRET": "short",
            },
            "CRS_CDS_WATCH_WEBHOOK_SECRET",
            id="a webhook secret too short to be a key",
        ),
        pytest.param(
            {"CRS_CDS_WATCH_SUBSCRIPTION_SECRETS": '{"sub-1": "short"}'},
            "CRS_CDS_WATCH_SUBSCRIPTION_SECRETS",
            id="a subscription secret too short",
        ),
        pytest.param(
            {"CRS_CDS_WATCH_SUBSCRIPTION_SECRETS": "[1]"},
            "CRS_CDS_WATCH_SUBSCRIPTION_SECRETS",
            id="subscription secrets that are not an object",
        ),
        pytest.param(
            {"CRS_CDS_WATCH_CLIENT_ID": "crs-watch"},
            "CRS_CDS_WATCH_PRIVATE_KEY_FILE",
            id="a client id without its key",
        ),
        pytest.param(
            {
                "CRS_CDS_WATCH_CLIENT_ID": "crs-watch",
                "CRS_CDS_WATCH_PRIVATE_KEY_FILE": "/nonexistent/key.pem",
                "CRS_CDS_WATCH_KEY_ID": "k1",
            },
            "CRS_CDS_WATCH_PRIVATE_KEY_FILE",
            id="a key file that does not exist",
        ),
        pytest.param(
            {"CRS_CDS_WATCH_PAYLOAD": "everything"}, "CRS_CDS_WATCH_PAYLOAD", id="a bad payload"
        ),
        pytest.param(
            {"CRS_CDS_WATCH_POLL_PATIENTS": '["Patient/a b"]'},
            "CRS_CDS_WATCH_POLL_PATIENTS",
            id="a poll patient that is not an id",
        ),
        pytest.param(
            {"CRS_CDS_WATCH_FILTERS": '"Observation?x=1"'},
            "CRS_CDS_WATCH_FILTERS",
            id="filters that are not a list",
        ),
        pytest.param({"CRS_CDS_WATCH_RETRIES": "-1"}, "CRS_CDS_WATCH_RETRIES", id="-1 retries"),
        pytest.param(
            {"CRS_CDS_WATCH_LEASE_S": "20", "CRS_CDS_WATCH_FHIR_TIMEOUT_S": "30"},
            "CRS_CDS_WATCH_LEASE_S",
            id="a lease shorter than the time a read may take",
        ),
    ],
)
def test_a_bad_value_stops_the_start_naming_the_variable(variables, named):
    with pytest.raises(SettingsError) as raised:
        load_settings({**FHIR, **variables})
    assert str(raised.value).startswith(named)


def test_a_queue_url_with_a_password_is_not_echoed_in_the_error():
    with pytest.raises(SettingsError) as raised:
        load_settings({"CRS_CDS_WATCH_QUEUE_URL": "amqp://user:hunter2@broker"})
    assert "hunter2" not in str(raised.value)


def test_a_bad_private_key_fails_when_the_app_is_built(make_app, tmp_path):
    key = tmp_path / "key.pem"
    key.write_text("not a key")
    with pytest.raises(SettingsError, match="^CRS_CDS_WATCH_PRIVATE_KEY_FILE"):
        make_app(
            **FHIR,
            CRS_CDS_WATCH_CLIENT_ID="crs-watch",
            CRS_CDS_WATCH_PRIVATE_KEY_FILE=str(key),
            CRS_CDS_WATCH_KEY_ID="k1",
        )
