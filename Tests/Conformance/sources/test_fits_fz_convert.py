"""`tessera convert` of tile-compressed FITS (`.fz`) written by astropy's CompImageHDU:
RICE_1, GZIP_1, GZIP_2, HCOMPRESS_1 on int16/int32, quantized float32, several HDUs.
Level 0 equals astropy's read exactly (for quantized floats both dequantize the same
stored integers with the same ZSCALE/ZZERO and dither); metadata is the image header,
not the BINTABLE's, plus a `compression` entry; a truncated .fz fails cleanly."""

from __future__ import annotations

import numpy as np
import pytest

import convert_checks as cc
import convert_inputs as ci

YX = ci.ODD_YX
TILE = (8, 16)  # numpy order: 8 rows x 16 columns -> ZTILE1 = 16, ZTILE2 = 8


def comp_hdu(data, compression, name=None, **kw):
    from astropy.io import fits

    return fits.CompImageHDU(data=data, compression_type=compression, tile_shape=TILE, name=name, **kw)


def source_meta(image_group):
    _, attrs = cc.group_attrs(image_group)
    return attrs["tessera"]["source"]


@pytest.mark.parametrize("dtype", ["int16", "int32"])
@pytest.mark.parametrize("compression", ["RICE_1", "GZIP_1", "GZIP_2", "HCOMPRESS_1"])
def test_fz_integer(compression, dtype, run_convert, tmp_path):
    data = ci.pixels(dtype, YX, kind="smooth")
    src = ci.write_fits(tmp_path / f"img_{compression}.fits.fz", [comp_hdu(data, compression)])
    assert np.array_equal(src.images[0].data, data)  # lossless for integers
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, chunks=16))
    cc.check_output(out, src, chunks=16)
    m = source_meta(out)["metadata"]
    assert m["compression"]["ZCMPTYPE"] == compression, m["compression"]
    assert (m["compression"]["ZTILE1"], m["compression"]["ZTILE2"]) == (TILE[1], TILE[0]), m["compression"]
    header = dict((k, v) for k, v in m["header"])
    assert header.get("XTENSION") == "IMAGE" and header.get("NAXIS1") == YX[1], header
    assert "TFORM1" not in header and "ZIMAGE" not in header, "the BINTABLE cards leaked into the image header"


@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
@pytest.mark.parametrize("method", [-1, 1, 2], ids=["no-dither", "dither1", "dither2"])
def test_fz_quantized_float(method, ngff, run_convert, tmp_path):
    rng = np.random.default_rng(3)
    data = (np.indices(YX).sum(axis=0) * 0.37 + rng.normal(0, 2, YX)).astype(np.float32)
    src = ci.write_fits(tmp_path / "float.fz", [comp_hdu(data, "RICE_1", quantize_level=16, quantize_method=method)])
    assert not np.array_equal(src.images[0].data, data), "quantization should be lossy"
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, ngff, chunks=16))
    cc.check_output(out, src, ngff=ngff, chunks=16)  # exact equality with astropy's dequantized read
    comp = source_meta(out)["metadata"]["compression"]
    assert comp["ZBITPIX"] == -32 and comp["parameters"]["NOISEBIT"] == 16, comp
    # no ZQUANTIZ card means NO_DITHER (astropy writes none for it)
    assert comp.get("ZQUANTIZ") == {-1: None, 1: "SUBTRACTIVE_DITHER_1", 2: "SUBTRACTIVE_DITHER_2"}[method], comp


def test_fz_several_hdus(run_convert, tmp_path):
    from astropy.io import fits

    hdus = [comp_hdu(ci.pixels("int16", YX, seed=1), "RICE_1", name="SCI"),
            comp_hdu(ci.pixels("int32", YX, seed=2), "GZIP_2", name="ERR"),
            fits.ImageHDU(ci.pixels("uint8", YX, seed=3), name="DQ")]
    src = ci.write_fits(tmp_path / "multi.fits.fz", hdus)
    assert len(src.images) == 3 and src.bioformats2raw
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, chunks=16))
    cc.check_output(out, src, chunks=16)
    assert source_meta(out / "0")["metadata"]["compression"]["ZCMPTYPE"] == "RICE_1"
    assert source_meta(out / "1")["metadata"]["compression"]["ZCMPTYPE"] == "GZIP_2"
    assert "compression" not in source_meta(out / "2")["metadata"]


def test_fz_name_in_directory(run_convert, tmp_path):
    # `.fz` files are picked up from a directory and named without `.fits.fz`.
    d = tmp_path / "in"
    d.mkdir()
    src = ci.write_fits(d / "frame.fits.fz", [comp_hdu(ci.pixels("int16", YX), "RICE_1")])
    ci.write_fits(d / "other.fz", [comp_hdu(ci.pixels("int16", YX, seed=5), "GZIP_1")])
    out = tmp_path / "out"
    cc.convert(run_convert, *cc.convert_args([d], out, chunks=16))
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == ["frame.ome.zarr", "other.ome.zarr"], names
    cc.check_output(out / "frame.ome.zarr", src, chunks=16, readers=False)


def test_fz_truncated(run_convert, tmp_path):
    # The last 2880-byte block cut off: cfitsio opens the file and reads the first tiles;
    # the conversion fails when it reaches the missing ones and marks nothing complete.
    src = ci.write_fits(tmp_path / "cut.fits.fz", [comp_hdu(ci.pixels("int32", (200, 300)), "GZIP_1")])
    blob = src.file.read_bytes()
    src.file.write_bytes(blob[: len(blob) - 2880])
    out = tmp_path / "out.ome.zarr"
    proc = run_convert("convert", src.arg, str(out), "--chunks", "16")
    cc.assert_clean_failure(proc, [src.file.name], "truncated .fz", out)


def test_fz_declared_size_is_bounded(run_convert, tmp_path):
    # A .fz whose header declares 20000x20000 int16 (with tiles that still match its 20
    # stored tiles) in an 8640-byte file: refused by the tile-compression bound of
    # DeclaredSizeLimit before anything is written.
    src = ci.write_fits(tmp_path / "bomb.fz", [comp_hdu(np.zeros(YX, np.int16), "RICE_1")])
    blob = bytearray(src.file.read_bytes())
    for key, value in ((b"ZNAXIS1", 20000), (b"ZNAXIS2", 20000), (b"ZTILE1", 5000), (b"ZTILE2", 4000)):
        at = blob.index(key.ljust(8) + b"= ")
        blob[at + 10: at + 30] = b"%20d" % value
    src.file.write_bytes(bytes(blob))
    out = tmp_path / "out.ome.zarr"
    proc = run_convert("convert", src.arg, str(out))
    cc.assert_clean_failure(proc, [src.file.name, "tile compression", "--max-pixels"], "declared size", out)
    assert not out.exists(), "nothing may be written before the size check"
