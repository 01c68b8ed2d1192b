"""The time windows of grading as data (SPEC 2.1, 2.2, 2.6, 2.7), each with its source.

``GradingOptions`` takes its defaults from here; the service may override them by settings.
"""

from __future__ import annotations

from datetime import timedelta

#: SPEC 2.1: a CRS-associated therapy in the last 30 days puts the patient in scope.
SCOPE_DAYS = 30

#: SPEC 2.2: the current grade reads vitals, drips, oxygen and ventilation of the last 24 h; the
#: peak grade is the worst of any 24 h window since day 0.
VITALS_WINDOW = timedelta(hours=24)

#: SPEC 2.2: the latest lab result of each kind within 72 h counts for the current grade.
LAB_WINDOW = timedelta(hours=72)

#: SPEC 2.2: data dated up to 5 minutes after the assessment time still counts (clock skew).
CLOCK_SKEW = timedelta(minutes=5)

#: Our choice (SPEC 2.6, tocilizumab label): tocilizumab given this long before day 0's
#: administration belongs to the same course (prophylaxis before a CAR-T infusion or a step-up
#: dose) and counts for the redose rules; the seed's 24 h reassessment is the span over which a
#: dose is judged. A dose before that treated an earlier episode: a new one starts afresh.
TOCILIZUMAB_BEFORE_DAY0 = timedelta(hours=24)

#: SPEC 2.6: the latest body weight within 30 days is the dosing weight.
WEIGHT_MAX_AGE = timedelta(days=30)

#: SPEC 2.7 late-onset: a first fever more than 14 days after day 0.
LATE_ONSET_DAYS = 14

#: SPEC 2.7 positive-blood-culture: a positive culture in the last 7 days.
CULTURE_WINDOW = timedelta(days=7)

#: SPEC 2.7 elevated-lactate: the latest lactate within 24 h.
LACTATE_WINDOW = timedelta(hours=24)

#: Our choice: a pause this short between two administrations of one vasopressor is a charting
#: gap, so the drip stays continuous for the 3 h rule of seed Table 3.
INFUSION_GAP = timedelta(minutes=5)
