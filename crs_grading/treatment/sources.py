"""Where each treatment rule comes from: ``RuleSource``, defined in ``crs_grading.tables.sources``
(the one place for citations) and re-exported here for the treatment package's callers."""

from __future__ import annotations

from crs_grading.tables.sources import RuleSource

__all__ = ["RuleSource"]
