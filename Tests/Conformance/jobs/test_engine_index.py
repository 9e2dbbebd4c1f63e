"""`tessera run job.json` takes its task index from the engine that started it (issue 16,
"Must show" 3): for each engine, a job of 6 small inputs planned into 3 tasks is run with
ONLY that engine's index variable set (the other three stripped from the environment) to
1, and then exactly task 1's outputs exist, each read back exactly (every level, by
zarr-python, tensorstore and ome-zarr-py), and no other output was written.

The cloud engines run the very command their template starts (Jobs/kubernetes rendered by
kustomize, Jobs/aws-batch/job-definition.json, Jobs/google-batch/job.json), with only the
manifest's path replaced, so a template whose flags `tessera run` does not take fails here.
A garbage, out-of-range or missing index is one clear error and writes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import convert_checks as cc
import convert_inputs as ci
import job_templates as jt

TASKS = 3
INDEX = 1
YX = ci.ODD_YX
CHUNKS = 16


def sources(folder: Path) -> list:
    """Six single-image inputs of one size (37x53 uint16: equal pixel bytes, so no task's
    share is big enough to split one), in four flavours of the three formats."""
    folder.mkdir()
    px = [ci.pixels("uint16", YX, seed=i, kind="smooth") for i in range(6)]
    return [
        ci.write_tiff(folder / "a.tif", px[0], "yx", tile=(16, 16)),
        ci.write_tiff(folder / "b.tif", px[1], "yx", rowsperstrip=7),
        ci.write_tiff(folder / "c.btf", px[2], "yx", tile=(16, 16), bigtiff=True),
        ci.write_hdf5(folder / "d.h5", px[3], dataset="/entry/data", with_path=False),
        ci.write_fits(folder / "e.fits", [ci.fits_bzero_u16(px[4])]),
        ci.write_fits(folder / "f.fits", [ci.fits_bzero_u16(px[5])]),
    ]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return sources(tmp_path_factory.mktemp("engine-index") / "in")


def plan(run_tessera, inputs: list, root: Path, manifest: Path) -> dict:
    proc = run_tessera("plan", *[s.arg for s in inputs], "--output", root, "--tasks", TASKS,
                       "--chunks", CHUNKS, "-o", manifest)
    assert proc.returncode == 0, f"tessera plan exited {proc.returncode}: {proc.stderr.strip()}"
    job = json.loads(manifest.read_text())
    assert job["tasks"] == TASKS and len(job["inputs"]) == len(inputs)
    assert all(item.get("split") is None for item in job["inputs"]), "no input is over a task's share"
    assert not root.exists() or not any(root.iterdir()), "plan writes no output"
    return job


def engine_env(variable: str | None, value: str | None) -> dict:
    """The test's environment without any engine's index variable, plus `variable`."""
    env = {k: v for k, v in os.environ.items() if k not in jt.INDEX_VARIABLES.values()}
    if variable is not None:
        env[variable] = value
    return env


def run_as_engine(argv: list[str], env: dict) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"tessera run timed out after {exc.timeout}s: {argv}", pytrace=False)


def engine_argv(engine: str, binary: Path, manifest: Path) -> list[str]:
    if engine == "slurm":  # Jobs/slurm/convert.sbatch is tested by the Slurm run itself
        return [str(binary), "run", str(manifest)]
    return jt.with_manifest(jt.engine_commands()[engine], manifest, binary)


def by_input(inputs: list) -> dict:
    return {os.path.realpath(s.file): s for s in inputs}


def written_entries(root: Path, job: dict) -> set:
    """Top-level names under the output root, leaving out the reports folder when the
    manifest keeps its reports inside the root."""
    if not root.exists():
        return set()
    reports = Path(job["reports"])
    skip = {reports.relative_to(root).parts[0]} if reports.is_relative_to(root) else set()
    return {p.name for p in root.iterdir()} - skip


@pytest.mark.parametrize("engine", list(jt.INDEX_VARIABLES))
def test_run_converts_only_the_engines_task(engine, inputs, run_tessera, tessera_bin, tmp_path):
    root, manifest = tmp_path / "zarr", tmp_path / "job.json"
    job = plan(run_tessera, inputs, root, manifest)
    mine = [item for item in job["inputs"] if item["task"] == INDEX]
    others = [item for item in job["inputs"] if item["task"] != INDEX]
    assert mine and others, f"task {INDEX} of {TASKS} should hold some of the 6 inputs, not all: {job['inputs']}"

    variable = jt.INDEX_VARIABLES[engine]
    proc = run_as_engine(engine_argv(engine, tessera_bin, manifest), engine_env(variable, str(INDEX)))
    assert proc.returncode == 0, f"{engine}: tessera run exited {proc.returncode}: {proc.stderr.strip()[-2000:]}"

    sources_by_path = by_input(inputs)
    for item in mine:
        out = root / item["output"]
        assert out.is_dir(), f"{engine}: task {INDEX}'s output {out} is missing"
        cc.check_output(out, sources_by_path[os.path.realpath(item["input"])], ngff="0.5", method="mean",
                        chunks=CHUNKS)
    for item in others:
        assert not (root / item["output"]).exists(), (
            f"{engine}: {item['output']} belongs to task {item['task']}, yet task {INDEX} wrote it")
    expected = {Path(item["output"]).parts[0] for item in mine}
    assert written_entries(root, job) == expected, f"{engine}: the output root holds more than task {INDEX}'s share"

    # Its report names exactly its own inputs, all done, and no other task has one.
    reports = Path(job["reports"])
    assert sorted(p.name for p in reports.iterdir()) == [f"task-{INDEX:05d}.jsonl"]
    lines = [json.loads(line) for line in (reports / f"task-{INDEX:05d}.jsonl").read_text().splitlines()]
    done = sorted(line["input"] for line in lines if line["status"] == "done")
    assert done == sorted(item["input"] for item in mine), lines
    assert {line["task"] for line in lines} == {INDEX}


# A value the variable must not be taken for: not a number, negative, out of range.
BAD_INDEXES = ["1x", "-1", str(TASKS), " "]


@pytest.mark.parametrize("value", BAD_INDEXES, ids=["garbage", "negative", "out-of-range", "blank"])
@pytest.mark.parametrize("engine", list(jt.INDEX_VARIABLES))
def test_bad_index_is_one_clear_error(engine, value, inputs, run_tessera, tessera_bin, tmp_path):
    root, manifest = tmp_path / "zarr", tmp_path / "job.json"
    job = plan(run_tessera, inputs, root, manifest)
    variable = jt.INDEX_VARIABLES[engine]
    proc = run_as_engine(engine_argv(engine, tessera_bin, manifest), engine_env(variable, value))
    assert proc.returncode == 1, f"{variable}={value!r}: exit {proc.returncode}: {proc.stderr.strip()}"
    assert variable in proc.stderr and value.strip() in proc.stderr, proc.stderr
    assert "Fatal error" not in proc.stderr and len(proc.stderr.strip().splitlines()) <= 2, proc.stderr
    assert written_entries(root, job) == set() and not Path(job["reports"]).exists(), "nothing is written"


def test_no_index_at_all_is_one_clear_error(inputs, run_tessera, tessera_bin, tmp_path):
    root, manifest = tmp_path / "zarr", tmp_path / "job.json"
    job = plan(run_tessera, inputs, root, manifest)
    proc = run_as_engine([str(tessera_bin), "run", str(manifest)], engine_env(None, None))
    assert proc.returncode == 1, proc.stderr
    assert "--task" in proc.stderr and all(v in proc.stderr for v in jt.INDEX_VARIABLES.values()), proc.stderr
    assert written_entries(root, job) == set() and not Path(job["reports"]).exists(), "nothing is written"


def test_sources_differ():
    """The six inputs hold different pixels, so an output converted from the wrong input
    fails the exact comparison above (the test could not pass by mixing them up)."""
    px = [ci.pixels("uint16", YX, seed=i, kind="smooth") for i in range(6)]
    assert all(not np.array_equal(px[i], px[j]) for i in range(6) for j in range(i + 1, 6))
