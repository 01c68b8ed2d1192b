"""Where each rule comes from: the citations cards and docs give, one place.

[seed] is Lee et al., Blood 2014 (the revised CRS grading system and its treatment algorithm);
[label] is the tocilizumab US prescribing information, section on CRS. ``RuleSource`` names a
rule's source as a short key; ``citation`` gives the label and link a card's ``source`` shows.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["ASTCT", "LABEL", "SCOPE", "SEED", "Citation", "RuleSource"]


@dataclass(frozen=True, slots=True)
class Citation:
    """A source as a card cites it (CDS Hooks Source: ``label`` and, when there is one, ``url``)."""

    label: str
    url: str | None = None


#: The seed paper: the source of the grading and of the treatment algorithm.
SEED = Citation(
    "Lee et al. 2014, Blood 124(2):188-195 (revised CRS grading)",
    "https://doi.org/10.1182/blood-2014-05-552729",
)

#: The tocilizumab US prescribing information, found on DailyMed (the label's CRS section).
LABEL = Citation(
    "Tocilizumab US prescribing information (CRS)",
    "https://dailymed.nlm.nih.gov/dailymed/search.cfm?labeltype=all&query=tocilizumab",
)

#: The ASTCT 2019 consensus (Lee et al., Biol Blood Marrow Transplant 2019): the ICANS grade.
ASTCT = Citation(
    "Lee et al. 2019, Biol Blood Marrow Transplant 25(4):625-638 (ASTCT consensus grading)",
    "https://doi.org/10.1016/j.bbmt.2018.12.758",
)

#: Who the service checks (SPEC 2.1): our rule, not a clinical source.
SCOPE = Citation(
    "CRS CDS: patients are checked after a CAR T-cell, T-cell engager or other "
    "CRS-associated therapy"
)

_SEED_SECTION = "Lee et al. 2014, Blood 124(2):188-195 · {section}"


class RuleSource(enum.StrEnum):
    """The source of one treatment or order-check rule (the value is its short name)."""

    #: seed Figure 2: the treatment algorithm by grade; supportive care for every grade.
    SEED_FIGURE_2 = "Lee 2014 Figure 2"
    #: seed text on grades 1 to 4: symptomatic care at grade 1, grade 2 in older or comorbid
    #: patients, ICU monitoring and cardiac function at grade 3, immunosuppression at 3 and 4.
    SEED_GRADE_TEXT = "Lee 2014 text, management by grade"
    #: seed text: infection must be considered; cultures and empiric antibiotics, above all
    #: when neutropenic.
    SEED_INFECTION = "Lee 2014 text, infection must be considered"
    #: seed text: hypotension from sepsis would not call for tocilizumab or corticosteroids;
    #: attribution needs clinical judgement.
    SEED_ATTRIBUTION = "Lee 2014 text, attribution (sepsis)"
    #: seed Tocilizumab section: 4 mg/kg in adults, 8 mg/kg in children, over 1 h; repeat if no
    #: improvement within 24 to 48 h.
    SEED_TOCILIZUMAB = "Lee 2014 text, Tocilizumab"
    #: seed Tocilizumab section: with neurologic dysfunction and no significant hemodynamic
    #: instability, corticosteroids may be the preferred first line.
    SEED_NEUROLOGIC = "Lee 2014 text, neurologic dysfunction"
    #: seed Corticosteroids section: second line; methylprednisolone 2 mg/kg/day; dexamethasone
    #: 0.5 mg/kg, maximum 10 mg per dose; stress-dose hydrocortisone.
    SEED_CORTICOSTEROIDS = "Lee 2014 text, Corticosteroids"
    #: seed "Corticosteroids and other agents": anti-TNF and IL-1 inhibitors (anakinra) have
    #: been used but are not routinely used.
    SEED_OTHER_AGENTS = "Lee 2014 text, other agents"
    #: [label] CRS dosing: 12 mg/kg under 30 kg, 8 mg/kg from 30 kg; no more than 800 mg per
    #: infusion; up to 3 additional doses at least 8 hours apart.
    TOCILIZUMAB_USPI = "tocilizumab USPI, CRS"
    #: SPEC 2.9: ICANS grade >= 2 (ASTCT 2019) without CRS of grade 2 or more gets dexamethasone,
    #: never tocilizumab; the reason is the seed's: tocilizumab does not cross the blood-brain
    #: barrier, dexamethasone penetrates it (seed text, neurologic dysfunction).
    ICANS_CORTICOSTEROID = "ASTCT 2019 ICANS grade; Lee 2014 text, neurologic dysfunction"
    #: Our policy (issue 4), not a clinical source: an ordered dose more than the tolerance of
    #: ``tables.treatment.DOSE_TOLERANCE`` away from the protocol dose is flagged.
    SERVICE_POLICY = "CRS CDS dose-check policy"

    @property
    def citation(self) -> Citation:
        """The label and link a card's ``source`` shows for this rule."""
        if self is RuleSource.TOCILIZUMAB_USPI:
            return LABEL
        if self is RuleSource.ICANS_CORTICOSTEROID:
            label = f"{ASTCT.label} · ICANS grade; Lee 2014 on neurologic dysfunction"
            return Citation(label, ASTCT.url)
        if self is RuleSource.SERVICE_POLICY:
            return Citation("CRS CDS dose-check policy (ordered dose against the protocol dose)")
        section = self.value.removeprefix("Lee 2014 ").removeprefix("text, ")
        return Citation(_SEED_SECTION.format(section=section), SEED.url)
