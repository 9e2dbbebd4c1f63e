"""`tessera plan` over an s3:// prefix (moto): objects listed page by page, sized from
their first and last MiB (or the whole object when that is not enough), named from the
common prefix."""

from __future__ import annotations

import numpy as np

import convert_inputs as ci
from plan_support import load_manifest

BUCKET = "tessera-plan"


def test_plan_of_an_s3_prefix(s3_env, run_tessera, tmp_path):
    import boto3

    src = tmp_path / "src"
    src.mkdir()
    sizes = {}
    small = ci.pixels("uint16", (30, 40), seed=1)
    ci.write_tiff(src / "small.tif", small, "yx")
    # Larger than 2 MiB: staged as head + tail only (tifffile puts the IFD first).
    big = ci.pixels("uint16", (1200, 1100), seed=2)
    ci.write_tiff(src / "big.tif", big, "yx")
    h5 = ci.pixels("float32", (8, 300, 300), seed=3)  # 2.9 MB
    ci.write_hdf5(src / "vol.h5", h5)
    # Page by page: the IFDs of the middle pages lie beyond the first and last MiB, so the
    # header-only copy cannot be opened and the whole object is fetched.
    pages = ci.pixels("uint16", (4, 640, 640), seed=4)
    ci.write_tiff_pages(src / "pages.tif", pages)
    (src / "broken.tif").write_bytes(b"II*\x00" + b"\x00" * 100)
    client = boto3.client("s3", endpoint_url=s3_env.endpoint, aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")
    keys = {"raw/p1/small.tif": (src / "small.tif", small.nbytes), "raw/p2/small.tif": (src / "small.tif", small.nbytes),
            "raw/p1/big.tif": (src / "big.tif", big.nbytes), "raw/vol.h5": (src / "vol.h5", h5.nbytes),
            "raw/p3/pages.tif": (src / "pages.tif", pages.nbytes),
            "raw/p2/broken.tif": (src / "broken.tif", None), "raw/p1/notes.txt": (src / "small.tif", None),
            "raw/.tessera-job/x.tif": (src / "small.tif", None), "rawer/other.tif": (src / "small.tif", None)}
    for key, (path, _) in keys.items():
        client.upload_file(str(path), BUCKET, key)

    job = tmp_path / "job.json"
    proc = run_tessera("plan", f"s3://{BUCKET}/raw/", "--output", f"s3://{BUCKET}/out", "--tasks", 2, "-o", job, check=True)
    m = load_manifest(job)
    assert m["output"] == f"s3://{BUCKET}/out"
    assert m["reports"] == f"s3://{BUCKET}/out/.tessera-job/{m['id']}"
    got = {i["input"]: i for i in m["inputs"]}
    assert sorted(got) == sorted(f"s3://{BUCKET}/{k}" for k in ["raw/p1/small.tif", "raw/p2/small.tif", "raw/p1/big.tif",
                                                                 "raw/vol.h5", "raw/p2/broken.tif", "raw/p3/pages.tif"])
    for key, (path, nbytes) in keys.items():
        i = got.get(f"s3://{BUCKET}/{key}")
        if i is None:
            continue
        assert i["file_bytes"] == path.stat().st_size, key
        if nbytes is None:
            assert i["format"] == "unknown" and i["pixel_bytes"] == i["file_bytes"]
        else:
            assert i["pixel_bytes"] == nbytes, key
    assert {i["input"].split("/raw/")[1]: i["output"] for i in m["inputs"]} == {
        "p1/small.tif": "p1/small.ome.zarr", "p2/small.tif": "p2/small.ome.zarr", "p1/big.tif": "p1/big.ome.zarr",
        "vol.h5": "vol.ome.zarr", "p2/broken.tif": "p2/broken.ome.zarr",
        "p3/pages.tif": "p3/pages.ome.zarr"}
    assert "broken.tif" in proc.stderr


def test_an_empty_or_missing_s3_prefix_is_an_error(s3_env, run_tessera, tmp_path):
    proc = run_tessera("plan", f"s3://{BUCKET}/nothing-here/", "--output", tmp_path / "out", "--tasks", 1,
                       "-o", tmp_path / "job.json")
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"tessera: error: 's3://{BUCKET}/nothing-here/': holds no TIFF, HDF5, HDF4, FITS, DICOM, DM or slide file"
    assert not (tmp_path / "job.json").exists()



def test_an_s3_key_with_dot_dot_segments_never_names_an_output(s3_env, run_tessera, tmp_path):
    """S3 keys may hold `..` segments. Such a key is a hidden segment to the plan (skipped,
    like `.tessera-job/`), so it can never become an output that leaves the root; a prefix
    holding nothing else is the usual one-line "holds no image" error, and no manifest."""
    import boto3

    src = tmp_path / "small.tif"
    ci.write_tiff(src, ci.pixels("uint16", (30, 40), seed=1), "yx")
    client = boto3.client("s3", endpoint_url=s3_env.endpoint, aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")
    client.upload_file(str(src), BUCKET, "hostile/a/ok.tif")
    client.upload_file(str(src), BUCKET, "hostile/a/../../../escape.tif")
    client.upload_file(str(src), BUCKET, "onlyhostile/a/../../escape.tif")
    job = tmp_path / "job.json"
    run_tessera("plan", f"s3://{BUCKET}/hostile/", "--output", str(tmp_path / "out"), "--tasks", 1, "-o", job, check=True)
    m = load_manifest(job)
    assert [(i["input"], i["output"]) for i in m["inputs"]] == [(f"s3://{BUCKET}/hostile/a/ok.tif", "ok.ome.zarr")]
    lone = tmp_path / "lone.json"
    proc = run_tessera("plan", f"s3://{BUCKET}/onlyhostile/", "--output", str(tmp_path / "out2"), "--tasks", 1, "-o", lone)
    assert proc.returncode == 1 and "onlyhostile" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not lone.exists() and not (tmp_path / "out2").exists()
