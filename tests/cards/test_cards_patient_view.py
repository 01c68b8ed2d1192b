"""The patient-view cards, rule by rule, on synthetic assessments and the real treatment plan.

Sources: SPEC section 4 (card contract), SPEC 2.1 (scope), 2.3 (CRS without fever), 2.6 (the
seed's Figure 2 algorithm and doses), 2.7 (attribution, the seed's sepsis caution), 2.8
(biomarkers); CDS Hooks 2.0.1 Card (summary < 140 characters, markdown detail).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.cards import EXTENSION_KEY, OVERRIDE_SYSTEM, patient_view_cards
from cds_service.cards.text import MAX_SUMMARY
from crs_grading.inputs import BloodPressure, Comparator, SkippedResource

from .builders import AS_OF, LAUNCH, PATIENT_ID, assessment, context, crp, plan


def _cards(value, protocol="lee2014", problems=()):
    return patient_view_cards(value, plan(value, protocol), context(*problems))


def _main(value, **kwargs):
    return _cards(value, **kwargs)[0]


# -- summary ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "summary"),
    [
        (
            {"grade": 0, "day": 3},
            "No CRS criteria met, day 3 after tisagenlecleucel",
        ),
        (
            {"grade": 1},
            "CRS grade 1 (Lee 2014), day 5 after tisagenlecleucel: symptomatic treatment only",
        ),
        (
            {"grade": 2},
            "CRS grade 2 (Lee 2014), day 5 after tisagenlecleucel: supportive care and close "
            "monitoring",
        ),
        (
            {"grade": 2, "age_years": 70},
            "CRS grade 2 (Lee 2014), day 5 after tisagenlecleucel: consider tocilizumab 280 mg IV "
            "over 1 h",
        ),
        (
            {"grade": 3},
            "CRS grade 3 (Lee 2014), day 5 after tisagenlecleucel: tocilizumab 280 mg IV over 1 h",
        ),
        (
            {"grade": 3, "weight_kg": None},
            "CRS grade 3 (Lee 2014), day 5 after tisagenlecleucel: tocilizumab 4 mg/kg IV over 1 h",
        ),
        (
            {"grade": 3, "warnings": ("positive-blood-culture",)},
            "CRS grade 3 (Lee 2014), day 5 after tisagenlecleucel: if CRS rather than sepsis, "
            "tocilizumab 280 mg IV over 1 h",
        ),
        (
            {"grade": 1, "warnings": ("neutropenia",)},
            "CRS grade 1 (Lee 2014), day 5 after tisagenlecleucel: symptomatic treatment only",
        ),
        (
            {"grade": 3, "neuro": True},
            "CRS grade 3 (Lee 2014), day 5 after tisagenlecleucel: dexamethasone 10 mg IV",
        ),
        (
            {"grade": 3, "tocilizumab_hours_ago": (6,)},
            "CRS grade 3 (Lee 2014), day 5 after tisagenlecleucel: reassess at 24 Nov 04:00 UTC, "
            "after tocilizumab",
        ),
        (
            {"grade": 2, "fever": False},
            "CRS grade 2 (Lee 2014), day 5 after tisagenlecleucel: supportive care and close "
            "monitoring; no fever",
        ),
        (
            {"grade": 5},
            "CRS grade 5 (Lee 2014): death recorded, day 5 after tisagenlecleucel",
        ),
    ],
    ids=[
        "grade 0 says no criteria met (SPEC 2.1)",
        "grade 1 symptomatic only (seed Figure 2)",
        "grade 2 supportive care (seed Figure 2)",
        "grade 2 older patient: consider tocilizumab (seed Figure 2)",
        "grade 3 tocilizumab first line 4 mg/kg x 70 kg (seed Tocilizumab)",
        "no weight: the mg/kg rate only (SPEC 2.6)",
        "infection signal: only if CRS, not sepsis (SPEC 2.7)",
        "infection signal without a suggestion: named by the infection card, once (SPEC 2.7, 4)",
        "neurologic dysfunction without pressors: dexamethasone, max 10 mg (seed)",
        "tocilizumab 6 h ago: reassess at 24 h (seed Tocilizumab)",
        "grade 2 without fever is said (SPEC 2.3)",
        "grade 5 death (seed Table 2)",
    ],
)
def test_the_summary_names_the_grade_and_the_next_step(facts, summary):
    assert _main(assessment(**facts))["summary"] == summary


def test_an_infection_signal_without_a_suggestion_is_named_on_the_infection_card_only():
    """SPEC 2.7: never hidden; SPEC 4: each fact once across the cards of one answer."""
    main, infection = _cards(assessment(grade=1, warnings=("neutropenia",)))
    assert "neutropenia" not in main["summary"] + main["detail"]
    assert "neutropenia" in infection["summary"].lower()


@given(
    grade=st.integers(0, 5),
    therapy=st.text(min_size=1, max_size=300),
    day=st.integers(0, 30),
    weight=st.one_of(st.none(), st.floats(1, 300)),
    age=st.one_of(st.none(), st.floats(0.1, 100)),
    warnings=st.sets(
        st.sampled_from(
            [
                "positive-blood-culture",
                "neutropenia",
                "elevated-lactate",
                "infection-diagnosis",
                "late-onset",
                "masked-fever",
            ]
        )
    ),
    neuro=st.booleans(),
    fever=st.booleans(),
    doses=st.lists(st.floats(1, 200), max_size=5),
)
@settings(max_examples=150, deadline=None)
def test_every_summary_is_under_140_and_every_detail_at_most_700_characters(
    grade, therapy, day, weight, age, warnings, neuro, fever, doses
):
    """CDS Hooks 2.0.1 Card.summary: "<140-character"; SPEC section 4: the summary names the
    grade, the detail is at most 700 characters whatever the chart holds."""
    value = assessment(
        grade=grade,
        therapy_name=therapy,
        day=day,
        weight_kg=weight,
        age_years=age,
        warnings=sorted(warnings),
        neuro=neuro,
        fever=fever,
        tocilizumab_hours_ago=doses,
    )
    for card in _cards(value):
        assert len(card["summary"]) < 140
        assert card["summary"] == " ".join(card["summary"].split())
        # SPEC 4: "The detail is at most 700 characters of markdown".
        assert len(card["detail"]) <= 700, card["detail"]
    main = _cards(value)[0]["summary"]
    assert main.startswith("No CRS criteria met" if grade == 0 else f"CRS grade {grade}")
    assert len(main) <= MAX_SUMMARY


# -- indicator --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "indicator"),
    [
        ({"grade": 0}, "info"),
        ({"grade": 1}, "info"),
        ({"grade": 1, "warnings": ("neutropenia",)}, "info"),
        ({"grade": 2}, "warning"),
        ({"grade": 2, "age_years": 70}, "warning"),
        ({"grade": 2, "age_years": 70, "warnings": ("late-onset",)}, "critical"),
        ({"grade": 3}, "critical"),
        ({"grade": 4}, "critical"),
    ],
    ids=[
        "grade 0 info (SPEC 4)",
        "grade 1 info (SPEC 4)",
        "grade 1 with neutropenia and no suggestion stays info (SPEC 4)",
        "grade 2 warning (SPEC 4)",
        "grade 2 with a suggestion to consider is a warning (SPEC 4)",
        "any attribution warning with a suggestion is critical (SPEC 4)",
        "grade 3 critical (SPEC 4)",
        "grade 4 critical (SPEC 4)",
    ],
)
def test_the_indicator_follows_the_grade_and_the_attribution_rule(facts, indicator):
    value = assessment(**facts)
    assert _main(value)["indicator"] == indicator


# -- attribution (SPEC 2.7) -------------------------------------------------------------------


@pytest.mark.parametrize(
    "signal", ["positive-blood-culture", "neutropenia", "elevated-lactate", "infection-diagnosis"]
)
def test_an_infection_signal_with_a_suggestion_is_critical_and_never_preselected(signal):
    """SPEC 2.7 [seed attribution]: critical, isRecommended false, and the sepsis caution."""
    cards = _cards(assessment(grade=3, warnings=(signal,)))
    main, infection = cards

    assert main["indicator"] == "critical"
    assert [s["isRecommended"] for s in main["suggestions"]] == [False]
    assert main["suggestions"][0]["label"].startswith("If CRS rather than sepsis: tocilizumab")
    assert "Hypotension from sepsis would not call for tocilizumab" in main["detail"]
    assert infection["indicator"] == "critical"
    # Each fact once (SPEC 4): the caution on the card with the suggestion, the signal on the
    # infection card.
    assert "Hypotension from sepsis" not in infection["detail"]
    assert signal.split("-")[-1] in infection["summary"] + infection["detail"]
    assert EXTENSION_KEY not in infection.get("extension", {})


@pytest.mark.parametrize("code", ["late-onset", "masked-fever"])
def test_the_other_warnings_are_shown_but_do_not_unselect_the_suggestion(code):
    """SPEC 2.7: only the four infection signals set isRecommended false; none is hidden."""
    cards = _cards(assessment(grade=3, warnings=(code,)))

    assert len(cards) == 1  # no infection card
    (main,) = cards
    assert [s["isRecommended"] for s in main["suggestions"]] == [True]
    assert main["indicator"] == "critical"
    assert "**Attribution warning:**" in main["detail"]
    assert main["extension"][EXTENSION_KEY]["attributionWarnings"][0]["code"] == code


def test_febrile_neutropenia_gets_its_own_card_with_the_cultures_reminder():
    """SPEC 2.7: neutropenia with fever: cultures and empiric antibiotics (seed infection); the
    infection card says it, once, in its summary (SPEC 4: each fact once across the cards)."""
    main, infection = _cards(assessment(grade=1, warnings=("neutropenia",)))

    assert infection["summary"].startswith("Febrile neutropenia")
    assert infection["summary"].endswith(
        "obtain blood cultures and start empiric antibiotics"
    )
    assert infection["indicator"] == "warning"
    everything = main["detail"] + infection["detail"] + main["summary"]
    assert "blood cultures" not in everything  # said once, by the infection card's summary
    assert "Observation/" not in infection["detail"]


def test_every_febrile_card_reminds_of_cultures_and_antibiotics():
    """SPEC 2.7: "Every card for a febrile patient reminds: obtain cultures; empiric
    antibiotics if neutropenic"."""
    assert (
        "**Fever: obtain blood cultures; start empiric antibiotics if neutropenic.**"
        in (_main(assessment(grade=2, fever=True))["detail"])
    )
    assert "blood cultures" not in _main(assessment(grade=2, fever=False))["detail"]


@pytest.mark.parametrize(
    ("given", "masked"),
    [((), False), ((30,), True)],
    ids=["no fever, nothing given", "no fever after tocilizumab: may be masked"],
)
def test_crs_without_fever_says_consider_other_causes(given, masked):
    """SPEC 2.3: a card for grade >= 2 without fever says "CRS without fever: consider other
    causes"; fever can be masked after tocilizumab or corticosteroids (SPEC 2.7)."""
    detail = _main(assessment(grade=3, fever=False, tocilizumab_hours_ago=given))["detail"]
    assert "**CRS without fever: consider other causes (no temperature >= 38 C" in detail
    assert ("Fever can be masked after tocilizumab or corticosteroids." in detail) is masked


# -- suggestions and orders (SPEC 2.6, 4) -----------------------------------------------------


def test_grade_3_suggests_a_valid_tocilizumab_order_of_the_protocol_dose():
    """Seed Tocilizumab: 4 mg/kg in adults; 70 kg -> 280 mg; SPEC 4 order shape."""
    main = _main(assessment(grade=3))

    (suggestion,) = main["suggestions"]
    assert main["selectionBehavior"] == "any"
    assert suggestion["isRecommended"] is True
    assert suggestion["label"] == "tocilizumab 280 mg IV over 1 h"
    assert suggestion["uuid"] != main["uuid"]
    (action,) = suggestion["actions"]
    assert action["type"] == "create"
    order = action["resource"]
    assert order["subject"] == {"reference": f"Patient/{PATIENT_ID}"}
    assert order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 280


@pytest.mark.parametrize(
    ("facts", "missing"),
    [
        ({"weight_kg": None}, "no recent body weight recorded"),
        ({"age_years": None}, "age unknown"),
    ],
    ids=["no weight (SPEC 2.6)", "no age under lee2014 (seed: dose by age)"],
)
def test_no_order_is_suggested_without_an_absolute_dose(facts, missing):
    """SPEC 2.6: "no weight: the card gives mg/kg and says the weight is missing, and no order
    with an absolute dose is suggested"."""
    main = _main(assessment(grade=3, **facts))

    assert "suggestions" not in main and "selectionBehavior" not in main
    assert "no order suggested" in main["detail"]
    assert missing in main["detail"]


def test_second_line_after_24_hours_offers_both_agents():
    """Seed Tocilizumab: still grade >= 3 24 h after a dose: a second dose and/or a
    corticosteroid (methylprednisolone 2 mg/kg/day)."""
    main = _main(assessment(grade=3, tocilizumab_hours_ago=(30,)))

    labels = [s["label"] for s in main["suggestions"]]
    assert labels == ["tocilizumab 280 mg IV over 1 h", "methylprednisolone 140 mg IV per day"]
    assert [s["isRecommended"] for s in main["suggestions"]] == [True, False]
    assert main["selectionBehavior"] == "any"
    assert len({s["uuid"] for s in main["suggestions"]} | {main["uuid"]}) == 3


def test_neurologic_dysfunction_without_pressors_puts_dexamethasone_first():
    """Seed neurologic dysfunction: corticosteroids first line without hemodynamic
    instability; dexamethasone 0.5 mg/kg, maximum 10 mg per dose (70 kg -> 35 -> 10 mg)."""
    main = _main(assessment(grade=3, neuro=True))

    first, second = main["suggestions"]
    assert first["label"] == "dexamethasone 10 mg IV"
    assert first["isRecommended"] is True
    assert second["label"] == "tocilizumab 280 mg IV over 1 h"
    assert second["isRecommended"] is False
    assert "encephalopathy" in main["detail"]


def test_tocilizumab_within_8_hours_is_withheld_and_the_reassessment_time_shown():
    """Label: at least 8 h between doses; seed: reassess 24 h after the dose."""
    main = _main(assessment(grade=3, tocilizumab_hours_ago=(6,)))

    assert "suggestions" not in main
    assert "No tocilizumab before 23 Nov 12:00 UTC" in main["detail"]
    assert "Reassess at 24 Nov 04:00 UTC" in main["detail"]


# -- the card contract (SPEC section 4) -------------------------------------------------------


def test_the_assessment_card_carries_source_links_overrides_and_the_extension():
    main = _main(assessment(grade=2))

    assert main["uuid"].startswith("u")
    assert main["source"] == {
        "label": "Lee et al. 2014, Blood 124(2):188-195 (revised CRS grading)",
        "url": "https://doi.org/10.1182/blood-2014-05-552729",
    }
    assert main["links"] == [
        {"label": "CRS course over time (SMART app)", "url": LAUNCH, "type": "smart"},
        {
            "label": "Lee et al. 2014: revised CRS grading and treatment algorithm",
            "url": "https://doi.org/10.1182/blood-2014-05-552729",
            "type": "absolute",
        },
    ]
    codes = [reason["code"] for reason in main["overrideReasons"]]
    assert codes == [
        "attributed-to-infection",
        "already-treated",
        "record-out-of-date",
        "clinical-judgement",
        "patient-preference",
    ]
    assert all(r["system"] == OVERRIDE_SYSTEM and r["display"] for r in main["overrideReasons"])
    assert main["extension"][EXTENSION_KEY]["grade"] == 2


def test_a_patient_out_of_scope_gets_no_card():
    """SPEC 2.1."""
    assert _cards(assessment(grade=3, in_scope=False)) == []


def test_the_detail_names_every_driver_in_clinical_words_and_the_other_system():
    main = _main(assessment(grade=3))
    detail = main["detail"]
    assert detail.startswith("**Why grade 3 (peak 3 · ASTCT 2019 grade 4):**")
    assert "- grade 3: norepinephrine and dopamine at the same time" in detail
    assert "- grade 2: BP 84/50 mmHg" in detail
    # SPEC 4: the evidence lives in the extension, never as FHIR ids in the detail.
    assert "MedicationAdministration/" not in detail and "Observation/" not in detail
    drivers = main["extension"][EXTENSION_KEY]["drivers"]
    assert drivers[0]["evidence"] == [
        "MedicationAdministration/ne1",
        "MedicationAdministration/dop1",
    ]


def test_a_peak_above_the_current_grade_is_shown_with_its_drivers():
    detail = _main(assessment(grade=1, peak=3))["detail"]
    assert "**Peak grade 3:** 20 Nov 22:00 UTC to 21 Nov 22:00 UTC: norepinephrine" in detail


def test_the_baseline_blood_pressure_is_shown_when_known():
    """Seed: a clear baseline; SPEC 2.3: the card shows it."""
    baseline = BloodPressure(AS_OF.replace(day=18), "Observation/bp0", 118, 72)
    detail = _main(assessment(grade=2, baseline=baseline))["detail"]
    assert "BP 84/50 mmHg: systolic 84 < 90 mmHg; baseline 118/72 mmHg" in detail


def test_a_baseline_pressure_charted_as_a_bound_is_shown_as_charted():
    """SPEC 3 "Comparators": the card shows the comparator as charted."""
    baseline = BloodPressure(
        AS_OF.replace(day=18), "Observation/bp0", 100, 60, systolic_comparator=Comparator.ABOVE
    )
    detail = _main(assessment(grade=2, baseline=baseline))["detail"]
    assert "baseline >100/60 mmHg" in detail
    assert "Observation/bp0" not in detail


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        (crp(92.0, 4.0), "CRP 92 mg/L (23x baseline, rising)"),
        (crp(7.5, 5.0), "CRP 7.5 mg/L (1.5x baseline, rising)"),
        (
            crp(120.0, 4.0, falling_after_peak=True),
            "falling after a peak of 180 mg/L (22 Nov 04:00 UTC): may mark the peak of the "
            "syndrome",
        ),
    ],
    ids=["fold change", "small fold change with a decimal", "falling CRP after a peak (seed)"],
)
def test_biomarkers_show_fold_change_and_trend_and_never_the_grade(summary, expected):
    """SPEC 2.8: CRP, ferritin and IL-6 shown with fold change and trend."""
    detail = _main(assessment(grade=1, biomarkers=(summary,)))["detail"]
    assert expected in detail
    assert "never the grade" in detail


def test_fhir_problems_are_data_gaps_in_the_extension_and_the_detail():
    """SPEC section 4: a lesser part that fails is said on the card; the FHIR reader words the
    sentence (what may be missing), the card lays out its short line and the extension's
    ``dataGaps`` carries the full one."""
    full = (
        "blood cultures could not be read (timed out after 4.0 s): an infection warning may be "
        "missing"
    )
    short = "blood cultures could not be read: an infection warning may be missing"
    main = _main(
        assessment(grade=1, data_gaps=("no body weight in the last 30 days",)),
        problems=(("cultures", full, True, short),),
    )

    assert main["extension"][EXTENSION_KEY]["dataGaps"] == [
        full,
        "no body weight in the last 30 days",
    ]
    assert "Blood cultures could not be read: an infection warning may be missing." in (
        main["detail"]
    )
    assert "timed out" not in main["detail"]
    assert "No body weight in the last 30 days." in main["detail"]


def test_skipped_resources_live_in_the_extension_not_the_detail():
    """SPEC 4: "no list of unused data": skipped resources are in the extension only."""
    skipped = tuple(
        SkippedResource(f"Observation/f{i}", "dated after the assessment time") for i in range(8)
    ) + (SkippedResource("Observation/x9", "valueQuantity.value is not a number"),)
    main = _main(assessment(grade=1, skipped=skipped))

    assert "Not used" not in main["detail"] and "Observation/" not in main["detail"]
    assert len(main["extension"][EXTENSION_KEY]["skipped"]) == 9


def test_text_from_the_record_cannot_inject_markdown_links_or_html():
    """CDS Hooks detail is GFM: text from the EHR must not become a link, image or tag."""
    name = "[click me](javascript:alert(1)) <img src=x onerror=alert(1)> *bold*"
    main = _main(assessment(grade=1), problems=(("cultures", name, True, name),))

    assert (
        "\\[click me\\](javascript:alert(1)) \\<img src=x onerror=alert(1)> \\*bold\\*"
        in (main["detail"])
    )
    assert "<img" not in main["detail"].replace("\\<img", "")
