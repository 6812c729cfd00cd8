"""A real HTTP server on loopback standing in for Slack's Incoming Webhook endpoint."""

from __future__ import annotations

import http.server
import json
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class WebhookServer(http.server.ThreadingHTTPServer):
    """Answers each POST with the next scripted Reply (the last one repeats) and records it."""

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
                                "content_type": self.headers.get("Content-Type")})
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
