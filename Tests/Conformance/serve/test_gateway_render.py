"""The gateway's picture routes (issue 20; Docs/serve.md "Pictures"):
`/render/{root}/{image}?…`, `/thumbnail/…` and `/quicklook/…`.

- The HTTP bytes equal `tessera render`'s for the same parameters (one renderer, one
  grammar; the CLI's own exactness is test_render_exact.py's).
- Strong ETags: stable across requests, different for other parameters, 304 with
  If-None-Match (no pixel read: the trace shows none), new after a re-conversion.
- Access as for the image's objects: a private root is 401 without credentials, the empty
  404 of a missing image for a caller outside its groups, private caching and
  `Vary: Authorization` for members.
- A thumbnail of a multi-level image never reads level 0 (TESSERA_TRACE_READS).
- With a render cache folder, the second thumbnail is a disk-cache hit (same bytes), also
  after a restart.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import tifffile

from gateway_server import GatewayServer
from http_exchange import get

HEIGHT, WIDTH = 500, 600
TRACE = re.compile(r"tessera-trace: render read level (\d+)")


def picture(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    v = 20000 + 15000 * np.sin(x / 37.0) * np.cos(y / 23.0) + 10 * x + rng.normal(0, 300, (HEIGHT, WIDTH))
    return np.clip(v, 0, 65535).round().astype(np.uint16)


def convert(run_convert, folder, name, seed, *flags):
    tif = folder / f"{name}.tif"
    tifffile.imwrite(tif, picture(seed))
    run_convert("convert", tif, folder / f"{name}.ome.zarr", "--chunks", "64", *flags, check=True)
    tif.unlink()
    return folder / f"{name}.ome.zarr"


@pytest.fixture(scope="module")
def images(tmp_path_factory, run_convert):
    base = tmp_path_factory.mktemp("gateway-render")
    data = base / "data"
    data.mkdir()
    convert(run_convert, data, "u16", 1)
    convert(run_convert, data, "v04", 2, "--ngff", "0.4")
    lab = base / "lab"
    lab.mkdir()
    convert(run_convert, lab, "secret", 3)
    return base


@pytest.fixture(scope="module")
def server(tessera_bin, images):
    srv = GatewayServer(tessera_bin, "--root", f"data={images / 'data'}", env={"TESSERA_TRACE_READS": "1"})
    try:
        yield srv
    finally:
        assert srv.stop() == 0


def cli_bytes(run_tessera, tmp_path, image, ext, *flags):
    out = tmp_path / f"cli.{ext}"
    proc = run_tessera("render", image, out, *flags, "--overwrite")
    assert proc.returncode == 0, proc.stderr
    return out.read_bytes()


# query string, CLI flags, output extension
SAME_AS_CLI = [
    ("", [], "png"),
    ("region=13,7,300,211&size=100,80", ["--region", "13,7,300,211", "--size", "100,80"], "png"),
    ("level=1&window=1000,40000&bits=16", ["--level", "1", "--window", "1000,40000", "--bits", "16"], "png"),
    ("format=jpeg&quality=70&size=256", ["--quality", "70", "--size", "256"], "jpg"),
    ("format=npy&level=2&region=64,32,256,128", ["--level", "2", "--region", "64,32,256,128"], "npy"),
    ("colormap=viridis&window=p2,p98&resample=nearest&size=90",
     ["--colormap", "viridis", "--window", "p2,p98", "--resample", "nearest", "--size", "90"], "png"),
]


@pytest.mark.parametrize("image", ["u16", "v04"])
@pytest.mark.parametrize("query,flags,ext", SAME_AS_CLI)
def test_render_bytes_equal_the_cli(server, images, run_tessera, tmp_path, image, query, flags, ext):
    status, headers, body = get(server, f"/render/data/{image}.ome.zarr" + (f"?{query}" if query else ""))
    assert status == 200, body
    want = cli_bytes(run_tessera, tmp_path, images / "data" / f"{image}.ome.zarr", ext, *flags)
    assert body == want
    assert headers["content-length"] == str(len(want))
    assert headers["content-type"] == {"png": "image/png", "jpg": "image/jpeg", "npy": "application/octet-stream"}[ext]
    assert headers["etag"].startswith('"r-')
    assert headers["cache-control"] == "public, max-age=60"


def test_thumbnail_and_quicklook_are_their_presets(server, images, run_tessera, tmp_path):
    image = images / "data" / "u16.ome.zarr"
    status, headers, body = get(server, "/thumbnail/data/u16.ome.zarr")
    assert status == 200 and headers["content-type"] == "image/png"
    assert body == cli_bytes(run_tessera, tmp_path, image, "png", "--size", "128,128", "--window", "p1,p99")
    from io import BytesIO
    from PIL import Image
    # 600x500 into 128x128, aspect kept: 128 x round(500 * 128/600) = 128 x 107.
    assert Image.open(BytesIO(body)).size == (128, 107)

    status, headers, body = get(server, "/quicklook/data/u16.ome.zarr")
    assert status == 200 and headers["content-type"] == "image/jpeg"
    assert body == cli_bytes(run_tessera, tmp_path, image, "jpg", "--size", "1024", "--window", "p1,p99", "--quality", "85")
    # Overrides go through the same grammar.
    status, _, body = get(server, "/thumbnail/data/u16.ome.zarr?size=64&window=0,65535")
    assert status == 200
    assert body == cli_bytes(run_tessera, tmp_path, image, "png", "--size", "64", "--window", "0,65535")


def trace_levels(server, since: int) -> list[int]:
    return [int(m.group(1)) for m in TRACE.finditer(server.log_text()[since:])]


def test_a_thumbnail_never_reads_level_0(server):
    mark = len(server.log_text())
    status, headers, _ = get(server, "/thumbnail/data/v04.ome.zarr")
    assert status == 200
    levels = trace_levels(server, mark)
    assert levels, "the server printed no render trace"
    assert 0 not in levels
    assert headers["x-tessera-level"] == str(levels[0]) != "0"


def test_etags_are_stable_and_answer_304_without_reading_pixels(server):
    path = "/render/data/u16.ome.zarr?size=200&window=p1,p99"
    first = get(server, path)
    second = get(server, path)
    assert first[0] == second[0] == 200
    assert first[1]["etag"] == second[1]["etag"]
    assert first[2] == second[2]
    other = get(server, "/render/data/u16.ome.zarr?size=201&window=p1,p99")
    assert other[1]["etag"] != first[1]["etag"]
    # The same picture however the parameters are spelled (normalised request).
    assert get(server, "/render/data/u16.ome.zarr?window=p1.0,p99&size=200,200")[1]["etag"] == first[1]["etag"]

    mark = len(server.log_text())
    status, headers, body = get(server, path, headers={"If-None-Match": first[1]["etag"]})
    assert status == 304 and body == b""
    assert headers["etag"] == first[1]["etag"]
    assert trace_levels(server, mark) == []
    status, headers, body = get(server, path, method="HEAD")
    assert status == 200 and body == b""
    assert headers["etag"] == first[1]["etag"] and headers["content-length"] == str(len(first[2]))


def test_the_etag_changes_after_a_reconversion(tessera_bin, run_convert, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    convert(run_convert, data, "img", 5)
    with GatewayServer(tessera_bin, "--root", f"data={data}") as srv:
        before = get(srv, "/thumbnail/data/img.ome.zarr")
        assert before[0] == 200
        convert(run_convert, data, "img", 6, "--overwrite")
        after = get(srv, "/thumbnail/data/img.ome.zarr", headers={"If-None-Match": before[1]["etag"]})
        assert after[0] == 200
        assert after[1]["etag"] != before[1]["etag"] and after[2] != before[2]


@pytest.fixture(scope="module")
def private_server(tessera_bin, images):
    config = images / "private.yaml"
    config.write_text(f"""
roots:
  - {{name: data, location: {images / 'data'}, access: public}}
  - {{name: lab, location: {images / 'lab'}, access: [lab]}}
auth:
  tokens:
    - {{token: lab-token, groups: [lab]}}
    - {{token: guest-token, groups: [guests]}}
""")
    srv = GatewayServer(tessera_bin, "--config", config)
    try:
        yield srv
    finally:
        assert srv.stop() == 0


@pytest.mark.parametrize("route", ["render", "thumbnail", "quicklook"])
def test_private_roots_answer_as_their_objects(private_server, route):
    srv = private_server
    for token, want in [(None, 401), ("guest-token", 404), ("lab-token", 200)]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        obj = get(srv, "/lab/secret.ome.zarr/zarr.json", headers=headers)
        pic = get(srv, f"/{route}/lab/secret.ome.zarr?size=32", headers=headers)
        assert obj[0] == pic[0] == want, (token, obj[0], pic[0])
        assert pic[1].get("vary") == obj[1].get("vary") == "Authorization"
        if want == 200:
            assert pic[1]["cache-control"] == obj[1]["cache-control"] == "private, max-age=60"
        else:
            assert pic[2] == obj[2] == b""
    # A hidden root's picture and a missing root's are the same 404, whatever the query.
    hidden = get(srv, f"/{route}/lab/secret.ome.zarr?level=99", headers={"Authorization": "Bearer guest-token"})
    missing = get(srv, f"/{route}/nothing/secret.ome.zarr?level=99", headers={"Authorization": "Bearer guest-token"})
    assert (hidden[0], hidden[2]) == (missing[0], missing[2]) == (404, b"")
    # The public root's pictures stay public, but vary with credentials as its objects do.
    public = get(srv, f"/{route}/data/u16.ome.zarr?size=32")
    assert public[0] == 200 and public[1]["cache-control"] == "public, max-age=60"


def test_a_missing_image_is_an_empty_404(server):
    for path in ["/render/data/nothing.ome.zarr", "/thumbnail/data/u16.ome.zarr/0/nothing", "/render/nothing/u16.ome.zarr"]:
        status, _, body = get(server, path)
        assert (status, body) == (404, b""), path


def test_reserved_root_names_stop_the_server(tessera_bin, tmp_path):
    proc = __import__("subprocess").run([str(tessera_bin), "serve", "--port", "0", "--root", f"thumbnail={tmp_path}"],
                                        capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert "root name 'thumbnail' is reserved for the gateway's /thumbnail route" in proc.stderr


def cache_metric(srv, result: str) -> float:
    text = get(srv, "/metrics")[2].decode()
    for line in text.splitlines():
        if line.startswith("tessera_render_cache_total") and f'result="{result}"' in line:
            return float(line.split()[-1])
    return 0.0


def test_the_second_thumbnail_is_a_cache_hit_also_after_a_restart(tessera_bin, images, tmp_path):
    cache = tmp_path / "render-cache"
    args = ["--root", f"data={images / 'data'}", "--render-cache", cache]
    with GatewayServer(tessera_bin, *args, env={"TESSERA_TRACE_READS": "1"}) as srv:
        first = get(srv, "/thumbnail/data/u16.ome.zarr")
        mark = len(srv.log_text())
        second = get(srv, "/thumbnail/data/u16.ome.zarr")
        assert first[0] == second[0] == 200
        assert (first[1]["x-tessera-cache"], second[1]["x-tessera-cache"]) == ("miss", "hit")
        assert first[2] == second[2] and first[1]["etag"] == second[1]["etag"]
        assert trace_levels(srv, mark) == [], "a cache hit read pixels"
        assert cache_metric(srv, "hit") == 1 and cache_metric(srv, "stored") == 1
        # Plain renders are not kept.
        assert get(srv, "/render/data/u16.ome.zarr?size=128,128&window=p1,p99")[1]["x-tessera-cache"] == "off"
    assert len(list(cache.rglob("*.trc"))) == 1
    with GatewayServer(tessera_bin, *args) as srv:
        again = get(srv, "/thumbnail/data/u16.ome.zarr")
        assert again[1]["x-tessera-cache"] == "hit" and again[2] == first[2]


def test_a_full_render_queue_is_a_503_to_retry(tessera_bin, run_convert, tmp_path):
    """One render thread, no queue: requests arriving while a large render runs are refused
    at once with 503 + Retry-After (JSON), the others answered, the server healthy after."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    data = tmp_path / "data"
    data.mkdir()
    tifffile.imwrite(data / "big.tif", np.random.default_rng(3).integers(0, 60000, (2048, 2048), dtype=np.uint16))
    run_convert("convert", data / "big.tif", data / "big.ome.zarr", check=True)
    config = tmp_path / "serve.yaml"
    config.write_text(f"roots: [{{name: data, location: {data}}}]\nrenderConcurrency: 1\nrenderQueue: 0\n")
    with GatewayServer(tessera_bin, "--config", config) as srv:
        statuses = []
        for attempt in range(3):
            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda i: get(srv, f"/render/data/big.ome.zarr?level=1&window=p1,p99&size={1000 - i}"),
                                        range(8)))
            statuses = [a[0] for a in answers]
            if 503 in statuses:
                break
        assert 503 in statuses and 200 in statuses and set(statuses) <= {200, 503}, statuses
        busy = next(a for a in answers if a[0] == 503)
        assert busy[1]["retry-after"] == "1" and busy[1]["content-type"] == "application/json"
        assert "busy" in json.loads(busy[2])["error"]
        assert get(srv, "/render/data/big.ome.zarr?size=64")[0] == 200
