"""Turn a hook call's prefetch and FHIR server into the patient's FHIR data.

Rules (CDS Hooks 2.0.1 sections Prefetch Template and FHIR Resource Access; SPEC sections 3, 4):

- Each prefetch key may hold a resource, a searchset Bundle, ``null`` or an OperationOutcome.
- A key that is missing, ``null``, an OperationOutcome or not a resource is fetched from
  ``fhirServer`` (with the bearer token when one was given) by rendering its template with the
  context. A prefetch Bundle with a ``next`` link (EHRs send the first page only) is read on
  from the same server, within the budget and the page cap.
- Medications that administrations name by reference but nobody contained or included are read
  from ``fhirServer`` (``medications``): scope never depends on how the EHR sent the drug.
  Those named on the pages that were read are read even when a later page failed.
- Fetches run concurrently within one total time budget; whatever is not done by then is
  reported as timed out, so the answer never waits longer than the budget.
- A server that refuses a key's search (HTTP 400, 403 or 422: Oracle Health has no category
  ``survey``) is asked once more with the key's ``alternate`` search, when
  ``services.PREFETCH_KEYS`` has one: code-filtered (the key is then read in part: rows with
  other codes are not found, and the card says so), or the same search without ``_sort`` and
  ``_include`` (administrations: read in full when it answers). Without one the key is not
  read, and the card says so.
- If the Patient or the vital signs cannot be had either way, the call fails with 412. A lesser
  key that fails is reported in ``PatientData.problems`` and the rest is used.
- Resources are merged across keys and de-duplicated by (resourceType, id). A resource is the
  patient's only when its ``subject`` (or ``patient``) is exactly ``Patient/{id}`` or its URL
  on ``fhirServer`` (``fhir_maps.parse_reference``); resources naming another patient are
  dropped, and so are patient-data resources (Observation, MedicationAdministration, Condition,
  ...) that name no patient in that form: the service never grades on data it cannot attribute
  to the patient of the call. Both are reported. Nothing is filtered by code here.
- With ``max_resources``, the prefetch and everything fetched together stay within that many
  resources; fetching stops at the limit and says so.

What could not be read becomes a ``DataProblem`` whose sentence says what may be missing
because of it, from the key's entry in ``services.PREFETCH_KEYS`` ("blood cultures could not
be read: an infection warning may be missing"). This module decides which sentence; the cards
only lay it out.
"""

from __future__ import annotations

import contextvars
import enum
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

import requests
from msgspec import UnsetType

from cds_service.errors import FhirDataUnavailable
from cds_service.fhir_io.bundles import (
    PrefetchState,
    PrefetchValue,
    Resource,
    read_page,
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
from cds_service.fhir_io.medications import (
    MedicationReads,
    medications_to_read,
    read_medications,
)
from cds_service.services import (
    ESSENTIAL_KEYS,
    MEDICATIONS_KEY,
    PATIENT_KEY,
    PREFETCH_KEYS_BY_NAME,
)
from crs_grading.wording.phrases import DATA_PROBLEM
from fhir_maps import DecodedObservation, ReferenceOwner, reference_owner
from fhir_maps.decoded import decoded_owner

__all__ = [
    "MAX_MEDICATION_READS",
    "PATIENT_DATA_TYPES",
    "DataProblem",
    "FhirReader",
    "PatientData",
    "render_template",
]

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"\{\{\s*([A-Za-z][A-Za-z0-9.]*)\s*\}\}")

#: Most Medications read by reference in one call (SPEC 3: a bounded count). Administrations
#: come newest first, so the limit leaves out the oldest drugs first.
MAX_MEDICATION_READS = 100

#: HTTP statuses with which a server refuses a search it does not support (a parameter or a
#: category it does not know, or one the token's scopes do not cover): the key's alternate
#: search is tried. 401 is the token itself: nothing else would be read with it either.
_REFUSED_SEARCH = frozenset({400, 403, 422})

#: Resource types that are always about one patient (R4 Patient compartment, the ones grading
#: reads or could meet): without a readable ``subject``/``patient`` they are not used.
PATIENT_DATA_TYPES = frozenset(
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


class _Loss(enum.Enum):
    UNREAD = "unread"  # nothing of the key could be had
    PARTIAL = "partial"  # some of it was read, the rest may hold data


@dataclass(frozen=True, slots=True)
class DataProblem:
    """Part of the patient's data that could not be read, and what that may hide.

    ``message`` is the full sentence (what, why, and what may be missing), for the assessment
    extension's ``dataGaps`` and the logs; ``card_line`` the short sentence for the card
    ("blood cultures could not be read: an infection warning may be missing").
    ``reason`` is the technical cause alone ("the FHIR server answered HTTP 500").
    ``short_line`` says which data only, for a card that says itself what is at stake.
    ``hides_data`` is False for problems that drop nothing of this patient's data (resources
    of another patient, or naming no patient, that were ignored). ``rows_unread`` is True when
    resources of the key's search themselves were not read (the search refused or failed, a
    page not read, an entry unreadable), so nothing is known of what they held; False when
    every row was read and only something they name was not (a Medication by reference).
    """

    key: str
    message: str
    hides_data: bool = True
    card_line: str = ""
    reason: str = ""
    short_line: str = ""  # which data only ("procedures could not be read"), else card_line
    rows_unread: bool = False

    def __post_init__(self) -> None:
        if not self.card_line:
            object.__setattr__(self, "card_line", self.message)
        if not self.short_line:
            object.__setattr__(self, "short_line", self.card_line)

    def __str__(self) -> str:
        return self.message


def _loss_problem(key: str, loss: _Loss, reason: str) -> DataProblem:
    """The data-gap sentence of a key that could not be read (wholly or in part)."""
    spec = PREFETCH_KEYS_BY_NAME.get(key)
    holds = spec.holds if spec is not None else key
    verb = DATA_PROBLEM["unread" if loss is _Loss.UNREAD else "partial"]
    if spec is None:
        return DataProblem(key, f"{holds} {verb} ({reason})", reason=reason, rows_unread=True)
    words = {"holds": holds, "verb": verb, "reason": reason, "if_unread": spec.if_unread}
    return DataProblem(
        key,
        DATA_PROBLEM["full"].format(**words),
        card_line=DATA_PROBLEM["card"].format(**words),
        reason=reason,
        short_line=DATA_PROBLEM["short"].format(**words),
        rows_unread=True,
    )


def _medication_records_problem(key: str, reads: MedicationReads) -> DataProblem | None:
    """Medications named by reference that are missing (SPEC 3): the extension's sentence
    gives the cause; the card says how many drug records could not be read, and that a CRS
    therapy or drip among them is not recognised (on an assessment card or on the "CRS check
    incomplete" card alike)."""
    shortfall = reads.shortfall()
    if shortfall is None:
        return None
    problem = _loss_problem(key, _Loss.PARTIAL, shortfall)
    count = reads.unread()
    records = DATA_PROBLEM["medication-record" if count == 1 else "medication-records"]
    records = records.format(count=count)
    return DataProblem(
        key,
        problem.message,
        card_line=DATA_PROBLEM["medication-records-card"].format(records=records),
        reason=problem.reason,
        short_line=records,
    )


def _ignored_problem(key: str, count: int, whose: str) -> DataProblem:
    spec = PREFETCH_KEYS_BY_NAME.get(key)
    holds = spec.holds if spec is not None else key
    reason = f"{count} resources {whose} ignored"
    return DataProblem(key, f"{holds}: {reason}", hides_data=False, reason=reason)


@dataclass(frozen=True, slots=True)
class PatientData:
    """The patient's FHIR data for one hook call.

    ``resources`` holds every other resource (Observations, MedicationAdministrations, included
    or fetched Medications, Conditions, Procedures, whatever the server sent), raw FHIR JSON,
    unvalidated.
    """

    patient: Mapping[str, Any]
    resources: tuple[Resource, ...] = ()
    problems: tuple[DataProblem, ...] = ()

    def of_type(self, resource_type: str) -> list[Resource]:
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

    resources: list[Resource] = field(default_factory=list)
    obtained: bool = False  # some answer for the key exists (possibly partial or empty)
    loss: tuple[_Loss, str] | None = None  # what was lost and why
    skipped_entries: int = 0
    outcome_errors: int = 0  # OperationOutcome entries of severity error or fatal
    medications: MedicationReads | None = None

    def lose(self, loss: _Loss, reason: str) -> None:
        self.loss = (loss, reason)


@dataclass(frozen=True, slots=True)
class _JobOutcome:
    """What a finished fetch job gave: its Medication reads (medications only) and the error
    that stopped its paging, if any (what was read before it is in the job's progress)."""

    medications: MedicationReads | None = None
    error: FetchError | None = None


class FhirReader:
    """Reads the patient's FHIR data for one hook call. Build one per app and reuse it.

    Usable without a Flask request (the SMART app and the watch read through it too).
    """

    def __init__(
        self,
        session: requests.Session,
        *,
        budget_s: float,
        max_pages: int,
        max_workers: int = 5,
        max_medication_reads: int = MAX_MEDICATION_READS,
    ) -> None:
        self._session = session
        self._budget_s = budget_s
        self._max_pages = max_pages
        self._max_workers = max_workers
        self._max_medication_reads = max_medication_reads

    def read(
        self,
        *,
        templates: Mapping[str, str],
        tokens: Mapping[str, str],
        patient_id: str,
        prefetch: Mapping[str, Any],
        endpoint: FhirEndpoint | None,
        max_resources: int | None = None,
        draft_orders: Mapping[str, Any] | None = None,
    ) -> PatientData:
        """Read every key of ``templates``; raise ``FhirDataUnavailable`` (412) per the rules.

        With ``draft_orders`` (the order hooks' context), the Medications its MedicationRequests
        name by reference and neither it nor the data holds are read too, within the budget
        (SPEC 3: a draft order's dose is checked whatever way the EHR names its drug)."""
        deadline = Deadline(self._budget_s)
        results: dict[str, _KeyResult] = {}
        urls: dict[str, str | None] = {}
        alternates: dict[str, str] = {}
        seeds: dict[str, KeyProgress] = {}

        for key, template in templates.items():
            value = read_prefetch(prefetch, key)
            if key == PATIENT_KEY:
                value = _check_patient_prefetch(value, patient_id, results, key)
            result = results.setdefault(key, _KeyResult())
            url = self._plan(key, value, template, tokens, endpoint, result)
            if endpoint is None:
                continue
            spec = PREFETCH_KEYS_BY_NAME.get(key)
            if url is not None and value.state is not PrefetchState.PRESENT and spec is not None:
                if spec.alternate is not None:  # the template's own search, not a next page
                    alternates[key] = endpoint.url_for(render_template(spec.alternate, tokens))
            if url is not None or (
                key == MEDICATIONS_KEY and _lacks_medications(value, patient_id, endpoint, result)
            ):
                seeds[key] = KeyProgress(
                    resources=list(value.page.resources),
                    pages=1 if value.state is PrefetchState.PRESENT else 0,
                    skipped_entries=value.page.skipped_entries,
                    outcome_errors=value.page.outcome_errors,
                )
                urls[key] = url

        allowance = None
        if max_resources is not None:
            prefetched = sum(len(result.resources) for result in results.values())
            allowance = ResourceAllowance(max_resources - prefetched)
        fhir_server = endpoint.base_url if endpoint is not None else None
        jobs: dict[str, Callable[[KeyProgress], _JobOutcome]] = {}
        if endpoint is not None:
            jobs = {
                key: self._job(
                    key, endpoint, url, deadline, allowance, patient_id, alternates.get(key)
                )
                for key, url in urls.items()
            }
        self._run(jobs, seeds, results, deadline)
        if endpoint is None and MEDICATIONS_KEY in results:
            _note_unread_medications(results[MEDICATIONS_KEY], patient_id)
        data = _assemble(templates, results, patient_id, fhir_server)
        if endpoint is None or draft_orders is None:
            return data
        held = [*data.of_type("Medication"), *read_page(draft_orders).resources]
        wanted, _ = medications_to_read(
            held, patient_id, endpoint.base_url, naming="MedicationRequest"
        )
        if not wanted:
            return data
        # Each id once per call, and one limit for the call: the administrations' reads came
        # first, and what they could not read is not asked for again.
        tried = set(medications_to_read(data.resources, patient_id, endpoint.base_url)[0])
        wanted = [medication_id for medication_id in wanted if medication_id not in tried]
        earlier = results[MEDICATIONS_KEY].medications if MEDICATIONS_KEY in results else None
        spent = earlier.wanted - earlier.not_attempted if earlier is not None else 0
        if not wanted:
            return data
        reads = read_medications(
            self._session,
            endpoint,
            wanted,
            deadline,
            max(0, self._max_medication_reads - spent),
            allowance,
        )
        # What could not be read leaves its order unchecked, and the order card says why.
        return replace(data, resources=(*data.resources, *reads.medications))

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
            result.outcome_errors += value.page.outcome_errors
            result.obtained = True
            if value.page.next_url is None:
                return None
            if endpoint is None:
                result.lose(
                    _Loss.PARTIAL, "the prefetch has more pages but no fhirServer was given"
                )
                return None
            resolved = endpoint.resolve(value.page.next_url)
            if resolved is None:
                result.lose(_Loss.PARTIAL, "the next page is not on fhirServer")
            return resolved

        if endpoint is not None:
            return endpoint.url_for(render_template(template, tokens))

        if state is PrefetchState.NULL:
            # CDS Hooks: null means the client has no data for this template.
            result.obtained = key != PATIENT_KEY
            if key == PATIENT_KEY and result.loss is None:
                result.lose(_Loss.UNREAD, "the prefetch holds no Patient")
        elif state is PrefetchState.MISSING:
            result.lose(_Loss.UNREAD, "not prefetched and no fhirServer was given")
        elif state is PrefetchState.OUTCOME:
            result.lose(_Loss.UNREAD, "the EHR could not prefetch them and no fhirServer was given")
        elif result.loss is None:
            result.lose(_Loss.UNREAD, "the prefetch value is not a FHIR resource")
        return None

    def _job(
        self,
        key: str,
        endpoint: FhirEndpoint,
        url: str | None,
        deadline: Deadline,
        allowance: ResourceAllowance | None,
        patient_id: str,
        alternate: str | None = None,
    ) -> Callable[[KeyProgress], _JobOutcome]:
        """The fetch job of one key: its pages (or, when the server refuses the search, the
        ``alternate`` search's), then (medications) the referenced Medications.

        The Medications named on the pages that were read are read even when a later page
        failed: the administrations read are graded, and a drip whose drug is left unread is
        no vasopressor (review finding: a failed page 2 dropped grade 3 to 2). The job touches
        only its own ``progress`` and returns what the Medication reads gave and the paging
        error, which the reader uses only once the job is done; of a straggler past the budget
        it takes the pages read so far and reports the timeout."""

        def pages(start: str, progress: KeyProgress) -> None:
            fetch_pages(
                self._session, endpoint, start, deadline, self._max_pages, progress, allowance
            )

        def search(progress: KeyProgress) -> None:
            assert url is not None  # noqa: S101 - only called with a URL
            try:
                pages(url, progress)
            except FetchError as refused:
                if alternate is None or refused.status not in _REFUSED_SEARCH:
                    raise
                if progress.pages:
                    raise  # a later page failed: the search itself was accepted
                _read_by_alternate(key, refused, lambda: pages(alternate, progress), progress)

        def job(progress: KeyProgress) -> _JobOutcome:
            error: FetchError | None = None
            if url is not None:
                try:
                    search(progress)
                except FetchError as failed:
                    error = failed
            if key != MEDICATIONS_KEY:
                return _JobOutcome(error=error)
            wanted, elsewhere = medications_to_read(
                progress.resources, patient_id, endpoint.base_url
            )
            reads = read_medications(
                self._session, endpoint, wanted, deadline, self._max_medication_reads, allowance
            )
            reads.elsewhere = elsewhere
            progress.resources.extend(reads.medications)
            return _JobOutcome(reads, error)

        return job

    def _run(
        self,
        jobs: Mapping[str, Callable[[KeyProgress], _JobOutcome]],
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
            futures: dict[str, Future[_JobOutcome]] = {}
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
            else:
                outcome = future.result()
                result.medications = outcome.medications
                error = str(outcome.error) if outcome.error is not None else None
            _settle(key, result, progress, error)


def _read_by_alternate(
    key: str, refused: FetchError, read: Callable[[], None], progress: KeyProgress
) -> None:
    """Read a key whose search the server refused with its alternate search; when that cannot
    find every row (``PrefetchKey.alternate_misses``: a code filter), note what it missed (the
    key is read in part). When it is refused too, the key is not read, and the error says
    both."""
    spec = PREFETCH_KEYS_BY_NAME[key]
    logger.warning(
        "FHIR search refused; searching %s instead",
        spec.alternate_label,
        extra={"fields": {"key": key, "status": refused.status}},
    )
    try:
        read()
    except FetchError as error:
        raise FetchError(
            f"{refused}; searched {spec.alternate_label}: {error}", error.status
        ) from None
    if spec.alternate_misses is None:
        return  # the same rows: read in full unless paging stopped early (its own note)
    note = (
        f"the FHIR server refused the search (HTTP {refused.status}); searched "
        f"{spec.alternate_label} instead, so {spec.alternate_misses}"
    )
    progress.note = f"{note}; {progress.note}" if progress.note else note


def _settle(key: str, result: _KeyResult, progress: KeyProgress, error: str | None) -> None:
    """Fold a fetch job's progress into the key's result."""
    result.resources = list(progress.resources)
    result.skipped_entries = progress.skipped_entries
    result.outcome_errors = progress.outcome_errors
    read_something = progress.pages > 0
    if error is None:
        result.obtained = True
        if result.loss is not None and result.loss[0] is _Loss.UNREAD:
            result.loss = None  # e.g. a prefetched Patient of another id, then read right
        if progress.note is not None:
            result.lose(_Loss.PARTIAL, progress.note)
            logger.info("FHIR data note", extra={"fields": {"key": key, "note": progress.note}})
    elif read_something:
        result.obtained = True
        result.lose(_Loss.PARTIAL, error)
    else:
        result.lose(_Loss.UNREAD, error)
    if error is not None:
        logger.warning("FHIR data problem", extra={"fields": {"key": key, "problem": error}})


def _lacks_medications(
    value: PrefetchValue, patient_id: str, endpoint: FhirEndpoint, result: _KeyResult
) -> bool:
    """Whether a complete prefetch of administrations names Medications that must be read
    (a job is started only then); records those on another server, never read."""
    wanted, elsewhere = medications_to_read(value.page.resources, patient_id, endpoint.base_url)
    if not wanted and elsewhere:
        result.medications = MedicationReads(elsewhere=elsewhere)
    return bool(wanted)


def _note_unread_medications(result: _KeyResult, patient_id: str) -> None:
    """Without ``fhirServer``, count the referenced Medications nobody sent."""
    wanted, elsewhere = medications_to_read(result.resources, patient_id, None)
    if wanted or elsewhere:
        result.medications = MedicationReads(no_server=len(wanted) + elsewhere)


def _check_patient_prefetch(
    value: PrefetchValue, patient_id: str, results: dict[str, _KeyResult], key: str
) -> PrefetchValue:
    """A prefetched Patient must be the context's patient; otherwise treat it as not sent."""
    if value.state is not PrefetchState.PRESENT:
        return value
    if any(_is_the_patient(r, patient_id) for r in value.page.resources):
        return value
    result = results.setdefault(key, _KeyResult())
    result.lose(_Loss.UNREAD, "the prefetched Patient is not the patient of context.patientId")
    return PrefetchValue(PrefetchState.INVALID)


def _is_the_patient(resource: Resource, patient_id: str) -> bool:
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
        reason = result.loss[1] if result.loss is not None else None
        if key in ESSENTIAL_KEYS and not result.obtained:
            unavailable.append(f"{key} could not be read: {reason or 'no answer'}")
        if result.loss is not None:
            problems.append(_loss_problem(key, *result.loss))
        if result.skipped_entries:
            problems.append(
                _loss_problem(
                    key, _Loss.PARTIAL, f"{result.skipped_entries} Bundle entries were unreadable"
                )
            )
        if result.outcome_errors:
            problems.append(
                _loss_problem(
                    key,
                    _Loss.PARTIAL,
                    "the FHIR server reported an error with the results (OperationOutcome)",
                )
            )
        if result.medications is not None:
            problem = _medication_records_problem(key, result.medications)
            if problem is not None:
                problems.append(problem)

    patient = next(
        (
            r
            for r in results[PATIENT_KEY].resources
            if isinstance(r, dict) and _is_the_patient(r, patient_id)
        ),
        None,
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
        problems.append(_ignored_problem(key, count, "of another patient"))
    for key, count in unattributed.items():
        problems.append(_ignored_problem(key, count, "that name no patient"))
    assert patient is not None  # noqa: S101 - unavailable would have raised
    return PatientData(patient=patient, resources=tuple(resources), problems=tuple(problems))


def _merge(
    keyed: Iterable[tuple[str, list[Resource]]], patient_id: str, fhir_server: str | None
) -> tuple[list[Resource], dict[str, int], dict[str, int]]:
    """Resources of all keys, first copy of each (resourceType, id), this patient's only.

    A resource is this patient's only when its patient reference is exactly
    ``Patient/{patient_id}`` or its URL on ``fhir_server`` (``fhir_maps.parse_reference``).
    Also returns, by key, how many resources named another patient and how many
    patient-data resources named no patient in an accepted form (both left out).
    """
    seen: set[tuple[str, str]] = set()
    seen_observations: set[str] = set()  # by id: no tuple per row of a long chart
    merged: list[Resource] = []
    foreign: dict[str, int] = {}
    unattributed: dict[str, int] = {}
    owners: dict[object, ReferenceOwner] = {}  # of decoded Observations, by their subject
    ours = ReferenceOwner.OURS
    last_subject: object = object()  # the previous decoded row's subject, and its owner
    last_owner = ours
    for key, resources in keyed:
        for resource in resources:
            if isinstance(resource, DecodedObservation):  # the same steps on the struct
                subject = resource.subject
                if subject == last_subject:  # compared as JSON text: rows repeat one subject
                    owner = last_owner
                else:
                    text = None if isinstance(subject, UnsetType) else bytes(subject)
                    known = owners.get(text)
                    if known is None:
                        known = owners[text] = decoded_owner(resource, patient_id, fhir_server)
                    owner = last_owner = known
                    last_subject = subject
                if owner is not ours:
                    counts = foreign if owner is ReferenceOwner.OTHER else unattributed
                    counts[key] = counts.get(key, 0) + 1
                    continue
                observation_id = resource.id
                if isinstance(observation_id, str):
                    if observation_id in seen_observations:
                        continue
                    seen_observations.add(observation_id)
                merged.append(resource)
                continue
            owner, _ = reference_owner(resource, patient_id, fhir_server)
            if owner is ReferenceOwner.OTHER:
                foreign[key] = foreign.get(key, 0) + 1
                continue
            resource_type = resource.get("resourceType")
            if owner is ReferenceOwner.NOBODY and resource_type in PATIENT_DATA_TYPES:
                unattributed[key] = unattributed.get(key, 0) + 1
                continue
            if resource_type == "Patient":
                continue
            resource_id = resource.get("id")
            if isinstance(resource_id, str):
                if resource_type == "Observation":
                    if resource_id in seen_observations:
                        continue
                    seen_observations.add(resource_id)
                else:
                    identity = (str(resource_type), resource_id)
                    if identity in seen:
                        continue
                    seen.add(identity)
            merged.append(resource)
    return merged, foreign, unattributed
