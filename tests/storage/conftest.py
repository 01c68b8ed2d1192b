"""Storage tests run on SQLite always and on PostgreSQL when ``DATABASE_URL_POSTGRES`` is set
(``.ci/run`` starts one). Under CI (``CI=true``) a missing PostgreSQL fails the postgres tests
instead of skipping them, so CI cannot pass without having tested it.

Each PostgreSQL test gets its own schema (``search_path``), dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import responses
from sqlalchemy import create_engine, text

POSTGRES_VARIABLE = "DATABASE_URL_POSTGRES"


def postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_VARIABLE, "").strip()
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {POSTGRES_VARIABLE} is not set: .ci/run must start PostgreSQL")
    pytest.skip(f"{POSTGRES_VARIABLE} is not set")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema of this test."""
    base = postgres_base_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """Each storage test runs once per database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crs_cds.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(autouse=True)
def mocked_http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture(autouse=True)
def dispose_engines(monkeypatch) -> Iterator[None]:
    """Close every engine a test made (apps included): an open psycopg connection left to the
    garbage collector is a ResourceWarning, which this suite treats as an error."""
    from cds_service import storage

    made = []
    original = storage.make_engine

    def tracked(url):
        engine = original(url)
        made.append(engine)
        return engine

    monkeypatch.setattr(storage, "make_engine", tracked)
    yield
    for engine in made:
        engine.dispose()
