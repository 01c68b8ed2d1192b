"""What the watch records and shows (SPEC 4b "Record"): the SMART page's section of the
patient's evaluations and alerts, the operator's status and requeue, and the metrics."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from cds_service import cli
from cds_service.smart import remember_view
from cds_service.smart.store import LaunchSession
from cds_service.watch import get_watch, patient_history

from .conftest import DAY4_NOON, DAY5_NOON, FHIR, RISER, SUBSCRIPTION, at, drain, post
from .notices import r4_notification


def rise(app):
    """Case 3 seen on day 4 (grade 1), then at day 5 noon (grade 2): one alert."""
    for number, moment in ((1, DAY4_NOON), (2, DAY5_NOON)):
        at(app, moment)
        bundle = r4_notification(
            FHIR, SUBSCRIPTION, events=[{"number": number, "focus": f"Patient/{RISER}"}]
        )
        assert post(app, bundle).status_code == 200
        drain(app)


def open_smart_page(app, iss=FHIR, patient=RISER):
    store = app.extensions["crs_cds_smart"].store
    client = app.test_client()
    with client.session_transaction() as session:
        remember_view(session, "ctx-1", "browser-1")
    store.save_session(
        "ctx-1",
        LaunchSession(
            iss=iss,
            patient=patient,
            access_token="t",
            scope="launch patient/*.rs",
            need_patient_banner=False,
            browser="browser-1",
            expires_at=(datetime.now(UTC) + timedelta(hours=1)).timestamp(),
        ),
    )
    return client.get("/smart/app", query_string={"ctx": "ctx-1"})


def section(html):
    match = re.search(r'<section class="watch".*?</section>', html, re.S)
    return match.group(0) if match else None


def test_the_smart_page_shows_the_watchs_evaluations_and_the_alert_sent(watch_app, ehr):
    rise(watch_app)
    page = open_smart_page(watch_app)
    assert page.status_code == 200
    shown = section(page.get_data(as_text=True))
    assert shown is not None
    assert "CRS grade rose from 1 to 2" in shown
    assert "communication sent, webhook sent" in shown
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td>", shown)
    assert rows == [("10 Jan 20:00 UTC", "CRS 2, ICANS 0"), ("9 Jan 20:00 UTC", "CRS 1, ICANS 0")]


def test_the_section_is_not_shown_for_a_patient_of_another_ehr(watch_app, ehr):
    """The same id on another FHIR server is another patient."""
    rise(watch_app)
    assert patient_history(watch_app, "https://other-ehr.example.org/fhir", RISER) is None
    assert patient_history(watch_app, FHIR + "/", RISER) is not None


def test_status_lists_queue_failures_and_dead_letters_and_requeue_retries_them(
    watch_app, ehr, watch_env, monkeypatch, capsys
):
    for name, value in watch_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", str(get_watch(watch_app).store.engine.url))
    ehr.fail["Patient"] = 500
    bundle = r4_notification(
        FHIR, SUBSCRIPTION, events=[{"number": 1, "focus": f"Patient/{RISER}"}]
    )
    post(watch_app, bundle)
    drain(watch_app, scheduled=True)

    metrics = watch_app.test_client().get("/metrics").get_data(as_text=True)
    assert 'crs_cds_watch_failures_total{task="evaluate"} 3.0' in metrics  # 1 + 2 retries
    assert "crs_cds_watch_dead_letters 1.0" in metrics

    assert cli.main(["watch", "status"]) == 0
    text = capsys.readouterr().out
    assert "queue (sqlite): 0 ready, 0 scheduled" in text
    assert re.search(r"#1 evaluate crs-demo-case3: the patient's record could not be read", text)

    assert cli.main(["watch", "status", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [letter["subject"] for letter in document["deadLetters"]] == [RISER]

    ehr.fail.clear()
    assert cli.main(["watch", "requeue", "--all"]) == 0
    assert "1 dead letters queued again" in capsys.readouterr().out
    drain(watch_app)
    assert get_watch(watch_app).store.evaluations_of(RISER)
    assert cli.main(["watch", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["deadLetters"] == []


def test_watch_commands_refuse_to_run_when_the_watch_is_off(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert cli.main(["watch", "status"]) == 2
    assert "the watch is off: set CRS_CDS_WATCH_FHIR_URL" in capsys.readouterr().err


def test_metrics_show_queue_depth_alerts_sent_latency_and_failures(watch_app, ehr):
    rise(watch_app)
    bundle = r4_notification(
        FHIR, SUBSCRIPTION, events=[{"number": 3, "focus": f"Patient/{RISER}"}]
    )
    post(watch_app, bundle)  # one job waiting
    text = watch_app.test_client().get("/metrics").get_data(as_text=True)

    def value(pattern):
        match = re.search(rf"^{pattern} (\S+)$", text, re.M)
        assert match, pattern
        return float(match.group(1))

    assert value(r'crs_cds_watch_queue_depth\{state="ready"\}') == 1
    assert value(r'crs_cds_watch_patients\{state="waiting"\}') == 1
    assert value(r'crs_cds_watch_alerts_sent_total\{channel="communication"\}') == 1
    assert value(r'crs_cds_watch_alerts_sent_total\{channel="webhook"\}') == 1
    assert value("crs_cds_watch_job_latency_seconds_count") == 2
    assert (
        value(r'crs_cds_watch_notifications_total\{outcome="accepted",type="event-notification"\}')
        == 3
    )
    assert value("crs_cds_watch_dead_letters") == 0
    assert value(r'crs_cds_watch_subscription_silence_seconds\{subscription="crs-watch-1"\}') < 120


def test_in_multiprocess_mode_the_watch_gauges_and_counters_are_in_the_sum(tmp_path, watch_env):
    """Under gunicorn (prometheus_client multiprocess mode) /metrics adds up every worker's
    files; the watch's scrape-time gauges must still be there. In a child process, since the
    mode is chosen once per process."""
    import os
    import subprocess
    import sys

    folder = tmp_path / "metrics"
    folder.mkdir()
    script = """
import os, sys
from cds_service import create_app
app = create_app(dict(os.environ))
client = app.test_client()
bundle = {"resourceType": "Bundle", "type": "history", "entry": [{"resource": {
    "resourceType": "Parameters", "parameter": [
        {"name": "subscription", "valueReference": {"reference": "Subscription/crs-watch-1"}},
        {"name": "type", "valueCode": "heartbeat"}]}}]}
answer = client.post("/fhir/subscription-notification", json=bundle)
assert answer.status_code == 200, answer.get_json()
sys.stdout.write(client.get("/metrics").get_data(as_text=True))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRS_CDS_")}
    env.update(watch_env)
    env.update(
        CRS_CDS_AUTH="none",
        DATABASE_URL=f"sqlite:///{tmp_path / 'mp.sqlite3'}",
        PROMETHEUS_MULTIPROC_DIR=str(folder),
    )
    run = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert 'crs_cds_watch_queue_depth{state="ready"} 0.0' in run.stdout
    assert "crs_cds_watch_dead_letters 0.0" in run.stdout
    assert (
        'crs_cds_watch_notifications_total{outcome="accepted",type="heartbeat"} 1.0' in run.stdout
    )
    assert any(folder.iterdir()), "the counters were written to the shared folder"


def test_an_alert_says_each_reason_in_clinical_words():
    from cds_service.watch.alerts import alert_content
    from cds_service.watch.store import AlertRecord

    alert = AlertRecord(
        id=1,
        patient_id="p1",
        rise_number=2,
        raised_at=datetime(2026, 1, 11, 2, 0, tzinfo=UTC),
        reasons=(
            {"kind": "grade-rise", "measure": "crs", "from": 2, "to": 3},
            {"kind": "new-infection-warning", "code": "elevated-lactate"},
        ),
        summary="CRS grade 3 (Lee 2014), day 5 after CAR T-cell therapy: tocilizumab",
        evidence=("Observation/lac1",),
        deliveries={},
        delivered=False,
    )
    content = alert_content(alert, "https://cds.example.org/smart/launch")
    assert content.key == "p1.2"
    assert content.headline == "CRS grade rose from 2 to 3; new infection warning: elevated lactate"
    assert content.summary.startswith(content.headline + ". CRS grade 3 (Lee 2014)")
    assert content.grades == {"crs": 3} and content.top_grade == 3
