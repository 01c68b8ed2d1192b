"""``crs-cds grade`` and ``crs-cds demo-data`` (issue 3): the clinical core from the shell."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from cds_service.cli import main


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo")
    assert main(["demo-data", str(directory), "--day0", "2026-01-05", "--future"]) == 0
    return directory


def test_demo_data_writes_one_transaction_bundle_per_case(demo_dir: Path) -> None:
    for case in ("case1", "case2", "case3", "figure3"):
        bundle = orjson.loads((demo_dir / f"{case}.json").read_bytes())
        assert bundle["resourceType"] == "Bundle"
        assert bundle["type"] == "transaction"
        assert all(entry["request"]["method"] == "PUT" for entry in bundle["entry"])


def test_demo_data_day0_moves_the_course(tmp_path: Path) -> None:
    assert main(["demo-data", str(tmp_path), "--day0", "2026-11-20"]) == 0
    text = (tmp_path / "case3.json").read_text()
    assert "2026-11-2" in text
    assert "2026-01-0" not in text


def test_demo_data_rejects_a_bad_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo-data", str(tmp_path), "--day0", "yesterday"]) == 2
    assert "not a date" in capsys.readouterr().err


def test_grade_json_prints_the_assessment_extension(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """seed Case 3, 2026-01-11 06:00 UTC: dopamine plus norepinephrine still run (grade 3). The
    patient is charted at -08:00, so it is still 10 Jan 22:00 on the ward: day 5 (SPEC 4: day
    numbers follow the local date of the patient's own data)."""
    code = main(
        ["grade", str(demo_dir / "case3.json"), "--as-of", "2026-01-11T06:00:00Z", "--json"]
    )
    assert code == 0
    document = orjson.loads(capsys.readouterr().out)
    assert document["system"] == "lee2014"
    assert document["grade"] == 3
    assert document["therapy"]["day"] == 5
    assert "multiple-vasopressors" in {d["criterion"] for d in document["drivers"]}
    assert set(document["otherSystems"]) == {"astct2019"}


def test_grade_table_names_grade_drivers_and_warnings(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["grade", str(demo_dir / "case3.json"), "--as-of", "2026-01-11T06:00:00Z"])
    out = capsys.readouterr().out
    assert "Grade (Lee 2014): 3" in out
    assert "multiple-vasopressors" in out
    assert "positive-blood-culture" in out
    assert "dated after the assessment time" in out  # later data is reported, grouped


def test_grade_table_prints_icans_current_peak_and_drivers(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SPEC 2.9: seed Case 3 on day 9 (2026-01-15 00:00 UTC is 16:00 on her -08:00 clock):
    CAPD 21 and RASS -2 give ICANS grade 3 beside CRS grade 2; the daily grades carry ICANS."""
    assert main(["grade", str(demo_dir / "case3.json"), "--as-of", "2026-01-15T00:00:00Z"]) == 0
    out = capsys.readouterr().out
    assert "Grade (Lee 2014): 2   peak: 3" in out
    assert "ICANS (ASTCT 2019): 3   peak: 3\n" in out
    icans = out.split("ICANS drivers:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert [line.split()[:3] for line in icans] == [
        ["grade", "3", "icans-capd-score"],
        ["grade", "2", "icans-depressed-consciousness"],
    ]
    assert "CAPD 21" in icans[0] and "Observation/crs-demo-case3-capd-" in icans[0]
    assert "Daily grades (day: Lee 2014 / ASTCT 2019 / ICANS):" in out
    assert "8:3/4/0" in out and "9:2/3/3" in out


def test_grade_table_says_when_icans_was_not_assessed(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SPEC 2.9: without an ICE, CAPD or RASS in the window, ICANS 0 must not read as checked
    (seed Case 3 on day 0, before her first neurologic check on day 1)."""
    assert main(["grade", str(demo_dir / "case3.json"), "--as-of", "2026-01-05T20:00:00Z"]) == 0
    out = capsys.readouterr().out
    assert "ICANS (ASTCT 2019): 0   peak: 0   (no ICE, CAPD or RASS in the current window)" in out
    assert "ICANS drivers:" not in out


def test_grade_json_carries_icans(demo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["grade", str(demo_dir / "case3.json"), "--as-of", "2026-01-15T00:00:00Z", "--json"])
    icans = orjson.loads(capsys.readouterr().out)["icans"]
    assert (icans["grade"], icans["peakGrade"]) == (3, 3)
    assert {d["criterion"] for d in icans["drivers"]} == {
        "icans-capd-score",
        "icans-depressed-consciousness",
    }


def test_grade_system_astct_makes_astct_primary(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ASTCT 2019: two vasopressors (neither vasopressin) are grade 4."""
    main(
        [
            "grade",
            str(demo_dir / "case3.json"),
            "--as-of",
            "2026-01-11T06:00:00Z",
            "--system",
            "astct2019",
            "--json",
        ]
    )
    document = orjson.loads(capsys.readouterr().out)
    assert document["system"] == "astct2019"
    assert document["grade"] == 4
    assert document["otherSystems"] == {"lee2014": 3}


def test_grade_reads_a_folder_of_resources(tmp_path: Path, demo_dir: Path, capsys) -> None:
    bundle = orjson.loads((demo_dir / "case1.json").read_bytes())
    for index, entry in enumerate(bundle["entry"]):
        (tmp_path / f"{index:04}.json").write_bytes(orjson.dumps(entry["resource"]))
    assert main(["grade", str(tmp_path), "--as-of", "2026-01-07T12:00:00Z", "--json"]) == 0
    assert orjson.loads(capsys.readouterr().out)["grade"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grade", "/no/such/file.json"], "no such file"),
        (["grade", "{bad}", "--as-of", "2026-01-07"], "needs a time zone"),
    ],
    ids=["a missing file is a clear error", "an as-of without a zone is refused"],
)
def test_grade_input_errors_are_clear(
    tmp_path: Path, demo_dir: Path, args: list[str], message: str, capsys
) -> None:
    args = [a.replace("{bad}", str(demo_dir / "case1.json")) for a in args]
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_grade_refuses_invalid_json(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"resourceType": "Bundle", ')
    assert main(["grade", str(broken)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_db_upgrade_brings_a_new_database_to_the_head_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Issue 7: `crs-cds db upgrade` applies the Alembic migrations to DATABASE_URL."""
    from sqlalchemy import create_engine

    from cds_service.storage import SCHEMA_HEAD, current_revision

    url = f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CRS_CDS_AUTH", "none")
    assert main(["db", "upgrade"]) == 0
    assert SCHEMA_HEAD in capsys.readouterr().out
    assert current_revision(create_engine(url)) == SCHEMA_HEAD


def test_spec_2_3_a_chart_saved_as_one_file_per_prefetch_key_grades_each_resource_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same systolic and diastolic rows saved under two keys (``vitals.json`` and
    ``baselines.json``) are one reading: the derived MAP 63.7 < 65 mmHg (Mahadeo 2019) still
    grades 2. Read twice, the rows were no longer paired and the patient read grade 0."""
    subject = {"reference": "Patient/p1"}

    def row(code: str, value: float, id_: str) -> dict[str, object]:
        return {
            "resourceType": "Observation",
            "id": id_,
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": subject,
            "effectiveDateTime": "2026-03-04T10:00:00Z",
            "valueQuantity": {"value": value, "unit": "mm[Hg]"},
        }

    def searchset(*resources: dict[str, object]) -> dict[str, object]:
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r} for r in resources],
        }

    vitals = searchset(row("8480-6", 95, "sbp"), row("8462-4", 48, "dbp"))
    chart = {
        "patient.json": {"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01"},
        "therapy.json": {
            "resourceType": "MedicationAdministration",
            "id": "cells",
            "status": "completed",
            "medicationCodeableConcept": {"text": "tisagenlecleucel"},
            "subject": subject,
            "effectiveDateTime": "2026-03-02T15:00:00Z",
        },
        "vitals.json": vitals,
        "baselines.json": vitals,
    }
    for name, document in chart.items():
        (tmp_path / name).write_bytes(orjson.dumps(document))
    assert main(["grade", str(tmp_path), "--as-of", "2026-03-04T12:00:00Z", "--json"]) == 0
    document = orjson.loads(capsys.readouterr().out)
    assert document["grade"] == 2
    assert {d["criterion"] for d in document["drivers"]} == {"hypotension"}
