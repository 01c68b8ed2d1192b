"""``POST /fhir/subscription-notification``: every payload form of the Subscriptions R5
Backport IG (R4 Parameters status, R4B/R5 SubscriptionStatus; empty, id-only, full-resource),
handshakes and heartbeats, event numbers and gaps, authentication, and bad input (each a clear
4xx OperationOutcome naming what is wrong, never a silent drop)."""

from __future__ import annotations

import json
import tracemalloc

import pytest
from sqlalchemy import select

from cds_service.watch import get_watch
from cds_service.watch.tables import watch_patients_table, watch_subscriptions_table
from tests.security import jwt_support

from .conftest import (
    DAY4_NOON,
    DAY5_NOON,
    FHIR,
    RISER,
    SECRET,
    SUBSCRIPTION,
    at,
    chart,
    drain,
    post,
)
from .notices import r4_notification, r4b_notification

OBSERVATION = next(r for r in chart("case3") if r["resourceType"] == "Observation")


def patients_waiting(app):
    with get_watch(app).store.engine.connect() as connection:
        rows = connection.execute(select(watch_patients_table.c.patient_id)).all()
    return sorted(r.patient_id for r in rows)


def queued(app):
    return get_watch(app).queue.depth()[0]


def subscription_row(app):
    with get_watch(app).store.engine.connect() as connection:
        return connection.execute(select(watch_subscriptions_table)).one()


def diagnostics(response):
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]["diagnostics"]


# --- the payload forms ----------------------------------------------------------------------

PAYLOADS = [
    pytest.param(
        r4_notification(
            FHIR,
            SUBSCRIPTION,
            events=[{"number": 1, "focus": f"{FHIR}/Observation/{OBSERVATION['id']}"}],
            resources=[OBSERVATION],
        ),
        id="R4 full-resource: the focus Observation names its subject",
    ),
    pytest.param(
        r4_notification(
            FHIR,
            SUBSCRIPTION,
            events=[
                {
                    "number": 1,
                    "focus": f"Observation/{OBSERVATION['id']}",
                    "context": [f"{FHIR}/Patient/{RISER}"],
                }
            ],
            id_only_entries=[f"{FHIR}/Observation/{OBSERVATION['id']}"],
        ),
        id="R4 id-only with the Patient as additional context",
    ),
    pytest.param(
        r4_notification(FHIR, SUBSCRIPTION, events=[{"number": 1, "focus": f"Patient/{RISER}"}]),
        id="R4 id-only whose focus is the Patient",
    ),
    pytest.param(
        r4b_notification(
            FHIR,
            SUBSCRIPTION,
            events=[{"number": 1, "focus": f"{FHIR}/Observation/{OBSERVATION['id']}"}],
            resources=[OBSERVATION],
        ),
        id="R4B SubscriptionStatus, full-resource",
    ),
    pytest.param(
        r4b_notification(
            FHIR,
            SUBSCRIPTION,
            events=[
                {
                    "number": 1,
                    "focus": f"Observation/{OBSERVATION['id']}",
                    "context": [f"Patient/{RISER}"],
                }
            ],
            bundle_type="subscription-notification",
        ),
        id="R5 subscription-notification Bundle, id-only",
    ),
]


@pytest.mark.parametrize("bundle", PAYLOADS)
def test_each_payload_form_queues_the_patient_once(watch_app, bundle):
    response = post(watch_app, bundle)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["issue"][0]["severity"] == "information"
    assert patients_waiting(watch_app) == [RISER]
    assert queued(watch_app) == 1


def test_an_id_only_focus_without_its_patient_is_read_to_find_the_patient(watch_app, ehr):
    bundle = r4_notification(
        FHIR, SUBSCRIPTION, events=[{"number": 1, "focus": f"Observation/{OBSERVATION['id']}"}]
    )
    response = post(watch_app, bundle)
    assert response.status_code == 200
    assert "1 references to read" in diagnostics(response)
    assert patients_waiting(watch_app) == []
    drain(watch_app)
    assert f"GET Observation/{OBSERVATION['id']}" in ehr.reads
    assert patients_waiting(watch_app) == [RISER]
    assert get_watch(watch_app).store.evaluations_of(RISER), "the patient was evaluated"


def test_an_empty_payload_re_reads_the_subscriptions_own_patient(watch_app):
    get_watch(watch_app).store.save_subscription(SUBSCRIPTION, "t", RISER, _now())
    response = post(watch_app, r4_notification(FHIR, SUBSCRIPTION, events=[{"number": 1}]))
    assert response.status_code == 200
    assert patients_waiting(watch_app) == [RISER]


def test_an_empty_payload_of_a_subscription_for_many_re_reads_the_patients_in_scope(watch_app):
    store = get_watch(watch_app).store
    post(
        watch_app,
        r4_notification(FHIR, SUBSCRIPTION, events=[{"number": 1, "focus": f"Patient/{RISER}"}]),
    )
    drain(watch_app)
    response = post(watch_app, r4_notification(FHIR, SUBSCRIPTION, events=[{"number": 2}]))
    assert response.status_code == 200
    assert "1 patients (1 newly queued)" in diagnostics(response)
    assert store.in_scope_patients() == [RISER]


def test_notifications_for_one_patient_coalesce_into_one_job(watch_app):
    for number in (1, 2, 3):
        bundle = r4_notification(
            FHIR, SUBSCRIPTION, events=[{"number": number, "focus": f"Patient/{RISER}"}]
        )
        assert post(watch_app, bundle).status_code == 200
    assert queued(watch_app) == 1
    assert drain(watch_app) == 1 + 1  # the evaluation, then its alert's delivery


# --- handshake, heartbeat, event numbers ----------------------------------------------------


def test_a_handshake_is_answered_and_starts_the_event_count(watch_app):
    response = post(
        watch_app, r4_notification(FHIR, SUBSCRIPTION, kind="handshake", status="requested")
    )
    assert response.status_code == 200
    assert diagnostics(response) == "handshake received"
    row = subscription_row(watch_app)
    assert (row.highest_event, row.last_type, row.status) == (0, "handshake", "requested")
    assert queued(watch_app) == 0


def test_a_heartbeat_is_answered_and_queues_nothing(watch_app):
    post(watch_app, r4_notification(FHIR, SUBSCRIPTION, kind="handshake"))
    response = post(watch_app, r4_notification(FHIR, SUBSCRIPTION, kind="heartbeat", since=0))
    assert response.status_code == 200
    assert diagnostics(response) == "heartbeat received"
    assert get_watch(watch_app).queue.depth() == (0, 0)


def test_a_gap_in_event_numbers_schedules_a_catch_up_read(watch_app, ehr):
    post(watch_app, r4_notification(FHIR, SUBSCRIPTION, kind="handshake"))
    first = r4_notification(FHIR, SUBSCRIPTION, events=[{"number": 1, "focus": f"Patient/{RISER}"}])
    post(watch_app, first)
    drain(watch_app)
    third = r4_notification(
        FHIR, SUBSCRIPTION, events=[{"number": 3, "focus": "Patient/crs-demo-case1"}]
    )
    response = post(watch_app, third)
    assert "1 missed events" in diagnostics(response)
    waiting = [task.name for task in get_watch(watch_app).queue.huey.pending()]
    assert "watch.catch-up" in waiting  # it waits for event 2 (CRS_CDS_WATCH_GAP_WAIT_S)
    assert patients_waiting(watch_app) == ["crs-demo-case1", RISER]
    drain(watch_app, scheduled=True)
    # The server has no $events: every patient known in scope is read again.
    assert "GET Subscription/crs-watch-1/$events" in ehr.reads
    assert ehr.reads.count("GET Patient/crs-demo-case3") == 2
    assert subscription_row(watch_app).missing == "[]"


def age_gap(app, seconds):
    """Move the Subscription's gap and catch-up times ``seconds`` into the past."""
    table = watch_subscriptions_table
    with get_watch(app).store.engine.begin() as connection:
        connection.execute(
            table.update().values(
                gap_opened_at=table.c.gap_opened_at - seconds,
                catch_up_enqueued_at=table.c.catch_up_enqueued_at - seconds,
            )
        )


def tasks_waiting(app):
    """Names of the tasks in the queue, ready or scheduled (a delayed task is ready until a
    consumer dequeues it and puts it on the schedule)."""
    huey = get_watch(app).queue.huey
    return [task.name for task in (*huey.pending(), *huey.scheduled())]


def test_a_gap_whose_catch_up_could_not_be_scheduled_is_caught_up_by_the_sweep(
    watch_app, ehr, monkeypatch
):
    """SPEC 4b Input: missed notifications are caught up. Review finding: when scheduling the
    catch-up failed (503), the EHR's resend found the numbers already missing, so nothing
    scheduled it again and the gap was never read."""
    runtime = get_watch(watch_app)
    post(watch_app, r4_notification(FHIR, SUBSCRIPTION, kind="handshake"))
    first = [{"number": 1, "focus": f"Patient/{RISER}"}]
    post(watch_app, r4_notification(FHIR, SUBSCRIPTION, events=first))
    drain(watch_app)

    def broken(*args):
        raise ConnectionError("queue down")

    monkeypatch.setattr(runtime.queue, "catch_up", broken)
    fourth = r4_notification(
        FHIR, SUBSCRIPTION, events=[{"number": 4, "focus": "Patient/crs-demo-case1"}]
    )
    assert post(watch_app, fourth).status_code == 503
    monkeypatch.undo()
    assert post(watch_app, fourth).status_code == 200  # sent again: nothing new is missing
    assert "watch.catch-up" not in tasks_waiting(watch_app)
    assert runtime.watcher.recover() == (0, 0, 0)  # within the gap wait: 2 and 3 may come
    age_gap(watch_app, 31)  # CRS_CDS_WATCH_GAP_WAIT_S (30 s) later
    assert runtime.watcher.recover() == (0, 0, 1)
    assert runtime.watcher.recover() == (0, 0, 0)  # scheduled once, not once per sweep
    drain(watch_app, scheduled=True)
    assert "GET Subscription/crs-watch-1/$events" in ehr.reads
    assert ehr.reads.count(f"GET Patient/{RISER}") == 2  # in scope: read again for 2 and 3
    assert subscription_row(watch_app).missing == "[]"


def test_a_catch_up_lost_with_the_queue_is_scheduled_again_by_the_sweep(watch_app, ehr):
    """Review finding: a catch-up task lost with the queue (a Redis restart without an
    append-only file) was never scheduled again."""
    runtime = get_watch(watch_app)
    post(watch_app, r4_notification(FHIR, SUBSCRIPTION, kind="handshake"))
    first = [{"number": 1, "focus": f"Patient/{RISER}"}]
    post(watch_app, r4_notification(FHIR, SUBSCRIPTION, events=first))
    drain(watch_app)
    heartbeat = r4_notification(FHIR, SUBSCRIPTION, kind="heartbeat", since=3)
    assert "2 missed events" in diagnostics(post(watch_app, heartbeat))
    assert tasks_waiting(watch_app) == ["watch.catch-up"]
    runtime.queue.huey.storage.flush_queue()  # lost
    age_gap(watch_app, 31)
    assert runtime.watcher.recover() == (0, 0, 0)  # it may still be on its way (retries)
    age_gap(watch_app, 600)  # past the gap wait and the time its retries could take
    assert runtime.watcher.recover() == (0, 0, 1)
    drain(watch_app, scheduled=True)
    assert ehr.reads.count(f"GET Patient/{RISER}") == 2
    assert subscription_row(watch_app).missing == "[]"
    assert runtime.watcher.recover() == (0, 0, 0)


def test_a_late_notification_fills_the_gap_and_the_catch_up_does_nothing(watch_app, ehr):
    post(watch_app, r4_notification(FHIR, SUBSCRIPTION, kind="handshake"))
    for number in (2, 1):  # 2 arrives first: 1 looks missing, then arrives
        bundle = r4_notification(
            FHIR, SUBSCRIPTION, events=[{"number": number, "focus": f"Patient/{RISER}"}]
        )
        post(watch_app, bundle)
    assert subscription_row(watch_app).missing == "[]"
    drain(watch_app, scheduled=True)
    assert not any("$events" in read for read in ehr.reads)
    assert subscription_row(watch_app).gaps == 1


def test_a_heartbeat_counting_more_events_than_arrived_is_a_gap(watch_app):
    post(watch_app, r4_notification(FHIR, SUBSCRIPTION, kind="handshake"))
    response = post(watch_app, r4_notification(FHIR, SUBSCRIPTION, kind="heartbeat", since=2))
    assert "2 missed events" in diagnostics(response)


def test_a_handshake_with_a_count_keeps_open_gaps_and_finds_new_ones(watch_app):
    """SPEC 4b Input (Backport IG: events-since-subscription-start). Review finding: a handshake
    counting 15 events (a Subscription already running) dropped the open gap 1-8 and hid 10-15."""
    post(watch_app, r4_notification(FHIR, SUBSCRIPTION, kind="handshake"))
    ninth = r4_notification(FHIR, SUBSCRIPTION, events=[{"number": 9, "focus": f"Patient/{RISER}"}])
    assert "8 missed events" in diagnostics(post(watch_app, ninth))
    again = r4_notification(FHIR, SUBSCRIPTION, kind="handshake", since=15)
    assert "6 missed events" in diagnostics(post(watch_app, again))  # 10 to 15
    row = subscription_row(watch_app)
    assert row.highest_event == 15
    assert json.loads(row.missing) == [*range(1, 9), *range(10, 16)]


def test_a_handshake_counting_0_starts_the_count_again(watch_app):
    post(watch_app, r4_notification(FHIR, SUBSCRIPTION, kind="handshake"))
    ninth = r4_notification(FHIR, SUBSCRIPTION, events=[{"number": 9, "focus": f"Patient/{RISER}"}])
    post(watch_app, ninth)
    post(watch_app, r4_notification(FHIR, SUBSCRIPTION, kind="handshake", since=0))
    row = subscription_row(watch_app)
    assert (row.highest_event, row.missing) == (0, "[]")


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("heartbeat", id="a heartbeat counting a million more events"),
        pytest.param("event-notification", id="an event number a million above the highest"),
    ],
)
def test_a_jump_in_event_numbers_keeps_the_last_1000_without_building_the_range(watch_app, kind):
    """Event numbers (SPEC 4b Input): at most the last 1,000 missing numbers are kept. Review
    finding: a jump of millions built the whole range in memory before trimming it."""
    store = get_watch(watch_app).store
    now = _now()
    store.record_notification(
        SUBSCRIPTION,
        kind="handshake",
        status="active",
        topic=None,
        events_since_start=0,
        event_numbers=[],
        at=now,
    )
    jump = 1_000_000
    tracemalloc.start()
    try:
        new = store.record_notification(
            SUBSCRIPTION,
            kind=kind,
            status="active",
            topic=None,
            events_since_start=jump,
            event_numbers=[jump] if kind == "event-notification" else [],
            at=now,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    last = jump if kind == "heartbeat" else jump - 1  # the event itself arrived
    assert new == list(range(last - 999, last + 1))
    assert json.loads(subscription_row(watch_app).missing) == new
    assert peak < 8 * 1024 * 1024  # the whole range is tens of megabytes


def test_the_catch_up_uses_events_when_the_server_has_it(watch_app, ehr):
    ehr.events_answer = r4_notification(
        FHIR,
        SUBSCRIPTION,
        kind="query-event",
        events=[{"number": 1, "focus": "Patient/crs-demo-case2"}],
    )
    post(watch_app, r4_notification(FHIR, SUBSCRIPTION, kind="handshake"))
    post(
        watch_app,
        r4_notification(FHIR, SUBSCRIPTION, events=[{"number": 2, "focus": f"Patient/{RISER}"}]),
    )
    drain(watch_app, scheduled=True)
    assert patients_waiting(watch_app) == ["crs-demo-case2", RISER]
    assert ehr.reads.count(f"GET Patient/{RISER}") == 1  # $events covered it: no full re-read


@pytest.mark.parametrize(
    "answered",
    [
        pytest.param(
            [{"number": 2, "focus": "Patient/crs-demo-case1"}],
            id="$events answering event 2 of 2-4 re-reads everyone for 3 and 4",
        ),
        pytest.param(
            [
                {"number": 2, "focus": "Patient/crs-demo-case1"},
                {"number": 3},
                {"number": 4},
            ],
            id="$events events 3 and 4 without a focus say nothing: everyone is re-read",
        ),
    ],
)
def test_a_partial_events_answer_re_reads_everyone_for_the_rest(watch_app, ehr, answered):
    """SPEC 4b Input (missed notifications, Backport IG $events). Review finding: with events 2
    to 4 missing and $events answering only event 2, the catch-up re-read event 2's patient and
    forgot 3 and 4: whoever they were about was never re-read."""
    ehr.events_answer = r4_notification(FHIR, SUBSCRIPTION, kind="query-event", events=answered)
    post(watch_app, r4_notification(FHIR, SUBSCRIPTION, kind="handshake"))
    first = [{"number": 1, "focus": f"Patient/{RISER}"}]
    post(watch_app, r4_notification(FHIR, SUBSCRIPTION, events=first))
    drain(watch_app)
    assert get_watch(watch_app).store.in_scope_patients() == [RISER]
    fifth = [{"number": 5, "focus": "Patient/crs-demo-case2"}]
    assert "3 missed events" in diagnostics(
        post(watch_app, r4_notification(FHIR, SUBSCRIPTION, events=fifth))
    )
    drain(watch_app, scheduled=True)
    assert patients_waiting(watch_app) == ["crs-demo-case1", "crs-demo-case2", RISER]
    assert ehr.reads.count(f"GET Patient/{RISER}") == 2  # in scope: read again for 3 and 4
    assert subscription_row(watch_app).missing == "[]"


# --- authentication -------------------------------------------------------------------------


def test_without_credentials_a_notification_is_refused(watch_app):
    bundle = r4_notification(
        FHIR, SUBSCRIPTION, events=[{"number": 1, "focus": f"Patient/{RISER}"}]
    )
    response = post(watch_app, bundle, secret=None)
    assert response.status_code == 401
    assert diagnostics(response) == "unauthorized"
    assert patients_waiting(watch_app) == []


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("wrong-secret-0123456789-abcdefghijklmn", id="a wrong secret"),
        pytest.param(SECRET[:-1], id="the secret less its last character"),
        pytest.param("", id="an empty secret"),
    ],
)
def test_a_wrong_shared_secret_is_refused(watch_app, secret):
    bundle = r4_notification(
        FHIR, SUBSCRIPTION, events=[{"number": 1, "focus": f"Patient/{RISER}"}]
    )
    assert post(watch_app, bundle, secret=secret).status_code == 401


def test_a_secret_is_good_only_for_its_own_subscription(watch_app):
    bundle = r4_notification(FHIR, "another", events=[{"number": 1, "focus": f"Patient/{RISER}"}])
    assert post(watch_app, bundle).status_code == 401
    assert patients_waiting(watch_app) == []


def test_a_jwt_of_a_trusted_issuer_is_accepted_like_for_the_hooks(make_app, watch_env, ehr):
    import json

    trusted = {jwt_support.ISSUER: {"jwks": jwt_support.jwks("k1")}}
    app = make_app(
        **{
            **watch_env,
            "CRS_CDS_TRUSTED_ISSUERS": json.dumps(trusted),
            "CRS_CDS_PUBLIC_URL": jwt_support.BASE,
        }
    )
    bundle = r4_notification(
        FHIR, "any-subscription", events=[{"number": 1, "focus": f"Patient/{RISER}"}]
    )
    token = jwt_support.token("/fhir/subscription-notification")
    good = post(app, bundle, secret=None, Authorization=f"Bearer {token}")
    assert good.status_code == 200
    replay = post(app, bundle, secret=None, Authorization=f"Bearer {token}")
    assert replay.status_code == 401
    other_audience = jwt_support.token("/cds-services")
    assert (
        post(app, bundle, secret=None, Authorization=f"Bearer {other_audience}").status_code == 401
    )


# --- bad input ------------------------------------------------------------------------------


def _with(mutate):
    bundle = r4_notification(
        FHIR, SUBSCRIPTION, events=[{"number": 1, "focus": f"Patient/{RISER}"}]
    )
    mutate(bundle)
    return bundle


def _parameters(bundle):
    return bundle["entry"][0]["resource"]["parameter"]


def _event_parts(bundle):
    return next(p for p in _parameters(bundle) if p["name"] == "notification-event")["part"]


BAD = [
    pytest.param({"resourceType": "Patient", "id": "x"}, "FHIR Bundle", id="not a Bundle"),
    pytest.param(
        _with(lambda b: b.update(type="searchset")), "Bundle.type", id="a searchset Bundle"
    ),
    pytest.param(_with(lambda b: b.update(entry=[])), "entry[0]", id="no entries"),
    pytest.param(
        _with(lambda b: b["entry"][0].update(resource={"resourceType": "Patient"})),
        "Parameters",
        id="a first entry that is not a status",
    ),
    pytest.param(
        _with(lambda b: _parameters(b).pop(0)), "'subscription'", id="no subscription parameter"
    ),
    pytest.param(
        _with(lambda b: _parameters(b)[0].update(valueReference={"reference": "Patient/1"})),
        "Subscription",
        id="a subscription parameter that names no Subscription",
    ),
    pytest.param(
        _with(lambda b: _parameters(b)[3].update(valueCode="bogus")),
        "handshake, heartbeat, event-notification",
        id="an unknown notification type",
    ),
    pytest.param(
        _with(lambda b: _event_parts(b)[0].update(valueString="two")),
        "event-number",
        id="an event number that is not a number",
    ),
    pytest.param(
        _with(lambda b: _event_parts(b)[0].update(valueString="-3")),
        "event-number",
        id="a negative event number",
    ),
    pytest.param(
        _with(lambda b: _event_parts(b).pop(0)), "no event-number", id="an event without number"
    ),
    pytest.param(
        _with(
            lambda b: _event_parts(b)[2].update(
                valueReference={"reference": "https://elsewhere.example.com/fhir/Patient/1"}
            )
        ),
        "not a reference to a resource on the watched FHIR server",
        id="a focus on another server",
    ),
    pytest.param(
        _with(lambda b: _parameters(b)[3].update(valueCode="query-status")),
        "answers $status",
        id="a $status answer posted as a notification",
    ),
]


@pytest.mark.parametrize(("bundle", "says"), BAD)
def test_a_malformed_notification_is_a_400_that_says_what_is_wrong(watch_app, bundle, says):
    response = post(watch_app, bundle)
    assert response.status_code == 400
    assert says in diagnostics(response)
    assert patients_waiting(watch_app) == []


def test_a_body_that_is_not_json_is_a_400_and_another_media_type_a_415(watch_app):
    client = watch_app.test_client()
    headers = {"X-CRS-CDS-Subscription-Secret": SECRET}
    broken = client.post(
        "/fhir/subscription-notification",
        data="{",
        content_type="application/fhir+json",
        headers=headers,
    )
    assert broken.status_code == 400 and diagnostics(broken) == "the request body is not valid JSON"
    text = client.post(
        "/fhir/subscription-notification", data="hi", content_type="text/plain", headers=headers
    )
    assert text.status_code == 415


def test_when_the_queue_fails_the_sender_is_told_to_send_again(watch_app, monkeypatch):
    runtime = get_watch(watch_app)

    def broken(patient_id):
        raise ConnectionError("queue down")

    monkeypatch.setattr(runtime.queue, "evaluate", broken)
    bundle = r4_notification(
        FHIR, SUBSCRIPTION, events=[{"number": 1, "focus": f"Patient/{RISER}"}]
    )
    response = post(watch_app, bundle)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    assert "send it again" in diagnostics(response)
    # The request is recorded and no job is marked as waiting: the recovery sweep queues it.
    monkeypatch.undo()
    assert runtime.watcher.recover() == (1, 0, 0)


def test_the_endpoint_does_not_exist_when_the_watch_is_off(app):
    response = app.test_client().post("/fhir/subscription-notification", json={})
    assert response.status_code == 404


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


@pytest.mark.parametrize("status", [500, 403])
def test_a_partial_read_never_takes_a_patient_off_the_watch(watch_app, ehr, status):
    """SPEC 4b: the watch re-reads the patients in scope. Found in review: one evaluation whose
    administrations and procedures could not be read (the therapy is in them) marked the patient
    out of scope, and the poll list lost them for good."""
    store = get_watch(watch_app).store
    at(watch_app, DAY4_NOON)
    focus = [{"number": 1, "focus": f"Patient/{RISER}"}]
    post(watch_app, r4_notification(FHIR, SUBSCRIPTION, events=focus))
    drain(watch_app)
    assert store.in_scope_patients() == [RISER]

    at(watch_app, DAY5_NOON)  # a later evaluation, so that it updates the patient's state
    ehr.fail["MedicationAdministration"] = status
    ehr.fail["Procedure"] = status
    focus = [{"number": 2, "focus": f"Patient/{RISER}"}]
    post(watch_app, r4_notification(FHIR, SUBSCRIPTION, events=focus))
    drain(watch_app)
    (latest, *_) = sorted(store.evaluations_of(RISER), key=lambda e: e["id"], reverse=True)
    assert latest["partial"] is True and latest["inScope"] is False  # what that read saw
    assert store.in_scope_patients() == [RISER]  # and the patient stays watched
