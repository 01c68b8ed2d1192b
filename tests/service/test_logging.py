"""Logs: JSON lines on stderr with the hookInstance as correlation id; no tokens, bodies or
patient data beyond resource ids (DEVELOPERS.md standards)."""

from __future__ import annotations

import json

import responses

from .support import ABSENT, FHIR, TOKEN, full_prefetch, hook_body, observation, searchset


def test_log_lines_are_json_with_the_hook_instance_and_no_secrets(client, capsys, mocked_http):
    mocked_http.add(responses.GET, f"{FHIR}/Observation", json=searchset([observation("obs-7")]))
    mocked_http.add(responses.GET, f"{FHIR}/Condition", status=500)
    prefetch = full_prefetch(vitals=ABSENT, conditions=ABSENT)
    prefetch["patient"]["name"] = [{"family": "Zyxwvut"}]
    body = hook_body(prefetch=prefetch, fhir_server=FHIR, token=TOKEN, hook_instance="hi-42")
    capsys.readouterr()

    response = client.post("/cds-services/crs-patient-view", json=body)

    assert response.status_code == 200
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert lines, "expected log lines"
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert all(line.get("hookInstance") == "hi-42" for line in lines)
    assert any(line["message"] == "hook answered" for line in lines)
    assert any(line.get("problem") == "the FHIR server answered HTTP 500" for line in lines)
    assert TOKEN not in err
    assert "Zyxwvut" not in err and "1960-01-01" not in err


def test_the_correlation_id_does_not_leak_into_the_next_request(client, capsys):
    client.post("/cds-services/crs-patient-view", json=hook_body(prefetch=full_prefetch()))
    capsys.readouterr()
    client.get("/healthz")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines and all("hookInstance" not in line for line in lines)
