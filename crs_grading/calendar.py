"""The local clock of a patient's data: the zone cards' times and day numbers are read in.

SPEC section 4: "Times are shown in the local offset of the patient's own data (the EHR's
clock), else ``CRS_CDS_TIMEZONE``; day numbers follow the same local date." The EHR writes its
timestamps with its local UTC offset ("2026-01-10T14:25:00-08:00"); ``fhir_maps`` counts them
(``GradingInputs.clock_offsets``) and ``local_zone`` picks one:

- offsets used by fewer than ``MIN_SHARE`` of the timestamps are ignored (one result from an
  outside laboratory written in its own zone does not move the clock);
- of the rest, the offset of the latest timestamp wins, so after a daylight saving change the
  new offset is used as soon as the EHR writes it;
- with no offset at all (every time written in UTC with "Z", or none), the configured zone.
"""

from __future__ import annotations

from datetime import timezone, tzinfo

from crs_grading.inputs import ClockOffset

__all__ = ["MIN_SHARE", "local_zone"]

#: Our choice: an offset must carry at least this share of the timestamps to be the clock.
MIN_SHARE = 0.10


def local_zone(offsets: tuple[ClockOffset, ...], fallback: tzinfo) -> tzinfo:
    """The zone the data's own timestamps were written in, else ``fallback``."""
    total = sum(item.count for item in offsets)
    if total == 0:
        return fallback
    candidates = [item for item in offsets if item.count >= MIN_SHARE * total]
    latest = max(candidates, key=lambda item: (item.last, item.count))
    return timezone(latest.offset)
