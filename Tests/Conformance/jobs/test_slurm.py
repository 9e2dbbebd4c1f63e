"""A real Slurm run (issue 16, "Must show 1"): a one-node Slurm (support/slurm_cluster.py)
runs Jobs/slurm/convert.sbatch with --array=0-3 over a mixed batch of 27 files — plain
TIFF, OME-TIFF, BigTIFF, HDF5, FITS, one image large enough that `tessera plan --tasks 4`
splits it across tasks, two corrupt files — and waits with squeue / sacct. Then every good
output is read back exactly by zarr-python and tensorstore (support/convert_checks.py), the
split image is identical to a one-machine `tessera convert` of it, the corrupt files are
failed in `tessera report --json` with their one-line errors, and the report's totals are
the sums of the per-task lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from astropy.io import fits

import convert_checks as cc
import convert_inputs as ci
import slurm_jobs as sj
from slurm_cluster import slurm  # noqa: F401  (the cluster fixture)

TASKS = 4
CHUNKS = 128  # 2-D shards of 1024: the large image holds 4 of them, so it can be split
YX = (96, 136)


def mixed_batch(d: Path) -> tuple:
    """({input file: Source} of the good files, [corrupt files], the large image's Source)."""
    for sub in ("tiff", "ome", "big", "hdf5", "fits", "a", "b", "bad"):
        (d / sub).mkdir(parents=True)
    good = [
        ci.write_tiff(d / "tiff/u8.tif", ci.pixels("uint8", YX), "yx"),
        ci.write_tiff(d / "tiff/u16_tiled.tif", ci.pixels("uint16", (300, 260), kind="smooth"), "yx", tile=(64, 64)),
        ci.write_tiff(d / "tiff/i16_zlib.tif", ci.pixels("int16", YX), "yx", compression="zlib"),
        ci.write_tiff(d / "tiff/f32.tif", ci.pixels("float32", YX), "yx"),
        ci.write_tiff(d / "tiff/rgb.tif", ci.pixels("uint8", (*YX, 3), kind="smooth"), "yxc"),
        ci.write_tiff_pages(d / "tiff/stack.tif", ci.pixels("uint16", (5, *YX))),
        ci.write_tiff(d / "tiff/labels.tif", ci.pixels("uint8", YX, kind="labels"), "yx"),
        ci.write_ome_tiff(d / "ome/one.ome.tif", [dict(data=ci.pixels("uint16", YX, kind="smooth"), axes="YX",
                                                         physical={"x": (0.5, "µm"), "y": (0.5, "µm")})]),
        ci.write_ome_tiff(d / "ome/channels.ome.tif", [dict(data=ci.pixels("uint8", (3, *YX)), axes="CYX",
                                                              channel_names=["DAPI", "GFP", "RFP"])]),
        ci.write_ome_tiff(d / "ome/volume.ome.tif", [dict(data=ci.pixels("uint16", (2, 4, *YX)), axes="CZYX")]),
        ci.write_ome_tiff(d / "ome/two_series.ome.tif", [dict(data=ci.pixels("uint8", YX), axes="YX", name="first"),
                                                           dict(data=ci.pixels("uint16", YX, seed=1), axes="YX",
                                                                name="second")]),
        ci.write_tiff(d / "big/plain.btf", ci.pixels("uint16", YX, seed=2), "yx", bigtiff=True),
        ci.write_tiff(d / "big/tiled.tif", ci.pixels("uint8", (200, 180), seed=3), "yx", bigtiff=True, tile=(32, 32)),
        ci.write_ome_tiff(d / "big/ome.ome.btf", [dict(data=ci.pixels("uint16", (3, *YX), seed=4), axes="ZYX")],
                          bigtiff=True),
        ci.write_hdf5(d / "hdf5/frame.h5", ci.pixels("uint16", YX, seed=5), with_path=False),
        ci.write_hdf5(d / "hdf5/volume.h5", ci.pixels("float32", (4, *YX), seed=6), chunks=(1, 32, 32),
                      compression="gzip", with_path=False),
        ci.write_hdf5(d / "hdf5/scan.nxs", ci.pixels("int32", YX, seed=7), with_path=False),
        ci.write_hdf5(d / "hdf5/stack.hdf5", ci.pixels("uint8", (3, *YX), seed=8), with_path=False),
        ci.write_fits(d / "fits/f32.fits", [fits.ImageHDU(ci.pixels("float32", YX, seed=9))]),
        ci.write_fits(d / "fits/cube.fits", [fits.ImageHDU(ci.pixels("int16", (3, *YX), seed=10))]),
        ci.write_fits(d / "fits/u16.fits", [ci.fits_bzero_u16(ci.pixels("uint16", YX, seed=11))]),
        ci.write_fits(d / "fits/two_hdus.fits", [fits.ImageHDU(ci.pixels("int16", YX, seed=12), name="A"),
                                                 fits.ImageHDU(ci.pixels("float64", YX, seed=13), name="B")]),
        # Same file name in two folders: the outputs must not collide.
        ci.write_tiff(d / "a/same.tif", ci.pixels("uint8", YX, seed=14), "yx"),
        ci.write_tiff(d / "b/same.tif", ci.pixels("uint8", YX, seed=15), "yx"),
    ]
    # 8 MiB of pixels against ~1 MiB for all the rest: more than a task's fair share.
    large = ci.write_tiff(d / "tiff/large.tif", ci.pixels("uint16", (2048, 2048), kind="smooth"), "yx",
                          tile=(256, 256))
    bad = [sj.corrupt_tiff(d / "bad/broken_tiles.tif"), sj.corrupt_hdf5(d / "bad/broken_chunks.h5")]
    return {s.file.resolve(): s for s in [*good, large]}, [p.resolve() for p in bad], large


@pytest.fixture(scope="module")
def converted(slurm, run_tessera, tessera_bin, tmp_path_factory):
    """The whole run, once: plan, sbatch --array=0-3, wait."""
    base = tmp_path_factory.mktemp("slurm-job")
    good, bad, large = mixed_batch(base / "in")
    root, job, logs = base / "out", base / "job.json", base / "logs"
    manifest = sj.plan(run_tessera, [base / "in"], root, TASKS, job, "--chunks", CHUNKS)
    job_id = sj.submit(slurm, job, f"0-{TASKS - 1}", logs, tessera_bin)
    states = slurm.wait(job_id, timeout=600)
    return dict(base=base, good=good, bad=bad, large=large, root=root, job=job, logs=logs, manifest=manifest,
                job_id=job_id, states=states)


def by_input(manifest: dict) -> dict:
    return {sj.input_file(i["input"]): i for i in manifest["inputs"]}


def test_plan_covers_the_batch_and_splits_the_large_image(converted):
    m, good, bad = converted["manifest"], converted["good"], converted["bad"]
    inputs = by_input(m)
    assert sorted(inputs) == sorted([*good, *bad]), sorted(map(str, set(inputs) ^ {*good, *bad}))
    assert len(inputs) >= 24
    outputs = [i["output"] for i in m["inputs"]]
    assert len(set(outputs)) == len(outputs), f"output names collide: {outputs}"
    split = inputs[converted["large"].file.resolve()].get("split")
    assert split and len({r["task"] for r in split["regions"]}) > 1, f"the large image is not split across tasks: {split}"


def test_every_array_task_ran_and_logged(converted):
    m, states, logs, job_id = converted["manifest"], converted["states"], converted["logs"], converted["job_id"]
    inputs = by_input(m)
    bad_tasks = {inputs[p]["task"] for p in converted["bad"]}
    for task in range(TASKS):
        want = ("FAILED", "1:0") if task in bad_tasks else ("COMPLETED", "0:0")
        assert states.get(task) == want, (f"array task {task}: sacct says {states.get(task)}, expected {want}\n"
                                          f"{sj.task_logs(logs, job_id, task)}")
        err = (logs / f"tessera-{job_id}_{task}.err").read_text()
        assert f"task {task} " in err, f"task {task}'s log lacks the script's header:\n{err[-2000:]}"


def test_good_outputs_read_back_exactly(converted):
    root, inputs = converted["root"], by_input(converted["manifest"])
    failures = []
    for path, source in sorted(converted["good"].items()):
        try:  # zarr-python, tensorstore, ome-zarr-py against the numpy reference pyramid
            cc.check_output(root / inputs[path]["output"], source, chunks=CHUNKS)
        except AssertionError as exc:
            failures.append(f"{path.name}: {str(exc)[:600]}")
    assert not failures, "\n".join(failures)


def test_split_image_is_what_one_machine_converts(converted, run_tessera):
    large, root = converted["large"], converted["root"]
    reference = converted["base"] / "one-machine.ome.zarr"
    sj.tessera_ok(run_tessera, "convert", large.arg, reference, "--chunks", CHUNKS)
    got = root / by_input(converted["manifest"])[large.file.resolve()]["output"]
    sj.assert_same_image(got, reference)


def test_report_names_the_corrupt_files_and_adds_up(converted, run_tessera):
    m = converted["manifest"]
    report = sj.report_json(run_tessera, converted["job"])
    lines = sj.report_lines(m)
    items = sum(len(i["split"]["regions"]) if i.get("split") else 1 for i in m["inputs"])
    assert (report["done"], report["failed"], report["running"], report["pending"]) == (items - 2, 2, 0, 0), report
    assert report["items"] == items, report
    failures = {sj.input_file(f["input"]): f for f in report["failures"]}
    assert sorted(failures) == sorted(converted["bad"]), report["failures"]
    for path, failure in failures.items():
        error = failure["error"]
        assert isinstance(error, str) and error.strip() and "\n" not in error, f"{path.name}: error {error!r}"
        assert path.name in error, f"the error for {path.name} does not name it: {error!r}"
        assert failure["task"] == by_input(m)[path]["task"], failure
    assert "--retry-failed" in report["retry"], report["retry"]
    sj.check_report_totals(report, lines)
    good_bytes = sum(p.stat().st_size for p in converted["good"])
    latest = sj.latest_lines(lines)
    done_in = sum(int(l["bytes_in"]) for l in latest.values()
                  if sj.input_file(l["input"]) in converted["good"] and l["status"] == "done")
    assert done_in == good_bytes, f"bytes_in of the done items {done_in} != the good files' {good_bytes} bytes"
    sj.assert_nothing_done_twice(lines)
