"""Persistent storage through SQLAlchemy Core: feedback now, an audit table later beside it.

The engine comes from ``DATABASE_URL`` (PostgreSQL in a multi-replica deployment; install a
driver such as ``psycopg``), else a SQLite file in the Flask instance folder. Tables are created
at start. New tables are added to ``metadata`` next to ``feedback``; schema migrations are not
needed while every change is an added table.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import UTC, datetime

import orjson
from flask import Flask, current_app
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    inspect,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from cds_service.validation import FeedbackItem

__all__ = ["Storage", "feedback_table", "get_storage", "init_app", "metadata"]

logger = logging.getLogger(__name__)

_EXTENSION_KEY = "crs_cds.storage"
_SQLITE_FILE = "crs_cds.sqlite3"

metadata = MetaData()

#: One row per feedback item (CDS Hooks 2.0.1 section Feedback). Timestamps are UTC.
feedback_table = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_id", String(64), nullable=False, index=True),
    Column("card_uuid", String(256), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),
    Column("accepted_suggestions", Text, nullable=False),  # JSON array of suggestion uuids
    Column("override_reason_code", String(256)),
    Column("override_reason_system", String(1024)),
    Column("override_reason_display", String(1024)),
    Column("user_comment", Text),
    Column("outcome_timestamp", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)


class Storage:
    """The database of one app."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_tables(self) -> None:
        """Create missing tables. Several workers starting at once may race to create them:
        losing that race is fine as long as the tables exist afterwards."""
        try:
            metadata.create_all(self.engine)
        except SQLAlchemyError:
            existing = set(inspect(self.engine).get_table_names())
            if not set(metadata.tables) <= existing:
                raise

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as error:
            logger.warning("database unreachable: %s", type(error).__name__)
            return False
        return True

    def store_feedback(self, service_id: str, items: Sequence[FeedbackItem]) -> int:
        """Store every item in one transaction; return how many were stored."""
        if not items:
            return 0
        received_at = datetime.now(UTC)
        rows = [
            {
                "service_id": service_id,
                "card_uuid": item.card,
                "outcome": item.outcome,
                "accepted_suggestions": orjson.dumps(list(item.accepted_suggestions)).decode(),
                "override_reason_code": item.override_reason_code,
                "override_reason_system": item.override_reason_system,
                "override_reason_display": item.override_reason_display,
                "user_comment": item.user_comment,
                "outcome_timestamp": item.outcome_timestamp,
                "received_at": received_at,
            }
            for item in items
        ]
        with self.engine.begin() as connection:
            connection.execute(insert(feedback_table), rows)
        return len(rows)


def database_url_for(app: Flask, configured: str | None) -> str:
    """``configured``, else a SQLite file in the instance folder (created if needed)."""
    if configured is not None:
        return configured
    os.makedirs(app.instance_path, exist_ok=True)
    return f"sqlite:///{os.path.join(app.instance_path, _SQLITE_FILE)}"


def init_app(app: Flask, database_url: str | None) -> Storage:
    """Create the engine and the tables, and attach the ``Storage`` to ``app``."""
    engine = create_engine(database_url_for(app, database_url), pool_pre_ping=True)
    storage = Storage(engine)
    storage.create_tables()
    app.extensions[_EXTENSION_KEY] = storage
    logger.info("database ready", extra={"fields": {"dialect": engine.dialect.name}})
    return storage


def get_storage(app: Flask | None = None) -> Storage:
    """The storage of ``app``, or of the current app inside a request."""
    target = app if app is not None else current_app
    storage = target.extensions[_EXTENSION_KEY]
    assert isinstance(storage, Storage)  # noqa: S101 - set only by init_app
    return storage
