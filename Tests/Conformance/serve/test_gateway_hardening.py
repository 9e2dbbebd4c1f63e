"""`tessera serve` against an attacker's probe (issue 14, and the gateway parts of issue 21):
nested roots that bypass auth, private answers marked shareable, connections without
timeouts, descriptor exhaustion, FIFOs and sockets inside a root, server paths in error
bodies, memory grown by anonymous clients, the smaller HTTP deviations, and the cost of
generated consolidated metadata. Each test is built from the probe's reproduction and
runs against both answer paths where both could answer."""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gateway_server import GatewayServer
from http_exchange import ResponseReader, connect, get, request

PATHS = ["fast-path", "responder"]
LAB_TOKEN = "lab-token-0123456789"


def fast_env(mode):
    return {"TESSERA_FAST_PATH": "0" if mode == "responder" else "1"}


def v2_group(folder: Path, arrays=("0",)):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".zgroup").write_text('{"zarr_format":2}')
    (folder / ".zattrs").write_text('{"secret":"attrs"}')
    for a in arrays:
        (folder / a).mkdir(exist_ok=True)
        (folder / a / ".zarray").write_text('{"zarr_format":2,"shape":[1]}')
        (folder / a / "0").write_bytes(b"chunk-" + a.encode())


def start_refused(tessera_bin, config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(tessera_bin), "serve", "--port", "0", "--config", str(config)],
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)


# MARK: 14.1 nested roots


def nested_config(base: Path, roots: list[tuple[str, str, str]]) -> Path:
    config = base / f"nested-{len(list(base.glob('nested-*.yaml')))}.yaml"
    lines = ["roots:"] + [f"  - {{name: {n}, location: '{loc}', access: {acc}}}" for n, loc, acc in roots]
    lines += ["auth:", "  tokens:", f"    - {{token: {LAB_TOKEN}, groups: [lab]}}"]
    config.write_text("\n".join(lines) + "\n")
    return config


@pytest.fixture(scope="module")
def nested_tree(tmp_path_factory):
    base = tmp_path_factory.mktemp("nested")
    v2_group(base / "data")
    v2_group(base / "data" / "priv")
    (base / "link").symlink_to(base / "data")
    return base


@pytest.mark.parametrize("roots", [
    [("top", "{b}/data", "public"), ("priv", "{b}/data/priv", "[lab]")],
    [("priv", "{b}/data/priv", "[lab]"), ("top", "{b}/data", "public")],  # the other order
    [("top", "{b}/link", "public"), ("priv", "{b}/data/priv", "[lab]")],  # the outer root through a symlink
    [("top", "{b}/data/", "public"), ("priv", "{b}/link/priv", "[lab]")],  # the inner root through a symlink
    [("top", "{b}/data", "[lab, guests]"), ("priv", "{b}/data/priv", "[lab]")],  # a wider group list outside
    [("top", "s3://bucket/data", "public"), ("priv", "s3://bucket/data/priv", "[lab]")],
    [("priv", "s3://bucket/data/priv/", "[lab]"), ("top", "s3://bucket", "public")],
], ids=["public-outside", "declared-inner-first", "symlinked-outer", "symlinked-inner", "wider-groups", "s3", "s3-bucket"])
def test_a_root_that_would_serve_a_stricter_root_under_weaker_rules_is_refused(tessera_bin, nested_tree, roots):
    config = nested_config(nested_tree, [(n, loc.format(b=nested_tree), acc) for n, loc, acc in roots])
    result = start_refused(tessera_bin, config)
    assert result.returncode != 0, result.stdout
    assert "top" in result.stderr and "priv" in result.stderr and "contains" in result.stderr, result.stderr


@pytest.mark.parametrize("roots", [
    [("top", "{b}/data", "[lab]"), ("sub", "{b}/data/priv", "public")],  # stricter outside: no bypass
    [("top", "{b}/data", "[lab]"), ("sub", "{b}/data/priv", "[lab, guests]")],
    [("a", "s3://bucket/data", "public"), ("b", "s3://bucket/database", "[lab]")],  # a prefix, not a folder
], ids=["stricter-outside", "narrower-groups-outside", "s3-sibling-prefix"])
def test_nesting_that_cannot_weaken_a_rule_is_accepted(tessera_bin, nested_tree, roots):
    config = nested_config(nested_tree, [(n, loc.format(b=nested_tree), acc) for n, loc, acc in roots])
    srv = GatewayServer(tessera_bin, "--config", config, env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    try:
        if roots[0][1].startswith("{b}"):
            assert get(srv, f"/{roots[0][0]}/priv/0/0")[0] == 401
            assert get(srv, f"/{roots[0][0]}/priv/0/0", {"Authorization": f"Bearer {LAB_TOKEN}"})[0] == 200
    finally:
        assert srv.stop() == 0


# MARK: 14.2 private answers


@pytest.fixture(scope="module", params=PATHS)
def auth_server(request, tessera_bin, tmp_path_factory):
    base = tmp_path_factory.mktemp("private")
    v2_group(base / "pub")
    v2_group(base / "lab")
    config = base / "tessera.yaml"
    config.write_text(f"""
roots:
  - {{name: pub, location: {base / 'pub'}, access: public}}
  - {{name: lab, location: {base / 'lab'}, access: [lab]}}
corsOrigins: ["https://viewer.example"]
auth:
  tokens:
    - {{token: {LAB_TOKEN}, groups: [lab]}}
""")
    srv = GatewayServer(tessera_bin, "--config", config, env=fast_env(request.param))
    yield srv
    assert srv.stop() == 0


def vary(headers) -> set[str]:
    return {v.strip().lower() for v in headers.get("vary", "").split(",") if v.strip()}


@pytest.mark.parametrize("path", ["/lab/0/0", "/lab/.zattrs", "/lab/.zmetadata", "/lab/0/.zarray"])
def test_answers_from_a_protected_root_are_private_and_vary_on_authorization(auth_server, path):
    for method in ("GET", "HEAD"):
        status, h, _ = get(auth_server, path, {"Authorization": f"Bearer {LAB_TOKEN}"}, method=method)
        assert status == 200
        assert "public" not in h["cache-control"] and "private" in h["cache-control"], h
        assert "authorization" in vary(h), h
        assert "origin" in vary(h), h  # the CORS fields depend on the Origin sent


def test_public_answers_stay_shareable_but_vary_on_origin(auth_server):
    status, h, _ = get(auth_server, "/pub/0/0")
    assert status == 200 and h["cache-control"] == "public, max-age=60"
    assert "origin" in vary(h), "with an origin list the answer depends on Origin even when none is sent"
    status, h, _ = get(auth_server, "/pub/0/0", {"Origin": "https://viewer.example"})
    assert h["access-control-allow-origin"] == "https://viewer.example" and "origin" in vary(h)


def test_refusals_and_hidden_roots_vary_on_authorization(auth_server):
    status, h, _ = get(auth_server, "/lab/0/0")
    assert status == 401 and "authorization" in vary(h)


# MARK: 14.3 timeouts and the connection cap


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    data = tmp_path_factory.mktemp("hardening") / "data"
    v2_group(data / "v2")
    (data / "img").mkdir()
    (data / "img" / "zarr.json").write_text('{"zarr_format":3,"node_type":"group","attributes":{}}')
    (data / "big").write_bytes(os.urandom(8 << 20))
    (data / "small").write_bytes(b"small")
    return data


@pytest.fixture(scope="module", params=PATHS)
def timed_server(request, tessera_bin, tree):
    srv = GatewayServer(tessera_bin, "--root", f"data={tree}", "--header-timeout", "2", "--idle-timeout", "2",
                        "--send-timeout", "2", "--max-connections", "40", env=fast_env(request.param))
    yield srv
    assert srv.stop() == 0


def closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> float | None:
    """Seconds until the server closes `sock` (sending `trickle` one byte every 0.25 s), or None."""
    start = time.monotonic()
    sock.settimeout(0.25)
    i = 0
    while time.monotonic() - start < seconds:
        if i < len(trickle):
            try:
                sock.send(trickle[i:i + 1])
            except OSError:
                return time.monotonic() - start
            i += 1
        try:
            data = sock.recv(65536)
            if not data:
                return time.monotonic() - start
        except socket.timeout:
            continue
        except OSError:
            return time.monotonic() - start
    return None


def test_slowloris_is_closed_by_the_header_timeout(timed_server):
    with connect(timed_server) as s:
        took = closed_within(s, 8, trickle=b"GET /data/small HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200)
    assert took is not None and took < 5, took


def test_a_connection_that_never_sends_is_closed(timed_server):
    with connect(timed_server) as s:
        took = closed_within(s, 8)
    assert took is not None and took < 5, took


def test_an_idle_keep_alive_connection_is_closed(timed_server):
    with connect(timed_server) as s:
        s.sendall(request("GET", "/data/small"))
        reader = ResponseReader(s)
        assert reader.next()[0] == 200
        took = closed_within(s, 8)
    assert took is not None and took < 5, took


def test_a_client_that_never_reads_is_closed_by_the_send_timeout(timed_server):
    with connect(timed_server) as s:
        s.sendall(request("GET", "/data/big") * 4)
        time.sleep(6)  # never read: the answers cannot leave
        # What the server had queued before it gave up still arrives, then the close;
        # a server that kept waiting would send all four answers and keep the connection.
        s.settimeout(1)
        drained, closed = 0, False
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                data = s.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError:
                closed = True
                break
            if not data:
                closed = True
                break
            drained += len(data)
        assert closed and drained < 4 * (8 << 20), drained


def test_a_slow_but_steady_reader_is_not_cut_off(timed_server):
    # Progress is the server's buffered bytes shrinking: a download taking longer than the
    # send timeout (2 s here) completes as long as the client keeps reading.
    with connect(timed_server) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(request("GET", "/data/big"))
        got = b""
        start = time.monotonic()
        while len(got) < (8 << 20) + 100:
            data = s.recv(128 << 10)
            if not data:
                break
            got += data
            time.sleep(0.1)  # about 1 MiB/s
        assert time.monotonic() - start > 4
        head, _, body = got.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and len(body) == 8 << 20


@pytest.mark.parametrize("mode", PATHS)
def test_idle_connections_beyond_the_cap_make_room_for_new_ones(tessera_bin, tree, mode):
    # Idle connections that outlive a sweep are closed, oldest first, once more than
    # --max-connections are open; the timeouts here are long, so only the cap closes them.
    srv = GatewayServer(tessera_bin, "--root", f"data={tree}", "--max-connections", "40", "--idle-timeout", "60",
                        "--header-timeout", "60", env=fast_env(mode))
    idle = [connect(srv) for _ in range(120)]
    try:
        time.sleep(3.5)  # older than two sweeps
        for _ in range(5):
            status, _, body = get(srv, "/data/small")
            assert status == 200 and body == b"small"
        time.sleep(1.5)
        open_count = 0
        for s in idle:
            s.settimeout(0.05)
            try:
                open_count += s.recv(1) != b""
            except socket.timeout:
                open_count += 1
            except OSError:
                pass
        assert open_count <= 45, f"{open_count} idle connections kept beyond a cap of 40"
    finally:
        for s in idle:
            s.close()
        assert srv.stop() == 0


# MARK: 14.4 descriptor exhaustion


def limit_descriptors(n):
    def apply():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return apply


def start_with_descriptor_limit(tessera_bin, limit, *args, env=None) -> GatewayServer:
    """`GatewayServer`, started under a hard and soft RLIMIT_NOFILE of `limit`."""
    return GatewayServer(tessera_bin, *args, env=env, preexec_fn=limit_descriptors(limit))


def flood(srv, connections: int, seconds: float, paths: list[str]):
    """`connections` clients asking for `paths` over and over, reconnecting when refused
    or closed, as wrk does; errors are the point, so they are ignored."""
    host, port = srv.url.removeprefix("http://").split(":")
    stop = time.monotonic() + seconds

    def client(i):
        sock = None
        k = 0
        while time.monotonic() < stop:
            try:
                if sock is None:
                    sock = socket.create_connection((host, int(port)), timeout=2)
                sock.sendall(request("GET", paths[(i + k) % len(paths)]))
                k += 1
                data = sock.recv(1 << 20)
                if not data:
                    raise OSError("closed")
            except OSError:
                if sock is not None:
                    sock.close()
                sock = None
                time.sleep(0.01)
        if sock is not None:
            sock.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 10)


@pytest.mark.parametrize("mode", PATHS)
def test_running_out_of_descriptors_does_not_kill_the_server(tessera_bin, tree, mode):
    # The probe: the limit lowered to 128, hundreds of clients; the server died with
    # `*** Signal 4` from libdispatch's work-queue monitor, which traps when it cannot
    # open /proc/<tid>/stat. The connection cap keeps descriptors in reserve instead.
    srv = start_with_descriptor_limit(tessera_bin, 128, "--root", f"data={tree}", "--access-log", "off",
                                      env=fast_env(mode))
    try:
        # wrk (in scripts/setup.sh for the load test and bench) makes the flood the probe made.
        runs = [subprocess.Popen(["wrk", "-c", str(c), "-t", "1", "-d", "8", srv.url + path],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for c, path in ((400, "/data/big"), (200, "/data/img/zarr.json"), (100, "/data/v2/.zmetadata"))]
        flood(srv, 100, 8, ["/data/small", "/data/missing"])
        for run in runs:
            run.wait(timeout=60)
        time.sleep(2)
        assert srv.proc.poll() is None, f"the server died: {srv.log_text()[-2000:]}"
        status, _, body = get(srv, "/data/small")
        assert status == 200 and body == b"small"
        assert "Signal" not in srv.log_text()
    finally:
        assert srv.stop() == 0


# MARK: 14.5 / 21.5 FIFOs, sockets


@pytest.fixture(scope="module")
def special_tree(tmp_path_factory):
    data = tmp_path_factory.mktemp("special") / "data"
    data.mkdir()
    (data / "ok").write_bytes(b"ok")
    os.mkfifo(data / "fifo")
    v2_group(data / "v2")
    os.mkfifo(data / "v2" / "0" / ".zattrs")
    (data / "g").mkdir()
    (data / "g" / "zarr.json").write_text('{"zarr_format":3,"node_type":"group","attributes":{}}')
    (data / "g" / "child").mkdir()
    os.mkfifo(data / "g" / "child" / "zarr.json")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(data / "sock"))
    yield data
    sock.close()


@pytest.fixture(scope="module", params=PATHS)
def special_server(request, tessera_bin, special_tree):
    srv = GatewayServer(tessera_bin, "--root", f"data={special_tree}", "--listing", env=fast_env(request.param))
    yield srv
    assert srv.stop() == 0


def timed_get(srv, path, timeout=5):
    result = {}
    def run():
        try:
            result["r"] = get(srv, path)
        except Exception as e:  # noqa: BLE001 - reported below
            result["e"] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f"GET {path} hung"
    if "e" in result:
        raise result["e"]
    return result["r"]


@pytest.mark.parametrize("path", ["/data/fifo", "/data/fifo", "/data/sock", "/data/fifo/"])
def test_fifos_and_sockets_are_not_served_and_do_not_stall(special_server, path):
    status, _, body = timed_get(special_server, path)
    assert status == 404 and b"/" not in body
    assert timed_get(special_server, "/data/ok")[0] == 200


def test_a_fifo_child_document_does_not_stall_consolidated_metadata(special_server):
    status, _, body = timed_get(special_server, "/data/g/zarr.json")
    assert status == 200 and json.loads(body)["node_type"] == "group"
    status, _, body = timed_get(special_server, "/data/v2/.zmetadata")
    assert status == 200 and "0/.zarray" in json.loads(body)["metadata"]
    assert timed_get(special_server, "/data/ok")[0] == 200


# MARK: 14.6 error bodies


def test_error_bodies_name_no_server_path(tessera_bin, tmp_path):
    srv = GatewayServer(tessera_bin, "--root", "s3=s3://hidden-bucket/secret-prefix",
                        env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s",
                             "AWS_REGION": "us-east-1"})
    try:
        status, h, body = get(srv, "/s3/0/0")
        assert status in (502, 503)
        text = body.decode()
        assert "hidden-bucket" not in text and "secret-prefix" not in text and "127.0.0.1" not in text, text
        assert "request" in text and h.get("x-request-id") and h["x-request-id"] in text
        time.sleep(0.2)
        assert h["x-request-id"] in srv.log_text() and "hidden-bucket" in srv.log_text()
    finally:
        assert srv.stop() == 0


# MARK: 14.7 memory


@pytest.fixture(scope="module", params=PATHS)
def plain_server(request, tessera_bin, tree):
    srv = GatewayServer(tessera_bin, "--root", f"pub={tree}", "--access-log", "off", env=fast_env(request.param))
    yield srv
    assert srv.stop() == 0


def raw_status(srv, path: str) -> int:
    with connect(srv) as s:
        s.sendall(request("GET", path, "Connection: close"))
        return ResponseReader(s).next()[0]


def test_long_keys_are_refused_before_any_cache(plain_server):
    assert raw_status(plain_server, "/pub/" + "a" * 1025) in (404, 414)
    assert raw_status(plain_server, "/pub/" + "/".join(["b" * 1000] * 5)) in (404, 414)
    assert raw_status(plain_server, "/pub/" + "a" * 1000 + "/small") == 404


def test_unique_hostile_keys_do_not_grow_memory(plain_server):
    # The probe: 4,000 requests for /pub/<80 KB random>/.zmetadata grew RSS by 309 MB
    # (negative entries of the generated-metadata cache keyed by the whole path), and
    # 8,000 unique missing 15 KB keys on the fast path by 94 MB (the open-file cache
    # caches misses). A quarter of each here.
    import random
    rng = random.Random(7)

    def burst(n, make):
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: raw_status(plain_server, make(i)), range(n)))

    def key(length):
        return "".join(rng.choice("abcdefghij") for _ in range(length))

    burst(200, lambda i: f"/pub/warm{i}/.zmetadata")
    before = plain_server.rss_kib()
    long_keys = [key(80_000) for _ in range(50)]
    burst(1000, lambda i: f"/pub/{long_keys[i % 50]}{i}/.zmetadata")
    mid_keys = [key(15_000) for _ in range(50)]
    burst(2000, lambda i: f"/pub/{mid_keys[i % 50]}{i}")
    grown = plain_server.rss_kib() - before
    assert grown < 20_000, f"RSS grew by {grown} KiB"


# MARK: 14.8 smaller deviations


@pytest.fixture(scope="module", params=PATHS)
def http_server(request, tessera_bin, tree):
    srv = GatewayServer(tessera_bin, "--root", f"data={tree}", env=fast_env(request.param))
    yield srv
    assert srv.stop() == 0


def exchange(srv, raw: bytes, wait=3.0) -> bytes:
    with connect(srv) as s:
        s.sendall(raw)
        s.settimeout(wait)
        out = b""
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    return out
                out += data
        except socket.timeout:
            raise AssertionError(f"the connection stayed open; got {out[:300]!r}")


@pytest.mark.parametrize("raw", [
    b"POST /data/small HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 2\r\n\r\nhi",
    b"POST /data/small HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi",
    b"GET /data/small HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 2\r\n\r\nhi",
    b"GET /data/small HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
], ids=["two-hosts", "no-host", "two-hosts-get", "no-host-chunked"])
def test_host_rules_hold_on_the_general_path(http_server, raw):
    out = exchange(http_server, raw)
    assert out.startswith(b"HTTP/1.1 400"), out[:200]


@pytest.mark.parametrize("raw", [
    b"GET /data/small HTTP/1.1\nHost: a\n\n",
    b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    b"GET /data/small HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"GET /data/small HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
], ids=["bare-lf", "connect", "unknown-te", "te-gzip-chunked"])
def test_malformed_requests_get_one_400_and_a_close(http_server, raw):
    out = exchange(http_server, raw)
    assert out.startswith(b"HTTP/1.1 400"), out[:200]
    assert out.count(b"HTTP/1.1 ") == 1, out[:400]


def test_a_range_with_space_before_the_equals_is_never_a_whole_body(http_server):
    status, h, body = get(http_server, "/data/small", {"Range": "bytes =0-4"})
    assert status == 416 and body == b""


def test_answers_forbid_sniffing_and_etags_hide_inodes(http_server, tree):
    for path in ("/data/small", "/data/img/zarr.json", "/data/missing", "/data/v2/.zmetadata"):
        status, h, _ = get(http_server, path)
        assert h.get("x-content-type-options") == "nosniff", (path, h)
    _, h, _ = get(http_server, "/data/small")
    inode = format(os.stat(tree / "small").st_ino, "x")
    assert inode not in h["etag"].strip('"').split("-")[0], h["etag"]
    assert get(http_server, "/data/small", {"If-None-Match": h["etag"]})[0] == 304


# MARK: 21.6 cost of consolidated metadata


@pytest.fixture(scope="module")
def wide_tree(tmp_path_factory):
    data = tmp_path_factory.mktemp("wide") / "data"
    v2_group(data / "wide", arrays=())
    for i in range(300):
        (data / "wide" / f"g{i}").mkdir()
        (data / "wide" / f"g{i}" / ".zgroup").write_text('{"zarr_format":2}')
    (data / "v3").mkdir()
    (data / "v3" / "zarr.json").write_text('{"zarr_format":3,"node_type":"group","attributes":{}}')
    (data / "v3" / "huge").mkdir()
    (data / "v3" / "huge" / "zarr.json").write_text(
        json.dumps({"zarr_format": 3, "node_type": "group", "attributes": {"blob": "x" * (3 << 20)}}))
    v2_group(data / "ok")
    return data


@pytest.fixture(scope="module", params=PATHS)
def wide_server(request, tessera_bin, wide_tree, tmp_path_factory):
    config = tmp_path_factory.mktemp("wide-config") / "tessera.yaml"
    config.write_text(f"roots:\n  - {{name: data, location: '{wide_tree}'}}\nconsolidateMaxDocuments: 100\n")
    srv = GatewayServer(tessera_bin, "--config", config, env=fast_env(request.param))
    yield srv
    assert srv.stop() == 0


def test_a_walk_past_its_document_bound_answers_404(wide_server):
    status, _, _ = timed_get(wide_server, "/data/wide/.zmetadata")
    assert status == 404
    status, _, body = timed_get(wide_server, "/data/ok/.zmetadata")
    assert status == 200 and "0/.zarray" in json.loads(body)["metadata"]


def test_a_huge_child_document_is_not_copied_into_the_answer(wide_server):
    status, _, body = timed_get(wide_server, "/data/v3/zarr.json")
    assert status == 200 and len(body) < 4096, len(body)
    assert json.loads(body).get("consolidated_metadata") in (None,), "served as stored, without consolidation"


def metric(srv, name):
    _, _, body = get(srv, "/metrics")
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith(name):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_concurrent_requests_share_one_generation(tessera_bin, tmp_path):
    data = tmp_path / "data"
    v2_group(data / "many", arrays=())
    for i in range(1500):
        (data / "many" / f"g{i}").mkdir()
        (data / "many" / f"g{i}" / ".zgroup").write_text('{"zarr_format":2}')
    config = tmp_path / "tessera.yaml"
    config.write_text(f"roots:\n  - {{name: data, location: '{data}'}}\naccessLog: 'off'\nconsolidateSeconds: 60\n")
    srv = GatewayServer(tessera_bin, "--config", config)
    try:
        before = metric(srv, "tessera_consolidated_generations_total")
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: get(srv, "/data/many/.zmetadata"), range(8)))
        assert all(a[0] == 200 for a in answers) and len({a[2] for a in answers}) == 1
        assert metric(srv, "tessera_consolidated_generations_total") - before == 1
    finally:
        assert srv.stop() == 0
