"""Talking to `tessera serve` byte for byte, for the gateway tests: one request with
http.client and no client-side normalisation (`get`), or raw requests over one socket
(`connect`, `request`) with the answers read back in order (`ResponseReader`)."""

from __future__ import annotations

import http.client
import socket


def get(server, path, headers=None, method="GET"):
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=15)
    conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
    for k, v in (headers or {}).items():
        conn.putheader(k, v)
    conn.endheaders()
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def connect(server, timeout=15) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class ResponseReader:
    """Reads consecutive HTTP/1.1 responses from one socket, framed by Content-Length."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bool:
        data = self.sock.recv(1 << 20)
        self.buffer += data
        return bool(data)

    def next(self, head_request: bool = False) -> tuple[int, dict, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise EOFError(f"connection closed before a response head; have {self.buffer[:200]!r}")
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            assert name.lower() not in headers or name.lower() == "vary", f"repeated field {name}"
            headers[name.lower()] = value.strip()
        length = 0 if head_request or status == 304 else int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            if not self._fill():
                raise EOFError(f"connection closed {length - len(self.buffer)} bytes short of a body")
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, headers, body

    def closed(self) -> bool:
        """True once the server has closed its side (and sent nothing more)."""
        if self.buffer:
            return False
        return not self._fill()


def request(method: str, path: str, *fields: str) -> bytes:
    return (f"{method} {path} HTTP/1.1\r\nHost: test\r\n" + "".join(f + "\r\n" for f in fields) + "\r\n").encode()
