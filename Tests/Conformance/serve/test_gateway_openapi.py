"""The live gateway against Specs/openapi.yaml: a set of requests that reaches every
operation and every documented status; each answer must be a documented status of its
operation, carry that response's required headers (matching their patterns), and use a
documented media type. The spec cannot drift from the server without this failing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from gateway_server import GatewayServer
from s3_server import free_port
from http_exchange import get

SPEC_PATH = Path(__file__).resolve().parents[3] / "Specs" / "openapi.yaml"


def resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


API_TEMPLATES = [("/api/datasets/", "/metadata", "/api/datasets/{id}/metadata"), ("/api/datasets/", "", "/api/datasets/{id}")]


SITE_TEMPLATES = [("/viewer/v/tessera/", "/viewer/v/tessera/{file}"), ("/docs/", "/docs/{file}"), ("/browse/", "/browse/{root}/{image}")]


def operation_for(path: str) -> str:
    bare = path.split("?")[0]
    if bare in ("/", "/browse/style.css", "/openapi.yaml", "/docs"):
        return bare
    if bare in ("/viewer", "/viewer/", "/viewer/v/tessera"):
        return "/viewer"
    for prefix, template in SITE_TEMPLATES:
        if bare.startswith(prefix):
            return template
    first = path.split("/")[1]
    if first in ("render", "thumbnail", "quicklook"):
        return f"/{first}/{{root}}/{{image}}"
    if path.split("?")[0] in ("/healthz", "/metrics", "/api/datasets", "/api/search/elements", "/api/status"):
        return path.split("?")[0]
    for prefix, suffix, template in API_TEMPLATES:
        bare = path.split("?")[0]
        if bare.startswith(prefix) and bare.endswith(suffix) and "/" not in bare[len(prefix):len(bare) - len(suffix)]:
            return template
    return "/{root}/{folder}/" if path.endswith("/") and path.count("/") > 2 else "/{root}/{key}"


@pytest.fixture(scope="module")
def spec():
    return yaml.safe_load(SPEC_PATH.read_text())


@pytest.fixture(scope="module")
def servers(tessera_bin, tmp_path_factory):
    base = tmp_path_factory.mktemp("openapi")
    (base / "d" / "0").mkdir(parents=True)
    (base / "d" / ".zgroup").write_text('{"zarr_format":2}')
    (base / "d" / "0" / ".zarray").write_text('{"zarr_format":2,"shape":[1]}')
    (base / "d" / "0" / "0").write_bytes(bytes(range(256)) * 4)
    # The private root needs its own copy: a public root over the same folder would
    # serve it to anyone, and the gateway refuses that configuration.
    import shutil
    shutil.copytree(base / "d", base / "p")
    # An NGFF image for the picture routes (a 2-level uint8 pyramid).
    import numpy as np
    import subprocess
    import tifffile
    tifffile.imwrite(base / "img.tif", (np.arange(96 * 80) % 251).astype(np.uint8).reshape(80, 96))
    subprocess.run([str(tessera_bin), "convert", base / "img.tif", base / "d" / "img.ome.zarr", "--chunks", "32"],
                   check=True, capture_output=True, timeout=120)
    # The same image as an older Tessera or another tool left it: no stored statistics
    # (stats=image with a percentile window answers 409).
    shutil.copytree(base / "d" / "img.ome.zarr", base / "d" / "nostats.ome.zarr")
    (base / "d" / "nostats.ome.zarr" / ".tessera-stats.bin").unlink()
    # The browse site, neuroglancer's client and Swagger UI (the HTML and static routes).
    from neuroglancer_view import neuroglancer_client
    try:
        import swagger_ui
    except ImportError as exc:
        pytest.fail(f"{exc}: install the PyPI `swagger-ui-py` package (scripts/python-requirements.txt)", pytrace=False)
    config = base / "c.yaml"
    config.write_text(f"""
browse: true
viewerAssets: {neuroglancer_client()}
docsAssets: {Path(swagger_ui.__file__).parent / "static"}
openapi: {SPEC_PATH}
roots:
  - {{name: d, location: {base / 'd'}}}
  - {{name: private, location: {base / 'p'}, access: [lab]}}
  - {{name: dead, location: "s3://bucket/prefix"}}
listing: true
auth:
  tokens: [{{token: t0k3n, groups: [lab]}}]
""")
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: S3 storage failures
    env = {"AWS_ENDPOINT_URL": dead, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_REGION": "us-east-1"}
    srv = GatewayServer(tessera_bin, "--config", config, env=env)
    yield srv
    assert srv.stop() == 0


T = {"Authorization": "Bearer t0k3n"}
REQUESTS = [
    ("GET", "/healthz", {}), ("HEAD", "/healthz", {}),
    ("GET", "/metrics", T), ("GET", "/metrics", {}),
    ("GET", "/d/0/0", {}), ("GET", "/d/0/.zarray", {}), ("GET", "/d/.zmetadata", {}),
    ("GET", "/d/0/0", {"Range": "bytes=-16"}), ("GET", "/d/0/0", {"Range": "bytes=5000-"}),
    ("GET", "/d/0/0", {"If-None-Match": "*"}), ("GET", "/d/0/0", {"If-Match": '"x"'}),
    ("GET", "/d/missing", {}), ("GET", "/private/0/0", {}), ("GET", "/private/0/0", T),
    ("HEAD", "/d/0/0", {}), ("HEAD", "/d/0/0", {"Range": "bytes=0-9"}), ("HEAD", "/d/0/0", {"If-None-Match": "*"}),
    ("HEAD", "/d/missing", {}), ("HEAD", "/private/0/0", {}), ("HEAD", "/d/0/0", {"Range": "bytes=9999-"}),
    ("OPTIONS", "/d/0/0", {"Origin": "http://x", "Access-Control-Request-Method": "GET"}),
    ("GET", "/d/0/", {}), ("GET", "/private/0/", {}), ("GET", "/d/nothing/", {}),
    ("GET", "/dead/zarr.json", {}), ("HEAD", "/dead/zarr.json", {}),
    # Without a catalogue every /api route is a JSON 404 (the catalogue's answers are checked
    # against this spec by catalog/test_access_matrix.py).
    ("GET", "/api/datasets?limit=1", {}), ("GET", "/api/datasets/x", {}), ("GET", "/api/datasets/x/metadata", {}),
    ("GET", "/api/search/elements", {}),
    ("GET", "/api/status", {}),
] + [
    # The browse site and the static sites, GET and HEAD.
    (method, path, headers) for method in ("GET", "HEAD") for path, headers in [
        ("/", {}), ("/?q=img", {}), ("/?page=0", {}), ("/", {"Authorization": "Bearer wrong"}),
        ("/browse/d/img.ome.zarr", {}), ("/browse/d/missing.ome.zarr", {}), ("/browse/private/img.ome.zarr", {}),
        ("/browse/d/img.ome.zarr", {"Authorization": "Bearer wrong"}),
        ("/browse/style.css", {}), ("/browse/style.css", {"If-None-Match": "*"}),
        ("/viewer", {}), ("/viewer/", {}), ("/viewer/v/tessera/", {}), ("/viewer/v/tessera/index.html", {"If-None-Match": "*"}),
        ("/viewer/v/tessera/missing.js", {}),
        ("/docs", {}), ("/docs/", {}), ("/docs/init.js", {}), ("/docs/init.js", {"If-None-Match": "*"}), ("/docs/missing.js", {}),
        ("/openapi.yaml", {}), ("/openapi.yaml", {"If-None-Match": "*"}),
    ]
] + [
    # Every picture route, GET and HEAD, every status but the 503 of a full render queue.
    (method, f"/{route}/{path}", headers)
    for route in ("render", "thumbnail", "quicklook") for method in ("GET", "HEAD")
    for path, headers in [
        ("d/img.ome.zarr?size=40", {}), ("d/img.ome.zarr?format=npy", {"Range": "bytes=0-9"}),
        ("d/img.ome.zarr?size=40", {"If-None-Match": "*"}), ("d/img.ome.zarr?size=40", {"If-Match": '"x"'}),
        ("d/img.ome.zarr?level=9", {}), ("private/img.ome.zarr", {}), ("d/missing.ome.zarr", {}),
        ("d", {}), ("d/nostats.ome.zarr?stats=image&window=p1,p99", {}), ("dead/img.ome.zarr", {}),
    ]
]


# Answers on the connection level, sent as raw bytes (no client library sends them): the
# gateway's 400 for a head it will not take.
RAW_REQUESTS = [
    ("GET", "/d/0/0", b"GET /d/0/0 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    ("HEAD", "/d/0/0", b"HEAD /d/0/0 HTTP/1.1\nHost: a\n\n"),
]
# Documented but not produced here: the 503 a newcomer gets past the hard connection cap
# (or when descriptors run out mid-answer). The server writes it and closes at once, so a
# client that has already sent its request usually sees a reset instead (no lingering
# close yet); test_gateway_hardening.py checks the server survives those conditions.
PRODUCED_ELSEWHERE = {("/{root}/{key}", "get", "503"), ("/{root}/{key}", "head", "503")} | {
    (template, "get", status) for template in ("/api/datasets", "/api/datasets/{id}", "/api/datasets/{id}/metadata",
                                               "/api/search/elements")
    for status in ("200", "400", "401", "502", "503")} | {
    # catalog/test_status.py: 200, 400, 401, 403 (502/503 as for the other /api routes).
    ("/api/status", "get", status) for status in ("200", "400", "401", "403", "502", "503")} | {
    # A full render queue: test_gateway_render.py::test_a_full_render_queue_is_a_503_to_retry (and RenderPoolTests).
    (f"/{route}/{{root}}/{{image}}", method, "503") for route in ("render", "thumbnail", "quicklook") for method in ("get", "head")} | {
    # The sites switched off: browse/test_browse_bad_input.py::test_sites_off_by_default.
    (template, method, "404") for template in ("/", "/viewer", "/docs", "/openapi.yaml") for method in ("get", "head")} | {
    # A listing that fails outright (the walk records a storage error as "listing stopped" on
    # the page; only a failing thread pool or catalogue store gives the 502 page): no test.
    (template, method, "502") for template in ("/", "/browse/{root}/{image}") for method in ("get", "head")}


def raw_answer(srv, raw: bytes):
    """(status, lower-cased headers, body) of the one answer to `raw`, read to the close."""
    import socket
    from urllib.parse import urlsplit

    u = urlsplit(srv.url)
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(raw)
        out = b""
        while data := s.recv(65536):
            out += data
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
    return int(lines[0].split()[1]), {k.strip().lower(): v.strip() for k, v in fields.items()}, body


def check_answer(spec, method, path, status, h, body):
    """The answer is one the spec documents for its operation, with the headers and media
    type it promises; returns (template, method, status)."""
    template = operation_for(path)
    op = spec["paths"][template].get(method.lower())
    assert op is not None, f"{method} {template} is not in the spec"
    assert str(status) in op["responses"], f"{method} {path} -> {status}, documented: {list(op['responses'])}"
    response = resolve(spec, op["responses"][str(status)])
    h = {k.lower(): v for k, v in h.items()}
    for name, header in (response.get("headers") or {}).items():
        header = resolve(spec, header)
        value = h.get(name.lower())
        if header.get("required"):
            assert value is not None, f"{method} {path} {status}: missing {name}"
        if value is not None:
            schema = header.get("schema", {})
            if "pattern" in schema:
                assert re.search(schema["pattern"], value), f"{name}: {value!r} !~ {schema['pattern']}"
            if "const" in schema:
                assert value == schema["const"], f"{name}: {value!r} != {schema['const']!r}"
    if body and method != "HEAD":
        media = (h.get("content-type") or "").split(";")[0]
        assert media in (response.get("content") or {}), f"{method} {path} {status}: undocumented {media}"
    return template, method.lower(), str(status)


def test_every_answer_is_documented(spec, servers):
    seen = set()
    for method, path, headers in REQUESTS:
        status, h, body = get(servers, path, headers, method=method)
        seen.add(check_answer(spec, method, path, status, h, body))
    for method, path, raw in RAW_REQUESTS:
        status, h, body = raw_answer(servers, raw)
        seen.add(check_answer(spec, method, path, status, h, body))
    operations = {(p, m) for p, item in spec["paths"].items() for m in item if m in ("get", "head", "options")}
    assert operations == {(t, m) for t, m, _ in seen}, "every operation in the spec must be exercised"
    documented = {(p, m, s) for p, item in spec["paths"].items() for m, op in item.items()
                  if m in ("get", "head", "options") for s in op["responses"]}
    missing = documented - seen - PRODUCED_ELSEWHERE
    assert not missing, f"documented but never produced: {sorted(missing)}"
