"""`PUT /api/uploads/{name}` (Docs/catalog.md, "Uploads"), must-show 5 of issue 19.

- refusals before the body: 401 / 403 / 400 (bad names) / 413 (declared too large) / 415, all JSON,
  and a refused body is not drained: the connection closes (a 1 GiB body is not read);
- quota and size limits hold under 20 concurrent uploads, some chunked: the 201s' bytes, the
  files on disk (staging + .incoming, sampled while they arrive) and the catalogue's `upload`
  rows never pass the quota; the rest are 507 (or 413 for a chunked body past the cap) JSON;
- a client that disconnects mid-upload leaves no part file and no reservation behind;
- an uploaded FITS file is ingested by `tessera watch` on the staging folder and its dataset
  records the uploader; `tessera status` shows the user's usage;
- memory stays flat while a 2 GiB body streams through (peak RSS of the gateway from /proc).

SQLite and PostgreSQL arms; the store is read with the sqlite3 / psql command-line clients.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import threading
import time
import uuid
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import yaml
from astropy.io import fits

from gateway_server import GatewayServer
from pg_server import pg_server, psql_query, server_parts  # noqa: F401  (pg_server is a session fixture)

MiB = 1 << 20
MAX_FILE = 4 * MiB
QUOTA = 10 * MiB
TOKENS = {"alice": "tok-alice", "bob": "tok-bob", "carol": "tok-carol", "eve": "tok-eve", "nouser": "tok-nouser"}


def fits_header_block() -> bytes:
    """A FITS primary header (2880 bytes): what the gateway's format check looks at."""
    cards = ["SIMPLE  =                    T", "BITPIX  =                    8", "NAXIS   =                    0", "END"]
    return "".join(c.ljust(80) for c in cards).ljust(2880).encode()


def fits_image(seed: int) -> bytes:
    data = np.random.default_rng(seed).integers(0, 30000, size=(128, 128), dtype=np.int16)
    out = BytesIO()
    fits.PrimaryHDU(data).writeto(out)
    return out.getvalue()


class Store:
    def __init__(self, url: str):
        self.url = url

    def sql(self, query: str) -> list[list[str]]:
        if self.url.startswith("sqlite:"):
            done = subprocess.run(["sqlite3", "-batch", "-separator", "\t", self.url[len("sqlite:"):], query],
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            return [line.split("\t") for line in done.stdout.strip().splitlines() if line]
        return [line.split("|") for line in psql_query(self.url, query).splitlines() if line]

    def uploads(self, user: str | None = None) -> list[tuple[str, int, str]]:
        where = f" WHERE uploader = '{user}'" if user else ""
        return [(r[0], int(r[1]), r[2]) for r in self.sql(f"SELECT name, bytes, status FROM upload{where}")]


class Setup:
    def __init__(self, base: Path, store: Store, server: GatewayServer, config: Path):
        self.base, self.store, self.server, self.config = base, store, server, config
        self.staging = base / "staging"
        self.incoming = self.staging / ".tessera-staging" / ".incoming"

    def stored_bytes(self, user: str) -> int:
        """Bytes on disk of the user's uploads: staged files and every part file arriving."""
        total = sum(p.stat().st_size for p in (self.staging / user).glob("*") if p.is_file()) \
            if (self.staging / user).exists() else 0
        for p in self.incoming.glob("*.part"):
            try:
                total += p.stat().st_size
            except FileNotFoundError:
                pass
        return total


def write_config(base: Path, store_url: str, max_file: int, quota: int) -> Path:
    config = base / f"tessera-{uuid.uuid4().hex[:8]}.yaml"
    (base / "data").mkdir(exist_ok=True)
    config.write_text(f"""
roots:
  - {{name: data, location: {base / 'data'}}}
catalog:
  store: {store_url}
auth:
  tokens:
    - {{token: tok-alice, groups: [up], user: alice}}
    - {{token: tok-bob, groups: [up], user: bob}}
    - {{token: tok-carol, groups: [up], user: carol}}
    - {{token: tok-eve, groups: [other], user: eve}}
    - {{token: tok-nouser, groups: [up]}}
uploads:
  staging: {base / 'staging'}
  maxFileBytes: {max_file}
  quotaBytes: {quota}
  groups: [up]
  minFreeBytes: 0
""")
    return config


def store_url(request, base: Path, kind: str) -> str:
    if kind == "sqlite":
        return f"sqlite:{base / 'catalog.sqlite'}"
    server_url = request.getfixturevalue("pg_server")
    name = "t_" + uuid.uuid4().hex
    host, port, user = server_parts(server_url)
    admin = f"postgres://{user}@{host}:{port}/postgres"
    psql_query(admin, f"CREATE DATABASE {name}")
    request.addfinalizer(lambda: psql_query(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    return f"postgres://{user}@{host}:{port}/{name}"


@pytest.fixture(params=["sqlite", "postgres"])
def setup(request, tmp_path, tessera_bin):
    url = store_url(request, tmp_path, request.param)
    config = write_config(tmp_path, url, MAX_FILE, QUOTA)
    server = GatewayServer(tessera_bin, "--config", config)
    try:
        yield Setup(tmp_path, Store(url), server, config)
    finally:
        server.stop()


# --- a small HTTP/1.1 client that can lie, stream, stop half-way and watch the connection ---

SPEC = yaml.safe_load((Path(__file__).resolve().parents[3] / "Specs" / "openapi.yaml").read_text())


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        target = SPEC
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


class Answer:
    def __init__(self, status: int, headers: dict, body: bytes, sent: int, closed: bool, seconds: float):
        self.status, self.headers, self.body, self.sent, self.closed, self.seconds = status, headers, body, sent, closed, seconds
        if status:  # 0: the connection was reset before an answer could be read
            self.documented()

    def documented(self):
        """The answer is one Specs/openapi.yaml documents for the upload route, with its headers, as JSON."""
        responses = SPEC["paths"]["/api/uploads/{name}"]["put"]["responses"]
        assert str(self.status) in responses, (self.status, self.body)
        response = resolve(responses[str(self.status)])
        for name, header in (response.get("headers") or {}).items():
            if resolve(header).get("required"):
                assert name.lower() in self.headers, (self.status, name)
        assert self.headers.get("content-type") in response["content"], (self.status, self.headers)

    def json(self) -> dict:
        assert self.headers.get("content-type") == "application/json", (self.status, self.headers, self.body)
        return json.loads(self.body)


def read_answer(sock: socket.socket, buffered: bytes = b"") -> tuple[int, dict, bytes, bytes]:
    """One response (status, headers, body) and what was read beyond it."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before a response head: {data!r}")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length], rest[length:]


def put(srv: GatewayServer, name: str, body, user: str | None = "alice", *, declared: int | None = None,
        chunked: bool = False, expect: bool = True, stop_after: int | None = None, timeout: float = 120) -> Answer | None:
    """PUT `body` (bytes, or an iterable of bytes) to /api/uploads/{name}.
    `declared`: the Content-Length sent (default: the body's length; chunked sends none).
    `expect`: send `Expect: 100-continue` and wait for the go-ahead as curl does.
    `stop_after`: close the connection (SHUT_RDWR) after this many body bytes; returns None."""
    parts = urlsplit(srv.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    start = time.monotonic()
    try:
        chunks = [body] if isinstance(body, (bytes, bytearray)) else body
        head = [f"PUT /api/uploads/{name} HTTP/1.1", f"Host: {parts.hostname}"]
        if user:
            head.append(f"Authorization: Bearer {TOKENS[user]}")
        if chunked:
            head.append("Transfer-Encoding: chunked")
        else:
            head.append(f"Content-Length: {declared if declared is not None else len(body)}")
        if expect:
            head.append("Expect: 100-continue")
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        buffered = b""
        if expect:
            # The gateway answers at once: a refusal, or 100 Continue once its checks passed.
            ready, _, _ = select.select([sock], [], [], 15)
            assert ready, "neither 100 Continue nor a refusal within 15 s"
            status, headers, answer, buffered = read_answer(sock)
            if status != 100:
                return Answer(status, headers, answer, 0, connection_closed(sock), time.monotonic() - start)
        sent = 0
        try:
            for chunk in chunks:
                if stop_after is not None and sent + len(chunk) >= stop_after:
                    chunk = chunk[: stop_after - sent]
                sock.sendall((b"%x\r\n" % len(chunk) + chunk + b"\r\n") if chunked and chunk else chunk)
                sent += len(chunk)
                if stop_after is not None and sent >= stop_after:
                    sock.shutdown(socket.SHUT_RDWR)
                    return None
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused and closed; its answer may still be readable
        try:
            status, headers, answer, _ = read_answer(sock, buffered)
        except (ConnectionError, ConnectionResetError):
            return Answer(0, {}, b"", sent, True, time.monotonic() - start)
        return Answer(status, headers, answer, sent, connection_closed(sock), time.monotonic() - start)
    finally:
        sock.close()


def connection_closed(sock: socket.socket, wait: float = 5) -> bool:
    ready, _, _ = select.select([sock], [], [], wait)
    if not ready:
        return False
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def padded(size: int) -> bytes:
    """`size` bytes that start as a FITS file."""
    block = fits_header_block()
    return block + bytes(size - len(block))


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}", pytrace=False)


# --- tests ---

def test_refusals_before_the_body_are_json_and_close_the_connection(setup):
    srv = setup.server
    body = padded(MiB)
    a = put(srv, "x.fits", body, user=None)
    assert a.status == 401 and "error" in a.json() and a.headers.get("www-authenticate", "").startswith("Bearer")
    for user in ["eve", "nouser"]:
        a = put(srv, "x.fits", body, user=user)
        assert a.status == 403 and "error" in a.json(), user
    for bad in ["..", ".hidden.fits", "a%2Fb.fits", "a/b.fits", "a%00.fits", "x%20y.fits", "a..b.fits", "%zz.fits",
                "a" * 201 + ".fits"]:
        a = put(srv, bad, body)
        assert a.status == 400 and "error" in a.json(), (bad, a.status, a.body)
    # Declared over the cap: 413 before a byte is read, and the connection closes.
    a = put(srv, "big.fits", padded(5 * MiB))
    assert a.status == 413 and a.json()["maxFileBytes"] == MAX_FILE and a.closed
    # A client that does not wait for 100-continue and sends 1 GiB anyway is not drained.
    gib = (bytes(MiB) for _ in range(1024))
    a = put(srv, "big.fits", gib, declared=1024 * MiB, expect=False)
    assert a.seconds < 5 and a.sent < 256 * MiB, (a.seconds, a.sent)
    # Not an image Tessera reads: by name or by its first bytes.
    assert put(srv, "notes.txt", body).status == 415
    a = put(srv, "fake.fits", b"PK\x03\x04" + bytes(MiB))
    assert a.status == 415 and "not a recognised image format" in a.json()["error"]
    # A chunked body that passes the cap while streaming: 413, nothing kept.
    a = put(srv, "lie.fits", (padded(MiB) for _ in range(6)), chunked=True)
    assert a.status == 413 and a.json()["maxFileBytes"] == MAX_FILE
    wait_until(lambda: not list(setup.incoming.glob("*.part")), 10, "the part files to go")
    assert setup.store.uploads() == []
    assert not (setup.staging / "alice").exists() or not list((setup.staging / "alice").iterdir())


def test_quota_and_size_hold_under_20_concurrent_uploads(setup):
    srv = setup.server
    sizes = [(1 + i % 4) * MiB - (i * 4099) % 65536 for i in range(20)]  # 1…4 MiB, all under the cap
    answers: dict[int, Answer] = {}
    peak = [0, 0]  # bytes on disk, bytes reserved or staged in the catalogue
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], setup.stored_bytes("alice"))
            peak[1] = max(peak[1], sum(b for _, b, _ in setup.store.uploads("alice")))
            time.sleep(0.02)

    def one(i: int):
        body = padded(sizes[i])
        if i % 3 == 0:  # chunked: the gateway reserves as it goes
            answers[i] = put(srv, f"f{i:02}.fits", (body[j:j + 256 * 1024] for j in range(0, len(body), 256 * 1024)),
                             chunked=True)
        else:
            answers[i] = put(srv, f"f{i:02}.fits", (body[j:j + 256 * 1024] for j in range(0, len(body), 256 * 1024)),
                             declared=len(body))

    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    finally:
        stop.set()
        sampler.join()
    assert len(answers) == 20
    created = {i: a for i, a in answers.items() if a.status == 201}
    refused = {i: a for i, a in answers.items() if a.status != 201}
    assert created and refused, {i: a.status for i, a in answers.items()}
    for i, a in created.items():
        assert a.json() == {"upload": a.json()["upload"], "name": f"f{i:02}.fits", "bytes": sizes[i], "status": "staged"}
    for i, a in refused.items():
        assert a.status == 507, (i, a.status, a.body)
        doc = a.json()
        assert doc["error"] == "quota exceeded" and doc["quotaBytes"] == QUOTA and doc["usedBytes"] <= QUOTA
    total = sum(a.json()["bytes"] for a in created.values())
    assert total <= QUOTA
    assert 0 < peak[0] <= QUOTA and 0 < peak[1] <= QUOTA, peak
    # What is stored is exactly what was answered 201, byte for byte, and the catalogue agrees.
    staged = {p.name: p.read_bytes() for p in (setup.staging / "alice").iterdir()}
    assert staged == {f"f{i:02}.fits": padded(sizes[i]) for i in created}
    assert not list(setup.incoming.glob("*.part"))
    rows = setup.store.uploads("alice")
    assert sorted(rows) == sorted((f"f{i:02}.fits", sizes[i], "staged") for i in created)
    # The quota is per user: bob still has all of his.
    assert put(srv, "b.fits", padded(3 * MiB), user="bob").status == 201
    # And alice's next upload is refused with her usage named.
    a = put(srv, "more.fits", padded(QUOTA - total + 1 if QUOTA - total + 1 <= MAX_FILE else MAX_FILE))
    if QUOTA - total + 1 <= MAX_FILE:
        assert a.status == 507 and a.json()["usedBytes"] == total


@pytest.mark.parametrize("chunked", [False, True])
def test_a_client_that_disconnects_mid_upload_leaves_nothing_behind(setup, chunked):
    srv = setup.server
    body = padded(MAX_FILE)
    pieces = (body[j:j + 64 * 1024] for j in range(0, len(body), 64 * 1024))
    assert put(srv, "gone.fits", pieces, declared=len(body), chunked=chunked, stop_after=len(body) // 2) is None

    def clean():
        return not list(setup.incoming.glob("*.part")) and setup.store.uploads() == []

    wait_until(clean, 30, "the part file and the reservation to go")
    assert not (setup.staging / "alice" / "gone.fits").exists()
    # The whole quota is free again.
    a = put(srv, "after.fits", padded(MAX_FILE))
    assert a.status == 201, a.body


def test_an_upload_is_catalogued_with_its_uploader(setup, tessera_bin, tmp_path):
    srv = setup.server
    image = fits_image(7)
    a = put(srv, "sky.fits", image, user="carol")
    assert a.status == 201 and a.json()["bytes"] == len(image), a.body
    assert (setup.staging / "carol" / "sky.fits").read_bytes() == image
    # The same name again while it is staged: 409.
    again = put(srv, "sky.fits", image, user="carol")
    assert again.status == 409 and "error" in again.json()
    out = tmp_path / "ingested"
    log = tmp_path / "watch.log"
    with open(log, "wb") as err:
        watch = subprocess.Popen([str(tessera_bin), "watch", str(setup.staging), "--output", str(out), "--catalog",
                                  setup.store.url, "--stable-seconds", "1", "--scan-seconds", "0.5"],
                                 stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        try:
            wait_until(lambda: "converted" in log.read_text(errors="replace"), 120, "the upload's conversion")
        finally:
            watch.terminate()
            watch.wait(timeout=30)
    text = log.read_text(errors="replace")
    assert "carol/sky.fits" in text and not list(setup.incoming.iterdir()), text
    rows = setup.store.sql("SELECT uploader, source_path, status FROM dataset")
    assert rows == [["carol", str(setup.staging / "carol" / "sky.fits"), "ready"]], rows
    assert (out / "carol" / "sky.ome.zarr").is_dir()
    # `tessera status` shows the user's usage.
    done = subprocess.run([str(tessera_bin), "status", "--catalog", setup.store.url, "--json"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    usage = json.loads(done.stdout)["uploads"]
    assert usage == [{"uploader": "carol", "receivingBytes": 0, "stagedBytes": len(image), "stagedUploads": 1}]
    # With the gateway's configuration (its catalog.store the catalogue), the quota too.
    plain = subprocess.run([str(tessera_bin), "status", "--config", str(setup.config)], capture_output=True, text=True,
                           timeout=60)
    assert plain.returncode == 0, plain.stderr
    assert f"carol: {len(image)} bytes used of {QUOTA} (1 uploads" in plain.stdout, plain.stdout
    done = subprocess.run([str(tessera_bin), "status", "--config", str(setup.config), "--json"], capture_output=True,
                          text=True, timeout=60)
    assert json.loads(done.stdout)["uploads"][0]["quotaBytes"] == QUOTA


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field}")


RSS_GROWTH_BOUND_MIB = 64


def test_memory_stays_flat_while_a_2_GiB_file_streams_in(tmp_path, tessera_bin):
    size = 2 << 30
    url = f"sqlite:{tmp_path / 'catalog.sqlite'}"
    config = write_config(tmp_path, url, max_file=3 << 30, quota=3 << 30)
    srv = GatewayServer(tessera_bin, "--config", config)
    try:
        pid = srv.proc.pid
        # Warm up the paths an upload takes, then take the baseline.
        assert put(srv, "warm.fits", padded(2 * MiB)).status == 201
        baseline = rss_kib(pid, "VmRSS")
        peak = [baseline]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kib(pid, "VmRSS"))
                time.sleep(0.05)

        def body():
            yield fits_header_block()
            block = bytes(4 * MiB)
            left = size - 2880
            while left:
                n = min(left, len(block))
                yield block[:n]
                left -= n

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            a = put(srv, "huge.fits", body(), declared=size, timeout=600)
        finally:
            stop.set()
            sampler.join()
        assert a.status == 201 and a.json()["bytes"] == size, a.body
        staged = tmp_path / "staging" / "alice" / "huge.fits"
        assert staged.stat().st_size == size
        growth_mib = (peak[0] - baseline) / 1024
        print(f"gateway RSS during a 2 GiB upload: baseline {baseline / 1024:.1f} MiB, peak {peak[0] / 1024:.1f} MiB, "
              f"growth {growth_mib:.1f} MiB, {size / a.seconds / MiB:.0f} MiB/s")
        assert growth_mib < RSS_GROWTH_BOUND_MIB, growth_mib
        staged.unlink()
    finally:
        srv.stop()


def test_a_gateway_killed_mid_upload_is_swept_by_the_next_one(setup, tessera_bin):
    srv = setup.server
    release = threading.Event()

    def stalled():
        body = padded(MAX_FILE)
        yield body[: MAX_FILE // 2]
        release.wait(60)

    client = threading.Thread(target=lambda: put(srv, "cut.fits", stalled(), declared=MAX_FILE, timeout=60))
    client.start()
    try:
        wait_until(lambda: list(setup.incoming.glob("*.part")) and setup.store.uploads() == [("cut.fits", MAX_FILE, "receiving")],
                   30, "the upload to be receiving")
        srv.proc.kill()
        srv.proc.wait(timeout=30)
    finally:
        release.set()
        client.join(timeout=60)
    assert list(setup.incoming.glob("*.part")) and setup.store.uploads() == [("cut.fits", MAX_FILE, "receiving")]
    again = GatewayServer(tessera_bin, "--config", setup.config)
    try:
        assert not list(setup.incoming.glob("*.part"))
        assert setup.store.uploads() == []
        assert "left by a gateway that stopped" in again.log_text()
        assert put(again, "after.fits", padded(MAX_FILE)).status == 201
    finally:
        again.stop()
