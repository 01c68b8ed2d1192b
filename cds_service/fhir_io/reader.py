"""Turn a hook call's prefetch and FHIR server into the patient's FHIR data.

Rules (CDS Hooks 2.0.1 sections Prefetch Template and FHIR Resource Access; SPEC section 4):

- Each prefetch key may hold a resource, a searchset Bundle, ``null`` or an OperationOutcome.
- A key that is missing, ``null``, an OperationOutcome or not a resource is fetched from
  ``fhirServer`` (with the bearer token when one was given) by rendering its template with the
  context. A prefetch Bundle with a ``next`` link is read on from the same server.
- Fetches run concurrently within one total time budget; whatever is not done by then is
  reported as timed out, so the answer never waits longer than the budget.
- If the Patient or the Observations cannot be had either way, the call fails with 412. A lesser
  key that fails is reported in ``PatientData.problems`` and the rest is used.
- Resources are merged across keys and de-duplicated by (resourceType, id); resources whose
  ``subject``/``patient`` names another patient are dropped, and so are patient-data resources
  (Observation, MedicationAdministration, Condition, ...) that name no patient at all: the
  service never grades on data it cannot attribute to the patient of the call. Both are
  reported. Nothing is filtered by code here.
- With ``max_resources``, the prefetch and everything fetched together stay within that many
  resources; fetching stops at the limit and says so.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from cds_service.errors import FhirDataUnavailable
from cds_service.fhir_io.bundles import (
    PrefetchState,
    PrefetchValue,
    read_prefetch,
)
from cds_service.fhir_io.fetch import (
    Deadline,
    FetchError,
    FhirEndpoint,
    KeyProgress,
    ResourceAllowance,
    fetch_pages,
)
from cds_service.services import ESSENTIAL_KEYS, PATIENT_KEY
from fhir_maps import ReferenceOwner, reference_owner

__all__ = ["DataProblem", "FhirReader", "PatientData", "render_template"]

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"\{\{\s*([A-Za-z][A-Za-z0-9.]*)\s*\}\}")

#: Resource types that are always about one patient (R4 Patient compartment, the ones grading
#: reads or could meet): without a readable ``subject``/``patient`` they are not used.
_PATIENT_DATA_TYPES = frozenset(
    {
        "Observation",
        "MedicationAdministration",
        "MedicationRequest",
        "MedicationStatement",
        "Condition",
        "Procedure",
        "DiagnosticReport",
        "Encounter",
        "AllergyIntolerance",
    }
)


@dataclass(frozen=True, slots=True)
class DataProblem:
    """Why part of the data may be missing. ``message`` is a sentence fit for a card.

    ``hides_data`` is False for problems that drop nothing of this patient's data (resources
    of another patient, or naming no patient, that were ignored): the card then does not warn
    that the grade may be too low.
    """

    key: str
    message: str
    hides_data: bool = True

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class PatientData:
    """The patient's FHIR data for one hook call.

    ``resources`` holds every other resource (Observations, MedicationAdministrations, included
    Medications, Conditions, Procedures, whatever the server sent), raw FHIR JSON, unvalidated.
    """

    patient: Mapping[str, Any]
    resources: tuple[Mapping[str, Any], ...] = ()
    problems: tuple[DataProblem, ...] = ()

    def of_type(self, resource_type: str) -> list[Mapping[str, Any]]:
        """The resources of one ``resourceType``."""
        return [r for r in self.resources if r.get("resourceType") == resource_type]


def render_template(template: str, tokens: Mapping[str, str]) -> str:
    """Replace ``{{context.x}}`` prefetch tokens with URL-encoded context values."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in tokens:
            raise KeyError(f"prefetch token {name!r} has no value in the context")
        return quote(tokens[name], safe="")

    return _TOKEN.sub(replace, template)


@dataclass(slots=True)
class _KeyResult:
    """Everything known about one prefetch key once reading is over."""

    resources: list[dict[str, Any]] = field(default_factory=list)
    obtained: bool = False  # some answer for the key exists (possibly partial or empty)
    problem: str | None = None
    skipped_entries: int = 0


class FhirReader:
    """Reads the patient's FHIR data for one hook call. Build one per app and reuse it."""

    def __init__(
        self,
        session: requests.Session,
        *,
        budget_s: float,
        max_pages: int,
        max_workers: int = 5,
    ) -> None:
        self._session = session
        self._budget_s = budget_s
        self._max_pages = max_pages
        self._max_workers = max_workers

    def read(
        self,
        *,
        templates: Mapping[str, str],
        tokens: Mapping[str, str],
        patient_id: str,
        prefetch: Mapping[str, Any],
        endpoint: FhirEndpoint | None,
        max_resources: int | None = None,
    ) -> PatientData:
        """Read every key of ``templates``; raise ``FhirDataUnavailable`` (412) per the rules."""
        deadline = Deadline(self._budget_s)
        results: dict[str, _KeyResult] = {}
        urls: dict[str, str] = {}
        seeds: dict[str, KeyProgress] = {}

        for key, template in templates.items():
            value = read_prefetch(prefetch, key)
            if key == PATIENT_KEY:
                value = _check_patient_prefetch(value, patient_id, results, key)
            result = results.setdefault(key, _KeyResult())
            url = self._plan(key, value, template, tokens, endpoint, result)
            if url is not None and endpoint is not None:
                seeds[key] = KeyProgress(
                    resources=list(value.page.resources),
                    pages=1 if value.state is PrefetchState.PRESENT else 0,
                    skipped_entries=value.page.skipped_entries,
                )
                urls[key] = url

        allowance = None
        if max_resources is not None:
            prefetched = sum(len(result.resources) for result in results.values())
            allowance = ResourceAllowance(max_resources - prefetched)
        jobs: dict[str, Callable[[KeyProgress], None]] = {}
        if endpoint is not None:
            jobs = {key: self._job(endpoint, url, deadline, allowance) for key, url in urls.items()}
        self._run(jobs, seeds, results, deadline)
        fhir_server = endpoint.base_url if endpoint is not None else None
        return _assemble(templates, results, patient_id, fhir_server)

    def _plan(
        self,
        key: str,
        value: PrefetchValue,
        template: str,
        tokens: Mapping[str, str],
        endpoint: FhirEndpoint | None,
        result: _KeyResult,
    ) -> str | None:
        """Record what the prefetch gave; return the URL still to read, if any."""
        state = value.state
        if state is PrefetchState.PRESENT:
            result.resources.extend(value.page.resources)
            result.skipped_entries += value.page.skipped_entries
            result.obtained = True
            if value.page.next_url is None:
                return None
            if endpoint is None:
                result.problem = f"{key}: the prefetch has more pages but no fhirServer was given"
                return None
            resolved = endpoint.resolve(value.page.next_url)
            if resolved is None:
                result.problem = f"{key}: the prefetch's next link is not on fhirServer"
            return resolved

        if endpoint is not None:
            return endpoint.url_for(render_template(template, tokens))

        if state is PrefetchState.NULL:
            # CDS Hooks: null means the client has no data for this template.
            result.obtained = key != PATIENT_KEY
            if key == PATIENT_KEY:
                result.problem = result.problem or "patient: the prefetch holds no Patient"
        elif state is PrefetchState.MISSING:
            result.problem = f"{key}: not prefetched and no fhirServer was given"
        elif state is PrefetchState.OUTCOME:
            result.problem = f"{key}: the EHR could not prefetch them and no fhirServer was given"
        else:
            result.problem = result.problem or f"{key}: the prefetch value is not a FHIR resource"
        return None

    def _job(
        self,
        endpoint: FhirEndpoint,
        url: str,
        deadline: Deadline,
        allowance: ResourceAllowance | None,
    ) -> Callable[[KeyProgress], None]:
        def job(progress: KeyProgress) -> None:
            fetch_pages(
                self._session, endpoint, url, deadline, self._max_pages, progress, allowance
            )

        return job

    def _run(
        self,
        jobs: Mapping[str, Callable[[KeyProgress], None]],
        seeds: Mapping[str, KeyProgress],
        results: dict[str, _KeyResult],
        deadline: Deadline,
    ) -> None:
        if not jobs:
            return
        pool = ThreadPoolExecutor(
            max_workers=min(self._max_workers, len(jobs)), thread_name_prefix="fhir-fetch"
        )
        try:
            futures: dict[str, Future[None]] = {}
            for key, job in jobs.items():
                # Each job runs in a copy of this context so log lines keep the hookInstance.
                context = contextvars.copy_context()
                futures[key] = pool.submit(context.run, job, seeds[key])
            wait(futures.values(), timeout=deadline.remaining())
        finally:
            # Never wait for stragglers: their own timeouts end them shortly after the budget.
            pool.shutdown(wait=False, cancel_futures=True)

        for key, future in futures.items():
            progress = seeds[key]
            result = results[key]
            error: str | None = None
            if future.cancelled() or not future.done():
                error = str(deadline.timed_out())
            elif (exception := future.exception()) is not None:
                error = str(exception) if isinstance(exception, FetchError) else "internal error"
                if not isinstance(exception, FetchError):
                    logger.error("FHIR fetch of %s failed: %s", key, type(exception).__name__)
            _settle(key, result, progress, error)


def _settle(key: str, result: _KeyResult, progress: KeyProgress, error: str | None) -> None:
    """Fold a fetch job's progress into the key's result."""
    result.resources = list(progress.resources)
    result.skipped_entries = progress.skipped_entries
    read_something = progress.pages > 0
    if error is None:
        result.obtained = True
        if progress.note is not None:
            result.problem = f"{key}: {progress.note}"
            logger.info("FHIR data note", extra={"fields": {"key": key, "note": progress.note}})
    elif read_something:
        result.obtained = True
        result.problem = f"{key} could only be read in part: {error}"
    else:
        result.problem = f"{key} could not be fetched: {error}"
    if error is not None:
        logger.warning("FHIR data problem", extra={"fields": {"key": key, "problem": error}})


def _check_patient_prefetch(
    value: PrefetchValue, patient_id: str, results: dict[str, _KeyResult], key: str
) -> PrefetchValue:
    """A prefetched Patient must be the context's patient; otherwise treat it as not sent."""
    if value.state is not PrefetchState.PRESENT:
        return value
    if any(_is_the_patient(r, patient_id) for r in value.page.resources):
        return value
    results[key] = _KeyResult(
        problem="patient: the prefetched Patient is not the patient of context.patientId"
    )
    return PrefetchValue(PrefetchState.INVALID)


def _is_the_patient(resource: Mapping[str, Any], patient_id: str) -> bool:
    return resource.get("resourceType") == "Patient" and resource.get("id") == patient_id


def _assemble(
    templates: Mapping[str, str],
    results: Mapping[str, _KeyResult],
    patient_id: str,
    fhir_server: str | None,
) -> PatientData:
    problems: list[DataProblem] = []
    unavailable: list[str] = []
    for key in templates:
        result = results[key]
        if key in ESSENTIAL_KEYS and not result.obtained:
            unavailable.append(result.problem or f"{key} could not be obtained")
        if result.problem is not None:
            problems.append(DataProblem(key, result.problem))
        if result.skipped_entries:
            problems.append(
                DataProblem(key, f"{key}: {result.skipped_entries} Bundle entries were unreadable")
            )

    patient = next(
        (r for r in results[PATIENT_KEY].resources if _is_the_patient(r, patient_id)), None
    )
    if patient is None and not unavailable:
        unavailable.append("patient: no Patient resource with the id of context.patientId")
    if unavailable:
        raise FhirDataUnavailable("; ".join(unavailable))

    resources, foreign, unattributed = _merge(
        ((key, results[key].resources) for key in templates if key != PATIENT_KEY),
        patient_id,
        fhir_server,
    )
    for key, count in foreign.items():
        problems.append(
            DataProblem(
                key, f"{key}: {count} resources of another patient ignored", hides_data=False
            )
        )
    for key, count in unattributed.items():
        problems.append(
            DataProblem(
                key, f"{key}: {count} resources that name no patient ignored", hides_data=False
            )
        )
    assert patient is not None  # noqa: S101 - unavailable would have raised
    return PatientData(patient=patient, resources=tuple(resources), problems=tuple(problems))


def _merge(
    keyed: Iterable[tuple[str, list[dict[str, Any]]]], patient_id: str, fhir_server: str | None
) -> tuple[list[dict[str, Any]], dict[str, int], dict[str, int]]:
    """Resources of all keys, first copy of each (resourceType, id), this patient's only.

    A resource is this patient's only when its patient reference is exactly
    ``Patient/{patient_id}`` or its URL on ``fhir_server`` (``fhir_maps.parse_reference``).
    Also returns, by key, how many resources named another patient and how many
    patient-data resources named no patient in an accepted form (both left out).
    """
    seen: set[tuple[str, str]] = set()
    merged: list[dict[str, Any]] = []
    foreign: dict[str, int] = {}
    unattributed: dict[str, int] = {}
    for key, resources in keyed:
        for resource in resources:
            owner, _ = reference_owner(resource, patient_id, fhir_server)
            if owner is ReferenceOwner.OTHER:
                foreign[key] = foreign.get(key, 0) + 1
                continue
            if (
                owner is ReferenceOwner.NOBODY
                and resource.get("resourceType") in _PATIENT_DATA_TYPES
            ):
                unattributed[key] = unattributed.get(key, 0) + 1
                continue
            if resource.get("resourceType") == "Patient":
                continue
            resource_id = resource.get("id")
            if isinstance(resource_id, str):
                identity = (str(resource["resourceType"]), resource_id)
                if identity in seen:
                    continue
                seen.add(identity)
            merged.append(resource)
    return merged, foreign, unattributed
