"""Thumbnails and quicklooks written at conversion (`tessera convert --thumbnails`;
Docs/render.md "Pictures stored at conversion"; issue 20 plan §7).

- The stored `.tessera-thumbnail.png` equals the thumbnail route's own render of the
  image and the numpy reference (support/render_reference.py); the stored
  `.tessera-quicklook.jpg` equals the quicklook route's render.
- The routes serve the stored files for requests without parameters
  (`X-Tessera-Cache: stored`, no pixel read), and render as before with overrides.
- A stored picture of an image rewritten since (its metadata versions changed) is not
  served: the answer is the new image's render.
"""

from __future__ import annotations

import re
import shutil
from io import BytesIO

import numpy as np
import pytest
import tifffile
from PIL import Image

import render_reference as ref
from gateway_server import GatewayServer
from http_exchange import get

HEIGHT, WIDTH = 300, 700
TRACE = re.compile(r"tessera-trace: render read level (\d+)")


def picture(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    v = 20000 + 15000 * np.sin(x / (31.0 + seed)) * np.cos(y / 23.0) + 10 * x + rng.normal(0, 300, (HEIGHT, WIDTH))
    return np.clip(v, 0, 65535).round().astype(np.uint16)


@pytest.fixture(scope="module")
def data(tmp_path_factory, run_convert):
    base = tmp_path_factory.mktemp("thumbs")
    root = base / "data"
    root.mkdir()
    for name, seed in (("a", 1), ("b", 2)):
        tif = base / f"{name}.tif"
        tifffile.imwrite(tif, picture(seed))
        run_convert("convert", tif, root / f"{name}.ome.zarr", "--chunks", "64", "--thumbnails", check=True)
    # The replacement pixels for the stale test, converted elsewhere.
    tif = base / "new.tif"
    tifffile.imwrite(tif, picture(9))
    run_convert("convert", tif, base / "new.ome.zarr", "--chunks", "64", check=True)
    return base


@pytest.fixture(scope="module")
def server(tessera_bin, data):
    srv = GatewayServer(tessera_bin, "--root", f"data={data / 'data'}", env={"TESSERA_TRACE_READS": "1"})
    try:
        yield srv
    finally:
        assert srv.stop() == 0


def test_stored_pictures_equal_the_routes_render_and_numpy(server, data):
    image = data / "data" / "a.ome.zarr"
    thumb = (image / ".tessera-thumbnail.png").read_bytes()
    quick = (image / ".tessera-quicklook.jpg").read_bytes()
    # The route's own render: any override makes it render (size= equal to the preset's).
    status, headers, body = get(server, "/thumbnail/data/a.ome.zarr?size=128,128")
    assert status == 200 and headers.get("x-tessera-cache") != "stored"
    assert body == thumb
    status, headers, body = get(server, "/quicklook/data/a.ome.zarr?quality=85")
    assert status == 200 and headers.get("x-tessera-cache") != "stored"
    assert body == quick
    kind, want, info = ref.render(image, size=(128, 128), window=(1, 99, "p"))
    got = np.array(Image.open(BytesIO(thumb)))
    assert got.shape == want.shape == (55, 128)  # 700x300 into 128x128: 128 x round(54.86)
    assert np.array_equal(got, want)


def test_routes_serve_the_stored_files_without_reading_pixels(server, data):
    image = data / "data" / "b.ome.zarr"
    for route, name, ctype in (("thumbnail", ".tessera-thumbnail.png", "image/png"),
                               ("quicklook", ".tessera-quicklook.jpg", "image/jpeg")):
        since = len(server.log_text())
        status, headers, body = get(server, f"/{route}/data/b.ome.zarr")
        assert status == 200, body
        assert headers["x-tessera-cache"] == "stored"
        assert headers["content-type"] == ctype
        assert body == (image / name).read_bytes()
        assert not TRACE.search(server.log_text()[since:]), "a stored picture was served after reading pixels"


def test_stale_stored_picture_is_not_served(server, data):
    image = data / "data" / "b.ome.zarr"
    stale = (image / ".tessera-thumbnail.png").read_bytes()
    # Rewrite the image's pixels and metadata in place (another writer), leaving the
    # stored pictures and their record behind.
    new = data / "new.ome.zarr"
    for entry in new.iterdir():
        target = image / entry.name
        if entry.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(entry, target)
        else:
            shutil.copyfile(entry, target)
    since = len(server.log_text())
    status, headers, body = get(server, "/thumbnail/data/b.ome.zarr")
    assert status == 200
    assert headers.get("x-tessera-cache") != "stored"
    assert body != stale
    assert TRACE.search(server.log_text()[since:]), "the new image was not rendered"
    kind, want, info = ref.render(image, size=(128, 128), window=(1, 99, "p"))
    assert np.array_equal(np.array(Image.open(BytesIO(body))), want)


def test_overwrite_and_resume_know_the_stored_pictures(data, run_convert, tmp_path):
    tif = tmp_path / "c.tif"
    tifffile.imwrite(tif, picture(5))
    out = tmp_path / "c.ome.zarr"
    run_convert("convert", tif, out, "--chunks", "64", "--thumbnails", check=True)
    names = {".tessera-thumbnail.png", ".tessera-quicklook.jpg", ".tessera-pictures.json"}
    assert names <= {p.name for p in out.iterdir()}
    before = (out / ".tessera-thumbnail.png").read_bytes()
    proc = run_convert("convert", tif, out, "--chunks", "64", "--resume")
    assert proc.returncode == 0, proc.stderr
    assert (out / ".tessera-thumbnail.png").read_bytes() == before
    proc = run_convert("convert", tif, out, "--chunks", "64", "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert not names & {p.name for p in out.iterdir()}
