"""A real one-node Slurm cluster for the tests: munged, slurmctld and slurmd (Debian's
`slurm-wlm` and `munge`, installed by scripts/setup.sh) started as child processes of the
test, everything in one temporary folder, no systemd.

    with SlurmCluster(tmp_path / "slurm") as cluster:
        job = cluster.sbatch("--array=0-3", "--wrap", "echo $SLURM_ARRAY_TASK_ID")
        cluster.wait(job, timeout=60)

The generated slurm.conf and the reasons for each setting: support/slurm_conf.py.

Every Slurm command needs SLURM_CONF in its environment: use `cluster.env` or
`cluster.run(...)`. `stop()` cancels the jobs, stops the three daemons, and kills any
process still carrying this cluster's SLURM_CONF (slurmstepd and job steps outlive slurmd
by design); it also runs at interpreter exit in case a fixture never got to it.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from slurm_conf import slurm_conf

DAEMONS = ("munged", "slurmctld", "slurmd")


@pytest.fixture(scope="module")
def slurm():
    """A running one-node cluster for the test module; stopped afterwards whatever
    happens. Import it into a test module: `from slurm_cluster import slurm`.
    Its folder is short and under /tmp (munged's socket path must fit a sockaddr_un); it is
    removed after the stop unless TESSERA_KEEP_SLURM=1 (failures carry the daemons' logs)."""
    root = Path(tempfile.mkdtemp(prefix="tessera-slurm-"))
    cluster = SlurmCluster(root)
    try:
        try:
            cluster.start()
        except SlurmError as exc:
            failure = str(exc)
        else:
            failure = None
        if failure:
            pytest.fail(failure, pytrace=False)
        yield cluster
    finally:
        cluster.stop()
        if os.environ.get("TESSERA_KEEP_SLURM") != "1":
            shutil.rmtree(root, ignore_errors=True)


class SlurmError(RuntimeError):
    pass


def missing_programs() -> list:
    """The Slurm/munge programs this harness needs that are not on PATH."""
    need = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "sacct", "scancel", "scontrol")
    return [p for p in need if shutil.which(p) is None and not Path("/usr/sbin", p).exists()]


def program(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


class SlurmCluster:
    def __init__(self, root: Path, cpus: int = 2, def_mem_per_cpu: int = 1024):
        self.root = Path(root).resolve()
        self.cpus = cpus
        self.def_mem_per_cpu = def_mem_per_cpu
        self.procs: dict = {}
        self.conf = self.root / "slurm.conf"
        self.log = self.root / "log"
        self.env = dict(os.environ, SLURM_CONF=str(self.conf))
        # Variables of an enclosing Slurm job would leak into sbatch's options.
        for key in list(self.env):
            if key.startswith(("SLURM_", "SBATCH_")) and key != "SLURM_CONF":
                del self.env[key]

    # -- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> "SlurmCluster":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, timeout: float = 60) -> None:
        missing = missing_programs()
        if missing:
            raise SlurmError(f"missing {', '.join(missing)}: run scripts/setup.sh (Debian slurm-wlm, munge)")
        atexit.register(self.stop)
        try:
            self._write_files()
            self._spawn("munged", [program("munged"), "--foreground", f"--socket={self.munge_socket}",
                                   f"--key-file={self.root / 'munge-key' / 'munge.key'}",
                                   f"--pid-file={self.root / 'munge-run' / 'munged.pid'}",
                                   f"--seed-file={self.root / 'munge-key' / 'munged.seed'}",
                                   f"--log-file={self.log / 'munged.log'}"])
            self._wait_for(lambda: self.munge_socket.exists(), "munged's socket", timeout)
            self._spawn("slurmctld", [program("slurmctld"), "-D", "-i"])
            self._wait_for(lambda: self.run("scontrol", "ping", check=False).returncode == 0
                           and "UP" in self.run("scontrol", "ping", check=False).stdout, "slurmctld to answer", timeout)
            self._spawn("slurmd", [program("slurmd"), "-D", "-N", "localhost"])
            self._wait_for(self._node_idle, "node localhost to be idle in sinfo", timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Cancel every job, stop the daemons (TERM, then KILL), then kill what is left of
        this cluster's job processes. Safe to call twice."""
        if not self.procs:
            return
        ctld = self.procs.get("slurmctld")
        if ctld is not None and ctld.poll() is None:
            subprocess.run([program("scancel"), "--full", "--user", str(os.getuid())], env=self.env,
                           capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
            self._wait_for(lambda: not self.run("squeue", "-h", check=False).stdout.strip(), None, 15)
        for name in reversed(DAEMONS):
            proc = self.procs.get(name)
            if proc is None:
                continue
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
        self._kill_leftovers()
        self.procs = {}
        for f in getattr(self, "_outs", []):
            f.close()
        self._outs = []
        atexit.unregister(self.stop)

    # -- Slurm commands ----------------------------------------------------------------

    def run(self, *args, check: bool = True, timeout: float = 30, cwd=None) -> subprocess.CompletedProcess:
        proc = subprocess.run([program(args[0]), *map(str, args[1:])], env=self.env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL, cwd=cwd)
        if check and proc.returncode != 0:
            raise SlurmError(f"{' '.join(map(str, args))} exited {proc.returncode}: {proc.stderr.strip()}\n{self.logs()}")
        return proc

    def sbatch(self, *args, cwd=None, env: dict | None = None) -> str:
        """Submit from `cwd` (default: the cluster's folder, so a job without --output
        leaves its slurm-<id>.out there); returns the job id (an array's job id)."""
        full_env = dict(self.env, **(env or {}))
        proc = subprocess.run([program("sbatch"), "--parsable", *map(str, args)], env=full_env, capture_output=True,
                              text=True, timeout=30, stdin=subprocess.DEVNULL, cwd=cwd or self.root)
        if proc.returncode != 0:
            raise SlurmError(f"sbatch {' '.join(map(str, args))} exited {proc.returncode}: {proc.stderr.strip()}")
        return proc.stdout.strip().split(";")[0]

    def queued(self, job: str) -> list:
        """squeue lines `jobid state` of `job` (array tasks as `<job>_<index>`) still queued."""
        out = self.run("squeue", "-h", "-r", "-j", job, "-o", "%i %T", check=False).stdout
        return [line.split() for line in out.splitlines() if line.strip()]

    def wait(self, job: str, timeout: float) -> dict:
        """Wait until no task of `job` is in squeue, then return {array index (or None):
        (state, exit code)} from sacct's completion records. On timeout, cancel the job and
        raise with the queue and the daemons' logs."""
        deadline = time.time() + timeout
        while self.queued(job):
            if time.time() > deadline:
                queue = self.run("squeue", "-r", "-j", job, check=False).stdout
                self.run("scancel", job, check=False)
                raise SlurmError(f"job {job} still queued after {timeout:.0f}s:\n{queue}\n{self.logs()}")
            time.sleep(0.5)
        # The completion record is written as the job leaves the queue; give it a moment.
        while True:
            states = self.completed(job)
            if states or time.time() > deadline:
                return states
            time.sleep(0.2)

    def completed(self, job: str) -> dict:
        """{array index or None: (state, exit code)} of `job`'s finished tasks, from the
        job completion file through `sacct --completion` (no slurmdbd here). sacct -c shows
        array tasks by their own job ids, so the index comes from the record itself."""
        sacct = self.run("sacct", "--completion", "--parsable2", "--noheader", "-o", "JobID,State,ExitCode",
                         check=False).stdout
        by_id = {line.split("|")[0]: line.split("|")[1:] for line in sacct.splitlines() if line.count("|") == 2}
        out = {}
        comp = self.root / "log" / "jobcomp.txt"
        for line in comp.read_text().splitlines() if comp.exists() else []:
            rec = dict(re.findall(r"(\w+)=(\S*)", line))
            array_job, task = rec.get("ArrayJobId"), rec.get("ArrayTaskId")
            if rec.get("JobId") != job and array_job != job:
                continue
            index = int(task) if task not in (None, "", "4294967294") else None
            state, code = by_id.get(rec["JobId"], [rec.get("JobState"), rec.get("ExitCode")])
            out[index] = (state, code)  # later records (a requeue, a resubmission) win
        return out

    def logs(self, tail: int = 40) -> str:
        parts = []
        for path in sorted(self.log.glob("*")) if self.log.exists() else []:
            lines = path.read_text(errors="replace").splitlines()[-tail:]
            parts.append(f"--- {path.name} (last {len(lines)} lines)\n" + "\n".join(lines))
        return "\n".join(parts)

    # -- internals ---------------------------------------------------------------------

    @property
    def munge_socket(self) -> Path:
        return self.root / "munge-run" / "munge.socket"

    def _write_files(self) -> None:
        # munged insists that every folder above its socket is searchable by all.
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        for sub, mode in (("munge-key", 0o700), ("munge-run", 0o755), ("log", 0o755), ("state", 0o700),
                          ("spool", 0o755)):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
            os.chmod(self.root / sub, mode)
        key = self.root / "munge-key" / "munge.key"
        key.write_bytes(os.urandom(1024))
        os.chmod(key, 0o400)
        self.conf.write_text(slurm_conf(self.root, self.munge_socket, self.cpus, self.def_mem_per_cpu))

    def _spawn(self, name: str, cmd: list) -> None:
        # Own session (process group) each, so stop() can signal a daemon and its helpers.
        out = open(self.log / f"{name}.out", "wb")
        self._outs = getattr(self, "_outs", []) + [out]
        self.procs[name] = subprocess.Popen(cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.root)

    def _wait_for(self, ready, what: str | None, timeout: float) -> None:
        deadline = time.time() + timeout
        while True:
            try:
                if ready():
                    return
            except (subprocess.SubprocessError, OSError):
                pass
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if what is None and time.time() > deadline:
                return
            if dead or time.time() > deadline:
                why = f"{', '.join(dead)} exited" if dead else f"timed out after {timeout:.0f}s"
                raise SlurmError(f"waiting for {what}: {why}\n{self.logs()}")
            time.sleep(0.25)

    def _node_idle(self) -> bool:
        return self.run("sinfo", "-h", "-N", "-o", "%T", check=False).stdout.strip() == "idle"

    def _kill_leftovers(self) -> None:
        """slurmstepd and job processes outlive slurmd; they carry this cluster's
        SLURM_CONF (slurmd's environment, passed on to jobs), which names them as ours."""
        marker = f"SLURM_CONF={self.conf}".encode()
        for _ in range(3):
            found = False
            for pid_dir in Path("/proc").glob("[0-9]*"):
                pid = int(pid_dir.name)
                if pid == os.getpid():
                    continue
                try:
                    env = (pid_dir / "environ").read_bytes().split(b"\0")
                except OSError:
                    continue
                if marker in env:
                    found = True
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            if not found:
                return
            time.sleep(0.5)
