"""What the service stores is checked at the edge, so SQLite and PostgreSQL accept exactly the
same requests (issue 11): on PostgreSQL a reason code over 256 characters, a display or system
over 1024, or a NUL character failed the whole batch with 503 "retry" for ever, while SQLite
stored them. Every case runs on both databases and expects the same answer. Audit rows never
fail silently; a SQLite file deleted under the running service is noticed.
"""

from __future__ import annotations

import logging
import os
import shutil

import pytest
from service.support import full_prefetch, hook_body
from sqlalchemy import func, select, text

from cds_service.storage import audit_table, feedback_table, get_storage

FEEDBACK = "/cds-services/crs-patient-view/feedback"
SERVICE = "/cds-services/crs-patient-view"
REASON = "feedback[0].overrideReason.reason"


def _item(**reason):
    coding = {"code": "infection", "system": "https://example.org/reasons", "display": "Sepsis"}
    coding.update(reason)
    return {
        "card": "c-1",
        "outcome": "overridden",
        "outcomeTimestamp": "2026-01-10T20:05:00Z",
        "overrideReason": {"reason": coding, "userComment": "cultures pending"},
    }


def _with(path: str, value: str):
    item = _item()
    if path == "card":
        item["card"] = value
    elif path == "userComment":
        item["overrideReason"]["userComment"] = value
    elif path == "acceptedSuggestions":
        item.update(outcome="accepted", acceptedSuggestions=[{"id": value}])
        del item["overrideReason"]
    else:
        item["overrideReason"]["reason"][path] = value
    return item


def _count(app, table=feedback_table) -> int:
    with get_storage(app).engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def db_app(make_app, database_url):
    return make_app(DATABASE_URL=database_url)


#: (field, its limit in characters, where the 400 says it is)
LIMITS = [
    ("code", 256, f"{REASON}.code"),
    ("system", 1024, f"{REASON}.system"),
    ("display", 1024, f"{REASON}.display"),
    ("card", 256, "feedback[0].card"),
    ("userComment", 4000, "feedback[0].overrideReason.userComment"),
    ("acceptedSuggestions", 256, "feedback[0].acceptedSuggestions[0].id"),
]


@pytest.mark.parametrize(("field", "limit", "path"), LIMITS, ids=[f[0] for f in LIMITS])
def test_a_value_at_its_limit_is_stored_and_one_over_is_400_naming_the_field(
    db_app, field, limit, path
):
    client = db_app.test_client()
    # Characters, not bytes: PostgreSQL counts characters (é is two bytes, 😀 four).
    for at_limit in ("x" * limit, "é" * limit, "😀" * limit):
        response = client.post(FEEDBACK, json={"feedback": [_with(field, at_limit)]})
        assert response.status_code == 200, response.get_json()

    over = client.post(FEEDBACK, json={"feedback": [_with(field, "x" * (limit + 1))]})
    assert over.status_code == 400
    issue = over.get_json()["issue"][0]
    assert (issue["code"], issue["diagnostics"]) == (
        "too-long",
        f"{path} is longer than {limit} characters",
    )


@pytest.mark.parametrize(("field", "limit", "path"), LIMITS, ids=[f[0] for f in LIMITS])
def test_a_nul_character_is_400_naming_the_field(db_app, field, limit, path):
    response = db_app.test_client().post(FEEDBACK, json={"feedback": [_with(field, "a\u0000b")]})
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["diagnostics"] == (
        f"{path} must not contain a NUL character"
    )


def test_one_bad_item_refuses_the_batch_with_400_and_stores_nothing(db_app):
    body = {"feedback": [_item(), _with("code", "x" * 257)]}
    response = db_app.test_client().post(FEEDBACK, json=body)
    assert response.status_code == 400
    assert "feedback[1]" in response.get_json()["issue"][0]["diagnostics"]
    assert _count(db_app) == 0


def test_values_at_their_limits_read_back_unchanged(db_app):
    item = _with("display", "😀" * 1024)
    item["overrideReason"]["reason"]["code"] = "é" * 256
    item["overrideReason"]["reason"]["system"] = "s" * 1024
    assert db_app.test_client().post(FEEDBACK, json={"feedback": [item]}).status_code == 200
    with get_storage(db_app).engine.connect() as connection:
        row = connection.execute(select(feedback_table)).one()
    assert row.override_reason_code == "é" * 256
    assert row.override_reason_system == "s" * 1024
    assert row.override_reason_display == "😀" * 1024


# --- the audit ------------------------------------------------------------------------------


def _hook(db_app, hook_instance="hi-edge-1"):
    body = hook_body(prefetch=full_prefetch(), hook_instance=hook_instance)
    return db_app.test_client().post(SERVICE, json=body)


def test_a_hook_instance_with_a_nul_is_400_before_anything_is_read(db_app):
    response = _hook(db_app, "abc\u0000def")
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["diagnostics"] == (
        "hookInstance must not contain a NUL character"
    )
    assert _count(db_app, audit_table) == 0


def test_a_hook_instance_at_its_limit_is_audited_whole(db_app):
    hook_instance = "h" * 255 + "é"
    assert _hook(db_app, hook_instance).status_code == 200
    with get_storage(db_app).engine.connect() as connection:
        stored = connection.execute(select(audit_table.c.hook_instance)).scalar_one()
    assert stored == hook_instance
    assert _hook(db_app, "h" * 257).status_code == 400


def test_a_failing_audit_write_is_logged_and_counted_not_silent(db_app, caplog):
    with get_storage(db_app).engine.begin() as connection:
        connection.execute(text("DROP TABLE audit"))
    with caplog.at_level(logging.ERROR, logger="cds_service"):
        assert _hook(db_app).status_code == 200  # the clinician still gets the answer
    assert "audit row not stored" in caplog.text
    metrics = db_app.test_client().get("/metrics").get_data(as_text=True)
    assert "crs_cds_audit_write_failures_total 1.0" in metrics


# --- a SQLite file deleted or replaced while the service runs -------------------------------


def _remove_database(path):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{path}{suffix}"):
            os.remove(f"{path}{suffix}")


@pytest.mark.parametrize("how", ["deleted", "replaced by a copy"])
def test_a_sqlite_file_deleted_or_replaced_under_the_service_is_503_and_not_ready(
    make_app, tmp_path, how, caplog
):
    """Issue 11: 3,408 feedback items were acknowledged with 200 into a deleted file."""
    path = tmp_path / "live.sqlite3"
    app = make_app(DATABASE_URL=f"sqlite:///{path}")
    client = app.test_client()
    assert client.post(FEEDBACK, json={"feedback": [_item()]}).status_code == 200
    assert client.get("/readyz").status_code == 200

    if how == "deleted":
        _remove_database(path)
    else:
        shutil.copyfile(path, tmp_path / "backup.sqlite3")
        _remove_database(path)
        shutil.copyfile(tmp_path / "backup.sqlite3", path)  # the same bytes, another file

    with caplog.at_level(logging.ERROR, logger="cds_service"):
        lost = client.post(FEEDBACK, json={"feedback": [_with("code", "after")]})
    assert lost.status_code == 503
    assert lost.headers["Retry-After"] == "5"
    assert client.get("/readyz").status_code == 503
    assert "deleted or replaced" in caplog.text
    if how == "deleted":
        assert not path.exists(), "no empty database was created in its place"
