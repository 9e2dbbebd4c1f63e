"""Job manifests for the `tessera run` / `report` tests, written by hand (schema version 1,
Specs/job.schema.json), and readers of the report lines tasks append."""

from __future__ import annotations

import json
import os
from pathlib import Path


def job_input(arg, output: str, fmt: str, task: int | None, split: dict | None = None) -> dict:
    """One `inputs[]` entry; file_bytes from the file (the part before an HDF5 `:/dataset`)."""
    arg = str(arg)
    file = arg.split(":/", 1)[0] if not arg.startswith("s3://") else None
    size = os.path.getsize(file) if file and os.path.exists(file) else 0
    entry = {"input": arg, "output": output, "format": fmt, "file_bytes": size, "pixel_bytes": max(size, 1)}
    if task is not None:
        entry["task"] = task
    if split is not None:
        entry["split"] = split
    return entry


def write_job(path: Path, inputs: list, output, tasks: int, convert: dict | None = None, job_id: str = "job1",
              reports: str | None = None, version: int = 1) -> Path:
    output = str(output)
    reports = reports or (output.rstrip("/") + f"/.tessera-job/{job_id}")
    doc = {"tessera_job": version, "planned_by": "test", "created": "2026-11-29T00:00:00Z", "id": job_id,
           "output": output, "reports": reports, "convert": convert or {}, "tasks": tasks, "inputs": inputs}
    Path(path).write_text(json.dumps(doc, indent=1))
    return Path(path)


def report_lines(reports: Path) -> list:
    """Every line of every local task report file, in file order."""
    out = []
    for f in sorted(Path(reports).glob("task-*.jsonl")):
        out += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    return out


def latest_lines(lines: list) -> dict:
    """(output, region) -> the latest line (by time; an ending line over `started` at the same time)."""
    latest = {}
    for line in lines:
        key = (line["output"], line["region"])
        held = latest.get(key)
        if held is None or line["time"] > held["time"] or (line["time"] == held["time"] and held["status"] == "started"):
            latest[key] = line
    return latest


def tree_bytes(root: Path) -> dict:
    """relative path -> bytes of every file below root."""
    root = Path(root)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
