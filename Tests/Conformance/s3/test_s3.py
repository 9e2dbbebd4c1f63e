"""S3 through a real S3-compatible server (moto): Tessera converts and copies straight to
s3:// (no local staging) and real readers — zarr-python 3 via s3fs, tensorstore's s3
kvstore — read exact pixels back; Tessera reads what zarr-python wrote to S3; a missing
bucket and a dead endpoint fail with one clear line."""

from __future__ import annotations

import itertools
import json
import os

import numpy as np
import pytest
import zarr

import convert_checks as cc
import convert_inputs as ci
from s3_server import free_port

BUCKET = "tessera-test"
_names = itertools.count()


def unique(name: str) -> str:
    return f"{name}-{next(_names)}-{os.getpid()}"


@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
def test_convert_to_s3_reads_back_exactly(ngff, s3_env, run_convert, tmp_path):
    data = ci.pixels("uint16", (9, 70, 90), seed=5)
    src = ci.write_tiff(tmp_path / "stack.tif", data, "zyx", tile=(32, 32))
    prefix = unique("img") + ".ome.zarr"
    cc.convert(run_convert, *cc.convert_args([src.arg], f"s3://{BUCKET}/{prefix}", ngff=ngff, chunks=16))
    # The same conversion to a local folder, checked against numpy by the format suite:
    # the S3 copy must hold the same levels.
    local = tmp_path / "local.ome.zarr"
    cc.convert(run_convert, *cc.convert_args([src.arg], local, ngff=ngff, chunks=16))
    group = zarr.open_group(f"s3://{BUCKET}/{prefix}", mode="r", storage_options=s3_env.storage_options())
    cc.check_remote_levels(group, ngff, data, local, lambda p: s3_env.tensorstore_kvstore(BUCKET, f"{prefix}/{p}"),
                           via="/s3fs", ts_via="s3")


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_tessera_reads_what_zarr_python_wrote_to_s3(zarr_format, s3_env, run_tessera, tmp_path):
    prefix = unique("zp")
    data = np.arange(30 * 41 * 17, dtype="int32").reshape(30, 41, 17) * 7 - 1000
    arr = zarr.create_array(f"s3://{BUCKET}/{prefix}", shape=data.shape, chunks=(8, 16, 16), dtype="int32",
                            zarr_format=zarr_format, storage_options=s3_env.storage_options())
    arr[:] = data
    out = tmp_path / "copy.zarr"
    proc = run_tessera("copy", f"s3://{BUCKET}/{prefix}", out, "--zarr-format", "3", "--shards", "16,32,32")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(zarr.open_array(out, mode="r")[:], data)
    info = run_tessera("info", f"s3://{BUCKET}/{prefix}", "--json")
    assert info.returncode == 0, info.stderr


def test_missing_bucket_is_one_clear_error(s3_env, run_convert, tmp_path):
    src = ci.write_tiff(tmp_path / "a.tif", ci.pixels("uint8", (40, 50)), "yx")
    proc = run_convert("convert", src.arg, "s3://no-such-bucket-here/out.ome.zarr")
    assert 0 < proc.returncode < 128
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "no-such-bucket-here" in lines[0] and "does not exist" in lines[0], proc.stderr


def test_dead_endpoint_fails_after_the_retry_budget(s3_env, run_convert, tmp_path, monkeypatch):
    port = free_port()  # nothing listens here
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    lines, stderr, elapsed = cc.failed_convert(run_convert, tmp_path, f"s3://{BUCKET}/dead.ome.zarr")
    assert len(lines) == 1 and "attempts" in lines[0] and BUCKET in lines[0], stderr
    assert elapsed < 60, f"gave up only after {elapsed:.1f}s"


def test_conversion_through_faults_is_exact_and_leaves_no_multipart_uploads(s3_env, run_convert, tmp_path, monkeypatch):
    from fault_proxy import FaultProxy

    proxy = FaultProxy(s3_env.port, rate=0.25, seed=7, stall_seconds=4)
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
        monkeypatch.setenv("TESSERA_S3_STALL_SECONDS", "2")
        # 5 MiB multipart threshold: the 8 MiB level-0 shard of noise goes up in parts.
        monkeypatch.setenv("TESSERA_S3_MULTIPART_THRESHOLD", str(5 << 20))
        data = ci.pixels("uint16", (2048, 2048), seed=9)
        src = ci.write_tiff(tmp_path / "big.tif", data, "yx", tile=(256, 256))
        prefix = unique("faults") + ".ome.zarr"
        cc.convert(run_convert, *cc.convert_args([src.arg], f"s3://{BUCKET}/{prefix}"), timeout=600)
    finally:
        proxy.stop()
    assert proxy.counts["503"] + proxy.counts["reset"] + proxy.counts["stall"] > 5, proxy.counts
    group = zarr.open_group(f"s3://{BUCKET}/{prefix}", mode="r", storage_options=s3_env.storage_options())
    np.testing.assert_array_equal(group["0"][:], data)
    import boto3

    client = boto3.client("s3", endpoint_url=s3_env.endpoint, aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")
    pending = client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert pending == [], f"orphaned multipart uploads: {pending}"
    sizes = [o["Size"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/0/")["Contents"]]
    assert max(sizes) > 5 << 20, f"no object large enough to have gone up in parts: {sizes}"


def test_anonymous_reads_of_a_public_bucket(s3_env, run_tessera, tmp_path, monkeypatch):
    """No keys anywhere → unsigned requests, which a bucket whose policy lets everyone
    read (a public dataset) answers."""
    import boto3

    public = unique("public")
    s3_env.create_bucket(public)
    boto3.client("s3", endpoint_url=s3_env.endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                 region_name="us-east-1").put_bucket_policy(Bucket=public, Policy=json.dumps({
                     "Version": "2012-10-17",
                     "Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
                                    "Resource": [f"arn:aws:s3:::{public}", f"arn:aws:s3:::{public}/*"]}]}))
    prefix = "data"
    data = np.arange(20 * 30, dtype="uint16").reshape(20, 30)
    zarr.create_array(f"s3://{public}/{prefix}", shape=data.shape, chunks=(8, 8), dtype="uint16",
                      storage_options=s3_env.storage_options())[:] = data
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    out = tmp_path / "copy.zarr"
    proc = run_tessera("copy", f"s3://{public}/{prefix}", out)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(zarr.open_array(out, mode="r")[:], data)


def test_a_large_shard_streams_up_in_bounded_parts_and_reads_back_exactly(s3_env, run_convert, tmp_path):
    """A shard larger than one part (5 MiB by default) is never buffered whole: it goes
    up as a multipart upload while it is written (its ETag says how many parts), smaller
    objects as one PUT each, and the pixels read back exactly."""
    data = ci.pixels("uint16", (2048, 2048), seed=11)
    src = ci.write_tiff(tmp_path / "large.tif", data, "yx", tile=(256, 256))
    prefix = unique("parts") + ".ome.zarr"
    # Default chunks (256) and shards (8 x 8 chunks): the level-0 shard is the whole 8 MiB
    # image of noise, 2 parts.
    cc.convert(run_convert, *cc.convert_args([src.arg], f"s3://{BUCKET}/{prefix}"), timeout=600)
    group = zarr.open_group(f"s3://{BUCKET}/{prefix}", mode="r", storage_options=s3_env.storage_options())
    np.testing.assert_array_equal(group["0"][:], data)
    import boto3

    client = boto3.client("s3", endpoint_url=s3_env.endpoint, aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")
    objects = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/")["Contents"]
    part = 5 << 20
    large = [o for o in objects if o["Size"] > part]
    assert large, f"no object over one part: {[o['Size'] for o in objects]}"
    for o in objects:
        parts = o["ETag"].strip('"').partition("-")[2]
        want = (o["Size"] + part - 1) // part if o["Size"] > part else None
        assert (int(parts) if parts else None) == want, f"{o['Key']}: {o['Size']} bytes with ETag {o['ETag']}"
    assert client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
