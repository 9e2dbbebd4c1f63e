"""A fault-injecting HTTP proxy for S3 tests, on 127.0.0.1: forwards to the real server
but, at a set rate (seeded, so a failure can be replayed), answers 503 SlowDown, resets
the connection, or stalls in the middle of a response body. Faults that would leave the
server and client disagreeing about what happened (a lost answer to a multipart
complete) are only injected before forwarding, as on a real network they are rare and
S3 clients cannot recover from them either."""

from __future__ import annotations

import http.client
import random
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FaultProxy:
    def __init__(self, upstream_port: int, rate: float, seed: int = 1, stall_seconds: float = 4.0):
        self.upstream_port = upstream_port
        self.rate = rate
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.stall_seconds = stall_seconds
        self.counts = {"forwarded": 0, "503": 0, "reset": 0, "stall": 0}
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy.pick(self.command)
                if fault == "503":
                    payload = b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"
                    self.send_response(503)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if fault == "reset":
                    # RST instead of FIN: the client sees "connection reset by peer".
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    raise ConnectionAbortedError
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                upstream.request(self.command, self.path, body=body, headers=headers)
                resp = upstream.getresponse()
                data = resp.read()
                upstream.close()
                with proxy.lock:
                    proxy.counts["forwarded"] += 1
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length", "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if fault == "stall" and len(data) > 1 and self.command != "HEAD":
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    time.sleep(proxy.stall_seconds)
                    self.close_connection = True
                    return
                if self.command != "HEAD":
                    self.wfile.write(data)

            def do_GET(self): self.safe()
            def do_PUT(self): self.safe()
            def do_POST(self): self.safe()
            def do_DELETE(self): self.safe()
            def do_HEAD(self): self.safe()

            def safe(self):
                try:
                    self.handle_one()
                except (ConnectionAbortedError, BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def pick(self, method: str) -> str | None:
        with self.lock:
            if self.random.random() >= self.rate:
                return None
            kinds = ["503", "reset"] + (["stall"] if method == "GET" else [])
            fault = self.random.choice(kinds)
            self.counts[fault] += 1
            return fault

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
