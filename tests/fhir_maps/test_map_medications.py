"""MedicationAdministration -> vasopressors, immunosuppressants, therapies (SPEC 2.1, 2.3, 3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from map_fixtures import administration, entries, load, quantity, record, rxnorm

from crs_grading.inputs import Immunosuppressant, RateBasis, TherapyKind, Vasopressor
from crs_grading.treatment.dosing import RXNORM
from fhir_maps.valuesets.medications import RXNORM_MEDICATIONS


def _one(values: tuple):
    assert len(values) == 1, values
    return values[0]


# --- the four forms of the medication (SPEC 3, US Core) --------------------------------------


def test_medication_codeable_concept():
    drip = _one(record(load("medication-administration-codeable-concept.json")).vasopressors)
    assert drip.agent is Vasopressor.NOREPINEPHRINE
    assert (drip.rate.value, drip.rate.basis) == (0.1, RateBasis.MICROGRAMS_PER_KG_PER_MIN)
    assert drip.in_progress is True
    assert (drip.start, drip.end) == (datetime(2026, 11, 20, 6, tzinfo=UTC), None)


def test_contained_medication_with_ml_per_hour_uses_its_concentration():
    """4 mg / 250 mL = 16 ug/mL; 75 mL/h x 16 ug/mL = 1200 ug/h = 20 ug/min."""
    drip = _one(record(load("medication-administration-contained.json")).vasopressors)
    assert drip.agent is Vasopressor.NOREPINEPHRINE
    assert drip.rate.basis is RateBasis.MICROGRAMS_PER_MIN
    assert drip.rate.value == pytest.approx(20.0)
    assert drip.end == datetime(2026, 11, 20, 9, tzinfo=UTC) and drip.in_progress is False


def test_included_medication_found_by_id_gives_vasopressin_units():
    """20 units / 100 mL = 0.2 units/mL; 3 mL/h = 0.6 units/h = 0.01 units/min."""
    drip = _one(record(*entries("medication-administration-included.json")).vasopressors)
    assert drip.agent is Vasopressor.VASOPRESSIN
    assert drip.rate.basis is RateBasis.UNITS_PER_MIN
    assert drip.rate.value == pytest.approx(0.01)


def test_included_medication_by_absolute_reference():
    resources = entries("medication-administration-included.json")
    resources[0]["medicationReference"]["reference"] = (
        "https://ehr.example/fhir/Medication/vaso-bag"
    )
    assert len(record(*resources).vasopressors) == 1


def test_reference_display_only():
    therapy = _one(record(load("medication-administration-display-only.json")).therapies)
    assert (therapy.name, therapy.kind) == ("tisagenlecleucel", TherapyKind.CAR_T)
    assert therapy.time == datetime(2026, 11, 15, 13, 30, tzinfo=UTC)
    assert therapy.reference == "MedicationAdministration/car1"


def test_a_medication_that_is_not_in_the_data_is_skipped_and_reported():
    resources = entries("medication-administration-included.json")[:1]
    inputs = record(*resources)
    assert inputs.vasopressors == ()
    assert inputs.skipped[0].reason == (
        "medicationReference cannot be resolved: the Medication is not in the data"
    )


def _by_unread_reference(**fields):
    resource = administration(id="car1", **fields)
    del resource["medicationCodeableConcept"]
    resource["medicationReference"] = {"reference": "Medication/not-sent"}
    return resource


def test_a_drug_that_cannot_be_identified_is_a_possible_therapy_spec2_1():
    """Its Medication is not in the data: the drug may have been the CRS therapy, so the
    administration is kept as unidentified (with its start) besides being skipped."""
    inputs = record(_by_unread_reference(status="in-progress"))
    (unidentified,) = inputs.unidentified_administrations
    assert unidentified.reference == "MedicationAdministration/car1"
    assert (unidentified.time, unidentified.end, unidentified.ongoing) == (
        datetime(2026, 11, 20, 6, tzinfo=UTC),
        None,
        True,  # still running: in scope while it runs, as a therapy would be
    )
    assert [s.reference for s in inputs.skipped] == ["MedicationAdministration/car1"]
    assert inputs.therapies == ()


@pytest.mark.parametrize("status", ["entered-in-error", "not-done", "stopped"])
def test_an_unidentified_drug_counts_only_when_given_spec3(status):
    inputs = record(_by_unread_reference(status=status))
    expected = 1 if status == "stopped" else 0  # stopped: given, then stopped
    assert len(inputs.unidentified_administrations) == expected


def test_an_unidentified_drug_without_a_time_is_no_evidence():
    resource = _by_unread_reference()
    del resource["effectivePeriod"]
    assert record(resource).unidentified_administrations == ()


@pytest.mark.parametrize(
    "reference",
    [
        {"reference": "Medication/not-sent", "display": "cefepime"},
        {"reference": "#absent"},
    ],
    ids=["a display names the drug", "a contained Medication that is missing"],
)
def test_only_a_medication_that_could_not_be_read_makes_a_possible_therapy(reference):
    resource = administration(id="x1")
    del resource["medicationCodeableConcept"]
    resource["medicationReference"] = reference
    assert record(resource).unidentified_administrations == ()


def test_a_missing_contained_medication_is_skipped_and_reported():
    resource = load("medication-administration-contained.json")
    resource["contained"][0]["id"] = "other"
    assert record(resource).skipped[0].reason == (
        "medicationReference points to a contained resource that is missing"
    )


# --- identification by code and by name (SPEC 3) ----------------------------------------------

RXNORM_CODES = [
    ("7512", Vasopressor.NOREPINEPHRINE),
    ("3992", Vasopressor.EPINEPHRINE),
    ("3628", Vasopressor.DOPAMINE),
    ("8163", Vasopressor.PHENYLEPHRINE),
    ("11149", Vasopressor.VASOPRESSIN),
    ("3264", Immunosuppressant.DEXAMETHASONE),
    ("6902", Immunosuppressant.METHYLPREDNISOLONE),
    ("5492", Immunosuppressant.HYDROCORTISONE),
    ("612865", Immunosuppressant.TOCILIZUMAB),
]


def _drug(inputs):
    found = [item.agent for item in inputs.vasopressors + inputs.immunosuppressants]
    found += [(item.name, item.kind) for item in inputs.therapies]
    return found


@pytest.mark.parametrize(
    ("code", "drug"),
    RXNORM_CODES,
    ids=[f"RxNorm {code} is {drug.value} (SPEC 3)" for code, drug in RXNORM_CODES],
)
def test_rxnorm_ingredient_codes(code, drug):
    inputs = record(administration(rxnorm(code)))
    assert _drug(inputs) == [drug]


NAMES = [
    ("Levophed 4 mg in 250 mL", Vasopressor.NOREPINEPHRINE),
    ("noradrenaline", Vasopressor.NOREPINEPHRINE),
    ("NOREPINEPHRINE BITARTRATE", Vasopressor.NOREPINEPHRINE),
    ("Adrenalin infusion", Vasopressor.EPINEPHRINE),
    ("DOPamine 400 mg/250 mL", Vasopressor.DOPAMINE),
    ("Neo-Synephrine drip", Vasopressor.PHENYLEPHRINE),
    ("Vasostrict", Vasopressor.VASOPRESSIN),
    ("Actemra 400 mg", Immunosuppressant.TOCILIZUMAB),
    ("tocilizumab-aazg", Immunosuppressant.TOCILIZUMAB),
    ("Kineret", Immunosuppressant.ANAKINRA),
    ("Sylvant", Immunosuppressant.SILTUXIMAB),
    ("Solu-Medrol 125 mg", Immunosuppressant.METHYLPREDNISOLONE),
    ("Decadron", Immunosuppressant.DEXAMETHASONE),
    ("Solu-Cortef", Immunosuppressant.HYDROCORTISONE),
]


@pytest.mark.parametrize(
    ("text", "drug"), NAMES, ids=[f"'{text}' is {drug.value}" for text, drug in NAMES]
)
def test_names_in_text(text, drug):
    inputs = record(administration(rxnorm(text=text), rate=quantity(5, "ug/min")))
    assert _drug(inputs) == [drug]


def test_names_in_a_coding_display():
    inputs = record(administration(rxnorm("999999", display="Levophed")))
    assert _drug(inputs) == [Vasopressor.NOREPINEPHRINE]


NOT_OURS = [
    ("dobutamine 250 mg/250 mL", "dobutamine is not dopamine (word boundary)"),
    ("milrinone", "milrinone is not a vasopressor of seed Table 3"),
    ("cefepime 2 g", "an antibiotic is not a drug of interest"),
    ("ondansetron 4 mg", "an antiemetic is not a drug of interest"),
]


@pytest.mark.parametrize(
    ("text", "agent"),
    [
        ("predniSONE 60 mg tablet", Immunosuppressant.PREDNISONE),
        ("Deltasone 20 mg", Immunosuppressant.PREDNISONE),
        ("prednisoLONE 15 mg/5 mL oral solution", Immunosuppressant.PREDNISOLONE),
        ("Orapred ODT 30 mg", Immunosuppressant.PREDNISOLONE),
        ("methylPREDNISolone sodium succinate 125 mg", Immunosuppressant.METHYLPREDNISOLONE),
    ],
    ids=[
        "SPEC 2.7 corticosteroid: prednisone (tall-man lettering)",
        "SPEC 2.7 corticosteroid: Deltasone",
        "SPEC 2.7 corticosteroid: prednisolone",
        "SPEC 2.7 corticosteroid: Orapred",
        "methylprednisolone is never read as prednisolone",
    ],
)
def test_oral_corticosteroids_are_read_as_given(text, agent):
    """Found in review: prednisone was ignored, and a fever it masks got no warning."""
    resource = administration(rxnorm(text=text))
    resource["dosage"] = {"route": {"text": "PO"}}
    (dose,) = record(resource).immunosuppressants
    assert dose.agent is agent


@pytest.mark.parametrize(("text", "why"), NOT_OURS, ids=[why for _, why in NOT_OURS])
def test_other_drugs_are_ignored_silently(text, why):
    inputs = record(administration(rxnorm(text=text)))
    assert _drug(inputs) == [] and inputs.skipped == ()


def test_norepinephrine_is_not_also_epinephrine():
    inputs = record(administration(rxnorm(text="norepinephrine")))
    assert _drug(inputs) == [Vasopressor.NOREPINEPHRINE] and inputs.skipped == ()


def test_two_drugs_in_one_medication_are_skipped_not_guessed():
    inputs = record(administration(rxnorm(text="tocilizumab and dexamethasone")))
    assert _drug(inputs) == []
    assert inputs.skipped[0].reason == "medication names more than one drug of interest"


def test_a_code_wins_over_a_different_name():
    inputs = record(administration(rxnorm("7512", text="pressor drip (see MAR)")))
    assert _drug(inputs) == [Vasopressor.NOREPINEPHRINE]


# --- infusion rates (SPEC 3 units, seed Table 3 in ug/min) ------------------------------------

RATES = [
    ((20, "ug/min"), 20.0, RateBasis.MICROGRAMS_PER_MIN, Vasopressor.NOREPINEPHRINE, "20 ug/min"),
    (
        (20, "mcg/min"),
        20.0,
        RateBasis.MICROGRAMS_PER_MIN,
        Vasopressor.NOREPINEPHRINE,
        "20 mcg/min (non-UCUM)",
    ),
    (
        (0.3, "ug/kg/min"),
        0.3,
        RateBasis.MICROGRAMS_PER_KG_PER_MIN,
        Vasopressor.NOREPINEPHRINE,
        "0.3 ug/kg/min",
    ),
    (
        (10, "mcg/kg/min"),
        10.0,
        RateBasis.MICROGRAMS_PER_KG_PER_MIN,
        Vasopressor.DOPAMINE,
        "10 mcg/kg/min dopamine",
    ),
    (
        (1.2, "mg/h"),
        20.0,
        RateBasis.MICROGRAMS_PER_MIN,
        Vasopressor.NOREPINEPHRINE,
        "1.2 mg/h is 20 ug/min (x1000/60)",
    ),
    (
        (1.2, "mg/hr"),
        20.0,
        RateBasis.MICROGRAMS_PER_MIN,
        Vasopressor.NOREPINEPHRINE,
        "1.2 mg/hr is 20 ug/min",
    ),
    (
        (0.2, "mg/min"),
        200.0,
        RateBasis.MICROGRAMS_PER_MIN,
        Vasopressor.PHENYLEPHRINE,
        "0.2 mg/min is 200 ug/min",
    ),
    (
        (600, "ug/h"),
        10.0,
        RateBasis.MICROGRAMS_PER_MIN,
        Vasopressor.EPINEPHRINE,
        "600 ug/h is 10 ug/min",
    ),
    ((0.04, "units/min"), 0.04, RateBasis.UNITS_PER_MIN, Vasopressor.VASOPRESSIN, "0.04 units/min"),
    ((0.04, "U/min"), 0.04, RateBasis.UNITS_PER_MIN, Vasopressor.VASOPRESSIN, "0.04 U/min"),
    (
        (2.4, "U/h"),
        0.04,
        RateBasis.UNITS_PER_MIN,
        Vasopressor.VASOPRESSIN,
        "2.4 U/h is 0.04 U/min (/60)",
    ),
    ((0.04, "[iU]/min"), 0.04, RateBasis.UNITS_PER_MIN, Vasopressor.VASOPRESSIN, "0.04 [iU]/min"),
]

_RX = {drug: code for code, drug in RXNORM_CODES}


@pytest.mark.parametrize(
    ("rate", "value", "basis", "agent"),
    [case[:4] for case in RATES],
    ids=[f"{case[4]} ({case[3].value})" for case in RATES],
)
def test_rate_quantity_units(rate, value, basis, agent):
    inputs = record(administration(rxnorm(_RX[agent]), rate=quantity(*rate)))
    drip = _one(inputs.vasopressors)
    assert drip.rate.value == pytest.approx(value)
    assert drip.rate.basis is basis
    assert drip.rate_gap is None


def test_rate_ratio_per_minute():
    resource = administration(rxnorm("7512"))
    del resource["dosage"]["rateQuantity"]
    resource["dosage"]["rateRatio"] = {
        "numerator": quantity(5, "ug"),
        "denominator": quantity(1, "min"),
    }
    assert _one(record(resource).vasopressors).rate.value == pytest.approx(5.0)


def test_rate_ratio_per_kg_per_hour():
    resource = administration(rxnorm("3628"))
    del resource["dosage"]["rateQuantity"]
    resource["dosage"]["rateRatio"] = {
        "numerator": quantity(600, "ug/kg"),
        "denominator": quantity(1, "h"),
    }
    rate = _one(record(resource).vasopressors).rate
    assert (rate.value, rate.basis) == (pytest.approx(10.0), RateBasis.MICROGRAMS_PER_KG_PER_MIN)


GAPS = [
    (
        {"rateQuantity": quantity(10, "mL/h")},
        "rate in mL/h without a concentration",
        "mL/h without a concentration",
    ),
    ({}, "no rate recorded", "no rate"),
    ({"dose": quantity(100, "ug")}, "a dose without an infusion rate", "a dose without a rate"),
    (
        {"rateQuantity": quantity(5, "units/min")},
        "rate in units for a drug dosed by mass",
        "norepinephrine in units",
    ),
    ({"rateQuantity": quantity(5, "drops/min")}, "rate unit not recognised", "an unknown unit"),
    ({"rateQuantity": {"value": 5}}, "rate without a unit", "no unit"),
]


@pytest.mark.parametrize(
    ("dosage", "gap"),
    [case[:2] for case in GAPS],
    ids=[f"{case[2]} still counts as a vasopressor of unknown dose (SPEC 2.3)" for case in GAPS],
)
def test_unreadable_rates_keep_the_drip_with_a_gap(dosage, gap):
    resource = administration(rxnorm("7512"))
    resource["dosage"] = dosage
    drip = _one(record(resource).vasopressors)
    assert drip.rate is None and drip.rate_gap == gap


def test_vasopressin_by_mass_is_a_gap():
    drip = _one(record(administration(rxnorm("11149"), rate=quantity(1, "ug/min"))).vasopressors)
    assert (drip.rate, drip.rate_gap) == (None, "vasopressin rate by mass instead of units")


@pytest.mark.parametrize(
    "rate",
    [
        {"value": "12", "unit": "ug/min"},
        {"value": "fast", "unit": "ug/min"},
        {"value": [12], "unit": "ug/min"},
        "12 mcg/min",
    ],
    ids=["a rate sent as a string", "a rate in words", "a rate in a list", "a rate as text"],
)
def test_spec_3_an_unreadable_rate_loses_only_the_rate_and_the_drip_still_counts(rate):
    """SPEC 3 / 2.3: one unreadable element loses only that element; a vasopressor drip with an
    unreadable rate still counts as a vasopressor of unknown dose."""
    inputs = record(administration(rxnorm("7512"), rate=rate, status="in-progress"))
    (drip,) = inputs.vasopressors
    assert (drip.rate, drip.rate_gap) == (None, "rate could not be read")
    (skip,) = inputs.skipped
    assert skip.reference == "MedicationAdministration/ma1"
    assert skip.reason.endswith(": only this element was not used")


def test_a_drip_with_only_an_end_is_skipped_and_reported():
    resource = administration(rxnorm("7512"), effectivePeriod={"end": "2026-11-20T09:00:00Z"})
    assert record(resource).skipped[0].reason == "effectivePeriod.start is missing"


def test_a_period_that_ends_before_it_starts_is_skipped_and_reported():
    period = {"start": "2026-11-20T09:00:00Z", "end": "2026-11-20T08:00:00Z"}
    resource = administration(rxnorm("7512"), effectivePeriod=period)
    assert record(resource).skipped[0].reason == "effectivePeriod ends before it starts"


# --- what is not a drip or not systemic ------------------------------------------------------

NOT_A_DRIP = [
    (
        rxnorm("3992", text="epinephrine 0.3 mg"),
        {"route": {"coding": [{"system": "http://snomed.info/sct", "code": "78421000"}]}},
        "intramuscular epinephrine for anaphylaxis",
    ),
    (
        rxnorm(text="lidocaine 1% with epinephrine 1:100,000"),
        {},
        "lidocaine with epinephrine (local anaesthetic)",
    ),
    (rxnorm(text="EpiPen 0.3 mg auto-injector"), {}, "an epinephrine auto-injector"),
    (rxnorm(text="phenylephrine 2.5% ophthalmic solution"), {}, "phenylephrine eye drops"),
    (rxnorm(text="hydrocortisone 1% cream"), {}, "hydrocortisone cream"),
    (
        rxnorm("3264", text="dexamethasone"),
        {"route": {"text": "ophthalmic"}},
        "ophthalmic dexamethasone",
    ),
]


@pytest.mark.parametrize(
    ("medication", "dosage", "why"),
    NOT_A_DRIP,
    ids=[f"{case[2]} is ignored" for case in NOT_A_DRIP],
)
def test_local_and_topical_products_are_not_counted(medication, dosage, why):
    resource = administration(medication)
    resource["dosage"] = dosage
    inputs = record(resource)
    assert inputs.vasopressors == () and inputs.immunosuppressants == () and inputs.skipped == ()


def test_oral_dexamethasone_counts_as_a_corticosteroid():
    resource = administration(rxnorm("3264"))
    resource["dosage"] = {"route": {"text": "PO"}, "dose": quantity(10, "mg")}
    dose = _one(record(resource).immunosuppressants)
    assert (dose.agent, dose.dose_mg) == (Immunosuppressant.DEXAMETHASONE, 10.0)


@pytest.mark.parametrize(
    ("dose", "expected"),
    [
        (quantity(400, "mg"), 400.0),
        (quantity(1, "g"), 1000.0),
        (quantity(8, "mg/kg"), None),
        (None, None),
    ],
    ids=["400 mg", "1 g is 1000 mg", "mg/kg has no absolute dose", "no dose"],
)
def test_immunosuppressant_doses(dose, expected):
    resource = administration(rxnorm("612865"), effectiveDateTime="2026-11-20T10:00:00Z")
    del resource["effectivePeriod"]
    resource["dosage"] = {} if dose is None else {"dose": dose}
    given = _one(record(resource).immunosuppressants)
    assert given.dose_mg == expected
    assert given.time == datetime(2026, 11, 20, 10, tzinfo=UTC)


# --- status rules -------------------------------------------------------------------------------

STATUSES = [
    ("in-progress", True, True),
    ("completed", True, False),
    ("on-hold", True, False),
    ("stopped", True, False),
    ("unknown", True, False),
    ("not-done", False, False),
    ("entered-in-error", False, False),
]


@pytest.mark.parametrize(
    ("status", "counts", "running"),
    STATUSES,
    ids=[f"status {case[0]} {'counts' if case[1] else 'is ignored'}" for case in STATUSES],
)
def test_administration_status_rules(status, counts, running):
    inputs = record(administration(rxnorm("7512"), status=status))
    assert len(inputs.vasopressors) == (1 if counts else 0)
    if counts:
        assert inputs.vasopressors[0].in_progress is running
    assert inputs.skipped == ()


def test_an_administration_status_that_is_not_a_fhir_code_is_skipped_and_reported():
    inputs = record(administration(rxnorm("7512"), status="running"))
    assert inputs.skipped[0].reason == "status is not a known status code"


# --- CRS-associated therapies (SPEC 2.1) -------------------------------------------------------

THERAPIES = [
    ("Kymriah", "tisagenlecleucel", TherapyKind.CAR_T),
    ("tisagenlecleucel", "tisagenlecleucel", TherapyKind.CAR_T),
    ("Yescarta", "axicabtagene ciloleucel", TherapyKind.CAR_T),
    ("axi-cel infusion", "axicabtagene ciloleucel", TherapyKind.CAR_T),
    ("Tecartus", "brexucabtagene autoleucel", TherapyKind.CAR_T),
    ("Breyanzi", "lisocabtagene maraleucel", TherapyKind.CAR_T),
    ("Abecma", "idecabtagene vicleucel", TherapyKind.CAR_T),
    ("Carvykti", "ciltacabtagene autoleucel", TherapyKind.CAR_T),
    ("Aucatzyl", "obecabtagene autoleucel", TherapyKind.CAR_T),
    ("CAR T cells (investigational, CD19)", "CAR T-cell therapy", TherapyKind.CAR_T),
    ("CAR-T infusion", "CAR T-cell therapy", TherapyKind.CAR_T),
    ("chimeric antigen receptor T cells", "CAR T-cell therapy", TherapyKind.CAR_T),
    ("Tecelra", "afamitresgene autoleucel", TherapyKind.TCR_TIL),
    ("Amtagvi (lifileucel)", "lifileucel", TherapyKind.TCR_TIL),
    ("TIL infusion", "TIL therapy", TherapyKind.TCR_TIL),
    ("TCR-T cells", "TCR T-cell therapy", TherapyKind.TCR_TIL),
    ("EBV-specific CTL", "virus-specific T cells", TherapyKind.CELL_THERAPY_OTHER),
    ("virus-specific T cells", "virus-specific T cells", TherapyKind.CELL_THERAPY_OTHER),
    ("Blincyto", "blinatumomab", TherapyKind.T_CELL_ENGAGER),
    ("teclistamab-cqyv", "teclistamab", TherapyKind.T_CELL_ENGAGER),
    ("elranatamab", "elranatamab", TherapyKind.T_CELL_ENGAGER),
    ("Talvey", "talquetamab", TherapyKind.T_CELL_ENGAGER),
    ("epcoritamab-bysp", "epcoritamab", TherapyKind.T_CELL_ENGAGER),
    ("Columvi", "glofitamab", TherapyKind.T_CELL_ENGAGER),
    ("Lunsumio", "mosunetuzumab", TherapyKind.T_CELL_ENGAGER),
    ("Imdelltra", "tarlatamab", TherapyKind.T_CELL_ENGAGER),
    ("Kimmtrak", "tebentafusp", TherapyKind.T_CELL_ENGAGER),
    ("OKT3", "muromonab-CD3", TherapyKind.ANTIBODY),
    ("alemtuzumab", "alemtuzumab", TherapyKind.ANTIBODY),
    ("Rituxan", "rituximab", TherapyKind.ANTIBODY),
    ("rituximab-abbs", "rituximab", TherapyKind.ANTIBODY),
    ("TGN1412", "theralizumab", TherapyKind.ANTIBODY),
]


@pytest.mark.parametrize(
    ("text", "name", "kind"),
    THERAPIES,
    ids=[f"'{case[0]}' is {case[1]} ({case[2].value}, SPEC 2.1)" for case in THERAPIES],
)
def test_therapies_by_name(text, name, kind):
    inputs = record(administration(rxnorm(text=text)))
    assert _drug(inputs) == [(name, kind)]


def test_a_product_code_with_only_a_display_is_recognised():
    """EHRs send cell products as NDC or local product codes (SPEC 2.1)."""
    concept = {
        "coding": [
            {
                "system": "http://hl7.org/fhir/sid/ndc",
                "code": "0078-0846-19",
                "display": "KYMRIAH suspension",
            }
        ]
    }
    assert _drug(record(administration(concept))) == [("tisagenlecleucel", TherapyKind.CAR_T)]


def test_a_named_product_wins_over_a_generic_description():
    inputs = record(administration(rxnorm(text="Yescarta (CAR-T) infusion")))
    assert _drug(inputs) == [("axicabtagene ciloleucel", TherapyKind.CAR_T)]


@pytest.mark.parametrize(
    "text",
    ["until discharge", "cart for transport", "Cartia XT 120 mg", "Tilade inhaler"],
    ids=[
        "'until' is not TIL",
        "lower-case 'cart' is not CAR T",
        "a brand starting with Cart is not CAR T",
        "a word starting with Til is not TIL",
    ],
)
def test_words_that_contain_therapy_acronyms_are_not_therapies(text):
    assert _drug(record(administration(rxnorm(text=text)))) == []


def test_a_therapy_given_over_a_period_dates_from_its_start():
    resource = administration(
        rxnorm(text="Kymriah"),
        effectivePeriod={"start": "2026-11-15T13:00:00Z", "end": "2026-11-15T13:20:00Z"},
    )
    assert _one(record(resource).therapies).time == datetime(2026, 11, 15, 13, tzinfo=UTC)


def test_suggested_order_codes_are_the_codes_the_mapper_reads():
    """SPEC 3 RxNorm ingredients: a suggested order's RxNorm code (crs_grading.treatment, which
    may not import fhir_maps) reads back as the same drug here, so the two lists cannot drift."""
    for drug, code in RXNORM.items():
        assert RXNORM_MEDICATIONS[code.rxnorm_code] is drug
        assert code.rxnorm_display == str(drug)
