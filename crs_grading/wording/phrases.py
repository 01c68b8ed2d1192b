"""Every fixed clinical sentence, written once: warnings, advice, reminders, redosing limits,
order-check summaries and the headings of the cards.

Templates take named fields (``str.format``); the module that decides fills them with numbers
and times already worded by ``formats``. A sentence that is not here is made of these and of
the grader's driver texts; ``cds_service/cards`` adds none of its own (a test enforces it).
"""

from __future__ import annotations

from crs_grading.criteria import AdviceCode, DataKind, OrderFindingCode, RedoseRule, WarningCode

__all__ = [
    "ADVICE",
    "ADVICE_BESIDE_ICANS",
    "CARD",
    "CAUTION",
    "CAUTION_CARD",
    "CAUTION_CARD_ICANS",
    "CAUTION_ICANS",
    "CAUTION_ORDER",
    "CAUTION_ORDER_ICANS",
    "INFECTION_SUMMARY_ICANS",
    "CULTURES",
    "DATA",
    "DATA_PROBLEM",
    "WARNINGS_SHORT",
    "FINDING_SUMMARIES",
    "REDOSE",
    "WARNINGS",
]

# -- Attribution warnings (SPEC 2.7): AttributionWarning.text ----------------------------------

#: The text of each attribution warning; ``neutropenia`` has a febrile and an afebrile form.
WARNINGS: dict[WarningCode | str, str] = {
    WarningCode.POSITIVE_BLOOD_CULTURE: "positive blood culture{organisms} in the last {window}",
    "febrile-neutropenia": (
        "febrile neutropenia (ANC {anc} /uL with fever): obtain blood cultures and start "
        "empiric antibiotics"
    ),
    WarningCode.NEUTROPENIA: (
        "neutropenia (ANC {anc} /uL): infection risk; if fever develops, treat as febrile "
        "neutropenia"
    ),
    WarningCode.ELEVATED_LACTATE: "lactate {lactate} mmol/L (> {threshold}): consider sepsis",
    WarningCode.INFECTION_DIAGNOSIS: "active infection diagnosis: {names}",
    WarningCode.LATE_ONSET: (
        "first fever on day {day}{after}: CRS is uncommon more than {days} days after infusion; "
        "look for infection"
    ),
    WarningCode.MASKED_FEVER: "{agents} already given: fever and CRP no longer track CRS",
    WarningCode.IEC_HS: (
        "possible IEC-HS (HLH-like syndrome): {ferritin} with {features}; typical as CRS "
        "resolves or after a first response to CRS therapy"
    ),
}

#: The fewest words that still say each attribution warning (a long card keeps the warning,
#: in these words; the extension and the SMART app keep the full text).
WARNINGS_SHORT: dict[WarningCode, str] = {
    WarningCode.POSITIVE_BLOOD_CULTURE: "Positive blood culture.",
    WarningCode.NEUTROPENIA: "Neutropenia.",
    WarningCode.ELEVATED_LACTATE: "Elevated lactate.",
    WarningCode.INFECTION_DIAGNOSIS: "Active infection diagnosis.",
    WarningCode.LATE_ONSET: "Late first fever: look for infection.",
    WarningCode.MASKED_FEVER: "Fever and CRP no longer track CRS.",
    WarningCode.IEC_HS: "Possible IEC-HS (HLH-like syndrome).",
}

# -- The sepsis caution and the cultures reminder (SPEC 2.7, seed attribution and infection) ----

#: The seed's caution when an infection signal meets an immunosuppression suggestion.
CAUTION = (
    "Infection could explain this picture ({signals}). Hypotension from sepsis would not call "
    "for tocilizumab or corticosteroids: confirm CRS before immunosuppression. Attribution is "
    "the clinician's call."
)

#: The caution as the assessment card says it: the infection card beside it names the signals.
CAUTION_CARD = (
    "Hypotension from sepsis would not call for tocilizumab or corticosteroids: confirm CRS "
    "before immunosuppression. Attribution is the clinician's call."
)

#: The caution when the suggestion is a corticosteroid for ICANS without CRS (SPEC 2.7, 2.9):
#: there is no hypotension to attribute, but infection can cause the encephalopathy.
CAUTION_ICANS = (
    "Infection could explain this picture ({signals}): sepsis or an infection of the nervous "
    "system can cause encephalopathy too. Look for infection; attribution is the clinician's "
    "call."
)

#: ``CAUTION_ICANS`` as the assessment card says it (the infection card names the signals).
CAUTION_CARD_ICANS = (
    "Sepsis or an infection of the nervous system can cause encephalopathy too: look for "
    "infection. Attribution is the clinician's call."
)

#: The order check's caution: each signal in full, then what it means.
CAUTION_ORDER = (
    "Infection could explain this picture: {signals}. Hypotension from sepsis would not call "
    "for tocilizumab or corticosteroids: confirm CRS before immunosuppression. Attribution is "
    "the clinician's call."
)

#: ``CAUTION_ORDER`` for ICANS >= 2 with CRS <= 1 (SPEC 2.9): no hypotension to attribute.
CAUTION_ORDER_ICANS = (
    "Infection could explain this picture: {signals}. Sepsis or an infection of the nervous "
    "system can cause encephalopathy too: look for infection before immunosuppression. "
    "Attribution is the clinician's call."
)

#: The summary of ``infection-could-explain`` for ICANS >= 2 with CRS <= 1: there is no CRS to
#: confirm (found in review: the order card said "confirm CRS" at CRS grade 0).
INFECTION_SUMMARY_ICANS = (
    "Infection could explain this picture: look for infection before immunosuppression"
)

#: "Every card for a febrile patient reminds: obtain cultures; empiric antibiotics if
#: neutropenic" (SPEC 2.7); with neutropenia the antibiotics are not conditional.
CULTURES = {
    "fever": "Fever: obtain blood cultures; start empiric antibiotics if neutropenic.",
    "febrile-neutropenia": (
        "Fever with neutropenia: obtain blood cultures and start empiric antibiotics."
    ),
}

# -- Treatment advice (seed Figure 2 and text): Advice.text ------------------------------------

ADVICE: dict[AdviceCode, str] = {
    AdviceCode.MONITORING: (
        "No CRS criteria met: continue monitoring; no CRS-directed treatment is needed."
    ),
    AdviceCode.SUPPORTIVE_CARE: (
        "Vigilant supportive care: hydration, blood pressure, and empiric treatment of "
        "concurrent bacterial infection."
    ),
    AdviceCode.CONSIDER_INFECTION: (
        "CRS mimics infection: consider infection in every patient with CRS symptoms."
    ),
    AdviceCode.SYMPTOMATIC_TREATMENT: (
        "Symptomatic treatment only (for example antipyretics and fluids); no immunosuppression."
    ),
    AdviceCode.CLOSE_MONITORING: (
        "Supportive care and close monitoring (fluids, low-flow oxygen, one low-dose "
        "vasopressor if needed)."
    ),
    AdviceCode.CARDIAC_MONITORING: (
        "Watch cardiac function closely; echocardiography if there is concern."
    ),
    AdviceCode.NO_IMMUNOSUPPRESSION_GRADE_2: (
        "No immunosuppression at grade 2: it is for older patients and those with significant "
        "comorbidities, and {who}.{more}"
    ),
    AdviceCode.ICU_MONITORING: (
        "Monitor very closely, likely in an intensive care unit with 1:1 nursing."
    ),
    AdviceCode.IMMUNOSUPPRESSION_FOR_ALL: (
        "Grade 3 CRS: immunosuppression for every patient, to prevent progression to grade 4."
    ),
    AdviceCode.LIFE_THREATENING: (
        "Grade 4 CRS is immediately life-threatening: immunosuppression for every patient."
    ),
    AdviceCode.DEATH_RECORDED: "Death recorded (grade 5): no treatment suggestion.",
    AdviceCode.ALREADY_GIVEN: "Given so far: {doses}.",
    AdviceCode.REASSESS_AFTER_TOCILIZUMAB: (
        "Reassess at {at}: a second dose or a corticosteroid only if CRS has not improved."
    ),
    AdviceCode.ICANS_BESIDE_GRADE_2_CRS: (
        "ICANS grade {icans} beside grade 2 CRS: corticosteroids, not tocilizumab, treat ICANS "
        "(tocilizumab does not cross the blood-brain barrier). Dexamethasone is suggested for "
        "ICANS without CRS or with grade 3-4 CRS; at grade 2 CRS it is the clinician's call."
    ),
    # CULTURES_AND_ANTIBIOTICS: one of ``CULTURES``.
}

#: The advice of a CRS grade said so that it does not contradict the corticosteroid suggested
#: for ICANS grade >= 2 beside it (SPEC 2.9): what it says is about CRS only.
ADVICE_BESIDE_ICANS: dict[AdviceCode, str] = {
    AdviceCode.MONITORING: (
        "No CRS criteria met: no CRS-directed treatment; the corticosteroid suggested is for ICANS."
    ),
    AdviceCode.SYMPTOMATIC_TREATMENT: (
        "Symptomatic treatment of CRS only (for example antipyretics and fluids); the "
        "corticosteroid suggested is for ICANS."
    ),
    AdviceCode.NO_IMMUNOSUPPRESSION_GRADE_2: (
        "No immunosuppression for CRS at grade 2: it is for older patients and those with "
        "significant comorbidities, and {who}.{more}"
    ),
}

#: Why another tocilizumab dose is not suggested now: the plan's short form (the given doses are
#: said once, by ``ALREADY_GIVEN``) and the order check's full form.
REDOSE: dict[RedoseRule, tuple[str, str]] = {
    RedoseRule.TOO_MANY_DOSES: (
        "No more tocilizumab: {count} doses given, at most {limit} in all.",
        "{count} tocilizumab doses already given (the last {last}); no more than "
        "{limit} doses in all (tocilizumab label: up to 3 additional doses after the first)",
    ),
    RedoseRule.TOO_SOON: (
        "No tocilizumab before {earliest}: at least {interval} between doses.",
        "the last tocilizumab dose was {last}; at least {interval} must pass between doses "
        "(tocilizumab label): not before {earliest}",
    ),
    RedoseRule.BEFORE_REASSESSMENT: (
        "No second tocilizumab dose yet: it is for CRS not improved {reassess} after the dose.",
        "the last tocilizumab dose was {last}; a second dose is for CRS that has not improved "
        "within {reassess} of the dose: reassess at {at}",
    ),
    RedoseRule.NOT_INDICATED: (
        "No second tocilizumab dose at grade 2: it is for grade 3 or higher persisting "
        "{reassess} after the dose.",
        "",
    ),
}

#: The same in the fewest words, for a card short of room (SPEC 4: 700 characters): the time
#: or count that matters, without the rule's reason.
REDOSE_BRIEF: dict[RedoseRule, str] = {
    RedoseRule.TOO_MANY_DOSES: "No more tocilizumab ({count} doses given).",
    RedoseRule.TOO_SOON: "No tocilizumab before {earliest}.",
    RedoseRule.BEFORE_REASSESSMENT: "No second tocilizumab dose before {at}.",
    RedoseRule.NOT_INDICATED: "No second tocilizumab dose at grade 2.",
}

# -- Order checks: OrderFinding.summary (under 140 characters) ----------------------------------

_F = OrderFindingCode

FINDING_SUMMARIES: dict[OrderFindingCode, str] = {
    _F.DOSE_ABOVE_MAXIMUM: "{Drug} dose is above the maximum per dose{protocol}",
    _F.DOSE_OFF_PROTOCOL: "{Drug} dose is more than {tolerance}% off the protocol{protocol}",
    _F.DOSE_UNCHECKED_NO_WEIGHT: "{Drug} dose not checked: no recent body weight",
    _F.DOSE_UNCHECKED_NO_AGE: "{Drug} dose not checked: age unknown",
    _F.DOSE_UNREADABLE: "{Drug} order: the dose could not be read{protocol}",
    _F.DOSE_NO_PROTOCOL: "No CRS protocol dose for {drug}: dose not checked",
    _F.ROUTE_NOT_INTRAVENOUS: "Tocilizumab for CRS is given intravenously over {infusion}",
    _F.INDICATION_GRADE_TOO_LOW: "{Drug} at CRS grade {grade}: symptomatic treatment only",
    _F.INDICATION_GRADE_2_WITHOUT_RISK: (
        "{Drug} at CRS grade 2 without older age or a significant comorbidity"
    ),
    _F.CORTICOSTEROID_SECOND_LINE: "{Drug}: corticosteroids are second line for CRS",
    _F.OTHER_AGENT_NOT_ROUTINE: "{Drug} is not a routine CRS treatment (Lee 2014)",
    _F.TOO_MANY_DOSES: "Tocilizumab dose limit reached: at most {limit} doses",
    _F.REDOSE_TOO_SOON: "Tocilizumab less than {interval} after the last dose",
    _F.REDOSE_BEFORE_REASSESSMENT: "Tocilizumab again before the {reassess} reassessment",
    _F.REDOSE_BELOW_GRADE_3: "Second tocilizumab dose at CRS grade 2",
    _F.INFECTION_COULD_EXPLAIN: (
        "Infection could explain this picture: confirm CRS before immunosuppression"
    ),
    _F.LATE_ONSET: "First fever more than {days} days after day 0: CRS is uncommon this late",
    _F.MASKED_FEVER: "Tocilizumab or a corticosteroid given: fever and CRP no longer track CRS",
    _F.IEC_HS: "Possible IEC-HS (HLH-like syndrome): ferritin high or rising",
    _F.TOCILIZUMAB_FOR_ICANS: (
        "Tocilizumab at ICANS grade {icans}, CRS grade {grade}: a corticosteroid treats ICANS"
    ),
}

#: Dose findings that can name the ordered dose.
ABOVE_MAXIMUM = "{Drug} {written} is above the {maximum} mg maximum per dose{protocol_dose}"
OFF_PROTOCOL = "{Drug} {written} is {percent}% {direction} the protocol dose ({target} mg)"
NO_CRITERIA = "{Drug}: no CRS criteria met now (grade 0)"

# -- Card words: headings and fixed phrases of the cards ---------------------------------------

CARD = {
    # the assessment card
    "grade": "CRS grade {grade} ({system})",
    "no-criteria": "No CRS criteria met",
    "death": "CRS grade 5 ({system}): death recorded",
    "day": "day {day} after {therapy}",
    "no-fever-tail": "no fever",
    "why": "Why grade {grade}",
    "why-0": "No CRS criterion met in the last {window}",
    "icans-grade": "ICANS grade {grade}",
    "why-icans": "ICANS grade {grade} (ASTCT 2019)",
    "icans-peak": "peak {peak}",
    "if-icans": "If ICANS rather than infection: {label}",
    "icans-beside-grade-2-short": (
        "Corticosteroids, not tocilizumab, treat ICANS; at grade 2 CRS it is the clinician's call."
    ),
    "context": "peak {peak} · {systems}",
    "peak": "Peak grade {grade}",
    "baseline": "baseline BP {pressure} before day 0",
    "baseline-beside": "baseline {pressure}",
    "neurologic": "neurologic: {findings}",
    "caution": "Sepsis caution",
    "masked-fever": "Fever and CRP no longer track CRS after tocilizumab or a corticosteroid.",
    "warning": "Attribution warning",
    "no-fever": (
        "CRS without fever: consider other causes (no temperature >= {threshold} C in the last "
        "{window})."
    ),
    "no-fever-short": "CRS without fever: consider other causes.",
    "caution-short": "Sepsis could explain this: confirm CRS before immunosuppression.",
    "caution-short-icans": "Infection could explain the encephalopathy: look for it.",
    "reassess-short": "Reassess at {at}.",
    "neurologic-short": "neurologic dysfunction",
    "masked": "Fever can be masked after tocilizumab or corticosteroids.",
    "next": "Next step",
    "not-ordered": "{phrase}: no order suggested ({missing})",
    "no-weight": "no recent weight",
    "no-age": "age unknown",
    "no-dose": "no absolute dose",
    "preselected": "preselected",
    "not-preselected": "not preselected",
    "infection-not-preselected": "not preselected: infection signals",
    "care": "Care",
    "biomarkers": "Biomarkers (trend only; never the grade)",
    "gaps": "Data gaps ({count}; all in the CRS course app)",
    "problems": "Data not read",
    "crs-now": "CRS now",
    # the infection card
    "infection-summary": "Infection or sepsis could explain this picture: {signals}",
    "infection-summary-short": "Infection or sepsis could explain this picture",
    "also": "; also {others}",
    "mimics": "CRS mimics infection; attribution is the clinician's call.",
    # order cards
    "unread-orders-summary": "Draft order not checked: {count} could not be read",
    "unread-orders": (
        "{count} could not be read ({reasons}), so dose, tocilizumab interval and indication "
        "were not checked. Check the order as written before signing."
    ),
    # the "CRS check incomplete" card: a possible therapy whose drug could not be read
    "incomplete-summary": (
        "CRS check incomplete: a CAR T-cell or bispecific antibody therapy could not be confirmed"
    ),
    "incomplete-summary-short": "CRS check incomplete: the therapy could not be confirmed",
    "incomplete": (
        "Whether a CAR T-cell or bispecific antibody therapy was given could not be confirmed: "
        "the drug of {administrations} {when} could not be identified. CRS was not graded."
    ),
    # ... or the records where the therapy would be could not be read in full (review finding)
    "incomplete-unread": (
        "Whether a CAR T-cell or bispecific antibody therapy was given could not be confirmed: "
        "the records that would show it could not be read in full. CRS was not graded."
    ),
    # the most severe order card of such a patient: only the checks that need no grade were made
    "incomplete-crs-now": (
        "not graded: whether a CAR T-cell or bispecific antibody therapy was given could not be "
        "confirmed, so the indication and the tocilizumab interval were not checked"
    ),
    "incomplete-one": "1 medication administration",
    "incomplete-many": "{count} medication administrations",
    "incomplete-on": "on {time}",
    "incomplete-between": "from {first} to {last}",
    "incomplete-check": (
        "Check the medication record: if such a therapy was given, assess CRS without this check."
    ),
    "change-to": "Change to {drug} {dose} mg (protocol dose)",
    "set-dose": "Set the {drug} dose to {dose} mg: {rule}",
    "draft-order": "Draft order: {rule}",
}


# -- Data that could not be read (SPEC section 4: "say so on the card") -------------------------

_K = DataKind

#: What each part of the record holds (plural, lower case) and what may be missing without it.
DATA: dict[DataKind, tuple[str, str]] = {
    _K.PATIENT: ("the patient's record", "age and death are unknown"),
    _K.VITAL_SIGNS: (
        "vital signs",
        "fever, low blood pressure or oxygen may be missing, so the grade may be too low",
    ),
    _K.LABORATORY_RESULTS: (
        "laboratory results",
        "an infection warning (lactate, neutrophils) may be missing and organ toxicity may be "
        "missing, so the grade may be too low",
    ),
    _K.BLOOD_CULTURES: ("blood cultures", "an infection warning may be missing"),
    _K.BASELINES: (
        "pre-infusion baselines",
        "criteria against baseline (creatinine, fibrinogen, ejection fraction) and fold changes "
        "of CRP and ferritin may be missing",
    ),
    _K.NEUROLOGIC_ASSESSMENTS: (
        "neurologic assessments",
        "neurologic dysfunction and the ICANS grade (GCS, ICE, CAPD, RASS) may be missing, and "
        "they change the first-line treatment",
    ),
    _K.MEDICATION_ADMINISTRATIONS: (
        "medication administrations",
        "the CRS therapy, vasopressors, tocilizumab or corticosteroids may be missing, so the "
        "grade may be too low",
    ),
    _K.DIAGNOSES: (
        "diagnoses",
        "an infection warning may be missing, and neurologic conditions and comorbidities too",
    ),
    _K.PROCEDURES: ("procedures", "a cell infusion recorded as a procedure may be missing"),
}

#: "{holds} {verb}: {if_unread}" on the card; the extension's sentence adds the technical cause.
DATA_PROBLEM = {
    "unread": "could not be read",
    "partial": "were read only in part",
    "card": "{holds} {verb}: {if_unread}",
    "full": "{holds} {verb} ({reason}): {if_unread}",
    # which data, without what it may hide (the "CRS check incomplete" card says that itself)
    "short": "{holds} {verb}",
    # Medications named by reference that could not be read (SPEC 3)
    "medication-record": "1 drug record named by a medication administration could not be read",
    "medication-records": (
        "{count} drug records named by medication administrations could not be read"
    ),
    "medication-records-card": (
        "{records}: a CRS therapy, vasopressor, tocilizumab or corticosteroid among them is not "
        "recognised"
    ),
}
