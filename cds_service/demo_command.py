"""``crs-cds demo``: the service, a demo EHR and the seed cases, in one command.

Serves on loopback, in one process: the CDS service (authentication off), its SMART app, and the
demo EHR of ``cds_service.demo.server`` (a FHIR endpoint holding the demo patients, a SMART
authorization server and a launch page), each patient placed so that now is its telling moment.
It then calls ``crs-patient-view`` for every patient as an EHR would (prefetch read from the demo
FHIR endpoint over HTTP), prints each patient's card, shows the watch's alert arriving as Case 3's
night copy advances to day 5 noon (``cds_service.watch.demo``), and prints the URLs to open. A
development tool: the demo EHR exists only in this command's app, never in ``create_app()``'s.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import secrets
import socket
import sys
import tempfile
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from cds_service import create_app
from cds_service.call_command import (
    CallError,
    HookCall,
    RemoteService,
    build_request,
    prefetch_from_server,
    render_cards,
)
from cds_service.demo import (
    CASES,
    TELLING_MOMENTS,
    bundle_at_moment,
    case_title,
    demo_patient_id,
)
from cds_service.demo.fhir_store import FhirStore
from cds_service.demo.server import DEMO_PREFIX, DemoPatient, DemoServer, init_demo, sandbox_url
from cds_service.watch.demo import add_night_chart, show_watch_alert, watch_settings
from cds_service.watch.queue import run_in_thread
from cds_service.watch.runtime import find_watch

__all__ = ["ListenError", "RunningDemo", "add_demo_command", "build_demo_app"]

#: Settings the demo decides, whatever the environment says: it is open by design, so only the
#: demo EHR may launch its SMART app, and nothing of a real deployment applies.
_WITHHELD = (
    "CRS_CDS_AUTH",
    "CRS_CDS_TRUSTED_ISSUERS",
    "CRS_CDS_PUBLIC_URL",
    "CRS_CDS_SMART_ISSUERS",
    "CRS_CDS_SMART_REDIRECT_URL",
    "CRS_CDS_SMART_CLIENT_SECRET",
    "DATABASE_URL",
)
_FEATURED_CASE = "case3"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origins(host: str, port: int) -> list[str]:
    """Every origin a browser on this machine may use to reach the demo."""
    names = {"127.0.0.1", "localhost", host}
    return [f"http://{f'[{n}]' if ':' in n else n}:{port}" for n in sorted(names)]


def _patient_name(resource: Mapping[str, Any]) -> str:
    names = resource.get("name") or [{}]
    name = names[0]
    return " ".join([*name.get("given", []), name.get("family", "")]).strip() or resource["id"]


def build_demo_app(
    now: datetime,
    environ: Mapping[str, str],
    *,
    origins: list[str],
    database_url: str,
    watch: tuple[str, str] | None = None,
) -> tuple[Flask, DemoServer]:
    """The service and the demo EHR in one app, the patients at their telling moment ``now``.

    ``watch`` (the demo EHR's FHIR base URL, a queue URL) turns the watch on, with Case 3's
    night copy charted up to day 4 noon (``cds_service.watch.demo``).
    """
    store = FhirStore()
    patients = []
    for case_id in CASES:
        for entry in bundle_at_moment(case_id, now)["entry"]:
            store.add(entry["resource"])
        patient_id = demo_patient_id(case_id)
        patient = store.read("Patient", patient_id)
        assert patient is not None  # noqa: S101 - every demo Bundle has its Patient
        patients.append(
            DemoPatient(
                patient_id,
                _patient_name(patient),
                case_title(case_id),
                TELLING_MOMENTS[case_id].shows,
            )
        )
    settings = {
        name: value
        for name, value in environ.items()
        if name not in _WITHHELD and not name.startswith("CRS_CDS_WATCH_")
    }
    if watch is not None:
        settings.update(watch_settings(*watch))
        add_night_chart(store, 4, "12:00", now)
    settings.setdefault("CRS_CDS_LOG_LEVEL", "WARNING")
    settings.setdefault("CRS_CDS_SECRET_KEY", secrets.token_urlsafe(32))  # one process
    settings.update(
        {
            "CRS_CDS_AUTH": "none",
            "CRS_CDS_SMART_ISSUERS": json.dumps([f"{o}{DEMO_PREFIX}/fhir" for o in origins]),
            "DATABASE_URL": database_url,
        }
    )
    app = create_app(settings)
    server = DemoServer(
        store=store,
        patients=patients,
        client_id=settings.get("CRS_CDS_SMART_CLIENT_ID", "crs-cds"),
        featured=demo_patient_id(_FEATURED_CASE),
    )
    init_demo(app, server)
    return app, server


class _QuietRequestHandler(WSGIRequestHandler):
    """No line per request on the terminal (the cards and URLs are what the user reads)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


def _print_cards(base: str, session: requests.Session, out: TextIO) -> None:
    service = RemoteService(base, session)
    discovery = service.discovery()
    fhir = f"{base}{DEMO_PREFIX}/fhir"
    for case_id in CASES:
        patient_id = demo_patient_id(case_id)

        def fetch(templates: Mapping[str, str], tokens: Mapping[str, str]) -> dict[str, Any]:
            return prefetch_from_server(templates, tokens, fhir, session)

        call = HookCall("crs-patient-view", patient_id, fhir_server=fhir)
        status, answer = service.call(call.service_id, build_request(call, discovery, fetch))
        if status != 200 or not isinstance(answer, dict):
            raise CallError(f"crs-patient-view answered HTTP {status} for {patient_id}")
        out.write(f"\n{case_title(case_id)}\n")
        render_cards(answer, out, heading=f"crs-patient-view for Patient/{patient_id}", brief=True)
        out.flush()


def _print_urls(base: str, out: TextIO) -> None:
    width = 34
    lines = [
        ("Demo EHR: patients, SMART launch", f"{base}{DEMO_PREFIX}/"),
        *(
            (
                f"SMART launch of {demo_patient_id(case_id)}",
                f"{base}{DEMO_PREFIX}/launch/{demo_patient_id(case_id)}",
            )
            for case_id in CASES
        ),
        ("CDS Hooks discovery", f"{base}/cds-services"),
        ("FHIR base of the demo EHR", f"{base}{DEMO_PREFIX}/fhir"),
        (
            "Call a service as an EHR would",
            f"crs-cds call {base}{DEMO_PREFIX}/fhir/Patient/{demo_patient_id(_FEATURED_CASE)} "
            f"--url {base}",
        ),
        ("Public CDS Hooks sandbox", sandbox_url(base, demo_patient_id(_FEATURED_CASE))),
    ]
    out.write("\nOpen:\n")
    for label, url in lines:
        out.write(f"  {label + ':':<{width}} {url}\n")
    out.write(
        "  (The sandbox runs in your browser and calls this machine from it; authentication is\n"
        "  off in the demo, so its JWT is not checked. Synthetic patients only.)\n"
        "\nPress Ctrl+C to stop.\n"
    )
    out.flush()


class ListenError(Exception):
    """The demo cannot listen where asked; the message says why."""


class RunningDemo:
    """The demo served on loopback from a background thread until ``stop()``.

    Binds first (``port`` 0 picks a free one), then builds the app for the address it got, so
    that the SMART app accepts launches from exactly this demo EHR. The database is a SQLite
    file in a temporary folder, removed by ``stop()``.
    """

    def __init__(
        self, host: str, port: int, environ: Mapping[str, str], now: datetime | None = None
    ) -> None:
        if not _loopback(host):
            raise ListenError(
                "the demo serves without authentication and binds to loopback only "
                "(127.0.0.1, localhost or ::1)"
            )
        try:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            listener = socket.create_server((host, port), family=family)
        except OSError as error:
            raise ListenError(
                f"cannot listen on {host}:{port} ({error.strerror}); choose another port with "
                "--port"
            ) from None
        with listener:  # werkzeug serves a duplicate of this socket
            self._server: BaseWSGIServer = make_server(
                host,
                listener.getsockname()[1],
                _placeholder_app,
                threaded=True,
                request_handler=_QuietRequestHandler,
                fd=listener.fileno(),
            )
        self._folder = tempfile.TemporaryDirectory(prefix="crs-cds-demo-")
        self.now = now or datetime.now(UTC)
        address = f"[{host}]" if ":" in host else host
        self.base = f"http://{address}:{self._server.port}"
        self.app, self.ehr = build_demo_app(
            self.now,
            environ,
            origins=_origins(host, self._server.port),
            database_url=f"sqlite:///{Path(self._folder.name) / 'demo.sqlite3'}",
            watch=(
                f"{self.base}{DEMO_PREFIX}/fhir",
                f"sqlite:///{Path(self._folder.name) / 'watch-queue.sqlite3'}",
            ),
        )
        self._watch_stop = threading.Event()
        watch = find_watch(self.app)
        if watch is not None:  # the watch's jobs run in this process (a development tool)
            run_in_thread(watch.queue, self._watch_stop)
        self._server.app = self.app
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="crs-cds-demo", daemon=True
        )
        self._thread.start()

    def wait(self) -> None:
        """Block until the server stops (Ctrl+C raises ``KeyboardInterrupt`` here)."""
        while self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        self._watch_stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self._folder.cleanup()


def _demo(args: argparse.Namespace) -> int:
    out = sys.stdout
    try:
        demo = RunningDemo(args.host, args.port, os.environ)
    except ListenError as error:
        sys.stderr.write(f"crs-cds demo: {error}\n")
        return 2
    try:
        out.write(
            f"crs-cds demo on {demo.base}: {len(CASES)} synthetic patients from the seed paper, "
            f"each placed so that now ({demo.now:%Y-%m-%d %H:%M} UTC) is its telling moment.\n"
        )
        out.flush()
        with requests.Session() as session:
            _print_cards(demo.base, session, out)
            show_watch_alert(demo.base, demo.app, demo.ehr, session, out)
        _print_urls(demo.base, out)
        demo.wait()
    except CallError as error:
        sys.stderr.write(f"crs-cds demo: {error}\n")
        return 1
    except KeyboardInterrupt:
        out.write("\nStopped.\n")
    finally:
        demo.stop()
    return 0


def _placeholder_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers 503 in the instant between binding the port and building the app."""
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting\n"]


def add_demo_command(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``crs-cds demo``."""
    demo = subcommands.add_parser(
        "demo",
        help="serve the service with a demo EHR and the seed cases; print their cards and URLs",
        description=(
            "Serve the CDS service, its SMART app and a demo EHR (FHIR endpoint, SMART "
            "authorization server, launch page) holding the seed paper's cases, each placed so "
            "that now is its telling moment; print every patient's card and the URLs to open. "
            "Authentication is off; loopback only. A development tool."
        ),
    )
    demo.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free)")
    demo.set_defaults(handler=_demo)
