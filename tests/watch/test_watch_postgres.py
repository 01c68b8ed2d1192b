"""The same watch code on PostgreSQL, database and queue (huey's ``PostgresHuey``): the engine
for sites that already run PostgreSQL and want no Redis."""

from __future__ import annotations

import pytest

from cds_service.watch import get_watch

from .conftest import DAY4_NOON, DAY5_NOON, FHIR, RISER, SUBSCRIPTION, at, drain, post
from .notices import r4_notification

pytestmark = pytest.mark.postgres


def test_a_rise_alerts_once_with_the_queue_and_the_tables_on_postgresql(
    make_app, watch_env, ehr, postgres_url
):
    app = make_app(
        **{**watch_env, "DATABASE_URL": postgres_url, "CRS_CDS_WATCH_QUEUE_URL": postgres_url}
    )
    runtime = get_watch(app)
    try:
        assert runtime.queue_kind == "postgresql"
        for number, moment in ((1, DAY4_NOON), (2, DAY5_NOON), (3, DAY5_NOON)):
            at(app, moment)
            bundle = r4_notification(
                FHIR, SUBSCRIPTION, events=[{"number": number, "focus": f"Patient/{RISER}"}]
            )
            assert post(app, bundle).status_code == 200
            drain(app)
        (alert,) = runtime.store.alerts_of(RISER)
        assert alert.delivered and len(ehr.communications) == 1
        assert len(runtime.store.evaluations_of(RISER)) == 3
    finally:
        runtime.queue.huey.storage.close()
        runtime.store.engine.dispose()
