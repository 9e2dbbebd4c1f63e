"""Bad DICOM input to `tessera convert`: one line on stderr naming the file (or folder and
series), a non-zero exit that is not a crash, nothing marked complete."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

import convert_checks as cc
import dicom_inputs as di
from convert_inputs import pixels


def data(shape=(3, 20, 24)):
    return pixels("int16", shape, seed=1, kind="smooth")


def mixed_series(tmp):
    folder = tmp / "mixed"
    a = di.write_series(folder, data(), seed=1)
    b = di.write_series(folder, data((2, 20, 24)), seed=2)
    return folder, [folder.name, a["series_uid"], b["series_uid"]]


def truncated_native(tmp):
    p = di.write_multiframe(tmp / "trunc.dcm", pixels("uint16", (4, 32, 32), seed=2))
    blob = p.read_bytes()
    p.write_bytes(blob[: len(blob) - 3000])
    return p, [p.name, "truncated"]


def truncated_in_series(tmp):
    folder = tmp / "series"
    facts = di.write_series(folder, data(), seed=3)
    victim = facts["paths"][1]
    victim.write_bytes(victim.read_bytes()[:-100])
    return folder, [victim.name, "truncated"]


def truncated_encapsulated(tmp):
    p = di.write_multiframe(tmp / "trunc_rle.dcm", pixels("uint16", (4, 32, 32), seed=4), syntax=di.SYNTAXES["rle"])
    blob = p.read_bytes()
    p.write_bytes(blob[: len(blob) - 40])
    return p, [p.name, "truncated"]


def frames_exceed_data(tmp):
    p = di.write_multiframe(tmp / "frames.dcm", pixels("uint16", (4, 32, 32), seed=5))
    ds = pydicom.dcmread(p)
    ds.NumberOfFrames = 9
    ds.save_as(p)
    return p, [p.name, "9 frame"]


def frames_exceed_fragments(tmp):
    p = di.write_multiframe(tmp / "frames_rle.dcm", pixels("uint16", (4, 32, 32), seed=6), syntax=di.SYNTAXES["rle"])
    ds = pydicom.dcmread(p)
    ds.NumberOfFrames = 6
    ds.save_as(p)
    return p, [p.name, "6 frames"]


def corrupt_jpeg_frame(tmp):
    """A JPEG baseline frame whose entropy-coded data is overwritten: fails while
    converting (after the output was started), never crashes."""
    rgb = pixels("uint8", (64, 64, 3), seed=7, kind="smooth")
    p = di.write_jpeg_baseline(tmp / "corrupt.dcm", rgb)
    blob = bytearray(p.read_bytes())
    soi = blob.index(b"\xff\xd8\xff")
    sos = blob.index(b"\xff\xda", soi)
    blob[sos + 2: sos + 4] = b"\xff\xff"  # a nonsense SOS length
    p.write_bytes(bytes(blob))
    return p, [p.name]


def not_dicom_in_folder(tmp):
    folder = tmp / "half"
    di.write_series(folder, data(), seed=8)
    (folder / "notes.txt").write_text("not an image")
    return folder, ["half"]


CASES = [mixed_series, truncated_native, truncated_in_series, truncated_encapsulated, frames_exceed_data,
         frames_exceed_fragments, corrupt_jpeg_frame]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_bad_dicom(run_tessera, tmp_path, case):
    arg, names = case(tmp_path)
    out = tmp_path / "out.ome.zarr"
    proc = run_tessera("convert", arg, out)
    cc.assert_clean_failure(proc, names, case.__name__, out)


def test_mixed_series_error_names_both_and_folder(run_tessera, tmp_path):
    folder, (name, a, b) = mixed_series(tmp_path)
    proc = run_tessera("convert", folder, tmp_path / "o.ome.zarr")
    line = proc.stderr.strip()
    assert "mixes 2 DICOM series" in line and a in line and b in line and name in line, line


def test_folder_with_other_files_is_a_batch(run_tessera, tmp_path):
    """A folder that is not all DICOM keeps the batch rule: its image files are the
    inputs (none here), so the error is the batch one, not a DICOM one."""
    folder, names = not_dicom_in_folder(tmp_path)
    proc = run_tessera("convert", folder, tmp_path / "o")
    cc.assert_clean_failure(proc, names, "not all DICOM")


def test_two_slides_in_one_folder(run_tessera, tmp_path):
    """Two whole-slide pyramids (two series) in one folder: refused, naming both series."""
    folder = tmp_path / "two_slides"
    base = pixels("uint8", (64, 64, 3), seed=9, kind="smooth")
    di.write_wsi(folder / "a", base, levels=1, syntax="native")
    di.write_wsi(folder / "b", base, levels=1, syntax="native")
    for sub in ("a", "b"):
        (folder / sub / "level0.dcm").rename(folder / f"{sub}.dcm")
        (folder / sub).rmdir()
    uids = sorted(str(pydicom.dcmread(folder / f"{s}.dcm", stop_before_pixels=True).SeriesInstanceUID) for s in "ab")
    out = tmp_path / "o.ome.zarr"
    proc = run_tessera("convert", folder, out)
    cc.assert_clean_failure(proc, ["two_slides", *uids], "two slides", out)
