"""A seeded mutator of CDS Hooks bodies for the fuzz tests (issue 11: wrong JSON types gave 500).

Calls are small but real: a demo patient, what puts it in scope, and one to four of its
resources (of every kind the case holds, the latest before the call, so they fall in the
grading windows), with draft orders of every drug the order checks know. Small calls keep
thousands of them to a few seconds and let each mutation land on what grading reads. A
mutation picks an element anywhere in the body and changes it the ways EHRs and attackers
do: another JSON type, a hostile string, a removed key, a value wrapped in or taken out of a
list, two elements swapped. Everything is drawn from one ``random.Random(seed)``, so a
failure names its seed and iteration and replays exactly.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ehr_pages import ehr_prefetch
from hooks.support import draft_order

from .harness import demo_resources

#: Values that replace an element: every JSON type, edges of numbers and dates, hostile text.
REPLACEMENTS: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    -1,
    1.5,
    -0.0,
    2**63,
    -(2**63) - 1,
    1e308,
    -1e308,
    5e-324,
    "",
    " ",
    "x",
    "\u0000",
    "a\u0000b",
    "\u202e\ufeff",
    "é" * 300,
    "Patient/../Patient/x",
    "Patient/",
    "#",
    "urn:uuid:",
    "http://loinc.org",
    "8310-5",
    "Cel",
    "[degF]",
    "mg/dL",
    "final",
    "draft",
    "match",
    "include",
    "2026-01-10",
    "2026-01-10T12:00:00Z",
    "2026-13-45T99:99:99Z",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01",
    "9999-12-31",
    "2026-01-10T12:00:00",
    [],
    {},
    [None],
    [1, "a", {}],
    {"a": 1},
    {"coding": "x"},
    {"reference": ["Patient/x"]},
    [[[]]],
)


def _resource_kind(resource: dict[str, Any]) -> str:
    kind = str(resource["resourceType"])
    if kind == "Observation":
        codes = [c.get("code", "") for c in resource.get("code", {}).get("coding", [])]
        return f"{kind}:{','.join(codes)}"
    if kind == "MedicationAdministration":
        concept = resource.get("medicationCodeableConcept") or {}
        return f"{kind}:{concept.get('text') or resource.get('medicationReference')}"
    return kind


def _moment(resource: dict[str, Any]) -> datetime | None:
    found = None
    for name in ("effectiveDateTime", "onsetDateTime", "recordedDate", "performedDateTime"):
        if isinstance(resource.get(name), str):
            found = resource[name]
            break
    else:
        period = resource.get("effectivePeriod") or resource.get("performedPeriod") or {}
        found = period.get("start")
    if not isinstance(found, str):
        return None
    moment = datetime.fromisoformat(found if "T" in found else f"{found}T00:00:00")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


#: What puts a demo patient in scope (SPEC 2.1): the cell therapy or antibody, as each demo
#: case charts it (a MedicationAdministration by name, or a Procedure).
_THERAPY = re.compile(r"(?i)car t|leucel|rituximab|lymphocyte|t cells")
HOOKS = (
    ("crs-patient-view", "patient-view"),
    ("crs-order-select", "order-select"),
    ("crs-order-sign", "order-sign"),
)


@dataclass(frozen=True)
class CasePool:
    """One demo case cut down: the Patient, what puts it in scope, and a few resources of
    every other kind (the latest at or before ``as_of``, and the earliest for baselines)."""

    case: str
    patient: dict[str, Any]
    anchors: tuple[dict[str, Any], ...]
    others: tuple[dict[str, Any], ...]


def case_pool(case: str, as_of: datetime, per_kind: int = 2) -> CasePool:
    _, resources = demo_resources(case)
    patient: dict[str, Any] = {}
    anchors: list[dict[str, Any]] = []
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        kind = _resource_kind(resource)
        if resource["resourceType"] == "Patient":
            patient = resource
        elif resource["resourceType"] == "Procedure" or (
            kind.startswith("MedicationAdministration:") and _THERAPY.search(kind)
        ):
            anchors.append(resource)
        else:
            by_kind.setdefault(kind, []).append(resource)
    others: list[dict[str, Any]] = []
    for items in by_kind.values():
        dated = sorted(
            (moment, index, item)
            for index, item in enumerate(items)
            if (moment := _moment(item)) is not None and moment <= as_of
        )
        picked = [dated[0], *dated[-per_kind:]] if dated else [(None, 0, i) for i in items]
        others.extend({id(item): item for _, _, item in picked}.values())
    return CasePool(case, patient, tuple(anchors), tuple(others))


def case_pools(as_of: datetime) -> list[CasePool]:
    return [case_pool(case, as_of) for case in ("case1", "case2", "case3", "figure3")]


def draft_orders(patient_id: str) -> list[dict[str, Any]]:
    """Draft orders of every drug the order checks know, with and without codes and doses."""
    return [
        draft_order("toci", patient_id),
        draft_order("dexa", patient_id, drug="dexamethasone", rxnorm="3264", dose=10),
        draft_order("mp", patient_id, drug="methylprednisolone", rxnorm="6902", dose=None),
        draft_order("ana", patient_id, drug="anakinra", rxnorm=None, dose=100),
        draft_order("silt", patient_id, drug="siltuximab", rxnorm=None, dose=11, unit="mg/kg"),
    ]


def hook_call(
    pool: CasePool, service_id: str, hook: str, extra: list[dict[str, Any]], orders: int
) -> dict[str, Any]:
    """A call of ``hook`` whose prefetch holds the pool's anchors plus ``extra`` resources,
    with the first ``orders`` draft orders (order hooks)."""
    patient_id = pool.patient["id"]
    # Every template answered as the EHR would (tests/ehr_pages), the whole chart on one page.
    prefetch = ehr_prefetch([pool.patient, *pool.anchors, *extra], patient_id, page_size=0)
    context: dict[str, Any] = {"userId": "Practitioner/dr-1", "patientId": patient_id}
    if hook != "patient-view":
        chosen = draft_orders(patient_id)[:orders]
        context["draftOrders"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"resource": order, "fullUrl": f"urn:uuid:{order['id']}"} for order in chosen
            ],
        }
        if hook == "order-select":
            context["selections"] = [f"MedicationRequest/{o['id']}" for o in chosen]
    return {
        "hook": hook,
        "hookInstance": f"fuzz-{pool.case}-{service_id}",
        "context": context,
        "prefetch": prefetch,
    }


def random_call(pools: list[CasePool], rng: random.Random) -> tuple[str, dict[str, Any]]:
    """A small real call: one case, one hook, one to four resources besides the anchors."""
    pool = rng.choice(pools)
    service_id, hook = rng.choice(HOOKS)
    extra = rng.sample(pool.others, rng.randint(1, min(4, len(pool.others))))
    body = hook_call(pool, service_id, hook, extra, rng.randint(1, 5))
    # Through JSON: a fresh tree that shares nothing (a resource under two prefetch keys would
    # otherwise be one object, mutated twice).
    return service_id, json.loads(json.dumps(body))


def feedback_body() -> dict[str, Any]:
    return {
        "feedback": [
            {
                "card": "0e1c1f6a-3c55-4b9e-9d5c-5d43b0f0f0aa",
                "outcome": "overridden",
                "outcomeTimestamp": "2026-01-10T12:00:00Z",
                "overrideReason": {
                    "reason": {
                        "code": "infection-suspected",
                        "system": "https://crs-cds.example.org/override-reasons",
                        "display": "Infection suspected",
                    },
                    "userComment": "cultures pending",
                },
            },
            {
                "card": "6b1ad8a0-1a4e-4c55-8a91-6f0f6d9b4c10",
                "outcome": "accepted",
                "outcomeTimestamp": "2026-01-10T12:01:00+01:00",
                "acceptedSuggestions": [{"id": "9a7e3f00-55b4-4a9a-bb1f-3f6e2a0c9d01"}],
            },
        ]
    }


def _slots(document: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in ``document``: the places a mutation can hit."""
    found: list[tuple[Any, Any]] = []
    stack = [document]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            found.append((node, key))
            if isinstance(value, dict | list) and value:
                stack.append(value)
    return found


def mutate(document: dict[str, Any], rng: random.Random) -> str:
    """Change one element of ``document`` in place; return what was done (for the report)."""
    slots = _slots(document)
    if not slots:
        return "nothing left to mutate"
    container, key = rng.choice(slots)
    value = container[key]
    operation = rng.choices(
        ("replace", "delete", "wrap", "unwrap", "swap", "grow"), weights=(8, 2, 1, 1, 1, 1)
    )[0]
    if operation == "delete" and isinstance(container, dict):
        del container[key]
    elif operation == "wrap":
        container[key] = [value]
    elif operation == "unwrap" and isinstance(value, list) and value:
        container[key] = value[0]
    elif operation == "swap":
        other_container, other_key = rng.choice(slots)
        try:
            # Copies: a slot inside the other must not end up holding its own ancestor.
            other = copy.deepcopy(other_container[other_key])
            other_container[other_key] = copy.deepcopy(value)
            container[key] = other
        except (IndexError, KeyError):  # the other slot was inside this one
            operation = "swap (no-op)"
    elif operation == "grow" and isinstance(value, list) and value:
        container[key] = value + [copy.deepcopy(rng.choice(value))]
    else:
        operation = "replace"
        container[key] = copy.deepcopy(rng.choice(REPLACEMENTS))
    return f"{operation} {key!r}"


def mutated_bodies(
    seed: int, count: int, pools: list[CasePool]
) -> Iterator[tuple[int, str, dict[str, Any], list[str]]]:
    """``count`` (iteration, service id, mutated body, mutations), all drawn from ``seed``."""
    rng = random.Random(seed)
    for iteration in range(count):
        service_id, body = random_call(pools, rng)
        done = [mutate(body, rng) for _ in range(rng.randint(1, 3))]
        yield iteration, service_id, body, done
