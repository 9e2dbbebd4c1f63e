"""`--overwrite` deletes only what it may (issue 13, item 1).

`tessera convert` and `tessera copy`, to a folder or to s3://, may clear an existing
OUTPUT only when it is a Zarr hierarchy (its root is a Zarr group or array) or an output
Tessera itself started and marked, and it holds nothing else — never when OUTPUT is or
contains an input. Anything else is refused with one line naming what is there, and
every file stays as it was.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest
import zarr

import convert_checks as cc
import convert_inputs as ci
from ngff_layout import image_root

BUCKET = "tessera-overwrite"
_names = itertools.count()


def snapshot(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in Path(root).rglob("*") if p.is_file()}


def assert_refused(proc, names, label):
    assert 0 < proc.returncode < 128, f"{label}: rc={proc.returncode}\nstdout: {proc.stdout[-500:]}\nstderr: {proc.stderr[-2000:]}"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"{label}: one line on stderr expected:\n{proc.stderr[-2000:]}"
    for n in names:
        assert str(n) in lines[0], f"{label}: stderr does not name {n!r}: {lines[0]!r}"


def small_tiff(path: Path, seed=0) -> ci.Source:
    return ci.write_tiff(path, ci.pixels("uint16", (40, 50), seed=seed), "yx")


def level0(out: Path) -> np.ndarray:
    return cc.read_level_zarr(image_root(out) / "0")


# ---------------------------------------------------------------------------
# convert, local
# ---------------------------------------------------------------------------

def test_issue_reproduction_folder_holding_the_input(run_convert, tmp_path):
    """The issue's commands: OUTPUT is an ordinary folder holding the input and notes."""
    import tifffile

    p = tmp_path / "p"
    (p / "sub").mkdir(parents=True)
    tifffile.imwrite(p / "x.tif", np.zeros((8, 8), "u1"))
    (p / "notes.txt").write_text("keep\n")
    (p / "sub" / "d.txt").write_text("keep\n")
    before = snapshot(p)
    proc = run_convert.convert(p / "x.tif", p, "--overwrite")
    assert_refused(proc, [p, "x.tif"], "convert p/x.tif p --overwrite")
    assert snapshot(p) == before, "--overwrite deleted or changed files it did not write"


def test_ordinary_folder_is_refused_naming_its_files(run_convert, tmp_path):
    src = small_tiff(tmp_path / "x.tif")
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("keep\n")
    (out / "sub" / "d.txt").write_text("keep\n")
    before = snapshot(out)
    proc = run_convert.convert(src.arg, out, "--overwrite")
    assert_refused(proc, [out, "notes.txt"], "convert x.tif out --overwrite")
    assert snapshot(out) == before


def test_tessera_output_with_a_foreign_file_is_refused(run_convert, tmp_path):
    src = small_tiff(tmp_path / "x.tif")
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, src.arg, out, "--chunks", "16")
    (out / "notes.txt").write_text("mine\n")
    before = snapshot(out)
    proc = run_convert.convert(src.arg, out, "--overwrite")
    assert_refused(proc, ["notes.txt"], "convert over an output holding notes.txt")
    assert snapshot(out) == before


def test_output_containing_the_input_is_refused(run_convert, tmp_path):
    """The input sits inside a previous output under a chunk-like name: only the
    containment rule can stop the deletion."""
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, small_tiff(tmp_path / "first.tif").arg, out, "--chunks", "16")
    inside = image_root(out) / "0" / "7"
    small_tiff(inside, seed=3)
    before = snapshot(out)
    proc = run_convert.convert(inside, out, "--overwrite")
    assert_refused(proc, ["7", "input"], "convert OUT/0/7 OUT --overwrite")
    assert snapshot(out) == before


@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
def test_previous_output_is_replaced(ngff, run_convert, tmp_path):
    a, b = small_tiff(tmp_path / "a.tif", seed=1), small_tiff(tmp_path / "b.tif", seed=2)
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(a.arg, out, ngff, chunks=16))
    cc.convert(run_convert, *cc.convert_args(b.arg, out, ngff, chunks=16, extra=["--overwrite"]))
    np.testing.assert_array_equal(level0(out), b.images[0].data)


def test_unfinished_output_is_replaced(run_convert, tmp_path):
    """A killed conversion (levels written, image metadata not yet) is Tessera's own,
    marked output: --overwrite clears it."""
    a, b = small_tiff(tmp_path / "a.tif", seed=1), small_tiff(tmp_path / "b.tif", seed=2)
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, a.arg, out, "--chunks", "16")
    (image_root(out) / "zarr.json").unlink()  # the state a kill leaves: no multiscales
    assert cc.any_multiscales(out) == []
    cc.convert(run_convert, b.arg, out, "--chunks", "16", "--overwrite")
    np.testing.assert_array_equal(level0(out), b.images[0].data)


def test_foreign_zarr_hierarchy_is_replaced(run_convert, tmp_path):
    out = tmp_path / "out.zarr"
    g = zarr.open_group(out, mode="w", zarr_format=3)
    g.create_array("data", shape=(10, 10), chunks=(5, 5), dtype="u1")[:] = 1
    src = small_tiff(tmp_path / "x.tif")
    cc.convert(run_convert, src.arg, out, "--chunks", "16", "--overwrite")
    np.testing.assert_array_equal(level0(out), src.images[0].data)
    assert not [f for f in (out / "data").rglob("*") if f.is_file()], "the old array's objects survived"


# ---------------------------------------------------------------------------
# copy, local
# ---------------------------------------------------------------------------

def zarr_array(path: Path, seed=0) -> np.ndarray:
    data = ci.pixels("uint16", (30, 40), seed=seed)
    zarr.create_array(path, shape=data.shape, chunks=(10, 10), dtype=data.dtype, zarr_format=3)[:] = data
    return data


def test_copy_refuses_an_ordinary_folder(run_tessera, tmp_path):
    zarr_array(tmp_path / "src.zarr")
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "notes.txt").write_text("keep\n")
    before = snapshot(dst)
    proc = run_tessera.copy(tmp_path / "src.zarr", dst, "--overwrite")
    assert_refused(proc, [dst, "notes.txt"], "copy src dst --overwrite")
    assert snapshot(dst) == before


@pytest.mark.parametrize("where", ["same", "inside"])
def test_copy_refuses_a_destination_that_is_or_holds_its_source(where, run_tessera, tmp_path):
    outer = tmp_path / "outer.zarr"
    if where == "inside":
        zarr.open_group(outer, mode="w", zarr_format=3)
    src = outer if where == "same" else outer / "inner"
    zarr_array(src)
    before = snapshot(outer)
    proc = run_tessera.copy(src, outer, "--overwrite")
    assert_refused(proc, ["input"], f"copy {where} --overwrite")
    assert snapshot(outer) == before


def test_copy_replaces_a_zarr(run_tessera, tmp_path):
    data = zarr_array(tmp_path / "src.zarr", seed=4)
    dst = tmp_path / "dst.zarr"
    zarr_array(dst, seed=5)
    proc = run_tessera.copy(tmp_path / "src.zarr", dst, "--overwrite")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(zarr.open_array(dst, mode="r")[:], data)


# ---------------------------------------------------------------------------
# s3://
# ---------------------------------------------------------------------------

def client(s3):
    import boto3

    return boto3.client("s3", endpoint_url=s3.endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                        region_name="us-east-1")


def put_object(s3, key: str, body: bytes) -> None:
    client(s3).put_object(Bucket=BUCKET, Key=key, Body=body)


def get_object(s3, key: str) -> bytes:
    return client(s3).get_object(Bucket=BUCKET, Key=key)["Body"].read()


def unique(name: str) -> str:
    return f"{name}-{next(_names)}-{os.getpid()}"


@pytest.mark.parametrize("command", ["convert", "copy"])
def test_s3_prefix_with_foreign_objects_is_refused(command, s3_env, run_tessera, tmp_path):
    prefix = unique("out")
    put_object(s3_env, f"{prefix}/notes.txt", b"keep\n")
    put_object(s3_env, f"{prefix}/sub/d.txt", b"keep\n")
    if command == "convert":
        source = small_tiff(tmp_path / "x.tif").arg
    else:
        source = tmp_path / "src.zarr"
        zarr_array(source)
    proc = run_tessera(command, source, f"s3://{BUCKET}/{prefix}", "--overwrite")
    assert_refused(proc, [prefix, "notes.txt"], f"{command} to an s3 prefix holding notes.txt")
    assert get_object(s3_env, f"{prefix}/notes.txt") == b"keep\n"
    assert get_object(s3_env, f"{prefix}/sub/d.txt") == b"keep\n"


def test_s3_previous_output_is_replaced(s3_env, run_convert, tmp_path):
    prefix = unique("img")
    a, b = small_tiff(tmp_path / "a.tif", seed=1), small_tiff(tmp_path / "b.tif", seed=2)
    url = f"s3://{BUCKET}/{prefix}"
    cc.convert(run_convert, a.arg, url, "--chunks", "16")
    cc.convert(run_convert, b.arg, url, "--chunks", "16", "--overwrite")
    group = zarr.open_group(url, mode="r", storage_options=s3_env.storage_options())
    np.testing.assert_array_equal(group["0"][:], b.images[0].data)


def test_s3_copy_replaces_a_previous_copy(s3_env, run_tessera, tmp_path):
    prefix = unique("copy")
    url = f"s3://{BUCKET}/{prefix}"
    first, second = zarr_array(tmp_path / "a.zarr", seed=1), zarr_array(tmp_path / "b.zarr", seed=2)
    assert run_tessera.copy(tmp_path / "a.zarr", url).returncode == 0
    proc = run_tessera.copy(tmp_path / "b.zarr", url, "--overwrite")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(zarr.open_array(url, mode="r", storage_options=s3_env.storage_options())[:], second)
    assert not np.array_equal(first, second)


# ---------------------------------------------------------------------------
# found by review: what the name rule alone let through
# ---------------------------------------------------------------------------

def test_hand_made_zarr_json_over_numbered_user_files_is_refused(run_convert, tmp_path):
    """A folder whose root holds a zarr.json that is no Zarr metadata (a user's note),
    and numbered files in a subfolder (scanner frames, DICOM series): not a Zarr
    hierarchy, so nothing may go — the names alone look like chunks."""
    src = small_tiff(tmp_path / "x.tif")
    out = tmp_path / "study"
    (out / "scans").mkdir(parents=True)
    (out / "zarr.json").write_text('{"note": "my own file"}\n')
    (out / "scans" / "0001").write_bytes(b"frame 1")
    (out / "scans" / "0002").write_bytes(b"frame 2")
    before = snapshot(out)
    proc = run_convert.convert(src.arg, out, "--overwrite")
    assert_refused(proc, [out], "convert x.tif study --overwrite")
    assert snapshot(out) == before


def test_numbered_user_files_beside_a_real_zarr_root_are_refused(run_convert, tmp_path):
    """A real Zarr group at the root does not make every numbered file below it a chunk:
    scans/0001 lies under no array."""
    src = small_tiff(tmp_path / "x.tif")
    out = tmp_path / "study.zarr"
    zarr.open_group(out, mode="w", zarr_format=3)
    (out / "scans").mkdir()
    (out / "scans" / "0001").write_bytes(b"frame 1")
    before = snapshot(out)
    proc = run_convert.convert(src.arg, out, "--overwrite")
    assert_refused(proc, ["scans/0001"], "convert x.tif study.zarr --overwrite")
    assert snapshot(out) == before


def test_symlinked_level_pointing_into_another_zarr_is_refused(run_convert, tmp_path):
    """OUTPUT/0 is a symlink to another dataset's level (sharing level 0 between two
    pyramids): the listing does not follow it, so --overwrite would clear the rest and
    then write the new level 0 through the link into the other dataset."""
    a, b = small_tiff(tmp_path / "a.tif", seed=1), small_tiff(tmp_path / "b.tif", seed=2)
    raw, pyr = tmp_path / "raw.zarr", tmp_path / "pyr.zarr"
    cc.convert(run_convert, a.arg, raw, "--chunks", "16")
    cc.convert(run_convert, a.arg, pyr, "--chunks", "16")
    level = image_root(pyr) / "0"
    import shutil
    shutil.rmtree(level)
    level.symlink_to(image_root(raw) / "0", target_is_directory=True)
    before = snapshot(raw)
    proc = run_convert.convert(b.arg, pyr, "--chunks", "16", "--overwrite")
    assert_refused(proc, ["0", "link"], "convert b.tif pyr.zarr --overwrite with pyr.zarr/0 a symlink")
    assert snapshot(raw) == before, "--overwrite wrote into another dataset through a symlink"
    np.testing.assert_array_equal(level0(raw), a.images[0].data)


def test_output_reached_through_a_bind_mount_holding_the_input_is_refused(run_convert, tmp_path):
    """OUTPUT names the folder holding the input by another path — a bind mount — which
    resolving symlinks does not see through; the input (under a chunk-like name, so only
    the containment rule can stop it) must survive. Needs a private mount namespace."""
    import shutil
    import subprocess

    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs unshare and root for a private bind mount")
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, small_tiff(tmp_path / "first.tif").arg, out, "--chunks", "16")
    inside = image_root(out) / "0" / "7"
    small_tiff(inside, seed=3)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    before = snapshot(out)
    script = 'mount --bind "$1" "$2" || exit 99; exec "$3" convert "$4" "$2" --overwrite'
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(out), str(mnt), str(run_convert.binary), str(inside)],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if proc.returncode == 99:
        pytest.skip(f"bind mount not permitted here: {proc.stderr.strip()}")
    assert_refused(proc, ["input"], "convert OUT/0/7 BIND-OF-OUT --overwrite")
    assert snapshot(out) == before


@pytest.mark.parametrize("command", ["convert", "copy"])
def test_output_holding_only_a_symlinked_level_is_not_taken_as_empty(command, run_tessera, tmp_path):
    """OUTPUT holds nothing but a link to another dataset's level: the listing (which does
    not follow links) is empty, so the output looked new and the run wrote its level 0
    through the link, without --overwrite, into the other dataset."""
    a = small_tiff(tmp_path / "a.tif", seed=1)
    raw = tmp_path / "raw.zarr"
    proc = run_tessera("convert", a.arg, raw, "--chunks", "16")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out.zarr"
    out.mkdir()
    (out / "0").symlink_to(image_root(raw) / "0", target_is_directory=True)
    before = snapshot(raw)
    if command == "convert":
        proc = run_tessera("convert", small_tiff(tmp_path / "b.tif", seed=2).arg, out, "--chunks", "16")
    else:
        src = tmp_path / "src.zarr"
        zarr.open_group(src, mode="w", zarr_format=3).create_array("0", shape=(40, 50), chunks=(16, 16), dtype="u2")[:] = 9
        proc = run_tessera("copy", src, out)
    assert 0 < proc.returncode < 128, f"{command} into a folder holding a link: rc={proc.returncode}\n{proc.stderr[-2000:]}"
    assert "link" in proc.stderr, proc.stderr
    assert snapshot(raw) == before, f"{command} wrote into another dataset through a symlink"
