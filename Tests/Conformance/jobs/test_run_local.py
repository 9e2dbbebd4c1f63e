"""A local job end to end: a hand-written manifest over mixed inputs (TIFF, BigTIFF,
OME-TIFF with two series, HDF5, FITS, one corrupt file) run task by task, then `tessera
report`. Every good output equals a one-machine `tessera convert` of its input, object
for object, and reads back exactly; reruns skip complete outputs without rewriting them and resume a
killed one; --retry-failed converts what failed (Docs/cluster.md)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

import tessera_conformance as tc
from convert_inputs import write_fits, write_hdf5, write_ome_tiff, write_tiff
from job_manifest import job_input, latest_lines, report_lines, tree_bytes, write_job

CONVERT = {"codec": "zstd", "chunks": "64"}
CONVERT_ARGS = ["--codec", "zstd", "--chunks", "64"]


def make_inputs(folder: Path) -> list:
    """(Source or None for the corrupt one, output name, format) of 8 inputs."""
    from astropy.io import fits

    folder.mkdir()
    rng = np.random.default_rng(16)
    out = [
        (write_tiff(folder / "small.tif", rng.integers(0, 60000, (90, 70), dtype=np.uint16), "yx"), "small.ome.zarr", "tiff"),
        (write_tiff(folder / "tiled.tif", rng.integers(0, 255, (300, 260), dtype=np.uint8), "yx", tile=(64, 64)), "tiled.ome.zarr", "tiff"),
        (write_tiff(folder / "big.tif", rng.integers(0, 60000, (3, 200, 180), dtype=np.uint16), "zyx", bigtiff=True), "a/big.ome.zarr", "tiff"),
        (write_tiff(folder / "rgb.tif", rng.integers(0, 255, (120, 100, 3), dtype=np.uint8), "yxc"), "rgb.ome.zarr", "tiff"),
        (write_ome_tiff(folder / "two.ome.tif", [{"data": rng.integers(0, 4000, (2, 80, 60), dtype=np.uint16), "axes": "CYX"},
                                                  {"data": rng.integers(0, 4000, (50, 40), dtype=np.uint16), "axes": "YX"}]),
         "b/two.ome.zarr", "tiff"),
        (write_hdf5(folder / "vol.h5", rng.random((4, 70, 50), dtype=np.float32)), "vol.ome.zarr", "hdf5"),
        (write_fits(folder / "sky.fits", [fits.ImageHDU(data=rng.integers(-500, 500, (64, 96), dtype=np.int16))]), "sky.ome.zarr", "fits"),
    ]
    corrupt = folder / "corrupt.tif"
    corrupt.write_bytes(b"II*\x00" + b"\xff" * 400)
    out.append((None, "corrupt.ome.zarr", "tiff"))
    return out


def exact(out: Path, source) -> None:
    for image in source.images:
        data, _ = tc.read_zarr_python(out / image.path / "0" if image.path else out / "0")
        tc.assert_pixels_equal(data, image.data, f"{out} {image.path}")


@pytest.fixture(scope="module")
def job(tmp_path_factory, run_tessera):
    base = tmp_path_factory.mktemp("job")
    inputs = make_inputs(base / "in")
    entries = [job_input(s.arg if s else base / "in" / "corrupt.tif", name, fmt, k % 3) for k, (s, name, fmt) in enumerate(inputs)]
    path = write_job(base / "job.json", entries, base / "out", tasks=3, convert=CONVERT)
    procs = [run_tessera("run", path, "--task", t, "--jobs", "2") for t in range(3)]
    reference = base / "reference"
    reference.mkdir()
    for s, name, _ in inputs:
        if s:
            proc = run_tessera("convert", s.arg, reference / name.replace("/", "_"), *CONVERT_ARGS)
            assert proc.returncode == 0, proc.stderr
    return {"base": base, "path": path, "inputs": inputs, "procs": procs, "out": base / "out",
            "reports": base / "out" / ".tessera-job" / "job1", "reference": reference}


def test_tasks_convert_their_share_and_the_corrupt_one_fails(job):
    corrupt_task = 7 % 3
    for t, proc in enumerate(job["procs"]):
        assert proc.returncode == (1 if t == corrupt_task else 0), f"task {t}: {proc.stderr[-2000:]}"
    assert "corrupt.tif" in job["procs"][corrupt_task].stderr
    assert not (job["out"] / "corrupt.ome.zarr").exists()


def test_outputs_equal_one_machine_convert_and_read_back_exactly(job):
    for s, name, _ in job["inputs"]:
        if s is None:
            continue
        got, want = tree_bytes(job["out"] / name), tree_bytes(job["reference"] / name.replace("/", "_"))
        assert sorted(got) == sorted(want), name
        differing = [k for k in want if got[k] != want[k]]
        assert differing == [], f"{name}: {differing}"
        exact(job["out"] / name, s)


def test_report_lines_and_report_totals(job, run_tessera):
    lines = report_lines(job["reports"])
    assert {line["task"] for line in lines} == {0, 1, 2}
    for line in lines:
        assert set(line) == {"job", "task", "run", "time", "input", "output", "region", "status", "format", "codec",
                             "bytes_in", "bytes_out", "objects", "wall_s", "cpu_s", "peak_rss", "error"}
        assert (line["error"] is None) == (line["status"] != "failed")
    ended = [line for line in lines if line["status"] != "started"]
    assert len(ended) == 8 and len(lines) == 16
    for line in ended:
        if line["status"] == "done":
            assert line["bytes_out"] > 0 and line["objects"] > 0 and line["cpu_s"] > 0 and line["peak_rss"] > 1 << 20
    proc = run_tessera("report", job["path"], "--json")
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert (r["done"], r["failed"], r["running"], r["pending"], r["items"]) == (7, 1, 0, 0, 8)
    latest = latest_lines(lines).values()
    for key in ("bytes_in", "bytes_out", "objects"):
        assert r[key] == sum(line[key] for line in latest), key
    assert abs(r["cpu_s"] - sum(line["cpu_s"] for line in latest)) < 1e-6
    assert r["bytes_in"] == sum(os.path.getsize(e["input"].split(":/")[0]) for e in json.loads(job["path"].read_text())["inputs"])
    assert r["objects_per_tb"] == pytest.approx(r["objects"] / (r["bytes_in"] / 1e12))
    assert r["cpu_hours_per_tb"] == pytest.approx(r["cpu_s"] / 3600 / (r["bytes_in"] / 1e12))
    assert set(r["blowup_by_codec"]) == {"zstd"}
    assert [f["input"] for f in r["failures"]] == [str(job["base"] / "in" / "corrupt.tif")]
    assert "TIFF" in r["failures"][0]["error"] and r["failures"][0]["task"] == 7 % 3
    assert r["retry"] == f"tessera run {job['path']} --retry-failed"
    text = run_tessera("report", job["path"])
    assert text.returncode == 0 and "corrupt.tif" in text.stdout and "--retry-failed" in text.stdout


def output_stamps(out: Path) -> dict:
    """Every object the outputs hold (bookkeeping aside), with its inode and mtime."""
    return {p.relative_to(out): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in out.rglob("*") if p.is_file() and ".tessera" not in str(p.relative_to(out))}


def test_rerun_skips_every_complete_output_without_rewriting_it(job, run_tessera):
    before = {line["run"] for line in report_lines(job["reports"])}
    stamps = output_stamps(job["out"])
    procs = [run_tessera("run", job["path"], "--task", t) for t in range(3)]
    assert [p.returncode for p in procs] == [0, 1 if 7 % 3 == 1 else 0, 1 if 7 % 3 == 2 else 0]
    new = [line for line in report_lines(job["reports"]) if line["run"] not in before and line["status"] != "started"]
    assert sorted(line["status"] for line in new) == ["failed"] + ["skipped"] * 7
    # Skipping is checked by what was touched, not by time: no output object was rewritten.
    assert output_stamps(job["out"]) == stamps
    # Skipped lines repeat what the output holds, so the totals stay those of the job.
    r = json.loads(run_tessera("report", job["path"], "--json").stdout)
    assert r["done"] == 7 and r["bytes_out"] == sum(line["bytes_out"] for line in latest_lines(report_lines(job["reports"])).values())
    test_outputs_equal_one_machine_convert_and_read_back_exactly(job)


def test_retry_failed_converts_the_fixed_input(job, run_tessera):
    rng = np.random.default_rng(3)
    source = write_tiff(job["base"] / "in" / "corrupt.tif", rng.integers(0, 255, (40, 30), dtype=np.uint8), "yx")
    proc = run_tessera("run", job["path"], "--retry-failed")
    assert proc.returncode == 0, proc.stderr
    assert "1 item(s): 1 done" in proc.stderr
    exact(job["out"] / "corrupt.ome.zarr", source)
    r = json.loads(run_tessera("report", job["path"], "--json").stdout)
    assert (r["done"], r["failed"], r["failures"], r["retry"]) == (8, 0, [], "")
    # Nothing failed any more: a second retry has nothing to do.
    again = run_tessera("run", job["path"], "--retry-failed")
    assert again.returncode == 0 and "0 item(s)" in again.stderr


def test_kill_mid_image_then_rerun_resumes_exactly(tmp_path, run_tessera, tessera_bin):
    rng = np.random.default_rng(9)
    source = write_tiff(tmp_path / "large.tif", rng.integers(0, 60000, (2048, 2048), dtype=np.uint16), "yx", tile=(256, 256))
    small = write_tiff(tmp_path / "small.tif", rng.integers(0, 60000, (64, 64), dtype=np.uint16), "yx")
    convert = {"chunks": "32", "shards": "0", "codec": "gzip", "level": "9"}
    out = tmp_path / "out"
    path = write_job(tmp_path / "job.json", [job_input(source.arg, "large.ome.zarr", "tiff", 0),
                                            job_input(small.arg, "small.ome.zarr", "tiff", 0)], out, tasks=1, convert=convert)
    proc = subprocess.Popen([str(tessera_bin), "run", str(path), "--task", "0", "--jobs", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        level0 = out / "large.ome.zarr" / "0"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if level0.exists() and sum(1 for _ in level0.rglob("*")) > 200:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the task finished before it could be killed; make the image larger"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not (out / "large.ome.zarr" / "zarr.json").exists(), "killed after the image was complete"
    rerun = run_tessera("run", path, "--task", "0", timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    reference = tmp_path / "reference.ome.zarr"
    args = [f"--{k}" if v == "true" else f"--{k}={v}" for k, v in convert.items()]
    assert run_tessera("convert", source.arg, reference, *args, timeout=300).returncode == 0
    got, want = tree_bytes(out / "large.ome.zarr"), tree_bytes(reference)
    assert sorted(got) == sorted(want) and [k for k in want if got[k] != want[k]] == []
    exact(out / "large.ome.zarr", source)
    lines = report_lines(out / ".tessera-job" / "job1")
    done = {}
    for line in lines:
        if line["status"] == "done":
            done[line["output"]] = done.get(line["output"], 0) + 1
    assert done.get("large.ome.zarr") == 1, "the killed item is converted once, by the rerun"
    assert all(n == 1 for n in done.values()), f"an item converted twice: {done}"
    resumed = [line for line in lines if line["output"] == "large.ome.zarr" and line["status"] == "done"][0]
    assert resumed["objects"] < sum(1 for k in want if "/c/" in k or k.count("/") >= 2), "the rerun kept what the killed run stored"


def test_an_output_tessera_did_not_write_fails_and_is_left_alone(tmp_path, run_tessera):
    rng = np.random.default_rng(5)
    a = write_tiff(tmp_path / "a.tif", rng.integers(0, 255, (40, 30), dtype=np.uint8), "yx")
    b = write_tiff(tmp_path / "b.tif", rng.integers(0, 255, (40, 30), dtype=np.uint8), "yx")
    out = tmp_path / "out"
    foreign = out / "a.ome.zarr" / "notes.txt"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("mine")
    path = write_job(tmp_path / "job.json", [job_input(a.arg, "a.ome.zarr", "tiff", 0), job_input(b.arg, "b.ome.zarr", "tiff", 0)],
                     out, tasks=1)
    proc = run_tessera("run", path, "--task", "0")
    assert proc.returncode == 1
    assert sorted(p.name for p in (out / "a.ome.zarr").iterdir()) == ["notes.txt"] and foreign.read_text() == "mine"
    exact(out / "b.ome.zarr", b)
    failed = [line for line in report_lines(out / ".tessera-job" / "job1") if line["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["output"] == "a.ome.zarr" and "a.ome.zarr" in failed[0]["error"]


def test_a_complete_output_of_other_settings_is_not_taken_for_done(tmp_path, run_tessera):
    rng = np.random.default_rng(6)
    a = write_tiff(tmp_path / "a.tif", rng.integers(0, 255, (40, 30), dtype=np.uint8), "yx")
    out = tmp_path / "out"
    assert run_tessera("convert", a.arg, out / "a.ome.zarr", "--codec", "gzip").returncode == 0
    before = tree_bytes(out / "a.ome.zarr")
    path = write_job(tmp_path / "job.json", [job_input(a.arg, "a.ome.zarr", "tiff", 0)], out, tasks=1, convert={"codec": "zstd"})
    proc = run_tessera("run", path, "--task", "0")
    assert proc.returncode == 1 and "--codec gzip" in proc.stderr, proc.stderr
    assert tree_bytes(out / "a.ome.zarr") == before
