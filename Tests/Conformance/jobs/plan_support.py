"""Helpers of the `tessera plan` tests: a mixed folder of inputs, reading and
schema-checking the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import convert_inputs as ci

SCHEMA = Path(__file__).resolve().parents[3] / "Specs" / "job.schema.json"


def load_manifest(path: Path) -> dict:
    """job.json, checked against Specs/job.schema.json (JSON Schema 2020-12)."""
    import jsonschema

    doc = json.loads(Path(path).read_text())
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)
    return doc


def mixed_folder(root: Path) -> dict:
    """TIFF, OME-TIFF, HDF5 and FITS inputs in subfolders (two named x.tif, an x.tif
    beside an x.tiff), one corrupt file, and files a plan must skip. Returns
    {input path: level-0 pixel bytes} of the images."""
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    (root / "c" / "deep").mkdir(parents=True)
    (root / ".hidden").mkdir()
    sizes = {}
    for p, data in [("a/x.tif", ci.pixels("uint8", (40, 50), seed=1)),
                    ("b/x.tif", ci.pixels("uint16", (60, 70), seed=2)),
                    ("b/x.tiff", ci.pixels("uint16", (3, 20, 30), seed=3))]:
        ci.write_tiff(root / p, data, "yx" if data.ndim == 2 else "zyx")
        sizes[str(root / p)] = data.nbytes
    ome = ci.pixels("uint16", (2, 30, 40), seed=4)
    ci.write_ome_tiff(root / "c" / "plate.ome.tif", [dict(data=ome, axes="CYX")])
    sizes[str(root / "c" / "plate.ome.tif")] = ome.nbytes
    h5 = ci.pixels("float32", (4, 16, 16), seed=5)
    ci.write_hdf5(root / "c" / "deep" / "vol.h5", h5)
    sizes[str(root / "c" / "deep" / "vol.h5")] = h5.nbytes
    from astropy.io import fits
    fd = ci.pixels("int16", (25, 35), seed=6)
    ci.write_fits(root / "c" / "sky.fits", [fits.ImageHDU(fd)])
    sizes[str(root / "c" / "sky.fits")] = fd.nbytes
    (root / "b" / "broken.tif").write_bytes(b"II*\x00" + b"\xff" * 60)
    (root / "a" / "notes.txt").write_text("not an image")
    ci.write_tiff(root / ".hidden" / "skip.tif", np.zeros((4, 4), np.uint8), "yx")
    ci.write_tiff(root / "a" / ".skip.tif", np.zeros((4, 4), np.uint8), "yx")
    return sizes
