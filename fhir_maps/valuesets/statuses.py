"""Status rules: which resources count (SPEC 3: "Ignore entered-in-error, cancelled and not-done
resources; preliminary and amended count").

Every status code of the FHIR R4 value set is in exactly one of the two sets of its resource
type; a code in neither is not a FHIR code and the resource is skipped and reported.
"""

from __future__ import annotations

#: Observation.status (FHIR R4 observation-status).
OBSERVATION_COUNTED = frozenset({"preliminary", "final", "amended", "corrected", "unknown"})
OBSERVATION_IGNORED = frozenset({"registered", "cancelled", "entered-in-error"})
# "registered": ordered, no result yet. "unknown": the source system does not know which status
# applies; a value it sent is still a value, so it counts.

#: MedicationAdministration.status (FHIR R4 medication-admin-status).
ADMINISTRATION_COUNTED = frozenset({"in-progress", "completed", "on-hold", "stopped", "unknown"})
ADMINISTRATION_IGNORED = frozenset({"not-done", "entered-in-error"})
# "stopped": ended early; counts for the period it ran (effectivePeriod). "on-hold": paused; the
# period that was given counts, and it is not in progress.

#: Procedure.status (FHIR R4 event-status).
PROCEDURE_COUNTED = frozenset({"in-progress", "completed", "on-hold", "stopped", "unknown"})
PROCEDURE_IGNORED = frozenset({"preparation", "not-done", "entered-in-error"})
# "preparation": not yet started.

#: MedicationRequest.status (FHIR R4 medicationrequest-status) of draft orders.
REQUEST_COUNTED = frozenset({"draft", "active", "on-hold", "completed", "stopped", "unknown"})
REQUEST_IGNORED = frozenset({"cancelled", "entered-in-error"})

#: Condition.verificationStatus code that removes a Condition entirely (it never becomes input).
CONDITION_ENTERED_IN_ERROR = "entered-in-error"
