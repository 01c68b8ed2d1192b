"""Keys and CDS Hooks JWTs for the security tests (CDS Hooks 2.0.1 section Trusting CDS
Clients)."""

from __future__ import annotations

import json
import time
import uuid
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ISSUER = "https://ehr.example.org"
JWKS_URL = "https://ehr.example.org/.well-known/jwks.json"
BASE = "http://localhost"


@lru_cache(maxsize=8)
def ec_key(name: str = "k1") -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


def public_jwk(kid: str = "k1") -> dict[str, Any]:
    jwk = ECAlgorithm.to_jwk(ec_key(kid).public_key(), as_dict=True)
    jwk.update({"kid": kid, "alg": "ES384", "use": "sig"})
    return jwk


def jwks(*kids: str) -> dict[str, Any]:
    return {"keys": [public_jwk(kid) for kid in kids]}


def token(
    path: str = "/cds-services",
    *,
    kid: str = "k1",
    headers: dict[str, Any] | None = None,
    now: float | None = None,
    **claims: Any,
) -> str:
    """A signed ES384 token for ``BASE + path``; ``claims`` override (None removes)."""
    issued = int(now if now is not None else time.time())
    body: dict[str, Any] = {
        "iss": ISSUER,
        "aud": f"{BASE}{path}",
        "exp": issued + 300,
        "iat": issued,
        "jti": str(uuid.uuid4()),
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(
        body, ec_key(kid), algorithm="ES384", headers={"kid": kid, "typ": "JWT", **(headers or {})}
    )


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def issuers(**entry: Any) -> str:
    """CRS_CDS_TRUSTED_ISSUERS with one issuer ``ISSUER``: inline k1 unless ``entry`` says."""
    return json.dumps({ISSUER: entry or {"jwks": jwks("k1")}})
