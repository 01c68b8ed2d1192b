"""Mapping options: the settings of ``map_patient_record`` and ``map_draft_orders``."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, tzinfo


class ValidationMode(enum.StrEnum):
    """How strictly a resource is checked before it is mapped.

    ``ELEMENTS`` (default, the fast path of issue 6): the elements that grading reads are checked
    on the raw JSON (types, numbers, units, codes, date-times, choice elements); a resource whose
    read elements are malformed is skipped and reported. Elements grading does not read are not
    checked. Costs a few microseconds per resource.

    ``MODELS``: in addition, every resource that grading uses is validated with its
    ``fhir.resources.R4B`` model first, one resource at a time, and skipped if it is not valid
    FHIR R4 (about 0.15 ms per resource, 30 to 60 times the cost of parsing its JSON). Use it to
    check an integration, and in tests to prove the fast path maps valid data identically.
    """

    ELEMENTS = "elements"
    MODELS = "models"


@dataclass(frozen=True, slots=True)
class MappingOptions:
    """Settings of the FHIR mapping; every default is documented in docs/fhir-mapping.md.

    - ``default_timezone``: zone for date-times that have a time but no zone (FHIR forbids
      them; some EHRs send them) and for dates without a time. Default UTC. Each such time is
      counted in ``GradingInputs.notes``.
    - ``extra_comorbidity_codes``: ``(system, code)`` pairs that also count as a significant
      comorbidity (SPEC 2.6: the value set is configurable), matched exactly.
    - ``extra_comorbidity_terms``: names that also count as a significant comorbidity, matched
      as whole words, case-insensitive, in Condition text and displays.
    - ``validation``: see ``ValidationMode``; default ``ELEMENTS``.
    - ``ice_codes``, ``capd_codes``, ``rass_codes``: ``(system, code)`` pairs of the EHR's own
      codes (flowsheet rows) for the ICE score, the CAPD and RASS (SPEC 2.9: ICE and CAPD have
      no LOINC code in wide use), matched exactly; names are read as well.
    """

    default_timezone: tzinfo = UTC
    extra_comorbidity_codes: tuple[tuple[str, str], ...] = ()
    extra_comorbidity_terms: tuple[str, ...] = ()
    validation: ValidationMode = ValidationMode.ELEMENTS
    ice_codes: tuple[tuple[str, str], ...] = ()
    capd_codes: tuple[tuple[str, str], ...] = ()
    rass_codes: tuple[tuple[str, str], ...] = ()


#: The defaults (a module-level instance: frozen, so safe to share as a default argument).
DEFAULT_OPTIONS = MappingOptions()
