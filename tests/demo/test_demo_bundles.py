"""The demo Bundles are valid FHIR R4 transactions, shipped as generated, and reproducible."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from importlib import resources as package_files
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from cds_service.demo import (
    CASES,
    DEFAULT_DAY0,
    expected_grades,
    generate_bundle,
    load_bundle,
    write_demo_data,
)

from . import raw_fhir as raw

DATA = package_files.files("cds_service.demo.data")
SHIPPED = ["case1.json", "case2.json", "case3.json", "figure3.json", "expected.json"]


@pytest.fixture(scope="module")
def bundles() -> dict[str, dict[str, Any]]:
    return {case_id: load_bundle(case_id) for case_id in CASES}


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def _validate_entries(bundle: dict[str, Any]) -> None:
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


@pytest.mark.parametrize("case_id", CASES)
def test_every_resource_is_valid_fhir_r4(bundles: dict[str, dict[str, Any]], case_id: str) -> None:
    """Each entry validates with fhir.resources.R4B, entry by entry (one bad entry would fail a
    whole Bundle), and the Bundle itself is a valid transaction."""
    bundle = bundles[case_id]
    _validate_entries(bundle)
    envelope = {**bundle, "entry": bundle["entry"][:3]}
    get_fhir_model_class("Bundle").model_validate(envelope)
    assert bundle["type"] == "transaction"


@pytest.mark.parametrize("case_id", CASES)
def test_entries_are_puts_whose_references_resolve_inside_the_bundle(
    bundles: dict[str, dict[str, Any]], case_id: str
) -> None:
    bundle = bundles[case_id]
    present = set()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        path = f"{resource['resourceType']}/{resource['id']}"
        assert entry["request"] == {"method": "PUT", "url": path}
        assert entry["fullUrl"].endswith("/" + path)
        assert len(resource["id"]) <= 64
        present.add(path)
    assert len(present) == len(bundle["entry"]), "ids are unique"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        contained = {f"#{c['id']}" for c in resource.get("contained", [])}
        for reference in _references(resource):
            if reference.startswith("#"):
                assert reference in contained, (resource["id"], reference)
            else:
                assert reference in present, (resource["id"], reference)


@pytest.mark.parametrize("case_id", CASES)
def test_timestamps_carry_a_time_zone_and_the_patient_comes_first(
    bundles: dict[str, dict[str, Any]], case_id: str
) -> None:
    bundle = bundles[case_id]
    assert bundle["entry"][0]["resource"]["resourceType"] == "Patient"
    assert bundle["entry"][0]["resource"]["meta"]["tag"][0]["code"] == "HTEST"
    for observation in raw.resources(bundle, "Observation"):
        raw.when(observation["effectiveDateTime"])
        if "issued" in observation:
            assert raw.when(observation["issued"]) >= raw.when(observation["effectiveDateTime"])


#: From when each patient is in hospital (day after the infusion, local time).
ADMITTED = {"case1": (-1, 14), "case2": (14, 11), "case3": (1, 11), "figure3": (-1, 14)}


@pytest.mark.parametrize("case_id", CASES)
def test_vitals_come_every_1_to_4_hours_while_in_hospital(
    bundles: dict[str, dict[str, Any]], case_id: str
) -> None:
    """Issue 3 realism: inpatient vitals every 1 to 4 h, hourly in intensive care."""
    infusion = datetime.fromisoformat(
        json.loads(DATA.joinpath("expected.json").read_text("utf-8"))["cases"][case_id]["therapy"][
            "start"
        ]
    )
    day, hour = ADMITTED[case_id]
    admitted = infusion.replace(hour=hour, minute=0) + timedelta(days=day)
    times = [raw.when(o["effectiveDateTime"]) for o in raw.observations(bundles[case_id], "8867-4")]
    stay = [t for t in times if t >= admitted]
    gaps = [b - a for a, b in zip(stay, stay[1:], strict=False)]
    assert max(gaps) <= timedelta(hours=4)
    assert Counter(gaps)[timedelta(hours=1)] >= (0 if case_id == "case1" else 20)


@pytest.mark.parametrize("case_id", CASES)
def test_drips_are_consecutive_administrations_with_ucum_rates(
    bundles: dict[str, dict[str, Any]], case_id: str
) -> None:
    """Rate changes are consecutive MedicationAdministrations (end of one = start of the next),
    rates in UCUM ug/min or ug/kg/min."""
    bundle = bundles[case_id]
    infusions = raw.vasopressor_infusions(bundle, open_end=datetime.max)
    by_agent: dict[str, list[raw.Infusion]] = {}
    for infusion in infusions:
        by_agent.setdefault(infusion.agent, []).append(infusion)
    for agent, drips in by_agent.items():
        assert len(drips) >= 3, f"{agent} has rate changes"
        for before, after in zip(drips, drips[1:], strict=False):
            assert before.end == after.start
    for administration in raw.resources(bundle, "MedicationAdministration"):
        rate = administration["dosage"].get("rateQuantity")
        if rate is not None:
            assert rate["system"] == "http://unitsofmeasure.org"
            assert rate["code"] in ("ug/min", "ug/kg/min")
        assert administration["status"] == "completed"


def test_shipped_files_equal_a_fresh_generation(tmp_path: Path) -> None:
    """Nobody edits the package data by hand: it is exactly what the generator writes."""
    written = write_demo_data(tmp_path, DEFAULT_DAY0, future=True)
    assert sorted(p.name for p in written) == sorted([*SHIPPED, "README.md"])
    for name in SHIPPED:
        shipped = DATA.joinpath(name).read_text("utf-8")
        fresh = (tmp_path / name).read_text("utf-8")
        assert shipped == fresh, f"{name} differs: run python -m cds_service.demo"


def test_generation_is_deterministic() -> None:
    first = generate_bundle("case3", vitals_every=timedelta(minutes=30), days=3)
    second = generate_bundle("case3", vitals_every=timedelta(minutes=30), days=3)
    assert first == second
    assert generate_bundle("figure3") == load_bundle("figure3")


def test_write_demo_data_with_another_day0_shifts_dates_and_keeps_ages(tmp_path: Path) -> None:
    day0 = date(2027, 3, 1)
    write_demo_data(tmp_path / "out", day0, future=True)
    expected = json.loads((tmp_path / "out" / "expected.json").read_text("utf-8"))
    assert expected["day0"] == "2027-03-01"
    case3 = expected["cases"]["case3"]
    assert case3["days"][5]["date"] == "2027-03-06"
    assert case3["patient"]["ageYearsAtDay0"] == 11
    bundle = json.loads((tmp_path / "out" / "case3.json").read_text("utf-8"))
    shipped = load_bundle("case3")
    shift = day0 - DEFAULT_DAY0
    first = raw.when(raw.resources(bundle, "Observation")[0]["effectiveDateTime"])
    first_shipped = raw.when(raw.resources(shipped, "Observation")[0]["effectiveDateTime"])
    assert first - first_shipped == shift
    assert len(bundle["entry"]) == len(shipped["entry"])
    assert "day 0 = 2027-03-01" in (tmp_path / "out" / "README.md").read_text("utf-8")


def test_expected_grades_cover_every_day_from_day_0() -> None:
    for case_id in CASES:
        days = [d.day for d in expected_grades(case_id)]
        assert days == list(range(len(days)))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        pytest.param({"case_id": "case9"}, "unknown demo case", id="unknown case"),
        pytest.param({"case_id": "case1", "days": 0}, "days", id="zero days"),
        pytest.param(
            {"case_id": "case1", "vitals_every": timedelta(0)}, "vitals_every", id="zero cadence"
        ),
        pytest.param(
            {"case_id": "case1", "labs_every": timedelta(seconds=10)},
            "labs_every",
            id="cadence under a minute",
        ),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_error(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_bundle(**bad)
    if bad.get("case_id") == "case9":
        with pytest.raises(ValueError, match=message):
            load_bundle("case9")


def test_cut_at_day_6_leaves_running_drips_in_progress_and_no_future_data() -> None:
    """What the EHR holds 6 days after the infusion: open drips in progress, the encephalopathy
    of day 9 not yet there, the bacteremia still active."""
    bundle = generate_bundle("case3", days=6)
    _validate_entries(bundle)
    cut = datetime.fromisoformat("2026-01-05T09:30:00-08:00") + timedelta(days=6)
    for resource in raw.resources(bundle):
        for key in ("effectiveDateTime", "issued", "onsetDateTime"):
            if key in resource and "T" in resource[key]:
                assert raw.when(resource[key]) <= cut, resource["id"]
    running = [
        a for a in raw.resources(bundle, "MedicationAdministration") if a["status"] == "in-progress"
    ]
    assert {frozenset(raw.medication_codes(a)) for a in running} == {
        frozenset({"3628"}),
        frozenset({"7512"}),
    }
    assert all("end" not in a["effectivePeriod"] for a in running)
    conditions = {c["code"]["text"]: c for c in raw.resources(bundle, "Condition")}
    assert "Encephalopathy" not in conditions
    bacteremia = conditions["Streptococcus mitis bacteremia"]
    assert bacteremia["clinicalStatus"]["coding"][0]["code"] == "active"
    assert "abatementDateTime" not in bacteremia


def test_cut_before_a_culture_is_final_reports_it_preliminary() -> None:
    bundle = generate_bundle("case3", days=2)
    culture = raw.observations(bundle, "600-7")[0]
    assert culture["status"] == "preliminary"
    assert culture["interpretation"][0]["coding"][0]["code"] == "POS"


def test_benchmark_size_m_is_about_3500_resources() -> None:
    """Issue 6 'M': 7 days of vitals every 15 min (labs daily) is ~3,500 resources."""
    bundle = generate_bundle("case3", vitals_every=timedelta(minutes=15), days=7)
    assert 3200 <= len(bundle["entry"]) <= 3900
    counts = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    assert counts["MedicationAdministration"] > 20  # drips with rate changes, doses
    temps = raw.observations(bundle, "8310-5")
    gaps = {
        raw.when(b["effectiveDateTime"]) - raw.when(a["effectiveDateTime"])
        for a, b in zip(temps[5:], temps[6:], strict=False)
    }
    assert timedelta(minutes=15) in gaps


def test_labs_every_six_hours_adds_four_panels_a_day() -> None:
    daily = generate_bundle("figure3", days=7)
    six_hourly = generate_bundle("figure3", days=7, labs_every=timedelta(hours=6))
    crp_daily = len(raw.observations(daily, "1988-5"))
    crp_six = len(raw.observations(six_hourly, "1988-5"))
    assert crp_six >= 3.5 * (crp_daily - 1)


def test_days_past_discharge_continue_the_last_state() -> None:
    bundle = generate_bundle("figure3", days=14)
    last = raw.when(raw.observations(bundle, "8867-4")[-1]["effectiveDateTime"])
    infusion = datetime.fromisoformat("2026-01-05T11:00:00+01:00")
    assert last - infusion > timedelta(days=13, hours=18)
    assert all(
        t < 38.0
        for t in (raw.celsius(o["valueQuantity"]) for o in raw.observations(bundle, "8310-5")[-20:])
    )
