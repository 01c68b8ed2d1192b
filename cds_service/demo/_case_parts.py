"""Parts the case storylines share: lab series, lymphodepletion, common diagnoses."""

from __future__ import annotations

from cds_service.demo._codes import ICD10CM, LAB_CODES, SNOMED, coding, concept
from cds_service.demo._model import ConditionSpec, Curve, Dose, LabSpec, at

#: UCUM code -> the unit as a lab report prints it.
_UNIT_DISPLAY = {
    "mg/L": "mg/L",
    "ng/mL": "ng/mL",
    "pg/mL": "pg/mL",
    "U/L": "U/L",
    "mg/dL": "mg/dL",
    "umol/L": "µmol/L",
    "g/L": "g/L",
    "10*3/uL": "K/uL",
    "10*9/L": "10^9/L",
    "mmol/L": "mmol/L",
}
_DECIMALS = {
    "crp": 1,
    "ferritin": 0,
    "il6": 1,
    "ifng": 1,
    "ast": 0,
    "alt": 0,
    "bilirubin": 1,
    "bilirubin-molar": 0,
    "creatinine": 2,
    "creatinine-molar": 0,
    "fibrinogen": 0,
    "anc": 2,
    "lactate": 1,
}
#: Cytokines are send-out tests: resulted hours after the draw.
_SEND_OUT_TURNAROUND_H = 6.0


def lab_series(
    key: str,
    times: tuple[float, ...],
    values: tuple[float, ...],
    *,
    unit: str,
    low: float | None = None,
    high: float | None = None,
    decimals: int | None = None,
) -> LabSpec:
    """A lab test with its value at each scheduled draw (linear in between, for other cadences)."""
    if len(times) != len(values):
        raise ValueError(f"{key}: {len(times)} draw times but {len(values)} values")
    code = LAB_CODES[key]
    cytokine = key in {"il6", "ifng"}
    return LabSpec(
        key=key,
        loinc=code.loinc,
        display=code.display,
        text=code.text,
        unit=unit,
        unit_display=_UNIT_DISPLAY[unit],
        decimals=_DECIMALS[key] if decimals is None else decimals,
        course=Curve(tuple(zip(times, values, strict=True))),
        low=low,
        high=high,
        turnaround_h=_SEND_OUT_TURNAROUND_H if cytokine else 1.5,
    )


def lymphodepletion(
    *,
    fludarabine_mg: float,
    fludarabine_days: tuple[int, ...],
    cyclophosphamide_mg: float,
    cyclophosphamide_days: tuple[int, ...],
) -> tuple[Dose, ...]:
    """Fludarabine and cyclophosphamide before the cells (outpatient, in the morning)."""
    doses = [
        Dose("fludarabine", at(day, "09:00"), fludarabine_mg, "mg", "iv", 30, "lymphodepletion")
        for day in fludarabine_days
    ]
    doses += [
        Dose(
            "cyclophosphamide",
            at(day, "09:45"),
            cyclophosphamide_mg,
            "mg",
            "iv",
            60,
            "lymphodepletion",
        )
        for day in cyclophosphamide_days
    ]
    return tuple(doses)


def stem_cell_transplant_status(day: int) -> ConditionSpec:
    return ConditionSpec(
        key="hsct-status",
        concept=concept(
            "History of allogeneic hematopoietic stem cell transplant",
            coding(ICD10CM, "Z94.84", "Stem cells transplant status"),
        ),
        category="problem-list-item",
        onset=at(day, "00:00"),
        dated=True,
    )


def symptom(
    key: str,
    text: str,
    snomed: tuple[str, str],
    icd: tuple[str, str] | None,
    onset: float,
    end: float,
) -> ConditionSpec:
    """A symptom charted as an encounter diagnosis, resolved at ``end``."""
    codings = [coding(SNOMED, *snomed)]
    if icd is not None:
        codings.append(coding(ICD10CM, *icd))
    return ConditionSpec(
        key=key,
        concept=concept(text, *codings),
        category="encounter-diagnosis",
        onset=onset,
        abatement=end,
    )
