"""A patient out of scope gets no cards (SPEC 2.1), and the log line says why (issue 14): no
CRS-associated therapy in the scope window. Without patient data: no id, no drug names."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from cds_service.clock import fixed_clock, set_clock

from .support import PATIENT_ID, full_prefetch, hook_body, searchset


def test_an_out_of_scope_call_logs_why_it_has_no_cards(client, caplog):
    body = hook_body(prefetch=full_prefetch(medications=searchset([])))
    with caplog.at_level(logging.INFO, logger="cds_service"):
        response = client.post("/cds-services/crs-patient-view", json=body)
    assert response.get_json() == {"cards": []}
    lines = [r for r in caplog.records if "out of scope" in r.getMessage()]
    assert [r.getMessage() for r in lines] == [
        "patient out of scope: no CRS-associated therapy in the scope window; no cards"
    ]
    assert lines[0].fields == {"service": "crs-patient-view", "outOfScope": True}
    assert PATIENT_ID not in caplog.text


def test_an_in_scope_call_logs_no_such_line(app, client, caplog):
    set_clock(app, fixed_clock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC)))  # day 5
    with caplog.at_level(logging.INFO, logger="cds_service"):
        client.post("/cds-services/crs-patient-view", json=hook_body(prefetch=full_prefetch()))
    assert "out of scope" not in caplog.text
