"""`tessera plan --estimate`: sample conversions predict the job's output bytes, objects,
CPU-hours and wall time. When every input is a sample the prediction is the measured
conversion itself; a large image is sampled by a region of its level 0."""

from __future__ import annotations

import json

import numpy as np

import convert_inputs as ci
from plan_support import load_manifest


def tree(path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def test_estimate_of_sampled_inputs_is_their_conversion(run_tessera, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        ci.write_tiff(src / f"t{i}.tif", ci.pixels("uint16", (90, 110), seed=i), "yx")
    ci.write_hdf5(src / "v.h5", ci.pixels("float32", (5, 40, 50), seed=9), with_path=False)
    job = tmp_path / "job.json"
    proc = run_tessera("plan", src, "--output", tmp_path / "out", "--tasks", 2, "-o", job, "--chunks", "32",
                       "--estimate", "--cores", "4", "--json", check=True)
    e = json.loads(proc.stdout)
    m = load_manifest(job)
    assert e["tasks"] == 2 and e["cores"] == 4 and e["inputs"] == 4 and len(e["samples"]) == 4
    assert e["failed_samples"] == [] and all(s["whole"] for s in e["samples"])
    assert e["pixel_bytes"] == sum(i["pixel_bytes"] for i in m["inputs"])
    objects = size = 0
    for i in m["inputs"]:
        out = tmp_path / "convert" / i["output"]
        run_tessera("convert", i["input"], out, "--chunks", "32", check=True)
        n, b = tree(out)
        objects, size = objects + n, size + b
    assert round(e["objects"]) == objects
    assert abs(e["output_bytes"] - size) <= 0.01 * size  # the marks carry times and paths
    assert e["cpu_hours"] > 0 and 0 < e["wall_hours"] <= e["cpu_hours"]
    assert abs(e["blowup"] - e["output_bytes"] / e["input_bytes"]) < 1e-9
    assert not (tmp_path / "out").exists()  # nothing of the job itself is converted


def test_a_large_image_is_sampled_by_a_region(run_tessera, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    # Large enough that the stored statistics (one compact histogram per image, up to
    # ~75-135 KB for 16-bit values whatever the image's size, counted once per input) are a
    # small share of the output, as they are for the images a job samples.
    data = ci.pixels("uint16", (1600, 1200), seed=4)
    ci.write_tiff(src / "big.tif", data, "yx", tile=(64, 64))
    job = tmp_path / "job.json"
    proc = run_tessera("plan", src, "--output", tmp_path / "out", "--tasks", 1, "-o", job, "--chunks", "32",
                       "--estimate", "--sample-bytes", "60000", "--json", check=True)
    e = json.loads(proc.stdout)
    [s] = e["samples"]
    assert not s["whole"] and 0 < s["pixel_bytes"] <= 60000
    run_tessera("convert", src / "big.tif", tmp_path / "big.ome.zarr", "--chunks", "32", check=True)
    objects, size = tree(tmp_path / "big.ome.zarr")
    assert abs(e["output_bytes"] - size) <= 0.25 * size
    assert abs(e["objects"] - objects) <= 0.35 * objects


def test_estimate_prints_a_summary(run_tessera, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    ci.write_tiff(src / "a.tif", ci.pixels("uint8", (50, 60), seed=1), "yx")
    proc = run_tessera("plan", src, "--output", tmp_path / "out", "--tasks", 1, "-o", tmp_path / "job.json",
                       "--estimate", check=True)
    assert proc.stdout.startswith("estimate from 1 sample(s)")
    for word in ("output:", "objects", "CPU-hours", "wall:", "1 task(s)"):
        assert word in proc.stdout
    bad = run_tessera("plan", src, "--output", tmp_path / "out", "--tasks", 1, "-o", tmp_path / "j2.json", "--json")
    assert bad.returncode != 0 and "--json goes with --estimate" in bad.stderr
    assert not (tmp_path / "j2.json").exists()
