"""A fault-injecting HTTP proxy for S3 tests, on 127.0.0.1: forwards to the real server
but, at a set rate (seeded, so a failure can be replayed), answers 503 SlowDown, resets
the connection, or stalls in the middle of a response body. Faults that would leave the
server and client disagreeing about what happened (a lost answer to a multipart
complete) are only injected before forwarding, as on a real network they are rare and
S3 clients cannot recover from them either.

A `mode` instead injects one kind of misbehaviour of a faulty or hostile server, every time
(or only the first `times` times) a matching request passes; `counts[mode]` says how often:

- "list-loop": ListObjectsV2 pages always claim more to come, with the same continuation
  token, and a request with that token gets the first page again (a loop).
- "list-endless": the same, but with a new token on every page (a listing without end).
- "list-cut": a ListObjectsV2 page cut off in the middle of its XML, sent with a
  Content-Length that matches what is sent (so the transport sees nothing wrong).
- "list-flood": ListObjectsV2 answered 200 with a body that never ends (XML whitespace,
  chunked, stopped only by the client hanging up or after 1 GiB).
- "range-shift": a ranged GET `bytes=a-b` with a > 0 is forwarded for the range one byte
  earlier; the 206 answer's Content-Range honestly names that other range.
- "object-404": GET/HEAD of a chunk (any key not a Zarr metadata document) answers 404
  NoSuchKey, although the object is stored and listed.
- "lose-create": CreateMultipartUpload is forwarded (the server starts an upload) and the
  connection is then reset: the client never learns the upload's id.
- "lose-complete": CompleteMultipartUpload is forwarded (the server makes the object) and
  the connection is then reset: the client never learns it worked. A retried complete of
  that upload is answered 404 NoSuchUpload (not forwarded), as S3 answers once the upload
  is gone (moto would complete it a second time).
- "complete-no-such-upload": CompleteMultipartUpload answered 404 NoSuchUpload (not
  forwarded): the object was never made.
- "complete-internal-error": CompleteMultipartUpload answered `200 OK` with an
  InternalError document in the body (not forwarded), as AWS documents it may.
- "permanent-redirect": every request answered 301 PermanentRedirect, the bucket being in
  eu-west-1 (x-amz-bucket-region header and an <Endpoint> in the body).
- "wrong-region": every request answered 400 AuthorizationHeaderMalformed, expecting
  eu-west-1 (a <Region> in the body, as AWS sends it)."""

from __future__ import annotations

import http.client
import random
import re
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

MODES = ("list-loop", "list-endless", "list-cut", "list-flood", "range-shift", "object-404", "lose-create",
         "lose-complete", "complete-no-such-upload", "complete-internal-error", "permanent-redirect", "wrong-region")
METADATA_NAMES = ("zarr.json", ".zarray", ".zgroup", ".zattrs")
OTHER_REGION = "eu-west-1"


def error_document(code: str, message: str, extra: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"{extra}<RequestId>FAULT</RequestId></Error>").encode()


def request_kind(command: str, path: str, headers) -> str | None:
    """Which S3 operation a (path-style) request is, as far as the modes care."""
    parts = urlsplit(path)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    segments = [s for s in parts.path.split("/") if s]
    if command == "GET" and query.get("list-type") == "2":
        return "list"
    if command == "POST" and "uploads" in query:
        return "create"
    if command == "POST" and "uploadId" in query:
        return "complete"
    if command in ("GET", "HEAD") and len(segments) > 1 and not query:
        if segments[-1] in METADATA_NAMES:
            return "metadata"
        return "ranged" if command == "GET" and headers.get("Range") else "object"
    return None


def shifted_range(header: str) -> str:
    """`bytes=a-b` → `bytes=(a-1)-(b-1)` when a > 0: the same length, one byte earlier (so
    an uncompressed chunk read there still decodes, to wrong values). Others unchanged."""
    first, _, last = header.removeprefix("bytes=").partition("-")
    if not first or int(first) == 0:
        return header
    return f"bytes={int(first) - 1}-" + (str(int(last) - 1) if last else "")


def looping_page(body: bytes, token: str) -> bytes:
    """A ListObjectsV2 page rewritten to say more follows, after `token`."""
    text = body.decode()
    text = re.sub(r"<NextContinuationToken>.*?</NextContinuationToken>", "", text)
    text = text.replace("<IsTruncated>false</IsTruncated>", "<IsTruncated>true</IsTruncated>")
    text = text.replace("</ListBucketResult>", f"<NextContinuationToken>{token}</NextContinuationToken></ListBucketResult>")
    return text.encode()


class FaultProxy:
    def __init__(self, upstream_port: int, rate: float = 0.0, seed: int = 1, stall_seconds: float = 4.0,
                 mode: str | None = None, times: int | None = None):
        assert mode is None or mode in MODES, mode
        self.upstream_port = upstream_port
        self.rate = rate
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.stall_seconds = stall_seconds
        self.mode = mode
        self.times = times
        self.hosts = []  # the Host header of every request, in order
        self.requests = []  # (method, path) of every request, in order, e.g. to count PUTs
        self.completed = set()  # uploads whose complete was forwarded and its answer lost
        self.counts = {"forwarded": 0, "503": 0, "reset": 0, "stall": 0, **({mode: 0} if mode else {})}
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy.lock:
                    proxy.hosts.append(self.headers.get("Host", ""))
                    proxy.requests.append((self.command, self.path))
                if proxy.mode and self.moded(body):
                    return
                fault = proxy.pick(self.command)
                if fault == "503":
                    payload = b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"
                    self.send_response(503)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if fault == "reset":
                    self.reset()
                status, response_headers, data = self.forward(body)
                stall = fault == "stall" and len(data) > 1 and self.command != "HEAD"
                self.answer(status, response_headers, data, send_body=not stall)
                if stall:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    time.sleep(proxy.stall_seconds)
                    self.close_connection = True
                    return

            def forward(self, body: bytes, path: str | None = None, headers: dict | None = None):
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                if headers is None:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                upstream.request(self.command, path or self.path, body=body, headers=headers)
                resp = upstream.getresponse()
                data = resp.read()
                upstream.close()
                with proxy.lock:
                    proxy.counts["forwarded"] += 1
                # A HEAD answer's Content-Length is the object's size: it is kept as sent.
                dropped = ("transfer-encoding", "connection", "date", "server") + (() if self.command == "HEAD" else ("content-length",))
                kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in dropped]
                return resp.status, kept, data

            def answer(self, status: int, headers, data: bytes, send_body: bool = True):
                """Sends an answer whose Content-Length always matches `data`."""
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                if not any(k.lower() == "content-length" for k, _ in headers):
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if send_body and self.command != "HEAD":
                    self.wfile.write(data)

            def reset(self):
                # RST instead of FIN: the client sees "connection reset by peer".
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                raise ConnectionAbortedError

            def moded(self, body: bytes) -> bool:
                """Answers the request as `proxy.mode` says, if it applies; False to go on normally."""
                mode, kind = proxy.mode, request_kind(self.command, self.path, self.headers)
                xml = [("Content-Type", "application/xml")]
                if mode in ("list-loop", "list-endless") and kind == "list":
                    parts = urlsplit(self.path)
                    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
                    token = dict(query).get("continuation-token", "")
                    path = self.path
                    if token.startswith("fault-"):  # one of ours: the server never issued it
                        path = parts.path + "?" + urlencode([(k, v) for k, v in query if k != "continuation-token"])
                    if not proxy.take():
                        return False
                    status, headers, data = self.forward(body, path=path)
                    n = proxy.counts[mode]
                    self.answer(status, headers, looping_page(data, "fault-loop" if mode == "list-loop" else f"fault-{n}"))
                    return True
                if mode == "list-cut" and kind == "list" and proxy.take():
                    status, headers, data = self.forward(body)
                    self.answer(status, headers, data[: len(data) // 2])
                    return True
                if mode == "list-flood" and kind == "list" and proxy.take():
                    self.send_response(200)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    block = b" " * (1 << 20)
                    chunk = f"{len(block):x}\r\n".encode() + block + b"\r\n"
                    for _ in range(1024):  # 1 GiB at most; the client hangs up long before
                        self.wfile.write(chunk)
                    self.wfile.write(b"0\r\n\r\n")
                    return True
                if mode == "range-shift" and kind == "ranged" and shifted_range(self.headers["Range"]) != self.headers["Range"] \
                        and proxy.take():
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "range")}
                    headers["Range"] = shifted_range(self.headers["Range"])
                    status, response_headers, data = self.forward(body, headers=headers)
                    self.answer(status, response_headers, data)
                    return True
                if mode == "object-404" and kind in ("object", "ranged") and proxy.take():
                    self.answer(404, xml, error_document("NoSuchKey", "The specified key does not exist."))
                    return True
                if mode == "lose-create" and kind == "create" and proxy.take():
                    self.forward(body)
                    self.reset()
                if mode == "lose-complete" and kind == "complete":
                    upload = dict(parse_qsl(urlsplit(self.path).query)).get("uploadId")
                    with proxy.lock:
                        gone = upload in proxy.completed
                    if gone:
                        self.answer(404, xml, error_document("NoSuchUpload", "The specified upload does not exist."))
                        return True
                    if proxy.take():
                        self.forward(body)
                        with proxy.lock:
                            proxy.completed.add(upload)
                        self.reset()
                if mode == "complete-no-such-upload" and kind == "complete" and proxy.take():
                    self.answer(404, xml, error_document("NoSuchUpload", "The specified upload does not exist."))
                    return True
                if mode == "complete-internal-error" and kind == "complete" and proxy.take():
                    self.answer(200, xml, error_document("InternalError", "We encountered an internal error. Please try again."))
                    return True
                if mode == "permanent-redirect" and proxy.take():
                    self.answer(301, xml + [("x-amz-bucket-region", OTHER_REGION)], error_document(
                        "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified "
                        "endpoint. Please send all future requests to this endpoint.",
                        f"<Endpoint>s3.{OTHER_REGION}.amazonaws.com</Endpoint>"))
                    return True
                if mode == "wrong-region" and proxy.take():
                    self.answer(400, xml, error_document(
                        "AuthorizationHeaderMalformed",
                        f"The authorization header is malformed; the region 'us-east-1' is wrong; expecting '{OTHER_REGION}'",
                        f"<Region>{OTHER_REGION}</Region>"))
                    return True
                return False

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

    def take(self) -> bool:
        """Whether `mode` strikes this time (every time, or the first `times` times)."""
        with self.lock:
            if self.times is not None and self.counts[self.mode] >= self.times:
                return False
            self.counts[self.mode] += 1
            return True

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
