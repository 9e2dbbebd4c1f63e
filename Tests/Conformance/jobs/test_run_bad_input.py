"""`tessera run` refuses bad input before writing anything: one line on stderr naming the
file, variable or value, exit 1, nothing created (Docs/cluster.md, "Bad input")."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from convert_checks import assert_clean_failure
from convert_inputs import write_tiff
from job_manifest import job_input, write_job


def listing(root: Path) -> list:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def job(tmp_path):
    src = write_tiff(tmp_path / "a.tif", np.arange(64 * 48, dtype=np.uint16).reshape(64, 48), "yx")
    out = tmp_path / "out"
    return write_job(tmp_path / "job.json", [job_input(src.arg, "a.ome.zarr", "tiff", 0)], out, tasks=2), out


def test_missing_manifest(run_tessera, tmp_path):
    proc = run_tessera("run", tmp_path / "nope.json", "--task", "0")
    assert_clean_failure(proc, [tmp_path / "nope.json", "cannot be read"], "missing manifest")
    assert listing(tmp_path) == []


def test_manifest_that_is_not_json_or_not_a_job(run_tessera, tmp_path):
    for text, why in [("{oops", "is not JSON"), ('{"inputs": []}', "not a Tessera job manifest")]:
        path = tmp_path / "job.json"
        path.write_text(text)
        proc = run_tessera("run", path, "--task", "0")
        assert_clean_failure(proc, [path, why], why)
        assert listing(tmp_path) == ["job.json"]


def test_unreadable_manifest(run_tessera, job):
    path, out = job
    os.chmod(path, 0)
    try:
        proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(run_tessera.binary),
                               "run", str(path), "--task", "0"], capture_output=True, text=True, timeout=60)
    finally:
        os.chmod(path, 0o644)
    assert_clean_failure(proc, [path, "cannot be read"], "unreadable manifest")
    assert not out.exists()


def test_newer_schema(run_tessera, job, tmp_path):
    path, out = job
    doc = json.loads(path.read_text())
    doc["tessera_job"] = 7
    doc["something_new"] = {"x": 1}
    path.write_text(json.dumps(doc))
    proc = run_tessera("run", path, "--task", "0")
    assert_clean_failure(proc, [path, "written by a newer Tessera: job schema 7, this one reads 1"], "newer schema")
    assert not out.exists()


@pytest.mark.parametrize("bad", ["../escape.ome.zarr", "/abs/x.ome.zarr", "a/../../x"])
def test_output_outside_the_root(run_tessera, tmp_path, bad):
    src = write_tiff(tmp_path / "a.tif", np.ones((8, 8), np.uint8), "yx")
    path = write_job(tmp_path / "job.json", [job_input(src.arg, bad, "tiff", 0)], tmp_path / "out", tasks=1)
    proc = run_tessera("run", path, "--task", "0")
    assert_clean_failure(proc, [path, bad], "escaping output")
    assert listing(tmp_path) == ["a.tif", "job.json"]


@pytest.mark.parametrize("var,value", [("SLURM_ARRAY_TASK_ID", "abc"), ("JOB_COMPLETION_INDEX", "1.5"),
                                       ("AWS_BATCH_JOB_ARRAY_INDEX", "-3"), ("BATCH_TASK_INDEX", "7"),
                                       ("SLURM_ARRAY_TASK_ID", "")])
def test_garbage_or_out_of_range_index_variable(tessera_bin, job, var, value):
    path, out = job
    env = {k: v for k, v in os.environ.items() if k not in ("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX",
                                                             "AWS_BATCH_JOB_ARRAY_INDEX", "BATCH_TASK_INDEX")}
    env[var] = value
    proc = subprocess.run([str(tessera_bin), "run", str(path)], capture_output=True, text=True, env=env, timeout=60)
    assert_clean_failure(proc, [var, value], f"{var}={value!r}")
    assert not out.exists()


def test_no_index_at_all(tessera_bin, job):
    path, out = job
    env = {k: v for k, v in os.environ.items() if k not in ("SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX",
                                                             "AWS_BATCH_JOB_ARRAY_INDEX", "BATCH_TASK_INDEX")}
    proc = subprocess.run([str(tessera_bin), "run", str(path)], capture_output=True, text=True, env=env, timeout=60)
    assert_clean_failure(proc, ["--task", "SLURM_ARRAY_TASK_ID"], "no index")
    assert not out.exists()


def test_out_of_range_task(run_tessera, job):
    path, out = job
    proc = run_tessera("run", path, "--task", "2")
    assert_clean_failure(proc, ["--task 2", "0..1"], "--task 2 of 2")
    assert not out.exists()


def test_output_root_without_write_permission(tessera_bin):
    """The task runs as an unprivileged user (root writes anywhere) into a folder it may
    only read: one error naming the folder, and nothing inside it."""
    base = Path(tempfile.mkdtemp(prefix="tessera-ro-"))
    try:
        os.chmod(base, 0o755)
        src = write_tiff(base / "a.tif", np.arange(32 * 32, dtype=np.uint16).reshape(32, 32), "yx")
        os.chmod(src.file, 0o644)
        out = base / "out"
        out.mkdir()
        os.chmod(out, 0o555)
        path = write_job(base / "job.json", [job_input(src.arg, "a.ome.zarr", "tiff", 0)], out, tasks=1)
        os.chmod(path, 0o644)
        proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(tessera_bin),
                               "run", str(path), "--task", "0"], capture_output=True, text=True, timeout=60)
        assert_clean_failure(proc, [out, "Permission denied"], "read-only output root")
        assert listing(out) == []
    finally:
        shutil.rmtree(base, ignore_errors=True)
