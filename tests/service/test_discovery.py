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


def test_every_observation_template_names_a_category_or_codes_spec4(client):
    """SPEC 4: Epic requires ``patient`` plus ``code`` or ``category`` on every Observation
    search; an uncategorised template would be refused."""
    for service in client.get("/cds-services").get_json()["services"]:
        for key, template in service["prefetch"].items():
            if not template.startswith("Observation?"):
                continue
            query = parse_qs(urlsplit(template).query)
            assert query["patient"] == ["{{context.patientId}}"], key
            assert ("category" in query) != ("code" in query), key


def test_vitals_labs_cultures_and_baselines_are_separate_keys_spec4(client):
    """SPEC 4: a month of vitals must never push the blood culture or the pre-infusion
    baseline off the first page, so each has its own search."""
    from cds_service.services import BASELINE_LAB_TESTS
    from fhir_maps import blood_culture_loinc_codes, lab_loinc_codes

    (service, *_) = client.get("/cds-services").get_json()["services"]
    prefetch = service["prefetch"]

    def codes(key):
        (value,) = parse_qs(urlsplit(prefetch[key]).query)["code"]
        return [token.removeprefix("http://loinc.org|") for token in value.split(",")]

    assert parse_qs(urlsplit(prefetch["vitals"]).query)["category"] == ["vital-signs"]
    assert parse_qs(urlsplit(prefetch["labs"]).query)["category"] == ["laboratory"]
    assert codes("cultures") == list(blood_culture_loinc_codes())
    assert "600-7" in codes("cultures")
    assert codes("baselines") == list(lab_loinc_codes(BASELINE_LAB_TESTS))
    assert {"2160-0", "3255-7", "10230-1", "1988-5", "2276-4"} <= set(codes("baselines"))


def test_templates_use_no_date_arithmetic_spec4(client):
    """SPEC 4 and CDS Hooks 2.0: only prefetch tokens; no date or other computed parameter."""
    for service in client.get("/cds-services").get_json()["services"]:
        for template in service["prefetch"].values():
            query = parse_qs(urlsplit(template).query)
            assert not {"date", "effective-time", "_lastUpdated", "onset-date"} & set(query)
            assert "{{" not in template.replace("{{context.patientId}}", "")
