"""Where each treatment rule comes from, named the way a card cites it.

One place for the citation strings, so a recommendation, an order finding and the docs cite a
rule in the same words. [seed] is Lee et al., Blood 2014 (the revised CRS grading system and its
treatment algorithm); [label] is the tocilizumab US prescribing information, section on CRS.
"""

from __future__ import annotations

import enum


class RuleSource(enum.StrEnum):
    """The source of one treatment or order-check rule, as shown to clinicians."""

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
    #: Our policy (issue 4), not a clinical source: an ordered dose more than 10% away from the
    #: protocol dose is flagged.
    SERVICE_POLICY = "CRS CDS dose-check policy"
