"""DICOM test inputs written at test time with pydicom (and its encoders), highdicom and
imagecodecs; and the reference reads (pydicom + pylibjpeg, wsidicom) of the same files.

Nothing here is a committed binary: every file is made by the real tools in tmp_path.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
    generate_uid,
)

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
SC_IMAGE = "1.2.840.10008.5.1.4.1.1.7"
WSI = "1.2.840.10008.5.1.4.1.1.77.1.6"

SYNTAXES = {
    "implicit": ImplicitVRLittleEndian,
    "explicit": ExplicitVRLittleEndian,
    "rle": RLELossless,
    "jpegls": JPEGLSLossless,
    "j2k": JPEG2000Lossless,
}


def tilted_orientation(angle_deg: float = 20.0) -> list:
    """Row and column direction cosines of slices tilted about x by `angle_deg`."""
    a = np.deg2rad(angle_deg)
    row = [1.0, 0.0, 0.0]
    col = [0.0, float(np.cos(a)), float(np.sin(a))]
    return row + col


def normal_of(iop) -> np.ndarray:
    return np.cross(np.array(iop[:3]), np.array(iop[3:]))


def base_dataset(sop_class: str, syntax: str, series_uid: str, study_uid: str) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian if syntax not in (ImplicitVRLittleEndian,) else ImplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.Modality = "CT" if sop_class == CT_IMAGE else "OT"
    ds.PatientName = "Test^Tessera"
    ds.PatientID = "T-1"
    # What a DICOMDIR's STUDY and SERIES records need.
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.SeriesNumber = "20260101", "120000", "1", 1
    return ds


def set_pixels(ds: Dataset, frame: np.ndarray, photometric: str | None = None) -> None:
    """Native pixel data for a (y, x) or (y, x, 3) array (or frames of them)."""
    arr = np.ascontiguousarray(frame)
    colour = arr.ndim >= 3 and arr.shape[-1] == 3
    ds.Rows, ds.Columns = arr.shape[-3:-1] if colour else arr.shape[-2:]
    ds.SamplesPerPixel = 3 if colour else 1
    ds.PhotometricInterpretation = photometric or ("RGB" if colour else "MONOCHROME2")
    if colour:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = arr.dtype.itemsize * 8
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if arr.dtype.kind == "i" else 0
    ds.PixelData = arr.astype(arr.dtype.newbyteorder("<")).tobytes()


def save(ds: Dataset, path: Path, syntax: str) -> Path:
    if syntax in (ImplicitVRLittleEndian, ExplicitVRLittleEndian):
        ds.file_meta.TransferSyntaxUID = syntax
        ds.save_as(path, enforce_file_format=True, little_endian=True, implicit_vr=syntax == ImplicitVRLittleEndian)
    else:
        ds.compress(syntax)
        ds.save_as(path, enforce_file_format=True)
    return path


def write_series(folder: Path, data: np.ndarray, *, syntax=ExplicitVRLittleEndian, pixel_spacing=(0.7, 0.6),
                 z_step=2.5, orientation=None, rescale=(1.0, -1024.0), series_uid=None, study_uid=None,
                 seed=0, start=(-100.0, -80.0, 30.0), photometric=None) -> dict:
    """Slices data[k] at start + k * z_step * normal, written under shuffled file names
    with shuffled InstanceNumbers (so neither orders them). Returns facts for the test."""
    folder.mkdir(parents=True, exist_ok=True)
    iop = orientation or tilted_orientation()
    n = normal_of(iop)
    series_uid = series_uid or generate_uid()
    study_uid = study_uid or generate_uid()
    rng = random.Random(seed)
    names = [f"IMG{rng.randrange(10**6):06d}_{k}" for k in range(data.shape[0])]
    rng.shuffle(names)
    numbers = list(range(1, data.shape[0] + 1))
    rng.shuffle(numbers)
    paths = []
    for k in range(data.shape[0]):
        ds = base_dataset(CT_IMAGE, syntax, series_uid, study_uid)
        ds.InstanceNumber = numbers[k]
        ds.ImageOrientationPatient = [f"{v:.6f}" for v in iop]
        pos = np.array(start) + k * z_step * n
        ds.ImagePositionPatient = [f"{v:.6f}" for v in pos]
        ds.PixelSpacing = [f"{pixel_spacing[0]}", f"{pixel_spacing[1]}"]
        ds.SliceThickness = f"{z_step}"
        if rescale is not None:
            ds.RescaleSlope = f"{rescale[0]}"
            ds.RescaleIntercept = f"{rescale[1]}"
            ds.RescaleType = "HU"
        set_pixels(ds, data[k], photometric)
        paths.append(save(ds, folder / names[k], syntax))
    return {"series_uid": series_uid, "study_uid": study_uid, "paths": paths}


def write_multiframe(path: Path, data: np.ndarray, *, syntax=ExplicitVRLittleEndian, pixel_spacing=(0.5, 0.4),
                     z_step=1.5) -> Path:
    """A multi-frame Secondary Capture-like instance of data (frames, y, x[, 3])."""
    ds = base_dataset(SC_IMAGE, syntax, generate_uid(), generate_uid())
    ds.NumberOfFrames = data.shape[0]
    ds.PixelSpacing = [f"{pixel_spacing[0]}", f"{pixel_spacing[1]}"]
    ds.SpacingBetweenSlices = f"{z_step}"
    set_pixels(ds, data)
    return save(ds, path, syntax)


def write_jpeg_baseline(path: Path, rgb: np.ndarray) -> Path:
    """One 8-bit RGB frame as JPEG baseline (imagecodecs' libjpeg-turbo), YBR_FULL_422."""
    import imagecodecs

    ds = base_dataset(SC_IMAGE, JPEGBaseline8Bit, generate_uid(), generate_uid())
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.Rows, ds.Columns = rgb.shape[:2]
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = encapsulate([imagecodecs.jpeg8_encode(rgb, level=90)])
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)
    return path


def reference_series(paths) -> np.ndarray:
    """pydicom's reading of a series: slices sorted by position along the normal."""
    dss = [pydicom.dcmread(p) for p in paths]
    iop = [float(v) for v in dss[0].ImageOrientationPatient]
    n = normal_of(iop)
    dss.sort(key=lambda d: float(np.dot([float(v) for v in d.ImagePositionPatient], n)))
    return np.stack([d.pixel_array for d in dss])


def reference_file(path) -> np.ndarray:
    """pydicom's pixel_array of one file in NGFF order ([c,] [z,] y, x)."""
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array
    if ds.get("SamplesPerPixel", 1) == 3:
        arr = np.moveaxis(arr, -1, 0)
    return arr


# ---------------------------------------------------------------------------
# Whole-slide microscopy (VL WSM), built with pydicom: deterministic, and read back by
# wsidicom as the reference.
# ---------------------------------------------------------------------------

def wsi_instance(image: np.ndarray, tile: int, *, image_type: str, study_uid: str, series_uid: str,
                 frame_of_reference: str, pixel_spacing_mm: float, syntax: str = "jpeg",
                 sparse: bool = False, drop_tiles=()) -> Dataset:
    """One WSI instance holding `image` (y, x, 3 uint8) as tile × tile frames, TILED_FULL
    (or TILED_SPARSE with per-frame positions, leaving out `drop_tiles`)."""
    import imagecodecs
    from pydicom.sequence import Sequence

    h, w = image.shape[:2]
    across, down = -(-w // tile), -(-h // tile)
    frames, positions = [], []
    for ty in range(down):
        for tx in range(across):
            if (ty, tx) in drop_tiles:
                continue
            t = np.full((tile, tile, 3), 255, np.uint8)
            part = image[ty * tile:(ty + 1) * tile, tx * tile:(tx + 1) * tile]
            t[:part.shape[0], :part.shape[1]] = part
            if syntax == "jpeg":
                frames.append(imagecodecs.jpeg8_encode(t, level=95))
            else:
                frames.append(t.tobytes())
            positions.append((tx * tile + 1, ty * tile + 1))
    ts = JPEGBaseline8Bit if syntax == "jpeg" else ExplicitVRLittleEndian
    ds = base_dataset(WSI, ts, series_uid, study_uid)
    ds.file_meta.TransferSyntaxUID = ts
    ds.Modality = "SM"
    ds.ImageType = ["ORIGINAL", "PRIMARY", image_type, "NONE"]
    ds.FrameOfReferenceUID = frame_of_reference
    ds.ContainerIdentifier = "SLIDE-1"
    ds.Manufacturer = "Tessera tests"
    ds.InstanceNumber = 1
    ds.Rows = ds.Columns = tile
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "YBR_FULL_422" if syntax == "jpeg" else "RGB"
    ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.NumberOfFrames = len(frames)
    ds.TotalPixelMatrixColumns = w
    ds.TotalPixelMatrixRows = h
    ds.TotalPixelMatrixFocalPlanes = 1
    ds.NumberOfOpticalPaths = 1
    ds.DimensionOrganizationType = "TILED_SPARSE" if sparse else "TILED_FULL"
    ds.ImagedVolumeWidth = w * pixel_spacing_mm
    ds.ImagedVolumeHeight = h * pixel_spacing_mm
    ds.ImagedVolumeDepth = 0.001
    ds.FocusMethod = "AUTO"
    ds.ExtendedDepthOfField = "NO"
    ds.AcquisitionDateTime = "20260101120000"
    ds.ImageOrientationSlide = ["0", "-1", "0", "-1", "0", "0"]
    origin = Dataset()
    origin.XOffsetInSlideCoordinateSystem = "20"
    origin.YOffsetInSlideCoordinateSystem = "40"
    ds.TotalPixelMatrixOriginSequence = Sequence([origin])
    path = Dataset()
    path.OpticalPathIdentifier = "1"
    illum = Dataset()
    illum.CodeValue, illum.CodingSchemeDesignator, illum.CodeMeaning = "111744", "DCM", "Brightfield illumination"
    path.IlluminationTypeCodeSequence = Sequence([illum])
    colour = Dataset()
    colour.CodeValue, colour.CodingSchemeDesignator, colour.CodeMeaning = "414298005", "SCT", "Full Spectrum"
    path.IlluminationColorCodeSequence = Sequence([colour])
    ds.OpticalPathSequence = Sequence([path])
    measures = Dataset()
    measures.PixelSpacing = [f"{pixel_spacing_mm}", f"{pixel_spacing_mm}"]
    measures.SliceThickness = "0.001"
    shared = Dataset()
    shared.PixelMeasuresSequence = Sequence([measures])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    if sparse:
        per = []
        for col, row in positions:
            pos = Dataset()
            pos.ColumnPositionInTotalImagePixelMatrix = col
            pos.RowPositionInTotalImagePixelMatrix = row
            pos.XOffsetInSlideCoordinateSystem = "0"
            pos.YOffsetInSlideCoordinateSystem = "0"
            pos.ZOffsetInSlideCoordinateSystem = "0"
            item = Dataset()
            item.PlanePositionSlideSequence = Sequence([pos])
            per.append(item)
        ds.PerFrameFunctionalGroupsSequence = Sequence(per)
    if syntax == "jpeg":
        ds.PixelData = encapsulate(frames, has_bot=True)
        ds["PixelData"].VR = "OB"
        ds.LossyImageCompression = "01"
    else:
        ds.PixelData = b"".join(frames)
    return ds


def write_wsi(folder: Path, base: np.ndarray, *, tile=64, spacing_mm=0.00025, syntax="jpeg",
              levels=2, label: np.ndarray | None = None, sparse=False, drop_tiles=()) -> dict:
    """A slide folder: `levels` VOLUME instances (each half the last), and a LABEL."""
    folder.mkdir(parents=True, exist_ok=True)
    study, series, frame_ref = generate_uid(), generate_uid(), generate_uid()
    paths = []
    image = base
    for level in range(levels):
        ds = wsi_instance(image, tile, image_type="VOLUME", study_uid=study, series_uid=series,
                          frame_of_reference=frame_ref, pixel_spacing_mm=spacing_mm * 2**level, syntax=syntax,
                          sparse=sparse and level == 0, drop_tiles=drop_tiles if level == 0 else ())
        ds.InstanceNumber = level + 1
        p = folder / f"level{level}.dcm"
        ds.save_as(p, enforce_file_format=True)
        paths.append(p)
        image = image[::2, ::2]
    if label is not None:
        ds = wsi_instance(label, max(label.shape[:2]), image_type="LABEL", study_uid=study, series_uid=generate_uid(),
                          frame_of_reference=frame_ref, pixel_spacing_mm=0.01, syntax=syntax)
        p = folder / "label.dcm"
        ds.save_as(p, enforce_file_format=True)
        paths.append(p)
    return {"paths": paths}


# RGB images carry the source-dictated window 0…255 (ChannelInfo.rgb), not a histogram's.
RGB_WINDOWS = [{"min": 0, "max": 255, "start": 0, "end": 255}] * 3
