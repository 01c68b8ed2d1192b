"""Builders for FHIR test resources: the JSON fixtures of tests/fixtures/fhir/, varied per test."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from crs_grading.inputs import GradingInputs
from fhir_maps import MappingOptions, map_patient_record

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fhir"
PATIENT_ID = "pat1"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"


@cache
def _text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def load(name: str) -> Any:
    """A fresh copy of a fixture file's JSON."""
    return json.loads(_text(name))


def entries(name: str) -> list[dict[str, Any]]:
    """The resources of a Bundle fixture."""
    return [entry["resource"] for entry in load(name)["entry"]]


def quantity(value: Any, unit: str | None) -> dict[str, Any]:
    if unit is None:
        return {"value": value}
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def observation(
    code: str | None,
    value: Any = None,
    unit: str | None = None,
    *,
    id: str = "obs1",
    system: str = LOINC,
    text: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """An Observation (from the temperature fixture) with this code and valueQuantity."""
    resource = load("observation-temperature.json")
    resource["id"] = id
    resource["code"] = {"coding": [{"system": system, "code": code}]} if code else {}
    if text:
        resource["code"]["text"] = text
    del resource["valueQuantity"]
    if value is not None:
        resource["valueQuantity"] = quantity(value, unit)
    resource.update(fields)
    return resource


def administration(
    medication: dict[str, Any] | None = None,
    *,
    id: str = "ma1",
    status: str = "completed",
    rate: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A MedicationAdministration (from the codeable-concept fixture) of this medication."""
    resource = load("medication-administration-codeable-concept.json")
    resource["id"] = id
    resource["status"] = status
    if medication is not None:
        resource["medicationCodeableConcept"] = medication
    if rate is not None:
        resource["dosage"]["rateQuantity"] = rate
    resource.update(fields)
    return resource


def rxnorm(code: str | None = None, display: str | None = None, text: str | None = None) -> dict:
    concept: dict[str, Any] = {}
    coding: dict[str, Any] = {}
    if code is not None:
        coding = {"system": RXNORM, "code": code}
    if display is not None:
        coding["display"] = display
    if coding:
        concept["coding"] = [coding]
    if text is not None:
        concept["text"] = text
    return concept


def record(*resources: dict[str, Any], options: MappingOptions | None = None) -> GradingInputs:
    """Map the fixture Patient plus ``resources``."""
    return map_patient_record(
        [load("patient.json"), *resources], PATIENT_ID, options or MappingOptions()
    )
