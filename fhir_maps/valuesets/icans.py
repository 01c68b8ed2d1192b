"""What ICANS grading reads (SPEC 2.9): the items and answers of ICE, CAPD and RASS, the
neurologic signs of Conditions and Observations, and the sedative infusions that confound RASS.

Sources, per row: ASTCT 2019 (Lee et al., BBMT 2019) for the ICE items and the ICANS domains;
Traube et al., Crit Care Med 2014 for the CAPD items; Sessler et al., AJRCCM 2002 for the RASS
levels; SPEC 2.9 for the code families. "verified" codes were checked with the project's search
tools against public code lists (docs/fhir-mapping.md, "Code verification"); codes we could not
verify are not listed, and those signs are read by name.
"""

from __future__ import annotations

from enum import Enum

from crs_grading.inputs import EncephalopathyItem, EncephalopathyTool, NeurologicSign

from .._names import NameMatcher, Negation, Veto, acronyms, negations, phrases, vetoes

_I = EncephalopathyItem
S = NeurologicSign

# -- ICE and CAPD items (components of a screen, or rows of their own) ---------------------------

#: Names of the ICE items, ASTCT 2019 (its item wording included): the components of an ICE
#: Observation, and after "ICE" the item rows of their own (``neurologic_scores.ICE_ITEM``).
ICE_ITEM_NAMES: NameMatcher[EncephalopathyItem] = NameMatcher(
    phrases(
        _I.ICE_ORIENTATION, "orientation", "oriented", "orientation to year month city hospital"
    )
    + phrases(_I.ICE_NAMING, "naming", "name 3 objects", "name three objects", "object naming")
    + phrases(
        _I.ICE_COMMANDS,
        "following commands",
        "follows commands",
        "follow commands",
        "commands",
        "following simple commands",
    )
    + phrases(
        _I.ICE_WRITING,
        "writing",
        "write a sentence",
        "writes a sentence",
        "write a standard sentence",
        "writes a standard sentence",
    )
    + phrases(
        _I.ICE_ATTENTION,
        "attention",
        "count backwards",
        "counts backwards",
        "count backwards from 100 by 10",
    )
)

#: Names of the CAPD items, Traube et al. 2014: the components of a CAPD Observation, and after
#: "CAPD" the item rows of their own (``neurologic_scores.CAPD_ITEM``). "aware", "communicates"
#: and "respond" alone were words of the item rows before they were built from this list.
CAPD_ITEM_NAMES: NameMatcher[EncephalopathyItem] = NameMatcher(
    phrases(_I.CAPD_EYE_CONTACT, "eye contact", "makes eye contact", "make eye contact")
    + phrases(_I.CAPD_PURPOSEFUL_ACTIONS, "purposeful", "purposeful actions")
    + phrases(_I.CAPD_AWARE_OF_SURROUNDINGS, "aware of surroundings", "aware of his surroundings")
    + phrases(_I.CAPD_AWARE_OF_SURROUNDINGS, "aware of her surroundings", "awareness", "aware")
    + phrases(
        _I.CAPD_COMMUNICATES_NEEDS,
        "communicates needs",
        "communicate needs",
        "communicates needs and wants",
        "needs and wants",
        "communicates",
        "communicate",
    )
    + phrases(_I.CAPD_RESTLESS, "restless")
    + phrases(_I.CAPD_INCONSOLABLE, "inconsolable")
    + phrases(_I.CAPD_UNDERACTIVE, "underactive", "very little movement")
    + phrases(
        _I.CAPD_SLOW_RESPONSE,
        "slow to respond",
        "long time to respond",
        "takes a long time to respond",
        "response to interactions",
        "slow response",
        "response time",
        "respond",
    )
)

ITEM_NAMES: dict[EncephalopathyTool, NameMatcher[EncephalopathyItem]] = {
    EncephalopathyTool.ICE: ICE_ITEM_NAMES,
    EncephalopathyTool.CAPD: CAPD_ITEM_NAMES,
}


class ScreenNotDone(Enum):
    """Why an ICE or CAPD was charted without a score, strongest first: the first one found in
    the value's words is the reason (SPEC 2.9; the grade each tool gives it is in
    ``neurology.py``)."""

    #: The patient could not be roused (ASTCT 2019 ICE grade 4 "unarousable and unable to
    #: perform ICE"): grade 4 for both tools.
    UNAROUSABLE = "unarousable"
    #: The screen was not attempted for a reason that is not the patient's state (off the unit,
    #: asleep, refused): no score, whatever else is said ("Unable to assess - off unit").
    NOT_ATTEMPTED = "not attempted"
    #: The patient could not do it: CAPD grade 4 (SPEC 2.9 "unable to perform is grade 4"); an
    #: ICE needs ``UNAROUSABLE`` (an awake intubated patient cannot do ICE either).
    UNABLE = "unable"
    #: Charted as not done, and no more: no score (review finding: a CAPD "Not done - patient
    #: off unit for MRI" was graded 4 as unarousable).
    NOT_DONE = "not done"


#: Words that say the patient could not be roused (ASTCT 2019 ICE grade 4: "unarousable and
#: unable to perform ICE"): the ``UNAROUSABLE`` reason of a screen with no score, and the words
#: beside an ICE of 0 (``UNAROUSABLE_BESIDE_A_SCORE``).
UNAROUSABLE_WORDS = (
    "unarousable",
    "not arousable",
    "unable to arouse",
    "cannot be aroused",
    "unresponsive",
    "obtunded",
    "comatose",
    "coma",
    "stupor",
    "stuporous",
)

#: The words of each reason a screen has no score, in ``valueString``, ``valueCodeableConcept``
#: or ``dataAbsentReason``.
SCREEN_NOT_DONE_WORDS: NameMatcher[ScreenNotDone] = NameMatcher(
    phrases(ScreenNotDone.UNAROUSABLE, *UNAROUSABLE_WORDS)
    + phrases(
        ScreenNotDone.NOT_ATTEMPTED,
        "off unit",
        "off the unit",
        "off floor",
        "off the floor",
        "out of room",
        "out of the room",
        "not available",
        "unavailable",
        "asleep",
        "sleeping",
        "refused",
        "patient declined",
        "parent declined",
        "parents declined",
        "family declined",
        "deferred",
    )
    + phrases(
        ScreenNotDone.UNABLE,
        "unable to perform",
        "unable to assess",
        "unable to complete",
        "not able to perform",
        "not assessable",
        "unassessable",
        "could not be assessed",
        "could not be performed",
    )
    + phrases(ScreenNotDone.NOT_DONE, "not done", "not performed")
)

#: Words that, written just before an ``UNAROUSABLE_WORDS`` word, say the opposite ("not
#: obtunded", "no longer unresponsive").
_NOT_NOW = ("no", "not", "never", "without", "no longer", "not in", "not in a")

#: ``UNAROUSABLE_WORDS`` in the free text beside an ICE charted as 0 (its notes, its
#: interpretation, the words of its components): true where the patient was unarousable (SPEC
#: 2.9 G4: "0 because the patient is unarousable"; review finding: such an ICE graded 3). Free
#: text says more than a value does, so a word negated just before it ("not obtunded", "no
#: longer unresponsive") is false, as is the "coma" of the Glasgow Coma Scale. A negation
#: further back does not reach the word ("Could not do ICE: patient obtunded" is true).
UNAROUSABLE_BESIDE_A_SCORE: NameMatcher[bool] = NameMatcher(
    phrases(True, *UNAROUSABLE_WORDS)
    + phrases(
        False,
        *(f"{no} {word}" for no in _NOT_NOW for word in UNAROUSABLE_WORDS if " " not in word),
    )
    + phrases(False, "Glasgow coma scale", "Glasgow coma score", "coma scale", "coma score")
    # "Unresponsive to commands" (or questions, voice) is an awake patient who cannot do the
    # test, ASTCT grade 3 with an ICE of 0, not unarousable (found in review: it graded 4).
    + phrases(
        False,
        "unresponsive to commands",
        "unresponsive to command",
        "unresponsive to questions",
        "unresponsive to verbal commands",
        "unresponsive to voice",
        "unresponsive to verbal",
    )
)

# -- RASS (Sessler et al. 2002) -------------------------------------------------------------------

#: RASS levels by their names, for values charted as words ("-2 Light sedation").
RASS_LEVEL_NAMES: NameMatcher[int] = NameMatcher(
    phrases(4, "combative")
    + phrases(3, "very agitated")
    + phrases(2, "agitated")
    + phrases(1, "restless")
    + phrases(0, "alert and calm", "alert calm")
    + phrases(-1, "drowsy")
    + phrases(-2, "light sedation", "lightly sedated")
    + phrases(-3, "moderate sedation", "moderately sedated")
    + phrases(-4, "deep sedation", "deeply sedated")
    + phrases(-5, "unarousable", "not arousable")
)

# -- Neurologic signs: Conditions and Observations (SPEC 2.9) -------------------------------------

#: SNOMED CT concept -> sign (verified against public code lists; docs/fhir-mapping.md).
SNOMED_SIGNS: dict[str, NeurologicSign] = {
    "91175000": S.SEIZURE,  # Seizure (finding); HL7 BFDR Condition-seizure profile
    "230456007": S.STATUS_EPILEPTICUS,  # Status epilepticus (disorder); PRIMIS, HL7 EBMonFHIR
    "50582007": S.HEMIPARESIS,  # Hemiplegia / hemiparesis; public SNOMED-to-ICD maps (G81.90)
    "2032001": S.CEREBRAL_EDEMA,  # Cerebral edema (disorder); SNOMED CT value set expansion
}

#: ICD-10-CM "with status epilepticus" codes of G40 (verified code by code, docs), compact.
ICD10_STATUS_EPILEPTICUS = frozenset(
    {
        "G40001",
        "G40011",
        "G40101",
        "G40111",
        "G40201",
        "G40211",
        "G40301",
        "G40311",
        "G40401",
        "G40411",
        "G40501",
        "G40801",
        "G40803",
        "G40811",
        "G40813",
        "G40821",
        "G40823",
        "G40833",
        "G40841",
        "G40843",
        "G40901",
        "G40911",
        "G40A01",
        "G40A11",
        "G40B01",
        "G40B11",
    }
)

#: ICD-10 prefix (compact, no dot) -> sign; the longest prefix wins. ICD-10-CM (CMS tabular
#: list through public code pages, verified) and WHO ICD-10 G41 (status epilepticus, not in
#: ICD-10-CM).
ICD10_SIGNS: dict[str, NeurologicSign] = {
    "R56": S.SEIZURE,  # Convulsions, not elsewhere classified (R56.0x febrile, R56.1, R56.9)
    "G40": S.SEIZURE,  # Epilepsy and recurrent seizures, without status epilepticus
    "G41": S.STATUS_EPILEPTICUS,  # WHO ICD-10: Status epilepticus (G41.0-G41.9)
    "G81": S.HEMIPARESIS,  # Hemiplegia and hemiparesis
    "G822": S.PARAPARESIS,  # Paraplegia (paraparesis)
    "G825": S.QUADRIPARESIS,  # Quadriplegia (quadriparesis)
    "G936": S.CEREBRAL_EDEMA,  # Cerebral edema (extent from the text)
    "H471": S.PAPILLEDEMA,  # Papilledema (H47.10-H47.14x)
    "H492": S.CRANIAL_NERVE_VI_PALSY,  # Sixth [abducent] nerve palsy (H49.20-H49.23)
}


def icd10_sign(code: str) -> NeurologicSign | None:
    """The sign of an ICD-10(-CM) code, or ``None``."""
    compact = code.replace(".", "").strip().upper()
    if compact in ICD10_STATUS_EPILEPTICUS:
        return S.STATUS_EPILEPTICUS
    for length in range(len(compact), 2, -1):
        sign = ICD10_SIGNS.get(compact[:length])
        if sign is not None:
            return sign
    return None


# The words that make a neurologic name in a text not a sign of now: one family, for the ICANS
# signs here and for the SPEC 2.5 neurologic Conditions (``conditions.py``). Review finding:
# the Condition names had none, so "Seizure prophylaxis", "No seizure activity", "History of
# seizure" were neurologic dysfunction (dexamethasone first line at CRS grade 3); and "no"
# anywhere cancelled a real sign ("New onset seizure, no prior history").

#: Negations: each cancels the names after it, to the end of its clause (a comma, semicolon,
#: colon or full stop, or "but"), and the ``NOT_A_SIGN`` words there. "No seizure activity",
#: "History of seizures", "Risk for seizures", "Rule out encephalopathy"; but "New onset
#: seizure, no prior history" keeps the seizure (before the "no"; its "history" is negated).
NOT_A_SIGN_NEGATIONS = (
    "no",
    "not",
    "denies",
    "denied",
    "negative for",
    "without",
    "rule out",
    "r/o",
    "history of",
    "h/o",
    "family history of",
    "risk of",
    "risk for",
    "at risk for",
)

#: Words that, anywhere in the same text and not negated, make a name a plan, a risk, a
#: history or an absence: "Seizure precautions", "Seizure prophylaxis", "Seizure history",
#: "Encephalopathy ruled out", "Papilledema absent". "Seizure medication(s)" only as a whole:
#: "Medication-induced delirium" is delirium.
NOT_A_SIGN = (
    "precautions",
    "precaution",
    "prophylaxis",
    "risk",
    "history",
    "family history",
    "threshold",
    "seizure medication",
    "seizure medications",
    "pads",
    "plan",
    "education",
    "goal",
    "screening",
)

#: Of those, the words that deny the named thing wherever they stand in the text (the others
#: reach their own clause only: ``_names.affirmed``): "Encephalopathy, ruled out".
NOT_A_SIGN_ANYWHERE = ("absent", "ruled out", "excluded")

#: What a phrase of ``SIGN_NAMES`` means.
SignName = NeurologicSign | Veto[NeurologicSign] | Negation[NeurologicSign]

#: Signs by name in Condition and Observation text (SPEC 2.9 domains, ASTCT 2019 words).
#: "Without status epilepticus" (ICD-10-CM G40 titles) vetoes status epilepticus; the
#: ``NOT_A_SIGN`` family applies (``_names.affirmed``).
SIGN_NAMES: NameMatcher[SignName] = NameMatcher(
    phrases(
        S.SEIZURE,
        "seizure",
        "seizures",
        "convulsion",
        "convulsions",
        "seizure activity",
        "nonconvulsive seizure",
        "non-convulsive seizure",
        "electrographic seizure",
    )
    + phrases(
        S.STATUS_EPILEPTICUS,
        "status epilepticus",
        "nonconvulsive status",
        "non-convulsive status",
    )
    + acronyms(S.STATUS_EPILEPTICUS, "NCSE")
    + vetoes(S.STATUS_EPILEPTICUS, texts=("without status epilepticus",))
    + phrases(S.HEMIPARESIS, "hemiparesis", "hemiplegia", "hemiparetic")
    + phrases(S.PARAPARESIS, "paraparesis", "paraplegia")
    + phrases(S.QUADRIPARESIS, "quadriparesis", "quadriplegia", "tetraparesis", "tetraplegia")
    + phrases(
        S.CEREBRAL_EDEMA,
        "cerebral edema",
        "cerebral oedema",
        "brain edema",
        "brain oedema",
        "brain swelling",
    )
    + phrases(S.PAPILLEDEMA, "papilledema", "papilloedema")
    + phrases(
        S.POSTURING,
        "decerebrate posturing",
        "decorticate posturing",
        "decerebrate posture",
        "decorticate posture",
        "decerebrate rigidity",
        "decorticate rigidity",
        "posturing",
    )
    + phrases(
        S.CRANIAL_NERVE_VI_PALSY,
        "sixth nerve palsy",
        "6th nerve palsy",
        "abducens palsy",
        "abducens nerve palsy",
        "abducent nerve palsy",
        "cranial nerve VI palsy",
        "CN VI palsy",
    )
    + phrases(S.CUSHINGS_TRIAD, "Cushing's triad", "Cushing triad", "Cushing reflex")
    + vetoes(*NeurologicSign, texts=NOT_A_SIGN)
    + vetoes(*NeurologicSign, texts=NOT_A_SIGN_ANYWHERE, anywhere=True)
    + negations(*NeurologicSign, texts=NOT_A_SIGN_NEGATIONS)
)

#: Of several signs named in one text, the one that grades: status epilepticus over seizure,
#: diffuse over focal over unstated edema (SPEC 2.9 worst row).
SIGN_PRIORITY: tuple[NeurologicSign, ...] = (
    S.STATUS_EPILEPTICUS,
    S.SEIZURE,
)

#: The extent of cerebral edema from its text (SPEC 2.9: none stated is grade 3, and said so).
EDEMA_EXTENT: NameMatcher[NeurologicSign] = NameMatcher(
    phrases(
        S.DIFFUSE_CEREBRAL_EDEMA,
        "diffuse",
        "diffusely",
        "generalized",
        "generalised",
        "global",
        "holohemispheric",
    )
    + phrases(S.FOCAL_CEREBRAL_EDEMA, "focal", "local", "localized", "localised")
)

# -- The value of a sign Observation ("Seizure activity", "Papilledema", "Cerebral edema") ------
#
# Present unless the whole value is a negative answer (review finding: "no", "resolved" or
# "normal" anywhere in the value read as absent, so "Generalized tonic-clonic, no incontinence"
# was no seizure and "Diffuse, no midline shift" no cerebral edema). ``neurology.py`` applies
# these lists clause by clause; see docs/fhir-mapping.md, "Neurologic signs".

#: Answers that, as a whole clause (case, punctuation and spacing aside), say the sign is absent.
NEGATIVE_ANSWERS = (
    "no",
    "none",
    "nil",
    "absent",
    "negative",
    "neg",
    "not present",
    "not observed",
    "not seen",
    "not noted",
    "not witnessed",
    "none observed",
    "none noted",
    "none seen",
    "none witnessed",
    "resolved",
    "normal",
    "WNL",
    "within normal limits",
    "denies",
    "denied",
)

#: A clause that opens with one of these, then a sign's name, is an absence too ("No seizure
#: activity", "Negative for papilledema", "Denies seizures").
NEGATED_SIGN_OPENERS = (
    "no",
    "not",
    "negative for",
    "denies",
    "denied",
    "patient denies",
    "pt denies",
    "without",
)
#: Words allowed between the opener and the sign's name ("No evidence of cerebral edema", "No
#: new seizure activity", "No diffuse cerebral edema"); no others.
NEGATED_SIGN_FILLERS = frozenset(
    {
        "evidence",
        "of",
        "sign",
        "signs",
        "further",
        "new",
        "clinical",
        "active",
        "any",
        "acute",
        "focal",
        "diffuse",
        "generalized",
        "generalised",
    }
)
#: Words that, leading a clause, make it a negative answer whatever follows ("None this shift",
#: "Negative since 0800", "Nil overnight"). Not "no" ("No change" may mean still seizing) nor
#: "resolved" ("Resolved after lorazepam" was a seizure): those need a sign's name after them.
NEGATIVE_LEADS = frozenset({"none", "nil", "negative", "neg"})

#: Coded answers (valueCodeableConcept): a coding of these decides before any words.
#: SNOMED CT qualifier values (as in valuesets/blood_culture.py) and LOINC answers (LA codes,
#: each checked with the project's search tools against public FHIR IGs: LA33-6 Yes and LA32-8
#: No in a yes/no value set built on LOINC, LA9633-4 Present and LA9634-2 Absent in phenotype
#: presence value sets, LA6576-8 Positive and LA6577-6 Negative in HL7 IG examples).
SNOMED_ANSWERS: dict[str, bool] = {
    "52101004": True,  # Present (qualifier value)
    "373066001": True,  # Yes (qualifier value)
    "10828004": True,  # Positive (qualifier value)
    "2667000": False,  # Absent (qualifier value)
    "373067005": False,  # No (qualifier value)
    "260385009": False,  # Negative (qualifier value)
}
LOINC_ANSWERS: dict[str, bool] = {
    "LA33-6": True,  # Yes
    "LA9633-4": True,  # Present
    "LA6576-8": True,  # Positive
    "LA32-8": False,  # No
    "LA9634-2": False,  # Absent
    "LA6577-6": False,  # Negative
}

# -- Sedative infusions (SPEC 2.9: sedation confounds RASS) ---------------------------------------

#: Continuous sedatives by name (generic and brand). RxNorm codes are not used: not verified.
SEDATIVE_NAMES: NameMatcher[str] = NameMatcher(
    phrases("propofol", "propofol", "Diprivan")
    + phrases("dexmedetomidine", "dexmedetomidine", "Precedex")
    + phrases("midazolam", "midazolam", "Versed")
    + phrases("lorazepam", "lorazepam", "Ativan")
    + phrases("ketamine", "ketamine", "Ketalar")
    + phrases("pentobarbital", "pentobarbital", "Nembutal")
)
