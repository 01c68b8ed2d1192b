"""Discovery: CDS Hooks 2.0.1 section Discovery and SPEC section 4 (exact service ids)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from .support import fixture


def test_discovery_lists_the_three_services_with_their_exact_prefetch(client):
    response = client.get("/cds-services")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    services = response.get_json()["services"]
    for service in services:
        assert isinstance(service.pop("description"), str) and service["title"]
    assert {"services": services} == fixture("discovery.json")


def test_prefetch_templates_use_only_root_level_context_tokens(client):
    """CDS Hooks 2.0.1 Prefetch tokens: only root-level primitive context fields."""
    for service in client.get("/cds-services").get_json()["services"]:
        for template in service["prefetch"].values():
            tokens = [part.split("}}")[0] for part in template.split("{{")[1:]]
            assert tokens and all(token == "context.patientId" for token in tokens)


def test_medication_administrations_are_never_filtered_by_code(client):
    """SPEC section 4: drugs sent as free text or product codes must reach the service."""
    for service in client.get("/cds-services").get_json()["services"]:
        query = parse_qs(urlsplit(service["prefetch"]["medications"]).query)
        assert "code" not in query and not any(name.startswith("code:") for name in query)
        assert query["_include"] == ["MedicationAdministration:medication"]


def test_discovery_does_not_accept_a_trailing_slash_or_post(client):
    assert client.get("/cds-services/").status_code == 404
    assert client.post("/cds-services", json={}).status_code == 405
