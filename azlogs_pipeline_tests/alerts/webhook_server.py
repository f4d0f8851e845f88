"""A webhook receiver on loopback for the alert tests: records every POST, can fail on purpose."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

TOKEN = "azlogs-hook-token-7f3a9cQ2x"
"""A recognizable secret in the webhook's path, searched for everywhere afterwards."""
PATH = f"/webhook/{TOKEN}"


@dataclass
class Receiver:
    url: str
    fail_first: int = 0
    """Answer 500 to this many POSTs before accepting."""
    requests: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted_ids(self) -> list[str]:
        return [p["detection_id"] for p in self.accepted if "detection_id" in p]


@contextmanager
def webhook_receiver(fail_first: int = 0) -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}{PATH}", fail_first)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            payload = orjson.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with receiver.lock:
                receiver.requests.append(payload)
                ok = self.path == PATH and len(receiver.requests) > receiver.fail_first
                if ok:
                    receiver.accepted.append(payload)
            self.send_response(200 if ok else 500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
