"""Wrong JSON types and out-of-range values that gave 500 (issue 11), one test per member of
the family the attack found: an element the service reads holding a list or an object where a
code or string belongs (``entry.search.mode``, ``coding.system``, ``status`` of an Observation
or of a draft MedicationRequest), a date-time whose conversion to UTC overflows, a dated
element present but null, dates at datetime's limits. Each is skipped and reported or refused
with 400 naming the field; none is a 500. The seeded fuzz test (``test_fuzz``) covers the
rest of the family.
"""

from __future__ import annotations

import copy

import pytest

from cds_service.services import PROCEDURES_KEY

from .fuzz import HOOKS, case_pools, hook_call
from .harness import DEMO_AS_OF, assert_defined_answer, timed

POOLS = {pool.case: pool for pool in case_pools(DEMO_AS_OF)}


def _call(client, hook, mutate, case="case3"):
    service_id, hook_name = next((s, h) for s, h in HOOKS if h == hook)
    pool = POOLS[case]
    body = copy.deepcopy(hook_call(pool, service_id, hook_name, list(pool.others), orders=2))
    mutate(body)
    response, elapsed = timed(lambda: client.post(f"/cds-services/{service_id}", json=body))
    return assert_defined_answer(response, elapsed, allowed={200}), body


def _first(body, resource_type="Observation"):
    """The first prefetch entry holding a ``resource_type``, under whichever key."""
    return next(
        entry
        for value in body["prefetch"].values()
        for entry in value.get("entry", [])
        if entry["resource"]["resourceType"] == resource_type
    )


def _skipped(answer):
    found = []
    for card in answer["cards"]:
        extension = card.get("extension", {}).get("org.crscds.assessment")
        if extension:
            found.extend(extension.get("skipped", []))
    return {item["reference"]: item["reason"] for item in found}


def test_a_search_mode_that_is_a_list_skips_the_entry(fault_client):
    def mutate(body):
        _first(body)["search"] = {"mode": ["match"]}

    answer, _ = _call(fault_client, "patient-view", mutate)
    assert answer["cards"]


def test_a_coding_system_that_is_a_list_is_no_code(fault_client):
    def mutate(body):
        _first(body)["resource"]["code"]["coding"][0]["system"] = [
            "http://loinc.org"
        ]

    answer, _ = _call(fault_client, "patient-view", mutate)
    assert answer["cards"]


@pytest.mark.parametrize("status", [{"code": "final"}, ["final"], 7])
def test_an_observation_status_that_is_not_a_code_skips_it_with_a_reason(fault_client, status):
    def mutate(body):
        _first(body)["resource"]["status"] = status

    answer, body = _call(fault_client, "patient-view", mutate)
    resource = _first(body)["resource"]
    reference = f"Observation/{resource['id']}"
    assert _skipped(answer).get(reference) == "status is not a code"


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
@pytest.mark.parametrize("status", [{"code": "draft"}, ["draft"]])
def test_a_draft_order_status_that_is_not_a_code_is_not_a_500(fault_client, hook, status):
    def mutate(body):
        body["context"]["draftOrders"]["entry"][0]["resource"]["status"] = status

    answer, _ = _call(fault_client, hook, mutate)
    assert answer["cards"]


def test_a_procedure_period_that_is_null_skips_the_procedure(fault_client):
    def mutate(body):
        entries = body["prefetch"][PROCEDURES_KEY]["entry"]
        twin = copy.deepcopy(entries[0]["resource"])  # the infusion keeps the patient in scope
        twin["id"] = "infusion-twin"
        twin.pop("performedDateTime", None)
        twin["performedPeriod"] = None
        entries.append({"resource": twin})

    answer, _ = _call(fault_client, "patient-view", mutate, case="case3")
    assert _skipped(answer).get("Procedure/infusion-twin") == "performedPeriod is not a period"


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:30:00Z", "0001-01-01", "9999-12-31T23:30:00Z", "1799-12-31T23:59:59Z"]
)
def test_dates_at_the_limits_of_datetime_are_skipped_not_computed_with(fault_client, when):
    def mutate(body):
        _first(body)["resource"]["effectiveDateTime"] = when

    answer, body = _call(fault_client, "patient-view", mutate)
    resource = _first(body)["resource"]
    reason = _skipped(answer).get(f"Observation/{resource['id']}", "")
    assert reason.startswith("effectiveDateTime is not a plausible date-time")


# --- the request itself ---------------------------------------------------------------------


@pytest.mark.parametrize("timestamp", ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"])
def test_a_feedback_timestamp_that_overflows_in_utc_is_400_naming_the_field(client, timestamp):
    item = {"card": "c-1", "outcome": "overridden", "outcomeTimestamp": timestamp}
    response = client.post("/cds-services/crs-patient-view/feedback", json={"feedback": [item]})
    assert response.status_code == 400
    issue = response.get_json()["issue"][0]
    assert issue["diagnostics"] == "feedback[0].outcomeTimestamp is out of range"


def test_a_5_mb_hook_value_is_quoted_as_a_short_prefix(client):
    body = {"hook": "x" * 5_000_000, "hookInstance": "h-1", "context": {}}
    response = client.post("/cds-services/crs-patient-view", json=body)
    assert response.status_code == 400
    assert len(response.data) < 1000
    diagnostics = response.get_json()["issue"][0]["diagnostics"]
    assert diagnostics == (
        f"hook is {'x' * 40!r}... (5000000 characters) but service crs-patient-view answers "
        "'patient-view'"
    )


def test_an_unknown_service_id_is_quoted_as_a_short_prefix(client):
    response = client.post("/cds-services/" + "s" * 5000, json={})
    assert response.status_code == 404
    assert len(response.data) < 1000
