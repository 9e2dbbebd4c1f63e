"""Issue 18 follow-up: the chunk manifest of a v2 (plain-chunk) level is written through the
Store API as batch objects (`<level>/.tessera-manifest/<run>-<n>`), so on S3 too a resume
keeps the chunks a killed run recorded by their listed size: it neither re-puts nor reads
(decodes) them, and the output reads back exactly."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest
import zarr

import convert_inputs as ci
from fault_proxy import FaultProxy

BUCKET = "tessera-manifest"
MANIFEST = ".tessera-manifest"


@pytest.fixture
def proxy(s3, monkeypatch):
    """A FaultProxy (no faults) in front of moto that Tessera talks to, logging requests."""
    for k, v in s3.env().items():
        monkeypatch.setenv(k, v)
    p = FaultProxy(s3.port)
    monkeypatch.setenv("AWS_ENDPOINT_URL", p.endpoint)
    try:
        yield p
    finally:
        p.stop()


def client(s3):
    import boto3

    return boto3.client("s3", endpoint_url=s3.endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                        region_name="us-east-1")


def listed(s3, prefix: str) -> dict:
    """key → size of every object under prefix (straight from moto)."""
    out, token = {}, None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        page = client(s3).list_objects_v2(Bucket=BUCKET, Prefix=prefix, **kw)
        out.update({o["Key"]: o["Size"] for o in page.get("Contents", [])})
        if not page.get("IsTruncated"):
            return out
        token = page["NextContinuationToken"]


def recorded(s3, prefix: str) -> dict:
    """The level-0 manifest's lines (key relative to the output → size), batches in name order."""
    sizes = {}
    for key in sorted(k for k in listed(s3, f"{prefix}/0/{MANIFEST}/")):
        body = client(s3).get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
        for line in body.splitlines():
            k, v = line.rsplit(" ", 1)
            sizes[k] = int(v)
    return sizes


def object_keys(requests, method: str, prefix: str) -> list:
    """Keys (relative to the output) of `method` requests for objects under the output."""
    keys = []
    for command, path in requests:
        parts = urlsplit(path)
        if command != method or parts.query:
            continue
        key = unquote(parts.path).lstrip("/").removeprefix(f"{BUCKET}/")
        if key.startswith(prefix + "/"):
            keys.append(key[len(prefix) + 1:])
    return keys


def test_a_killed_v2_conversion_to_s3_resumes_keeping_recorded_chunks(s3, proxy, tessera_bin, tmp_path):
    data = ci.pixels("uint16", (1024, 1024), seed=18)
    src = ci.write_tiff(tmp_path / "plane.tif", data, "yx", tile=(256, 256))
    prefix = f"resume-{os.getpid()}.ome.zarr"
    out = f"s3://{BUCKET}/{prefix}"
    args = [str(tessera_bin), "convert", str(src.arg), out, "--ngff", "0.4", "--chunks", "32", "--jobs", "2"]
    # Kill once a few batches of level-0 lines have been stored, before the image is done.
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            # (or once a third of level 0 is stored: without a manifest on S3 that fails below)
            chunks = [k for k in listed(s3, f"{prefix}/0/") if MANIFEST not in k and not k.endswith((".zarray", ".zattrs"))]
            if len(recorded(s3, prefix)) >= 20 or len(chunks) >= 340:
                break
            time.sleep(0.05)
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if not killed:
        pytest.skip("the conversion finished before it could be killed with recorded chunks")
    assert f"{prefix}/.zattrs" not in listed(s3, prefix), "killed after the image was finished"
    lines = recorded(s3, prefix)
    stored = listed(s3, prefix)
    kept = sorted(k for k, v in lines.items() if v > 0 and stored.get(f"{prefix}/{k}") == v)
    assert len(kept) >= 20, f"only {len(kept)} recorded chunks stored"

    proxy.requests.clear()
    resumed = subprocess.run([*args, "--resume"], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    put = set(object_keys(proxy.requests, "PUT", prefix))
    got = set(object_keys(proxy.requests, "GET", prefix)) | set(object_keys(proxy.requests, "HEAD", prefix))
    assert not put & set(kept), f"recorded chunks were put again: {sorted(put & set(kept))[:5]}"
    assert not got & set(kept), f"recorded chunks were read (decoded) again: {sorted(got & set(kept))[:5]}"
    assert any(k.startswith("0/") and MANIFEST not in k for k in put), "the resume put no level-0 chunk; proved little"
    assert not [k for k in listed(s3, prefix) if MANIFEST in k], "manifest batches left behind by a finished run"
    group = zarr.open_group(out, mode="r", storage_options=s3.storage_options())
    np.testing.assert_array_equal(group["0"][:], data)
