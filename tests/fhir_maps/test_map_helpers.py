"""The small helpers: units, name matching, date-times, references."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from fhir_maps._fhir import ElementError, TimeReader
from fhir_maps._names import NameMatcher, acronyms, phrases
from fhir_maps.units import MASS, UNITS, VOLUME, parse_rate_unit, percent, unit_key

RATE_UNITS = [
    ("ug/min", MASS, 1.0, False),
    ("mcg/kg/min", MASS, 1.0, True),
    ("ug/(kg.min)", MASS, 1.0, True),
    ("ug/min/kg", MASS, 1.0, True),
    ("mg/h", MASS, 1000 / 60, False),
    ("mg/hr", MASS, 1000 / 60, False),
    ("u/h", UNITS, 1 / 60, False),
    ("[iu]/min", UNITS, 1.0, False),
    ("mu/min", UNITS, 0.001, False),
    ("ml/h", VOLUME, 1 / 60, False),
    ("ug/kg/min{drip}", MASS, 1.0, True),
]


@pytest.mark.parametrize(
    ("key", "measure", "factor", "per_kg"), RATE_UNITS, ids=[case[0] for case in RATE_UNITS]
)
def test_rate_units(key, measure, factor, per_kg):
    unit = parse_rate_unit(key)
    assert unit is not None
    assert (unit.measure, unit.per_kg) == (measure, per_kg)
    assert unit.factor == pytest.approx(factor)


@pytest.mark.parametrize("key", ["ug", "min", "ug/kg", "gtt/min", "ug/kg/lb/min"], ids=str)
def test_not_rate_units(key):
    assert parse_rate_unit(key) is None


def test_unit_keys_ignore_case_spaces_and_the_micro_sign():
    assert unit_key(" \u00b5g / kg / min ") == "ug/kg/min"
    assert unit_key("mg/dL") == unit_key("MG/DL")


@pytest.mark.parametrize(
    ("value", "keys", "expected"),
    [
        (0.21, [], 21.0),
        (21, [], 21.0),
        (0.5, ["1"], 50.0),
        (50, ["%"], 50.0),
        (1.0, ["{ratio}"], 100.0),
    ],
    ids=["0.21 no unit", "21 no unit", "0.5 unit 1", "50 %", "1.0 ratio"],
)
def test_percent_or_fraction(value, keys, expected):
    assert percent(value, keys) == pytest.approx(expected)


def test_names_match_whole_words_only():
    matcher = NameMatcher(phrases("dopamine", "dopamine") + phrases("ne", "norepinephrine"))
    assert matcher.find("DOPamine 400 mg") == ["dopamine"]
    assert matcher.find("dobutamine") == []
    assert matcher.find("epinephrine") == []
    assert matcher.find("norepinephrine+dopamine") == ["ne", "dopamine"]


def test_separators_inside_a_phrase_are_flexible_and_acronyms_keep_their_case():
    matcher = NameMatcher(acronyms("car-t", "CAR T") + phrases("solu", "Solu-Medrol"))
    assert matcher.find("CAR-T") == ["car-t"]
    assert matcher.find("CAR  T cells") == ["car-t"]
    assert matcher.find("car t") == []
    assert matcher.find("solu medrol") == ["solu"]


TIMES = [
    ("2026-11-20T10:00:00Z", datetime(2026, 11, 20, 10, tzinfo=UTC)),
    ("2026-11-20T10:00:00.123456789+01:00", datetime(2026, 11, 20, 9, 0, 0, 123456, tzinfo=UTC)),
    ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
]


@pytest.mark.parametrize(
    ("text", "expected"), TIMES, ids=["Z", "nanoseconds and an offset", "a leap second", "a date"]
)
def test_fhir_date_times(text, expected):
    assert TimeReader(UTC).required(text, "t") == expected


@pytest.mark.parametrize(
    "text", ["2026-11-20T10:00Z", "2026-13", "2026-11-20 10:00:00Z", "today"], ids=str
)
def test_invalid_fhir_date_times(text):
    with pytest.raises(ElementError, match="^t is not a valid FHIR dateTime$"):
        TimeReader(UTC).required(text, "t")


def test_partial_dates_are_not_precise_to_the_day():
    reader = TimeReader(UTC)
    assert reader.optional("2026-11", "t") is None
    with pytest.raises(ElementError, match="not precise to the day"):
        reader.required("2026", "t")


# The usual form (seconds and a zone) is read by the C parser; every string must read as the
# general path reads it (same instant, same kind, same error), at and around that form's edges.
_EDGE_TIMES = [
    "2026-11-20T10:00:00Z",
    "2026-11-20T10:00:00+00:00",
    "2026-11-20T10:00:00-05:00",
    "2026-11-20T23:59:59+14:00",
    "2026-11-20T00:00:00-12:00",
    "2026-11-20T24:00:00Z",  # hour 24: not FHIR's
    "2026-11-20T10:60:00Z",
    "2016-12-31T23:59:60Z",  # a leap second: the general path reads it as :59
    "2026-02-30T10:00:00Z",  # 30 February
    "2026-13-01T10:00:00Z",
    "2026-11-20T10:00:00+24:00",  # an offset out of range
    "2026-11-20T10:00:00+05:60",
    "2026-11-20T10:00:00-00:00",
    "2026-11-20T10:00:00",  # no zone: read in the default zone, counted
    "2026-11-20T10:00:00.5Z",
    "2026-11-20T10:00:00z",
    "2026-11-20t10:00:00Z",
    "\u0662\u0660\u0662\u0666-11-20T10:00:00Z",  # Arabic-Indic digits in the year
    "2026-11-20T1\u0660:00:00Z",
    "0001-01-01T00:00:00+01:00",  # leaves datetime's range in UTC
    "9999-12-31T23:59:59-01:00",
    "1799-12-31T23:59:59Z",
    "2026-11-20T10:00:00+0100",
    "2026-11-20T10:00:00Z ",
]


@pytest.mark.parametrize("text", _EDGE_TIMES, ids=repr)
def test_the_usual_time_form_reads_as_the_general_path_reads_it(text, monkeypatch):
    from fhir_maps import _fhir

    def read(reader: TimeReader) -> object:
        try:
            return reader.optional(text, "t"), reader.zoneless, reader.clock_offsets()
        except ElementError as error:
            return str(error)

    fast = read(TimeReader(timezone(timedelta(hours=2))))
    monkeypatch.setattr(_fhir, "_ZONED_SECONDS", re.compile(r"(?!)"))  # never matches
    general = read(TimeReader(timezone(timedelta(hours=2))))
    assert fast == general


def test_a_time_read_again_counts_again_unless_it_is_a_full_time_with_a_zone():
    """``required`` hands back a full date-time with a zone read before at once (the lanes
    read one per monitor row); a time without a zone or without a time of day is counted
    each time it is read, as before."""
    reader = TimeReader(UTC)
    for _ in range(3):
        assert reader.required("2026-11-20T10:00:00Z", "t") == datetime(
            2026, 11, 20, 10, tzinfo=UTC
        )
        reader.required("2026-11-20T10:00:00", "t")
        reader.required("2026-11-20", "t")
    assert (reader.zoneless, reader.date_only) == (3, 3)
    with pytest.raises(ElementError, match="not precise to the day"):
        reader.required("2026-11", "t")
    with pytest.raises(ElementError, match="not a date-time string"):
        reader.required(["2026-11-20T10:00:00Z"], "t")  # not a string: never looked up
