"""A real HTTP server on 127.0.0.1 for tests where timing and sockets matter (``responses``
cannot trickle bytes): each path answers with a behaviour the test chooses, every behaviour is
bounded in time and stops when the server closes.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable
from typing import Any

Handler = http.server.BaseHTTPRequestHandler
Behaviour = Callable[[Handler, "LoopbackServer"], None]

#: How long a trickling behaviour would go on if nothing cut it (the tests' "would end").
TRICKLE_LIMIT_S = 60.0
TRICKLE_INTERVAL_S = 0.2


class LoopbackServer:
    """A threaded HTTP/1.1 server on 127.0.0.1; ``route(path, behaviour)`` per exact path."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Behaviour] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path)
        self.connections = 0
        self.closing = threading.Event()
        server = self

        class RequestHandler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                server.connections += 1
                super().setup()

            def _answer(self) -> None:
                server.requests.append((self.command, self.path))
                length = int(self.headers.get("Content-Length") or 0)
                self.body = self.rfile.read(length) if length else b""
                behaviour = server.routes.get(self.path.split("?")[0])
                try:
                    if behaviour is None:
                        send_json(self, {"error": "no route"}, status=404)
                    else:
                        behaviour(self, server)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = _answer  # noqa: N815 - http.server's naming
            do_POST = _answer  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._httpd = http.server.ThreadingHTTPServer((host, 0), RequestHandler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def route(self, path: str, behaviour: Behaviour) -> str:
        """Answer ``path`` with ``behaviour``; return its absolute URL."""
        self.routes[path] = behaviour
        return self.base_url + path

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def send_json(handler: Handler, document: Any, status: int = 200) -> None:
    body = json.dumps(document).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()


def answer_json(document: Any, status: int = 200) -> Behaviour:
    return lambda handler, _: send_json(handler, document, status)


def trickle_headers(handler: Handler, server: LoopbackServer) -> None:
    """A status line, then one header byte per interval: no read ever times out."""
    handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    handler.wfile.flush()
    _trickle(handler, server)


def trickle_body(handler: Handler, server: LoopbackServer) -> None:
    """Headers, then a JSON body one byte per interval, its end marked by closing (no
    Content-Length, so no size limit can refuse it early)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(b'{"keys": [')
    handler.wfile.flush()
    _trickle(handler, server)


def _trickle(handler: Handler, server: LoopbackServer) -> None:
    for _ in range(int(TRICKLE_LIMIT_S / TRICKLE_INTERVAL_S)):
        if server.closing.wait(TRICKLE_INTERVAL_S):
            break
        handler.wfile.write(b" ")
        handler.wfile.flush()
    handler.close_connection = True


def redirect(location: str, status: int = 302) -> Behaviour:
    def behaviour(handler: Handler, _: LoopbackServer) -> None:
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return behaviour
