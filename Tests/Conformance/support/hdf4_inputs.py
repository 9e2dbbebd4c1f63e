"""HDF4 test inputs written by pyhdf (its wheel carries its own HDF4 library), and the
`Source` the converter must produce from them, with level 0 as pyhdf reads it back.

`write_hdf4(path, [SDSSpec, ...])` writes every SDS (dtype, shape, compression, chunks,
dimension names, attributes, calibration, fill value) plus file attributes; the
returned `Source` expects every image-like SDS when `name` is None (the
bioformats2raw layout when there are several), else only the named one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from convert_inputs import Expected, Source

FILE_ATTRS = {"title": "tessera HDF4 conformance", "facility": "laser lab 3"}


@dataclass
class SDSSpec:
    name: str
    data: np.ndarray
    dims: list | None = None            # dimension names, slowest first
    compress: str | None = None         # None | "deflate" | "rle" | "skphuff"
    chunks: tuple | None = None
    attrs: dict = field(default_factory=lambda: {"units": "counts", "gain": 2.5})
    calibration: tuple | None = (2.0, 0.01, -1.0, 0.0)   # cal, cal_err, offset, offset_err
    fill: float | int | None = None
    coordinate: bool = False            # a 1-D dimension scale written as a coordinate SDS


def _sdc_type(dtype):
    from pyhdf.SD import SDC

    return {"int8": SDC.INT8, "uint8": SDC.UINT8, "int16": SDC.INT16, "uint16": SDC.UINT16,
            "int32": SDC.INT32, "uint32": SDC.UINT32, "float32": SDC.FLOAT32, "float64": SDC.FLOAT64}[np.dtype(dtype).name]


def _set_chunks(sds, chunks, deflate_level: int | None):
    """`SDsetchunk` through ctypes on pyhdf's own HDF4 library (pyhdf has no binding for
    it). HDF_CHUNK_DEF is passed by value: chunk_lengths[32], comp_type, model_type,
    comp_info (20 bytes, deflate level first), model_info (20 bytes) = 176 bytes."""
    import ctypes
    import glob
    import os

    import pyhdf.SD as sd_module

    libs = os.path.join(os.path.dirname(sd_module.__file__), "..", "pyhdf.libs")
    lib = ctypes.CDLL(os.path.realpath(glob.glob(os.path.join(libs, "libmfhdf-*.so*"))[0]))

    class ChunkDef(ctypes.Structure):
        _fields_ = [("lengths", ctypes.c_int32 * 32), ("comp_type", ctypes.c_int32), ("model_type", ctypes.c_int32),
                    ("cinfo", ctypes.c_int32 * 5), ("minfo", ctypes.c_int32 * 5)]

    assert ctypes.sizeof(ChunkDef) == 176
    lib.SDsetchunk.argtypes = [ctypes.c_int32, ChunkDef, ctypes.c_int32]
    d = ChunkDef()
    for i, n in enumerate(chunks):
        d.lengths[i] = n
    flags = 1  # HDF_CHUNK
    if deflate_level is not None:
        d.comp_type, d.cinfo[0], flags = 4, deflate_level, 3  # COMP_CODE_DEFLATE, HDF_COMP
    assert lib.SDsetchunk(sds._id, d, flags) == 0, "SDsetchunk failed"


def _set_attr(obj, key, value):
    from pyhdf.SD import SDC

    if isinstance(value, str):
        obj.attr(key).set(SDC.CHAR8, value)
    elif isinstance(value, float):
        obj.attr(key).set(SDC.FLOAT64, value)
    else:
        obj.attr(key).set(SDC.INT32, value)


def write_hdf4(path: Path, specs: list, name: str | None = None, file_attrs: dict | None = None,
               scale_dims: bool = False) -> Source:
    """Write `specs` with pyhdf; expect `name` (or every image-like SDS). `scale_dims`
    gives each 2-D+ SDS's last dimension a dimension scale (a coordinate SDS in the file)."""
    from pyhdf.SD import SD, SDC

    path = Path(path)
    f = SD(str(path), SDC.WRITE | SDC.CREATE)
    for k, v in (FILE_ATTRS if file_attrs is None else file_attrs).items():
        _set_attr(f, k, v)
    for spec in specs:
        s = f.create(spec.name, _sdc_type(spec.data.dtype), spec.data.shape)
        for i, dim_name in enumerate(spec.dims or []):
            s.dim(i).setname(dim_name)
        if spec.fill is not None:
            s.setfillvalue(spec.fill)
        if spec.chunks is not None:
            _set_chunks(s, spec.chunks, 6 if spec.compress == "deflate" else None)
        elif spec.compress == "deflate":
            s.setcompress(SDC.COMP_DEFLATE, 6)
        elif spec.compress == "rle":
            s.setcompress(SDC.COMP_RLE)
        elif spec.compress == "skphuff":
            s.setcompress(SDC.COMP_SKPHUFF, spec.data.dtype.itemsize)
        for k, v in spec.attrs.items():
            _set_attr(s, k, v)
        if spec.calibration is not None:
            s.setcal(*spec.calibration, _sdc_type("float32") if spec.data.dtype == np.float32 else _sdc_type(spec.data.dtype))
        s[:] = spec.data
        if scale_dims and spec.data.ndim >= 2:
            last = s.dim(spec.data.ndim - 1)
            last.setname(f"{spec.name}_x")
            last.setscale(SDC.FLOAT64, list(np.arange(spec.data.shape[-1], dtype=np.float64) * 0.5))
        s.endaccess()
    f.end()

    back = SD(str(path), SDC.READ)
    chosen = [s for s in specs if s.name == name] if name is not None else [s for s in specs if s.data.ndim >= 2]
    images = []
    for spec in chosen:
        data = back.select(spec.name)[:]
        assert data.dtype == spec.data.dtype and np.array_equal(data, spec.data), f"pyhdf re-read of {spec.name}"
        stored = axes_of(spec)
        ngff = "".join(n for n in "tczyx" if n in stored)
        data = np.ascontiguousarray(np.transpose(data, [stored.index(n) for n in ngff]))
        images.append(Expected(data, ngff))
    back.end()
    many = len(images) > 1
    for i, im in enumerate(images):
        im.path = str(i) if many else ""
    arg = f"{path}:{name}" if name is not None else str(path)
    return Source(arg, path, "hdf4", images, bioformats2raw=many, dataset=name)


def axes_of(spec: SDSSpec) -> str:
    """The axis names Tessera must give the SDS's dimensions: their names when each says
    which axis it is, else the HDF5 default (the last ones of t, c, z, y, x)."""
    known = {"t": "t", "time": "t", "c": "c", "channel": "c", "z": "z", "y": "y", "x": "x"}
    if spec.dims and all(d.lower() in known for d in spec.dims):
        return "".join(known[d.lower()] for d in spec.dims)
    return "tczyx"[-spec.data.ndim:]
