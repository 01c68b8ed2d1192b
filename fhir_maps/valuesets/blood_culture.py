"""Blood cultures (SPEC 2.7 positive-blood-culture): every blood-culture LOINC code we could
verify, a local code by its name ("Blood Culture", "Culture, blood"), and how a result is read.

Sources: SPEC 3 (600-7); 17928-3 and 17934-1 carried over (verified when first added, issue 2).
Not added: LOINC codes of fungal and mycobacterial blood cultures and of positive-bottle probe
panels, whose codes we could not confirm; such results are still read by name ("Fungus
identified in Blood by Culture" names a blood culture).
"""

from __future__ import annotations

import re

from .._names import NameMatcher, acronyms, phrases
from ._family import CARRIED, SPEC, ObservationFamily, ObservationKind, loinc

FAMILY = ObservationFamily(
    ObservationKind.BLOOD_CULTURE,
    codes=(
        loinc("600-7", "Bacteria identified in Blood by Culture", SPEC),
        loinc("17928-3", "Bacteria identified in Blood by Aerobe culture", CARRIED),
        loinc("17934-1", "Bacteria identified in Blood by Anaerobe culture", CARRIED),
    ),
    names=(
        "blood culture",
        "blood cultures",
        "culture blood",
        "culture, blood",
        "cultures, blood",
        "blood cx",
        "blood culture set",
        "hemoculture",
        "haemoculture",
        "identified in blood by culture",
        "identified in blood by aerobe culture",
        "identified in blood by anaerobe culture",
    ),
    # Cultures of other specimens, and numbers charted about a blood culture.
    vetoes=(
        "urine",
        "sputum",
        "stool",
        "wound",
        "tissue",
        "fluid",
        "CSF",
        "catheter tip",
        "tip",
        "throat",
        "nasal",
        "swab",
        "BAL",
        "time to positivity",
        "volume",
        "bottle count",
    ),
)

# --- blood culture results --------------------------------------------------------------------

#: SNOMED CT qualifier values of a culture result. Any other SNOMED code in a culture's
#: valueCodeableConcept names an organism (600-7 is "Bacteria identified") and is positive.
CULTURE_SNOMED: dict[str, bool | None] = {
    "10828004": True,  # Positive (qualifier value)
    "260373001": True,  # Detected (qualifier value)
    "52101004": True,  # Present (qualifier value)
    "260385009": False,  # Negative (qualifier value)
    "260415000": False,  # Not detected (qualifier value)
    "264868006": False,  # No growth (qualifier value)
    "2667000": False,  # Absent (qualifier value)
    "82334004": None,  # Indeterminate (qualifier value)
    "419984006": None,  # Inconclusive (qualifier value)
}

#: v3 ObservationInterpretation codes (HL7 terminology) used when the value says nothing.
CULTURE_INTERPRETATION: dict[str, bool] = {
    "POS": True,  # Positive
    "DET": True,  # Detected
    "A": True,  # Abnormal
    "AA": True,  # Critical abnormal
    "NEG": False,  # Negative
    "ND": False,  # Not detected
    "N": False,  # Normal
}

#: Words of a culture result in text, checked in this order: an organism or Gram stain first
#: ("Gram negative rods" is a positive culture), then negatives, then pending, then positives.
CULTURE_ORGANISM_WORDS: NameMatcher[bool] = NameMatcher(
    phrases(
        True,
        "organism identified",
        "gram positive",
        "gram negative",
        "gram variable",
        "cocci",
        "bacilli",
        "rods",
        "yeast",
        "staphylococcus",
        "streptococcus",
        "enterococcus",
        "escherichia",
        "E. coli",
        "klebsiella",
        "pseudomonas",
        "enterobacter",
        "acinetobacter",
        "serratia",
        "proteus",
        "citrobacter",
        "stenotrophomonas",
        "bacteroides",
        "clostridium",
        "candida",
        "bacillus",
        "corynebacterium",
        "micrococcus",
        # as laboratories abbreviate them: the genus short, the species alone
        "staph",
        "strep",
        "aureus",
        "epidermidis",
        "haemolyticus",
        "hominis",
        "lugdunensis",
        "viridans",
        "mitis",
        "oralis",
        "agalactiae",
        "pyogenes",
        "faecalis",
        "faecium",
        "coli",
        "pneumoniae",
        "oxytoca",
        "aerogenes",
        "cloacae",
        "marcescens",
        "mirabilis",
        "freundii",
        "aeruginosa",
        "baumannii",
        "maltophilia",
        "fragilis",
        "perfringens",
        "septicum",
        "albicans",
        "glabrata",
        "parapsilosis",
        "tropicalis",
        "krusei",
        # other genera that grow in blood cultures of immunocompromised patients
        "aspergillus",
        "fusarium",
        "mucor",
        "rhizopus",
        "cryptococcus",
        "trichosporon",
        "rhodotorula",
        "haemophilus",
        "neisseria",
        "listeria",
        "salmonella",
        "morganella",
        "providencia",
        "achromobacter",
        "burkholderia",
        "rothia",
        "cutibacterium",
        "propionibacterium",
        "lactobacillus",
        "leuconostoc",
        "fusobacterium",
        "prevotella",
        "capnocytophaga",
        "moraxella",
        "aerococcus",
        "gemella",
        "granulicatella",
        "nocardia",
        "mycobacterium",
    )
    # the usual acronyms of a positive bottle and its organism
    + acronyms(True, "GPC", "GPR", "GNR", "GNB", "MRSA", "MSSA", "VRE", "CoNS", "CONS")
)
CULTURE_RESULT_WORDS: NameMatcher[bool | None] = NameMatcher(
    phrases(False, "no growth", "not detected", "negative", "no organisms", "none detected")
    + acronyms(False, "NGTD")  # "no growth to date"
    + phrases(
        None,
        "pending",
        "in progress",
        "incubating",
        "to follow",
        "not done",
        "not performed",
        "cancelled",
        "canceled",
    )
    + phrases(True, "positive", "detected", "growth", "isolated")
)

#: A negation negates the words after it, to the end of its clause, and makes the clause a
#: negative result: "No aerobic or anaerobic growth", "No yeast isolated", "Negative for
#: Candida". Words before it keep their meaning ("Staphylococcus aureus isolated, no other
#: growth" is positive). "Negative" alone is a result word, and inside an organism's name
#: ("Gram negative rods", "coagulase negative staphylococcus") it negates nothing.
CULTURE_NEGATION = re.compile(r"\b(?:no|none|negative\s+for|without)\b", re.IGNORECASE)
