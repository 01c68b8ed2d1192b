"""What every card shares: sources, links, override reasons, uuids and the card skeleton.

Card fields follow CDS Hooks 2.0.1 (Card, Source, Link, overrideReasons) and SPEC section 4.
Every code of ``OVERRIDE_REASONS`` is public: feedback joins on it, so a code is never renamed
(``docs/cards.md`` lists them).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crs_grading.treatment import RuleSource, Severity

__all__ = [
    "DOI_URL",
    "LABEL_URL",
    "OVERRIDE_REASONS",
    "OVERRIDE_SYSTEM",
    "SEED_LABEL",
    "CardContext",
    "DataProblemNote",
    "card",
    "links",
    "override_reasons",
    "rule_source",
    "seed_source",
]

#: The seed paper (Lee et al., Blood 2014): the source of the grading and the algorithm.
SEED_LABEL = "Lee et al. 2014, Blood 124(2):188-195 (revised CRS grading)"
DOI_URL = "https://doi.org/10.1182/blood-2014-05-552729"

#: The tocilizumab US prescribing information, found on DailyMed (the label's CRS section).
LABEL_SOURCE = "Tocilizumab US prescribing information (CRS)"
LABEL_URL = "https://dailymed.nlm.nih.gov/dailymed/search.cfm?labeltype=all&query=tocilizumab"

#: The code system of our override reasons (CDS Hooks 2.0.1 overrideReasons: a Coding with a
#: ``display``). The codes are documented in docs/cards.md.
OVERRIDE_SYSTEM = "https://crscds.org/fhir/CodeSystem/override-reason"

#: code -> display. Cards pick the reasons that fit them (``override_reasons``).
OVERRIDE_REASONS: dict[str, str] = {
    "attributed-to-infection": "attributed to infection",
    "attributed-to-crs": "attributed to CRS rather than infection",
    "already-treated": "already treated",
    "infection-being-treated": "infection already being treated",
    "record-out-of-date": "data in the record is wrong or out of date",
    "dose-intended": "dose intended as ordered",
    "clinical-judgement": "clinical judgement",
    "patient-preference": "patient or family preference",
}


@dataclass(frozen=True, slots=True)
class DataProblemNote:
    """Part of the patient's data that could not be read (from the FHIR reader), for a card.

    ``key`` is the prefetch key (``services.py``); ``message`` the full sentence for the
    extension's ``dataGaps``; ``card_line`` the short sentence for the card detail. Both say
    what may be missing ("blood cultures could not be read: an infection warning may be
    missing"): the FHIR reader decides the wording, cards only lay it out.
    """

    key: str
    message: str
    hides_data: bool = True  # False: ignored data of another patient, nothing of this one lost
    card_line: str = ""


def _new_uuid() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class CardContext:
    """What cards need beyond the assessment: who, where the SMART app lives, and ids.

    ``smart_launch_url`` is the absolute URL of ``/smart/launch`` on our public base.
    ``new_uuid`` makes card and suggestion uuids (uuid4 unless a test injects another).
    """

    patient_id: str
    smart_launch_url: str
    data_problems: tuple[DataProblemNote, ...] = ()
    new_uuid: Callable[[], str] = field(default=_new_uuid)


def seed_source() -> dict[str, str]:
    """The card source of the grading and the algorithm: the seed paper."""
    return {"label": SEED_LABEL, "url": DOI_URL}


def rule_source(source: RuleSource) -> dict[str, str]:
    """The card source for the rule a finding cites: the paper, the label or our policy."""
    if source is RuleSource.TOCILIZUMAB_USPI:
        return {"label": LABEL_SOURCE, "url": LABEL_URL}
    if source is RuleSource.SERVICE_POLICY:
        return {"label": "CRS CDS dose-check policy (more than 10% off the protocol dose)"}
    section = str(source).removeprefix("Lee 2014 ").removeprefix("text, ")
    return {"label": f"Lee et al. 2014, Blood 124(2):188-195 · {section}", "url": DOI_URL}


def links(context: CardContext) -> list[dict[str, str]]:
    """The SMART app (CRS course over time) and the seed paper [CDS Link]."""
    return [
        {
            "label": "CRS course over time (SMART app)",
            "url": context.smart_launch_url,
            "type": "smart",
        },
        {
            "label": "Lee et al. 2014: revised CRS grading and treatment algorithm",
            "url": DOI_URL,
            "type": "absolute",
        },
    ]


def override_reasons(codes: Sequence[str]) -> list[dict[str, str]]:
    """Codings of our override reasons, each with the ``display`` CDS Hooks requires."""
    return [
        {"code": code, "system": OVERRIDE_SYSTEM, "display": OVERRIDE_REASONS[code]}
        for code in codes
    ]


def card(
    context: CardContext,
    *,
    summary: str,
    detail: str,
    indicator: Severity,
    source: dict[str, str],
    reasons: Sequence[str],
) -> dict[str, Any]:
    """A card skeleton with a fresh uuid; callers add suggestions, links and the extension."""
    return {
        "uuid": context.new_uuid(),
        "summary": summary,
        "detail": detail,
        "indicator": str(indicator),
        "source": source,
        "overrideReasons": override_reasons(reasons),
    }
