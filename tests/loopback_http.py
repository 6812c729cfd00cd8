"""Real HTTP servers on loopback: one standing in for Slack's Incoming Webhook endpoint (and for the
Phase 4 reprocess endpoint), one for the BigQuery REST API (a proxy in front of the emulator,
failing the calls a test chooses)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import requests


@dataclass
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class WebhookServer(http.server.ThreadingHTTPServer):
    """Answers each POST with the next scripted Reply (the last one repeats) and records it: its
    path, JSON, content type, every header and the raw body."""

    daemon_threads = True

    def __init__(self, replies: list[Reply]):
        self.replies = list(replies)
        self.received: list[dict] = []
        self.times: list[float] = []
        super().__init__(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/services/T0001/B0002/s3cretT0ken"

    @property
    def origin(self) -> str:
        """scheme://host:port, e.g. for another endpoint's URL on the same server."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def script(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def next_reply(self) -> Reply:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        server: WebhookServer = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        server.received.append({"path": self.path, "json": json.loads(body or b"null"),
                                "content_type": self.headers.get("Content-Type"),
                                "headers": dict(self.headers.items()), "body": body.decode("utf-8", "replace")})
        server.times.append(time.monotonic())
        reply = server.next_reply()
        if reply.delay:
            time.sleep(reply.delay)
        payload = reply.body.encode()
        try:
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting: that is what a slow server test is about


class BigQueryProxy(http.server.ThreadingHTTPServer):
    """Forwards every request to ``upstream`` (the emulator), except those ``fails(method, path)``
    picks: answered with ``status`` and Google's JSON error body. Without an upstream every
    request fails. Records (monotonic time, method, path without its query) of each request."""

    daemon_threads = True

    def __init__(self, upstream: str | None, fails: Callable[[str, str], bool] = lambda method, path: True,
                 status: int = 503):
        self.upstream, self.fails, self.status = upstream, fails, status
        self.seen: list[tuple[float, str, str]] = []
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def requests(self, method: str, path_part: str) -> list[float]:
        """When the requests of that method whose path contains ``path_part`` came."""
        return [when for when, seen_method, path in self.seen if seen_method == method and path_part in path]

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Google's front end: the client reuses its connection

    def log_message(self, *args):
        pass

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self):
        server: BigQueryProxy = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        path = self.path.split("?")[0]
        server.seen.append((time.monotonic(), self.command, path))
        if server.upstream is None or server.fails(self.command, path):
            reason = "backendError" if server.status >= 500 else "rateLimitExceeded"
            error = {"error": {"code": server.status, "message": "backend unavailable",
                               "errors": [{"reason": reason, "message": "backend unavailable"}]}}
            self._answer(server.status, json.dumps(error).encode(), {"Content-Type": "application/json"})
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        upstream = requests.request(self.command, server.upstream + self.path, data=body, headers=headers,
                                    timeout=60, allow_redirects=False)
        passed = {key: value for key, value in upstream.headers.items()
                  if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding")}
        location = passed.get("Location") or passed.get("location")
        if location:  # a resumable upload's session URL names the emulator: keep the client on the proxy
            passed = {k: v.replace(server.upstream, server.url) for k, v in passed.items()}
        self._answer(upstream.status_code, upstream.content, passed)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle
