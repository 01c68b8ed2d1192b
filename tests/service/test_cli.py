"""The ``crs-cds`` command."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from cds_service import cli
from cds_service.config import AuthMode, get_settings


@pytest.fixture
def served(monkeypatch, tmp_path):
    """Run ``crs-cds serve`` without starting a server; record what it would run."""
    runs = []

    def fake_run(self, host=None, port=None, **kwargs):
        runs.append((self, host, port, kwargs))

    monkeypatch.setattr(Flask, "run", fake_run)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'dev.sqlite3'}")
    return runs


def test_serve_turns_auth_off_with_a_warning(served, caplog):
    with caplog.at_level(logging.INFO, logger="cds_service"):
        assert cli.main(["serve"]) == 0

    ((app, host, port, kwargs),) = served
    assert (host, port) == ("127.0.0.1", 8080)
    assert kwargs["debug"] is False
    assert get_settings(app).auth is AuthMode.NONE
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("CRS_CDS_AUTH=none" in r.getMessage() for r in warnings)


def test_serve_keeps_jwt_when_the_environment_asks_for_it(served, monkeypatch):
    monkeypatch.setenv("CRS_CDS_AUTH", "jwt")
    assert cli.main(["serve", "--host", "192.0.2.10", "--port", "9000"]) == 0
    ((app, host, port, _),) = served
    assert get_settings(app).auth is AuthMode.JWT
    assert (host, port) == ("192.0.2.10", 9000)


def test_serve_reports_a_configuration_error_and_exits_2(served, monkeypatch, capsys):
    monkeypatch.setenv("CRS_CDS_FHIR_TIMEOUT_S", "soon")
    assert cli.main(["serve"]) == 2
    assert "CRS_CDS_FHIR_TIMEOUT_S" in capsys.readouterr().err
    assert served == []


def test_a_subcommand_is_required(capsys):
    with pytest.raises(SystemExit) as raised:
        cli.main([])
    assert raised.value.code == 2
