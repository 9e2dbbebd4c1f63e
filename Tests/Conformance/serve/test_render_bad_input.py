"""Bad render requests over HTTP (issue 20, must-show 5): each is a 400 with
`{"error": "<one line>", "parameter": "<name>"}`, decided from metadata before any pixel
is read or any large buffer allocated (the trace shows no read, the server's memory stays
flat), and the server keeps answering. Out-of-range level/region/channel/t/z, an unknown
format, a size over the configured pixel cap, a read over the byte cap, malformed windows,
unknown or repeated parameters, an over-long query; for `subtract=`: a background image
of another shape (400 naming both shapes), a hidden or missing background (the empty 404
of a missing image), kernels over their caps, a bad `negative=`."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import tifffile

from gateway_server import GatewayServer
from http_exchange import get

IMAGE = "/render/data/img.ome.zarr"


@pytest.fixture(scope="module")
def server(tessera_bin, tmp_path_factory, run_convert):
    base = tmp_path_factory.mktemp("render-bad-input")
    data = base / "data"
    data.mkdir()
    rng = np.random.default_rng(7)
    tifffile.imwrite(base / "img.tif", rng.integers(0, 4000, (2, 300, 437), dtype=np.uint16), photometric="minisblack")
    run_convert("convert", base / "img.tif", data / "img.ome.zarr", "--chunks", "64", "--pages-as", "c", check=True)
    # Backgrounds: one of another shape beside it, one in a root only group lab may read.
    tifffile.imwrite(base / "other.tif", rng.integers(0, 100, (300, 400), dtype=np.uint16))
    run_convert("convert", base / "other.tif", data / "other.ome.zarr", "--chunks", "64", check=True)
    lab = base / "lab"
    lab.mkdir()
    tifffile.imwrite(base / "dark.tif", rng.integers(0, 100, (300, 437), dtype=np.uint16))
    run_convert("convert", base / "dark.tif", lab / "dark.ome.zarr", "--chunks", "64", check=True)
    config = base / "serve.yaml"
    # 20,000 output pixels and 256 KiB read per render at most.
    config.write_text(f"""
roots:
  - {{name: data, location: {data}, access: public}}
  - {{name: lab, location: {lab}, access: [lab]}}
auth:
  tokens:
    - {{token: lab-token, groups: [lab]}}
    - {{token: guest-token, groups: [guests]}}
renderMaxOutputPixels: 20000
renderMaxReadBytes: 262144
""")
    srv = GatewayServer(tessera_bin, "--config", config, env={"TESSERA_TRACE_READS": "1"})
    try:
        yield srv
    finally:
        assert srv.stop() == 0


BAD = [
    # query, parameter named, words the message must hold
    ("level=4", "level", "does not exist"),
    ("level=x", "level", "not an integer"),
    ("region=400,0,100,100", "region", "outside the image"),
    ("region=0,0,0,5", "region", "at least 1"),
    ("region=1,2,3", "region", "x,y,w,h"),
    ("c=2", "c", "does not exist"),
    ("c=0,0", "c", "twice"),
    ("t=1", "t", "outside the image"),
    ("z=3", "z", "outside the image"),
    ("format=gif", "format", "not one of"),
    ("size=200&level=0", "size", "over the cap"),
    ("level=0&size=100", "size", "over the cap of 262144 bytes"),
    ("window=p1,99", "window", "mixes"),
    ("window=5,1", "window", "below"),
    ("window=p99,p1", "window", "below"),
    ("window=nan,5", "window", "finite"),
    ("window=p1,p101", "window", "0–100"),
    ("window=abc", "window", "min,max"),
    ("format=npy&window=0,1", "window", "data values"),
    ("quality=90", "quality", "format=jpeg"),
    ("bits=16&size=64", "bits", "one gray channel"),
    ("colour=red", "colour", "unknown parameter"),
    ("size=64&size=32", "size", "more than once"),
    ("size=", "size", "no value"),
    ("negative=clip", "negative", "subtract"),
    ("subtract=image:data/other.ome.zarr&negative=wrong", "negative", "clip, keep or shift"),
    ("subtract=5&negative=shift:x", "negative", "finite number"),
    ("subtract=5&negative=shift:", "negative", "finite number"),
    ("subtract=image:data/other.ome.zarr&level=2", "subtract",
     "background image data/other.ome.zarr has shape [300,400] at level 0, the image has [2,300,437]"),
    ("subtract=ball:100000&level=2", "subtract", "radius too large"),
    ("subtract=median:100001&level=2", "subtract", "kernel too large"),
    ("subtract=gaussian:1e9&level=2", "subtract", "sigma too large"),
    ("subtract=ball:0", "subtract", "above 0"),
    ("subtract=tophat:3", "subtract", "not a mode"),
    ("size=%ff", "size", "percent-encoding"),
    ("q=" + "x" * 3000, "query", "longer than 2048"),
]


@pytest.mark.parametrize("query,parameter,words", BAD)
@pytest.mark.parametrize("route", ["render", "thumbnail"])
def test_bad_parameters_are_400s_naming_them(server, route, query, parameter, words):
    mark = len(server.log_text())
    status, headers, body = get(server, IMAGE.replace("render", route, 1) + "?" + query)
    assert status == 400, body
    assert headers["content-type"] == "application/json"
    answer = json.loads(body)
    assert answer["parameter"] == parameter
    assert words in answer["error"] and answer["error"].startswith(f"{parameter}: ")
    assert "\n" not in answer["error"]
    assert "render read level" not in server.log_text()[mark:], "pixels were read before the refusal"
    assert get(server, "/healthz")[0] == 200


def test_head_answers_the_same_400_without_a_body(server):
    status, headers, body = get(server, IMAGE + "?level=9", method="HEAD")
    assert (status, body) == (400, b"")
    assert headers["content-type"] == "application/json" and int(headers["content-length"]) > 0


@pytest.mark.parametrize("who", [None, "guest-token"])
def test_a_hidden_background_answers_as_a_missing_image(server, who):
    """Hidden, forbidden or missing, a background answers exactly like a missing image:
    the same empty 404, nothing read; the lab group gets the picture."""
    headers = {"Authorization": f"Bearer {who}"} if who else {}
    mark = len(server.log_text())
    answers = [get(server, IMAGE + "?level=2&subtract=image:" + ref, headers=headers)
               for ref in ["lab/dark.ome.zarr", "lab/nothing.ome.zarr", "nowhere/dark.ome.zarr"]]
    missing = get(server, "/render/data/nothing.ome.zarr?level=2", headers=headers)
    for status, answer_headers, body in answers:
        assert (status, body) == (404, b"") == (missing[0], missing[2])
        assert answer_headers.get("content-length") == missing[1].get("content-length") == "0"
    assert "render read level" not in server.log_text()[mark:]
    # And the lab group may use it.
    status, headers, body = get(server, IMAGE + "?level=2&format=npy&subtract=image:lab/dark.ome.zarr",
                                headers={"Authorization": "Bearer lab-token"})
    assert status == 200 and headers["x-tessera-subtract"].startswith("image lab/dark.ome.zarr")


def test_huge_requests_allocate_nothing(server):
    """Sizes and regions near the grammar's limits are refused from arithmetic alone."""
    before = server.rss_kib()
    mark = len(server.log_text())
    for query in ["size=1099511627776", "size=1099511627776,1099511627776&level=0", "region=0,0,1099511627776,1099511627776",
                  "level=0&size=1000000", "c=" + ",".join(map(str, range(1024)))]:
        status, _, body = get(server, IMAGE + "?" + query)
        assert status == 400, (query, body)
    assert server.rss_kib() - before < 50 * 1024
    assert re.search(r"tessera-trace: render read", server.log_text()[mark:]) is None


def test_refusals_name_images_by_root_never_by_server_path(tessera_bin, tmp_path):
    """A picture refused for its metadata (422) names the image as `root/path`, and the
    browse page says what it cannot read without the server's folder: the 422 named the
    folder on the server's disk before (`cannot render '/srv/…/plain.zarr'`), and the page
    printed storage errors whole."""
    data = tmp_path / "server-only-folder"
    (data / "plain.zarr").mkdir(parents=True)
    (data / "plain.zarr" / "zarr.json").write_text('{"zarr_format":3,"node_type":"group","attributes":{}}')
    # An image whose level 0 is gone, and one whose level is not valid JSON.
    for name in ("nolevel.ome.zarr", "badlevel.ome.zarr"):
        (data / name).mkdir()
        (data / name / "zarr.json").write_text(json.dumps({"zarr_format": 3, "node_type": "group", "attributes": {"ome": {
            "version": "0.5", "multiscales": [{"axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
                                               "datasets": [{"path": "0", "coordinateTransformations": [
                                                   {"type": "scale", "scale": [1, 1]}]}]}]}}}))
    (data / "badlevel.ome.zarr" / "0").mkdir()
    (data / "badlevel.ome.zarr" / "0" / "zarr.json").write_text("{not json")
    srv = GatewayServer(tessera_bin, "--root", f"data={data}", "--browse")
    try:
        for route in ("render", "thumbnail", "quicklook"):
            for name in ("plain.zarr", "nolevel.ome.zarr"):
                status, _, body = get(srv, f"/{route}/data/{name}")
                text = body.decode()
                assert status == 422, (route, name, text)
                assert f"data/{name}" in text and str(tmp_path) not in text, text
            status, _, body = get(srv, f"/{route}/data/badlevel.ome.zarr")
            assert status == 502 and str(tmp_path) not in body.decode(), body
        for page in ("/", "/browse/data/nolevel.ome.zarr", "/browse/data/badlevel.ome.zarr"):
            status, _, body = get(srv, page)
            text = body.decode()
            assert status == 200 and str(tmp_path) not in text, (page, text)
        status, _, body = get(srv, "/browse/data/badlevel.ome.zarr")
        assert "request id" in body.decode()
        assert str(data) in srv.log_text()  # the detail went to the server's log
    finally:
        assert srv.stop() == 0
