"""Clinical thresholds as data, one module per source.

- ``lee2014``: the revised CRS grading of seed Table 2 and the high-dose vasopressors of Table 3.
- ``astct2019``: the ASTCT 2019 consensus grading (SPEC 2.4).
- ``ctcae_v403``: CTCAE v4.03 organ toxicity rows used by Lee 2014 (SPEC 2.3).
- ``hypotension``: hypotension by age (Mahadeo et al. 2019, as SPEC 2.3 gives it).

Each row carries its source. The code in ``crs_grading`` walks these rows, records the row that
fired and the evidence; it holds no clinical number of its own.
"""
