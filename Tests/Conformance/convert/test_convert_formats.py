"""`tessera convert` for every input format, checked against Docs/convert.md.

Every test writes its source with the format's own library (tifffile +
imagecodecs, h5py, astropy), converts it (NGFF 0.5 by default and `--ngff 0.4`),
and hands the output to convert_checks.check_output, which verifies the layout,
the multiscales (axes, units, scale, translation), the level arrays (chunks,
shards, codec), the omero channels and windows, the `tessera` attribute, that
EVERY level equals the numpy reference pyramid (reference_pyramid) - level 0 being
the pixels the format library reads - through zarr-python 3, tensorstore and
ome-zarr-py, and that ome-zarr-models validates the groups.

Most images are 37x53 (odd on both axes) converted with `--chunks 16`, so there
are three levels with partial edge blocks at every step.
"""

from __future__ import annotations

import numpy as np
import pytest

import convert_checks as cc
import convert_inputs as ci
import reference_pyramid as rp

NGFF = [pytest.param("0.5", id="ngff0.5"), pytest.param("0.4", id="ngff0.4")]
YX = ci.ODD_YX


def run(run_convert, source, out, ngff="0.5", method=None, chunks=16, extra=()):
    cc.convert(run_convert, *cc.convert_args(source.arg, out, ngff, method, chunks, extra))


# ---------------------------------------------------------------------------
# TIFF: every dtype
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("ngff", NGFF)
@pytest.mark.parametrize("dtype", ci.DTYPES)
def test_tiff_dtypes(dtype, ngff, run_convert, tmp_path):
    src = ci.write_tiff(tmp_path / f"img_{dtype}.tif", ci.pixels(dtype, YX), "yx", tile=(16, 16))
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out, ngff)
    cc.check_output(out, src, ngff=ngff, method="mean", chunks=16)


# ---------------------------------------------------------------------------
# TIFF: storage layouts and compressions
# ---------------------------------------------------------------------------

def _striped(tmp):
    return ci.write_tiff(tmp / "striped.tif", ci.pixels("uint16", YX, kind="smooth"), "yx", rowsperstrip=7)


def _tiled_bigtiff(tmp):
    return ci.write_tiff(tmp / "tiled.btf", ci.pixels("uint16", YX), "yx", tile=(16, 16), bigtiff=True)


def _tiled_bigtiff_tif(tmp):
    return ci.write_tiff(tmp / "tiled_big.tif", ci.pixels("float32", YX), "yx", tile=(32, 16), bigtiff=True,
                         compression="zlib")


def _rgb_planar_separate(tmp):
    return ci.write_tiff(tmp / "rgb_planar.tif", ci.pixels("uint8", (3, *YX)), "cyx", planarconfig="separate")


def _rgb_planar_separate_tiled(tmp):
    return ci.write_tiff(tmp / "rgb_planar_tiled.tif", ci.pixels("uint16", (3, *YX)), "cyx",
                         planarconfig="separate", tile=(16, 16), compression="lzw")


def _rgb_contig(tmp):
    return ci.write_tiff(tmp / "rgb.tif", np.moveaxis(ci.pixels("uint8", (3, *YX)), 0, -1), "yxc", rowsperstrip=5)


def _pages(tmp):
    return ci.write_tiff_pages(tmp / "stack.tif", ci.pixels("int16", (7, *YX)))


def _pages_tiled_compressed(tmp):
    return ci.write_tiff_pages(tmp / "stack_tiled.tif", ci.pixels("uint16", (5, *YX), kind="smooth"),
                               tile=(16, 16), compression="zstd")


def _pages_rgb(tmp):
    """Multi-page RGB: pages -> z, samples -> c: c, z, y, x."""
    return ci.write_tiff_pages(tmp / "stack_rgb.tif", ci.pixels("uint8", (4, *YX, 3)), rgb=True)


def _compressed(compression, predictor=None, dtype="uint16"):
    def make(tmp):
        name = f"c_{compression}_{predictor}_{dtype}.tif"
        return ci.write_tiff(tmp / name, ci.pixels(dtype, YX, kind="smooth"), "yx",
                             compression=compression, predictor=predictor, rowsperstrip=8)
    make.__name__ = f"_{compression}{'_pred' + str(predictor) if predictor else ''}_{dtype}"
    return make


LAYOUTS = [
    _striped, _tiled_bigtiff, _tiled_bigtiff_tif, _rgb_planar_separate, _rgb_planar_separate_tiled, _rgb_contig,
    _pages, _pages_tiled_compressed, _pages_rgb,
    _compressed("adobe_deflate"), _compressed("adobe_deflate", 2), _compressed("adobe_deflate", 3, "float32"),
    _compressed("lzw"), _compressed("lzw", 2, "int32"), _compressed("zstd"), _compressed("zstd", 2, "uint8"),
    _compressed("packbits"), _compressed("packbits", None, "int8"),
]


@pytest.mark.parametrize("ngff", NGFF)
@pytest.mark.parametrize("make", LAYOUTS, ids=lambda f: f.__name__.strip("_"))
def test_tiff_layouts(make, ngff, run_convert, tmp_path):
    src = make(tmp_path)
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out, ngff)
    cc.check_output(out, src, ngff=ngff, method="mean", chunks=16)


@pytest.mark.parametrize("pages_as", ["z", "c", "t"])
def test_tiff_pages_as(pages_as, run_convert, tmp_path):
    src = ci.write_tiff_pages(tmp_path / "pages.tif", ci.pixels("uint8", (3, *YX)))
    src.images[0].axes = pages_as + "yx"
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out, extra=["--pages-as", pages_as])
    cc.check_output(out, src, method="mean", chunks=16)


# ---------------------------------------------------------------------------
# OME-TIFF
# ---------------------------------------------------------------------------

# Z without a unit attribute: the OME default (micrometer) applies. TimeIncrement
# 0.25 s: t spacing (t is never downsampled, its factor stays 1).
OME_5D = dict(axes="TCZYX", name="cells", channel_names=["DAPI", "GFP", "RFP"],
              physical={"x": (0.5, "µm"), "y": (0.5, "µm"), "z": (2.0, None), "t": (0.25, "s")})


@pytest.mark.parametrize("ngff", NGFF)
@pytest.mark.parametrize("variant", ["chunks16", "downsample-z", "default-chunks"])
def test_ome_tiff_5d(variant, ngff, run_convert, tmp_path):
    """t=2, c=3, z=5, 37x100 uint16; PhysicalSizeX/Y 0.5 µm, Z 2.0 (default unit),
    TimeIncrement 0.25 s. With the default z rule z is kept until the y/x spacing
    reaches 2.0 (level 3 halves it)."""
    data = ci.pixels("uint16", (2, 3, 5, 37, 100), kind="smooth")
    src = ci.write_ome_tiff(tmp_path / "cells.ome.tiff", [dict(data=data, **OME_5D)], tile=(16, 16))
    out = tmp_path / "out.ome.zarr"
    chunks = None if variant == "default-chunks" else 16
    extra = ["--downsample-z"] if variant == "downsample-z" else []
    run(run_convert, src, out, ngff, chunks=chunks, extra=extra)
    pyrs = cc.check_output(out, src, ngff=ngff, method="mean", chunks=chunks,
                           downsample_z=True if variant == "downsample-z" else None)
    if variant == "chunks16":  # the reference really exercises the z rule
        assert [lv.shape[2] for lv in pyrs[0].levels] == [5, 5, 5, 3]


@pytest.mark.parametrize("ngff", NGFF)
def test_ome_tiff_multi_series(ngff, run_convert, tmp_path):
    """Two series (bioformats2raw 0/ and 1/): colours and nanometre sizes from
    the OME-XML; series 1 has no physical sizes (spacing 1, no units)."""
    a = ci.pixels("uint16", (2, *YX), kind="smooth")
    b = ci.pixels("uint8", (4, 21, 40), seed=2)
    src = ci.write_ome_tiff(tmp_path / "two.ome.tif", [
        dict(data=a, axes="CYX", name="first", colors=["FF00FF", "00FFFF"], channel_names=["m", "c"],
             physical={"x": (120.0, "nm"), "y": (80.0, "nm")}),
        dict(data=b, axes="ZYX", name="second", channel_names=["only"]),
    ])
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out, ngff)
    cc.check_output(out, src, ngff=ngff, method="mean", chunks=16)


@pytest.mark.parametrize("ngff", NGFF)
def test_ome_tiff_single_series_is_an_image_at_root(ngff, run_convert, tmp_path):
    """A single-series OME-TIFF is an image at OUTPUT, not the bioformats2raw layout, so
    every reader opens the root (issue 13, item 10); its OME-XML is kept verbatim at
    OME/METADATA.ome.xml. (Here 2-D, no channel names: labels 'Channel N', one channel
    -> colour FFFFFF.)"""
    src = ci.write_ome_tiff(tmp_path / "plain.ome.tif", [dict(data=ci.pixels("int16", YX), axes="YX")])
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out, ngff)
    cc.check_output(out, src, ngff=ngff, method="mean", chunks=16)


# ---------------------------------------------------------------------------
# HDF5
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("ngff", NGFF)
@pytest.mark.parametrize("layout, dtype", [("chunked", "uint16"), ("contiguous", "int32"),
                                           ("chunked", "float32"), ("contiguous", "float64")])
def test_hdf5_3d(layout, dtype, ngff, run_convert, tmp_path):
    chunks = (4, 8, 8) if layout == "chunked" else None
    src = ci.write_hdf5(tmp_path / "scan.h5", ci.pixels(dtype, (9, *YX)), dataset="/entry/data",
                        chunks=chunks, compression="gzip" if chunks else None)
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out, ngff)
    cc.check_output(out, src, ngff=ngff, method="mean", chunks=16)


def test_hdf5_only_numeric_dataset_is_picked(run_convert, tmp_path):
    """Without ':/path' the file's only numeric dataset of rank >= 2 is used (a 1-D
    dataset and a string dataset are not candidates)."""
    src = ci.write_hdf5(tmp_path / "auto.hdf5", ci.pixels("uint8", (3, *YX)), dataset="/g/img", with_path=False,
                        extra={"/g/axis": np.arange(5.0), "/note": np.bytes_(b"hello")})
    assert src.arg == str(src.file)
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out)
    cc.check_output(out, src, method="mean", chunks=16)


def test_hdf5_axes_option_reorders(run_convert, tmp_path):
    """`--axes yxc`: stored (y, x, c), written in NGFF order (c, y, x)."""
    data = ci.pixels("int16", (*YX, 3))
    src = ci.write_hdf5(tmp_path / "yxc.h5", data, dataset="/img", axes="yxc")
    assert src.images[0].axes == "cyx" and src.images[0].data.shape == (3, *YX)
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out, extra=["--axes", "yxc"])
    cc.check_output(out, src, method="mean", chunks=16)


def test_hdf5_dimension_labels_reorder(run_convert, tmp_path):
    """h5py dimension labels (the DIMENSION_LABELS attribute) name the axes: stored
    (y, x, z) is written as (z, y, x)."""
    import h5py

    data = ci.pixels("uint16", (*YX, 6))
    src = ci.write_hdf5(tmp_path / "labels.h5", data, dataset="/vol", axes="yxz")
    with h5py.File(src.file, "r+") as f:
        for i, n in enumerate("yxz"):
            f["/vol"].dims[i].label = n
        assert "DIMENSION_LABELS" in f["/vol"].attrs
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out)
    cc.check_output(out, src, method="mean", chunks=16)


@pytest.mark.parametrize("form", ["vlen-str-list", "fixed-bytes-array", "vlen-str"])
def test_hdf5_axes_attribute(form, run_convert, tmp_path):
    """An `axes` attribute names the stored axes: (y, x, z) is written as (z, y, x).
    The attribute's form is not fixed by the contract; three common ones."""
    import h5py

    data = ci.pixels("int16", (*YX, 5))
    src = ci.write_hdf5(tmp_path / "ax.h5", data, dataset="/vol", axes="yxz")
    value = {"vlen-str-list": ["y", "x", "z"], "fixed-bytes-array": np.array([b"y", b"x", b"z"]),
             "vlen-str": "yxz"}[form]
    with h5py.File(src.file, "r+") as f:
        f["/vol"].attrs["axes"] = value
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out)
    cc.check_output(out, src, method="mean", chunks=16, readers=False)


def test_hdf5_4d_default_axes(run_convert, tmp_path):
    """Rank 4 without axis names: c, z, y, x."""
    src = ci.write_hdf5(tmp_path / "czyx.nxs", ci.pixels("uint16", (2, 3, *YX)), dataset="/entry/data",
                        chunks=(1, 1, 16, 16))
    assert src.images[0].axes == "czyx"
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out)
    cc.check_output(out, src, method="mean", chunks=16)


# ---------------------------------------------------------------------------
# FITS
# ---------------------------------------------------------------------------

def _fits_mef(tmp):
    """Primary (no data) + BZERO-scaled uint16 + binary table + float32 cube."""
    from astropy.io import fits

    u16 = ci.pixels("uint16", YX)
    table = fits.BinTableHDU.from_columns([fits.Column(name="flux", format="E", array=np.arange(4.0))])
    return ci.write_fits(tmp / "mef.fits", [ci.fits_bzero_u16(u16), table,
                                            fits.ImageHDU(ci.pixels("float32", (5, *YX)), name="CUBE")])


@pytest.mark.parametrize("ngff", NGFF)
def test_fits_multi_extension(ngff, run_convert, tmp_path):
    src = _fits_mef(tmp_path)
    assert [im.data.dtype for im in src.images] == [np.uint16, np.float32]
    assert src.bioformats2raw and [im.axes for im in src.images] == ["yx", "zyx"]
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out, ngff)
    cc.check_output(out, src, ngff=ngff, method="mean", chunks=16)


@pytest.mark.parametrize("ngff", NGFF)
def test_fits_all_dtypes(ngff, run_convert, tmp_path):
    """BITPIX 8/16/32/-32/-64 plus the unsigned/signed BZERO conventions:
    int8 (8, BZERO -128), uint16 (16, 32768), uint32 (32, 2147483648)."""
    from astropy.io import fits

    hdus = [fits.ImageHDU(ci.pixels(dt, YX, seed=i), name=dt.upper()) for i, dt in enumerate(ci.DTYPES)]
    src = ci.write_fits(tmp_path / "dtypes.fits", hdus)
    assert [str(im.data.dtype) for im in src.images] == list(ci.DTYPES)
    with fits.open(src.file, do_not_scale_image_data=True) as hl:
        bz = {h.name: (h.header["BITPIX"], h.header.get("BZERO")) for h in hl[1:]}
    assert bz["INT8"] == (8, -128) and bz["UINT16"] == (16, 32768) and bz["UINT32"] == (32, 2147483648), bz
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out, ngff)
    cc.check_output(out, src, ngff=ngff, method="mean", chunks=16)


def test_fits_bscale_to_float_with_blank(run_convert, tmp_path):
    """BITPIX 16, BSCALE 0.5, BZERO 10 -> float32 = 10 + 0.5*stored; BLANK -> NaN;
    BITPIX 32 with BSCALE 2 -> float64. (Windows of images with NaN are not checked:
    the contract does not say how NaN enters min/max/percentiles.)"""
    stored16 = ci.pixels("int16", YX, seed=4)
    stored16[3, 5:9] = -32768
    stored32 = ci.pixels("int32", YX, seed=5) // 4
    src = ci.write_fits(tmp_path / "scaled.fits", [ci.fits_scaled_raw(stored16, 0.5, 10.0, blank=-32768, name="S16"),
                                                   ci.fits_scaled_raw(stored32, 2.0, -3.0, name="S32")])
    want16 = (10.0 + 0.5 * stored16.astype(np.float64)).astype(np.float32)
    want16[stored16 == -32768] = np.nan
    want32 = -3.0 + 2.0 * stored32.astype(np.float64)
    cc.tc.assert_pixels_equal(src.images[0].data, want16, "astropy S16")
    cc.tc.assert_pixels_equal(src.images[1].data, want32, "astropy S32")
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out)
    pyr0 = cc.check_image(out / "0", src, src.images[0], chunks=16, windows="skip")
    assert np.isnan(pyr0.levels[1]).any(), "the reference pyramid propagates NaN"
    cc.check_image(out / "1", src, src.images[1], chunks=16)


@pytest.mark.parametrize("ngff", NGFF)
def test_fits_hdus_as_channels(ngff, run_convert, tmp_path):
    from astropy.io import fits

    planes = [ci.pixels("float32", YX, seed=s) for s in range(3)]
    src = ci.write_fits(tmp_path / "stack.fits", [fits.ImageHDU(p) for p in planes])
    stacked = ci.Expected(np.stack(planes), "cyx")
    src = ci.Source(src.arg, src.file, "fits", [stacked])
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out, ngff, extra=["--fits-hdus", "channels"])
    cc.check_output(out, src, ngff=ngff, method="mean", chunks=16)


def test_fits_gz_primary_image(run_convert, tmp_path):
    """A gzip-compressed single-HDU FITS (image in the primary HDU): one image at OUTPUT."""
    import gzip

    plain = ci.write_fits(tmp_path / "prim.fits", [], primary_data=ci.pixels("int32", (4, *YX)))
    gz = tmp_path / "prim.fits.gz"
    gz.write_bytes(gzip.compress(plain.file.read_bytes()))
    plain.file.unlink()
    src = ci.Source(str(gz), gz, "fits", plain.images)
    assert not src.bioformats2raw and src.images[0].axes == "zyx"
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out)
    cc.check_output(out, src, method="mean", chunks=16)


@pytest.mark.parametrize("cunit, cdelt, unit", [("deg", None, None), ("mm", None, "millimeter"),
                                              ("mm", 0.5, "millimeter")])
def test_fits_cunit(cunit, cdelt, unit, run_convert, tmp_path):
    """CUNIT1/2 naming a length -> that NGFF unit on x/y; an angle ('deg') is not an
    NGFF space unit, so the axis gets none (Docs/convert.md). Only units are checked here."""
    from astropy.io import fits

    hdu = fits.ImageHDU(ci.pixels("float32", YX))
    for n in (1, 2):
        hdu.header[f"CUNIT{n}"] = cunit
        if cdelt is not None:
            hdu.header[f"CDELT{n}"] = cdelt
    src = ci.write_fits(tmp_path / "sky.fits", [hdu])
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out)
    cc.tc.assert_pixels_equal(cc.read_level_zarr(out / "0"), src.images[0].data, "level 0")
    ms = cc.ome_attrs(out, "0.5")["multiscales"][0]
    units = {a["name"]: a.get("unit") for a in ms["axes"]}
    assert units == {"y": unit, "x": unit}, f"CUNIT {cunit!r} (CDELT {cdelt}): axes {ms['axes']}"


# ---------------------------------------------------------------------------
# Several inputs / a directory; defaults; source metadata; --window-from; labels
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("as_dir", [True, False], ids=["directory", "file-list"])
def test_several_inputs(as_dir, run_convert, tmp_path):
    from astropy.io import fits

    d = tmp_path / "in"
    d.mkdir()
    srcs = {
        "a": ci.write_tiff(d / "a.tif", ci.pixels("uint16", YX), "yx"),
        "b": ci.write_hdf5(d / "b.h5", ci.pixels("float32", (3, *YX)), with_path=False),
        "c": ci.write_fits(d / "c.fits", [fits.ImageHDU(ci.pixels("int16", YX))]),
        "d": ci.write_ome_tiff(d / "d.ome.tif", [dict(data=ci.pixels("uint8", (2, *YX)), axes="CYX")]),
    }
    (d / "notes.txt").write_text("not an image")
    (d / "sub").mkdir()  # not recursive
    ci.write_tiff(d / "sub" / "ignored.tif", ci.pixels("uint8", YX), "yx")
    out = tmp_path / "out"
    inputs = [d] if as_dir else [s.arg for s in srcs.values()]
    cc.convert(run_convert, *cc.convert_args(inputs, out, chunks=16))
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == ["a.ome.zarr", "b.ome.zarr", "c.ome.zarr", "d.ome.zarr"], names
    failures = []
    for name, src in srcs.items():  # check all four before failing
        try:
            cc.check_output(out / f"{name}.ome.zarr", src, method="mean", chunks=16, readers=False)
        except AssertionError as exc:
            failures.append(f"{name}: {str(exc).splitlines()[0]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("ngff", NGFF)
def test_default_chunks_and_shards(ngff, run_convert, tmp_path):
    """No --chunks: 2-D -> 256 on y/x, shards x8 clamped to whole chunks; 3 levels
    for 600x700 (level 2, 150x175, fits one chunk)."""
    src = ci.write_tiff(tmp_path / "big2d.tif", ci.pixels("uint8", (600, 700), kind="smooth"), "yx",
                        tile=(128, 128), compression="zstd")
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out, ngff, chunks=None)
    pyrs = cc.check_output(out, src, ngff=ngff, method="mean", chunks=None)
    assert [lv.shape for lv in pyrs[0].levels] == [(600, 700), (300, 350), (150, 175)]


def test_default_chunks_3d(run_convert, tmp_path):
    """No --chunks, z > 1: 64 on z, y, x, shards x4 (three levels for 70x150x130)."""
    src = ci.write_tiff_pages(tmp_path / "vol.tif", ci.pixels("uint16", (70, 150, 130), kind="smooth"))
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out, chunks=None)
    pyrs = cc.check_output(out, src, method="mean", chunks=None, readers=False)
    assert [lv.shape for lv in pyrs[0].levels] == [(70, 150, 130), (35, 75, 65), (18, 38, 33)]


def test_no_shards(run_convert, tmp_path):
    src = ci.write_tiff(tmp_path / "a.tif", ci.pixels("uint16", YX), "yx")
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out, extra=["--shards", "0"])
    cc.check_output(out, src, method="mean", chunks=16, shards_default=False)
    for i in range(3):
        _, meta = cc.array_meta(out / str(i))
        assert all(c["name"] != "sharding_indexed" for c in meta["codecs"]), meta["codecs"]
        want = list(rp.level_chunks("yx", meta["shape"], {"y": 16, "x": 16}))
        assert meta["chunk_grid"]["configuration"]["chunk_shape"] == want, meta


@pytest.mark.parametrize("ngff", NGFF)
@pytest.mark.parametrize("codec", ["blosc-lz4", "zstd", "gzip", "none"])
def test_codecs(codec, ngff, run_convert, tmp_path):
    """--codec: pixels unchanged, and the level metadata names the codec."""
    src = ci.write_tiff(tmp_path / "a.tif", ci.pixels("int16", YX, kind="smooth"), "yx")
    out = tmp_path / "out.ome.zarr"
    run(run_convert, src, out, ngff, extra=["--codec", codec])
    cc.check_output(out, src, ngff=ngff, method="mean", chunks=16, shards_default=False, check_codec=False,
                    readers=(ngff == "0.5"))
    for i in range(3):
        fmt, meta = cc.array_meta(out / str(i))
        if fmt == 3:
            codecs = meta["codecs"]
            if codecs and codecs[0]["name"] == "sharding_indexed":
                codecs = codecs[0]["configuration"]["codecs"]
            names = [c["name"] for c in codecs]
            want = {"blosc-lz4": "blosc", "zstd": "zstd", "gzip": "gzip", "none": None}[codec]
            if want is None:
                assert names == ["bytes"], names
            else:
                assert want in names, f"level {i} codecs {codecs}"
            if codec == "blosc-lz4":
                assert [c for c in codecs if c["name"] == "blosc"][0]["configuration"]["cname"] == "lz4", codecs
        else:
            comp = meta.get("compressor")
            want = {"blosc-lz4": "blosc", "zstd": "zstd", "gzip": "gzip", "none": None}[codec]
            assert (comp or {}).get("id") == want, f"level {i} compressor {comp}"
            if codec == "blosc-lz4":
                assert comp["cname"] == "lz4", comp


def test_source_metadata(run_convert, tmp_path):
    """tessera.source.metadata holds the source's own metadata: TIFF tags (the
    Software tag), HDF5 attributes, FITS header cards."""
    from astropy.io import fits
    import json

    t = ci.write_tiff(tmp_path / "t.tif", ci.pixels("uint8", YX), "yx")
    h = ci.write_hdf5(tmp_path / "h.h5", ci.pixels("uint8", (2, *YX)))
    hdu = fits.ImageHDU(ci.pixels("uint8", YX))
    hdu.header["OBSERVER"] = "Tessera"
    f = ci.write_fits(tmp_path / "f.fits", [hdu])
    for src, probe in ((t, ci.SOFTWARE), (h, None), (f, "Tessera")):
        out = tmp_path / f"{src.file.stem}.ome.zarr"
        run(run_convert, src, out)
        _, attrs = cc.group_attrs(out)
        md = attrs["tessera"]["source"]["metadata"]
        if probe is not None:
            assert probe in json.dumps(md), f"{src.file.name}: {probe!r} not in tessera.source.metadata: {md}"
        else:
            # the JSON layout of `metadata` is not fixed: find the object holding the attributes
            holder = find_dict_with_keys(md, ci.HDF5_ATTRS)
            assert holder is not None, f"HDF5 attributes {list(ci.HDF5_ATTRS)} not in tessera.source.metadata: {md}"
            bad = []
            for k, v in ci.HDF5_ATTRS.items():
                v = v.decode() if isinstance(v, bytes) else v
                got = holder[k][0] if isinstance(holder[k], list) and len(holder[k]) == 1 else holder[k]
                if got != v:
                    bad.append(f"{k}: {holder[k]!r} != {v!r}")
            assert not bad, f"HDF5 attributes wrong in tessera.source.metadata: {bad}"


def find_dict_with_keys(obj, keys):
    if isinstance(obj, dict):
        if all(k in obj for k in keys):
            return obj
        children = obj.values()
    elif isinstance(obj, list):
        children = obj
    else:
        return None
    for c in children:
        found = find_dict_with_keys(c, keys)
        if found is not None:
            return found
    return None


def test_window_from(run_convert, tmp_path):
    """--window-from FILE: FILE's omero windows for every input. FILE is read as an
    NGFF image (the thing that has windows); here one converted by tessera."""
    ref = ci.write_tiff(tmp_path / "ref.tif", ci.pixels("uint16", YX, seed=9, kind="smooth"), "yx")
    ref_out = tmp_path / "ref.ome.zarr"
    run(run_convert, ref, ref_out)
    img = ci.write_tiff(tmp_path / "img.tif", ci.pixels("uint16", YX, seed=1), "yx")
    out = tmp_path / "out.ome.zarr"
    run(run_convert, img, out, extra=["--window-from", ref_out])
    ref_windows = rp.expected_windows(rp.build_pyramid(ref.images[0].data, "yx", "mean", 16))
    cc.check_output(out, img, method="mean", chunks=16, windows=ref_windows, readers=False)
    own = rp.expected_windows(rp.build_pyramid(img.images[0].data, "yx", "mean", 16))
    assert own[0]["start"] != ref_windows[0]["start"], "test data: the two images' windows must differ"


def test_labels(run_convert, tmp_path):
    """--labels FILE: labels/NAME/ with mode downsampling and the image's levels,
    `labels` listing it, image-label with version and source.image '../../'."""
    img = ci.write_tiff(tmp_path / "img.tif", ci.pixels("uint16", YX), "yx")
    lab = ci.write_tiff(tmp_path / "seg.tif", ci.pixels("uint8", YX, seed=3, kind="labels"), "yx")
    out = tmp_path / "out.ome.zarr"
    run(run_convert, img, out, extra=["--labels", lab.file])
    cc.check_output(out, img, method="mean", chunks=16, readers=False)
    labels_attrs = cc.ome_attrs(out / "labels", "0.5")
    names = labels_attrs.get("labels")
    assert isinstance(names, list) and len(names) == 1, f"labels group must list one label: {labels_attrs}"
    ldir = out / "labels" / names[0]
    ome = cc.ome_attrs(ldir, "0.5")
    il = ome.get("image-label")
    assert isinstance(il, dict) and il.get("source", {}).get("image") == "../../", f"image-label {il!r}"
    # "image-label with version": 0.5 carries the version as ome.version (checked by
    # ome_attrs); a version inside image-label is accepted as well
    assert il.get("version") in (None, "0.5"), f"image-label version {il.get('version')!r}"
    ms = ome["multiscales"][0]
    assert ms.get("type") == "mode", ms.get("type")
    pyr = rp.build_pyramid(lab.images[0].data, "yx", "mode", 16)
    assert [d["path"] for d in ms["datasets"]] == [str(i) for i in range(len(pyr.levels))]
    for i, lv in enumerate(pyr.levels):
        cc.tc.assert_pixels_equal(cc.read_level_zarr(ldir / str(i)), lv, f"label level {i}")
    cc.validate_models(out, "0.5")
