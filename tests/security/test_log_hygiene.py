"""No secrets or patient data in logs (issue 7; DEVELOPERS.md: "No patient data in logs beyond
resource ids"), and the hookInstance as correlation id on every line of a hook call.

Full request cycles through a JWT-protected app: patient-view with a demo-case prefetch,
fhirAuthorization and FHIR reads (paging, a failing read), order-sign, feedback with a
clinician's comment, and the error paths (401, 400, 404, 412, 413, 500). Every record of every
logger at DEBUG is captured and searched for the access token, the JWTs, the patient's name,
birth date and MRN, observation values and the comment.
"""

from __future__ import annotations

import json

import responses
from reliability.harness import (
    SENTINEL_BIRTH_DATE,
    SENTINEL_FAMILY,
    SENTINEL_GIVEN,
    SENTINEL_MRN,
    SENTINEL_VALUES,
    all_log_records,
    demo_prefetch,
    hook_body,
    in_demo_time,
    rendered,
    searchset,
)

from cds_service.web import cds as cds_views

from .jwt_support import bearer, issuers, token

FHIR = "https://ehr.example.org/fhir"
ACCESS_TOKEN = "eyJhY2Nlc3MiOiJ0b2tlbiJ9.secret-access-token-Zq81"
COMMENT = f"spoke with {SENTINEL_GIVEN} {SENTINEL_FAMILY}'s daughter"
VIEW = "/cds-services/crs-patient-view"


def test_full_request_cycles_leave_no_secret_or_patient_data_in_any_log(
    make_app, mocked_http, capsys
):
    app = in_demo_time(
        make_app(
            CRS_CDS_AUTH="jwt",
            CRS_CDS_TRUSTED_ISSUERS=issuers(),
            CRS_CDS_FHIR_TIMEOUT_S="1",
            CRS_CDS_LOG_LEVEL="DEBUG",
        )
    )
    client = app.test_client()
    patient_id, prefetch = demo_prefetch()
    # The sentinel creatinine comes from the server as page 2 of the labs (and of the baselines).
    for key in ("labs", "baselines"):
        observations = prefetch[key]["entry"]
        sentinel_entry = next(
            e
            for e in observations
            if e["resource"].get("valueQuantity", {}).get("value") == SENTINEL_VALUES[2]
        )
        observations.remove(sentinel_entry)
        prefetch[key]["link"] = [{"relation": "next", "url": f"{FHIR}/Observation?page=2"}]
    mocked_http.add(
        responses.GET, f"{FHIR}/Observation", json=searchset([sentinel_entry["resource"]])
    )
    procedures = prefetch.pop("procedures")
    mocked_http.add(responses.GET, f"{FHIR}/Procedure", json=procedures)
    mocked_http.add(responses.GET, f"{FHIR}/Condition", status=500, body=SENTINEL_FAMILY)
    prefetch.pop("conditions")
    tokens = []

    def signed(path):
        tokens.append(token(path))
        return bearer(tokens[-1])

    capsys.readouterr()
    with all_log_records() as records:
        view = client.post(
            VIEW,
            headers=signed(VIEW),
            json=hook_body(
                patient_id,
                prefetch=prefetch,
                fhir_server=FHIR,
                token=ACCESS_TOKEN,
                hook_instance="hi-view",
            ),
        )
        sign = client.post(
            "/cds-services/crs-order-sign",
            headers=signed("/cds-services/crs-order-sign"),
            json=hook_body(
                patient_id, hook="order-sign", prefetch=demo_prefetch()[1], hook_instance="hi-sign"
            ),
        )
        feedback = client.post(
            f"{VIEW}/feedback",
            headers=signed(f"{VIEW}/feedback"),
            json={
                "feedback": [
                    {
                        "card": "c-1",
                        "outcome": "overridden",
                        "overrideReason": {"reason": {"code": "x"}, "userComment": COMMENT},
                        "outcomeTimestamp": "2026-01-10T20:05:00Z",
                    }
                ]
            },
        )
        replayed = client.post(VIEW, headers=bearer(tokens[0]), json={})
        malformed = client.post(
            VIEW,
            headers=signed(VIEW),
            json={
                "hook": "patient-view",
                "hookInstance": "hi-bad",
                "context": {"userId": "u", "patientId": f"{SENTINEL_FAMILY} {SENTINEL_BIRTH_DATE}"},
            },
        )
        unknown = client.post(
            "/cds-services/crs-nope", headers=signed("/cds-services/crs-nope"), json={}
        )
        unavailable = client.post(
            VIEW,
            headers=signed(VIEW),
            json=hook_body(
                patient_id, prefetch={"patient": prefetch["patient"]}, hook_instance="hi-412"
            ),
        )
        oversized = client.post(
            VIEW,
            headers=signed(VIEW),
            data=b"{}",
            content_type="application/json",
            # announced over the limit: refused before a byte of it is read
            environ_overrides={"CONTENT_LENGTH": str(129 * 2**20)},
        )

        def failing(*args, **kwargs):
            raise RuntimeError(f"{SENTINEL_GIVEN} {SENTINEL_FAMILY} born {SENTINEL_BIRTH_DATE}")

        original, cds_views.answer_hook = cds_views.answer_hook, failing
        try:
            crashed = client.post(
                VIEW,
                headers=signed(VIEW),
                json=hook_body(patient_id, prefetch=demo_prefetch()[1], hook_instance="hi-500"),
            )
        finally:
            cds_views.answer_hook = original
    stderr = capsys.readouterr().err

    statuses = [
        r.status_code
        for r in (
            view,
            sign,
            feedback,
            replayed,
            malformed,
            unknown,
            unavailable,
            oversized,
            crashed,
        )
    ]
    assert statuses == [200, 200, 200, 401, 400, 404, 412, 413, 500]
    assert view.get_json()["cards"], "real cards must flow for this test to mean something"
    assert len(mocked_http.calls) == 4  # page 2 of the labs and of the baselines, 2 searches

    text = rendered(records) + "\n" + stderr
    forbidden = {
        "the FHIR access token": ACCESS_TOKEN,
        "the access token's secret part": ACCESS_TOKEN.split(".")[1],
        "the patient's family name": SENTINEL_FAMILY,
        "the patient's given name": SENTINEL_GIVEN,
        "the birth date": SENTINEL_BIRTH_DATE,
        "the MRN": SENTINEL_MRN,
        "the clinician's comment": COMMENT,
    }
    forbidden.update({f"the observation value {v}": str(v) for v in SENTINEL_VALUES})
    for n, jwt_ in enumerate(tokens):
        forbidden[f"JWT {n}"] = jwt_
        forbidden[f"JWT {n}'s signature"] = jwt_.rsplit(".", 1)[1]
    leaks = [what for what, value in forbidden.items() if value in text]
    assert leaks == [], f"found in the logs: {leaks}"
    assert len(records) > 10


def test_every_line_of_a_hook_call_carries_its_hook_instance_and_request_id(
    make_app, mocked_http, capsys
):
    app = in_demo_time(make_app(CRS_CDS_FHIR_TIMEOUT_S="1", CRS_CDS_LOG_LEVEL="DEBUG"))
    patient_id, prefetch = demo_prefetch()
    prefetch.pop("conditions")
    mocked_http.add(responses.GET, f"{FHIR}/Condition", status=503)
    capsys.readouterr()

    response = app.test_client().post(
        VIEW,
        json=hook_body(patient_id, prefetch=prefetch, fhir_server=FHIR, hook_instance="hi-corr"),
        headers={"X-Request-ID": "req-123"},
    )

    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "req-123"
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) >= 3
    assert all(line.get("hookInstance") == "hi-corr" for line in lines), lines
    assert all(line.get("requestId") == "req-123" for line in lines)
    assert {"hook answered", "FHIR data problem"} <= {line["message"] for line in lines}


def test_an_unusable_request_id_is_replaced(client, capsys):
    capsys.readouterr()
    response = client.get(
        "/healthz", headers={"X-Request-ID": "forged line with spaces " + "x" * 80}
    )
    generated = response.headers["X-Request-ID"]
    assert len(generated) == 32 and " " not in generated
    (line,) = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.strip()]
    assert line["requestId"] == generated
