"""Card times on the EHR's clock (SPEC section 4): the local offset of the patient's own data,
else ``CRS_CDS_TIMEZONE``; day numbers follow the same local date."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hooks.support import (
    SERVICE_OF_HOOK,
    ehr_resources,
    hook_body,
    moment,
    patient_id_of,
    prefetch_for,
)

from cds_service.clock import fixed_clock, set_clock
from cds_service.config import load_settings
from cds_service.errors import SettingsError
from cds_service.hooks import grading_options

_OFFSET_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?[+-]\d{2}:\d{2}")


def _in_utc(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same chart with every timestamp written in UTC ("Z"), as some FHIR servers send."""

    def utc(match: re.Match[str]) -> str:
        moment_ = datetime.fromisoformat(match.group(0)).astimezone(ZoneInfo("UTC"))
        return moment_.strftime("%Y-%m-%dT%H:%M:%SZ")

    return json.loads(_OFFSET_TIME.sub(utc, json.dumps(resources)))


def _figure3(make_app, resources, **settings: str) -> dict[str, Any]:
    as_of = moment("figure3")
    app = make_app(**settings)
    set_clock(app, fixed_clock(as_of))
    body = hook_body(
        "patient-view", patient_id_of(resources), prefetch=prefetch_for(resources), draft_orders=[]
    )
    response = app.test_client().post(
        f"/cds-services/{SERVICE_OF_HOOK['patient-view']}", json=body
    )
    assert response.status_code == 200
    return response.get_json()["cards"][0]


def test_times_follow_the_offset_of_the_patients_data(make_app):
    """The Figure 3 patient is charted at +01:00: tocilizumab at 12:30 UTC reads 13:30."""
    card = _figure3(make_app, ehr_resources("figure3", moment("figure3")))
    assert "Reassess at 12 Jan 13:30:" in card["detail"]
    assert "UTC" not in card["detail"] + card["summary"]


def test_without_an_offset_in_the_data_the_configured_zone_is_used(make_app):
    """The same chart with every time in "Z": CRS_CDS_TIMEZONE decides; without it, UTC (said)."""
    resources = _in_utc(ehr_resources("figure3", moment("figure3")))
    in_utc = _figure3(make_app, resources)
    assert "Reassess at 12 Jan 12:30 UTC:" in in_utc["detail"]
    tokyo = _figure3(make_app, resources, CRS_CDS_TIMEZONE="Asia/Tokyo")
    assert "Reassess at 12 Jan 21:30:" in tokyo["detail"]
    # Day numbers follow the same local date: 20:00 UTC on day 6 is 05:00 on day 7 in Tokyo.
    assert in_utc["extension"]["org.crscds.assessment"]["therapy"]["day"] == 6
    assert tokyo["extension"]["org.crscds.assessment"]["therapy"]["day"] == 7


def test_the_setting_is_an_iana_zone_and_a_bad_one_fails_at_start():
    settings = load_settings({"CRS_CDS_TIMEZONE": "America/Los_Angeles"})
    assert settings.timezone == ZoneInfo("America/Los_Angeles")
    assert grading_options(settings).timezone == ZoneInfo("America/Los_Angeles")
    assert load_settings({}).timezone == load_settings({"CRS_CDS_TIMEZONE": "UTC"}).timezone
    with pytest.raises(SettingsError, match="^CRS_CDS_TIMEZONE must be an IANA time zone"):
        load_settings({"CRS_CDS_TIMEZONE": "Mars/Olympus_Mons"})
