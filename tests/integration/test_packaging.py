"""The image is built from what the repository pins (issue 14): the Dockerfile takes the base image
and the package index as build arguments and installs only from requirements.lock, whose pins
satisfy pyproject.toml and carry hashes; project.license is an SPDX expression (PEP 639).

No Docker engine runs here: these checks read the files. ``pip download --require-hashes`` of
the lock for the image's platform was run by hand when the lock was made.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.licenses import canonicalize_license_expression
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = (
    "regenerate it: pip-compile --generate-hashes --allow-unsafe --all-build-deps "
    "--strip-extras --no-emit-index-url --output-file requirements.lock pyproject.toml"
)


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _lock() -> dict[str, tuple[Version, list[str]]]:
    """name -> (pinned version, hashes) of requirements.lock."""
    pins: dict[str, tuple[Version, list[str]]] = {}
    text = (ROOT / "requirements.lock").read_text()
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        head = re.match(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", block)
        if head:
            hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
            pins[canonicalize_name(head.group(1))] = (Version(head.group(2)), hashes)
    return pins


def test_every_dependency_is_pinned_within_its_range_with_hashes():
    lock = _lock()
    project = _pyproject()
    wanted = [Requirement(r) for r in project["project"]["dependencies"]]
    wanted += [Requirement(r) for r in project["build-system"]["requires"]]
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in lock, f"{requirement.name} is not in requirements.lock; {REGENERATE}"
        version, _ = lock[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {name}=={version}, outside {requirement}; {REGENERATE}"
        )
    for name, (version, hashes) in lock.items():
        assert hashes, f"{name}=={version} has no hash"
    assert "psycopg-binary" in lock, "extras are resolved: psycopg[binary]"


def test_the_dockerfile_builds_from_arguments_and_the_lock_only():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=\S+$", dockerfile, re.M)
    assert re.search(r"^FROM \$\{BASE_IMAGE\}$", dockerfile, re.M)
    assert re.search(r"^ARG PIP_INDEX_URL=\S+$", dockerfile, re.M)
    assert "PIP_INDEX_URL=${PIP_INDEX_URL}" in dockerfile
    assert "COPY requirements.lock" in dockerfile
    installs = re.findall(r"pip install ([^\n\\&]+)", dockerfile)
    assert installs == [
        "--require-hashes --no-deps --only-binary=:all: -r requirements.lock",
        "--no-deps --no-build-isolation . ",
    ], installs
    # The image runs gunicorn with our config (metrics of all workers, no control socket).
    assert '"--config", "python:cds_service.gunicorn_conf"' in dockerfile


def test_the_license_is_an_spdx_expression():
    license_ = _pyproject()["project"]["license"]
    assert isinstance(license_, str), "the table form is deprecated (PEP 639)"
    assert canonicalize_license_expression(license_) == license_
    setuptools = next(
        Requirement(r) for r in _pyproject()["build-system"]["requires"] if "setuptools" in r
    )
    assert not setuptools.specifier.contains("76.9"), "PEP 639 license strings need setuptools 77"
