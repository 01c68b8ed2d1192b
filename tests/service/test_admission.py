"""Load shedding (issue 6): at most CRS_CDS_MAX_IN_FLIGHT gradings per process; a call that
cannot get a slot within CRS_CDS_QUEUE_WAIT_S gets a fast 503 OperationOutcome with
Retry-After instead of a slow answer (CDS Hooks 2.0.1: answers "on the order of 500 ms")."""

from __future__ import annotations

import gc
import sys
import threading
import time

import pytest

from cds_service import gunicorn_conf
from cds_service.admission import Admission
from cds_service.errors import ServiceUnavailable
from cds_service.gc_tuning import GC_THRESHOLDS, tune_garbage_collector
from cds_service.web.cds import get_admission

from .support import full_prefetch, hook_body


def test_a_free_slot_is_taken_and_given_back() -> None:
    admission = Admission(max_in_flight=1, queue_wait_s=0.01)
    with admission.slot():
        pass
    with admission.slot():  # released after the first block
        pass


def test_a_call_waits_for_a_slot_and_is_refused_after_the_queue_wait() -> None:
    admission = Admission(max_in_flight=1, queue_wait_s=0.05)
    with admission.slot():
        started = time.perf_counter()
        with pytest.raises(ServiceUnavailable) as refused, admission.slot():
            pass
        waited = time.perf_counter() - started
    # It waited its queue wait, and not for the slot (held for ever here): an upper bound no
    # loaded machine reaches.
    assert 0.04 <= waited < 10.0
    assert refused.value.headers() == {"Retry-After": "1"}


def test_a_waiting_call_gets_the_slot_when_it_frees_up() -> None:
    admission = Admission(max_in_flight=1, queue_wait_s=60.0)  # no loaded machine reaches it
    holder_in = threading.Event()

    def hold() -> None:
        with admission.slot():
            holder_in.set()
            time.sleep(0.05)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holder_in.wait(60)
    with admission.slot():  # waits for the holder
        pass
    holder.join()


def test_a_slot_is_released_when_the_work_fails() -> None:
    admission = Admission(max_in_flight=1, queue_wait_s=0.01)
    with pytest.raises(RuntimeError), admission.slot():
        raise RuntimeError("grading failed")
    with admission.slot():
        pass


def test_an_overloaded_service_answers_503_with_an_operation_outcome(make_app) -> None:
    app = make_app(CRS_CDS_MAX_IN_FLIGHT="1", CRS_CDS_QUEUE_WAIT_S="0.05")
    client = app.test_client()
    with get_admission(app).slot():  # another call is being graded
        response = client.post(
            "/cds-services/crs-patient-view", json=hook_body(prefetch=full_prefetch())
        )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    assert "capacity" in body["issue"][0]["diagnostics"]
    # and once the slot is free the same call is answered
    answered = client.post(
        "/cds-services/crs-patient-view", json=hook_body(prefetch=full_prefetch())
    )
    assert answered.status_code == 200


@pytest.mark.parametrize(
    ("variable", "value"),
    [("CRS_CDS_MAX_IN_FLIGHT", "0"), ("CRS_CDS_QUEUE_WAIT_S", "-1")],
    ids=["no slot at all is refused", "a negative wait is refused"],
)
def test_bad_admission_settings_stop_the_service_naming_the_variable(
    make_app, variable: str, value: str
) -> None:
    from cds_service.errors import SettingsError

    with pytest.raises(SettingsError, match=variable):
        make_app(**{variable: value})


def test_the_gunicorn_worker_hook_freezes_start_up_objects_and_leaves_the_thresholds() -> None:
    """The thresholds are create_app's (one place, applied once); the hook only freezes."""
    gc.set_threshold(700, 10, 10)
    try:
        gunicorn_conf.post_worker_init(worker=None)
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.unfreeze()
        tune_garbage_collector()


def test_the_gunicorn_worker_hook_builds_the_order_models_before_it_freezes(monkeypatch) -> None:
    """Issue 13: built at start, the FHIR models of suggested orders are start-up objects (and
    out of the collector's view), not a cost of the worker's first order card."""
    steps: list[str] = []
    monkeypatch.setattr(gunicorn_conf, "prepare_order_models", lambda: steps.append("models"))
    monkeypatch.setattr(gunicorn_conf.gc, "freeze", lambda: steps.append("freeze"))
    gunicorn_conf.post_worker_init(worker=None)
    assert steps == ["models", "freeze"]


def test_every_app_runs_with_the_production_gc_thresholds(make_app) -> None:
    """CLI, tests and benchmarks grade at the speed gunicorn workers do (issue 13)."""
    gc.set_threshold(700, 10, 10)
    make_app()
    assert gc.get_threshold() == GC_THRESHOLDS == (100_000, 50, 100)


def test_after_each_request_the_worker_gives_the_freed_c_heap_back(monkeypatch) -> None:
    """Issue 13: glibc kept a large call's freed blocks (a worker stayed several MB bigger
    after each M call); gunicorn's post_request hook trims the heap once the answer is sent."""
    from cds_service import gc_tuning

    calls: list[int] = []
    monkeypatch.setattr(gc_tuning, "_TRIM", lambda pad: calls.append(pad) or 1)
    gunicorn_conf.post_request(worker=None, req=None, environ={}, resp=None)
    assert calls == [0]


def test_after_each_request_the_lookup_cache_lets_go_of_the_call_s_attribute_names() -> None:
    """Issue 13: CPython 3.11's attribute-lookup cache holds a reference to the name of each of
    its entries. C code that looks a method up by a C string (datetime's ``utcoffset`` from
    ``astimezone``, from hashing an aware datetime) makes a new name each time, so a few hundred
    small strings of a call stayed alive in it, each keeping the 1 MiB block of Python memory it
    sits in: 20 of 30 MB after XL calls. post_request empties the cache."""

    class Chart:
        reading = 1

    name = "".join(["read", "ing"])  # a new string, as that C code makes for every lookup
    before = sys.getrefcount(name)
    assert getattr(Chart(), name) == 1
    held = sys.getrefcount(name) - before  # 1 on CPython 3.11 (the cache); 0 where it interns
    assert held in (0, 1)
    gunicorn_conf.post_request(worker=None, req=None, environ={}, resp=None)
    assert sys.getrefcount(name) == before


def test_without_glibc_releasing_the_heap_does_nothing(monkeypatch) -> None:
    from cds_service import gc_tuning

    monkeypatch.setattr(gc_tuning, "_TRIM", None)
    assert gc_tuning.release_free_heap() is False
    gunicorn_conf.post_request(worker=None, req=None, environ={}, resp=None)  # no error


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_on_linux_the_heap_is_released_through_glibc() -> None:
    from cds_service import gc_tuning

    assert gc_tuning.release_free_heap() is True


def test_after_each_request_the_caches_of_the_call_s_data_are_emptied() -> None:
    """Issue 13: a cache keyed by the call's strings kept them, and the blocks of Python memory
    they sit in (a first L call: 9 MB); post_request empties them."""
    from fhir_maps.units import _cached_unit_keys, unit_keys

    assert unit_keys("".join(["m", "g"]), None) == ["mg"]
    assert _cached_unit_keys.cache_info().currsize > 0
    gunicorn_conf.post_request(worker=None, req=None, environ={}, resp=None)
    assert _cached_unit_keys.cache_info().currsize == 0


def test_the_last_request_of_a_worker_to_finish_collects(monkeypatch) -> None:
    """Issue 13: after a call a full collection frees its cycles and CPython's free lists;
    while another request of the worker runs it would walk that call's data, so only the last
    one to finish collects (pre_request and post_request count them)."""
    from cds_service import gc_tuning

    collections: list[str] = []
    monkeypatch.setattr(gc_tuning.gc, "collect", lambda: collections.append("collect") or 0)
    monkeypatch.setattr(gunicorn_conf, "_running_calls", gunicorn_conf.RunningCalls())

    gunicorn_conf.pre_request(worker=None, req=None)
    gunicorn_conf.pre_request(worker=None, req=None)
    gunicorn_conf.post_request(worker=None, req=None, environ={}, resp=None)
    assert collections == []  # the other request still runs
    gunicorn_conf.post_request(worker=None, req=None, environ={}, resp=None)
    assert collections == ["collect"]
    gunicorn_conf.post_request(worker=None, req=None, environ={}, resp=None)  # no pre_request
    assert collections == ["collect", "collect"]


def test_requests_in_threads_are_counted_until_each_finishes() -> None:
    running = gunicorn_conf.RunningCalls()
    started = threading.Barrier(5)
    others: list[int] = []

    def request() -> None:
        running.start()
        started.wait()
        started.wait()
        others.append(running.finish())

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    started.wait()  # all four run
    started.wait()
    for thread in threads:
        thread.join()
    assert sorted(others) == [0, 1, 2, 3]
