"""Default reference limits, used when an Observation has no referenceRange (SPEC 2.3).

CTCAE v4.03 grades organ toxicity against the upper or lower limit of normal (ULN, LLN) of the
laboratory that measured it; Observation.referenceRange carries that range and always wins.
These defaults are conventional ADULT limits
of US hospital laboratories, in the units of ``crs_grading.inputs.LAB_UNITS``, chosen by us (the
AST/ALT, bilirubin, creatinine and fibrinogen values are those the project brief asked for) and
not taken from one cited table. Paediatric and sex-specific limits differ (creatinine
especially), and local laboratories vary: one more reason an EHR should send its ranges.
"""

from __future__ import annotations

from crs_grading.inputs import LabTest

#: LabTest -> (low, high); None where no limit is used.
DEFAULT_REFERENCE_RANGES: dict[LabTest, tuple[float | None, float | None]] = {
    LabTest.AST: (None, 40.0),  # U/L; common adult ULN 35-40
    LabTest.ALT: (None, 40.0),  # U/L; common adult ULN 35-40 (higher in men at some labs)
    LabTest.BILIRUBIN: (None, 1.2),  # mg/dL total bilirubin; adult ULN 1.0-1.2
    LabTest.CREATININE: (None, 1.2),  # mg/dL; adult ULN 1.0 (women)-1.3 (men); 1.2 chosen
    LabTest.FIBRINOGEN: (200.0, 400.0),  # mg/dL; adult 200-400
    LabTest.LVEF: (50.0, None),  # %; LVEF below 50 % is reduced (CTCAE v4.03 grades absolute EF)
    LabTest.CRP: (None, 10.0),  # mg/L; adult ULN 5-10
    LabTest.ANC: (1500.0, None),  # /uL; adult LLN 1500-1800
    LabTest.WBC: (4.0, 11.0),  # 10^3/uL; adult 4.0-11.0
    LabTest.LACTATE: (None, 2.0),  # mmol/L; 2.0 is also the SPEC 2.7 warning threshold
    LabTest.PROCALCITONIN: (None, 0.5),  # ng/mL; < 0.5 makes systemic bacterial infection unlikely
    # Ferritin and IL-6: ranges vary widely by sex and assay; no default (fold change over the
    # patient's own baseline is what SPEC 2.8 shows).
}
