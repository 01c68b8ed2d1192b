"""Facts about the patient that both the algorithm and the order checks decide on.

One place for: who counts as older or comorbid at grade 2 (seed Figure 2), the tocilizumab
history and whether another dose is allowed now (seed Tocilizumab section, label), and the
infection signals with the seed's sepsis caution (SPEC 2.7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from crs_grading import wording
from crs_grading.assessment import Assessment, AttributionWarning
from crs_grading.criteria import RedoseRule
from crs_grading.inputs import Immunosuppressant, ImmunosuppressantDose
from crs_grading.tables.sources import RuleSource
from crs_grading.tables.treatment import ICANS_ALONE_MAX_CRS_GRADE, ICANS_CORTICOSTEROID_GRADE
from crs_grading.treatment.options import TreatmentOptions
from crs_grading.wording.phrases import CAUTION, REDOSE, REDOSE_BRIEF


@dataclass(frozen=True, slots=True)
class RiskFactors:
    """Older age and significant comorbidity: grade 2 immunosuppression [seed Figure 2]."""

    age_years: float | None
    older: bool
    comorbidities: tuple[str, ...]
    evidence: tuple[str, ...]

    @property
    def present(self) -> bool:
        return self.older or bool(self.comorbidities)

    @property
    def age_unknown(self) -> bool:
        return self.age_years is None

    def describe(self) -> str:
        """ "older age (70 y) and a significant comorbidity (heart failure)"."""
        parts = []
        if self.older and self.age_years is not None:
            parts.append(f"older age ({wording.age(self.age_years)})")
        if self.comorbidities:
            parts.append(f"a significant comorbidity ({', '.join(self.comorbidities)})")
        return wording.join_words(parts)


def icans_alone(assessment: Assessment) -> bool:
    """SPEC 2.9: ICANS >= 2 while CRS calls for no immunosuppression of its own (grade <= 1):
    the picture is encephalopathy, not hypotension, and dexamethasone is the ICANS treatment."""
    return (
        assessment.icans.grade >= ICANS_CORTICOSTEROID_GRADE
        and assessment.grade <= ICANS_ALONE_MAX_CRS_GRADE
    )


def risk_factors(assessment: Assessment, options: TreatmentOptions) -> RiskFactors:
    """Whether the patient is older (age >= ``older_age_years``) or has an active significant
    comorbidity (the grader's ``Assessment.comorbidities``; inactive ones do not count)."""
    age_years = assessment.age_years
    older = age_years is not None and age_years >= options.older_age_years
    active = tuple(c for c in assessment.comorbidities if c.active)
    names = tuple(dict.fromkeys(c.name for c in active))
    return RiskFactors(
        age_years=age_years,
        older=older,
        comorbidities=names,
        evidence=tuple(c.reference for c in active),
    )


def tocilizumab_doses(assessment: Assessment) -> tuple[ImmunosuppressantDose, ...]:
    """Tocilizumab doses given (since day 0, and in the 24 h before it), oldest first."""
    doses = (
        d for d in assessment.immunosuppressants_given if d.agent is Immunosuppressant.TOCILIZUMAB
    )
    return tuple(sorted(doses, key=lambda dose: dose.time))


@dataclass(frozen=True, slots=True)
class RedoseBlock:
    """The rule that blocks another tocilizumab dose now, with its words.

    ``text`` is the full sentence (order checks: it names the last dose); ``short`` the plan's
    form, which leaves the given doses to the ``already-given`` advice (each fact once);
    ``brief`` the fewest words, for a card short of room.
    """

    rule: RedoseRule
    text: str
    short: str
    source: RuleSource
    brief: str


@dataclass(frozen=True, slots=True)
class TocilizumabStatus:
    """Tocilizumab given so far and whether another dose is blocked now."""

    doses: tuple[ImmunosuppressantDose, ...]
    block: RedoseBlock | None
    reassess_at: datetime | None  # last dose + reassess_after, when that is still ahead

    @property
    def given(self) -> bool:
        return bool(self.doses)

    @property
    def last(self) -> ImmunosuppressantDose | None:
        return self.doses[-1] if self.doses else None

    def since_last(self, now: datetime) -> timedelta | None:
        return None if self.last is None else now - self.last.time


def tocilizumab_status(
    assessment: Assessment, options: TreatmentOptions, now: datetime
) -> TocilizumabStatus:
    """The tocilizumab history at ``now`` and the first rule, if any, that blocks another dose.

    Checked in order of strength: the dose count [label], the 8 h interval [label], then the 24 h
    reassessment [seed]. The reassessment time is reported whenever it is still ahead.
    """
    doses = tocilizumab_doses(assessment)
    if not doses:
        return TocilizumabStatus((), None, None)
    zone = assessment.timezone
    last = doses[-1]
    elapsed = now - last.time
    reassess_at = last.time + options.reassess_after
    words = {
        "count": len(doses),
        "limit": options.max_tocilizumab_doses,
        "last": f"{wording.ago(last.time, now)} ({wording.clock(last.time, zone)})",
        "interval": wording.duration(options.min_redose_interval),
        "earliest": wording.clock(last.time + options.min_redose_interval, zone),
        "reassess": wording.duration(options.reassess_after),
        "at": wording.clock(reassess_at, zone),
    }
    rule: RedoseRule | None = None
    source = RuleSource.TOCILIZUMAB_USPI
    if len(doses) >= options.max_tocilizumab_doses:
        rule = RedoseRule.TOO_MANY_DOSES
    elif elapsed < options.min_redose_interval:
        rule = RedoseRule.TOO_SOON
    elif elapsed < options.reassess_after:
        rule, source = RedoseRule.BEFORE_REASSESSMENT, RuleSource.SEED_TOCILIZUMAB
    block = None
    if rule is not None:
        short, full = REDOSE[rule]
        block = RedoseBlock(
            rule,
            full.format(**words),
            short.format(**words),
            source,
            REDOSE_BRIEF[rule].format(**words),
        )
    return TocilizumabStatus(
        doses=doses,
        block=block,
        reassess_at=reassess_at if elapsed < options.reassess_after else None,
    )


def infection_signals(assessment: Assessment) -> tuple[AttributionWarning, ...]:
    """The four SPEC 2.7 warnings that make an immunosuppression suggestion critical."""
    return tuple(w for w in assessment.attribution_warnings if w.is_infection_signal)


def signal_names(signals: tuple[AttributionWarning, ...]) -> str:
    """ "positive blood culture and neutropenia"."""
    names = tuple(dict.fromkeys(wording.WARNING_NAMES[w.code] for w in signals))
    return wording.join_words(names)


def sepsis_caution(signals: tuple[AttributionWarning, ...]) -> str:
    """The seed's caution when infection signals meet an immunosuppression suggestion."""
    return CAUTION.format(signals=signal_names(signals))
