"""The clinical core: CRS grading (Lee 2014, ASTCT 2019, CTCAE v4.03) and treatment.

Pure Python: no Flask, requests or FHIR imports. Inputs are the frozen dataclasses of
``crs_grading.inputs``; the result is an ``Assessment`` (``crs_grading.assessment``).

Public surface::

    from crs_grading import assess, GradingOptions, Criterion
    assessment = assess(inputs, as_of, GradingOptions())

Thresholds live as data tables in ``crs_grading.tables`` (one module per source). Every
criterion name and rule is documented in ``docs/grading.md``. ``crs_grading.readings`` gives
displays the per-reading values the rules use (derived MAP, FiO2 estimate, vasopressor
segments); the ``_private`` modules are not for import from outside the package.
"""

from __future__ import annotations

from crs_grading._assess import assess
from crs_grading.assessment import Assessment, GradingSystem
from crs_grading.criteria import Criterion, NeurologicKind, WarningCode
from crs_grading.options import GradingOptions

__all__ = [
    "Assessment",
    "Criterion",
    "GradingOptions",
    "GradingSystem",
    "NeurologicKind",
    "WarningCode",
    "assess",
]
