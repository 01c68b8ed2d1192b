"""Oxygen delivery devices by name (ASTCT 2019 distinguishes them; SPEC 2.4).

Devices arrive as flowsheet text ("HFNC", "Non-rebreather mask", "Room air") far more often than
as codes, and we could not verify a SNOMED device subset to rely on, so devices are matched by
name in the value's text and coding displays. At one position the longest name wins ("high flow
nasal cannula" before "nasal cannula", "high flow face tent" before "face tent"). Where a text
names several devices, the most supportive one (``DEVICE_SUPPORT``) is the device: lists that
write the family first ("Mask, non-rebreather", "Nasal cannula, high flow") and multi-select
rows ("NC;NRB") chart the requirement by their most supportive device. SPEC 2.3: the non-rebreather,
partial rebreather, Venturi mask, high-flow nasal cannula and a face tent at high flow deliver
more than low-flow oxygen (``crs_grading.tables.lee2014.HIGH_FLOW_DEVICES``).
"""

from __future__ import annotations

from collections.abc import Sequence

from crs_grading.inputs import OxygenDevice

from .._names import NameMatcher, acronyms, phrases

#: Oxygen devices from the least to the most support they give (our order: room air, then
#: low-flow devices, masks, devices that deliver more than low-flow oxygen, positive pressure).
DEVICE_SUPPORT: tuple[OxygenDevice, ...] = (
    OxygenDevice.ROOM_AIR,
    OxygenDevice.BLOW_BY,
    OxygenDevice.NASAL_CANNULA,
    OxygenDevice.FACE_TENT,
    OxygenDevice.SIMPLE_FACEMASK,
    OxygenDevice.PARTIAL_REBREATHER,
    OxygenDevice.VENTURI_MASK,
    OxygenDevice.HIGH_FLOW_FACE_TENT,
    OxygenDevice.HIGH_FLOW_NASAL_CANNULA,
    OxygenDevice.NON_REBREATHER,
    OxygenDevice.CPAP,
    OxygenDevice.BIPAP,
    OxygenDevice.INVASIVE_VENTILATION,
)

OXYGEN_DEVICE_NAMES: NameMatcher[OxygenDevice] = NameMatcher(
    phrases(OxygenDevice.ROOM_AIR, "room air", "ambient air", "no oxygen", "no supplemental oxygen")
    + acronyms(OxygenDevice.ROOM_AIR, "RA")
    + phrases(OxygenDevice.BLOW_BY, "blow-by", "blowby", "blow by oxygen")
    + phrases(OxygenDevice.NASAL_CANNULA, "nasal cannula", "nasal prongs", "low flow nasal cannula")
    + acronyms(OxygenDevice.NASAL_CANNULA, "NC", "LFNC")
    + phrases(
        OxygenDevice.HIGH_FLOW_NASAL_CANNULA,
        "high flow nasal cannula",
        "high-flow nasal cannula",
        "heated high flow",
        "high flow nasal oxygen",
        "high flow oxygen",
        "high flow",  # "Nasal cannula, high flow", "Cannula, High Flow"
        "Optiflow",
        "Vapotherm",
        "Airvo",
    )
    + acronyms(OxygenDevice.HIGH_FLOW_NASAL_CANNULA, "HFNC", "HFNO", "HHFNC")
    + phrases(
        OxygenDevice.SIMPLE_FACEMASK,
        "face mask",
        "facemask",
        "simple mask",
        "simple face mask",
        "oxygen mask",
        "aerosol mask",
        "mask",
    )
    + phrases(OxygenDevice.FACE_TENT, "face tent", "facetent", "face shield oxygen")
    + phrases(
        OxygenDevice.HIGH_FLOW_FACE_TENT,
        "high flow face tent",
        "face tent high flow",
        "face tent, high flow",
        "face tent at high flow",
    )
    + phrases(
        OxygenDevice.PARTIAL_REBREATHER,
        "partial rebreather",
        "partial rebreather mask",
        "partial re-breather",
        "partial rebreathing mask",
    )
    + phrases(
        OxygenDevice.NON_REBREATHER,
        "non-rebreather",
        "nonrebreather",
        "non rebreather mask",
        "non-rebreathing mask",
        "reservoir mask",
    )
    + acronyms(OxygenDevice.NON_REBREATHER, "NRB", "NRBM")
    + phrases(OxygenDevice.VENTURI_MASK, "venturi", "venturi mask", "venti mask", "venti-mask")
    + phrases(OxygenDevice.CPAP, "CPAP", "continuous positive airway pressure")
    + phrases(
        OxygenDevice.BIPAP,
        "BiPAP",
        "BPAP",
        "bilevel",
        "bi-level",
        "bilevel positive airway pressure",
    )
    + phrases(
        OxygenDevice.BIPAP,
        # NIV is usually bilevel; either way it is positive pressure (ASTCT grade 4, seed grade 4).
        # Listed so that "non-invasive ventilation" is never read as "invasive ventilation".
        "non-invasive ventilation",
        "non-invasive ventilator",
        "non-invasive positive pressure",
    )
    + acronyms(OxygenDevice.BIPAP, "NIPPV", "NIV")
    + phrases(
        OxygenDevice.INVASIVE_VENTILATION,
        "ventilator",
        "mechanical ventilation",
        "invasive ventilation",
        "invasive mechanical ventilation",
        "endotracheal tube",
        "intubated",
    )
    + acronyms(OxygenDevice.INVASIVE_VENTILATION, "ETT", "IMV")
)


def named_device(texts: Sequence[str]) -> OxygenDevice | None:
    """The oxygen device the texts name; of several, the most supportive (``DEVICE_SUPPORT``)."""
    found = OXYGEN_DEVICE_NAMES.find_in(texts)
    return max(found, key=DEVICE_SUPPORT.index) if found else None
