"""Feedback: CDS Hooks 2.0.1 section Feedback, stored through SQLAlchemy (SPEC section 4)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select

from cds_service.storage import feedback_table, get_storage

URL = "/cds-services/crs-patient-view/feedback"


def rows(app):
    with get_storage(app).engine.connect() as connection:
        return [r._asdict() for r in connection.execute(select(feedback_table).order_by("id"))]


def test_feedback_round_trip_in_sqlite(client, app):
    body = {
        "feedback": [
            {
                "card": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
                "outcomeTimestamp": "2021-12-11T10:05:31Z",
            },
            {
                "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {
                        "code": "d7ecf885",
                        "system": "https://example.com/cds-hooks/override-reason-system",
                        "display": "patient already on tocilizumab",
                    },
                    "userComment": "A comment entered by the clinician.",
                },
                "outcomeTimestamp": "2020-12-11T02:00:00+02:00",
            },
        ]
    }

    response = client.post(URL, json=body)

    assert response.status_code == 200
    assert response.get_json() == {"stored": 2}
    accepted, overridden = rows(app)
    assert accepted["service_id"] == "crs-patient-view"
    assert accepted["card_uuid"] == "4e0a3a1e-3283-4575-ab82-028d55fe2719"
    assert accepted["outcome"] == "accepted"
    assert json.loads(accepted["accepted_suggestions"]) == ["e56e1945-20b3-4393-8503-a1a20fd73152"]
    assert accepted["override_reason_code"] is None
    assert accepted["outcome_timestamp"].replace(tzinfo=None) == datetime(2021, 12, 11, 10, 5, 31)
    assert isinstance(accepted["received_at"], datetime)
    assert overridden["outcome"] == "overridden"
    assert json.loads(overridden["accepted_suggestions"]) == []
    assert overridden["override_reason_code"] == "d7ecf885"
    assert (
        overridden["override_reason_system"]
        == "https://example.com/cds-hooks/override-reason-system"
    )
    assert overridden["override_reason_display"] == "patient already on tocilizumab"
    assert overridden["user_comment"] == "A comment entered by the clinician."
    # Stored in UTC.
    assert overridden["outcome_timestamp"].replace(tzinfo=None) == datetime(2020, 12, 11, 0, 0)


def test_overridden_without_reason_is_accepted(client, app):
    body = {
        "feedback": [
            {"card": "c1", "outcome": "overridden", "outcomeTimestamp": "2020-12-11T00:00:00Z"}
        ]
    }
    assert client.post(URL, json=body).status_code == 200
    assert rows(app)[0]["override_reason_code"] is None


def test_feedback_for_an_unknown_service_is_404(client):
    body = {"feedback": []}
    assert client.post("/cds-services/crs-nope/feedback", json=body).status_code == 404


GOOD = {"card": "c1", "outcome": "overridden", "outcomeTimestamp": "2020-12-11T00:00:00Z"}

CASES = [
    ({}, "feedback is required"),
    ({"feedback": {}}, "feedback must be an array"),
    ({"feedback": ["c1"]}, "feedback[0] must be an object"),
    ({"feedback": [GOOD, {**GOOD, "card": None}]}, "feedback[1].card is required"),
    ({"feedback": [{**GOOD, "card": 7}]}, "feedback[0].card must be a string"),
    (
        {"feedback": [{**GOOD, "outcome": "ignored"}]},
        "feedback[0].outcome must be 'accepted' or 'overridden'",
    ),
    (
        {"feedback": [{**GOOD, "outcome": "accepted"}]},
        "feedback[0].acceptedSuggestions is required when outcome is 'accepted'",
    ),
    (
        {"feedback": [{**GOOD, "outcome": "accepted", "acceptedSuggestions": [{}]}]},
        "feedback[0].acceptedSuggestions[0].id is required",
    ),
    (
        {"feedback": [{**GOOD, "acceptedSuggestions": "s1"}]},
        "feedback[0].acceptedSuggestions must be an array",
    ),
    (
        {"feedback": [{k: v for k, v in GOOD.items() if k != "outcomeTimestamp"}]},
        "feedback[0].outcomeTimestamp is required",
    ),
    (
        {"feedback": [{**GOOD, "outcomeTimestamp": "yesterday"}]},
        "feedback[0].outcomeTimestamp must be an ISO 8601 date-time",
    ),
    (
        {"feedback": [{**GOOD, "outcomeTimestamp": "2020-12-11T00:00:00"}]},
        "feedback[0].outcomeTimestamp must be an ISO 8601 date-time with a time zone, "
        "e.g. 2021-12-11T10:05:31Z",
    ),
    (
        {"feedback": [{**GOOD, "outcomeTimestamp": "2020-12-11"}]},
        "feedback[0].outcomeTimestamp must be an ISO 8601 date-time with a time zone, "
        "e.g. 2021-12-11T10:05:31Z",
    ),
    (
        {"feedback": [{**GOOD, "overrideReason": "because"}]},
        "feedback[0].overrideReason must be an object",
    ),
    (
        {"feedback": [{**GOOD, "overrideReason": {"reason": {"system": "s"}}}]},
        "feedback[0].overrideReason.reason.code is required",
    ),
    (
        {"feedback": [{**GOOD, "overrideReason": {"userComment": "x" * 4001}}]},
        "feedback[0].overrideReason.userComment is longer than 4000 characters",
    ),
]


@pytest.mark.parametrize(("body", "message"), CASES, ids=[m for _, m in CASES])
def test_invalid_feedback_is_400_naming_the_field_and_nothing_is_stored(client, app, body, message):
    response = client.post(URL, json=body)
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["diagnostics"] == message
    assert rows(app) == []


def test_feedback_must_be_json(client):
    assert client.post(URL, data="feedback", content_type="text/plain").status_code == 415
