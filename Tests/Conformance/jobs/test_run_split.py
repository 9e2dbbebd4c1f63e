"""Split images through `tessera run` and `tessera finalize` (Docs/cluster.md): the task
completing an image's last region finishes it (one "finish" line, exactly once); with a
region missing, finalize waits and leaves the image incomplete; when the finishing task
died mid-finish (claim taken, metadata never written), finalize completes it; the result
equals a one-machine `tessera convert`, object for object."""

from __future__ import annotations

import json
import shutil

import numpy as np

import tessera_conformance as tc
from convert_inputs import write_tiff
from job_manifest import report_lines, tree_bytes

CONVERT_ARGS = ["--chunks", "128"]


def plan(run_tessera, tmp_path):
    rng = np.random.default_rng(7)
    big = write_tiff(tmp_path / "big.tif", rng.integers(0, 60000, (1400, 1100), dtype=np.uint16), "yx", tile=(256, 256))
    for i in range(2):
        write_tiff(tmp_path / f"s{i}.tif", rng.integers(0, 255, (60, 50), dtype=np.uint8), "yx")
    job = tmp_path / "job.json"
    proc = run_tessera("plan", big.arg, tmp_path / "s0.tif", tmp_path / "s1.tif", "--output", tmp_path / "out",
                       "--tasks", "3", "-o", job, *CONVERT_ARGS)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads(job.read_text())
    entry = next(i for i in manifest["inputs"] if i.get("split"))
    reference = tmp_path / "reference.ome.zarr"
    assert run_tessera("convert", big.arg, reference, *CONVERT_ARGS, timeout=300).returncode == 0
    return big, job, manifest, entry, reference


def same_as_convert(out, reference):
    got = {k: v for k, v in tree_bytes(out).items() if not k.startswith(".tessera-split/")}
    want = tree_bytes(reference)
    assert sorted(got) == sorted(want)
    assert [k for k in want if got[k] != want[k]] == []


def test_last_region_finishes_and_finalize_waits_for_missing_regions(run_tessera, tmp_path):
    big, job, manifest, entry, reference = plan(run_tessera, tmp_path)
    region_tasks = sorted({r["task"] for r in entry["split"]["regions"]})
    assert len(region_tasks) >= 2
    out = tmp_path / "out" / entry["output"]
    for t in region_tasks[:-1]:
        assert run_tessera("run", job, "--task", t).returncode == 0
    waiting = run_tessera("finalize", job)
    assert waiting.returncode == 0 and "1 waiting for regions" in waiting.stderr, waiting.stderr
    assert not (out / "zarr.json").exists()
    r = json.loads(run_tessera("report", job, "--json").stdout)
    assert r["pending"] >= 1 and r["done"] < r["items"]
    assert run_tessera("run", job, "--task", region_tasks[-1]).returncode == 0
    for t in set(range(3)) - set(region_tasks):
        assert run_tessera("run", job, "--task", t).returncode == 0
    same_as_convert(out, reference)
    data, _ = tc.read_zarr_python(out / "0")
    tc.assert_pixels_equal(data, big.images[0].data, "split level 0")
    finishes = [line for line in report_lines(tmp_path / "out" / ".tessera-job" / manifest["id"]) if line["region"] == "finish"]
    assert len(finishes) == 1 and finishes[0]["objects"] > 0
    again = run_tessera("finalize", job)
    assert again.returncode == 0 and "1 already finished" in again.stderr, again.stderr
    r = json.loads(run_tessera("report", job, "--json").stdout)
    assert (r["done"], r["failed"], r["pending"]) == (r["items"], 0, 0)


def test_finalize_completes_an_image_whose_finisher_died(run_tessera, tmp_path):
    big, job, manifest, entry, reference = plan(run_tessera, tmp_path)
    for t in range(3):
        assert run_tessera("run", job, "--task", t).returncode == 0
    out = tmp_path / "out" / entry["output"]
    # As if the finishing task was killed after claiming: its claim stays, the levels it
    # builds and the group metadata it writes last are gone.
    assert (out / ".tessera-split" / "finish-claim").exists()
    (out / "zarr.json").unlink()
    levels = entry["split"]["region_levels"]
    for level in sorted(p for p in out.iterdir() if p.name.isdigit() and int(p.name) >= levels):
        shutil.rmtree(level)
    proc = run_tessera("finalize", job, timeout=300)
    assert proc.returncode == 0 and "1 image(s) finished now" in proc.stderr, proc.stderr
    same_as_convert(out, reference)
