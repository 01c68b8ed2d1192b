"""Condition categories the rules use: infection, neurologic, comorbidity, constitutional.

Sources: SPEC 2.5 (neurologic: encephalopathy, delirium, confusion, aphasia, seizure), SPEC 2.6
(significant comorbidity: heart failure, cardiomyopathy, coronary disease, COPD or chronic lung
disease, chronic kidney disease, cirrhosis; configurable: ``MappingOptions``), SPEC 2.7
(infection: sepsis, bacteremia, other infection), seed Table 1 (constitutional symptoms).
SNOMED CT concept ids and ICD-10-CM categories are the standard codes of these disorders; each
row says which concept it stands for. Rows marked "verified" were checked against public FHIR
and terminology sources while writing this module; the others are from the code systems as we
know them and want a terminologist's review (docs/fhir-mapping.md). Names in text are matched
as well, so a wrong or missing code does not hide a diagnosis that is also written out.
ICD-10 codes match by prefix ("A41" matches "A41.9"). Infections (SPEC 2.7) live in
``infections.py``: all of ICD-10-CM chapter 1 and the infections coded elsewhere.
"""

from __future__ import annotations

from crs_grading.inputs import ConditionCategory

from .._names import NameMatcher, Negation, Phrase, Veto, acronyms, negations, phrases, vetoes
from .icans import NOT_A_SIGN, NOT_A_SIGN_ANYWHERE, NOT_A_SIGN_NEGATIONS
from .infections import CHAPTER_1_TERM, ICD10_INFECTIONS, INFECTION_NAMES, SNOMED_INFECTIONS

INFECTION = ConditionCategory.INFECTION
NEUROLOGIC = ConditionCategory.NEUROLOGIC
COMORBIDITY = ConditionCategory.COMORBIDITY
CONSTITUTIONAL = ConditionCategory.CONSTITUTIONAL

Term = tuple[ConditionCategory, str]

_CHAPTER_1 = ("A", "B")  # ICD-10 chapter 1: A00-B99, "Certain infectious and parasitic diseases"

#: SNOMED CT concept id -> (category, term): the infections of ``infections.py`` and these.
SNOMED_CONDITIONS: dict[str, Term] = {
    **SNOMED_INFECTIONS,
    # neurologic (SPEC 2.5)
    "81308009": (NEUROLOGIC, "encephalopathy"),  # Disorder of brain (synonym: encephalopathy)
    "2776000": (NEUROLOGIC, "delirium"),  # Delirium
    "286933003": (NEUROLOGIC, "confusion"),  # Confusional state (verified)
    "419284004": (NEUROLOGIC, "altered mental status"),  # Altered mental status
    "87486003": (NEUROLOGIC, "aphasia"),  # Aphasia
    "91175000": (NEUROLOGIC, "seizure"),  # Seizure
    # comorbidity (SPEC 2.6)
    "84114007": (COMORBIDITY, "heart failure"),  # Heart failure
    "42343007": (COMORBIDITY, "heart failure"),  # Congestive heart failure
    "85898001": (COMORBIDITY, "cardiomyopathy"),  # Cardiomyopathy
    "53741008": (COMORBIDITY, "coronary disease"),  # Coronary arteriosclerosis
    "414545008": (COMORBIDITY, "coronary disease"),  # Ischemic heart disease
    "22298006": (COMORBIDITY, "coronary disease"),  # Myocardial infarction
    "13645005": (COMORBIDITY, "chronic lung disease"),  # Chronic obstructive lung disease
    "87433001": (COMORBIDITY, "chronic lung disease"),  # Pulmonary emphysema
    "233703007": (COMORBIDITY, "chronic lung disease"),  # Interstitial lung disease
    "709044004": (COMORBIDITY, "chronic kidney disease"),  # Chronic kidney disease (verified)
    "46177005": (COMORBIDITY, "chronic kidney disease"),  # End-stage renal disease
    "19943007": (COMORBIDITY, "cirrhosis"),  # Cirrhosis of liver
    # constitutional symptoms (seed Table 1)
    "38880002": (CONSTITUTIONAL, "rigors"),  # Rigor (verified)
    "43724002": (CONSTITUTIONAL, "rigors"),  # Chill
    "68962001": (CONSTITUTIONAL, "myalgia"),  # Muscle pain
    "57676002": (CONSTITUTIONAL, "arthralgia"),  # Joint pain
    "367391008": (CONSTITUTIONAL, "malaise"),  # Malaise
    "84229001": (CONSTITUTIONAL, "fatigue"),  # Fatigue
    "422587007": (CONSTITUTIONAL, "nausea"),  # Nausea
    "422400008": (CONSTITUTIONAL, "vomiting"),  # Vomiting
    "25064002": (CONSTITUTIONAL, "headache"),  # Headache
    "79890006": (CONSTITUTIONAL, "anorexia"),  # Loss of appetite
}

#: ICD-10(-CM) code prefix (without the dot) -> (category, term), or None (not in a category).
#: Longest prefix wins; chapter 1 (A00-B99) not listed here is an infection (``icd10_term``).
ICD10_CONDITIONS: dict[str, Term | None] = {
    **ICD10_INFECTIONS,
    # neurologic
    "G920": (NEUROLOGIC, "ICANS"),  # Immune effector cell-associated neurotoxicity syndrome (CM)
    "G92": (NEUROLOGIC, "encephalopathy"),  # Toxic encephalopathy
    "G934": (NEUROLOGIC, "encephalopathy"),  # Other and unspecified encephalopathy
    "F05": (NEUROLOGIC, "delirium"),  # Delirium due to known physiological condition
    "R410": (NEUROLOGIC, "confusion"),  # Disorientation, unspecified
    "R4182": (NEUROLOGIC, "altered mental status"),  # Altered mental status, unspecified
    "R4701": (NEUROLOGIC, "aphasia"),  # Aphasia
    "R56": (NEUROLOGIC, "seizure"),  # Convulsions, not elsewhere classified
    # comorbidity
    "I50": (COMORBIDITY, "heart failure"),  # Heart failure
    "I110": (COMORBIDITY, "heart failure"),  # Hypertensive heart disease with heart failure
    "I130": (COMORBIDITY, "heart failure"),  # Hypertensive heart and CKD with heart failure
    "I132": (COMORBIDITY, "heart failure"),  # ... with heart failure and CKD stage 5/ESRD
    "I42": (COMORBIDITY, "cardiomyopathy"),  # Cardiomyopathy
    "I43": (COMORBIDITY, "cardiomyopathy"),  # Cardiomyopathy in diseases classified elsewhere
    "I20": (COMORBIDITY, "coronary disease"),  # Angina pectoris
    "I21": (COMORBIDITY, "coronary disease"),  # Acute myocardial infarction
    "I22": (COMORBIDITY, "coronary disease"),  # Subsequent myocardial infarction
    "I24": (COMORBIDITY, "coronary disease"),  # Other acute ischemic heart diseases
    "I25": (COMORBIDITY, "coronary disease"),  # Chronic ischemic heart disease
    "J41": (COMORBIDITY, "chronic lung disease"),  # Simple and mucopurulent chronic bronchitis
    "J42": (COMORBIDITY, "chronic lung disease"),  # Unspecified chronic bronchitis
    "J43": (COMORBIDITY, "chronic lung disease"),  # Emphysema
    "J44": (COMORBIDITY, "chronic lung disease"),  # Other chronic obstructive pulmonary disease
    "J84": (COMORBIDITY, "chronic lung disease"),  # Other interstitial pulmonary diseases
    "N18": (COMORBIDITY, "chronic kidney disease"),  # Chronic kidney disease
    "K703": (COMORBIDITY, "cirrhosis"),  # Alcoholic cirrhosis of liver
    "K743": (COMORBIDITY, "cirrhosis"),  # Primary biliary cirrhosis
    "K744": (COMORBIDITY, "cirrhosis"),  # Secondary biliary cirrhosis
    "K745": (COMORBIDITY, "cirrhosis"),  # Biliary cirrhosis, unspecified
    "K746": (COMORBIDITY, "cirrhosis"),  # Other and unspecified cirrhosis of liver
    # constitutional symptoms (seed Table 1)
    "R6883": (CONSTITUTIONAL, "rigors"),  # Chills (without fever)
    "M791": (CONSTITUTIONAL, "myalgia"),  # Myalgia
    "M255": (CONSTITUTIONAL, "arthralgia"),  # Pain in joint
    "R5381": (CONSTITUTIONAL, "malaise"),  # Other malaise
    "R5383": (CONSTITUTIONAL, "fatigue"),  # Other fatigue
    "R110": (CONSTITUTIONAL, "nausea"),  # Nausea
    "R111": (CONSTITUTIONAL, "vomiting"),  # Vomiting
    "R112": (CONSTITUTIONAL, "vomiting"),  # Nausea with vomiting
    "R51": (CONSTITUTIONAL, "headache"),  # Headache
    "R630": (CONSTITUTIONAL, "anorexia"),  # Anorexia
}


def _terms(category: ConditionCategory, term: str, *texts: str) -> tuple[Phrase[Term], ...]:
    return phrases((category, term), term, *texts)


#: Neurologic names in Condition.code text and displays (SPEC 2.5), with the ICANS signs' family
#: of negations and vetoes (valuesets/icans.py; read by ``_names.affirmed``): "Seizure
#: prophylaxis", "No seizure activity", "Encephalopathy ruled out", "History of seizure" are not
#: neurologic dysfunction; "New onset seizure, no prior history" is (review finding).
NEUROLOGIC_NAMES: NameMatcher[Term | Veto[ConditionCategory] | Negation[ConditionCategory]] = (
    NameMatcher(
        _terms(NEUROLOGIC, "encephalopathy")
        + _terms(NEUROLOGIC, "delirium")
        + _terms(NEUROLOGIC, "confusion", "confusional state", "confused")
        + _terms(NEUROLOGIC, "altered mental status")
        + _terms(NEUROLOGIC, "aphasia", "dysphasia")
        + _terms(
            NEUROLOGIC, "seizure", "seizures", "convulsion", "convulsions", "status epilepticus"
        )
        + _terms(
            NEUROLOGIC,
            "ICANS",
            "immune effector cell-associated neurotoxicity",
            "immune effector cell associated neurotoxicity syndrome",
        )
        + acronyms((NEUROLOGIC, "ICANS"), "ICANS")
        + vetoes(NEUROLOGIC, texts=NOT_A_SIGN)
        + vetoes(NEUROLOGIC, texts=NOT_A_SIGN_ANYWHERE, anywhere=True)
        + negations(NEUROLOGIC, texts=NOT_A_SIGN_NEGATIONS)
    )
)

#: The other names in Condition.code text and displays (with the vetoes of the infection names).
CONDITION_NAMES: NameMatcher[Term | Veto[ConditionCategory]] = NameMatcher(
    INFECTION_NAMES
    + _terms(COMORBIDITY, "heart failure", "cardiac failure", "congestive heart failure")
    + acronyms((COMORBIDITY, "heart failure"), "CHF", "HFrEF", "HFpEF")
    + _terms(COMORBIDITY, "cardiomyopathy")
    + _terms(
        COMORBIDITY,
        "coronary disease",
        "coronary artery disease",
        "coronary heart disease",
        "ischemic heart disease",
        "ischaemic heart disease",
        "myocardial infarction",
    )
    + acronyms((COMORBIDITY, "coronary disease"), "CAD")
    + _terms(
        COMORBIDITY,
        "chronic lung disease",
        "chronic obstructive pulmonary disease",
        "chronic obstructive lung disease",
        "emphysema",
        "interstitial lung disease",
        "pulmonary fibrosis",
    )
    + acronyms((COMORBIDITY, "chronic lung disease"), "COPD", "ILD")
    + _terms(
        COMORBIDITY,
        "chronic kidney disease",
        "chronic renal failure",
        "chronic renal insufficiency",
        "end-stage renal disease",
        "end stage kidney disease",
    )
    + acronyms((COMORBIDITY, "chronic kidney disease"), "CKD", "ESRD", "ESKD")
    + _terms(COMORBIDITY, "cirrhosis")
    + _terms(CONSTITUTIONAL, "rigors", "rigor", "chills", "shaking chills")
    + _terms(CONSTITUTIONAL, "myalgia", "myalgias", "muscle pain")
    + _terms(CONSTITUTIONAL, "arthralgia", "arthralgias", "joint pain")
    + _terms(CONSTITUTIONAL, "malaise")
    + _terms(CONSTITUTIONAL, "fatigue")
    + _terms(CONSTITUTIONAL, "nausea")
    + _terms(CONSTITUTIONAL, "vomiting", "emesis")
    + _terms(CONSTITUTIONAL, "headache")
    + _terms(CONSTITUTIONAL, "anorexia", "loss of appetite")
)

#: Condition.clinicalStatus codes (FHIR condition-clinical) that make a Condition inactive.
#: Absent or any other code (active, recurrence, relapse) counts as active (inputs.py).
INACTIVE_CLINICAL_STATUSES = frozenset({"inactive", "remission", "resolved"})
#: The codes that say a Condition is going on now: an ICANS state lasts only by these (found in
#: review: a cerebral edema encounter diagnosis with no clinicalStatus, which FHIR R4 allows,
#: kept ICANS 4 for weeks).
ACTIVE_CLINICAL_STATUSES = frozenset({"active", "recurrence", "relapse"})
#: Condition.verificationStatus codes (FHIR condition-ver-status) that make it inactive.
REFUTED_VERIFICATION_STATUSES = frozenset({"refuted"})


def icd10_term(code: str) -> Term | None:
    """The term of an ICD-10(-CM) code: the longest listed prefix, else chapter 1 (A00-B99)
    is an infection; ``None`` when the code means nothing to the rules."""
    compact = code.replace(".", "").strip().upper()
    for length in range(len(compact), 2, -1):
        prefix = compact[:length]
        if prefix in ICD10_CONDITIONS:
            return ICD10_CONDITIONS[prefix]
    if len(compact) >= 3 and compact[0] in _CHAPTER_1 and compact[1:3].isdigit():
        return CHAPTER_1_TERM
    return None
