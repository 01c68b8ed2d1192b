"""The watch's jobs on the embedded engine (huey on SQLite): evaluate, alert once per rise,
deliver idempotently, retry with backoff, dead-letter, survive a restart, recover the work of a
killed worker, and coalesce. Case 3 of the seed is the story: grade 1 on day 4, grade 2 at day 5
noon, grade 3 that evening."""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.communication import Communication
from sqlalchemy import func, select

from cds_service.watch import commands, get_watch
from cds_service.watch.alerts import verify_webhook_signature
from cds_service.watch.commands import poll_once, status_document
from cds_service.watch.queue import queue_kind
from cds_service.watch.store import Claim, ClaimOutcome
from cds_service.watch.tables import (
    watch_alerts_table,
    watch_evaluations_table,
    watch_patients_table,
)

from .conftest import (
    DAY4_NOON,
    DAY5_EVENING,
    DAY5_NOON,
    FHIR,
    PUBLIC,
    RISER,
    SUBSCRIPTION,
    WEBHOOK_SECRET,
    at,
    drain,
    post,
)
from .notices import r4_notification

_numbers = iter(range(1, 10_000))


def notify(app, patient_id=RISER):
    bundle = r4_notification(
        FHIR,
        SUBSCRIPTION,
        events=[{"number": next(_numbers), "focus": f"Patient/{patient_id}"}],
    )
    response = post(app, bundle)
    assert response.status_code == 200, response.get_json()


def alerts(app, patient_id=RISER):
    return get_watch(app).store.alerts_of(patient_id)


def count(app, table):
    with get_watch(app).store.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar()


def test_the_embedded_default_is_sqlite_in_the_instance_folder(make_app, watch_env, ehr, tmp_path):
    env = {k: v for k, v in watch_env.items() if k != "CRS_CDS_WATCH_QUEUE_URL"}
    app = make_app(**env)
    runtime = get_watch(app)
    assert runtime.queue_kind == "sqlite" == queue_kind(None)
    assert runtime.queue.huey.storage.filename.endswith("instance/watch-queue.sqlite3")


def test_case_3_alerts_once_when_its_grade_rises_to_2_at_day_5_noon(watch_app, ehr):
    at(watch_app, DAY4_NOON)
    notify(watch_app)
    drain(watch_app)
    assert alerts(watch_app) == []
    (evaluation,) = get_watch(watch_app).store.evaluations_of(RISER)
    assert evaluation["grades"] == {"crs": 1, "icans": 0} and not evaluation["alerted"]

    at(watch_app, DAY5_NOON)
    notify(watch_app)
    drain(watch_app)
    (alert,) = alerts(watch_app)
    assert alert.reasons == ({"kind": "grade-rise", "measure": "crs", "from": 1, "to": 2},)
    assert alert.delivered
    assert alert.summary.startswith("CRS grade 2 (Lee 2014), day 5 after CAR T-cell therapy")
    assert "Observation/crs-demo-case3-bp-39" in alert.evidence  # the hypotension reading

    (communication,) = ehr.communications
    Communication.model_validate(communication)  # a valid FHIR R4 Communication
    assert communication["status"] == "completed"
    assert communication["subject"] == {"reference": f"Patient/{RISER}"}
    assert communication["payload"][0]["contentString"].startswith("CRS grade rose from 1 to 2. ")
    link = communication["payload"][1]["contentAttachment"]["url"]
    assert link == f"{PUBLIC}/smart/launch?iss=https%3A%2F%2Fehr.example.org%2Ffhir"
    assert {"reference": "Observation/crs-demo-case3-bp-39"} in communication["about"]

    ((headers, body),) = ehr.webhooks
    assert verify_webhook_signature(body, headers["x-crs-cds-signature"], WEBHOOK_SECRET)
    assert headers["x-crs-cds-alert-id"] == f"{RISER}.1"
    webhook = json.loads(body)
    assert webhook["patient"] == f"Patient/{RISER}" and webhook["grades"] == {"crs": 2}


def test_the_same_rise_never_alerts_twice_and_a_further_rise_alerts_again(watch_app, ehr):
    at(watch_app, DAY4_NOON)
    notify(watch_app)
    drain(watch_app)
    at(watch_app, DAY5_NOON)
    notify(watch_app)
    drain(watch_app)
    notify(watch_app)  # new data, same grade 2
    drain(watch_app)
    assert len(alerts(watch_app)) == 1
    at(watch_app, DAY5_EVENING)  # two vasopressors: grade 3
    notify(watch_app)
    drain(watch_app)
    newest, first = alerts(watch_app)
    assert newest.reasons == (
        {"kind": "grade-rise", "measure": "crs", "from": 2, "to": 3},
        {"kind": "new-infection-warning", "code": "elevated-lactate"},  # new that evening
    )
    assert len(ehr.communications) == 2 and ehr.communications[1]["priority"] == "stat"
    assert count(watch_app, watch_evaluations_table) == 4


def test_a_patient_at_grade_1_with_an_infection_warning_gets_no_alert(watch_app, ehr):
    """Case 1: grade 1 with neutropenia (SPEC 4b: a new warning alerts from grade 2 only)."""
    notify(watch_app, "crs-demo-case1")
    notify(watch_app, "crs-demo-case2")
    drain(watch_app)
    assert alerts(watch_app, "crs-demo-case1") == [] == alerts(watch_app, "crs-demo-case2")
    assert ehr.communications == [] and ehr.webhooks == []


def test_with_the_alert_grade_at_3_a_new_infection_warning_at_grade_2_alerts(
    make_app, watch_env, ehr
):
    """SPEC 4b: "a new infection warning appears on a patient with grade >= 2" alerts whatever
    CRS_CDS_WATCH_ALERT_GRADE says (review finding: it followed the alert grade). Case 3 at day 5
    noon: grade 2, with a positive blood culture and an infection diagnosis."""
    app = make_app(**watch_env, CRS_CDS_WATCH_ALERT_GRADE="3")
    at(app, DAY5_NOON)
    notify(app)
    drain(app)
    (alert,) = alerts(app)
    assert alert.reasons == (
        {"kind": "new-infection-warning", "code": "infection-diagnosis"},
        {"kind": "new-infection-warning", "code": "positive-blood-culture"},
    )
    assert alert.summary.startswith("CRS grade 2 (Lee 2014)")  # the card's summary, kept
    assert alert.delivered and len(ehr.communications) == 1


def test_a_retry_sends_only_the_channel_that_failed(watch_app, ehr, mocked_http):
    at(watch_app, DAY5_NOON)
    ehr.webhook_secret = "not-what-the-watch-signs-with-0123456789"  # the receiver says 401
    notify(watch_app)
    drain(watch_app)
    (alert,) = alerts(watch_app)
    assert not alert.delivered and alert.deliveries["communication"]["status"] == "sent"
    ehr.webhook_secret = WEBHOOK_SECRET
    drain(watch_app, scheduled=True)
    (alert,) = alerts(watch_app)
    assert alert.delivered
    assert ehr.communication_posts == 1 and len(ehr.communications) == 1
    assert len(ehr.webhooks) == 1


@pytest.mark.parametrize(
    "status",
    [
        pytest.param(503, id="an EHR down (503) for the Communication still lets the webhook go"),
        pytest.param(403, id="a Communication refused for good (403) still lets the webhook go"),
        pytest.param(422, id="a Communication refused as invalid (422) still lets the webhook go"),
    ],
)
def test_one_failing_channel_does_not_block_the_other(watch_app, ehr, status):
    """SPEC 4b: "a FHIR Communication ... and/or a JSON POST to a configured webhook". Review
    finding: the Communication sorts first and its failure stopped the loop, so the job retried,
    became a dead letter, and the webhook was never tried."""
    at(watch_app, DAY5_NOON)
    ehr.fail["Communication"] = status
    notify(watch_app)
    drain(watch_app)
    assert len(ehr.webhooks) == 1  # on the first attempt, beside the failing Communication
    (alert,) = alerts(watch_app)
    assert alert.deliveries["webhook"]["status"] == "sent"
    assert alert.deliveries["communication"]["status"] == "failed"
    assert alert.deliveries["communication"]["error"] == (
        f"Communication POST answered HTTP {status}"
    )
    drain(watch_app, scheduled=True)  # every retry, then the dead letter
    assert len(ehr.webhooks) == 1  # retries send only the channel that failed
    (alert,) = alerts(watch_app)
    assert not alert.delivered
    (letter,) = status_document(get_watch(watch_app))["deadLetters"]
    assert letter["task"] == "alert"
    assert letter["error"] == f"communication: Communication POST answered HTTP {status}"


def test_a_channel_that_fails_then_recovers_is_sent_once_and_the_other_is_not_resent(
    watch_app, ehr
):
    at(watch_app, DAY5_NOON)
    ehr.fail["Communication"] = 503
    notify(watch_app)
    drain(watch_app)
    ehr.fail.clear()
    drain(watch_app, scheduled=True)
    (alert,) = alerts(watch_app)
    assert alert.delivered and alert.deliveries["communication"]["status"] == "sent"
    assert len(ehr.communications) == 1 and len(ehr.webhooks) == 1


def test_a_communication_sent_again_is_kept_once_by_the_conditional_create(watch_app, ehr):
    """A worker killed after the POST and before recording it sends again: one resource."""
    at(watch_app, DAY5_NOON)
    notify(watch_app)
    drain(watch_app)
    runtime = get_watch(watch_app)
    (alert,) = alerts(watch_app)
    with runtime.store.engine.begin() as connection:  # forget that it was delivered
        connection.execute(watch_alerts_table.update().values(delivered_at=None, deliveries="{}"))
    runtime.queue.deliver(alert.id)
    drain(watch_app)
    assert ehr.communication_posts == 2
    assert len(ehr.communications) == 1
    assert {h["x-crs-cds-alert-id"] for h, _ in ehr.webhooks} == {f"{RISER}.1"}


def test_a_failing_job_retries_with_growing_delays_then_becomes_a_dead_letter(watch_app, ehr):
    ehr.fail["Patient"] = 503
    ehr.fail["Observation"] = 503
    notify(watch_app)
    runtime = get_watch(watch_app)
    huey = runtime.queue.huey
    huey.execute(huey.dequeue())  # first attempt fails: a retry is scheduled 1 s later
    (retry,) = huey.scheduled()
    first_delay = (retry.eta - datetime.now(UTC).replace(tzinfo=None)).total_seconds()
    assert 0 < first_delay <= 1.0
    assert retry.retry_delay == 2.0  # CRS_CDS_WATCH_RETRY_DELAY_S, doubled for the next one
    drain(watch_app, scheduled=True)
    document = status_document(runtime)
    (letter,) = document["deadLetters"]
    assert letter["task"] == "evaluate" and letter["subject"] == RISER
    assert letter["attempts"] == 3  # CRS_CDS_WATCH_RETRIES=2, plus the first
    assert "could not be read" in letter["error"]
    assert document["patients"] == {"waiting": 0, "inProgress": 0, "failing": 0}
    # A dead patient is not picked up by the recovery sweep ...
    assert runtime.watcher.recover() == (0, 0, 0)
    # ... but new data (a new notification) or an operator's requeue gives it another try.
    ehr.fail.clear()
    runtime.store.take_dead_letters(None, datetime.now(UTC))
    notify(watch_app)
    drain(watch_app)
    assert runtime.store.evaluations_of(RISER)
    assert status_document(runtime)["deadLetters"] == []


def test_queued_jobs_survive_a_restart(make_app, watch_env, ehr):
    first = make_app(**watch_env)
    at(first, DAY5_NOON)
    notify(first)
    assert get_watch(first).queue.depth()[0] == 1
    del first
    restarted = make_app(**watch_env)  # a new process: same database, same queue file
    at(restarted, DAY5_NOON)
    assert drain(restarted) == 2
    assert len(alerts(restarted)) == 1


def test_a_patient_held_by_a_killed_worker_is_evaluated_again_after_its_lease(watch_app, ehr):
    at(watch_app, DAY5_NOON)
    notify(watch_app)
    runtime = get_watch(watch_app)
    store = runtime.store
    huey = runtime.queue.huey
    assert huey.dequeue() is not None  # a worker took the job ...
    # A lease no loaded machine outlives between two statements; its end is then written,
    # not slept for.
    claim = store.claim(RISER, "killed-worker", time.time(), lease_s=600)
    assert isinstance(claim, Claim)  # ... held the patient, and died: nothing more happens
    assert runtime.watcher.recover() == (0, 0, 0)  # the lease still runs
    with store.engine.begin() as connection:  # the lease ran out
        connection.execute(watch_patients_table.update().values(claimed_until=time.time() - 1))
    assert runtime.watcher.recover() == (1, 0, 0)
    assert runtime.watcher.recover() == (0, 0, 0)  # queued once, not once per sweep
    drain(watch_app)
    assert len(alerts(watch_app)) == 1 and len(ehr.communications) == 1


def test_an_alert_lost_with_its_worker_is_delivered_by_the_sweep(watch_app, ehr, monkeypatch):
    at(watch_app, DAY5_NOON)
    runtime = get_watch(watch_app)
    monkeypatch.setattr(runtime.queue, "deliver", lambda alert_id: None)  # lost on the way
    notify(watch_app)
    drain(watch_app)
    monkeypatch.undo()
    assert ehr.communications == []
    assert runtime.watcher.recover() == (0, 0, 0)  # too young to call lost
    with runtime.store.engine.begin() as connection:  # ten minutes later
        connection.execute(
            watch_alerts_table.update().values(delivery_enqueued_at=time.time() - 600)
        )
    assert runtime.watcher.recover() == (0, 1, 0)
    drain(watch_app)
    assert len(ehr.communications) == 1


def test_a_job_for_a_patient_another_worker_holds_waits_instead_of_failing(watch_app, ehr):
    notify(watch_app)
    runtime = get_watch(watch_app)
    store, huey = runtime.store, runtime.queue.huey
    assert isinstance(store.claim(RISER, "other-worker", time.time(), 30), Claim)
    huey.execute(huey.dequeue())
    (waiting,) = huey.scheduled()
    assert waiting.name == "watch.evaluate" and waiting.retries == 2  # no retry used up
    assert status_document(runtime)["deadLetters"] == []


def test_a_duplicate_job_finds_nothing_new(watch_app, ehr):
    notify(watch_app)
    runtime = get_watch(watch_app)
    runtime.queue.evaluate(RISER)  # e.g. the queue delivered it twice
    assert drain(watch_app) == 3  # evaluate, deliver, and the duplicate
    assert len(runtime.store.evaluations_of(RISER)) == 1
    token = "late"
    assert runtime.store.claim(RISER, token, time.time(), 30) == ClaimOutcome.NOTHING


def test_poll_queues_each_configured_patient_and_coalesces_with_waiting_jobs(
    make_app, watch_env, ehr
):
    app = make_app(
        **watch_env, CRS_CDS_WATCH_POLL_PATIENTS='["crs-demo-case1", "Patient/crs-demo-case2"]'
    )
    runtime = get_watch(app)
    assert runtime.settings.watch.poll_patients == ("crs-demo-case1", "crs-demo-case2")
    assert poll_once(runtime, runtime.settings.watch.poll_patients) == (2, 0)
    assert poll_once(runtime, runtime.settings.watch.poll_patients) == (0, 0)  # still waiting
    drain(app)
    assert len(runtime.store.evaluations_of("crs-demo-case1")) == 1


def test_poll_goes_on_past_a_patient_the_queue_refuses_and_counts_the_failure(
    make_app, watch_env, ehr, monkeypatch, caplog, capsys
):
    """SPEC 4b Input ("poll a configured list of in-scope patients on a schedule"). Review
    finding: the first queue error ended the round, so the patients after it were not polled."""
    app = make_app(
        **watch_env,
        CRS_CDS_WATCH_POLL_PATIENTS='["crs-demo-case1", "crs-demo-case2", "crs-demo-case3"]',
    )
    runtime = get_watch(app)
    enqueue = runtime.queue.evaluate

    def flaky(patient_id):
        if patient_id == "crs-demo-case1":
            raise ConnectionError("queue hiccup")
        enqueue(patient_id)

    monkeypatch.setattr(runtime.queue, "evaluate", flaky)
    assert poll_once(runtime, runtime.settings.watch.poll_patients) == (2, 1)
    (record,) = [
        r for r in caplog.records if r.getMessage() == "watch poll: evaluation not requested"
    ]
    assert record.fields == {"patient": "crs-demo-case1", "error": "ConnectionError"}
    monkeypatch.setattr(commands, "_runtime", lambda: runtime)
    assert commands._poll(argparse.Namespace(once=True)) == 0  # `crs-cds watch poll --once`
    assert capsys.readouterr().out == "polled 3 patients: 0 queued, 2 waiting, 1 failed\n"
    monkeypatch.undo()
    assert runtime.watcher.recover() == (1, 0, 0)  # its request is recorded: the sweep queues it
    drain(app)
    for patient_id in ("crs-demo-case1", "crs-demo-case2", "crs-demo-case3"):
        assert len(runtime.store.evaluations_of(patient_id)) == 1


def test_an_icans_rise_alerts_and_cites_the_ice_score(watch_app, ehr):
    """Case 2 (19 years) on day 2, CRS grade 0: an ICE score of 2/10 charted in the evening is
    ICANS grade 3 (ASTCT 2019): the alert names ICANS and cites the ICE score."""
    patient = "crs-demo-case2"
    at(watch_app, datetime(2026, 1, 7, 19, 0, tzinfo=UTC))
    notify(watch_app, patient)
    drain(watch_app)
    ice = {
        "resourceType": "Observation",
        "id": "ice-evening-1",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                    }
                ]
            }
        ],
        "code": {"text": "ICE score"},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": "2026-01-07T19:30:00Z",
        "valueQuantity": {"value": 2},
    }
    ehr.set_chart(patient, [*ehr.charts[patient], ice])
    at(watch_app, datetime(2026, 1, 7, 21, 0, tzinfo=UTC))
    notify(watch_app, patient)
    drain(watch_app)
    (alert,) = alerts(watch_app, patient)
    assert alert.reasons == ({"kind": "grade-rise", "measure": "icans", "from": 0, "to": 3},)
    assert "Observation/ice-evening-1" in alert.evidence
    newest = get_watch(watch_app).store.evaluations_of(patient)[0]
    assert newest["grades"] == {"crs": 0, "icans": 3}
    assert ehr.communications[0]["priority"] == "stat"
    assert ehr.communications[0]["payload"][0]["contentString"].startswith(
        "ICANS grade rose from 0 to 3."
    )
