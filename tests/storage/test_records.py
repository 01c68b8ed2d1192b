"""Feedback never lost and stored once, the audit table, the shared replay cache, readiness:
on SQLite and PostgreSQL (issue 7; CDS Hooks 2.0.1 section Feedback)."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from cds_service.storage import (
    AuditRecord,
    audit_table,
    feedback_table,
    get_storage,
    record_audit,
)

FEEDBACK = "/cds-services/crs-patient-view/feedback"


def item(card="c-1", outcome="overridden", **extra):
    return {"card": card, "outcome": outcome, "outcomeTimestamp": "2026-01-10T20:05:00Z", **extra}


def rows(app, table=feedback_table):
    with get_storage(app).engine.connect() as connection:
        return [r._asdict() for r in connection.execute(select(table).order_by(table.c.id))]


@pytest.fixture
def db_app(make_app, database_url):
    return make_app(DATABASE_URL=database_url)


def test_feedback_sent_again_is_stored_once(db_app):
    client = db_app.test_client()
    body = {"feedback": [item("c-1"), item("c-2", "accepted", acceptedSuggestions=[{"id": "s"}])]}

    first = client.post(FEEDBACK, json=body)
    again = client.post(FEEDBACK, json=body)

    assert first.get_json() == {"stored": 2}
    assert again.status_code == 200 and again.get_json() == {"stored": 2, "duplicates": 2}
    assert sorted(r["card_uuid"] for r in rows(db_app)) == ["c-1", "c-2"]


def test_the_same_item_twice_in_one_request_is_stored_once(db_app):
    response = db_app.test_client().post(FEEDBACK, json={"feedback": [item(), item()]})
    assert response.get_json() == {"stored": 2, "duplicates": 1}
    assert len(rows(db_app)) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"outcomeTimestamp": "2026-01-10T20:06:00Z"},
        {"overrideReason": {"reason": {"code": "other"}}},
        {"overrideReason": {"userComment": "a second thought"}},
    ],
    ids=["another time", "another reason", "another comment"],
)
def test_a_different_item_for_the_same_card_is_stored(db_app, change):
    client = db_app.test_client()
    client.post(FEEDBACK, json={"feedback": [item()]})
    client.post(FEEDBACK, json={"feedback": [item(**change)]})
    assert len(rows(db_app)) == 2


def test_the_same_item_for_another_service_is_stored(db_app):
    client = db_app.test_client()
    client.post(FEEDBACK, json={"feedback": [item()]})
    client.post("/cds-services/crs-order-sign/feedback", json={"feedback": [item()]})
    assert [r["service_id"] for r in rows(db_app)] == ["crs-patient-view", "crs-order-sign"]


def test_a_failing_insert_is_a_503_to_retry_and_the_retry_is_stored(db_app, caplog):
    client = db_app.test_client()
    engine = get_storage(db_app).engine
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE feedback RENAME TO feedback_away"))

    with caplog.at_level(logging.ERROR, logger="cds_service"):
        failed = client.post(FEEDBACK, json={"feedback": [item("c-9")]})

    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "5"
    assert failed.get_json()["issue"][0] == {
        "severity": "error",
        "code": "transient",
        "diagnostics": "the feedback could not be stored; send it again",
    }
    assert "feedback not stored: " in caplog.text
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE feedback_away RENAME TO feedback"))
    assert client.post(FEEDBACK, json={"feedback": [item("c-9")]}).get_json() == {"stored": 1}
    assert [r["card_uuid"] for r in rows(db_app)] == ["c-9"]


def test_a_batch_is_all_or_nothing(db_app):
    """One item failing at the database stores none of the batch (one transaction)."""
    client = db_app.test_client()
    engine = get_storage(db_app).engine
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TRIGGER no_c3 BEFORE INSERT ON feedback FOR EACH ROW "
                "WHEN (NEW.card_uuid = 'c-3') "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        ) if engine.dialect.name == "sqlite" else connection.execute(
            text("ALTER TABLE feedback ADD CONSTRAINT no_c3 CHECK (card_uuid <> 'c-3')")
        )
    response = client.post(FEEDBACK, json={"feedback": [item("c-1"), item("c-3")]})
    assert response.status_code == 503
    assert rows(db_app) == []


def test_concurrent_retries_of_the_same_feedback_store_it_once(db_app):
    body = {"feedback": [item(f"c-{n}") for n in range(5)]}
    statuses: list[int] = []

    def send():
        statuses.append(db_app.test_client().post(FEEDBACK, json=body).status_code)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [200] * 6
    assert sorted(r["card_uuid"] for r in rows(db_app)) == [f"c-{n}" for n in range(5)]


# --- audit ----------------------------------------------------------------------------------


def audit(app, **overrides):
    values = {
        "hook_instance": "hi-1",
        "service_id": "crs-patient-view",
        "patient_id": "pt-1",
        "grade": 3,
        "peak_grade": 3,
        "card_uuids": ["c-1", "c-2"],
        "suggestion_uuids": ["s-1"],
        "answered_at": datetime(2026, 1, 10, 21, 0, tzinfo=UTC),
        "duration_ms": 84.5,
    }
    values.update(overrides)
    with app.app_context():
        return record_audit(AuditRecord(**values))


def test_an_audit_row_holds_ids_grades_and_uuids_only(db_app):
    assert audit(
        db_app,
        patient_id="Patient/pt-1",
        answered_at=datetime(2026, 1, 10, 22, 0, tzinfo=UTC)
        + timedelta(hours=1)
        - timedelta(hours=1),
    )
    assert audit(
        db_app,
        hook_instance="hi-2",
        grade=None,
        peak_grade=None,
        card_uuids=[],
        suggestion_uuids=[],
    )
    first, second = rows(db_app, audit_table)
    assert first["patient_ref"] == "pt-1"
    assert (first["grade"], first["peak_grade"]) == (3, 3)
    assert json.loads(first["card_uuids"]) == ["c-1", "c-2"]
    assert json.loads(first["suggestion_uuids"]) == ["s-1"]
    assert first["duration_ms"] == 84.5
    assert first["answered_at"].replace(tzinfo=None) == datetime(2026, 1, 10, 22, 0)
    assert (second["grade"], second["card_uuids"]) == (None, "[]")


@pytest.mark.parametrize("patient_id", ["Jane Doe", "Patient/", "x" * 65])
def test_audit_refuses_anything_but_a_fhir_id_for_the_patient(db_app, patient_id):
    with pytest.raises(ValueError, match="FHIR id"):
        audit(db_app, patient_id=patient_id)


def test_a_failing_audit_write_is_logged_and_never_raises(db_app, caplog):
    with get_storage(db_app).engine.begin() as connection:
        connection.execute(text("DROP TABLE audit"))
    with caplog.at_level(logging.ERROR, logger="cds_service"):
        assert audit(db_app) is False
    assert "audit row not stored" in caplog.text


# --- replay cache and readiness -------------------------------------------------------------


def test_concurrent_first_uses_of_one_token_let_exactly_one_through(db_app):
    storage = get_storage(db_app)
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def use():
        barrier.wait()
        results.append(storage.remember_token("same-key", expires_at=2e9, now=1e9))

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [False] * 7 + [True]


def test_readyz_answers_on_this_database(db_app):
    assert db_app.test_client().get("/readyz").get_json() == {
        "status": "ready",
        "checks": {"database": "ok"},
    }
