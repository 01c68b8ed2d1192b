"""CORS headers on every response, errors and preflights included.

Browser-based CDS clients (the public CDS Hooks sandbox among them) call from another origin
(CDS Hooks 2.0.1 section Cross-Origin Resource Sharing). ``*`` is safe here: the service uses
no cookies, and every /cds-services call carries its own JWT in ``Authorization``. Flask answers
``OPTIONS`` itself for every route; this adds the headers the preflight needs. A browser that
asks for Private Network Access (a public page such as the sandbox calling a service on
localhost) is told yes: the JWT, not the network, is what protects the service.
"""

from __future__ import annotations

from flask import Flask, Response, request

__all__ = ["CORS_HEADERS", "init_app"]

CORS_HEADERS: dict[str, str] = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "3600",
}


def init_app(app: Flask) -> None:
    """Add the CORS headers to every response of ``app``."""

    @app.after_request
    def add_cors_headers(response: Response) -> Response:
        for name, value in CORS_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.headers.get("Access-Control-Request-Private-Network") == "true":
            response.headers["Access-Control-Allow-Private-Network"] = "true"
        return response
