"""Health, readiness and metrics (SPEC section 4)."""

from __future__ import annotations

import shutil

from cds_service.storage import get_storage

from .support import full_prefetch, hook_body


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok"}}


def test_readyz_fails_when_the_database_is_unreachable(make_app, tmp_path):
    folder = tmp_path / "db"
    folder.mkdir()
    app = make_app(DATABASE_URL=f"sqlite:///{folder / 'crs.sqlite3'}")
    client = app.test_client()
    assert client.get("/readyz").status_code == 200

    get_storage(app).engine.dispose()
    shutil.rmtree(folder)

    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["issue"][0] == {
        "severity": "error",
        "code": "transient",
        "diagnostics": "database unreachable",
    }


def test_metrics_count_requests_by_endpoint_service_and_status(client):
    client.post("/cds-services/crs-patient-view", json=hook_body(prefetch=full_prefetch()))
    client.post("/cds-services/crs-patient-view", json=hook_body(prefetch=full_prefetch()))
    client.post("/cds-services/crs-order-sign", data=b"{", content_type="application/json")
    client.post("/cds-services/made-up-id", json={})

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert (
        'crs_cds_requests_total{endpoint="cds.call_service",service="crs-patient-view",'
        'status="200"} 2.0' in text
    )
    assert (
        'crs_cds_requests_total{endpoint="cds.call_service",service="crs-order-sign",'
        'status="400"} 1.0' in text
    )
    # Unknown ids share one label value, so callers cannot grow the metric without bound.
    assert 'service="unknown",status="404"} 1.0' in text
    assert "made-up-id" not in text
    assert (
        'crs_cds_request_duration_seconds_count{endpoint="cds.call_service",'
        'service="crs-patient-view",status="200"} 2.0' in text
    )


def test_each_app_has_its_own_metrics(make_app):
    first, second = make_app().test_client(), make_app().test_client()
    first.get("/healthz")
    text = second.get("/metrics").get_data(as_text=True)
    assert 'endpoint="ops.healthz"' not in text
