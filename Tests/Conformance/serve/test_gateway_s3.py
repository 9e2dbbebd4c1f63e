"""`tessera serve` with an S3 root (a real S3-compatible server, moto): a converted image
read over HTTP by zarr-python and tensorstore with exact pixels, ranges passed through,
objects larger than the gateway's 8 MiB S3 piece streamed whole and in ranges, 404s for
missing keys, and consolidated metadata generated from a bucket listing."""

from __future__ import annotations

import hashlib
import json
import random

import pytest
import zarr

import convert_checks as cc
import convert_inputs as ci
from gateway_server import GatewayServer
from s3_server import MotoServer

BUCKET = "tessera-serve"


@pytest.fixture(scope="module")
def served(tessera_bin, run_convert, tmp_path_factory):
    s3 = MotoServer()
    s3.create_bucket(BUCKET)
    tmp = tmp_path_factory.mktemp("gateway-s3")
    data = ci.pixels("uint16", (5, 130, 170), seed=11)
    src = ci.write_tiff(tmp / "stack.tif", data, "zyx", tile=(32, 32))
    env = s3.env()
    import os
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        for ngff in ("0.5", "0.4"):
            cc.convert(run_convert, *cc.convert_args([src.arg], f"s3://{BUCKET}/img{ngff}.ome.zarr", ngff=ngff, chunks=32))
            cc.convert(run_convert, *cc.convert_args([src.arg], tmp / f"local{ngff}.ome.zarr", ngff=ngff, chunks=32))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    big = random.Random(3).randbytes(17 * 2**20 + 12345)  # three of the gateway's 8 MiB pieces
    import boto3
    boto3.client("s3", endpoint_url=s3.endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                 region_name="us-east-1").put_object(Bucket=BUCKET, Key="blobs/big", Body=big)
    srv = GatewayServer(tessera_bin, "--root", f"s3={'s3://' + BUCKET}", env=env)
    yield srv, data, tmp, big
    assert srv.stop() == 0
    s3.stop()


@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
def test_readers_get_exact_pixels_from_an_s3_root(served, ngff):
    srv, data, tmp, _ = served
    url = f"{srv.url}/s3/img{ngff}.ome.zarr"
    group = zarr.open_group(zarr.storage.FsspecStore.from_url(url, read_only=True), mode="r")
    cc.check_remote_levels(group, ngff, data, tmp / f"local{ngff}.ome.zarr",
                           lambda p: {"driver": "http", "base_url": f"{url}/{p}/"}, via=" over HTTP", ts_via="http")


def test_large_objects_stream_whole_and_in_ranges(served):
    srv, _, _, big = served
    status, h, body = srv.get("/s3/blobs/big")
    assert status == 200 and int(h["Content-Length"]) == len(big)
    assert hashlib.sha256(body).digest() == hashlib.sha256(big).digest()
    assert h["ETag"].startswith('"')
    for header, lo, hi in [("bytes=-16", len(big) - 16, len(big) - 1), ("bytes=8388600-16777300", 8388600, 16777300),
                           ("bytes=100-", 100, len(big) - 1)]:
        status, h, body = srv.get("/s3/blobs/big", {"Range": header})
        assert status == 206 and h["Content-Range"] == f"bytes {lo}-{hi}/{len(big)}"
        assert body == big[lo:hi + 1], header
    assert srv.get("/s3/blobs/big", {"Range": f"bytes={len(big)}-"})[0] == 416
    assert srv.get("/s3/blobs/big", {"If-None-Match": h["ETag"]})[0] == 304


def test_missing_keys_and_generated_metadata(served):
    srv, _, _, _ = served
    status, _, body = srv.get("/s3/img0.5.ome.zarr/0/c/99/99/99")
    assert status == 404 and body == b""
    assert srv.get("/s3/nothing/.zarray")[0] == 404
    status, h, body = srv.get("/s3/img0.4.ome.zarr/.zmetadata")
    assert status == 200
    doc = json.loads(body)
    assert ".zattrs" in doc["metadata"] and "0/.zarray" in doc["metadata"]
    doc = json.loads(srv.get("/s3/img0.5.ome.zarr/zarr.json")[2])
    assert "0" in doc["consolidated_metadata"]["metadata"]
