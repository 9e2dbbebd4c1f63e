"""What `--resume` must check before keeping anything (issue 13, items 3, 4 and 5).

A killed conversion is simulated exactly: Tessera writes every level's array metadata
first, chunks/shards as they complete, and the image's group metadata last, so a kill
leaves the levels' metadata, some of their objects and no group metadata. Each test
makes that state from a finished run (group metadata removed, some objects removed),
then resumes it:

  3. with a setting that changes stored bytes (the downsampling method, z
     downsampling): refused, or exactly the result of a clean run with the new
     setting — never a mix;
  4. from another source file of the same shape and dtype, or from the same path
     rewritten: refused, naming the source;
  5. with a stored shard (0.5) or chunk (0.4) cut in half: exit 0 and every level equal
     to a clean run — a damaged object is redone, not kept.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import convert_checks as cc
import convert_inputs as ci
import tessera_conformance as tc
from ngff_layout import image_root

SHAPE = (8, 128, 128)
# --shards 32: 16 shards at level 0 and 4 at level 1, so a kill keeps some of each level.
LAYOUT = ["--chunks", "16", "--shards", "32"]


def source(path: Path, seed: int) -> ci.Source:
    return ci.write_tiff(path, ci.pixels("uint16", SHAPE, seed=seed), "zyx")


def level_dirs(out: Path) -> list:
    img = image_root(out)
    return sorted((p for p in img.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))


def objects(level: Path) -> list:
    """Chunk/shard objects of a level array (v3 c/… keys or v2 nested keys)."""
    return [level / rel for rel in tc.visible_files(level) if rel not in (".zarray", ".zattrs", "zarr.json")]


def simulate_kill(out: Path, keep_fraction: float = 0.5) -> None:
    """The state a SIGKILL leaves: no image group metadata, part of each level's objects."""
    img = image_root(out)
    for name in ("zarr.json", ".zattrs", ".zgroup"):
        if (img / name).exists():
            (img / name).unlink()
    for level in level_dirs(out):
        objs = sorted(objects(level))
        for p in objs[int(len(objs) * keep_fraction):]:
            p.unlink()
    assert cc.any_multiscales(out) == []


def read_levels(out: Path) -> list:
    return [cc.read_level_zarr(level) for level in level_dirs(out)]


def assert_one_line_refusal(proc, names, label):
    assert 0 < proc.returncode < 128, f"{label}: rc={proc.returncode}\nstderr: {proc.stderr[-2000:]}"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"{label}: one line on stderr expected:\n{proc.stderr[-2000:]}"
    for n in names:
        assert n in lines[0], f"{label}: stderr does not name {n!r}: {lines[0]!r}"


# ---------------------------------------------------------------------------
# 3. settings that change stored bytes
# ---------------------------------------------------------------------------

SETTING_CHANGES = [
    pytest.param(["--downsample", "mean"], ["--downsample", "max"], "--downsample", id="mean-then-max"),
    pytest.param(["--downsample", "mean"], ["--downsample", "nearest"], "--downsample", id="mean-then-nearest"),
    pytest.param(["--downsample-z"], ["--no-downsample-z"], "--downsample-z", id="z-then-no-z"),
]


@pytest.mark.parametrize("first, second, flag", SETTING_CHANGES)
def test_resume_with_another_byte_setting(first, second, flag, run_convert, tmp_path):
    src = source(tmp_path / "a.tif", seed=1)
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, src.arg, out, *LAYOUT, *first)
    simulate_kill(out)
    args = [src.arg, out, *LAYOUT, *second, "--resume"]
    proc = run_convert.convert(*args)
    label = run_convert.format(["convert", *args])
    if proc.returncode == 0:  # allowed only if the result is exactly the new setting's
        clean = tmp_path / "clean.ome.zarr"
        cc.convert(run_convert, src.arg, clean, *LAYOUT, *second)
        for i, (got, want) in enumerate(zip(read_levels(out), read_levels(clean), strict=True)):
            tc.assert_pixels_equal(got, want, f"{label}: level {i} vs a clean run with {second}")
    else:
        assert_one_line_refusal(proc, [flag], label)
        assert cc.any_multiscales(out) == [], f"{label}: refused, yet marked complete"


# ---------------------------------------------------------------------------
# 4. the source
# ---------------------------------------------------------------------------

def test_resume_from_another_source_is_refused(run_convert, tmp_path):
    a, b = source(tmp_path / "a.tif", seed=1), source(tmp_path / "b.tif", seed=2)
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, a.arg, out, *LAYOUT)
    simulate_kill(out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    args = [b.arg, out, *LAYOUT, "--resume"]
    proc = run_convert.convert(*args)
    assert_one_line_refusal(proc, ["a.tif", "b.tif"], run_convert.format(["convert", *args]))
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_resume_from_a_rewritten_source_is_refused(run_convert, tmp_path):
    """Same path, same size, other pixels (and a later mtime)."""
    a = source(tmp_path / "a.tif", seed=1)
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, a.arg, out, *LAYOUT)
    simulate_kill(out)
    size = a.file.stat().st_size
    source(tmp_path / "a.tif", seed=9)
    assert a.file.stat().st_size == size
    args = [a.arg, out, *LAYOUT, "--resume"]
    proc = run_convert.convert(*args)
    assert_one_line_refusal(proc, ["a.tif"], run_convert.format(["convert", *args]))


def test_resume_from_a_source_rewritten_in_its_middle_with_the_same_mtime_is_refused(run_convert, tmp_path):
    """Same path, size and modification time (rewritten in place within the clock's
    resolution, or copied over with its time kept), other pixels only in the middle
    planes — beyond the first and last 64 KiB the fingerprint used to read."""
    a = source(tmp_path / "a.tif", seed=1)
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, a.arg, out, *LAYOUT)
    simulate_kill(out)
    st = a.file.stat()
    assert st.st_size > 4 * 65536, "the source must be larger than the sampled head and tail"
    data = ci.pixels("uint16", SHAPE, seed=1)
    data[3:5] = 7
    ci.write_tiff(tmp_path / "a.tif", data, "zyx")
    os.utime(a.file, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert a.file.stat().st_size == st.st_size and a.file.stat().st_mtime_ns == st.st_mtime_ns
    args = [a.arg, out, *LAYOUT, "--resume"]
    proc = run_convert.convert(*args)
    assert_one_line_refusal(proc, ["a.tif", "other content"], run_convert.format(["convert", *args]))


def test_resume_from_the_same_source_finishes_exactly(run_convert, tmp_path):
    a = source(tmp_path / "a.tif", seed=1)
    out, clean = tmp_path / "out.ome.zarr", tmp_path / "clean.ome.zarr"
    cc.convert(run_convert, a.arg, clean, *LAYOUT)
    cc.convert(run_convert, a.arg, out, *LAYOUT)
    simulate_kill(out)
    proc = cc.convert(run_convert, a.arg, out, *LAYOUT, "--resume")
    assert "kept from before" in proc.stderr
    for i, (got, want) in enumerate(zip(read_levels(out), read_levels(clean), strict=True)):
        tc.assert_pixels_equal(got, want, f"level {i} after --resume")
    assert cc.group_attrs(image_root(out)) == cc.group_attrs(image_root(clean))


# ---------------------------------------------------------------------------
# 5. damaged objects
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
def test_resume_redoes_a_damaged_object(ngff, run_convert, tmp_path):
    a = source(tmp_path / "a.tif", seed=1)
    extra = LAYOUT if ngff == "0.5" else ["--chunks", "16", "--codec", "zstd"]
    out, clean = tmp_path / "out.ome.zarr", tmp_path / "clean.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(a.arg, clean, ngff, extra=extra))
    cc.convert(run_convert, *cc.convert_args(a.arg, out, ngff, extra=extra))
    simulate_kill(out, keep_fraction=0.75)
    level0 = level_dirs(out)[0]
    kept = sorted(objects(level0))
    assert len(kept) >= 2, kept
    cut = kept[0]
    blob = cut.read_bytes()
    cut.write_bytes(blob[: len(blob) // 2])
    proc = cc.convert(run_convert, *cc.convert_args(a.arg, out, ngff, extra=[*extra, "--resume"]))
    label = f"--resume after cutting {cut.relative_to(out)} in half"
    for i, (got, want) in enumerate(zip(read_levels(out), read_levels(clean), strict=True)):
        tc.assert_pixels_equal(got, want, f"{label}: level {i}")
    assert cut.read_bytes() == (level_dirs(clean)[0] / cut.relative_to(level0)).read_bytes(), f"{label}: not redone"
    assert proc.returncode == 0


def test_resume_deletes_a_damaged_object_where_only_fill_value_belongs(run_convert, tmp_path):
    """A shard that holds only the fill value is not stored; a damaged object found at its
    key on --resume is redone as that: deleted, not left behind to be read."""
    pixels = ci.pixels("uint16", SHAPE, seed=5)
    pixels[:, :32, :32] = 0  # level 0's first shard: fill value only
    a = ci.write_tiff(tmp_path / "a.tif", pixels, "zyx")
    out, clean = tmp_path / "out.ome.zarr", tmp_path / "clean.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(a.arg, clean, "0.5", extra=LAYOUT))
    cc.convert(run_convert, *cc.convert_args(a.arg, out, "0.5", extra=LAYOUT))
    rel = Path("c", "0", "0", "0")
    assert not (level_dirs(clean)[0] / rel).exists(), "a shard of fill value only must not be stored"
    simulate_kill(out, keep_fraction=0.75)
    stale = level_dirs(out)[0] / rel
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"\x01" * 100)
    proc = cc.convert(run_convert, *cc.convert_args(a.arg, out, "0.5", extra=[*LAYOUT, "--resume"]))
    assert proc.returncode == 0
    assert not stale.exists(), "the damaged object where only fill value belongs survived --resume"
    for i, (got, want) in enumerate(zip(read_levels(out), read_levels(clean), strict=True)):
        tc.assert_pixels_equal(got, want, f"--resume over a damaged all-fill shard: level {i}")
