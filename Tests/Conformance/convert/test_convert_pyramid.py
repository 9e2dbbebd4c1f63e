"""Pyramid arithmetic of `tessera convert` (Docs/convert.md, "Pyramid" and
"Coordinate transformations"): every level of every method against the numpy
reference (reference_pyramid), on odd sizes (partial edge blocks at every step)
and small chunks so several levels exist.

  * mean: integers floor(sum/count + 1/2) exactly (no overflow, negative .5 rounds
    up), floats the float64 mean cast back (NaN if any NaN);
  * nearest: a[::2, ::2]; max; mode (ties -> smallest);
  * 2-D (2x2 blocks), 3-D (2x2x2 blocks, partial in z as well), the z rule
    (`--downsample-z`, `--no-downsample-z`, physical sizes), `--chunks a,b,c`;
  * scale / translation per level for every method.
Sources are TIFF (plain or multi-page) so only the pyramid varies.
"""

from __future__ import annotations

import numpy as np
import pytest

import convert_checks as cc
import convert_inputs as ci
import reference_pyramid as rp

YX = ci.ODD_YX


def _convert(run_convert, src, out, method, chunks=16, extra=(), ngff="0.5"):
    cc.convert(run_convert, *cc.convert_args(src.arg, out, ngff, method, chunks, extra))


@pytest.mark.parametrize("method", rp.METHODS)
@pytest.mark.parametrize("dtype", ci.DTYPES)
def test_methods_2d(dtype, method, run_convert, tmp_path):
    kind = "labels" if method == "mode" else "noise"
    src = ci.write_tiff(tmp_path / "img.tif", ci.pixels(dtype, YX, seed=2, kind=kind), "yx", tile=(16, 16))
    out = tmp_path / "out.ome.zarr"
    _convert(run_convert, src, out, method)
    cc.check_output(out, src, method=method, chunks=16, readers=False)


@pytest.mark.parametrize("method", rp.METHODS)
@pytest.mark.parametrize("dtype", ["uint8", "int16", "uint32", "float32"])
def test_methods_3d(dtype, method, run_convert, tmp_path):
    """9x37x53 multi-page stack: z is halved with y and x (no physical sizes),
    2x2x2 blocks with partial blocks on all three axes."""
    kind = "labels" if method == "mode" else "noise"
    src = ci.write_tiff_pages(tmp_path / "vol.tif", ci.pixels(dtype, (9, *YX), seed=3, kind=kind))
    out = tmp_path / "out.ome.zarr"
    _convert(run_convert, src, out, method)
    pyrs = cc.check_output(out, src, method=method, chunks=16, readers=False)
    assert [lv.shape for lv in pyrs[0].levels] == [(9, 37, 53), (5, 19, 27), (3, 10, 14)]


@pytest.mark.parametrize("method", ["mean", "max"])
def test_mode_and_mean_on_smooth_data_many_levels(method, run_convert, tmp_path):
    """A thin 5x300 image with --chunks 16: six levels (x: 300,150,75,38,19,10),
    odd widths at 75 and 19."""
    src = ci.write_tiff(tmp_path / "thin.tif", ci.pixels("uint16", (5, 300), kind="smooth"), "yx")
    out = tmp_path / "out.ome.zarr"
    _convert(run_convert, src, out, method)
    pyrs = cc.check_output(out, src, method=method, chunks=16, readers=False)
    assert [lv.shape for lv in pyrs[0].levels] == [(5, 300), (3, 150), (2, 75), (1, 38), (1, 19), (1, 10)]


def test_mode_ties_go_to_smallest(run_convert, tmp_path):
    """Every 2x2 block holds two values twice each (or four distinct values):
    the smallest must win."""
    rng = np.random.default_rng(1)
    a = np.empty((36, 52), dtype=np.int16)
    for i in range(0, 36, 2):
        for j in range(0, 52, 2):
            v = rng.choice([-7, 3, 11, 250], size=2, replace=False)
            blk = np.array([v[0], v[0], v[1], v[1]]) if rng.random() < 0.7 else rng.permutation([-7, 3, 11, 250])
            a[i:i + 2, j:j + 2] = rng.permutation(blk).reshape(2, 2)
    src = ci.write_tiff(tmp_path / "ties.tif", a, "yx")
    out = tmp_path / "out.ome.zarr"
    _convert(run_convert, src, out, "mode")
    pyrs = cc.check_output(out, src, method="mode", chunks=16, readers=False)
    assert np.all(pyrs[0].levels[1] == np.minimum(np.minimum(a[0::2, 0::2], a[0::2, 1::2]),
                                                   np.minimum(a[1::2, 0::2], a[1::2, 1::2]))), \
        "the test data: every block is a tie"


def test_mean_rounds_half_up(run_convert, tmp_path):
    """Blocks whose mean is exactly k + 1/2, for negative and positive k, and
    sums that overflow the type (int8/uint32)."""
    i8 = np.tile(np.array([[-1, -2], [-1, -2]], dtype=np.int8), (3, 4))    # -1.5 -> -1
    i8[0:2, 2:4] = [[1, 2], [1, 2]]                                         # 1.5 -> 2
    i8[2:4, 0:2] = [[-128, -127], [-128, -127]]                             # -127.5 -> -127
    i8[2:4, 2:4] = [[127, 126], [127, 126]]                                 # 126.5 -> 127
    for dtype, a in (("int8", i8),
                     ("uint32", np.full((6, 8), 2**32 - 1, dtype=np.uint32) - np.arange(8, dtype=np.uint32) % 2)):
        src = ci.write_tiff(tmp_path / f"{dtype}.tif", a, "yx")
        out = tmp_path / f"{dtype}.ome.zarr"
        _convert(run_convert, src, out, "mean", chunks=2)
        pyrs = cc.check_output(out, src, method="mean", chunks=2, readers=False)
        if dtype == "int8":
            assert pyrs[0].levels[1][:2, :2].tolist() == [[-1, 2], [-127, 127]]


def test_float_mean_nan(run_convert, tmp_path):
    """A NaN anywhere in a block makes that block's mean NaN (and at the next level
    too). Windows of NaN images are not checked (undefined in the contract)."""
    a = ci.pixels("float32", YX, seed=6)
    a[5, 7] = np.nan
    a[36, 52] = np.nan  # the lone corner pixel of every level's partial block
    a[20:22, 30:32] = np.nan
    src = ci.write_tiff(tmp_path / "nan.tif", a, "yx")
    out = tmp_path / "out.ome.zarr"
    _convert(run_convert, src, out, "mean")
    pyr = cc.check_image(out, src, src.images[0], method="mean", chunks=16, windows="skip", readers=False)
    assert np.isnan(pyr.levels[2][-1, -1]) and np.isnan(pyr.levels[1][2, 3])


@pytest.mark.parametrize("flag, downsample_z, zs", [
    ("--downsample-z", True, [9, 5, 3]),
    ("--no-downsample-z", False, [9, 9, 9]),
    (None, None, [9, 5, 3]),
])
def test_z_flags(flag, downsample_z, zs, run_convert, tmp_path):
    src = ci.write_tiff_pages(tmp_path / "vol.tif", ci.pixels("uint16", (9, *YX), kind="smooth"))
    out = tmp_path / "out.ome.zarr"
    _convert(run_convert, src, out, "mean", extra=[flag] if flag else [])
    pyrs = cc.check_output(out, src, method="mean", chunks=16, downsample_z=downsample_z, readers=False)
    assert [lv.shape[0] for lv in pyrs[0].levels] == zs


@pytest.mark.parametrize("method", ["mean", "nearest"])
@pytest.mark.parametrize("sizes, zs", [
    ((1.0, 0.6), [7, 4, 2, 1]),       # z 1.0 < 2*0.6: halved from the first step
    ((3.0, 0.5), [7, 7, 7, 4]),       # z 3.0: kept until y/x spacing reaches 2.0 (3 < 4)
    ((1.0, 1.0), [7, 4, 2, 1]),
])
def test_z_rule_physical_sizes(sizes, zs, method, run_convert, tmp_path):
    """The default z rule with OME PhysicalSizeZ / PhysicalSizeX,Y: z halved when
    z spacing < 2 x the larger y/x spacing (at the current level); scale and
    translation follow the cumulative factors."""
    z, yx = sizes
    data = ci.pixels("uint16", (7, 37, 100), kind="smooth")
    src = ci.write_ome_tiff(tmp_path / "z.ome.tif", [dict(
        data=data, axes="ZYX", physical={"z": (z, "µm"), "y": (yx, "µm"), "x": (yx, "µm")})])
    out = tmp_path / "out.ome.zarr"
    _convert(run_convert, src, out, method)
    pyrs = cc.check_output(out, src, method=method, chunks=16, readers=False)
    assert [lv.shape[2] for lv in pyrs[0].levels] == zs


def test_chunks_list_right_aligned(run_convert, tmp_path):
    """--chunks 4,16,32 on z,y,x: levels continue until y <= 16 and x <= 32."""
    src = ci.write_tiff_pages(tmp_path / "vol.tif", ci.pixels("int32", (6, *YX)))
    out = tmp_path / "out.ome.zarr"
    _convert(run_convert, src, out, "mean", chunks=[4, 16, 32])
    pyrs = cc.check_output(out, src, method="mean", chunks=[4, 16, 32], readers=False)
    assert [lv.shape for lv in pyrs[0].levels] == [(6, 37, 53), (3, 19, 27), (2, 10, 14)]


@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
def test_single_level_when_image_fits_a_chunk(ngff, run_convert, tmp_path):
    src = ci.write_tiff(tmp_path / "small.tif", ci.pixels("uint8", (15, 16)), "yx")
    out = tmp_path / "out.ome.zarr"
    _convert(run_convert, src, out, "mean", ngff=ngff)
    pyrs = cc.check_output(out, src, ngff=ngff, method="mean", chunks=16)
    assert len(pyrs[0].levels) == 1


@pytest.mark.parametrize("opts", [["--memory", "1MiB", "--jobs", "1"], ["--memory", "1MiB", "--jobs", "2"],
                                  ["--jobs", "1"]], ids=["1MiB-1job", "1MiB-2jobs", "1job"])
def test_memory_and_jobs_do_not_change_pixels(opts, run_convert, tmp_path):
    """Block-wise processing under a tight memory budget and any worker count
    gives exactly the reference pyramid (40x150x130 uint16 = 1.5 MiB)."""
    src = ci.write_tiff_pages(tmp_path / "vol.tif", ci.pixels("uint16", (40, 150, 130), seed=8))
    out = tmp_path / "out.ome.zarr"
    _convert(run_convert, src, out, "mean", extra=opts)
    pyrs = cc.check_output(out, src, method="mean", chunks=16, readers=False)
    assert len(pyrs[0].levels) == 5
