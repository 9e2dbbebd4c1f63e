"""Bad input to `tessera convert`.

Every case must
  * exit non-zero without crashing: 0 < returncode < 128 (not killed by a signal,
    no 128+N shell-style crash code),
  * print exactly ONE line on stderr, no Swift/Python traceback or "Fatal error",
    naming the offending file (and, where given, the offending part),
  * leave nothing marked complete: no `multiscales` (nor a bioformats2raw root
    marker) in any group metadata under OUTPUT.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import convert_checks as cc
import convert_inputs as ci
from ngff_layout import image_root

YX = (64, 64)
def tiled_tiff(path: Path) -> Path:
    ci.write_tiff(path, ci.pixels("uint16", YX, kind="smooth"), "yx", tile=(16, 16))
    return path


# ---------------------------------------------------------------------------
# Cases: each returns (INPUT argument, substrings stderr must contain)
# ---------------------------------------------------------------------------

def truncated_tiff(tmp):
    p = tiled_tiff(tmp / "truncated.tif")
    blob = p.read_bytes()
    p.write_bytes(blob[: len(blob) * 2 // 3])  # IFD intact, last tiles cut off
    return str(p), [p.name]


def truncated_tiff_header(tmp):
    p = tiled_tiff(tmp / "stub.tif")
    p.write_bytes(p.read_bytes()[:6])  # "II*\0" + half an IFD offset
    return str(p), [p.name]


def bad_tile_offset(tmp):
    """TileOffsets[5] patched to point past EOF."""
    import tifffile

    p = tiled_tiff(tmp / "badoffset.tif")
    with tifffile.TiffFile(p) as tif:
        tag = tif.pages[0].tags["TileOffsets"]
        assert tag.dtype == 4 and tag.count == 16, (tag.dtype, tag.count)  # LONG, 4x4 tiles
        where = tag.valueoffset
    blob = bytearray(p.read_bytes())
    past = len(blob) + 4096
    blob[where + 5 * 4: where + 6 * 4] = past.to_bytes(4, "little")
    p.write_bytes(bytes(blob))
    with tifffile.TiffFile(p) as tif:
        assert tif.pages[0].dataoffsets[5] == past
    return str(p), [p.name]


def bad_strip_bytecount(tmp):
    """A deflate-compressed striped BigTIFF whose StripByteCounts[1] is cut to 10
    bytes (an incomplete zlib stream)."""
    import tifffile

    p = tmp / "badcount.tif"
    ci.write_tiff(p, ci.pixels("uint16", YX, kind="smooth"), "yx", rowsperstrip=4, bigtiff=True,
                  compression="zlib")
    with tifffile.TiffFile(p) as tif:
        tag = tif.pages[0].tags["StripByteCounts"]
        size = {3: 2, 4: 4, 16: 8}[int(tag.dtype)]
        where = tag.valueoffset if tag.count * size > 8 else None
        assert where is not None and tag.value[1] > 10
    blob = bytearray(p.read_bytes())
    blob[where + size: where + 2 * size] = (10).to_bytes(size, "little")
    p.write_bytes(bytes(blob))
    return str(p), [p.name]


def not_a_tiff(tmp):
    p = tmp / "garbage.tif"
    p.write_bytes(os.urandom(4096))
    return str(p), [p.name]


def hdf5_group_path(tmp):
    src = ci.write_hdf5(tmp / "scan.h5", ci.pixels("uint16", (3, *YX)), dataset="/entry/data")
    return f"{src.file}:/entry", [src.file.name]


def hdf5_missing_dataset(tmp):
    src = ci.write_hdf5(tmp / "scan.h5", ci.pixels("uint16", (3, *YX)), dataset="/entry/data")
    return f"{src.file}:/entry/nope", [src.file.name, "/entry/nope"]


def hdf5_ambiguous(tmp):
    """Two numeric datasets of rank >= 2 and no ':/path': the error lists both."""
    src = ci.write_hdf5(tmp / "two.h5", ci.pixels("uint16", (3, *YX)), dataset="/a/first",
                        extra={"/b/second": ci.pixels("float32", YX)}, with_path=False)
    return str(src.file), [src.file.name, "first", "second"]


def hdf5_not_hdf5(tmp):
    p = tmp / "fake.h5"
    p.write_bytes(b"\x89HDF\r\n\x1a\n" + os.urandom(2000))  # signature, then junk
    return str(p), [p.name]


def fits_no_image(tmp):
    from astropy.io import fits

    p = tmp / "table.fits"
    table = fits.BinTableHDU.from_columns([fits.Column(name="flux", format="E", array=np.arange(4.0))])
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(p)
    return str(p), [p.name]


def fits_truncated(tmp):
    from astropy.io import fits

    p = tmp / "cut.fits"
    fits.HDUList([fits.PrimaryHDU(ci.pixels("int16", YX))]).writeto(p)
    blob = p.read_bytes()
    p.write_bytes(blob[: 2880 + 1000])  # header + part of the data unit
    return str(p), [p.name]


def nonexistent_input(tmp):
    p = tmp / "does-not-exist.tif"
    return str(p), [p.name]


def unsupported_extension(tmp):
    p = tmp / "image.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    return str(p), [p.name]


INPUT_CASES = [
    truncated_tiff, truncated_tiff_header, bad_tile_offset, bad_strip_bytecount, not_a_tiff,
    hdf5_group_path, hdf5_missing_dataset, hdf5_ambiguous, hdf5_not_hdf5,
    fits_no_image, fits_truncated, nonexistent_input, unsupported_extension,
]


@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
@pytest.mark.parametrize("make", INPUT_CASES, ids=lambda f: f.__name__)
def test_bad_input_fails_cleanly(make, ngff, run_convert, tmp_path):
    arg, names = make(tmp_path)
    out = tmp_path / "out.ome.zarr"
    args = cc.convert_args(arg, out, ngff, chunks=16)
    proc = run_convert.convert(*args)
    cc.assert_clean_failure(proc, names, run_convert.format(["convert", *args]), out)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_bad_input_in_directory(jobs, run_convert, tmp_path):
    """One corrupt file among good ones in a directory: the good one is converted, the
    corrupt one is reported with its error, and the run ends non-zero with a summary
    naming it; the corrupt input's image is not marked complete. Progress lines of the
    good input may share stderr."""
    d = tmp_path / "in"
    d.mkdir()
    ci.write_tiff(d / "good.tif", ci.pixels("uint8", YX), "yx")
    bad = tiled_tiff(d / "bad.tif")
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    out = tmp_path / "out"
    args = cc.convert_args(d, out, chunks=16, extra=["--jobs", jobs])
    proc = run_convert.convert(*args)
    label = run_convert.format(["convert", *args])
    assert 0 < proc.returncode < 128, f"{label}: rc={proc.returncode}\n{proc.stderr[-2000:]}"
    lines = proc.stderr.strip().splitlines()
    errors = [ln for ln in lines if "error" in ln.lower() or "bad.tif" in ln]
    assert len(errors) == 2 and all("bad.tif" in ln for ln in errors), f"{label}: the error and the summary expected:\n{proc.stderr}"
    assert "1 of 2 inputs failed" in errors[-1] and errors[-1] == lines[-1], f"{label}: no summary at the end:\n{proc.stderr}"
    others = [ln for ln in lines if ln not in errors]
    assert all(ln.startswith("good") or ln.startswith("converted") for ln in others), f"{label}: unexpected stderr lines:\n{proc.stderr}"
    assert cc.any_multiscales(out / "bad.ome.zarr") == []
    assert cc.any_multiscales(out / "good.ome.zarr"), f"{label}: the good input was not converted"


def issue_batch(tmp_path) -> Path:
    """The issue's folder: a.tif, b.tif (text), c.tif, e.tif."""
    d = tmp_path / "batch"
    d.mkdir()
    for name, seed in (("a", 1), ("c", 3), ("e", 5)):
        ci.write_tiff(d / f"{name}.tif", ci.pixels("uint16", YX, seed=seed), "yx")
    (d / "b.tif").write_text("this is not an image\n")
    return d


@pytest.mark.parametrize("jobs", ["1", "3"])
def test_batch_converts_every_good_input(jobs, run_convert, tmp_path):
    d = issue_batch(tmp_path)
    out = tmp_path / "out"
    args = cc.convert_args(d, out, chunks=16, extra=["--jobs", jobs])
    proc = run_convert.convert(*args)
    label = run_convert.format(["convert", *args])
    assert 0 < proc.returncode < 128, f"{label}: rc={proc.returncode}\n{proc.stderr[-2000:]}"
    for name, seed in (("a", 1), ("c", 3), ("e", 5)):
        image = out / f"{name}.ome.zarr"
        assert cc.any_multiscales(image), f"{label}: {name}.tif was not converted:\n{proc.stderr}"
        np.testing.assert_array_equal(cc.read_level_zarr(image_root(image) / "0"), ci.pixels("uint16", YX, seed=seed))
    assert cc.any_multiscales(out / "b.ome.zarr") == []
    lines = proc.stderr.strip().splitlines()
    assert any("b.tif" in ln and "not a TIFF" in ln for ln in lines[:-1]), f"{label}: b.tif's own error missing:\n{proc.stderr}"
    assert "1 of 4 inputs failed" in lines[-1] and "b.tif" in lines[-1], f"{label}: no summary line:\n{proc.stderr}"


def test_batch_fail_fast_stops_at_the_first_bad_input(run_convert, tmp_path):
    d = issue_batch(tmp_path)
    out = tmp_path / "out"
    args = cc.convert_args(d, out, chunks=16, extra=["--jobs", "1", "--fail-fast"])
    proc = run_convert.convert(*args)
    label = run_convert.format(["convert", *args])
    assert 0 < proc.returncode < 128, f"{label}: rc={proc.returncode}\n{proc.stderr[-2000:]}"
    lines = proc.stderr.strip().splitlines()
    assert "b.tif" in lines[-1] and "not a TIFF" in lines[-1], f"{label}: the last line must be b.tif's error:\n{proc.stderr}"
    assert all(ln.startswith("a: ") for ln in lines[:-1]), f"{label}: only a's progress may precede it:\n{proc.stderr}"
    assert cc.any_multiscales(out / "a.ome.zarr")
    for name in "bce":
        assert cc.any_multiscales(out / f"{name}.ome.zarr") == [], f"{name}.tif converted after the failure"


def deflate_bomb(path: Path, side: int = 1_000_000, tile: int = 4096) -> Path:
    """A small deflate TIFF that declares side x side uint8 pixels: every tile offset
    points at one shared compressed all-zero tile (what a decompression bomb does)."""
    import struct
    import zlib

    across = -(-side // tile)
    count = across * across
    blob = zlib.compress(bytes(tile * tile), 9)
    tags = [(256, 4, 1, side), (257, 4, 1, side), (258, 3, 1, 8), (259, 3, 1, 8), (262, 3, 1, 1),
            (277, 3, 1, 1), (322, 4, 1, tile), (323, 4, 1, tile)]
    ifd_at = 8
    n = len(tags) + 2
    arrays_at = ifd_at + 2 + 12 * n + 4
    offsets_at, counts_at = arrays_at, arrays_at + 4 * count
    data_at = counts_at + 4 * count
    entries = [struct.pack("<HHII", t, typ, c, v) if typ == 4 else struct.pack("<HHIHH", t, typ, c, v, 0)
               for t, typ, c, v in tags]
    entries += [struct.pack("<HHII", 324, 4, count, offsets_at), struct.pack("<HHII", 325, 4, count, counts_at)]
    with open(path, "wb") as f:
        f.write(b"II*\x00" + struct.pack("<I", ifd_at))
        f.write(struct.pack("<H", n) + b"".join(entries) + struct.pack("<I", 0))
        f.write(struct.pack(f"<{count}I", *([data_at] * count)))
        f.write(struct.pack(f"<{count}I", *([len(blob)] * count)))
        f.write(blob)
    return path


def test_declared_size_far_beyond_the_file_is_refused(run_convert, tmp_path):
    """The issue's deflate bomb: under 1 MB on disk, 10^12 pixels declared."""
    import tifffile

    bomb = deflate_bomb(tmp_path / "bomb.tif")
    with tifffile.TiffFile(bomb) as tif:  # a well-formed TIFF, as tifffile sees it
        assert tif.pages[0].shape == (1_000_000, 1_000_000) and tif.pages[0].compression == 8
    assert bomb.stat().st_size < 1_000_000
    out = tmp_path / "out.ome.zarr"
    args = [str(bomb), str(out)]
    proc = run_convert.convert(*args, timeout=60)
    cc.assert_clean_failure(proc, ["bomb.tif", "1000000000000", str(bomb.stat().st_size), "--max-pixels"],
                         run_convert.format(["convert", *args]), out)


def test_max_pixels_limits_declared_size(run_convert, tmp_path):
    src = ci.write_tiff(tmp_path / "small.tif", ci.pixels("uint8", YX), "yx")
    out = tmp_path / "out.ome.zarr"
    args = [src.arg, str(out), "--max-pixels", "1000"]
    proc = run_convert.convert(*args)
    cc.assert_clean_failure(proc, ["small.tif", "4096", "1000"], run_convert.format(["convert", *args]), out)
    cc.convert(run_convert, src.arg, out, "--max-pixels", "4096", "--overwrite")
    assert cc.any_multiscales(out)


def test_unwritable_output(run_convert, tmp_path):
    """OUTPUT's parent is a regular file (a read-only directory would not stop
    root, and the suite may run as root)."""
    src = tiled_tiff(tmp_path / "ok.tif")
    blocker = tmp_path / "blocker"
    blocker.write_text("I am a file")
    out = blocker / "out.ome.zarr"
    args = cc.convert_args(src, out, chunks=16)
    proc = run_convert.convert(*args)
    cc.assert_clean_failure(proc, ["blocker"], run_convert.format(["convert", *args]))
    assert blocker.read_text() == "I am a file"


@pytest.mark.parametrize("existing", ["directory", "previous-output", "file"])
def test_existing_output_without_flag(existing, run_convert, tmp_path):
    """OUTPUT exists and neither --overwrite nor --resume: refused, OUTPUT untouched."""
    src = tiled_tiff(tmp_path / "ok.tif")
    out = tmp_path / "out.ome.zarr"
    if existing == "directory":
        out.mkdir()
        (out / "keep.txt").write_text("keep")
    elif existing == "file":
        out.write_text("keep")
    else:
        cc.convert(run_convert, *cc.convert_args(src, out, chunks=16))
    before = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()} \
        if out.is_dir() else out.read_bytes()
    args = cc.convert_args(src, out, chunks=16)
    proc = run_convert.convert(*args)
    cc.assert_clean_failure(proc, [out.name], run_convert.format(["convert", *args]))
    after = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()} \
        if out.is_dir() else out.read_bytes()
    assert after == before, "an existing OUTPUT was modified without --overwrite/--resume"


def test_resume_with_different_settings(run_convert, tmp_path):
    """--resume over an output written with other settings (chunks): the level
    metadata lets tessera notice. Accepted: a clean one-line refusal, or a result
    that is exactly right for the NEW settings - never a silent mix."""
    src = ci.write_tiff(tmp_path / "img.tif", ci.pixels("uint16", YX, kind="smooth"), "yx")
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, chunks=16))
    args = cc.convert_args(src.arg, out, chunks=32, extra=["--resume"])
    proc = run_convert.convert(*args)
    if proc.returncode == 0:
        cc.check_output(out, src, method="mean", chunks=32, readers=False)
    else:
        lines = proc.stderr.strip().splitlines()
        assert 0 < proc.returncode < 128 and len(lines) == 1, (
            f"{run_convert.format(['convert', *args])}: rc={proc.returncode}\n{proc.stderr[-2000:]}"
        )


@pytest.mark.filterwarnings("ignore")
def test_corruptions_are_real(tmp_path):
    """Guard against vacuous cases: the format's own library must refuse each
    corrupt input (or at least not return the original pixels). Needs no tessera."""
    import h5py
    import tifffile
    from astropy.io import fits

    for make in (truncated_tiff, truncated_tiff_header, bad_tile_offset, bad_strip_bytecount, not_a_tiff):
        sub = tmp_path / make.__name__
        sub.mkdir()
        arg, _ = make(sub)
        try:
            got = tifffile.imread(arg)
        except Exception:
            continue
        assert not np.array_equal(got, ci.pixels("uint16", YX, kind="smooth")) and \
            not np.array_equal(got, ci.pixels("uint16", YX)), f"{make.__name__}: tifffile reads the original pixels"
    sub = tmp_path / "h5"
    sub.mkdir()
    arg, _ = hdf5_group_path(sub)
    path, ds = arg.rsplit(":", 1)
    with h5py.File(path) as f:
        assert isinstance(f[ds], h5py.Group)
    arg, _ = hdf5_not_hdf5(sub)
    with pytest.raises(Exception):
        h5py.File(arg, "r")
    arg, _ = fits_no_image(sub)
    with fits.open(arg) as hl:
        assert not any(h.is_image and h.data is not None for h in hl)
    arg, _ = fits_truncated(sub)
    with pytest.raises(Exception):
        with fits.open(arg) as hl:
            np.asarray(hl[0].data).sum()


def test_refused_settings_leave_no_output_behind(run_convert, tmp_path):
    """A conversion refused while planning (shards not a multiple of chunks) leaves no
    output, so the corrected command runs without --overwrite."""
    src = tiled_tiff(tmp_path / "ok.tif")
    out = tmp_path / "out.ome.zarr"
    proc = run_convert.convert(src, out, "--chunks", "16", "--shards", "24")
    cc.assert_clean_failure(proc, ["--shards"], "convert --chunks 16 --shards 24", out)
    cc.convert(run_convert, src, out, "--chunks", "16", "--shards", "32")
    assert cc.any_multiscales(out)


def test_named_pipe_is_refused_not_waited_on(run_convert, tmp_path):
    """A named pipe (or socket, or device) with an image's name, alone or in a batch
    folder: opening a pipe for reading waits for a writer for ever. It is refused as not a
    regular file, and the batch goes on."""
    d = tmp_path / "batch"
    d.mkdir()
    ci.write_tiff(d / "a.tif", ci.pixels("uint16", YX, seed=1), "yx")
    os.mkfifo(d / "pipe.tif")
    proc = run_convert.convert(d / "pipe.tif", tmp_path / "alone", timeout=30)
    assert 0 < proc.returncode < 128, proc.stderr
    assert "pipe.tif" in proc.stderr and "not a regular file" in proc.stderr, proc.stderr
    out = tmp_path / "out"
    proc = run_convert.convert(*cc.convert_args(d, out, chunks=16), timeout=30)
    assert 0 < proc.returncode < 128, proc.stderr
    assert "pipe.tif" in proc.stderr.strip().splitlines()[-1], proc.stderr
    np.testing.assert_array_equal(cc.read_level_zarr(image_root(out / "a.ome.zarr") / "0"), ci.pixels("uint16", YX, seed=1))
