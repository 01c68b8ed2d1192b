"""Code system URIs that the value sets use (FHIR R4 terminology page, US Core)."""

from __future__ import annotations

LOINC = "http://loinc.org"
LOINC_OID = "urn:oid:2.16.840.1.113883.6.1"  # LOINC's OID, still sent by some EHRs
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10_WHO = "http://hl7.org/fhir/sid/icd-10"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

#: Systems whose codes are read as LOINC.
LOINC_SYSTEMS = frozenset({LOINC, LOINC_OID})
#: Systems whose codes are read as ICD-10 (the CM codes we list share their prefixes with WHO
#: ICD-10 except R78.81 and G92.0, which only exist in ICD-10-CM).
ICD10_SYSTEMS = frozenset({ICD10_CM, ICD10_WHO})
