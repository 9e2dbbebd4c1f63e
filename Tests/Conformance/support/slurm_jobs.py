"""A Tessera bulk job on the test Slurm cluster (support/slurm_cluster.py): plan it, submit
Jobs/slurm/convert.sbatch as an array, read the per-task report lines and `tessera report`,
and the inputs such a job needs (a mixed batch, corrupt files whose headers are sound).
Names follow the shared contract of `tessera plan` / `run` / `report` (Docs/cluster.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import convert_inputs as ci

REPO_ROOT = Path(__file__).resolve().parents[3]
SBATCH = REPO_ROOT / "Jobs" / "slurm" / "convert.sbatch"


# ---------------------------------------------------------------------------
# plan / submit / report
# ---------------------------------------------------------------------------

def tessera_ok(run_tessera, *args, timeout=300) -> str:
    proc = run_tessera(*args, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"exit {proc.returncode}: {run_tessera.format(args)}\nstderr: {proc.stderr.strip()[-3000:]}",
                    pytrace=False)
    return proc.stdout


def plan(run_tessera, inputs, root: Path, tasks: int, job: Path, *convert_options) -> dict:
    """`tessera plan INPUTS --output ROOT --tasks N -o job.json OPTIONS`; returns job.json."""
    tessera_ok(run_tessera, "plan", *map(str, inputs), "--output", root, "--tasks", tasks, "-o", job,
               *convert_options)
    manifest = json.loads(Path(job).read_text())
    assert manifest["tasks"] == tasks, manifest["tasks"]
    return manifest


def submit(cluster, job: Path, array: str, logs: Path, tessera_bin: Path) -> str:
    """`sbatch --array=ARRAY Jobs/slurm/convert.sbatch job.json` from `logs` (where the
    per-task logs land), with TESSERA naming the binary under test."""
    logs.mkdir(parents=True, exist_ok=True)
    return cluster.sbatch(f"--array={array}", SBATCH, job, cwd=logs, env={"TESSERA": str(tessera_bin)})


def task_logs(logs: Path, job_id: str, task: int) -> str:
    parts = []
    for ext in ("out", "err"):
        p = logs / f"tessera-{job_id}_{task}.{ext}"
        parts.append(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:] if p.exists() else '(missing)'}")
    return "\n".join(parts)


def report_lines(manifest: dict, while_running: bool = False) -> list:
    """Every line of every task's report file (local reports: task-NNNNN.jsonl).
    `while_running`: a task may be appending, so a last line without its newline is not
    read yet (instead of failing the test)."""
    folder = Path(manifest["reports"])
    lines = []
    for path in sorted(folder.glob("task-*.jsonl")):
        text = path.read_text()
        if while_running:
            text = text[:text.rfind("\n") + 1]
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    lines.append(json.loads(line))
                except ValueError as exc:
                    pytest.fail(f"{path.name}:{n} is not JSON ({exc}): {line[:200]}", pytrace=False)
    return lines


def input_file(name: str) -> Path:
    """The file of a job input (`scan.h5:/entry/data` names the file `scan.h5`)."""
    path, sep, _dataset = name.partition(":/")
    return Path(path).resolve()


def item_key(line: dict) -> tuple:
    """A work item: an input, one region of it, or its finishing step."""
    return line["input"], line.get("region")


def latest_lines(lines: list) -> dict:
    """{work item: its latest line by time} — how `tessera report` merges."""
    latest = {}
    for line in sorted(lines, key=lambda l: l["time"]):
        latest[item_key(line)] = line
    return latest


def report_json(run_tessera, job: Path) -> dict:
    return json.loads(tessera_ok(run_tessera, "report", job, "--json"))


def check_report_totals(report: dict, lines: list) -> None:
    """`tessera report`'s totals are the sums over the latest line of each work item."""
    latest = latest_lines(lines).values()
    for key in ("bytes_in", "bytes_out", "objects"):
        want = sum(int(l.get(key) or 0) for l in latest)
        assert report[key] == want, f"report {key} = {report[key]}, the latest per-task lines sum to {want}"
    cpu = sum(float(l.get("cpu_s") or 0) for l in latest)
    assert abs(report["cpu_s"] - cpu) <= 1e-6 * max(1.0, cpu) + 1e-3, f"report cpu_s {report['cpu_s']} != {cpu}"


def assert_nothing_done_twice(lines: list) -> None:
    done = {}
    for line in lines:
        if line["status"] == "done":
            done.setdefault(item_key(line), []).append(f"task {line['task']} run {line['run']} at {line['time']}")
    twice = {k: v for k, v in done.items() if len(v) > 1}
    assert not twice, f"work items converted more than once: {twice}"


# ---------------------------------------------------------------------------
# Comparing outputs
# ---------------------------------------------------------------------------

def tree(root: Path, skip=(".tessera-split",)) -> dict:
    """{relative path: bytes} of every file under root, Tessera's split bookkeeping aside."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in files:
            p = Path(dirpath) / name
            out[str(p.relative_to(root))] = p.read_bytes()
    return out


def assert_same_image(got: Path, want: Path) -> None:
    """`got` (converted in regions by several tasks) is what a one-machine `tessera
    convert` wrote to `want`: the NGFF metadata, every level's pixels through zarr-python
    and tensorstore, and then every stored object byte for byte."""
    import zarr

    import convert_checks as cc

    fmt, attrs_got = cc.group_attrs(got)
    _, attrs_want = cc.group_attrs(want)
    assert attrs_got == attrs_want, f"{got}: group attributes differ from the one-machine conversion"
    ngff = "0.5" if fmt == 3 else "0.4"
    ome = attrs_want["ome"] if ngff == "0.5" else attrs_want
    for ds in ome["multiscales"][0]["datasets"]:
        level = ds["path"]
        assert cc.array_meta(got / level) == cc.array_meta(want / level), f"{got}/{level}: array metadata differs"
        expected = zarr.open_array(str(want / level), mode="r")[...]
        np.testing.assert_array_equal(zarr.open_array(str(got / level), mode="r")[...], expected,
                                      err_msg=f"{got}/{level} via zarr-python")
        np.testing.assert_array_equal(cc.read_level_tensorstore(got / level, ngff), expected,
                                      err_msg=f"{got}/{level} via tensorstore")
    a, b = tree(got), tree(want)
    assert sorted(a) == sorted(b), (f"{got}: objects only here {sorted(set(a) - set(b))[:10]}, "
                                    f"only in the one-machine output {sorted(set(b) - set(a))[:10]}")
    differ = [k for k in a if a[k] != b[k]]
    assert not differ, f"{got}: objects differing from the one-machine conversion: {differ[:10]}"


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

JUNK = bytes(range(7, 251)) * 64


def corrupt_tiff(path: Path) -> Path:
    """A tiled, deflate-compressed TIFF whose header and tile table are sound (so it can be
    planned) but whose tile bytes are junk: converting it must fail."""
    import tifffile

    tifffile.imwrite(path, ci.pixels("uint16", (256, 256), kind="smooth"), tile=(64, 64), compression="zlib",
                     metadata=None)
    with tifffile.TiffFile(path) as tif:
        spans = list(zip(tif.pages[0].dataoffsets, tif.pages[0].databytecounts))
    with open(path, "r+b") as f:
        for offset, count in spans:
            f.seek(offset)
            f.write(JUNK[:count])
    return path


def corrupt_hdf5(path: Path) -> Path:
    """An HDF5 file with one gzip-chunked dataset whose chunk bytes are junk."""
    import h5py

    with h5py.File(path, "w") as f:
        f.create_dataset("/entry/data", data=ci.pixels("uint16", (128, 128), kind="smooth"), chunks=(32, 32),
                         compression="gzip")
    with h5py.File(path, "r") as f:
        ds = f["/entry/data"].id
        spans = [(ds.get_chunk_info(i).byte_offset, ds.get_chunk_info(i).size) for i in range(ds.get_num_chunks())]
    with open(path, "r+b") as f:
        for offset, size in spans:
            f.seek(offset)
            f.write(JUNK[:size])
    return path
