"""Clinical review of the mapping (issue 10 and 12 follow-up): result and device shapes that
real EHRs chart, beyond the issue's examples. Each test names its rule and source."""

from __future__ import annotations

import pytest
from map_fixtures import SNOMED, administration, observation, record, rxnorm

from crs_grading.inputs import OxygenDevice

LOCAL = "urn:oid:1.2.840.114350.1.13.0.1.7.2.768282"


def _culture_result(**value: object) -> bool | None:
    culture = observation("600-7")
    culture.update(value)
    (result,) = record(culture).blood_cultures
    return result.positive


# --- blood culture results in words (SPEC 2.7 positive-blood-culture) -------------------------

NEGATIVE_CULTURE_TEXTS = [
    "No aerobic or anaerobic growth",
    "No anaerobic growth after 5 days",
    "No growth aerobically or anaerobically at 5 days",
    "No bacteria isolated",
    "No yeast isolated",
    "No significant growth",
    "Negative for yeast",
    "No gram negative rods isolated",
    "Final: no aerobic growth, no anaerobic growth",
    "NGTD",
]


@pytest.mark.parametrize(
    "text",
    NEGATIVE_CULTURE_TEXTS,
    ids=[f"SPEC 2.7: '{text}' is a negative culture" for text in NEGATIVE_CULTURE_TEXTS],
)
def test_spec_2_7_a_negated_culture_result_is_negative_never_positive(text):
    """'No growth' must never warn: words after a negation in the same clause are negated."""
    assert _culture_result(valueString=text) is False
    assert _culture_result(valueCodeableConcept={"text": text}) is False


POSITIVE_CULTURE_TEXTS = [
    "Staphylococcus aureus isolated, no other growth",
    "Positive; no growth in the anaerobic bottle",
    "Coagulase negative staphylococcus",
    "Gram negative rods. No other organisms isolated.",
    "No growth in aerobic bottle, gram positive cocci in anaerobic bottle",
    "Growth of E. coli",
    "Positive for Staphylococcus aureus",
]


@pytest.mark.parametrize(
    "text",
    POSITIVE_CULTURE_TEXTS,
    ids=[f"SPEC 2.7: '{text}' is a positive culture" for text in POSITIVE_CULTURE_TEXTS],
)
def test_spec_2_7_a_negation_negates_only_its_own_clause(text):
    assert _culture_result(valueString=text) is True


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        ("No growth after 5 days", False),
        ("No bacteria isolated", False),
        ("Not done", None),
        ("Staphylococcus aureus", True),
    ],
    ids=[
        "SPEC 2.7: an unlisted SNOMED CT 'no growth after 5 days' is negative",
        "SPEC 2.7: an unlisted SNOMED CT 'no bacteria isolated' is negative",
        "SPEC 2.7: an unlisted SNOMED CT 'not done' is no result",
        "SPEC 2.7: an unlisted SNOMED CT organism is positive",
    ],
)
def test_spec_2_7_an_unlisted_snomed_result_is_read_by_its_words_before_it_names_an_organism(
    display, expected
):
    concept = {"coding": [{"system": SNOMED, "code": "999999001", "display": display}]}
    assert _culture_result(valueCodeableConcept=concept) is expected


ABBREVIATED_ORGANISMS = [
    "Staph aureus",
    "S. aureus",
    "MRSA",
    "GPC in clusters",
    "GNR",
    "S. mitis",
    "Strep viridans",
    "CoNS, 1 of 2 bottles",
    "Aspergillus fumigatus",
    "Candida auris",
    "Stenotrophomonas maltophilia",
]


@pytest.mark.parametrize(
    "text",
    ABBREVIATED_ORGANISMS,
    ids=[f"SPEC 2.7: '{text}' is a positive culture" for text in ABBREVIATED_ORGANISMS],
)
def test_spec_2_7_an_organism_charted_abbreviated_is_a_positive_culture(text):
    """Microbiology results name organisms as the laboratory writes them: genus abbreviated,
    species alone, or the usual acronyms (MRSA, GPC, GNR). A missed one is a missed warning."""
    assert _culture_result(valueString=text) is True


# --- oxygen devices (SPEC 2.3, 2.4) -----------------------------------------------------------

DEVICE_TEXTS = [
    ("Mask, non-rebreather", OxygenDevice.NON_REBREATHER),
    ("Mask - partial rebreather", OxygenDevice.PARTIAL_REBREATHER),
    ("Mask, Venturi", OxygenDevice.VENTURI_MASK),
    ("Nasal cannula, high flow", OxygenDevice.HIGH_FLOW_NASAL_CANNULA),
    ("Cannula, High Flow", OxygenDevice.HIGH_FLOW_NASAL_CANNULA),
    ("NC;NRB", OxygenDevice.NON_REBREATHER),
    ("Nasal cannula;Non-rebreather mask", OxygenDevice.NON_REBREATHER),
    ("Simple mask", OxygenDevice.SIMPLE_FACEMASK),
    ("Nasal cannula", OxygenDevice.NASAL_CANNULA),
    ("Room air", OxygenDevice.ROOM_AIR),
]


@pytest.mark.parametrize(
    ("text", "device"),
    DEVICE_TEXTS,
    ids=[f"SPEC 2.3: '{text}' is {device}" for text, device in DEVICE_TEXTS],
)
def test_spec_2_3_a_device_row_naming_several_devices_is_the_most_supportive(text, device):
    """Flowsheet lists write the family first ("Mask, non-rebreather") and multi-select rows
    list every device in use ("NC;NRB"): the oxygen requirement is the most supportive one."""
    row = observation("O2DEV", system=LOCAL, text="O2 Device", valueString=text)
    (reading,) = record(row).oxygen
    assert reading.device is device


def test_spec_2_3_every_oxygen_device_has_a_place_in_the_support_order():
    from fhir_maps.valuesets.devices import DEVICE_SUPPORT

    assert sorted(DEVICE_SUPPORT) == sorted(OxygenDevice)
    assert DEVICE_SUPPORT[0] is OxygenDevice.ROOM_AIR


# --- one resource, read once (SPEC 4: vitals, labs and baselines come under separate keys) ----


def test_spec_4_a_resource_sent_under_two_prefetch_keys_is_read_once():
    """The same Observation may arrive under two keys (``labs`` and ``baselines``) or two files
    of one chart: it is one reading. Read twice, a systolic and a diastolic row of one time are
    no longer paired (no derived MAP), and every count doubles."""
    systolic = observation("8480-6", 95, "mm[Hg]", id="sbp")
    diastolic = observation("8462-4", 48, "mm[Hg]", id="dbp")
    tocilizumab = administration(rxnorm("612865", "tocilizumab"), id="toci")
    once = record(systolic, diastolic, tocilizumab)
    twice = record(
        systolic, diastolic, tocilizumab, dict(systolic), dict(diastolic), dict(tocilizumab)
    )
    assert twice.blood_pressures == once.blood_pressures
    assert twice.immunosuppressants == once.immunosuppressants
    assert len(once.immunosuppressants) == 1
