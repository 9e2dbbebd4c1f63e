"""The test Slurm cluster itself (support/slurm_cluster.py): munged, slurmctld and slurmd
start from a generated one-node slurm.conf, an array job runs every index, and stopping
leaves no daemon or job process behind."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from slurm_cluster import SlurmCluster, slurm  # noqa: F401  (slurm is a fixture)


def test_array_job_runs_every_index(slurm, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    job = slurm.sbatch("--array=0-3", f"--output={out}/echo_%A_%a.out", "--wrap", "echo $SLURM_ARRAY_TASK_ID")
    states = slurm.wait(job, timeout=60)
    assert states == {i: ("COMPLETED", "0:0") for i in range(4)}, states
    for i in range(4):
        assert (out / f"echo_{job}_{i}.out").read_text() == f"{i}\n"


def test_daemons_listen_on_loopback_only(slurm):
    ports = {line.split("=")[1] for line in slurm.conf.read_text().splitlines()
             if line.startswith(("SlurmctldPort=", "SlurmdPort="))}
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port = local.split(":")
            if state == "0A" and str(int(port, 16)) in ports:  # 0A = LISTEN
                listening.add((address, str(int(port, 16))))
    assert {p for _, p in listening} == ports, listening
    assert all(address == "0100007F" for address, _ in listening), listening  # 127.0.0.1


def test_stop_leaves_nothing_running():
    root = Path(tempfile.mkdtemp(prefix="tessera-slurm-stop-"))
    cluster = SlurmCluster(root)
    try:
        cluster.start()
        job = cluster.sbatch(f"--output={root}/sleep-%j.out", "--wrap", "sleep 300")
        cluster._wait_for(lambda: cluster.queued(job) and cluster.queued(job)[0][1] == "RUNNING", "sleep to run", 30)
        pids = {name: p.pid for name, p in cluster.procs.items()}
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
    marker = f"SLURM_CONF={cluster.conf}".encode()
    alive = []
    for pid_dir in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (pid_dir / "environ").read_bytes().split(b"\0"):
                alive.append((pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    assert not alive, alive
    for name, pid in pids.items():
        assert not Path(f"/proc/{pid}").exists(), f"{name} (pid {pid}) still running"
