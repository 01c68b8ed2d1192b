"""Body temperature (SPEC 2.3 fever, SPEC 3 code families): every LOINC site and method code of
a core or body temperature, its SNOMED CT observables, and the name alone ("Temperature").

Skin, surface, finger and toe temperatures are left out: they are not the body temperature a
fever is read from. Sources: SPEC 3; VSAC "Body Temperature" 2.16.840.1.113762.1.4.1045.152
(eCQM 2025-05, LOINC long names); the HL7 FHIR validator's body-temperature SNOMED CT list and
the ISiK core-temperature value set (SNOMED CT displays).
"""

from __future__ import annotations

from ._family import HL7_VALIDATOR, ISIK, SPEC, VSAC, ObservationFamily, ObservationKind, loinc
from ._family import snomed as sct

_VS = f"{VSAC} 2.16.840.1.113762.1.4.1045.152"

FAMILY = ObservationFamily(
    ObservationKind.TEMPERATURE,
    codes=(
        loinc("8310-5", "Body temperature", SPEC),
        loinc("8331-1", "Oral temperature", _VS),
        loinc("8332-9", "Rectal temperature", _VS),
        loinc("8333-7", "Tympanic membrane temperature", _VS),
        loinc("8328-7", "Axillary temperature", _VS),
        loinc("75539-7", "Body temperature - Temporal artery", _VS),
        loinc("8329-5", "Body temperature - Core", _VS),
        loinc("8330-3", "Body temperature - Intravascular", _VS),
        loinc("8334-5", "Body temperature - Urinary bladder", _VS),
        loinc("60836-4", "Esophageal temperature", _VS),
        loinc("60838-0", "Nasopharyngeal temperature", _VS),
        loinc("76010-8", "Nasal temperature", _VS),
        loinc("76011-6", "Ear temperature", _VS),
        loinc("91371-5", "Body temperature - Brain", _VS),
        loinc("104063-3", "Body temperature - Groin", _VS),
        loinc("11289-6", "Body temperature at First encounter", _VS),
        sct("386725007", "Body temperature (observable entity)", SPEC),
        sct("276885007", "Core body temperature", ISIK),
        sct("415945006", "Oral temperature (core temperature measured in sublingual space)", ISIK),
        sct("415882003", "Axillary temperature", ISIK),
        sct("415974002", "Tympanic temperature", ISIK),
        sct("307047009", "Rectal temperature", ISIK),
        sct("431598003", "Core body temperature measured in esophagus", ISIK),
        sct("698832009", "Core body temperature measured at urinary bladder", ISIK),
        sct("1222808002", "Core body temperature measured in blood", ISIK),
        sct("415929009", "Groin temperature", ISIK),
        sct("364246006", "Core body temperature measured vaginally", ISIK),
        sct("698831002", "Nasopharyngeal temperature", HL7_VALIDATOR),
        sct("415922000", "Temperature of forehead", HL7_VALIDATOR),
    ),
    names=("temperature", "temp", "Tmax"),
    # Flowsheet rows that name a temperature but are not one, or are not the patient's core.
    vetoes=(
        "source",
        "site",
        "method",
        "route",
        "location",
        "probe",
        "device",
        "skin",
        "surface",
        "room",
        "ambient",
        "water",
        "blanket",
        "incubator",
        "warmer",
        "bath",
        "fluid",
        "goal",
        "target",
        "setpoint",
        "set point",
        "comment",
        "finger",
        "toe",
    ),
)
