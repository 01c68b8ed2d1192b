"""The golden scenarios: seed cases at chosen moments, called through the service.

Each scenario is a hook call on a demo case (day 0 = 2026-01-05, the shipped demo data) at the
case's moment (``tests/hooks/support.py`` ``MOMENTS``), with the clock frozen there. The
response, with uuids replaced by ``uuid-1``, ``uuid-2``, ... in order of appearance, is the
golden file ``tests/golden/<name>.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from hooks.support import (
    SERVICE_OF_HOOK,
    draft_order,
    ehr_resources,
    hook_body,
    moment,
    patient_id_of,
    prefetch_for,
)

from cds_service.clock import fixed_clock, set_clock
from cds_service.demo import DEFAULT_DAY0

GOLDEN_DIR = Path(__file__).resolve().parent

#: Set to 1 to rewrite the golden files from the current code (then review the diff).
REGENERATE_VARIABLE = "UPDATE_GOLDEN"

#: The public URL of the service in the golden responses (the SMART link is built on it).
PUBLIC_URL = "https://cds.example.org"

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Scenario:
    name: str
    case: str
    hook: str
    description: str
    orders: tuple[dict[str, Any], ...] = field(default=())  # draft_order keyword arguments
    at: timedelta | None = None  # since day 0 midnight UTC; default: the case's moment


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "patient-view-case3",
        "case3",
        "patient-view",
        "Seed Case 3, day 5, 22:25 UTC: second vasopressor, S. mitis bacteremia, lactate 3.4",
    ),
    Scenario(
        "patient-view-case3-icans",
        "case3",
        "patient-view",
        "Seed Case 3, day 9, 16:00 on the ward clock (-08:00): encephalopathy charted as CAPD 21 "
        "and RASS -2 (ICANS grade 3) beside CRS grade 2 on low-dose norepinephrine",
        at=timedelta(days=10),
    ),
    Scenario(
        "patient-view-figure3",
        "figure3",
        "patient-view",
        "Seed Figure 3 patient, day 6 evening: grade 3, tocilizumab given 7.5 h ago",
    ),
    Scenario(
        "patient-view-case1",
        "case1",
        "patient-view",
        "Seed Case 1, day 2: fever and rigors (grade 1) with neutropenia",
    ),
    Scenario(
        "patient-view-case2",
        "case2",
        "patient-view",
        "Seed Case 2, day 14: grade 3 on two vasopressors after methylprednisolone",
    ),
    Scenario(
        "order-sign-case3",
        "case3",
        "order-sign",
        "Case 3 at the same moment: tocilizumab 400 mg drafted (protocol 291 mg)",
        ({"order_id": "toci-draft-1", "dose": 400},),
    ),
    Scenario(
        "order-sign-figure3",
        "figure3",
        "order-sign",
        "Figure 3 at the same moment: a second tocilizumab dose drafted 7.5 h after the first",
        ({"order_id": "toci-draft-2", "dose": 328},),
    ),
    Scenario(
        "order-select-case2",
        "case2",
        "order-select",
        "Case 2 at the same moment: dexamethasone 20 mg selected",
        ({"order_id": "dex-draft-1", "drug": "dexamethasone", "rxnorm": "3264", "dose": 20},),
    ),
)


def normalise(answer: dict[str, Any]) -> dict[str, Any]:
    """``answer`` with every uuid replaced by ``uuid-<n>`` in order of first appearance."""
    names: dict[str, str] = {}

    def name(match: re.Match[str]) -> str:
        return names.setdefault(match.group(0), f"uuid-{len(names) + 1}")

    normalised: dict[str, Any] = json.loads(_UUID.sub(name, json.dumps(answer)))
    return normalised


def run(scenario: Scenario, make_app: Callable[..., Flask]) -> dict[str, Any]:
    """The normalised response of ``scenario``."""
    as_of = (
        moment(scenario.case)
        if scenario.at is None
        else datetime.combine(DEFAULT_DAY0, datetime.min.time(), UTC) + scenario.at
    )
    resources = ehr_resources(scenario.case, as_of)
    patient_id = patient_id_of(resources)
    app = make_app(CRS_CDS_PUBLIC_URL=PUBLIC_URL)
    set_clock(app, fixed_clock(as_of))
    body = hook_body(
        scenario.hook,
        patient_id,
        prefetch=prefetch_for(resources),
        draft_orders=[draft_order(patient_id=patient_id, **kw) for kw in scenario.orders],
    )
    response = app.test_client().post(f"/cds-services/{SERVICE_OF_HOOK[scenario.hook]}", json=body)
    if response.status_code != 200:
        raise AssertionError(response.get_data(as_text=True))
    return normalise(response.get_json())


def path_of(scenario: Scenario) -> Path:
    return GOLDEN_DIR / f"{scenario.name}.json"


def dump(answer: dict[str, Any]) -> str:
    return json.dumps(answer, indent=2, ensure_ascii=False) + "\n"


DOCS = GOLDEN_DIR.parent.parent / "docs" / "cards.md"

_EMBED = re.compile(r"(<!-- golden:(?P<name>[a-z0-9-]+) -->\n).*?(<!-- /golden -->)", re.DOTALL)


def with_golden_examples(document: str) -> str:
    """``document`` with each ``<!-- golden:NAME -->`` block holding golden file NAME."""

    def fill(match: re.Match[str]) -> str:
        answer = (GOLDEN_DIR / f"{match.group('name')}.json").read_text(encoding="utf-8")
        return f"{match.group(1)}```json\n{answer}```\n{match.group(3)}"

    return _EMBED.sub(fill, document)
