"""Checks of a draft order of a CRS-directed drug against the algorithm (order-select, -sign).

``check_draft_order`` looks at one draft order of tocilizumab, a corticosteroid (dexamethasone,
methylprednisolone, hydrocortisone), anakinra or siltuximab and returns its findings, most severe
first. Every finding has a stable code (``OrderFindingCode``; ``docs/treatment.md``) and the
severity ``crs_grading.tables.treatment.ORDER_FINDINGS`` gives it:

- dose: ``dose-above-maximum`` (critical), ``dose-off-protocol``, ``dose-unchecked-no-weight``,
  ``dose-unchecked-no-age``, ``dose-unreadable`` (warning), ``dose-no-protocol`` (info);
- route: ``route-not-intravenous`` (warning, tocilizumab);
- indication: ``indication-grade-too-low`` (warning), ``indication-grade-2-without-risk``,
  ``corticosteroid-second-line``, ``other-agent-not-routine`` (info);
  ``tocilizumab-for-icans-without-crs`` (warning): tocilizumab at CRS grade <= 1 with ICANS
  (SPEC 2.9); a corticosteroid at ICANS grade >= 2 and CRS grade <= 2 is not flagged for its
  indication (it is the ICANS treatment);
- tocilizumab redosing: ``too-many-doses``, ``redose-too-soon`` (critical),
  ``redose-before-reassessment`` (warning), ``redose-below-grade-3`` (info);
- attribution: ``infection-could-explain`` (critical), and each other attribution warning under
  its own code (``late-onset`` warning, ``masked-fever`` info).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from crs_grading import wording
from crs_grading.assessment import Assessment
from crs_grading.criteria import OrderFindingCode, Severity
from crs_grading.inputs import DoseBasis, DraftMedicationOrder, Immunosuppressant
from crs_grading.tables import windows
from crs_grading.tables.sources import RuleSource
from crs_grading.tables.treatment import (
    DOSE_TABLE,
    ICANS_ALONE_MAX_CRS_GRADE,
    ICANS_CORTICOSTEROID_GRADE,
    ORDER_FINDINGS,
    TOCILIZUMAB_INFUSION,
)
from crs_grading.treatment._context import (
    icans_alone,
    infection_signals,
    risk_factors,
    tocilizumab_status,
)
from crs_grading.treatment.dosing import (
    DoseCalculation,
    compute_dose,
    has_protocol_dose,
    round_half_up,
)
from crs_grading.treatment.model import OrderFinding
from crs_grading.treatment.options import TreatmentOptions
from crs_grading.wording import phrases

__all__ = ["check_draft_order", "check_draft_orders"]

_TOCILIZUMAB = Immunosuppressant.TOCILIZUMAB
_F = OrderFindingCode

#: The corticosteroids with a dose in the table: dexamethasone, methylprednisolone.
_CORTICOSTEROIDS = (Immunosuppressant.DEXAMETHASONE, Immunosuppressant.METHYLPREDNISOLONE)

_INTRAVENOUS = re.compile(r"\bintravenous|\bi\.?v\b", re.IGNORECASE)


def check_draft_orders(
    orders: Sequence[DraftMedicationOrder],
    assessment: Assessment,
    options: TreatmentOptions | None = None,
    *,
    now: datetime | None = None,
    crs_graded: bool = True,
    unread_infection_data: tuple[str, ...] = (),
) -> tuple[tuple[OrderFinding, ...], ...]:
    """The findings on each draft order of one call, in the orders' order.

    Tocilizumab drafts signed together are doses given together: each after the first is
    checked as a further dose at the same moment (found in review: two 222 mg drafts in one
    call were each checked as the first dose).
    """
    results = []
    drafts_before = 0
    for order in orders:
        results.append(
            check_draft_order(
                order,
                assessment,
                options,
                now=now,
                drafts_before=drafts_before,
                crs_graded=crs_graded,
                unread_infection_data=unread_infection_data,
            )
        )
        if order.agent is _TOCILIZUMAB:
            drafts_before += 1
    return tuple(results)


def check_draft_order(
    order: DraftMedicationOrder,
    assessment: Assessment,
    options: TreatmentOptions | None = None,
    *,
    now: datetime | None = None,
    drafts_before: int = 0,
    crs_graded: bool = True,
    unread_infection_data: tuple[str, ...] = (),
) -> tuple[OrderFinding, ...]:
    """The findings on one draft order, most severe first (``now`` defaults to ``as_of``).

    ``drafts_before``: tocilizumab drafts before this one in the same call (``check_draft_orders``).
    ``unread_infection_data``: as for ``plan_treatment``, no correction is preselected.
    With ``crs_graded=False`` (a patient whose CRS could not be graded: the therapy may be in
    data that could not be read) only the checks that need neither the grade nor day 0 are
    made: the dose against weight, age and the maximum, and the route. The indication, the
    tocilizumab history and the attribution warnings all hang on the grade or on day 0."""
    options = options or TreatmentOptions()
    now = assessment.as_of if now is None else now
    check = _OrderCheck(order, assessment, options, now, drafts_before)
    if unread_infection_data:
        check.preselect = False  # as ``plan_treatment``: no signal could be seen
    check.dose()
    check.route()
    if crs_graded:
        check.indication()
        check.redosing()
        check.attribution()
    return tuple(sorted(check.findings, key=lambda finding: -finding.severity.rank))


class _OrderCheck:
    def __init__(
        self,
        order: DraftMedicationOrder,
        assessment: Assessment,
        options: TreatmentOptions,
        now: datetime,
        drafts_before: int = 0,
    ) -> None:
        self.order = order
        self.drafts_before = drafts_before
        self.drug = order.agent
        self.assessment = assessment
        self.options = options
        self.now = now
        self.findings: list[OrderFinding] = []
        self.protocol_dose: DoseCalculation | None = None  # set by ``dose``
        # SPEC 2.7: never preselect immunosuppression, even a dose correction, when infection
        # could explain the picture.
        self.preselect = not infection_signals(assessment)

    def _find(
        self,
        code: OrderFindingCode,
        text: str,
        source: RuleSource,
        *,
        corrected_dose_mg: int | None = None,
        evidence: tuple[str, ...] = (),
        severity: Severity | None = None,
    ) -> None:
        """Record a finding; its severity is the table's unless a rule says otherwise."""
        self.findings.append(
            OrderFinding(
                severity=ORDER_FINDINGS[code] if severity is None else severity,
                code=code,
                summary=self._summary(code, text, corrected_dose_mg),
                text=text,
                source=source,
                drug=self.drug,
                order_reference=self.order.reference,
                corrected_dose_mg=corrected_dose_mg,
                evidence=evidence,
                protocol_dose=self.protocol_dose if corrected_dose_mg is not None else None,
                preselect_correction=self.preselect,
            )
        )

    def _summary(self, code: OrderFindingCode, text: str, corrected: int | None) -> str:
        """The finding in under 140 characters, in the words of its code (``phrases``)."""
        options = self.options
        grade = self.assessment.grade
        words = {
            "Drug": wording.capitalised(str(self.drug)),
            "drug": str(self.drug),
            "protocol": f": protocol dose {corrected} mg" if corrected is not None else "",
            "tolerance": wording.number(options.dose_tolerance * 100),
            "infusion": wording.duration(TOCILIZUMAB_INFUSION),
            "grade": str(grade),
            "icans": str(self.assessment.icans.grade),
            "limit": str(options.max_tocilizumab_doses),
            "interval": wording.duration(options.min_redose_interval),
            "reassess": wording.duration(options.reassess_after),
            "days": str(windows.LATE_ONSET_DAYS),
        }
        written, in_mg = self._written()
        maximum = self._maximum_mg()
        if code is _F.DOSE_ABOVE_MAXIMUM and written and maximum is not None:
            dose = f"; protocol dose {corrected} mg" if corrected is not None else ""
            template = phrases.ABOVE_MAXIMUM
            words |= {"written": written, "maximum": str(maximum), "protocol_dose": dose}
        elif code is _F.DOSE_OFF_PROTOCOL and written and in_mg is not None and corrected:
            percent = round_half_up(Decimal(abs(in_mg - corrected) * 100 / corrected))
            direction = "above" if in_mg > corrected else "below"
            template = phrases.OFF_PROTOCOL
            words |= {
                "written": written,
                "percent": str(percent),
                "direction": direction,
                "target": str(corrected),
            }
        elif code is _F.INDICATION_GRADE_TOO_LOW and grade <= 0:
            template = phrases.NO_CRITERIA
        elif code is _F.INFECTION_COULD_EXPLAIN and icans_alone(self.assessment):
            template = phrases.INFECTION_SUMMARY_ICANS
        else:
            template = phrases.FINDING_SUMMARIES[code]
        return wording.fit_summary(template.format(**words))

    def _written(self) -> tuple[str, float | None]:
        """The ordered dose as written ("400 mg", "6 mg/kg") and in mg when it can be had."""
        order = self.order
        value, basis = order.dose_value, order.dose_basis
        if value is None or basis is None or not math.isfinite(value):
            return "", None
        in_mg: float | None = value
        if basis is DoseBasis.MG:
            written = f"{wording.number(value, 2)} mg"
        else:
            weight = self.assessment.weight
            in_mg = value * weight.value if weight is not None and weight.value > 0 else None
            written = f"{wording.number(value, 2)} mg/kg"
        per_day = self._daily_doses()
        if per_day is not None:  # compared by the daily total (``dose``)
            written = f"{written} x {wording.number(per_day, 2)} a day"
            in_mg = None if in_mg is None else in_mg * per_day
        return written, in_mg

    def _daily_doses(self) -> float | None:
        """The order's doses a day when a daily protocol dose (methylprednisolone 2 mg/kg/day)
        is compared with the order's daily total; None when the single dose is compared (a
        per-dose protocol, no timing read, or a count of 1: one dose whatever the schedule)."""
        protocol, order = self.protocol_dose, self.order
        if protocol is None or not protocol.per_day or order.dose_count == 1:
            return None
        return order.doses_per_day

    def _maximum_mg(self) -> int | None:
        rows = [row for row in DOSE_TABLE if row.drug is self.drug]
        return rows[0].maximum_mg if rows else None

    # -- dose ---------------------------------------------------------------------------------

    def dose(self) -> None:
        """Against the protocol dose and its maximum (SPEC 2.6; 10% tolerance, issue 4)."""
        drug = self.drug
        if not has_protocol_dose(drug):
            self._no_protocol_dose()
            return
        protocol = compute_dose(
            drug,
            self.options.protocol,
            weight=self.assessment.weight,
            age_years=self.assessment.age_years,
        )
        self.protocol_dose = protocol
        value, basis = self.order.dose_value, self.order.dose_basis
        if value is None and self._range_above_maximum(protocol):
            return
        if value is None or basis is None or not math.isfinite(value) or value <= 0:
            self._find(
                _F.DOSE_UNREADABLE,
                f"The dose of this {drug} order could not be read; check it against the "
                f"protocol: {protocol.text}.",
                protocol.source,
                corrected_dose_mg=protocol.dose_mg,
            )
            return
        ordered = wording.exact_decimal(value)
        weight_kg = protocol.weight_kg
        ordered_mg: Decimal | None = ordered
        ordered_text = f"{wording.number(ordered)} mg"
        if basis is DoseBasis.MG_PER_KG:
            ordered_text = f"{wording.number(ordered)} mg/kg"
            ordered_mg = None if weight_kg is None else ordered * weight_kg
            if ordered_mg is not None and weight_kg is not None:
                ordered_text += (
                    f" (= {wording.number(ordered_mg)} mg for {wording.number(weight_kg)} kg)"
                )
        evidence = () if protocol.weight_reference is None else (protocol.weight_reference,)
        per_day = self._daily_doses()
        daily = per_day is not None
        if per_day is not None:
            # A daily protocol dose (methylprednisolone 2 mg/kg/day) against the order's daily
            # total: 55 mg every 12 h is 110 mg a day, not 55 (found in review: the correction
            # of a split dose doubled it).
            times = wording.exact_decimal(per_day)
            ordered *= times
            ordered_mg = None if ordered_mg is None else ordered_mg * times
            ordered_text += f", {wording.number(times, 2)} doses a day"
            if ordered_mg is not None:
                ordered_text += f" (= {wording.number(ordered_mg)} mg per day)"

        maximum = protocol.maximum_mg
        if ordered_mg is not None and maximum is not None and ordered_mg > maximum:
            corrected = (
                f" The protocol dose is {protocol.text}."
                if protocol.dose_mg is not None
                else f" {protocol.missing}: order no more than {maximum} mg."
            )
            self._find(
                _F.DOSE_ABOVE_MAXIMUM,
                f"{drug} {ordered_text} is above the maximum of {maximum} mg per dose." + corrected,
                protocol.maximum_source or protocol.source,
                corrected_dose_mg=protocol.dose_mg,
                evidence=evidence,
            )
            return

        if weight_kg is None:
            self._find(
                _F.DOSE_UNCHECKED_NO_WEIGHT,
                f"{protocol.missing}: this {drug} dose ({ordered_text}) cannot be checked against "
                f"the weight-based protocol ({protocol.rule}).",
                protocol.source,
            )
            rate = protocol.rate
            if basis is DoseBasis.MG_PER_KG and rate is not None:
                unit = "mg/kg/day" if daily else "mg/kg"
                self._compare(ordered, rate, ordered_text, protocol, unit=unit, daily=daily)
            return
        if (
            protocol.dose_mg is None
            and protocol.unrounded_mg is not None
            and ordered_mg is not None
        ):
            # The protocol dose rounds to 0 mg (under 1 kg): compare with the exact dose.
            self._compare(
                ordered_mg,
                protocol.unrounded_mg,
                ordered_text,
                protocol,
                unit="mg",
                evidence=evidence,
                daily=daily,
            )
            return
        if protocol.dose_mg is None or ordered_mg is None:
            self._find(
                _F.DOSE_UNCHECKED_NO_AGE,
                f"{protocol.missing}: this {drug} dose ({ordered_text}) cannot be checked "
                f"({protocol.rule}).",
                protocol.source,
                evidence=evidence,
            )
            return
        self._compare(
            ordered_mg,
            Decimal(protocol.dose_mg),
            ordered_text,
            protocol,
            unit="mg",
            evidence=evidence,
            daily=daily,
        )

    def _range_above_maximum(self, protocol: DoseCalculation) -> bool:
        """A dose range whose upper end is above the maximum dose [label: 800 mg]: critical,
        as a single dose above it is (found in review: "400-1200 mg" was only "unreadable")."""
        high, basis, maximum = self.order.dose_high, self.order.dose_basis, protocol.maximum_mg
        if high is None or basis is None or maximum is None or not math.isfinite(high):
            return False
        high_mg = written = wording.exact_decimal(high)
        unit = "mg"
        if basis is DoseBasis.MG_PER_KG:
            if protocol.weight_kg is None:
                return False
            unit, high_mg = "mg/kg", written * protocol.weight_kg
        if high_mg <= maximum:
            return False
        shown = f"{wording.number(written)} {unit}"
        if basis is DoseBasis.MG_PER_KG:
            shown += f" (= {wording.number(high_mg)} mg)"
        dose = (
            f" The protocol dose is {protocol.text}."
            if protocol.dose_mg is not None
            else f" {protocol.missing}: order no more than {maximum} mg."
        )
        evidence = () if protocol.weight_reference is None else (protocol.weight_reference,)
        self._find(
            _F.DOSE_ABOVE_MAXIMUM,
            f"This {self.drug} order gives a dose range up to {shown}, above the maximum of "
            f"{maximum} mg per dose." + dose,
            protocol.maximum_source or protocol.source,
            corrected_dose_mg=protocol.dose_mg,
            evidence=evidence,
        )
        return True

    def _compare(
        self,
        ordered: Decimal,
        target: Decimal,
        ordered_text: str,
        protocol: DoseCalculation,
        *,
        unit: str,
        evidence: tuple[str, ...] = (),
        daily: bool = False,
    ) -> None:
        """A warning when ``ordered`` is more than the tolerance away from ``target``
        (``daily``: both are daily totals, the order's timing read)."""
        difference = ordered - target
        if abs(difference) <= self.options.dose_tolerance * target:
            return
        percent = round_half_up(abs(difference) / target * 100)
        direction = "above" if difference > 0 else "below"
        per_day = ""
        if protocol.per_day and not daily:
            per_day = (
                " The protocol dose is per day; if this order is one of several daily doses, "
                "compare the daily total."
            )
        tolerance = wording.number(self.options.dose_tolerance * 100)
        self._find(
            _F.DOSE_OFF_PROTOCOL,
            f"{self.drug} {ordered_text} is {percent}% {direction} the protocol dose "
            f"({wording.number(target)} {unit}; more than {tolerance}% off): "
            f"{protocol.text}.{per_day}",
            protocol.source,
            corrected_dose_mg=protocol.dose_mg,
            evidence=evidence,
        )

    def _no_protocol_dose(self) -> None:
        if self.drug is Immunosuppressant.HYDROCORTISONE:
            text = (
                "Lee 2014 gives no hydrocortisone dose for CRS (it mentions stress doses for "
                "patients with chronic corticosteroid exposure); the dose is not checked."
            )
            source = RuleSource.SEED_CORTICOSTEROIDS
        else:
            text = f"Lee 2014 gives no {self.drug} dose for CRS; the dose is not checked."
            source = RuleSource.SEED_OTHER_AGENTS
        self._find(_F.DOSE_NO_PROTOCOL, text, source)

    # -- route --------------------------------------------------------------------------------

    def route(self) -> None:
        """Tocilizumab for CRS is an IV infusion [seed: over 1 hour; label: IV only for CRS]."""
        route = self.order.route
        if self.drug is not _TOCILIZUMAB or route is None or _INTRAVENOUS.search(route):
            return
        self._find(
            _F.ROUTE_NOT_INTRAVENOUS,
            f"Tocilizumab for CRS is given intravenously over "
            f"{wording.duration(TOCILIZUMAB_INFUSION)}; this order's route is '{route}'.",
            RuleSource.TOCILIZUMAB_USPI,
        )

    # -- indication ---------------------------------------------------------------------------

    def indication(self) -> None:
        """The drug against the CRS grade [seed Figure 2; SPEC 2.6] and the ICANS grade
        [SPEC 2.9]."""
        drug = self.drug
        assessment = self.assessment
        grade = assessment.grade
        icans = assessment.icans.grade
        if drug in (Immunosuppressant.ANAKINRA, Immunosuppressant.SILTUXIMAB):
            self._other_agent_note()
        if grade >= 5:
            return
        if drug is _TOCILIZUMAB and icans >= 1 and grade <= ICANS_ALONE_MAX_CRS_GRADE:
            self._tocilizumab_for_icans()
            return
        if drug in _CORTICOSTEROIDS and icans >= ICANS_CORTICOSTEROID_GRADE and grade <= 2:
            return  # the ICANS treatment (SPEC 2.9); at grade 3-4 the seed's rule applies
        if grade <= 1:
            now_text = (
                "No CRS criteria are met now (grade 0)"
                if grade <= 0
                else "Grade 1 CRS: the algorithm calls for symptomatic treatment only"
            )
            stress = ""
            severity = None
            if drug is Immunosuppressant.HYDROCORTISONE:
                # A stress dose for chronic corticosteroid exposure is no CRS treatment [seed].
                stress = " A stress dose for chronic corticosteroid exposure is another matter."
                severity = Severity.INFO
            self._find(
                _F.INDICATION_GRADE_TOO_LOW,
                f"{now_text}; immunosuppression such as {drug} is for grade 3 or 4 CRS, or grade "
                f"2 in older or comorbid patients.{stress}",
                RuleSource.SEED_FIGURE_2,
                severity=severity,
            )
            return
        if grade == 2:
            risk = risk_factors(assessment, self.options)
            if risk.present:
                return
            who = (
                "the age is unknown"
                if risk.age_years is None
                else f"the patient is {wording.age(risk.age_years)}"
            )
            self._find(
                _F.INDICATION_GRADE_2_WITHOUT_RISK,
                "Grade 2 CRS: immunosuppression at grade 2 is for older patients and those with "
                f"significant comorbidities; {who} and no significant comorbidity is recorded.",
                RuleSource.SEED_FIGURE_2,
            )
            return
        if drug in (Immunosuppressant.DEXAMETHASONE, Immunosuppressant.METHYLPREDNISOLONE):
            self._corticosteroid_line()

    def _tocilizumab_for_icans(self) -> None:
        """SPEC 2.9: ICANS without CRS of grade 2 or more is no indication for tocilizumab, which
        does not cross the blood-brain barrier [seed text]; ICANS >= 2 gets dexamethasone."""
        assessment = self.assessment
        icans = assessment.icans
        crs = (
            "No CRS criteria are met now (grade 0)"
            if assessment.grade <= 0
            else "Grade 1 CRS calls for symptomatic treatment only"
        )
        drivers = "; ".join(d.text for d in icans.current.drivers)
        if icans.grade >= ICANS_CORTICOSTEROID_GRADE:
            instead = "ICANS of grade 2 or more is treated with a corticosteroid (dexamethasone)"
        else:
            instead = "a corticosteroid (dexamethasone) is suggested from ICANS grade 2"
        evidence = tuple(dict.fromkeys(ref for d in icans.current.drivers for ref in d.evidence))
        self._find(
            _F.TOCILIZUMAB_FOR_ICANS,
            f"{crs}, and ICANS is grade {icans.grade} ({drivers}): tocilizumab does not cross "
            f"the blood-brain barrier and does not treat ICANS; {instead}.",
            RuleSource.ICANS_CORTICOSTEROID,
            evidence=evidence,
        )

    def _corticosteroid_line(self) -> None:
        """Corticosteroids are second line at grade 3-4 unless the algorithm puts them first."""
        assessment = self.assessment
        if assessment.neurologic_findings and not assessment.vasopressor_in_window:
            return  # dexamethasone first line [seed neurologic dysfunction]
        elapsed = tocilizumab_status(assessment, self.options, self.now).since_last(self.now)
        if elapsed is not None and elapsed >= self.options.reassess_after:
            return  # the second agent after 24 h without improvement [seed Tocilizumab]
        self._find(
            _F.CORTICOSTEROID_SECOND_LINE,
            "Lee 2014 considers corticosteroids second line: tocilizumab first, a "
            "corticosteroid first only with neurologic dysfunction and no significant "
            "hemodynamic instability, or added when CRS has not improved "
            f"{wording.duration(self.options.reassess_after)} after tocilizumab. Some "
            "physicians use corticosteroids first or with tocilizumab.",
            RuleSource.SEED_CORTICOSTEROIDS,
        )

    def _other_agent_note(self) -> None:
        if self.drug is Immunosuppressant.ANAKINRA:
            text = (
                "Lee 2014 names IL-1 inhibitors such as anakinra among other agents that have "
                "been used for CRS but are not routinely used; its treatment is tocilizumab "
                "with or without corticosteroids."
            )
        else:
            text = (
                "Lee 2014 does not name siltuximab: it names anti-TNF and IL-1 inhibitors as "
                "other agents not routinely used, and tocilizumab with or without "
                "corticosteroids as its treatment."
            )
        self._find(_F.OTHER_AGENT_NOT_ROUTINE, text, RuleSource.SEED_OTHER_AGENTS)

    # -- tocilizumab redosing -----------------------------------------------------------------

    def redosing(self) -> None:
        """Dose count and interval [label], reassessment at 24 h [seed]."""
        if self.drug is not _TOCILIZUMAB:
            return
        status = tocilizumab_status(self.assessment, self.options, self.now)
        evidence = tuple(dose.reference for dose in status.doses)
        if status.block is not None:
            self._find(
                _F(status.block.rule),
                f"This would be tocilizumab dose {len(status.doses) + 1}: {status.block.text}.",
                status.block.source,
                evidence=evidence,
            )
            return
        if self._doses_in_this_call(len(status.doses), evidence):
            return
        last = status.last
        if last is not None and self.assessment.grade == 2:
            self._find(
                _F.REDOSE_BELOW_GRADE_3,
                f"Tocilizumab was given {wording.ago(last.time, self.now)} "
                f"({wording.clock(last.time, self.assessment.timezone)}); a second dose is for "
                f"grade 3 or higher persisting {wording.duration(self.options.reassess_after)} "
                "after the dose, and the grade is now 2.",
                RuleSource.SEED_TOCILIZUMAB,
                evidence=evidence,
            )

    def _doses_in_this_call(self, given: int, evidence: tuple[str, ...]) -> bool:
        """Doses this order adds beyond one, or beside another tocilizumab draft of the call
        [label: at most 4 doses, at least 8 h apart; seed: a second dose only for CRS not
        improved 24 h after the first]. True when it found one."""
        options, order = self.options, self.order
        per_day, count, interval = order.doses_per_day, order.dose_count, order.dose_interval
        repeats = count > 1 if count is not None else per_day is not None and per_day > 1
        if not self.drafts_before and not repeats:
            return False
        held = (count if count is not None else 2) if repeats else 1  # a standing order: 2+
        total = given + self.drafts_before + held
        parts = []
        if repeats:
            every = f" every {wording.duration(interval)}" if interval else ""
            parts.append(
                f"holds {f'{count} doses' if count is not None else 'repeated doses'}{every}"
            )
        if self.drafts_before:
            others = (
                "another tocilizumab order"
                if self.drafts_before == 1
                else f"{self.drafts_before} other tocilizumab orders"
            )
            parts.append(f"is signed together with {others}")
        schedule = "This order " + ", and ".join(parts)
        limit = options.max_tocilizumab_doses
        if total > limit:
            self._find(
                _F.TOO_MANY_DOSES,
                f"{schedule}: with {given} given, that is more than the {limit} doses in all "
                "the tocilizumab label allows.",
                RuleSource.TOCILIZUMAB_USPI,
                evidence=evidence,
            )
            return True
        minimum = options.min_redose_interval
        if self.drafts_before or (interval is not None and interval < minimum):
            self._find(
                _F.REDOSE_TOO_SOON,
                f"{schedule}: doses at least {wording.duration(minimum)} apart (tocilizumab "
                "label); order one dose and reassess.",
                RuleSource.TOCILIZUMAB_USPI,
                evidence=evidence,
            )
            return True
        self._find(
            _F.REDOSE_BEFORE_REASSESSMENT,
            f"{schedule}: a second dose is for CRS that has not improved "
            f"{wording.duration(options.reassess_after)} after the first (Lee 2014); order one "
            "dose and reassess.",
            RuleSource.SEED_TOCILIZUMAB,
            evidence=evidence,
        )
        return True

    # -- attribution --------------------------------------------------------------------------

    def attribution(self) -> None:
        """Every attribution warning shows on the order (SPEC 2.7), infection signals critical."""
        signals = infection_signals(self.assessment)
        if signals:
            evidence = tuple(dict.fromkeys(ref for w in signals for ref in w.evidence))
            details = "; ".join(w.text for w in signals)
            caution = (
                phrases.CAUTION_ORDER_ICANS
                if icans_alone(self.assessment)
                else phrases.CAUTION_ORDER
            )
            self._find(
                _F.INFECTION_COULD_EXPLAIN,
                caution.format(signals=details),
                RuleSource.SEED_ATTRIBUTION,
                evidence=evidence,
            )
        for warning in self.assessment.attribution_warnings:
            if warning.is_infection_signal:
                continue
            self._find(
                _F(warning.code),
                _sentence(warning.text),
                RuleSource.SEED_ATTRIBUTION,
                evidence=warning.evidence,
            )


def _sentence(text: str) -> str:
    """``text`` as a sentence: first letter upper case, a full stop at the end."""
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."
