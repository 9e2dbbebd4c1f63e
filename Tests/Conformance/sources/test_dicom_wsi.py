"""DICOM whole-slide (VL Whole Slide Microscopy) folders converted by `tessera convert`,
compared with wsidicom reading the same folder (and pydicom for the raw tiles).

The slide is built with pydicom (deterministic: JPEG tiles by imagecodecs, or native
RGB), then opened by wsidicom first, which proves the files are a slide its readers accept.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import convert_checks as cc
import dicom_inputs as di
from convert_inputs import Expected, Source, pixels


def slide_pixels(h=150, w=200, seed=21) -> np.ndarray:
    return pixels("uint8", (h, w, 3), seed=seed, kind="smooth")


def wsidicom_level0(folder) -> tuple:
    from wsidicom import WsiDicom

    with WsiDicom.open(folder) as slide:
        level = slide.levels.base_level
        w, h = level.size.width, level.size.height
        region = np.asarray(slide.read_region((0, 0), level.level, (w, h)).convert("RGB"))
        mpp = level.mpp
        labels = [np.asarray(im.convert("RGB")) for im in [slide.read_label()]] if slide.labels else []
    return region, (mpp.width, mpp.height), labels


@pytest.mark.parametrize("syntax", ["native", "jpeg"])
def test_wsi_folder_level0_and_label(run_tessera, tmp_path, syntax):
    base = slide_pixels()
    label = pixels("uint8", (40, 60, 3), seed=22, kind="smooth")
    folder = tmp_path / f"slide_{syntax}"
    di.write_wsi(folder, base, syntax=syntax, label=label)
    ref, mpp, labels = wsidicom_level0(folder)
    assert ref.shape == base.shape
    if syntax == "native":
        np.testing.assert_array_equal(ref, base)
    assert len(labels) == 1
    out = tmp_path / "slide.ome.zarr"
    cc.convert(run_tessera, folder, out)
    got = cc.read_level_zarr(out / "0" / "0")
    # JPEG tiles: wsidicom decodes with Pillow (libjpeg-turbo), Tessera with GDCM's IJG
    # codec; both ISLOW, with YCbCr → RGB done by different code: at most 2 apart.
    tol = 0 if syntax == "native" else 2
    assert np.abs(got.astype(int) - np.moveaxis(ref, -1, 0).astype(int)).max() <= tol
    # Full conformance of both images against Tessera's own level 0 (readers, layout,
    # spacing in micrometer from the shared PixelMeasures, RGB channels).
    um = 0.00025 * 1000
    assert mpp == pytest.approx((um, um))
    level0 = Expected(data=got, axes="cyx", spacing={"y": um, "x": um}, units={"y": "micrometer", "x": "micrometer"},
                      channel_names=["red", "green", "blue"], colors=["FF0000", "00FF00", "0000FF"],
                      name=folder.name, path="0")
    lab = cc.read_level_zarr(out / "1" / "0")
    assert np.abs(lab.astype(int) - np.moveaxis(labels[0], -1, 0).astype(int)).max() <= tol
    label_exp = Expected(data=lab, axes="cyx", spacing={"y": 10.0, "x": 10.0}, units={"y": "micrometer", "x": "micrometer"},
                         channel_names=["red", "green", "blue"], colors=["FF0000", "00FF00", "0000FF"],
                         name="label", path="1")
    cc.check_output(out, Source(arg=str(folder), file=folder, format="dicom", images=[level0, label_exp],
                                bioformats2raw=True), windows=di.RGB_WINDOWS)


def test_wsi_single_instance_file(run_tessera, tmp_path):
    """One instance file (TILED_FULL, JPEG, edge tiles cropped) converts alone."""
    base = slide_pixels(130, 170, seed=23)
    folder = tmp_path / "one"
    facts = di.write_wsi(folder, base, levels=1, syntax="native")
    path = facts["paths"][0]
    out = tmp_path / "one.ome.zarr"
    cc.convert(run_tessera, path, out)
    np.testing.assert_array_equal(cc.read_level_zarr(out / "0"), np.moveaxis(base, -1, 0))
    meta = json.loads((out / "zarr.json").read_text())["attributes"]["tessera"]["source"]["metadata"]
    assert meta["tile"] == [64, 64]


def test_wsi_tiled_sparse(run_tessera, tmp_path):
    """TILED_SPARSE: frames placed by their per-frame positions; a tile left out reads
    as white (as wsidicom fills it)."""
    base = slide_pixels(128, 192, seed=24)
    folder = tmp_path / "sparse"
    di.write_wsi(folder, base, levels=1, syntax="native", sparse=True, drop_tiles={(1, 1)})
    expected = base.copy()
    expected[64:128, 64:128] = 255
    out = tmp_path / "sparse.ome.zarr"
    cc.convert(run_tessera, folder, out)
    np.testing.assert_array_equal(cc.read_level_zarr(out / "0"), np.moveaxis(expected, -1, 0))


REWRITES = {
    # wsidicom's own writer: offset tables of each kind (JPEG frames copied as they are) …
    "bot": {"offset_table": "bot"},
    "eot": {"offset_table": "eot"},
    "no-offset-table": {"offset_table": "empty"},
    # … and transcoded: lossy JPEG 2000 (YBR_ICT), JPEG-LS, RLE, JPEG lossless (whose RGB
    # codestream wsidicom labels YBR_FULL: the component IDs say R, G, B).
    "j2k": {"codec": "Jpeg2kSettings", "args": {"levels": [80]}},
    "jpegls": {"codec": "JpegLsSettings"},
    "rle": {"codec": "RleSettings"},
    "jpeg-lossless": {"codec": "JpegLosslessSettings"},
}


@pytest.mark.parametrize("variant", list(REWRITES))
def test_wsi_written_by_wsidicom(run_tessera, tmp_path, variant):
    """The hand-built slide saved again by wsidicom; Tessera's level 0 and label equal
    wsidicom's reading of that folder exactly (same decoder families: libjpeg-turbo,
    OpenJPEG, CharLS, RLE)."""
    import wsidicom.codec
    from wsidicom import WsiDicom

    src = tmp_path / "src"
    di.write_wsi(src, slide_pixels(seed=25), syntax="jpeg", label=pixels("uint8", (40, 60, 3), seed=26, kind="smooth"))
    spec = REWRITES[variant]
    folder = tmp_path / f"wsidicom_{variant}"
    kwargs = {}
    if "offset_table" in spec:
        kwargs["offset_table"] = spec["offset_table"]
    else:
        kwargs["transcoding"] = getattr(wsidicom.codec, spec["codec"])(**spec.get("args", {}))
    with WsiDicom.open(src) as slide:
        slide.save(folder, **kwargs)
    ref, mpp, labels = wsidicom_level0(folder)
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_tessera, folder, out)
    np.testing.assert_array_equal(cc.read_level_zarr(out / "0" / "0"), np.moveaxis(ref, -1, 0))
    np.testing.assert_array_equal(cc.read_level_zarr(out / "1" / "0"), np.moveaxis(labels[0], -1, 0))
    attrs = json.loads((out / "0" / "zarr.json").read_text())["attributes"]
    scale = attrs["ome"]["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]["scale"]
    assert scale[1:] == pytest.approx([mpp[1], mpp[0]])
