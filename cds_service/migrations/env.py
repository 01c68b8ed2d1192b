"""Alembic environment: runs the migrations on the connection ``cds_service.storage`` passes
in ``config.attributes["connection"]``, or on ``sqlalchemy.url`` when called by Alembic's own
command line (``alembic -x`` is not needed)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from cds_service.storage import metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url or pass a connection to run the migrations")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


_main()
