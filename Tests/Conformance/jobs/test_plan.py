"""`tessera plan`: inputs from folders, globs and CSV lists, sized from their headers,
named uniquely and stably, balanced by pixel bytes over N tasks, into a job.json that
validates against Specs/job.schema.json; bad input is one clear error and no manifest."""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

import convert_inputs as ci
from plan_support import load_manifest, mixed_folder


def plan(run_tessera, *args, cwd=None, check=True):
    if cwd is None:
        return run_tessera("plan", *args, check=check)
    proc = subprocess.run([str(run_tessera.binary), "plan", *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=cwd, stdin=subprocess.DEVNULL)
    assert not check or proc.returncode == 0, proc.stderr
    return proc


def test_plan_of_a_folder_sizes_names_and_shares_every_image(run_tessera, tmp_path):
    sizes = mixed_folder(tmp_path / "in")
    job = tmp_path / "job.json"
    proc = plan(run_tessera, tmp_path / "in", "--output", tmp_path / "out", "--tasks", 3, "-o", job,
                "--codec", "zstd", "--chunks", "32", "--downsample-z", "--ngff", "0.5")
    m = load_manifest(job)
    assert m["tessera_job"] == 1 and m["tasks"] == 3
    assert m["output"] == str(tmp_path / "out")
    assert m["reports"] == f"{tmp_path / 'out'}/.tessera-job/{m['id']}"
    # Only options that differ from the defaults, by long flag name, valueless as "true".
    assert m["convert"] == {"codec": "zstd", "chunks": "32", "downsample-z": "true"}
    by_input = {i["input"]: i for i in m["inputs"]}
    broken = str(tmp_path / "in" / "b" / "broken.tif")
    assert set(by_input) == set(sizes) | {broken}  # hidden files and notes.txt skipped
    assert [i["input"] for i in m["inputs"]] == sorted(by_input)
    for path, nbytes in sizes.items():
        assert by_input[path]["pixel_bytes"] == nbytes, path
        assert by_input[path]["file_bytes"] == os.path.getsize(path)
        assert 0 <= by_input[path]["task"] < 3
    assert {by_input[p]["format"] for p in sizes} == {"tiff", "ome-tiff", "hdf5", "fits"}
    assert by_input[str(tmp_path / "in" / "c" / "plate.ome.tif")]["format"] == "ome-tiff"
    # The corrupt file stays in the job (the run reports it failed) and is named on stderr.
    assert by_input[broken]["format"] == "unknown"
    assert by_input[broken]["pixel_bytes"] == by_input[broken]["file_bytes"] == 64
    assert "warning" in proc.stderr and "broken.tif" in proc.stderr
    assert {i["input"][len(str(tmp_path / "in")) + 1:]: i["output"] for i in m["inputs"]} == {
        "a/x.tif": "a/x.ome.zarr", "b/x.tif": "b/x.tif.ome.zarr", "b/x.tiff": "b/x.tiff.ome.zarr",
        "b/broken.tif": "b/broken.ome.zarr", "c/plate.ome.tif": "c/plate.ome.zarr",
        "c/deep/vol.h5": "c/deep/vol.ome.zarr", "c/sky.fits": "c/sky.ome.zarr"}
    # The summary: inputs, images, pixel bytes, tasks, largest/smallest share, splits.
    assert "planned 7 input(s), 6 image(s)" in proc.stderr and "3 task(s)" in proc.stderr
    assert "largest task" in proc.stderr and "smallest" in proc.stderr and "split" in proc.stderr
    assert not list(tmp_path.glob(".job.json.tmp*"))


def test_work_is_balanced_by_pixel_bytes_not_file_count(run_tessera, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    # One image as large as the 12 others together (compressed: its file is small).
    ci.write_tiff(src / "big.tif", np.zeros((240, 200), np.uint8), "yx", compression="zlib")
    for i in range(12):
        ci.write_tiff(src / f"s{i:02}.tif", ci.pixels("uint8", (20, 200), seed=i), "yx")
    job = tmp_path / "job.json"
    plan(run_tessera, src, "--output", tmp_path / "out", "--tasks", 2, "-o", job)
    m = load_manifest(job)
    shares = [0, 0]
    for i in m["inputs"]:
        shares[i["task"]] += i["pixel_bytes"]
    assert shares == [48000, 48000]
    big = next(i for i in m["inputs"] if i["input"].endswith("big.tif"))
    assert sum(1 for i in m["inputs"] if i["task"] == big["task"]) == 1


def test_globs_are_expanded_by_tessera_and_relative_to_the_working_folder(run_tessera, tmp_path):
    mixed_folder(tmp_path / "in")
    job = tmp_path / "job.json"
    plan(run_tessera, "in/**/*.tif", "in/c/*.fits", "--output", "out", "--tasks", 2, "-o", job, cwd=tmp_path)
    m = load_manifest(job)
    assert [i["input"][len(str(tmp_path)) + 1:] for i in m["inputs"]] == [
        "in/a/x.tif", "in/b/broken.tif", "in/b/x.tif", "in/c/plate.ome.tif", "in/c/sky.fits"]
    assert m["output"] == str(tmp_path / "out")
    # x.tif meets no x.tiff here: names are the stems again.
    assert [i["output"] for i in m["inputs"]][:3] == ["a/x.ome.zarr", "b/broken.ome.zarr", "b/x.ome.zarr"]


def test_names_do_not_depend_on_the_order_inputs_are_given(run_tessera, tmp_path):
    mixed_folder(tmp_path / "in")
    args = ["in/c", "in/a/x.tif", "in/b"]
    plan(run_tessera, *args, "--output", "out", "--tasks", 2, "-o", "one.json", cwd=tmp_path)
    plan(run_tessera, *reversed(args), "--output", "out", "--tasks", 2, "-o", "two.json", cwd=tmp_path)
    one, two = load_manifest(tmp_path / "one.json"), load_manifest(tmp_path / "two.json")
    assert one["inputs"] == two["inputs"]
    assert one["id"] != two["id"] or one["created"] == two["created"]


def test_csv_rows_name_their_outputs(run_tessera, tmp_path):
    mixed_folder(tmp_path / "in")
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "job.csv").write_text("input,output\n../in/a/x.tif,plate-1/well-A1.ome.zarr\n"
                                   f"{tmp_path}/in/c/sky.fits,sky.ome.zarr\n")
    (lists / "more.tsv").write_text("../in/b/x.tif\tplate-1/well-A2.ome.zarr\n")
    job = tmp_path / "job.json"
    plan(run_tessera, lists / "job.csv", lists / "more.tsv", "--output", tmp_path / "out", "--tasks", 1, "-o", job)
    m = load_manifest(job)
    assert {i["input"]: i["output"] for i in m["inputs"]} == {
        str(tmp_path / "in/a/x.tif"): "plate-1/well-A1.ome.zarr",
        str(tmp_path / "in/b/x.tif"): "plate-1/well-A2.ome.zarr",
        str(tmp_path / "in/c/sky.fits"): "sky.ome.zarr"}


def test_an_existing_manifest_is_kept_unless_forced(run_tessera, tmp_path):
    mixed_folder(tmp_path / "in")
    job = tmp_path / "job.json"
    job.write_text("mine")
    proc = plan(run_tessera, tmp_path / "in", "--output", tmp_path / "out", "--tasks", 2, "-o", job, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"tessera: error: '{job}' already exists; pass --force to replace it"
    assert job.read_text() == "mine"
    plan(run_tessera, tmp_path / "in", "--output", tmp_path / "out", "--tasks", 2, "-o", job, "--force")
    assert load_manifest(job)["tasks"] == 2


@pytest.mark.parametrize("case", ["missing", "glob", "empty", "csv-absolute", "csv-dotdot", "csv-collision",
                                  "tasks0", "bad-codec", "collision"])
def test_bad_input_is_one_clear_error_and_no_manifest(case, run_tessera, tmp_path):
    mixed_folder(tmp_path / "in")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("nothing here")
    (tmp_path / "abs.csv").write_text(f"input,output\nin/a/x.tif,{tmp_path}/x.ome.zarr\n")
    (tmp_path / "up.csv").write_text("in/a/x.tif,ok.ome.zarr\nin/b/x.tif,../escape.ome.zarr\n")
    (tmp_path / "same.csv").write_text("in/a/x.tif,one.ome.zarr\nin/b/x.tif,one.ome.zarr\n")
    (tmp_path / "taken.csv").write_text("in/c/sky.fits,x.ome.zarr\n")
    args, expected = {
        "missing": (["in/nope.tif"], "'in/nope.tif': no such file"),
        "glob": (["in/**/*.nd2.tif"], "'in/**/*.nd2.tif': the pattern matches no"),
        "empty": (["empty"], "'empty': holds no TIFF, HDF5, HDF4, FITS, DICOM, DM or slide file"),
        "csv-absolute": (["abs.csv"], f"{tmp_path}/abs.csv:2: output '{tmp_path}/x.ome.zarr' must be relative"),
        "csv-dotdot": (["up.csv"], f"{tmp_path}/up.csv:2: output '../escape.ome.zarr' must not contain '..'"),
        "csv-collision": (["same.csv"], "would both be written to 'one.ome.zarr'"),
        "tasks0": (["in", "--tasks", "0"], "--tasks must be at least 1, got 0"),
        "bad-codec": (["in", "--codec", "lzma9"], "unknown --codec 'lzma9'"),
        "collision": (["in/a/x.tif", "taken.csv"], "would both be written to 'x.ome.zarr'"),
    }[case]
    if "--tasks" not in args:
        args = args + ["--tasks", "2"]
    proc = plan(run_tessera, *args, "--output", "out", "-o", "job.json", cwd=tmp_path, check=False)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tessera: error: ") and expected in lines[0], proc.stderr
    assert not (tmp_path / "job.json").exists() and not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".job.json.tmp*"))


def test_an_image_above_a_tasks_share_is_split_into_shard_aligned_regions(run_tessera, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    ci.write_tiff(src / "big.tif", ci.pixels("uint16", (1024, 1024), seed=4), "yx", tile=(256, 256))
    for i in range(6):
        ci.write_tiff(src / f"s{i}.tif", ci.pixels("uint8", (100, 100), seed=i), "yx")
    job = tmp_path / "job.json"
    proc = plan(run_tessera, src, "--output", tmp_path / "out", "--tasks", 4, "-o", job, "--chunks", "128", "--shards", "256")
    m = load_manifest(job)
    big = next(i for i in m["inputs"] if i["input"].endswith("big.tif"))
    assert "task" not in big and big["split"]["region_levels"] >= 1
    regions = big["split"]["regions"]
    assert len(regions) == 4 and sorted(r["task"] for r in regions) == [0, 1, 2, 3]
    # The regions tile level 0 exactly, on shard boundaries.
    covered = np.zeros((1024, 1024), np.uint8)
    for r in regions:
        (y, x), (h, w) = r["origin"], r["shape"]
        assert y % 256 == 0 and x % 256 == 0
        covered[y:y + h, x:x + w] += 1
    assert (covered == 1).all()
    shares = [0] * 4
    for i in m["inputs"]:
        if "task" in i:
            shares[i["task"]] += i["pixel_bytes"]
    for r in regions:
        shares[r["task"]] += r["shape"][0] * r["shape"][1] * 2
    assert sum(shares) == 1024 * 1024 * 2 + 6 * 100 * 100
    assert max(shares) <= 1.1 * min(shares)
    assert "1 image(s) split" in proc.stderr


def test_a_dicom_series_folder_is_one_input(run_tessera, tmp_path):
    """`plan` takes a folder of DICOM slices as one input, as `convert` does (not one input
    per slice, not descended), beside the other images of the tree; `run` converts it to
    the series' z-stack."""
    import convert_checks as cc
    import dicom_inputs as di

    stack = (np.arange(4 * 24 * 20, dtype=np.int16).reshape(4, 24, 20) * 7) % 3000
    facts = di.write_series(tmp_path / "in" / "scans" / "ct", stack)
    (tmp_path / "in" / "a").mkdir()
    ci.write_tiff(tmp_path / "in" / "a" / "x.tif", ci.pixels("uint16", (32, 32)), "yx")
    job = tmp_path / "job.json"
    plan(run_tessera, tmp_path / "in", "--output", tmp_path / "out", "--tasks", 1, "-o", job)
    m = load_manifest(job)
    by_input = {i["input"][len(str(tmp_path / "in")) + 1:]: i for i in m["inputs"]}
    assert set(by_input) == {"a/x.tif", "scans/ct"}, sorted(by_input)
    assert by_input["scans/ct"]["format"] == "dicom"
    assert by_input["scans/ct"]["output"] == "scans/ct.ome.zarr"
    run_tessera("run", job, "--task", 0)
    image = tmp_path / "out" / "scans" / "ct.ome.zarr"
    want = di.reference_series(facts["paths"])
    got = cc.read_level_zarr(image / "0")
    assert got.shape == want.shape and np.array_equal(got, want), "the series read back differs from pydicom's"
