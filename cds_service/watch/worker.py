"""What the watch's jobs do: read, grade, store, alert; deliver; resolve; catch up; recover.

Data flows one way, as for the hooks (SPEC section 5): the EHR's FHIR server, read with the
same ``fhir_io.FhirReader`` and the prefetch templates of the services (within
``CRS_CDS_WATCH_FHIR_TIMEOUT_S``, paging, resource limit) -> ``fhir_maps`` -> ``crs_grading``
-> ``rules.observe``/``transition`` -> the stored evaluation and alert -> ``alerts`` (the
Communication and the webhook, with the summary of the patient-view assessment card).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import quote

import requests

from cds_service.cards import EXTENSION_KEY, CardContext, DataProblemNote, patient_view_cards
from cds_service.clock import Clock
from cds_service.config import AlertChannel, Settings, WatchSettings
from cds_service.errors import FhirDataUnavailable
from cds_service.fhir_io import FhirEndpoint, FhirReader, PatientData
from cds_service.hooks import (
    grading_options,
    mapping_options,
    smart_launch_url,
    treatment_options,
)
from cds_service.services import PREFETCH_TEMPLATES
from cds_service.watch.alerts import (
    ALERT_ID_HEADER,
    SIGNATURE_HEADER,
    AlertContent,
    alert_content,
    alert_identifier_system,
    communication_reference,
    communication_resource,
    conditional_create_header,
    evidence_of,
    sign_webhook,
    webhook_body,
)
from cds_service.watch.backend_auth import BackendAuth, TokenError
from cds_service.watch.metrics import WatchMetrics
from cds_service.watch.notifications import (
    BadNotification,
    Notification,
    PendingFocus,
    parse_notification,
    patient_of,
)
from cds_service.watch.queue import PatientBusy, WatchQueue
from cds_service.watch.rules import may_alert, observe
from cds_service.watch.store import Claim, ClaimOutcome, EvaluationRecord, WatchStore
from cds_service.watch.transport import AnswerRefused, OutboundError, call, reply_json
from crs_grading import Assessment, assess
from crs_grading.treatment import plan_treatment
from fhir_maps import map_patient_record

__all__ = [
    "JobFailed",
    "Recovered",
    "WatchContext",
    "Watcher",
    "alert_lost_after_s",
    "lost_after_s",
]

logger = logging.getLogger(__name__)

_SEND_BUDGET_S = 10.0
#: Undelivered alerts no job holds are queued again after at least this long.
_ALERT_REQUEUE_S = 60.0
#: Work not done is called lost (its task gone with a worker or the queue) after at least this.
_LOST_AFTER_S = 600.0


def lost_after_s(watch: WatchSettings) -> float:
    """How long a patient's request (or a scheduled catch-up, after its gap wait) waits before
    the sweep calls its job lost: longer than the retries (twice the longest delay) and than a
    killed worker's lease (four times it) could take."""
    return max(_LOST_AFTER_S, 2.0 * _longest_retry_s(watch), 4.0 * watch.lease_s)


def alert_lost_after_s(watch: WatchSettings) -> float:
    """How long an undelivered alert waits before the sweep sends it again: past the next
    retry of a delivery that failed (twice the longest retry delay), so that the sweep does not
    start a second chain of retries beside it; 320 s by default."""
    return max(_ALERT_REQUEUE_S, 2.0 * _longest_retry_s(watch))


def _longest_retry_s(watch: WatchSettings) -> float:
    """The delay before the last retry (``CRS_CDS_WATCH_RETRY_DELAY_S``, doubled each time)."""
    return float(watch.retry_delay_s * 2 ** max(watch.retries - 1, 0))


class Recovered(NamedTuple):
    """What one recovery sweep queued again: patients, alerts and catch-up reads."""

    patients: int
    alerts: int
    catch_ups: int


class JobFailed(Exception):
    """A watch job failed; the message holds no patient data (retried, then a dead letter)."""


@dataclass(frozen=True, slots=True)
class WatchContext:
    """What the watch's jobs need, built once per process by ``cds_service.watch.init_app``."""

    settings: Settings
    store: WatchStore
    session: requests.Session
    auth: BackendAuth | None
    metrics: WatchMetrics
    clock: Clock


class Watcher:
    """Runs the watch's jobs (``queue.Jobs``) and records requests for evaluations."""

    def __init__(self, context: WatchContext, queue: WatchQueue) -> None:
        self.context = context
        self.queue = queue
        self._watch = context.settings.watch
        assert self._watch.fhir_url is not None  # noqa: S101 - built only when the watch is on
        self.fhir_base: str = self._watch.fhir_url
        self._reader = FhirReader(
            context.session,
            budget_s=self._watch.fhir_timeout_s,
            max_pages=context.settings.fhir_max_pages,
        )

    # --- requests ---------------------------------------------------------------------------

    def request(self, patient_id: str, reason: str) -> bool:
        """Ask for an evaluation of ``patient_id``; True when a job was enqueued, False when
        the request joined a waiting one. Raises when the queue cannot take the job (the
        request stays recorded and the sweep retries it)."""
        now = time.time()
        store = self.context.store
        if not store.request_evaluation(patient_id, reason, now):
            return False
        try:
            self.queue.evaluate(patient_id)
        except Exception:
            store.recover_now(patient_id)  # no job waits: let the next request or sweep enqueue
            raise
        return True

    # --- evaluate ---------------------------------------------------------------------------

    def evaluate(self, patient_id: str, *, final_attempt: bool) -> str:
        """Evaluate one patient: the ``watch.evaluate`` task."""
        store, metrics = self.context.store, self.context.metrics
        claim = store.claim(patient_id, _job_token(), time.time(), self._watch.lease_s)
        if claim == ClaimOutcome.BUSY:
            metrics.jobs.labels("evaluate", "busy").inc()
            raise PatientBusy()
        if not isinstance(claim, Claim):
            metrics.jobs.labels("evaluate", "nothing-new").inc()
            return "nothing new"
        try:
            record = self._evaluation(patient_id)
        except Exception as error:
            self._failed("evaluate", patient_id, error, final_attempt)
            store.fail(claim, time.time(), final=final_attempt)
            raise JobFailed(_describe(error)) from None
        finished_at = time.time()
        finished = store.finish(claim, record, finished_at, self._watch.alert_grade)
        metrics.job_latency.observe(max(0.0, finished_at - claim.target))
        metrics.jobs.labels("evaluate", "done").inc()
        if finished.alert_id is not None:
            logger.info(
                "watch alert raised",
                extra={"fields": {"patient": patient_id, "alert": finished.alert_id}},
            )
            self.queue.deliver(finished.alert_id)
        return "alert" if finished.alert_id is not None else "evaluated"

    def _evaluation(self, patient_id: str) -> EvaluationRecord:
        data = self._read(patient_id)
        now = self.context.clock()
        inputs = map_patient_record(
            (data.patient, *data.resources),
            patient_id,
            mapping_options(self.context.settings),
            fhir_server=self.fhir_base,
        )
        assessment = assess(inputs, now, grading_options(self.context.settings))
        partial = any(problem.hides_data for problem in data.problems)
        seen = observe(assessment, partial=partial)
        could_alert = may_alert(seen, self._watch.alert_grade)
        summary = self._card_summary(assessment, data, patient_id) if could_alert else ""
        return EvaluationRecord(
            seen=seen,
            crs_peak_grade=assessment.peak_grade if assessment.in_scope else None,
            evidence=_evidence(assessment),
            summary=summary,
        )

    def _read(self, patient_id: str) -> PatientData:
        endpoint = FhirEndpoint(self.fhir_base, self._token())
        try:
            return self._reader.read(
                templates=PREFETCH_TEMPLATES,
                tokens={"context.patientId": patient_id},
                patient_id=patient_id,
                prefetch={},
                endpoint=endpoint,
                max_resources=self.context.settings.max_resources,
            )
        except FhirDataUnavailable as error:
            if "HTTP 401" in error.diagnostics and self.context.auth is not None:
                self.context.auth.invalidate()  # expired or revoked: a new one next try
            raise JobFailed(
                f"the patient's record could not be read: {error.diagnostics}"
            ) from None

    def _card_summary(self, assessment: Assessment, data: PatientData, patient_id: str) -> str:
        """The patient-view assessment card's summary (SPEC 4b: "payload the summary")."""
        settings = self.context.settings
        plan = plan_treatment(assessment, treatment_options(settings), now=assessment.as_of)
        context = CardContext(
            patient_id=patient_id,
            smart_launch_url=self.smart_link(),
            data_problems=tuple(
                DataProblemNote(p.key, p.message, p.hides_data) for p in data.problems
            ),
        )
        for card in patient_view_cards(assessment, plan, context):
            if EXTENSION_KEY in card.get("extension", {}):
                return str(card.get("summary", ""))
        return ""

    def smart_link(self) -> str:
        """The SMART app's launch URL, naming the EHR (a standalone launch from an alert)."""
        base = smart_launch_url(self.context.settings, self.context.settings.public_url or "")
        return f"{base}?iss={quote(self.fhir_base, safe='')}"

    def _token(self) -> str | None:
        auth = self.context.auth
        if auth is None:
            return None
        try:
            return auth.token()
        except TokenError as error:
            raise JobFailed(str(error)) from None

    # --- deliver ----------------------------------------------------------------------------

    def deliver(self, alert_id: int, *, final_attempt: bool) -> str:
        """Send one alert on every channel not yet sent: the ``watch.deliver`` task."""
        store, metrics = self.context.store, self.context.metrics
        alert = store.claim_alert(alert_id, time.time(), self._watch.lease_s)
        if alert is None:
            metrics.jobs.labels("deliver", "nothing-new").inc()
            return "delivered or held elsewhere"
        content = alert_content(alert, self.smart_link())
        # SPEC 4b: a Communication "and/or" a webhook: each channel is tried whatever another
        # answers (review finding: an EHR answering 503 to the Communication kept the webhook
        # from ever being tried), and each records its own result, so a retry sends only what
        # failed.
        failures: list[str] = []
        for channel in sorted(self._watch.alert_channels):
            if alert.deliveries.get(channel.value, {}).get("status") == "sent":
                continue
            try:
                outcome = self._send(channel, content)
            except (OutboundError, JobFailed) as error:
                description = _describe(error)
                failures.append(f"{channel.value}: {description}")
                at = self.context.clock().isoformat()
                failed = {"status": "failed", "at": at, "error": description}
                store.mark_delivery(alert_id, channel.value, failed)
                continue
            store.mark_delivery(alert_id, channel.value, outcome)
            metrics.alerts_sent.labels(channel.value).inc()
            logger.info(
                "watch alert sent",
                extra={"fields": {"alert": content.key, "channel": channel.value}},
            )
        if failures:
            job_failed = JobFailed("; ".join(failures))
            self._failed("deliver", str(alert_id), job_failed, final_attempt)
            store.fail_delivery(alert_id, time.time(), str(job_failed), final=final_attempt)
            raise job_failed
        store.finish_delivery(alert_id, time.time())
        metrics.jobs.labels("deliver", "done").inc()
        return "delivered"

    def _send(self, channel: AlertChannel, content: AlertContent) -> dict[str, Any]:
        sent_at = self.context.clock().isoformat()
        if channel is AlertChannel.COMMUNICATION:
            return self._send_communication(content, sent_at)
        return self._send_webhook(content, sent_at)

    def _send_communication(self, content: AlertContent, sent_at: str) -> dict[str, Any]:
        system = alert_identifier_system(self.context.settings.public_url)
        resource = communication_resource(content, system, sent_at)
        headers = {
            "Accept": "application/fhir+json",
            "Prefer": "return=minimal",
            **conditional_create_header(system, content.key),
        }
        token = self._token()
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        reply = call(
            self.context.session,
            "POST",
            f"{self.fhir_base}/Communication",
            budget_s=_SEND_BUDGET_S,
            json_body=resource,
            headers=headers,
        )
        if reply.status == 401 and self.context.auth is not None:
            self.context.auth.invalidate()
        if reply.status not in (200, 201):
            raise AnswerRefused(f"Communication POST answered HTTP {reply.status}", reply.status)
        location = reply.headers.get("Location") or reply.headers.get("Content-Location")
        return {
            "status": "sent",
            "at": sent_at,
            "ref": communication_reference(location),
            "existing": reply.status == 200,
        }

    def _send_webhook(self, content: AlertContent, sent_at: str) -> dict[str, Any]:
        url, secret = self._watch.webhook_url, self._watch.webhook_secret
        assert url is not None and secret is not None  # noqa: S101 - settings enforce both
        body = webhook_body(content, self.fhir_base)
        reply = call(
            self.context.session,
            "POST",
            url,
            budget_s=_SEND_BUDGET_S,
            data=body,
            headers={
                "Content-Type": "application/json",
                ALERT_ID_HEADER: content.key,
                SIGNATURE_HEADER: sign_webhook(body, secret),
            },
        )
        if not 200 <= reply.status < 300:
            raise AnswerRefused(f"webhook answered HTTP {reply.status}", reply.status)
        return {"status": "sent", "at": sent_at}

    # --- resolve an id-only focus -----------------------------------------------------------

    def resolve_focus(self, reference: str, *, final_attempt: bool) -> str:
        """Read a notification's focus to find its patient: the ``watch.resolve`` task."""
        headers = {"Accept": "application/fhir+json"}
        try:
            token = self._token()
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            reply = call(
                self.context.session,
                "GET",
                f"{self.fhir_base}/{reference}",
                budget_s=self._watch.fhir_timeout_s,
                headers=headers,
            )
            if reply.status in (404, 410):
                self.context.metrics.jobs.labels("resolve", "gone").inc()
                return "the focus no longer exists"
            if reply.status != 200:
                if reply.status == 401 and self.context.auth is not None:
                    self.context.auth.invalidate()
                raise AnswerRefused(f"GET of the focus answered HTTP {reply.status}", reply.status)
            resource = reply_json(reply)
        except (OutboundError, JobFailed) as error:
            self._failed("resolve", reference, error, final_attempt)
            raise JobFailed(_describe(error)) from None
        patient_id = patient_of(resource, self.fhir_base)
        self.context.metrics.jobs.labels("resolve", "done").inc()
        if patient_id is None:
            return "the focus names no patient"
        self.request(patient_id, "notification")
        return "requested"

    # --- catch up after missed notifications ------------------------------------------------

    def catch_up(self, subscription_id: str, numbers: Sequence[int], *, final_attempt: bool) -> str:
        """After a gap in a Subscription's event numbers: the ``watch.catch-up`` task.

        Still missing after the wait: ask the server for the events (the Backport IG's
        ``$events``, which servers MAY support) and re-read the patients they name; for every
        number the answer does not cover (no answer, or only part of the range: review
        finding), re-read every patient the watch knows to be in scope, the poll list and the
        Subscription's own patient. Only then are the numbers forgotten.
        """
        store = self.context.store
        missing = store.still_missing(subscription_id, numbers)
        if not missing:
            return "the missing notifications arrived"
        answer = self._missed_events(subscription_id, min(missing), max(missing))
        patients: set[str] = set()
        pending: tuple[PendingFocus, ...] = ()
        covered: set[int] = set()
        if answer is not None:
            covered = _covered_numbers(answer, missing)
            patients = set(answer.patients)
            pending = answer.pending
        uncovered = [n for n in missing if n not in covered]
        if uncovered:
            patients |= set(store.in_scope_patients()) | set(self._watch.poll_patients)
            own = store.subscription_patient(subscription_id)
            if own is not None:
                patients.add(own)
        reason = "catch-up" if uncovered else "catch-up-events"
        try:
            for focus in pending:
                self.queue.resolve(focus.reference)
            for patient_id in sorted(patients):
                self.request(patient_id, reason)
        except Exception as error:
            self._failed("catch-up", subscription_id, error, final_attempt)
            raise JobFailed(_describe(error)) from None
        store.forget_missing(subscription_id, missing)
        logger.info(
            "watch catch-up read",
            extra={
                "fields": {
                    "subscription": subscription_id,
                    "missing": len(missing),
                    "byEvents": len(missing) - len(uncovered),
                    "patients": len(patients),
                }
            },
        )
        return f"{len(patients)} patients re-read"

    def _missed_events(self, subscription_id: str, first: int, last: int) -> Notification | None:
        """The server's ``$events`` answer for ``first`` to ``last``; None when it has none."""
        url = (
            f"{self.fhir_base}/Subscription/{subscription_id}/$events"
            f"?eventsSinceNumber={first}&eventsUntilNumber={last}&content=id-only"
        )
        try:
            token = self._token()
            headers = {"Accept": "application/fhir+json"}
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            reply = call(
                self.context.session,
                "GET",
                url,
                budget_s=self._watch.fhir_timeout_s,
                headers=headers,
            )
            if reply.status != 200:
                return None
            return parse_notification(reply_json(reply), self.fhir_base)
        except (OutboundError, JobFailed, BadNotification):
            return None

    # --- recovery ---------------------------------------------------------------------------

    def recover(self) -> Recovered:
        """Queue again what no job will do (lost with a killed worker or a lost queue), and the
        catch-up reads of gaps that no task will read."""
        now = time.time()
        store = self.context.store
        watch = self._watch
        requeue_after = lost_after_s(watch)
        patients = store.recoverable_patients(now, requeue_after)
        for patient_id in patients:
            self.queue.evaluate(patient_id)
        alerts = store.recoverable_alerts(now, alert_lost_after_s(watch))
        for alert_id in alerts:
            self.queue.deliver(alert_id)
        # A gap whose catch-up could not be scheduled, or was lost with the queue (review
        # finding: the EHR's resend of the notification found nothing new to schedule).
        gaps = store.recoverable_gaps(now, watch.gap_wait_s, requeue_after)
        for subscription_id, numbers in gaps:
            self.queue.catch_up(subscription_id, numbers, 0)  # the gap wait is over
        recovered = Recovered(len(patients), len(alerts), len(gaps))
        if any(recovered):
            logger.warning(
                "watch recovery queued lost work",
                extra={
                    "fields": {
                        "patients": recovered.patients,
                        "alerts": recovered.alerts,
                        "catchUps": recovered.catch_ups,
                    }
                },
            )
        return recovered

    # --- failures ---------------------------------------------------------------------------

    def _failed(self, task: str, subject: str, error: BaseException, final: bool) -> None:
        metrics = self.context.metrics
        metrics.failures.labels(task).inc()
        description = _describe(error)
        logger.warning(
            "watch job failed",
            extra={
                "fields": {
                    "task": task,
                    "subject": subject,
                    "error": description,
                    "final": final,
                }
            },
        )
        if final:
            metrics.jobs.labels(task, "dead").inc()
            self.context.store.add_dead_letter(
                task if task != "deliver" else "alert",
                subject,
                description,
                attempts=self._watch.retries + 1,
                at=self.context.clock(),
            )


def _job_token() -> str:
    """Who holds a patient: host, process and a random part (``watch_patients.claimed_by``),
    so that an operator sees which worker holds whom."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:16]}"


def _describe(error: BaseException) -> str:
    """A failure in words without patient data: our own errors' messages, else the type."""
    if isinstance(error, JobFailed | OutboundError | TokenError):
        return str(error)
    return type(error).__name__


def _covered_numbers(answer: Notification, missing: Sequence[int]) -> set[int]:
    """The missing event numbers whose event the ``$events`` answer holds and that say whose
    data changed (a focus, or a Patient as context); an event without either, or a number the
    answer left out, is not covered."""
    wanted = set(missing)
    return {
        event.number
        for event in answer.events
        if event.number is not None
        and event.number in wanted
        and (event.focus is not None or any(c.startswith("Patient/") for c in event.context))
    }


def _evidence(assessment: Assessment) -> tuple[str, ...]:
    """References behind the current CRS and ICANS grades and the infection warnings."""
    if not assessment.in_scope:
        return ()
    drivers = (*assessment.current.drivers, *assessment.icans.current.drivers)
    references = [ref for driver in drivers for ref in driver.evidence]
    references += [ref for warning in assessment.attribution_warnings for ref in warning.evidence]
    return evidence_of(references)
