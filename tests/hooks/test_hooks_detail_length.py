"""SPEC 4: "The detail is at most 700 characters of markdown", with data unread too (found in
review: three keys unread took a card to 803 characters; the "Data not read" lines had no
shorter words). Every unread kind of data is still named."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from .support import (
    SERVICE_OF_HOOK,
    draft_order,
    ehr_resources,
    hook_body,
    moment,
    patient_id_of,
    prefetch_for,
)

DAY0 = date(2026, 6, 1)
KEYS = ("labs", "cultures", "baselines", "assessments", "medications", "conditions", "procedures")
#: How each key's data is named on a card ("... could not be read").
NAMES = {
    "labs": "Laboratory results",
    "cultures": "Blood cultures",
    "medications": "Medication administrations",
    "conditions": "Diagnoses",
}


def _cards(app_at, hook, missing):
    as_of = moment("case3", DAY0)
    resources = ehr_resources("case3", as_of, DAY0)
    patient_id = patient_id_of(resources)
    prefetch = {k: v for k, v in prefetch_for(resources).items() if k not in missing}
    drafts = [draft_order("t", patient_id, dose=400)] if hook != "patient-view" else None
    body = hook_body(hook, patient_id, prefetch=prefetch, draft_orders=drafts)
    response = app_at(as_of).test_client().post(f"/cds-services/{SERVICE_OF_HOOK[hook]}", json=body)
    assert response.status_code == 200
    return response.get_json()["cards"]


@pytest.mark.parametrize("hook", ["patient-view", "order-sign"])
@pytest.mark.parametrize(
    "missing",
    [*itertools.combinations(KEYS, 3), KEYS[:5]],
    ids=lambda missing: "+".join(missing),
)
def test_every_detail_fits_700_characters_with_data_unread(app_at, hook, missing):
    cards = _cards(app_at, hook, missing)
    assert cards
    for card in cards:
        assert len(card["detail"]) <= 700, (len(card["detail"]), card["summary"])
    detail = "\n".join(card["detail"] for card in cards)
    # With the therapy's records unread (case 3's infusion is a Procedure) the check is
    # incomplete, and that card names the therapy's data only (docs/cards.md).
    therapy_unread = {"medications", "procedures"} & set(missing)
    for key in missing:
        if key in NAMES and (not therapy_unread or key in therapy_unread):
            assert f"{NAMES[key]} could not be read" in detail
