"""kill -9 in the middle of `tessera convert`, then --resume / --overwrite.

Source: a 64x512x512 uint16 multi-page TIFF (gradient + noise, 32 MiB; see SHAPE),
`--chunks 32` (0.5: default 128^3 shards clamped to 64 on z), five levels.

  1. An uninterrupted conversion is the reference; its level 0 equals the TIFF and
     level 1.. equal the numpy reference pyramid.
  2. A second conversion is SIGKILLed at a random moment (uniform in 10..90% of
     the reference run's duration; the seed is in every failure message). Right
     after the kill nothing is marked complete (no multiscales anywhere) and every
     visible chunk/shard object under the level arrays decodes to exactly the
     reference pixels of its region (chunks/shards are renamed into place).
  3. `--resume` exits 0 and every level is identical to the reference, and so is
     the group metadata.
  4. Another killed conversion followed by `--overwrite` gives the same result.
  5. `--resume` over a complete output is a no-op that exits 0.
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

import convert_checks as cc
import convert_inputs as ci
import reference_pyramid as rp
import tessera_conformance as tc

# 64x512x512 uint16 (32 MiB) takes ~5 s with a debug build; a bigger volume can be
# asked for with TESSERA_KILL_SHAPE=64,1024,1024 (z a multiple of 8).
SHAPE = tuple(int(v) for v in os.environ.get("TESSERA_KILL_SHAPE", "64,512,512").split(","))
CHUNK = 32  # --chunks 32: default shards 128^3 -> 16 shards (0.5) / 256 chunks (0.4) at level 0
LEVEL_SHAPES = [SHAPE]
while LEVEL_SHAPES[-1][1] > CHUNK or LEVEL_SHAPES[-1][2] > CHUNK:
    LEVEL_SHAPES.append(tuple(-(-n // 2) for n in LEVEL_SHAPES[-1]))
KEY_V3 = re.compile(r"^c((?:/\d+)+)$")
KEY_V2 = re.compile(r"^(\d+(?:/\d+)*)$")


def make_source(path: Path) -> np.ndarray:
    z = np.arange(SHAPE[0], dtype=np.uint16)[:, None, None] * 300
    y = np.arange(SHAPE[1], dtype=np.uint16)[None, :, None] * 20
    x = np.arange(SHAPE[2], dtype=np.uint16)[None, None, :] * 7
    noise = np.random.default_rng(17).integers(0, 4096, size=SHAPE, dtype=np.uint16)
    data = z + y + x + noise  # < 65536, no wrap-around
    import tifffile

    with tifffile.TiffWriter(path) as tw:
        for plane in data:
            tw.write(plane, photometric="minisblack", metadata=None, software=ci.SOFTWARE)
    return data


def reference_levels(data: np.ndarray) -> list:
    """The numpy reference pyramid, level 1 computed in z-slabs (memory)."""
    assert SHAPE[0] % 8 == 0
    slabs = [rp.downsample(data[z:z + 8], "zyx", "zyx", "mean") for z in range(0, SHAPE[0], 8)]
    levels = [data, np.concatenate(slabs)]
    while len(levels) < len(LEVEL_SHAPES):
        levels.append(rp.downsample(levels[-1], "zyx", "zyx", "mean"))
    assert [lv.shape for lv in levels] == LEVEL_SHAPES
    return levels


def visible_keys(level_dir: Path, ngff: str) -> list:
    """(relative path, grid index) of every visible chunk/shard object of a level."""
    out = []
    for rel in tc.visible_files(level_dir):
        m = (KEY_V3 if ngff == "0.5" else KEY_V2).match(rel)
        if m:
            idx = tuple(int(i) for i in m.group(1).strip("/").split("/"))
            out.append((rel, idx))
    return out


def check_killed_state(out: Path, ref: Path, ngff: str, label: str) -> int:
    """Nothing marked complete; every visible object decodes to the reference.
    Returns how many visible objects were checked."""
    import zarr

    marked = cc.any_multiscales(out)
    assert marked == [], f"{label}: output marked complete right after the kill: {marked}"
    n = 0
    for i in range(len(LEVEL_SHAPES)):
        ldir = out / str(i)
        if not ldir.is_dir():
            continue
        keys = visible_keys(ldir, ngff)
        if not keys:
            continue
        fmt, meta = cc.array_meta(ldir)  # level metadata is written first
        grid = meta["chunk_grid"]["configuration"]["chunk_shape"] if fmt == 3 else meta["chunks"]
        arr = zarr.open_array(str(ldir), mode="r", zarr_format=fmt)
        want = zarr.open_array(str(ref / str(i)), mode="r", zarr_format=fmt)
        for rel, idx in keys:
            region = tuple(slice(j * g, min((j + 1) * g, s)) for j, g, s in zip(idx, grid, meta["shape"]))
            try:
                got = arr[region]
            except Exception as exc:  # a partially written object is a bug
                raise AssertionError(f"{label}: level {i} object {rel} visible after the kill does not decode: "
                                     f"{exc!r}") from None
            tc.assert_pixels_equal(got, want[region], f"{label}: level {i} object {rel} written before the kill")
            n += 1
    return n


def assert_same_as_reference(out: Path, ref: Path, ngff: str, label: str) -> None:
    fmt_ref, attrs_ref = cc.group_attrs(ref)
    fmt, attrs = cc.group_attrs(out)
    assert attrs == attrs_ref, f"{label}: group attributes differ from the uninterrupted run"
    for i in range(len(LEVEL_SHAPES)):
        a = cc.read_level_zarr(out / str(i))
        b = cc.read_level_zarr(ref / str(i))
        tc.assert_pixels_equal(a, b, f"{label}: level {i} vs uninterrupted run")
        assert cc.array_meta(out / str(i)) == cc.array_meta(ref / str(i)), f"{label}: level {i} metadata differs"
        assert sorted(k for k, _ in visible_keys(out / str(i), ngff)) == \
            sorted(k for k, _ in visible_keys(ref / str(i), ngff)), f"{label}: level {i} objects differ"
    assert not (out / str(len(LEVEL_SHAPES))).exists()


def run_and_kill(cmd, delay: float, log: Path):
    """Start `cmd`, SIGKILL it after `delay` s. Returns (killed, returncode)."""
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
            return False, proc.returncode
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            # One that ended just as the delay ran out was not killed: it finished.
            return proc.returncode == -signal.SIGKILL, proc.returncode


def kill_somewhere(cmd, out: Path, duration: float, rng: random.Random, log: Path, label: str) -> float:
    """SIGKILL a conversion at a random moment; retry earlier if it finished first."""
    lo, hi = 0.1, 0.9
    for _attempt in range(4):
        if out.exists():
            shutil.rmtree(out)
        delay = rng.uniform(lo, hi) * duration
        killed, rc = run_and_kill(cmd, delay, log)
        if killed:
            assert rc == -signal.SIGKILL, rc
            return delay
        assert rc == 0, f"{label}: conversion failed before the kill: rc={rc} {log.read_text()[-2000:]}"
        hi = max(lo, hi / 2)
        lo /= 2
    pytest.skip(f"{label}: the conversion always finished before the kill (reference took {duration:.2f}s)")


@pytest.mark.slow
@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
def test_kill_resume_overwrite(ngff, tessera_bin, run_convert, tmp_path):
    seed = int(os.environ.get("TESSERA_KILL_SEED", time.time_ns() % 2**32))
    rng = random.Random(seed)
    src = tmp_path / "volume.tif"
    data = make_source(src)
    ngff_args = [] if ngff == "0.5" else ["--ngff", "0.4"]

    def cmd(out, *extra):
        return [str(tessera_bin), "convert", str(src), str(out), "--chunks", str(CHUNK), *ngff_args, *extra]

    # 1. the uninterrupted reference run
    ref = tmp_path / "ref.ome.zarr"
    t0 = time.monotonic()
    proc = subprocess.run(cmd(ref), capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    duration = time.monotonic() - t0
    assert proc.returncode == 0, f"reference conversion failed: {proc.stderr[-2000:]}"
    levels = reference_levels(data)
    for i, lv in enumerate(levels):
        tc.assert_pixels_equal(cc.read_level_zarr(ref / str(i)), lv, f"uninterrupted run level {i} vs numpy")
    del levels

    # 2./3. kill at a random moment, then --resume
    out = tmp_path / "killed.ome.zarr"
    label = f"[seed {seed}, reference {duration:.2f}s]"
    delay = kill_somewhere(cmd(out), out, duration, rng, tmp_path / "kill1.log", label)
    label += f" killed after {delay:.2f}s"
    check_killed_state(out, ref, ngff, label)
    proc = subprocess.run(cmd(out, "--resume"), capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"{label}: --resume failed (rc {proc.returncode}): {proc.stderr[-2000:]}"
    assert_same_as_reference(out, ref, ngff, f"{label} after --resume")

    # 5. --resume over a complete output changes nothing
    objects = [out / str(i) / k for i in range(len(LEVEL_SHAPES)) for k, _ in visible_keys(out / str(i), ngff)]
    before = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in objects}
    proc = subprocess.run(cmd(out, "--resume"), capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"--resume of a complete output failed: {proc.stderr[-2000:]}"
    assert_same_as_reference(out, ref, ngff, "--resume of a complete output")
    rewritten = [p for p, m in before.items() if (p.stat().st_mtime_ns, p.stat().st_ino) != m]
    assert not rewritten, f"--resume of a complete output rewrote chunks: {rewritten[:5]}"
    shutil.rmtree(out)

    # 4. kill again, then --overwrite
    out2 = tmp_path / "overwritten.ome.zarr"
    label2 = f"[seed {seed}, reference {duration:.2f}s]"
    delay = kill_somewhere(cmd(out2), out2, duration, rng, tmp_path / "kill2.log", label2)
    label2 += f" killed after {delay:.2f}s"
    check_killed_state(out2, ref, ngff, label2)
    proc = subprocess.run(cmd(out2, "--overwrite"), capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"{label2}: --overwrite failed (rc {proc.returncode}): {proc.stderr[-2000:]}"
    assert_same_as_reference(out2, ref, ngff, f"{label2} after --overwrite")
