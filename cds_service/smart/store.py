"""Server-side state of SMART launches: started launches and launch sessions with their token.

The browser holds only opaque random ids (SMART App Launch 2.2, "App protection": tokens never
in cookies). Two implementations of one interface:

- ``InMemorySmartStore``: one process (development, tests, a single worker).
- ``SqlSmartStore``: a table of its own in any SQLAlchemy database, so that stateless replicas
  behind a load balancer share launches. Keys are stored hashed and payloads encrypted with a
  key derived from the app's secret, so a copy of the table yields neither tokens nor ids.
"""

from __future__ import annotations

import abc
import base64
import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from cds_service.storage import smart_store_table

_LAUNCH = "launch"
_SESSION = "session"


@dataclass(frozen=True, slots=True)
class PendingLaunch:
    """A launch sent to the EHR's authorize endpoint and waiting for its callback (by ``state``)."""

    iss: str
    launch: str | None  # None: standalone launch
    redirect_uri: str
    code_verifier: str
    token_endpoint: str
    browser: str  # the opaque id in the browser's session that started the launch
    expires_at: float  # POSIX seconds


@dataclass(frozen=True, slots=True)
class LaunchSession:
    """An authorized launch: the token and the context the EHR gave with it."""

    iss: str
    patient: str
    access_token: str
    scope: str
    need_patient_banner: bool
    browser: str
    expires_at: float  # POSIX seconds
    encounter: str | None = None

    def __repr__(self) -> str:  # keep the token out of any accidental log line
        return (
            f"LaunchSession(iss={self.iss!r}, patient={self.patient!r}, "
            f"expires_at={self.expires_at})"
        )


class SmartStore(abc.ABC):
    """Where launches and sessions live between requests; entries expire by ``expires_at``."""

    def save_launch(self, state: str, launch: PendingLaunch) -> None:
        self._put(_LAUNCH, state, asdict(launch), launch.expires_at)

    def take_launch(self, state: str, now: datetime) -> PendingLaunch | None:
        """The launch started with ``state``, removed so that a state is used once; None if
        unknown or expired."""
        payload = self._pop(_LAUNCH, state, now.timestamp())
        return PendingLaunch(**payload) if payload is not None else None

    def save_session(self, session_id: str, session: LaunchSession) -> None:
        self._put(_SESSION, session_id, asdict(session), session.expires_at)

    def get_session(self, session_id: str, now: datetime) -> LaunchSession | None:
        payload = self._get(_SESSION, session_id, now.timestamp())
        return LaunchSession(**payload) if payload is not None else None

    def delete_session(self, session_id: str) -> None:
        self._pop(_SESSION, session_id, None)

    @abc.abstractmethod
    def _put(self, kind: str, key: str, payload: Mapping[str, Any], expires_at: float) -> None:
        """Store ``payload`` under (kind, key) until ``expires_at``."""

    @abc.abstractmethod
    def _get(self, kind: str, key: str, now: float) -> dict[str, Any] | None:
        """The live payload under (kind, key), or None."""

    @abc.abstractmethod
    def _pop(self, kind: str, key: str, now: float | None) -> dict[str, Any] | None:
        """Remove (kind, key) and return its payload if it was live at ``now`` (None: any)."""


class InMemorySmartStore(SmartStore):
    """A store in this process's memory: for one worker, development and tests."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[dict[str, Any], float]] = {}
        self._lock = threading.Lock()

    def _put(self, kind: str, key: str, payload: Mapping[str, Any], expires_at: float) -> None:
        with self._lock:
            self._purge(datetime.now(UTC).timestamp())
            self._entries[(kind, key)] = (dict(payload), expires_at)

    def _get(self, kind: str, key: str, now: float) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get((kind, key))
        if entry is None or entry[1] <= now:
            return None
        return dict(entry[0])

    def _pop(self, kind: str, key: str, now: float | None) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.pop((kind, key), None)
        if entry is None or (now is not None and entry[1] <= now):
            return None
        return entry[0]

    def _purge(self, now: float) -> None:
        # Entries far past expiry only; a test clock in the past must still find its entries.
        stale = [k for k, (_, expires) in self._entries.items() if expires + 86400 < now]
        for k in stale:
            del self._entries[k]


class SqlSmartStore(SmartStore):
    """A store in a SQL database shared by replicas, in the table ``smart_launch_store``.

    The table belongs to the service's schema (``cds_service.storage``, Alembic revision 0003);
    it is created here only when missing, for a store used without the app (tests, tools).

    ``secret`` (the Flask secret key, the same on every replica) derives the encryption key of
    the payloads and the salt of the key hashes.
    """

    def __init__(self, engine: sa.Engine, *, secret: str | bytes) -> None:
        if not secret:
            raise ValueError("SqlSmartStore needs a secret (CRS_CDS_SECRET_KEY)")
        raw = secret.encode() if isinstance(secret, str) else secret
        self._salt = hashlib.sha256(b"crs-cds smart store ids\x00" + raw).digest()
        fernet_key = hashlib.sha256(b"crs-cds smart store payloads\x00" + raw).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(fernet_key))
        self._engine = engine
        smart_store_table.create(engine, checkfirst=True)

    def _key(self, kind: str, key: str) -> str:
        return hashlib.sha256(self._salt + kind.encode() + b"\x00" + key.encode()).hexdigest()

    def _seal(self, payload: Mapping[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(dict(payload)).encode()).decode("ascii")

    def _open(self, sealed: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._fernet.decrypt(sealed.encode("ascii")))
        except (InvalidToken, ValueError):
            return None  # written under another secret: as good as absent
        return data if isinstance(data, dict) else None

    def _put(self, kind: str, key: str, payload: Mapping[str, Any], expires_at: float) -> None:
        t = smart_store_table
        now = datetime.now(UTC).timestamp()
        with self._engine.begin() as conn:
            conn.execute(sa.delete(t).where(t.c.expires_at < now - 86400))
            conn.execute(sa.delete(t).where(t.c.key_hash == self._key(kind, key)))
            conn.execute(
                sa.insert(t).values(
                    key_hash=self._key(kind, key),
                    kind=kind,
                    expires_at=expires_at,
                    payload=self._seal(payload),
                )
            )

    def _get(self, kind: str, key: str, now: float) -> dict[str, Any] | None:
        t = smart_store_table
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(t.c.payload, t.c.expires_at).where(t.c.key_hash == self._key(kind, key))
            ).first()
        if row is None or row.expires_at <= now:
            return None
        return self._open(row.payload)

    def _pop(self, kind: str, key: str, now: float | None) -> dict[str, Any] | None:
        t = smart_store_table
        key_hash = self._key(kind, key)
        with self._engine.begin() as conn:
            row = conn.execute(
                sa.select(t.c.payload, t.c.expires_at).where(t.c.key_hash == key_hash)
            ).first()
            if row is None:
                return None
            deleted = conn.execute(sa.delete(t).where(t.c.key_hash == key_hash)).rowcount
        # Only the replica whose delete removed the row may use it: a state is used once.
        if deleted != 1 or (now is not None and row.expires_at <= now):
            return None
        return self._open(row.payload)
