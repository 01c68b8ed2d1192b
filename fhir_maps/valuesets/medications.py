"""Vasopressors and CRS-directed immunosuppressants: RxNorm ingredient codes and names.

RxNorm codes are the ingredient (IN) codes of SPEC 3. Drugs without a code here (anakinra,
siltuximab) are matched by name only: we list no code we could not verify. Names are generic
names, international synonyms and US brand names (FDA labels), matched as whole words in coding
displays and CodeableConcept.text, so "dopamine" never matches "dobutamine" and biosimilar
suffixes ("tocilizumab-aazg") still match.
"""

from __future__ import annotations

from crs_grading.inputs import Immunosuppressant, Vasopressor

from .._names import NameMatcher, phrases

MedicationConcept = Vasopressor | Immunosuppressant

#: RxNorm ingredient code -> drug (SPEC 3).
RXNORM_MEDICATIONS: dict[str, MedicationConcept] = {
    "7512": Vasopressor.NOREPINEPHRINE,  # norepinephrine (SPEC 3)
    "3992": Vasopressor.EPINEPHRINE,  # epinephrine (SPEC 3)
    "3628": Vasopressor.DOPAMINE,  # dopamine (SPEC 3)
    "8163": Vasopressor.PHENYLEPHRINE,  # phenylephrine (SPEC 3)
    "11149": Vasopressor.VASOPRESSIN,  # vasopressin (SPEC 3)
    "3264": Immunosuppressant.DEXAMETHASONE,  # dexamethasone (SPEC 3)
    "6902": Immunosuppressant.METHYLPREDNISOLONE,  # methylprednisolone (SPEC 3)
    "5492": Immunosuppressant.HYDROCORTISONE,  # hydrocortisone (SPEC 3)
    "612865": Immunosuppressant.TOCILIZUMAB,  # tocilizumab (cross-checked, not in RxNav)
}

MEDICATION_NAMES: NameMatcher[MedicationConcept] = NameMatcher(
    phrases(Vasopressor.NOREPINEPHRINE, "norepinephrine", "noradrenaline", "Levophed")
    + phrases(Vasopressor.EPINEPHRINE, "epinephrine", "adrenaline", "Adrenalin")
    + phrases(Vasopressor.DOPAMINE, "dopamine", "Intropin")
    + phrases(Vasopressor.PHENYLEPHRINE, "phenylephrine", "Neo-Synephrine", "Biorphen", "Vazculep")
    + phrases(Vasopressor.VASOPRESSIN, "vasopressin", "argipressin", "Vasostrict")
    + phrases(
        Immunosuppressant.TOCILIZUMAB,
        "tocilizumab",
        "Actemra",
        "RoActemra",
        "Tofidence",
        "Tyenne",
        "Avtozma",
    )
    + phrases(Immunosuppressant.DEXAMETHASONE, "dexamethasone", "Decadron", "Hemady")
    + phrases(
        Immunosuppressant.METHYLPREDNISOLONE,
        "methylprednisolone",
        "Solu-Medrol",
        "Medrol",
        "Depo-Medrol",
        "A-Methapred",
    )
    + phrases(Immunosuppressant.HYDROCORTISONE, "hydrocortisone", "Solu-Cortef", "Cortef")
    # oral corticosteroids (US brand names from their labels); by name only: RxNorm codes not
    # verified here. "methylprednisolone" is one word: it never reads as "prednisolone".
    + phrases(Immunosuppressant.PREDNISONE, "prednisone", "Deltasone", "Rayos")
    + phrases(Immunosuppressant.PREDNISOLONE, "prednisolone", "Orapred", "Millipred", "Pediapred")
    + phrases(Immunosuppressant.ANAKINRA, "anakinra", "Kineret")
    + phrases(Immunosuppressant.SILTUXIMAB, "siltuximab", "Sylvant")
)

#: Epinephrine auto-injectors (anaphylaxis): not a vasopressor drip. Vasopressors only: a
#: tocilizumab auto-injector (subcutaneous, for arthritis) is still tocilizumab, and a draft
#: order of it must be checked (its route is not the IV route CRS needs; found in review: such
#: an order got no card at all).
AUTO_INJECTOR_NAMES: NameMatcher[str] = NameMatcher(
    phrases("auto-injector", "autoinjector", "EpiPen", "Auvi-Q", "Symjepi")
)

#: Products that contain a drug of ours but are not what the rules mean: local anaesthetics
#: with epinephrine, eye/nose/skin/inhaled forms. A medication whose name contains one of these
#: is not a vasopressor drip or a systemic CRS immunosuppressant.
NOT_SYSTEMIC_PRODUCT_NAMES: NameMatcher[str] = NameMatcher(
    phrases(
        "not systemic",
        "lidocaine",
        "bupivacaine",
        "ropivacaine",
        "articaine",
        "mepivacaine",
        "prilocaine",
        "chloroprocaine",
        "Xylocaine",
        "Septocaine",
        "ophthalmic",
        "otic",
        "eye drops",
        "ear drops",
        "nasal",
        "topical",
        "cream",
        "ointment",
        "lotion",
        "gel",
        "foam",
        "enema",
        "suppository",
        "inhalation",
        "inhaler",
        "intravitreal",
        "intra-articular",
        "dental",
    )
)

#: Routes (SNOMED CT route of administration, as in FHIR's route value set) and route words.
#: A vasopressor counts as a drip only when given intravenously or when the route is not
#: stated; a CRS immunosuppressant counts when given systemically (IV, IM, SC, oral).
SNOMED_ROUTES: dict[str, str] = {
    "47625008": "intravenous",  # Intravenous route
    "26643006": "oral",  # Oral route
    "78421000": "intramuscular",  # Intramuscular route
    "34206005": "subcutaneous",  # Subcutaneous route
    "6064005": "topical",  # Topical route
    "54485002": "ophthalmic",  # Ophthalmic route
    "10547007": "otic",  # Otic route
    "46713006": "nasal",  # Nasal route
    "447694001": "inhalation",  # Respiratory tract route
    "37161004": "rectal",  # Rectal route
    "45890007": "transdermal",  # Transdermal route
}

ROUTE_NAMES: NameMatcher[str] = NameMatcher(
    phrases(
        "intravenous", "intravenous", "IV", "I.V.", "IVPB", "IV push", "IV infusion", "central line"
    )
    + phrases("oral", "oral", "by mouth", "PO", "enteral", "nasogastric")
    + phrases("intramuscular", "intramuscular", "IM")
    + phrases("subcutaneous", "subcutaneous", "SC", "SQ", "subcut")
    + phrases("topical", "topical", "cutaneous", "skin")
    + phrases("ophthalmic", "ophthalmic", "eye")
    + phrases("otic", "otic", "ear")
    + phrases("nasal", "nasal", "intranasal")
    + phrases("inhalation", "inhalation", "inhaled", "nebulized", "nebulised", "respiratory tract")
    + phrases("rectal", "rectal", "PR")
    + phrases("transdermal", "transdermal")
    + phrases("infiltration", "infiltration", "local infiltration", "intradermal")
    + phrases("intra-articular", "intra-articular", "intraarticular")
)

#: Routes by which a vasopressor is a drip.
VASOPRESSOR_ROUTES = frozenset({"intravenous"})
#: Routes by which a corticosteroid or other immunosuppressant is not a systemic CRS treatment
#: (IV, oral, intramuscular and subcutaneous are; an unstated route counts as systemic).
NON_SYSTEMIC_ROUTES = frozenset(
    {
        "topical",
        "ophthalmic",
        "otic",
        "nasal",
        "inhalation",
        "rectal",
        "transdermal",
        "infiltration",
        "intra-articular",
    }
)
