"""`tessera serve` at the HTTP level: ranges, HEAD, validators, CORS, 404s, methods, the
hostile-path corpus and malformed ranges. Every request goes over a real socket to the
real server; hostile paths are sent byte-for-byte (no client normalisation)."""

from __future__ import annotations

import http.client
import os
import socket
import time
from pathlib import Path

import pytest

from gateway_server import GatewayServer
from http_exchange import get

MARKER = b"TESSERA-OUTSIDE-THE-ROOT"
PAYLOAD = bytes((i * 7 + 3) % 251 for i in range(200_000))
BIG = bytes((i * 13 + 5) % 253 for i in range(3 * 2**20 + 77))  # above the 1 MiB inline limit


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("gateway-http")
    data = base / "data"
    (data / "img" / "0" / "c" / "0").mkdir(parents=True)
    (data / "img" / "zarr.json").write_text('{"zarr_format":3,"node_type":"group","attributes":{}}')
    (data / "img" / "0" / "zarr.json").write_text('{"zarr_format":3,"node_type":"array","shape":[1]}')
    (data / "img" / "0" / "c" / "0" / "0").write_bytes(PAYLOAD)
    (data / "empty").write_bytes(b"")
    (data / "big").write_bytes(BIG)
    (data / "v2").mkdir()
    (data / "v2" / ".zgroup").write_text('{"zarr_format":2}')
    (data / "v2" / ".zattrs").write_text('{"a":1}')
    (data / "v2" / "0").mkdir()
    (data / "v2" / "0" / ".zarray").write_text('{"zarr_format":2,"shape":[3]}')
    (data / "%2e%2e").mkdir()  # a real folder literally named %2e%2e: reachable only by double encoding
    (data / "%2e%2e" / "literal").write_bytes(b"literal")
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(MARKER)
    (data / "link-out").symlink_to(outside / "secret.txt")
    (data / "rel-link-out").symlink_to(Path("..") / "outside" / "secret.txt")
    (data / "dir-out").symlink_to(outside)
    (data / "etc-link").symlink_to("/etc/passwd")
    (data / "img" / "up").symlink_to(Path("..") / ".." / "outside")
    return base


@pytest.fixture(scope="module", params=["fast-path", "responder"])
def server(request, tessera_bin, tree):
    # Plain object requests to public local roots are answered on the event loop
    # (Gateway.fastAnswer); TESSERA_FAST_PATH=0 sends them through the Hummingbird responder.
    # Every test here runs against both, so the two answer identically.
    env = {"TESSERA_FAST_PATH": "0" if request.param == "responder" else "1"}
    srv = GatewayServer(tessera_bin, "--root", f"data={tree / 'data'}", "--root", f"second={tree / 'data' / 'v2'}", env=env)
    yield srv
    assert srv.stop() == 0, "tessera serve must exit 0 on SIGTERM"


def raw_request(url: str, request: bytes, timeout: float = 10) -> tuple[int, bytes, bytes]:
    """Sends bytes as-is; returns (status, head, body). Status 0 when the server closed
    the connection without an answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(request)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                pytest.fail(f"server hung on {request[:120]!r}")
            if not b:
                break
            chunks.append(b)
    data = b"".join(chunks)
    if not data:
        return 0, b"", b""
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), head, body


CHUNK = "/data/img/0/c/0/0"


# --- ranges --------------------------------------------------------------------------

@pytest.mark.parametrize("header,start,end", [
    ("bytes=0-99", 0, 99),
    ("bytes=100-", 100, len(PAYLOAD) - 1),
    ("bytes=-16", len(PAYLOAD) - 16, len(PAYLOAD) - 1),
    ("bytes=-500000", 0, len(PAYLOAD) - 1),
    ("bytes=199990-300000", 199990, len(PAYLOAD) - 1),
    ("bytes=0-0", 0, 0),
    ("bytes=0-99999999999999999999999999", 0, len(PAYLOAD) - 1),
])
def test_single_ranges_are_exact(server, header, start, end):
    status, h, body = get(server, CHUNK, {"Range": header})
    assert status == 206, (header, status)
    assert h["content-range"] == f"bytes {start}-{end}/{len(PAYLOAD)}"
    assert int(h["content-length"]) == end - start + 1
    assert body == PAYLOAD[start:end + 1]
    assert "content-encoding" not in h


@pytest.mark.parametrize("header", [
    "bytes=200000-", "bytes=999999-1000000", "bytes=-0", "bytes=5-1", "bytes=abc", "bytes=",
    "bytes=-", "bytes=0-1,5-6", "bytes=" + ",".join(["0-1"] * 2000), "bytes=99999999999999999999999999-",
    "bytes=--5", "bytes=1-2-3", "bytes=0x10-0x20", "bytes=\t-\t",
])
def test_unsatisfiable_or_malformed_ranges_get_416(server, header):
    status, h, body = get(server, CHUNK, {"Range": header})
    assert status == 416, (header, status)
    assert h["content-range"] == f"bytes */{len(PAYLOAD)}"
    assert body == b""


@pytest.mark.parametrize("header,start,end", [
    (None, 0, len(BIG) - 1),                                   # streamed in pieces
    ("bytes=-1028", len(BIG) - 1028, len(BIG) - 1),            # a shard index: small range of a big object
    ("bytes=1048570-1114105", 1048570, 1114105),               # an inner chunk across a piece boundary
    ("bytes=100-", 100, len(BIG) - 1),                         # a large range: streamed
])
def test_large_objects_whole_and_in_ranges(server, header, start, end):
    status, h, body = get(server, "/data/big", {"Range": header} if header else {})
    assert status == (206 if header else 200)
    assert int(h["content-length"]) == end - start + 1 == len(body)
    if header:
        assert h["content-range"] == f"bytes {start}-{end}/{len(BIG)}"
    assert body == BIG[start:end + 1]


def test_other_range_units_are_ignored(server):
    status, h, body = get(server, CHUNK, {"Range": "items=0-5"})
    assert status == 200 and body == PAYLOAD


def test_suffix_range_of_an_empty_object_is_416(server):
    status, h, _ = get(server, "/data/empty", {"Range": "bytes=-4"})
    assert status == 416 and h["content-range"] == "bytes */0"
    status, h, body = get(server, "/data/empty")
    assert status == 200 and body == b"" and h["content-length"] == "0"


def test_if_range(server):
    _, h, _ = get(server, CHUNK)
    status, _, body = get(server, CHUNK, {"Range": "bytes=0-9", "If-Range": h["etag"]})
    assert status == 206 and body == PAYLOAD[:10]
    status, _, body = get(server, CHUNK, {"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert status == 200 and body == PAYLOAD


# --- HEAD, validators, headers -----------------------------------------------------------

def test_head_mirrors_get(server):
    gs, gh, gbody = get(server, CHUNK)
    hs, hh, hbody = get(server, CHUNK, method="HEAD")
    assert gs == hs == 200 and hbody == b""
    for name in ("content-length", "etag", "last-modified", "content-type", "accept-ranges", "cache-control"):
        assert gh[name] == hh[name], name
    assert int(hh["content-length"]) == len(PAYLOAD)
    hs, hh, _ = get(server, CHUNK, {"Range": "bytes=-16"}, method="HEAD")
    assert hs == 206 and hh["content-length"] == "16" and hh["content-range"].endswith(f"/{len(PAYLOAD)}")
    assert get(server, "/data/img/missing", method="HEAD")[0] == 404


def test_validators_and_304(server):
    status, h, _ = get(server, CHUNK)
    etag = h["etag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert h["accept-ranges"] == "bytes"
    assert "date" in h and h["date"].endswith("GMT")
    assert get(server, CHUNK, {"If-None-Match": etag})[0] == 304
    assert get(server, CHUNK, {"If-None-Match": f'"nope", {etag}'})[0] == 304
    assert get(server, CHUNK, {"If-None-Match": '"nope"'})[0] == 200
    assert get(server, CHUNK, {"If-Modified-Since": h["last-modified"]})[0] == 304
    assert get(server, CHUNK, {"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"})[0] == 200
    assert get(server, CHUNK, {"If-Match": '"nope"'})[0] == 412
    status, h304, body = get(server, CHUNK, {"If-None-Match": etag})
    assert body == b"" and h304["etag"] == etag


def test_no_content_encoding_even_when_asked(server):
    status, h, body = get(server, CHUNK, {"Accept-Encoding": "gzip, br, zstd"})
    assert status == 200 and "content-encoding" not in h and body == PAYLOAD


def test_metadata_is_json(server):
    for path in ("/data/img/zarr.json", "/data/img/0/zarr.json", "/data/v2/.zgroup", "/data/v2/.zattrs", "/data/v2/0/.zarray"):
        status, h, _ = get(server, path)
        assert status == 200 and h["content-type"] == "application/json", path
    assert get(server, CHUNK)[1]["content-type"] == "application/octet-stream"


def test_missing_keys_are_empty_404s(server):
    for path in ("/data/img/0/c/9/9", "/data/img/0/.zarray", "/data/img/0/.zmetadata", "/nope/zarr.json",
                 "/data/", "/data", "/data/img/", "/data/img/0"):
        status, h, body = get(server, path)
        assert status == 404 and body == b"", (path, status, body[:80])
        assert "location" not in h and "text/html" not in h.get("content-type", "")


def test_listing_only_when_enabled(tessera_bin, tree):
    with GatewayServer(tessera_bin, "--root", f"data={tree / 'data'}", "--listing") as srv:
        import json
        status, h, body = get(srv, "/data/img/")
        assert status == 200 and h["content-type"] == "application/json"
        doc = json.loads(body)
        assert doc["folders"] == ["0"] and [o["key"] for o in doc["objects"]] == ["zarr.json"]
        status, _, body = get(srv, "/data/")
        names = json.loads(body)
        # symlinks are neither listed nor followed
        assert "link-out" not in str(names) and "dir-out" not in names["folders"]
        assert get(srv, "/data/dir-out/")[0] == 404


def test_methods_other_than_read_are_refused(server, tree):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        status, h, _ = get(server, "/data/img/new-object", method=method)
        assert status == 405 and "GET" in h["allow"], method
    assert not (tree / "data" / "img" / "new-object").exists()


# --- CORS ----------------------------------------------------------------------------

def test_cors_on_answers_and_preflight(server):
    status, h, _ = get(server, CHUNK, {"Origin": "http://viewer.example", "Range": "bytes=-16"})
    assert status == 206 and h["access-control-allow-origin"] == "*"
    exposed = {x.strip().lower() for x in h["access-control-expose-headers"].split(",")}
    assert {"content-range", "content-length", "etag"} <= exposed
    status, h, body = get(server, CHUNK, {"Origin": "http://viewer.example", "Access-Control-Request-Method": "GET",
                                          "Access-Control-Request-Headers": "range"}, method="OPTIONS")
    assert status == 204 and body == b""
    assert "range" in h["access-control-allow-headers"].lower()
    assert "GET" in h["access-control-allow-methods"]
    assert get(server, "/data/img/missing", {"Origin": "http://x"})[1]["access-control-allow-origin"] == "*"


def test_cors_origin_list(tessera_bin, tree):
    with GatewayServer(tessera_bin, "--root", f"data={tree / 'data'}", "--cors-origin", "http://ok.example") as srv:
        h = get(srv, CHUNK, {"Origin": "http://ok.example"})[1]
        assert h["access-control-allow-origin"] == "http://ok.example" and "origin" in h["vary"].lower()
        assert "access-control-allow-origin" not in get(srv, CHUNK, {"Origin": "http://evil.example"})[1]


# --- consolidated metadata -------------------------------------------------------------

def test_generated_consolidated_metadata(server):
    import json
    status, h, body = get(server, "/data/v2/.zmetadata")
    assert status == 200 and h["content-type"] == "application/json"
    doc = json.loads(body)
    assert doc["zarr_consolidated_format"] == 1
    assert set(doc["metadata"]) == {".zgroup", ".zattrs", "0/.zarray"}
    status, h, body = get(server, "/data/img/zarr.json")
    doc = json.loads(body)
    assert doc["consolidated_metadata"]["kind"] == "inline"
    assert set(doc["consolidated_metadata"]["metadata"]) == {"0"}
    assert get(server, "/data/img/zarr.json", {"If-None-Match": h["etag"]})[0] == 304
    # an array's zarr.json is served as stored
    assert get(server, "/data/img/0/zarr.json")[2] == b'{"zarr_format":3,"node_type":"array","shape":[1]}'


def test_consolidated_metadata_never_reads_through_a_link_out_of_the_root(tessera_bin, tmp_path):
    """A node document that is a symlink to a JSON file outside the root (`a/zarr.json`,
    `x/.zarray`), or a node folder that links out, is left out of the generated metadata."""
    import json
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = '{"zarr_format":3,"node_type":"array","shape":[1],"attributes":{"m":"%s"}}' % MARKER.decode()
    (outside / "zarr.json").write_text(secret)
    (outside / ".zarray").write_text('{"zarr_format":2,"shape":[1],"m":"%s"}' % MARKER.decode())
    root = tmp_path / "root"
    (root / "v3" / "a").mkdir(parents=True)
    (root / "v3" / "s0").mkdir()
    (root / "v3" / "zarr.json").write_text('{"zarr_format":3,"node_type":"group","attributes":{}}')
    (root / "v3" / "s0" / "zarr.json").write_text('{"zarr_format":3,"node_type":"array","shape":[1]}')
    (root / "v3" / "a" / "zarr.json").symlink_to(outside / "zarr.json")
    (root / "v3" / "b").symlink_to(outside)
    (root / "v2" / "x").mkdir(parents=True)
    (root / "v2" / ".zgroup").write_text('{"zarr_format":2}')
    (root / "v2" / "x" / ".zarray").symlink_to(outside / ".zarray")
    (root / "v2" / "y").symlink_to(outside)
    with GatewayServer(tessera_bin, "--root", f"data={root}") as srv:
        status, _, body = get(srv, "/data/v3/zarr.json")
        assert status == 200 and MARKER not in body
        assert set(json.loads(body)["consolidated_metadata"]["metadata"]) == {"s0"}
        status, _, body = get(srv, "/data/v2/.zmetadata")
        assert status == 200 and MARKER not in body
        assert set(json.loads(body)["metadata"]) == {".zgroup"}


# --- hostile paths ---------------------------------------------------------------------

HOSTILE = [
    "/data/../outside/secret.txt", "/data/%2e%2e/outside/secret.txt", "/data/%2E%2E/outside/secret.txt",
    "/data/.%2e/outside/secret.txt", "/data/%2e./outside/secret.txt", "/data/..%2foutside%2fsecret.txt",
    "/data/%2e%2e%2foutside%2fsecret.txt", "/data/%252e%252e/outside/secret.txt",
    "/data/%252e%252e%252foutside%252fsecret.txt", "/data/..\\outside\\secret.txt",
    "/data/%5c..%5coutside%5csecret.txt", "/data/..%5coutside%5csecret.txt", "//etc/passwd", "/data//etc/passwd",
    "/data/%2fetc%2fpasswd", "/data/%2Fetc/passwd", "/data/img/../../outside/secret.txt",
    "/data/img/%2e%2e/%2e%2e/outside/secret.txt", "/data/%c0%ae%c0%ae/outside/secret.txt",
    "/data/%c0%ae%c0%ae%c0%afoutside%c0%afsecret.txt", "/data/%e0%80%ae%e0%80%ae/outside/secret.txt",
    "/data/%c1%9c..%c1%9coutside", "/data/link-out", "/data/rel-link-out", "/data/dir-out/secret.txt",
    "/data/etc-link", "/data/img/up/secret.txt", "/../outside/secret.txt", "/%2e%2e/outside/secret.txt",
    "/data/./img/zarr.json", "/data/img/./zarr.json", "/data/%00", "/data/a%00b", "/data/img/zarr.json%00.png",
    "/data/%2e", "/data/;/../outside/secret.txt", "/data/img/0/c/0/0/..", "/data/~/../../outside/secret.txt",
    "/data/%u002e%u002e/outside/secret.txt", "/data/%%32%65%%32%65/outside/secret.txt",
    "/etc/passwd", "/data/etc/passwd", "/data/" + "a/" * 500 + "x", "/data/" + "%2e%2e/" * 50 + "etc/passwd",
]


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_paths_serve_nothing_outside_the_roots(server, path):
    status, head, body = raw_request(server.url, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1"))
    assert MARKER not in body and b"root:x:0:0" not in body, path
    assert status in (400, 404), (path, status)


@pytest.mark.parametrize("request_bytes", [
    b"GET /data/\x00/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /data/\xc0\xae\xc0\xae/outside/secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /data/..\\..\\outside\\secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET http://x/data/../outside/secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /data/%2e%2e/outside/secret.txt?x=/../ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET data/../outside/secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
])
def test_raw_hostile_requests(server, request_bytes):
    status, head, body = raw_request(server.url, request_bytes)
    assert MARKER not in body and b"root:x:0:0" not in body
    assert status in (0, 400, 404), (request_bytes, status)


def test_double_encoding_decodes_once(server):
    # %252e%252e is the literal name "%2e%2e": a real folder of that name is served, nothing above.
    status, _, body = get(server, "/data/%252e%252e/literal")
    assert status == 200 and body == b"literal"


def test_malformed_requests_never_crash_or_hang(server):
    junk = [
        b"GET " + b"/data/" + b"A" * 70000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /data/img/zarr.json HTTP/1.1\r\nHost: x\r\nRange: " + b"bytes=" + b"9" * 10000 + b"-\r\nConnection: close\r\n\r\n",
        b"GET /data/img/zarr.json HTTP/1.1\r\nHost: x\r\nRange: \xff\xfe\r\nConnection: close\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64),
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
    ]
    for request in junk:
        raw_request(server.url, request)
    assert get(server, "/healthz")[0] == 200
    assert get(server, CHUNK)[2] == PAYLOAD


def test_many_ranged_requests_on_one_connection(server):
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=15)
    for i in range(200):
        start = (i * 997) % (len(PAYLOAD) - 100)
        conn.request("GET", CHUNK, headers={"Range": f"bytes={start}-{start + 99}"})
        r = conn.getresponse()
        assert r.status == 206 and r.read() == PAYLOAD[start:start + 100]
    conn.close()


def test_access_log_lines(server):
    get(server, CHUNK, {"Range": "bytes=-16"})
    time.sleep(0.2)
    entries = [e for e in server.access_log() if e.get("path") == CHUNK and e.get("range") == "bytes=-16"]
    assert entries and entries[-1]["status"] == 206 and entries[-1]["bytes"] == 16 and entries[-1]["root"] == "data"
    for key in ("ts", "remote", "method", "us"):
        assert key in entries[-1]
    # The target is logged as sent, query and escapes included.
    get(server, CHUNK + "?v=%41")
    time.sleep(0.2)
    assert any(e.get("path") == CHUNK + "?v=%41" and e["status"] == 200 for e in server.access_log())


def test_health_and_metrics(server):
    status, h, body = get(server, "/healthz")
    assert status == 200 and body == b"ok\n"
    get(server, CHUNK)
    status, h, body = get(server, "/metrics")
    text = body.decode()
    assert status == 200 and h["content-type"].startswith("text/plain")
    assert 'tessera_http_requests_total{method="GET",status="200",root="data"}' in text
    assert "tessera_http_request_duration_seconds_bucket" in text
    assert "tessera_http_response_body_bytes" in text
