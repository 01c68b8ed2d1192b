"""The launch and session store: both implementations behave alike; SQL keeps no secret readable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from cds_service.smart import InMemorySmartStore, SmartStore, SqlSmartStore
from cds_service.smart.store import LaunchSession, PendingLaunch

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def sqlite_engine() -> sa.Engine:
    return sa.create_engine("sqlite://", poolclass=StaticPool)


@pytest.fixture(params=["memory", "sql"])
def any_store(request) -> SmartStore:
    if request.param == "memory":
        return InMemorySmartStore()
    return SqlSmartStore(sqlite_engine(), secret="k" * 32)


def pending(expires: datetime) -> PendingLaunch:
    return PendingLaunch(
        iss="https://ehr/fhir",
        launch="L1",
        redirect_uri="https://app/smart/callback",
        code_verifier="verifier-" + "v" * 40,
        token_endpoint="https://ehr/token",
        browser="browser-1",
        expires_at=expires.timestamp(),
    )


def launch_session(expires: datetime) -> LaunchSession:
    return LaunchSession(
        iss="https://ehr/fhir",
        patient="p1",
        access_token="token-abc-123",
        scope="launch patient/Observation.rs",
        need_patient_banner=False,
        browser="browser-1",
        expires_at=expires.timestamp(),
        encounter="e1",
    )


def test_a_launch_is_taken_once(any_store):
    any_store.save_launch("state-1", pending(NOW + timedelta(minutes=10)))
    assert any_store.take_launch("state-1", NOW) == pending(NOW + timedelta(minutes=10))
    assert any_store.take_launch("state-1", NOW) is None


def test_an_expired_launch_is_not_returned(any_store):
    any_store.save_launch("state-1", pending(NOW + timedelta(minutes=10)))
    assert any_store.take_launch("state-1", NOW + timedelta(minutes=10, seconds=1)) is None


def test_an_unknown_state_is_none(any_store):
    assert any_store.take_launch("never", NOW) is None


def test_a_session_lives_until_it_expires_and_can_be_deleted(any_store):
    any_store.save_session("sid", launch_session(NOW + timedelta(hours=1)))
    assert any_store.get_session("sid", NOW) == launch_session(NOW + timedelta(hours=1))
    assert any_store.get_session("sid", NOW + timedelta(minutes=59)) is not None
    assert any_store.get_session("sid", NOW + timedelta(hours=1)) is None
    any_store.delete_session("sid")
    assert any_store.get_session("sid", NOW) is None


def test_launches_and_sessions_do_not_share_keys(any_store):
    any_store.save_session("same", launch_session(NOW + timedelta(hours=1)))
    assert any_store.take_launch("same", NOW) is None
    assert any_store.get_session("same", NOW) is not None


def test_sql_store_keeps_neither_tokens_nor_ids_readable():
    engine = sqlite_engine()
    store = SqlSmartStore(engine, secret="k" * 32)
    store.save_session("session-id-xyz", launch_session(NOW + timedelta(hours=1)))
    store.save_launch("state-xyz", pending(NOW + timedelta(minutes=5)))
    with engine.connect() as conn:
        dump = " ".join(
            str(v) for row in conn.execute(sa.text("select * from smart_launch_store")) for v in row
        )
    for secret in ("token-abc-123", "session-id-xyz", "state-xyz", "verifier-", 'p1"'):
        assert secret not in dump


def test_sql_store_is_shared_by_replicas_with_the_same_secret():
    engine = sqlite_engine()
    first = SqlSmartStore(engine, secret="k" * 32)
    second = SqlSmartStore(engine, secret="k" * 32)  # another replica, same database
    first.save_launch("state-1", pending(NOW + timedelta(minutes=10)))
    assert second.take_launch("state-1", NOW) is not None
    assert first.take_launch("state-1", NOW) is None


def test_sql_store_with_another_secret_reads_nothing():
    engine = sqlite_engine()
    SqlSmartStore(engine, secret="k" * 32).save_session("sid", launch_session(NOW + timedelta(1)))
    assert SqlSmartStore(engine, secret="z" * 32).get_session("sid", NOW) is None


def test_sql_store_refuses_an_empty_secret():
    with pytest.raises(ValueError, match="CRS_CDS_SECRET_KEY"):
        SqlSmartStore(sqlite_engine(), secret="")
