"""`tessera convert --use-existing-levels`: a TIFF's own SubIFD pyramid is copied level by
level (Docs/convert.md, "Pyramid"), read back exactly by zarr-python and tensorstore, and
the image validates with ome-zarr-models."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

import convert_checks as cc


@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
def test_subifd_pyramid_is_copied_not_recomputed(ngff, run_convert, tmp_path):
    rng = np.random.default_rng(11)
    base = rng.integers(0, 60000, size=(3, 300, 410), dtype=np.uint16)
    # Reduced levels made by decimation, which a mean pyramid would never produce:
    # equality proves the stored pages were copied.
    levels = [base, base[:, ::2, ::2], base[:, ::4, ::4]]
    src = tmp_path / "pyramid.tif"
    with tifffile.TiffWriter(src) as tif:
        tif.write(levels[0], subifds=2, tile=(64, 64), photometric="minisblack")
        for level in levels[1:]:
            tif.write(level, subfiletype=1, tile=(64, 64), photometric="minisblack")
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args([src], out, ngff=ngff, method="nearest", chunks=32, extra=["--use-existing-levels"]))
    ome = cc.ome_attrs(out, ngff)
    datasets = ome["multiscales"][0]["datasets"]
    assert [d["path"] for d in datasets] == ["0", "1", "2"]
    for i, (d, expected) in enumerate(zip(datasets, levels)):
        scale = next(t["scale"] for t in d["coordinateTransformations"] if t["type"] == "scale")
        assert scale == [1, 2 ** i, 2 ** i], f"level {i} scale {scale}"
        got = cc.read_level_zarr(out / d["path"])
        np.testing.assert_array_equal(got, expected, err_msg=f"level {i} (zarr-python)")
        np.testing.assert_array_equal(cc.read_level_tensorstore(out / d["path"], ngff), expected, err_msg=f"level {i} (tensorstore)")
    cc.validate_models(out, ngff)
