"""`tessera serve --v2-view`: a Zarr v3 sharded NGFF 0.5 image read as Zarr v2 + NGFF 0.4
through `/{root}/v2/` by readers that only know v2, pixel for pixel.

One deterministic uint16 image (c, y, x = 2 x 300 x 500; 300 and 500 are not multiples
of the 64-pixel inner chunks nor of the 128-pixel shards, so there are edge chunks; one
64x64 tile of channel 1 is all zero, so its inner chunk is absent from its shard) is
converted with `tessera convert --ngff 0.5 --chunks 64 --shards 128` (4 levels), and
served with `--v2-view`. Every level is read through the view by:

  * zarr-python 2.18 (`zarr<3`, in its own venv .venv-zarr2 made by scripts/setup.sh
    --python; created here if missing), with the view's consolidated metadata and
    without it;
  * tensorstore's `zarr` (v2) driver over its `http` kvstore;
  * ome-zarr-py's `Reader` (the main venv's), which must see NGFF 0.4;

and must equal the level read straight from disk with zarr-python 3 (the reference).
Every v2 chunk's bytes must be the shard's inner-chunk bytes (the shard sliced by its
own index, parsed here); an inner chunk the index marks absent answers 404. A second
root holds a v3 array whose inner chain has crc32c, which v2 cannot express: the view
does not offer it (404, the reason in the server's log, left out of `.zmetadata`).
Hostile paths under /v2/ are refused like everywhere else.
"""

from __future__ import annotations

import http.client
import json
import os
import struct
import subprocess
import sys
import textwrap
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

import convert_checks as cc
import convert_inputs as ci
import tessera_conformance as tc
from gateway_server import GatewayServer

REPO_ROOT = Path(__file__).resolve().parents[3]
ZARR2_PYTHON = REPO_ROOT / ".venv-zarr2" / "bin" / "python"
SHAPE = (2, 300, 500)
CHUNK, SHARD = 64, 128
ZERO_TILE = (1, 1, 2)  # (c, chunk row, chunk col) of the all-zero inner chunk at level 0


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def zarr2_python() -> Path:
    """The zarr-python 2 interpreter; scripts/setup.sh --python makes it (idempotent)."""
    if not ZARR2_PYTHON.exists():
        subprocess.run([str(REPO_ROOT / "scripts" / "setup.sh"), "--python"], cwd=REPO_ROOT, check=True, timeout=900)
    version = subprocess.run([str(ZARR2_PYTHON), "-c", "import zarr; print(zarr.__version__)"],
                             capture_output=True, text=True, timeout=120, check=True).stdout.strip()
    assert version.startswith("2."), f".venv-zarr2 has zarr {version}, expected 2.x"
    return ZARR2_PYTHON


@pytest.fixture(scope="module")
def image(tmp_path_factory, run_convert):
    """(path of the converted 0.5 image, {level path: numpy read from disk})."""
    import zarr

    tmp = tmp_path_factory.mktemp("v2_view")
    pixels = ci.pixels("uint16", SHAPE, seed=7, kind="smooth")
    c, row, col = ZERO_TILE
    pixels[c, row * CHUNK:(row + 1) * CHUNK, col * CHUNK:(col + 1) * CHUNK] = 0
    src = ci.write_tiff_pages(tmp / "img.tif", pixels)
    out = tmp / "img.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, "0.5",
                                             extra=["--pages-as", "c", "--chunks", CHUNK, "--shards", SHARD]))
    group = zarr.open_group(str(out), mode="r", use_consolidated=False)
    paths = [d["path"] for d in group.attrs["ome"]["multiscales"][0]["datasets"]]
    assert len(paths) >= 3, paths
    levels = {p: group[p][...] for p in paths}
    tc.assert_pixels_equal(levels[paths[0]], pixels, "level 0 on disk vs source")
    assert group[paths[0]].shards == (1, SHARD, SHARD), group[paths[0]].shards
    assert any(s % CHUNK for s in levels[paths[-1]].shape[1:]) or any(s % CHUNK for s in SHAPE[1:])
    return out, levels


@pytest.fixture(scope="module")
def checksummed(tmp_path_factory) -> Path:
    """A v3 group holding one sharded array whose inner chain ends in crc32c."""
    import zarr
    from zarr.codecs import BytesCodec, Crc32cCodec, ZstdCodec

    root = tmp_path_factory.mktemp("v2_view_crc") / "crc.zarr"
    group = zarr.open_group(str(root), mode="w", zarr_format=3)
    arr = group.create_array("a", shape=(100, 100), chunks=(32, 32), shards=(64, 64), dtype="uint8",
                             serializer=BytesCodec(), compressors=[ZstdCodec(), Crc32cCodec()])
    arr[...] = np.arange(100 * 100, dtype=np.uint32).reshape(100, 100).astype(np.uint8)
    # a folder of the root's own named like the view: hidden behind it (on both answer paths)
    (root / "v2").mkdir()
    (root / "v2" / "own-file").write_bytes(b"not part of the view")
    return root


@pytest.fixture(scope="module")
def server(tessera_bin, image, checksummed):
    srv = GatewayServer(tessera_bin, "--host", "127.0.0.1", "--v2-view", "--root", f"img={image[0]}",
                        "--root", f"crc={checksummed}")
    try:
        yield srv
    finally:
        code = srv.stop()
        assert code == 0, f"gateway exited {code}\n{srv.log_text()[-3000:]}"
        fives = [e for e in srv.access_log() if e.get("status", 0) >= 500]
        assert not fives, f"5xx answers: {fives[:5]}"


def _get_json(server, path):
    status, headers, body = server.get(path)
    assert status == 200, f"{path}: {status} {body[:200]!r}"
    assert headers.get("Content-Type") == "application/json", f"{path}: {headers.get('Content-Type')}"
    return json.loads(body)


def _levels(image):
    return list(image[1])


# ---------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------

def test_v2_documents(server, image):
    path, levels = image
    assert _get_json(server, "/img/v2/.zgroup") == {"zarr_format": 2}
    attrs = _get_json(server, "/img/v2/.zattrs")
    assert "ome" not in attrs, sorted(attrs)
    v3 = json.loads((path / "zarr.json").read_text())["attributes"]["ome"]
    ms = attrs["multiscales"][0]
    assert ms["version"] == "0.4", ms.get("version")
    assert {k: v for k, v in ms.items() if k != "version"} == v3["multiscales"][0]
    assert attrs["omero"] == v3["omero"]
    for p, data in levels.items():
        meta = json.loads((path / p / "zarr.json").read_text())
        inner = meta["codecs"][0]["configuration"]
        zarray = _get_json(server, f"/img/v2/{p}/.zarray")
        assert zarray == {
            "zarr_format": 2, "shape": list(data.shape), "chunks": inner["chunk_shape"], "dtype": "<u2",
            "fill_value": 0, "order": "C", "filters": None, "dimension_separator": "/",
            "compressor": zarray["compressor"],
        }, zarray
        blosc = next(c["configuration"] for c in inner["codecs"] if c["name"] == "blosc")
        assert zarray["compressor"]["id"] == "blosc" and zarray["compressor"]["cname"] == blosc["cname"], zarray
        assert _get_json(server, f"/img/v2/{p}/.zattrs") == {}
    zmeta = _get_json(server, "/img/v2/.zmetadata")["metadata"]
    assert sorted(k for k in zmeta if k.endswith(".zarray")) == sorted(f"{p}/.zarray" for p in levels)
    assert zmeta[".zattrs"] == attrs


# ---------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------

ZARR2_READ = textwrap.dedent("""
    import sys, numpy as np, zarr
    from zarr.storage import FSStore
    url, out, consolidated = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    if consolidated:
        group = zarr.open_consolidated(url, mode="r")
    else:
        group = zarr.open_group(FSStore(url, mode="r"), mode="r")
    ms = group.attrs["multiscales"][0]
    assert ms["version"] == "0.4", ms
    arrays = {d["path"]: group[d["path"]][...] for d in ms["datasets"]}
    np.savez(out, **arrays)
""")


@pytest.mark.parametrize("consolidated", [True, False], ids=["consolidated", "node-by-node"])
def test_zarr_python_2_reads_every_level(server, image, zarr2_python, tmp_path, consolidated):
    out = tmp_path / "levels.npz"
    proc = subprocess.run([str(zarr2_python), "-c", ZARR2_READ, server.url + "/img/v2", str(out),
                           "1" if consolidated else "0"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = np.load(out)
    assert sorted(got.files) == sorted(_levels(image))
    for p, want in image[1].items():
        tc.assert_pixels_equal(got[p], want, f"zarr 2 level {p}")


def test_tensorstore_zarr_v2_driver_reads_every_level(server, image):
    import tensorstore as ts

    for p, want in image[1].items():
        store = ts.open({"driver": "zarr", "kvstore": f"{server.url}/img/v2/{p}/"}, read=True).result()
        tc.assert_pixels_equal(store.read().result(), want, f"tensorstore zarr level {p}")
    # an unaligned region across edge chunks
    p0 = _levels(image)[0]
    store = ts.open({"driver": "zarr", "kvstore": f"{server.url}/img/v2/{p0}/"}, read=True).result()
    tc.assert_pixels_equal(store[:, 250:300, 430:500].read().result(), image[1][p0][:, 250:300, 430:500],
                           "tensorstore edge region")


def test_ome_zarr_py_reads_ngff_04(server, image):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    location = parse_url(server.url + "/img/v2")
    assert location is not None
    assert location.version == "0.4", location.version
    node = list(Reader(location)())[0]
    assert len(node.data) == len(image[1])
    for (p, want), data in zip(image[1].items(), node.data):
        tc.assert_pixels_equal(np.asarray(data), want, f"ome-zarr-py level {p}")


# ---------------------------------------------------------------------------
# The bytes: each v2 chunk is the shard's inner chunk, as stored
# ---------------------------------------------------------------------------

def _shard_index(shard: bytes, count: int) -> list:
    """(offset, length) or None per inner chunk, from an index at the end (bytes + crc32c)."""
    size = 16 * count + 4
    raw = shard[-size:-4]
    entries = []
    for i in range(count):
        offset, length = struct.unpack_from("<QQ", raw, 16 * i)
        entries.append(None if offset == length == 2**64 - 1 else (offset, length))
    return entries


def test_chunks_are_inner_chunk_bytes(server, image):
    path, levels = image
    absent = served = 0
    for p, data in levels.items():
        meta = json.loads((path / p / "zarr.json").read_text())
        conf = meta["codecs"][0]["configuration"]
        assert conf.get("index_location", "end") == "end"
        inner = conf["chunk_shape"]
        shard_shape = meta["chunk_grid"]["configuration"]["chunk_shape"]
        per = [s // i for s, i in zip(shard_shape, inner)]
        grid = [-(-n // i) for n, i in zip(data.shape, inner)]
        for coords in np.ndindex(*grid):
            shard_coords = [c // n for c, n in zip(coords, per)]
            local = [c % n for c, n in zip(coords, per)]
            position = int(np.ravel_multi_index(local, per))
            shard_file = path / p / "c" / Path(*map(str, shard_coords))
            entry = None
            if shard_file.exists():
                shard = shard_file.read_bytes()
                entry = _shard_index(shard, int(np.prod(per)))[position]
            status, headers, body = server.get(f"/img/v2/{p}/" + "/".join(map(str, coords)))
            if entry is None:
                assert status == 404, f"{p} {coords}: absent inner chunk answered {status}"
                absent += 1
            else:
                assert status == 200, f"{p} {coords}: {status}"
                assert body == shard[entry[0]:entry[0] + entry[1]], f"{p} {coords}: bytes differ from the shard's"
                assert headers.get("Content-Type") == "application/octet-stream"
                served += 1
    assert absent >= 1, "the all-zero tile should be absent from its shard"
    assert served > 50, served
    # a range of a chunk is that range of the inner chunk
    p0 = _levels(image)[0]
    status, headers, body = server.get(f"/img/v2/{p0}/0/0/0", headers={"Range": "bytes=3-9"})
    full = server.get(f"/img/v2/{p0}/0/0/0")[2]
    assert status == 206 and body == full[3:10], (status, headers)


def test_absent_zero_tile_reads_as_fill(server, image):
    p0 = _levels(image)[0]
    c, row, col = ZERO_TILE
    status, _, _ = server.get(f"/img/v2/{p0}/{c}/{row}/{col}")
    assert status == 404, status
    assert not image[1][p0][c, row * CHUNK:(row + 1) * CHUNK, col * CHUNK:(col + 1) * CHUNK].any()


# ---------------------------------------------------------------------------
# What the view does not offer, and paths it refuses
# ---------------------------------------------------------------------------

def test_inexpressible_inner_chain_is_not_offered(server, checksummed):
    assert server.get("/crc/v2/.zgroup")[0] == 200
    for key in ["a/.zarray", "a/.zattrs", "a/0/0"]:
        status, _, body = server.get(f"/crc/v2/{key}")
        assert status == 404 and body == b"", (key, status, body)
    zmeta = _get_json(server, "/crc/v2/.zmetadata")["metadata"]
    assert not any(k.startswith("a/") for k in zmeta), sorted(zmeta)
    log = server.log_text()
    assert "does not offer" in log and "crc32c" in log, log[-2000:]
    # the v3 data itself is still served as stored
    assert server.get("/crc/a/zarr.json")[0] == 200


def test_the_view_hides_a_folder_named_v2(server):
    assert server.get("/crc/v2/own-file")[0] == 404
    assert server.get("/crc/v2/own-file", method="HEAD")[0] == 404


def test_chunk_validators(server, image):
    p0 = _levels(image)[0]
    status, headers, body = server.get(f"/img/v2/{p0}/0/0/0")
    assert status == 200 and headers.get("ETag", "").startswith('"v2-'), headers
    again = server.get(f"/img/v2/{p0}/0/0/0")[1]
    assert again["ETag"] == headers["ETag"]
    assert server.get(f"/img/v2/{p0}/0/0/1")[1]["ETag"] != headers["ETag"]
    assert server.get(f"/img/v2/{p0}/0/0/0", headers={"If-None-Match": headers["ETag"]})[0] == 304
    assert "Last-Modified" in headers


def _raw_status(server, target: str) -> int:
    parsed = urllib.parse.urlsplit(server.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    try:
        conn.putrequest("GET", target, skip_accept_encoding=True)
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.mark.parametrize("target", [
    "/img/v2/../zarr.json", "/img/v2/%2e%2e/zarr.json", "/img/v2/0/%2e%2e/%2e%2e/zarr.json",
    "/img/v2/0%2f.zarray", "/img/v2/.tessera-output.json", "/img/v2/0/.tessera-x/0/0/0",
    "/img/v2//0/.zarray", "/img/v2/./.zgroup", "/img/v2/0/c/0/0", "/img/v2/zarr.json", "/img/v2/0/zarr.json",
    "/img/v2/0/0/0", "/img/v2/0/0/0/0/0", "/img/v2/0/-1/0/0", "/img/v2/0/0/99/0", "/img/v2/0/0/0/x",
])
def test_hostile_or_foreign_paths_are_404(server, target):
    assert _raw_status(server, target) == 404, target
