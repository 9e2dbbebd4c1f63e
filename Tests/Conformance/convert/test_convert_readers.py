"""More third-party readers on `tessera convert` outputs: bioio-ome-zarr (what
bioio.BioImage uses for .zarr), dask (`dask.array.from_zarr`) and the zarrs codec
pipeline (zarr-python with `codec_pipeline.path = "zarrs.ZarrsCodecPipeline"`, strict,
so nothing falls back to the Python codecs), plus ngff-zarr opening the output's root.

One output per input format (TIFF, ImageJ TIFF, OME-TIFF with one and with two series,
HDF5, FITS with one and with two image HDUs), NGFF 0.5 and 0.4. Every level of every
image must equal the reference pyramid (reference_pyramid, checked by convert_checks
with zarr-python first) exactly. A file holding one image is opened at OUTPUT itself
(issue 13, item 10: bioio-ome-zarr refuses a bioformats2raw root).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import convert_checks as cc
import convert_inputs as ci
import tessera_conformance as tc

YX = ci.ODD_YX
NGFF = [pytest.param("0.5", id="ngff0.5"), pytest.param("0.4", id="ngff0.4")]


def read_bioio(image: Path, axes: str) -> list:
    from bioio_ome_zarr import Reader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = Reader(str(image))
        assert reader.dims.order == axes.upper(), f"{image}: bioio-ome-zarr dims {reader.dims}, expected {axes}"
        levels = []
        for lv in reader.resolution_levels:
            reader.set_resolution_level(lv)
            levels.append(np.asarray(reader.data))
    return levels


def read_dask(level: Path) -> np.ndarray:
    import dask.array as da

    return da.from_zarr(str(level)).compute(scheduler="synchronous")


def read_zarrs(level: Path) -> np.ndarray:
    import zarr

    with zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline", "codec_pipeline.strict": True}):
        arr = zarr.open_array(str(level), mode="r", zarr_format=tc.zarr_format_of(level))
        pipeline = arr._async_array.codec_pipeline
        assert type(pipeline).__name__ == "ZarrsCodecPipeline" and pipeline.impl is not None, (
            f"{level}: zarrs did not take the array: {pipeline!r}")
        return arr[...]


def check_more_readers(out: Path, source: ci.Source, pyrs: list, ngff: str) -> None:
    for exp, pyr in zip(source.images, pyrs):
        image = out / exp.path if exp.path else out
        for i, want in enumerate(pyr.levels):
            tc.assert_pixels_equal(read_dask(image / str(i)), want, f"{image}/{i} dask")
            tc.assert_pixels_equal(read_zarrs(image / str(i)), want, f"{image}/{i} zarrs pipeline")
        got = read_bioio(image, exp.axes)
        assert len(got) == len(pyr.levels), f"{image}: bioio-ome-zarr sees {len(got)} levels, expected {len(pyr.levels)}"
        for i, (g, want) in enumerate(zip(got, pyr.levels)):
            tc.assert_pixels_equal(g, want, f"{image}/{i} bioio-ome-zarr")
    if not source.bioformats2raw:
        import ngff_zarr

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ms = ngff_zarr.from_ngff_zarr(str(out))
        assert len(ms.images) == len(pyrs[0].levels), f"{out}: ngff-zarr sees {len(ms.images)} levels"
        tc.assert_pixels_equal(np.asarray(ms.images[0].data), pyrs[0].levels[0], f"{out} ngff-zarr level 0")


def _tiff(tmp):
    return ci.write_tiff(tmp / "plain.tif", ci.pixels("uint16", YX), "yx", tile=(16, 16))


def _imagej(tmp):
    import tifffile

    a = ci.pixels("uint8", (2, 3, 2, *YX), kind="smooth")
    p = tmp / "hyper.tif"
    tifffile.imwrite(p, a, imagej=True, metadata={"axes": "TZCYX"})
    return ci.Source(str(p), p, "tiff", [ci.Expected(np.ascontiguousarray(tifffile.imread(p).transpose(0, 2, 1, 3, 4)), "tczyx")])


def _ome_one(tmp):
    return ci.write_ome_tiff(tmp / "one.ome.tif", [dict(data=ci.pixels("uint16", (2, 3, *YX), kind="smooth"), axes="CZYX",
                                                        channel_names=["a", "b"])])


def _ome_two(tmp):
    return ci.write_ome_tiff(tmp / "two.ome.tif", [dict(data=ci.pixels("int16", YX), axes="YX"),
                                                   dict(data=ci.pixels("uint8", (3, 21, 40), seed=2), axes="ZYX")])


def _hdf5(tmp):
    return ci.write_hdf5(tmp / "vol.h5", ci.pixels("float32", (5, *YX)), chunks=(2, 16, 16), compression="gzip")


def _fits_one(tmp):
    from astropy.io import fits

    return ci.write_fits(tmp / "one.fits", [fits.ImageHDU(ci.pixels("int32", YX))])


def _fits_two(tmp):
    from astropy.io import fits

    return ci.write_fits(tmp / "two.fits", [ci.fits_bzero_u16(ci.pixels("uint16", YX)),
                                            fits.ImageHDU(ci.pixels("float64", (3, *YX)), name="CUBE")])


INPUTS = [_tiff, _imagej, _ome_one, _ome_two, _hdf5, _fits_one, _fits_two]


@pytest.mark.parametrize("ngff", NGFF)
@pytest.mark.parametrize("make", INPUTS, ids=lambda f: f.__name__.strip("_"))
def test_more_readers_read_exact_pixels(make, ngff, run_convert, tmp_path):
    src = make(tmp_path)
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, ngff, chunks=16))
    pyrs = cc.check_output(out, src, ngff=ngff, method="mean", chunks=16, readers=False)
    check_more_readers(out, src, pyrs, ngff)
