"""Seeded, bounded fuzzing of the hook and feedback endpoints (issue 11): thousands of mutated
bodies, never a 500.

Every mutated body is a real demo call with one to three elements changed (``fuzz.mutate``):
another JSON type, a hostile string, a removed key, a value wrapped in a list. The contract is
the one of every fault test: a documented status with an OperationOutcome or valid cards,
never a 500. The seed is fixed so CI is reproducible; ``CRS_FUZZ_SEED`` and
``CRS_FUZZ_CALLS`` run other seeds and more calls locally. A failure lists the seed, the
iteration and the mutations, which replay it exactly.
"""

from __future__ import annotations

import copy
import json
import os
import random
from collections import Counter

import pytest

from .fuzz import HOOKS, case_pools, feedback_body, hook_call, mutate, mutated_bodies
from .harness import DEFINED_HOOK_STATUSES, DEMO_AS_OF, in_demo_time, schema_errors

SEED = int(os.environ.get("CRS_FUZZ_SEED", "20261204"))
HOOK_CALLS = int(os.environ.get("CRS_FUZZ_CALLS", "2000"))
FEEDBACK_CALLS = HOOK_CALLS // 2
FEEDBACK_STATUSES = {200, 400}


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory):
    from cds_service import create_app

    database = tmp_path_factory.mktemp("fuzz") / "crs_cds.sqlite3"
    # WARNING: thousands of access log lines would cost more than the calls themselves.
    app = create_app(
        {
            "CRS_CDS_AUTH": "none",
            "DATABASE_URL": f"sqlite:///{database}",
            "CRS_CDS_LOG_LEVEL": "WARNING",
        }
    )
    app.config["TESTING"] = True
    return in_demo_time(app).test_client()


def _post(client, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


@pytest.fixture(scope="module")
def pools():
    return case_pools(DEMO_AS_OF)


def test_the_unmutated_calls_are_answered_with_cards(fuzz_client, pools):
    """The fuzz starts from calls that reach grading and cards, not from refused ones."""
    for pool in pools:
        for service_id, hook in HOOKS:
            body = hook_call(pool, service_id, hook, list(pool.others), orders=5)
            response = _post(fuzz_client, f"/cds-services/{service_id}", body)
            assert response.status_code == 200, (service_id, response.get_json())
            answer = response.get_json()
            assert answer["cards"], f"{pool.case} {service_id}: no cards"
            assert schema_errors("CdsResponse", answer) == []


def test_mutated_hook_calls_never_answer_500(fuzz_client, pools):
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    for iteration, service_id, body, done in mutated_bodies(SEED, HOOK_CALLS, pools):
        response = _post(fuzz_client, f"/cds-services/{service_id}", body)
        statuses[response.status_code] += 1
        if response.status_code not in DEFINED_HOOK_STATUSES:
            failures.append(f"seed {SEED} #{iteration} {service_id} {done}: {response.status_code}")
    assert not failures, f"{len(failures)} calls of {HOOK_CALLS}:\n" + "\n".join(failures[:20])
    # Most mutations must reach grading, or the fuzz tests only the request validation.
    assert statuses[200] > HOOK_CALLS * 0.6, statuses


def test_mutated_feedback_never_answers_500(fuzz_client):
    rng = random.Random(SEED)
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    for iteration in range(FEEDBACK_CALLS):
        body = copy.deepcopy(feedback_body())
        done = [mutate(body, rng) for _ in range(rng.randint(1, 3))]
        response = _post(fuzz_client, "/cds-services/crs-patient-view/feedback", body)
        statuses[response.status_code] += 1
        if response.status_code not in FEEDBACK_STATUSES:
            failures.append(f"seed {SEED} #{iteration} {done}: {response.status_code}")
        elif response.status_code == 400:
            assert schema_errors("OperationOutcome", response.get_json()) == []
    assert not failures, f"{len(failures)} of {FEEDBACK_CALLS}:\n" + "\n".join(failures[:20])
    assert statuses[200] > FEEDBACK_CALLS * 0.05, statuses
