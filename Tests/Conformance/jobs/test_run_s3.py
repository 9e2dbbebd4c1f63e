"""A job from an s3:// input prefix to an s3:// output root, through moto: `tessera plan`
lists and sizes the objects, `tessera run` stages each input and writes its output and
report lines to S3; every object equals a local `tessera convert` of the same file
(a split image included), zarr-python reads exact pixels back, a rerun skips everything,
and `tessera report` reads the reports from S3 (Docs/cluster.md)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr

import convert_inputs as ci
from job_manifest import tree_bytes

BUCKET = "tessera-jobs"
CONVERT_ARGS = ["--chunks", "64", "--codec", "zstd"]


def client(s3_env):
    import boto3

    return boto3.client("s3", endpoint_url=s3_env.endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                        region_name="us-east-1")


def objects(c, prefix: str) -> dict:
    out = {}
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"][len(prefix):]] = c.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()
    return out




def test_s3_prefix_to_s3_output(s3_env, run_tessera, tmp_path):
    c = client(s3_env)
    rng = np.random.default_rng(4)
    local = tmp_path / "in"
    local.mkdir()
    sources = {
        "big.tif": ci.write_tiff(local / "big.tif", rng.integers(0, 60000, (700, 520), dtype=np.uint16), "yx", tile=(128, 128)),
        "a.tif": ci.write_tiff(local / "a.tif", rng.integers(0, 255, (90, 80), dtype=np.uint8), "yx"),
        "sub/b.tif": ci.write_tiff(local / "b.tif", rng.integers(0, 4000, (3, 60, 50), dtype=np.uint16), "zyx"),
    }
    for key, s in sources.items():
        c.upload_file(str(s.file), BUCKET, f"in/{key}")
    job = tmp_path / "job.json"
    proc = run_tessera("plan", f"s3://{BUCKET}/in/", "--output", f"s3://{BUCKET}/out", "--tasks", "3", "-o", job, *CONVERT_ARGS)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads(job.read_text())
    assert any(i.get("split") for i in manifest["inputs"]), "the big image should be split across tasks"
    for t in range(3):
        proc = run_tessera("run", job, "--task", t, "--jobs", "2", timeout=300)
        assert proc.returncode == 0, f"task {t}: {proc.stderr[-2000:]}"
    for entry in manifest["inputs"]:
        key = entry["input"][len(f"s3://{BUCKET}/in/"):]
        source = sources[key]
        reference = tmp_path / ("ref-" + entry["output"].replace("/", "_"))
        assert run_tessera("convert", source.arg, reference, *CONVERT_ARGS).returncode == 0
        want = {k: v for k, v in tree_bytes(reference).items() if k != ".tessera-output.json"}
        got = {k: v for k, v in objects(c, f"out/{entry['output']}/").items()
               if k != ".tessera-output.json" and not k.startswith(".tessera-split/")}
        assert sorted(got) == sorted(want), entry["output"]
        assert [k for k in want if got[k] != want[k]] == [], entry["output"]
        group = zarr.open_group(f"s3://{BUCKET}/out/{entry['output']}", mode="r", storage_options=s3_env.storage_options())
        np.testing.assert_array_equal(group["0"][...], source.images[0].data)
    # Reports are objects under the output root; a rerun skips every item.
    assert objects(c, f"out/.tessera-job/{manifest['id']}/task-00000/")
    for t in range(3):
        proc = run_tessera("run", job, "--task", t, timeout=300)
        assert proc.returncode == 0 and "0 done" in proc.stderr and "0 failed" in proc.stderr, proc.stderr
    r = json.loads(run_tessera("report", job, "--json").stdout)
    assert (r["done"], r["failed"], r["pending"], r["running"]) == (r["items"], 0, 0, 0)
    assert r["bytes_in"] == sum(i["file_bytes"] for i in manifest["inputs"])
