"""An HTTP proxy in front of the live source server that misbehaves when told to.

Requests pass through to the real server unless a fault matches them (a byte string found
in the request body): the proxy then waits before passing it on (a slow source), answers an
HTTP status itself (a gateway in trouble), or answers a JSON-RPC error (the source failing
one call). Each fault fires a given number of times.
"""

import json
import logging
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

_logger = logging.getLogger(__name__)


@dataclass
class Fault:
    match: bytes
    action: str  # "delay", "status" or "rpc_error"
    argument: object
    times: int
    after: int = 0  # matching requests let through before it fires
    fired: int = 0
    seen: int = 0


class FaultProxy:
    def __init__(self, upstream):
        self.upstream = upstream.rstrip("/")
        self.faults = []
        self.seen = []  # (matching fault, request body) of the requests a fault fired on
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy._answer(self, body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, match, action, argument=None, times=1, after=0):
        fault = Fault(match, action, argument, times, after)
        self.faults.append(fault)
        return fault

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _fault_for(self, body):
        with self._lock:
            for fault in self.faults:
                if fault.fired < fault.times and fault.match in body:
                    fault.seen += 1
                    if fault.seen > fault.after:
                        fault.fired += 1
                        self.seen.append((fault, body))
                        return fault
        return None

    def _answer(self, handler, body):
        fault = self._fault_for(body)
        if fault and fault.action == "status":
            return self._send(handler, fault.argument, b"gateway trouble", "text/plain")
        if fault and fault.action == "rpc_error":
            request_id = json.loads(body).get("id")
            error = {
                "code": 200,
                "message": "Odoo Server Error",
                "data": {"name": "builtins.MemoryError", "message": fault.argument, "debug": ""},
            }
            answer = json.dumps({"jsonrpc": "2.0", "id": request_id, "error": error}).encode()
            return self._send(handler, 200, answer, "application/json")
        if fault and fault.action == "delay":
            time.sleep(fault.argument)
        response = requests.post(
            self.upstream + handler.path,
            data=body,
            headers={"Content-Type": handler.headers.get("Content-Type", "application/json")},
            timeout=120,
        )
        self._send(
            handler, response.status_code, response.content, response.headers.get("Content-Type")
        )

    @staticmethod
    def _send(handler, status, content, content_type):
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type or "application/octet-stream")
            handler.send_header("Content-Length", str(len(content)))
            handler.end_headers()
            handler.wfile.write(content)
        except (BrokenPipeError, ConnectionResetError) as exc:
            # the client gave up waiting: the slow source it was meant to see
            _logger.debug("fault proxy: the client left before the answer: %s", exc)
