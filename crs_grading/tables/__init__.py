"""Clinical numbers as data, one module per source or system.

- ``lee2014``: the revised CRS grading of seed Table 2 and the high-dose vasopressors of Table 3.
- ``astct2019``: the ASTCT 2019 consensus grading (SPEC 2.4).
- ``ctcae_v403``: CTCAE v4.03 organ toxicity rows used by Lee 2014 (SPEC 2.3).
- ``hypotension``: hypotension by age (Mahadeo et al. 2019, as SPEC 2.3 gives it).
- ``signals``: neurologic dysfunction, attribution warnings and biomarker trends (SPEC 2.5-2.8).
- ``windows``: the time windows of grading (SPEC 2.1, 2.2, 2.6, 2.7).
- ``treatment``: doses, maxima, redosing limits and order-check severities (SPEC 2.6).
- ``sources``: the citation of each treatment rule.

Each row carries its source. The code in ``crs_grading`` walks these rows, records the row that
fired and the evidence; it holds no clinical number of its own.
"""
