"""Persistent storage through SQLAlchemy Core: feedback, the JWT replay cache and the audit.

The engine comes from ``DATABASE_URL`` (PostgreSQL, ``postgresql+psycopg://...``, in a
deployment with several replicas), else a SQLite file in the Flask instance folder. The schema
is owned by the Alembic migrations in ``cds_service/migrations``: at start the service upgrades
the database to ``SCHEMA_HEAD`` (``CRS_CDS_DB_UPGRADE=auto``, under a lock so that workers
starting together do not race), or refuses to start while it is behind (``off``; then the
operator runs ``crs-cds db upgrade``). ``metadata`` below describes the same tables for queries;
a test checks that the migrations build exactly these.

Writes that must not be lost (feedback) raise ``ServiceUnavailable`` (503 with
``Retry-After``) when the database fails, so that the client sends them again; a feedback item
sent twice is stored once (``feedback.item_key``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import orjson
from flask import Flask, current_app
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    insert,
    inspect,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError, IntegrityError, SQLAlchemyError

from cds_service.config import SchemaUpgrade, get_settings
from cds_service.errors import ServiceUnavailable, SettingsError
from cds_service.metrics import get_metrics
from cds_service.validation import (
    MAX_CARD_ID,
    MAX_HOOK_INSTANCE,
    MAX_REASON_CODE,
    MAX_REASON_DISPLAY,
    MAX_REASON_SYSTEM,
    FeedbackItem,
    is_fhir_id,
)

__all__ = [
    "SCHEMA_HEAD",
    "AuditRecord",
    "DatabaseFileReplaced",
    "Storage",
    "audit_table",
    "current_revision",
    "database_url_for",
    "feedback_table",
    "get_storage",
    "init_app",
    "jwt_replay_table",
    "metadata",
    "record_audit",
    "smart_store_table",
    "upgrade_database",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What the audit keeps of one answered hook call: ids, grades and uuids, no patient data.

    ``patient_id`` must be a FHIR id (``Patient/`` may precede it); ``answered_at`` must carry
    a time zone. Grades are None for a patient out of scope.
    """

    hook_instance: str
    service_id: str
    patient_id: str
    grade: int | None
    peak_grade: int | None
    card_uuids: Sequence[str]
    suggestion_uuids: Sequence[str]
    answered_at: datetime
    duration_ms: float


_EXTENSION_KEY = "crs_cds.storage"
_SQLITE_FILE = "crs_cds.sqlite3"
#: The newest migration in cds_service/migrations/versions (a test keeps this true).
SCHEMA_HEAD = "0005"
#: Key of the PostgreSQL advisory lock that serialises schema upgrades across processes.
_UPGRADE_LOCK_KEY = 0x43525343  # "CRSC"
#: How long a client should wait before sending a failed write again.
_RETRY_AFTER_S = 5

metadata = MetaData()

#: One row per feedback item (CDS Hooks 2.0.1 section Feedback). Timestamps are UTC.
#: ``item_key`` is the SHA-256 of the item's content: the same item sent again is stored once.
feedback_table = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_id", String(64), nullable=False, index=True),
    Column("card_uuid", String(MAX_CARD_ID), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),
    Column("accepted_suggestions", Text, nullable=False),  # JSON array of suggestion uuids
    Column("override_reason_code", String(MAX_REASON_CODE)),
    Column("override_reason_system", String(MAX_REASON_SYSTEM)),
    Column("override_reason_display", String(MAX_REASON_DISPLAY)),
    Column("user_comment", Text),
    Column("outcome_timestamp", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("item_key", String(64), nullable=True),
    Index("ix_feedback_item_key", "item_key", unique=True),
)

#: JWT ``jti`` values seen, as SHA-256 of (issuer, jti), until their token expires (epoch s).
jwt_replay_table = Table(
    "jwt_replay",
    metadata,
    Column("token_key", String(64), primary_key=True),
    Column("expires_at", Float, nullable=False, index=True),
)

#: One row per hook answer (issue 4). ``patient_ref`` is the FHIR id only: no other patient data.
audit_table = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hook_instance", String(MAX_HOOK_INSTANCE), nullable=False, index=True),
    Column("service_id", String(64), nullable=False),
    Column("patient_ref", String(64), nullable=False, index=True),
    Column("grade", Integer, nullable=True),
    Column("peak_grade", Integer, nullable=True),
    Column("card_uuids", Text, nullable=False),  # JSON array
    Column("suggestion_uuids", Text, nullable=False),  # JSON array
    Column("answered_at", DateTime(timezone=True), nullable=False, index=True),
    Column("duration_ms", Float, nullable=False),
)

#: The SMART app's server-side launch state and tokens (``cds_service.smart.store``): keys are
#: salted SHA-256 hashes, payloads encrypted with a key derived from CRS_CDS_SECRET_KEY.
smart_store_table = Table(
    "smart_launch_store",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
    Column("payload", Text, nullable=False),
)


class Storage:
    """The database of one app."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as error:
            logger.warning("database unreachable: %s", type(error).__name__)
            return False
        return True

    # --- feedback -----------------------------------------------------------------------------

    def store_feedback(self, service_id: str, items: Sequence[FeedbackItem]) -> tuple[int, int]:
        """Store every item in one transaction, each at most once.

        Returns (items now stored, of which already stored before). Raises
        ``ServiceUnavailable`` (503, retry) when the database fails: nothing is dropped
        silently, and a retry cannot duplicate what did get stored.
        """
        if not items:
            return 0, 0
        received_at = datetime.now(UTC)
        statement = _insert_ignoring_duplicates(self.engine, feedback_table, "item_key")
        statement = statement.returning(feedback_table.c.id)
        inserted = 0
        try:
            with self.engine.begin() as connection:
                for item in items:
                    row = _feedback_row(service_id, item, received_at)
                    # RETURNING yields a row only when the insert happened (not a duplicate).
                    inserted += len(connection.execute(statement, row).all())
        except SQLAlchemyError as error:
            logger.error("feedback not stored: %s", type(error).__name__)
            raise ServiceUnavailable(
                "the feedback could not be stored; send it again", retry_after_s=_RETRY_AFTER_S
            ) from None
        return len(items), len(items) - inserted

    # --- JWT replay cache ---------------------------------------------------------------------

    def remember_token(self, token_key: str, expires_at: float, now: float) -> bool:
        """Record a token key until ``expires_at``; False when a live record already exists.

        The primary key decides between concurrent workers: exactly one insert wins. An
        expired record of the same key is replaced. Raises ``SQLAlchemyError`` when the
        database fails (the caller refuses the token then).
        """
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(jwt_replay_table), {"token_key": token_key, "expires_at": expires_at}
                )
            return True
        except IntegrityError:
            pass
        with self.engine.begin() as connection:
            replaced = connection.execute(
                delete(jwt_replay_table).where(
                    jwt_replay_table.c.token_key == token_key,
                    jwt_replay_table.c.expires_at <= now,
                )
            ).rowcount
        if not replaced:
            return False
        return self.remember_token(token_key, expires_at, now)

    def purge_expired_tokens(self, now: float) -> int:
        """Delete replay records of tokens expired before ``now``; return how many."""
        with self.engine.begin() as connection:
            result = connection.execute(
                delete(jwt_replay_table).where(jwt_replay_table.c.expires_at <= now)
            )
        return int(result.rowcount)

    # --- audit --------------------------------------------------------------------------------

    def record_audit(self, record: AuditRecord) -> None:
        """Insert one audit row. Raises ``ValueError`` for a ``patient_id`` that is not a FHIR
        id (nothing but the id may be stored) and ``SQLAlchemyError`` when the write fails."""
        patient_ref = record.patient_id.removeprefix("Patient/")
        if not is_fhir_id(patient_ref):
            raise ValueError("patient_id must be a FHIR id")
        if record.answered_at.tzinfo is None:
            raise ValueError("answered_at must carry a time zone")
        row = {
            "hook_instance": record.hook_instance[:256],
            "service_id": record.service_id,
            "patient_ref": patient_ref,
            "grade": record.grade,
            "peak_grade": record.peak_grade,
            "card_uuids": orjson.dumps(list(record.card_uuids)).decode(),
            "suggestion_uuids": orjson.dumps(list(record.suggestion_uuids)).decode(),
            "answered_at": record.answered_at.astimezone(UTC),
            "duration_ms": float(record.duration_ms),
        }
        with self.engine.begin() as connection:
            connection.execute(insert(audit_table), row)


def _feedback_row(service_id: str, item: FeedbackItem, received_at: datetime) -> dict[str, Any]:
    accepted = orjson.dumps(list(item.accepted_suggestions)).decode()
    identity = [
        service_id,
        item.card,
        item.outcome,
        item.outcome_timestamp.astimezone(UTC).isoformat(),
        list(item.accepted_suggestions),
        item.override_reason_code,
        item.override_reason_system,
        item.override_reason_display,
        item.user_comment,
    ]
    return {
        "service_id": service_id,
        "card_uuid": item.card,
        "outcome": item.outcome,
        "accepted_suggestions": accepted,
        "override_reason_code": item.override_reason_code,
        "override_reason_system": item.override_reason_system,
        "override_reason_display": item.override_reason_display,
        "user_comment": item.user_comment,
        "outcome_timestamp": item.outcome_timestamp,
        "received_at": received_at,
        "item_key": hashlib.sha256(orjson.dumps(identity)).hexdigest(),
    }


def _insert_ignoring_duplicates(engine: Engine, table: Table, column: str) -> Any:
    """``INSERT ... ON CONFLICT (column) DO NOTHING`` in the engine's dialect."""
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=[column])
    if engine.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=[column])
    raise SettingsError(f"DATABASE_URL: unsupported database {engine.dialect.name!r}")


# --- schema ---------------------------------------------------------------------------------


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at; None for a database without one."""
    with engine.connect() as connection:
        return _revision(connection)


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return str(revision) if revision is not None else None


def upgrade_database(engine: Engine) -> str:
    """Bring the schema to ``SCHEMA_HEAD`` under a cross-process lock; return the revision.

    A database without any of our tables is built from ``metadata`` and stamped with the
    head (Alembic's recipe for a new database; a test checks it equals running every
    migration). Any other database runs the missing migrations.
    """
    with _upgrade_lock(engine) as connection:
        before = _revision(connection)
        if before != SCHEMA_HEAD:
            existing = set(inspect(connection).get_table_names())
            if before is None and not existing & set(metadata.tables):
                _create_at_head(connection)
            else:
                _run_migrations(connection)
    revision = current_revision(engine) or ""
    if before != revision:
        logger.info(
            "database schema upgraded",
            extra={"fields": {"from": before or "nothing", "to": revision}},
        )
    return revision


def _run_migrations(connection: Connection, target: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("cds_service.migrations")))
    config.attributes["connection"] = connection
    command.upgrade(config, target)


def _create_at_head(connection: Connection) -> None:
    metadata.create_all(connection)
    connection.execute(
        text(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
            "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
        )
    )
    connection.execute(
        text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": SCHEMA_HEAD}
    )


@contextlib.contextmanager
def _upgrade_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other process upgrades the schema through.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: an exclusive ``flock`` on a file
    beside the database (SQLite databases are shared by processes of one machine only).
    """
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK_KEY}
            )
            yield connection
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        with engine.begin() as connection:
            yield connection
        return
    with open(f"{database}.upgrade-lock", "a+b") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            with engine.begin() as connection:
                yield connection
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _prepare_schema(engine: Engine, upgrade: bool) -> None:
    revision = current_revision(engine)
    if revision == SCHEMA_HEAD:
        return
    if not upgrade:
        raise SettingsError(
            f"CRS_CDS_DB_UPGRADE=off and the database schema is at {revision or 'nothing'}, "
            f"not {SCHEMA_HEAD}: run `crs-cds db upgrade` first"
        )
    upgrade_database(engine)


# --- engine and app -------------------------------------------------------------------------


def database_url_for(app: Flask, configured: str | None) -> str:
    """``configured``, else a SQLite file in the instance folder (created if needed)."""
    if configured is not None:
        return configured
    os.makedirs(app.instance_path, exist_ok=True)
    return f"sqlite:///{os.path.join(app.instance_path, _SQLITE_FILE)}"


def make_engine(url: str) -> Engine:
    """An engine for ``url``. SQLite gets WAL journaling and a 15 s busy timeout, so that
    several worker processes can write (feedback, replay cache) without "database is locked",
    and a guard against its file being deleted or replaced under the running service."""
    if url.startswith("sqlite"):
        engine = create_engine(url, pool_pre_ping=True, connect_args={"timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        database = engine.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            _SqliteFileGuard(os.path.abspath(database)).watch(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


class DatabaseFileReplaced(SQLAlchemyError):
    """The SQLite file at the configured path is not the file this process opened."""


class _SqliteFileGuard:
    """Refuses every use of a SQLite engine once the file at its path is not the file it opened.

    A deleted file stays open, so writes would go on "succeeding" into a file nobody can
    read again (issue 11: 3,408 feedback items acknowledged and lost); a new connection would
    create an empty file in its place. So each checkout compares the file at the path (device
    and inode) with the one first opened, and a new connection is refused before SQLite can
    create anything. Feedback then answers 503, the replay cache 503, ``/readyz`` not ready,
    until the service is restarted on a good file.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.opened: tuple[int, int] | None = None
        self._reported = False

    def watch(self, engine: Engine) -> None:
        event.listen(engine, "do_connect", self._before_connect)
        event.listen(engine, "connect", self._connected)
        event.listen(engine.pool, "checkout", self._checkout)

    def _current(self) -> tuple[int, int] | None:
        try:
            status = os.stat(self.path)
        except OSError:
            return None
        return status.st_dev, status.st_ino

    def _replaced(self) -> bool:
        if self.opened is None or self._current() == self.opened:
            return False
        if not self._reported:
            self._reported = True
            logger.error(
                "the SQLite database file was deleted or replaced while the service ran; "
                "every write is refused until the service is restarted"
            )
        return True

    def _before_connect(self, *_: Any) -> None:
        if self._replaced():
            raise DatabaseFileReplaced("the SQLite database file was deleted or replaced")

    def _connected(self, *_: Any) -> None:
        if self.opened is None:
            self.opened = self._current()

    def _checkout(self, *_: Any) -> None:
        if self._replaced():
            # The pool drops this connection and opens another, which _before_connect refuses.
            raise DisconnectionError("the SQLite database file was deleted or replaced")


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def init_app(app: Flask, database_url: str | None, *, upgrade: bool = True) -> Storage:
    """Create the engine, bring the schema to ``SCHEMA_HEAD`` (or fail when ``upgrade`` is
    False and it is behind), and attach the ``Storage`` to ``app``.

    ``CRS_CDS_DB_UPGRADE`` from the app's settings, when present, overrides ``upgrade``.
    """
    with contextlib.suppress(KeyError):
        upgrade = get_settings(app).db_upgrade is SchemaUpgrade.AUTO
    engine = make_engine(database_url_for(app, database_url))
    _prepare_schema(engine, upgrade)
    storage = Storage(engine)
    app.extensions[_EXTENSION_KEY] = storage
    logger.info("database ready", extra={"fields": {"dialect": engine.dialect.name}})
    return storage


def get_storage(app: Flask | None = None) -> Storage:
    """The storage of ``app``, or of the current app inside a request."""
    target = app if app is not None else current_app
    storage = target.extensions[_EXTENSION_KEY]
    assert isinstance(storage, Storage)  # noqa: S101 - set only by init_app
    return storage


def record_audit(record: AuditRecord, app: Flask | None = None) -> bool:
    """Write the audit row of one hook answer; True when stored.

    Never raises for a database failure: the clinician's answer must not be lost because the
    audit write failed. Nor is a failure silent: it is logged as an error (type only, with the
    call's hookInstance) and counted in ``crs_cds_audit_write_failures_total``. The request
    values an audit row holds are checked at the edge (``validation``), so that only the
    database itself can make the write fail. A patient id that is not a FHIR id is a
    programming error: ``ValueError``.
    """
    try:
        get_storage(app).record_audit(record)
    except SQLAlchemyError as error:
        logger.error("audit row not stored: %s", type(error).__name__)
        with contextlib.suppress(KeyError):
            get_metrics(app).audit_failures.inc()
        return False
    return True
