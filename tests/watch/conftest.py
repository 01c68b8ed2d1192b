"""Fixtures of the watch tests: an app with the watch on (embedded SQLite queue), a fake EHR
answering through ``responses``, the seed cases as charts, and a way to run queued jobs.

The clock of the app is frozen where Case 3 of the seed shows what the watch is for: day 4
noon (grade 1) and day 5 noon (grade 2, rising to 3 by evening), Pacific time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from flask import Flask

from cds_service.clock import fixed_clock, set_clock
from cds_service.demo import load_bundle
from cds_service.watch import get_watch

from .fake_ehr import FakeEhr

FHIR = "https://ehr.example.org/fhir"
PUBLIC = "https://cds.example.org"
SUBSCRIPTION = "crs-watch-1"
SECRET = "subscription-secret-0123456789-abcdefghij"
WEBHOOK = "https://alerts.example.org/webhook"
WEBHOOK_SECRET = "webhook-secret-0123456789-abcdefghijklmn"

RISER = "crs-demo-case3"  # Case 3: grade 1 on day 4, grade 2 at day 5 noon, 3 that evening
DAY4_NOON = dt.datetime(2026, 1, 9, 20, 0, tzinfo=dt.UTC)  # 12:00 at -08:00
DAY5_NOON = dt.datetime(2026, 1, 10, 20, 0, tzinfo=dt.UTC)
DAY5_EVENING = dt.datetime(2026, 1, 11, 2, 0, tzinfo=dt.UTC)


def far_future() -> dt.datetime:
    """A moment past every retry and wait the watch schedules: huey's naive UTC, a century on
    from the real clock (a fixed date would turn into a time bomb the day it passes)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=36_525)


def chart(case: str) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in load_bundle(case)["entry"]]


@pytest.fixture(autouse=True)
def mocked_http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def ehr(mocked_http: responses.RequestsMock) -> FakeEhr:
    fake = FakeEhr(FHIR, webhook_secret=WEBHOOK_SECRET)
    for case in ("case1", "case2", "case3"):
        fake.set_chart(f"crs-demo-{case}", chart(case))
    fake.install(mocked_http)
    # The webhook receiver lives on another host.
    mocked_http.add_callback(
        responses.POST,
        WEBHOOK,
        callback=lambda request: fake.handle(
            "POST", request.url, dict(request.headers), request.body or b""
        ),
    )
    return fake


@pytest.fixture
def watch_env(tmp_path: Any) -> dict[str, str]:
    return {
        "CRS_CDS_AUTH": "jwt",
        "CRS_CDS_PUBLIC_URL": PUBLIC,
        "CRS_CDS_WATCH_FHIR_URL": FHIR,
        "CRS_CDS_WATCH_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        "CRS_CDS_WATCH_SUBSCRIPTION_SECRETS": f'{{"{SUBSCRIPTION}": "{SECRET}"}}',
        "CRS_CDS_WATCH_ALERT_CHANNELS": "communication,webhook",
        "CRS_CDS_WATCH_WEBHOOK_URL": WEBHOOK,
        "CRS_CDS_WATCH_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CRS_CDS_WATCH_RETRIES": "2",
        "CRS_CDS_WATCH_RETRY_DELAY_S": "1",
        "CRS_CDS_WATCH_FHIR_TIMEOUT_S": "5",
        "CRS_CDS_WATCH_LEASE_S": "30",
    }


@pytest.fixture
def watch_app(make_app: Any, watch_env: dict[str, str], ehr: FakeEhr) -> Flask:
    app = make_app(**watch_env)
    set_clock(app, fixed_clock(DAY5_NOON))
    return app


def at(app: Flask, moment: dt.datetime) -> None:
    """Move the app's clock (the chart 'advances': data after it is not yet charted)."""
    set_clock(app, fixed_clock(moment))


def drain(app: Flask, *, scheduled: bool = False, limit: int = 200) -> int:
    """Run queued jobs until none is left (with ``scheduled``: retries and waits too, at once).

    Returns how many ran. Failing jobs are retried by huey as in a worker.
    """
    huey = get_watch(app).queue.huey
    as_of = far_future()
    ran = 0
    while ran < limit:
        task = huey.dequeue()
        if task is None and scheduled:
            due = huey.read_schedule(as_of)
            for item in due:
                huey.execute(item, as_of)
                ran += 1
            if due:
                continue
        if task is None:
            return ran
        huey.execute(task, as_of)
        ran += 1
    raise AssertionError("the queue did not drain")


def post(app: Flask, bundle: dict[str, Any], *, secret: str | None = SECRET, **headers: str):
    """POST a notification as the EHR does (with the Subscription's shared secret)."""
    if secret is not None:
        headers["X-CRS-CDS-Subscription-Secret"] = secret
    return app.test_client().post(
        "/fhir/subscription-notification",
        json=bundle,
        headers=headers,
        content_type="application/fhir+json",
    )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema of this test (as tests/storage);
    under CI=true a missing PostgreSQL fails instead of skipping."""
    import os
    import uuid
    from urllib.parse import quote

    from sqlalchemy import create_engine, text

    base = os.environ.get("DATABASE_URL_POSTGRES", "").strip()
    if not base:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but DATABASE_URL_POSTGRES is not set")
        pytest.skip("DATABASE_URL_POSTGRES is not set")
    schema = f"w_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
