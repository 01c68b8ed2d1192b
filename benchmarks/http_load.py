"""HTTP benchmark: gunicorn with the README's production settings and a loopback load generator.

The server is started here on 127.0.0.1 at a free port (authentication off, a throwaway SQLite
database, its log in a temporary folder) and stopped here, by its own process id. The load
generator runs closed-loop clients (threads, one keep-alive ``http.client`` connection each,
as an EHR's connection pool) at each concurrency level, bounded by a request count and a
wall-clock limit, and never talks to any address but 127.0.0.1. The CPU time each gunicorn
worker used during a level (``/proc/<pid>/stat``) shows whether every worker had work.
"""

from __future__ import annotations

import http.client
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from benchmarks.inprocess import SERVICE_PATH, benchmark_environment
from benchmarks.stats import Samples

__all__ = [
    "LevelResult",
    "Server",
    "ServerSettings",
    "cpu_seconds",
    "gunicorn_server",
    "production_settings",
    "run_level",
    "run_levels",
]

HOST = "127.0.0.1"
_REPOSITORY = Path(__file__).absolute().parent.parent

#: The README's production command, read so that the benchmark runs what the README documents.
_GUNICORN_LINE = re.compile(r"gunicorn\s+'cds_service:create_app\(\)'(?P<flags>.*?)```", re.S)
#: Used only when the README has no such command (then the report says so).
_FALLBACK_FLAGS = "--workers 2 --threads 4 --timeout 30 --graceful-timeout 20 --keep-alive 5"


@dataclass(frozen=True, slots=True)
class ServerSettings:
    flags: tuple[str, ...]  # gunicorn flags except --bind
    source: str  # where they come from

    @property
    def command_line(self) -> str:
        return "gunicorn 'cds_service:create_app()' " + " ".join(self.flags)


def production_settings(readme: Path = _REPOSITORY / "README.md") -> ServerSettings:
    """The gunicorn flags of the README's production command, with ``--bind`` left out."""
    match = _GUNICORN_LINE.search(readme.read_text(encoding="utf-8"))
    if match is None:
        return ServerSettings(tuple(shlex.split(_FALLBACK_FLAGS)), "benchmark defaults")
    words = shlex.split(match.group("flags").replace("\\\n", " "))
    flags: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word in ("--bind", "-b"):
            skip = True
            continue
        if word.startswith("--bind="):
            continue
        flags.append(word)
    return ServerSettings(tuple(flags), "README.md, section Production")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _get(port: int, path: str, timeout: float = 2.0) -> int:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@dataclass(frozen=True, slots=True)
class Server:
    port: int
    pid: int  # the gunicorn master

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return sorted(int(pid) for pid in children)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (Linux ``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat
    return ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def gunicorn_server(settings: ServerSettings, workdir: Path) -> Iterator[Server]:
    """Start gunicorn on 127.0.0.1 at a free port; yield it; stop it on exit."""
    port = _free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [
        str(gunicorn),
        "cds_service:create_app()",
        "--bind",
        f"{HOST}:{port}",
        *settings.flags,
    ]
    environment = {
        **os.environ,
        **benchmark_environment(workdir),
        "CRS_CDS_LOG_LEVEL": "INFO",  # production: one JSON line per request
        "PYTHONPATH": str(_REPOSITORY),
    }
    log = (workdir / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        command, cwd=_REPOSITORY, env=environment, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {process.returncode}; see {workdir / 'gunicorn.log'}"
                )
            try:
                server = Server(port, process.pid)
                if _get(port, "/healthz") == 200 and len(server.worker_pids()) == _workers(
                    settings
                ):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # graceful stop of the master we started
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log.close()


@dataclass(slots=True)
class LevelResult:
    concurrency: int
    requests: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    latency: Samples = field(default_factory=Samples)  # successful requests only
    wall_seconds: float = 0.0
    stopped_by_time: bool = False
    client_cpu_seconds: float = 0.0  # CPU used by the load generator itself
    worker_cpu_seconds: list[float] = field(default_factory=list)  # per gunicorn worker

    @property
    def throughput(self) -> float:
        """Successful requests per second."""
        return len(self.latency.values) / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def worker_shares(self) -> list[float]:
        """Each worker's part of the CPU all workers used during the level, largest first."""
        total = sum(self.worker_cpu_seconds)
        if total <= 0:
            return []
        return sorted((seconds / total for seconds in self.worker_cpu_seconds), reverse=True)

    @property
    def every_worker_busy(self) -> bool:
        """Every worker did at least 70 % of an equal share of the work."""
        shares = self.worker_shares
        return bool(shares) and min(shares) >= 0.7 / len(shares)


class _Budget:
    """Hands out request tickets until the count or the wall-clock limit is reached."""

    def __init__(self, count: int, seconds: float) -> None:
        self._left = count
        self._deadline = time.monotonic() + seconds
        self._lock = threading.Lock()
        self.out_of_time = False

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                return False
            if time.monotonic() >= self._deadline:
                self.out_of_time = True
                return False
            self._left -= 1
            return True


def _client(
    port: int,
    body: bytes,
    budget: _Budget,
    result: LevelResult,
    lock: threading.Lock,
    timeout: float,
    keep_alive: bool,
) -> None:
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    connection: http.client.HTTPConnection | None = None
    while budget.take():
        if connection is None:
            connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
        started = time.perf_counter()
        error: str | None = None
        try:
            connection.request("POST", SERVICE_PATH, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            if response.status != 200:
                error = f"HTTP {response.status}"
            elif not isinstance(orjson.loads(answer).get("cards"), list):
                error = "answer without cards"
            if response.will_close or not keep_alive:
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException, orjson.JSONDecodeError) as failure:
            error = type(failure).__name__
            if connection is not None:
                connection.close()
            connection = None
        elapsed = time.perf_counter() - started
        with lock:
            result.requests += 1
            if error is None:
                result.latency.add(elapsed)
            else:
                result.errors += 1
                result.error_kinds[error] = result.error_kinds.get(error, 0) + 1
    if connection is not None:
        connection.close()


def run_level(
    server: Server,
    body: bytes,
    concurrency: int,
    requests: int,
    max_seconds: float,
    timeout: float = 60.0,
    keep_alive: bool = True,
) -> LevelResult:
    """``concurrency`` closed-loop clients sending ``body`` until ``requests`` or time is up."""
    port = server.port
    workers = server.worker_pids()
    workers_before = [cpu_seconds(pid) for pid in workers]
    result = LevelResult(concurrency)
    budget = _Budget(requests, max_seconds)
    lock = threading.Lock()
    threads = [
        threading.Thread(
            target=_client,
            args=(port, body, budget, result, lock, timeout, keep_alive),
            daemon=True,
        )
        for _ in range(concurrency)
    ]
    started = time.perf_counter()
    cpu_started = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_seconds = time.perf_counter() - started
    result.client_cpu_seconds = time.process_time() - cpu_started
    result.stopped_by_time = budget.out_of_time
    result.worker_cpu_seconds = [
        cpu_seconds(pid) - before for pid, before in zip(workers, workers_before, strict=True)
    ]
    return result


def run_levels(
    body: bytes,
    levels: Sequence[int],
    requests_for: dict[int, int],
    max_seconds: float,
    warmup: int = 8,
) -> tuple[ServerSettings, list[LevelResult]]:
    """Start gunicorn, warm every worker up, run each level in turn, stop gunicorn."""
    settings = production_settings()
    results: list[LevelResult] = []
    with (
        tempfile.TemporaryDirectory() as directory,
        gunicorn_server(settings, Path(directory)) as server,
    ):
        for _ in range(2):  # every worker warmed up: one connection per call
            run_level(server, body, _workers(settings), warmup, max_seconds, keep_alive=False)
        for level in levels:
            results.append(run_level(server, body, level, requests_for[level], max_seconds))
    return settings, results


def _workers(settings: ServerSettings) -> int:
    """The ``--workers`` of the settings (gunicorn's default: 1)."""
    flags = list(settings.flags)
    for index, flag in enumerate(flags):
        if flag in ("--workers", "-w") and index + 1 < len(flags):
            return int(flags[index + 1])
        if flag.startswith("--workers="):
            return int(flag.split("=", 1)[1])
    return 1
