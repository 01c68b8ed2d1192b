"""Settings from the environment (SPEC section 4, STYLE habit 3): bad values fail at start
with a message that names the variable."""

from __future__ import annotations

import json
import logging

import pytest

from cds_service import SettingsError, create_app
from cds_service.config import (
    VARIABLES,
    AuthMode,
    Settings,
    TocilizumabProtocol,
    get_settings,
    load_settings,
)


def test_defaults():
    settings = load_settings({})
    assert settings == Settings()
    assert settings.auth is AuthMode.JWT
    assert settings.trusted_issuers == {}
    assert settings.public_url is None
    assert settings.tocilizumab_protocol is TocilizumabProtocol.LEE_2014
    assert settings.fhir_timeout_s == 4.0
    assert settings.fhir_max_pages == 20
    assert settings.smart_client_id == "crs-cds"
    assert settings.smart_client_secret is None
    assert settings.smart_issuers is None
    assert settings.secret_key is None
    assert settings.log_level == "INFO"
    assert settings.database_url is None


def test_every_value_is_read():
    issuers = {
        "https://a.example.org": {"jwks_url": "https://a.example.org/jwks"},
        "https://b.example.org": {"jwks": {"keys": [{"kty": "EC", "kid": "x"}]}},
    }
    settings = load_settings(
        {
            "CRS_CDS_AUTH": "NONE",
            "CRS_CDS_TRUSTED_ISSUERS": json.dumps(issuers),
            "CRS_CDS_PUBLIC_URL": "https://cds.example.org/",
            "CRS_CDS_TOCILIZUMAB_PROTOCOL": "fda-label",
            "CRS_CDS_FHIR_TIMEOUT_S": "2.5",
            "CRS_CDS_FHIR_MAX_PAGES": "7",
            "CRS_CDS_SMART_CLIENT_ID": "my-app",
            "CRS_CDS_SMART_CLIENT_SECRET": "s3cret",
            "CRS_CDS_SMART_ISSUERS": '["https://ehr.example.org/fhir/"]',
            "CRS_CDS_SECRET_KEY": "k" * 40,
            "CRS_CDS_LOG_LEVEL": "debug",
            "DATABASE_URL": "postgresql://u:pw@db/crs",
        }
    )
    assert settings.auth is AuthMode.NONE
    assert (
        settings.trusted_issuers["https://a.example.org"].jwks_url == "https://a.example.org/jwks"
    )
    assert settings.trusted_issuers["https://b.example.org"].jwks == {
        "keys": [{"kty": "EC", "kid": "x"}]
    }
    assert settings.public_url == "https://cds.example.org"
    assert settings.tocilizumab_protocol is TocilizumabProtocol.FDA_LABEL
    assert settings.fhir_timeout_s == 2.5
    assert settings.fhir_max_pages == 7
    assert settings.smart_client_id == "my-app"
    assert settings.smart_client_secret == "s3cret"
    assert settings.smart_issuers == ("https://ehr.example.org/fhir",)
    assert settings.secret_key == "k" * 40
    assert settings.log_level == "DEBUG"
    assert settings.database_url == "postgresql://u:pw@db/crs"
    assert "s3cret" not in repr(settings) and "pw@" not in repr(settings)
    assert "kkkk" not in repr(settings)


BAD = [
    ("CRS_CDS_AUTH", "off"),
    ("CRS_CDS_TRUSTED_ISSUERS", "{not json"),
    ("CRS_CDS_TRUSTED_ISSUERS", '["https://a"]'),
    ("CRS_CDS_TRUSTED_ISSUERS", '{"https://a": {}}'),
    ("CRS_CDS_TRUSTED_ISSUERS", '{"https://a": {"jwks_url": "ftp://a/jwks"}}'),
    ("CRS_CDS_TRUSTED_ISSUERS", '{"https://a": {"jwks": {"kty": "EC"}}}'),
    ("CRS_CDS_TRUSTED_ISSUERS", '{"https://a": {"jwks_url": "https://a/j", "jwks": {"keys": []}}}'),
    ("CRS_CDS_PUBLIC_URL", "cds.example.org"),
    ("CRS_CDS_PUBLIC_URL", "https://cds.example.org/?x=1"),
    ("CRS_CDS_TOCILIZUMAB_PROTOCOL", "8mg"),
    ("CRS_CDS_FHIR_TIMEOUT_S", "four"),
    ("CRS_CDS_FHIR_TIMEOUT_S", "0"),
    ("CRS_CDS_FHIR_TIMEOUT_S", "nan"),
    ("CRS_CDS_FHIR_TIMEOUT_S", "600"),
    ("CRS_CDS_FHIR_MAX_PAGES", "0"),
    ("CRS_CDS_FHIR_MAX_PAGES", "1.5"),
    ("CRS_CDS_SMART_ISSUERS", '"https://ehr"'),
    ("CRS_CDS_SMART_ISSUERS", '["not a url"]'),
    ("CRS_CDS_SECRET_KEY", "short"),
    ("CRS_CDS_LOG_LEVEL", "chatty"),
    ("DATABASE_URL", "not a url at all"),
    ("CRS_CDS_ICE_CODES", '"urn:x|1"'),
    ("CRS_CDS_ICE_CODES", '["no-bar"]'),
    ("CRS_CDS_CAPD_CODES", "[]"),
    ("CRS_CDS_RASS_CODES", '["|7"]'),
]


def test_the_ehrs_own_icans_codes_are_read_as_system_code_pairs():
    """SPEC 2.9: ICE and CAPD have no LOINC code in wide use; the operator names the EHR's."""
    from cds_service.config import load_settings

    settings = load_settings(
        {
            "CRS_CDS_ICE_CODES": '["urn:oid:1.2.3|304010", " urn:oid:1.2.3 | 304011 "]',
            "CRS_CDS_RASS_CODES": '["http://snomed.info/sct|1345050000"]',
        }
    )
    assert settings.ice_codes == (("urn:oid:1.2.3", "304010"), ("urn:oid:1.2.3", "304011"))
    assert settings.rass_codes == (("http://snomed.info/sct", "1345050000"),)
    assert settings.capd_codes == ()


@pytest.mark.parametrize(("name", "value"), BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_an_invalid_value_fails_at_start_naming_the_variable(tmp_path, name, value):
    environ = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", name: value}
    with pytest.raises(SettingsError) as raised:
        create_app(environ)
    assert str(raised.value).startswith(name)


def test_a_smart_client_secret_without_smart_issuers_fails_at_start(tmp_path):
    """The secret would go to the token endpoint of any FHIR server that launches the app."""
    environ = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "CRS_CDS_SMART_CLIENT_SECRET": "s3cr3t",
    }
    with pytest.raises(SettingsError) as raised:
        create_app(environ)
    assert str(raised.value).startswith("CRS_CDS_SMART_CLIENT_SECRET")
    assert "CRS_CDS_SMART_ISSUERS" in str(raised.value)
    assert "s3cr3t" not in str(raised.value)


def test_database_url_errors_do_not_echo_the_value():
    with pytest.raises(SettingsError) as raised:
        load_settings({"DATABASE_URL": "postgresql://u:SECRET@db:port/crs"})
    assert "SECRET" not in str(raised.value)


def test_empty_values_count_as_unset():
    assert load_settings({"CRS_CDS_AUTH": "", "CRS_CDS_FHIR_TIMEOUT_S": "  "}) == Settings()


def test_create_app_reads_os_environ_when_given_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("CRS_CDS_AUTH", "none")
    monkeypatch.setenv("CRS_CDS_FHIR_TIMEOUT_S", "1.5")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    app = create_app()
    assert get_settings(app).fhir_timeout_s == 1.5


def test_defaults_fill_only_unset_variables(tmp_path):
    db = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    app = create_app({"DATABASE_URL": db}, defaults={"CRS_CDS_AUTH": "none"})
    assert get_settings(app).auth is AuthMode.NONE
    app = create_app({"DATABASE_URL": db, "CRS_CDS_AUTH": "jwt"}, defaults={"CRS_CDS_AUTH": "none"})
    assert get_settings(app).auth is AuthMode.JWT


def test_auth_none_is_logged_as_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="cds_service"):
        create_app({"CRS_CDS_AUTH": "none", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    (record,) = [r for r in caplog.records if "CRS_CDS_AUTH=none" in r.getMessage()]
    assert record.levelno == logging.WARNING


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    from flask import Flask

    instance = tmp_path / "instance"
    original_init = Flask.__init__

    def init(self, *args, **kwargs):
        kwargs["instance_path"] = str(instance)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(Flask, "__init__", init)
    app = create_app({"CRS_CDS_AUTH": "none"})
    from cds_service.storage import get_storage

    assert get_storage(app).engine.url.database == str(instance / "crs_cds.sqlite3")
    assert (instance / "crs_cds.sqlite3").exists()


def test_every_variable_is_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name, _, _ in VARIABLES:
        assert f"`{name}`" in readme, name
