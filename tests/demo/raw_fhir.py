"""Reads the demo Bundles' raw JSON the way a test needs it, independent of ``fhir_maps``.

A deliberately small, separate reading of the data: the storyline tests check the generated
JSON against the paper and against ``expected.json`` without trusting the generator's own
model (or the service's mapping, which is tested elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
VASOPRESSORS = {
    "7512": "norepinephrine",
    "3628": "dopamine",
    "8163": "phenylephrine",
    "3992": "epinephrine",
    "11149": "vasopressin",
}


def resources(bundle: dict[str, Any], resource_type: str | None = None) -> list[dict[str, Any]]:
    found = [entry["resource"] for entry in bundle["entry"]]
    if resource_type is None:
        return found
    return [r for r in found if r["resourceType"] == resource_type]


def codes(concept: dict[str, Any] | None, system: str) -> set[str]:
    if not concept:
        return set()
    return {c["code"] for c in concept.get("coding", []) if c.get("system") == system}


def when(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None, f"dateTime without time zone: {text}"
    return value


def observations(bundle: dict[str, Any], loinc: str) -> list[dict[str, Any]]:
    return sorted(
        (o for o in resources(bundle, "Observation") if loinc in codes(o["code"], LOINC)),
        key=lambda o: when(o["effectiveDateTime"]),
    )


def component_value(observation: dict[str, Any], loinc: str) -> float | None:
    for component in observation.get("component", []):
        if loinc in codes(component["code"], LOINC):
            return float(component["valueQuantity"]["value"])
    return None


def celsius(quantity: dict[str, Any]) -> float:
    if quantity["code"] == "[degF]":
        return (float(quantity["value"]) - 32) * 5 / 9
    assert quantity["code"] == "Cel", quantity
    return float(quantity["value"])


def medication_codes(administration: dict[str, Any]) -> set[str]:
    """RxNorm codes of a MedicationAdministration's drug, following a contained Medication."""
    if "medicationCodeableConcept" in administration:
        return codes(administration["medicationCodeableConcept"], RXNORM)
    target = administration["medicationReference"]["reference"].removeprefix("#")
    for contained in administration.get("contained", []):
        if contained["id"] == target:
            found = codes(contained.get("code"), RXNORM)
            for ingredient in contained.get("ingredient", []):
                found |= codes(ingredient.get("itemCodeableConcept"), RXNORM)
            return found
    raise AssertionError(f"unresolved contained reference in {administration['id']}")


def period(administration: dict[str, Any]) -> tuple[datetime, datetime | None]:
    if "effectiveDateTime" in administration:
        start = when(administration["effectiveDateTime"])
        return start, start
    effective = administration["effectivePeriod"]
    end = effective.get("end")
    return when(effective["start"]), when(end) if end else None


@dataclass(frozen=True)
class Infusion:
    agent: str
    start: datetime
    end: datetime
    rate: float
    unit: str
    reference: str


def vasopressor_infusions(bundle: dict[str, Any], open_end: datetime) -> list[Infusion]:
    found = []
    for administration in resources(bundle, "MedicationAdministration"):
        agents = {VASOPRESSORS[c] for c in medication_codes(administration) if c in VASOPRESSORS}
        if not agents:
            continue
        start, end = period(administration)
        rate = administration["dosage"]["rateQuantity"]
        found.append(
            Infusion(
                agents.pop(),
                start,
                end or open_end,
                float(rate["value"]),
                rate["code"],
                f"MedicationAdministration/{administration['id']}",
            )
        )
    return sorted(found, key=lambda i: i.start)


def doses(bundle: dict[str, Any], rxnorm: str) -> list[dict[str, Any]]:
    return sorted(
        (a for a in resources(bundle, "MedicationAdministration") if rxnorm in medication_codes(a)),
        key=lambda a: period(a)[0],
    )


def latest_weight_before(bundle: dict[str, Any], moment: datetime) -> float:
    weights = [
        (when(o["effectiveDateTime"]), float(o["valueQuantity"]["value"]))
        for o in observations(bundle, "29463-7")
        if when(o["effectiveDateTime"]) <= moment
    ]
    return max(weights)[1]


@dataclass(frozen=True)
class DayCounter:
    """Day numbers after the infusion, three ways: local date, UTC date, 24 h periods."""

    infusion: datetime

    def local(self, moment: datetime) -> int:
        zone = self.infusion.tzinfo
        return (moment.astimezone(zone).date() - self.infusion.date()).days

    def utc(self, moment: datetime) -> int:
        return (moment.astimezone(UTC).date() - self.infusion.astimezone(UTC).date()).days

    def elapsed(self, moment: datetime) -> int:
        return (moment - self.infusion) // timedelta(days=1)

    def all(self) -> dict[str, Any]:
        return {"local date": self.local, "UTC date": self.utc, "24 h periods": self.elapsed}


def days_touched(start_day: int, end_day: int) -> Iterator[int]:
    yield from range(start_day, end_day + 1)


def age_years(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
