"""Where a conversion puts its images (issue 13, item 10; Docs/convert.md, Layout).

A file holding one image is an NGFF image at OUTPUT itself, so every reader opens the
root: bioio-ome-zarr refuses a bioformats2raw root (as older ngff-zarr did), which
Tessera used to write for every OME-TIFF. Files holding several images keep the
bioformats2raw layout. `--resume` over an output begun in the other layout is refused
in one line, touching nothing, instead of finishing into a mix of both.
"""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

import convert_checks as cc
import convert_inputs as ci
import tessera_conformance as tc

YX = ci.ODD_YX


def one_series(tmp):
    return ci.write_ome_tiff(tmp / "one.ome.tif", [dict(data=ci.pixels("uint16", (2, *YX), kind="smooth"), axes="CYX",
                                                        channel_names=["dapi", "gfp"])])


@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
def test_single_series_ome_tiff_opens_at_root(ngff, run_convert, tmp_path):
    """The issue's reproduction: bioio-ome-zarr and ngff-zarr open OUTPUT itself."""
    import ngff_zarr
    from bioio_ome_zarr import Reader

    src = one_series(tmp_path)
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, ngff, chunks=16))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = Reader(str(out))
        assert reader.channel_names == ["dapi", "gfp"]
        tc.assert_pixels_equal(np.asarray(reader.data), src.images[0].data, "bioio-ome-zarr at the root")
        ms = ngff_zarr.from_ngff_zarr(str(out))
    tc.assert_pixels_equal(np.asarray(ms.images[0].data), src.images[0].data, "ngff-zarr at the root")
    fmt, _ = cc.array_meta(out / "0")  # OUTPUT/0 is level 0, not an image group
    assert fmt == (3 if ngff == "0.5" else 2)


def test_several_series_keep_bioformats2raw(run_convert, tmp_path):
    """Two series: the bioformats2raw layout (0/, 1/, OME/), each image opens in bioio."""
    from bioio_ome_zarr import Reader

    src = ci.write_ome_tiff(tmp_path / "two.ome.tif", [dict(data=ci.pixels("uint8", YX), axes="YX"),
                                                       dict(data=ci.pixels("uint16", (3, 21, 40)), axes="ZYX")])
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, chunks=16))
    cc.check_output(out, src, method="mean", chunks=16, readers=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for exp in src.images:
            tc.assert_pixels_equal(np.asarray(Reader(str(out / exp.path)).data), exp.data, f"bioio {exp.path}")


def old_layout(out, src, run_convert, tmp_path, ngff, complete: bool):
    """What an earlier Tessera wrote for a single-series OME-TIFF: the image at OUTPUT/0
    (built here from a fresh conversion moved under 0/), the bioformats2raw root and OME
    group only when the run finished (they were written last)."""
    import zarr

    fresh = tmp_path / "fresh.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, fresh, ngff, chunks=16))
    out.mkdir()
    shutil.move(str(fresh), str(out / "0"))
    shutil.move(str(out / "0" / "OME"), str(out / "OME"))
    if not complete:  # killed: the image's group metadata was not written yet either
        for name in ("zarr.json", ".zattrs", ".zgroup"):
            (out / "0" / name).unlink(missing_ok=True)
        return
    fmt = 3 if ngff == "0.5" else 2
    root = zarr.open_group(str(out), mode="a", zarr_format=fmt)
    root.attrs.update({"ome": {"version": "0.5", "bioformats2raw.layout": 3}} if fmt == 3 else {"bioformats2raw.layout": 3})
    zarr.open_group(str(out / "OME"), mode="a", zarr_format=fmt)


@pytest.mark.parametrize("complete", [False, True], ids=["killed", "finished"])
@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
def test_resume_of_old_layout_is_refused(complete, ngff, run_convert, tmp_path):

    src = one_series(tmp_path)
    out = tmp_path / "out.ome.zarr"
    old_layout(out, src, run_convert, tmp_path, ngff, complete)
    before = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    args = cc.convert_args(src.arg, out, ngff, chunks=16, extra=["--resume"])
    proc = run_convert.convert(*args)
    label = run_convert.format(["convert", *args])
    assert proc.returncode != 0, f"{label}: a resume into the old layout exited 0 (mixed layout): {sorted(before)}"
    # An earlier Tessera left no record of its run (.tessera-output.json), so the resume is
    # refused before the layout is looked at: nothing mixes, nothing changes.
    cc.assert_clean_failure(proc, [out.name, "older Tessera", "--overwrite"], label)
    after = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before, f"{label}: the refused resume changed the output"


def test_resume_of_new_layout_still_finishes(run_convert, tmp_path):
    """The check does not refuse what this version wrote: a finished single image resumes to 'complete'."""
    src = one_series(tmp_path)
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, chunks=16))
    cc.convert(run_convert, *cc.convert_args(src.arg, out, chunks=16, extra=["--resume"]))
    cc.check_output(out, src, method="mean", chunks=16, readers=False)
