"""`tessera serve` at the connection level: what HTTP/1.1 clients do besides one request
per round trip. Pipelined requests that mix answers from the event-loop fast path and
from the Hummingbird responder, heads split across packets, requests with bodies,
HTTP/1.0, half-closed connections, clients that send without reading, and SIGTERM in the
middle of a download. Every check runs against both answer paths (TESSERA_FAST_PATH=0
sends everything through the responder), over real sockets, bytes as sent."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from gateway_server import GatewayServer
from http_exchange import ResponseReader, connect, request

PAYLOAD = bytes((i * 7 + 3) % 251 for i in range(200_000))  # sendfile on the fast path; small ranges of it are read inline
BIG = bytes((i * 13 + 5) % 253 for i in range(3 * 2**20 + 77))  # sendfile on the fast path, 256 KiB pieces in the responder
CHUNK = "/data/img/0/c/0/0"


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("gateway-connection") / "data"
    (data / "img" / "0" / "c" / "0").mkdir(parents=True)
    (data / "img" / "zarr.json").write_text('{"zarr_format":3,"node_type":"group","attributes":{}}')
    (data / "img" / "0" / "zarr.json").write_text('{"zarr_format":3,"node_type":"array","shape":[1]}')
    (data / "img" / "0" / "c" / "0" / "0").write_bytes(PAYLOAD)
    (data / "big").write_bytes(BIG)
    return data


def start(tessera_bin, tree, mode):
    env = {"TESSERA_FAST_PATH": "0" if mode == "responder" else "1"}
    return GatewayServer(tessera_bin, "--root", f"data={tree}", env=env)


@pytest.fixture(scope="module", params=["fast-path", "responder"])
def server(request, tessera_bin, tree):
    srv = start(tessera_bin, tree, request.param)
    yield srv
    assert srv.stop() == 0, "tessera serve must exit 0 on SIGTERM"


def test_pipelined_requests_mixing_both_paths_answer_in_order(server):
    # Chunks and 404s take the fast path; zarr.json (consolidated metadata), OPTIONS,
    # /healthz and 405s take the responder. Sent in one write, answered in order.
    sequence = [
        (request("GET", CHUNK, "Range: bytes=0-9"), False, 206, PAYLOAD[0:10]),
        (request("GET", "/data/img/zarr.json"), False, 200, None),
        (request("GET", "/data/img/missing"), False, 404, b""),
        (request("OPTIONS", CHUNK, "Origin: https://viewer.example", "Access-Control-Request-Method: GET"), False, 204, b""),
        (request("HEAD", CHUNK), True, 200, b""),
        (request("GET", CHUNK, "Range: bytes=-5"), False, 206, PAYLOAD[-5:]),
        (request("DELETE", CHUNK), False, 405, b""),
        (request("GET", "/healthz"), False, 200, b"ok\n"),
        (request("GET", CHUNK), False, 200, PAYLOAD),
        (request("GET", "/data/big", "Range: bytes=1048576-1048675"), False, 206, BIG[1048576:1048676]),
        (request("GET", CHUNK, "Range: bytes=10-19", "Connection: close"), False, 206, PAYLOAD[10:20]),
    ]
    with connect(server) as s:
        s.sendall(b"".join(r for r, *_ in sequence))
        reader = ResponseReader(s)
        for i, (_, is_head, status, body) in enumerate(sequence):
            got_status, headers, got_body = reader.next(head_request=is_head)
            assert got_status == status, (i, got_status, headers)
            if body is not None:
                assert got_body == body, i
            else:
                assert b'"consolidated_metadata"' in got_body
        assert reader.closed(), "the server keeps the connection open after Connection: close"


def test_heads_split_across_packets(server):
    # One byte per packet for a whole request, then a request split inside its
    # header block: the fast path must wait for the complete head, not guess.
    with connect(server) as s:
        for b in request("GET", CHUNK, "Range: bytes=5-14", "If-None-Match: \"nope\""):
            s.send(bytes([b]))
            time.sleep(0.0005)
        reader = ResponseReader(s)
        status, _, body = reader.next()
        assert status == 206 and body == PAYLOAD[5:15]
        second = request("GET", CHUNK, "Range: bytes=-3")
        s.send(second[:20])
        time.sleep(0.05)
        s.send(second[20:-2])
        time.sleep(0.05)
        s.send(second[-2:])
        status, _, body = reader.next()
        assert status == 206 and body == PAYLOAD[-3:]


def test_a_request_with_a_body_then_plain_requests(server):
    # A body belongs to NIO's parser; the connection must go on working afterwards.
    with connect(server) as s:
        s.sendall(b"POST " + CHUNK.encode() + b" HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello"
                  + request("GET", CHUNK, "Range: bytes=0-3")
                  + b"PUT /data/x HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                  + request("GET", "/data/img/missing"))
        reader = ResponseReader(s)
        assert reader.next()[0] == 405
        status, _, body = reader.next()
        assert status == 206 and body == PAYLOAD[:4]
        assert reader.next()[0] == 405
        assert reader.next()[0] == 404


def test_http_1_0_closes_after_the_answer(server):
    with connect(server) as s:
        s.sendall(f"GET {CHUNK} HTTP/1.0\r\nRange: bytes=0-9\r\n\r\n".encode())
        reader = ResponseReader(s)
        status, _, body = reader.next()
        assert status == 206 and body == PAYLOAD[:10]
        assert reader.closed()


def test_half_closed_client_gets_every_answer(server):
    # A client may shut down its sending side right after its last request.
    with connect(server) as s:
        s.sendall(request("GET", "/data/big") + request("GET", CHUNK) + request("GET", "/data/big", "Range: bytes=-100"))
        s.shutdown(socket.SHUT_WR)
        reader = ResponseReader(s)
        assert reader.next()[2] == BIG
        assert reader.next()[2] == PAYLOAD
        assert reader.next()[2] == BIG[-100:]


def test_a_client_that_sends_without_reading_cannot_grow_the_server(server):
    # 600 pipelined requests for 200 kB each (120 MB of answers) while reading nothing:
    # the server must stop reading rather than queue the answers in memory.
    before = server.rss_kib()
    with connect(server, timeout=60) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        batch = request("GET", CHUNK) * 600
        sender = threading.Thread(target=lambda: s.sendall(batch), daemon=True)
        sender.start()
        time.sleep(1.5)
        grown = server.rss_kib() - before
        reader = ResponseReader(s)
        for _ in range(600):
            status, _, body = reader.next()
            assert status == 200 and len(body) == len(PAYLOAD)
        sender.join(timeout=30)
    assert grown < 40 * 1024, f"RSS grew by {grown} KiB while the client was not reading"


@pytest.mark.parametrize("mode", ["fast-path", "responder"])
def test_sigterm_lets_a_download_in_progress_finish(tessera_bin, tree, mode):
    srv = start(tessera_bin, tree, mode)
    try:
        with connect(srv, timeout=30) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
            s.sendall(request("GET", "/data/big"))
            reader = ResponseReader(s)
            while len(reader.buffer) < 100_000:  # the download has started ...
                reader._fill()
            srv.proc.send_signal(15)  # ... when the server is told to stop
            time.sleep(0.3)
            status, _, body = reader.next()
            assert status == 200 and body == BIG
    finally:
        assert srv.stop() == 0


def test_a_file_truncated_while_sent_ends_the_connection(server, tree):
    # A file cut short in place during a transfer can no longer fill the Content-Length
    # already sent: the answer must end with the connection (the client sees a short
    # body), never leave the client waiting or the server spinning.
    # Larger than any socket buffer, so most of it is still in the file when it shrinks.
    victim = tree / f"truncated-{server.proc.pid}"
    victim.write_bytes(BIG * 12)
    with connect(server, timeout=20) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        s.sendall(request("GET", "/data/" + victim.name))
        reader = ResponseReader(s)
        while len(reader.buffer) < 50_000:
            reader._fill()
        with open(victim, "r+b") as f:
            f.truncate(1_000_000)
        started = time.time()
        with pytest.raises(EOFError, match="short of a body"):
            reader.next()
        assert time.time() - started < 10
    status, _, body = ResponseReader_get(server, CHUNK)
    assert status == 200 and body == PAYLOAD


def ResponseReader_get(server, path):
    with connect(server) as s:
        s.sendall(request("GET", path))
        return ResponseReader(s).next()


@pytest.mark.parametrize("head", [
    f"GET {CHUNK} HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
    f"GET {CHUNK} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",  # two Host fields
    f"GET {CHUNK} HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n",
])
def test_host_field_rules_get_400(server, head):
    # RFC 9112 section 3.2: exactly one Host in HTTP/1.1, never two; anything else is a 400.
    with connect(server) as s:
        s.sendall(head.encode())
        reader = ResponseReader(s)
        status, _, body = reader.next()
        assert status == 400 and body == b""
        assert reader.closed()


def test_http_1_0_without_host_is_served(server):
    with connect(server) as s:
        s.sendall(f"GET {CHUNK} HTTP/1.0\r\n\r\n".encode())
        status, _, body = ResponseReader(s).next()
        assert status == 200 and body == PAYLOAD
