"""One way to measure a tool's process, for every section.

Peak RSS must be measured on a process that did not start as a copy of the driver: a child
spawned from the driver inherits its high-water mark (Linux folds the old mm's peak into
ru_maxrss at exec, and the driver holds numpy and a 64 MiB buffer), which would floor every
reading at ~90 MiB. So each tool runs under a tiny launcher (python -I -S, ~9 MiB): it
spawns the tool, samples the tool's RssAnon every 10 ms, reaps it with wait4 and reports
the tool's own rusage (ru_maxrss, user and system CPU, major faults) and its wall time
from spawn to exit. Readings below the launcher's ~9 MiB would read as ~9 MiB; every tool
here is well above that.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LAUNCHER = r"""
import os, sys, time
result, cmd = sys.argv[1], sys.argv[2:]
started = time.monotonic()
pid = os.posix_spawnp(cmd[0], cmd, os.environ)
import json, threading
peak = [0]
done = threading.Event()
def sample():
    path = "/proc/%d/status" % pid
    while not done.is_set():
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        peak[0] = max(peak[0], int(line.split()[1]))
                        break
        except (OSError, ValueError):
            return
        done.wait(0.01)
t = threading.Thread(target=sample, daemon=True)
t.start()
_, status, usage = os.wait4(pid, 0)
wall = time.monotonic() - started
done.set()
t.join()
with open(result, "w") as f:
    json.dump({"status": status, "wall": wall, "maxrss_kib": usage.ru_maxrss, "peak_anon_kib": peak[0],
               "user_s": usage.ru_utime, "sys_s": usage.ru_stime, "major_faults": usage.ru_majflt}, f)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_measured(cmd, timeout, env=None) -> dict:
    """Runs `cmd` under the launcher in a session of its own (a timeout or Ctrl-C kills the
    launcher and the tool together). Returns rc, stdout, stderr, wall (the tool's process
    from spawn to exit, seconds), maxrss_kib (its ru_maxrss), peak_anon_kib (sampled) and
    `time`: user_s, sys_s, cpu_percent (user+sys over wall, as GNU time prints it),
    major_faults, and exit_status or signal."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".json") as result:
        started = time.monotonic()
        p = subprocess.Popen([sys.executable, "-I", "-S", "-c", LAUNCHER, result.name] + list(cmd),
                             stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True, env=env)
        timed_out = False
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        except KeyboardInterrupt:
            os.killpg(p.pid, 9)
            p.wait()
            raise
        if timed_out:
            os.killpg(p.pid, 9)
            p.wait()
        outer_wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        try:
            info = json.loads(Path(result.name).read_text())
        except (OSError, ValueError):
            info = {}
    if timed_out:
        stderr += f"\n(killed by the bench harness after {timeout} s)"
    wall = info.get("wall", outer_wall)
    times = {}
    if "user_s" in info:
        times = {"user_s": info["user_s"], "sys_s": info["sys_s"], "major_faults": info["major_faults"],
                 "cpu_percent": int((info["user_s"] + info["sys_s"]) * 100 / wall) if wall > 0 else 0}
        status = info["status"]
        if os.WIFSIGNALED(status):
            times["signal"] = os.WTERMSIG(status)
        else:
            times["exit_status"] = os.waitstatus_to_exitcode(status)
    return {"rc": p.returncode, "stdout": stdout, "stderr": stderr, "wall": wall,
            "maxrss_kib": info.get("maxrss_kib", 0), "peak_anon_kib": info.get("peak_anon_kib", 0), "time": times}


def last_json_line(text):
    """The last line of a child's stdout that parses as a JSON object (its result), or None."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None


def children(pid) -> list:
    """The direct children of `pid` (its main thread's), from /proc."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def proc_status_kib(pid, field) -> int:
    """A kB field of /proc/PID/status (VmRSS, VmHWM, RssAnon...), 0 if the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def proc_cpu_seconds(pid) -> float:
    """utime + stime of one process, seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def machine_task_cpu_seconds() -> float:
    """user + nice + system time of all CPUs (/proc/stat), seconds: what processes were
    charged, without interrupt time (which the kernel does not charge to processes)."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return (int(fields[1]) + int(fields[2]) + int(fields[3])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def warm(path, block=64 * 2 ** 20) -> None:
    """Reads a file (or every file under a folder) once, so every tool starts with it in the
    page cache."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    buf = bytearray(block)
    for f in files:
        with open(f, "rb", buffering=0) as fh:
            while fh.readinto(buf):
                pass
