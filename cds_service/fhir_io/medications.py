"""Medications named by reference that the EHR neither contained nor included (SPEC 3).

US Core lets a MedicationAdministration name its drug as ``medicationReference`` to a Medication
resource; servers include it on ``_include=MedicationAdministration:medication`` or not at all.
Whether a patient is in scope, or whether a drip is norepinephrine, must never depend on that
(SPEC 2.1): a Medication that is neither contained nor in the data is read with
``GET [fhirServer]/Medication/{id}``, within the call's time budget, each id once per call, at
most ``max_reads`` per call (newest administrations first), and only from ``fhirServer``, the
one server the bearer token is for. A reference on another server is never fetched.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from cds_service.fhir_io.bundles import Resource
from cds_service.fhir_io.fetch import (
    Deadline,
    FetchError,
    FhirEndpoint,
    ResourceAllowance,
    get_json,
)
from fhir_maps import DecodedObservation, ReferenceOwner, parse_reference, reference_owner
from fhir_maps.references import target_on_any_server

__all__ = ["MedicationReads", "medications_to_read", "read_medications"]

logger = logging.getLogger(__name__)

#: Concurrent Medication reads of one call (each a small GET).
_PARALLEL_READS = 4


@dataclass(slots=True)
class MedicationReads:
    """What reading the referenced Medications gave: the resources and why some are missing."""

    medications: list[dict[str, Any]] = field(default_factory=list)
    wanted: int = 0  # distinct Medication ids named by reference and not held
    failed: dict[str, int] = field(default_factory=dict)  # reason -> how many ids
    not_attempted: int = 0  # beyond the per-call limit, or no time left
    elsewhere: int = 0  # named on another server than fhirServer: never fetched
    no_server: int = 0  # no fhirServer was given to read them from

    def unread(self) -> int:
        """How many referenced Medications are missing, whatever the reason."""
        failed = sum(self.failed.values())
        return failed + self.not_attempted + self.elsewhere + self.no_server

    def shortfall(self) -> str | None:
        """Why some referenced Medications are missing, as a clause, or None."""
        parts = [f"{count} could not be read ({reason})" for reason, count in self.failed.items()]
        if self.not_attempted:
            parts.append(f"{self.not_attempted} were not read (limit per call or no time left)")
        if self.elsewhere:
            parts.append(f"{self.elsewhere} are on another server than fhirServer")
        if self.no_server:
            parts.append(f"{self.no_server} were not included and no fhirServer was given")
        if not parts:
            return None
        total = self.wanted + self.elsewhere + self.no_server  # no_server: none were wanted
        return f"of {total} Medications named by reference, " + "; ".join(parts)


def medications_to_read(
    resources: Iterable[Resource],
    patient_id: str,
    fhir_server: str | None,
    naming: str = "MedicationAdministration",
) -> tuple[list[str], int]:
    """Ids of the Medications this patient's administrations (or the resources of type
    ``naming``: draft MedicationRequests) name but the data lacks (in their order, each once),
    and how many name one on another server."""
    pool = [r for r in resources if not isinstance(r, DecodedObservation)]
    held = {
        str(r.get("id"))
        for r in pool
        if r.get("resourceType") == "Medication" and isinstance(r.get("id"), str)
    }
    wanted: dict[str, None] = {}
    elsewhere: set[str] = set()
    for resource in pool:
        if resource.get("resourceType") != naming:
            continue
        if reference_owner(resource, patient_id, fhir_server)[0] is not ReferenceOwner.OURS:
            continue  # another patient's resource: never a reason to read anything
        value = resource.get("medicationReference")
        literal = value.get("reference") if isinstance(value, dict) else None
        if not isinstance(literal, str) or literal.startswith(("#", "urn:")):
            continue  # contained, Bundle-internal or display only: fhir_maps reads those
        target = parse_reference(literal, fhir_server)
        if target is not None and target.resource_type == "Medication":
            if target.id not in held:
                wanted.setdefault(target.id)
            continue
        anywhere = target_on_any_server(literal)
        if anywhere is not None and anywhere.resource_type == "Medication":
            if anywhere.id not in held:
                elsewhere.add(literal)
    return list(wanted), len(elsewhere)


def read_medications(
    session: requests.Session,
    endpoint: FhirEndpoint,
    medication_ids: list[str],
    deadline: Deadline,
    max_reads: int,
    allowance: ResourceAllowance | None = None,
) -> MedicationReads:
    """``GET Medication/{id}`` for each id (at most ``max_reads``), in parallel, within
    ``deadline``. A failed read is counted by reason; the others are kept."""
    outcome = MedicationReads(wanted=len(medication_ids))
    granted = len(medication_ids[:max_reads])
    if allowance is not None:
        granted = allowance.take(granted)
    chosen = medication_ids[:granted]
    outcome.not_attempted = len(medication_ids) - len(chosen)
    if not chosen:
        return outcome

    def read_one(medication_id: str) -> dict[str, Any]:
        document = get_json(
            session, endpoint, endpoint.url_for(f"Medication/{medication_id}"), deadline
        )
        if document.get("resourceType") != "Medication" or document.get("id") != medication_id:
            raise FetchError("the FHIR server answered with another resource")
        return document

    workers = min(_PARALLEL_READS, len(chosen))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fhir-medication")
    try:
        # Each read runs in a copy of this context so log lines keep the hookInstance.
        futures = [
            pool.submit(contextvars.copy_context().run, read_one, medication_id)
            for medication_id in chosen
        ]
        for future in futures:
            try:
                outcome.medications.append(future.result(timeout=deadline.remaining() + 0.05))
            except FetchError as error:
                reason = str(error)
                outcome.failed[reason] = outcome.failed.get(reason, 0) + 1
            except TimeoutError:
                reason = str(deadline.timed_out())
                outcome.failed[reason] = outcome.failed.get(reason, 0) + 1
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if outcome.failed:
        logger.warning(
            "Medication reads failed",
            extra={"fields": {"failed": sum(outcome.failed.values()), "read": len(chosen)}},
        )
    return outcome
