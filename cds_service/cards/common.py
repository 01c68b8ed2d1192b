"""What every card shares: the card skeleton, links, override reasons, sources and uuids.

Card fields follow CDS Hooks 2.0.1 (Card, Source, Link, overrideReasons) and SPEC section 4.
The words (summary, detail, labels, override displays, citations) come from the clinical core
(``crs_grading.wording``); this module only puts them in their CDS Hooks places.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crs_grading import wording
from crs_grading.criteria import OverrideReason
from crs_grading.tables.sources import SEED, Citation
from crs_grading.wording.cards import CardText, ProblemLine

from . import text

__all__ = [
    "OVERRIDE_REASONS",
    "OVERRIDE_SYSTEM",
    "CardContext",
    "DataProblemNote",
    "card",
    "links",
    "override_reasons",
    "source",
]

#: The code system of our override reasons (CDS Hooks 2.0.1 overrideReasons: a Coding with a
#: ``display``). The codes are documented in docs/cards.md; feedback joins on them.
OVERRIDE_SYSTEM = "https://crscds.org/fhir/CodeSystem/override-reason"

#: code -> display (``crs_grading.wording.OVERRIDE_REASONS``, by code string).
OVERRIDE_REASONS: dict[str, str] = {
    str(code): display for code, display in wording.OVERRIDE_REASONS.items()
}


@dataclass(frozen=True, slots=True)
class DataProblemNote:
    """Part of the patient's data that could not be read (from the FHIR reader), for a card.

    ``key`` is the prefetch key (``services.py``); ``message`` the full sentence for the
    extension's ``dataGaps``; ``card_line`` the short sentence for the card detail. Both say
    what may be missing ("blood cultures could not be read: an infection warning may be
    missing"): the FHIR reader decides the wording, cards only lay it out. ``rows_unread``:
    resources of the key themselves were not read (not only a Medication they name).
    """

    key: str
    message: str
    hides_data: bool = True  # False: ignored data of another patient, nothing of this one lost
    card_line: str = ""
    rows_unread: bool = False
    short_line: str = ""  # which data only, for a card short of room

    @property
    def line(self) -> ProblemLine:
        """What a card shows: the sentence, and the shorter words for a card short of room."""
        return ProblemLine(self.card_line or self.message, self.short_line or None)


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

    @property
    def problem_lines(self) -> tuple[ProblemLine, ...]:
        """What the cards say of the data that could not be read."""
        return tuple(problem.line for problem in self.data_problems)

    @property
    def problem_messages(self) -> tuple[str, ...]:
        """The same, in full, for the extension's ``dataGaps``."""
        return tuple(problem.message for problem in self.data_problems)


def source(citation: Citation) -> dict[str, str]:
    """A CDS Hooks Source for ``citation``."""
    cited = {"label": citation.label}
    if citation.url is not None:
        cited["url"] = citation.url
    return cited


def links(context: CardContext) -> list[dict[str, str]]:
    """The SMART app (CRS course over time) and the seed paper [CDS Link]."""
    seed = source(SEED)
    return [
        {"label": wording.SMART_APP_LINK, "url": context.smart_launch_url, "type": "smart"},
        {"label": wording.SEED_PAPER_LINK, "url": seed["url"], "type": "absolute"},
    ]


def override_reasons(codes: Sequence[OverrideReason]) -> list[dict[str, str]]:
    """Codings of our override reasons, each with the ``display`` CDS Hooks requires."""
    return [
        {"code": str(code), "system": OVERRIDE_SYSTEM, "display": wording.OVERRIDE_REASONS[code]}
        for code in codes
    ]


def card(context: CardContext, words: CardText) -> dict[str, Any]:
    """A card with a fresh uuid from the clinical core's words; its detail is fitted to the
    length SPEC section 4 allows. Callers add suggestions, links and the extension."""
    fitted = words.fit(lambda sections: len(text.detail(sections)))
    return {
        "uuid": context.new_uuid(),
        "summary": fitted.summary,
        "detail": text.detail(fitted.sections),
        "indicator": str(fitted.indicator),
        "source": source(fitted.source),
        "overrideReasons": override_reasons(fitted.overrides),
    }
