"""Schema migrations (Alembic) on SQLite and PostgreSQL (issue 7; SPEC section 5: "SQLite file
by default, PostgreSQL by DATABASE_URL")."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from importlib import resources

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, select, text

from cds_service import storage
from cds_service.errors import SettingsError
from cds_service.storage import (
    SCHEMA_HEAD,
    current_revision,
    feedback_table,
    metadata,
    upgrade_database,
)


def make_engine(url):
    return storage.make_engine(url)  # tracked by conftest, disposed after the test


OUR_TABLES = set(metadata.tables)


def _differences(engine):
    """What autogenerate would change to make the database match ``metadata`` (ours only)."""

    def ours(obj, name, type_, reflected, compare_to):
        table = obj.table.name if type_ in ("column", "index", "unique_constraint") else name
        return table in OUR_TABLES

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": ours})
        return compare_metadata(context, metadata)


def test_schema_head_names_the_newest_migration():
    config = Config()
    config.set_main_option("script_location", str(resources.files("cds_service.migrations")))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_HEAD


def test_running_every_migration_builds_exactly_the_metadata(database_url):
    engine = make_engine(database_url)
    with engine.begin() as connection:
        storage._run_migrations(connection)
    assert current_revision(engine) == SCHEMA_HEAD
    assert _differences(engine) == []


def test_a_new_database_is_built_at_head_and_equals_the_migrations(database_url):
    engine = make_engine(database_url)
    assert upgrade_database(engine) == SCHEMA_HEAD
    assert current_revision(engine) == SCHEMA_HEAD
    assert _differences(engine) == []
    assert OUR_TABLES <= set(inspect(engine).get_table_names())


def test_a_database_of_the_frame_without_migrations_is_upgraded_keeping_its_rows(database_url):
    """The first release created ``feedback`` with create_all and no alembic_version."""
    engine = make_engine(database_url)
    feedback_v1 = metadata.tables["feedback"].to_metadata(type(metadata)())
    feedback_v1.c.item_key.table._columns.remove(feedback_v1.c.item_key)  # the frame's columns
    for index in list(feedback_v1.indexes):
        if index.name == "ix_feedback_item_key":
            feedback_v1.indexes.discard(index)
    feedback_v1.metadata.create_all(engine)
    row = {
        "service_id": "crs-patient-view",
        "card_uuid": "c-1",
        "outcome": "accepted",
        "accepted_suggestions": "[]",
        "outcome_timestamp": datetime(2026, 1, 1, tzinfo=UTC),
        "received_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    with engine.begin() as connection:
        connection.execute(insert(feedback_v1), row)

    assert upgrade_database(engine) == SCHEMA_HEAD
    with engine.connect() as connection:
        (kept,) = connection.execute(select(feedback_table)).all()
    assert kept.card_uuid == "c-1" and kept.item_key is None
    assert _differences(engine) == []


def test_migrations_downgrade_and_upgrade_again(database_url):
    engine = make_engine(database_url)
    upgrade_database(engine)
    from alembic import command

    config = Config()
    config.set_main_option("script_location", str(resources.files("cds_service.migrations")))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert current_revision(engine) == "0001"
    assert "audit" not in inspect(engine).get_table_names()
    assert upgrade_database(engine) == SCHEMA_HEAD
    assert _differences(engine) == []


def test_workers_starting_together_upgrade_once(database_url):
    """Several gunicorn workers create the app at once: the lock serialises the upgrade."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start():
        engine = make_engine(database_url)
        try:
            barrier.wait()
            upgrade_database(engine)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    engine = make_engine(database_url)
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert [v[0] for v in versions] == [SCHEMA_HEAD]


def test_with_upgrades_off_a_database_behind_stops_the_start(make_app, database_url):
    with pytest.raises(SettingsError, match=r"^CRS_CDS_DB_UPGRADE=off .*crs-cds db upgrade"):
        make_app(DATABASE_URL=database_url, CRS_CDS_DB_UPGRADE="off")
    upgrade_database(make_engine(database_url))
    app = make_app(DATABASE_URL=database_url, CRS_CDS_DB_UPGRADE="off")
    assert app.test_client().get("/readyz").status_code == 200


def test_a_database_whose_smart_store_predates_revision_0003_upgrades_keeping_it(database_url):
    """Before 0003 the SMART store created ``smart_launch_store`` itself on first use."""
    engine = make_engine(database_url)
    with engine.begin() as connection:
        storage._run_migrations(connection, "0003")  # to 0003, then pretend it stopped at 0002
        connection.execute(text("UPDATE alembic_version SET version_num = '0002'"))
        connection.execute(
            insert(storage.smart_store_table).values(
                key_hash="k" * 64, kind="launch", expires_at=1.0, payload="sealed"
            )
        )
    assert upgrade_database(engine) == SCHEMA_HEAD
    with engine.connect() as connection:
        kept = connection.execute(select(storage.smart_store_table.c.key_hash)).all()
    assert kept == [("k" * 64,)]
    assert _differences(engine) == []
