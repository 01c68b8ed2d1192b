"""ICANS on the cards (SPEC 2.9 within the card rules of SPEC section 4): the ICANS grade beside
the CRS grade in the summary when >= 1, its drivers in the detail (said once), the dexamethasone
suggestion for ICANS without CRS, and the ICANS grade on the order cards."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cds_service.cards import CheckedOrder, order_check_cards, patient_view_cards
from crs_grading.inputs import DoseBasis, DraftMedicationOrder, Immunosuppressant
from crs_grading.treatment import TreatmentOptions, check_draft_order

from .builders import assessment, context, plan


def _cards(value):
    return patient_view_cards(value, plan(value), context())


def _main(value):
    return _cards(value)[0]


@pytest.mark.parametrize(
    ("facts", "summary"),
    [
        pytest.param(
            {"grade": 1, "icans": 3},
            "CRS grade 1 (Lee 2014) · ICANS grade 3, day 5 after tisagenlecleucel: dexamethasone "
            "10 mg IV",
            id="SPEC 2.9: CRS 1 · ICANS 3 with the dexamethasone next step",
        ),
        pytest.param(
            {"grade": 0, "icans": 3},
            "No CRS criteria met · ICANS grade 3, day 5 after tisagenlecleucel: dexamethasone "
            "10 mg IV",
            id="SPEC 2.9: no CRS · ICANS 3 still names the next step",
        ),
        pytest.param(
            {"grade": 0, "icans": 1},
            "No CRS criteria met · ICANS grade 1, day 5 after tisagenlecleucel",
            id="SPEC 2.9: ICANS 1 without CRS: named, no step",
        ),
        pytest.param(
            {"grade": 0, "icans": 0},
            "No CRS criteria met, day 5 after tisagenlecleucel",
            id="SPEC 2.9: ICANS 0 is not named",
        ),
        pytest.param(
            {"grade": 3, "icans": 2},
            "CRS grade 3 (Lee 2014) · ICANS grade 2, day 5 after tisagenlecleucel: dexamethasone "
            "10 mg IV",
            id="seed neurologic dysfunction: CRS 3 · ICANS 2 -> dexamethasone first",
        ),
        pytest.param(
            {"grade": 2, "icans": 4, "fever": False},
            "CRS grade 2 (Lee 2014) · ICANS grade 4, day 5 after tisagenlecleucel: supportive care "
            "and close monitoring; no fever",
            id="SPEC 2.3 + 2.9: CRS 2 without fever · ICANS 4",
        ),
    ],
)
def test_the_summary_names_icans_beside_crs(facts, summary):
    assert _main(assessment(**facts))["summary"] == summary


def test_a_long_therapy_name_never_pushes_icans_out_of_the_summary():
    card = _main(assessment(grade=1, icans=3, therapy_name="x" * 200))
    assert card["summary"].startswith("CRS grade 1 (Lee 2014) · ICANS grade 3")
    assert card["summary"].endswith("dexamethasone 10 mg IV") and len(card["summary"]) < 140


def test_the_detail_lists_the_icans_drivers_once():
    """SPEC 2.9 "its drivers in the detail"; SPEC 4 each fact once: the ICANS section replaces
    the ICANS finding among the neurologic signs, and nothing names a FHIR id."""
    card = _main(assessment(grade=1, icans=3))
    detail = card["detail"]
    assert (
        "**ICANS grade 3 (ASTCT 2019):**\n- grade 3: ICE score 2/10\n"
        "- grade 2: RASS -2: awakens to voice"
    ) in detail
    assert detail.count("ICE score 2/10") == 1
    assert "Observation/" not in detail
    assert card["indicator"] == "critical"


def test_other_neurologic_signs_stay_beside_the_icans_section():
    detail = _main(assessment(grade=3, icans=2, neuro=True))["detail"]
    assert "neurologic: encephalopathy" in detail
    assert "**ICANS grade 2 (ASTCT 2019):**" in detail
    assert detail.count("ICE score 5/10") == 1


def test_an_icans_fall_from_its_peak_is_said_in_the_heading():
    detail = _main(assessment(grade=0, icans=1, icans_peak=3))["detail"]
    assert "**ICANS grade 1 (ASTCT 2019), peak 3:**" in detail


def test_icans_without_crs_offers_a_valid_dexamethasone_order_and_no_tocilizumab():
    """SPEC 2.9: ICANS 3 with CRS 0 gets dexamethasone (seed Corticosteroids 0.5 mg/kg, max 10
    mg), preselected, and never tocilizumab."""
    card = _main(assessment(grade=0, icans=3))
    (suggestion,) = card["suggestions"]
    assert suggestion["label"] == "dexamethasone 10 mg IV" and suggestion["isRecommended"]
    order = suggestion["actions"][0]["resource"]
    assert order["medicationCodeableConcept"]["coding"][0]["code"] == "3264"
    assert order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 10
    assert "tocilizumab" not in card["summary"]
    assert "not tocilizumab (it does not cross the blood-brain barrier)" in card["detail"]


def test_icans_with_an_infection_signal_is_not_preselected():
    cards = _cards(assessment(grade=0, icans=3, warnings=("positive-blood-culture",)))
    main = cards[0]
    (suggestion,) = main["suggestions"]
    assert suggestion["label"] == "If ICANS rather than infection: dexamethasone 10 mg IV"
    assert suggestion["isRecommended"] is False
    assert main["summary"].endswith("if ICANS rather than infection, dexamethasone 10 mg IV")
    assert "encephalopathy too" in main["detail"] and "Hypotension" not in main["detail"]


def test_icans_beside_grade_2_crs_says_corticosteroids_treat_it():
    detail = _main(assessment(grade=2, icans=3))["detail"]
    assert "ICANS grade 3 beside grade 2 CRS: corticosteroids, not tocilizumab, treat ICANS" in (
        " ".join(detail.split())
    )


def test_the_order_card_names_icans_beside_crs():
    value = assessment(grade=0, icans=3)
    order = DraftMedicationOrder(
        agent=Immunosuppressant.TOCILIZUMAB,
        reference="MedicationRequest/d1",
        dose_value=280.0,
        dose_basis=DoseBasis.MG,
        route="intravenous",
    )
    options = TreatmentOptions()
    checked = [CheckedOrder(order, None, check_draft_order(order, value, options))]
    (card,) = order_check_cards(value, checked, context(), options, include_info=True)
    assert (
        card["summary"]
        == "Tocilizumab at ICANS grade 3, CRS grade 0: a corticosteroid treats ICANS"
    )
    assert card["indicator"] == "warning"
    assert "· ICANS grade 3 ·" in card["detail"]
    assert "does not cross the blood-brain barrier" in card["detail"]


@given(
    grade=st.integers(0, 5),
    icans=st.integers(0, 4),
    icans_peak=st.integers(0, 4),
    therapy=st.text(min_size=1, max_size=300),
    weight=st.one_of(st.none(), st.floats(1, 300)),
    warnings=st.sets(
        st.sampled_from(
            ["positive-blood-culture", "neutropenia", "late-onset", "masked-fever", "iec-hs"]
        )
    ),
    neuro=st.booleans(),
    fever=st.booleans(),
    doses=st.lists(st.floats(1, 200), max_size=5),
)
@example(  # found by this test: 702 characters before the redose rule had its brief words
    grade=3,
    icans=3,
    icans_peak=4,
    therapy="tisagenlecleucel",
    weight=None,
    warnings={"positive-blood-culture", "late-onset", "masked-fever", "iec-hs"},
    neuro=True,
    fever=False,
    doses=[2.0],
)
@settings(max_examples=150, deadline=None)
def test_with_icans_every_summary_is_under_140_and_every_detail_at_most_700(
    grade, icans, icans_peak, therapy, weight, warnings, neuro, fever, doses
):
    """CDS Hooks 2.0.1 Card.summary "<140-character"; SPEC 4: detail at most 700 characters;
    SPEC 2.9: the summary names ICANS whenever it is >= 1."""
    value = assessment(
        grade=grade,
        icans=icans,
        icans_peak=max(icans, icans_peak),
        therapy_name=therapy,
        weight_kg=weight,
        warnings=sorted(warnings),
        neuro=neuro,
        fever=fever,
        tocilizumab_hours_ago=doses,
    )
    cards = _cards(value)
    for card in cards:
        assert len(card["summary"]) < 140
        assert len(card["detail"]) <= 700, card["detail"]
    if 1 <= icans and grade < 5:
        assert f"ICANS grade {icans}" in cards[0]["summary"]


@pytest.mark.parametrize("grade", [3, 4])
@pytest.mark.parametrize("doses", [[2.0], [2.0, 30.0, 50.0, 70.0], [20.0]])
def test_everything_at_once_fits_700_and_keeps_every_essential_fact(grade, doses):
    """SPEC 4 (detail at most 700 characters; essential facts never left out): CRS grade 3-4
    with ICANS 3 (peak 4), every attribution warning, neurologic signs, no fever, no weight and
    a tocilizumab redose rule. A rule that blocks a dose keeps its time or count in its brief
    words (``REDOSE_BRIEF``) when the card is short of room."""
    value = assessment(
        grade=grade,
        icans=3,
        icans_peak=4,
        therapy_name="tisagenlecleucel " * 10,
        weight_kg=None,
        warnings=sorted(
            ["positive-blood-culture", "neutropenia", "late-onset", "masked-fever", "iec-hs"]
        ),
        neuro=True,
        fever=False,
        tocilizumab_hours_ago=doses,
    )
    card = _main(value)
    detail = card["detail"]
    assert len(detail) <= 700, detail
    assert f"Why grade {grade}" in detail and "ICANS grade 3" in detail
    assert "Sepsis" in detail and "IEC-HS" in detail and "without fever" in detail
    # the rule that blocks a dose, or (before the reassessment) the time to reassess
    assert any(
        words in detail for words in ("No tocilizumab before", "No more tocilizumab", "Reassess at")
    )
