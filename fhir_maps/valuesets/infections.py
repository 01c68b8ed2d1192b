"""Infection diagnoses (SPEC 2.7 ``infection-diagnosis``): ICD-10-CM, SNOMED CT and names.

ICD-10-CM: every code of chapter 1 (A00-B99, "Certain infectious and parasitic diseases") except
the sequelae of infections (B90-B94), which are late effects, not infections; plus infections
coded in other chapters, each category checked in the CMS ICD-10-CM tabular list (FY2025-26,
through public code pages): severe sepsis and septic shock R65.2x (never R65.1x, SIRS of
non-infectious origin), bacteremia R78.81, acute upper and lower respiratory infections J00-J06
and J20-J22, influenza and pneumonia J09-J18, ventilator-associated pneumonia J95.851, lung
abscess and empyema J85-J86, urinary tract infection N39.0, acute pyelonephritis N10, acute
cystitis N30.0, skin and soft-tissue infections L00-L04 and L08, peritonitis K65 (never K65.3
choleperitonitis or K65.4 sclerosing mesenteritis, which are not infective), bacterial meningitis
G00, bacterial meningoencephalitis G04.2, intracranial and intraspinal abscess G06, infective
endocarditis I33.0, pyogenic arthritis M00, osteomyelitis M86, infections following infusion
or transfusion T80.2x (CLABSI), after a procedure T81.4x, and due to prosthetic devices,
implants and grafts (T82.6-T82.7, T83.5-T83.6, T84.5-T84.7, T85.7: the T80.2 Excludes2 note),
puerperal sepsis and infections O85-O86, COVID-19 U07.1.

ICD-10 codes match by prefix, dots ignored, longest prefix first; a prefix that maps to ``None``
is an exception inside a category that is otherwise an infection.

SNOMED CT: the disorders below (sources per row). Names: whole words in Condition text and
displays; a veto word in the same text cancels the name ("pneumonia ruled out", "history of
sepsis", "SIRS of non-infectious origin"). A suspected or rule-out diagnosis still warns (SPEC
2.7 warns on an infection under consideration).
"""

from __future__ import annotations

from crs_grading.inputs import ConditionCategory

from .._names import Phrase, Veto, acronyms, phrases, vetoes

INFECTION = ConditionCategory.INFECTION

Term = tuple[ConditionCategory, str]

#: The term of a chapter-1 code that has no more specific row below.
CHAPTER_1_TERM: Term = (INFECTION, "infection")

#: SNOMED CT concept id -> term. "SPEC 3" codes are the specification's; the others are checked
#: against public SNOMED CT-coded value sets (FHIR IGs of HL7 Belgium, Germany, NHS trusts).
SNOMED_INFECTIONS: dict[str, Term] = {
    "91302008": (INFECTION, "sepsis"),  # Sepsis (SPEC 3)
    "76571007": (INFECTION, "septic shock"),  # Septic shock (carried over)
    "5758002": (INFECTION, "bacteremia"),  # Bacteremia (carried over)
    "233604007": (INFECTION, "pneumonia"),  # Pneumonia (carried over)
    "40733004": (INFECTION, "infection"),  # Infectious disease (carried over)
    "68566005": (INFECTION, "urinary tract infection"),  # Urinary tract infectious disease
    "128045006": (INFECTION, "cellulitis"),  # Cellulitis (carried over)
    "840539006": (INFECTION, "COVID-19"),  # Disease caused by SARS-CoV-2 (carried over)
    "6142004": (INFECTION, "influenza"),  # Influenza (carried over)
    "65553006": (INFECTION, "aspergillosis"),  # Aspergillosis (disorder) (verified)
    "78048006": (INFECTION, "candidiasis"),  # Candidiasis (disorder) (verified)
    "83062006": (INFECTION, "candidiasis"),  # Infection caused by Candida albicans (verified)
    "3218000": (INFECTION, "fungal infection"),  # Mycosis (disorder) (verified)
    "186431008": (INFECTION, "C. difficile infection"),  # Clostridioides difficile infection
    "28944009": (INFECTION, "cytomegalovirus infection"),  # Cytomegalovirus infection (verified)
}

#: ICD-10(-CM) code prefix (without the dot) -> term, or None: not an infection.
ICD10_INFECTIONS: dict[str, Term | None] = {
    # chapter 1 rows with a clinician's term (every other A/B code is CHAPTER_1_TERM)
    "A40": (INFECTION, "sepsis"),  # Streptococcal sepsis
    "A41": (INFECTION, "sepsis"),  # Other sepsis
    "A49": (INFECTION, "bacterial infection"),  # Bacterial infection of unspecified site
    "A047": (INFECTION, "C. difficile infection"),  # Enterocolitis due to Clostridium difficile
    "A15": (INFECTION, "tuberculosis"),  # Respiratory tuberculosis
    "B00": (INFECTION, "herpes simplex infection"),  # Herpesviral infections
    "B02": (INFECTION, "zoster"),  # Zoster [herpes zoster]
    "B25": (INFECTION, "cytomegaloviral disease"),  # Cytomegaloviral disease
    "B34": (INFECTION, "viral infection"),  # Viral infection of unspecified site
    "B37": (INFECTION, "candidiasis"),  # Candidiasis
    "B44": (INFECTION, "aspergillosis"),  # Aspergillosis
    "B45": (INFECTION, "cryptococcosis"),  # Cryptococcosis
    "B46": (INFECTION, "mucormycosis"),  # Zygomycosis
    "B49": (INFECTION, "fungal infection"),  # Unspecified mycosis
    "B59": (INFECTION, "pneumocystosis"),  # Pneumocystosis
    "B99": (INFECTION, "infection"),  # Other and unspecified infectious diseases
    # B90-B94: sequelae of infectious and parasitic diseases are late effects, not infections.
    "B90": None,
    "B91": None,
    "B92": None,
    "B94": None,
    # infections coded in other chapters (module docstring)
    "R652": (INFECTION, "sepsis"),  # Severe sepsis (R65.20)
    "R6521": (INFECTION, "septic shock"),  # Severe sepsis with septic shock
    "R7881": (INFECTION, "bacteremia"),  # Bacteremia (ICD-10-CM)
    "J00": (INFECTION, "upper respiratory infection"),  # Acute nasopharyngitis
    "J01": (INFECTION, "sinusitis"),  # Acute sinusitis
    "J02": (INFECTION, "pharyngitis"),  # Acute pharyngitis
    "J03": (INFECTION, "tonsillitis"),  # Acute tonsillitis
    "J04": (INFECTION, "laryngitis"),  # Acute laryngitis and tracheitis
    "J05": (INFECTION, "epiglottitis"),  # Acute obstructive laryngitis and epiglottitis
    "J06": (INFECTION, "upper respiratory infection"),  # Acute upper respiratory infections
    "J09": (INFECTION, "influenza"),  # Influenza due to identified zoonotic/pandemic virus
    "J10": (INFECTION, "influenza"),  # Influenza due to other identified influenza virus
    "J11": (INFECTION, "influenza"),  # Influenza due to unidentified influenza virus
    "J12": (INFECTION, "pneumonia"),  # Viral pneumonia, NEC
    "J13": (INFECTION, "pneumonia"),  # Pneumonia due to Streptococcus pneumoniae
    "J14": (INFECTION, "pneumonia"),  # Pneumonia due to Haemophilus influenzae
    "J15": (INFECTION, "pneumonia"),  # Bacterial pneumonia, NEC
    "J16": (INFECTION, "pneumonia"),  # Pneumonia due to other infectious organisms
    "J17": (INFECTION, "pneumonia"),  # Pneumonia in diseases classified elsewhere
    "J18": (INFECTION, "pneumonia"),  # Pneumonia, unspecified organism
    "J20": (INFECTION, "acute bronchitis"),  # Acute bronchitis
    "J21": (INFECTION, "bronchiolitis"),  # Acute bronchiolitis
    "J22": (INFECTION, "lower respiratory infection"),  # Unspecified acute LRI
    "J85": (INFECTION, "lung abscess"),  # Abscess of lung and mediastinum
    "J86": (INFECTION, "empyema"),  # Pyothorax
    "J95851": (INFECTION, "ventilator-associated pneumonia"),  # Ventilator associated pneumonia
    "N390": (INFECTION, "urinary tract infection"),  # Urinary tract infection, site not specified
    "N10": (INFECTION, "pyelonephritis"),  # Acute pyelonephritis
    "N300": (INFECTION, "cystitis"),  # Acute cystitis
    "L00": (INFECTION, "skin infection"),  # Staphylococcal scalded skin syndrome
    "L01": (INFECTION, "impetigo"),  # Impetigo
    "L02": (INFECTION, "abscess"),  # Cutaneous abscess, furuncle and carbuncle
    "L03": (INFECTION, "cellulitis"),  # Cellulitis and acute lymphangitis
    "L04": (INFECTION, "lymphadenitis"),  # Acute lymphadenitis
    "L08": (INFECTION, "skin infection"),  # Other local infections of skin
    "K65": (INFECTION, "peritonitis"),  # Peritonitis
    "K651": (INFECTION, "peritoneal abscess"),  # Peritoneal abscess
    "K653": None,  # Choleperitonitis: bile, not infection
    "K654": None,  # Sclerosing mesenteritis: aseptic
    "G00": (INFECTION, "bacterial meningitis"),  # Bacterial meningitis, NEC
    "G042": (INFECTION, "bacterial meningoencephalitis"),  # Bacterial meningoencephalitis
    "G06": (INFECTION, "intracranial abscess"),  # Intracranial and intraspinal abscess
    "I330": (INFECTION, "infective endocarditis"),  # Acute and subacute infective endocarditis
    "M00": (INFECTION, "septic arthritis"),  # Pyogenic arthritis
    "M86": (INFECTION, "osteomyelitis"),  # Osteomyelitis
    "T802": (INFECTION, "infusion-related infection"),  # Infections following infusion (CLABSI)
    "T814": (INFECTION, "postprocedural infection"),  # Infection following a procedure
    "T826": (INFECTION, "device infection"),  # Infection ... cardiac valve prosthesis
    "T827": (INFECTION, "device infection"),  # Infection ... other cardiac and vascular devices
    "T835": (INFECTION, "device infection"),  # Infection ... genitourinary prosthetic device
    "T836": (INFECTION, "device infection"),  # Infection ... genital prosthetic device
    "T845": (INFECTION, "device infection"),  # Infection ... internal joint prosthesis
    "T846": (INFECTION, "device infection"),  # Infection ... internal fixation device
    "T847": (INFECTION, "device infection"),  # Infection ... other orthopedic devices
    "T857": (INFECTION, "device infection"),  # Infection ... other internal prosthetic devices
    "O85": (INFECTION, "puerperal sepsis"),  # Puerperal sepsis
    "O86": (INFECTION, "puerperal infection"),  # Other puerperal infections
    "U071": (INFECTION, "COVID-19"),  # COVID-19
}


def _terms(term: str, *texts: str) -> tuple[Phrase[Term], ...]:
    return phrases((INFECTION, term), term, *texts)


#: Infection names in Condition text and displays (SPEC 2.7 names them: sepsis, bacteremia,
#: fungemia, pneumonia, aspergillosis, candidiasis, colitis due to C. difficile, ...).
INFECTION_NAMES: tuple[Phrase[Term] | Phrase[Veto[ConditionCategory]], ...] = (
    _terms("sepsis", "septicemia", "septicaemia", "urosepsis", "neutropenic sepsis")
    + _terms("septic shock")
    + _terms("bacteremia", "bacteraemia", "bloodstream infection", "blood stream infection")
    + _terms("fungemia", "fungaemia", "candidemia", "candidaemia")
    + _terms("pneumonia", "bronchopneumonia")
    + _terms("infection", "infectious disease", "infected")
    + _terms("cellulitis")
    + _terms("abscess")
    + _terms("COVID-19", "SARS-CoV-2")
    + _terms("influenza")
    + _terms("aspergillosis", "aspergilloma", "invasive aspergillosis")
    + _terms("candidiasis", "candidosis", "thrush")
    + _terms("mucormycosis", "zygomycosis")
    + _terms("cryptococcosis", "cryptococcal")
    + _terms("pneumocystis", "Pneumocystis jirovecii pneumonia")
    + acronyms((INFECTION, "pneumocystis"), "PJP")
    + _terms("fungal infection", "mycosis", "invasive fungal disease")
    + _terms(
        "C. difficile infection",
        "colitis due to C. difficile",
        "colitis due to Clostridium difficile",
        "colitis due to Clostridioides difficile",
        "C. difficile colitis",
        "C. diff colitis",
        "C. diff",
        "C diff",
        "Clostridium difficile",
        "Clostridioides difficile",
        "pseudomembranous colitis",
    )
    + _terms("cytomegalovirus infection", "CMV infection", "CMV viremia", "CMV disease")
    + _terms("viremia", "viraemia", "adenovirus infection", "EBV viremia")
    + _terms("herpes zoster", "shingles", "zoster")
    + _terms("herpes simplex infection", "HSV infection")
    + _terms("tuberculosis")
    + _terms("empyema")
    + _terms("osteomyelitis")
    + _terms("endocarditis", "infective endocarditis", "bacterial endocarditis")
    + _terms("meningitis", "bacterial meningitis")
    + _terms("viral encephalitis", "herpes encephalitis", "HSV encephalitis")
    + _terms("pyelonephritis")
    + _terms("urinary tract infection", "cystitis")
    + acronyms((INFECTION, "urinary tract infection"), "UTI")
    + _terms("peritonitis", "spontaneous bacterial peritonitis")
    + _terms("cholangitis")
    + _terms("neutropenic enterocolitis", "typhlitis")
    + _terms("line infection", "catheter-related bloodstream infection")
    + acronyms((INFECTION, "line infection"), "CLABSI", "CRBSI")
    + _terms("septic arthritis")
    + _terms("necrotizing fasciitis")
    + vetoes(
        INFECTION,
        texts=(
            "ruled out",
            "history of",
            "h/o",
            "personal history",
            "family history",
            "no evidence of",
            "negative for",
            "resolved",
            "excluded",
            "screening",
            "vaccination",
            "vaccine",
            "immunization",
            "exposure to",
            "contact with",
            "carrier",
            "prophylaxis",
            "risk of",
            "at risk",
            "non-infectious",
            "noninfectious",
            "aseptic",
            "sterile",
            "sequela",
            "sequelae",
            "chemical",
            "SIRS of non-infectious origin",
            "prevention",
            "no signs of",
            # non-infective diseases named like infections
            "carcinomatous",
            "leptomeningeal",
            "lymphomatous",
            "neoplastic",
            "sclerosing",
            "primary biliary",
            "autoimmune",
            "IgG4",
            "marantic",
            "nonbacterial",
            "non-bacterial",
            "thrombotic",
            "Libman",
            "organizing",
            "organising",
            "interstitial",
            "eosinophilic",
            "lipoid",
            "hypersensitivity",
            "radiation",
        ),
    )
)
