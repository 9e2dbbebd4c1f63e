"""Writes Gatan DigitalMicrograph DM3/DM4 files for the DM conformance tests.

No DM writer exists on PyPI, so this one follows the layout ncempy and RosettaSciIO read
(Docs/convert.md, "Gatan DM3/DM4"): a big-endian header (version, root length — u32 in
DM3, u64 in DM4 —, byte-order flag), the root tag group, 8 zero bytes. Structural fields
are big-endian; tag values and image data follow the flag. Like a file saved by
DigitalMicrograph, `ImageList` holds an RGBA thumbnail first (listed under `Thumbnails`)
and then the image, so readers must skip the thumbnail.

`write_dm(path, data, version=...)` returns the file; `bad_dm(path, case)` writes the
damaged ones (unknown tag type, truncated, count larger than the file, depth bomb).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

# numpy dtype -> DM tag type, and DM image DataType
TAG_TYPE = {"int16": 2, "int32": 3, "uint16": 4, "uint32": 5, "float32": 6, "float64": 7, "bool": 8,
            "int8": 9, "uint8": 10, "int64": 11, "uint64": 12}
IMAGE_TYPE = {"int16": 1, "float32": 2, "uint8": 6, "int32": 7, "int8": 9, "uint16": 10, "uint32": 11, "float64": 12}
RGBA = 23


class Str18(str):
    """A type-18 string tag (its length counts UTF-8 bytes, as ncempy and RosettaSciIO read it);
    plain `str` is written as DM usually does, a uint16 array."""


class Raw:
    """A data tag with hand-made type words and payload (for damaged files)."""

    def __init__(self, info: list, payload: bytes = b""):
        self.info, self.payload = info, payload


class Tags:
    """Encodes a tag tree: dict = group, list = group of unnamed entries, numpy scalar = that
    type, int = int32, float = float64, bool, str, tuple = struct, 1-D ndarray = array."""

    def __init__(self, version: int, little: bool):
        self.version, self.little = version, little
        self.e = "<" if little else ">"
        self.w = ">Q" if version == 4 else ">I"

    def group(self, items) -> bytes:
        pairs = list(items.items()) if isinstance(items, dict) else [("", v) for v in items]
        out = struct.pack(">BB", 1, 0) + struct.pack(self.w, len(pairs))
        for label, value in pairs:
            out += self.entry(label, value)
        return out

    def entry(self, label: str, value) -> bytes:
        name = label.encode("latin-1")
        grouped = isinstance(value, (dict, list))
        body = self.group(value) if grouped else self.data(value)
        head = struct.pack(">BH", 20 if grouped else 21, len(name)) + name
        return head + (struct.pack(">Q", len(body)) if self.version == 4 else b"") + body

    def data(self, value) -> bytes:
        info, payload = self.encode(value)
        return b"%%%%" + struct.pack(self.w, len(info)) + b"".join(struct.pack(self.w, i) for i in info) + payload

    def encode(self, value):
        if isinstance(value, Raw):
            return value.info, value.payload
        if isinstance(value, Str18):
            return [18, len(value.encode())], value.encode()
        if isinstance(value, str):
            return self.encode(np.frombuffer(value.encode("utf-16-le"), "<u2"))
        if isinstance(value, bool):
            value = np.bool_(value)
        elif isinstance(value, int):
            value = np.int32(value)
        elif isinstance(value, float):
            value = np.float64(value)
        if isinstance(value, tuple):
            fields = [np.asarray(v) for v in value]
            info = [15, 0, len(fields)] + [w for f in fields for w in (0, TAG_TYPE[f.dtype.name])]
            return info, b"".join(self.raw(f) for f in fields)
        if isinstance(value, np.ndarray) and value.ndim == 1:
            return [20, TAG_TYPE[value.dtype.name], value.size], self.raw(value)
        value = np.asarray(value)
        return [TAG_TYPE[value.dtype.name]], self.raw(value)

    def raw(self, a: np.ndarray) -> bytes:
        return np.ascontiguousarray(a).astype(a.dtype.newbyteorder(self.e)).tobytes()


def calibration(origin: float, scale: float, units: str) -> dict:
    # Origin, Scale, Units in this order: ncempy takes each scale when it meets Units.
    return {"Origin": np.float32(origin), "Scale": np.float32(scale), "Units": units}


def image_group(name: str, data_type: int, pixels: np.ndarray, dims: list, cals: list, image_tags: dict) -> dict:
    """One ImageList item; `pixels` is the Data array as stored, `dims` x first."""
    return {
        "ImageData": {
            "Calibrations": {"Brightness": calibration(0, 1, "counts"),
                             "Dimension": [calibration(*c) for c in cals], "DisplayCalibratedUnits": True},
            "Data": pixels.reshape(-1),
            "DataType": np.int32(data_type),
            "Dimensions": [np.uint32(n) for n in dims],
            "PixelDepth": np.uint32(pixels.dtype.itemsize if data_type != RGBA else 4),
        },
        "ImageTags": image_tags,
        "Name": name,
        "UniqueID": [np.uint32(1), np.uint32(2), np.uint32(3), np.uint32(4)],
    }


def dm_bytes(root: dict, version: int, little: bool = True) -> bytes:
    body = Tags(version, little).group(root) + bytes(8)
    # The root length as DigitalMicrograph writes it (file size - 16 in DM3, - 24 in DM4).
    size = struct.pack(">Q", len(body) - 8) if version == 4 else struct.pack(">I", len(body) - 4)
    return struct.pack(">I", version) + size + struct.pack(">I", 1 if little else 0) + body


def write_dm(path: Path, data: np.ndarray, version: int = 4, little: bool = True, cals=None,
             rgb: bool = False, image_tags: dict | None = None, more: list = ()) -> Path:
    """`data` in C order (z, y, x) — or (y, x, 3) uint8 when `rgb` —; `cals` one
    (origin, scale, units) per axis, x first; `more`: further images as (name, data, cals)."""
    spatial = data.shape[:-1] if rgb else data.shape
    dims = list(spatial[::-1])
    cals = cals or [(0, 1, "")] * len(dims)
    if rgb:
        r, g, b = (data[..., k].astype(np.uint32) for k in range(3))
        stored, code = (b | g << 8 | r << 16 | np.uint32(0xFF) << 24).astype(np.int32), RGBA  # B, G, R, A bytes
    else:
        stored, code = data, IMAGE_TYPE[data.dtype.name]
    thumb = np.full((8, 8), 0x7F7F7F7F, np.int32)
    tags = image_tags if image_tags is not None else {
        "Microscope Info": {"Voltage": 300000.0, "Operator": "tessera", "Cs(mm)": np.float32(1.2)},
        "Session Info": {"Items": ["first", "second"], "Pairs": (np.int16(-3), np.float64(2.5))},
    }
    if version == 3:  # ncempy reads a DM4 type-18 length as 32 bits (wrongly): DM3 only
        tags["Session Info"]["Note"] = Str18("type-18 text")
    root = {
        "ApplicationBounds": (np.int32(0), np.int32(0), np.int32(1024), np.int32(1280)),
        "ImageList": [image_group("Image Of " + path.stem, RGBA, thumb, [8, 8], [(0, 1, "")] * 2, {}),
                      image_group(path.stem, code, stored, dims, cals, tags)]
                     + [image_group(name, IMAGE_TYPE[d.dtype.name], d, list(d.shape[::-1]), c, {}) for name, d, c in more],
        "Thumbnails": [{"ImageIndex": np.uint32(0), "SourceSize_Pixels": (np.int32(dims[0]), np.int32(dims[1]))}],
    }
    path.write_bytes(dm_bytes(root, version, little))
    return path


def bad_dm(path: Path, case: str, version: int = 4) -> Path:
    """A damaged file: `unknown-type`, `truncated`, `huge-count`, `depth-bomb`, `complex`,
    `spectrum` (1-D), `short-data` (Data smaller than its Dimensions)."""
    if case == "truncated":
        good = dm_bytes_of(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64), version)
        path.write_bytes(good[: len(good) * 2 // 3])
        return path
    root = {"ImageList": [image_group("x", 10, np.zeros((4, 4), np.uint16), [4, 4], [(0, 1, "nm")] * 2, {})]}
    tags = root["ImageList"][0]["ImageTags"]
    if case == "unknown-type":
        tags["Strange"] = Raw([99], b"\0" * 8)
    elif case == "huge-count":
        tags["Huge"] = Raw([20, 7, 2**31 - 1])  # an array of 2^31 float64 in a tiny file
    elif case == "depth-bomb":
        nest: dict = {}
        for _ in range(200):
            nest = {"g": nest}
        tags["Deep"] = nest
    elif case == "complex":
        root["ImageList"][0]["ImageData"]["DataType"] = np.int32(3)
        root["ImageList"][0]["ImageData"]["Data"] = np.zeros(16, np.complex64).view(np.float32)
    elif case == "spectrum":
        root["ImageList"][0]["ImageData"]["Dimensions"] = [np.uint32(16)]
    elif case == "short-data":
        root["ImageList"][0]["ImageData"]["Dimensions"] = [np.uint32(4), np.uint32(400)]
    else:
        raise ValueError(case)
    path.write_bytes(dm_bytes(root, version))
    return path


def dm_bytes_of(data: np.ndarray, version: int) -> bytes:
    root = {"ImageList": [image_group("x", IMAGE_TYPE[data.dtype.name], data, list(data.shape[::-1]),
                                      [(0, 1, "")] * data.ndim, {})]}
    return dm_bytes(root, version)


# ---------------------------------------------------------------------------
# What the references read, and what Tessera must write
# ---------------------------------------------------------------------------

NGFF_UNITS = {"nm": "nanometer", "um": "micrometer", "µm": "micrometer", "pm": "picometer", "A": "angstrom",
              "Å": "angstrom", "mm": "millimeter", "m": "meter"}


def read_ncempy(path: Path) -> dict:
    """ncempy's reading of the first non-thumbnail image: data, and per C-order axis (size, origin index, units)."""
    import ncempy.io.dm as ncem

    with ncem.fileDM(str(path)) as f:
        d = f.getDataset(0)
    return {"data": d["data"], "scale": [float(s) for s in d["pixelSize"]], "units": list(d["pixelUnit"]),
            "origin": [float(o) for o in d["pixelOrigin"]]}


def read_ncempy_all(path: Path) -> list:
    """ncempy's arrays of every non-thumbnail image."""
    import ncempy.io.dm as ncem

    with ncem.fileDM(str(path)) as f:
        return [f.getDataset(i)["data"] for i in range(f.numObjects - (1 if f.thumbnail else 0))]


def read_rosettasciio(path: Path) -> list:
    """RosettaSciIO's reading: one dict per image (thumbnails skipped); RGBA fields become a trailing axis of 3."""
    from rsciio.digitalmicrograph import file_reader

    out = []
    for r in file_reader(str(path)):
        data = r["data"]
        if data.dtype.names:
            data = np.stack([data["R"], data["G"], data["B"]], axis=-1)
        out.append({"data": data, "scale": [float(a["scale"]) for a in r["axes"]],
                    "offset": [float(a["offset"]) for a in r["axes"]], "units": [a["units"] for a in r["axes"]],
                    "metadata": r["original_metadata"]})
    return out


def check_references(path: Path, data: np.ndarray, cals, *, ncempy: bool = True, rsciio_pixels: bool = True) -> None:
    """The fixture is right only if the references read back what was written: both agree
    with `data` (C order) and with `cals` (x first: origin, scale, units)."""
    want = [c for c in cals][::-1]
    r = read_rosettasciio(path)
    assert len(r) == 1, f"{path}: RosettaSciIO sees {len(r)} images (the thumbnail must be skipped)"
    r = r[0]
    if rsciio_pixels:
        assert r["data"].dtype == data.dtype and np.array_equal(r["data"], data), f"{path}: RosettaSciIO pixels differ"
    assert r["units"] == [u for _, _, u in want], f"{path}: RosettaSciIO units {r['units']}"
    assert r["scale"] == [float(np.float32(s)) for _, s, _ in want], f"{path}: RosettaSciIO scales {r['scale']}"
    assert r["offset"] == [-float(np.float32(o)) * float(np.float32(s)) for o, s, _ in want], f"{path}: offsets {r['offset']}"
    if ncempy:
        n = read_ncempy(path)
        assert n["data"].dtype == data.dtype and np.array_equal(n["data"], data), f"{path}: ncempy pixels differ"
        assert n["units"] == [u for _, _, u in want] and n["scale"] == [float(np.float32(s)) for _, s, _ in want], (
            f"{path}: ncempy calibration {n}")
        assert n["origin"] == [float(np.float32(o)) for o, _, _ in want], f"{path}: ncempy origins {n['origin']}"


def expected_image(data: np.ndarray, cals, rgb: bool = False):
    """The NGFF image Tessera must write: axes (c)zyx, lengths as NGFF units with spacing and
    translation (−origin × scale); other units (1/nm, eV) leave spacing 1 and no unit."""
    from convert_inputs import Expected

    names = "xyz"[: len(cals)]
    spacing, units, origin = {}, {}, {}
    for n, (o, s, u) in zip(names, cals):
        if u in NGFF_UNITS or u == "":
            spacing[n], origin[n] = abs(float(np.float32(s))), -float(np.float32(o)) * float(np.float32(s))
            if u:
                units[n] = NGFF_UNITS[u]
    axes = names[::-1]
    if rgb:
        return Expected(np.ascontiguousarray(np.moveaxis(data, -1, 0)), "c" + axes, spacing, units,
                        channel_names=["red", "green", "blue"], colors=["FF0000", "00FF00", "0000FF"], origin=origin)
    return Expected(data, axes, spacing, units, origin=origin)
