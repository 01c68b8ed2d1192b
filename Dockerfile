# CRS CDS Hooks service: gunicorn serving cds_service:create_app() as a non-root user.
#
# Reproducible: every package comes from requirements.lock (exact versions with their hashes,
# build tools included), from the index the build is given, and nothing else is resolved.
#   docker build -t crs-cds .
#   docker build --build-arg BASE_IMAGE=registry.example.org/python:3.11-slim \
#                --build-arg PIP_INDEX_URL=https://pypi.example.org/simple -t crs-cds .
# Pin BASE_IMAGE by digest (python:3.11-slim@sha256:...) for a byte-for-byte rebuild.
# After a change of pyproject.toml's dependencies, regenerate the lock (see docs/integration.md).
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ARG PIP_INDEX_URL=https://pypi.org/simple
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_INDEX_URL=${PIP_INDEX_URL}

WORKDIR /app
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps --only-binary=:all: -r requirements.lock
COPY pyproject.toml README.md ./
COPY cds_service ./cds_service
COPY fhir_maps ./fhir_maps
COPY crs_grading ./crs_grading
# The project itself: no dependency resolution, no build isolation (the locked setuptools).
RUN pip install --no-deps --no-build-isolation . \
    && pip check \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin crs \
    && mkdir -p /var/lib/crs-cds \
    && chown crs /var/lib/crs-cds

# SQLite by default, on a volume the service user owns; set DATABASE_URL for PostgreSQL.
ENV DATABASE_URL=sqlite:////var/lib/crs-cds/crs_cds.sqlite3 \
    MPLCONFIGDIR=/tmp/matplotlib
VOLUME ["/var/lib/crs-cds"]

USER crs
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]

# 2 workers for a 2-core machine; threads for concurrent hook calls waiting on FHIR servers.
# No gunicorn access log: the app logs every request as JSON without query strings.
CMD ["gunicorn", "cds_service:create_app()", \
     "--config", "python:cds_service.gunicorn_conf", \
     "--bind", "0.0.0.0:8080", \
     "--workers", "2", \
     "--threads", "4", \
     "--timeout", "30", \
     "--graceful-timeout", "20", \
     "--keep-alive", "5"]
