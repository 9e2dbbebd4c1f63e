"""The slurm.conf of the one-node test cluster (support/slurm_cluster.py).

Why it looks the way it does (this runs in a container, as root, without systemd):
  * proctrack/linuxproc + task/none, no cgroup plugin: the container's cgroup tree is not
    ours to create groups in, and linuxproc tracks a job's processes by parentage alone.
  * The node is called `localhost` (NodeAddr 127.0.0.1) and slurmd is started with
    `-N localhost`, so nothing depends on the machine's hostname resolving.
  * CommunicationParameters=NoCtldInAddrAny,NoInAddrAny makes slurmctld and slurmd bind
    the address their host name resolves to (127.0.0.1) instead of 0.0.0.0.
  * Ports are picked free at run time, so two test sessions (or a real Slurm on the
    machine) never collide; munged gets its own key, socket and seed in the folder, and
    Slurm is told the socket via AuthInfo=socket=...; the socket's folder must be
    world-searchable (munged refuses otherwise) while the key's folder is private.
  * SlurmUser=root: the tests run as root here and jobs run as the submitting user; a
    separate `slurm` account would need chown of every folder for no gain.
  * Without slurmdbd there is no job accounting database, so job completion records go to
    a flat file (JobCompType=jobcomp/filetxt), which `sacct --completion` reads.
  * DefMemPerCPU keeps one job from claiming the whole node's memory (with CR_Core_Memory a
    job without --mem would otherwise take it all and array tasks would run one by one).
  * KillWait=5: `scancel` sends SIGTERM, then SIGKILL 5 s later instead of 30.
  * cred_expire=10 (in AuthInfo): a requeued job may start again only once its launch
    credential expired; 10 s instead of the default 120 keeps the requeue test short. It
    then waits for a periodic scheduling pass: sched_interval/bf_interval=2 (default 60/30)
    start it within seconds (a one-node queue makes those passes cheap).
"""

from __future__ import annotations

import socket
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def total_memory_mib() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    raise RuntimeError("no MemTotal in /proc/meminfo")


def slurm_conf(root: Path, munge_socket: Path, cpus: int, def_mem_per_cpu: int) -> str:
    """slurm.conf for one node `localhost` with `cpus` CPUs and the machine's memory, every
    file of the daemons under `root`, free loopback ports."""
    memory = max(cpus * def_mem_per_cpu, total_memory_mib() - 512)
    return f"""# Written by Tests/Conformance/support/slurm_cluster.py: a one-node test cluster.
ClusterName=tessera-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket},cred_expire=10
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={root}/log/jobcomp.txt
MailProg=/bin/true
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU={def_mem_per_cpu}
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
KillWait=5
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 NodeHostname=localhost CPUs={cpus} Sockets=1 CoresPerSocket={cpus} ThreadsPerCore=1 RealMemory={memory} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""
