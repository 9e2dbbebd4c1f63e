"""Cheap resume (issue 18, must-show 2): kill -9 ten times, resume, and count the reads.

Source: a 32x512x512 uint16 multi-page TIFF (16 MiB, gradient + noise: no all-fill
object), `--chunks 16 --shards 32` (NGFF 0.5): 256 shards at level 0, five levels.
`--jobs 2 --memory 4MiB` cut level 0 into many small read blocks (64), so a resume has
something to leave out. `TESSERA_TRACE_READS=1` makes tessera name every source read
on stderr ("tessera-trace: read level L origin o shape s").

  1. An uninterrupted run is the reference; its trace lists every block of the source.
  2. A chain of runs, each SIGKILLed at a seeded random moment (10 kills in all): the
     first a plain convert, the next ones `--resume` of what the kill left. Before each
     resume the test computes, from the visible objects alone, which blocks are needed:
     those that intersect a missing level-0 shard. (Missing shards of later levels are
     rebuilt from the stored level below, not from the source: the top level's single
     shard depends on every source pixel, so "every block some missing object needs"
     is the whole source until the very end of a run — seen: 32 of 32 after every kill.)
     A resume that is killed read only needed blocks; a resume that finishes read
     exactly the needed blocks, each once.
  3. The output of every finished resume is byte-identical to the reference: every
     visible file (shards, array and group zarr.json with the omero windows) and no
     other; no bookkeeping is left behind but the output's mark.
  4. `--resume` over the finished output reads nothing, rewrites nothing and says
     "already complete".
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

import convert_inputs as ci
import tessera_conformance as tc

SHAPE = (32, 512, 512)
LAYOUT = ["--chunks", "16", "--shards", "32", "--jobs", "2", "--memory", "4MiB"]
KILLS = 10
TRACE = re.compile(r"^tessera-trace: read level (\d+) origin ([\d,]+) shape ([\d,]+)$")
SHARD = re.compile(r"^c((?:/\d+)+)$")


def make_source(path: Path) -> None:
    z = np.arange(SHAPE[0], dtype=np.uint16)[:, None, None] * 500
    y = np.arange(SHAPE[1], dtype=np.uint16)[None, :, None] * 40
    x = np.arange(SHAPE[2], dtype=np.uint16)[None, None, :] * 9
    noise = np.random.default_rng(18).integers(0, 4096, size=SHAPE, dtype=np.uint16)
    ci.write_tiff_pages(path, z + y + x + noise)


def reads(stderr: str) -> list:
    """(level, origin, shape) of every source read traced on stderr, in order."""
    out = []
    for line in stderr.splitlines():
        m = TRACE.match(line)
        if m:
            out.append((int(m.group(1)), tuple(map(int, m.group(2).split(","))), tuple(map(int, m.group(3).split(",")))))
    return out


def level_layout(ref: Path) -> list:
    """(shape, shard shape, cumulative factors) of each level of the reference output."""
    import json

    levels, i = [], 0
    while (ref / str(i) / "zarr.json").exists():
        meta = json.loads((ref / str(i) / "zarr.json").read_text())
        levels.append((tuple(meta["shape"]), tuple(meta["chunk_grid"]["configuration"]["chunk_shape"])))
        i += 1
    out, cumulative = [], (1,) * len(SHAPE)
    for i, (shape, shard) in enumerate(levels):
        if i > 0:
            cumulative = tuple(c * (2 if s < p else 1) for c, s, p in zip(cumulative, shape, levels[i - 1][0]))
        out.append((shape, shard, cumulative))
    return out


def missing_shards(out: Path, layout: list) -> list:
    """Per level, the grid indices of shards that are not (visibly) stored."""
    result = []
    for i, (shape, shard, _) in enumerate(layout):
        stored = set()
        ldir = out / str(i)
        if ldir.is_dir():
            for rel in tc.visible_files(ldir):
                m = SHARD.match(rel)
                if m:
                    stored.add(tuple(int(v) for v in m.group(1).strip("/").split("/")))
        grid = [-(-s // c) for s, c in zip(shape, shard)]
        result.append({idx for idx in np.ndindex(*grid)} - stored)
    return result


def needed_blocks(blocks: list, missing: list, layout: list) -> set:
    """Level-0 blocks that intersect a missing level-0 shard."""
    (lshape, shard, _), gone = layout[0], missing[0]
    needed = set()
    for block in blocks:
        _, origin, shape = block
        hi = [min(o + s, n) for o, s, n in zip(origin, shape, lshape)]
        first = [a // g for a, g in zip(origin, shard)]
        last = [(b - 1) // g for b, g in zip(hi, shard)]
        touched = np.ndindex(*[b - a + 1 for a, b in zip(first, last)])
        if any(tuple(a + d for a, d in zip(first, delta)) in gone for delta in touched):
            needed.add(block)
    return needed


def all_files(root: Path) -> dict:
    """Relative path -> bytes of every file but the output's mark and temporaries."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            rel = p.relative_to(root).as_posix()
            if rel == ".tessera-output.json":
                continue
            out[rel] = p.read_bytes()
    return out


def assert_identical(out: Path, ref: Path, label: str) -> None:
    got, want = all_files(out), all_files(ref)
    assert sorted(got) == sorted(want), (f"{label}: files differ from the uninterrupted run: "
                                         f"extra {sorted(set(got) - set(want))[:5]}, "
                                         f"missing {sorted(set(want) - set(got))[:5]}")
    differing = [k for k in want if got[k] != want[k]]
    assert not differing, f"{label}: {len(differing)} file(s) differ from the uninterrupted run: {differing[:5]}"


def run(cmd, delay: float | None, env):
    """Run `cmd`; SIGKILL it after `delay` s. Returns (killed, returncode, stderr)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    try:
        _, err = proc.communicate(timeout=delay if delay is not None else 600)
        return False, proc.returncode, err.decode(errors="replace")
    except subprocess.TimeoutExpired:
        if delay is None:
            proc.kill()
            proc.communicate()
            raise
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
        return True, proc.returncode, err.decode(errors="replace")


@pytest.mark.slow
def test_kill_ten_times_resume_reads_only_missing(tessera_bin, run_convert, tmp_path):
    seed = int(os.environ.get("TESSERA_KILL_SEED", "1818"))
    rng = random.Random(seed)
    src = tmp_path / "volume.tif"
    make_source(src)
    env = dict(os.environ, TESSERA_TRACE_READS="1")

    def cmd(out, *extra):
        return [str(tessera_bin), "convert", str(src), str(out), *LAYOUT, *extra]

    # 1. the uninterrupted reference, and every block of the source
    ref = tmp_path / "ref.ome.zarr"
    t0 = time.monotonic()
    killed, rc, err = run(cmd(ref), None, env)
    duration = time.monotonic() - t0
    assert rc == 0, f"reference conversion failed: {err[-2000:]}"
    blocks = reads(err)
    assert len(blocks) == len(set(blocks)) >= 32, f"expected many distinct level-0 blocks, got {len(blocks)}"
    layout = level_layout(ref)
    assert len(layout) >= 4, layout
    assert not [p.name for p in ref.iterdir() if p.name.startswith(".tessera-histogram")], "bookkeeping left behind"

    # 2./3. a chain of killed runs and resumes
    out = tmp_path / "out.ome.zarr"
    kills, finished_resumes, partial_reads, skipped_some = 0, 0, 0, False
    resume = False
    while kills < KILLS:
        label = f"[seed {seed}, reference {duration:.2f}s, kill {kills + 1}]"
        missing = missing_shards(out, layout) if resume else None
        needed = needed_blocks(blocks, missing, layout) if resume else set(blocks)
        skipped_some |= len(needed) < len(blocks)
        # The run's length: a start (listing, checks) plus the share of blocks it reads.
        expected = duration * (0.3 + 0.7 * len(needed) / len(blocks))
        delay = rng.uniform(0.05, 0.95) * expected
        killed, rc, err = run(cmd(out, "--resume") if resume else cmd(out), delay, env)
        got = reads(err)
        print(f"{label}: {'--resume' if resume else 'convert'} after {delay:.2f}s "
              f"{'killed' if killed else 'finished'}, read {len(got)} blocks, needed {len(needed)} of {len(blocks)}")
        if resume:
            assert len(got) == len(set(got)), f"{label}: a block was read twice: {got}"
            extra = set(got) - needed
            assert not extra, (f"{label}: --resume read {len(extra)} block(s) whose outputs all exist: "
                               f"{sorted(extra)[:3]} (needed {len(needed)} of {len(blocks)})")
        if killed:
            assert rc == -signal.SIGKILL, rc
            kills += 1
            partial_reads += resume and len(got) < len(blocks)
            resume = True
            continue
        assert rc == 0, f"{label}: run failed (rc {rc}): {err[-2000:]}"
        if resume:
            assert set(got) == needed, (f"{label}: --resume read {len(got)} blocks, the missing outputs need "
                                        f"{len(needed)}: not read {sorted(needed - set(got))[:3]}")
            finished_resumes += 1
        assert_identical(out, ref, f"{label} finished")
        shutil.rmtree(out)  # finished before the kill: start a new chain
        resume = False

    # the chain's last resume runs to the end
    label = f"[seed {seed}, after {KILLS} kills]"
    missing = missing_shards(out, layout)
    needed = needed_blocks(blocks, missing, layout)
    killed, rc, err = run(cmd(out, "--resume"), None, env)
    assert rc == 0, f"{label}: --resume failed (rc {rc}): {err[-2000:]}"
    got = reads(err)
    assert len(got) == len(set(got)) and set(got) == needed, (
        f"{label}: --resume read {len(got)} blocks, the missing outputs need {len(needed)}")
    assert_identical(out, ref, label)

    # 4. a second run over the finished output: no pixel work, nothing rewritten
    objects = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in out.rglob("*") if p.is_file()}
    killed, rc, err = run(cmd(out, "--resume"), None, env)
    assert rc == 0, f"--resume of a finished output failed: {err[-2000:]}"
    assert reads(err) == [], f"--resume of a finished output read the source: {reads(err)[:3]}"
    assert "already complete" in err, err[-2000:]
    rewritten = [p for p, m in objects.items() if (p.stat().st_mtime_ns, p.stat().st_ino) != m]
    assert not rewritten, f"--resume of a finished output rewrote files: {rewritten[:5]}"
    assert_identical(out, ref, "after a second --resume")
    assert partial_reads > 0, "no resume was killed while reading; the test proved little"
    assert skipped_some, "no resume left a block unread; the test proved little"
