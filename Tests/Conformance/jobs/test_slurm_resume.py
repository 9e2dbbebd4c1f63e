"""Resume on Slurm (issue 16, "Must show 2"): one array task is stopped while it converts
its region of a large image split across two tasks — cancelled with `scancel` and then
resubmitted alone (`sbatch --array=K`), or requeued by Slurm itself (`scontrol requeue`,
what a node failure or preemption does to a `--requeue` job). Either way the job finishes:
the outputs are exact (the split image is what a one-machine `tessera convert` writes, the
small ones match the numpy reference), and the per-task report lines show no work item
`done` twice."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

import convert_checks as cc
import convert_inputs as ci
import slurm_jobs as sj
from slurm_cluster import slurm  # noqa: F401  (the cluster fixture)

TASKS = 2
# 96 MiB of uint16 noise (it compresses poorly, so it is slow to write): each task's region
# takes seconds, long enough to be caught mid-image. Default chunks (256) and 2-D shards
# (x8 = 2048).
LARGE_YX = (8192, 6144)
SHARD = 2048
SMALL_YX = (96, 136)


def objects_in_region(image: Path, region: dict) -> list:
    """Level-0 shards already stored inside `region` (origin/shape in y, x)."""
    (y0, x0), (h, w) = region["origin"][-2:], region["shape"][-2:]
    found = []
    for path in (image / "0" / "c").glob("*/*"):
        if re.fullmatch(r"\d+", path.parent.name) and re.fullmatch(r"\d+", path.name):
            y, x = int(path.parent.name) * SHARD, int(path.name) * SHARD
            if y0 <= y < y0 + h and x0 <= x < x0 + w:
                found.append(path)
    return found


@pytest.mark.parametrize("stop", ["scancel-resubmit", "requeue"])
def test_stopped_task_resumes_and_converts_nothing_twice(stop, slurm, run_tessera, tessera_bin, tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    large = ci.write_tiff(d / "large.tif", ci.pixels("uint16", LARGE_YX), "yx", tile=(256, 256))
    small = [ci.write_tiff(d / f"small{i}.tif", ci.pixels("uint8", SMALL_YX, seed=i), "yx") for i in range(4)]
    root, job, logs = tmp_path / "out", tmp_path / "job.json", tmp_path / "logs"
    manifest = sj.plan(run_tessera, [d], root, TASKS, job)
    entries = {sj.input_file(i["input"]): i for i in manifest["inputs"]}
    entry = entries[large.file.resolve()]
    split = entry.get("split")
    assert split and len({r["task"] for r in split["regions"]}) == TASKS, f"not split across both tasks: {split}"
    victim = split["regions"][0]["task"]
    mine = {r: region for r, region in enumerate(split["regions"]) if region["task"] == victim}
    image = root / entry["output"]

    def large_lines(status: str) -> dict:
        """{region: run} of the victim's lines with `status` about the large image."""
        return {l["region"]: l["run"] for l in sj.report_lines(manifest, while_running=True)
                if l["task"] == victim and sj.input_file(l["input"]) == large.file.resolve() and l["status"] == status}

    job_id = sj.submit(slurm, job, f"0-{TASKS - 1}", logs, tessera_bin)
    deadline = time.time() + 300
    while True:  # mid-image: a region of the victim started, some of its shards stored, not done
        started = large_lines("started")
        caught = [r for r in set(started) & set(mine) - set(large_lines("done")) if objects_in_region(image, mine[r])]
        if caught:
            first_run = started[caught[0]]
            break
        if not slurm.queued(job_id) or time.time() > deadline:
            pytest.fail(f"task {victim} was never seen mid-image (its regions {sorted(mine)})\n"
                        f"{sj.task_logs(logs, job_id, victim)}", pytrace=False)
        time.sleep(0.05)
    if stop == "scancel-resubmit":
        slurm.run("scancel", f"{job_id}_{victim}")
        states = slurm.wait(job_id, timeout=300)
        assert states[victim][0].startswith("CANCELLED"), states
        assert all(states[t] == ("COMPLETED", "0:0") for t in range(TASKS) if t != victim), states
        assert cc.any_multiscales(image) == [], "the split image is marked finished with a region missing"
        again = sj.submit(slurm, job, str(victim), logs, tessera_bin)
        states = slurm.wait(again, timeout=300)
        assert states == {victim: ("COMPLETED", "0:0")}, f"{states}\n{sj.task_logs(logs, again, victim)}"
    else:
        slurm.run("scontrol", "requeue", f"{job_id}_{victim}")
        states = slurm.wait(job_id, timeout=300)
        assert states == {t: ("COMPLETED", "0:0") for t in range(TASKS)}, f"{states}\n{sj.task_logs(logs, job_id, victim)}"
        log = sj.task_logs(logs, job_id, victim)
        assert "restart 1" in log, f"task {victim} was not run again by Slurm:\n{log}"

    lines = sj.report_lines(manifest)
    done_first = [l for l in lines if l["run"] == first_run and l["region"] in caught and l["status"] == "done"]
    assert not done_first, (f"region {caught} finished before the {stop} reached it: nothing was resumed "
                            "(make the image larger)")
    sj.assert_nothing_done_twice(lines)
    runs = {l["run"] for l in lines if l["task"] == victim}
    assert len(runs) == 2, f"task {victim} should have reported from two runs: {runs}"
    report = sj.report_json(run_tessera, job)
    items = len(small) + len(split["regions"])
    assert (report["done"], report["failed"], report["running"], report["pending"]) == (items, 0, 0, 0), report
    sj.check_report_totals(report, lines)

    reference = tmp_path / "one-machine.ome.zarr"
    sj.tessera_ok(run_tessera, "convert", large.arg, reference)
    sj.assert_same_image(image, reference)
    for source in small:
        cc.check_output(root / entries[source.file.resolve()]["output"], source)
