"""RGB everywhere: 8-bit RGB(A) TIFF (contiguous and planar), OME-TIFF with SamplesPerPixel 3
and JPEG-compressed tiled TIFF become `uint8` with a `c` axis of 3, omero channels red, green,
blue with windows 0-255 (Docs/convert.md, "Data" and "Attributes").

RGBA: the alpha sample (ExtraSamples 1 = associated, 2 = unassociated) is not a channel: the
colour is composited onto white with the slides' rule (associated alpha un-premultiplied first,
as openslide-python does; then Pillow's `paste` blend). Opaque pixels keep their colour
exactly, so an opaque RGBA file converts to exactly its RGB samples.
"""

from __future__ import annotations

import numpy as np
import pytest

import convert_checks as cc
import convert_inputs as ci

YX = ci.ODD_YX
NGFF = [pytest.param("0.5", id="ngff0.5"), pytest.param("0.4", id="ngff0.4")]


def on_white(rgba: np.ndarray, associated: bool) -> np.ndarray:
    """(y, x, 4) uint8 → (3, y, x) composited onto white with Pillow (the reference)."""
    from PIL import Image

    rgba = rgba.copy()
    if associated:  # un-premultiply exactly as openslide-python's _convert.c does
        a = rgba[..., 3:].astype(np.int64)
        straight = np.where(a == 0, 0, (255 * rgba[..., :3].astype(np.int64)) // np.maximum(a, 1)) & 255
        rgba[..., :3] = np.where(a == 255, rgba[..., :3], straight).astype(np.uint8)
    img = Image.fromarray(rgba, "RGBA")
    white = Image.new("RGB", img.size, "#ffffff")
    white.paste(img, None, img)
    return np.ascontiguousarray(np.moveaxis(np.asarray(white), -1, 0))


def rgba_pixels(opaque: bool, associated: bool = False) -> np.ndarray:
    rgba = ci.pixels("uint8", (*YX, 4), seed=3)
    if opaque:
        rgba[..., 3] = 255
    else:
        rgba[::3, :, 3] = 255
        rgba[1::7, :, 3] = 0
    if associated:  # premultiplied colour never exceeds alpha
        rgba[..., :3] = np.minimum(rgba[..., :3], rgba[..., 3:])
    return rgba


@pytest.mark.parametrize("ngff", NGFF)
@pytest.mark.parametrize("planar", ["contig", "separate"])
@pytest.mark.parametrize("alpha", ["opaque", "unassociated", "associated"])
def test_rgba_tiff_composites_alpha_onto_white(alpha, planar, ngff, run_convert, tmp_path):
    import tifffile

    associated = alpha == "associated"
    rgba = rgba_pixels(alpha == "opaque", associated)
    path = tmp_path / "rgba.tif"
    data = rgba if planar == "contig" else np.ascontiguousarray(np.moveaxis(rgba, -1, 0))
    tifffile.imwrite(path, data, photometric="rgb", planarconfig=planar, tile=(16, 16), metadata=None,
                     extrasamples=["assocalpha" if associated else "unassalpha"])
    with tifffile.TiffFile(path) as tif:
        assert tif.pages[0].extrasamples == ((1,) if associated else (2,))
        back = tif.pages[0].asarray()
    back = back if planar == "contig" else np.moveaxis(back, 0, -1)
    np.testing.assert_array_equal(back, rgba)
    want = on_white(rgba, associated)
    if alpha == "opaque":
        np.testing.assert_array_equal(want, np.moveaxis(rgba[..., :3], -1, 0))
    src = ci.Source(str(path), path, "tiff", [ci.rgb_picture(ci.Expected(want, "cyx"))])
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, ngff, chunks=16))
    cc.check_output(out, src, ngff=ngff, method="mean", chunks=16)


@pytest.mark.parametrize("ngff", NGFF)
def test_rgb_ome_tiff(ngff, run_convert, tmp_path):
    import tifffile

    rgb = ci.pixels("uint8", (*YX, 3), seed=4, kind="smooth")
    path = tmp_path / "rgb.ome.tif"
    tifffile.imwrite(path, rgb, photometric="rgb", ome=True, tile=(16, 16), metadata={"axes": "YXS"})
    with tifffile.TiffFile(path) as tif:
        ome_xml = tif.ome_metadata
        assert 'SamplesPerPixel="3"' in ome_xml
        back = tif.series[0].asarray()
    np.testing.assert_array_equal(back, rgb)
    data = np.moveaxis(rgb, -1, 0)[None, :, None]  # t, c, z, y, x
    exp = ci.rgb_picture(ci.Expected(np.ascontiguousarray(data), "tczyx"))
    src = ci.Source(str(path), path, "ome-tiff", [exp], ome_xml=ome_xml)
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, ngff, chunks=16))
    cc.check_output(out, src, ngff=ngff, method="mean", chunks=16)


@pytest.mark.parametrize("ngff", NGFF)
def test_jpeg_tiled_rgb_tiff(ngff, run_convert, tmp_path):
    """Tiled JPEG (YCbCr stored, the slide scanners' layout): decoded by libjpeg through
    libtiff's JPEG colour mode, equal to tifffile's decode, and shown as red/green/blue."""
    import tifffile

    rgb = ci.pixels("uint8", (96, 80, 3), seed=5, kind="smooth")
    path = tmp_path / "jpeg.tif"
    tifffile.imwrite(path, rgb, photometric="rgb", compression="jpeg", tile=(32, 32), metadata=None)
    with tifffile.TiffFile(path) as tif:
        assert tif.pages[0].photometric == tifffile.PHOTOMETRIC.YCBCR
        back = tif.pages[0].asarray()
    src = ci.Source(str(path), path, "tiff", [ci.rgb_picture(ci.Expected(np.ascontiguousarray(np.moveaxis(back, -1, 0)), "cyx"))])
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, ngff, chunks=16))
    cc.check_output(out, src, ngff=ngff, method="mean", chunks=16)


def test_uint16_rgb_keeps_its_histogram_windows(run_convert, tmp_path):
    """Only 8-bit RGB is a picture with a fixed 0-255 window; 16-bit RGB samples are data."""
    src = ci.write_tiff(tmp_path / "rgb16.tif", ci.pixels("uint16", (3, *YX)), "cyx", planarconfig="separate")
    assert src.images[0].windows is None
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, chunks=16))
    cc.check_output(out, src, method="mean", chunks=16)
