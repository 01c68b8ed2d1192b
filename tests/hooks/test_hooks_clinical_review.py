"""Clinical review of issues 10 and 12, end to end through crs-patient-view: charts shaped the
way EHRs send them, in prefetch mode and in fetch mode. Each test names its rule and source."""

from __future__ import annotations

from datetime import timedelta

import pytest

from . import test_hooks_ehr_shapes as shapes
from .test_hooks_ehr_shapes import (
    LOINC,
    NOW,
    _assessed,
    _recommended,
    _warnings,
    base,
    coded,
    condition,
    local,
    obs,
)

#: ``call(resources)``: the patient-view answer in prefetch mode and in fetch mode.
call = shapes.call


def _fever_and_fio2_50(at):
    return [
        obs(coded(LOINC, "8310-5", "Body temperature"), at, value=39.1, unit="Cel"),
        obs(local("FiO2 (%)"), at, value=50, unit="%"),
    ]


def test_spec_2_7_a_no_growth_culture_in_words_does_not_warn_and_keeps_tocilizumab_first(call):
    """SPEC 2.7: a blood culture charted "No aerobic or anaerobic growth at 5 days" is negative:
    no positive-blood-culture warning, so grade 3 keeps its recommended tocilizumab."""
    at = NOW - timedelta(hours=2)
    culture = obs(local("Blood Culture"), NOW - timedelta(days=2), category="laboratory")
    culture["valueString"] = "No aerobic or anaerobic growth at 5 days"
    answer = call(base(*_fever_and_fio2_50(at), culture))
    _, extension = _assessed(answer)
    assert extension["grade"] == 3
    assert "positive-blood-culture" not in _warnings(extension)
    assert any("tocilizumab" in label.lower() for label in _recommended(answer))


def test_spec_2_7_a_culture_growing_staph_aureus_written_short_warns_and_unselects(call):
    """SPEC 2.7: "MRSA" in a local "Blood Culture" row is a positive culture: the warning shows,
    the card is critical and tocilizumab is offered but not preselected (the sepsis caution)."""
    at = NOW - timedelta(hours=2)
    culture = obs(local("Blood Culture"), NOW - timedelta(days=1), category="laboratory")
    culture["valueString"] = "Staph aureus (MRSA)"
    answer = call(base(*_fever_and_fio2_50(at), culture))
    card, extension = _assessed(answer)
    assert extension["grade"] == 3
    assert "positive-blood-culture" in _warnings(extension)
    assert card["indicator"] == "critical"
    assert _recommended(answer) == []


def test_spec_2_3_mask_non_rebreather_written_family_first_is_lee_grade_3(call):
    """SPEC 2.3 / seed text: more than low-flow oxygen with no FiO2 charted is FiO2 >= 40%. A
    device list that writes "Mask, non-rebreather" read as a simple mask: grade 2, no
    tocilizumab."""
    at = NOW - timedelta(hours=2)
    answer = call(
        base(
            obs(coded(LOINC, "8310-5", "Body temperature"), at, value=39.1, unit="Cel"),
            obs(local("O2 Device"), at, valueString="Mask, non-rebreather"),
        )
    )
    _, extension = _assessed(answer)
    assert extension["grade"] == 3
    assert "oxygen-high-fio2" in {d["criterion"] for d in extension["drivers"]}
    assert any("tocilizumab" in label.lower() for label in _recommended(answer))


@pytest.mark.parametrize(
    ("text", "first_line"),
    [
        pytest.param(
            "Seizure prophylaxis",
            "tocilizumab",
            id="SPEC 2.5 and 2.6 (review finding): 'Seizure prophylaxis' is no neurologic "
            "dysfunction: grade 3 keeps tocilizumab first line",
        ),
        pytest.param(
            "No seizure activity",
            "tocilizumab",
            id="SPEC 2.5 and 2.6 (review finding): 'No seizure activity' is no neurologic "
            "dysfunction: grade 3 keeps tocilizumab first line",
        ),
        pytest.param(
            "New onset seizure, no prior history",
            "dexamethasone",
            id="SPEC 2.5 and 2.6 (review finding): 'New onset seizure, no prior history' is a "
            "seizure: grade 3 without a vasopressor gets dexamethasone first line",
        ),
    ],
)
def test_spec_2_6_a_neurologic_condition_name_switches_first_line_only_when_it_is_a_finding(
    call, text, first_line
):
    """An active Condition "Seizure prophylaxis" counted as neurologic dysfunction and switched
    grade 3 CRS to dexamethasone first line; the names now carry the ICANS signs' negations
    and vetoes, and a seizure written beside a negation of something else still counts."""
    at = NOW - timedelta(hours=2)
    answer = call(base(*_fever_and_fio2_50(at), condition({"text": text}, at)))
    _, extension = _assessed(answer)
    assert extension["grade"] == 3
    recommended = [label.lower() for label in _recommended(answer)]
    assert len(recommended) == 1 and recommended[0].startswith(first_line)
