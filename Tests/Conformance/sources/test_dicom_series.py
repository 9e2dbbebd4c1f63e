"""DICOM series, single files and multi-frame instances converted by `tessera convert`,
compared with pydicom (+ pylibjpeg / pyjpegls decoders) reading the same files.

Series are written by pydicom with shuffled file names and shuffled InstanceNumbers and
tilted slices, so only the position along the slice normal orders them. Every output is
checked by convert_checks (zarr-python, tensorstore, ome-zarr-py, ome-zarr-models on
every level).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest

import convert_checks as cc
import dicom_inputs as di
from convert_inputs import Expected, Source, pixels


def series_data(dtype="int16", shape=(5, 40, 48), seed=3) -> np.ndarray:
    data = pixels(dtype, shape, seed=seed, kind="smooth")
    return data


def positions_along_normal(paths) -> np.ndarray:
    """Slice positions the way a reader computes them: IPP · (row × column)."""
    dss = [pydicom.dcmread(p, stop_before_pixels=True) for p in paths]
    n = di.normal_of([float(v) for v in dss[0].ImageOrientationPatient])
    return np.sort([float(np.dot([float(v) for v in d.ImagePositionPatient], n)) for d in dss])


def tessera_source_metadata(out: Path) -> dict:
    attrs = json.loads((out / "zarr.json").read_text())["attributes"]
    return attrs["tessera"]["source"]["metadata"]


@pytest.mark.parametrize("syntax", ["implicit", "explicit", "rle", "jpegls", "j2k"])
def test_series_ordered_by_position(run_tessera, tmp_path, syntax):
    data = series_data()
    folder = tmp_path / f"series_{syntax}"
    facts = di.write_series(folder, data, syntax=di.SYNTAXES[syntax])
    ref = di.reference_series(facts["paths"])
    # pydicom's read sorted by position is the array written (names and numbers shuffled).
    np.testing.assert_array_equal(ref, data)
    steps = np.diff(positions_along_normal(facts["paths"]))
    z = float(np.sort(steps)[len(steps) // 2])
    out = tmp_path / "out.ome.zarr"
    cc.convert(run_tessera, folder, out)
    exp = Expected(data=ref, axes="zyx", spacing={"z": z, "y": 0.7, "x": 0.6},
                   units={"z": "millimeter", "y": "millimeter", "x": "millimeter"})
    cc.check_output(out, Source(arg=str(folder), file=folder, format="dicom", images=[exp]))
    meta = tessera_source_metadata(out)
    # Stored values are kept exactly; the rescale to Hounsfield units is recorded.
    assert meta["rescale"] == {"slope": 1.0, "intercept": -1024.0, "type": "HU", "applied": False}, meta["rescale"]
    assert len(meta["files"]) == data.shape[0]
    assert meta["dicom"]["0020000E"]["Value"] == [facts["series_uid"]]


def test_series_with_differing_rescale_is_rescaled(run_tessera, tmp_path):
    """PET-style series: each slice has its own slope, so stored values are not comparable
    across slices; Tessera applies each slice's rescale (float32) and says so."""
    data = series_data("uint16", (3, 24, 20))
    folder = tmp_path / "pet"
    facts = di.write_series(folder, data, rescale=None)
    slopes = [0.5, 2.0, 0.25]
    for p in facts["paths"]:
        ds = pydicom.dcmread(p)
        k = int(np.argmin([abs(v - float(np.dot([float(x) for x in ds.ImagePositionPatient],
                                                   di.normal_of(di.tilted_orientation()))))
                           for v in positions_along_normal(facts["paths"])]))
        ds.RescaleSlope = str(slopes[k])
        ds.RescaleIntercept = "10"
        ds.save_as(p)
    dss = sorted((pydicom.dcmread(p) for p in facts["paths"]),
                 key=lambda d: float(np.dot([float(x) for x in d.ImagePositionPatient], di.normal_of(di.tilted_orientation()))))
    ref = np.stack([(d.pixel_array.astype(np.float64) * float(d.RescaleSlope) + float(d.RescaleIntercept)).astype(np.float32)
                    for d in dss])
    out = tmp_path / "pet.ome.zarr"
    cc.convert(run_tessera, folder, out)
    got = cc.read_level_zarr(out / "0")
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, ref)
    assert tessera_source_metadata(out)["rescale"]["applied"] is True


@pytest.mark.parametrize("syntax", ["explicit", "rle", "j2k"])
def test_multiframe_file(run_tessera, tmp_path, syntax):
    data = series_data("uint16", (4, 32, 36), seed=5)
    path = di.write_multiframe(tmp_path / f"mf_{syntax}.dcm", data, syntax=di.SYNTAXES[syntax])
    ref = di.reference_file(path)
    np.testing.assert_array_equal(ref, data)
    out = tmp_path / "mf.ome.zarr"
    cc.convert(run_tessera, path, out)
    exp = Expected(data=ref, axes="zyx", spacing={"z": 1.5, "y": 0.5, "x": 0.4},
                   units={"z": "millimeter", "y": "millimeter", "x": "millimeter"})
    cc.check_output(out, Source(arg=str(path), file=path, format="dicom", images=[exp]))


@pytest.mark.parametrize("syntax", ["explicit", "rle", "jpegls"])
def test_rgb_multiframe(run_tessera, tmp_path, syntax):
    rgb = pixels("uint8", (3, 30, 34, 3), seed=7, kind="smooth")
    path = di.write_multiframe(tmp_path / f"rgb_{syntax}.dcm", rgb, syntax=di.SYNTAXES[syntax])
    ref = di.reference_file(path)  # (c, z, y, x)
    np.testing.assert_array_equal(ref, np.moveaxis(rgb, -1, 0))
    out = tmp_path / "rgb.ome.zarr"
    cc.convert(run_tessera, path, out)
    exp = Expected(data=ref, axes="czyx", spacing={"z": 1.5, "y": 0.5, "x": 0.4},
                   units={"z": "millimeter", "y": "millimeter", "x": "millimeter"},
                   channel_names=["red", "green", "blue"], colors=["FF0000", "00FF00", "0000FF"])
    cc.check_output(out, Source(arg=str(path), file=path, format="dicom", images=[exp]), windows=di.RGB_WINDOWS)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint32", "int32"])
def test_bits_allocated(run_tessera, tmp_path, dtype):
    data = pixels(dtype, (2, 20, 22), seed=11)
    path = di.write_multiframe(tmp_path / f"bits_{dtype}.dcm", data)
    ref = di.reference_file(path)
    np.testing.assert_array_equal(ref, data)
    out = tmp_path / "bits.ome.zarr"
    cc.convert(run_tessera, path, out)
    np.testing.assert_array_equal(cc.read_level_zarr(out / "0"), ref)


def test_monochrome1_keeps_stored_values(run_tessera, tmp_path):
    data = series_data("uint16", (1, 16, 18))
    folder = tmp_path / "mono1"
    facts = di.write_series(folder, data, photometric="MONOCHROME1", rescale=None)
    out = tmp_path / "m1.ome.zarr"
    cc.convert(run_tessera, facts["paths"][0], out)
    np.testing.assert_array_equal(cc.read_level_zarr(out / "0"), pydicom.dcmread(facts["paths"][0]).pixel_array)
    assert tessera_source_metadata(out)["photometricInterpretation"] == "MONOCHROME1"


def test_jpeg_baseline_rgb(run_tessera, tmp_path):
    """Lossy JPEG: exact against libjpeg-turbo (imagecodecs) decoding the same frame to RGB
    (same IJG ISLOW IDCT, fancy upsampling and YCbCr conversion as GDCM's codec); pydicom,
    which upsamples chroma and converts YBR_FULL_422 to RGB itself in floating point,
    within 4 per sample (3 measured)."""
    import imagecodecs
    from pydicom.encaps import generate_frames

    rgb = pixels("uint8", (48, 40, 3), seed=13, kind="smooth")
    path = di.write_jpeg_baseline(tmp_path / "jpeg.dcm", rgb)
    ds = pydicom.dcmread(path)
    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    turbo = np.moveaxis(imagecodecs.jpeg8_decode(frame), -1, 0)
    out = tmp_path / "jpeg.ome.zarr"
    cc.convert(run_tessera, path, out)
    got = cc.read_level_zarr(out / "0")
    np.testing.assert_array_equal(got, turbo)
    assert np.abs(got.astype(int) - di.reference_file(path).astype(int)).max() <= 4
    exp = Expected(data=got, axes="cyx", channel_names=["red", "green", "blue"], colors=["FF0000", "00FF00", "0000FF"])
    cc.check_output(out, Source(arg=str(path), file=path, format="dicom", images=[exp]), windows=di.RGB_WINDOWS)


def test_pydicom_test_files(run_tessera, tmp_path):
    """pydicom's own test files: JPEG 2000 lossy, JPEG-LS, JPEG lossless RGB, RLE RGB,
    12-bit JPEG extended."""
    from pydicom.data import get_testdata_file

    exact = ["CT_small.dcm", "MR_small_RLE.dcm", "JPEG2000.dcm", "MR_small_jpeg_ls_lossless.dcm",
             "MR_small_jp2klossless.dcm", "SC_rgb_rle.dcm", "SC_rgb_jpeg_gdcm.dcm"]
    for name in exact:
        src = get_testdata_file(name)
        out = tmp_path / f"{name}.ome.zarr"
        cc.convert(run_tessera, src, out)
        np.testing.assert_array_equal(cc.read_level_zarr(out / "0"), di.reference_file(src), err_msg=name)
    # 12-bit lossy JPEG: GDCM's 12-bit IJG decoder and pylibjpeg's libjpeg differ in
    # IDCT rounding by at most one unit.
    src = get_testdata_file("JPGExtended.dcm")
    out = tmp_path / "ext.ome.zarr"
    cc.convert(run_tessera, src, out)
    diff = np.abs(cc.read_level_zarr(out / "0").astype(int) - di.reference_file(src).astype(int))
    assert diff.max() <= 1, diff.max()


def test_study_folder_of_series_is_a_batch(run_tessera, tmp_path):
    """A folder whose subfolders are series converts each series to NAME.ome.zarr."""
    study = tmp_path / "study"
    a = series_data("int16", (3, 16, 20), seed=31)
    b = series_data("int16", (4, 16, 20), seed=32)
    di.write_series(study / "ct_a", a)
    di.write_series(study / "ct_b", b)
    out = tmp_path / "batch"
    cc.convert(run_tessera, study, out)
    np.testing.assert_array_equal(cc.read_level_zarr(out / "ct_a.ome.zarr" / "0"), a)
    np.testing.assert_array_equal(cc.read_level_zarr(out / "ct_b.ome.zarr" / "0"), b)


def test_series_resume_checks_the_folder(run_tessera, tmp_path):
    """--resume of a finished series output is accepted; after a slice is rewritten the
    folder is another source and the resume is refused, naming the output."""
    data = series_data("int16", (3, 16, 20), seed=33)
    folder = tmp_path / "ser"
    facts = di.write_series(folder, data)
    out = tmp_path / "ser.ome.zarr"
    cc.convert(run_tessera, folder, out)
    cc.convert(run_tessera, folder, out, "--resume")
    ds = pydicom.dcmread(facts["paths"][0])
    ds.PixelData = (np.asarray(ds.pixel_array) + 1).astype(np.int16).tobytes()
    ds.save_as(facts["paths"][0])
    proc = run_tessera("convert", folder, out, "--resume")
    assert proc.returncode == 1, proc.stderr
    assert "ser" in proc.stderr and "resume" in proc.stderr.lower(), proc.stderr


def test_enhanced_multiframe_per_frame_rescale(run_tessera, tmp_path):
    """An enhanced multi-frame whose frames rescale differently (per-frame Pixel Value
    Transformation): each frame rescaled by its own slope and intercept, to float32."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    data = series_data("uint16", (3, 12, 14), seed=34)
    path = di.write_multiframe(tmp_path / "enh.dcm", data)
    ds = pydicom.dcmread(path)
    slopes, intercepts = [1.0, 0.5, 4.0], [0.0, -5.0, 100.0]
    per = []
    for k in range(3):
        t = Dataset()
        t.RescaleSlope, t.RescaleIntercept, t.RescaleType = str(slopes[k]), str(intercepts[k]), "US"
        item = Dataset()
        item.PixelValueTransformationSequence = Sequence([t])
        per.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per)
    ds.save_as(path)
    ref = np.stack([(data[k].astype(np.float64) * slopes[k] + intercepts[k]).astype(np.float32) for k in range(3)])
    out = tmp_path / "enh.ome.zarr"
    cc.convert(run_tessera, path, out)
    np.testing.assert_array_equal(cc.read_level_zarr(out / "0"), ref)


def test_series_folder_with_dicomdir(run_tessera, tmp_path):
    """A DICOMDIR beside the slices is skipped; a folder holding only a DICOMDIR (a disc's
    root) is not a DICOM input but a batch folder whose series subfolders convert."""
    from pydicom.fileset import FileSet

    data = series_data("int16", (3, 16, 20), seed=35)
    folder = tmp_path / "disc" / "series1"
    facts = di.write_series(folder, data)
    fs = FileSet()
    for p in facts["paths"]:
        fs.add(pydicom.dcmread(p))
    staged = tmp_path / "staged"
    fs.write(staged)
    (folder / "DICOMDIR").write_bytes((staged / "DICOMDIR").read_bytes())
    (tmp_path / "disc" / "DICOMDIR").write_bytes((staged / "DICOMDIR").read_bytes())
    out = tmp_path / "one.ome.zarr"
    cc.convert(run_tessera, folder, out)
    np.testing.assert_array_equal(cc.read_level_zarr(out / "0"), data)
    batch = tmp_path / "batch"
    cc.convert(run_tessera, tmp_path / "disc", batch)
    np.testing.assert_array_equal(cc.read_level_zarr(batch / "series1.ome.zarr" / "0"), data)
