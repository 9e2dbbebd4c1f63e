"""Cheap resume (issue 18, must-show 2): kill -9 ten times, resume, and count the reads.

Source: a 32x512x512 uint16 multi-page TIFF (16 MiB, gradient + noise: no all-fill
object), `--chunks 16 --shards 32` (NGFF 0.5): 256 shards at level 0, five levels; or
`--ngff 0.4 --chunks 32`: 256 plain chunks at level 0, kept on resume by their size
against the level's chunk manifest, not decoded.
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
# 0.4 has no shards: 32^3 chunks, so level 0 holds 256 objects as with 0.5
LAYOUT_V2 = ["--chunks", "32", "--jobs", "2", "--memory", "4MiB"]
KILLS = 10
TRACE = re.compile(r"^tessera-trace: read level (\d+) origin ([\d,]+) shape ([\d,]+)$")
SHARD = re.compile(r"^c((?:/\d+)+)$")  # 0.5: c/z/y/x
CHUNK = re.compile(r"^(\d+(?:/\d+)*)$")  # 0.4: z/y/x (nested)


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
    """(shape, object shape, cumulative factors) of each level of the reference output."""
    import json

    levels, i = [], 0
    while (ref / str(i)).is_dir():
        if (ref / str(i) / "zarr.json").exists():
            meta = json.loads((ref / str(i) / "zarr.json").read_text())
            levels.append((tuple(meta["shape"]), tuple(meta["chunk_grid"]["configuration"]["chunk_shape"])))
        else:
            meta = json.loads((ref / str(i) / ".zarray").read_text())
            levels.append((tuple(meta["shape"]), tuple(meta["chunks"])))
        i += 1
    out, cumulative = [], (1,) * len(SHAPE)
    for i, (shape, shard) in enumerate(levels):
        if i > 0:
            cumulative = tuple(c * (2 if s < p else 1) for c, s, p in zip(cumulative, shape, levels[i - 1][0]))
        out.append((shape, shard, cumulative))
    return out


def manifest_lines(ldir: Path) -> dict | None:
    """Key → size from a level's chunk manifest batches, read in name order (a later line
    wins; a line that is not "key size" is ignored); None when there is no batch."""
    folder = ldir / ".tessera-manifest"
    batches = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    if not batches:
        return None
    sizes = {}
    for b in batches:
        for line in b.read_text().splitlines():
            key, _, size = line.rpartition(" ")
            if key and size.isdigit():
                sizes[key] = int(size)
    return sizes


def missing_shards(out: Path, layout: list) -> list:
    """Per level, the grid indices of shards that are not (visibly) stored. A plain chunk
    (0.4) counts as stored only when its level's manifest records its size, as a resume
    keeps it only then: a kill loses the manifest's unwritten batch, whose chunks are
    redone (with no manifest at all, stored chunks are decoded and kept)."""
    result = []
    for i, (shape, shard, _) in enumerate(layout):
        stored = set()
        ldir = out / str(i)
        if ldir.is_dir():
            recorded = manifest_lines(ldir)
            for rel in tc.visible_files(ldir):
                m = SHARD.match(rel) or CHUNK.match(rel)
                if m and CHUNK.match(rel) and recorded is not None \
                        and recorded.get(f"{i}/{rel}") != (ldir / rel).stat().st_size:
                    continue
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
        # A run that ended just as the delay ran out was not killed: it finished.
        return proc.returncode == -signal.SIGKILL, proc.returncode, err.decode(errors="replace")


@pytest.mark.slow
@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
def test_kill_ten_times_resume_reads_only_missing(ngff, tessera_bin, run_convert, tmp_path):
    seed = int(os.environ.get("TESSERA_KILL_SEED", "1818"))
    rng = random.Random(seed)
    src = tmp_path / "volume.tif"
    make_source(src)
    env = dict(os.environ, TESSERA_TRACE_READS="1")

    def cmd(out, *extra):
        layout = LAYOUT if ngff == "0.5" else ["--ngff", "0.4", *LAYOUT_V2]
        return [str(tessera_bin), "convert", str(src), str(out), *layout, *extra]

    # 1. the uninterrupted reference, and every block of the source
    ref = tmp_path / "ref.ome.zarr"
    t0 = time.monotonic()
    killed, rc, err = run(cmd(ref), None, env)
    duration = time.monotonic() - t0
    assert rc == 0, f"reference conversion failed: {err[-2000:]}"
    blocks = reads(err)
    assert len(blocks) == len(set(blocks)) >= 16, f"expected many distinct level-0 blocks, got {len(blocks)}"
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


def plain_chunk_reference(tessera_bin, tmp_path: Path) -> tuple:
    """A 0.4 (plain-chunk) source, its convert arguments, a finished reference output and
    how long that conversion took (s)."""
    src = tmp_path / "volume.tif"
    make_source(src)
    args = ["--ngff", "0.4", *LAYOUT_V2]
    ref = tmp_path / "ref.ome.zarr"
    t0 = time.monotonic()
    proc = subprocess.run([str(tessera_bin), "convert", str(src), str(ref), *args], capture_output=True, text=True,
                          timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return src, args, ref, time.monotonic() - t0


def test_plain_chunks_kept_by_manifest(tessera_bin, run_convert, tmp_path):
    """0.4 (plain chunks): a resume keeps a stored chunk whose manifest line gives its
    size (not rewritten), redoes one with no line and one whose size differs from its
    line, and ignores a torn last line; the result is byte-identical to a clean run.
    The manifest is a folder of batch objects read in name order (a later line wins)."""
    src, args, ref, duration = plain_chunk_reference(tessera_bin, tmp_path)
    assert not (ref / "0" / ".tessera-manifest").exists(), "manifest left behind by a finished run"
    t0 = time.monotonic()
    out = tmp_path / "out.ome.zarr"
    manifest = out / "0" / ".tessera-manifest"
    # kill once at least three level-0 chunks have landed and been recorded: at shares of
    # the reference's time, so a faster disk or machine still kills mid-run
    for delay in (duration * f for f in (0.5, 0.35, 0.65, 0.25, 0.8, 0.45, 0.15, 0.9)):
        shutil.rmtree(out, ignore_errors=True)
        killed, rc, err = run([str(tessera_bin), "convert", str(src), str(out), *args], delay, os.environ.copy())
        batches = sorted(manifest.iterdir()) if manifest.is_dir() else []
        lines = [ln for b in batches for ln in b.read_text().splitlines()]
        if killed and len(lines) >= 3 and not (out / "zarr.json").exists() and not (out / ".zattrs").exists():
            break
    else:
        pytest.skip(f"no kill left three recorded chunks (reference {time.monotonic() - t0:.1f}s)")
    recorded = {k: int(v) for k, v in (ln.rsplit(" ", 1) for ln in lines)}
    chunks = sorted(k for k in recorded if recorded[k] > 0 and (out / k).is_file())[:3]
    kept, unrecorded, cut = (out / k for k in chunks)
    # no line for `unrecorded`; `cut` loses its tail (its line keeps the old size); a torn line
    # the batches are replaced by two: the edited lines, then a later batch whose line for
    # `kept` gives a wrong size, overridden by a still later batch with the right one
    for b in batches:
        b.unlink()
    (manifest / "0000000000000001-0000000001-00000000").write_text(
        "".join(f"{k} {v}\n" for k, v in recorded.items() if k != chunks[1]) + "0/0/")
    (manifest / "0000000000000001-0000000001-00000001").write_text(f"{chunks[0]} {recorded[chunks[0]] + 1}\n")
    (manifest / "0000000000000002-0000000001-00000000").write_text(f"{chunks[0]} {recorded[chunks[0]]}\n")
    cut.write_bytes(cut.read_bytes()[:-5])
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (kept, unrecorded, cut)}
    killed, rc, err = run([str(tessera_bin), "convert", str(src), str(out), *args, "--resume"], None, os.environ.copy())
    assert rc == 0, err[-2000:]
    assert (kept.stat().st_ino, kept.stat().st_mtime_ns) == before[kept], f"{chunks[0]} (recorded) was rewritten"
    assert (unrecorded.stat().st_ino, unrecorded.stat().st_mtime_ns) != before[unrecorded], \
        f"{chunks[1]} (no manifest line) was kept"
    assert (cut.stat().st_ino, cut.stat().st_mtime_ns) != before[cut], f"{chunks[2]} (size differs) was kept"
    assert_identical(out, ref, "after --resume")


def test_resume_over_an_older_append_only_manifest_file(tessera_bin, tmp_path):
    """An output killed by an older Tessera holds its level's manifest as one file
    `0/.tessera-manifest` where this one writes a folder of batches: a resume replaces the
    file (its chunks checked by decoding) and finishes byte-identical, leaving neither."""
    src, args, ref, _ = plain_chunk_reference(tessera_bin, tmp_path)
    out = tmp_path / "out.ome.zarr"
    shutil.copytree(ref, out)
    (out / ".zattrs").unlink()  # not finished: the group's NGFF metadata is written last
    chunk = next(p for p in sorted((out / "0").rglob("*")) if p.is_file() and not p.name.startswith("."))
    (out / "0" / ".tessera-manifest").write_text(f"{chunk.relative_to(out)} {chunk.stat().st_size}\n")
    proc = subprocess.run([str(tessera_bin), "convert", str(src), str(out), *args, "--resume"], capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not (out / "0" / ".tessera-manifest").exists(), "manifest left behind by a finished run"
    assert_identical(out, ref, "after --resume over an older manifest file")
