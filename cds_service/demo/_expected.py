"""The expected grades file (``expected.json``) and the README written beside the Bundles."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from cds_service.demo._engine import Clock, patient_id, therapy_reference
from cds_service.demo._model import JSON, Storyline
from cds_service.demo._moments import TELLING_MOMENTS, Placement

DAY_DEFINITION = (
    "Day N is the calendar date day0 + N in the patient's local time (the UTC offset of the "
    "case's timestamps). Every event that changes a day's grade (first and last fever of a "
    "spell, a drip starting or stopping, the worst blood pressure) is placed so that the local "
    "date, the UTC date and the 24-hour period since the infusion give the same day number. "
    "A day's grade is the worst grade any criterion reaches during that day."
)


def _age_years(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def case_summary(story: Storyline, placement: Placement) -> JSON:
    """What a reader (or a test) needs to check a case: patient, day 0, grades by day, why."""
    day0 = placement.day0
    clock = Clock(day0, story.utc_offset_h, placement.shift)
    moment = TELLING_MOMENTS[story.case_id]
    birth = day0 - timedelta(days=story.patient.age_days_at_day0)
    peak_lee = max(day.lee2014 for day in story.expected)
    peak_astct = max(day.astct2019 for day in story.expected)
    offset = clock.datetime(0).isoformat()[-6:]
    first_weight = story.weights_kg[0][1] if story.weights_kg else None
    return {
        "title": story.title,
        "source": story.source,
        "summary": story.summary,
        "patient": {
            "reference": f"Patient/{patient_id(story.case_id)}",
            "name": f"{story.patient.given} {story.patient.family}",
            "gender": story.patient.gender,
            "birthDate": birth.isoformat(),
            "ageYearsAtDay0": _age_years(birth, day0),
            "baselineWeightKg": first_weight,
        },
        "utcOffset": offset,
        "day0": day0.isoformat(),
        **({"timeShiftSeconds": int(placement.shift.total_seconds())} if placement.shift else {}),
        "tellingMoment": {
            "day": moment.day,
            "at": clock.iso(moment.hours),
            "lee2014": moment.lee2014,
            "astct2019": moment.astct2019,
            "shows": moment.shows,
        },
        "therapy": {
            "reference": therapy_reference(story),
            "text": story.therapy.concept["text"],
            "start": clock.iso(story.infusion),
        },
        "peak": {
            "lee2014": peak_lee,
            "astct2019": peak_astct,
            "firstDayLee2014": min(d.day for d in story.expected if d.lee2014 == peak_lee),
        },
        "days": [
            {
                "day": expected.day,
                "date": (day0 + timedelta(days=expected.day)).isoformat(),
                "lee2014": expected.lee2014,
                "astct2019": expected.astct2019,
                "icans": expected.icans,
                "reason": expected.reason,
            }
            for expected in story.expected
        ],
        "attributionSignals": [
            {
                "code": signal.code,
                "firstDay": signal.first_day,
                "lastDay": signal.last_day,
                "text": signal.text,
            }
            for signal in story.signals
        ],
        "notes": list(story.notes),
    }


def expected_document(
    placed: list[tuple[Storyline, Placement]], data_until: datetime | None
) -> JSON:
    """The whole expected.json; ``data_until`` is where the Bundles stop (None: full course)."""
    day0s = {placement.day0 for _, placement in placed}
    common = {"day0": day0s.pop().isoformat()} if len(day0s) == 1 else {}
    return {
        "description": (
            "Expected CRS grades by day for the demo patients: the seed paper's Cases 1-3 and "
            "its Figure 3 patient (Lee et al., Blood 2014). lee2014 is the revised grading of "
            "seed Table 2 (default system); astct2019 the ASTCT consensus (SPEC 2.4); icans the "
            "ASTCT 2019 ICANS grade (SPEC 2.9) of the charted CAPD or ICE and RASS (0 where no "
            "neurologic check is charted). "
            "Synthetic data, tagged HTEST."
        ),
        **common,
        "dataUntil": data_until.isoformat(timespec="seconds") if data_until else None,
        "dayDefinition": DAY_DEFINITION,
        "cases": {story.case_id: case_summary(story, placement) for story, placement in placed},
    }


def dumps(document: JSON) -> str:
    """Readable JSON for expected.json."""
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def dumps_bundle(bundle: JSON) -> str:
    """A Bundle as compact JSON with one entry per line: small, and diffs read entry by entry."""
    head = {key: value for key, value in bundle.items() if key != "entry"}
    lines = [
        json.dumps(entry, ensure_ascii=False, separators=(",", ":")) for entry in bundle["entry"]
    ]
    opening = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    return opening + ',"entry":[\n' + ",\n".join(lines) + "\n]}\n"


def readme(placed: list[tuple[Storyline, Placement]], data_until: datetime | None) -> str:
    rows = []
    for story, placement in placed:
        summary = case_summary(story, placement)
        peak = summary["peak"]
        patient = summary["patient"]
        rows.append(
            f"| `{story.case_id}.json` | {patient['name']}, {patient['ageYearsAtDay0']} y, "
            f"{patient['gender']} | {summary['therapy']['text']} | {summary['day0']} | "
            f"{peak['lee2014']} (first on day {peak['firstDayLee2014']}) | {peak['astct2019']} |"
        )
    table = "\n".join(rows)
    day0s = sorted({placement.day0 for _, placement in placed})
    placed_text = (
        f"with day 0 = {day0s[0].isoformat()}"
        if len(day0s) == 1
        else "each placed so that its telling moment (see `expected.json`) is the time of writing"
    )
    cut_text = (
        f"The Bundles hold what a chart would hold at {data_until.isoformat(timespec='seconds')}: "
        "nothing dated later."
        if data_until is not None
        else "The Bundles hold each whole stay, to discharge."
    )
    return f"""# CRS CDS demo patients (synthetic)

FHIR R4 transaction Bundles of the seed paper's three cases and its Figure 3 patient
(Lee et al., Blood 2014;124(2):188-195), {placed_text}. {cut_text} Every name, identifier
and value is made up; the Patients are tagged `HTEST` (test health data).

| file | patient | therapy as sent | day 0 | expected peak Lee 2014 | ASTCT 2019 |
|---|---|---|---|---|---|
{table}

`expected.json` holds the expected Lee 2014 and ASTCT 2019 grade of every day with a one-line
reason, the infection signals the data shows, and notes on what each Bundle exercises.

## Loading into a FHIR server

Each entry is a `PUT Type/id`, so loading twice replaces instead of duplicating:

```sh
for f in case1 case2 case3 figure3; do
  curl -sS -X POST -H 'Content-Type: application/fhir+json' \\
    --data-binary @"$f.json" "$FHIR_BASE_URL"
done
```

## Day numbers

{DAY_DEFINITION}
"""
