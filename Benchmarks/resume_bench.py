#!/usr/bin/env python3
"""Cheap resume (issue 18, must-show 2): what `tessera convert --resume` costs.

    python Benchmarks/resume_bench.py [--small] [--tessera PATH] [--jobs N] [--seed S] [--keep]

On the 4 GiB BigTIFF of the convert section's memory check (512x2048x2048 uint16, tiled;
--small: 64x512x512), NGFF 0.5 with the default layout:
  1. first run: a full conversion (wall time, blocks read from the source);
  2. second run: `--resume` of the finished output — must take < 5 % of the first run
     (it reads no pixel and lists no object: the image's metadata says complete);
  3. kill + resume: a fresh conversion SIGKILLed at a seeded random moment (30..70 % of
     the first run), then `--resume`: its wall time and the source blocks it read
     (TESSERA_TRACE_READS=1), and every file byte-identical to the first run's output.
Results go to Benchmarks/.cache/last-resume-bench.json; the exit status is 1 if a goal
is missed or an output differs.
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from convert_bench import MEMCHECK_SHAPE, MEMCHECK_SMALL_SHAPE, ensure_tiff  # noqa: E402
from harness.process import warm  # noqa: E402

SECOND_RUN_GOAL = 0.05


def run(cmd, kill_after=None, timeout=3600):
    """(wall seconds, return code, blocks read) of one tessera run, optionally SIGKILLed."""
    env = dict(os.environ, TESSERA_TRACE_READS="1")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    try:
        _, err = proc.communicate(timeout=kill_after if kill_after is not None else timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
    wall = time.monotonic() - t0
    text = err.decode(errors="replace")
    reads = sum(1 for line in text.splitlines() if line.startswith("tessera-trace: read "))
    if proc.returncode not in (0, -signal.SIGKILL):
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}): {text[-1500:]}")
    return wall, proc.returncode, reads


def digests(root: Path) -> dict:
    """Relative path -> sha256 of every file but the output's mark."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != ".tessera-output.json":
            out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="64x512x512 instead of the 4 GiB input")
    ap.add_argument("--tessera", type=Path, default=REPO / ".build" / "release" / "tessera")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--keep", action="store_true", help="keep the outputs (their path is printed)")
    ap.add_argument("--json", type=Path, default=HERE / ".cache" / "last-resume-bench.json")
    a = ap.parse_args(argv)
    shape = MEMCHECK_SMALL_SHAPE if a.small else MEMCHECK_SHAPE
    tiff, _ = ensure_tiff(shape)
    warm(tiff)
    work = HERE / ".cache" / "resume-bench"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    first, killed = work / "first.ome.zarr", work / "killed.ome.zarr"

    def cmd(out, *extra):
        return [str(a.tessera), "convert", str(tiff), str(out), "--jobs", str(a.jobs), *extra]

    os.sync()
    t_first, _, blocks = run(cmd(first))
    os.sync()
    t_second, _, second_reads = run(cmd(first, "--resume"))
    delay = random.Random(a.seed).uniform(0.3, 0.7) * t_first
    os.sync()
    t_killed, rc, killed_reads = run(cmd(killed), kill_after=delay)
    t_resume, _, resume_reads = run(cmd(killed, "--resume"))
    same = digests(killed) == digests(first)
    ratio = t_second / t_first
    result = {"shape": list(shape), "tiff": str(tiff), "first_s": t_first, "blocks": blocks,
              "second_s": t_second, "second_reads": second_reads, "second_ratio": ratio,
              "kill_after_s": delay, "killed": rc == -signal.SIGKILL, "killed_reads": killed_reads,
              "resume_s": t_resume, "resume_reads": resume_reads, "identical": same,
              "ok": ratio < SECOND_RUN_GOAL and second_reads == 0 and same}
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(result, indent=2))
    print(f"resume  {'x'.join(map(str, shape))} uint16 ({tiff.stat().st_size / 2**20:.0f} MiB), NGFF 0.5, {a.jobs} jobs")
    print(f"  first run              {t_first:8.2f} s   {blocks} source blocks read")
    print(f"  second run (--resume)  {t_second:8.2f} s   {second_reads} blocks read   "
          f"{100 * ratio:.2f} % of the first (goal < {100 * SECOND_RUN_GOAL:.0f} %)")
    print(f"  killed after           {delay:8.2f} s   {killed_reads} blocks read"
          + ("" if rc == -signal.SIGKILL else " (finished before the kill)"))
    print(f"  resume after the kill  {t_resume:8.2f} s   {resume_reads} of {blocks} blocks read   "
          f"output {'byte-identical' if same else 'DIFFERS'}")
    if a.keep:
        print(f"  outputs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
