"""`tessera convert` on inputs found in the wild (issue 13): what tifffile, ImageJ,
scanners and document/mask tools write by default.

  * JPEG-compressed TIFF in YCbCr (tifffile's default for RGB JPEG, and what scanners
    and whole-slide formats write), 2x2 and 1x1 subsampling, tiled and stripped:
    decoded to RGB, equal to tifffile's decode (the same libjpeg decodes both);
  * ImageJ hyperstacks: the `ImageJ=` description (channels, slices, frames, spacing,
    unit) and the resolution tags give axes t, c, z, y, x and physical sizes, so
    channels are never averaged together;
  * bilevel (1-bit) TIFF: read as uint8 0/1, as tifffile reads it.
"""

from __future__ import annotations

import numpy as np
import pytest

import convert_checks as cc
import convert_inputs as ci
import tessera_conformance as tc


def rgb_gradient(shape=(70, 90)) -> np.ndarray:
    """Smooth colours (what JPEG is for): every channel different, so a YCbCr/RGB mix-up shows."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    return np.stack([(xx * 2.5) % 256, (yy * 3) % 256, ((xx + yy) * 1.5) % 256], -1).astype("u1")


@pytest.mark.parametrize("subsampling", [(2, 2), (1, 1)], ids=["2x2", "1x1"])
@pytest.mark.parametrize("storage", ["tiled", "stripped"])
def test_jpeg_ycbcr_decodes_to_rgb(subsampling, storage, run_convert, tmp_path):
    import tifffile

    path = tmp_path / "ycbcr.tif"
    kw = dict(tile=(32, 32)) if storage == "tiled" else dict(rowsperstrip=16)
    tifffile.imwrite(path, rgb_gradient(), photometric="rgb", compression="jpeg", subsampling=subsampling, **kw)
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        assert page.photometric == tifffile.PHOTOMETRIC.YCBCR and page.compression == tifffile.COMPRESSION.JPEG
        decoded = page.asarray()
    assert decoded.shape == (70, 90, 3)
    src = ci.Source(str(path), path, "tiff", [ci.Expected(np.ascontiguousarray(np.moveaxis(decoded, -1, 0)), "cyx")])
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, chunks=16))
    cc.check_output(out, src, method="mean", chunks=16)


@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
def test_imagej_hyperstack_tczyx(ngff, run_convert, tmp_path):
    """The issue's reproduction: imwrite(p, a_TZCYX, imagej=True, metadata={'axes': 'TZCYX'})
    must become t, c, z, y, x with exact pixels, spacing from `spacing` and the resolution
    tags in `unit`, and the two channels kept apart in level 1."""
    import tifffile

    a = ci.pixels("uint16", (3, 5, 2, 37, 53), kind="smooth")
    a[:, :, 1] = 65535 - a[:, :, 1]  # channels far apart: averaging them would show
    path = tmp_path / "hyper.tif"
    tifffile.imwrite(path, a, imagej=True, resolution=(1 / 0.5, 1 / 0.25),
                     metadata={"axes": "TZCYX", "spacing": 2.5, "unit": "um", "finterval": 4.0})
    with tifffile.TiffFile(path) as tif:
        assert tif.is_imagej and tif.series[0].axes == "TZCYX"
        back = tif.series[0].asarray()
    want = np.ascontiguousarray(back.transpose(0, 2, 1, 3, 4))  # TZCYX -> TCZYX
    exp = ci.Expected(want, "tczyx", spacing={"t": 4.0, "z": 2.5, "y": 0.25, "x": 0.5},
                      units={"t": "second", "z": "micrometer", "y": "micrometer", "x": "micrometer"})
    src = ci.Source(str(path), path, "tiff", [exp])
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, ngff, chunks=16))
    pyrs = cc.check_output(out, src, ngff=ngff, method="mean", chunks=16)
    level1 = cc.read_level_zarr(out / "1")
    assert level1.shape[1] == 2
    tc.assert_pixels_equal(level1, pyrs[0].levels[1], "level 1 keeps the channels apart")


def test_imagej_stack_of_slices(run_convert, tmp_path):
    """An ImageJ z-stack without channels or frames stays z, y, x; z spacing from `spacing`."""
    import tifffile

    a = ci.pixels("uint8", (4, 37, 53))
    path = tmp_path / "slices.tif"
    tifffile.imwrite(path, a, imagej=True, resolution=(2.0, 2.0), metadata={"axes": "ZYX", "spacing": 0.5, "unit": "micron"})
    exp = ci.Expected(tifffile.imread(path), "zyx", spacing={"z": 0.5, "y": 0.5, "x": 0.5},
                      units={a: "micrometer" for a in "zyx"})
    src = ci.Source(str(path), path, "tiff", [exp])
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, chunks=16))
    cc.check_output(out, src, method="mean", chunks=16, readers=False)


@pytest.mark.parametrize("storage", ["stripped", "tiled"])
def test_bilevel_tiff_reads_as_uint8(storage, run_convert, tmp_path):
    """1-bit TIFF (masks, document scans): uint8 0/1 equal to tifffile's (bool) read.
    53 columns: rows are padded to whole bytes, which must not shift pixels."""
    import tifffile

    mask = (ci.pixels("uint8", (37, 53)) % 3) == 0
    path = tmp_path / "mask.tif"
    kw = dict(tile=(16, 16)) if storage == "tiled" else dict(rowsperstrip=5)
    tifffile.imwrite(path, mask, photometric="minisblack", **kw)
    with tifffile.TiffFile(path) as tif:
        assert tif.pages[0].bitspersample == 1
        back = tif.asarray()
    assert back.dtype == bool
    src = ci.Source(str(path), path, "tiff", [ci.Expected(back.astype("u1"), "yx")])
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, chunks=16))
    cc.check_output(out, src, method="mean", chunks=16)


# ---------------------------------------------------------------------------
# Clear errors (issue 13, item 9): one line naming the file and saying what it is
# ---------------------------------------------------------------------------

def hdf5_lzf(tmp):
    """h5py's LZF filter, which the system HDF5 library does not have."""
    import h5py

    p = tmp / "lzf.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("img", data=ci.pixels("uint16", (32, 32)), compression="lzf", chunks=(16, 16))
    return str(p), [p.name, "LZF", "filter", "not available"]


def _vds(tmp, name, **file_kw):
    import h5py

    source = tmp / "source.h5"
    with h5py.File(source, "w") as f:
        f["d"] = ci.pixels("uint16", (64, 64))
    layout = h5py.VirtualLayout(shape=(64, 64), dtype="u2")
    layout[:] = h5py.VirtualSource("source.h5", "d", shape=(64, 64))
    p = tmp / name
    with h5py.File(p, "w", **file_kw) as f:
        f.create_virtual_dataset("v", layout, fillvalue=0)
    return p, source


def hdf5_vds_missing_source(tmp):
    """A virtual dataset whose source file was not copied along: HDF5 would silently read
    fill values; the error names the missing source."""
    p, source = _vds(tmp, "vds.h5")
    source.unlink()
    return str(p), [p.name, "virtual dataset", "source.h5", "does not exist"]


def hdf5_vds_newer_format(tmp):
    """A VDS written by h5py's newer HDF5 with libver='latest': the system library cannot
    decode it. Not "does not exist" (it does) nor "no numeric dataset"."""
    p, _ = _vds(tmp, "vds_new.h5", libver="latest")
    return str(p), [p.name, "/v", "newer HDF5"]


def symlink_loop(tmp):
    a, b = tmp / "loop_a.tif", tmp / "loop_b.tif"
    a.symlink_to(b.name)
    b.symlink_to(a.name)
    return str(a), [a.name, "symbolic link loop"]


def tiff_truncated_uncompressed_strip(tmp):
    """An uncompressed strip cut short: libtiff reports it 'at scanline 4294967295'."""
    p = tmp / "cut.tif"
    ci.write_tiff(p, ci.pixels("uint16", (64, 64)), "yx", rowsperstrip=16)
    blob = p.read_bytes()
    import tifffile

    with tifffile.TiffFile(p) as tif:
        last = tif.pages[0].dataoffsets[-1]
    p.write_bytes(blob[: last + 3])
    return str(p), [p.name, "strip 3", "rows 48"]


def tiff_truncated_uncompressed_tile(tmp):
    p = tmp / "cut_tiles.tif"
    ci.write_tiff(p, ci.pixels("uint16", (64, 64)), "yx", tile=(16, 16))
    import tifffile

    with tifffile.TiffFile(p) as tif:
        last = tif.pages[0].dataoffsets[-1]
    p.write_bytes(p.read_bytes()[: last + 3])
    return str(p), [p.name, "tile 15", "rows 48"]


def tiff_float16_mean(tmp):
    """float16 pixels cannot be mean-downsampled: refused up front, naming the file."""
    p = tmp / "half.tif"
    ci.write_tiff(p, ci.pixels("float32", (64, 64)).astype("f2"), "yx")
    return str(p), [p.name, "float16", "--downsample nearest"]


ERROR_CASES = [hdf5_lzf, hdf5_vds_missing_source, hdf5_vds_newer_format, symlink_loop,
               tiff_truncated_uncompressed_strip, tiff_truncated_uncompressed_tile, tiff_float16_mean]


@pytest.mark.parametrize("make", ERROR_CASES, ids=lambda f: f.__name__)
def test_error_says_what_it_is(make, run_convert, tmp_path):

    arg, names = make(tmp_path)
    out = tmp_path / "out.ome.zarr"
    truncated = make in (tiff_truncated_uncompressed_strip, tiff_truncated_uncompressed_tile)
    # A cut uncompressed file also declares more bytes than it holds, which the declared-size
    # limit refuses up front; --max-pixels lifts that limit so libtiff's own read error is seen.
    args = cc.convert_args(arg, out, chunks=16, extra=["--max-pixels", "4096"] if truncated else ())
    proc = run_convert.convert(*args)
    label = run_convert.format(["convert", *args])
    cc.assert_clean_failure(proc, names, label, out)
    assert "4294967295" not in proc.stderr, f"{label}: libtiff's unset row number leaked: {proc.stderr}"
    if not truncated:  # a cut strip is found only when read
        assert not out.exists() or not any(out.rglob("zarr.json")) and not any(out.rglob(".zarray")), (
            f"{label}: something was written before the refusal: {sorted(map(str, out.rglob('*')))}")


def test_float16_nearest_still_converts(run_convert, tmp_path):
    """The refusal above is about the method: `--downsample nearest` converts float16 exactly."""
    p = tmp_path / "half.tif"
    src = ci.write_tiff(p, ci.pixels("float32", (64, 64)).astype("f2"), "yx")
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, chunks=16, method="nearest"))
    tc.assert_pixels_equal(cc.read_level_zarr(out / "0"), src.images[0].data, "level 0")
    tc.assert_pixels_equal(cc.read_level_zarr(out / "1"), src.images[0].data[::2, ::2], "level 1")


def test_jpeg_ycbcr_pages_with_several_workers(run_convert, tmp_path):
    """Three YCbCr JPEG pages read by two workers: every pooled libtiff handle, on every
    directory it moves to, must decode to RGB (libtiff resets the colour mode per directory)."""
    import tifffile

    path = tmp_path / "pages.tif"
    with tifffile.TiffWriter(path) as tw:
        for k in range(3):
            tw.write(np.roll(rgb_gradient(), 7 * k, axis=1), photometric="rgb", compression="jpeg",
                     subsampling=(2, 2), tile=(32, 32), metadata=None)
    with tifffile.TiffFile(path) as tif:
        assert all(p.photometric == tifffile.PHOTOMETRIC.YCBCR for p in tif.pages)
        back = np.stack([p.asarray() for p in tif.pages])  # z, y, x, c
    src = ci.Source(str(path), path, "tiff", [ci.Expected(np.ascontiguousarray(np.moveaxis(back, -1, 0)), "czyx")])
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, chunks=16, extra=["--jobs", "2"]))
    cc.check_output(out, src, method="mean", chunks=16, readers=False)


def test_input_behind_a_symbolic_link_is_sized_by_its_target(run_convert, tmp_path):
    """An input named through a symbolic link is bounded by its target's size, not by the
    link's own (the length of the target's name): an uncompressed TIFF behind a link converts."""
    data = ci.pixels("uint16", (96, 80))
    src = ci.write_tiff(tmp_path / "plain.tif", data, "yx")
    link = tmp_path / "link.tif"
    link.symlink_to(src.file)
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(str(link), out, chunks=32))
    tc.assert_pixels_equal(cc.read_level_zarr(out / "0"), data, "level 0 through the link")
